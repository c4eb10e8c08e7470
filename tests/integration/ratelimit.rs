//! Rate limits, the spew brake and relay throttling: a burst of 1,000 messages through the real
//! relay against a 60/hour profile, and throttling replies from the fault-injecting server.

use std::time::{Duration, Instant};

use serde_json::Value;

use testkit::smtp::{Script, Server, reply};

use crate::harness::{Root, Sandbox, as_root, captured, marker, process_uid, queue, unix_now};

/// A sandbox with the given user config.
fn with_config(text: &str) -> Sandbox {
    let sb = Sandbox::new();
    let path = sb.user_config();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    sb
}

/// A profile table for a relay on 127.0.0.1:`port` without TLS, followed by `extra` lines.
fn profile(name: &str, port: u16, extra: &str) -> String {
    format!(
        "[profiles.{name}]\npreset = \"smarthost\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nfrom = \"vm1@campus.example\"\ntimeout = 5\n{extra}\n"
    )
}

fn message(tag: &str) -> Vec<u8> {
    format!("Subject: <{tag}>\n\nbody <{tag}>\n").into_bytes()
}

/// How many captured messages contain `needle`.
fn count(needle: &str) -> usize {
    captured()
        .iter()
        .filter(|m| m.text().contains(needle))
        .count()
}

/// Waits up to 30 s until, for each `(needle, n)`, `n` captured messages contain `needle`, then
/// 3 s more to see that no more arrive; returns how many contain each needle.
fn settle(expected: &[(&str, usize)]) -> Vec<usize> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while expected.iter().any(|(needle, n)| count(needle) < *n) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(3));
    expected.iter().map(|(needle, _)| count(needle)).collect()
}

