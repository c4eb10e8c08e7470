//! The SMTP listener (`relayctl serve`) against hostile clients, ending at the real Postfix relay:
//!
//! - a client outside `allow`, in a network namespace of the test's own, cannot relay without
//!   logging in, is offered AUTH only under TLS, and may send only as its server user's senders;
//! - floods of idle connections, a slowloris client, an endless command line, a line of
//!   megabytes in a message, 10,000 recipients and SMTP smuggling payloads neither stop the
//!   listener serving a well-behaved client, nor leave descriptors or threads behind, nor cost
//!   unbounded memory;
//! - the process that parses SMTP holds no capability and cannot read a relay secret.
//!
//! Every test watches the listener's process through `/proc/PID/{fd,status}`; the listener is
//! started with [`Served`] from `listener.rs`.

use std::io::Write;
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

/// One field of a `/proc/.../status` text (its value, trimmed).
fn field(status: &str, name: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {name} in {status}"))
        .trim()
        .to_string()
}

/// One field of `/proc/PID/status`.
fn status(pid: u32, name: &str) -> String {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    field(&text, name)
}

/// A size field of `/proc/PID/status` (`VmRSS`, `VmHWM`) in KiB.
fn kib(pid: u32, field: &str) -> u64 {
    status(pid, field)
        .trim_end_matches("kB")
        .trim()
        .parse()
        .expect("a size in kB")
}

/// What the first few connections may add to the listener's peak memory (`VmHWM`, KiB): their
/// threads' stacks and buffers, and the allocator's arenas for their threads. A line or a
/// message held whole would add its size, megabytes.
const FEW_CONNECTIONS_KIB: u64 = 4096;

/// The listener's peak memory is at most [`FEW_CONNECTIONS_KIB`] above `peak`.
fn peak_within(pid: u32, peak: u64) {
    let now = kib(pid, "VmHWM");
    assert!(
        now.saturating_sub(peak) < FEW_CONNECTIONS_KIB,
        "the listener's peak memory grew from {peak} KiB to {now} KiB"
    );
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

/// How many lines of `log` contain every one of `needles`.
fn lines_with(log: &str, needles: &[&str]) -> usize {
    log.lines()
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .count()
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
    // The one message taken is the one delivered.
    let log = served.log();
    assert_eq!(
        lines_with(&log, &["event=message", "status=accepted"]),
        1,
        "{log}"
    );
}

/// A thousand idle connections: from one address, all but `max_connections_per_client` are
/// told 421; from many loopback addresses (max_connections raised), the listener holds 1,000
/// at once in under 50 MB, still serves a well-behaved client, and gives back every
/// descriptor and thread once they go. It is started as systemd starts services, with a soft
/// limit on open files below what max_connections needs (systemd's 1,024 against 1,100;
/// 256 here, so that 1,000 connections show it), which it raises.
#[test]
fn a_thousand_idle_connections_neither_stop_the_listener_nor_leak() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox("max_connections = 1100");
    let served = Served::start_under(&sb, &["prlimit", "--nofile=256:"], &[]);
    let pid = served.pid();
    let before = Held::now(pid);
    let m = marker("crowd");
    let started = Instant::now();

    // One address: the per-client limit (20) answers the rest 421 and closes.
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..1000 {
        let (client, greeting) = Client::over(connect_from(Ipv4Addr::LOCALHOST, served.port));
        if greeting.starts_with("220 ") {
            held.push(client);
        } else {
            assert!(
                greeting.starts_with("421 4.7.0 Error: too many connections from your address"),
                "{greeting:?}"
            );
            refused += 1;
        }
    }
    assert_eq!((held.len(), refused), (20, 980));
    well_behaved(
        served.port,
        Ipv4Addr::new(127, 0, 0, 2),
        &format!("{m}-one"),
    );
    drop(held);
    before.wait_back(pid);

    // Many addresses, 20 each: 1,000 connections held at once.
    let crowd: Vec<Client> = (0..1000u32)
        .map(|i| {
            let from = Ipv4Addr::new(127, 0, 1, u8::try_from(i / 20 + 1).unwrap());
            let (client, greeting) = Client::over(connect_from(from, served.port));
            assert!(greeting.starts_with("220 "), "connection {i}: {greeting:?}");
            client
        })
        .collect();
    let busy = Held::now(pid);
    let (rss, anon) = (kib(pid, "VmRSS"), kib(pid, "RssAnon"));
    eprintln!(
        "listener with 1,000 connections: VmRSS {rss} KiB (RssAnon {anon} KiB), {busy:?}, \
         before {before:?}; {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        busy,
        Held {
            fds: before.fds + 1000,
            threads: before.threads + 1000
        },
        "one descriptor and one thread per connection"
    );
    // The goal of issue 21. Most of it is the threads' stacks (16 KiB touched each) and
    // buffers (8 KiB each); a debug build's code adds about 17 MB of it.
    assert!(rss < 50 * 1024, "VmRSS {rss} KiB at 1,000 connections");
    well_behaved(
        served.port,
        Ipv4Addr::new(127, 0, 0, 2),
        &format!("{m}-many"),
    );
    drop(crowd);
    before.wait_back(pid);
    delivered(&sb, &format!("{m}-one"));
    wait_for(&format!("{m}-many"));
}

