//! Canonical line endings for SMTP DATA.
//!
//! Callers hand relayctl LF-only text (cron, scripts), CRLF text (PHP, Windows tools) or a mix.
//! SMTP needs CRLF everywhere: a bare LF lets a relay see a line end where the dot-stuffing of the
//! SMTP client did not, and a leading `.` is then lost (observed with Postfix). So every line
//! ending (CRLF, LF, or a bare CR) becomes CRLF before dot-stuffing.
//!
//! The wire terminator `CRLF . CRLF` also ends the last line, so the final line ending of the
//! input is held back and dropped at the end: the relay receives exactly the lines it was given,
//! without an extra empty line.

/// A streaming converter: feed chunks with [`Canonicalizer::push`]; a line ending still held when
/// the input ends is simply never written. Chunk boundaries may fall anywhere, even inside a CRLF.
#[derive(Debug, Default)]
pub struct Canonicalizer {
    /// The previous chunk ended with CR whose LF (if any) has not been seen yet.
    pending_cr: bool,
    /// A line ending has been read but not written: it is written only if more text follows.
    held_line_end: bool,
}

impl Canonicalizer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Converts `input`, appending to `out`.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len() + input.len() / 32);
        let mut rest = input;
        if self.pending_cr {
            // The CR was already counted as a line end; an LF right after it belongs to it.
            match rest.first() {
                None => return,
                Some(b'\n') => rest = &rest[1..],
                Some(_) => {}
            }
            self.pending_cr = false;
        }
        while !rest.is_empty() {
            match rest.iter().position(|&b| b == b'\r' || b == b'\n') {
                None => {
                    self.text(rest, out);
                    return;
                }
                Some(i) => {
                    self.text(&rest[..i], out);
                    self.line_end(out);
                    if rest[i] == b'\r' {
                        match rest.get(i + 1) {
                            Some(b'\n') => rest = &rest[i + 2..],
                            Some(_) => rest = &rest[i + 1..],
                            None => {
                                self.pending_cr = true;
                                return;
                            }
                        }
                    } else {
                        rest = &rest[i + 1..];
                    }
                }
            }
        }
    }

    fn text(&mut self, text: &[u8], out: &mut Vec<u8>) {
        if text.is_empty() {
            return;
        }
        self.flush_held(out);
        out.extend_from_slice(text);
    }

    fn line_end(&mut self, out: &mut Vec<u8>) {
        self.flush_held(out);
        self.held_line_end = true;
    }

    fn flush_held(&mut self, out: &mut Vec<u8>) {
        if self.held_line_end {
            out.extend_from_slice(b"\r\n");
            self.held_line_end = false;
        }
    }
}

/// A writer that canonicalises what passes through it on the way to `inner`.
pub struct CanonicalWriter<W: std::io::Write> {
    inner: W,
    canonicalizer: Canonicalizer,
    buf: Vec<u8>,
}

impl<W: std::io::Write> CanonicalWriter<W> {
    pub fn new(inner: W) -> Self {
        CanonicalWriter {
            inner,
            canonicalizer: Canonicalizer::new(),
            buf: Vec::new(),
        }
    }
}

impl<W: std::io::Write> std::io::Write for CanonicalWriter<W> {
    fn write(&mut self, input: &[u8]) -> std::io::Result<usize> {
        self.buf.clear();
        self.canonicalizer.push(input, &mut self.buf);
        self.inner.write_all(&self.buf)?;
        Ok(input.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Converts a whole message in one call.
pub fn canonicalize(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + input.len() / 32);
    let mut c = Canonicalizer::new();
    c.push(input, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_ending_becomes_crlf_and_the_last_is_dropped() {
        assert_eq!(canonicalize(b"a\nb\n"), b"a\r\nb");
        assert_eq!(canonicalize(b"a\r\nb\r\n"), b"a\r\nb");
        assert_eq!(canonicalize(b"a\rb\r"), b"a\r\nb");
        assert_eq!(canonicalize(b"a\n\nb"), b"a\r\n\r\nb");
        assert_eq!(canonicalize(b"a\n\n"), b"a\r\n");
        assert_eq!(canonicalize(b""), b"");
        assert_eq!(canonicalize(b"no newline"), b"no newline");
    }

    #[test]
    fn leading_dots_and_8bit_bytes_are_untouched() {
        assert_eq!(
            canonicalize(b".x\n..\n\xc3\xa9\xff\n"),
            b".x\r\n..\r\n\xc3\xa9\xff"
        );
    }

    #[test]
    fn chunk_boundaries_anywhere_give_the_same_result() {
        let input: &[u8] = b"l1\r\n.l2\nl3\r\rl5\r\n\r\nend\r\n";
        let whole = canonicalize(input);
        for split in 0..=input.len() {
            for split2 in split..=input.len() {
                let mut out = Vec::new();
                let mut c = Canonicalizer::new();
                c.push(&input[..split], &mut out);
                c.push(&input[split..split2], &mut out);
                c.push(&input[split2..], &mut out);
                assert_eq!(out, whole, "split at {split}/{split2}");
            }
        }
    }

    #[test]
    fn output_has_no_bare_cr_or_lf() {
        let out = canonicalize(b"a\rb\nc\r\n\r\rd\n\re");
        for (i, &b) in out.iter().enumerate() {
            if b == b'\r' {
                assert_eq!(out.get(i + 1), Some(&b'\n'));
            }
            if b == b'\n' {
                assert_eq!(out[i - 1], b'\r');
            }
        }
    }
}
