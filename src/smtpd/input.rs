//! What an SMTP client sends, read strictly: command lines end with CRLF only, and the message
//! after DATA ends only at CRLF.CRLF (RFC 5321 sections 2.3.8 and 4.1.1.4).
//!
//! A bare LF or a bare CR, in a command or in the message, is how SMTP smuggling hides a second
//! message inside the first (`\n.\nMAIL FROM:...`): a server that ends DATA at a bare-LF dot
//! starts reading the attacker's commands. Here a bare-LF dot is message content like any other
//! line, and the message that holds it is refused once it ends, as Postfix does with
//! `smtpd_forbid_bare_newline = reject`; a command line with one ends the session.

use std::io::{self, BufRead, Read};

/// The longest command line accepted, CRLF included (RFC 5321 allows 512 octets, and service
/// extensions' parameters more).
pub const MAX_COMMAND: usize = 4096;

/// Why a command line was not read.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// The client closed the connection (or the input ended).
    #[error("the client went away")]
    Closed,
    /// The line is longer than [`MAX_COMMAND`]; it was read to its end and dropped.
    #[error("command line too long")]
    TooLong,
    /// The line ends with a bare LF or holds a bare CR.
    #[error("bare <LF> or <CR> received")]
    BareNewline,
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Reads one command line, without its CRLF. A line longer than [`MAX_COMMAND`] is consumed to
/// its end (without holding it) and refused, so that the dialogue stays in step.
pub fn read_command(input: &mut dyn BufRead) -> Result<String, LineError> {
    let mut line = Vec::with_capacity(128);
    let n = input
        .take(MAX_COMMAND as u64)
        .read_until(b'\n', &mut line)?;
    if n == 0 {
        return Err(LineError::Closed);
    }
    if !line.ends_with(b"\n") {
        if line.len() < MAX_COMMAND {
            // The input ended in the middle of a line.
            return Err(LineError::Closed);
        }
        discard_line(input)?;
        return Err(LineError::TooLong);
    }
    line.pop();
    if line.pop() != Some(b'\r') || line.contains(&b'\r') {
        return Err(LineError::BareNewline);
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// Reads and drops input up to and including the next LF.
fn discard_line(input: &mut dyn BufRead) -> io::Result<()> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                input.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    }
}

/// The message after DATA, as a reader: dot-stuffing removed, ending (EOF) at the CRLF.CRLF
/// that ends it, and nowhere else. Lines keep their CRLF. Whether a bare LF or bare CR was seen
/// is recorded; [`DataReader::finish`] reads whatever the consumer left, so that the dialogue
/// continues after the end of the message in any case.
pub struct DataReader<'a> {
    input: &'a mut dyn BufRead,
    /// The current piece of a line, unstuffed, not yet consumed.
    piece: Vec<u8>,
    pos: usize,
    /// The next byte read starts a line.
    at_line_start: bool,
    /// ... and the line before it ended with CRLF: only then can a dot line end the message.
    after_crlf: bool,
    /// The previous piece ended with a CR whose LF may come at the start of the next.
    pending_cr: bool,
    ended: bool,
    bare_newline: bool,
}

/// The longest piece of a line handled at once: a line longer than this is passed on in pieces,
/// so an endless line costs no more memory than this.
const PIECE: u64 = 64 * 1024;

impl<'a> DataReader<'a> {
    pub fn new(input: &'a mut dyn BufRead) -> Self {
        DataReader {
            input,
            piece: Vec::with_capacity(1024),
            pos: 0,
            at_line_start: true,
            after_crlf: true,
            pending_cr: false,
            ended: false,
            bare_newline: false,
        }
    }

    /// Whether the message held a bare LF or a bare CR (so far).
    pub fn saw_bare_newline(&self) -> bool {
        self.bare_newline
    }

    /// Reads to the end of the message (dropping what the consumer did not take) and says
    /// whether it held a bare LF or CR. `Err` when the client went away before the end.
    pub fn finish(&mut self) -> io::Result<bool> {
        while !self.ended {
            self.pos = self.piece.len();
            self.next_piece()?;
        }
        Ok(self.bare_newline)
    }

    /// Reads the next piece of input into `piece`.
    fn next_piece(&mut self) -> io::Result<()> {
        self.piece.clear();
        self.pos = 0;
        let n = (&mut *self.input)
            .take(PIECE)
            .read_until(b'\n', &mut self.piece)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the client went away in the middle of the message",
            ));
        }
        let line_start = self.at_line_start;
        let ends_line = self.piece.ends_with(b"\n");
        // Bare CR: a CR not followed by LF, here or across the piece boundary.
        let was_pending = self.pending_cr;
        if was_pending && self.piece.first() != Some(&b'\n') {
            self.bare_newline = true;
        }
        let body = self.piece.strip_suffix(b"\n").unwrap_or(&self.piece);
        let crlf = ends_line && body.ends_with(b"\r");
        let inner = if crlf { &body[..body.len() - 1] } else { body };
        let stray_cr = if ends_line || !inner.ends_with(b"\r") {
            inner.contains(&b'\r')
        } else {
            inner[..inner.len() - 1].contains(&b'\r')
        };
        if stray_cr || (ends_line && !crlf && !(was_pending && self.piece == b"\n")) {
            self.bare_newline = true;
        }
        let after_crlf = self.after_crlf;
        self.pending_cr = !ends_line && inner.ends_with(b"\r");
        self.at_line_start = ends_line;
        self.after_crlf = ends_line && (crlf || (self.piece == b"\n" && was_pending));
        if line_start && after_crlf && self.piece == b".\r\n" {
            self.ended = true;
            self.piece.clear();
            return Ok(());
        }
        if line_start && self.piece.first() == Some(&b'.') {
            self.pos = 1;
        }
        Ok(())
    }
}

