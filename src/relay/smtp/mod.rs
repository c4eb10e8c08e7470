//! relayctl's own blocking SMTP client: the client side of RFC 5321, with STARTTLS (RFC 3207),
//! AUTH (RFC 4954; the mechanisms are in [`super::sasl`]), PIPELINING (RFC 2920) and SIZE
//! (RFC 1870).
//!
//! Written for one job: hand a message to one relay. The socket has `TCP_NODELAY` set (the
//! dialogue is a series of small writes that must not wait for delayed ACKs), MAIL, RCPT and
//! DATA go out in one write when the relay offers PIPELINING, the message is streamed from a
//! [`Read`] in 64 KiB pieces with the terminating `.` in the same write as the
//! last piece, every EHLO keyword is kept, and each recipient gets its own reply.
//!
//! What the relay sends is text from a server relayctl does not control: reply lines reach the
//! observer and [`Reply`] with their control characters replaced ([`crate::printable`]).
//!
//! Every line sent and received is passed to an [`Observer`] (for `-v`), except credentials:
//! AUTH lines are shown as `AUTH PLAIN (credentials not shown)`, and every SASL response that
//! holds a secret (AUTH LOGIN's user name and password) by a placeholder. The client itself adds a few notes: the address
//! connected to, the TLS version and cipher suite, and the size of the message sent.
//!
//! Limits on what the relay sends: a reply line may be at most [`MAX_LINE`] octets (RFC 5321
//! allows 512 for reply lines; real servers exceed that, so twice the 1000-octet text line
//! limit is accepted), and a whole reply at most [`MAX_REPLY`] octets.

mod auth;
mod dial;
mod extensions;
pub mod pin;
mod proxy;
mod reply;
#[cfg(test)]
mod tests;
mod tls;
mod transaction;

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read, Write};
use std::mem;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dns_lookup::{AddrInfoHints, LookupErrorKind, getaddrinfo};
use rustls::pki_types::ServerName;

pub use dial::{Route, connect_any, is_local as is_local_address};
pub use extensions::Extensions;
pub use proxy::Proxy;
pub use reply::Reply;
pub use tls::{Trust, tls_config};

use super::sasl::{ChannelBinding, channel_binding};
use crate::printable;
use tls::Stream;

/// The longest reply line accepted, in octets, including its CRLF.
pub const MAX_LINE: usize = 2048;

/// The longest reply accepted (all its lines), in octets.
pub const MAX_REPLY: usize = 100 * 1024;

/// The size of the pieces the message is read and written in.
const CHUNK: usize = 64 * 1024;

