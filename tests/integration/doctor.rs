//! `relayctl doctor`, `relayctl test` and the delivery log, against the real Postfix relay, a
//! local DNS server (dnsmasq on loopback, with test zones), a network namespace with a firewall
//! rule for the filtered port, and Unix datagram sockets standing in for syslog and journald.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;

use crate::harness::{PASSWORD, Root, Run, Sandbox, USER, as_root, marker, relay, wait_for};
use crate::namespace::{self, Namespace};

/// This host's public address in the tests (TEST-NET-1: never contacted, only looked up in the
/// test DNS), registered as client.relay.test both ways.
const PUBLIC: &str = "192.0.2.10";
/// An address the test blocklist zone lists.
const LISTED: &str = "192.0.2.99";

/// dnsmasq on a free loopback port, answering only for the test zones ([`dnsmasq`]).
fn dns() -> &'static str {
    static DNS: OnceLock<(String, Mutex<ChildStdin>)> = OnceLock::new();
    let (server, _) = DNS.get_or_init(|| {
        let port = std::net::UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("a free port")
            .port();
        (format!("127.0.0.1:{port}"), dnsmasq("127.0.0.1", port))
    });
    server
}

/// dnsmasq on `address`:`port`, answering only for the test zones: relay.test (MX
/// mx.relay.test), client.relay.test <-> 192.0.2.10, nomx.test (an A record and no MX), anything
/// else under .test does not exist, and the blocklist zone bl.test lists 192.0.2.99. It dies with
/// the test process: a shell keeps it and kills it when its stdin (returned here, to be kept), a
/// pipe from this process, reaches end of file (when this process exits, however it exits).
pub fn dnsmasq(address: &str, port: u16) -> Mutex<ChildStdin> {
    let watchdog = "dnsmasq \"$@\" & pid=$!; read -r _ || true; kill \"$pid\"; wait \"$pid\"";
    let mut child = Command::new("sh")
        .args(["-c", watchdog, "sh"])
        .args([
            "--keep-in-foreground".to_string(),
            format!("--port={port}"),
            format!("--listen-address={address}"),
            "--bind-interfaces".into(),
            "--no-resolv".into(),
            "--no-hosts".into(),
            "--conf-file=/dev/null".into(),
            "--pid-file=".into(),
            "--user=root".into(),
            "--local=/test/".into(),
            format!("--host-record=client.relay.test,{PUBLIC}"),
            "--mx-host=relay.test,mx.relay.test,10".into(),
            "--host-record=mx.relay.test,127.0.0.3".into(),
            "--host-record=nomx.test,127.0.0.4".into(),
            "--address=/99.2.0.192.bl.test/127.0.0.2".into(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dnsmasq (apt-get install dnsmasq-base)");
    let stdin = child.stdin.take().expect("watchdog stdin");
    // Reaps the watchdog should it ever end before this process.
    std::thread::spawn(move || child.wait());
    wait_for_dns(&format!("{address}:{port}"));
    Mutex::new(stdin)
}

/// Waits until the DNS server answers (a query for relay.test MX gets any reply).
fn wait_for_dns(server: &str) {
    let query = [
        0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, b'r', b'e', b'l', b'a', b'y', 4, b't', b'e',
        b's', b't', 0, 0, 15, 0, 1,
    ];
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 512];
    while Instant::now() < deadline {
        let _ = socket.send_to(&query, server);
        if socket.recv(&mut buf).is_ok() {
            return;
        }
    }
    panic!("dnsmasq does not answer on {server}");
}

/// A sandbox whose DNS, blocklist zones and public address are the test ones.
pub fn sandbox() -> Sandbox {
    let mut sb = Sandbox::new();
    sb.env("RELAYCTL_DNS_SERVER", dns())
        .env("RELAYCTL_DNSBL_ZONES", "bl.test")
        .env("RELAYCTL_PUBLIC_ADDRESS", PUBLIC);
    sb
}

/// `setup institutional` for the test relay's STARTTLS `port`, with the test CA unless `ca` is
/// false.
fn setup_login(sb: &Sandbox, name: &str, port: &str, password: &str, ca: bool, extra: &[&str]) {
    setup_login_tls(sb, name, port, "starttls", password, ca, extra);
}

/// The same with TLS as `tls` says.
fn setup_login_tls(
    sb: &Sandbox,
    name: &str,
    port: &str,
    tls: &str,
    password: &str,
    ca: bool,
    extra: &[&str],
) {
    let ca_file = relay().ca_file.display().to_string();
    let mut args = vec![
        "setup",
        "institutional",
        // The doctor is to find what is wrong: setup saves without its own check.
        "--no-verify",
        "--name",
        name,
        "--host",
        "localhost",
        "--port",
        port,
        "--tls",
        tls,
        "--user",
        USER,
        "--from",
        USER,
        "--password-stdin",
        "--secret-store",
        "file",
        "--ehlo-name",
        "client.relay.test",
        "--max-message-size",
        "10000000",
    ];
    if ca {
        args.extend(["--ca-file", &ca_file]);
    }
    args.extend_from_slice(extra);
    sb.run(&args, password.as_bytes()).ok();
    // Mail to root has somewhere to go (`config.aliases`).
    let mut config = std::fs::read_to_string(sb.user_config()).unwrap();
    if !config.contains("[aliases]") {
        config.push_str("\n[aliases]\nroot = \"ops@example.org\"\n");
        std::fs::write(sb.user_config(), config).unwrap();
    }
}

/// Runs `doctor --json` (with `extra` global options) and returns the run and the report.
fn doctor(sb: &Sandbox, extra: &[&str]) -> (Run, Value) {
    let mut args = extra.to_vec();
    args.extend(["doctor", "--json"]);
    let run = sb.run(&args, b"");
    let report = parse(&run);
    (run, report)
}

pub fn parse(run: &Run) -> Value {
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("doctor --json printed no JSON ({e}): {run:#?}"));
    assert_no_secret(run);
    crate::harness::validate_json("doctor-schema.json", &run.stdout);
    assert_eq!(
        run.code == 0,
        report["ok"] == true,
        "exit status and ok: {run:#?}"
    );
    report
}

/// The check with `id`.
pub fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}: {report:#}"))
}

