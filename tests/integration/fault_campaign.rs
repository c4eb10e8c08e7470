//! The fault campaign (SECURITY.md, docs/campaigns.md): messages submitted through `sendmail`
//! to the scripted fault server (`testkit::smtp::Server`), which draws each connection's behaviour at random (seeded):
//! accept, or at one stage of the dialogue answer 4xx or 5xx, drop the connection, or stall.
//! `queue flush` runs a few rounds; then every (message, recipient) pair must be accounted for:
//! delivered (the server answered 250 to its final dot), failed (in the failed area, with a
//! notice to the admin), or still queued for retry (or held). None may be lost. Finally the
//! server heals, held mail is released and flushed, and everything must end delivered or failed.
//!
//! `RELAYCTL_FAULT_MESSAGES` (default 100) and `RELAYCTL_FAULT_SEED` (default 1) choose the size
//! and the draw. None of this uses the Postfix relay.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use serde_json::Value;

use testkit::smtp::{Act, MidData, Script, Server, reply};

use crate::harness::{Sandbox, queue};

const NOTIFY: &str = "postmaster@campus.example";

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One connection's behaviour: accept everything (45%), or one fault at one stage.
fn chaos(rng: &mut fastrand::Rng) -> Script {
    let mut s = Script::default();
    if rng.u8(..100) < 45 {
        return s;
    }
    let fault = rng.u8(..10);
    let act = |temporary: &str, permanent: &str| match fault {
        0..=4 => reply(temporary),
        5..=6 => reply(permanent),
        7..=8 => Act::Close,
        _ => Act::Silence,
    };
    match rng.u8(..7) {
        0 => s.greeting = act("421 4.3.2 chaos: try later", "554 5.7.1 chaos: no service"),
        1 => s.ehlo = act("421 4.3.2 chaos: busy", "554 5.5.1 chaos: go away").into(),
        2 => s.mail = act("451 4.3.0 chaos: later", "553 5.7.1 chaos: sender refused").into(),
        3 => s.rcpt = vec![act("450 4.2.1 chaos: mailbox busy", "550 5.1.1 chaos: no user").into()],
        4 => s.data = act("451 4.3.0 chaos: no data now", "554 5.5.1 chaos: no data").into(),
        5 => s.final_dot = act("451 4.3.0 chaos: not now", "554 5.6.0 chaos: rejected").into(),
        _ => s.mid_data = Some(MidData::Close),
    }
    s
}

/// A message and recipient pair's fate.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fate {
    Delivered,
    Failed,
    Queued,
    #[default]
    Lost,
}

/// What the spool says about one message.
struct Stored {
    area: &'static str,
    id: String,
    text: String,
    state: Value,
}

fn stored(root: &Path) -> Vec<Stored> {
    let mut all = Vec::new();
    for area in ["queue", "failed"] {
        let Ok(dir) = std::fs::read_dir(root.join(area)) else {
            continue;
        };
        for entry in dir.filter_map(Result::ok) {
            let id = entry.file_name().to_string_lossy().into_owned();
            let (Ok(message), Ok(state)) = (
                std::fs::read(entry.path().join("message")),
                std::fs::read_to_string(entry.path().join("state.json")),
            ) else {
                continue;
            };
            all.push(Stored {
                area,
                id,
                text: String::from_utf8_lossy(&message).into_owned(),
                state: serde_json::from_str(&state).unwrap(),
            });
        }
    }
    all
}

fn recipient_status(state: &Value, rcpt: &str) -> Option<String> {
    state["recipients"].as_array()?.iter().find_map(|r| {
        (r["address"] == rcpt).then(|| r["status"].as_str().unwrap_or_default().to_string())
    })
}

/// The campaign's tally at one point.
#[derive(Debug, Default)]
struct Tally {
    fates: BTreeMap<Fate, usize>,
    /// Pairs the server answered 250 for more than once.
    duplicated: usize,
    /// Pairs received again after a final dot whose answer never reached relayctl.
    redelivered_unconfirmed: usize,
    /// Failed messages without a notice (sent, queued or failed itself).
    failed_without_notice: usize,
    failed_messages: usize,
    held_messages: usize,
}