/// What went wrong, and at which stage of the dialogue: `connect`, `greeting`, `EHLO`,
/// `STARTTLS`, `AUTH`, `MAIL FROM`, `RCPT TO`, `DATA`, `message` (sending the message and
/// waiting for the final reply), `RSET`, `NOOP` or `QUIT`.
#[derive(Debug)]
pub enum SmtpError {
    /// The relay could not be reached or went away: connection refused, reset or unreachable,
    /// a DNS lookup the resolver could not answer (SERVFAIL, no server reached), the connection
    /// closed.
    Network {
        /// Where in the dialogue.
        stage: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// The relay's name does not exist: the resolver's final answer (NXDOMAIN, or a name without
    /// addresses), unlike a resolver that cannot answer now ([`SmtpError::Network`]).
    NoSuchHost {
        /// The name looked up.
        host: String,
        /// What the resolver said.
        reason: String,
    },
    /// No answer within the timeout: connecting, or waiting to read or write.
    Timeout {
        /// Where in the dialogue.
        stage: &'static str,
    },
    /// The TLS handshake failed, or TLS broke later.
    Tls {
        /// Where in the dialogue.
        stage: &'static str,
        /// What rustls said (`invalid peer certificate: UnknownIssuer`).
        reason: String,
        /// Whether it is about a certificate (untrusted, expired, wrong name, or ours refused).
        certificate: bool,
        /// The rustls error, when there is one.
        error: Option<rustls::Error>,
    },
    /// A negative (4xx or 5xx) reply where a positive one was needed.
    Reply {
        /// Where in the dialogue.
        stage: &'static str,
        /// The relay's reply.
        reply: Reply,
    },
    /// The relay broke the protocol: an unparsable or over-long reply, an unexpected code.
    Protocol {
        /// Where in the dialogue.
        stage: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The connection could not be set up the way the profile says: a `source_address` this
    /// host does not have, a proxy that cannot be reached, refuses its login or the tunnel.
    Route {
        /// What went wrong, naming the setting or the proxy.
        detail: String,
        /// Whose it is to fix, or whether it passes.
        failure: RouteFailure,
    },
    /// Not the relay's fault: relayctl asked for something this connection cannot do (STARTTLS
    /// or AUTH not offered, a CR or LF in an address or parameter, no recipients), or reading
    /// the message failed. Only the last one leaves the connection broken.
    Client {
        /// Where in the dialogue.
        stage: &'static str,
        /// What was wrong.
        detail: String,
    },
}

impl SmtpError {
    /// The stage of the dialogue the error happened at.
    pub fn stage(&self) -> &'static str {
        match self {
            SmtpError::NoSuchHost { .. } | SmtpError::Route { .. } => "connect",
            SmtpError::Network { stage, .. }
            | SmtpError::Timeout { stage }
            | SmtpError::Tls { stage, .. }
            | SmtpError::Reply { stage, .. }
            | SmtpError::Protocol { stage, .. }
            | SmtpError::Client { stage, .. } => stage,
        }
    }

    /// The relay's reply, for [`SmtpError::Reply`].
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            SmtpError::Reply { reply, .. } => Some(reply),
            _ => None,
        }
    }

    /// Classifies an I/O error: timeouts (on Unix an expired socket timeout is `WouldBlock`),
    /// TLS errors, and everything else as a network failure.
    fn from_io(stage: &'static str, e: io::Error) -> SmtpError {
        if matches!(
            e.kind(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
        ) {
            return SmtpError::Timeout { stage };
        }
        if let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            return SmtpError::Tls {
                stage,
                reason: printable::clean(&tls::describe(tls)),
                certificate: tls::is_certificate_error(tls),
                error: Some(tls.clone()),
            };
        }
        SmtpError::Network { stage, source: e }
    }

    /// Whether the connection cannot be used after this error.
    fn breaks_connection(&self) -> bool {
        match self {
            SmtpError::Reply { reply, .. } => reply.code == 421,
            SmtpError::Client { .. } => false,
            _ => true,
        }
    }
}

impl fmt::Display for SmtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmtpError::Network { stage, source } => write!(f, "{stage}: {source}"),
            SmtpError::NoSuchHost { host, reason } => {
                write!(f, "connect: {host} does not exist in DNS ({reason})")
            }
            SmtpError::Timeout { stage } => write!(f, "{stage}: timed out waiting for the relay"),
            SmtpError::Tls { stage, reason, .. } => write!(f, "{stage}: TLS: {reason}"),
            SmtpError::Reply { stage, reply } => write!(f, "{stage}: {}", reply.text()),
            SmtpError::Protocol { stage, detail } => {
                write!(f, "{stage}: protocol error: {detail}")
            }
            SmtpError::Client { stage, detail } => write!(f, "{stage}: {detail}"),
            SmtpError::Route { detail, .. } => write!(f, "connect: {detail}"),
        }
    }
}

impl std::error::Error for SmtpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SmtpError::Network { source, .. } => Some(source),
            SmtpError::Tls {
                error: Some(error), ..
            } => Some(error),
            _ => None,
        }
    }
}

/// Sees the dialogue, for `-v` transcripts. Credentials are never passed.
pub trait Observer {
    /// A line relayctl sends, without its CRLF.
    fn client(&self, line: &str);
    /// A line the relay sent, without its CRLF (each line of a multiline reply separately).
    fn server(&self, line: &str);
    /// Something that is not a line of the dialogue (`TLS established (TLSv1_3, ...)`).
    fn note(&self, text: &str);
}

