//! The SMTP listener (`relayctl serve`) with the real clients programs use, each message
//! followed through the queue to the real Postfix relay and asserted there (issue 21): Python's
//! smtplib (STARTTLS + AUTH, SMTPUTF8), swaks (pipelining, TLS, AUTH PLAIN and LOGIN), curl
//! (`smtp://` and `smtps://`), `git send-email`, Postfix's own SMTP client, Dovecot's submission
//! service (whose SMTP client sends BDAT: CHUNKING), socket activation by
//! `systemd-socket-activate`, and SIGTERM while a client is in the middle of DATA.
//!
//! The fixture (a sandbox with the profile `p` to the relay, [`Served`], [`Client`]) is
//! listener.rs's.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Captured, Root, Sandbox, as_root, captured, marker, relay, tee, wait_for};
use crate::listener::{
    Client, Served, assert_runs_as_server_user, free_port, python, queue_run, sandbox,
};
use crate::namespace;

/// The password of the server users these tests add.
const PASSWORD: &str = "Listener-Pw-5127";

/// The sender Postfix routes to the listener on [`ROUTE_PORT`] (tests/relay/postfix-up.sh).
const ROUTE_SENDER: &str = "listener-route@relay.test";
const ROUTE_PORT: u16 = 2527;

/// The test relay's directory: its CA, and the certificate for localhost and 127.0.0.1
/// (`server.pem`, `server.key`) the listener serves TLS with.
fn relay_dir() -> PathBuf {
    relay()
        .ca_file
        .parent()
        .expect("the CA file is in a directory")
        .to_path_buf()
}

/// `[server]` settings with the test relay's certificate for STARTTLS and `smtps://`.
fn with_tls(more: &str) -> String {
    let dir = relay_dir();
    format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"\n{more}",
        dir.join("server.pem").display(),
        dir.join("server.key").display()
    )
}

/// Adds the server user `name`, who may send as `sender`, with [`PASSWORD`].
fn add_user(sb: &Sandbox, name: &str, sender: &str) {
    sb.run(
        &[
            "server",
            "user",
            "add",
            name,
            "--sender",
            sender,
            "--password-stdin",
        ],
        format!("{PASSWORD}\n").as_bytes(),
    )
    .ok();
}

/// Runs a client program to its end (at most a minute: a client left waiting fails the test
/// instead of holding the machine's test lock); it must succeed. Returns what it printed
/// (stdout, then stderr).
#[track_caller]
fn run(mut command: Command) -> String {
    command.process_group(0);
    let out = namespace::run(command, b"", Duration::from_secs(60));
    let text = format!("{}{}", out.stdout, out.stderr);
    assert_eq!(out.code, 0, "the client failed:\n{text}");
    text
}

/// The message with `marker`, once the root runner delivered what the listener took.
fn delivered(sb: &Sandbox, marker: &str) -> Captured {
    queue_run(sb);
    wait_for(marker)
}

/// Asserts that `got` came from the unauthenticated client on loopback: the profile's sender,
/// the client recorded.
#[track_caller]
fn assert_from_the_app(got: &Captured) {
    assert!(
        got.mail_from.starts_with("<relay@example.org>"),
        "{}",
        got.mail_from
    );
    assert!(
        got.text()
            .contains("X-Relayctl-Submitter: SMTP client 127.0.0.1\r\n"),
        "{}",
        got.text()
    );
}

/// Python's smtplib asks for STARTTLS (trusting the test CA), logs in as a server user with
/// AUTH PLAIN under TLS and sends as its own sender: the message reaches the relay unchanged,
/// with the user recorded, and the password is nowhere in the listener's log.
#[test]
fn smtplib_starttls_and_auth_reach_the_relay() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox(&with_tls(""));
    add_user(&sb, "grafana", "@apps.example");
    let served = Served::start(&sb, &[]);
    let m = marker("smtplib-tls");
    let script = r#"
