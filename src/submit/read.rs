//! Reading a message from a caller under a size limit: the header section into memory (at most
//! 1 MiB, since it is rewritten), the body to an unlinked temporary file beside the queue, so that
//! no message is ever held whole in memory. Every way into the queue reads this way.

use std::io::{BufRead, Read};
use std::path::Path;

use crate::message::body::{self, BodyError, SpooledBody};

/// The largest header section accepted.
pub const MAX_HEAD: usize = 1 << 20;

/// A message taken from a caller: its header section as written, its body spooled.
#[derive(Debug)]
pub struct Incoming {
    pub head: Vec<u8>,
    pub body: SpooledBody,
}

/// Why a message could not be read. The texts are the ones callers see.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the message is larger than the profile's limit of {0} bytes (max_message_size)")]
    TooLarge(u64),
    #[error("the header section is larger than 1 MiB")]
    HeadTooLarge,
    /// Reading the input failed.
    #[error("cannot read the message: {0}")]
    Input(std::io::Error),
    /// The body could not be spooled (a full or read-only file system): try again later.
    #[error("cannot spool the message body in {}: {source}", dir.display())]
    Scratch {
        dir: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// Reads a whole message of at most `limit` bytes from `input`, spooling its body in `scratch`.
/// Without `ignore_dots`, a line holding a single dot ends it (sendmail without `-i`).
pub fn read(
    input: &mut dyn BufRead,
    ignore_dots: bool,
    limit: u64,
    scratch: &Path,
) -> Result<Incoming, ReadError> {
    let (head, first_body_line) = read_head(input, ignore_dots)?;
    if head.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    // The input ended in the header section (its end, or a lone dot): the body is empty.
    let (first, rest): (&[u8], &mut dyn BufRead) = match &first_body_line {
        Some(line) => (line, input),
        None => (b"", &mut &b""[..]),
    };
    let body =
        body::spool(first, rest, ignore_dots, limit - head.len() as u64, scratch).map_err(|e| {
            match e {
                BodyError::TooLarge(_) => ReadError::TooLarge(limit),
                BodyError::Input(e) => ReadError::Input(e),
                BodyError::Scratch(source) => ReadError::Scratch {
                    dir: scratch.to_path_buf(),
                    source,
                },
            }
        })?;
    Ok(Incoming { head, body })
}

/// Reads the header section: lines up to and including the empty line that ends it. A line
/// that is neither a field nor a continuation starts the body and is returned apart (empty
/// when the body starts on the next line). `None` instead when the message ended in the header
/// section: at the end of the input or, without `ignore_dots`, at a lone dot. At most
/// [`MAX_HEAD`] bytes.
pub fn read_head(
    input: &mut dyn BufRead,
    ignore_dots: bool,
) -> Result<(Vec<u8>, Option<Vec<u8>>), ReadError> {
    let mut head = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        // Never more than the header section may hold, even from a line without an end: a cut
        // line either overflows the limit below or starts the body, which continues it.
        let room = (MAX_HEAD - head.len() + 1) as u64;
        if (&mut *input)
            .take(room)
            .read_until(b'\n', &mut line)
            .map_err(ReadError::Input)?
            == 0
        {
            return Ok((head, None));
        }
        if !ignore_dots && matches!(line.as_slice(), b".\n" | b".\r\n" | b".") {
            // The rest of the input is not part of the message.
            return Ok((head, None));
        }
        let content = line.strip_suffix(b"\n").unwrap_or(&line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        let continuation = !head.is_empty() && matches!(content.first(), Some(b' ' | b'\t'));
        let mbox_from = head.is_empty() && content.starts_with(b"From ");
        let field = crate::message::headers::field_name(content).is_some();
        if content.is_empty() {
            head.extend_from_slice(&line);
            return Ok((head, Some(Vec::new())));
        }
        if !(field || continuation || mbox_from) {
            return Ok((head, Some(line)));
        }
        head.extend_from_slice(&line);
        if head.len() > MAX_HEAD {
            return Err(ReadError::HeadTooLarge);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(input: &[u8], ignore_dots: bool, limit: u64) -> Result<Vec<u8>, ReadError> {
        let dir = tempfile::tempdir().unwrap();
        let mut m = read(&mut &input[..], ignore_dots, limit, dir.path())?;
        let mut out = m.head.clone();
        m.body.copy_to(&mut out, false).unwrap();
        Ok(out)
    }

    #[test]
    fn a_lone_dot_ends_input_unless_dots_are_ignored() {
        let input = b"Subject: x\n\nline\n.\nafter\n";
        assert_eq!(whole(input, false, 1000).unwrap(), b"Subject: x\n\nline\n");
        assert_eq!(whole(input, true, 1000).unwrap(), input);
        // A lone dot in the header section ends the message there too.
        assert_eq!(whole(b"a: b\r\n.\r\nb", false, 1000).unwrap(), b"a: b\r\n");
        assert_eq!(whole(b"a\n..\nb", false, 1000).unwrap(), b"a\n..\nb");
    }

    #[test]
    fn input_over_the_limit_is_refused() {
        let err = whole(&[b'x'; 100], true, 10).unwrap_err();
        assert!(err.to_string().contains("limit of 10 bytes"), "{err}");
        let err = whole(b"Subject: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n\n", true, 10).unwrap_err();
        assert!(err.to_string().contains("limit of 10 bytes"), "{err}");
        // An endless line is refused at the limit, not buffered.
        let dir = tempfile::tempdir().unwrap();
        let mut endless = std::io::BufReader::new(std::io::repeat(b'x'));
        let err = read(&mut endless, true, 1000, dir.path()).unwrap_err();
        assert!(err.to_string().contains("limit of 1000 bytes"), "{err}");
    }

    #[test]
    fn an_endless_header_line_stops_at_the_header_limit() {
        let mut endless = b"Subject: ".chain(std::io::repeat(b'x'));
        let mut endless = std::io::BufReader::new(&mut endless);
        let err = read_head(&mut endless, true).unwrap_err();
        assert!(err.to_string().contains("larger than 1 MiB"), "{err}");
        // A line that is not a field starts the body; the body reader finishes it.
        let mut endless = std::io::BufReader::new(std::io::repeat(b'x'));
        let (head, first) = read_head(&mut endless, true).unwrap();
        assert_eq!(
            (head.len(), first.map(|f| f.len())),
            (0, Some(MAX_HEAD + 1))
        );
    }

    /// Review finding 11: a field with white space before its colon stays in the header section.
    #[test]
    fn white_space_before_the_colon_is_still_a_field() {
        let input = b"To: a@x\nBcc\t: hidden@y\nBcc  : also@y\n\nbody\n";
        let (head, first) = read_head(&mut &input[..], true).unwrap();
        assert_eq!(head, &input[..input.len() - 5]);
        assert_eq!(first, Some(Vec::new()));
    }
}
