//! The message of a BDAT transaction (CHUNKING, RFC 3030): chunks of exactly the announced size,
//! gathered in memory up to 1 MiB and in an unlinked temporary file beyond, under the size limit.
//! A chunk's bytes are always read whole, even when the chunk is refused, so that the dialogue
//! stays in step. Bare LF and bare CR are noted as in DATA (across chunk boundaries too).

use std::io::{self, BufRead, Read, Seek, Write};
use std::path::Path;

use tempfile::SpooledTempFile;

/// Kept in memory before the message spills to disk.
const IN_MEMORY: usize = 1 << 20;

/// The chunks received so far.
pub struct Chunks {
    spool: SpooledTempFile,
    size: u64,
    /// The last byte was a CR (its LF may open the next chunk).
    pending_cr: bool,
    bare_newline: bool,
    /// The limit was exceeded: the rest of the transaction is read and dropped.
    too_large: bool,
}

impl Chunks {
    pub fn new(scratch: &Path) -> Chunks {
        Chunks {
            spool: tempfile::spooled_tempfile_in(IN_MEMORY, scratch),
            size: 0,
            pending_cr: false,
            bare_newline: false,
            too_large: false,
        }
    }

    /// Reads one chunk of `len` bytes from `input`, keeping it while the message stays within
    /// `limit`. `Err` when the client went away or the chunk could not be kept.
    pub fn add(&mut self, input: &mut dyn BufRead, len: u64, limit: u64) -> io::Result<()> {
        let mut left = len;
        self.too_large |= self.size.saturating_add(len) > limit;
        let mut spool_error = None;
        while left > 0 {
            let buf = input.fill_buf()?;
            if buf.is_empty() {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let piece = &buf[..n];
            if !self.too_large && spool_error.is_none() {
                self.note_newlines(piece);
                if let Err(e) = self.spool.write_all(piece) {
                    spool_error = Some(e);
                }
            }
            input.consume(n);
            left -= n as u64;
        }
        self.size += len;
        spool_error.map_or(Ok(()), Err)
    }

    fn note_newlines(&mut self, piece: &[u8]) {
        for (i, &b) in piece.iter().enumerate() {
            let previous_cr = if i == 0 {
                self.pending_cr
            } else {
                piece[i - 1] == b'\r'
            };
            if b == b'\n' && !previous_cr {
                self.bare_newline = true;
            }
            if previous_cr && b != b'\n' {
                self.bare_newline = true;
            }
        }
        if let Some(&last) = piece.last() {
            self.pending_cr = last == b'\r';
        }
    }

    /// The chunks exceeded the limit.
    pub fn too_large(&self) -> bool {
        self.too_large
    }

    /// The message held a bare LF or bare CR (a CR at its very end included).
    pub fn saw_bare_newline(&self) -> bool {
        self.bare_newline || self.pending_cr
    }

    /// The whole message, from its first byte.
    pub fn into_reader(mut self) -> io::Result<impl BufRead> {
        self.spool.rewind()?;
        Ok(io::BufReader::with_capacity(64 * 1024, self.spool))
    }
}

/// Reads and drops `len` bytes of a chunk that is refused.
pub fn skip(input: &mut dyn BufRead, len: u64) -> io::Result<()> {
    let copied = io::copy(&mut input.take(len), &mut io::sink())?;
    if copied < len {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gather(chunks: &[&[u8]], limit: u64) -> Chunks {
        let mut c = Chunks::new(&std::env::temp_dir());
        for chunk in chunks {
            c.add(&mut &chunk[..], chunk.len() as u64, limit).unwrap();
        }
        c
    }

    #[test]
    fn chunks_make_one_message() {
        let c = gather(&[b"Subject: s\r", b"\n\r\nbody\r\n"], 100);
        assert!(!c.saw_bare_newline() && !c.too_large());
        let mut text = Vec::new();
        c.into_reader().unwrap().read_to_end(&mut text).unwrap();
        assert_eq!(text, b"Subject: s\r\n\r\nbody\r\n");
    }

    #[test]
    fn bare_newlines_are_seen_across_chunks() {
        assert!(gather(&[b"a\nb\r\n"], 100).saw_bare_newline());
        assert!(gather(&[b"a\r", b"b\r\n"], 100).saw_bare_newline());
        assert!(gather(&[b"a\r\nb\r"], 100).saw_bare_newline());
    }

    #[test]
    fn over_the_limit_is_read_but_not_kept() {
        let mut c = Chunks::new(&std::env::temp_dir());
        let mut input = &b"0123456789QUIT\r\n"[..];
        c.add(&mut input, 10, 5).unwrap();
        assert!(c.too_large());
        assert_eq!(input, b"QUIT\r\n");
        let mut short = &b"abc"[..];
        assert!(c.add(&mut short, 10, 5).is_err());
    }
}