fn tally(sb: &Sandbox, server: &Server, submitted: &[(String, Vec<String>)]) -> Tally {
    let received = server.messages();
    let spool = stored(&sb.path("spool"));
    let mut t = Tally::default();
    for (marker, rcpts) in submitted {
        let mine: Vec<&Stored> = spool.iter().filter(|s| s.text.contains(marker)).collect();
        for rcpt in rcpts {
            let angle = format!("<{rcpt}>");
            let got: Vec<_> = received
                .iter()
                .filter(|m| m.text().contains(marker) && m.rcpt_to.contains(&angle))
                .collect();
            let confirmed = got
                .iter()
                .filter(|m| m.reply.as_deref().is_some_and(|r| r.starts_with('2')))
                .count();
            let status = |area: &str, want: &str| {
                mine.iter().any(|s| {
                    s.area == area && recipient_status(&s.state, rcpt).as_deref() == Some(want)
                })
            };
            let fate = if confirmed > 0 {
                Fate::Delivered
            } else if status("failed", "failed") || status("queue", "failed") {
                Fate::Failed
            } else if status("queue", "pending") {
                Fate::Queued
            } else {
                Fate::Lost
            };
            assert!(
                !(confirmed > 0 && status("queue", "pending")),
                "{marker} {rcpt}: confirmed by the server yet still pending"
            );
            *t.fates.entry(fate).or_default() += 1;
            t.duplicated += usize::from(confirmed > 1);
            t.redelivered_unconfirmed += usize::from(got.len() > 1 && confirmed <= 1);
        }
    }
    for s in &spool {
        if s.state["notice"] == true {
            continue;
        }
        if s.state["status"] == "held" {
            t.held_messages += 1;
        }
        if s.area != "failed" {
            continue;
        }
        t.failed_messages += 1;
        let about = format!("({})", s.id);
        let noticed = received
            .iter()
            .any(|m| m.rcpt_to.contains(&format!("<{NOTIFY}>")) && m.text().contains(&about))
            || spool
                .iter()
                .any(|n| n.state["notice"] == true && n.text.contains(&about));
        t.failed_without_notice += usize::from(!noticed);
    }
    t
}

#[test]
fn fault_campaign_accounts_for_every_message() {
    let count = knob("RELAYCTL_FAULT_MESSAGES", 100) as usize;
    let seed = knob("RELAYCTL_FAULT_SEED", 1);
    let started = Instant::now();
    let server = Server::start(Script::default());
    let mut rng = fastrand::Rng::with_seed(seed);
    server.choose(move || chaos(&mut rng));

    let sb = Sandbox::new();
    let path = sb.user_config();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        format!(
            "default_profile = \"fault\"\ndelivery = \"now\"\nnotify = \"{NOTIFY}\"\n\n[queue]\nnotices_per_hour = 1000000\n\n[profiles.fault]\npreset = \"smarthost\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"vm1@campus.example\"\ntimeout = 1\nbrake = \"off\"\n",
            server.port
        ),
    )
    .unwrap();

    let mut exits: BTreeMap<i32, usize> = BTreeMap::new();
    let mut submitted = Vec::new();
    for i in 0..count {
        let marker = format!("chaos-{}-{i:05}", std::process::id());
        let mut rcpts = vec![format!("a{i}@example.org")];
        if i % 3 == 0 {
            rcpts.push(format!("b{i}@example.org"));
        }
        let mut args = vec!["sendmail"];
        args.extend(rcpts.iter().map(String::as_str));
        let run = sb.run(&args, format!("Subject: {marker}\n\n{marker}\n").as_bytes());
        assert!(
            [0, 67, 69, 75].contains(&run.code),
            "unexpected exit: {run:#?}"
        );
        *exits.entry(run.code).or_default() += 1;
        submitted.push((marker, rcpts));
    }
    let mut rounds = 0;
    while rounds < 8 && queue(&sb, "list").iter().any(|m| m["state"] == "queued") {
        sb.run(&["queue", "flush"], b"");
        rounds += 1;
    }
    let chaos_tally = tally(&sb, &server, &submitted);
    let pairs: usize = submitted.iter().map(|(_, r)| r.len()).sum();
    eprintln!(
        "fault campaign: seed {seed}, {count} messages ({pairs} message/recipient pairs), {} connections, sendmail exits {exits:?}, {rounds} flush rounds, {:?}",
        server.connections(),
        started.elapsed()
    );
    eprintln!("fault campaign: after the faults: {chaos_tally:?}");
    assert_eq!(chaos_tally.fates.get(&Fate::Lost), None, "{chaos_tally:?}");
    assert_eq!(chaos_tally.failed_without_notice, 0, "{chaos_tally:?}");

    // The relay heals: held mail is released, everything waiting goes.
    server.set(Script::default());
    sb.run(&["queue", "release", "--all"], b"");
    for _ in 0..3 {
        if queue(&sb, "list").is_empty() {
            break;
        }
        sb.run(&["queue", "flush"], b"").ok();
    }
    let healed = tally(&sb, &server, &submitted);
    eprintln!(
        "fault campaign: after healing: {healed:?}, {:?} in all",
        started.elapsed()
    );
    assert_eq!(healed.fates.get(&Fate::Lost), None, "{healed:?}");
    assert_eq!(healed.fates.get(&Fate::Queued), None, "{healed:?}");
    assert_eq!(healed.failed_without_notice, 0, "{healed:?}");
    assert_eq!(healed.duplicated, 0, "{healed:?}");
    assert!(queue(&sb, "list").is_empty(), "{:#?}", queue(&sb, "list"));
    assert_eq!(
        healed.fates.values().sum::<usize>(),
        pairs,
        "every pair counted once"
    );
}