/// An [`Observer`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {
    fn client(&self, _: &str) {}
    fn server(&self, _: &str) {}
    fn note(&self, _: &str) {}
}

/// The `-v` transcript sees the dialogue.
impl Observer for crate::transcript::Transcript {
    fn client(&self, line: &str) {
        crate::transcript::Transcript::client(self, line);
    }

    fn server(&self, line: &str) {
        crate::transcript::Transcript::server(self, line);
    }

    fn note(&self, text: &str) {
        crate::transcript::Transcript::note(self, text);
    }
}

/// A recipient with the relay's reply to its RCPT TO: `Ok` for 2xx, `Err` for 4xx or 5xx.
/// Why a connection could not be set up the way the profile says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteFailure {
    /// The profile's setting cannot work (a source address this host does not have, a proxy
    /// that refuses to reach the relay): the admin must change it.
    Setup,
    /// The proxy refused its login.
    Login,
    /// The proxy could not reach the relay now: try again later.
    Transient,
}

pub type RecipientReply = (String, Result<Reply, Reply>);

/// The outcome of one mail transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Each recipient with the relay's reply to its RCPT TO, in the order given: `Ok` for 2xx,
    /// `Err` for 4xx or 5xx.
    pub recipients: Vec<RecipientReply>,
    /// The relay's reply to the message (or to DATA, if it refused DATA). `None` when the
    /// message was not sent because no recipient was accepted.
    pub data: Option<Result<Reply, Reply>>,
}

impl Transaction {
    /// How many recipients the relay accepted.
    pub fn accepted(&self) -> usize {
        self.recipients.iter().filter(|(_, r)| r.is_ok()).count()
    }
}

/// An open SMTP connection to a relay.
pub struct Connection {
    stream: Stream,
    /// Received and not yet consumed: `buf[start..]`.
    buf: Vec<u8>,
    start: usize,
    extensions: Extensions,
    broken: bool,
    /// QUIT goes out with the end of the next message, which is the last on this connection
    /// ([`Connection::quit_with_next_message`]).
    quit_with_message: bool,
    /// The host and port connected to, as OAUTHBEARER names them.
    server: (String, u16),
    /// A login to go out in front of the next transaction
    /// ([`Connection::authenticate_with_next_transaction`]).
    pending_login: Option<auth::PendingLogin>,
    /// The relay's refusal of a login sent in front of a transaction.
    login_refused: Option<Reply>,
    /// Transactions sent whose replies have not been read, oldest first.
    unanswered: VecDeque<transaction::Unanswered>,
}

impl Connection {
    /// Connects to `host` (a name, or an IP literal, optionally in brackets) on `port`: tries
    /// each address in turn with `timeout`, sets `TCP_NODELAY` and read and write timeouts of
    /// `timeout`. With `implicit_tls` (port 465) it starts TLS right away and completes the
    /// handshake before anything else, so certificate problems are [`SmtpError::Tls`] at stage
    /// `connect`. Then reads the greeting, which must be 220 (a 4xx or 5xx greeting is
    /// [`SmtpError::Reply`] at stage `greeting`).
    pub fn connect(
        host: &str,
        port: u16,
        timeout: Duration,
        implicit_tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
        observer: &dyn Observer,
    ) -> Result<Connection, SmtpError> {
        let direct = Route::default();
        Connection::connect_within(host, port, &direct, None, timeout, implicit_tls, observer)
    }

