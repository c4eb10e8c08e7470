//! The runner against scripted relays and a spool in a temporary directory: failover,
//! throttling, refused tokens, rate limits, the spew brake, and when acceptance is recorded.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::rc::Rc;

use super::*;
use crate::config::{LoadedProfile, Origin, Profile};
use crate::message::envelope::Envelope;
use crate::queue::MessageState;
use crate::queue::state::{Hold, RecipientStatus};

/// What the scripted relays do and what they saw.
#[derive(Default)]
struct Script {
    /// Per profile: what the next opening of a session fails with (it succeeds when none left).
    refuse_open: HashMap<String, VecDeque<DeliveryError>>,
    /// Per profile: the answers to its next transactions (`250 2.0.0 ok` when none left).
    answers: HashMap<String, VecDeque<Result<String, DeliveryError>>>,
    /// `open P`, `send P RCPT,RCPT`, `quit P`, in order.
    events: Vec<String>,
    /// Called as a transaction starts, with the profile.
    on_send: Option<Hook>,
    /// The sessions stream messages ([`RelaySession::begin`]).
    streams: bool,
}

/// Looks at the spool as a transaction starts, with the profile.
type Hook = Box<dyn FnMut(&str)>;

#[derive(Clone, Default)]
struct Scripted(Rc<RefCell<Script>>);

impl Scripted {
    fn refuse_open(&self, profile: &str, error: DeliveryError) {
        let mut s = self.0.borrow_mut();
        s.refuse_open
            .entry(profile.into())
            .or_default()
            .push_back(error);
    }

    fn answer(&self, profile: &str, answer: Result<String, DeliveryError>) {
        let mut s = self.0.borrow_mut();
        s.answers
            .entry(profile.into())
            .or_default()
            .push_back(answer);
    }

    fn events(&self) -> Vec<String> {
        self.0.borrow().events.clone()
    }
}

struct ScriptedSession {
    profile: String,
    script: Scripted,
    /// The next message ends the session (`quit_with_next_message`).
    last: bool,
    closed: bool,
    /// The answers of the messages begun and not finished, in order.
    begun: VecDeque<Result<String, DeliveryError>>,
}

impl Relays for Scripted {
    type Session = ScriptedSession;

    fn open(&mut self, name: &str, _: &LoadedProfile) -> Result<ScriptedSession, DeliveryError> {
        let mut s = self.0.borrow_mut();
        s.events.push(format!("open {name}"));
        match s.refuse_open.get_mut(name).and_then(VecDeque::pop_front) {
            Some(e) => Err(e),
            None => Ok(ScriptedSession {
                profile: name.into(),
                script: self.clone(),
                last: false,
                closed: false,
                begun: VecDeque::new(),
            }),
        }
    }
}

impl ScriptedSession {
    /// Runs the hook, records `verb P RCPT,RCPT` and takes the profile's next answer.
    fn transaction(&mut self, verb: &str, envelope: &Envelope) -> Result<String, DeliveryError> {
        let hook = self.script.0.borrow_mut().on_send.take();
        if let Some(mut hook) = hook {
            hook(&self.profile);
            self.script.0.borrow_mut().on_send = Some(hook);
        }
        let mut s = self.script.0.borrow_mut();
        s.events.push(format!(
            "{verb} {} {}{}",
            self.profile,
            envelope.recipients.join(","),
            if self.last { " + QUIT" } else { "" }
        ));
        self.closed = self.last;
        s.answers
            .get_mut(&self.profile)
            .and_then(VecDeque::pop_front)
            .unwrap_or_else(|| Ok("250 2.0.0 ok".into()))
    }
}

impl RelaySession for ScriptedSession {
    fn send(
        &mut self,
        envelope: &Envelope,
        message: &mut dyn std::io::Read,
        _: u64,
        _: bool,
    ) -> Result<String, DeliveryError> {
        let mut bytes = Vec::new();
        message.read_to_end(&mut bytes).unwrap();
        self.transaction("send", envelope)
    }

