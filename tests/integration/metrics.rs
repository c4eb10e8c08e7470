//! Metrics for Prometheus after real scenarios through the Postfix relay: a delivered message, a
//! failed one, a login the relay refused (mail held) and a profile frozen by the spew brake.
//! Every scrape passes Debian's `promtool check metrics`.

use std::process::{Command, Stdio};

use crate::harness::{Root, Sandbox, as_root, marker, unix_now, wait_for};

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
        &["profile", "set-secret", "uni", "--password-stdin"],
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