#[track_caller]
fn assert_status(report: &Value, id: &str, status: &str) -> String {
    let c = check(report, id);
    assert_eq!(c["status"], status, "{id}: {c:#}");
    format!("{} | {} | {}", c["summary"], c["fix"], c["reply"])
}

/// Neither the password nor its AUTH encodings appear anywhere.
#[track_caller]
fn assert_no_secret(run: &Run) {
    let b64 = base64::engine::general_purpose::STANDARD;
    let plain = b64.encode(format!("\0{USER}\0{PASSWORD}"));
    let login = b64.encode(PASSWORD);
    for text in [&run.stdout, &run.stderr] {
        for secret in [PASSWORD, plain.as_str(), login.as_str()] {
            assert!(!text.contains(secret), "a secret leaked: {run:#?}");
        }
    }
}

#[test]
fn everything_passes_against_the_real_relay() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox();
    setup_login(&sb, "sub", "587", PASSWORD, true, &[]);
    let (_, report) = doctor(&sb, &[]);
    let warning = check(&report, "config.notify");
    assert_eq!(warning["status"], "warn", "{warning:#}");

    assert!(
        warning["fix"].as_str().unwrap().contains("notify = "),
        "{warning:#}"
    );
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    std::fs::write(
        sb.user_config(),
        format!("notify = \"ops@example.org\"\n{config}"),
    )
    .unwrap();
    // /usr/sbin/sendmail is relayctl inside a private mount namespace.
    let scratch = sb.path("ns");
    let ns = Namespace::new().overlay("/usr/sbin", &scratch);
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_relayctl"),
        scratch.join("upper/sendmail"),
    )
    .unwrap();
    let mut cmd = ns.command(env!("CARGO_BIN_EXE_relayctl"), &["doctor", "--json"]);
    for (k, v) in [
        ("HOME", sb.dir.path().to_path_buf()),
        ("XDG_CONFIG_HOME", sb.path("config")),
        (
            "RELAYCTL_SYSTEM_CONFIG",
            sb.path("etc/relayctl/config.toml"),
        ),
        ("RELAYCTL_SPOOL", sb.path("spool")),
    ] {
        cmd.env(k, v);
    }
    cmd.env("RELAYCTL_DNS_SERVER", dns())
        .env("RELAYCTL_DNSBL_ZONES", "bl.test")
        .env("RELAYCTL_PUBLIC_ADDRESS", PUBLIC);
    let started = Instant::now();
    let run = namespace::run(cmd, b"", Duration::from_secs(60));
    let report = parse(&run);
    let not_passed: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "pass")
        .collect();
    // Only the relay's own address is not checked against blocklists: it is loopback.
    assert_eq!(
        not_passed.len(),
        1,
        "everything passes: {not_passed:#?}\n{run:#?}"
    );
    assert_eq!(not_passed[0]["id"], "dnsbl.relay");
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(
        check(&report, "auth.login")["summary"]
            .as_str()
            .unwrap()
            .contains("235")
    );
    assert!(assert_status(&report, "dns.sender_domain", "pass").contains("mx.relay.test"));
    assert!(assert_status(&report, "ehlo.reverse", "pass").contains("client.relay.test"));
    assert!(assert_status(&report, "sendmail.link", "pass").contains("relayctl"));
    assert!(assert_status(&report, "tls.expiry", "pass").contains("valid until"));
    assert!(assert_status(&report, "config.notify", "pass").contains("ops@example.org"));
    assert!(assert_status(&report, "config.aliases", "pass").contains("ops@example.org"));

    // The text form says the same, one line per check.
    let text = sb.run(&["doctor"], b"");
    assert_no_secret(&text);
    assert!(text.stdout.contains("pass  auth.login"), "{text:#?}");
    assert!(text.stdout.contains("doctor: "), "{text:#?}");
    // Outside the namespace, Postfix owns /usr/sbin/sendmail: a warning, not a failure.
    assert_eq!(text.code, 0, "{text:#?}");
    assert!(text.stdout.contains("warn  sendmail.link"), "{text:#?}");
}

