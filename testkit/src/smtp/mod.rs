//! A scripted SMTP server on 127.0.0.1, one thread per connection, for every test that needs a
//! relay it can steer: the fault injection of the queue tests, the OAuth2 relay, the capture
//! server behind Postfix and the unit tests of relayctl's SMTP client.
//!
//! Each connection follows a [`Script`]: at each stage of the dialogue (greeting, EHLO,
//! STARTTLS, MAIL, RCPT, DATA, the final dot) it answers normally ([`Act::Accept`]), sends a
//! reply of the test's choosing, stays silent or closes the connection; a stage can act
//! differently the first, second, ... time it comes ([`Acts`]). The script also says which
//! extensions the server offers, whether it speaks TLS (implicit or STARTTLS, with a
//! certificate the test provides) and which logins it takes.
//!
//! The server records what it saw ([`Server::commands`], [`Server::messages`],
//! [`Server::auths`], [`Server::violations`]), and tests assert on that after the client is done:
//! every record is made before the server answers, so whatever a client saw answered is there.

mod sasl;
mod scram;
mod session;
#[cfg(test)]
mod tests;
mod wire;

use std::net::TcpListener;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use wire::{Stream, Wire};

/// What the server does at one stage of the dialogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    /// The stage's normal answer (a 2xx or 3xx reply; for STARTTLS, the TLS handshake), or the
    /// reply a real server gives to a command out of sequence (`503 5.5.1 Need MAIL command`).
    Accept,
    /// Sends this reply (its lines separated by CRLF, without the final CRLF) as written.
    Reply(String),
    /// Never answers: reads and discards whatever comes until the client goes away.
    Silence,
    /// Closes the connection without a word.
    Close,
}

/// A reply.
pub fn reply(text: &str) -> Act {
    Act::Reply(text.to_string())
}

/// The acts of one stage, in order: the nth time the stage comes on a connection takes the nth
/// act, and once they are used up the last one stays. A single act applies every time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acts(Vec<Act>);

impl Acts {
    fn nth(&self, n: usize) -> &Act {
        self.0.get(n).or(self.0.last()).unwrap_or(&Act::Accept)
    }
}

/// Acts in the order the stage meets them.
pub fn acts(list: impl IntoIterator<Item = Act>) -> Acts {
    Acts(list.into_iter().collect())
}

impl From<Act> for Acts {
    fn from(act: Act) -> Acts {
        Acts(vec![act])
    }
}

impl Default for Acts {
    fn default() -> Acts {
        Act::Accept.into()
    }
}

/// How the server speaks TLS.
#[derive(Debug, Clone)]
pub enum Tls {
    /// Not at all: STARTTLS is neither offered nor taken.
    None,
    /// From the first byte (port 465 style).
    Implicit(Arc<rustls::ServerConfig>),
    /// STARTTLS offered; accepted, it is followed by the handshake. Once TLS is on, a new
    /// EHLO is needed.
    Starttls(Arc<rustls::ServerConfig>),
    /// STARTTLS offered; accepted, it is followed by bytes that are no TLS handshake, and the
    /// server closes the connection.
    BrokenStarttls,
}

/// What the server does partway through a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MidData {
    /// Closes the connection after the first line of the message.
    Close,
    /// Stops reading for `pause` once `after` octets of the message are in (a relay slow to
    /// take it), then goes on; [`Received::stalled_until`] says when it went on.
    Stall { after: usize, pause: Duration },
}

/// Decides a login: the user and the secret (password or token) it came with.
pub type Check = Arc<dyn Fn(&str, &str) -> bool + Send + Sync>;

