//! The SMTP listener (`relayctl serve`) with real clients, ending at the real Postfix relay:
//! started as root, it gives up root for its own system user, takes mail from apps on loopback
//! and from server users who log in, and hands it through the maildrop to root's queue runner.
//!
//! [`Served`] starts a listener in a sandbox; other test files use it too.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::{Root, Sandbox, as_root, marker, relay, wait_for};

/// The listener's system user, as packages create it.
pub const SERVER_USER: &str = "relayctl-smtpd";

/// Creates the listener's system user when it is missing.
pub fn ensure_server_user() {
    let exists = Command::new("id")
        .arg(SERVER_USER)
        .output()
        .is_ok_and(|o| o.status.success());
    if !exists {
        let out = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVER_USER,
            ])
            .output()
            .expect("useradd");
        assert!(out.status.success(), "useradd: {out:?}");
    }
}

/// The uid of `user`.
pub fn uid_of(user: &str) -> u32 {
    let out = Command::new("id").args(["-u", user]).output().expect("id");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a uid")
}

/// Asserts that the process `pid` runs as [`SERVER_USER`] only (real, effective, saved and
/// file-system uid): the process that parses SMTP is not root.
#[track_caller]
pub fn assert_runs_as_server_user(pid: u32) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    let expected = uid_of(SERVER_USER).to_string();
    assert!(
        uid_line.split_whitespace().skip(1).all(|u| u == expected),
        "{uid_line}"
    );
}

/// A free TCP port on 127.0.0.1 (bound and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A sandbox whose system configuration has the smarthost profile `p` (the test relay's port
/// 25, sender `relay@example.org`) and `server` as its `[server]` table, and whose spool the
/// listener's user can reach (the maildrop in it is 1733, the rest root's).
pub fn sandbox(server: &str) -> Sandbox {
    relay();
    let sb = Sandbox::new();
    std::fs::set_permissions(sb.dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let etc = sb.path("etc/relayctl");
    std::fs::create_dir_all(&etc).unwrap();
    for dir in [sb.path("etc"), etc.clone()] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let config = format!(
        "default_profile = \"p\"\n\n[aliases]\nroot = \"ops@example.org\"\n\n[profiles.p]\npreset = \"smarthost\"\nhost = \"127.0.0.1\"\nport = 25\ntls = \"none\"\nfrom = \"relay@example.org\"\n\n[server]\n{server}\n"
    );
    std::fs::write(etc.join("config.toml"), config).unwrap();
    sb
}

/// A running `relayctl serve`, killed when dropped.
pub struct Served {
    child: Child,
    /// What it wrote on stderr so far (its log: `RELAYCTL_LOG=stderr`).
    log: Arc<Mutex<String>>,
    pub port: u16,
}

impl Served {
    /// Starts `relayctl serve --listen 127.0.0.1:PORT` (and `extra` arguments) in `sb` as root,
    /// and waits until it accepts connections.
    pub fn start(sb: &Sandbox, extra: &[&str]) -> Served {
        Served::start_under(sb, &[], extra)
    }

    /// [`Served::start`] through `wrapper`, a program and its arguments (`prlimit
    /// --nofile=64`) that runs the command line following them.
    pub fn start_under(sb: &Sandbox, wrapper: &[&str], extra: &[&str]) -> Served {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec!["serve", "--listen", &listen];
        args.extend_from_slice(extra);
        let command = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut command = sb.program(program);
                command
                    .args(rest)
                    .arg(env!("CARGO_BIN_EXE_relayctl"))
                    .args(&args);
                command
            }
            None => sb.command(&args),
        };
        let served = Served::spawn(command, port);
        served.wait_log(&["listening on"]);
        served
    }

    /// Runs `command` (relayctl serve, or a program that starts it) with its log on stderr,
    /// without waiting for it; `port` is where clients reach it.
    pub fn spawn(mut command: Command, port: u16) -> Served {
        ensure_server_user();
        let mut child = command
            .env("RELAYCTL_LOG", "stderr")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn relayctl serve");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        Served { child, log, port }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) for a log line containing every one of `needles`.
    pub fn wait_log(&self, needles: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log();
            if let Some(line) = log.lines().find(|l| needles.iter().all(|n| l.contains(n))) {
                return line.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {needles:?}:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }

    /// Waits (up to 15 s) for the exit status.
    pub fn wait(mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for serve") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not exit:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn stop(self) -> std::process::ExitStatus {
        self.terminate();
        self.wait()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal SMTP client for the dialogues real clients do not produce on purpose.
pub struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    /// Connects and reads the greeting.
    pub fn connect(port: u16) -> (Client, String) {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the listener");
        Client::over(stream)
    }

    /// A client on `stream`, already connected to the listener; reads the greeting.
    pub fn over(stream: TcpStream) -> (Client, String) {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut client = Client {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        };
        let greeting = client.reply();
        (client, greeting)
    }

    /// Reads one (possibly multi-line) reply; empty when the server closed.
    pub fn reply(&mut self) -> String {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).unwrap_or(0) == 0 {
                return reply;
            }
            reply.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return reply;
            }
        }
    }

    /// Sends raw bytes.
    pub fn send(&mut self, bytes: &[u8]) {
        let _ = self.writer.write_all(bytes);
    }

    /// Sends one command line and reads the reply.
    pub fn command(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }

    /// Whether the server closed the connection (reads to the end).
    pub fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        self.reader.read_to_end(&mut rest).is_ok()
    }
}

