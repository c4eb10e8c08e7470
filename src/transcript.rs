//! The `-v` transcript on stderr: the dialogue with the relay (the SMTP client writes its lines
//! through this) and notes of what relayctl did. Login commands are never shown, only that one
//! was sent: the transcript may be pasted into a ticket.

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

    /// A line relayctl sent to the relay.
    pub fn client(&self, line: &str) {
        if self.enabled {
            eprintln!("--> {line}");
        }
    }

    /// A line the relay sent.
    pub fn server(&self, line: &str) {
        if self.enabled {
            eprintln!("<-- {line}");
        }
    }
}