    fn streams(&self, _: u64) -> bool {
        self.script.0.borrow().streams
    }

    fn begin(&mut self, envelope: &Envelope, _: &[u8], _: bool) -> Result<(), DeliveryError> {
        let answer = self.transaction("begin", envelope);
        self.begun.push_back(answer);
        Ok(())
    }

    fn answered(&mut self) -> bool {
        false
    }

    fn finish(&mut self, envelope: &Envelope) -> Result<String, DeliveryError> {
        self.script.0.borrow_mut().events.push(format!(
            "finish {} {}",
            self.profile,
            envelope.recipients.join(",")
        ));
        self.begun.pop_front().expect("a message was begun")
    }

    fn is_usable(&self) -> bool {
        !self.closed
    }

    fn quit_with_next_message(&mut self) {
        self.last = true;
    }

    fn quit(self) {
        let mut s = self.script.0.borrow_mut();
        s.events.push(format!("quit {}", self.profile));
    }
}

/// A spool in a temporary directory and a configuration of `profiles` (name, extra settings).
struct Setup {
    _dir: tempfile::TempDir,
    spool: Spool,
    config: LoadedConfig,
    transcript: Transcript,
    relays: Scripted,
}

impl Setup {
    fn new(profiles: &[(&str, &str)]) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let profiles: BTreeMap<String, LoadedProfile> = profiles
            .iter()
            .map(|(name, extra)| {
                let text = format!(
                    "preset = \"smarthost\"\nhost = \"{name}.example\"\nport = 25\ntls = \"none\"\nfrom = \"app@example.org\"\n{extra}\n"
                );
                let profile: Profile = toml::from_str(&text).unwrap();
                let loaded = LoadedProfile {
                    profile,
                    origin: Origin::Explicit,
                    file: PathBuf::from("/nonexistent/config.toml"),
                };
                (name.to_string(), loaded)
            })
            .collect();
        let config = LoadedConfig {
            notify: Some("ops@example.org".into()),
            profiles,
            ..LoadedConfig::default()
        };
        Setup {
            _dir: dir,
            spool,
            config,
            transcript: Transcript::new(false),
            relays: Scripted::default(),
        }
    }

    fn enqueue(&self, recipients: &[&str]) -> QueueId {
        self.enqueue_for("p", recipients)
    }

    fn enqueue_for(&self, profile: &str, recipients: &[&str]) -> QueueId {
        let envelope = Envelope {
            sender: Some("app@example.org".into()),
            recipients: recipients.iter().map(|r| r.to_string()).collect(),
            dsn: Default::default(),
        };
        let message = b"Subject: test\r\n\r\nbody";
        let state = MessageState::new(profile, &envelope, message.len() as u64, now());
        let id = self.spool.enqueue(message, &state).unwrap();
        // Ids of one millisecond sort at random: a pass takes these in the order queued.
        std::thread::sleep(std::time::Duration::from_millis(2));
        id
    }

    fn runner(&self) -> Runner<'_, Scripted> {
        Runner::with_relays(
            &self.spool,
            &self.config,
            &self.transcript,
            self.relays.clone(),
        )
    }

    /// One pass over the queue, as `queue flush` makes it.
    fn pass(&self) -> Summary {
        let mut runner = self.runner();
        let summary = runner.run(&Select::AllQueued).unwrap();
        runner.close();
        summary
    }

    fn state(&self, id: &QueueId) -> MessageState {
        self.spool.state(Area::Queue, id).unwrap()
    }

    /// The queued messages that are notices.
    fn notices(&self) -> Vec<MessageState> {
        let ids = self.spool.ids(Area::Queue).unwrap();
        ids.iter()
            .map(|id| self.state(id))
            .filter(|s| s.notice)
            .collect()
    }
}

