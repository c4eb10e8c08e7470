//! When something is wrong, the admin hears about it (issue 20, parts 1 and 2), each case as the
//! admin meets it: the command's exit code, what stderr says, what `queue list --json` shows,
//! the one alert that reaches the capture server, and how the held mail is released.
//!
//! - Notices go through a profile that works (`notify_profile`, else one that delivered
//!   recently), never behind the fault they report, and name the host and the profile.
//! - Setup mistakes (the TLS mode for the port, a certificate the profile cannot verify, a
//!   relay host that does not exist) hold the profile's mail with the fix `doctor` gives, for
//!   `send`, `sendmail` and `test`; `setup`, `profile set-secret` and `queue release` release
//!   it. A resolver that does not answer stays a temporary failure.
//!
//! Every sandbox has a working profile `campus` (the real Postfix's port 25) beside the broken
//! `uni`, and uses doctor.rs's test DNS, so that `doctor` asks no resolver beyond this host.

use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;

use crate::doctor::{check, dnsmasq, sandbox};
use crate::harness::{
    PASSWORD, Root, Run, Sandbox, USER, as_root, captured, marker, queue, relay, wait_for,
};
use crate::namespace::{self, Namespace};

/// The working profile's sender: a notice that went through `campus` has it.
const CAMPUS_FROM: &str = "vm1@campus.example";

/// Where notices go.
const ADMIN: &str = "ops@example.org";

/// The address of the test DNS that /etc/resolv.conf names inside a namespace (port 53 is
/// free there, as on 127.0.0.1 it may not be).
const RESOLVER: &str = "127.53.0.1";

/// An address where no DNS server listens: a resolver that does not answer.
const NO_RESOLVER: &str = "127.53.0.2";

/// A sandbox with the test DNS, a working profile `campus` (the default) and `notify`, and
/// `notify_profile` when given.
fn with_campus(notify_profile: Option<&str>) -> Sandbox {
    let sb = sandbox();
    sb.setup_smarthost(&[
        "--name",
        "campus",
        "--host",
        "localhost",
        "--port",
        "25",
        "--tls",
        "none",
        "--from",
        CAMPUS_FROM,
    ])
    .ok();
    let mut top = format!("notify = \"{ADMIN}\"\n");
    if let Some(name) = notify_profile {
        top.push_str(&format!("notify_profile = \"{name}\"\n"));
    }
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    std::fs::write(sb.user_config(), format!("{top}{config}")).unwrap();
    sb
}

/// `setup institutional --name uni` for the test relay (localhost, 587, STARTTLS, the test CA,
/// the test user's password), with `settings` in place of those defaults (an empty value
/// leaves the flag out).
fn setup_uni(sb: &Sandbox, settings: &[(&str, &str)]) -> Run {
    let ca = relay().ca_file.display().to_string();
    let mut flags = vec![
        ("--host", "localhost"),
        ("--port", "587"),
        ("--tls", "starttls"),
        ("--ca-file", ca.as_str()),
    ];
    for &(flag, value) in settings {
        match flags.iter_mut().find(|(f, _)| *f == flag) {
            Some(set) => set.1 = value,
            None => flags.push((flag, value)),
        }
    }
    // These profiles are wrong on purpose: setup saves them without its own check.
    let mut args = vec![
        "setup",
        "institutional",
        "--no-verify",
        "--name",
        "uni",
        "--user",
        USER,
        "--from",
        USER,
        "--password-stdin",
        "--secret-store",
        "file",
    ];
    for (flag, value) in flags.into_iter().filter(|(_, v)| !v.is_empty()) {
        args.extend([flag, value]);
    }
    sb.run(&args, PASSWORD.as_bytes())
}

/// `send` through `profile`, with `m` as the subject.
fn send(run: &dyn Fn(&[&str], &[u8]) -> Run, profile: &str, m: &str) -> Run {
    run(
        &[
            "--profile",
            profile,
            "send",
            "--to",
            "a@example.org",
            "--subject",
            m,
        ],
        b"x\n",
    )
}

/// The kernel's name for this host: notices name the host by its fully qualified name, which
/// begins with it, or by it.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

