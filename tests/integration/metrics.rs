//! Metrics for Prometheus after real scenarios through the Postfix relay: a delivered message, a
//! failed one, a login the relay refused (mail held) and a profile frozen by the spew brake.
//! Every scrape passes Debian's `promtool check metrics`; Debian's node_exporter serves the
//! `metrics_textfile` that queue runs and the daemon write.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Root, Sandbox, as_root, marker, unix_now, wait_for};
use crate::listener::free_port;

/// Two profiles to Postfix's port 25 (no TLS, no login): `campus`, and `burst` with a spew brake
/// of two messages.
const PROFILES: &str = "\n[profiles.campus]\npreset = \"smarthost\"\nhost = \"localhost\"\nport = 25\ntls = \"none\"\nfrom = \"vm1@campus.example\"\ntimeout = 5\n\n[profiles.burst]\npreset = \"smarthost\"\nhost = \"localhost\"\nport = 25\ntls = \"none\"\nfrom = \"vm1@campus.example\"\ntimeout = 5\nbrake = \"2/10m\"\n";

/// `relayctl metrics`, checked by `promtool check metrics` (which also lints names, units and
/// HELP lines).
pub fn scrape(sb: &Sandbox) -> String {
    let run = sb.run(&["metrics"], b"").ok();
    assert_eq!(run.stderr, "", "{run:#?}");
    promtool_check(&run.stdout);
    run.stdout
}

/// Asserts that `promtool check metrics` accepts `text` without a complaint.
pub fn promtool_check(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package; tests/run installs it)");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The value of the series written exactly as `series` (`name{labels}`).
#[track_caller]
pub fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
        .parse()
        .unwrap()
}

/// A sandbox with the three profiles: `uni` (587, login with the file store), `campus`, `burst`.
pub fn sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    let mut config = std::fs::read_to_string(sb.user_config()).unwrap();
    config.push_str(PROFILES);
    std::fs::write(sb.user_config(), config).unwrap();
    sb
}

/// Plays the four scenarios in `sb` (from [`sandbox`]): one message delivered and one refused
/// through `campus`, one held for a refused login on `uni`, three through `burst` (the third
/// trips its brake).
pub fn play_scenarios(sb: &Sandbox) {
    let m = marker("metrics");
    sb.run(
        &[
            "--profile",
            "campus",
            "send",
            "--to",
            "ops@example.org",
            "--subject",
            &m,
        ],
        b"x\n",
    )
    .ok();
    wait_for(&m);
    sb.run(
        &["--profile", "campus", "sendmail", "rejected@example.org"],
        b"Subject: refused\n\nx\n",
    )
    .code(67);
    sb.run(
        &[
            "profile",
            "set-secret",
            "uni",
            "--password-stdin",
            "--no-verify",
        ],
        b"revoked\n",
    )
    .ok();
    let run = sb.run(
        &[
            "--profile",
            "uni",
            "send",
            "--to",
            "ops@example.org",
            "--subject",
            "login-refused",
        ],
        b"x\n",
    );
    assert!(run.stderr.contains("held until"), "{run:#?}");
    for n in 0..3 {
        let run = sb.run(
            &["--profile", "burst", "sendmail", "ops@example.org"],
            format!("Subject: burst {n}\n\nx\n").as_bytes(),
        );
        assert_eq!(run.code, 0, "{run:#?}");
    }
}

