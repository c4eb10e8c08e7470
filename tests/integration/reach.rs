//! Relays outside the web PKI and networks that are not simple (issue 16, parts 4 and 5):
//! certificate pins (`tls_fingerprint`, `setup --trust-on-first-use`), `tls_min_version`,
//! `source_address`, egress proxies (Dante for SOCKS5, tinyproxy for HTTP CONNECT, both real
//! Debian daemons on loopback), IPv6 relays and a relay name whose IPv6 address is silently
//! unreachable. The relays are the test Postfix and the scripted server, which records every
//! command and login attempt.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use testkit::smtp::{Auth, Script, Server, Tls};

use crate::harness::{PASSWORD, Root, Run, Sandbox, USER, as_root, marker, relay, wait_for};
use crate::namespace::{ChildGuard, Namespace};

/// The profile `p`, written by hand (setup has flags for these settings, tested on their own):
/// `body` holds its keys. The relay's password is in a file store.
fn configure(sb: &Sandbox, body: &str) {
    let pass = sb.path("relay.pass");
    write_private(&pass, &format!("{PASSWORD}\n"));
    let config = format!(
        "default_profile = \"p\"\n\n[profiles.p]\npreset = \"institutional\"\nfrom = \"{USER}\"\n{body}\n"
    );
    let path = sb.user_config();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    write_private(&path, &config);
}

/// Login settings for the test user with the password file of [`configure`].
fn login(sb: &Sandbox) -> String {
    format!(
        "user = \"{USER}\"\nsecret = \"file:{}\"\n",
        sb.path("relay.pass").display()
    )
}

fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// `--wait send` of a message whose subject is `subject`.
fn send(sb: &Sandbox, subject: &str) -> Run {
    sb.run(
        &[
            "--wait",
            "send",
            "--to",
            "a@example.org",
            "--subject",
            subject,
        ],
        b"body\n",
    )
}

/// The `doctor` line of check `id`.
fn doctor_line(sb: &Sandbox, id: &str) -> String {
    let run = sb.run(&["doctor"], b"");
    run.stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(id))
        .unwrap_or_else(|| panic!("no {id} in doctor's report:\n{}", run.stdout))
        .to_string()
}

/// The SHA-256 fingerprint of a PEM certificate, as openssl prints it, with the `sha256:`
/// prefix; with `key`, that of its public key (SubjectPublicKeyInfo).
fn fingerprint(cert: &Path, key: bool) -> String {
    let script = if key {
        "openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -c | sed 's/.*= //'"
    } else {
        "openssl x509 -in \"$1\" -noout -fingerprint -sha256 | cut -d= -f2"
    };
    let out = Command::new("sh")
        .args(["-c", script, "sh"])
        .arg(cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    format!("sha256:{}", String::from_utf8_lossy(&out.stdout).trim())
}

/// The test relay's certificate (signed by the test CA).
fn relay_certificate() -> PathBuf {
    relay().ca_file.parent().unwrap().join("server.pem")
}

/// A scripted relay with STARTTLS (`config`) and AUTH PLAIN/LOGIN for the test user.
fn tls_relay(config: Arc<rustls::ServerConfig>) -> Server {
    Server::start(Script {
        tls: Tls::Starttls(config),
        auth: Some(Auth::new(&["PLAIN", "LOGIN"], |u, p| {
            u == USER && p == PASSWORD
        })),
        ..Script::default()
    })
}

/// The profile keys for a scripted relay on `port`, STARTTLS, with a login.
fn scripted(sb: &Sandbox, port: u16, extra: &str) -> String {
    format!(
        "host = \"localhost\"\nport = {port}\ntls = \"starttls\"\n{}{extra}\n",
        login(sb)
    )
}

fn no_login_was_sent(server: &Server) {
    assert!(server.auths().is_empty(), "{:?}", server.auths());
    assert!(
        !server.commands().iter().any(|c| c.starts_with("AUTH")),
        "{:?}",
        server.commands()
    );
}

#[test]
fn a_pinned_certificate_is_trusted_without_its_ca() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let pin = fingerprint(&relay_certificate(), false);
    // No --ca-file: the test CA is not among the system's roots; the pin alone trusts the relay.
    sb.run(
        &[
            "setup",
            "institutional",
            "--name",
            "pinned",
            "--host",
            "localhost",
            "--port",
            "587",
            "--tls",
            "starttls",
            "--user",
            USER,
            "--password-stdin",
            "--secret-store",
            "file",
            "--tls-fingerprint",
            &pin,
        ],
        PASSWORD.as_bytes(),
    )
    .ok();
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    assert!(
        config.contains(&format!("tls_fingerprint = [\"{pin}\"]")),
        "{config}"
    );
    let show = sb.run(&["profile", "show", "pinned"], b"").ok().stdout;
    assert!(show.contains(&format!("tls fingerprint:  {pin}")), "{show}");
    let m = marker("pinned");
    send(&sb, &m).ok();
    wait_for(&m);
    let line = doctor_line(&sb, "tls.certificate");
    assert!(line.starts_with("pass"), "{line}");
    assert!(
        line.contains(&pin) && line.contains("its CA and name are not checked"),
        "{line}"
    );
}

