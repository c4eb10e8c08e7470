//! The durable queue through the real relay: waiting out an outage, failover, held mail,
//! failures with notices, one connection for many messages, the daemon.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{PASSWORD, Root, Sandbox, arrives_soon, as_root, marker, relay, wait_for};

const CAMPUS: &str = "[profiles.campus]\npreset = \"smarthost\"\nhost = \"localhost\"\nport = 25\ntls = \"none\"\nfrom = \"vm1@campus.example\"\ntimeout = 5\n";
const DOWN: &str = "[profiles.down]\npreset = \"smarthost\"\nhost = \"localhost\"\nport = 1\ntls = \"none\"\nfrom = \"vm1@campus.example\"\ntimeout = 2\n";

/// A sandbox with the given config text.
fn with_config(text: &str) -> Sandbox {
    relay();
    let sb = Sandbox::new();
    let path = sb.user_config();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    sb
}

fn queue(sb: &Sandbox, area: &str) -> Vec<Value> {
    let run = sb.run(&["queue", area, "--json"], b"").ok();
    serde_json::from_str::<Value>(&run.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn submit(sb: &Sandbox, args: &[&str], subject: &str) -> crate::harness::Run {
    let mut all = vec!["sendmail"];
    all.extend_from_slice(args);
    sb.run(
        &all,
        format!("Subject: {subject}\n\nbody of {subject}\n").as_bytes(),
    )
}

fn count(marker: &str) -> usize {
    crate::harness::captured()
        .iter()
        .filter(|m| m.text().contains(marker))
        .count()
}

#[test]
fn outage_queues_and_a_later_run_delivers_each_message_once() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_config(&format!("default_profile = \"down\"\n\n{DOWN}"));
    let markers: Vec<String> = (0..3).map(|i| marker(&format!("outage{i}"))).collect();
    for m in &markers {
        let run = submit(&sb, &["ops@example.org"], m).ok();
        assert_eq!(
            (run.stdout.as_str(), run.stderr.as_str()),
            ("", ""),
            "queued silently"
        );
    }
    let waiting = queue(&sb, "list");
    assert_eq!(waiting.len(), 3);
    assert!(
        waiting[0]["last_reply"]
            .as_str()
            .unwrap()
            .contains("localhost:1"),
        "{waiting:#?}"
    );
    for (i, entry) in waiting.iter().enumerate() {
        assert_eq!(entry["state"], "queued");
        // The first found the relay down; the others were queued without trying it.
        assert_eq!(entry["attempts"], u64::from(i == 0), "{entry}");
        assert!(
            entry["next_attempt"].as_u64().unwrap() > crate::harness::unix_now(),
            "{entry}"
        );
    }
    // Not due yet: a run leaves them alone.
    sb.run(&["queue", "run"], b"").ok();
    assert_eq!(queue(&sb, "list")[0]["attempts"], 1);
    // The relay comes back.
    let config = std::fs::read_to_string(sb.user_config())
        .unwrap()
        .replace("port = 1\n", "port = 25\n");
    std::fs::write(sb.user_config(), config).unwrap();
    sb.run(&["queue", "flush"], b"").ok();
    for m in &markers {
        wait_for(m);
    }
    assert!(queue(&sb, "list").is_empty());
    let run = sb.run(&["queue", "flush"], b"").ok();
    assert_eq!(run.stdout, "");
    std::thread::sleep(Duration::from_millis(500));
    for m in &markers {
        assert_eq!(count(m), 1, "{m} delivered exactly once");
    }
}

#[test]
fn fallback_relay_takes_over_when_the_first_is_down() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_config(&format!(
        "default_profile = \"down\"\n\n{}fallback = [\"campus\"]\n\n{CAMPUS}",
        DOWN
    ));
    let m = marker("failover");
    submit(&sb, &["ops@example.org"], &m).ok();
    let got = wait_for(&m);
    assert!(got.mail_from.starts_with("<vm1@campus.example>"));
    assert!(queue(&sb, "list").is_empty());
}

#[test]
fn wrong_password_holds_mail_until_fixed() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
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
    let m = marker("held");
    let run = sb
        .run(
            &["send", "--to", "ops@example.org", "--subject", &m],
            b"x\n",
        )
        .ok();
    assert!(
        run.stderr
            .contains("held until the relay configuration is fixed"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("535"), "{}", run.stderr);
    let held = queue(&sb, "list");
    assert_eq!(held[0]["state"], "held", "{held:?}");
    // Runs do not hammer the relay with a password it refused.
    let run = sb.run(&["queue", "run"], b"").ok();
    assert_eq!(run.stderr, "", "the alert is given once");
    // Replacing the secret releases the held mail; the next run delivers it.
    let run = sb
        .run(
            &["profile", "set-secret", "uni", "--password-stdin"],
            PASSWORD.as_bytes(),
        )
        .ok();
    assert!(
        run.stdout.contains("1 held message(s) released"),
        "{}",
        run.stdout
    );
    sb.run(&["queue", "run"], b"").ok();
    wait_for(&m);
    assert!(queue(&sb, "list").is_empty());
}