import smtplib, ssl, sys
port, ca, password, m = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
    s.ehlo("app.test")
    print("clear:", s.has_extn("starttls"))
    s.starttls(context=ssl.create_default_context(cafile=ca))
    s.ehlo("app.test")
    print("tls:", s.sock.version(), s.has_extn("starttls"), s.esmtp_features["auth"].strip())
    s.login("grafana", password)
    body = ("From: Alerts <alerts@apps.example>\r\nTo: ops@example.org\r\nSubject: " + m +
            "\r\n\r\nover TLS\r\n..two dots\r\n")
    print("refused:", s.sendmail("alerts@apps.example", ["ops@example.org"], body))
"#;
    let ca = relay().ca_file.display().to_string();
    let out = python(script, &[&served.port.to_string(), &ca, PASSWORD, &m]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "smtplib: {out:?}");
    assert!(stdout.contains("clear: True\n"), "{stdout}");
    assert!(
        stdout.contains("tls: TLSv1.3 False PLAIN LOGIN\n"),
        "{stdout}"
    );
    assert!(stdout.contains("refused: {}\n"), "{stdout}");

    let got = delivered(&sb, &m);
    assert!(
        got.mail_from.starts_with("<alerts@apps.example>"),
        "{}",
        got.mail_from
    );
    assert_eq!(got.rcpt_to, ["<ops@example.org>"]);
    let text = got.text();
    assert!(
        text.contains(&format!(
            "From: Alerts <alerts@apps.example>\r\nTo: ops@example.org\r\nSubject: {m}\r\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("X-Relayctl-Submitter: SMTP client 127.0.0.1 (user grafana)\r\n"),
        "{text}"
    );
    assert_eq!(got.body(), b"over TLS\r\n..two dots\r\n");
    let line = served.wait_log(&["event=message", "status=accepted"]);
    assert!(line.contains("user=\"grafana\""), "{line}");
    assert!(!served.log().contains(PASSWORD), "{}", served.log());
    assert_eq!(served.stop().code(), Some(0));
}

/// smtplib sends with the SMTPUTF8 MAIL parameter, to a recipient with a UTF-8 local part,
/// with raw UTF-8 in the headers (RFC 6532) and in the body: relayctl passes SMTPUTF8 on to
/// Postfix (which takes it "with UTF8SMTP" and passes it on to the capture), the recipient
/// and the UTF-8 bytes unchanged, and the display name of the From it rewrites to the
/// profile's sender encoded (RFC 2047).
#[test]
fn smtplib_smtputf8_reaches_the_relay() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox("");
    let served = Served::start(&sb, &[]);
    let m = marker("smtplib-utf8");
    let script = r#"
import smtplib, sys
port, m = int(sys.argv[1]), sys.argv[2]
body = ("From: Jörg Müller <app@apps.example>\r\nTo: Jürgen <jürgen@example.org>\r\n" +
        "Subject: Grüße " + m + "\r\n\r\nHallo Jürgen, ½ € 🌍\r\n").encode()
with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
    s.ehlo("app.test")
    print("smtputf8:", s.has_extn("smtputf8"))
    print("refused:", s.sendmail("app@apps.example", ["jürgen@example.org"], body,
                                 mail_options=["SMTPUTF8"]))
"#;
    let out = python(script, &[&served.port.to_string(), &m]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "smtplib: {out:?}");
    assert!(stdout.contains("smtputf8: True\nrefused: {}\n"), "{stdout}");

    let got = delivered(&sb, &m);
    assert_from_the_app(&got);
    assert!(
        got.mail_from.ends_with(" SMTPUTF8"),
        "Postfix did not pass SMTPUTF8 on: {}",
        got.mail_from
    );
    assert_eq!(got.rcpt_to, ["<jürgen@example.org>"]);
    let text = got.text();
    assert!(
        text.contains("by relay.test (Postfix) with UTF8SMTP id "),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "From: =?utf-8?b?SsO2cmcgTcO8bGxlcg==?= <relay@example.org>\r\nTo: Jürgen <jürgen@example.org>\r\nSubject: Grüße {m}\r\n"
        )),
        "{text}"
    );
    assert_eq!(got.body(), "Hallo Jürgen, ½ € 🌍\r\n".as_bytes());
    assert_eq!(served.stop().code(), Some(0));
}

