//! A TCP proxy that puts a fixed delay on each direction and counts the client's turns: a relay
//! at a real network distance, on loopback, for the benchmarks (bench/delay-proxy) and for the
//! test that keeps the number of round trips of a submission from growing.
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

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

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
        let listener = TcpListener::bind(listen)?;
        let addr = listener.local_addr()?;
        let counts = Arc::new(Counts::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (counts.clone(), stop.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let counts = c.clone();
                thread::spawn(move || {
                    if let Ok(server) = TcpStream::connect(upstream) {
                        counts.connections.fetch_add(1, Ordering::SeqCst);
                        relay(client, server, delay, &counts);
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

/// Who spoke last on one connection: the turn counter's state.
struct Speaker {
    server_spoke: bool,
}

/// Forwards both directions of one connection until both are closed.
fn relay(client: TcpStream, server: TcpStream, delay: Duration, counts: &Arc<Counts>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    // The greeting is the server's: the client's first words are its first turn.
    let speaker = Arc::new(Mutex::new(Speaker { server_spoke: true }));
    let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up = {
        let (speaker, counts) = (speaker.clone(), counts.clone());
        thread::spawn(move || {
            pipe(client, server, delay, false, |n| {
                counts.client_bytes.fetch_add(n, Ordering::SeqCst);
                let mut s = speaker.lock().unwrap();
                if s.server_spoke {
                    counts.turns.fetch_add(1, Ordering::SeqCst);
                    s.server_spoke = false;
                }
            })
        })
    };
    let counts = counts.clone();
    pipe(s2, c2, delay, true, |n| {
        counts.server_bytes.fetch_add(n, Ordering::SeqCst);
        speaker.lock().unwrap().server_spoke = true;
    });
    let _ = up.join();
}

/// Copies `from` to `to`, each chunk `delay` after it was read; `seen` is told of each chunk
/// as it is read. With `quickack`, what `from` sends is acknowledged at once. The write side
/// is shut down once `from` ends and everything is written.
fn pipe(
    mut from: TcpStream,
    to: TcpStream,
    delay: Duration,
    quickack: bool,
    mut seen: impl FnMut(u64),
) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let writer = thread::spawn(move || {
        let mut to = to;
        for (due, chunk) in rx {
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
            if to.write_all(&chunk).is_err() {
                break;
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
                seen(n as u64);
                if tx
                    .send((Instant::now() + delay, buf[..n].to_vec()))
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