fn connect_refused(profile: &str) -> DeliveryError {
    DeliveryError::Connect {
        server: format!("{profile}.example:25"),
        reason: "connection refused".into(),
    }
}

#[test]
fn failover_follows_the_chain_and_stops_at_the_first_relay_that_takes_the_message() {
    let setup = Setup::new(&[("p", "fallback = [\"f1\", \"f2\"]"), ("f1", ""), ("f2", "")]);
    setup.relays.refuse_open("p", connect_refused("p"));
    setup.relays.answer(
        "f1",
        Err(DeliveryError::Data {
            server: "f1.example:25".into(),
            reply: "451 4.3.0 queue full".into(),
            permanent: false,
        }),
    );
    setup.enqueue(&["a@example.org"]);
    setup.enqueue(&["b@example.org"]);
    let summary = setup.pass();
    let (quits, events): (Vec<String>, Vec<String>) = setup
        .relays
        .events()
        .into_iter()
        .partition(|e| e.starts_with("quit"));
    assert_eq!(
        events,
        [
            "open p",
            "open f1",
            "send f1 a@example.org",
            "open f2",
            "send f2 a@example.org",
            // p could not be reached in this pass: it is not tried again, and f1 takes the
            // second message.
            "send f1 b@example.org",
        ]
    );
    assert_eq!(quits.len(), 2, "the sessions end with the pass: {quits:?}");
    assert_eq!(summary.delivered, 2);
    assert!(setup.spool.ids(Area::Queue).unwrap().is_empty());
}

#[test]
fn a_throttling_relay_gets_a_cool_down_and_nothing_more_in_the_pass() {
    let setup = Setup::new(&[("p", "")]);
    setup.relays.answer(
        "p",
        Err(DeliveryError::Data {
            server: "p.example:25".into(),
            reply: "451 4.7.28 rate limited".into(),
            permanent: false,
        }),
    );
    let first = setup.enqueue(&["a@example.org"]);
    let second = setup.enqueue(&["b@example.org"]);
    let before = now();
    setup.pass();
    assert_eq!(
        setup.relays.events(),
        ["open p", "send p a@example.org", "quit p"],
        "the session ends at the throttling reply; the second message is not sent"
    );
    let cool_down_end = Limiter::new(&setup.spool)
        .update("p", |l| l.cooldown_until)
        .unwrap();
    assert!((before + 60..=now() + 60).contains(&cool_down_end));
    let tried = setup.state(&first);
    assert_eq!(tried.attempts, 1);
    assert!(tried.next_attempt >= cool_down_end, "{tried:?}");
    let waiting = setup.state(&second);
    assert_eq!(
        (waiting.attempts, waiting.waiting, waiting.next_attempt),
        (0, Some(WaitReason::CoolDown), cool_down_end),
        "waits for the cool-down without an attempt counted"
    );
}

#[test]
fn a_refused_oauth2_token_gives_one_alert_for_the_profile_and_holds_its_mail() {
    let setup = Setup::new(&[("p", "")]);
    setup.relays.refuse_open(
        "p",
        DeliveryError::OAuth(OAuthError::Revoked {
            profile: "p".into(),
            preset: "outlook".into(),
            reason: "invalid_grant".into(),
            first: true,
        }),
    );
    let first = setup.enqueue(&["a@example.org"]);
    let second = setup.enqueue(&["b@example.org"]);
    let summary = setup.pass();
    assert_eq!(
        setup.relays.events(),
        ["open p"],
        "one login, not one per message"
    );
    assert_eq!(
        summary.held, 3,
        "both messages and the alert wait for a sign-in"
    );
    for id in [&first, &second] {
        let state = setup.state(id);
        assert_eq!(
            (state.status, state.hold, state.alerted),
            (Status::Held, Some(Hold::ConfigFault), true)
        );
    }
    let notices = setup.notices();
    assert_eq!(notices.len(), 1, "no notice per held message: {notices:?}");
    assert_eq!(notices[0].recipients[0].address, "ops@example.org");
}