/// The logins a server takes: AUTH PLAIN, LOGIN, XOAUTH2, OAUTHBEARER, SCRAM-SHA-1 and
/// SCRAM-SHA-256 (with `-PLUS`, bound by `tls-exporter`), and EXTERNAL (an empty authorization
/// identity; the check gets an empty user and secret). `-PLUS` binds with `tls-exporter`, or
/// with `tls-server-end-point` when the test gives the server certificate's hash
/// ([`Auth::scram_end_point`]). Over a script with TLS,
/// AUTH is offered and taken only once TLS is on (as Postfix's `smtpd_tls_auth_only`); MAIL
/// needs a login first.
#[derive(Clone)]
pub struct Auth {
    /// The mechanisms offered, in order (one the server does not know can be offered, and a
    /// client trying it is a violation).
    pub mechanisms: Vec<String>,
    pub check: Check,
    /// The reply to an accepted login.
    pub accepted: String,
    /// The reply to a refused login.
    pub refused: String,
    /// The JSON of the error challenge before a refused OAuth2 login (RFC 7628 §3.2.2), which
    /// the client must answer with a dummy response before it gets `refused`.
    pub oauth_error: String,
    /// After a well-formed response, challenge once more (`334 `), which no mechanism expects:
    /// a client that cancels with `*` gets `501`; any other answer is a violation.
    pub extra_challenge: bool,
    /// The password SCRAM logins are checked against (any user; the check then gets it as the
    /// secret); without one, a SCRAM login is a violation.
    pub scram_password: Option<String>,
    /// The `tls-server-end-point` binding of the server's certificate (RFC 5929: its hash), for
    /// SCRAM -PLUS over TLS 1.2; without it, only `tls-exporter` is taken.
    pub scram_end_point: Option<Vec<u8>>,
    /// The iteration count the SCRAM server announces.
    pub scram_iterations: u32,
    /// Sends a wrong SCRAM server signature after a right proof (a relay that does not know
    /// the password, or a man in the middle): the client must cancel, not take the 235.
    pub forge_server_signature: bool,
    /// Answers a right SCRAM proof with 235 at once, without the server signature: the client
    /// must not take that as a login.
    pub skip_server_final: bool,
}

impl Auth {
    /// `mechanisms`, with logins decided by `check(user, secret)`.
    pub fn new(
        mechanisms: &[&str],
        check: impl Fn(&str, &str) -> bool + Send + Sync + 'static,
    ) -> Auth {
        Auth {
            mechanisms: mechanisms.iter().map(|m| m.to_string()).collect(),
            check: Arc::new(check),
            accepted: "235 2.7.0 Accepted".into(),
            refused: "535 5.7.8 Username and Password not accepted".into(),
            oauth_error: r#"{"status":"401","schemes":"bearer"}"#.into(),
            extra_challenge: false,
            scram_password: None,
            scram_end_point: None,
            scram_iterations: 4096,
            forge_server_signature: false,
            skip_server_final: false,
        }
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("mechanisms", &self.mechanisms)
            .field("accepted", &self.accepted)
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}

/// How the server behaves on one connection. Each connection takes a copy of the script when
/// it starts, so a script changed between connections applies to the next one.
#[derive(Debug, Clone)]
pub struct Script {
    /// The name in the greeting and the EHLO reply.
    pub name: String,
    pub tls: Tls,
    /// Accept: `220 NAME ESMTP`.
    pub greeting: Act,
    /// Accept: 250 with the name and the extensions below.
    pub ehlo: Acts,
    /// Accept: what [`Tls`] says; without TLS, 502.
    pub starttls: Acts,
    pub auth: Option<Auth>,
    /// Accept: 250, unless the client has not said EHLO or HELO, has not logged in where
    /// [`Script::auth`] asks for it, or is in a transaction already.
    pub mail: Acts,
    /// Acts for MAIL FROM lines containing a text, instead of `mail` (first match wins).
    pub mail_when: Vec<(String, Act)>,
    /// The acts of the first, second, ... RCPT TO of each transaction; RCPTs beyond the list
    /// are accepted. Accept: 250 after a MAIL FROM.
    pub rcpt: Vec<Acts>,
    /// Accept: 354 once a recipient was accepted.
    pub data: Acts,
    pub mid_data: Option<MidData>,
    /// The reply after the message's final dot (or BDAT LAST). Accept: 250.
    pub final_dot: Acts,
    pub eightbitmime: bool,
    /// DSN (RFC 3461).
    pub dsn: bool,
    /// PIPELINING (RFC 2920).
    pub pipelining: bool,
    /// CHUNKING (RFC 3030): BDAT is taken.
    pub chunking: bool,
    pub smtputf8: bool,
    pub enhanced_status_codes: bool,
    /// The SIZE the server announces (RFC 1870), if any.
    pub size: Option<u64>,
    /// How long the server waits for the client to send or to take what it sends; a forgotten
    /// connection ends on its own.
    pub timeout: Duration,
}

impl Default for Script {
    /// A plain-text server that accepts everything and offers 8BITMIME and SIZE.
    fn default() -> Self {
        Script {
            name: "fault.test".into(),
            tls: Tls::None,
            greeting: Act::Accept,
            ehlo: Acts::default(),
            starttls: Acts::default(),
            auth: None,
            mail: Acts::default(),
            mail_when: Vec::new(),
            rcpt: Vec::new(),
            data: Acts::default(),
            mid_data: None,
            final_dot: Acts::default(),
            eightbitmime: true,
            dsn: false,
            pipelining: false,
            chunking: false,
            smtputf8: false,
            enhanced_status_codes: false,
            size: Some(50_000_000),
            timeout: Duration::from_secs(60),
        }
    }
}

/// One command line the server read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The line without its line ending; AUTH's initial response is shown as `<payload>`.
    pub line: String,
    /// The read of the connection that completed it, counted from 1: commands with the same
    /// number came in one read (one write of the client's).
    pub read: usize,
    /// Whether more had arrived after it before the server answered it (the client did not
    /// wait for the answer).
    pub pipelined: bool,
}