/// The limits state of a profile in the sandbox's spool.
fn limits(sb: &Sandbox, profile: &str) -> Value {
    let path = sb.path("spool/limits").join(format!("{profile}.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// Lets a cool-down end now, as if its time had passed.
fn expire_cooldown(sb: &Sandbox, profile: &str) {
    let path = sb.path("spool/limits").join(format!("{profile}.json"));
    let mut json = limits(sb, profile);
    json["cooldown_until"] = Value::from(0);
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
}

fn rate_limited(list: &[Value]) -> usize {
    list.iter()
        .filter(|e| {
            e["rate_limited_until"]
                .as_u64()
                .is_some_and(|t| t > unix_now())
        })
        .count()
}

/// 1,000 messages submitted at once (`delivery = "queue"`) for a profile limited to 60/hour:
/// one `queue run` sends the burst of 10 through the real relay, the rest wait for tokens, the
/// spew brake (10 x 60 = 600 an hour) freezes the profile and alerts the admin once, and
/// `queue release --all` lifts the freeze while the messages still wait for tokens.
#[test]
fn a_burst_of_1000_leaves_at_the_rate_limit_and_the_brake_alerts_once() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_config(&format!(
        "default_profile = \"burst1000\"\ndelivery = \"queue\"\nnotify = \"admin@example.org\"\n\n{}",
        profile("burst1000", 25, "rate_limit = \"60/hour\"")
    ));
    let tag = marker("burst");
    let total = 1000;
    let threads = 8;
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let (sb, tag) = (&sb, &tag);
            s.spawn(move || {
                for i in (t..total).step_by(threads) {
                    sb.run(
                        &["sendmail", "ops@example.org"],
                        &message(&format!("{tag}-{i}")),
                    )
                    .ok();
                }
            });
        }
    });
    let submitted = started.elapsed();
    eprintln!("submitted {total} messages with {threads} threads in {submitted:?}");
    assert_eq!(
        queue(&sb, "list").len(),
        total,
        "delivery = queue only queues"
    );

    let run_started = Instant::now();
    let run = sb.run(&["queue", "run"], b"").ok();
    eprintln!(
        "queue run over {total} messages took {:?}",
        run_started.elapsed()
    );
    assert!(
        run.stderr.contains("frozen by the spew brake") && run.stderr.lines().count() == 1,
        "one line about the brake: {run:#?}"
    );
    let alert = "(profile burst1000): outgoing mail frozen (spew brake)";
    assert_eq!(
        settle(&[(&tag, 10), (alert, 1)]),
        [10, 1],
        "exactly the burst (rate_burst = 10) left, and one alert"
    );
    let got = captured();
    let notice = got.iter().find(|m| m.text().contains(alert)).unwrap();
    assert_eq!(notice.rcpt_to, ["<admin@example.org>"]);
    assert!(
        notice.text().contains("relayctl queue release --all"),
        "{}",
        notice.text()
    );

    let list = queue(&sb, "list");
    assert_eq!(list.len() + 10, total, "nothing lost: delivered + queued");
    let now = unix_now();
    for e in &list {
        assert!(e["next_attempt"].as_u64().unwrap() > now, "{e:#}");
        assert_eq!(e["attempts"], 0, "waiting is not a failed attempt: {e:#}");
        assert!(e["frozen_since"].as_u64().is_some(), "{e:#}");
    }
    // Up to the 600th submission the messages wait for tokens; from the 601st the brake holds
    // them.
    assert_eq!(rate_limited(&list), 590);
    let mut times: Vec<u64> = list
        .iter()
        .filter_map(|e| e["rate_limited_until"].as_u64())
        .collect();
    times.sort_unstable();
    assert!(
        times.windows(2).all(|w| w[1] - w[0] >= 59),
        "scheduled a token (a minute) apart"
    );
    let text = sb.run(&["queue", "list"], b"").ok().stdout;
    assert!(
        text.starts_with("Delivery for profile burst1000 frozen by the spew brake since "),
        "{}",
        &text[..300.min(text.len())]
    );
    assert!(text.contains("rate limited until "), "{}", &text[..2000]);
    assert!(text.contains(" UTC"));

    // More runs, even a flush and three more submissions, send nothing and no second alert.
    for i in 0..3 {
        sb.run(
            &["sendmail", "ops@example.org"],
            &message(&format!("{tag}-late{i}")),
        )
        .ok();
    }
    let run = sb.run(&["queue", "run"], b"").ok();
    assert_eq!(run.stderr, "", "{run:#?}");
    sb.run(&["queue", "flush"], b"").ok();
    let [sent, alerts] = settle(&[(&tag, 10), (alert, 1)])[..] else {
        unreachable!()
    };
    let elapsed = run_started.elapsed().as_secs();
    // A token comes back every minute.
    assert!(
        sent <= 10 + elapsed as usize / 60,
        "{sent} sent {elapsed}s after the burst"
    );
    assert_eq!(alerts, 1, "still one alert");

    // Reviewed: release.
    let release = sb.run(&["queue", "release", "--all"], b"").ok();
    assert!(
        release
            .stdout
            .contains("delivery for profile burst1000 resumed"),
        "{release:#?}"
    );
    let run = sb.run(&["queue", "run"], b"").ok();
    assert_eq!(run.stderr, "", "the brake does not engage again: {run:#?}");
    let list = queue(&sb, "list");
    let [sent, alerts] = settle(&[(&tag, 10), (alert, 1)])[..] else {
        unreachable!()
    };
    let elapsed = run_started.elapsed().as_secs();
    assert!(
        sent <= 10 + elapsed as usize / 60,
        "{sent} after {elapsed}s"
    );
    assert_eq!(list.len() + sent, total + 3, "nothing lost");
    assert!(
        list.iter().all(|e| e["frozen_since"].is_null()),
        "freeze lifted"
    );
    assert_eq!(
        rate_limited(&list),
        list.len(),
        "every message waits for a token"
    );
    let text = sb.run(&["queue", "list"], b"").ok().stdout;
    assert!(!text.contains("frozen"), "{}", &text[..300]);
    assert_eq!(alerts, 1, "no alert after the release");
}