#[test]
fn a_login_refused_for_good_holds_the_message_and_notices_it_once() {
    let setup = Setup::new(&[("p", "")]);
    let refused = || DeliveryError::Auth {
        server: "p.example:25".into(),
        user: "app".into(),
        reply: "535 5.7.8 bad credentials".into(),
        hint: "check the password".into(),
    };
    setup.relays.refuse_open("p", refused());
    let id = setup.enqueue(&["a@example.org"]);
    setup.pass();
    assert_eq!(setup.notices().len(), 1, "the held notice");
    let held = setup.state(&id);
    assert_eq!(held.hold, Some(Hold::ConfigFault));
    // Looked at again (after retry_max) and still refused: no second notice.
    setup.relays.refuse_open("p", refused());
    let mut runner = setup.runner();
    runner.run(&Select::Ids(vec![id.clone()])).unwrap();
    runner.close();
    assert_eq!(setup.notices().len(), 1);
    assert_eq!(setup.state(&id).attempts, 2);
}

#[test]
fn rate_limited_mail_waits_one_token_apart_without_an_attempt() {
    let setup = Setup::new(&[("p", "rate_limit = \"60/hour\"\nrate_burst = 1")]);
    let ids: Vec<QueueId> = (0..3).map(|_| setup.enqueue(&["a@example.org"])).collect();
    let before = now();
    let summary = setup.pass();
    assert_eq!((summary.delivered, summary.deferred), (1, 2));
    assert_eq!(
        setup.relays.events().len(),
        3,
        "{:?}",
        setup.relays.events()
    );
    let second = setup.state(&ids[1]);
    let third = setup.state(&ids[2]);
    for s in [&second, &third] {
        assert_eq!((s.attempts, s.waiting), (0, Some(WaitReason::RateLimit)));
    }
    assert!((before + 60..=now() + 60).contains(&second.next_attempt));
    assert_eq!(
        third.next_attempt,
        second.next_attempt + 60,
        "one token apart"
    );
}

#[test]
fn the_spew_brake_freezes_the_profile_and_alerts_once() {
    let setup = Setup::new(&[("p", "brake = \"2/hour\"")]);
    let ids: Vec<QueueId> = (0..4).map(|_| setup.enqueue(&["a@example.org"])).collect();
    let before = now();
    setup.pass();
    let sends: Vec<String> = setup
        .relays
        .events()
        .into_iter()
        .filter(|e| e.starts_with("send"))
        .collect();
    assert_eq!(
        sends,
        [
            "send p a@example.org",
            "send p a@example.org",
            // The brake's alert: notices are never held back by the brake.
            "send p ops@example.org",
        ]
    );
    for id in &ids[2..] {
        let s = setup.state(id);
        assert_eq!((s.attempts, s.waiting), (0, Some(WaitReason::Brake)));
        assert!((before + 3600..=now() + 3600).contains(&s.next_attempt));
    }
}

#[test]
fn accepted_recipients_are_on_disk_before_the_next_relay_is_tried() {
    let setup = Setup::new(&[("p", "fallback = [\"f\"]"), ("f", "")]);
    setup.relays.answer(
        "p",
        Err(DeliveryError::Recipients {
            server: "p.example:25".into(),
            failures: vec![crate::relay::RecipientFailure {
                address: "b@example.org".into(),
                reply: "451 4.2.0 mailbox busy".into(),
                permanent: false,
            }],
            accepted: 1,
        }),
    );
    let id = setup.enqueue(&["a@example.org", "b@example.org"]);
    let seen = Rc::new(RefCell::new(Vec::new()));
    let (spool, log, queued) = (setup.spool.clone(), seen.clone(), id.clone());
    setup.relays.0.borrow_mut().on_send = Some(Box::new(move |profile: &str| {
        let on_disk = spool.state(Area::Queue, &queued).unwrap();
        let statuses: Vec<RecipientStatus> = on_disk.recipients.iter().map(|r| r.status).collect();
        log.borrow_mut().push((profile.to_string(), statuses));
    }));
    let summary = setup.pass();
    assert_eq!(summary.delivered, 1);
    use RecipientStatus::*;
    assert_eq!(
        *seen.borrow(),
        [
            ("p".to_string(), vec![Pending, Pending]),
            ("f".to_string(), vec![Sent, Pending]),
        ],
        "a, accepted by p, is recorded before f is asked"
    );
    assert!(
        setup
            .relays
            .events()
            .contains(&"send f b@example.org".to_string())
    );
}