#[test]
fn verbose_transcript_hides_credentials() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox();
    setup_login(&sb, "sub", "587", PASSWORD, true, &[]);
    let run = sb.run(&["-v", "doctor"], b"");
    assert_no_secret(&run);
    assert!(
        run.stderr.contains("AUTH PLAIN (credentials not shown)"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("<-- 235"), "{run:#?}");
}

/// Mail to root (cron's) with nowhere to go fails doctor, with the fix: without an alias every
/// such message is held.
#[test]
fn mail_to_root_with_nowhere_to_go_fails_with_the_fix() {
    let sb = sandbox();
    sb.setup_smarthost(&[
        "--host",
        "localhost",
        "--port",
        "25",
        "--tls",
        "none",
        "--from",
        "vm1@relay.test",
    ])
    .ok();
    let (run, report) = doctor(&sb, &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    let nowhere = check(&report, "config.aliases");
    assert_eq!(nowhere["status"], "fail", "{nowhere:#}");
    assert!(
        nowhere["fix"].as_str().unwrap().contains("root = "),
        "{nowhere:#}"
    );
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    std::fs::write(
        sb.user_config(),
        format!("{config}\n[aliases]\ndefault = \"ops@example.org\"\n"),
    )
    .unwrap();
    let (_, report) = doctor(&sb, &[]);
    assert!(assert_status(&report, "config.aliases", "pass").contains("ops@example.org"));
}

#[test]
fn wrong_password_is_a_failed_login_with_the_fix() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox();
    setup_login(&sb, "sub", "587", "not-the-password", true, &[]);
    let (run, report) = doctor(&sb, &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("1 doctor check(s) failed"), "{run:#?}");
    assert_status(&report, "secret.store", "pass");
    let found = assert_status(&report, "auth.login", "fail");
    assert!(found.contains("535"), "{found}");
    assert!(found.contains("set-secret"), "{found}");
    assert_status(&report, "smtp.sender", "skip");
    assert!(!run.stdout.contains("not-the-password"));
}

/// What delivering one message (its subject and body a marker, returned first) through profile
/// `name`, the only one of `sb`, ends in: the run of `send` (queued, its first attempt made at
/// once), the queue entry it left, and the run of `--wait send` (delivered synchronously, not
/// queued).
fn deliver(sb: &Sandbox, name: &str) -> (String, Run, Option<Value>, Run) {
    let m = marker(&format!("agree-{name}"));
    let send = |wait: bool| {
        let mut args = vec!["--profile", name];
        if wait {
            args.push("--wait");
        }
        args.extend(["send", "--to", "ops@example.org", "--subject", &m]);
        sb.run(&args, format!("{m}\n").as_bytes())
    };
    let queued = send(false);
    let list = sb.run(&["queue", "list", "--json"], b"").ok();
    let mut entries: Vec<Value> = serde_json::from_str(&list.stdout).unwrap();
    assert!(entries.len() <= 1, "one profile per sandbox: {entries:#?}");
    let waited = send(true);
    (m, queued, entries.pop(), waited)
}