impl Read for DataReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for DataReader<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos >= self.piece.len() && !self.ended {
            self.next_piece()?;
        }
        Ok(&self.piece[self.pos..])
    }

    fn consume(&mut self, amount: usize) {
        self.pos = (self.pos + amount).min(self.piece.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(input: &[u8]) -> (Vec<u8>, bool, Vec<u8>) {
        let mut input = input;
        let mut reader = DataReader::new(&mut input);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        let bare = reader.finish().unwrap();
        (out, bare, input.to_vec())
    }

    #[test]
    fn commands_end_with_crlf_only() {
        let mut input = &b"EHLO a\r\nMAIL FROM:<x>\nQUIT\r\n"[..];
        assert_eq!(read_command(&mut input).unwrap(), "EHLO a");
        assert!(matches!(
            read_command(&mut input),
            Err(LineError::BareNewline)
        ));
        let mut input = &b"NOOP\rRSET\r\n"[..];
        assert!(matches!(
            read_command(&mut input),
            Err(LineError::BareNewline)
        ));
        let mut input = &b"NOOP"[..];
        assert!(matches!(read_command(&mut input), Err(LineError::Closed)));
    }

    #[test]
    fn an_over_long_command_is_dropped_whole() {
        let mut long = vec![b'x'; MAX_COMMAND * 3];
        long.extend_from_slice(b"\r\nQUIT\r\n");
        let mut input = &long[..];
        assert!(matches!(read_command(&mut input), Err(LineError::TooLong)));
        assert_eq!(read_command(&mut input).unwrap(), "QUIT");
    }

    #[test]
    fn data_ends_at_crlf_dot_crlf_and_is_unstuffed() {
        let (out, bare, rest) = data(b"Subject: s\r\n\r\n..leading\r\n.\r\nQUIT\r\n");
        assert_eq!(out, b"Subject: s\r\n\r\n.leading\r\n");
        assert!(!bare);
        assert_eq!(rest, b"QUIT\r\n");
    }

    /// Review finding 6: a bare-LF dot does not end the message, and the message is marked so
    /// that it is refused; the smuggled commands are content, never commands.
    #[test]
    fn a_bare_lf_dot_is_content_and_marks_the_message() {
        let smuggled =
            b"Subject: s\r\n\r\nhi\n.\nMAIL FROM:<x@y>\nRCPT TO:<victim@y>\nDATA\nevil\r\n.\r\nQUIT\r\n";
        let (out, bare, rest) = data(smuggled);
        assert!(bare);
        assert_eq!(rest, b"QUIT\r\n");
        assert!(out.ends_with(b"DATA\nevil\r\n"), "{out:?}");
        for variant in [
            &b"a\r\n.\nb\r\n.\r\nQUIT\r\n"[..],
            b"a\n.\r\nb\r\n.\r\nQUIT\r\n",
            b"a\r.\rb\r\n.\r\nQUIT\r\n",
            b"a\r\n.\r\r\nb\r\n.\r\nQUIT\r\n",
        ] {
            let (_, bare, rest) = data(variant);
            assert!(bare, "{variant:?}");
            assert_eq!(rest, b"QUIT\r\n", "{variant:?}");
        }
    }

    #[test]
    fn crlf_split_across_pieces_is_not_bare() {
        let mut long = vec![b'y'; PIECE as usize - 1];
        long.extend_from_slice(b"\r\nnext\r\n.\r\n");
        let (out, bare, _) = data(&long);
        assert!(!bare);
        assert_eq!(out.len(), long.len() - 3);
        let mut cut = vec![b'y'; PIECE as usize - 1];
        cut.extend_from_slice(b"\rx\r\n.\r\n");
        assert!(data(&cut).1);
    }

    #[test]
    fn an_endless_line_is_read_in_pieces() {
        let mut input = std::io::BufReader::new(std::io::repeat(b'z')).take(10 << 20);
        let mut reader = DataReader::new(&mut input);
        let mut sink = [0u8; 4096];
        let mut total = 0;
        while total < 5 << 20 {
            total += reader.read(&mut sink).unwrap();
        }
        assert!(reader.piece.capacity() <= 2 * PIECE as usize);
        assert!(reader.finish().is_err(), "the client went away mid-message");
    }
}