#[test]
fn a_delivered_message_leaves_the_queue_before_the_next_is_sent() {
    let setup = Setup::new(&[("p", "")]);
    let ids = [
        setup.enqueue(&["a@example.org"]),
        setup.enqueue(&["b@example.org"]),
    ];
    let seen = Rc::new(RefCell::new(Vec::new()));
    let (spool, log) = (setup.spool.clone(), seen.clone());
    setup.relays.0.borrow_mut().on_send = Some(Box::new(move |_: &str| {
        log.borrow_mut().push(spool.ids(Area::Queue).unwrap());
    }));
    setup.pass();
    assert_eq!(
        *seen.borrow(),
        [ids.to_vec(), ids[1..].to_vec()],
        "the first was finished before the second went out"
    );
}

fn login_refused() -> DeliveryError {
    DeliveryError::Auth {
        server: "p.example:25".into(),
        user: "app".into(),
        reply: "535 5.7.8 bad credentials".into(),
        hint: "check the password".into(),
    }
}

/// The notice about mail held behind a refused login goes through a profile that delivered
/// recently, in the same pass, not behind the refused login.
#[test]
fn a_notice_goes_through_a_profile_that_delivered_recently() {
    let setup = Setup::new(&[("p", ""), ("w", "")]);
    setup.enqueue_for("w", &["a@example.org"]);
    setup.pass();
    setup.relays.refuse_open("p", login_refused());
    let held = setup.enqueue(&["b@example.org"]);
    let summary = setup.pass();
    assert_eq!((summary.held, summary.delivered), (1, 1), "{summary:?}");
    assert_eq!(setup.state(&held).hold, Some(Hold::ConfigFault));
    let events = setup.relays.events();
    assert!(
        events.contains(&"send w ops@example.org".to_string()),
        "{events:?}"
    );
    assert!(setup.notices().is_empty(), "the notice was delivered");
}

/// `notify_profile` is the way notices go, whatever delivered last; a notice about
/// `notify_profile`'s own trouble goes another way, and with none, waits with the mail.
#[test]
fn notify_profile_carries_notices_but_not_about_itself() {
    let mut setup = Setup::new(&[("p", ""), ("w", "")]);
    setup.config.notify_profile = Some("w".into());
    setup.relays.refuse_open("p", login_refused());
    setup.enqueue(&["a@example.org"]);
    setup.pass();
    assert!(
        setup
            .relays
            .events()
            .contains(&"send w ops@example.org".to_string())
    );
    assert!(setup.notices().is_empty());

    // w is in trouble now, and p never delivered: the notice waits with w's mail.
    setup.relays.refuse_open("w", login_refused());
    setup.enqueue_for("w", &["b@example.org"]);
    setup.pass();
    let notices = setup.notices();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(
        (notices[0].profile.as_str(), notices[0].status),
        ("w", Status::Held)
    );
}

/// The first attempt at a submission, as `relayctl queue attempt` makes it (catching up after a
/// delivery when `catch_up` is set).
fn submit(setup: &Setup, id: &QueueId, catch_up: bool) -> (Outcome, Summary) {
    let mut runner = setup.runner().submission();
    let locked = setup.spool.lock(id).unwrap().unwrap();
    let outcome = runner.attempt(locked).unwrap();
    let summary = match catch_up {
        true => runner.catch_up("p").unwrap(),
        false => Summary::default(),
    };
    runner.close();
    (outcome, summary)
}