#[test]
fn a_pin_mismatch_stops_before_the_login_with_both_fingerprints() {
    if !as_root(Root::Postfix) {
        return;
    }
    let server = tls_relay(crate::harness::tls_server_config());
    let actual = fingerprint(&relay_certificate(), false);
    let pinned = format!("sha256:{}", ["AB"; 32].join(":"));
    let sb = Sandbox::new();
    configure(
        &sb,
        &scripted(
            &sb,
            server.port,
            &format!("tls_fingerprint = [\"{pinned}\"]"),
        ),
    );
    let run = send(&sb, &marker("mismatch")).code(75);
    assert!(
        run.stderr.contains(&actual) && run.stderr.contains(&pinned),
        "both fingerprints: {run:#?}"
    );
    no_login_was_sent(&server);
    assert!(server.messages().is_empty());
    let line = doctor_line(&sb, "tls.certificate");
    assert!(line.starts_with("FAIL") && line.contains(&actual), "{line}");
    no_login_was_sent(&server);
}

#[test]
fn a_public_key_pin_trusts_a_self_signed_certificate() {
    if !as_root(Root::Postfix) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=appliance.campus.test",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let server = tls_relay(testkit::tls::server_config(&cert, &key));
    let sb = Sandbox::new();
    // Without a pin, a self-signed certificate is refused (a mistake in the setup: 78), and
    // the fix names the pin.
    configure(&sb, &scripted(&sb, server.port, ""));
    send(&sb, &marker("selfsigned"))
        .code(78)
        .one_line_error("--trust-on-first-use");
    no_login_was_sent(&server);
    let pin = fingerprint(&cert, true);
    configure(
        &sb,
        &scripted(&sb, server.port, &format!("tls_fingerprint = [\"{pin}\"]")),
    );
    let m = marker("selfsigned");
    send(&sb, &m).ok();
    let got = server.messages();
    assert_eq!(got.len(), 1);
    assert!(got[0].text().contains(&m));
    assert_eq!(server.auths().len(), 1);
}

#[test]
fn trust_on_first_use_shows_the_certificate_and_pins_it() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let setup = [
        "setup",
        "institutional",
        "--name",
        "tofu",
        "--host",
        "localhost",
        "--port",
        "587",
        "--tls",
        "starttls",
        "--user",
        USER,
        "--password-command",
        &format!("echo {PASSWORD}"),
        "--notify",
        "admin@example.org",
        "--trust-on-first-use",
    ];
    // Not at a terminal: refused, nothing written.
    sb.run(&setup, b"y\n")
        .code(64)
        .one_line_error("--tls-fingerprint");
    assert!(!sb.user_config().exists());
    // At a terminal (script(1) gives it one): the certificate, the question, the pin.
    let line = shell_words(&setup);
    let mut cmd = sb.program("script");
    cmd.args([
        "-qec",
        &format!("{} {line}", env!("CARGO_BIN_EXE_relayctl")),
        "/dev/null",
    ]);
    let out = run_with_input(cmd, b"y\n");
    let pin = fingerprint(&relay_certificate(), false);
    for shown in [
        "subject: ",
        "issuer: CN=relayctl test CA",
        "expires: ",
        &pin,
        "Pin this certificate?",
    ] {
        assert!(out.contains(shown), "{shown:?} not shown:\n{out}");
    }
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    assert!(
        config.contains(&format!("tls_fingerprint = [\"{pin}\"]")),
        "{config}"
    );
    let m = marker("tofu");
    send(&sb, &m).ok();
    wait_for(&m);
}

