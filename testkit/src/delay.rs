//! A TCP proxy that puts a fixed delay on each direction and counts the client's turns: a relay
//! at a real network distance, on loopback, for the benchmarks (the `delay-proxy` binary) and
//! for the test that keeps the number of round trips of a submission from growing.
//!
//! Each chunk read from one side is written to the other `delay` after it was read, in order,
//! so pipelined data stays pipelined and only latency is added (no bandwidth limit, no
//! reordering). A *turn* is the client speaking after the server has spoken: the greeting, then
//! every time the client sends after a reply. A client that pipelines several commands, or
//! sends its TLS Finished together with the next command, uses one turn for them.
//!
//! The machines this runs on have no `sch_netem`, which would otherwise do the delaying.
//!
//! The proxy acknowledges what the relay sends at once (`TCP_QUICKACK` before every read): a
//! relay with Nagle's algorithm on holds a small reply until its previous segment is
//! acknowledged, and a delayed ACK from the proxy would add 40 ms stalls that belong to no
//! client. So the figures measured through it are round trips and work, for every client alike.
//!
//! Optionally ([`DelayProxy::start_with_events`]) it writes an [`EventLog`]: one line per chunk
//! as it is forwarded (after its delay), so that a benchmark can tell when a reply reached the
//! client, and which turn of which connection it answered. Each line is written whole and
//! flushed at once, and starts with the Unix time in nanoseconds and the connection's number
//! (from 1, in the order the connections to the server were made):
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
//! TLS is up every chunk is `-`, and the replies are told apart by their turn.

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
    /// Connections accepted, and those finished (both directions closed).
    pub connections: AtomicU64,
    pub closed: AtomicU64,
    /// Client turns (see the module documentation).
    pub turns: AtomicU64,
    /// Bytes from clients and from the server.
    pub client_bytes: AtomicU64,
    pub server_bytes: AtomicU64,
}

/// A running proxy; it stops accepting when dropped (connections in progress finish).
pub struct DelayProxy {
    addr: SocketAddr,
    counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
}

impl DelayProxy {
    /// Listens on `listen` (port 0: any free port) and forwards every connection to `upstream`
    /// with `delay` added in each direction.
    pub fn start(listen: &str, upstream: SocketAddr, delay: Duration) -> io::Result<DelayProxy> {
        DelayProxy::start_with_events(listen, upstream, delay, None)
    }

