//! One SMTP connection as lines, in plain text or TLS, for the server and for the test clients
//! that check it. It counts the reads from the socket, so that a test can tell what a client
//! sent in one write (pipelining) from what it sent reply by reply.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::ops::{Deref, DerefMut};

use rustls::{ConnectionCommon, SideData};

/// The longest command or reply line accepted, with its line ending.
const MAX_LINE: u64 = 16 * 1024;

/// A TCP connection before or after TLS: `C` is `rustls::ServerConnection` on the server's
/// side, `rustls::ClientConnection` on a test client's.
pub enum Stream<C> {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<C, TcpStream>>),
}

impl<C> Stream<C> {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl<C, S> Read for Stream<C>
where
    C: DerefMut + Deref<Target = ConnectionCommon<S>>,
    S: SideData,
{
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl<C, S> Write for Stream<C>
where
    C: DerefMut + Deref<Target = ConnectionCommon<S>>,
    S: SideData,
{
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// A reader that counts the reads that returned data.
struct Counted<R> {
    inner: R,
    reads: usize,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.reads += usize::from(n > 0);
        Ok(n)
    }
}

/// A line-oriented SMTP connection.
pub struct Wire<C> {
    io: BufReader<Counted<Stream<C>>>,
}

impl<C, S> Wire<C>
where
    C: DerefMut + Deref<Target = ConnectionCommon<S>>,
    S: SideData,
{
    pub fn new(stream: Stream<C>) -> Self {
        Self::counted(stream, 0)
    }

    fn counted(stream: Stream<C>, reads: usize) -> Self {
        Wire {
            io: BufReader::new(Counted {
                inner: stream,
                reads,
            }),
        }
    }

    /// Sends one line, adding CRLF.
    pub fn send(&mut self, line: &str) -> io::Result<()> {
        self.send_bytes(format!("{line}\r\n").as_bytes())
    }

    /// Sends bytes as they are.
    pub fn send_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        let out = &mut self.io.get_mut().inner;
        out.write_all(bytes)?;
        out.flush()
    }

    /// The next line with its line ending, at most `MAX_LINE` octets; `None` at the end of
    /// the stream.
    pub fn read_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut buf = Vec::new();
        self.io
            .by_ref()
            .take(MAX_LINE)
            .read_until(b'\n', &mut buf)?;
        if buf.is_empty() {
            return Ok(None);
        }
        if !buf.ends_with(b"\n") {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
        }
        Ok(Some(buf))
    }

    /// The next line of a message, however long, with its line ending (none if the stream
    /// ends first); `None` at the end of the stream.
    pub fn read_text_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut buf = Vec::new();
        self.io.read_until(b'\n', &mut buf)?;
        Ok((!buf.is_empty()).then_some(buf))
    }

    /// Exactly `n` octets (a BDAT chunk).
    pub fn read_exact(&mut self, n: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0; n];
        self.io.read_exact(&mut buf)?;
        Ok(buf)
    }

    /// How many reads from the socket returned data so far.
    pub fn reads(&self) -> usize {
        self.io.get_ref().reads
    }

    /// Whether received octets are waiting beyond what was read: the peer sent them without
    /// waiting for an answer to the last line.
    pub fn buffered(&self) -> bool {
        !self.io.buffer().is_empty()
    }

    /// Starts TLS on a plain connection. Also says whether the peer had sent bytes after the
    /// STARTTLS exchange in plain text; they are discarded.
    pub fn start_tls(self, conn: C) -> io::Result<(Self, bool)> {
        let early = self.buffered();
        let Counted { inner, reads } = self.io.into_inner();
        match inner {
            Stream::Plain(tcp) => Ok((
                Self::counted(
                    Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp))),
                    reads,
                ),
                early,
            )),
            Stream::Tls(_) => Err(io::Error::other("TLS is already on")),
        }
    }

    /// The `tls-exporter` channel binding of the connection (RFC 9266), if TLS is on.
    pub fn tls_exporter(&self) -> Option<Vec<u8>> {
        let Stream::Tls(s) = &self.io.get_ref().inner else {
            return None;
        };
        s.conn
            .export_keying_material(vec![0u8; 32], b"EXPORTER-Channel-Binding", None)
            .ok()
    }

    /// Sends a TLS close_notify, if TLS is on.
    pub fn close_notify(&mut self) {
        if let Stream::Tls(s) = &mut self.io.get_mut().inner {
            s.conn.send_close_notify();
            let _ = s.flush();
        }
    }

    /// Shuts the TCP connection down in both directions, without a TLS close_notify.
    pub fn shutdown(&self) {
        let _ = self.io.get_ref().inner.tcp().shutdown(Shutdown::Both);
    }
}
