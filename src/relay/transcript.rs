//! The `-v` dialogue with the relay on stderr. Login commands are never shown, only that one was
//! sent: the transcript may be pasted into a ticket.

use super::smtp::Observer;

/// Prints the SMTP dialogue when enabled.
#[derive(Debug, Clone, Copy)]
pub struct Transcript {
    enabled: bool,
}

impl Transcript {
    pub fn new(enabled: bool) -> Self {
        Transcript { enabled }
    }

    /// Whether the dialogue is shown (`-v`).
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Something relayctl did that is not a line of the dialogue.
    pub fn note(&self, text: &str) {
        if self.enabled {
            eprintln!("relayctl: {text}");
        }
    }
}

impl Observer for Transcript {
    fn client(&self, line: &str) {
        if self.enabled {
            eprintln!("--> {line}");
        }
    }

    fn server(&self, line: &str) {
        if self.enabled {
            eprintln!("<-- {line}");
        }
    }

    fn note(&self, text: &str) {
        Transcript::note(self, text);
    }
}
