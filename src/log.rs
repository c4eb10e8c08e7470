//! One line per delivery attempt to the system log: queue id, Message-ID, profile, relay,
//! recipient count, size, result code and text, duration; and the SMTP listener's lines
//! ([`ListenerLine`]: one per message accepted or refused, failed login and connection). A line
//! never carries a secret (none reaches this module) or any part of a message body (only the
//! Message-ID header is read).
//!
//! Where the line goes (`RELAYCTL_LOG`, ignored with raised privileges):
//!
//! - `auto` (the default): journald's native socket (`/run/systemd/journal/socket`) when it
//!   exists, else the syslog socket `/dev/log` (facility mail), else standard error, but only
//!   with `-v`. Without `-v` and without a log socket the line is dropped: relayctl promises
//!   silence on success, cron mails whatever a job writes to stderr, and PHP and other callers
//!   would pass the line on as an error. The queue's state (`relayctl queue show`) still
//!   records every attempt.
//! - `journald[:SOCKET]`, `syslog[:SOCKET]`: that transport, at that socket path if given.
//! - `stderr`: always standard error (containers whose logs are the output of `queue daemon`).
//! - `off`: nothing.
//!
//! The last few lines are also kept in memory for `relayctl test`, which reports the relay's
//! reply to its message.

use std::io::Write;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use crate::printable;
use crate::queue::QueueId;

/// journald's native protocol socket.
const JOURNALD_SOCKET: &str = "/run/systemd/journal/socket";
/// The traditional syslog socket.
const SYSLOG_SOCKET: &str = "/dev/log";
/// syslog facility `mail`.
const FACILITY_MAIL: u8 = 2;
/// The longest reply text logged.
const MAX_TEXT: usize = 1000;
/// How many recent records `relayctl test` can look back on.
const KEEP: usize = 32;

/// One delivery attempt, started when relayctl turns to the relay.
#[derive(Debug)]
pub struct Attempt {
    queue_id: Option<QueueId>,
    message_id: Option<String>,
    profile: String,
    route: Option<String>,
    relay: String,
    recipients: usize,
    size: u64,
    started: Instant,
    verbose: bool,
}

/// A finished attempt, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The queue id; `None` for synchronous (`--wait`) delivery.
    pub queue_id: Option<QueueId>,
    /// The message's Message-ID header, as written.
    pub message_id: Option<String>,
    /// The profile tried.
    pub profile: String,
    /// The `[routes]` key that chose the message's profile, when one did.
    pub route: Option<String>,
    /// Its relay, `host:port`.
    pub relay: String,
    /// How many recipients were offered.
    pub recipients: usize,
    /// The message's size in bytes as transmitted.
    pub size: u64,
    /// Whether the relay accepted the message (for every recipient offered).
    pub accepted: bool,
    /// The SMTP reply code the result rests on, when there is one.
    pub code: Option<u16>,
    /// The relay's reply or the error, one line.
    pub text: String,
    /// How long the attempt took, in milliseconds.
    pub duration_ms: u128,
}

static RECENT: Mutex<Vec<Record>> = Mutex::new(Vec::new());

impl Attempt {
    /// Starts timing an attempt at a message of `size` bytes through `profile`; `head` is its
    /// beginning (at least the header section), where the Message-ID is found.
    pub fn start(
        queue_id: Option<&QueueId>,
        profile: &str,
        relay: String,
        recipients: usize,
        head: &[u8],
        size: u64,
        verbose: bool,
    ) -> Attempt {
        Attempt {
            queue_id: queue_id.cloned(),
            message_id: message_id(head),
            profile: profile.to_string(),
            route: None,
            relay,
            recipients,
            size,
            started: Instant::now(),
            verbose,
        }
    }

    /// Notes the `[routes]` key that chose the message's profile.
    pub fn routed(mut self, route: Option<&str>) -> Attempt {
        self.route = route.map(str::to_string);
        self
    }

    /// The relay accepted the message; `reply` is its final reply.
    pub fn delivered(self, reply: &str) {
        self.finish(true, reply);
    }

    /// The attempt failed; `reason` is the error, with the relay's reply when there is one.
    pub fn failed(self, reason: &str) {
        self.finish(false, reason);
    }