/// CPU time the process `pid` has used so far, in clock ticks (user and system).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("(comm)")
        .1
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15 of stat(5); the rest begins at field 3.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Out of descriptors. Started with a limit of 64 open files (`LimitNOFILE=64`) and
/// max_connections = 300, the listener says at start how many connections it can hold, and
/// answers those beyond at once with 421 rather than leaving them waiting for a descriptor.
/// When clients hold every descriptor left (BDAT chunks spilled to files), new connections wait
/// in the backlog without the listener spinning on accept, and are served once those go.
#[test]
fn out_of_descriptors_the_listener_refuses_and_waits_without_spinning() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox("max_connections = 300\nmax_connections_per_client = 300");
    let served = Served::start_under(&sb, &["prlimit", "--nofile=64"], &[]);
    let pid = served.pid();
    let before = Held::now(pid);
    let alert = served.wait_log(&["max_connections = 300"]);
    assert!(alert.contains("open files is 64"), "{alert}");
    let m = marker("descriptors");

    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..40 {
        let (client, greeting) = Client::connect(served.port);
        if greeting.starts_with("220 ") {
            held.push(client);
        } else {
            assert!(
                greeting.starts_with("421 4.7.0 Error: too many connections; try again later"),
                "{greeting:?}"
            );
            refused += 1;
        }
    }
    assert!(refused > 0 && held.len() < 40, "{} held", held.len());

    // Each held connection spills a chunk over 1 MiB to a file, until no descriptor is left.
    let chunk = vec![b'x'; 1_100_000];
    let mut spilled = 0;
    for c in &mut held {
        assert!(c.command("EHLO spill.example").starts_with("250"));
        assert!(c.command("MAIL FROM:<app@apps.example>").starts_with("250"));
        assert!(c.command("RCPT TO:<ops@example.org>").starts_with("250"));
        c.send(format!("BDAT {}\r\n", chunk.len()).as_bytes());
        c.send(&chunk);
        let reply = c.reply();
        if reply.starts_with("250") {
            spilled += 1;
        } else {
            assert!(reply.starts_with("452 4.3.1"), "{reply:?}");
        }
    }
    assert!(spilled < held.len(), "every descriptor is in use");
    let waiting: Vec<TcpStream> = (0..5)
        .map(|_| TcpStream::connect(("127.0.0.1", served.port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let ticks = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(pid) - ticks;
    eprintln!("listener out of descriptors: {used} ticks of CPU in 2 s");
    assert!(
        used < 20,
        "{used} ticks of CPU in 2 s while out of descriptors"
    );

    drop(held);
    for stream in waiting {
        let (mut c, greeting) = Client::over(stream);
        assert!(greeting.starts_with("220 "), "{greeting:?}");
        assert!(c.command("QUIT").starts_with("221"));
    }
    well_behaved(served.port, Ipv4Addr::new(127, 0, 0, 2), &m);
    before.wait_back(pid);
    delivered(&sb, &m);
}

/// A slowloris client, one byte a second, never completes a line within `timeout` (2 s): in a
/// command or in a message, it is told `421 4.4.2` and cut, and nothing of its message is
/// queued. One that completes a line each second (NOOP) is cut at `session_timeout` (5 s). A
/// well-behaved client is served meanwhile, and the listener's peak memory stays where it was.
#[test]
fn a_slowloris_client_is_cut_with_421() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox("timeout = \"2s\"\nsession_timeout = \"5s\"");
    let served = Served::start(&sb, &[]);
    let pid = served.pid();
    let before = Held::now(pid);
    let peak = kib(pid, "VmHWM");
    let m = marker("slowloris");
    let slow = |prelude: &'static [(&'static str, &'static str)]| {
        let port = served.port;
        std::thread::spawn(move || {
            let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let mut drip = stream.try_clone().unwrap();
            let (mut c, _) = Client::over(stream);
            for (command, code) in prelude {
                let reply = c.command(command);
                assert!(reply.starts_with(code), "{command}: {reply:?}");
            }
            let started = Instant::now();
            let dripping = std::thread::spawn(move || {
                for byte in b"Subject: slow\r\n" {
                    if drip.write_all(&[*byte]).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
            });
            let reply = c.reply();
            let after = started.elapsed();
            assert!(c.closed());
            dripping.join().unwrap();
            (reply, after)
        })
    };
    let in_command = slow(&[("EHLO slow.example", "250")]);
    let in_message = slow(&[
        ("EHLO slow.example", "250"),
        ("MAIL FROM:<app@apps.example>", "250"),
        ("RCPT TO:<ops@example.org>", "250"),
        ("DATA", "354"),
    ]);
    let port = served.port;
    let patient = std::thread::spawn(move || {
        let (mut c, _) = Client::connect(port);
        let started = Instant::now();
        let mut noops = 0;
        // Ten seconds at most, twice the session's limit.
        while noops < 10 {
            std::thread::sleep(Duration::from_secs(1));
            let reply = c.command("NOOP");
            if !reply.starts_with("250 ") {
                assert!(c.closed());
                return (reply, started.elapsed(), noops);
            }
            noops += 1;
        }
        (String::new(), started.elapsed(), noops)
    });
    std::thread::sleep(Duration::from_millis(500));
    well_behaved(served.port, Ipv4Addr::new(127, 0, 0, 2), &m);
    let (reply, after, noops) = patient.join().unwrap();
    assert!(
        reply.starts_with("421 4.4.2 Error: timeout exceeded"),
        "after {noops} NOOPs: {reply:?}"
    );
    assert!(
        noops >= 3 && after >= Duration::from_millis(4500) && after < Duration::from_secs(8),
        "cut after {noops} NOOPs and {after:?}"
    );
    for slow in [in_command, in_message] {
        let (reply, after) = slow.join().unwrap();
        assert!(
            reply.starts_with("421 4.4.2 Error: timeout exceeded"),
            "{reply:?}"
        );
        assert!(
            after >= Duration::from_millis(1500) && after < Duration::from_secs(4),
            "cut after {after:?}"
        );
    }
    before.wait_back(pid);
    delivered(&sb, &m);
    let log = served.log();
    let accepted = lines_with(&log, &["event=message", "status=accepted"]);
    assert_eq!(accepted, 1, "only the well-behaved client's message: {log}");
    let cut = lines_with(&log, &["event=connection", "text=\"client too slow\""]);
    assert_eq!(cut, 2, "{log}");
    let cut = lines_with(&log, &["event=connection", "text=\"session too long\""]);
    assert_eq!(cut, 1, "{log}");
    peak_within(pid, peak);
}

/// A 10 MB command line is answered `500 5.5.2` once read to its end, and the session goes on;
/// 10,000 pipelined recipients get 250 up to the limit of 1,000, `452 4.5.3` after it, and
/// `421` at the 10,000th command (`max_commands`). Neither raises the listener's peak memory
/// by more than a few pages, and a well-behaved client is served meanwhile.
#[test]
fn an_endless_command_line_and_ten_thousand_recipients_cost_bounded_memory() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox("");
    let served = Served::start(&sb, &[]);
    let pid = served.pid();
    let before = Held::now(pid);
    let peak = kib(pid, "VmHWM");
    let m = marker("flood");
    let started = Instant::now();

    let stream = TcpStream::connect(("127.0.0.1", served.port)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut flooder = stream.try_clone().unwrap();
    let (mut c, _) = Client::over(stream);
    assert!(c.command("EHLO long.example").starts_with("250"));
    let sending = std::thread::spawn(move || {
        writer.write_all(b"NOOP ").unwrap();
        let line = vec![b'x'; 10 << 20];
        writer.write_all(&line).unwrap();
        writer.write_all(b"\r\nNOOP\r\n").unwrap();
    });
    let reply = c.reply();
    assert!(
        reply.starts_with("500 5.5.2 Error: line too long"),
        "{reply:?}"
    );
    assert!(c.reply().starts_with("250 2.0.0"));
    sending.join().unwrap();
    let after_line = kib(pid, "VmHWM");

    // 10,000 recipients in one flight (RCPT may be pipelined), read as they are answered.
    assert!(c.command("MAIL FROM:<app@apps.example>").starts_with("250"));
    let sending = std::thread::spawn(move || {
        let mut flight = Vec::new();
        for i in 0..10_000 {
            flight.extend_from_slice(format!("RCPT TO:<r{i}@example.org>\r\n").as_bytes());
        }
        // The listener closes after its 421; the rest of the flight may find it closed.
        let _ = flooder.write_all(&flight);
    });
    let (mut ok, mut over) = (0, 0);
    let end = loop {
        let reply = c.reply();
        if reply.starts_with("250 2.1.5") {
            ok += 1;
        } else if reply.starts_with("452 4.5.3 Error: too many recipients") {
            over += 1;
        } else {
            break reply;
        }
    };
    sending.join().unwrap();
    // EHLO, NOOP and MAIL were commands 1 to 3 (the line too long is an error, not a
    // command): RCPT number 9,998 is the 10,001st.
    assert_eq!((ok, over), (1000, 8997));
    assert!(
        end.starts_with("421 4.7.0 Error: too many commands"),
        "{end:?}"
    );
    assert!(c.closed());
    let after_rcpts = kib(pid, "VmHWM");
    well_behaved(served.port, Ipv4Addr::new(127, 0, 0, 2), &m);
    eprintln!(
        "listener VmHWM: {peak} KiB at start, {after_line} KiB after a 10 MB line, \
         {after_rcpts} KiB after 10,000 recipients; {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(after_line - peak < 2048, "{peak} -> {after_line} KiB");
    assert!(after_rcpts - peak < 2048, "{peak} -> {after_rcpts} KiB");
    before.wait_back(pid);
    delivered(&sb, &m);
}

/// A message with a 5 MB line (an HTML mail without line breaks) is taken and delivered whole,
/// quoted-printable, without the listener ever holding the line: its peak memory stays where it
/// was (the line was held whole, and again encoded, before: 15 MB more).
#[test]
fn a_line_of_megabytes_in_a_message_is_never_held_whole() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox("");
    let served = Served::start(&sb, &[]);
    let pid = served.pid();
    let peak = kib(pid, "VmHWM");
    let m = marker("longline");
    let stream = TcpStream::connect(("127.0.0.1", served.port)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let (mut c, _) = Client::over(stream);
    for (command, code) in [
        ("EHLO long.example", "250"),
        ("MAIL FROM:<app@apps.example>", "250"),
        ("RCPT TO:<ops@example.org>", "250"),
        ("DATA", "354"),
    ] {
        let reply = c.command(command);
        assert!(reply.starts_with(code), "{command}: {reply:?}");
    }
    const LINE: usize = 5 << 20;
    let head = format!("Subject: {m}\r\n\r\n");
    let sending = std::thread::spawn(move || {
        writer.write_all(head.as_bytes()).unwrap();
        writer.write_all(&vec![b'y'; LINE]).unwrap();
        writer.write_all(b"\r\nend\r\n.\r\n").unwrap();
    });
    let reply = c.reply();
    sending.join().unwrap();
    assert!(reply.starts_with("250 2.0.0 Ok"), "{reply:?}");
    assert!(c.command("QUIT").starts_with("221"));
    peak_within(pid, peak);

    delivered(&sb, &m);
    let text = wait_for(&m).text();
    let (head, body) = text.split_once("\r\n\r\n").expect("a header section");
    assert!(
        head.contains("Content-Transfer-Encoding: quoted-printable"),
        "{head}"
    );
    assert!(body.lines().all(|l| l.len() <= 76), "lines of at most 76");
    assert_eq!(
        body.replace("=\r\n", ""),
        format!("{}\r\nend\r\n", "y".repeat(LINE))
    );
}

/// SMTP smuggling (the payloads of the published research: a dot between bare LFs, bare CRs
/// or a mix, and a NUL before the dot) in DATA and in BDAT chunks, each followed by a second
/// message: every message that holds one is refused whole, the smuggled commands are never
/// commands, and nothing of either message is queued or delivered; the same connection and a
/// well-behaved client are served meanwhile.
#[test]
fn smuggling_payloads_in_data_and_bdat_queue_nothing() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox("");
    let served = Served::start(&sb, &[]);
    let before = Held::now(served.pid());
    let peak = kib(served.pid(), "VmHWM");
    let m = marker("smuggle");
    let variants: [&[u8]; 9] = [
        b"\n.\n",
        b"\n.\r\n",
        b"\r\n.\n",
        b"\r.\r",
        b"\r\n.\r",
        b"\r.\r\n",
        b"\n.\r\r\n",
        b"\r\n.\r\r\n",
        b"\r\n\x00.\r\n",
    ];
    let payload = |how: &str, i: usize, variant: &[u8]| {
        let mut p = format!("Subject: smug-{m}-{how}-{i}\r\n\r\nhello").into_bytes();
        p.extend_from_slice(variant);
        p.extend_from_slice(
            format!(
                "MAIL FROM:<ceo@corp.example>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n\
                 Subject: smug-{m}-inner-{how}-{i}\r\n\r\npay now\r\n"
            )
            .as_bytes(),
        );
        p
    };
    let (mut c, _) = Client::connect(served.port);
    assert!(c.command("EHLO smuggler.example").starts_with("250"));
    let mut refused = 0;
    for (i, variant) in variants.iter().enumerate() {
        assert!(c.command("MAIL FROM:<app@apps.example>").starts_with("250"));
        assert!(c.command("RCPT TO:<ops@example.org>").starts_with("250"));
        assert!(c.command("DATA").starts_with("354"));
        let mut message = payload("data", i, variant);
        message.extend_from_slice(b".\r\n");
        c.send(&message);
        let reply = c.reply();
        let expected = if variant.contains(&0) {
            "5"
        } else {
            "550 5.5.2"
        };
        assert!(reply.starts_with(expected), "DATA {variant:?}: {reply:?}");
        refused += 1;

        assert!(c.command("MAIL FROM:<app@apps.example>").starts_with("250"));
        assert!(c.command("RCPT TO:<ops@example.org>").starts_with("250"));
        let chunk = payload("bdat", i, variant);
        let mut command = format!("BDAT {} LAST\r\n", chunk.len()).into_bytes();
        command.extend_from_slice(&chunk);
        c.send(&command);
        let reply = c.reply();
        assert!(reply.starts_with(expected), "BDAT {variant:?}: {reply:?}");
        refused += 1;
    }
    // A bare CR at the end of one chunk and the dot line at the start of the next.
    assert!(c.command("MAIL FROM:<app@apps.example>").starts_with("250"));
    assert!(c.command("RCPT TO:<ops@example.org>").starts_with("250"));
    let first = format!("Subject: smug-{m}-chunks\r\n\r\nhello\r");
    c.send(format!("BDAT {}\r\n{first}", first.len()).as_bytes());
    assert!(c.reply().starts_with("250 2.0.0"));
    let second = payload("chunks", 0, b".\r\n");
    let mut command = format!("BDAT {} LAST\r\n", second.len()).into_bytes();
    command.extend_from_slice(&second);
    c.send(&command);
    let reply = c.reply();
    assert!(reply.starts_with("550 5.5.2"), "{reply:?}");
    refused += 1;
    // The session is still in step: the smuggled commands were content, never commands.
    assert!(c.command("NOOP").starts_with("250 2.0.0"));
    well_behaved(served.port, Ipv4Addr::new(127, 0, 0, 2), &m);
    assert!(c.command("QUIT").starts_with("221"));
    drop(c);

    // A bare LF or bare CR in a command line (pipelined commands split by it) ends the
    // session, before any of them is taken.
    for dialogue in [
        &b"MAIL FROM:<ceo@corp.example>\nRCPT TO:<victim@example.org>\r\n"[..],
        b"MAIL FROM:<ceo@corp.example>\rRCPT TO:<victim@example.org>\r\n",
        b"NOOP\nMAIL FROM:<ceo@corp.example>\r\n",
    ] {
        let (mut c, _) = Client::connect(served.port);
        assert!(c.command("EHLO smuggler.example").starts_with("250"));
        c.send(dialogue);
        let reply = c.reply();
        assert!(
            reply.starts_with("550 5.5.2 Error: bare <LF> or <CR> received"),
            "{dialogue:?}: {reply:?}"
        );
        assert!(c.closed());
    }

    before.wait_back(served.pid());
    peak_within(served.pid(), peak);
    delivered(&sb, &m);
    assert!(!arrives_soon(&format!("smug-{m}")));
    let log = served.log();
    let accepted = lines_with(&log, &["event=message", "status=accepted"]);
    let refusals = lines_with(&log, &["event=message", "status=refused"]);
    assert_eq!((accepted, refusals), (1, refused), "{log}");
}

/// The process that parses SMTP runs as the listener's user in every thread, holds no
/// capability, cannot gain one (NoNewPrivs), and cannot read the relay secret: `cat` run with
/// exactly its user, group and supplementary groups is refused, where it reads the config.
/// Each check fails for a listener that keeps root, or a thread of it that does.
#[test]
fn the_listener_holds_no_privilege_and_cannot_read_a_relay_secret() {
    if !as_root(Root::Users) || !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox("");
    // A system profile's secret where the file store keeps it: root's, 0600 in a 0700 folder.
    let secrets = sb.path("etc/relayctl/secrets");
    std::fs::create_dir(&secrets).unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o700)).unwrap();
    let secret = secrets.join("p");
    std::fs::write(&secret, "Listener-Must-Not-Read-4417\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let served = Served::start(&sb, &[]);
    // A connection, so that a connection's thread is looked at too.
    let (mut c, _) = Client::connect(served.port);
    assert!(c.command("EHLO looker.example").starts_with("250"));
    let pid = served.pid();
    let uid = crate::listener::uid_of(SERVER_USER).to_string();

    let tasks: Vec<_> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .map(|t| std::fs::read_to_string(t.unwrap().path().join("status")).unwrap())
        .collect();
    assert!(tasks.len() >= 2, "the main thread and the connection's");
    for task in &tasks {
        let uids = field(task, "Uid");
        assert!(uids.split_whitespace().all(|u| u == uid), "Uid {uids}");
        for caps in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
            assert_eq!(field(task, caps), "0000000000000000", "{caps}");
        }
        assert_eq!(field(task, "NoNewPrivs"), "1");
    }

    // What the listener's credentials can read, with exactly those credentials.
    let main = &tasks[0];
    let gid = field(main, "Gid")
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let groups = field(main, "Groups")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(",");
    let as_listener = |file: &std::path::Path| {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid", &uid, "--regid", &gid]);
        if groups.is_empty() {
            cmd.arg("--clear-groups");
        } else {
            cmd.args(["--groups", &groups]);
        }
        cmd.arg("cat").arg(file).output().expect("setpriv")
    };
    let config = as_listener(&sb.path("etc/relayctl/config.toml"));
    assert!(
        config.status.success(),
        "the check itself works: {config:?}"
    );
    let stolen = as_listener(&secret);
    assert!(!stolen.status.success(), "{stolen:?}");
    assert!(
        String::from_utf8_lossy(&stolen.stderr).contains("Permission denied"),
        "{stolen:?}"
    );
    assert!(!String::from_utf8_lossy(&stolen.stdout).contains("Listener-Must-Not-Read"));
    assert!(c.command("QUIT").starts_with("221"));
}