/// The per-line deadline (`timeout`) counts SMTP lines, which under TLS only the plaintext
/// shows. smtplib keeps a STARTTLS session for three times `timeout`, checking it with NOOP as
/// pooling mail libraries do, then sends: it is served to the end and its message reaches the
/// relay. Meanwhile a TLS client that never ends its line (a byte every 20 ms) is cut after
/// `timeout`. Both failed when any 0x0A byte of the ciphertext reset the deadline: the first
/// client was cut at random, the second lived on.
#[test]
fn tls_clients_are_timed_by_their_lines_not_the_ciphertext() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox(&with_tls("timeout = \"1s\""));
    let served = Served::start(&sb, &[]);
    let ca = relay().ca_file.display().to_string();
    let port = served.port.to_string();
    let slow = r#"
import smtplib, ssl, sys, time
port, ca = int(sys.argv[1]), sys.argv[2]
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
s.ehlo("slow.test")
s.starttls(context=ssl.create_default_context(cafile=ca))
s.ehlo("slow.test")
s.sock.settimeout(0.001)
s.sock.sendall(b"NOOP")
start = time.time()
while time.time() - start < 3:
    try:
        s.sock.sendall(b" ")
        answer = s.sock.recv(100)
        print("cut after %.1f s: %r" % (time.time() - start, answer))
        break
    except (TimeoutError, ssl.SSLWantReadError):
        time.sleep(0.02)
    except OSError as e:
        print("cut after %.1f s: %r" % (time.time() - start, e))
        break
else:
    print("served for 3 s without a line")
"#;
    let slow = std::thread::scope(|scope| {
        let slow = scope.spawn(|| python(slow, &[&port, &ca]));
        let m = marker("tls-keepalive");
        let steady = r#"
import smtplib, ssl, sys, time
port, ca, m = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
    s.ehlo("app.test")
    s.starttls(context=ssl.create_default_context(cafile=ca))
    s.ehlo("app.test")
    for _ in range(12):
        reply = s.noop()
        assert reply[0] == 250, reply
        time.sleep(0.25)
    body = "Subject: " + m + "\r\n\r\nafter 3 s of NOOP\r\n"
    print("refused:", s.sendmail("app@apps.example", ["ops@example.org"], body))
"#;
        let out = python(steady, &[&port, &ca, &m]);
        assert!(out.status.success(), "smtplib was cut off: {out:?}");
        let got = delivered(&sb, &m);
        assert_from_the_app(&got);
        assert_eq!(got.body(), b"after 3 s of NOOP\r\n");
        slow.join().unwrap()
    });
    let said = String::from_utf8_lossy(&slow.stdout);
    let cut = said
        .strip_prefix("cut after ")
        .and_then(|s| s.split_once(" s: "));
    match cut {
        Some((after, answer)) => {
            assert!(answer.contains("421 4.4.2"), "{said}");
            let after: f64 = after.parse().unwrap();
            assert!(
                after < 2.0,
                "the client without a line ended was cut after {after} s"
            );
        }
        None => panic!("the client without a line ended was not cut: {said} {slow:?}"),
    }
    served.wait_log(&["event=connection", "text=\"client too slow\""]);
    assert_eq!(served.stop().code(), Some(0));
}