#[test]
fn permanent_failure_goes_to_the_failed_area_with_a_notice_to_the_admin_only() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_config(&format!(
        "default_profile = \"campus\"\nnotify = \"admin@example.org\"\n\n{CAMPUS}"
    ));
    let m = marker("refused");
    submit(&sb, &["rejected@example.org"], &m)
        .code(67)
        .one_line_error("550 5.1.1");
    let failed = queue(&sb, "failed");
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]["last_reply"]
            .as_str()
            .unwrap()
            .contains("550 5.1.1"),
        "{failed:?}"
    );
    let notice = wait_for(failed[0]["id"].as_str().unwrap());
    assert_eq!(
        notice.rcpt_to,
        ["<admin@example.org>"],
        "never to the sender"
    );
    let text = notice.text();
    assert!(
        text.contains(" (profile campus): undeliverable mail ("),
        "{text}"
    );
    assert!(text.contains("Auto-Submitted: auto-generated"), "{text}");
    assert!(text.contains("rejected@example.org"), "{text}");
    assert!(!arrives_soon(&m), "the refused message itself went nowhere");
}

#[test]
fn messages_older_than_max_age_fail_and_delay_warnings_are_sent_once() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_config(&format!(
        "default_profile = \"down\"\nnotify = \"admin@example.org\"\n\n[queue]\ndelay_warning = \"0s\"\n\n{}fallback = []\n\n{CAMPUS}",
        DOWN
    ));
    let m = marker("delayed");
    submit(&sb, &["ops@example.org"], &m).ok();
    let list = queue(&sb, "list");
    let original = list
        .iter()
        .find(|e| e["recipients"][0] == "ops@example.org")
        .unwrap();
    let notice = list
        .iter()
        .find(|e| e["recipients"][0] == "admin@example.org");
    assert!(notice.is_some(), "a delay warning is queued: {list:?}");

    // Give up at once now: max_age 0.
    let config = std::fs::read_to_string(sb.user_config()).unwrap().replace(
        "delay_warning = \"0s\"",
        "delay_warning = \"0s\"\nmax_age = \"0s\"",
    );
    std::fs::write(sb.user_config(), config).unwrap();
    sb.run(&["queue", "retry", original["id"].as_str().unwrap()], b"")
        .ok();
    let failed = queue(&sb, "failed");
    assert!(
        failed.iter().any(|e| e["id"] == original["id"]),
        "{failed:?}"
    );
    assert!(
        failed
            .iter()
            .any(|e| e["last_reply"].as_str().unwrap_or("").contains("gave up")),
        "{failed:?}"
    );
}

#[test]
fn many_messages_share_one_connection_and_one_login() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    std::fs::write(sb.user_config(), format!("delivery = \"queue\"\n{config}")).unwrap();
    let markers: Vec<String> = (0..5).map(|i| marker(&format!("reuse{i}"))).collect();
    for m in &markers {
        sb.run(&["send", "--to", "ops@example.org", "--subject", m], b"x\n")
            .ok();
    }
    assert_eq!(queue(&sb, "list").len(), 5, "delivery = queue only queues");
    let run = sb.run(&["-v", "queue", "run"], b"").ok();
    assert_eq!(run.stderr.matches("--> AUTH ").count(), 1, "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("connecting to").count(),
        1,
        "{}",
        run.stderr
    );
    for m in &markers {
        wait_for(m);
    }
}

#[test]
fn hold_release_delete_and_show() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_config(&format!("default_profile = \"down\"\n\n{DOWN}"));
    let m = marker("admin");
    submit(&sb, &["ops@example.org"], &m).ok();
    let id = queue(&sb, "list")[0]["id"].as_str().unwrap().to_string();
    sb.run(&["queue", "hold", &id], b"").ok();
    assert_eq!(queue(&sb, "list")[0]["state"], "held");
    sb.run(&["queue", "flush"], b"").ok();
    sb.run(&["queue", "run"], b"").ok();
    assert_eq!(
        queue(&sb, "list")[0]["attempts"],
        1,
        "an admin hold is never run"
    );
    let show = sb.run(&["queue", "show", &id], b"").ok();
    assert!(
        show.stdout.contains("held by an administrator"),
        "{}",
        show.stdout
    );
    assert!(
        show.stdout
            .contains("recipient:    ops@example.org Pending"),
        "{}",
        show.stdout
    );
    sb.run(&["queue", "release", &id], b"").ok();
    assert_eq!(queue(&sb, "list")[0]["state"], "queued");
    let mailq = sb.run(&["sendmail", "-bp"], b"").ok();
    assert!(
        mailq.stdout.contains(&id) && mailq.stdout.contains("-- 1 message"),
        "{}",
        mailq.stdout
    );
    sb.run(&["queue", "delete", &id], b"").ok();
    assert!(queue(&sb, "list").is_empty());
    sb.run(&["queue", "show", &id], b"")
        .code(66)
        .one_line_error("no message");
}

#[test]
fn wait_mode_queues_nothing() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_config(&format!(
        "default_profile = \"down\"\ndelivery = \"wait\"\n\n{DOWN}"
    ));
    submit(&sb, &["ops@example.org"], "x")
        .code(75)
        .one_line_error("localhost:1");
    assert!(queue(&sb, "list").is_empty());
}

#[test]
fn daemon_delivers_new_mail_without_polling() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_config(&format!(
        "default_profile = \"campus\"\ndelivery = \"queue\"\n\n{CAMPUS}"
    ));
    let mut daemon = sb.command(&["queue", "daemon"]).spawn().unwrap();
    // Let it bind its socket.
    let socket = sb.path("spool/daemon.sock");
    let start = Instant::now();
    while !socket.exists() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let m = marker("daemon");
    let submitted = Instant::now();
    submit(&sb, &["ops@example.org"], &m).ok();
    wait_for(&m);
    let latency = submitted.elapsed();
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert!(
        latency < Duration::from_secs(5),
        "woken by the submission, not a timer: {latency:?}"
    );
}