    /// Like [`Connection::connect`], but the relay is reached as `route` says (a source
    /// address, a proxy), and when `first_answer` is given, connecting (to every address), the
    /// handshake of implicit TLS and the greeting must be done within it (a caller is waiting,
    /// and a relay that takes longer is left to the queue); once the relay has greeted, each
    /// operation has `timeout` again.
    pub fn connect_within(
        host: &str,
        port: u16,
        route: &Route,
        first_answer: Option<Duration>,
        timeout: Duration,
        implicit_tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
        observer: &dyn Observer,
    ) -> Result<Connection, SmtpError> {
        let stage = "connect";
        if timeout.is_zero() || first_answer.is_some_and(|t| t.is_zero()) {
            return Err(SmtpError::Client {
                stage,
                detail: "the timeout must be longer than zero".into(),
            });
        }
        let deadline = first_answer.map(|t| Instant::now() + t.min(timeout));
        // What is left of the first answer's time (the timeout without one); `None` once it
        // has run out.
        let left = || match deadline {
            None => Some(timeout),
            Some(d) => Some(d.saturating_duration_since(Instant::now())).filter(|t| !t.is_zero()),
        };
        let (tcp, how) = dial::dial(host, port, route, &left)?;
        observer.note(&how);
        let until_greeting = left().ok_or(SmtpError::Timeout { stage })?;
        tcp.set_nodelay(true)
            .and_then(|()| set_timeouts(&tcp, until_greeting))
            .map_err(|source| SmtpError::Network { stage, source })?;
        let stream = match implicit_tls {
            None => Stream::Plain(tcp),
            Some((config, server_name)) => tls::handshake(tcp, config, server_name, stage)?,
        };
        let mut conn = Connection {
            stream,
            buf: Vec::with_capacity(4096),
            start: 0,
            extensions: Extensions::default(),
            broken: false,
            quit_with_message: false,
            server: (host.trim_matches(['[', ']']).to_string(), port),
            pending_login: None,
            login_refused: None,
            unanswered: VecDeque::new(),
        };
        conn.note_tls(observer);
        let greeting = conn.read_reply("greeting", observer, false)?;
        conn.expect("greeting", greeting, |code| code == 220)?;
        if deadline.is_some()
            && let Some(Err(source)) = conn.stream.tcp().map(|tcp| set_timeouts(tcp, timeout))
        {
            return Err(SmtpError::Network {
                stage: "greeting",
                source,
            });
        }
        Ok(conn)
    }

    /// Sends EHLO (HELO when the relay answers 500 or 502, as servers without extensions do),
    /// and keeps and returns the extensions the relay announced.
    pub fn ehlo(
        &mut self,
        client_name: &str,
        observer: &dyn Observer,
    ) -> Result<&Extensions, SmtpError> {
        let stage = "EHLO";
        self.usable(stage)?;
        check_argument(stage, client_name)?;
        let reply = self.command(stage, &format!("EHLO {client_name}"), observer)?;
        self.extensions = if matches!(reply.code, 500 | 502) {
            let reply = self.command(stage, &format!("HELO {client_name}"), observer)?;
            let reply = self.expect(stage, reply, |code| code / 100 == 2)?;
            Extensions::helo(&reply)
        } else {
            let reply = self.expect(stage, reply, |code| code / 100 == 2)?;
            Extensions::from_ehlo(&reply)
        };
        Ok(&self.extensions)
    }

    /// The extensions of the last EHLO (none before EHLO, and none after STARTTLS until EHLO
    /// is sent again).
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// Sends STARTTLS, expects 220, and completes the TLS handshake before returning. The
    /// caller must send EHLO again afterwards (the extensions are forgotten). Fails with
    /// [`SmtpError::Client`] when the relay does not offer STARTTLS or TLS is already on.
    pub fn starttls(
        &mut self,
        config: Arc<rustls::ClientConfig>,
        server_name: ServerName<'static>,
        observer: &dyn Observer,
    ) -> Result<(), SmtpError> {
        let stage = "STARTTLS";
        self.usable(stage)?;
        if self.is_encrypted() {
            return Err(SmtpError::Client {
                stage,
                detail: "the connection is already encrypted".into(),
            });
        }
        if !self.extensions.has("STARTTLS") {
            return Err(SmtpError::Client {
                stage,
                detail: "the relay does not offer STARTTLS".into(),
            });
        }
        let reply = self.command(stage, "STARTTLS", observer)?;
        self.expect(stage, reply, |code| code == 220)?;
        // Anything after the 220 was sent in clear before TLS and must not be taken as coming
        // through TLS (CVE-2011-0411 and its many relatives).
        if self.start < self.buf.len() {
            return Err(self.fail(SmtpError::Protocol {
                stage,
                detail: "the relay sent more after its STARTTLS reply".into(),
            }));
        }
        let Stream::Plain(tcp) = mem::replace(&mut self.stream, Stream::Gone) else {
            return Err(self.fail(SmtpError::Protocol {
                stage,
                detail: "the connection is not in plain text".into(),
            }));
        };
        match tls::handshake(tcp, config, server_name, stage) {
            Ok(stream) => self.stream = stream,
            Err(e) => return Err(self.fail(e)),
        }
        self.extensions = Extensions::default();
        self.note_tls(observer);
        Ok(())
    }

