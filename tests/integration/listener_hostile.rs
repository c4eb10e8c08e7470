//! The SMTP listener (`relayctl serve`) against hostile clients, ending at the real Postfix relay:
//!
//! - a client outside `allow`, in a network namespace of the test's own, cannot relay without
//!   logging in, is offered AUTH only under TLS, and may send only as its server user's senders;
//! - floods of idle connections, a slowloris client, an endless command line, 10,000 recipients
//!   and SMTP smuggling payloads neither stop the listener serving a well-behaved client, nor
//!   leave descriptors or threads behind, nor cost unbounded memory;
//! - the process that parses SMTP holds no capability and cannot read a relay secret.
//!
//! Every test watches the listener's process through `/proc/PID/{fd,status}`; the listener is
//! started with [`Served`] from `listener.rs`.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::harness::{Root, Sandbox, arrives_soon, as_root, marker, relay, wait_for};
use crate::listener::{Client, SERVER_USER, Served, queue_run, sandbox};

/// A network namespace joined to the host by a veth pair: the client's end, `client`
/// (10.200.N.2), inside it, and the host's end, `host` (10.200.N.1), on the host. The addresses
/// exist on the pair only, so nothing the namespace sends leaves the machine. Removed on drop.
struct Outside {
    ns: String,
    host_link: String,
    host: Ipv4Addr,
    client: Ipv4Addr,
}

impl Outside {
    fn new() -> Outside {
        let pid = std::process::id();
        let n = u8::try_from(pid % 200).unwrap() + 20;
        let outside = Outside {
            ns: format!("relayctl-outside-{pid}"),
            host_link: format!("rcout{}", pid % 100_000),
            host: Ipv4Addr::new(10, 200, n, 1),
            client: Ipv4Addr::new(10, 200, n, 2),
        };
        outside.remove();
        let peer = format!("{}n", outside.host_link);
        let host_net = format!("{}/30", outside.host);
        let client_net = format!("{}/30", outside.client);
        for args in [
            vec!["netns", "add", &outside.ns],
            vec![
                "link",
                "add",
                &outside.host_link,
                "type",
                "veth",
                "peer",
                "name",
                &peer,
                "netns",
                &outside.ns,
            ],
            vec!["addr", "add", &host_net, "dev", &outside.host_link],
            vec!["link", "set", &outside.host_link, "up"],
            vec!["-n", &outside.ns, "addr", "add", &client_net, "dev", &peer],
            vec!["-n", &outside.ns, "link", "set", &peer, "up"],
            vec!["-n", &outside.ns, "link", "set", "lo", "up"],
        ] {
            let out = Command::new("ip")
                .args(&args)
                .output()
                .expect("ip (iproute2)");
            assert!(
                out.status.success(),
                "ip {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        outside
    }

    /// `python3 -c script args` inside the namespace.
    fn python(&self, script: &str, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.ns, "python3", "-c", script])
            .args(args)
            .output()
            .expect("ip netns exec python3")
    }

    fn remove(&self) {
        // Deleting the namespace deletes the peer inside it, and with it the host's end.
        for args in [["netns", "del", &self.ns], ["link", "del", &self.host_link]] {
            let _ = Command::new("ip").args(args).output();
        }
    }
}

impl Drop for Outside {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A TCP connection to the listener on 127.0.0.1 from the loopback address `from`.
fn connect_from(from: Ipv4Addr, port: u16) -> TcpStream {
    use rustix::net::{AddressFamily, SocketType, bind, connect, socket};
    let fd = socket(AddressFamily::INET, SocketType::STREAM, None).expect("socket");
    bind(&fd, &SocketAddrV4::new(from, 0)).expect("bind a loopback address");
    connect(&fd, &SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).expect("connect");
    TcpStream::from(fd)
}

/// A well-behaved client from `from` sends one message whose subject is `marker`, and is told
/// 250 once it is in the maildrop.
fn well_behaved(port: u16, from: Ipv4Addr, marker: &str) {
    let (mut c, greeting) = Client::over(connect_from(from, port));
    assert!(greeting.starts_with("220 "), "{greeting:?}");
    for (command, code) in [
        ("EHLO app.test", "250"),
        ("MAIL FROM:<app@apps.example>", "250"),
        ("RCPT TO:<ops@example.org>", "250"),
        ("DATA", "354"),
    ] {
        let reply = c.command(command);
        assert!(reply.starts_with(code), "{command}: {reply:?}");
    }
    let reply = c.command(&format!("Subject: {marker}\r\n\r\nwell behaved\r\n."));
    assert!(reply.starts_with("250 2.0.0 Ok"), "{reply:?}");
    assert!(c.command("QUIT").starts_with("221"));
}

/// One field of `/proc/PID/status` (its value, trimmed).
fn status(pid: u32, field: &str) -> String {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
        .trim()
        .to_string()
}

/// A size field of `/proc/PID/status` (`VmRSS`, `VmHWM`) in KiB.
fn kib(pid: u32, field: &str) -> u64 {
    status(pid, field)
        .trim_end_matches("kB")
        .trim()
        .parse()
        .expect("a size in kB")
}

/// What the listener holds: its open descriptors and its threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Held {
    fds: usize,
    threads: usize,
}

impl Held {
    fn now(pid: u32) -> Held {
        Held {
            fds: std::fs::read_dir(format!("/proc/{pid}/fd"))
                .expect("/proc/PID/fd")
                .count(),
            threads: status(pid, "Threads").parse().expect("a thread count"),
        }
    }