    fn finish(self, accepted: bool, text: &str) {
        let text = bounded_line(text, MAX_TEXT);
        let record = Record {
            code: reply_code(&text),
            queue_id: self.queue_id,
            message_id: self.message_id,
            profile: self.profile,
            route: self.route,
            relay: self.relay,
            recipients: self.recipients,
            size: self.size,
            accepted,
            text,
            duration_ms: self.started.elapsed().as_millis(),
        };
        emit(&record.entry(), self.verbose);
        if let Ok(mut recent) = RECENT.lock() {
            if recent.len() >= KEEP {
                recent.remove(0);
            }
            recent.push(record);
        }
    }
}

/// The attempts logged by this process for queue id `id`, oldest first.
pub fn recent(id: &QueueId) -> Vec<Record> {
    RECENT
        .lock()
        .map(|r| {
            r.iter()
                .filter(|r| r.queue_id.as_ref() == Some(id))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

impl Record {
    /// The line as logged (without the program name): `key=value` fields. The fields that
    /// are numbers, fixed words or a queue id are written bare (`-` when absent); the
    /// free-text ones (`message_id`, `profile`, `route`, `relay`, `text`) are always quoted
    /// ([`quoted`]), so that no value (a Message-ID is whatever the submitter wrote) can add a
    /// field such as `status=sent` for a log parser, or a line. `route` is there only when a
    /// `[routes]` entry chose the profile.
    pub fn line(&self) -> String {
        format!(
            "queue_id={} message_id={} profile={}{} relay={} recipients={} size={} result={} status={} duration_ms={} text={}",
            self.queue_id
                .as_ref()
                .map_or_else(|| "-".into(), QueueId::to_string),
            self.message_id
                .as_deref()
                .map_or_else(|| "-".into(), quoted),
            quoted(&self.profile),
            self.route
                .as_deref()
                .map(|r| format!(" route={}", quoted(r)))
                .unwrap_or_default(),
            quoted(&self.relay),
            self.recipients,
            self.size,
            self.code
                .map(|c| c.to_string())
                .unwrap_or_else(|| "-".into()),
            if self.accepted { "sent" } else { "not-sent" },
            self.duration_ms,
            quoted(&self.text)
        )
    }

    /// syslog severity: info for a delivery, warning for a failure.
    fn priority(&self) -> u8 {
        if self.accepted { 6 } else { 4 }
    }

    /// The line with the journald fields that carry its values.
    fn entry(&self) -> Entry {
        Entry {
            line: self.line(),
            priority: self.priority(),
            fields: vec![
                (
                    "RELAYCTL_QUEUE_ID",
                    self.queue_id
                        .as_ref()
                        .map(QueueId::to_string)
                        .unwrap_or_default(),
                ),
                (
                    "RELAYCTL_MESSAGE_ID",
                    self.message_id.clone().unwrap_or_default(),
                ),
                ("RELAYCTL_PROFILE", self.profile.clone()),
                ("RELAYCTL_RELAY", self.relay.clone()),
                ("RELAYCTL_RECIPIENTS", self.recipients.to_string()),
                ("RELAYCTL_SIZE", self.size.to_string()),
                (
                    "RELAYCTL_RESULT",
                    self.code.map(|c| c.to_string()).unwrap_or_default(),
                ),
                ("RELAYCTL_DURATION_MS", self.duration_ms.to_string()),
            ],
        }
    }

    #[cfg(test)]
    fn journald(&self) -> Vec<u8> {
        self.entry().journald()
    }

    #[cfg(test)]
    fn syslog(&self) -> Vec<u8> {
        self.entry().syslog()
    }
}

/// What the SMTP listener logs: one line per message it accepted or refused, per login that
/// failed, and per connection when it ends, in the delivery log's `key=value` form, starting
/// `smtpd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerLine {
    /// `message`, `login` or `connection`.
    pub event: &'static str,
    pub client: std::net::IpAddr,
    /// The server user the client logged in as (or tried to, for `login`).
    pub user: Option<String>,
    /// Where an accepted message went (`queued as ...`).
    pub receipt: Option<String>,
    /// The reply the client got (for `connection`: how it ended).
    pub code: Option<u16>,
    /// Whether the message was accepted or the login succeeded.
    pub accepted: bool,
    /// Extra numbers: `recipients`, `size`, `messages`, `duration_ms`.
    pub counts: Vec<(&'static str, u128)>,
    pub text: String,
}

impl ListenerLine {
    /// The line as logged (without the program name). `user`, `receipt` and `text` are quoted
    /// like the delivery log's free-text fields: a client chooses what they say.
    pub fn line(&self) -> String {
        let mut line = format!(
            "smtpd event={} client={} user={} receipt={}",
            self.event,
            self.client,
            self.user.as_deref().map_or_else(|| "-".into(), quoted),
            self.receipt.as_deref().map_or_else(|| "-".into(), quoted),
        );
        for (key, value) in &self.counts {
            line.push_str(&format!(" {key}={value}"));
        }
        line.push_str(&format!(
            " result={} status={} text={}",
            self.code.map_or_else(|| "-".into(), |c| c.to_string()),
            if self.accepted { "accepted" } else { "refused" },
            quoted(&bounded_line(&self.text, MAX_TEXT))
        ));
        line
    }

    /// Writes the line to the system log (where [`Attempt`]s go).
    pub fn emit(&self) {
        let entry = Entry {
            line: self.line(),
            priority: if self.accepted { 6 } else { 4 },
            fields: vec![
                ("RELAYCTL_SMTPD_EVENT", self.event.to_string()),
                ("RELAYCTL_SMTPD_CLIENT", self.client.to_string()),
                ("RELAYCTL_SMTPD_USER", self.user.clone().unwrap_or_default()),
                (
                    "RELAYCTL_RESULT",
                    self.code.map(|c| c.to_string()).unwrap_or_default(),
                ),
            ],
        };
        emit(&entry, false);
    }
}

/// A line for the system log with the journald fields that carry its values.
struct Entry {
    line: String,
    /// syslog severity.
    priority: u8,
    fields: Vec<(&'static str, String)>,
}

impl Entry {
    /// The datagram of journald's native protocol: one `FIELD=value` line per field.
    fn journald(&self) -> Vec<u8> {
        let common = [
            ("MESSAGE", format!("relayctl: {}", self.line)),
            ("PRIORITY", self.priority.to_string()),
            ("SYSLOG_FACILITY", FACILITY_MAIL.to_string()),
            ("SYSLOG_IDENTIFIER", "relayctl".into()),
            ("SYSLOG_PID", std::process::id().to_string()),
        ];
        let mut out = Vec::new();
        for (key, value) in common.iter().chain(&self.fields) {
            // A line break would start a new field: each value is one printable line.
            out.extend_from_slice(key.as_bytes());
            out.push(b'=');
            out.extend_from_slice(printable::one_line(value).as_bytes());
            out.push(b'\n');
        }
        out
    }

    /// An RFC 3164 datagram for /dev/log: `<PRI>relayctl[PID]: line`. The timestamp is left to
    /// the log daemon, which stamps local messages itself.
    fn syslog(&self) -> Vec<u8> {
        format!(
            "<{}>relayctl[{}]: {}",
            FACILITY_MAIL * 8 + self.priority,
            std::process::id(),
            self.line
        )
        .into_bytes()
    }
}

/// Where lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Journald(PathBuf),
    Syslog(PathBuf),
    Stderr,
    Off,
    Auto,
}

fn target() -> Target {
    let setting = std::env::var("RELAYCTL_LOG")
        .ok()
        .filter(|_| !crate::privilege::raised());
    parse_target(setting.as_deref().unwrap_or("auto"))
}

fn parse_target(text: &str) -> Target {
    let (kind, path) = match text.split_once(':') {
        Some((k, p)) => (k, Some(PathBuf::from(p))),
        None => (text, None),
    };
    match kind.trim() {
        "journald" => Target::Journald(path.unwrap_or_else(|| JOURNALD_SOCKET.into())),
        "syslog" => Target::Syslog(path.unwrap_or_else(|| SYSLOG_SOCKET.into())),
        "stderr" => Target::Stderr,
        "off" => Target::Off,
        _ => Target::Auto,
    }
}

fn emit(entry: &Entry, verbose: bool) {
    let sent = match target() {
        Target::Off => return,
        Target::Stderr => false,
        Target::Journald(path) => send(&path, &entry.journald()),
        Target::Syslog(path) => send(&path, &entry.syslog()),
        Target::Auto => {
            (Path::new(JOURNALD_SOCKET).exists()
                && send(Path::new(JOURNALD_SOCKET), &entry.journald()))
                || (Path::new(SYSLOG_SOCKET).exists()
                    && send(Path::new(SYSLOG_SOCKET), &entry.syslog()))
                || !verbose
        }
    };
    if !sent {
        eprintln!("relayctl: {}", entry.line);
    }
}

/// Sends one datagram; a stream socket (some syslog daemons) gets the line with a NUL after it.
fn send(path: &Path, bytes: &[u8]) -> bool {
    if let Ok(socket) = UnixDatagram::unbound()
        && socket.send_to(bytes, path).is_ok()
    {
        return true;
    }
    UnixStream::connect(path)
        .and_then(|mut s| s.write_all(&[bytes, b"\0"].concat()))
        .is_ok()
}

/// The Message-ID header of `wire`, from the header section only (never the body).
pub fn message_id(wire: &[u8]) -> Option<String> {
    let end = wire
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| wire.windows(2).position(|w| w == b"\n\n"))
        .unwrap_or(wire.len());
    let header = crate::message::headers::split(&wire[..end]);
    let field = header.fields.iter().find(|f| f.is("Message-ID"))?;
    let value = bounded_line(&field.value(), 250);
    (!value.is_empty()).then_some(value)
}

/// A free-text field's value: `"..."` around `text` on one printable line, with `\` before
/// each `"` and `\` in it, as logfmt parsers read it.
fn quoted(text: &str) -> String {
    let line = printable::one_line(text);
    format!("\"{}\"", line.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `text` on one printable line ([`printable::one_line`]), at most `max` characters.
fn bounded_line(text: &str, max: usize) -> String {
    printable::one_line(text).chars().take(max).collect()
}

/// The SMTP reply code in `text`: a 2xx to 5xx code at its start or right after a colon, as
/// errors quote replies (`... refused the login for x: 535 5.7.8 ...`).
fn reply_code(text: &str) -> Option<u16> {
    let mut previous = ":";
    for word in text.split_whitespace() {
        let digits = word
            .get(..3)
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
        let standalone = word.len() == 3 || word.as_bytes().get(3) == Some(&b'-');
        if previous.ends_with(':')
            && standalone
            && let Some(code) = digits.and_then(|d| d.parse::<u16>().ok())
            && (200..600).contains(&code)
        {
            return Some(code);
        }
        previous = word;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            queue_id: Some("0190abcdef0123456789".parse().unwrap()),
            message_id: Some("<1.2@example.org>".into()),
            profile: "uni".into(),
            route: None,
            relay: "smtp.uni.example:587".into(),
            recipients: 2,
            size: 1234,
            accepted: true,
            code: Some(250),
            text: "250 2.0.0 Ok: \"queued\" as X".into(),
            duration_ms: 41,
        }
    }

    #[test]
    fn line_formats() {
        let r = record();
        assert_eq!(
            r.line(),
            "queue_id=0190abcdef0123456789 message_id=\"<1.2@example.org>\" profile=\"uni\" relay=\"smtp.uni.example:587\" recipients=2 size=1234 result=250 status=sent duration_ms=41 text=\"250 2.0.0 Ok: \\\"queued\\\" as X\""
        );
        let syslog = String::from_utf8(r.syslog()).unwrap();
        assert!(syslog.starts_with("<22>relayctl["), "{syslog}");
        let journal = String::from_utf8(r.journald()).unwrap();
        assert!(
            journal.contains("\nPRIORITY=6\n")
                && journal.contains("\nRELAYCTL_QUEUE_ID=0190abcdef0123456789\n")
        );
        assert_eq!(journal.lines().count(), 13);
    }

    /// The fields of a log line as a logfmt parser reads them: `key=value` or `key="..."` with
    /// backslash escapes, separated by spaces.
    fn fields(line: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut rest = line;
        while let Some((key, after)) = rest.trim_start().split_once('=') {
            let mut value = String::new();
            let mut chars = after.chars();
            if after.starts_with('"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => value.extend(chars.next()),
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                value = chars.by_ref().take_while(|c| *c != ' ').collect();
            }
            out.push((key.to_string(), value));
            rest = chars.as_str();
        }
        out
    }

    /// Issue 14: a Message-ID (written by whoever submits mail) must not add a field.
    #[test]
    fn free_text_fields_cannot_forge_fields() {
        let forged = "<x> status=sent text=\"forged\"";
        let r = Record {
            message_id: Some(forged.into()),
            profile: "uni relay=evil".into(),
            route: None,
            accepted: false,
            code: Some(451),
            text: "451 4.3.0 try \"later\" status=sent\nqueue_id=1".into(),
            ..record()
        };
        let line = r.line();
        let fields = fields(&line);
        let value = |key: &str| -> Vec<&str> {
            fields
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        assert_eq!(value("status"), ["not-sent"], "{line}");
        assert!(!line.contains('\n'), "{line}");
        assert_eq!(value("message_id"), [forged], "{line}");
        assert_eq!(value("profile"), ["uni relay=evil"], "{line}");
        assert_eq!(value("relay"), ["smtp.uni.example:587"], "{line}");
        assert_eq!(value("queue_id"), ["0190abcdef0123456789"], "{line}");
        assert_eq!(
            value("text"),
            ["451 4.3.0 try \"later\" status=sent queue_id=1"]
        );
        assert_eq!(fields.len(), 10, "{line}");

        // journald's fields are lines, syslog's message one line.
        let r = Record {
            message_id: Some("<x>\nPRIORITY=0\rSYSLOG_IDENTIFIER=sshd".into()),
            ..r
        };
        let journal = String::from_utf8(r.journald()).unwrap();
        assert_eq!(journal.lines().count(), 13, "{journal}");
        assert!(journal.contains("\nRELAYCTL_MESSAGE_ID=<x> PRIORITY=0 SYSLOG_IDENTIFIER=sshd\n"));
        let syslog = String::from_utf8(r.syslog()).unwrap();
        assert!(!syslog.contains(['\n', '\r']), "{syslog}");
    }

    #[test]
    fn message_id_comes_from_the_header_only() {
        let wire =
            b"From: a@b.example\r\nMessage-ID:\r\n <x.1@b.example>\r\n\r\nMessage-ID: <body@x>\r\n";
        assert_eq!(message_id(wire).as_deref(), Some("<x.1@b.example>"));
        assert_eq!(
            message_id(b"Subject: x\r\n\r\nMessage-ID: <body@x>\r\n"),
            None
        );
    }

    #[test]
    fn reply_codes_are_found() {
        assert_eq!(reply_code("250 2.0.0 Ok"), Some(250));
        assert_eq!(
            reply_code("localhost:587 refused the login for a@b: 535 5.7.8 Error"),
            Some(535)
        );
        assert_eq!(
            reply_code("cannot connect to localhost:2599: Connection refused (os error 111)"),
            None
        );
        assert_eq!(reply_code("timed out"), None);
        assert_eq!(reply_code("x does not offer STARTTLS on port 587"), None);
        assert_eq!(reply_code("<a@b>: 550-5.1.1 no such user"), Some(550));
    }

    #[test]
    fn targets() {
        assert_eq!(
            parse_target("syslog:/tmp/s"),
            Target::Syslog("/tmp/s".into())
        );
        assert_eq!(
            parse_target("journald"),
            Target::Journald(JOURNALD_SOCKET.into())
        );
        assert_eq!(parse_target("stderr"), Target::Stderr);
        assert_eq!(parse_target("off"), Target::Off);
        assert_eq!(parse_target("bogus"), Target::Auto);
    }

    #[test]
    fn datagrams_reach_a_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let server = UnixDatagram::bind(&path).unwrap();
        assert!(send(&path, &record().syslog()));
        let mut buf = [0u8; 2048];
        let n = server.recv(&mut buf).unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).contains("queue_id=0190abc"));
        assert!(!send(&dir.path().join("missing"), b"x"));
    }
}