    /// Whether TLS is on (implicit or after STARTTLS).
    pub fn is_encrypted(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// The TLS version and cipher suite in use (`TLSv1_3, TLS13_AES_256_GCM_SHA384`).
    pub fn tls_info(&self) -> Option<String> {
        let Stream::Tls(tls) = &self.stream else {
            return None;
        };
        let version = tls.conn.protocol_version()?;
        let suite = tls.conn.negotiated_cipher_suite()?;
        let resumed = match tls.conn.handshake_kind() {
            Some(rustls::HandshakeKind::Resumed) => ", resumed",
            _ => "",
        };
        Some(format!("{version:?}, {:?}{resumed}", suite.suite()))
    }

    /// The relay's certificate chain as it sent it (leaf first, DER); empty without TLS.
    pub fn peer_certificates(&self) -> Vec<Vec<u8>> {
        let Stream::Tls(tls) = &self.stream else {
            return Vec::new();
        };
        tls.conn
            .peer_certificates()
            .map(|chain| chain.iter().map(|c| c.to_vec()).collect())
            .unwrap_or_default()
    }

    /// What binds a login to this TLS connection (SCRAM `-PLUS`); `None` without TLS.
    pub fn channel_binding(&self) -> Option<ChannelBinding> {
        let Stream::Tls(tls) = &self.stream else {
            return None;
        };
        channel_binding(&tls.conn)
    }

    /// The address connected to.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.stream.tcp()?.peer_addr().ok()
    }

    /// The host (without brackets) and port connected to, as OAUTHBEARER names them.
    pub fn server(&self) -> (&str, u16) {
        (&self.server.0, self.server.1)
    }

    /// MAIL FROM and RCPT TO for each recipient, then RSET: asks the relay about recipients
    /// without sending a message (`sendmail -bv`).
    pub fn probe(
        &mut self,
        sender: Option<&str>,
        recipients: &[String],
        observer: &dyn Observer,
    ) -> Result<Vec<RecipientReply>, SmtpError> {
        self.usable("MAIL FROM")?;
        self.finish_login(observer)?;
        let sender = sender.unwrap_or("");
        check_argument("MAIL FROM", sender)?;
        let reply = self.command("MAIL FROM", &format!("MAIL FROM:<{sender}>"), observer)?;
        if let Err(reply) = self.classify("MAIL FROM", reply)? {
            self.reset_quietly(observer);
            return Err(SmtpError::Reply {
                stage: "MAIL FROM",
                reply,
            });
        }
        let mut results = Vec::with_capacity(recipients.len());
        for rcpt in recipients {
            check_argument("RCPT TO", rcpt)?;
            let reply = self.command("RCPT TO", &format!("RCPT TO:<{rcpt}>"), observer)?;
            results.push((rcpt.clone(), self.classify("RCPT TO", reply)?));
        }
        self.reset_quietly(observer);
        Ok(results)
    }

    /// Sends RSET: forgets the current transaction.
    pub fn rset(&mut self, observer: &dyn Observer) -> Result<Reply, SmtpError> {
        self.simple("RSET", observer)
    }

    /// Sends NOOP: checks that the relay is still there.
    pub fn noop(&mut self, observer: &dyn Observer) -> Result<Reply, SmtpError> {
        self.simple("NOOP", observer)
    }