/// swaks pipelines MAIL, RCPT and DATA in one flight (an app, not logged in); then asks for
/// STARTTLS, verifying the certificate against the test CA, and logs in with AUTH PLAIN, and
/// again with AUTH LOGIN while pipelining: all three messages reach the relay, dot-stuffing
/// undone.
#[test]
fn swaks_pipelining_tls_and_auth_plain_and_login() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox(&with_tls(""));
    add_user(&sb, "grafana", "@apps.example");
    let served = Served::start(&sb, &[]);
    let server = format!("127.0.0.1:{}", served.port);
    let ca = relay().ca_file.display().to_string();
    let swaks = |from: &str, subject: &str, extra: &[&str]| {
        let header = format!("Subject: {subject}");
        let mut swaks = Command::new("swaks");
        swaks
            .args(["--server", &server, "--helo", "app.test", "--from", from])
            .args(["--to", "ops@example.org", "--header", &header])
            .args(["--body", "line one\n.dot line\nend"])
            .args(extra);
        run(swaks)
    };
    let tls = ["--tls", "--tls-verify", "--tls-ca-path", &ca];
    let login = |mechanism| {
        [
            "--auth",
            mechanism,
            "--auth-user",
            "grafana",
            "--auth-password",
            PASSWORD,
        ]
    };

    let pipelined = marker("swaks-pipeline");
    let out = swaks("app@apps.example", &pipelined, &["--pipeline"]);
    assert!(
        out.contains(
            " -> MAIL FROM:<app@apps.example>\n -> RCPT TO:<ops@example.org>\n -> DATA\n<-  250 2.1.0 Ok\n<-  250 2.1.5 Ok\n<-  354 "
        ),
        "{out}"
    );
    let plain = marker("swaks-plain");
    let out = swaks(
        "alerts@apps.example",
        &plain,
        &[&tls[..], &login("PLAIN")[..]].concat(),
    );
    assert!(out.contains("=== TLS started with cipher TLSv1.3"), "{out}");
    assert!(out.contains(" ~> AUTH PLAIN "), "{out}");
    assert!(
        out.contains("<~  235 2.7.0 Authentication successful"),
        "{out}"
    );
    let login_marker = marker("swaks-login");
    let out = swaks(
        "alerts@apps.example",
        &login_marker,
        &[&tls[..], &login("LOGIN")[..], &["--pipeline"][..]].concat(),
    );
    assert!(
        out.contains(" ~> AUTH LOGIN\n<~  334 VXNlcm5hbWU6"),
        "{out}"
    );
    assert!(
        out.contains("<~  235 2.7.0 Authentication successful"),
        "{out}"
    );
    assert!(
        out.contains(
            " ~> MAIL FROM:<alerts@apps.example>\n ~> RCPT TO:<ops@example.org>\n ~> DATA\n"
        ),
        "{out}"
    );

    queue_run(&sb);
    let got = wait_for(&pipelined);
    assert_from_the_app(&got);
    for m in [&pipelined, &plain, &login_marker] {
        let got = wait_for(m);
        assert_eq!(got.rcpt_to, ["<ops@example.org>"]);
        assert!(
            got.text().contains(&format!("\r\nSubject: {m}\r\n")),
            "{}",
            got.text()
        );
        let body = String::from_utf8_lossy(got.body()).into_owned();
        assert_eq!(body.trim_end(), "line one\r\n.dot line\r\nend", "{m}");
        if *m != pipelined {
            assert!(
                got.mail_from.starts_with("<alerts@apps.example>"),
                "{}",
                got.mail_from
            );
            assert!(
                got.text()
                    .contains("X-Relayctl-Submitter: SMTP client 127.0.0.1 (user grafana)\r\n"),
                "{}",
                got.text()
            );
        }
    }
    assert_eq!(served.stop().code(), Some(0));
}

/// curl uploads a message over `smtp://` (an app, not logged in) and over `smtps://` (implicit
/// TLS on a listen entry of its own, the test CA trusted with `--cacert`, logged in with
/// `--user`): both reach the relay byte for byte.
#[test]
fn curl_uploads_over_smtp_and_smtps() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox(&with_tls(""));
    add_user(&sb, "backup", "@apps.example");
    let tls_port = free_port();
    let smtps = format!("smtps://127.0.0.1:{tls_port}");
    let served = Served::start(&sb, &["--listen", &smtps]);
    let body = "Nightly backup done.\r\n.hidden file kept\r\n\r\n-- \r\nbackup\r\n";
    let upload = |url: &str, from: &str, m: &str, extra: &[&str]| {
        let file = sb.path(&format!("{m}.eml"));
        let message =
            format!("From: Backup <{from}>\r\nTo: ops@example.org\r\nSubject: {m}\r\n\r\n{body}");
        std::fs::write(&file, message).unwrap();
        let mut curl = Command::new("curl");
        curl.args([
            "--silent",
            "--show-error",
            "--url",
            url,
            "--mail-from",
            from,
        ])
        .args(["--mail-rcpt", "ops@example.org", "--upload-file"])
        .arg(&file)
        .args(extra);
        run(curl)
    };
    let clear = marker("curl-smtp");
    upload(
        &format!("smtp://127.0.0.1:{}", served.port),
        "app@apps.example",
        &clear,
        &[],
    );
    let implicit = marker("curl-smtps");
    let ca = relay().ca_file.display().to_string();
    let user = format!("backup:{PASSWORD}");
    upload(
        &smtps,
        "backup@apps.example",
        &implicit,
        &["--cacert", &ca, "--user", &user],
    );

    queue_run(&sb);
    let got = wait_for(&clear);
    assert_from_the_app(&got);
    assert_eq!(got.body(), body.as_bytes());
    let got = wait_for(&implicit);
    assert!(
        got.mail_from.starts_with("<backup@apps.example>"),
        "{}",
        got.mail_from
    );
    assert!(
        got.text().contains(&format!(
            "X-Relayctl-Submitter: SMTP client 127.0.0.1 (user backup)\r\nFrom: Backup <backup@apps.example>\r\nTo: ops@example.org\r\nSubject: {implicit}\r\n"
        )),
        "{}",
        got.text()
    );
    assert_eq!(got.body(), body.as_bytes());
    assert_eq!(served.stop().code(), Some(0));
}

