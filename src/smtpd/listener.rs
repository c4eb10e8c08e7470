//! `relayctl serve`: the SMTP listener's sockets, connections and their limits.
//!
//! Sockets come from socket activation (`LISTEN_FDS`, systemd's `relayctl-smtpd.socket`) or
//! are bound from `[server] listen`. Each connection is served on a thread of its own with a
//! small stack; at most `max_connections` at once, and `max_connections_per_client` from one
//! address (more are told `421` and closed). A client that talks before the greeting is
//! refused, as spamware does and mail clients do not. On SIGTERM the listener stops accepting,
//! finishes the messages in flight, tells idle clients `421`, and returns.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, BufReader, BufWriter, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, poll};

use super::backend::{ClientBackend, Shared};
use super::error::ServeError;
use super::stream::{Connection, Half, Timed};
use super::{End, Reply, Settings, serve};
use crate::config::{Listen, ServerSettings, canonical_ip};
use crate::log::ListenerLine;
use crate::message::submission::MAX_RECIPIENTS;

/// The stack of a connection's thread: the dialogue and TLS need little, and a thousand idle
/// connections must stay cheap.
const STACK: usize = 256 * 1024;

/// Open files kept for what is not a connection: the standard streams, the listening sockets,
/// the log, the users file, messages' spool and scratch files.
const SPARE_DESCRIPTORS: u64 = 32;

/// How long the accept loop rests when it cannot accept for want of descriptors or memory: the
/// connection stays in the backlog and the socket stays readable, so polling again at once
/// would spin.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// How long a client over `max_connections` waits for a place that is being given back
/// before it is told 421.
const ADMIT_GRACE: Duration = Duration::from_millis(20);

/// How many connections the listener can hold at once, at most `wanted`. The soft limit on
/// open files is raised to the hard one first, as a service is expected to: systemd starts
/// services with a soft limit of 1,024 (for select(2), which relayctl does not use). When even
/// the hard limit cannot hold `wanted` connections and [`SPARE_DESCRIPTORS`], fewer are served
/// and the log says why: a client over the limit is told 421 at once instead of waiting for a
/// descriptor.
pub fn connections_possible(wanted: usize) -> usize {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        // Refused only by a policy of the system's own; the limit below says what holds.
        let _ = setrlimit(Resource::Nofile, raised);
    }
    let Some(open_files) = getrlimit(Resource::Nofile).current else {
        return wanted;
    };
    let possible =
        usize::try_from(open_files.saturating_sub(SPARE_DESCRIPTORS)).unwrap_or(usize::MAX);
    if possible >= wanted {
        return wanted;
    }
    crate::messages::alert(&format!(
        "serving at most {possible} connections, not max_connections = {wanted}: the limit on \
         open files is {open_files} (raise LimitNOFILE= or ulimit -n)"
    ));
    possible
}

/// A listening socket and what it is configured as.
pub struct Socket {
    pub listener: TcpListener,
    pub listen: Listen,
}

/// The listening sockets: the ones passed by socket activation when there are any (an
/// `smtps://` entry of `listen` with the same address makes one implicit TLS), else those of
/// `listen`, bound now.
pub fn sockets(listen: &[Listen]) -> Result<Vec<Socket>, ServeError> {
    let mut passed = listenfd::ListenFd::from_env();
    if passed.len() > 0 {
        let mut sockets = Vec::new();
        for i in 0..passed.len() {
            let listener = passed
                .take_tcp_listener(i)
                .map_err(|e| ServeError::Activation(format!("descriptor {}: {e}", i + 3)))?
                .ok_or_else(|| {
                    ServeError::Activation(format!("descriptor {} is not a TCP socket", i + 3))
                })?;
            let address = listener
                .local_addr()
                .map_err(|e| ServeError::Activation(e.to_string()))?;
            let implicit_tls = listen
                .iter()
                .any(|l| l.implicit_tls && l.address.port() == address.port());
            sockets.push(Socket {
                listener,
                listen: Listen {
                    address,
                    implicit_tls,
                },
            });
        }
        return Ok(sockets);
    }
    listen
        .iter()
        .map(|l| {
            TcpListener::bind(l.address)
                .map(|listener| Socket {
                    listener,
                    listen: *l,
                })
                .map_err(|source| ServeError::Bind {
                    address: l.address,
                    source,
                })
        })
        .collect()
}

/// What the listener serves with.
pub struct Listener {
    pub shared: Arc<Shared>,
    pub settings: ServerSettings,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The name in the greeting.
    pub hostname: String,
    /// The SIZE announced.
    pub size_limit: u64,
    /// Set (by SIGTERM) to stop.
    pub stopping: Arc<AtomicBool>,
}

