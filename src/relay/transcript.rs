//! The `-v` dialogue with the relay on stderr. Login commands are never shown, only that one was
//! sent: the transcript may be pasted into a ticket.

use lettre::transport::smtp::authentication::Mechanism;
use lettre::transport::smtp::extension::{Extension, ServerInfo};
use lettre::transport::smtp::response::Response;

/// Prints the SMTP dialogue when enabled.
#[derive(Debug, Clone, Copy)]
pub struct Transcript {
    enabled: bool,
}

impl Transcript {
    pub fn new(enabled: bool) -> Self {
        Transcript { enabled }
    }

    /// A line relayctl sends (without its CRLF).
    pub fn client(&self, line: &str) {
        if self.enabled {
            eprintln!("--> {}", line.trim_end());
        }
    }

    /// A reply from the relay.
    pub fn server(&self, response: &Response) {
        if self.enabled {
            let code = response.code();
            let lines: Vec<&str> = response.message().collect();
            for (i, line) in lines.iter().enumerate() {
                let sep = if i + 1 == lines.len() { ' ' } else { '-' };
                eprintln!("<-- {code}{sep}{line}");
            }
        }
    }

    /// The capabilities the relay announced in reply to EHLO.
    pub fn capabilities(&self, info: &ServerInfo) {
        if self.enabled {
            let known = [
                Extension::StartTls,
                Extension::Authentication(Mechanism::Plain),
                Extension::Authentication(Mechanism::Login),
                Extension::Authentication(Mechanism::Xoauth2),
                Extension::EightBitMime,
                Extension::SmtpUtfEight,
            ];
            let offered: Vec<String> = known
                .into_iter()
                .filter(|e| info.supports_feature(*e))
                .map(|e| e.to_string())
                .collect();
            eprintln!("<-- 250 {} offers: {}", info.name(), offered.join(", "));
        }
    }

    /// Something relayctl did that is not a line of the dialogue.
    pub fn note(&self, text: &str) {
        if self.enabled {
            eprintln!("relayctl: {text}");
        }
    }
}
