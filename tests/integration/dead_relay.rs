//! A relay that accepts TCP connections and never answers (issue 20, parts 3 and 5): no caller
//! waits for it, the next submission queues without connecting, `queue flush` says what became
//! of each profile's mail, a later delivery catches up on the overdue mail without a runner, and
//! doctor fails when queued mail has no runner.
//!
//! The silent relay is the scripted server of testkit (which counts connections) or, where the
//! mail must go through the real relay once it answers again, testkit's forwarder in front of
//! Postfix (`gate`): silent while the relay is down, forwarding once it is up.

use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::forward::Proxy;
use testkit::smtp::{Act, Script, Server};

use crate::harness::{Root, Run, Sandbox, as_root, marker, queue, tee, unix_now, wait_for};

/// A profile named `name` for the relay on 127.0.0.1:`port`, with the profile's `timeout`.
fn profile(name: &str, port: u16, timeout: u64) -> String {
    format!(
        "[profiles.{name}]\npreset = \"smarthost\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nfrom = \"vm1@relay.test\"\ntimeout = {timeout}\n\n"
    )
}

/// Writes the sandbox's user config: `top` (top-level keys), then `tables`.
fn configure(sb: &Sandbox, top: &str, tables: &str) {
    let path = sb.user_config();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, format!("{top}\n{tables}")).unwrap();
}

/// What PHP's `mail()` runs: `sendmail -t -i` with the recipients in the headers. Returns the
/// run and how long it took.
fn php_mail(sb: &Sandbox, subject: &str) -> (Run, Duration) {
    let message =
        format!("To: ops@example.org\nSubject: {subject}\n\nsent by mail() in {subject}\n");
    let started = Instant::now();
    let run = sb.run(&["sendmail", "-t", "-i"], message.as_bytes());
    (run, started.elapsed())
}

/// A relay that has just answered nothing.
fn silent() -> Script {
    Script {
        greeting: Act::Silence,
        ..Script::default()
    }
}

/// Issue 20, part 3: with a relay that accepts TCP and never answers, `sendmail -t -i` returns
/// after the short budget of the first attempt (not the profile's 30 s timeout) with the message
/// queued, and the next one returns at once without connecting.
#[test]
fn a_silent_relay_keeps_no_caller_waiting() {
    let server = Server::start(silent());
    let sb = Sandbox::new();
    configure(
        &sb,
        "default_profile = \"dead\"\n",
        &profile("dead", server.port, 30),
    );
    let (first, took) = php_mail(&sb, "dead-first");
    let first = first.ok();
    assert_eq!(
        first.stderr, "",
        "a relay that is down is no error: {first:#?}"
    );
    assert!(
        took < Duration::from_secs(5),
        "the first call took {took:?}"
    );
    assert_eq!(server.connections(), 1);

    let (second, took) = php_mail(&sb, "dead-second");
    let second = second.ok();
    assert_eq!(second.stderr, "", "{second:#?}");
    assert!(
        took < Duration::from_secs(1),
        "the second call took {took:?}"
    );
    assert_eq!(server.connections(), 1, "the second call never connects");

    let list = queue(&sb, "list");
    assert_eq!(list.len(), 2, "both are safely queued: {list:#?}");
    assert_eq!(list[0]["attempts"], 1, "{list:#?}");
    assert!(
        list[0]["last_reply"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{list:#?}"
    );
    assert_eq!(
        list[1]["attempts"], 0,
        "queued without an attempt: {list:#?}"
    );
    assert!(
        list[1]["next_attempt"].as_u64().unwrap() > unix_now(),
        "{list:#?}"
    );
    let text = sb.run(&["queue", "list"], b"").ok().stdout;
    assert!(
        text.contains("queued without an attempt: the relay failed to connect or to answer"),
        "{text}"
    );
}

/// Issue 20, part 3: `queue flush` prints one line per profile, with what became of its mail
/// and, for mail not delivered, why.
#[test]
fn flush_prints_one_line_per_profile() {
    let dead = Server::start(silent());
    let live = Server::start(Script::default());
    let sb = Sandbox::new();
    configure(
        &sb,
        "default_profile = \"dead\"\ndelivery = \"queue\"\n",
        &format!(
            "{}{}",
            profile("dead", dead.port, 1),
            profile("live", live.port, 5)
        ),
    );
    for (name, subject) in [("dead", "flush-dead"), ("live", "flush-live")] {
        sb.run(
            &["--profile", name, "sendmail", "ops@example.org"],
            format!("Subject: {subject}\n\nx\n").as_bytes(),
        )
        .ok();
    }
    let flush = sb.run(&["queue", "flush"], b"").ok();
    let lines: Vec<&str> = flush.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "dead: delivered 0, deferred 1, held 0, failed 0 (last: 127.0.0.1:{}: greeting failed: timed out waiting for the relay)",
                dead.port
            ),
            "live: delivered 1, deferred 0, held 0, failed 0".to_string(),
        ],
        "{flush:#?}"
    );
    assert_eq!(live.messages().len(), 1);
    // The relay answers again: the next flush delivers the rest and says so.
    dead.set(Script::default());
    let flush = sb.run(&["queue", "flush"], b"").ok();
    assert_eq!(
        flush.stdout, "dead: delivered 1, deferred 0, held 0, failed 0\n",
        "{flush:#?}"
    );
    assert_eq!(dead.messages().len(), 1);
    assert!(queue(&sb, "list").is_empty());
}

