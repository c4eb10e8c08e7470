//! A client's connection as the listener's dialogue reads and writes it: plain or TLS, with
//! the timeouts that keep a slow or silent client from holding a connection forever.
//!
//! - Every line (a command, or a line of a message) must arrive within `timeout` of the
//!   previous one: a client sending a byte a second never completes a line in time
//!   (Postfix's `smtpd_per_record_deadline`). Lines are counted in what the dialogue reads,
//!   never in the bytes on the wire: under TLS those are ciphertext, whose newline bytes are
//!   noise (they cut a steady client off at random, and let a slow one live on).
//! - The whole connection lasts at most `session_timeout`.
//! - When the listener shuts down, a connection waiting for its next command is ended
//!   (`421`), while one in the middle of a message is read to its end.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rustls::{ServerConnection, StreamOwned};

/// How often a blocked read looks at the shutdown flag.
const SHUTDOWN_POLL: Duration = Duration::from_secs(1);

/// The TCP connection with its deadlines.
pub struct Timed {
    tcp: TcpStream,
    timeout: Duration,
    session_end: Instant,
    line_deadline: Instant,
    /// Set by the listener when it shuts down.
    stopping: Arc<AtomicBool>,
    /// Set by the dialogue while it waits for a command (see `Settings::idle`).
    idle: Arc<AtomicBool>,
}

impl Timed {
    pub fn new(
        tcp: TcpStream,
        timeout: Duration,
        session_timeout: Duration,
        stopping: Arc<AtomicBool>,
        idle: Arc<AtomicBool>,
    ) -> io::Result<Timed> {
        tcp.set_nodelay(true)?;
        tcp.set_write_timeout(Some(timeout))?;
        let now = Instant::now();
        Ok(Timed {
            tcp,
            timeout,
            session_end: now + session_timeout,
            line_deadline: now + timeout,
            stopping,
            idle,
        })
    }

    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// A line (or its end) came: the next one has `timeout` from now.
    fn line_seen(&mut self) {
        self.line_deadline = Instant::now() + self.timeout;
    }
}

/// The error a read gives when the listener shuts down while the client is between commands.
pub fn is_shutdown(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::ConnectionAborted
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let now = Instant::now();
            let deadline = self.line_deadline.min(self.session_end);
            if now >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    if deadline == self.session_end {
                        "session too long"
                    } else {
                        "client too slow"
                    },
                ));
            }
            let stopping = self.stopping.load(Ordering::Relaxed);
            if stopping && self.idle.load(Ordering::Relaxed) {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "shutting down",
                ));
            }
            let mut wait = deadline - now;
            if stopping || self.idle.load(Ordering::Relaxed) {
                // Between commands, look at the shutdown flag now and then.
                wait = wait.min(SHUTDOWN_POLL);
            }
            self.tcp.set_read_timeout(Some(wait))?;
            match self.tcp.read(buf) {
                Ok(n) => return Ok(n),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// The connection, in the clear or under TLS.
pub enum Connection {
    Plain(Timed),
    Tls(Box<StreamOwned<ServerConnection, Timed>>),
}

impl Connection {
    pub fn timed(&self) -> &Timed {
        match self {
            Connection::Plain(t) => t,
            Connection::Tls(s) => &s.sock,
        }
    }

    fn timed_mut(&mut self) -> &mut Timed {
        match self {
            Connection::Plain(t) => t,
            Connection::Tls(s) => &mut s.sock,
        }
    }

    /// Starts TLS on the connection (STARTTLS, or at once for `smtps://`).
    pub fn start_tls(self, config: Arc<rustls::ServerConfig>) -> io::Result<Connection> {
        let timed = match self {
            Connection::Plain(t) => t,
            Connection::Tls(_) => return Err(io::Error::other("TLS is already on")),
        };
        let tls = ServerConnection::new(config).map_err(io::Error::other)?;
        let mut stream = StreamOwned::new(tls, timed);
        while stream.conn.is_handshaking() {
            stream.conn.complete_io(&mut stream.sock)?;
        }
        Ok(Connection::Tls(Box::new(stream)))
    }

    pub fn is_tls(&self) -> bool {
        matches!(self, Connection::Tls(_))
    }
}

impl Read for Connection {
    /// Reads what the client sent (decrypted under TLS), and restarts the line deadline when
    /// a line ended in it.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self {
            Connection::Plain(t) => t.read(buf)?,
            Connection::Tls(s) => s.read(buf)?,
        };
        if buf[..n].contains(&b'\n') {
            self.timed_mut().line_seen();
        }
        Ok(n)
    }
}

impl Write for Connection {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Connection::Plain(t) => t.write(buf),
            Connection::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Connection::Plain(t) => t.flush(),
            Connection::Tls(s) => s.flush(),
        }
    }
}

/// One side (reading or writing) of a connection that both sides share: the dialogue reads
/// through one and writes through the other, on one thread.
pub struct Half(pub Rc<RefCell<Connection>>);

impl Read for Half {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.borrow_mut().read(buf)
    }
}

impl Write for Half {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.borrow_mut().flush()
    }
}