/// The one notice about message `id`: it came through `campus` to the admin, and its subject
/// and From say which host and which profile.
#[track_caller]
fn the_alert_about(id: &str, kind: &str) -> String {
    let notice = wait_for(id);
    assert!(
        notice.mail_from.starts_with(&format!("<{CAMPUS_FROM}>")),
        "through the working profile: {notice:?}"
    );
    assert_eq!(notice.rcpt_to, [format!("<{ADMIN}>")]);
    let text = notice.text();
    let name = format!("relayctl on {}", host_name());
    let subject = text
        .lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap_or_else(|| panic!("no subject: {text}"));
    assert!(
        subject.starts_with(&name) && subject.contains(&format!("(profile uni): {kind}")),
        "{subject}"
    );
    let from = text
        .lines()
        .find_map(|l| l.strip_prefix("From: "))
        .unwrap_or_else(|| panic!("no From: {text}"));
    assert!(
        from.starts_with(&format!("\"{name}"))
            && from.ends_with(&format!(" (profile uni)\" <{CAMPUS_FROM}>")),
        "{from}"
    );
    assert!(text.contains(id), "{text}");
    text
}

/// How many captured messages mention `id`.
fn mentions(id: &str) -> usize {
    captured().iter().filter(|m| m.text().contains(id)).count()
}

/// `send` through `uni`, whose setup is wrong in the way `doctor` fails `check` for: exit 0, one
/// stderr line saying the message is held with doctor's fix, the message held in the queue
/// with the same words, one alert to the admin through `campus`, and nothing more on the next
/// run. Returns the held message's id and the fix.
#[track_caller]
fn held_with_the_fix(
    sb: &Sandbox,
    run: &dyn Fn(&[&str], &[u8]) -> Run,
    check_id: &str,
    m: &str,
) -> (String, String) {
    let report: Value = crate::doctor::parse(&run(&["--profile", "uni", "doctor", "--json"], b""));
    let found = check(&report, check_id);
    assert_eq!(found["status"], "fail", "{found:#}");
    let fix = found["fix"].as_str().unwrap().to_string();
    assert!(fix.contains("[profiles.uni]"), "{fix}");

    let sent = send(run, "uni", m);
    assert_eq!(sent.code, 0, "held is accepted: {sent:#?}");
    let lines: Vec<&str> = sent.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {sent:#?}");
    assert!(
        lines[0].starts_with("relayctl: message ") && lines[0].contains("(profile uni) held"),
        "{sent:#?}"
    );
    assert!(lines[0].ends_with(&fix), "doctor's fix: {fix}\n{sent:#?}");

    let list = queue(sb, "list");
    assert_eq!(list.len(), 1, "only the held message waits: {list:#?}");
    assert_eq!(list[0]["state"], "held", "{:#}", list[0]);
    assert!(
        list[0]["last_reply"].as_str().unwrap().ends_with(&fix),
        "{:#}",
        list[0]
    );
    let id = list[0]["id"].as_str().unwrap().to_string();
    let text = the_alert_about(&id, "mail held");
    assert!(text.contains(&fix), "the alert has the fix: {text}");

    // Told once: the next run says nothing and sends nothing more.
    let again = run(&["queue", "run"], b"");
    assert_eq!((again.code, again.stderr.as_str()), (0, ""), "{again:#?}");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(mentions(&id), 1, "one alert");
    (id, fix)
}

/// The sandbox's relayctl, as `sb.run` runs it.
fn plain(sb: &Sandbox) -> impl Fn(&[&str], &[u8]) -> Run + '_ {
    move |args, stdin| sb.run(args, stdin)
}

/// The released message went out at the next run, and nothing is left.
#[track_caller]
fn delivered_after_release(sb: &Sandbox, m: &str) {
    sb.run(&["queue", "run"], b"").ok();
    wait_for(m);
    assert!(queue(sb, "list").is_empty());
}

/// A "mail held: login refused" notice was itself held behind the refused login. Now it goes
/// through the profile that delivered recently, names the host and the profile, and the held
/// mail leaves once the secret is replaced.
#[test]
fn the_alert_about_a_refused_login_comes_through_the_profile_that_works() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_campus(None);
    setup_uni(&sb, &[]).ok();
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
    // campus delivers, so it is the profile that works.
    let first = marker("notices-campus");
    send(&plain(&sb), "campus", &first).ok();
    wait_for(&first);

    let m = marker("notices-login");
    let run = send(&plain(&sb), "uni", &m).ok();
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{run:#?}");
    assert!(
        lines[0].contains("(profile uni) held") && lines[0].contains("535"),
        "{run:#?}"
    );
    let list = queue(&sb, "list");
    assert_eq!(list.len(), 1, "the alert did not wait: {list:#?}");
    assert_eq!(list[0]["state"], "held");
    let id = list[0]["id"].as_str().unwrap();
    let text = the_alert_about(id, "mail held");
    assert!(text.contains("535"), "{text}");

    let released = sb
        .run(
            &["profile", "set-secret", "uni", "--password-stdin"],
            PASSWORD.as_bytes(),
        )
        .ok();
    assert!(
        released.stdout.contains("1 held message(s) released"),
        "{released:#?}"
    );
    delivered_after_release(&sb, &m);
}