/// Runs `relayctl queue run` in `sb` (root's runner: it imports the maildrop and delivers).
pub fn queue_run(sb: &Sandbox) {
    sb.run(&["queue", "run"], b"").ok();
}

/// A Python smtplib client script, run with `args`.
pub fn python(script: &str, args: &[&str]) -> std::process::Output {
    Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3")
}

/// An app on loopback (not logged in) sends through the listener: it gets 250 once the message
/// is in the maildrop, the listener runs as its own user, and the root runner delivers it with
/// the profile's sender and the client recorded.
#[test]
fn an_app_on_loopback_sends_through_the_listener_to_the_relay() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox("");
    let served = Served::start(&sb, &[]);
    let m = marker("listener-app");
    let script = r#"
import smtplib, sys
port, m = int(sys.argv[1]), sys.argv[2]
body = ("From: Grafana <grafana@apps.example>\r\nTo: ops@example.org\r\nSubject: " + m +
        "\r\n\r\nline one\r\n.leading dot\r\n")
with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
    s.ehlo("app.test")
    print(s.sendmail("grafana@apps.example", ["root"], body))
"#;
    let out = python(script, &[&served.port.to_string(), &m]);
    assert!(out.status.success(), "smtplib: {out:?}");
    let line = served.wait_log(&["event=message", "status=accepted"]);
    assert!(
        line.contains("client=127.0.0.1") && line.contains("result=250"),
        "{line}"
    );

    // The process that parses SMTP is the listener's user, not root.
    assert_runs_as_server_user(served.pid());

    queue_run(&sb);
    let got = wait_for(&m);
    let text = got.text();
    assert!(
        text.contains("X-Relayctl-Submitter: SMTP client 127.0.0.1\r\n"),
        "{text}"
    );
    assert!(
        text.contains("From: \"Grafana\" <relay@example.org>\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\n\r\nline one\r\n.leading dot\r\n"),
        "{text}"
    );
    assert!(
        got.mail_from.starts_with("<relay@example.org>"),
        "{}",
        got.mail_from
    );
    assert_eq!(got.rcpt_to, ["<ops@example.org>"]);
    assert_eq!(served.stop().code(), Some(0));
}

/// A server user logs in (AUTH PLAIN, loopback) and sends as one of its senders; the same user
/// naming another sender gets 553, a wrong password 535, and nothing of those is queued.
#[test]
fn a_server_user_logs_in_and_sends_only_as_its_senders() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox("");
    sb.run(
        &[
            "server",
            "user",
            "add",
            "grafana",
            "--sender",
            "@apps.example",
            "--password-stdin",
        ],
        b"s3cret-Pw\n",
    )
    .ok();
    let users = sb.path("etc/relayctl/smtpd-users.toml");
    let meta = std::fs::metadata(&users).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o640);
    let stored = std::fs::read_to_string(&users).unwrap();
    assert!(
        stored.contains("$argon2id$") && !stored.contains("s3cret-Pw"),
        "{stored}"
    );

    let served = Served::start(&sb, &[]);
    let m = marker("listener-user");
    let script = r#"
import smtplib, sys
port, m = int(sys.argv[1]), sys.argv[2]
with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
    s.ehlo("app.test")
    try:
        s.login("grafana", "wrong")
    except smtplib.SMTPAuthenticationError as e:
        print("wrong", e.smtp_code)
    s.login("grafana", "s3cret-Pw")
    try:
        s.sendmail("ceo@corp.example", ["ops@example.org"], "Subject: spoof-" + m + "\r\n\r\nx\r\n")
    except smtplib.SMTPSenderRefused as e:
        print("foreign", e.smtp_code, e.smtp_error.decode())
    body = "From: Alerts <alerts@apps.example>\r\nSubject: " + m + "\r\n\r\nok\r\n"
    print("sent", s.sendmail("alerts@apps.example", ["ops@example.org"], body))