/// Doctor and delivery take every decision from one relay policy: a profile the relay refuses
/// fails doctor with the fix delivery gives when it holds the message (same exit code class,
/// same words), and a profile doctor passes delivers.
#[test]
fn doctor_and_delivery_agree_on_what_the_relay_refuses() {
    // A wrong password: doctor fails the login with the fix delivery prints for it.
    let sb = sandbox();
    setup_login(&sb, "wrong", "587", "not-the-password", true, &[]);
    let (run, report) = doctor(&sb, &["--profile", "wrong"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_status(&report, "auth.login", "fail");
    let fix = check(&report, "auth.login")["fix"]
        .as_str()
        .unwrap()
        .to_string();
    let hint = fix
        .strip_suffix("; then `relayctl profile set-secret wrong`")
        .unwrap_or_else(|| panic!("the fix names the profile's set-secret: {fix}"));
    assert!(hint.contains("single-sign-on"), "the preset's hint: {hint}");
    let (_, queued, entry, waited) = deliver(&sb, "wrong");
    assert_eq!(
        queued.code, 0,
        "queued is success for the caller: {queued:#?}"
    );
    let entry = entry.unwrap_or_else(|| panic!("the message is queued: {queued:#?}"));
    assert_eq!(entry["state"], "held", "{entry:#}");
    let reason = entry["last_reply"].as_str().unwrap();
    assert!(reason.contains("535") && reason.ends_with(hint), "{reason}");
    let waited = waited.code(77).one_line_error("535");
    assert!(waited.stderr.trim_end().ends_with(hint), "{waited:#?}");
    assert_no_secret(&waited);

    // A relay that takes only OAuth2 tokens (2588: XOAUTH2, OAUTHBEARER) and a password
    // profile: doctor says no usable mechanism, delivery holds the mail with the same fix, and
    // neither reads the secret.
    let sb = sandbox();
    setup_login_tls(&sb, "tokens-only", "2588", "tls", PASSWORD, true, &[]);
    let (run, report) = doctor(&sb, &["--profile", "tokens-only"]);
    assert_eq!(run.code, 1, "{run:#?}");
    let found = assert_status(&report, "ehlo.auth", "fail");
    assert!(
        found.contains("this profile logs in with SCRAM-SHA-256-PLUS or SCRAM-SHA-1-PLUS or SCRAM-SHA-256 or SCRAM-SHA-1 or PLAIN or LOGIN or CRAM-MD5"),
        "{found}"
    );
    assert_status(&report, "auth.login", "skip");
    let fix = check(&report, "ehlo.auth")["fix"]
        .as_str()
        .unwrap()
        .to_string();
    // Without the secret the outcome is the same: nobody asks for it.
    std::fs::remove_file(sb.path("config/relayctl/secrets/tokens-only")).unwrap();
    let (_, queued, entry, waited) = deliver(&sb, "tokens-only");
    assert_eq!(queued.code, 0, "{queued:#?}");
    let entry = entry.unwrap_or_else(|| panic!("the message is queued: {queued:#?}"));
    assert_eq!(entry["state"], "held", "{entry:#}");
    let reason = entry["last_reply"].as_str().unwrap();
    assert!(
        reason.contains("offers no login method this profile can use (SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS, SCRAM-SHA-256, SCRAM-SHA-1, PLAIN, LOGIN, CRAM-MD5)")
            && reason.ends_with(&fix),
        "{reason}\n{fix}"
    );
    let waited = waited.code(78).one_line_error("PLAIN, LOGIN, CRAM-MD5)");
    assert!(waited.stderr.trim_end().ends_with(&fix), "{waited:#?}");

    // The right password: doctor passes the login and the sender, and the message arrives.
    let sb = sandbox();
    setup_login(&sb, "right", "587", PASSWORD, true, &[]);
    let (_, report) = doctor(&sb, &["--profile", "right"]);
    assert_status(&report, "auth.login", "pass");
    assert_status(&report, "smtp.sender", "pass");
    let (m, queued, entry, waited) = deliver(&sb, "right");
    assert_eq!(queued.code, 0, "{queued:#?}");
    assert!(
        entry.is_none(),
        "delivered, nothing left queued: {entry:#?}"
    );
    waited.ok();
    wait_for(&m);
}

#[test]
fn untrusted_certificate_fails_with_the_ca_fix() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox();
    setup_login(&sb, "sub", "587", PASSWORD, false, &[]);
    let (run, report) = doctor(&sb, &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_status(&report, "tls.handshake", "pass");
    let found = assert_status(&report, "tls.certificate", "fail");
    assert!(found.contains("ca_file"), "{found}");
    for id in ["ehlo.auth", "auth.login", "smtp.sender"] {
        assert_status(&report, id, "skip");
    }
}

#[test]
fn relay_without_auth_or_without_starttls() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox();
    // 2587: STARTTLS, no AUTH, no 8BITMIME.
    setup_login(&sb, "noauth", "2587", PASSWORD, true, &[]);
    // 2526: AUTH offered without TLS, no STARTTLS.
    setup_login(&sb, "notls", "2526", PASSWORD, true, &[]);
    let (run, report) = doctor(&sb, &["--profile", "noauth"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_status(&report, "tls.handshake", "pass");
    let found = assert_status(&report, "ehlo.auth", "fail");
    assert!(found.contains("offers no AUTH"), "{found}");
    assert!(found.contains("587 or 465"), "{found}");
    assert_status(&report, "ehlo.8bitmime", "warn");
    assert_status(&report, "auth.login", "skip");

    let (run, report) = doctor(&sb, &["--profile", "notls", "-v"]);
    assert_eq!(run.code, 1, "{run:#?}");
    let found = assert_status(&report, "tls.handshake", "fail");
    assert!(found.contains("does not offer STARTTLS"), "{found}");
    assert_status(&report, "auth.login", "skip");
    assert!(!run.stderr.contains("--> AUTH"), "{run:#?}");
}

#[test]
fn closed_port_is_refused() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox();
    sb.setup_smarthost(&[
        "--host",
        "127.0.0.1",
        "--port",
        "2599",
        "--tls",
        "none",
        "--from",
        "ops@relay.test",
        "--ehlo-name",
        "client.relay.test",
    ])
    .ok();
    let (run, report) = doctor(&sb, &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    let found = assert_status(&report, "tcp.relay", "fail");
    assert!(found.contains("refused"), "{found}");
    assert_status(&report, "tcp.port_25", "pass");
    assert_status(&report, "smtp.greeting", "skip");
    assert_status(&report, "auth.login", "skip");
    // The EHLO name is checked against the public address all the same.
    assert_status(&report, "ehlo.forward", "pass");
}

#[test]
fn sender_domains_without_mx_or_without_existence_and_listed_addresses() {
    let mut sb = sandbox();
    sb.env("RELAYCTL_PUBLIC_ADDRESS", LISTED);
    for (name, from) in [("nomx", "ops@nomx.test"), ("gone", "ops@gone.test")] {
        sb.setup_smarthost(&[
            "--name",
            name,
            "--host",
            "127.0.0.1",
            "--port",
            "25",
            "--tls",
            "none",
            "--from",
            from,
            "--ehlo-name",
            "client.relay.test",
        ])
        .ok();
    }
    let (_, report) = doctor(&sb, &["--profile", "nomx"]);
    let found = assert_status(&report, "dns.sender_domain", "warn");
    assert!(found.contains("no MX"), "{found}");
    // Listed on the test blocklist: a failure that says why mail bounces.
    let found = assert_status(&report, "dnsbl.host", "fail");
    assert!(found.contains("bl.test (127.0.0.2)"), "{found}");
    // client.relay.test resolves to 192.0.2.10, not to the listed address.
    assert_status(&report, "ehlo.forward", "warn");
    assert_status(&report, "ehlo.reverse", "warn");

    let (run, report) = doctor(&sb, &["--profile", "gone"]);
    assert_eq!(run.code, 1);
    let found = assert_status(&report, "dns.sender_domain", "fail");
    assert!(found.contains("does not exist"), "{found}");
}

/// A network namespace of the test's own, deleted on drop.
struct NetNs(String);

impl NetNs {
    fn new() -> NetNs {
        let name = format!("relayctl-doctor-{}", std::process::id());
        let ns = NetNs(name);
        ns.ip(&["netns", "add", &ns.0]);
        ns.exec(&["ip", "link", "set", "lo", "up"]);
        ns
    }

    fn ip(&self, args: &[&str]) {
        let out = Command::new("ip")
            .args(args)
            .output()
            .expect("ip (iproute2)");
        assert!(
            out.status.success(),
            "ip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn exec(&self, args: &[&str]) {
        let mut all = vec!["netns", "exec", &self.0];
        all.extend_from_slice(args);
        self.ip(&all);
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Port 25 dropped by a firewall rule inside a namespace of the test's own: "filtered", with
/// the provider-blocks-port-25 fix; nothing ever leaves the namespace. The test DNS server is
/// not reachable from there, so the DNS checks say "could not check" and never fail.
#[test]
fn filtered_port_in_a_network_namespace() {
    if !as_root(Root::NetworkNamespace) {
        return;
    }
    let sb = sandbox();
    sb.setup_smarthost(&[
        "--host",
        "127.0.0.1",
        "--port",
        "25",
        "--tls",
        "none",
        "--from",
        "ops@relay.test",
        "--ehlo-name",
        "client.relay.test",
    ])
    .ok();
    let ns = NetNs::new();
    ns.exec(&[
        "iptables", "-A", "OUTPUT", "-p", "tcp", "--dport", "25", "-j", "DROP",
    ]);
    let mut cmd = sb.program("ip");
    cmd.args([
        "netns",
        "exec",
        &ns.0,
        env!("CARGO_BIN_EXE_relayctl"),
        "doctor",
        "--json",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let started = Instant::now();
    let out = cmd.output().expect("ip netns exec");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    let report = parse(&run);
    assert_eq!(run.code, 1, "{run:#?}");
    let found = assert_status(&report, "tcp.relay", "fail");
    assert!(found.contains("filtered"), "{found}");
    assert!(
        found.contains("your provider blocks outbound port 25") && found.contains("587"),
        "{found}"
    );
    // Nothing listens on 587 or 465 in the namespace: refused, so not blocked.
    assert_status(&report, "tcp.port_587", "pass");
    let found = assert_status(&report, "dns.sender_domain", "warn");
    assert!(found.contains("could not check"), "{found}");
    assert_status(&report, "dnsbl.host", "warn");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

/// Receives datagrams on a socket standing in for /dev/log or journald's socket.
struct LogSocket {
    socket: UnixDatagram,
}

impl LogSocket {
    fn bind(path: &Path) -> LogSocket {
        let socket = UnixDatagram::bind(path).expect("bind log socket");
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        LogSocket { socket }
    }

    fn next(&self) -> String {
        let mut buf = vec![0u8; 8192];
        let n = self.socket.recv(&mut buf).expect("a log line");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

#[test]
fn one_log_line_per_delivery_attempt_without_secrets_or_body() {
    if !as_root(Root::Postfix) {
        return;
    }
    let mut sb = sandbox();
    setup_login(&sb, "sub", "587", PASSWORD, true, &[]);
    let sock = sb.path("log.sock");
    let log = LogSocket::bind(&sock);
    sb.env("RELAYCTL_LOG", &format!("syslog:{}", sock.display()));
    let m = marker("logline");
    let body = format!("body text {m} must not be logged\n");
    sb.run(
        &["send", "--to", "ops@example.org", "--subject", "log test"],
        body.as_bytes(),
    )
    .ok();
    wait_for(&m);
    let line = log.next();
    for field in [
        "<22>relayctl[",
        "message_id=\"<",
        "profile=\"sub\"",
        "relay=\"localhost:587\"",
        "recipients=1",
        "size=",
        "result=250",
        "status=sent",
        "duration_ms=",
        "text=\"250 2.0.0 Ok",
    ] {
        assert!(line.contains(field), "{field} missing: {line}");
    }
    assert!(!line.contains(&m) && !line.contains(PASSWORD), "{line}");
    let id = line
        .split_once("queue_id=")
        .and_then(|(_, rest)| rest.split(' ').next())
        .unwrap_or_default();
    assert!(
        id.len() == 20 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{line}"
    );

    // Synchronous delivery, and a refused login, in journald's native format.
    let jsock = sb.path("journal.sock");
    let journal = LogSocket::bind(&jsock);
    sb.env("RELAYCTL_LOG", &format!("journald:{}", jsock.display()));
    setup_login(&sb, "bad", "587", "wrong-password-123", true, &[]);
    let run = sb.run(
        &[
            "--profile",
            "bad",
            "--wait",
            "send",
            "--to",
            "ops@example.org",
            "--subject",
            "x",
        ],
        body.as_bytes(),
    );
    assert_eq!(run.code, 77, "{run:#?}");
    let entry = journal.next();
    for field in [
        "\nPRIORITY=4\n",
        "\nSYSLOG_IDENTIFIER=relayctl\n",
        "\nRELAYCTL_QUEUE_ID=\n",
        "\nRELAYCTL_PROFILE=bad\n",
        "\nRELAYCTL_RESULT=535\n",
        "status=not-sent",
    ] {
        assert!(entry.contains(field), "{field:?} missing: {entry}");
    }
    for secret in [PASSWORD, "wrong-password-123", m.as_str()] {
        assert!(!entry.contains(secret), "{entry}");
    }
}

#[test]
fn verbose_without_a_log_socket_prints_the_line_and_hides_credentials() {
    if !as_root(Root::Postfix) {
        return;
    }
    let mut sb = sandbox();
    setup_login(&sb, "sub", "587", PASSWORD, true, &[]);
    // Nothing listens at this path: with -v the line goes to stderr instead.
    sb.env(
        "RELAYCTL_LOG",
        &format!("syslog:{}", sb.path("none").display()),
    );
    let run = sb
        .run(
            &[
                "-v",
                "--wait",
                "send",
                "--to",
                "ops@example.org",
                "--subject",
                "v",
            ],
            b"hello\n",
        )
        .ok();
    assert_no_secret(&run);
    assert!(
        run.stderr.contains("AUTH PLAIN (credentials not shown)"),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains("relayctl: queue_id=- message_id=\"<"),
        "{run:#?}"
    );
}

#[test]
fn test_command_sends_through_the_queue_and_reports_the_reply() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox();
    let name = marker("testcmd").replace('_', "-");
    setup_login(&sb, &name, "587", PASSWORD, true, &[]);
    let run = sb.run(&["test", "--to", "ops@example.org"], b"").ok();
    assert_no_secret(&run);
    let captured = wait_for(&name);
    let text = captured.text();
    assert!(text.contains("Subject: relayctl test from "), "{text}");
    for needle in [
        format!("Profile:  {name}"),
        "Relay:    localhost:587 (tls starttls)".into(),
        format!("Version:  relayctl {}", env!("CARGO_PKG_VERSION")),
        "Time:     ".into(),
    ] {
        assert!(text.contains(&needle), "{needle} missing: {text}");
    }
    let id = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("queue id: "))
        .unwrap_or_else(|| panic!("no queue id: {run:#?}"));
    assert_eq!(id.len(), 20, "{run:#?}");
    assert!(
        run.stdout
            .contains(&format!("accepted via profile {name} (localhost:587)")),
        "{run:#?}"
    );
    assert!(run.stdout.contains(": 250 2.0.0 Ok"), "{run:#?}");

    // A refused login: held in the queue, exit 78, the relay's reply shown.
    let sb = sandbox();
    setup_login(&sb, "bad", "587", "wrong-password-123", true, &[]);
    let run = sb.run(&["test", "--to", "ops@example.org"], b"").code(78);
    assert!(
        run.stdout.contains("not accepted via profile bad"),
        "{run:#?}"
    );
    assert!(run.stdout.contains("535"), "{run:#?}");
    assert!(run.stderr.contains("stays queued (held)"), "{run:#?}");
}

#[test]
fn without_configuration_the_first_line_says_to_run_setup() {
    let sb = sandbox();
    let (run, report) = doctor(&sb, &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(report["profile"], Value::Null);
    let found = assert_status(&report, "config.files", "fail");
    assert!(found.contains("relayctl setup"), "{found}");
    assert_status(&report, "config.profile", "skip");
    assert_status(&report, "queue.waiting", "pass");
}

#[test]
fn certificate_for_another_name_fails_with_the_tls_name_fix() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox();
    setup_login(
        &sb,
        "sub",
        "587",
        PASSWORD,
        true,
        &["--tls-name", "other.relay.test"],
    );
    let (run, report) = doctor(&sb, &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    let found = assert_status(&report, "tls.certificate", "fail");
    assert!(found.contains("not valid for other.relay.test"), "{found}");
    assert!(found.contains("tls_name"), "{found}");
}

/// This test machine is a headless server: a profile whose secret is in the OS keyring fails
/// the secret check with the explanation and the stores that work without a desktop session.
#[test]
fn keyring_secret_on_a_headless_host_is_explained() {
    if !as_root(Root::Postfix) {
        return;
    }
    let r = crate::harness::relay();
    let mut sb = crate::harness::Sandbox::new();
    let path = sb.user_config();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        format!(
            "default_profile = \"k\"\n[profiles.k]\npreset = \"institutional\"\nhost = \"localhost\"\nport = 587\ntls = \"starttls\"\nuser = \"jdoe@relay.test\"\nfrom = \"jdoe@relay.test\"\nsecret = \"keyring\"\nca_file = \"{}\"\n",
            r.ca_file.display()
        ),
    )
    .unwrap();
    // A DNS server that refuses at once: the DNS checks warn quickly.
    sb.env("RELAYCTL_DNS_SERVER", "127.0.0.1:1");
    let run = sb.run(&["doctor"], b"").code(1);
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("secret.store"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(line.starts_with("FAIL"), "{line}");
    assert!(line.contains("no Secret Service session"), "{line}");
    assert!(
        run.stdout.contains("no D-Bus session here"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("--secret-store file"), "{}", run.stdout);
    assert!(run.stdout.contains("skip  auth.login"), "{}", run.stdout);
}

/// A listener sandbox ([`crate::listener::sandbox`], `server` as its `[server]`) that doctor
/// runs in with the test DNS, as [`sandbox`] does.
fn listener_sandbox(server: &str) -> Sandbox {
    let mut sb = crate::listener::sandbox(server);
    sb.env("RELAYCTL_DNS_SERVER", dns())
        .env("RELAYCTL_DNSBL_ZONES", "bl.test")
        .env("RELAYCTL_PUBLIC_ADDRESS", PUBLIC);
    sb
}

/// Adds `listen = [address]` to the sandbox's `[server]` (the last table of its config).
fn listen_in_config(sb: &Sandbox, address: &str) {
    let path = sb.path("etc/relayctl/config.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    config.push_str(&format!("listen = [\"{address}\"]\n"));
    std::fs::write(path, config).unwrap();
}

/// The `smtpd.*` checks of a report.
fn smtpd_checks(report: &Value) -> Vec<&Value> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"].as_str().unwrap().starts_with("smtpd."))
        .collect()
}

/// With `[server]` and a running listener, doctor finds relayctl on its address, tries it from
/// an address of this host outside `allow` (refused without AUTH: 530, and the listener logged
/// the refusal from that address, nothing dropped), and reads the certificate's expiry.
#[test]
fn the_listener_is_found_refuses_other_addresses_and_its_certificate_is_read() {
    if !as_root(Root::Postfix) {
        return;
    }
    let dir = relay().ca_file.parent().unwrap().to_path_buf();
    let sb = listener_sandbox(&format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"\n",
        dir.join("server.pem").display(),
        dir.join("server.key").display()
    ));
    let served = crate::listener::Served::start(&sb, &[]);
    let address = format!("127.0.0.1:{}", served.port);
    listen_in_config(&sb, &address);
    let (_, report) = doctor(&sb, &[]);
    let found = assert_status(&report, "smtpd.listen", "pass");
    assert!(
        found.contains(&format!("relayctl answers on {address}: 220 ")),
        "{found}"
    );
    let found = assert_status(&report, "smtpd.open_relay", "pass");
    assert!(
        found.contains("(not in allow) that does not log in is refused: 530 5.7.0"),
        "{found}"
    );
    // The listener saw the trial from that address and refused it.
    let source = found
        .split("a client at ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap();
    assert!(!source.starts_with("127."), "tried from loopback: {found}");
    let line = served.wait_log(&["event=connection", &format!("client={source}")]);
    assert!(!line.is_empty());
    let found = assert_status(&report, "smtpd.certificate", "pass");
    assert!(found.contains("server.pem is valid until"), "{found}");
    let drops = std::fs::read_dir(sb.path("spool/maildrop"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(drops, 0, "the trial left a message");
    drop(served);
}

/// Whatever answers on the listen address is what clients reach: Postfix's smtp-sink there
/// (it accepts every MAIL and RCPT) is another program, and an open relay to a client outside
/// `allow`: both fail, with the fix.
#[test]
fn another_server_on_the_listen_address_is_named_and_caught_relaying() {
    if !as_root(Root::Postfix) {
        return;
    }
    let port = crate::listener::free_port();
    let address = format!("127.0.0.1:{port}");
    let mut sink = std::process::Command::new("smtp-sink")
        .args(["-u", "postfix", &address, "100"])
        .spawn()
        .expect("smtp-sink");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(&address).is_err() {
        assert!(Instant::now() < deadline, "smtp-sink did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let sb = listener_sandbox("");
    listen_in_config(&sb, &address);
    let (run, report) = doctor(&sb, &[]);
    let _ = sink.kill();
    let _ = sink.wait();
    assert_eq!(run.code, 1, "{run:#?}");
    let found = assert_status(&report, "smtpd.listen", "fail");
    assert!(
        found.contains(&format!("another program answers on {address}: 220 ")),
        "{found}"
    );
    let found = assert_status(&report, "smtpd.open_relay", "fail");
    assert!(
        found.contains(&format!(
            "OPEN RELAY: {address} accepted MAIL and RCPT without AUTH"
        )) && found.contains("stop what answers there now"),
        "{found}"
    );
    assert_status(&report, "smtpd.certificate", "skip");
}

/// Nothing listening on the configured address fails with how to start the listener; the
/// open-relay trial is skipped; a certificate that expires in a few days is a warning.
#[test]
fn a_listener_that_is_not_running_and_a_certificate_about_to_expire() {
    if !as_root(Root::Postfix) {
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = (certs.path().join("c.pem"), certs.path().join("k.pem"));
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "5",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(out.status.success(), "{out:?}");
    let sb = listener_sandbox(&format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"\n",
        cert.display(),
        key.display()
    ));
    let address = format!("127.0.0.1:{}", crate::listener::free_port());
    listen_in_config(&sb, &address);
    let (run, report) = doctor(&sb, &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    let found = assert_status(&report, "smtpd.listen", "fail");
    assert!(
        found.contains(&format!("nothing listens on {address}"))
            && found.contains("systemctl enable --now relayctl-smtpd.socket"),
        "{found}"
    );
    assert_status(&report, "smtpd.open_relay", "skip");
    let found = assert_status(&report, "smtpd.certificate", "warn");
    // Five days from openssl's second; less a moment by the time doctor reads it.
    assert!(
        found.contains("expires in 4 day(s)") || found.contains("expires in 5 day(s)"),
        "{found}"
    );

    // Without [server], no listener checks.
    let sb = sandbox();
    setup_login(&sb, "uni", "587", PASSWORD, true, &[]);
    let (_, report) = doctor(&sb, &[]);
    assert!(smtpd_checks(&report).is_empty(), "{report:#}");
}