#[test]
fn metrics_after_a_delivery_a_failure_a_refused_login_and_the_spew_brake() {
    if !as_root(Root::Postfix) {
        return;
    }
    let started = unix_now();
    let sb = sandbox();
    let empty = scrape(&sb);
    for profile in ["uni", "campus", "burst"] {
        let series = format!("relayctl_deliveries_total{{profile=\"{profile}\"}}");
        assert_eq!(value(&empty, &series), 0.0, "counters start at zero");
    }
    play_scenarios(&sb);
    let text = scrape(&sb);
    let v = |series: &str| value(&text, series);

    // Delivered, then refused for good (550 5.1.1 to RCPT): in the failed area.
    assert_eq!(v("relayctl_deliveries_total{profile=\"campus\"}"), 1.0);
    assert_eq!(
        v("relayctl_delivery_failures_total{profile=\"campus\",class=\"recipient\"}"),
        1.0
    );
    assert_eq!(
        v("relayctl_queue_messages{profile=\"campus\",state=\"failed\"}"),
        1.0
    );
    let last = v("relayctl_last_delivery_timestamp_seconds{profile=\"campus\"}") as u64;
    assert!((started..=unix_now()).contains(&last), "{last}");

    // The refused login: counted, and the message held.
    assert_eq!(
        v("relayctl_relay_login_failures_total{profile=\"uni\"}"),
        1.0
    );
    assert_eq!(
        v("relayctl_delivery_failures_total{profile=\"uni\",class=\"auth\"}"),
        1.0
    );
    assert_eq!(
        v("relayctl_queue_messages{profile=\"uni\",state=\"held\"}"),
        1.0
    );
    assert_eq!(v("relayctl_deliveries_total{profile=\"uni\"}"), 0.0);
    assert_eq!(
        v("relayctl_last_delivery_timestamp_seconds{profile=\"uni\"}"),
        0.0
    );

    // Two went out before the brake froze the profile on the third.
    assert_eq!(v("relayctl_deliveries_total{profile=\"burst\"}"), 2.0);
    assert_eq!(v("relayctl_spew_brake_trips_total{profile=\"burst\"}"), 1.0);
    assert_eq!(v("relayctl_spew_brake_frozen{profile=\"burst\"}"), 1.0);
    assert_eq!(v("relayctl_spew_brake_frozen{profile=\"campus\"}"), 0.0);
    assert_eq!(
        v("relayctl_queue_messages{profile=\"burst\",state=\"frozen\"}"),
        1.0
    );
    assert_eq!(
        v("relayctl_queue_messages{profile=\"burst\",state=\"waiting\"}"),
        0.0
    );
    for secret in [
        "ops@example.org",
        "rejected@",
        "revoked",
        "login-refused",
        "burst 2",
    ] {
        assert!(!text.contains(secret), "{secret} in:\n{text}");
    }

    // The counters are kept in the spool: another process (a queue run) adds to them, never
    // starts them afresh. `release --all` lifts the freeze and releases the held message too,
    // whose login is refused again.
    sb.run(&["queue", "release", "--all"], b"").ok();
    sb.run(&["queue", "run"], b"").ok();
    let text = scrape(&sb);
    assert_eq!(
        value(&text, "relayctl_deliveries_total{profile=\"burst\"}"),
        3.0
    );
    assert_eq!(
        value(&text, "relayctl_spew_brake_frozen{profile=\"burst\"}"),
        0.0
    );
    assert_eq!(
        value(
            &text,
            "relayctl_relay_login_failures_total{profile=\"uni\"}"
        ),
        2.0
    );
    assert_eq!(
        value(&text, "relayctl_deliveries_total{profile=\"campus\"}"),
        1.0
    );
}

/// A child process of the test, killed and reaped when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The body of `GET path` from the HTTP server at `addr` (`host:port`), or why not.
pub fn http_get(addr: &str, path: &str) -> std::io::Result<(String, String)> {
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or((response.as_str(), ""));
    Ok((head.to_string(), body.to_string()))
}