    /// Waits (up to 15 s) until the listener holds what it held at `self` again, once its
    /// clients went away.
    fn wait_back(self, pid: u32) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let now = Held::now(pid);
            if now == self {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the listener holds {now:?}, not {self:?} as before its clients came"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Queues the listener's drops and waits for `marker` at the capture server.
fn delivered(sb: &Sandbox, marker: &str) {
    queue_run(sb);
    wait_for(marker);
}

/// A client outside `allow` (10.200.N.2, in a network namespace of its own) reaches the
/// listener on the host's end of a veth pair. Without a login it cannot relay (MAIL 530, RCPT
/// 554); AUTH is not offered, nor taken, in the clear, only after STARTTLS; a wrong password is
/// 535; the right user gets 553 for a foreign sender and delivers as its own.
#[test]
fn a_client_outside_allow_cannot_relay_and_logs_in_only_under_tls() {
    if !as_root(Root::NetworkNamespace) || !as_root(Root::Postfix) {
        return;
    }
    let certs = relay().ca_file.parent().unwrap().to_path_buf();
    let sb = sandbox(&format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"",
        certs.join("server.pem").display(),
        certs.join("server.key").display()
    ));
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
        b"Outside-Pw-93\n",
    )
    .ok();
    let outside = Outside::new();
    let port = crate::listener::free_port();
    let listen = format!("{}:{port}", outside.host);
    let served = Served::start(&sb, &["--listen", &listen]);
    let m = marker("outside");
    let script = r#"
import base64, smtplib, ssl, sys
host, port, ca, m = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def show(tag, reply):
    print(tag, reply[0], reply[1].decode().replace("\n", " | "))
s = smtplib.SMTP(host, port, timeout=10)
code, ehlo = s.ehlo("outside.test")
print("clear-ehlo", ehlo.decode().replace("\n", " | "))
plain = base64.b64encode(b"\0grafana\0Outside-Pw-93").decode()
show("clear-auth", s.docmd("AUTH", "PLAIN " + plain))
show("mail", s.docmd("MAIL", "FROM:<alerts@apps.example>"))
show("rcpt", s.docmd("RCPT", "TO:<victim@example.org>"))
show("data", s.docmd("DATA"))
context = ssl.create_default_context(cafile=ca)
context.check_hostname = False  # the certificate names localhost; the CA is what is checked
s.starttls(context=context)
code, ehlo = s.ehlo("outside.test")
print("tls-ehlo", ehlo.decode().replace("\n", " | "))
try:
    s.login("grafana", "wrong")
except smtplib.SMTPAuthenticationError as e:
    print("wrong", e.smtp_code, e.smtp_error.decode())
s.login("grafana", "Outside-Pw-93")
try:
    s.sendmail("ceo@corp.example", ["ops@example.org"], "Subject: foreign-" + m + "\r\n\r\nx\r\n")
except smtplib.SMTPSenderRefused as e:
    print("foreign", e.smtp_code, e.smtp_error.decode())
body = "From: Alerts <alerts@apps.example>\r\nSubject: " + m + "\r\n\r\nfrom outside\r\n"
print("own", s.sendmail("alerts@apps.example", ["ops@example.org"], body))
s.quit()
"#;
    let out = outside.python(
        script,
        &[
            &outside.host.to_string(),
            &port.to_string(),
            relay().ca_file.to_str().unwrap(),
            &m,
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "client in the namespace: {out:?}");
    let line = |tag: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{tag} ")))
            .unwrap_or_else(|| panic!("no {tag} in {stdout}"))
            .to_string()
    };
    let clear = line("clear-ehlo");
    assert!(
        clear.contains("STARTTLS") && !clear.contains("AUTH"),
        "{clear}"
    );
    assert!(line("clear-auth").starts_with("503 5.5.1"), "{stdout}");
    assert!(line("mail").starts_with("530 5.7.0"), "{stdout}");
    assert!(line("rcpt").starts_with("554 5.7.1"), "{stdout}");
    assert!(line("data").starts_with("503"), "{stdout}");
    let tls = line("tls-ehlo");
    assert!(
        tls.contains("AUTH PLAIN LOGIN") && !tls.contains("STARTTLS"),
        "{tls}"
    );
    assert!(line("wrong").starts_with("535 5.7.8"), "{stdout}");
    assert!(line("foreign").starts_with("553 5.7.1"), "{stdout}");
    assert_eq!(line("own"), "{}");

    let client = format!("client={}", outside.client);
    served.wait_log(&["event=login", &client, "result=535"]);
    let accepted = served.wait_log(&["event=message", "status=accepted"]);
    assert!(accepted.contains(&client), "{accepted}");
    delivered(&sb, &m);
    let got = wait_for(&m);
    let text = got.text();
    assert!(
        text.contains(&format!(
            "X-Relayctl-Submitter: SMTP client {} (user grafana)\r\n",
            outside.client
        )),
        "{text}"
    );
    assert!(got.mail_from.starts_with("<alerts@apps.example>"));
    assert!(!arrives_soon(&format!("foreign-{m}")));
    // The one message taken is the one delivered; the refused ones are logged as refused.
    let log = served.log();
    let taken = log
        .lines()
        .filter(|l| l.contains("event=message") && l.contains("status=accepted"))
        .count();
    assert_eq!(taken, 1, "{log}");
}