/// `git send-email --smtp-server=127.0.0.1 --smtp-server-port=PORT` sends a patch made in a
/// throwaway repository: the relay gets the patch as git wrote it (lines with a leading dot
/// too), with CRLF line ends.
#[test]
fn git_send_email_sends_a_patch() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox("");
    let served = Served::start(&sb, &[]);
    let m = marker("git-send-email");
    let repo = sb.path("repo");
    let git = |args: &[&str]| {
        let mut git = sb.program("git");
        git.arg("-C")
            .arg(&repo)
            .args([
                "-c",
                "user.name=Dev One",
                "-c",
                "user.email=dev@apps.example",
            ])
            .args(args);
        run(git)
    };
    std::fs::create_dir(&repo).unwrap();
    git(&["init", "--quiet"]);
    std::fs::write(repo.join("notes.txt"), "one\n").unwrap();
    git(&["add", "notes.txt"]);
    git(&["commit", "--quiet", "-m", "Start the notes"]);
    std::fs::write(repo.join("notes.txt"), "one\ntwo\n.three\n").unwrap();
    let message = format!("Add two notes {m}\n\n.profile-style lines start with a dot.");
    git(&["commit", "--quiet", "--all", "-m", &message]);
    git(&["format-patch", "--quiet", "-1", "-o", "../patches"]);
    let patch = std::fs::read_dir(sb.path("patches"))
        .unwrap()
        .next()
        .expect("a patch")
        .unwrap()
        .path();
    let port = format!("--smtp-server-port={}", served.port);
    let out = git(&[
        "send-email",
        "--smtp-server=127.0.0.1",
        &port,
        "--from=Dev One <dev@apps.example>",
        "--to=ops@example.org",
        "--suppress-cc=all",
        "--confirm=never",
        patch.to_str().unwrap(),
    ]);
    assert!(out.contains("\nResult: 250"), "{out}");

    let got = delivered(&sb, &m);
    assert_from_the_app(&got);
    assert_eq!(got.rcpt_to, ["<ops@example.org>"]);
    let text = got.text();
    assert!(
        text.contains(&format!("\r\nSubject: [PATCH] Add two notes {m}\r\n")),
        "{text}"
    );
    assert!(
        text.contains("\r\nFrom: \"Dev One\" <relay@example.org>\r\n"),
        "{text}"
    );
    let written = std::fs::read_to_string(&patch).unwrap();
    let (_, patch_body) = written.split_once("\n\n").expect("a patch body");
    assert_eq!(
        String::from_utf8_lossy(got.body()),
        patch_body.replace('\n', "\r\n")
    );
    assert!(
        patch_body.starts_with(".profile-style lines"),
        "the patch lacks the line with a leading dot: {patch_body}"
    );
    assert_eq!(served.stop().code(), Some(0));
}