/// `args` as one shell command line.
fn shell_words(args: &[&str]) -> String {
    args.iter()
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `cmd` with `input` on stdin; stdout and stderr together.
fn run_with_input(mut cmd: Command, input: &[u8]) -> String {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // script(1) passes its input on only once the program reads from the terminal.
    let mut stdin = child.stdin.take().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    stdin.write_all(input).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn tls_min_version_13_refuses_a_relay_that_speaks_only_12() {
    if !as_root(Root::Postfix) {
        return;
    }
    let dir = relay().ca_file.parent().unwrap();
    let server = tls_relay(testkit::tls::server_config_for(
        &dir.join("server.pem"),
        &dir.join("server.key"),
        &[&rustls::version::TLS12],
    ));
    let ca = format!("ca_file = \"{}\"\n", relay().ca_file.display());
    let sb = Sandbox::new();
    configure(
        &sb,
        &scripted(&sb, server.port, &format!("{ca}tls_min_version = \"1.3\"")),
    );
    // The profile does not match the relay: held with the fix (78), nothing sent.
    send(&sb, &marker("tls13"))
        .code(78)
        .one_line_error("setup --tls-min-version 1.2");
    no_login_was_sent(&server);
    let line = doctor_line(&sb, "tls.handshake");
    assert!(
        line.starts_with("FAIL") && line.contains("TLS 1.3"),
        "{line}"
    );
    // The same relay with the default minimum, 1.2: delivered.
    configure(
        &sb,
        &scripted(&sb, server.port, &format!("{ca}tls_min_version = \"1.2\"")),
    );
    send(&sb, &marker("tls12")).ok();
    assert_eq!(server.messages().len(), 1);
}

#[test]
fn the_relay_sees_the_source_address() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    // Postfix's port 25 relays for 127.0.0.0/8, without TLS or login; its Received header
    // names the client's address.
    configure(
        &sb,
        "host = \"127.0.0.1\"\nport = 25\ntls = \"none\"\nsource_address = \"127.0.0.2\"\n",
    );
    let m = marker("source");
    send(&sb, &m).ok();
    let got = wait_for(&m);
    let text = got.text();
    assert!(text.contains("[127.0.0.2]"), "{text}");
    let line = doctor_line(&sb, "net.source_address");
    assert!(
        line.starts_with("pass") && line.contains("127.0.0.2"),
        "{line}"
    );
}

#[test]
fn a_source_address_this_host_lacks_is_a_clear_error() {
    let server = Server::start(Script::default());
    let sb = Sandbox::new();
    configure(
        &sb,
        &format!(
            "host = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nsource_address = \"192.0.2.10\"\n",
            server.port
        ),
    );
    send(&sb, &marker("nosource"))
        .code(78)
        .one_line_error("source_address 192.0.2.10 is not an address of this host");
    assert_eq!(server.connections(), 0);
    let line = doctor_line(&sb, "net.source_address");
    assert!(line.starts_with("FAIL"), "{line}");
}

/// A free port on 127.0.0.1 (for a daemon configured in advance).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A proxy daemon, killed (with its children) when dropped.
struct Daemon {
    _guard: ChildGuard,
    log: PathBuf,
}

impl Daemon {
    /// Starts `program args` and waits until `port` takes connections.
    fn start(program: &str, args: &[&str], port: u16, log: PathBuf) -> Daemon {
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let guard = ChildGuard::spawn(cmd);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "{program} does not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Daemon { _guard: guard, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A directory the proxies (which drop to `nobody`) can write their logs in.
fn proxy_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

/// The system user Dante checks SOCKS5 user names and passwords against.
const PROXY_USER: &str = "relayctl-proxy";
const PROXY_PASSWORD: &str = "Proxy-Pass-5521";

/// Dante on a free port: with `login`, only SOCKS5 user name and password (system users);
/// without, no login. Connections to port 25 are refused by its rules.
fn dante(dir: &Path, login: bool) -> (Daemon, u16) {
    let port = free_port();
    let log = dir.join(format!("danted-{port}.log"));
    let conf = dir.join(format!("danted-{port}.conf"));
    let method = if login { "username" } else { "none" };
    std::fs::write(
        &conf,
        format!(
            "logoutput: {}\ninternal: 127.0.0.1 port = {port}\nexternal: 127.0.0.1\n\
             socksmethod: {method}\nuser.privileged: root\nuser.unprivileged: nobody\n\
             client pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 }}\n\
             socks block {{ from: 0.0.0.0/0 to: 0.0.0.0/0 port = 25 log: error connect }}\n\
             socks pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 log: error connect }}\n",
            log.display()
        ),
    )
    .unwrap();
    let pid = dir.join(format!("danted-{port}.pid"));
    let daemon = Daemon::start(
        "danted",
        &["-f", conf.to_str().unwrap(), "-p", pid.to_str().unwrap()],
        port,
        log,
    );
    (daemon, port)
}

/// tinyproxy on a free port, tunnelling to port 587 only; with `login`, HTTP Basic.
fn tinyproxy(dir: &Path, login: Option<(&str, &str)>) -> (Daemon, u16) {
    let port = free_port();
    let log = dir.join(format!("tinyproxy-{port}.log"));
    let conf = dir.join(format!("tinyproxy-{port}.conf"));
    let mut text = format!(
        "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nAllow 127.0.0.1\n\
         ConnectPort 587\nLogLevel Connect\nLogFile \"{}\"\nPidFile \"{}\"\n",
        log.display(),
        dir.join(format!("tinyproxy-{port}.pid")).display()
    );
    if let Some((user, password)) = login {
        text.push_str(&format!("BasicAuth {user} {password}\n"));
    }
    std::fs::write(&conf, text).unwrap();
    let daemon = Daemon::start(
        "tinyproxy",
        &["-d", "-c", conf.to_str().unwrap()],
        port,
        log,
    );
    (daemon, port)
}

/// Needs the proxies of tests/run's package list.
fn have(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "{program} is missing: run tests/run (it installs dante-server and tinyproxy)"
    );
    found
}

/// The profile keys for Postfix's submission port reached through `proxy`, with the test CA.
fn through(sb: &Sandbox, proxy: &str, port: u16, extra: &str) -> String {
    format!(
        "host = \"localhost\"\nport = {port}\ntls = \"starttls\"\nca_file = \"{}\"\nproxy = \"{proxy}\"\n{}{extra}\n",
        relay().ca_file.display(),
        login(sb)
    )
}

#[test]
fn socks5_through_dante_with_and_without_a_login() {
    if !as_root(Root::Postfix) || !as_root(Root::Users) || !have("danted") {
        return;
    }
    let _ = Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            PROXY_USER,
        ])
        .status();
    let mut chpasswd = Command::new("chpasswd")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        chpasswd.stdin.as_mut().unwrap(),
        format!("{PROXY_USER}:{PROXY_PASSWORD}\n").as_bytes(),
    )
    .unwrap();
    drop(chpasswd.stdin.take());
    assert!(chpasswd.wait().unwrap().success());

    let dir = proxy_dir();
    let (open, open_port) = dante(dir.path(), false);
    let (locked, locked_port) = dante(dir.path(), true);
    let sb = Sandbox::new();

    // No login, the proxy resolves the name (socks5h), then relayctl does (socks5).
    for scheme in ["socks5h", "socks5"] {
        let proxy = format!("{scheme}://127.0.0.1:{open_port}");
        configure(&sb, &through(&sb, &proxy, 587, ""));
        let m = marker(scheme);
        send(&sb, &m).ok();
        wait_for(&m);
    }
    assert!(
        open.log().contains("pass(") && open.log().contains(".587"),
        "{}",
        open.log()
    );
    let line = doctor_line(&sb, "net.proxy");
    assert!(line.starts_with("pass"), "{line}");

    // The proxy's rules refuse port 25: a setup mistake, with the proxy's reason.
    configure(
        &sb,
        &format!(
            "host = \"127.0.0.1\"\nport = 25\ntls = \"none\"\nproxy = \"socks5://127.0.0.1:{open_port}\"\n"
        ),
    );
    send(&sb, &marker("socksrefused"))
        .code(78)
        .one_line_error("rules do not allow");
    let line = doctor_line(&sb, "net.proxy");
    assert!(line.starts_with("FAIL"), "{line}");

    // A proxy that needs a login: none given, a wrong password, the right one.
    let proxy_pass = sb.path("proxy.pass");
    let url = format!("socks5h://{PROXY_USER}@127.0.0.1:{locked_port}");
    configure(
        &sb,
        &through(&sb, &format!("socks5h://127.0.0.1:{locked_port}"), 587, ""),
    );
    send(&sb, &marker("socksnologin"))
        .code(78)
        .one_line_error("wants a login");
    let secret = format!("proxy_secret = \"file:{}\"", proxy_pass.display());
    write_private(&proxy_pass, "not-the-password\n");
    configure(&sb, &through(&sb, &url, 587, &secret));
    let run = send(&sb, &marker("sockswrong")).code(77);
    assert!(run.stderr.contains("refused the login"), "{run:#?}");
    assert!(!run.stderr.contains("not-the-password"), "{run:#?}");
    write_private(&proxy_pass, &format!("{PROXY_PASSWORD}\n"));
    let show = sb.run(&["profile", "show", "p"], b"").ok().stdout;
    assert!(
        show.contains(&format!("proxy:            {url} (password: file:")),
        "{show}"
    );
    let m = marker("sockslogin");
    let run = sb.run(
        &[
            "-v",
            "--wait",
            "send",
            "--to",
            "a@example.org",
            "--subject",
            &m,
        ],
        b"body\n",
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        !run.stderr.contains(PROXY_PASSWORD),
        "the proxy password was shown"
    );
    wait_for(&m);
    assert!(
        locked.log().contains(&format!("username%{PROXY_USER}@")),
        "{}",
        locked.log()
    );
}

