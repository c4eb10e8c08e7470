//! The queue against the scripted, fault-injecting SMTP server (`testkit::smtp::Server`): each
//! stage of the dialogue can answer 4xx or 5xx, stay silent, or drop the connection, and every
//! command line the server received is recorded. The tests check what relayctl makes of each
//! fault: the exit code, the queue (`queue list --json`, `queue failed --json`) and what reached
//! the server. The helpers here (a sandbox whose profile points at the server, a message) serve
//! the other tests that use that server too.
//!
//! None of these tests uses the Postfix relay or the capture server, and none needs root.

use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::smtp::{Act, MidData, Script, Server, Tls, reply};

use crate::harness::{Sandbox, queue, unix_now};

/// A sandbox whose only profile, `fault`, points at `port` on 127.0.0.1.
pub fn sandbox(port: u16, tls: &str, timeout: u64) -> Sandbox {
    let sb = Sandbox::new();
    write_config(&sb, port, tls, timeout);
    sb
}

/// (Re)writes the sandbox's user config for `port`.
pub fn write_config(sb: &Sandbox, port: u16, tls: &str, timeout: u64) {
    let path = sb.user_config();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        format!(
            "default_profile = \"fault\"\ndelivery = \"now\"\n\n[profiles.fault]\npreset = \"smarthost\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"{tls}\"\nfrom = \"vm1@campus.example\"\ntimeout = {timeout}\n"
        ),
    )
    .unwrap();
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn addresses(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("recipients array")
        .iter()
        .map(text)
        .collect()
}

pub fn message(subject: &str) -> Vec<u8> {
    format!("Subject: {subject}\n\nfault injection test\n").into_bytes()
}

/// Submits one message to a@example.org and checks it stayed queued after one attempt whose
/// last reply holds every piece of `expect`. Returns the server for more checks.
fn stays_queued(script: Script, tls: &str, timeout: u64, expect: &[&str]) -> (Server, Sandbox) {
    let server = Server::start(script);
    let sb = sandbox(server.port, tls, timeout);
    let started = Instant::now();
    let run = sb.run(&["sendmail", "a@example.org"], &message("transient"));
    let took = started.elapsed();
    let run = run.ok();
    assert_eq!(run.stderr, "", "a temporary failure is silent: {run:#?}");
    assert!(
        took < Duration::from_secs(timeout * 4 + 3),
        "the submission took {took:?}"
    );
    let list = queue(&sb, "list");
    assert_eq!(list.len(), 1, "one queued message: {list:#?}");
    let entry = &list[0];
    assert_eq!(entry["state"], "queued", "{entry:#}");
    assert_eq!(entry["attempts"], 1, "{entry:#}");
    assert_eq!(
        addresses(&entry["recipients"]),
        ["a@example.org"],
        "{entry:#}"
    );
    assert_eq!(entry["sender"], "vm1@campus.example", "{entry:#}");
    assert!(
        entry["next_attempt"].as_u64().unwrap() > unix_now(),
        "the next attempt is later: {entry:#}"
    );
    let last = text(&entry["last_reply"]);
    for piece in expect {
        assert!(
            last.to_lowercase().contains(&piece.to_lowercase()),
            "last_reply lacks {piece:?}: {entry:#}"
        );
    }
    assert!(queue(&sb, "failed").is_empty());
    (server, sb)
}

#[test]
fn greeting_4xx_stays_queued() {
    let (server, _sb) = stays_queued(
        Script {
            greeting: reply("421 4.3.2 greeting-busy try later"),
            ..Script::default()
        },
        "none",
        2,
        &["421", "greeting-busy"],
    );
    assert_eq!(server.count("MAIL"), 0, "{:?}", server.commands());
    assert!(server.messages().is_empty());
}

#[test]
fn ehlo_4xx_stays_queued() {
    let (server, _sb) = stays_queued(
        Script {
            ehlo: reply("454 4.3.0 ehlo-busy try later").into(),
            ..Script::default()
        },
        "none",
        2,
        &["454", "ehlo-busy"],
    );
    assert!(server.count("EHLO") >= 1, "{:?}", server.commands());
    assert_eq!(server.count("MAIL"), 0, "{:?}", server.commands());
}

