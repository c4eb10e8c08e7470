//! A reply to the SMTP client: a code and text, written so that no text can add a line.

use std::io::{self, Write};

/// A reply to the client: a code and text (with its enhanced status code). Text with line
/// breaks is sent as a multi-line reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

impl Reply {
    pub fn new(code: u16, text: impl Into<String>) -> Self {
        Reply {
            code,
            text: text.into(),
        }
    }

    /// Writes the reply, one `code-text` line per line of text and `code text` last. Control
    /// characters in the text become spaces: a reply is never more lines than it says.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        let lines: Vec<String> = self
            .text
            .split('\n')
            .map(|l| {
                l.chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect()
            })
            .collect();
        for (i, line) in lines.iter().enumerate() {
            let sep = if i + 1 == lines.len() { ' ' } else { '-' };
            write!(out, "{}{sep}{}\r\n", self.code, line.trim_end())?;
        }
        Ok(())
    }

    /// A permanent or temporary refusal (4xx, 5xx).
    pub fn is_refusal(&self) -> bool {
        self.code >= 400
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_never_carry_line_breaks_from_their_text() {
        let mut out = Vec::new();
        Reply::new(550, "5.1.1 a\r\n250 forged\u{1b}[2J")
            .write_to(&mut out)
            .unwrap();
        assert_eq!(out, b"550-5.1.1 a\r\n550 250 forged [2J\r\n");
    }
}