#[test]
fn http_connect_through_tinyproxy_with_and_without_a_login() {
    if !as_root(Root::Postfix) || !have("tinyproxy") {
        return;
    }
    const HTTP_USER: &str = "mailer";
    const HTTP_PASSWORD: &str = "Http-Pass-8812";
    let dir = proxy_dir();
    let (open, open_port) = tinyproxy(dir.path(), None);
    let (_locked, locked_port) = tinyproxy(dir.path(), Some((HTTP_USER, HTTP_PASSWORD)));
    let sb = Sandbox::new();

    let proxy = format!("http://127.0.0.1:{open_port}");
    configure(&sb, &through(&sb, &proxy, 587, ""));
    let m = marker("connect");
    send(&sb, &m).ok();
    wait_for(&m);
    assert!(open.log().contains("CONNECT"), "{}", open.log());
    let line = doctor_line(&sb, "net.proxy");
    assert!(line.starts_with("pass"), "{line}");

    // The proxy tunnels to port 587 only (ConnectPort): 465 is refused.
    configure(
        &sb,
        &through(&sb, &proxy, 465, "").replace("starttls", "tls"),
    );
    send(&sb, &marker("connectrefused"))
        .code(78)
        .one_line_error("refused the tunnel");

    let proxy_pass = sb.path("proxy.pass");
    let secret = format!("proxy_secret = \"file:{}\"", proxy_pass.display());
    let url = format!("http://{HTTP_USER}@127.0.0.1:{locked_port}");
    write_private(&proxy_pass, "not-the-password\n");
    configure(&sb, &through(&sb, &url, 587, &secret));
    send(&sb, &marker("connectwrong"))
        .code(77)
        .one_line_error("refused the login");
    write_private(&proxy_pass, &format!("{HTTP_PASSWORD}\n"));
    let m = marker("connectlogin");
    send(&sb, &m).ok();
    wait_for(&m);
}