/// One well-formed AUTH exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthAttempt {
    pub mechanism: String,
    /// The login name (OAUTHBEARER: the authzid, empty if none).
    pub user: String,
    /// The password or the token.
    pub secret: String,
    pub accepted: bool,
}

/// One message the server received up to its end (the final dot, or BDAT LAST).
#[derive(Debug, Clone)]
pub struct Received {
    /// What followed `MAIL FROM:` (`<a@example.org> SIZE=120`).
    pub mail_from: String,
    /// What followed `RCPT TO:` for each recipient accepted in the transaction.
    pub rcpt_to: Vec<String>,
    /// The message, dot-unstuffed, with the line endings it came with.
    pub data: Vec<u8>,
    /// The octets as the client sent them after the 354, up to and with the final `.` line.
    pub raw: Vec<u8>,
    /// How many reads the message took.
    pub reads: usize,
    /// When a [`MidData::Stall`] ended.
    pub stalled_until: Option<Instant>,
    /// The answer to its end (`None`: silence or close).
    pub reply: Option<String>,
}

impl Received {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }

    /// The body: everything after the first empty line.
    pub fn body(&self) -> &[u8] {
        let pos = self
            .data
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a header/body separator");
        &self.data[pos + 4..]
    }
}

/// What the server saw, over all connections.
#[derive(Debug, Default)]
struct Log {
    connections: usize,
    /// The address of each client, in the order they connected.
    peers: Vec<std::net::SocketAddr>,
    commands: Vec<Command>,
    messages: Vec<Received>,
    auths: Vec<AuthAttempt>,
    violations: Vec<String>,
}

/// Draws the script of each new connection.
type Chooser = Box<dyn FnMut() -> Script + Send>;

struct Shared {
    script: Mutex<Script>,
    chooser: Mutex<Option<Chooser>>,
    log: Mutex<Log>,
    /// Notified at each message received.
    arrived: Condvar,
}

impl Shared {
    fn log(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap()
    }
}

/// The scripted server, on 127.0.0.1 (or another address, [`Server::start_at`]); its threads live as long as the test process.
pub struct Server {
    pub port: u16,
    shared: Arc<Shared>,
}