    /// Makes the next message the last on this connection: QUIT goes out in the same flight as
    /// its end, so that ending the session costs no round trip of its own.
    pub fn quit_with_next_message(&mut self) {
        self.quit_with_message = true;
    }

    /// Sends QUIT and TLS's close_notify together and closes the connection without waiting
    /// for the reply: everything that mattered was answered before, and a relay 50 ms away
    /// would otherwise cost every caller another round trip.
    pub fn quit(mut self, observer: &dyn Observer) -> Result<(), SmtpError> {
        self.usable("QUIT")?;
        observer.client("QUIT");
        let written = self.stream.write_all(b"QUIT\r\n");
        self.stream.close();
        written.map_err(|e| SmtpError::from_io("QUIT", e))
    }

    /// Whether the connection is known to be unusable: after a network, timeout, TLS or
    /// protocol error, a failure reading the message, a 421 reply, or the message it quit
    /// with. Callers reconnect.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Whether `TCP_NODELAY` is set on the socket.
    #[cfg(test)]
    fn nodelay(&self) -> bool {
        self.stream
            .tcp()
            .and_then(|t| t.nodelay().ok())
            .unwrap_or(false)
    }

    fn simple(&mut self, verb: &'static str, observer: &dyn Observer) -> Result<Reply, SmtpError> {
        self.usable(verb)?;
        self.finish_login(observer)?;
        let reply = self.command(verb, verb, observer)?;
        self.expect(verb, reply, |code| code / 100 == 2)
    }

    /// RSET after a refusal; its failure shows only as a broken connection.
    fn reset_quietly(&mut self, observer: &dyn Observer) {
        let _ = self.rset(observer);
    }

    /// Appends QUIT to the message's last write when it is the last message
    /// ([`Connection::quit_with_next_message`]): RFC 2920 lets QUIT end a pipelined group.
    fn append_quit(&mut self, out: &mut Vec<u8>, observer: &dyn Observer) {
        if self.quit_with_message {
            observer.client("QUIT");
            out.extend_from_slice(b"QUIT\r\n");
        }
    }

    /// Right after a message sent with QUIT: TLS's close_notify goes out in the same flight
    /// (TLS 1.3 closes each direction on its own: the replies are still read).
    fn close_notify_after_quit(&mut self) {
        if self.quit_with_message {
            self.stream.close();
        }
    }

    /// After the reply to a message sent with QUIT: the connection is over, without waiting
    /// for QUIT's reply.
    fn close_after_quit(&mut self) {
        if self.quit_with_message {
            self.broken = true;
        }
    }

    fn note_tls(&self, observer: &dyn Observer) {
        if let Some(info) = self.tls_info() {
            observer.note(&format!("TLS established ({info})"));
        }
    }

    /// Fails early on a connection known to be broken.
    fn usable(&self, stage: &'static str) -> Result<(), SmtpError> {
        if self.broken {
            return Err(SmtpError::Network {
                stage,
                source: io::Error::new(
                    io::ErrorKind::NotConnected,
                    "the connection to the relay is broken",
                ),
            });
        }
        Ok(())
    }

    /// Marks the connection broken when the error leaves it so.
    fn fail(&mut self, e: SmtpError) -> SmtpError {
        if e.breaks_connection() {
            self.broken = true;
        }
        e
    }

    /// Marks the connection broken, whatever the error.
    fn fail_hard(&mut self, e: SmtpError) -> SmtpError {
        self.broken = true;
        e
    }

    /// A positive reply that makes no sense at this point.
    fn unexpected(&mut self, stage: &'static str, reply: &Reply) -> SmtpError {
        self.fail_hard(SmtpError::Protocol {
            stage,
            detail: format!("unexpected reply {}", reply.text()),
        })
    }