/// Postfix's own SMTP client as the listener's client: the test relay sends mail from
/// [`ROUTE_SENDER`] to a listener on [`ROUTE_PORT`] (tests/relay/postfix-up.sh), the listener
/// takes it (Postfix logs the listener's 250), and the root runner delivers it back through
/// Postfix with the profile's sender, which Postfix sends to the capture: headers and body
/// arrive as they were written, once. (Postfix's SMTP client has no BDAT, only its server:
/// CHUNKING is Dovecot's test below.)
#[test]
fn postfix_smtp_client_sends_through_the_listener() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox("");
    let served = Served::start(&sb, &["--listen", &format!("127.0.0.1:{ROUTE_PORT}")]);
    let m = marker("postfix-client");
    let head = format!(
        "From: Cron Daemon <root@app-host.example>\r\nTo: ops@example.org\r\nSubject: {m}\r\n"
    );
    let body = "first line\r\n.leading dot\r\n\r\nlast line\r\n";
    let (mut postfix, greeting) = Client::connect(25);
    assert!(greeting.starts_with("220 "), "{greeting}");
    assert!(postfix.command("EHLO app-host.example").starts_with("250"));
    let mail = postfix.command(&format!("MAIL FROM:<{ROUTE_SENDER}>"));
    assert!(mail.starts_with("250"), "{mail}");
    assert!(
        postfix
            .command("RCPT TO:<ops@example.org>")
            .starts_with("250")
    );
    assert!(postfix.command("DATA").starts_with("354"));
    postfix.send(format!("{head}\r\n{}.\r\n", body.replace("\r\n.", "\r\n..")).as_bytes());
    let queued = postfix.reply();
    assert!(queued.starts_with("250 2.0.0 Ok: queued as "), "{queued}");
    postfix.command("QUIT");

    let line = served.wait_log(&["event=message", "status=accepted"]);
    assert!(line.contains("client=127.0.0.1 user=-"), "{line}");
    let receipt = line
        .split("receipt=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a receipt");
    let postfix_log = relay_dir().join("postfix.log");
    let sent = format!("relay=127.0.0.1[127.0.0.1]:{ROUTE_PORT},");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = std::fs::read_to_string(&postfix_log).unwrap_or_default();
        if log.lines().any(|l| {
            l.contains(&sent) && l.contains(&format!("status=sent (250 2.0.0 Ok: {receipt})"))
        }) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Postfix did not log its delivery to the listener"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let got = delivered(&sb, &m);
    assert_from_the_app(&got);
    assert_eq!(got.rcpt_to, ["<ops@example.org>"]);
    let text = got.text();
    assert!(
        text.contains(&format!(
            "From: \"Cron Daemon\" <relay@example.org>\r\nTo: ops@example.org\r\nSubject: {m}\r\n"
        )),
        "{text}"
    );
    // Postfix's two hops: from the test into the listener's client, from relayctl to the capture.
    assert_eq!(
        text.matches("by relay.test (Postfix) with ESMTP id ")
            .count(),
        2,
        "{text}"
    );
    assert_eq!(got.body(), body.as_bytes());
    let copies = captured().iter().filter(|c| c.text().contains(&m)).count();
    assert_eq!(copies, 1, "the message went round more than once");
    assert_eq!(served.stop().code(), Some(0));
}

/// Dovecot's submission service, run as an MSA in front of the listener (it logs in as a
/// server user), whose SMTP client sends the message with BDAT when the listener offers
/// CHUNKING. A tee between them shows the BDAT command; the relay gets the message byte for
/// byte (lines with a leading dot are not stuffed in BDAT and must not be unstuffed).
#[test]
fn dovecot_submission_sends_with_bdat() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox("");
    add_user(&sb, "submission", "@apps.example");
    let served = Served::start(&sb, &[]);
    let tee = tee(served.port);
    let dovecot = Dovecot::start(&sb, tee.addr().port());
    let m = marker("dovecot-bdat");
    let mut body = String::new();
    for i in 0..400 {
        body.push_str(&format!("{i:04} {}\r\n", "x".repeat(70)));
        if i % 100 == 0 {
            body.push_str(".dot at the start\r\n..two dots\r\n");
        }
    }
    let script = r#"
import smtplib, sys
port, password, m, body = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
message = "From: Alice <alice@apps.example>\r\nTo: ops@example.org\r\nSubject: " + m + "\r\n\r\n" + body
with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
    s.ehlo("app.test")
    s.login("alice", password)
    print("refused:", s.sendmail("alice@apps.example", ["ops@example.org"], message))
