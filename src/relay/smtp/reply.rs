//! SMTP replies (RFC 5321 section 4.2): a three-digit code and one or more text lines.

use std::fmt;

/// A reply from the relay: the code and the text of each line (without the code and the
/// separator). The enhanced status code (RFC 3463), when the relay sends one, is the start of
/// the first line; see [`Reply::enhanced_status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The reply code, 200 to 599.
    pub code: u16,
    /// The text of each line, in order; may be empty strings.
    pub lines: Vec<String>,
}

impl Reply {
    /// A 2xx or 3xx reply.
    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }

    /// A 4xx reply: the same command may succeed later.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// A 5xx reply: retrying will not help.
    pub fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }

    /// The whole reply on one line, code first, lines joined with spaces:
    /// `550 5.1.1 <x@y>: Recipient address rejected`.
    pub fn text(&self) -> String {
        let mut text = self.code.to_string();
        for line in &self.lines {
            let line = line.trim();
            if !line.is_empty() {
                text.push(' ');
                text.push_str(line);
            }
        }
        text
    }

    /// The enhanced status code at the start of the first line (`5.1.1`), if there is one.
    pub fn enhanced_status(&self) -> Option<&str> {
        let first = self.lines.first()?.split_whitespace().next()?;
        let mut parts = first.split('.');
        let class = parts.next()?;
        let subject = parts.next()?;
        let detail = parts.next()?;
        let valid = parts.next().is_none()
            && matches!(class, "2" | "4" | "5")
            && (1..=3).contains(&subject.len())
            && (1..=3).contains(&detail.len())
            && subject
                .bytes()
                .chain(detail.bytes())
                .all(|b| b.is_ascii_digit());
        valid.then_some(first)
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// One parsed reply line; its text is printable ([`crate::printable`]).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Line {
    pub code: u16,
    /// More lines follow (`250-...`).
    pub more: bool,
    pub text: String,
}

/// Parses one reply line, without its line ending. `None` when it is not a reply line.
pub(super) fn parse_line(raw: &[u8]) -> Option<Line> {
    let digits = raw.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) || !(b'2'..=b'5').contains(&digits[0]) {
        return None;
    }
    let code = digits
        .iter()
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    let (more, rest) = match raw.get(3) {
        None => (false, &raw[3..]),
        Some(b' ') => (false, &raw[4..]),
        Some(b'-') => (true, &raw[4..]),
        Some(_) => return None,
    };
    Some(Line {
        code,
        more,
        text: crate::printable::from_bytes(rest),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines() {
        assert_eq!(
            parse_line(b"250-PIPELINING"),
            Some(Line {
                code: 250,
                more: true,
                text: "PIPELINING".into()
            })
        );
        assert_eq!(
            parse_line(b"354"),
            Some(Line {
                code: 354,
                more: false,
                text: String::new()
            })
        );
        assert_eq!(parse_line(b"25"), None);
        assert_eq!(parse_line(b"2500 x"), None);
        assert_eq!(parse_line(b"150 x"), None);
        assert_eq!(parse_line(b"abc x"), None);
        assert_eq!(parse_line(b"+OK POP3 ready"), None);
    }

    /// Issue 14: a relay's reply reached `mailq` with its terminal escapes (clear screen, set the
    /// window title, bell). C0, DEL, C1 and invalid UTF-8 all become U+FFFD.
    #[test]
    fn control_characters_and_invalid_utf8_are_replaced() {
        let line =
            parse_line(b"451 4.3.0 \x1b[2J\x1b]0;owned\x07 \xc2\x9b31m\x7f\t\xff busy").unwrap();
        assert_eq!(line.code, 451);
        assert_eq!(
            line.text,
            "4.3.0 \u{fffd}[2J\u{fffd}]0;owned\u{fffd} \u{fffd}31m\u{fffd}\u{fffd}\u{fffd} busy"
        );
        assert!(!line.text.chars().any(char::is_control), "{:?}", line.text);
    }

    #[test]
    fn text_and_status() {
        let reply = Reply {
            code: 550,
            lines: vec![
                "5.1.1 <x@y>: Recipient address rejected".into(),
                " see https://example.test ".into(),
            ],
        };
        assert_eq!(
            reply.text(),
            "550 5.1.1 <x@y>: Recipient address rejected see https://example.test"
        );
        assert_eq!(reply.enhanced_status(), Some("5.1.1"));
        assert!(reply.is_permanent() && !reply.is_positive() && !reply.is_transient());
        let plain = Reply {
            code: 250,
            lines: vec!["Ok".into()],
        };
        assert_eq!(plain.enhanced_status(), None);
        assert_eq!(plain.to_string(), "250 Ok");
        let bare = Reply {
            code: 354,
            lines: vec![String::new()],
        };
        assert_eq!(bare.text(), "354");
    }
}
