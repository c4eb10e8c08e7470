//! The one TCP forwarder of the tests and the benchmarks: a proxy in front of a server that
//! passes every connection through, and on the way can
//!
//! - add a fixed delay to each direction ([`Options::delay`]): a relay at a real network
//!   distance, on loopback, for the benchmarks (the `delay-proxy` binary) and the tests that keep
//!   the round trips of a submission from growing (the machines this runs on have no
//!   `sch_netem`, which would otherwise do the delaying);
//! - keep what each client sent ([`Options::record`], [`Proxy::sent`]): to count the complete
//!   transmissions of a message (the relay only says whether it arrived, not how often) or to
//!   read the commands a client sent;
//! - log every connection and chunk as it is forwarded ([`Options::events`], [`EventLog`]);
//! - go silent ([`Proxy::set_silent`]): a relay that accepts connections and never answers.
//!
//! It always counts connections, bytes and the clients' turns ([`Counts`]). A *turn* is the
//! client speaking after the server has spoken: the greeting, then every time the client sends
//! after a reply. A client that pipelines several commands, or sends its TLS Finished together
//! with the next command, uses one turn for them.
//!
//! Each chunk read from one side is written to the other in order, so pipelined data stays
//! pipelined and only latency is added (no bandwidth limit, no reordering): `delay` after it
//! was read, or with no delay at once, by the thread that read it (no sleep, no hand-over to
//! another thread). When one side stops sending (it closes or is killed), the proxy shuts down
//! the write side of its connection to the other, once everything read is written: the other
//! side sees the end at the same point, and a connection is over when both directions are.
//!
//! The proxy acknowledges what the server sends at once (`TCP_QUICKACK` before every read): a
//! server with Nagle's algorithm on holds a small reply until its previous segment is
//! acknowledged, and a delayed ACK from the proxy would add 40 ms stalls that belong to no
//! client. So the figures measured through it are round trips and work, for every client alike.
//!
//! The event log has one line per chunk as it is forwarded (after its delay), so that a
//! benchmark can tell when a reply reached the client, and which turn of which connection it
//! answered. Each line is written whole and flushed at once, and starts with the Unix time in
//! nanoseconds and the connection's number (from 1, in the order the proxy took them on):
//!
//! ```text
//! UNIX_NANOS CONN open                           connected to the server
//! UNIX_NANOS CONN server TURN BYTES FIRST_LINE   a chunk from the server, forwarded to the client
//! UNIX_NANOS CONN client TURN BYTES FIRST_LINE   a chunk from the client, forwarded to the server
//! UNIX_NANOS CONN closed TURNS                   both directions closed; the connection's turns
//! ```
//!
//! TURN is the client turn a client chunk belongs to (1 for the first), and for a server chunk
//! the turn it answers (0: the greeting). FIRST_LINE is the chunk's first line without its line
//! end when that is printable ASCII (at most [`EventLog::TEXT_MAX`] bytes of it), else `-`: once
//! TLS is up every chunk is `-`, and the replies are told apart by their turn. A connection held
//! while the proxy is silent has no lines.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What the proxy has seen, over all its connections.
#[derive(Debug, Default)]
pub struct Counts {
    /// Connections taken on (forwarded, or held while silent), and those finished (both
    /// directions closed).
    pub connections: AtomicU64,
    pub closed: AtomicU64,
    /// Client turns (see the module documentation).
    pub turns: AtomicU64,
    /// Bytes from clients and from the server.
    pub client_bytes: AtomicU64,
    pub server_bytes: AtomicU64,
}

/// What a proxy does besides forwarding and counting. The default adds no delay and keeps and
/// logs nothing.
#[derive(Default)]
pub struct Options {
    /// Added to each direction, so that a round trip costs twice this; zero adds nothing.
    pub delay: Duration,
    /// Keep what each client sent, for [`Proxy::sent`]. Off by default: a long-running proxy
    /// (the benchmarks') should not keep every byte.
    pub record: bool,
    /// Where to log every connection and forwarded chunk.
    pub events: Option<EventLog>,
}