/// With `notify_profile`, the alert goes through it even when nothing was delivered yet.
#[test]
fn notify_profile_carries_the_alert() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_campus(Some("campus"));
    setup_uni(&sb, &[]).ok();
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
    let m = marker("notices-notify-profile");
    send(&plain(&sb), "uni", &m).ok();
    let list = queue(&sb, "list");
    assert_eq!(list.len(), 1, "{list:#?}");
    the_alert_about(list[0]["id"].as_str().unwrap(), "mail held");
}

/// `--tls tls` on 587, a port that greets in plain text: held with the fix, released by
/// running setup again with `--tls starttls`.
#[test]
fn implicit_tls_to_the_starttls_port_is_held_with_the_fix() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_campus(Some("campus"));
    setup_uni(&sb, &[("--tls", "tls")]).ok();
    let m = marker("notices-tls-on-587");
    let (_, fix) = held_with_the_fix(&sb, &plain(&sb), "tls.handshake", &m);
    assert!(fix.contains("tls = \"starttls\""), "{fix}");
    let run = setup_uni(&sb, &[]).ok();
    assert!(
        run.stdout.contains("1 held message(s) released"),
        "{run:#?}"
    );
    delivered_after_release(&sb, &m);
}

/// `--tls starttls` on 465, a port that waits for TLS: no greeting comes, the port answers a
/// ClientHello, so it is held with the fix (not retried for days as a silent relay); released
/// by running setup again with `--tls tls`.
#[test]
fn starttls_to_the_implicit_tls_port_is_held_with_the_fix() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_campus(Some("campus"));
    setup_uni(&sb, &[("--port", "465"), ("--timeout", "2")]).ok();
    let m = marker("notices-starttls-on-465");
    let (_, fix) = held_with_the_fix(&sb, &plain(&sb), "smtp.greeting", &m);
    assert!(fix.contains("tls = \"tls\""), "{fix}");
    let run = setup_uni(&sb, &[("--port", "465"), ("--tls", "tls")]).ok();
    assert!(
        run.stdout.contains("1 held message(s) released"),
        "{run:#?}"
    );
    delivered_after_release(&sb, &m);
}

/// A certificate from a CA this host does not trust: `send`, `sendmail` and `test` all print
/// the fix; `send` and `sendmail` exit 0 (the message is kept), `test` 78 (it was not
/// delivered, and why is the configuration). Running setup with `--ca-file` releases all three.
#[test]
fn an_untrusted_certificate_is_held_with_the_fix_for_send_sendmail_and_test() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_campus(Some("campus"));
    // No --ca-file: the test CA is not among the system's roots.
    setup_uni(&sb, &[("--ca-file", "")]).ok();
    let m = marker("notices-untrusted");
    let (_, fix) = held_with_the_fix(&sb, &plain(&sb), "tls.certificate", &m);
    assert!(fix.contains("ca_file"), "{fix}");

    let by_sendmail = marker("notices-untrusted-sendmail");
    let run = sb
        .run(
            &["--profile", "uni", "sendmail", "a@example.org"],
            format!("Subject: {by_sendmail}\n\nx\n").as_bytes(),
        )
        .ok();
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{run:#?}");
    assert!(
        lines[0].contains("held") && lines[0].ends_with(&fix),
        "{run:#?}"
    );
    let run = sb.run(&["--profile", "uni", "test", "--to", "a@example.org"], b"");
    assert_eq!(run.code, 78, "{run:#?}");
    assert!(
        run.stderr.lines().all(|l| l.ends_with(&fix)),
        "every line has the fix: {run:#?}"
    );
    let list = queue(&sb, "list");
    assert_eq!(list.len(), 3, "{list:#?}");
    assert!(list.iter().all(|e| e["state"] == "held"), "{list:#?}");

    let run = setup_uni(&sb, &[]).ok();
    assert!(
        run.stdout.contains("3 held message(s) released"),
        "{run:#?}"
    );
    sb.run(&["queue", "run"], b"").ok();
    wait_for(&m);
    wait_for(&by_sendmail);
    assert!(queue(&sb, "list").is_empty());
}

