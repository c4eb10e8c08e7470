//! Large message bodies without holding them in memory. `sendmail` reads the header section into
//! memory (it is small and must be rewritten) and spools the body to an unlinked temporary file
//! beside the queue, noting what decides how it can be sent: its size, 8-bit bytes, NUL bytes
//! and over-long lines. From there the body is copied into the queued message, as it is or
//! quoted-printable.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, Write};
use std::path::Path;

use super::submission::MAX_LINE;

/// A body spooled to a temporary file.
#[derive(Debug)]
pub struct SpooledBody {
    file: File,
    /// Bytes read.
    pub size: u64,
    /// The first line (1-based, in the body) longer than SMTP allows.
    pub long_line: Option<usize>,
    /// The first line holding a NUL byte.
    pub nul_line: Option<usize>,
    /// Every line is valid UTF-8.
    pub utf8: bool,
}

/// Why a body could not be spooled.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the message is larger than the profile's limit of {0} bytes (max_message_size)")]
    TooLarge(u64),
    /// Reading the message failed.
    #[error("cannot read the message: {0}")]
    Input(io::Error),
    /// The temporary file could not be written (a full or read-only file system).
    #[error("cannot spool the message body: {0}")]
    Scratch(io::Error),
}

/// The longest piece of a line read at once: a longer line is spooled and copied in pieces, so
/// that no line costs more memory than this, however long it is (a client's 10 MB line).
const PIECE: u64 = 64 * 1024;

/// Reads the rest of the message from `input` into a temporary file in `dir`, starting with
/// `first` (a line already read, or the start of one). Without `ignore_dots`, a line holding a
/// single dot ends it. More than `limit` bytes is refused without reading further.
pub fn spool(
    first: &[u8],
    input: &mut dyn BufRead,
    ignore_dots: bool,
    limit: u64,
    dir: &Path,
) -> Result<SpooledBody, BodyError> {
    let scratch = BodyError::Scratch;
    let mut out =
        io::BufWriter::with_capacity(64 * 1024, tempfile::tempfile_in(dir).map_err(scratch)?);
    let (mut size, mut long_line, mut nul_line, mut utf8) = (0u64, None, None, true);
    // The piece at hand; `first` may be the start of a line the header reader cut at its limit,
    // which the pieces after it continue.
    let mut piece = first.to_vec();
    let mut at_line_start = true;
    // The current line's length so far, and the start of a UTF-8 sequence cut at a piece's end.
    let (mut line_length, mut cut_char) = (0u64, Vec::new());
    let mut number = 0;
    loop {
        if piece.is_empty() {
            // Never buffer more than the limit, nor more than a piece, even from a line
            // without an end.
            let room = limit.saturating_sub(size).saturating_add(1).min(PIECE);
            if input
                .take(room)
                .read_until(b'\n', &mut piece)
                .map_err(BodyError::Input)?
                == 0
            {
                break;
            }
            if at_line_start && !ignore_dots && matches!(piece.as_slice(), b".\n" | b".\r\n" | b".")
            {
                break;
            }
        }
        if at_line_start {
            number += 1;
            line_length = 0;
        }
        size += piece.len() as u64;
        if size > limit {
            return Err(BodyError::TooLarge(limit));
        }
        let ends_line = piece.ends_with(b"\n");
        let content = if ends_line {
            let content = &piece[..piece.len() - 1];
            content.strip_suffix(b"\r").unwrap_or(content)
        } else {
            // (A CR at the end of a piece whose LF starts the next is counted; only a line of
            // a whole piece, far over MAX_LINE already, is ever cut.)
            &piece[..]
        };
        line_length += content.len() as u64;
        if line_length > MAX_LINE as u64 && long_line.is_none() {
            long_line = Some(number);
        }
        if nul_line.is_none() && content.contains(&0) {
            nul_line = Some(number);
        }
        utf8 = utf8 && utf8_piece(&mut cut_char, content, ends_line);
        out.write_all(&piece).map_err(scratch)?;
        at_line_start = ends_line;
        piece.clear();
    }
    utf8 = utf8 && cut_char.is_empty();
    Ok(SpooledBody {
        file: out.into_inner().map_err(|e| scratch(e.into_error()))?,
        size,
        long_line,
        nul_line,
        utf8,
    })
}