"#;
    let out = python(script, &[&dovecot.port.to_string(), PASSWORD, &m, &body]);
    assert!(
        out.status.success(),
        "smtplib to Dovecot: {out:?}\n{}",
        dovecot.log()
    );
    let sent = String::from_utf8_lossy(&tee.sent().concat()).into_owned();
    let commands: Vec<&str> = sent
        .lines()
        .filter(|l| {
            ["EHLO", "AUTH", "MAIL", "RCPT", "BDAT", "DATA"]
                .iter()
                .any(|v| l.starts_with(v))
        })
        .collect();
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("BDAT ") && c.ends_with(" LAST")),
        "Dovecot did not send BDAT: {commands:?}"
    );
    assert!(!commands.contains(&"DATA"), "{commands:?}");

    let got = delivered(&sb, &m);
    assert!(
        got.mail_from.starts_with("<alice@apps.example>"),
        "{}",
        got.mail_from
    );
    let text = got.text();
    assert!(
        text.contains("X-Relayctl-Submitter: SMTP client 127.0.0.1 (user submission)\r\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "From: Alice <alice@apps.example>\r\nTo: ops@example.org\r\nSubject: {m}\r\n"
        )),
        "{text}"
    );
    assert_eq!(String::from_utf8_lossy(got.body()), body);
    drop(dovecot);
    assert_eq!(served.stop().code(), Some(0));
}