#[test]
fn mail_from_4xx_stays_queued() {
    let (server, _sb) = stays_queued(
        Script {
            mail: reply("451 4.3.0 mail-busy try later").into(),
            ..Script::default()
        },
        "none",
        2,
        &["451", "mail-busy"],
    );
    assert_eq!(
        server.count("MAIL FROM:<vm1@campus.example>"),
        1,
        "{:?}",
        server.commands()
    );
    assert_eq!(server.count("RCPT"), 0, "{:?}", server.commands());
}

#[test]
fn rcpt_4xx_stays_queued() {
    let (server, _sb) = stays_queued(
        Script {
            rcpt: vec![reply("450 4.2.1 rcpt-busy mailbox unavailable").into()],
            ..Script::default()
        },
        "none",
        2,
        &["450", "rcpt-busy"],
    );
    assert_eq!(
        server.count("RCPT TO:<a@example.org>"),
        1,
        "{:?}",
        server.commands()
    );
    assert_eq!(
        server.count("DATA"),
        0,
        "no DATA without a recipient: {:?}",
        server.commands()
    );
}

#[test]
fn data_command_4xx_stays_queued() {
    let (server, _sb) = stays_queued(
        Script {
            data: reply("451 4.3.0 data-busy try later").into(),
            ..Script::default()
        },
        "none",
        2,
        &["451", "data-busy"],
    );
    assert_eq!(server.count("DATA"), 1, "{:?}", server.commands());
    assert!(server.messages().is_empty());
}

#[test]
fn final_dot_4xx_stays_queued() {
    let (server, _sb) = stays_queued(
        Script {
            final_dot: reply("452 4.3.1 dot-busy insufficient storage").into(),
            ..Script::default()
        },
        "none",
        2,
        &["452", "dot-busy"],
    );
    let got = server.messages();
    assert_eq!(got.len(), 1, "the message went over once");
    assert_eq!(
        got[0].reply.as_deref(),
        Some("452 4.3.1 dot-busy insufficient storage")
    );
}

#[test]
fn connection_closed_at_rcpt_stays_queued() {
    let (server, _sb) = stays_queued(
        Script {
            rcpt: vec![Act::Close.into()],
            ..Script::default()
        },
        "none",
        2,
        &[],
    );
    assert_eq!(server.count("RCPT"), 1, "{:?}", server.commands());
    assert!(server.messages().is_empty());
}

/// Submits one message through a profile with TLS mode `tls`; the relay's permanent refusal of
/// the session or the sender, or a TLS mode the port does not speak, is a configuration fault:
/// the message is held (exit 0, one alert line), and `queue flush` leaves it alone even once the
/// relay would take it.
fn is_held(script: Script, tls: &str, expect: &[&str]) -> Server {
    let server = Server::start(script);
    let sb = sandbox(server.port, tls, 2);
    let run = sb
        .run(&["sendmail", "a@example.org"], &message("held"))
        .ok();
    let alerts: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(alerts.len(), 1, "one alert line: {run:#?}");
    assert!(
        alerts[0].starts_with("relayctl: ") && alerts[0].contains("held"),
        "{run:#?}"
    );
    let list = queue(&sb, "list");
    assert_eq!(list.len(), 1, "{list:#?}");
    assert_eq!(list[0]["state"], "held", "{:#}", list[0]);
    assert_eq!(list[0]["attempts"], 1, "{:#}", list[0]);
    for piece in expect {
        assert!(alerts[0].contains(piece), "alert lacks {piece:?}: {run:#?}");
        assert!(
            text(&list[0]["last_reply"]).contains(piece),
            "{:#}",
            list[0]
        );
    }
    assert!(queue(&sb, "failed").is_empty());
    assert_eq!(server.count("RCPT"), 0, "{:?}", server.commands());

    // A held message is not flushed, even to a now willing relay.
    server.set(Script::default());
    let before = server.connections();
    let run = sb.run(&["queue", "flush"], b"").ok();
    assert_eq!(run.stderr, "", "{run:#?}");
    assert_eq!(
        server.connections(),
        before,
        "held mail is left alone by flush"
    );
    assert_eq!(queue(&sb, "list")[0]["state"], "held");
    server
}