/// A running proxy; it stops accepting when dropped (connections in progress finish).
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Listens on `listen` (port 0: any free port) and forwards every connection to `upstream`
    /// as `options` say.
    pub fn start(
        listen: &str,
        upstream: impl Into<SocketAddr>,
        options: Options,
    ) -> io::Result<Proxy> {
        let upstream = upstream.into();
        let listener = TcpListener::bind(listen)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            delay: options.delay,
            events: options.events,
            sent: options.record.then(Mutex::default),
            counts: Counts::default(),
            silent: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                // Decided as the connection comes: a switch applies from the next one on.
                let silent = s.silent.load(Ordering::SeqCst);
                let s = s.clone();
                thread::spawn(move || serve(client, upstream, silent, &s));
            }
        });
        Ok(Proxy { addr, shared })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The counts so far.
    pub fn counts(&self) -> &Counts {
        &self.shared.counts
    }

    /// Client turns so far.
    pub fn turns(&self) -> u64 {
        self.shared.counts.turns.load(Ordering::SeqCst)
    }

    /// Connections taken on so far (forwarded, or held while silent).
    pub fn connections(&self) -> u64 {
        self.shared.counts.connections.load(Ordering::SeqCst)
    }

    /// What each client has sent so far, one buffer per connection in the order of their
    /// numbers (held ones included); empty unless the proxy records ([`Options::record`]).
    pub fn sent(&self) -> Vec<Vec<u8>> {
        self.shared
            .sent
            .as_ref()
            .map_or_else(Vec::new, |sent| sent.lock().unwrap().clone())
    }

    /// While silent, the proxy accepts connections and holds them without a word until their
    /// clients close them: it connects nowhere, answers nothing and forwards nothing (what the
    /// clients send is counted and recorded). A relay that accepts TCP and never answers; once
    /// no longer silent, new connections are forwarded again. Connections in progress go on as
    /// they were.
    pub fn set_silent(&self, silent: bool) {
        self.shared.silent.store(silent, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// What the accept loop, the connections and the [`Proxy`] share.
struct Shared {
    delay: Duration,
    events: Option<EventLog>,
    /// What each client sent, at its connection's number - 1; `None` unless recording.
    sent: Option<Mutex<Vec<Vec<u8>>>>,
    counts: Counts,
    silent: AtomicBool,
    stop: AtomicBool,
}

impl Shared {
    /// Counts a connection taken on and returns its number (from 1).
    fn open(&self) -> u64 {
        let number = || self.counts.connections.fetch_add(1, Ordering::SeqCst) + 1;
        match &self.sent {
            None => number(),
            // Numbered under the lock, so that the connection's buffer is at its number.
            Some(sent) => {
                let mut sent = sent.lock().unwrap();
                sent.push(Vec::new());
                number()
            }
        }
    }
}

/// Takes on one accepted connection: forwards it to `upstream`, or holds it when `silent`.
fn serve(client: TcpStream, upstream: SocketAddr, silent: bool, shared: &Arc<Shared>) {
    let server = if silent {
        None
    } else {
        // A server that cannot be reached: the client's connection is closed.
        let Ok(server) = TcpStream::connect(upstream) else {
            return;
        };
        Some(server)
    };
    let conn = Arc::new(Conn {
        number: shared.open(),
        shared: shared.clone(),
        // The greeting is the server's: the client's first words are its first turn.
        speaker: Mutex::new(Speaker {
            server_spoke: true,
            turns: 0,
        }),
    });
    match server {
        Some(server) => {
            conn.record(format_args!("open"));
            let turns = relay(client, server, &conn);
            conn.record(format_args!("closed {turns}"));
        }
        None => hold(client, &conn),
    }
    shared.counts.closed.fetch_add(1, Ordering::SeqCst);
}

/// One connection: its number and turn counter, shared by its two directions.
struct Conn {
    number: u64,
    shared: Arc<Shared>,
    speaker: Mutex<Speaker>,
}

/// Who spoke last on one connection, and its client turns so far: the turn counter's state.
struct Speaker {
    server_spoke: bool,
    turns: u64,
}

impl Conn {
    /// Accounts for `chunk`, just read from `side`; returns the client turn it belongs to or
    /// answers.
    fn read(&self, side: Side, chunk: &[u8]) -> u64 {
        let counts = &self.shared.counts;
        let len = chunk.len() as u64;
        let mut speaker = self.speaker.lock().unwrap();
        match side {
            Side::Client => {
                counts.client_bytes.fetch_add(len, Ordering::SeqCst);
                if let Some(sent) = &self.shared.sent {
                    let at = usize::try_from(self.number - 1).expect("a connection's number");
                    sent.lock().unwrap()[at].extend_from_slice(chunk);
                }
                if speaker.server_spoke {
                    counts.turns.fetch_add(1, Ordering::SeqCst);
                    speaker.server_spoke = false;
                    speaker.turns += 1;
                }
            }
            Side::Server => {
                counts.server_bytes.fetch_add(len, Ordering::SeqCst);
                speaker.server_spoke = true;
            }
        }
        speaker.turns
    }

    /// Writes `chunk`, read from `side` and of client turn `turn`, to `to` and logs it; false
    /// when `to` is gone.
    fn forward(&self, to: &mut TcpStream, side: Side, turn: u64, chunk: &[u8]) -> bool {
        if to.write_all(chunk).is_err() {
            return false;
        }
        if let Some(log) = &self.shared.events {
            log.chunk(self.number, side, turn, chunk);
        }
        true
    }

    /// Logs `what` for this connection, when there is an event log.
    fn record(&self, what: std::fmt::Arguments) {
        if let Some(log) = &self.shared.events {
            log.record(self.number, what);
        }
    }
}

/// Holds a connection taken on while silent: reads (and accounts for) what the client sends,
/// answers nothing, until the client closes it.
fn hold(mut client: TcpStream, conn: &Conn) {
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n @ 1..) = client.read(&mut buf) {
        conn.read(Side::Client, &buf[..n]);
    }
}

/// Forwards both directions of one connection until both are closed; returns its client turns.
fn relay(client: TcpStream, server: TcpStream, conn: &Arc<Conn>) -> u64 {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
        return 0;
    };
    let up = {
        let conn = conn.clone();
        thread::spawn(move || pipe(client, server, Side::Client, &conn))
    };
    pipe(s2, c2, Side::Server, conn);
    let _ = up.join();
    conn.speaker.lock().map_or(0, |s| s.turns)
}