/// The real relay (Postfix on port 25) behind a tee that is down: it accepts connections and
/// says nothing until `set_silent(false)` brings it up, then forwards them. It keeps what each
/// client sent.
fn gate() -> Proxy {
    let gate = tee(25);
    gate.set_silent(true);
    gate
}

/// How many mail transactions connection `n` (from 0) through `gate` began.
fn transactions(gate: &Proxy, n: usize) -> usize {
    String::from_utf8_lossy(&gate.sent()[n])
        .matches("MAIL FROM:")
        .count()
}

/// Issue 20, part 3, through the real relay: PHP's `mail()` twice while the relay does not
/// answer (both exit 0 at once, the second without connecting), then the relay answers again
/// and the queue runner delivers both when they are due.
#[test]
fn mail_queued_while_the_relay_was_silent_is_delivered_by_the_runner() {
    if !as_root(Root::Postfix) {
        return;
    }
    let gate = gate();
    let sb = Sandbox::new();
    configure(
        &sb,
        "default_profile = \"campus\"\n\n[queue]\nretry_initial = \"1s\"\n",
        &profile("campus", gate.addr().port(), 30),
    );
    let markers = [marker("silent-first"), marker("silent-second")];
    let (run, took) = php_mail(&sb, &markers[0]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:#?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let (run, took) = php_mail(&sb, &markers[1]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:#?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert_eq!(gate.connections(), 1, "the second call never connects");
    assert_eq!(queue(&sb, "list").len(), 2);

    gate.set_silent(false);
    // Both are due a second later (`retry_initial`); cron's `queue run` is silent.
    std::thread::sleep(Duration::from_millis(2100));
    let run = sb.run(&["queue", "run"], b"").ok();
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    for m in &markers {
        wait_for(m);
    }
    assert!(queue(&sb, "list").is_empty());
    assert_eq!(gate.connections(), 2);
    assert_eq!(transactions(&gate, 1), 2, "both over one connection");
}

/// Issue 20, part 5, through the real relay: a message queued while the relay did not answer,
/// no runner; once the relay answers, the next `sendmail` delivers both on one connection.
#[test]
fn the_next_delivery_catches_up_without_a_runner() {
    if !as_root(Root::Postfix) {
        return;
    }
    let gate = gate();
    let sb = Sandbox::new();
    configure(
        &sb,
        "default_profile = \"campus\"\n\n[queue]\nretry_initial = \"1s\"\n",
        &profile("campus", gate.addr().port(), 30),
    );
    let markers = [marker("catch-up-old"), marker("catch-up-new")];
    php_mail(&sb, &markers[0]).0.ok();
    assert_eq!(queue(&sb, "list").len(), 1);
    gate.set_silent(false);
    // The first message is due again, and the relay no longer known to be down.
    std::thread::sleep(Duration::from_millis(2100));
    let (run, _) = php_mail(&sb, &markers[1]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:#?}");
    assert!(queue(&sb, "list").is_empty(), "{:#?}", queue(&sb, "list"));
    for m in &markers {
        wait_for(m);
    }
    assert_eq!(gate.connections(), 2, "one silent, one that answered");
    assert_eq!(
        transactions(&gate, 1),
        2,
        "the overdue message went on the new message's connection"
    );
}

/// Makes every queued message of `sb` overdue by an hour.
fn make_overdue(sb: &Sandbox) {
    for entry in queue(sb, "list") {
        let path = sb
            .path("spool/queue")
            .join(entry["id"].as_str().unwrap())
            .join("state.json");
        let mut state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        state["next_attempt"] = Value::from(unix_now() - 3600);
        std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
    }
}

/// Issue 20, part 5: queued mail that is overdue with no queue pass recorded fails doctor's
/// `queue.runner` with the command that runs one; after a `queue run`, it passes (even with
/// mail overdue again, since a runner now passes).
#[test]
fn doctor_fails_when_queued_mail_has_no_runner() {
    let server = Server::start(Script::default());
    let sb = crate::doctor::sandbox();
    configure(
        &sb,
        "default_profile = \"campus\"\ndelivery = \"queue\"\n",
        &profile("campus", server.port, 5),
    );
    let submit = |subject: &str| {
        sb.run(
            &["sendmail", "ops@example.org"],
            format!("Subject: {subject}\n\nx\n").as_bytes(),
        )
        .ok();
    };
    submit("no-runner-1");
    make_overdue(&sb);
    let doctor = || crate::doctor::parse(&sb.run(&["doctor", "--json"], b""));
    let report = doctor();
    let check = crate::doctor::check(&report, "queue.runner");
    assert_eq!(check["status"], "fail", "{check:#}");
    let summary = check["summary"].as_str().unwrap();
    assert!(
        summary.contains("1 message(s) overdue") && summary.contains("no queue pass"),
        "{check:#}"
    );
    let fix = check["fix"].as_str().unwrap();
    assert!(
        fix.contains("queue run") && fix.contains("*/5 * * * *"),
        "{check:#}"
    );

    sb.run(&["queue", "run"], b"").ok();
    assert_eq!(server.messages().len(), 1);
    submit("no-runner-2");
    make_overdue(&sb);
    let report = doctor();
    let check = crate::doctor::check(&report, "queue.runner");
    assert_eq!(check["status"], "pass", "{check:#}");
    assert!(
        check["summary"]
            .as_str()
            .unwrap()
            .contains("the last queue pass began"),
        "{check:#}"
    );
}
