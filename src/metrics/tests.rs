use super::*;

use crate::config::ConfigLocation;
use crate::message::envelope::Envelope;
use crate::queue::QueueId;
use crate::queue::schedule::now;
use crate::queue::tally::Tally;

const CONFIG: &str = r#"
[profiles.uni]
preset = "smarthost"
host = "relay.example"
port = 25
tls = "none"
from = "vm1@example.org"
rate_limit = "60/h"
rate_burst = 5

[profiles.backup]
preset = "smarthost"
host = "relay.example"
port = 25
tls = "none"
from = "vm1@example.org"
"#;

struct Fixture {
    _dir: tempfile::TempDir,
    spool: Spool,
    config: LoadedConfig,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, CONFIG).unwrap();
        let config = ConfigLocation::new(Some(path)).load().unwrap();
        let spool = Spool::open(&dir.path().join("spool")).unwrap();
        Fixture {
            _dir: dir,
            spool,
            config,
        }
    }

    /// Queues a message of `profile` submitted `age` seconds ago, changed by `change`.
    fn enqueue(&self, profile: &str, age: u64, change: impl FnOnce(&mut MessageState)) -> QueueId {
        let envelope = Envelope {
            sender: Some("secret-sender@example.org".into()),
            recipients: vec!["secret-recipient@example.org".into()],
            dsn: Default::default(),
        };
        let message = b"Subject: secret subject\r\n\r\nbody";
        let mut state = MessageState::new(profile, &envelope, message.len() as u64, now() - age);
        change(&mut state);
        self.spool.enqueue(message, &state).unwrap()
    }

    fn render(&self) -> String {
        render(&self.spool, Some(&self.config), now()).unwrap()
    }
}

/// The value of the series written exactly as `series`.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
        .parse()
        .unwrap()
}

#[test]
fn messages_are_counted_by_profile_and_state_with_the_oldest_age() {
    let f = Fixture::new();
    f.enqueue("uni", 100, |_| {});
    f.enqueue("uni", 7200, |s| s.waiting = Some(WaitReason::RateLimit));
    f.enqueue("uni", 9999, MessageState::hold_by_administrator);
    f.enqueue("uni", 50, |s| {
        s.status = Status::Held;
        s.hold = Some(Hold::ConfigFault);
    });
    let failed = f.enqueue("uni", 10, |_| {});
    f.spool
        .lock(&failed)
        .unwrap()
        .unwrap()
        .fail("550 no")
        .unwrap();
    let text = f.render();
    for (state, n) in [
        ("waiting", 1.0),
        ("rate_limited", 1.0),
        ("frozen", 0.0),
        ("held", 1.0),
        ("held_by_admin", 1.0),
        ("failed", 1.0),
    ] {
        let series = format!("relayctl_queue_messages{{profile=\"uni\",state=\"{state}\"}}");
        assert_eq!(value(&text, &series), n, "{state}");
        let series = format!("relayctl_queue_messages{{profile=\"backup\",state=\"{state}\"}}");
        assert_eq!(value(&text, &series), 0.0, "configured, empty: {state}");
    }
    // The admin's hold does not count as stuck mail.
    let age = value(
        &text,
        "relayctl_queue_oldest_message_age_seconds{profile=\"uni\"}",
    );
    assert!((7200.0..7260.0).contains(&age), "{age}");
    assert_eq!(
        value(
            &text,
            "relayctl_queue_oldest_message_age_seconds{profile=\"backup\"}"
        ),
        0.0
    );
    assert!(!text.contains("secret"), "no address or subject: {text}");
    assert_eq!(
        value(&text, "relayctl_rate_limit_tokens{profile=\"uni\"}"),
        5.0,
        "a full bucket"
    );
    let uni = f.config.profile("uni").unwrap();
    Limiter::new(&f.spool)
        .acquire("uni", uni, now(), false)
        .unwrap()
        .unwrap();
    assert_eq!(
        value(&f.render(), "relayctl_rate_limit_tokens{profile=\"uni\"}"),
        4.0,
        "one taken"
    );
    assert!(!text.contains("relayctl_rate_limit_tokens{profile=\"backup\"}"));
    assert_eq!(
        value(
            &text,
            &format!(
                "relayctl_build_info{{version=\"{}\"}}",
                env!("CARGO_PKG_VERSION")
            )
        ),
        1.0
    );
}

#[test]
fn counters_and_the_brake_are_read_from_the_spool() {
    let f = Fixture::new();
    let mut tally = Tally::default();
    tally.delivered("uni");
    tally.brake_tripped("backup");
    tally.failed(
        "uni",
        &crate::relay::DeliveryError::Auth {
            server: "relay.example:25".into(),
            user: "vm1".into(),
            reply: "535 5.7.8 no".into(),
            hint: String::new(),
        },
    );
    tally.flush(&f.spool).unwrap();
    let limits = f.spool.root().join("limits");
    std::fs::create_dir_all(&limits).unwrap();
    std::fs::write(
        limits.join("backup.frozen"),
        r#"{"since":1000,"reason":"too many"}"#,
    )
    .unwrap();
    f.enqueue("backup", 5, |_| {});
    Limiter::new(&f.spool)
        .update("uni", |l| l.succeeded(1_700_000_000))
        .unwrap();
    let text = f.render();
    assert_eq!(
        value(&text, "relayctl_deliveries_total{profile=\"uni\"}"),
        1.0
    );
    assert_eq!(
        value(
            &text,
            "relayctl_delivery_failures_total{profile=\"uni\",class=\"auth\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            "relayctl_relay_login_failures_total{profile=\"uni\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            "relayctl_relay_login_failures_total{profile=\"backup\"}"
        ),
        0.0
    );
    assert_eq!(
        value(&text, "relayctl_spew_brake_trips_total{profile=\"backup\"}"),
        1.0
    );
    assert_eq!(
        value(&text, "relayctl_spew_brake_frozen{profile=\"backup\"}"),
        1.0
    );
    assert_eq!(
        value(&text, "relayctl_spew_brake_frozen{profile=\"uni\"}"),
        0.0
    );
    assert_eq!(
        value(
            &text,
            "relayctl_queue_messages{profile=\"backup\",state=\"frozen\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            "relayctl_last_delivery_timestamp_seconds{profile=\"uni\"}"
        ),
        1_700_000_000.0
    );
    assert_eq!(
        value(
            &text,
            "relayctl_last_delivery_timestamp_seconds{profile=\"backup\"}"
        ),
        0.0
    );
}
