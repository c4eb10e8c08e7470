//! Queue ids. An id names a message's directory in the spool, so it is what paths are built
//! from: an id taken from a user (`relayctl queue show ID`) or from a directory listing becomes
//! a [`QueueId`] only through [`QueueId::from_str`], which accepts exactly the format
//! [`QueueId::generate`] makes, 20 lowercase hexadecimal digits. `..`, `/` and every other
//! name are refused before any path exists, so no id can make the spool read, write, move or
//! delete anything outside its own areas.

use std::fmt;
use std::str::FromStr;

/// The number of hexadecimal digits in an id.
const LEN: usize = 20;

/// A message's id in the spool: 20 lowercase hexadecimal digits, the time of submission in
/// milliseconds (11), the submitting process's id (5) and a random number (4), so ids sort in
/// submission order and are unique across processes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueueId(String);

/// A text that is not a queue id.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "expected a message ID: 20 lowercase hexadecimal digits, as `relayctl queue list` shows them"
)]
pub struct InvalidQueueId;

impl QueueId {
    /// A new id for a message being queued now.
    pub fn generate() -> QueueId {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        QueueId(format!(
            "{:011x}{:05x}{:04x}",
            now.as_millis(),
            std::process::id() & 0xfffff,
            fastrand::u16(..)
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for QueueId {
    type Err = InvalidQueueId;

    fn from_str(text: &str) -> Result<QueueId, InvalidQueueId> {
        let valid = text.len() == LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if valid {
            Ok(QueueId(text.to_string()))
        } else {
            Err(InvalidQueueId)
        }
    }
}

impl fmt::Display for QueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_format_is_an_id() {
        let id = QueueId::generate();
        assert_eq!(id.as_str().parse::<QueueId>().unwrap(), id);
        assert_eq!(id.to_string().len(), LEN);
        assert!("0190abcdef0123456789".parse::<QueueId>().is_ok());
        for bad in [
            "",
            "..",
            "../x",
            "../../outside/victim",
            "0190abcdef012345678",
            "0190abcdef01234567890",
            "0190ABCDEF0123456789",
            "0190abcdef012345678g",
            "0190abcdef012345678/",
            "/190abcdef0123456789",
            ".190abcdef0123456789",
            " 190abcdef0123456789",
            "0190abcdef012345678\n",
            "0190abcdef01234567\u{e9}",
        ] {
            assert!(bad.parse::<QueueId>().is_err(), "{bad:?} was taken");
        }
    }

    #[test]
    fn ids_sort_in_submission_order() {
        let first = QueueId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(QueueId::generate() > first);
    }
}