    /// [`DelayProxy::start`], recording every connection and forwarded chunk in `events` when
    /// given (see the module documentation for the lines).
    pub fn start_with_events(
        listen: &str,
        upstream: SocketAddr,
        delay: Duration,
        events: Option<EventLog>,
    ) -> io::Result<DelayProxy> {
        let listener = TcpListener::bind(listen)?;
        let addr = listener.local_addr()?;
        let counts = Arc::new(Counts::default());
        let stop = Arc::new(AtomicBool::new(false));
        let events = events.map(Arc::new);
        let (c, s) = (counts.clone(), stop.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let (counts, events) = (c.clone(), events.clone());
                thread::spawn(move || {
                    if let Ok(server) = TcpStream::connect(upstream) {
                        let conn = counts.connections.fetch_add(1, Ordering::SeqCst) + 1;
                        let log = events.map(|log| ConnLog { log, conn });
                        if let Some(l) = &log {
                            l.log.record(conn, format_args!("open"));
                        }
                        let turns = relay(client, server, delay, &counts, log.as_ref());
                        if let Some(l) = &log {
                            l.log.record(conn, format_args!("closed {turns}"));
                        }
                        counts.closed.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        Ok(DelayProxy { addr, counts, stop })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The counts so far.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// Client turns so far.
    pub fn turns(&self) -> u64 {
        self.counts.turns.load(Ordering::SeqCst)
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
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

/// One connection's view of the event log.
struct ConnLog {
    log: Arc<EventLog>,
    conn: u64,
}

/// The side a chunk came from.
#[derive(Clone, Copy)]
enum Side {
    Client,
    Server,
}

/// Who spoke last on one connection, and its client turns so far: the turn counter's state.
struct Speaker {
    server_spoke: bool,
    turns: u64,
}

/// Forwards both directions of one connection until both are closed; returns its client turns.
fn relay(
    client: TcpStream,
    server: TcpStream,
    delay: Duration,
    counts: &Arc<Counts>,
    log: Option<&ConnLog>,
) -> u64 {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    // The greeting is the server's: the client's first words are its first turn.
    let speaker = Arc::new(Mutex::new(Speaker {
        server_spoke: true,
        turns: 0,
    }));
    let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
        return 0;
    };
    let seen = |side| {
        log.map(|l| {
            let (log, conn) = (l.log.clone(), l.conn);
            move |turn, chunk: &[u8]| log.chunk(conn, side, turn, chunk)
        })
    };
    let up = {
        let (speaker, counts, forwarded) = (speaker.clone(), counts.clone(), seen(Side::Client));
        thread::spawn(move || {
            let read = |n| {
                counts.client_bytes.fetch_add(n, Ordering::SeqCst);
                let mut s = speaker.lock().unwrap();
                if s.server_spoke {
                    counts.turns.fetch_add(1, Ordering::SeqCst);
                    s.server_spoke = false;
                    s.turns += 1;
                }
                s.turns
            };
            pipe(client, server, delay, false, read, forwarded)
        })
    };
    let read = |n| {
        counts.server_bytes.fetch_add(n, Ordering::SeqCst);
        let mut s = speaker.lock().unwrap();
        s.server_spoke = true;
        s.turns
    };
    pipe(s2, c2, delay, true, read, seen(Side::Server));
    let _ = up.join();
    speaker.lock().map_or(0, |s| s.turns)
}

/// Copies `from` to `to`, each chunk `delay` after it was read. `read` is told the size of each
/// chunk as it is read and returns the client turn it belongs to or answers; `forwarded` is told
/// of each chunk, with that turn, once it is written. With `quickack`, what `from` sends is
/// acknowledged at once. The write side is shut down once `from` ends and everything is written.
fn pipe(
    mut from: TcpStream,
    to: TcpStream,
    delay: Duration,
    quickack: bool,
    mut read: impl FnMut(u64) -> u64,
    forwarded: Option<impl Fn(u64, &[u8]) + Send + 'static>,
) {
    let (tx, rx) = mpsc::channel::<(Instant, u64, Vec<u8>)>();
    let writer = thread::spawn(move || {
        let mut to = to;
        for (due, turn, chunk) in rx {
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
            if to.write_all(&chunk).is_err() {
                break;
            }
            if let Some(f) = &forwarded {
                f(turn, &chunk);
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if quickack {
            // Linux leaves quick-ACK mode by itself: set it before every read.
            let _ = rustix::net::sockopt::set_tcp_quickack(&from, true);
        }
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let turn = read(n as u64);
                if tx
                    .send((Instant::now() + delay, turn, buf[..n].to_vec()))
                    .is_err()
                {
                    break;
                }
            }
        }
    }
    drop(tx);
    let _ = writer.join();
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

    #[test]
    fn the_event_log_has_each_chunk_with_its_turn_and_the_connection_totals() {
        let upstream = server(&[b"250 ok\r\n", b"\x17\x03\x03\x00\x01\x00"]);
        let out = Shared::default();
        let events = EventLog::new(out.clone());
        // 5 ms each way keeps the lines in the order the chunks were forwarded.
        let delay = Duration::from_millis(5);
        let proxy =
            DelayProxy::start_with_events("127.0.0.1:0", upstream, delay, Some(events)).unwrap();
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
        let started = Instant::now();
        while proxy.counts().closed.load(Ordering::SeqCst) == 0 {
            assert!(started.elapsed() < Duration::from_secs(5), "never closed");
            thread::sleep(Duration::from_millis(5));
        }

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