/// A submission alone in the queue ends its session with it: QUIT goes with the message, the
/// closed session is not quit again and nothing is caught up over it; without `only_message`
/// the session stays open for the catch-up and is quit at the end.
#[test]
fn a_submission_alone_in_the_queue_quits_with_its_message() {
    let setup = Setup::new(&[("p", "")]);
    let id = setup.enqueue(&["a@example.org"]);
    let mut runner = setup.runner().submission().only_message();
    let locked = setup.spool.lock(&id).unwrap().unwrap();
    assert_eq!(runner.attempt(locked).unwrap(), Outcome::Delivered);
    runner.catch_up("p").unwrap();
    runner.close();
    assert_eq!(
        setup.relays.events(),
        ["open p", "send p a@example.org + QUIT"]
    );

    let setup = Setup::new(&[("p", "")]);
    let id = setup.enqueue(&["a@example.org"]);
    submit(&setup, &id, true);
    assert_eq!(
        setup.relays.events(),
        ["open p", "send p a@example.org", "quit p"]
    );
}

fn greeting_timed_out(profile: &str) -> DeliveryError {
    DeliveryError::Network {
        server: format!("{profile}.example:25"),
        stage: "greeting",
        reason: "timed out waiting for the relay".into(),
    }
}

/// Issue 20, part 3: a relay that did not answer is remembered (per host and port), and the
/// next submission queues at once without connecting; a runner still tries it, and its answer
/// ends the memory.
#[test]
fn a_relay_that_did_not_answer_is_not_tried_by_the_next_submission() {
    let setup = Setup::new(&[("p", "")]);
    setup.relays.refuse_open("p", greeting_timed_out("p"));
    let first = setup.enqueue(&["a@example.org"]);
    let before = now();
    assert!(matches!(
        submit(&setup, &first, false).0,
        Outcome::Deferred(_)
    ));
    assert_eq!(setup.state(&first).attempts, 1);
    let down = health::relay_down_until(&setup.spool, "p.example:25", now()).unwrap();
    assert!(
        down.is_some_and(|t| (before + 60..=now() + 60).contains(&t)),
        "{down:?}"
    );

    let second = setup.enqueue(&["b@example.org"]);
    assert!(matches!(
        submit(&setup, &second, false).0,
        Outcome::Deferred(_)
    ));
    assert_eq!(
        setup.relays.events(),
        ["open p"],
        "the second never connects"
    );
    let waiting = setup.state(&second);
    assert_eq!(
        (
            waiting.attempts,
            waiting.waiting,
            Some(waiting.next_attempt)
        ),
        (0, Some(WaitReason::RelayDown), down),
        "queued without an attempt, until the relay is tried again"
    );

    // A runner's pass tries it; it answers, and is known to be down no longer.
    assert_eq!(setup.pass().delivered, 2);
    assert_eq!(
        health::relay_down_until(&setup.spool, "p.example:25", now()).unwrap(),
        None
    );
}

/// A refusal is an answer: only a relay that cannot be reached or does not answer is
/// remembered as down.
#[test]
fn a_relay_that_refuses_is_not_remembered_as_down() {
    let setup = Setup::new(&[("p", "")]);
    setup.relays.refuse_open(
        "p",
        DeliveryError::Refused {
            server: "p.example:25".into(),
            stage: "greeting",
            reply: "421 4.3.2 busy".into(),
            permanent: false,
        },
    );
    let first = setup.enqueue(&["a@example.org"]);
    submit(&setup, &first, false);
    let second = setup.enqueue(&["b@example.org"]);
    assert_eq!(submit(&setup, &second, false).0, Outcome::Delivered);
    assert_eq!(setup.relays.events()[..2], ["open p", "open p"]);
}