/// A 554 greeting ("no SMTP service for you"): the relay refuses this host, which the admin must
/// sort out; the message is held, not bounced. (Before the client rewrite it stayed queued as a
/// temporary failure.)
#[test]
fn greeting_5xx_holds_the_message() {
    let server = is_held(
        Script {
            greeting: reply("554 5.3.2 greeting-refused no service for you"),
            ..Script::default()
        },
        "none",
        &["554", "greeting-refused"],
    );
    assert_eq!(server.count("MAIL"), 0, "{:?}", server.commands());
}

#[test]
fn mail_from_5xx_holds_the_message() {
    let server = is_held(
        Script {
            mail: reply("553 5.7.1 sender-refused not owned by user").into(),
            ..Script::default()
        },
        "none",
        &["553", "sender-refused"],
    );
    assert_eq!(server.count("MAIL"), 1, "{:?}", server.commands());
}

#[test]
fn final_dot_5xx_moves_to_failed() {
    let server = Server::start(Script {
        final_dot: reply("554 5.6.0 content-rejected looks like spam").into(),
        ..Script::default()
    });
    let sb = sandbox(server.port, "none", 2);
    let run = sb
        .run(&["sendmail", "a@example.org"], &message("rejected"))
        .code(69)
        .one_line_error("554");
    assert!(run.stderr.contains("failed area"), "{run:#?}");
    assert!(queue(&sb, "list").is_empty());
    let failed = queue(&sb, "failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(addresses(&failed[0]["recipients"]), ["a@example.org"]);
    assert!(
        text(&failed[0]["last_reply"]).contains("content-rejected"),
        "{:#}",
        failed[0]
    );
    assert_eq!(server.messages().len(), 1);

    // Failed mail is not sent again.
    server.set(Script::default());
    sb.run(&["queue", "flush"], b"").ok();
    assert_eq!(server.messages().len(), 1, "failed mail stays failed");
}

#[test]
fn rcpt_5xx_moves_to_failed_with_exit_67() {
    let server = Server::start(Script {
        rcpt: vec![reply("550 5.1.1 no-such-user here").into()],
        ..Script::default()
    });
    let sb = sandbox(server.port, "none", 2);
    sb.run(&["sendmail", "a@example.org"], &message("nouser"))
        .code(67)
        .one_line_error("550");
    assert!(queue(&sb, "list").is_empty());
    let failed = queue(&sb, "failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert!(
        text(&failed[0]["last_reply"]).contains("no-such-user"),
        "{:#}",
        failed[0]
    );
    assert_eq!(server.count("DATA"), 0, "{:?}", server.commands());
}

/// First recipient accepted, second refused for good, third refused for now: the message goes
/// once to the first; a later flush sends it only to the third.
#[test]
fn mixed_recipients_are_each_tracked() {
    let server = Server::start(Script {
        rcpt: vec![
            reply("250 2.1.5 ok").into(),
            reply("550 5.1.1 gone-user unknown").into(),
            reply("450 4.2.1 busy-user try later").into(),
        ],
        ..Script::default()
    });
    let sb = sandbox(server.port, "none", 2);
    let run = sb
        .run(
            &[
                "sendmail",
                "a@example.org",
                "b@example.org",
                "c@example.org",
            ],
            &message("mixed"),
        )
        .ok();
    assert_eq!(run.stderr, "", "{run:#?}");
    let got = server.messages();
    assert_eq!(got.len(), 1, "one DATA: {got:#?}");
    assert_eq!(got[0].rcpt_to, ["<a@example.org>"]);
    assert_eq!(server.count("DATA"), 1);

    let list = queue(&sb, "list");
    assert_eq!(list.len(), 1, "{list:#?}");
    let entry = &list[0];
    assert_eq!(entry["attempts"], 1, "{entry:#}");
    assert_eq!(entry["state"], "queued", "{entry:#}");
    let waiting = addresses(&entry["recipients"]);
    assert!(
        !waiting.contains(&"a@example.org".to_string()),
        "a was sent: {entry:#}"
    );
    assert!(
        waiting.contains(&"c@example.org".to_string()),
        "c waits: {entry:#}"
    );
    assert!(text(&entry["last_reply"]).contains("450"), "{entry:#}");
    let id = text(&entry["id"]);
    let show = sb.run(&["queue", "show", &id], b"").ok().stdout;
    let line = |addr: &str| {
        show.lines()
            .find(|l| l.starts_with("recipient:") && l.contains(addr))
            .unwrap_or_else(|| panic!("no recipient line for {addr}:\n{show}"))
            .to_string()
    };
    assert!(line("a@example.org").contains("Sent"), "{show}");
    assert!(
        line("b@example.org").contains("Failed") && line("b@example.org").contains("550"),
        "{show}"
    );
    assert!(
        line("c@example.org").contains("Pending") && line("c@example.org").contains("450"),
        "{show}"
    );

    // The relay takes everyone now: only c is sent to.
    server.set(Script::default());
    let rcpts_before = server.count("RCPT");
    sb.run(&["queue", "flush"], b"").ok();
    let commands = server.commands();
    let later_rcpts: Vec<&String> = commands
        .iter()
        .filter(|c| c.to_ascii_uppercase().starts_with("RCPT"))
        .skip(rcpts_before)
        .collect();
    assert_eq!(later_rcpts, ["RCPT TO:<c@example.org>"], "{commands:?}");
    let got = server.messages();
    assert_eq!(got.len(), 2, "{got:#?}");
    assert_eq!(got[1].rcpt_to, ["<c@example.org>"]);
    assert!(queue(&sb, "list").is_empty());
    // What is left is b's refusal, in the failed area.
    let failed = queue(&sb, "failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(
        addresses(&failed[0]["recipients"]),
        ["b@example.org"],
        "{:#}",
        failed[0]
    );
    assert!(
        text(&failed[0]["last_reply"]).contains("550"),
        "{:#}",
        failed[0]
    );
}

#[test]
fn connection_dropped_mid_data_stays_queued() {
    let (server, _sb) = stays_queued(
        Script {
            mid_data: Some(MidData::Close),
            ..Script::default()
        },
        "none",
        2,
        &[],
    );
    assert_eq!(server.count("DATA"), 1, "{:?}", server.commands());
    assert!(server.messages().is_empty(), "no message was completed");
}

#[test]
fn silent_relay_times_out_and_stays_queued() {
    let (server, _sb) = stays_queued(
        Script {
            greeting: Act::Silence,
            ..Script::default()
        },
        "none",
        1,
        &["timed out"],
    );
    assert_eq!(server.connections(), 1);
    assert_eq!(server.count("MAIL"), 0);
}

/// Silence after the final dot: the relay may have taken the message, but relayctl cannot know;
/// it keeps it (at least once).
#[test]
fn silence_after_the_final_dot_stays_queued() {
    let (server, _sb) = stays_queued(
        Script {
            final_dot: Act::Silence.into(),
            ..Script::default()
        },
        "none",
        1,
        &["timed out"],
    );
    assert_eq!(server.messages().len(), 1);
}

#[test]
fn starttls_handshake_failure_stays_queued() {
    let (server, _sb) = stays_queued(
        Script {
            tls: Tls::BrokenStarttls,
            ..Script::default()
        },
        "starttls",
        2,
        &["TLS"],
    );
    assert_eq!(server.count("STARTTLS"), 1, "{:?}", server.commands());
    assert_eq!(
        server.count("MAIL"),
        0,
        "nothing in clear after STARTTLS: {:?}",
        server.commands()
    );
}

/// Implicit TLS to a server that greets in plain text is a mistake in the profile's setup (a
/// STARTTLS port with `tls = "tls"`), not a temporary failure: held with the fix. (It stayed
/// queued for days before issue 20.)
#[test]
fn implicit_tls_against_a_plain_server_is_held_with_the_fix() {
    let server = is_held(
        Script::default(),
        "tls",
        &[
            "speaks plain SMTP first",
            "set tls = \"starttls\" in [profiles.fault]",
        ],
    );
    assert_eq!(server.count("MAIL"), 0, "{:?}", server.commands());
    assert!(server.messages().is_empty());
}

/// Two of three queued messages have damaged state files: both are reported and moved to
/// `corrupt/`, the third is delivered.
#[test]
fn corrupt_state_files_are_quarantined_and_the_rest_delivered() {
    let server = Server::start(Script::default());
    // Port 1: nothing listens, so everything stays queued.
    let sb = sandbox(1, "none", 2);
    let subjects = ["corrupt-truncated", "corrupt-good", "corrupt-garbage"];
    for s in subjects {
        sb.run(&["sendmail", "a@example.org"], &message(s)).ok();
        // Distinct, ordered ids (they start with the time in milliseconds).
        std::thread::sleep(Duration::from_millis(5));
    }
    let list = queue(&sb, "list");
    assert_eq!(list.len(), 3, "{list:#?}");
    let ids: Vec<String> = list.iter().map(|e| text(&e["id"])).collect();
    let spool = sb.path("spool");
    let subject_of = |id: &str| {
        let m = std::fs::read_to_string(spool.join("queue").join(id).join("message")).unwrap();
        subjects
            .iter()
            .find(|s| m.contains(*s))
            .unwrap()
            .to_string()
    };
    let by_subject = |s: &str| ids.iter().find(|id| subject_of(id) == s).unwrap().clone();
    let (truncated, good, garbage) = (
        by_subject("corrupt-truncated"),
        by_subject("corrupt-good"),
        by_subject("corrupt-garbage"),
    );
    let state = |id: &str| spool.join("queue").join(id).join("state.json");
    let full = std::fs::read(state(&truncated)).unwrap();
    std::fs::write(state(&truncated), &full[..full.len() / 2]).unwrap();
    std::fs::write(state(&garbage), b"\x00\xff not json at all \x7f").unwrap();

    write_config(&sb, server.port, "none", 2);
    let run = sb.run(&["queue", "flush"], b"").ok();
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "each corrupt file reported once: {run:#?}");
    for id in [&truncated, &garbage] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("relayctl: ") && l.contains(id.as_str())),
            "{id} not reported: {run:#?}"
        );
    }
    let mut corrupt: Vec<String> = std::fs::read_dir(spool.join("corrupt"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    corrupt.sort();
    let mut expected = vec![truncated.clone(), garbage.clone()];
    expected.sort();
    assert_eq!(corrupt, expected);
    assert!(
        spool
            .join("corrupt")
            .join(&truncated)
            .join("message")
            .exists()
    );

    let got = server.messages();
    assert_eq!(got.len(), 1, "only the good message went out: {got:#?}");
    assert!(got[0].text().contains("corrupt-good"), "{}", got[0].text());
    let run = sb.run(&["queue", "list", "--json"], b"").ok();
    assert_eq!(run.stdout.trim(), "[]", "{run:#?}");
    assert_eq!(
        run.stderr, "",
        "the corrupt messages are out of the queue: {run:#?}"
    );
    assert!(!spool.join("queue").join(&good).exists());
}

/// Mail held for a configuration fault is tried again by `queue run` once its retry time
/// (`retry_max` after the fault) has come, in case the relay was fixed.
#[test]
fn held_message_is_retried_once_retry_max_has_passed() {
    let server = Server::start(Script {
        mail: reply("553 5.7.1 sender-refused not owned by user").into(),
        ..Script::default()
    });
    let sb = sandbox(server.port, "none", 2);
    sb.run(&["sendmail", "a@example.org"], &message("held-retry"))
        .ok();
    let list = queue(&sb, "list");
    assert_eq!(list[0]["state"], "held", "{list:#?}");
    // An hour later (retry_max), with the relay fixed.
    let state = sb
        .path("spool/queue")
        .join(text(&list[0]["id"]))
        .join("state.json");
    let mut json: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    json["next_attempt"] = Value::from(unix_now() - 1);
    std::fs::write(&state, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
    server.set(Script::default());
    sb.run(&["queue", "run"], b"").ok();
    assert_eq!(server.messages().len(), 1, "{:?}", server.commands());
    assert!(queue(&sb, "list").is_empty());
}

/// An administrator's hold does not expire: `queue run` leaves the message alone until
/// `queue release`.
#[test]
fn admin_hold_lasts_until_release() {
    let server = Server::start(Script::default());
    let sb = sandbox(1, "none", 2);
    sb.run(&["sendmail", "a@example.org"], &message("admin-hold"))
        .ok();
    let id = text(&queue(&sb, "list")[0]["id"]);
    sb.run(&["queue", "hold", &id], b"").ok();
    write_config(&sb, server.port, "none", 2);
    // Due or not, a held message is left alone.
    let state = sb.path("spool/queue").join(&id).join("state.json");
    let json: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(json["status"], "held", "{json:#}");
    sb.run(&["queue", "run"], b"").ok();
    sb.run(&["queue", "flush"], b"").ok();
    assert_eq!(server.connections(), 0, "{:?}", server.commands());
    let list = queue(&sb, "list");
    assert_eq!(list[0]["state"], "held", "{list:#?}");
    sb.run(&["queue", "release", &id], b"").ok();
    sb.run(&["queue", "run"], b"").ok();
    assert_eq!(server.messages().len(), 1, "{:?}", server.commands());
    assert!(queue(&sb, "list").is_empty());
}

/// A message larger than the relay's announced SIZE is refused before anything is uploaded:
/// exit 65, kept in the failed area, and the relay never sees MAIL FROM or DATA.
#[test]
fn message_over_the_relays_size_is_refused_before_upload() {
    let server = Server::start(Script {
        size: Some(1000),
        ..Script::default()
    });
    let sb = sandbox(server.port, "none", 5);
    let body = "x".repeat(70) + "\n";
    let message = format!("Subject: big\n\n{}", body.repeat(40));
    sb.run(&["sendmail", "ops@example.org"], message.as_bytes())
        .code(65)
        .one_line_error("accepts at most");
    assert_eq!(server.count("MAIL"), 0, "{:?}", server.commands());
    assert_eq!(server.count("DATA"), 0, "{:?}", server.commands());
    assert!(server.messages().is_empty());
    let failed = queue(&sb, "failed");
    assert_eq!(failed.len(), 1, "never retried forever: {failed:?}");
    assert!(queue(&sb, "list").is_empty());
}

/// A relay that closes the connection in the middle of a streamed flight (after taking the
/// third message, perhaps with more in its input, so that its kernel may reset the connection
/// and take replies not yet read with it): nothing is lost, a message recorded as delivered is
/// never sent again, and the others go again (at least once: one the relay took unanswered
/// reaches it twice).
#[test]
fn a_connection_closed_mid_flight_loses_nothing() {
    let streaming = Script {
        pipelining: true,
        chunking: true,
        ..Script::default()
    };
    let server = Server::start(Script {
        final_dot: testkit::smtp::acts([
            reply("250 2.0.0 Ok: one"),
            reply("250 2.0.0 Ok: two"),
            Act::Close,
        ]),
        ..streaming.clone()
    });
    let sb = sandbox(server.port, "none", 5);
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    let config = config.replace("delivery = \"now\"", "delivery = \"queue\"");
    std::fs::write(sb.user_config(), config).unwrap();
    let all: Vec<String> = (0..5).map(|i| format!("r{i}@example.org")).collect();
    for (i, to) in all.iter().enumerate() {
        sb.run(&["sendmail", to], &message(&format!("flight {i}")))
            .ok();
    }
    let first = sb.run(&["queue", "flush"], b"").ok();
    let left: Vec<String> = queue(&sb, "list")
        .iter()
        .flat_map(|m| addresses(&m["recipients"]))
        .collect();
    // The third was taken and not answered; the ones answered before are recorded (unless the
    // reset took their replies along), the ones after it go on a new connection or wait.
    assert!(left.contains(&all[2]), "{left:?}\n{first:#?}");
    assert!(
        first.stdout.contains(&format!("deferred {}", left.len())),
        "{first:#?}"
    );

    server.set(streaming);
    sb.run(&["queue", "flush"], b"").ok();
    assert!(queue(&sb, "list").is_empty());
    let received: Vec<String> = server
        .messages()
        .iter()
        .flat_map(|m| m.rcpt_to.clone())
        .collect();
    for to in &all {
        let copies = received.iter().filter(|r| **r == format!("<{to}>")).count();
        match left.contains(to) {
            false => assert_eq!(copies, 1, "{to}, delivered by the first flush, went again"),
            true => assert!((1..=2).contains(&copies), "{to}: {copies} copies"),
        }
    }
}