/// Copies what `side` sends from `from` to `to` (see the module documentation for when), until
/// `from` ends or `to` is gone; then shuts down the write side of `to`, once everything read
/// is written.
fn pipe(mut from: TcpStream, to: TcpStream, side: Side, conn: &Arc<Conn>) {
    let mut out = Out::new(to, side, conn);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if side == Side::Server {
            // Linux leaves quick-ACK mode by itself: set it before every read.
            let _ = rustix::net::sockopt::set_tcp_quickack(&from, true);
        }
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let turn = conn.read(side, &buf[..n]);
        if !out.send(turn, &buf[..n]) {
            break;
        }
    }
    out.finish();
}

/// Where one direction's chunks go: written at once, or with a delay, by a thread that writes
/// each when it is due.
enum Out {
    Now {
        to: TcpStream,
        side: Side,
        conn: Arc<Conn>,
    },
    Later {
        due: mpsc::Sender<(Instant, u64, Vec<u8>)>,
        delay: Duration,
        writer: thread::JoinHandle<TcpStream>,
    },
}

impl Out {
    fn new(to: TcpStream, side: Side, conn: &Arc<Conn>) -> Out {
        let (delay, conn) = (conn.shared.delay, conn.clone());
        if delay.is_zero() {
            return Out::Now { to, side, conn };
        }
        let (due, chunks) = mpsc::channel::<(Instant, u64, Vec<u8>)>();
        let writer = thread::spawn(move || {
            let mut to = to;
            for (due, turn, chunk) in chunks {
                let now = Instant::now();
                if due > now {
                    thread::sleep(due - now);
                }
                if !conn.forward(&mut to, side, turn, &chunk) {
                    break;
                }
            }
            to
        });
        Out::Later { due, delay, writer }
    }