/// Issue 20, part 5: a submission that was delivered takes its profile's overdue mail along on
/// the same session (due, or waiting only because the relay was down), at most ten messages;
/// other profiles' mail and mail not due yet stay.
#[test]
fn a_delivery_takes_the_profiles_overdue_mail_along_on_its_session() {
    let setup = Setup::new(&[("p", ""), ("q", "")]);
    let waited = setup.enqueue(&["down@example.org"]);
    let mut locked = setup.spool.lock(&waited).unwrap().unwrap();
    locked.state.waiting = Some(WaitReason::RelayDown);
    locked.state.next_attempt = now() + 60;
    locked.save().unwrap();
    drop(locked);
    let later = setup.enqueue(&["later@example.org"]);
    let mut locked = setup.spool.lock(&later).unwrap().unwrap();
    locked.state.next_attempt = now() + 3600;
    locked.save().unwrap();
    drop(locked);
    let other = setup.enqueue_for("q", &["other@example.org"]);
    let due: Vec<QueueId> = (0..11)
        .map(|i| setup.enqueue(&[format!("due{i}@example.org").as_str()]))
        .collect();
    let submitted = setup.enqueue(&["new@example.org"]);
    let (outcome, summary) = submit(&setup, &submitted, true);
    assert_eq!(outcome, Outcome::Delivered);
    assert_eq!(summary.delivered, 10, "at most ten: {summary:?}");
    let events = setup.relays.events();
    assert_eq!(
        events.iter().filter(|e| e.starts_with("open")).count(),
        1,
        "one session: {events:?}"
    );
    assert_eq!(events[1], "send p new@example.org", "{events:?}");
    assert_eq!(
        events[2], "send p down@example.org",
        "oldest first: {events:?}"
    );
    let left = setup.spool.ids(Area::Queue).unwrap();
    assert_eq!(
        left,
        [later, other, due[9].clone(), due[10].clone()],
        "{events:?}"
    );
}

/// Nothing follows a submission that was not delivered.
#[test]
fn a_submission_not_delivered_takes_nothing_along() {
    let setup = Setup::new(&[("p", "")]);
    let due = setup.enqueue(&["due@example.org"]);
    setup.relays.answer(
        "p",
        Err(DeliveryError::Data {
            server: "p.example:25".into(),
            reply: "451 4.3.0 not now".into(),
            permanent: false,
        }),
    );
    let submitted = setup.enqueue(&["new@example.org"]);
    let mut runner = setup.runner().submission();
    let outcome = runner.attempt(setup.spool.lock(&submitted).unwrap().unwrap());
    assert!(matches!(outcome, Ok(Outcome::Deferred(_))), "{outcome:?}");
    runner.close();
    assert!(setup.state(&due).attempts == 0);
}

/// A pass records that it ran, and sums up what became of each profile's mail.
#[test]
fn a_pass_is_recorded_and_summed_up_per_profile() {
    let setup = Setup::new(&[("p", ""), ("q", "")]);
    setup.relays.refuse_open("q", connect_refused("q"));
    setup.enqueue(&["a@example.org"]);
    setup.enqueue_for("q", &["b@example.org"]);
    let before = now();
    let summary = setup.pass();
    assert_eq!(
        summary.lines(),
        [
            "p: delivered 1, deferred 0, held 0, failed 0",
            "q: delivered 0, deferred 1, held 0, failed 0 (last: cannot connect to q.example:25: connection refused)",
        ]
    );
    let last = health::read(setup.spool.root()).and_then(|h| h.last_pass);
    assert!(last.is_some_and(|t| t >= before), "{last:?}");
}

fn streaming(setup: &Setup) {
    setup.relays.0.borrow_mut().streams = true;
}