    /// The reply if `ok` accepts its code; a 4xx/5xx is [`SmtpError::Reply`], anything else
    /// a protocol error.
    fn expect(
        &mut self,
        stage: &'static str,
        reply: Reply,
        ok: impl Fn(u16) -> bool,
    ) -> Result<Reply, SmtpError> {
        if ok(reply.code) {
            Ok(reply)
        } else if reply.is_transient() || reply.is_permanent() {
            Err(self.fail(SmtpError::Reply { stage, reply }))
        } else {
            Err(self.unexpected(stage, &reply))
        }
    }

    /// `Ok` for 2xx, `Err` for 4xx/5xx, a protocol error for 3xx. A 421 (the relay is closing
    /// the connection) is [`SmtpError::Reply`] and leaves the connection broken.
    fn classify(
        &mut self,
        stage: &'static str,
        reply: Reply,
    ) -> Result<Result<Reply, Reply>, SmtpError> {
        match reply.code {
            421 => Err(self.fail(SmtpError::Reply { stage, reply })),
            200..300 => Ok(Ok(reply)),
            400..600 => Ok(Err(reply)),
            _ => Err(self.unexpected(stage, &reply)),
        }
    }

    /// Sends one command line and reads the reply.
    fn command(
        &mut self,
        stage: &'static str,
        line: &str,
        observer: &dyn Observer,
    ) -> Result<Reply, SmtpError> {
        observer.client(line);
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.send(stage, &bytes)?;
        self.read_reply(stage, observer, false)
    }

    /// Writes `bytes` in full and flushes.
    fn send(&mut self, stage: &'static str, bytes: &[u8]) -> Result<(), SmtpError> {
        let result = self
            .stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush());
        result.map_err(|e| self.fail_hard(SmtpError::from_io(stage, e)))
    }

    /// Reads one reply, passing each line to the observer. With `redact`, 334 challenges are
    /// shown as `334 (challenge not shown)`.
    fn read_reply(
        &mut self,
        stage: &'static str,
        observer: &dyn Observer,
        redact: bool,
    ) -> Result<Reply, SmtpError> {
        let mut code = None;
        let mut lines = Vec::new();
        let mut total = 0;
        loop {
            let raw = self.read_line(stage)?;
            total += raw.len() + 2;
            if total > MAX_REPLY {
                return Err(self.fail_hard(SmtpError::Protocol {
                    stage,
                    detail: format!("the reply is longer than {MAX_REPLY} octets"),
                }));
            }
            let shown = printable::from_bytes(&raw);
            let Some(line) = reply::parse_line(&raw) else {
                let shown: String = shown.chars().take(80).collect();
                observer.server(&shown);
                return Err(self.fail_hard(SmtpError::Protocol {
                    stage,
                    detail: format!("not an SMTP reply: {shown:?}"),
                }));
            };
            if redact && line.code == 334 {
                observer.server("334 (challenge not shown)");
            } else {
                observer.server(&shown);
            }
            if let Some(first) = code
                && first != line.code
            {
                return Err(self.fail_hard(SmtpError::Protocol {
                    stage,
                    detail: format!(
                        "a multiline reply changed its code from {first} to {}",
                        line.code
                    ),
                }));
            }
            code = Some(line.code);
            lines.push(line.text);
            if !line.more {
                return Ok(Reply {
                    code: line.code,
                    lines,
                });
            }
        }
    }

    /// Reads one line (CRLF, or a bare LF), without its line ending.
    fn read_line(&mut self, stage: &'static str) -> Result<Vec<u8>, SmtpError> {
        loop {
            let pending = &self.buf[self.start..];
            if let Some(i) = pending.iter().position(|&b| b == b'\n') {
                if i + 1 > MAX_LINE {
                    break;
                }
                let mut line = pending[..i].to_vec();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.start += i + 1;
                if self.start == self.buf.len() {
                    self.buf.clear();
                    self.start = 0;
                }
                return Ok(line);
            }
            if pending.len() >= MAX_LINE {
                break;
            }
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            // ACK what arrives at once rather than after the delayed-ACK timer (40 ms on
            // Linux): a relay whose replies come in several segments (a TLS 1.3 session ticket,
            // then the EHLO reply) and which has Nagle on waits for that ACK before sending the
            // rest. Linux leaves quick-ACK mode again by itself, so it is set before every read.
            #[cfg(target_os = "linux")]
            if let Some(tcp) = self.stream.tcp() {
                let _ = rustix::net::sockopt::set_tcp_quickack(tcp, true);
            }
            let mut chunk = [0u8; 4096];
            let n = loop {
                match self.stream.read(&mut chunk) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(self.fail_hard(SmtpError::from_io(stage, e))),
                }
            };
            if n == 0 {
                return Err(self.fail_hard(SmtpError::Network {
                    stage,
                    source: io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the relay closed the connection",
                    ),
                }));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        Err(self.fail_hard(SmtpError::Protocol {
            stage,
            detail: format!("a reply line is longer than {MAX_LINE} octets"),
        }))
    }
}