/// Whether `piece`, following `cut` (the start of a character the piece before it ended in),
/// is valid UTF-8 so far; a character cut at the end of a piece that does not end its line is
/// left in `cut` for the next.
fn utf8_piece(cut: &mut Vec<u8>, piece: &[u8], ends_line: bool) -> bool {
    let joined;
    let text = if cut.is_empty() {
        piece
    } else {
        joined = [&cut[..], piece].concat();
        &joined[..]
    };
    match std::str::from_utf8(text) {
        Ok(_) => {
            cut.clear();
            true
        }
        Err(e) if e.error_len().is_none() && !ends_line => {
            *cut = text[e.valid_up_to()..].to_vec();
            true
        }
        Err(_) => false,
    }
}

impl SpooledBody {
    /// A body with nothing in it, for a message whose every byte is in its header part.
    pub fn empty(dir: &Path) -> io::Result<SpooledBody> {
        Ok(SpooledBody {
            file: tempfile::tempfile_in(dir)?,
            size: 0,
            long_line: None,
            nul_line: None,
            utf8: true,
        })
    }

    /// Writes the body to `out`: as read, or quoted-printable with CRLF line breaks.
    pub fn copy_to(&mut self, out: &mut dyn Write, quoted_printable: bool) -> io::Result<()> {
        self.file.rewind()?;
        let mut reader = BufReader::with_capacity(64 * 1024, &self.file);
        if !quoted_printable {
            io::copy(&mut reader, out)?;
            return Ok(());
        }
        let mut line = Vec::new();
        while (&mut reader).take(PIECE).read_until(b'\n', &mut line)? > 0 {
            if !line.ends_with(b"\n") {
                // A piece of a longer line. When only the line's break follows, the line ends
                // here as any other.
                let next = reader.fill_buf()?;
                let end: &[u8] = if next.starts_with(b"\n") {
                    b"\n"
                } else if next.starts_with(b"\r\n") {
                    b"\r\n"
                } else {
                    b""
                };
                line.extend_from_slice(end);
                reader.consume(end.len());
            }
            if !line.ends_with(b"\n") && !reader.fill_buf()?.is_empty() {
                // A piece joined to the rest of its line by a soft line break (which the
                // shorter lines leave room for); a CR at its end is content (=0D).
                let soft = quoted_printable::Options::default().line_length_limit(75);
                out.write_all(quoted_printable::encode_with_options(&line, soft).as_bytes())?;
                out.write_all(b"=\r\n")?;
                line.clear();
                continue;
            }
            let content = line.strip_suffix(b"\n").unwrap_or(&line);
            let content = content.strip_suffix(b"\r").unwrap_or(content);
            out.write_all(&quoted_printable::encode(content))?;
            out.write_all(b"\r\n")?;
            line.clear();
        }
        Ok(())
    }