/// Dovecot's submission service (dovecot-submissiond) in the foreground, with a configuration of
/// its own: any user logs in with [`PASSWORD`], and it relays to `relay_port` as the server
/// user `submission`.
struct Dovecot {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Dovecot {
    fn start(sb: &Sandbox, relay_port: u16) -> Dovecot {
        let dir = sb.path("dovecot");
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let d = dir.display();
        let config = format!(
            "protocols = submission\n\
             instance_name = relayctl-test-submission\n\
             base_dir = {d}/run\n\
             state_dir = {d}/state\n\
             log_path = {d}/dovecot.log\n\
             ssl = no\n\
             disable_plaintext_auth = no\n\
             auth_mechanisms = plain\n\
             hostname = submission.test\n\
             mail_location = maildir:{d}/mail/%u\n\
             passdb {{\n  driver = static\n  args = password={PASSWORD}\n}}\n\
             userdb {{\n  driver = static\n  args = uid=nobody gid=nogroup home=/nonexistent\n}}\n\
             submission_relay_host = 127.0.0.1\n\
             submission_relay_port = {relay_port}\n\
             submission_relay_ssl = no\n\
             submission_relay_user = submission\n\
             submission_relay_password = {PASSWORD}\n\
             service submission-login {{\n  inet_listener submission {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n}}\n"
        );
        let conf = dir.join("dovecot.conf");
        std::fs::write(&conf, config).unwrap();
        let child = Command::new("dovecot")
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dovecot (apt-get install dovecot-core dovecot-submissiond)");
        let dovecot = Dovecot { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "Dovecot's submission service did not start:\n{}",
                dovecot.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        dovecot
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// `systemd-socket-activate` binds two sockets and starts `relayctl serve` when the first
/// client connects: serve uses the passed sockets (the second one implicit TLS, as its
/// `smtps://` listen entry says) and binds nothing itself, drops root, and both messages,
/// swaks's on the socket it was started for and curl's over TLS, reach the relay.
#[test]
fn socket_activation_serves_on_the_passed_sockets() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox(&with_tls(""));
    let (plain, tls, unused) = (free_port(), free_port(), free_port());
    let mut activate = sb.program("systemd-socket-activate");
    activate.args([
        "-l",
        &format!("127.0.0.1:{plain}"),
        "-l",
        &format!("127.0.0.1:{tls}"),
    ]);
    for var in [
        "RELAYCTL_SYSTEM_CONFIG",
        "RELAYCTL_SPOOL",
        "RELAYCTL_LOG",
        "HOME",
        "XDG_CONFIG_HOME",
    ] {
        activate.args(["-E", var]);
    }
    activate
        .arg(env!("CARGO_BIN_EXE_relayctl"))
        .args(["serve", "--listen", &format!("smtps://127.0.0.1:{tls}")])
        .args(["--listen", &format!("127.0.0.1:{unused}")]);
    let served = Served::spawn(activate, plain);
    served.wait_log(&[&format!("Listening on 127.0.0.1:{tls} as 4.")]);
    assert!(!served.log().contains("relayctl:"), "{}", served.log());

    // The first client's connection waits in the passed socket while relayctl starts.
    let first = marker("activated-swaks");
    let mut swaks = Command::new("swaks");
    swaks
        .args(["--server", &format!("127.0.0.1:{plain}")])
        .args(["--helo", "app.test", "--from", "app@apps.example"])
        .args([
            "--to",
            "ops@example.org",
            "--header",
            &format!("Subject: {first}"),
        ]);
    run(swaks);
    served.wait_log(&[&format!(
        "listening on 127.0.0.1:{plain}, smtps://127.0.0.1:{tls}"
    )]);
    let second = marker("activated-curl");
    let file = sb.path("mail.eml");
    std::fs::write(
        &file,
        format!("Subject: {second}\r\n\r\nover the passed TLS socket\r\n"),
    )
    .unwrap();
    let mut curl = Command::new("curl");
    curl.args(["--silent", "--show-error"])
        .args(["--url", &format!("smtps://127.0.0.1:{tls}")])
        .args(["--cacert", relay().ca_file.to_str().unwrap()])
        .args(["--mail-from", "app@apps.example"])
        .args(["--mail-rcpt", "ops@example.org", "--upload-file"])
        .arg(&file);
    run(curl);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", unused)).is_err(),
        "serve bound its --listen address although sockets were passed"
    );
    assert_runs_as_server_user(served.pid());

    queue_run(&sb);
    assert_from_the_app(&wait_for(&first));
    let got = wait_for(&second);
    assert_from_the_app(&got);
    assert_eq!(got.body(), b"over the passed TLS socket\r\n");
    assert_eq!(served.stop().code(), Some(0));
}

/// SIGTERM while one client is in the middle of DATA and another is idle: the idle client is
/// told 421, a new client is refused, the client in DATA finishes its message and gets 250,
/// serve exits 0 once it is done, and the message that got 250 is delivered.
#[test]
fn sigterm_during_data_loses_nothing_that_got_250() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox("");
    let served = Served::start(&sb, &[]);
    let m = marker("sigterm-data");
    let (mut busy, _) = Client::connect(served.port);
    assert!(busy.command("EHLO app.test").starts_with("250"));
    assert!(
        busy.command("MAIL FROM:<app@apps.example>")
            .starts_with("250")
    );
    assert!(busy.command("RCPT TO:<ops@example.org>").starts_with("250"));
    assert!(busy.command("DATA").starts_with("354"));
    busy.send(format!("Subject: {m}\r\n\r\nfirst half\r\n").as_bytes());
    let (mut idle, _) = Client::connect(served.port);
    assert!(idle.command("EHLO idle.test").starts_with("250"));

    let signalled = Instant::now();
    served.terminate();
    let told = idle.reply();
    assert!(told.starts_with("421 4.3.2 "), "{told:?}");
    assert!(idle.closed());
    assert!(
        signalled.elapsed() < Duration::from_secs(3),
        "the idle client waited {:?}",
        signalled.elapsed()
    );
    let refused = std::net::TcpStream::connect(("127.0.0.1", served.port));
    assert!(refused.is_err(), "a new client was accepted after SIGTERM");

    busy.send(b"second half\r\n.\r\n");
    let accepted = busy.reply();
    assert!(accepted.starts_with("250 2.0.0 Ok: "), "{accepted:?}");
    drop(busy);
    served.wait_log(&["event=connection", "text=\"shutting down\""]);
    let log = served.log();
    let status = served.wait();
    assert_eq!(status.code(), Some(0), "{log}");

    let got = delivered(&sb, &m);
    assert_from_the_app(&got);
    assert_eq!(got.body(), b"first half\r\nsecond half\r\n");
}