impl Server {
    /// The server on a free port.
    pub fn start(script: Script) -> Server {
        Server::start_on(0, script).expect("the SMTP test server cannot listen")
    }

    /// The server on `port` (0: a free one), for peers configured in advance.
    pub fn start_on(port: u16, script: Script) -> std::io::Result<Server> {
        Server::start_at(([127, 0, 0, 1], port).into(), script)
    }

    /// The server on `address` (port 0: a free one): `[::1]` for IPv6.
    pub fn start_at(address: std::net::SocketAddr, script: Script) -> std::io::Result<Server> {
        let listener = TcpListener::bind(address)?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            script: Mutex::new(script),
            chooser: Mutex::new(None),
            log: Mutex::new(Log::default()),
            arrived: Condvar::new(),
        });
        let server = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let script = match server.chooser.lock().unwrap().as_mut() {
                    Some(choose) => choose(),
                    None => server.script.lock().unwrap().clone(),
                };
                if let Ok(peer) = stream.peer_addr() {
                    server.log().peers.push(peer);
                }
                let shared = server.clone();
                std::thread::spawn(move || {
                    let _ = session::serve(&shared, stream, &script);
                });
            }
        });
        Ok(Server { port, shared })
    }

    /// Changes the script for the connections that follow (and ends [`Server::choose`]).
    pub fn set(&self, script: Script) {
        *self.shared.chooser.lock().unwrap() = None;
        *self.shared.script.lock().unwrap() = script;
    }

    /// Draws the script of each connection that follows from `chooser`.
    pub fn choose(&self, chooser: impl FnMut() -> Script + Send + 'static) {
        *self.shared.chooser.lock().unwrap() = Some(Box::new(chooser));
    }

    /// Every command line received so far, in order, over all connections (AUTH's initial
    /// response shown as `<payload>`; the answers to AUTH challenges and the messages are not
    /// commands).
    pub fn commands(&self) -> Vec<String> {
        self.shared
            .log()
            .commands
            .iter()
            .map(|c| c.line.clone())
            .collect()
    }

    /// The same with where each command came from.
    pub fn command_records(&self) -> Vec<Command> {
        self.shared.log().commands.clone()
    }

    /// How many command lines start with `prefix` (case-insensitive).
    pub fn count(&self, prefix: &str) -> usize {
        let prefix = prefix.to_ascii_uppercase();
        self.shared
            .log()
            .commands
            .iter()
            .filter(|c| c.line.to_ascii_uppercase().starts_with(&prefix))
            .count()
    }

    /// Every message received so far, in order.
    pub fn messages(&self) -> Vec<Received> {
        self.shared.log().messages.clone()
    }

    /// The first message for which `test` holds, waiting up to `timeout` for it to arrive.
    pub fn wait_for(
        &self,
        timeout: Duration,
        test: impl Fn(&Received) -> bool,
    ) -> Option<Received> {
        let deadline = Instant::now() + timeout;
        let mut log = self.shared.log();
        loop {
            if let Some(m) = log.messages.iter().find(|m| test(m)) {
                return Some(m.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            log = self.shared.arrived.wait_timeout(log, left).unwrap().0;
        }
    }

    /// The address of each client, in the order they connected.
    pub fn peers(&self) -> Vec<std::net::SocketAddr> {
        self.shared.log().peers.clone()
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.shared.log().connections
    }

    /// Every well-formed AUTH exchange, in order.
    pub fn auths(&self) -> Vec<AuthAttempt> {
        self.shared.log().auths.clone()
    }

    /// What clients did wrong, in order: bare LF line endings, commands pipelined after
    /// STARTTLS, malformed AUTH responses, mechanisms not offered, wrong answers to the OAuth2
    /// error challenge.
    pub fn violations(&self) -> Vec<String> {
        self.shared.log().violations.clone()
    }
}