/// A certificate that is not for the name verified (the relay's address with a `tls_name` its
/// certificate does not carry; the test certificate is for localhost and 127.0.0.1): held with
/// the fix; the admin corrects tls_name by hand and releases it with `queue release`.
#[test]
fn a_certificate_for_another_name_is_held_until_released() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_campus(Some("campus"));
    setup_uni(
        &sb,
        &[
            ("--host", "127.0.0.1"),
            ("--tls-name", "mail.elsewhere.example"),
        ],
    )
    .ok();
    let m = marker("notices-wrong-name");
    let (id, fix) = held_with_the_fix(&sb, &plain(&sb), "tls.certificate", &m);
    assert!(fix.contains("tls_name"), "{fix}");
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    let fixed = config.replacen("mail.elsewhere.example", "localhost", 1);
    assert_ne!(config, fixed);
    std::fs::write(sb.user_config(), fixed).unwrap();
    sb.run(&["queue", "release", &id], b"").ok();
    delivered_after_release(&sb, &m);
}

/// The test DNS on port 53 of [`RESOLVER`], for /etc/resolv.conf inside a namespace.
fn resolver() -> &'static str {
    static DNS: OnceLock<Mutex<std::process::ChildStdin>> = OnceLock::new();
    DNS.get_or_init(|| dnsmasq(RESOLVER, 53));
    RESOLVER
}

/// relayctl in a private mount namespace whose /etc/resolv.conf names `nameserver`, with the
/// sandbox's environment.
fn with_resolver<'a>(sb: &'a Sandbox, nameserver: &str) -> impl Fn(&[&str], &[u8]) -> Run + 'a {
    let conf = sb.path(&format!("resolv-{nameserver}.conf"));
    std::fs::File::create(&conf)
        .and_then(|mut f| writeln!(f, "nameserver {nameserver}"))
        .unwrap();
    move |args, stdin| {
        let ns = Namespace::new().bind(&conf, "/etc/resolv.conf");
        let mut cmd = ns.command(env!("CARGO_BIN_EXE_relayctl"), args);
        for (key, value) in sb.command(&[]).get_envs() {
            if let Some(value) = value {
                cmd.env(key, value);
            }
        }
        namespace::run(cmd, stdin, Duration::from_secs(60))
    }
}

/// A relay host that does not exist (NXDOMAIN from the resolver) is a setup mistake: held with
/// the fix; the admin corrects host and releases it with `queue release --all`. A resolver
/// that does not answer is not: the message stays queued for the next attempt, silently.
#[test]
fn a_relay_host_that_does_not_exist_is_held_but_a_silent_resolver_is_not() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_campus(Some("campus"));
    setup_uni(
        &sb,
        &[("--host", "relay.nosuch.test"), ("--tls-name", "localhost")],
    )
    .ok();
    let run = with_resolver(&sb, resolver());
    let m = marker("notices-nxdomain");
    let (_, fix) = held_with_the_fix(&sb, &run, "dns.relay", &m);
    assert!(fix.contains("check host"), "{fix}");
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    let fixed = config.replacen("relay.nosuch.test", "localhost", 1);
    std::fs::write(sb.user_config(), fixed).unwrap();
    let released = run(&["queue", "release", "--all"], b"");
    assert_eq!(released.code, 0, "{released:#?}");
    run(&["queue", "run"], b"");
    wait_for(&m);
    assert!(queue(&sb, "list").is_empty());

    let sb = with_campus(Some("campus"));
    setup_uni(&sb, &[("--host", "relay.nosuch.test")]).ok();
    let silent = with_resolver(&sb, NO_RESOLVER);
    let m = marker("notices-servfail");
    let sent = send(&silent, "uni", &m);
    assert_eq!((sent.code, sent.stderr.as_str()), (0, ""), "{sent:#?}");
    let list = queue(&sb, "list");
    assert_eq!(list.len(), 1, "{list:#?}");
    assert_eq!(
        list[0]["state"], "queued",
        "retried, not held: {:#}",
        list[0]
    );
    let reply = list[0]["last_reply"].as_str().unwrap();
    assert!(
        reply.contains("Temporary failure in name resolution"),
        "{reply}"
    );
    assert_eq!(mentions(list[0]["id"].as_str().unwrap()), 0, "no alert");
}