/// Submits `n` messages with `delivery = "queue"`.
fn submit(sb: &Sandbox, tag: &str, n: usize) {
    for i in 0..n {
        sb.run(
            &["sendmail", "a@example.org"],
            &message(&format!("{tag}-{i}")),
        )
        .ok();
    }
}

/// A relay answering a throttling reply at `stage`: one `queue run` tries one message, then stops
/// sending to the relay for the pass and defers the others to the end of the cool-down, which
/// later runs respect; each further throttling doubles the cool-down, and a success resets it.
fn throttled_relay_is_left_alone(throttling: Script) {
    let server = Server::start(throttling.clone());
    let sb = with_config(&format!(
        "default_profile = \"fault\"\ndelivery = \"queue\"\n\n{}",
        profile("fault", server.port, "")
    ));
    submit(&sb, "throttled", 5);
    let run = sb.run(&["queue", "run"], b"").ok();
    assert_eq!(run.stderr, "", "{run:#?}");
    // One attempt, not one per queued message.
    assert_eq!(server.connections(), 1, "{:?}", server.commands());
    assert!(server.count("MAIL") <= 1, "{:?}", server.commands());
    let list = queue(&sb, "list");
    assert_eq!(list.len(), 5);
    let now = unix_now();
    assert!(
        list.iter()
            .all(|e| e["next_attempt"].as_u64().unwrap() > now)
    );
    let attempts: Vec<u64> = list
        .iter()
        .map(|e| e["attempts"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts.iter().sum::<u64>(), 1, "one attempt: {list:#?}");
    assert_eq!(rate_limited(&list), 4, "{list:#?}");
    let l = limits(&sb, "fault");
    assert_eq!(l["cooldown"], 60, "{l:#}");
    assert!(l["cooldown_until"].as_u64().unwrap() > now, "{l:#}");
    let text = sb.run(&["queue", "list"], b"").ok().stdout;
    assert!(text.contains("relay asked to slow down"), "{text}");

    // The next runs respect the cool-down, even a flush in a new process.
    sb.run(&["queue", "run"], b"").ok();
    sb.run(&["queue", "flush"], b"").ok();
    assert_eq!(server.connections(), 1, "{:?}", server.commands());

    // Once it ends, the relay throttles again: the cool-down doubles.
    expire_cooldown(&sb, "fault");
    sb.run(&["queue", "retry", "--all"], b"").ok();
    assert_eq!(server.connections(), 2, "{:?}", server.commands());
    assert!(server.count("MAIL") <= 2, "{:?}", server.commands());
    assert_eq!(limits(&sb, "fault")["cooldown"], 120);

    // Then it takes mail again: everything goes, and the cool-down is reset.
    server.set(Script::default());
    expire_cooldown(&sb, "fault");
    sb.run(&["queue", "retry", "--all"], b"").ok();
    assert_eq!(server.messages().len(), 5, "{:?}", server.commands());
    assert!(queue(&sb, "list").is_empty());
    let l = limits(&sb, "fault");
    assert_eq!(
        (&l["cooldown"], &l["cooldown_until"]),
        (&0.into(), &0.into())
    );

    // The next throttling starts again at one minute.
    server.set(throttling);
    submit(&sb, "throttled-again", 2);
    sb.run(&["queue", "run"], b"").ok();
    assert_eq!(limits(&sb, "fault")["cooldown"], 60);
    assert_eq!(queue(&sb, "list").len(), 2);
}

#[test]
fn throttling_greeting_stops_the_pass_and_cools_down() {
    throttled_relay_is_left_alone(Script {
        greeting: reply("421 4.7.0 mx.example Error: too many connections from 192.0.2.1"),
        ..Script::default()
    });
}

#[test]
fn gmail_style_421_to_mail_from_stops_the_pass_and_cools_down() {
    throttled_relay_is_left_alone(Script {
        mail: reply("421 4.7.0 Try again later, closing connection.").into(),
        ..Script::default()
    });
}

#[test]
fn rate_limited_451_to_data_stops_the_pass_and_cools_down() {
    throttled_relay_is_left_alone(Script {
        data: reply("451 4.7.28 [192.0.2.1] Our system has detected an unusual rate limited")
            .into(),
        ..Script::default()
    });
}

/// When the message's own profile has no token left, its fallback (with its own bucket) takes it.
#[test]
fn fallback_takes_mail_over_the_first_profiles_rate_limit() {
    let first = Server::start(Script::default());
    let second = Server::start(Script::default());
    let sb = with_config(&format!(
        "default_profile = \"first\"\ndelivery = \"queue\"\n\n{}\n{}",
        profile(
            "first",
            first.port,
            "rate_limit = \"1/hour\"\nfallback = [\"second\"]"
        ),
        profile("second", second.port, "rate_limit = \"2/hour\"")
    ));
    submit(&sb, "fallback", 5);
    sb.run(&["queue", "run"], b"").ok();
    assert_eq!(first.messages().len(), 1);
    assert_eq!(second.messages().len(), 2);
    let list = queue(&sb, "list");
    assert_eq!(list.len(), 2, "{list:#?}");
    assert_eq!(rate_limited(&list), 2, "{list:#?}");
    assert!(list.iter().all(|e| e["attempts"] == 0));
}

/// `delivery = "now"`: a submission over the limit exits 0 and waits in the queue.
#[test]
fn sendmail_over_the_limit_exits_0_and_waits() {
    let server = Server::start(Script::default());
    let sb = with_config(&format!(
        "default_profile = \"fault\"\n\n{}",
        profile("fault", server.port, "rate_limit = \"2/day\"")
    ));
    for i in 0..3 {
        let run = sb
            .run(
                &["sendmail", "a@example.org"],
                &message(&format!("now-{i}")),
            )
            .ok();
        assert_eq!(run.stderr, "", "{run:#?}");
    }
    assert_eq!(server.messages().len(), 2);
    let list = queue(&sb, "list");
    assert_eq!(list.len(), 1);
    let until = list[0]["rate_limited_until"].as_u64().unwrap();
    // 2/day: a token every 12 hours.
    assert!(until > unix_now() + 11 * 3600, "{list:#?}");
    let show = sb
        .run(&["queue", "show", list[0]["id"].as_str().unwrap()], b"")
        .ok();
    assert!(
        show.stdout.contains("waiting:      rate limited until "),
        "{}",
        show.stdout
    );
}

/// `brake_per_caller`: more submissions by one local user than allowed freeze the profile;
/// the admin's `release --all` lets the mail go.
#[test]
fn per_caller_brake_freezes_until_released() {
    let server = Server::start(Script::default());
    let sb = with_config(&format!(
        "default_profile = \"fault\"\ndelivery = \"queue\"\n\n{}",
        profile(
            "fault",
            server.port,
            "brake = \"off\"\nbrake_per_caller = \"3/10m\""
        )
    ));
    submit(&sb, "caller", 5);
    let run = sb.run(&["queue", "run"], b"").ok();
    let caller = format!(
        "local user {} submitted 4 messages within 10m",
        process_uid()
    );
    assert!(run.stderr.contains(&caller), "{run:#?}");
    assert_eq!(server.messages().len(), 3);
    let list = queue(&sb, "list");
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|e| e["frozen_since"].is_u64()), "{list:#?}");
    sb.run(&["queue", "release", "--all"], b"").ok();
    sb.run(&["queue", "run"], b"").ok();
    assert_eq!(server.messages().len(), 5);
    assert!(queue(&sb, "list").is_empty());
}

/// `setup` writes the provider's documented limit into the profile.
#[test]
fn setup_writes_the_presets_sending_limit() {
    let sb = Sandbox::new();
    sb.run(
        &[
            "setup",
            "outlook",
            "--no-verify",
            "--user",
            "me@example.org",
            "--password-stdin",
            "--secret-store",
            "file",
        ],
        b"app-password\n",
    )
    .ok();
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    assert!(config.contains("rate_limit = \"30/minute\"\n"), "{config}");
}