/// The addresses of `host` (a name, or an IP literal, optionally in brackets) for `port`,
/// from the system resolver (getaddrinfo: `/etc/hosts`, DNS, as every program of the host
/// resolves). A name that does not exist is [`SmtpError::NoSuchHost`]; a resolver that cannot
/// answer now (SERVFAIL, no server reached) is [`SmtpError::Network`], to be tried again.
pub fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, SmtpError> {
    let stage = "connect";
    let name = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let hints = AddrInfoHints {
        socktype: libc::SOCK_STREAM,
        ..AddrInfoHints::default()
    };
    let found = match getaddrinfo(Some(name), Some(&port.to_string()), Some(hints)) {
        Ok(found) => found,
        Err(e) => {
            return Err(match e.kind() {
                LookupErrorKind::NoName | LookupErrorKind::NoData => SmtpError::NoSuchHost {
                    host: printable::clean(name),
                    reason: io::Error::from(e).to_string(),
                },
                _ => SmtpError::Network {
                    stage,
                    source: e.into(),
                },
            });
        }
    };
    found
        .map(|ai| ai.map(|ai| ai.sockaddr))
        .collect::<Result<_, _>>()
        .map_err(|source| SmtpError::Network { stage, source })
}

/// Whether what listens on `host`'s `port` speaks TLS from the first byte: a new connection
/// sends a TLS ClientHello, and the first bytes of the answer are a TLS record (a handshake
/// message or an alert) or not. Nothing is verified and nothing else is sent; it only tells a
/// port that waits for the client to start TLS (465) from a relay that says nothing.
pub fn answers_tls(host: &str, port: u16, source: Option<IpAddr>, timeout: Duration) -> bool {
    let Ok(addrs) = resolve(host, port) else {
        return false;
    };
    let Ok(mut tcp) = dial::connect_any(host, &addrs, source, timeout) else {
        return false;
    };
    if tcp.set_read_timeout(Some(timeout)).is_err() || tcp.set_write_timeout(Some(timeout)).is_err()
    {
        return false;
    }
    tls::starts_with_tls_record(&mut tcp, host.trim_matches(['[', ']']))
}

/// Sets the read and write timeouts of a connection.
fn set_timeouts(tcp: &TcpStream, timeout: Duration) -> io::Result<()> {
    tcp.set_read_timeout(Some(timeout))?;
    tcp.set_write_timeout(Some(timeout))
}

/// Refuses arguments that would end the command line early (command injection).
fn check_argument(stage: &'static str, text: &str) -> Result<(), SmtpError> {
    if text.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(SmtpError::Client {
            stage,
            detail: format!("{text:?} contains a line break or NUL"),
        });
    }
    Ok(())
}

fn with_params(mut command: String, params: &[String]) -> String {
    for p in params {
        command.push(' ');
        command.push_str(p);
    }
    command
}

/// Copies `input` to `out`, doubling a `.` at the start of a line (RFC 5321 section 4.5.2).
/// `line_start` carries the state from one piece to the next.
fn dot_stuff(input: &[u8], out: &mut Vec<u8>, line_start: &mut bool) {
    for &b in input {
        if *line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        *line_start = b == b'\n';
    }
}