    /// Passes on `chunk`, of client turn `turn`, just read; false when it can no longer be.
    fn send(&mut self, turn: u64, chunk: &[u8]) -> bool {
        match self {
            Out::Now { to, side, conn } => conn.forward(to, *side, turn, chunk),
            Out::Later { due, delay, .. } => due
                .send((Instant::now() + *delay, turn, chunk.to_vec()))
                .is_ok(),
        }
    }

    /// Writes what is still due, then shuts down the write side.
    fn finish(self) {
        let to = match self {
            Out::Now { to, .. } => Some(to),
            Out::Later { due, writer, .. } => {
                drop(due);
                writer.join().ok()
            }
        };
        if let Some(to) = to {
            let _ = to.shutdown(Shutdown::Write);
        }
    }
}

/// Where the proxy records connections and forwarded chunks, one line each (the format is in
/// the module documentation). Writing is best effort: a failed write loses that line and
/// nothing else.
pub struct EventLog {
    out: Mutex<Box<dyn Write + Send>>,
}

impl EventLog {
    /// The most bytes of a chunk's first line that a line shows.
    pub const TEXT_MAX: usize = 120;

    /// Records into `out`, each line written whole and flushed.
    pub fn new(out: impl Write + Send + 'static) -> EventLog {
        EventLog {
            out: Mutex::new(Box::new(out)),
        }
    }

    /// Writes `UNIX_NANOS CONN what`.
    fn record(&self, conn: u64, what: std::fmt::Arguments) {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let line = format!("{nanos} {conn} {what}\n");
        if let Ok(mut out) = self.out.lock() {
            let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
        }
    }

    /// Records a chunk forwarded from `from` that belongs to (or answers) client turn `turn`.
    fn chunk(&self, conn: u64, from: Side, turn: u64, chunk: &[u8]) {
        let line = chunk.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = &line[..line.len().min(Self::TEXT_MAX)];
        let text = match std::str::from_utf8(line) {
            Ok(t) if !t.is_empty() && t.bytes().all(|b| (b' '..=b'~').contains(&b)) => t,
            _ => "-",
        };
        let from = match from {
            Side::Client => "client",
            Side::Server => "server",
        };
        self.record(conn, format_args!("{from} {turn} {} {text}", chunk.len()));
    }
}