    /// The body in memory, for the paths that need it whole (synchronous delivery, the maildrop).
    pub fn to_vec(&mut self) -> io::Result<Vec<u8>> {
        self.file.rewind()?;
        let mut bytes = Vec::with_capacity(self.size as usize);
        (&self.file).read_to_end(&mut bytes)?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spooled(input: &[u8], ignore_dots: bool) -> SpooledBody {
        let dir = tempfile::tempdir().unwrap();
        spool(b"", &mut &input[..], ignore_dots, 1 << 20, dir.path()).unwrap()
    }

    #[test]
    fn records_what_decides_the_encoding() {
        let long = "x".repeat(1200);
        let mut b = spooled(format!("a\nb\0\n{long}\n\u{e9}\n").as_bytes(), true);
        assert_eq!((b.nul_line, b.long_line, b.utf8), (Some(2), Some(3), true));
        assert_eq!(b.to_vec().unwrap().len() as u64, b.size);
        let b = spooled(b"\xff\n", true);
        assert!(!b.utf8);
    }

    #[test]
    fn a_lone_dot_ends_the_body_unless_dots_are_ignored() {
        assert_eq!(spooled(b"a\n.\nb\n", false).to_vec().unwrap(), b"a\n");
        assert_eq!(spooled(b"a\n.\nb\n", true).to_vec().unwrap(), b"a\n.\nb\n");
    }

    #[test]
    fn the_limit_stops_reading() {
        let dir = tempfile::tempdir().unwrap();
        let err = spool(b"", &mut &[b'x'; 100][..], true, 10, dir.path()).unwrap_err();
        assert!(err.to_string().contains("limit of 10 bytes"), "{err}");
        // An endless line is refused at the limit, not buffered.
        let mut endless = io::BufReader::new(io::repeat(b'x'));
        let err = spool(b"", &mut endless, true, 1000, dir.path()).unwrap_err();
        assert!(matches!(err, BodyError::TooLarge(1000)), "{err}");
        let err = spool(b"xx", &mut endless, true, 1000, dir.path()).unwrap_err();
        assert!(matches!(err, BodyError::TooLarge(1000)), "{err}");
    }

    #[test]
    fn a_first_line_cut_short_is_finished_before_dots_are_looked_for() {
        let mut b = spooled_after(b"abc", b".\nrest\n.\nafter\n");
        assert_eq!(b.to_vec().unwrap(), b"abc.\nrest\n");
        assert_eq!(b.long_line, None);
    }

    fn spooled_after(first: &[u8], input: &[u8]) -> SpooledBody {
        let dir = tempfile::tempdir().unwrap();
        spool(first, &mut &input[..], false, 1 << 20, dir.path()).unwrap()
    }

    /// A line longer than a piece is spooled in pieces: what decides the encoding is the same
    /// as for the whole line, a character cut between two pieces included.
    #[test]
    fn a_line_longer_than_a_piece_is_spooled_in_pieces() {
        let piece = PIECE as usize;
        let mut text = "y".repeat(piece - 1);
        text.push('\u{e9}');
        text.push_str(&"z".repeat(2 * piece));
        text.push_str("\r\nshort\n");
        let mut b = spooled(text.as_bytes(), true);
        assert_eq!((b.long_line, b.nul_line, b.utf8), (Some(1), None, true));
        assert_eq!(b.to_vec().unwrap(), text.as_bytes());
        let mut cut = text.into_bytes();
        cut.truncate(piece);
        cut.push(b'\n');
        assert!(
            !spooled(&cut, true).utf8,
            "a character cut by the line's end"
        );
        let dotted = format!("{}\n.\nafter\n", "w".repeat(piece + 1));
        assert_eq!(spooled(dotted.as_bytes(), false).size, piece as u64 + 2);
        // A dot that starts a piece but not a line is content.
        let inner = format!("{}.\nafter\n.\n", "w".repeat(piece));
        assert_eq!(spooled(inner.as_bytes(), false).size, piece as u64 + 8);
    }

    /// A line longer than a piece is copied quoted-printable in pieces joined by soft line
    /// breaks, within 76 characters a line, a CRLF cut between two pieces included.
    #[test]
    fn a_line_longer_than_a_piece_decodes_whole() {
        let piece = PIECE as usize;
        for text in [
            format!("{}\r\nnext \r\n", "y".repeat(piece - 1)),
            format!(
                "{} {}\r\n",
                "a=".repeat(piece / 2),
                "b\u{e9}\t".repeat(piece)
            ),
            format!("{}\rcr\r\n", "c".repeat(piece - 1)),
            format!("{}\r\n{}\r\n", "d".repeat(piece), "e".repeat(piece)),
        ] {
            let mut b = spooled(text.as_bytes(), true);
            let mut out = Vec::new();
            b.copy_to(&mut out, true).unwrap();
            assert!(out.split(|&c| c == b'\n').all(|l| l.len() <= 77));
            let decoded =
                quoted_printable::decode(&out, quoted_printable::ParseMode::Strict).unwrap();
            assert!(decoded == text.as_bytes(), "{}", text.len());
            // A line that ends where a piece does ends there, without an empty line after it.
            assert!(!out.windows(5).any(|w| w == b"=\r\n\r\n"), "{}", text.len());
        }
    }

    #[test]
    fn quoted_printable_copy_decodes_to_the_same_lines() {
        let text = format!("{}\nsecond = line\n", "y".repeat(2000));
        let mut b = spooled(text.as_bytes(), true);
        let mut out = Vec::new();
        b.copy_to(&mut out, true).unwrap();
        assert!(out.split(|&c| c == b'\n').all(|l| l.len() <= 78));
        let decoded = quoted_printable::decode(&out, quoted_printable::ParseMode::Strict).unwrap();
        assert_eq!(
            String::from_utf8(decoded).unwrap().replace("\r\n", "\n"),
            text
        );
    }
}