/// Debian's node_exporter on a free loopback port with only its textfile collector, reading
/// `dir` (not the system's service, which the package may have installed).
fn node_exporter(dir: &Path) -> (Running, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let child = Command::new("prometheus-node-exporter")
        .arg("--collector.disable-defaults")
        .arg("--collector.textfile")
        .arg(format!("--collector.textfile.directory={}", dir.display()))
        .arg(format!("--web.listen-address={addr}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus-node-exporter (tests/run installs it)");
    (Running(child), addr)
}

/// What node_exporter at `addr` serves once `until` holds for it (within 20 s).
fn scrape_until(addr: &str, until: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let body = http_get(addr, "/metrics")
            .map(|(_, b)| b)
            .unwrap_or_default();
        if until(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "node_exporter never served it:\n{body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn node_exporter_serves_the_textfile_of_queue_runs_and_of_the_daemon() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox();
    let dir = sb.path("textfile");
    let file = dir.join("relayctl.prom");
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    std::fs::write(
        sb.user_config(),
        format!("metrics_textfile = \"{}\"\n{config}", file.display()),
    )
    .unwrap();
    play_scenarios(&sb);
    assert!(!file.exists(), "submissions leave the file to queue runs");
    sb.run(&["queue", "run"], b"").ok();
    let text = std::fs::read_to_string(&file).unwrap();
    promtool_check(&text);
    assert_eq!(
        value(&text, "relayctl_spew_brake_frozen{profile=\"burst\"}"),
        1.0
    );

    let (_exporter, addr) = node_exporter(&dir);
    let body = scrape_until(&addr, |b| b.contains("relayctl_build_info"));
    for series in [
        "relayctl_deliveries_total{profile=\"campus\"} 1",
        "relayctl_deliveries_total{profile=\"burst\"} 2",
        "relayctl_relay_login_failures_total{profile=\"uni\"} 1",
        "relayctl_spew_brake_frozen{profile=\"burst\"} 1",
        "relayctl_queue_messages{profile=\"campus\",state=\"failed\"} 1",
        "relayctl_queue_messages{profile=\"uni\",state=\"held\"} 1",
        "node_textfile_scrape_error 0",
    ] {
        assert!(body.contains(series), "{series} not served:\n{body}");
    }

    // The daemon writes the file at its first pass: after the freeze is lifted, the frozen
    // message is delivered and node_exporter serves the new counts.
    sb.run(&["queue", "release", "--all"], b"").ok();
    std::fs::remove_file(&file).unwrap();
    let _daemon = Running(
        sb.command(&["queue", "daemon"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let body = scrape_until(&addr, |b| {
        b.contains("relayctl_deliveries_total{profile=\"burst\"} 3")
    });
    assert!(
        body.contains("relayctl_spew_brake_frozen{profile=\"burst\"} 0"),
        "{body}"
    );
}

/// `metrics_listen`: the daemon answers `GET /metrics` on loopback; any other address is refused
/// with the configuration.
#[test]
fn the_daemon_answers_get_metrics_on_loopback_only() {
    let sb = Sandbox::new();
    let addr = format!("127.0.0.1:{}", free_port());
    let config = |listen: &str| {
        std::fs::create_dir_all(sb.user_config().parent().unwrap()).unwrap();
        std::fs::write(
            sb.user_config(),
            format!("metrics_listen = \"{listen}\"\n{PROFILES}"),
        )
        .unwrap();
    };
    config("0.0.0.0:9469");
    sb.run(&["queue", "run"], b"")
        .code(78)
        .one_line_error("metrics_listen `0.0.0.0:9469` is not a loopback address");
    config(&addr);
    let _daemon = Running(
        sb.command(&["queue", "daemon"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let (head, body) = loop {
        match http_get(&addr, "/metrics") {
            Ok(answer) => break answer,
            Err(e) => assert!(Instant::now() < deadline, "no answer on {addr}: {e}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    promtool_check(&body);
    assert_eq!(
        value(&body, "relayctl_spew_brake_frozen{profile=\"burst\"}"),
        0.0
    );
    let (head, _) = http_get(&addr, "/").unwrap();
    assert!(head.starts_with("HTTP/1.0 404"), "{head}");
}

/// The alerting rules shipped in packaging/prometheus/ load (`promtool check rules`) and fire
/// as their unit tests expect (`promtool test rules`).
#[test]
fn the_alerting_rules_pass_promtool_check_and_their_unit_tests() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/prometheus");
    for args in [
        ["check", "rules", "relayctl.rules.yml"],
        ["test", "rules", "relayctl.rules.test.yml"],
    ] {
        let out = Command::new("promtool")
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("promtool (tests/run installs it)");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("SUCCESS"),
            "promtool {args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `serve` answers `GET /metrics` when it runs as the owner of its queue; started as root it
/// becomes the listener's user, who cannot read the queue, and leaves the metrics to the daemon.
#[test]
fn serve_answers_get_metrics_only_as_the_owner_of_its_queue() {
    if !as_root(Root::Users) || !as_root(Root::Postfix) {
        return;
    }
    // As root: the SMTP listener runs, the metrics address stays closed.
    let sb = crate::listener::sandbox("");
    let addr = format!("127.0.0.1:{}", free_port());
    let config = sb.path("etc/relayctl/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("metrics_listen = \"{addr}\"\n{text}")).unwrap();
    let served = crate::listener::Served::start(&sb, &[]);
    assert!(http_get(&addr, "/metrics").is_err(), "{}", served.log());
    drop(served);

    // As a user, with the user's own configuration and queue.
    let user = "rctest-metrics";
    let _ = Command::new("useradd")
        .args(["--no-create-home", "--shell", "/usr/sbin/nologin", user])
        .output();
    let home = tempfile::tempdir().unwrap();
    let uid = crate::listener::uid_of(user);
    let gid = Command::new("id")
        .args(["-g", user])
        .output()
        .unwrap()
        .stdout;
    let gid = String::from_utf8_lossy(&gid).trim().to_string();
    let addr = format!("127.0.0.1:{}", free_port());
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "metrics_listen = \"{addr}\"\n[server]\nusers_file = \"{}\"\n{PROFILES}",
            home.path().join("users.toml").display()
        ),
    )
    .unwrap();
    for path in [home.path(), config.as_path()] {
        std::os::unix::fs::chown(path, Some(uid), None).unwrap();
    }
    let listen = format!("127.0.0.1:{}", free_port());
    let _serve = Running(
        // setpriv execs relayctl itself (runuser would fork), so the guard kills the listener.
        Command::new("setpriv")
            .arg(format!("--reuid={uid}"))
            .arg(format!("--regid={gid}"))
            .args(["--clear-groups", "--", env!("CARGO_BIN_EXE_relayctl")])
            .arg("--config")
            .arg(&config)
            .arg("--spool")
            .arg(home.path().join("spool"))
            .args(["serve", "--listen", &listen])
            .env("HOME", home.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let (head, body) = loop {
        match http_get(&addr, "/metrics") {
            Ok(answer) => break answer,
            Err(e) => assert!(Instant::now() < deadline, "no answer on {addr}: {e}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    promtool_check(&body);
    assert_eq!(
        value(
            &body,
            "relayctl_queue_messages{profile=\"campus\",state=\"waiting\"}"
        ),
        0.0
    );
}