fn temporary_data_failure(profile: &str, reply: &str) -> DeliveryError {
    DeliveryError::Data {
        server: format!("{profile}.example:25"),
        reply: reply.into(),
        permanent: false,
    }
}

#[test]
fn streamed_messages_go_out_before_the_replies_and_land_in_order() {
    let setup = Setup::new(&[("p", "")]);
    streaming(&setup);
    setup.relays.answer("p", Ok("250 2.0.0 ok: one".into()));
    setup.relays.answer(
        "p",
        Err(DeliveryError::Recipients {
            server: "p.example:25".into(),
            failures: vec![crate::relay::RecipientFailure {
                address: "b@example.org".into(),
                reply: "451 4.2.0 mailbox busy".into(),
                permanent: false,
            }],
            accepted: 0,
        }),
    );
    let ids = [
        setup.enqueue(&["a@example.org"]),
        setup.enqueue(&["b@example.org"]),
        setup.enqueue(&["c@example.org"]),
    ];
    let summary = setup.pass();
    assert_eq!(
        setup.relays.events(),
        [
            "open p",
            "begin p a@example.org",
            "begin p b@example.org",
            "begin p c@example.org",
            "finish p a@example.org",
            "finish p b@example.org",
            "finish p c@example.org",
            "quit p",
        ]
    );
    assert_eq!((summary.delivered, summary.deferred), (2, 1));
    assert_eq!(setup.spool.ids(Area::Queue).unwrap(), [ids[1].clone()]);
    assert_eq!(setup.state(&ids[1]).attempts, 1);
}

/// Every message of a flight that the relay throttles lands (its replies are read), the
/// cool-down starts once and is not lengthened by each, and the session ends after them.
#[test]
fn a_throttled_flight_lands_whole_and_cools_down_once() {
    let setup = Setup::new(&[("p", "")]);
    streaming(&setup);
    for _ in 0..3 {
        setup.relays.answer(
            "p",
            Err(temporary_data_failure("p", "451 4.7.28 rate limited")),
        );
    }
    let ids: Vec<QueueId> = ["a", "b", "c"]
        .iter()
        .map(|r| setup.enqueue(&[&format!("{r}@example.org")]))
        .collect();
    let before = now();
    setup.pass();
    let events = setup.relays.events();
    assert_eq!(events.iter().filter(|e| e.starts_with("finish")).count(), 3);
    assert_eq!(events.last().map(String::as_str), Some("quit p"));
    let cool_down_end = Limiter::new(&setup.spool)
        .update("p", |l| l.cooldown_until)
        .unwrap();
    assert!(
        (before + 60..=now() + 60).contains(&cool_down_end),
        "the cool-down was lengthened: ends {}s from now",
        cool_down_end - now()
    );
    for id in &ids {
        assert_eq!(setup.state(id).attempts, 1);
    }
}

/// A streamed message the profile's relay did not take goes on to the fallback at once, while
/// the replies to the messages after it are still to be read.
#[test]
fn a_streamed_message_not_taken_goes_on_to_the_fallback() {
    let setup = Setup::new(&[("p", "fallback = [\"f\"]"), ("f", "")]);
    streaming(&setup);
    setup.relays.answer(
        "p",
        Err(temporary_data_failure("p", "451 4.3.0 queue full")),
    );
    setup.enqueue(&["a@example.org"]);
    setup.enqueue(&["b@example.org"]);
    let summary = setup.pass();
    let events: Vec<String> = setup
        .relays
        .events()
        .into_iter()
        .filter(|e| !e.starts_with("quit"))
        .collect();
    assert_eq!(
        events,
        [
            "open p",
            "begin p a@example.org",
            "begin p b@example.org",
            "finish p a@example.org",
            "open f",
            "send f a@example.org",
            "finish p b@example.org",
        ]
    );
    assert_eq!(summary.delivered, 2);
    assert!(setup.spool.ids(Area::Queue).unwrap().is_empty());
}
