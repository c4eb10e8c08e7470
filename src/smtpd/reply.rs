//! A reply to the SMTP client: a code and text, written so that no text can add a line.

use std::io::{self, Write};

use crate::printable::one_line;
use crate::submit::read::ReadError;

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

    /// `code` (`"452 4.3.1"`: the reply code and its enhanced status code) with `text` made
    /// one line.
    pub fn status(code: &str, text: &str) -> Reply {
        let (number, status) = code.split_once(' ').unwrap_or((code, ""));
        Reply::new(
            number.parse().unwrap_or(554),
            format!("{status} {}", one_line(text)),
        )
    }

    /// The answer to a message that could not be read: too large is permanent, a failed read
    /// or a full disk temporary.
    pub fn for_read(e: &ReadError) -> Reply {
        let code = match e {
            ReadError::TooLarge(_) | ReadError::HeadTooLarge => "552 5.3.4",
            ReadError::Input(_) => "451 4.3.0",
            ReadError::Scratch { .. } => "452 4.3.1",
        };
        Reply::status(code, &e.to_string())
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
