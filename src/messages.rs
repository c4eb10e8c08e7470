//! The one place that writes to the person or program running relayctl, on stderr, apart from
//! the `-v` transcript ([`crate::transcript`]) and the final error line that `main.rs` prints.
//! Every line starts with `relayctl: `, is one line, and has its control characters made
//! printable, whatever text (a relay's reply, a file name a user chose) it carries. Below the
//! command layer, code returns typed values and errors; what the admin must hear while a command
//! goes on (a message held, a profile frozen, a file refused) goes through here.
//!
//! relayctl is silent on success: cron mails whatever a job writes to stderr, and PHP and other
//! callers treat it as an error. So these are for what needs someone's attention.

use crate::printable::one_line;

/// Something the admin must act on, or know, while the command goes on (`message X held until
/// the relay configuration is fixed: ...`).
pub fn alert(text: &str) {
    eprintln!("relayctl: {}", one_line(text));
}

/// Something that may be a mistake but does not stop the command (`warning: ...`).
pub fn warning(text: &str) {
    eprintln!("relayctl: warning: {}", one_line(text));
}

/// A question for the person at the terminal, on stderr without a line end (`setup` asks where
/// notices go); the caller reads the answer.
pub fn ask(text: &str) {
    eprint!("relayctl: {} ", one_line(text));
}