#[test]
fn an_ipv6_relay_by_address() {
    let Ok(server) = Server::start_at("[::1]:0".parse().unwrap(), Script::default()) else {
        eprintln!("skipped: no IPv6 loopback: an_ipv6_relay_by_address");
        return;
    };
    let sb = Sandbox::new();
    configure(
        &sb,
        &format!("host = \"[::1]\"\nport = {}\ntls = \"none\"\n", server.port),
    );
    let m = marker("ipv6");
    send(&sb, &m).ok();
    assert_eq!(server.messages().len(), 1);
    assert!(server.peers()[0].is_ipv6(), "{:?}", server.peers());
}

/// Drops packets to `[::1]:port` while it lives: an IPv6 address that never answers.
struct Blackhole(u16);

impl Blackhole {
    fn rule(&self, action: &str) -> bool {
        Command::new("ip6tables")
            .args([action, "OUTPUT", "-d", "::1", "-p", "tcp", "--dport"])
            .arg(self.0.to_string())
            .args(["-j", "DROP"])
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Blackhole {
    fn drop(&mut self) {
        self.rule("-D");
    }
}

#[test]
fn a_name_whose_ipv6_address_is_unreachable_is_reached_over_ipv4() {
    if !as_root(Root::Mounts) || !as_root(Root::NetworkNamespace) {
        return;
    }
    let server = Server::start(Script::default());
    let hole = Blackhole(server.port);
    assert!(hole.rule("-A"), "ip6tables cannot drop packets here");
    // relay.dual.test has both addresses, IPv6 first, in the namespace's own /etc/hosts.
    let sb = Sandbox::new();
    let hosts = sb.path("hosts");
    std::fs::write(&hosts, "::1 relay.dual.test\n127.0.0.1 relay.dual.test\n").unwrap();
    configure(
        &sb,
        &format!(
            "host = \"relay.dual.test\"\nport = {}\ntls = \"none\"\ntimeout = 20\n",
            server.port
        ),
    );
    let m = marker("dual");
    let config = sb.user_config();
    let spool = sb.path("spool");
    let args = [
        "--config",
        config.to_str().unwrap(),
        "--spool",
        spool.to_str().unwrap(),
        "--wait",
        "send",
        "--to",
        "a@example.org",
        "--subject",
        &m,
    ];
    let mut cmd = Namespace::new()
        .bind(&hosts, "/etc/hosts")
        .command(env!("CARGO_BIN_EXE_relayctl"), &args);
    cmd.env("HOME", sb.dir.path());
    let start = Instant::now();
    let run = crate::namespace::run(cmd, b"body\n", Duration::from_secs(60));
    let took = start.elapsed();
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(server.messages().len(), 1);
    // The IPv6 attempt hangs; IPv4 is tried 250 ms later, not after the 20 s timeout.
    assert!(took < Duration::from_secs(5), "took {took:?}");

    // With only the silent address, connecting ends at the profile's timeout (2 s), not when
    // the kernel gives up on the SYN (about two minutes).
    configure(
        &sb,
        &format!(
            "host = \"[::1]\"\nport = {}\ntls = \"none\"\ntimeout = 2\n",
            server.port
        ),
    );
    let start = Instant::now();
    send(&sb, &marker("silent")).code(75);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert_eq!(server.messages().len(), 1);
}