/// The side a chunk came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};

    /// An event log's output, shared with the test.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A server that greets, answers each chunk with the next of `replies`, then closes.
    fn server(replies: &'static [&'static [u8]]) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(b"220 greeting\r\n").unwrap();
            let mut buf = [0u8; 512];
            for reply in replies {
                let _ = s.read(&mut buf).unwrap();
                s.write_all(reply).unwrap();
            }
        });
        addr
    }

    /// A server that greets every connection, then echoes what it reads until the client stops
    /// sending, then closes; and how many connections it has had.
    fn echo() -> (SocketAddr, Arc<AtomicU64>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicU64::new(0));
        let count = accepted.clone();
        thread::spawn(move || {
            for s in listener.incoming() {
                let mut s = s.unwrap();
                count.fetch_add(1, Ordering::SeqCst);
                thread::spawn(move || {
                    s.write_all(b"220 greeting\r\n").unwrap();
                    let mut buf = [0u8; 512];
                    while let Ok(n @ 1..) = s.read(&mut buf) {
                        s.write_all(&buf[..n]).unwrap();
                    }
                });
            }
        });
        (addr, accepted)
    }

    /// Waits until the proxy has seen `n` connections end.
    fn wait_closed(proxy: &Proxy, n: u64) {
        let started = Instant::now();
        while proxy.counts().closed.load(Ordering::SeqCst) < n {
            assert!(started.elapsed() < Duration::from_secs(5), "never closed");
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Connects through `proxy`, reads the greeting, sends `words` and reads them back, then
    /// stops sending: returns what came back after the greeting once the server closed.
    fn say(proxy: &Proxy, words: &[u8]) -> Vec<u8> {
        let mut client = TcpStream::connect(proxy.addr()).unwrap();
        let mut greeting = [0u8; 14];
        client.read_exact(&mut greeting).unwrap();
        assert_eq!(&greeting, b"220 greeting\r\n");
        client.write_all(words).unwrap();
        let mut echoed = vec![0u8; words.len()];
        client.read_exact(&mut echoed).unwrap();
        // The half-close goes through: the server sees the end and closes, and so the proxy.
        client.shutdown(Shutdown::Write).unwrap();
        client.read_to_end(&mut echoed).unwrap();
        echoed
    }

    #[test]
    fn a_recording_proxy_keeps_what_each_client_sent() {
        let (upstream, _) = echo();
        let options = Options {
            record: true,
            ..Options::default()
        };
        let proxy = Proxy::start("127.0.0.1:0", upstream, options).unwrap();
        assert_eq!(say(&proxy, b"EHLO one\r\n"), b"EHLO one\r\n");
        assert_eq!(
            say(&proxy, b"EHLO two\r\nQUIT\r\n"),
            b"EHLO two\r\nQUIT\r\n"
        );
        wait_closed(&proxy, 2);
        assert_eq!(
            proxy.sent(),
            [b"EHLO one\r\n".to_vec(), b"EHLO two\r\nQUIT\r\n".to_vec()]
        );
        assert_eq!(proxy.turns(), 2);
        assert_eq!(proxy.connections(), 2);
    }

    #[test]
    fn a_silent_proxy_holds_connections_without_a_word() {
        let (upstream, accepted) = echo();
        let options = Options {
            record: true,
            ..Options::default()
        };
        let proxy = Proxy::start("127.0.0.1:0", upstream, options).unwrap();
        proxy.set_silent(true);
        let mut held = TcpStream::connect(proxy.addr()).unwrap();
        held.write_all(b"EHLO held\r\n").unwrap();
        held.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut buf = [0u8; 64];
        let err = held
            .read(&mut buf)
            .expect_err("a silent proxy says nothing");
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            "{err}"
        );
        assert_eq!(accepted.load(Ordering::SeqCst), 0, "nothing was forwarded");

        // Speaking again: the next connection is forwarded, the held one stays silent.
        proxy.set_silent(false);
        assert_eq!(say(&proxy, b"EHLO after\r\n"), b"EHLO after\r\n");
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        assert!(
            held.read(&mut buf).is_err(),
            "the held connection stays silent"
        );
        drop(held);
        wait_closed(&proxy, 2);
        assert_eq!(
            proxy.sent(),
            [b"EHLO held\r\n".to_vec(), b"EHLO after\r\n".to_vec()]
        );
    }

    #[test]
    fn the_event_log_has_each_chunk_with_its_turn_and_the_connection_totals() {
        let upstream = server(&[b"250 ok\r\n", b"\x17\x03\x03\x00\x01\x00"]);
        let out = Shared::default();
        let events = EventLog::new(out.clone());
        // 5 ms each way keeps the lines in the order the chunks were forwarded.
        let delay = Duration::from_millis(5);
        let options = Options {
            delay,
            events: Some(events),
            ..Options::default()
        };
        let proxy = Proxy::start("127.0.0.1:0", upstream, options).unwrap();
        let client = TcpStream::connect(proxy.addr()).unwrap();
        let mut lines = BufReader::new(client.try_clone().unwrap());
        let mut line = String::new();
        lines.read_line(&mut line).unwrap();
        (&client).write_all(b"EHLO a\r\nMAIL FROM:<>\r\n").unwrap();
        line.clear();
        lines.read_line(&mut line).unwrap();
        (&client).write_all(b"\x16\x03\x01\x00\x01\x01").unwrap();
        let mut rest = Vec::new();
        lines.read_to_end(&mut rest).unwrap();
        drop((lines, client));
        wait_closed(&proxy, 1);

        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let mut stamps = Vec::new();
        let events: Vec<String> = text
            .lines()
            .map(|l| {
                let (nanos, rest) = l.split_once(' ').unwrap();
                stamps.push(nanos.parse::<u128>().unwrap());
                rest.to_string()
            })
            .collect();
        assert_eq!(
            events,
            [
                "1 open",
                "1 server 0 14 220 greeting",
                "1 client 1 22 EHLO a",
                "1 server 1 8 250 ok",
                "1 client 2 6 -",
                "1 server 2 6 -",
                "1 closed 2",
            ]
        );
        assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "{text}");
        assert_eq!(proxy.turns(), 2);
    }
}
