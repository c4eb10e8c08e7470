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

/// Reads the rest of the message from `input` into a temporary file in `dir`, starting with
/// `first` (a line already read). Without `ignore_dots`, a line holding a single dot ends it.
/// More than `limit` bytes is refused without reading further.
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
    let mut line = first.to_vec();
    if !line.is_empty() && !line.ends_with(b"\n") {
        // `first` may be the start of a line the header reader cut at its limit: finish it.
        input
            .take(limit.saturating_add(1))
            .read_until(b'\n', &mut line)
            .map_err(BodyError::Input)?;
    }
    let mut number = 0;
    loop {
        if line.is_empty() {
            // Never buffer more than the limit, even from a line without an end.
            if input
                .take(limit.saturating_sub(size).saturating_add(1))
                .read_until(b'\n', &mut line)
                .map_err(BodyError::Input)?
                == 0
            {
                break;
            }
            if !ignore_dots && matches!(line.as_slice(), b".\n" | b".\r\n" | b".") {
                break;
            }
        }
        number += 1;
        size += line.len() as u64;
        if size > limit {
            return Err(BodyError::TooLarge(limit));
        }
        let content = line.strip_suffix(b"\n").unwrap_or(&line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.len() > MAX_LINE && long_line.is_none() {
            long_line = Some(number);
        }
        if nul_line.is_none() && content.contains(&0) {
            nul_line = Some(number);
        }
        utf8 &= std::str::from_utf8(content).is_ok();
        out.write_all(&line).map_err(scratch)?;
        line.clear();
    }
    Ok(SpooledBody {
        file: out.into_inner().map_err(|e| scratch(e.into_error()))?,
        size,
        long_line,
        nul_line,
        utf8,
    })
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
        while reader.read_until(b'\n', &mut line)? > 0 {
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