"#;
    let out = python(script, &[&served.port.to_string(), &m]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "smtplib: {out:?}");
    assert!(stdout.contains("wrong 535"), "{stdout}");
    assert!(stdout.contains("foreign 553 5.7.1"), "{stdout}");
    assert!(stdout.contains("sent {}"), "{stdout}");
    served.wait_log(&["event=login", "user=\"grafana\"", "result=535"]);
    queue_run(&sb);
    let got = wait_for(&m);
    let text = got.text();
    assert!(
        got.mail_from.starts_with("<alerts@apps.example>"),
        "{}",
        got.mail_from
    );
    assert!(
        text.contains("From: Alerts <alerts@apps.example>\r\n"),
        "{text}"
    );
    assert!(
        text.contains("X-Relayctl-Submitter: SMTP client 127.0.0.1 (user grafana)\r\n"),
        "{text}"
    );
    assert!(!crate::harness::arrives_soon(&format!("spoof-{m}")));
}

/// Spamware talks before the greeting and pipelines where RFC 2920 says to wait; both end the
/// connection with nothing queued, while a client that waits is served.
#[test]
fn clients_that_talk_ahead_are_refused() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox("greet_pause = \"1s\"");
    let served = Served::start(&sb, &[]);
    let mut early = TcpStream::connect(("127.0.0.1", served.port)).unwrap();
    early
        .write_all(b"EHLO spam\r\nMAIL FROM:<a@b.example>\r\n")
        .unwrap();
    early
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = String::new();
    let _ = early.read_to_string(&mut answer);
    assert!(answer.starts_with("554 5.5.0"), "{answer:?}");
    assert!(!answer.contains("220"), "{answer:?}");

    let (mut c, greeting) = Client::connect(served.port);
    assert!(greeting.starts_with("220 "), "{greeting}");
    assert!(c.command("EHLO app.test").starts_with("250-"));
    c.send(b"MAIL FROM:<a@apps.example>\r\nRCPT TO:<ops@example.org>\r\nDATA\r\nSubject: ahead\r\n\r\nx\r\n.\r\n");
    assert!(c.reply().starts_with("250 2.1.0"));
    assert!(c.reply().starts_with("250 2.1.5"));
    let refused = c.reply();
    assert!(
        refused.starts_with("554 5.5.0") && refused.contains("after DATA"),
        "{refused}"
    );
    assert!(c.closed());
    served.wait_log(&["event=connection", "improper command pipelining"]);
    assert!(!served.log().contains("event=message"), "{}", served.log());
}

/// A local user who writes a drop file claiming to be the listener's client (a server user
/// with a wide sender list) is refused: only the listener's own user may speak for a client.
#[test]
fn a_local_user_cannot_forge_a_listener_drop() {
    if !as_root(Root::Users) || !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox("");
    sb.run(
        &[
            "server",
            "user",
            "add",
            "billing",
            "--sender",
            "@corp.example",
            "--password-stdin",
        ],
        b"billing-Pw\n",
    )
    .ok();
    // The listener prepares the maildrop of its spool.
    let served = Served::start(&sb, &[]);
    let mallory = "rctest-mallory";
    let _ = Command::new("useradd")
        .args(["--no-create-home", "--shell", "/usr/sbin/nologin", mallory])
        .output();
    let m = marker("forged-drop");
    let forged = format!(
        "{{\"version\":1,\"profile\":\"p\",\"recipients\":[\"victim@example.org\"],\"client\":{{\"address\":\"127.0.0.1\",\"user\":\"billing\"}},\"sender\":\"ceo@corp.example\"}}\nFrom: CEO <ceo@corp.example>\nSubject: {m}\n\npay now\n"
    );
    let path = sb.path("spool/maildrop/0123456789abcdef0123");
    let mut write = Command::new("runuser")
        .args(["-u", mallory, "--", "tee", path.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    write
        .stdin
        .take()
        .unwrap()
        .write_all(forged.as_bytes())
        .unwrap();
    assert!(
        write.wait().unwrap().success(),
        "mallory could not write into the maildrop"
    );
    let run = sb.run(&["queue", "run"], b"");
    assert!(
        run.stderr
            .contains("only the listener's user relayctl-smtpd may"),
        "{run:#?}"
    );
    assert!(!crate::harness::arrives_soon(&m));
    let corrupt: Vec<_> = std::fs::read_dir(sb.path("spool/corrupt"))
        .unwrap()
        .collect();
    assert_eq!(corrupt.len(), 1, "the forged drop is kept for the admin");
    drop(served);
}