/// Connections being served, in all and per client address.
#[derive(Default)]
struct Count {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

struct Connections {
    count: Mutex<Count>,
    ended: Condvar,
}

impl Connections {
    /// Counts a new connection from `ip`; `Err` says which limit it is over.
    fn admit(&self, ip: IpAddr, settings: &ServerSettings) -> Result<(), &'static str> {
        let mut count = self.count.lock().unwrap_or_else(|e| e.into_inner());
        // A connection ending closes its socket a moment before it gives its place back; the
        // client its descriptor let in is not refused for that moment.
        let deadline = std::time::Instant::now() + ADMIT_GRACE;
        while count.total >= settings.max_connections {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err("4.7.0 Error: too many connections; try again later");
            }
            count = match self.ended.wait_timeout(count, left) {
                Ok((count, _)) => count,
                Err(e) => e.into_inner().0,
            };
        }
        let from_ip = count.per_client.entry(ip).or_default();
        if *from_ip >= settings.max_connections_per_client {
            return Err("4.7.0 Error: too many connections from your address");
        }
        *from_ip += 1;
        count.total += 1;
        Ok(())
    }

    fn release(&self, ip: IpAddr) {
        let mut count = self.count.lock().unwrap_or_else(|e| e.into_inner());
        count.total -= 1;
        if let Some(n) = count.per_client.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                count.per_client.remove(&ip);
            }
        }
        self.ended.notify_all();
    }

    /// Waits until every connection has ended.
    fn wait_all(&self) {
        let mut count = self.count.lock().unwrap_or_else(|e| e.into_inner());
        while count.total > 0 {
            count = self.ended.wait(count).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Listener {
    /// Accepts connections on `sockets` until [`Listener::stopping`] is set, then waits for
    /// the connections being served to end.
    pub fn run(self, sockets: Vec<Socket>) -> io::Result<()> {
        let listener = Arc::new(self);
        for socket in &sockets {
            socket.listener.set_nonblocking(true)?;
        }
        let connections = Arc::new(Connections {
            count: Mutex::new(Count::default()),
            ended: Condvar::new(),
        });
        while !listener.stopping.load(Ordering::Relaxed) {
            let mut fds: Vec<PollFd> = sockets
                .iter()
                .map(|s| PollFd::new(&s.listener, PollFlags::IN))
                .collect();
            let timeout = rustix::event::Timespec {
                tv_sec: 1,
                tv_nsec: 0,
            };
            match poll(&mut fds, Some(&timeout)) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
            let ready: Vec<bool> = fds.iter().map(|f| !f.revents().is_empty()).collect();
            drop(fds);
            let mut starved = false;
            for (socket, ready) in sockets.iter().zip(ready) {
                if !ready {
                    continue;
                }
                loop {
                    match socket.listener.accept() {
                        Ok((stream, peer)) => {
                            listener.start(stream, peer, socket.listen, &connections);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => {
                            // Out of descriptors or memory: the connection waits in the
                            // backlog until a connection ends. Any other error is the
                            // client's (gone before accept); the others are still served.
                            starved |= matches!(
                                rustix::io::Errno::from_io_error(&e),
                                Some(
                                    rustix::io::Errno::MFILE
                                        | rustix::io::Errno::NFILE
                                        | rustix::io::Errno::NOBUFS
                                        | rustix::io::Errno::NOMEM
                                )
                            );
                            break;
                        }
                    }
                }
            }
            if starved {
                std::thread::sleep(ACCEPT_PAUSE);
            }
        }
        drop(sockets);
        connections.wait_all();
        Ok(())
    }

    /// Serves one connection on a thread of its own, or refuses it when over a limit.
    fn start(
        self: &Arc<Self>,
        stream: TcpStream,
        peer: SocketAddr,
        listen: Listen,
        connections: &Arc<Connections>,
    ) {
        let ip = canonical_ip(peer.ip());
        let _ = stream.set_nonblocking(false);
        if let Err(reason) = connections.admit(ip, &self.settings) {
            refuse(stream, ip, Reply::new(421, reason));
            return;
        }
        let listener = Arc::clone(self);
        let done = Arc::clone(connections);
        let spawned = std::thread::Builder::new()
            .name("smtpd".into())
            .stack_size(STACK)
            .spawn(move || {
                listener.connection(stream, ip, listen);
                done.release(ip);
            });
        if spawned.is_err() {
            connections.release(ip);
        }
    }

    /// One client's dialogue, from the greeting (after TLS on an `smtps://` listener) to the
    /// end, through STARTTLS when it asks; one log line when it ends.
    fn connection(&self, stream: TcpStream, ip: IpAddr, listen: Listen) {
        let started = Instant::now();
        let pause = Duration::from_secs(self.settings.greet_pause.0);
        if !listen.implicit_tls && talks_first(&stream, pause) {
            refuse(
                stream,
                ip,
                Reply::new(554, "5.5.0 Error: talking before the greeting"),
            );
            return;
        }
        let idle = Arc::new(AtomicBool::new(false));
        let settings = &self.settings;
        let timed = match Timed::new(
            stream,
            Duration::from_secs(settings.timeout.0),
            Duration::from_secs(settings.session_timeout.0),
            Arc::clone(&self.stopping),
            Arc::clone(&idle),
        ) {
            Ok(timed) => timed,
            Err(_) => return,
        };
        let mut backend = ClientBackend::new(&self.shared, ip);
        let mut connection = Connection::Plain(timed);
        let mut outcome;
        let mut greet = true;
        if listen.implicit_tls {
            connection = match self.start_tls(connection) {
                Ok(c) => c,
                Err(e) => {
                    self.log_end(&backend, Err(e), started);
                    return;
                }
            };
        }
        loop {
            let dialogue = self.dialogue_settings(ip, connection.is_tls(), &idle);
            let shared = Rc::new(RefCell::new(connection));
            let mut input = BufReader::with_capacity(4096, Half(Rc::clone(&shared)));
            let mut output = BufWriter::with_capacity(4096, Half(Rc::clone(&shared)));
            outcome = serve(&mut input, &mut output, &dialogue, &mut backend, greet);
            if let Err(e) = &outcome {
                let reply = match e.kind() {
                    io::ErrorKind::TimedOut => Reply::new(421, "4.4.2 Error: timeout exceeded"),
                    _ => Reply::new(421, "4.3.0 Error: closing the connection"),
                };
                let _ = reply.write_to(&mut output).and_then(|()| output.flush());
            }
            drop((input, output));
            connection = match Rc::try_unwrap(shared) {
                Ok(cell) => cell.into_inner(),
                Err(_) => break,
            };
            if !matches!(outcome, Ok(End::StartTls)) {
                break;
            }
            // RFC 3207 section 4.2: everything known before TLS is forgotten, a login too.
            backend.forget_login();
            greet = false;
            connection = match self.start_tls(connection) {
                Ok(c) => c,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            };
        }
        self.log_end(&backend, outcome, started);
    }

    fn start_tls(&self, connection: Connection) -> io::Result<Connection> {
        match &self.tls {
            Some(config) => connection.start_tls(Arc::clone(config)),
            None => Err(io::Error::other("no certificate")),
        }
    }

    /// What the dialogue offers a client at `ip`: AUTH only under TLS or on loopback, STARTTLS
    /// while in the clear and a certificate is configured.
    fn dialogue_settings(&self, ip: IpAddr, tls: bool, idle: &Arc<AtomicBool>) -> Settings {
        let settings = &self.settings;
        Settings {
            hostname: self.hostname.clone(),
            size_limit: self.size_limit,
            max_recipients: MAX_RECIPIENTS,
            max_errors: settings.max_errors,
            max_commands: settings.max_commands,
            starttls: self.tls.is_some() && !tls,
            auth: tls || ip.is_loopback(),
            strict_pipelining: true,
            scratch: self.shared.scratch.clone(),
            idle: Some(Arc::clone(idle)),
        }
    }

    fn log_end(&self, backend: &ClientBackend<'_>, outcome: io::Result<End>, started: Instant) {
        let (accepted, text) = match outcome {
            Ok(End::Quit) => (true, "quit".to_string()),
            Ok(End::Closed) => (true, "client closed the connection".to_string()),
            Ok(End::StartTls) => (false, "TLS failed".to_string()),
            Ok(End::Dropped(why)) => (false, why.to_string()),
            Err(e) => (false, e.to_string()),
        };
        ListenerLine {
            event: "connection",
            client: backend.client().address,
            user: backend.client().user.clone(),
            receipt: None,
            code: None,
            accepted,
            counts: vec![
                ("messages", u128::from(backend.accepted)),
                ("refused", u128::from(backend.refused)),
                ("duration_ms", started.elapsed().as_millis()),
            ],
            text,
        }
        .emit();
    }
}

/// Whether the client sends something before the greeting, within `pause` (at once, with no
/// pause: what it sent together with the connection).
fn talks_first(stream: &TcpStream, pause: Duration) -> bool {
    let mut fds = [PollFd::new(stream, PollFlags::IN)];
    let wait = rustix::event::Timespec::try_from(pause).unwrap_or(rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    });
    matches!(poll(&mut fds, Some(&wait)), Ok(n) if n > 0)
}

/// Tells a client it is not served, and closes.
fn refuse(mut stream: TcpStream, ip: IpAddr, reply: Reply) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let _ = reply.write_to(&mut stream);
    let _ = rustix::net::shutdown(stream.as_fd(), rustix::net::Shutdown::Write);
    ListenerLine {
        event: "connection",
        client: ip,
        user: None,
        receipt: None,
        code: Some(reply.code),
        accepted: false,
        counts: Vec::new(),
        text: reply.text,
    }
    .emit();
}
