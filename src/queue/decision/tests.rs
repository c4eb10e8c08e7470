//! The decision table: each row a message's state and what its relays did, the decision, and
//! the state it leaves. No spool, no network, no clock.

use super::*;
use crate::config::Rate;
use crate::message::envelope::Envelope;
use crate::queue::state::NEVER;
use crate::relay::RecipientFailure;

const NOW: u64 = 1_000_000;

/// The defaults the table's numbers rest on: retries after 1 minute doubling to 1 hour, a
/// delay warning at 4 hours, given up at 5 days.
fn settings() -> QueueSettings {
    let settings = QueueSettings::default();
    assert_eq!(
        (
            settings.retry_initial,
            settings.retry_max,
            settings.delay_warning,
            settings.max_age
        ),
        (Span(60), Span(3600), Span(4 * 3600), Span(5 * 86400))
    );
    settings
}

/// A message for profile `p`, submitted a minute ago.
fn message(recipients: &[&str]) -> MessageState {
    let envelope = Envelope {
        sender: Some("app@example.org".into()),
        recipients: recipients.iter().map(|r| r.to_string()).collect(),
        dsn: Default::default(),
    };
    MessageState::new("p", &envelope, 100, NOW - 60)
}

fn relays(list: &[(&str, RelayOutcome)]) -> Vec<(String, RelayOutcome)> {
    list.iter()
        .map(|(name, o)| (name.to_string(), o.clone()))
        .collect()
}

fn decide_for(state: &MessageState, relays: &[(String, RelayOutcome)]) -> Next {
    decide(&Facts {
        state,
        frozen: None,
        relays,
        settings: &settings(),
        now: NOW,
        spread: &HashMap::new(),
    })
}

fn try_later(reason: &str) -> RelayOutcome {
    RelayOutcome::TryLater {
        reason: reason.into(),
        cool_down: None,
    }
}

fn misconfigured(reason: &str, token_refused: bool) -> RelayOutcome {
    RelayOutcome::Misconfigured {
        reason: reason.into(),
        token_refused,
    }
}

fn rate_limited(until: u64) -> RelayOutcome {
    RelayOutcome::NotTried(Wait::RateLimit {
        until,
        rate: "60/hour".parse::<Rate>().unwrap(),
    })
}

fn status(state: &MessageState) -> Vec<(String, RecipientStatus)> {
    state
        .recipients
        .iter()
        .map(|r| (r.address.clone(), r.status))
        .collect()
}

fn retry_at(next: &Next) -> u64 {
    match next {
        Next::Retry { at, .. } => *at,
        other => panic!("not a retry: {other:?}"),
    }
}

#[test]
fn a_temporary_failure_retries_after_a_backoff_doubling_up_to_retry_max() {
    for (attempts_before, delay) in [
        (0, 60),
        (1, 120),
        (2, 240),
        (5, 1920),
        (6, 3600),
        (40, 3600),
    ] {
        let mut state = message(&["a@example.org"]);
        state.attempts = attempts_before;
        let outcomes = relays(&[("p", try_later("451 4.3.0 try later"))]);
        let next = decide_for(&state, &outcomes);
        let at = retry_at(&next);
        assert!(
            (NOW + delay - delay / 10..=NOW + delay).contains(&at),
            "after {} attempts: {at}",
            attempts_before + 1
        );
        assert_eq!(
            next,
            Next::Retry {
                at,
                reason: "451 4.3.0 try later".into(),
                delay_warning: false
            }
        );
        next.apply(&mut state);
        assert_eq!(state.attempts, attempts_before + 1);
        assert_eq!(state.next_attempt, at);
        assert_eq!(state.status, Status::Queued);
        assert_eq!(state.last_reply.as_deref(), Some("451 4.3.0 try later"));
    }
}

#[test]
fn a_relay_that_asked_to_slow_down_is_not_retried_before_its_cool_down_ends() {
    let state = message(&["a@example.org"]);
    let outcomes = relays(&[(
        "p",
        RelayOutcome::TryLater {
            reason: "421 4.7.0 try again later".into(),
            cool_down: Some(NOW + 600),
        },
    )]);
    assert_eq!(retry_at(&decide_for(&state, &outcomes)), NOW + 600);
}

#[test]
fn a_fallback_waiting_for_a_token_may_take_the_message_before_the_backoff() {
    let state = message(&["a@example.org"]);
    let outcomes = relays(&[("p", try_later("451 busy")), ("f", rate_limited(NOW + 20))]);
    let next = decide_for(&state, &outcomes);
    assert_eq!(retry_at(&next), NOW + 20, "{next:?}");
    let mut after = state.clone();
    next.apply(&mut after);
    assert_eq!(
        after.attempts, 1,
        "the profile was tried: an attempt counts"
    );
}

#[test]
fn recipients_refused_for_good_fail_those_refused_for_now_wait_the_others_are_sent() {
    let mut state = message(&["a@example.org", "b@example.org", "c@example.org"]);
    let answer = Err(DeliveryError::Recipients {
        server: "relay:25".into(),
        failures: vec![
            RecipientFailure {
                address: "b@example.org".into(),
                reply: "550 5.1.1 no such user".into(),
                permanent: true,
            },
            RecipientFailure {
                address: "c@example.org".into(),
                reply: "451 4.2.0 mailbox busy".into(),
                permanent: false,
            },
        ],
        accepted: 1,
    });
    let (outcome, accepted) = record(&mut state, &answer);
    assert_eq!(accepted, 1);
    assert_eq!(
        outcome,
        RelayOutcome::Recipients {
            refused: true,
            for_now: Some("451 4.2.0 mailbox busy".into()),
            cool_down: None
        }
    );
    assert_eq!(
        status(&state),
        [
            ("a@example.org".into(), RecipientStatus::Sent),
            ("b@example.org".into(), RecipientStatus::Failed),
            ("c@example.org".into(), RecipientStatus::Pending),
        ]
    );
    assert_eq!(
        state.recipients[2].reply.as_deref(),
        Some("451 4.2.0 mailbox busy")
    );
    let next = decide_for(&state, &[("p".into(), outcome)]);
    assert!(
        matches!(&next, Next::Retry { reason, .. } if reason == "451 4.2.0 mailbox busy"),
        "{next:?}"
    );
    next.apply(&mut state);
    assert_eq!(state.pending_envelope().recipients, ["c@example.org"]);

    // The next attempt takes c: nothing is pending, b is reported refused.
    let (outcome, accepted) = record(&mut state, &Ok("250 2.0.0 queued".into()));
    assert_eq!((outcome.clone(), accepted), (RelayOutcome::Delivered, 1));
    assert!(!state.is_delivered(), "b failed");
    match decide_for(&state, &[("p".into(), outcome)]) {
        Next::Fail { reason, .. } => {
            assert_eq!(reason, "refused: <b@example.org>: 550 5.1.1 no such user")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_recipient_refused_for_good_beside_accepted_ones_fails_the_message_as_a_recipient_fault() {
    let mut state = message(&["a@example.org", "b@example.org"]);
    let answer = Err(DeliveryError::Recipients {
        server: "relay:25".into(),
        failures: vec![RecipientFailure {
            address: "b@example.org".into(),
            reply: "550 5.1.1 no such user".into(),
            permanent: true,
        }],
        accepted: 1,
    });
    let (outcome, accepted) = record(&mut state, &answer);
    assert_eq!(accepted, 1);
    assert_eq!(
        decide_for(&state, &[("p".into(), outcome)]),
        Next::Fail {
            reason: "refused: <b@example.org>: 550 5.1.1 no such user".into(),
            fault: Fault::Recipient
        }
    );
}

#[test]
fn recipients_refused_for_now_without_any_accepted_stay_pending() {
    let mut state = message(&["a@example.org"]);
    let answer = Err(DeliveryError::Recipients {
        server: "relay:25".into(),
        failures: vec![RecipientFailure {
            address: "a@example.org".into(),
            reply: "450 4.2.1 try later".into(),
            permanent: false,
        }],
        accepted: 0,
    });
    let (outcome, accepted) = record(&mut state, &answer);
    assert_eq!(accepted, 0);
    assert_eq!(status(&state)[0].1, RecipientStatus::Pending);
    assert!(matches!(
        decide_for(&state, &[("p".into(), outcome)]),
        Next::Retry { .. }
    ));
}

#[test]
fn a_message_refused_for_good_fails_with_the_relays_fault() {
    let mut state = message(&["a@example.org", "b@example.org"]);
    let answer = Err(DeliveryError::Data {
        server: "relay:25".into(),
        reply: "554 5.6.0 message refused".into(),
        permanent: true,
    });
    let (outcome, accepted) = record(&mut state, &answer);
    assert_eq!(
        (outcome.clone(), accepted),
        (RelayOutcome::Refused(Fault::Permanent), 0)
    );
    assert!(state.pending().next().is_none());
    match decide_for(&state, &[("p".into(), outcome)]) {
        Next::Fail { reason, fault } => {
            assert_eq!(fault, Fault::Permanent);
            assert!(reason.starts_with("refused: <a@example.org>: "), "{reason}");
            assert!(reason.contains("554 5.6.0 message refused"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_recipient_accepted_is_done() {
    let mut state = message(&["a@example.org", "b@example.org"]);
    let (outcome, accepted) = record(&mut state, &Ok("250 2.0.0 ok".into()));
    assert_eq!(accepted, 2);
    assert!(state.is_delivered());
    assert_eq!(decide_for(&state, &[("p".into(), outcome)]), Next::Done);
}

#[test]
fn a_configuration_fault_holds_the_message_with_one_alert() {
    let mut state = message(&["a@example.org"]);
    let outcomes = relays(&[("p", misconfigured("535 5.7.8 bad credentials", false))]);
    let next = decide_for(&state, &outcomes);
    assert_eq!(
        next,
        Next::Hold {
            reason: "535 5.7.8 bad credentials".into(),
            recheck_at: NOW + 3600,
            alert: true,
            notice: true
        }
    );
    next.apply(&mut state);
    assert_eq!(
        (state.status, state.hold, state.next_attempt, state.attempts),
        (Status::Held, Some(Hold::ConfigFault), NOW + 3600, 1)
    );
    assert_eq!(state.reason.as_deref(), Some("535 5.7.8 bad credentials"));
    assert!(state.alerted);
    assert!(!state.is_due(NOW + 3599) && state.is_due(NOW + 3600));
    // Looked at again after retry_max and still refused: held again, without a second alert.
    let again = decide_for(&state, &outcomes);
    assert!(
        matches!(
            again,
            Next::Hold {
                alert: false,
                notice: false,
                ..
            }
        ),
        "{again:?}"
    );
}

#[test]
fn a_refused_oauth2_token_alerts_once_for_the_profile_not_per_message() {
    let state = message(&["a@example.org"]);
    let own = relays(&[("p", misconfigured("refresh token refused", true))]);
    assert!(
        matches!(
            decide_for(&state, &own),
            Next::Hold {
                alert: true,
                notice: false,
                ..
            }
        ),
        "the profile's alert stands for the message's notice"
    );
    // A fallback's refused token does not speak for the message's own profile.
    let fallback = relays(&[
        ("p", misconfigured("535 bad credentials", false)),
        ("f", misconfigured("refresh token refused", true)),
    ]);
    assert!(matches!(
        decide_for(&state, &fallback),
        Next::Hold { notice: true, .. }
    ));
}

#[test]
fn a_misconfigured_profile_is_not_held_while_a_fallback_may_take_the_message() {
    let state = message(&["a@example.org"]);
    let transient = relays(&[
        ("p", misconfigured("535 bad credentials", false)),
        ("f", try_later("451 busy")),
    ]);
    let next = decide_for(&state, &transient);
    assert!(
        matches!(&next, Next::Retry { reason, .. } if reason == "451 busy"),
        "{next:?}"
    );
    let waiting = relays(&[
        ("p", misconfigured("535 bad credentials", false)),
        ("f", rate_limited(NOW + 30)),
    ]);
    let next = decide_for(&state, &waiting);
    assert_eq!(
        next,
        Next::Retry {
            at: NOW + 30,
            reason: "535 bad credentials".into(),
            delay_warning: false
        },
        "tried again when the fallback has a token"
    );
}

#[test]
fn rate_limited_messages_wait_without_an_attempt_one_token_apart() {
    let mut state = message(&["a@example.org"]);
    let outcomes = relays(&[("p", rate_limited(NOW + 60))]);
    let spread = HashMap::from([("p".to_string(), 2)]);
    let next = decide(&Facts {
        state: &state,
        frozen: None,
        relays: &outcomes,
        settings: &settings(),
        now: NOW,
        spread: &spread,
    });
    assert_eq!(
        next,
        Next::Wait {
            until: NOW + 60 + 2 * 60,
            profile: "p".into(),
            why: WaitReason::RateLimit,
            reason: "rate limited: profile p allows 60/hour".into()
        },
        "two messages of this pass wait already: one token (a minute) after each"
    );
    next.apply(&mut state);
    assert_eq!(state.attempts, 0, "no attempt is counted");
    assert_eq!(state.waiting, Some(WaitReason::RateLimit));
    assert_eq!(state.next_attempt, NOW + 180);
}

#[test]
fn a_message_whose_relays_all_wait_leaves_with_the_first_that_can_take_it() {
    let state = message(&["a@example.org"]);
    let outcomes = relays(&[
        ("p", rate_limited(NOW + 300)),
        (
            "f",
            RelayOutcome::NotTried(Wait::CoolDown { until: NOW + 100 }),
        ),
    ]);
    assert_eq!(
        decide_for(&state, &outcomes),
        Next::Wait {
            until: NOW + 100,
            profile: "f".into(),
            why: WaitReason::CoolDown,
            reason: "relay of profile f asked to slow down".into()
        }
    );
}

#[test]
fn a_frozen_profile_keeps_its_mail_waiting_and_an_administrators_hold_stays() {
    let mut state = message(&["a@example.org"]);
    let frozen = |state: &MessageState| {
        decide(&Facts {
            state,
            frozen: Some("4 messages were submitted within 1h"),
            relays: &[],
            settings: &settings(),
            now: NOW,
            spread: &HashMap::new(),
        })
    };
    let next = frozen(&state);
    assert_eq!(
        next,
        Next::Frozen {
            until: NOW + 3600,
            reason: "delivery for profile p is frozen by the spew brake: 4 messages were submitted within 1h".into()
        }
    );
    next.apply(&mut state);
    assert_eq!(
        (state.waiting, state.attempts, state.status),
        (Some(WaitReason::Brake), 0, Status::Queued)
    );
    let mut held = message(&["a@example.org"]);
    held.hold_by_administrator();
    let next = frozen(&held);
    next.apply(&mut held);
    assert_eq!(
        (held.status, held.hold, held.next_attempt),
        (Status::Held, Some(Hold::Administrator), NEVER)
    );
}

#[test]
fn a_message_still_undelivered_at_max_age_fails_with_the_last_reply() {
    let mut state = message(&["a@example.org", "b@example.org"]);
    state.mark("b@example.org", RecipientStatus::Sent, "250 ok");
    state.created = NOW - 5 * 86400;
    let next = decide_for(&state, &relays(&[("p", try_later("451 4.3.0 busy"))]));
    assert_eq!(
        next,
        Next::Expire {
            reason: "gave up after 5d (max_age): 451 4.3.0 busy".into(),
            last_reply: "451 4.3.0 busy".into()
        }
    );
    next.apply(&mut state);
    assert_eq!(
        status(&state),
        [
            ("a@example.org".into(), RecipientStatus::Failed),
            ("b@example.org".into(), RecipientStatus::Sent),
        ]
    );
    assert_eq!(
        state.recipients[0].reply.as_deref(),
        Some("gave up after 5d (max_age): 451 4.3.0 busy")
    );
    assert_eq!(state.last_reply.as_deref(), Some("451 4.3.0 busy"));
}

#[test]
fn the_delay_warning_is_given_once() {
    let mut state = message(&["a@example.org"]);
    state.created = NOW - 4 * 3600 + 1;
    let outcomes = relays(&[("p", try_later("451 busy"))]);
    assert!(matches!(
        decide_for(&state, &outcomes),
        Next::Retry {
            delay_warning: false,
            ..
        }
    ));
    state.created = NOW - 4 * 3600;
    let next = decide_for(&state, &outcomes);
    assert!(matches!(
        next,
        Next::Retry {
            delay_warning: true,
            ..
        }
    ));
    next.apply(&mut state);
    assert!(state.warned);
    assert!(matches!(
        decide_for(&state, &outcomes),
        Next::Retry {
            delay_warning: false,
            ..
        }
    ));
}

#[test]
fn a_chain_with_no_relay_to_try_is_retried_later() {
    let state = message(&["a@example.org"]);
    let next = decide_for(&state, &[]);
    assert!(
        matches!(&next, Next::Retry { reason, .. } if reason == "no relay could be tried"),
        "{next:?}"
    );
}

#[test]
fn a_session_refused_for_the_profiles_sake_is_misconfigured_else_tried_later() {
    assert_eq!(
        RelayOutcome::unavailable(Fault::Auth, "535".into(), true),
        misconfigured("535", true)
    );
    assert_eq!(
        RelayOutcome::unavailable(Fault::Config, "no STARTTLS".into(), false),
        misconfigured("no STARTTLS", false)
    );
    assert_eq!(
        RelayOutcome::unavailable(Fault::Transient, "connection refused".into(), false),
        try_later("connection refused")
    );
}

/// A mistake in the profile's setup (implicit TLS to a STARTTLS port or the other way round, a
/// certificate the profile cannot verify, a relay host that does not exist) holds the message
/// with the fix doctor gives, as a refused login does: retrying for days cannot help. A relay
/// that cannot be reached, a resolver that does not answer and an expired certificate pass by
/// themselves: tried again.
#[test]
fn setup_mistakes_are_held_with_the_fix_and_network_failures_are_tried_again() {
    use crate::config::{Profile, TlsMode};
    use crate::relay::policy::SetupFault;
    let mut profile: Profile = toml::from_str(
        "preset = \"institutional\"\nhost = \"relay.test\"\nport = 587\ntls = \"tls\"\n",
    )
    .unwrap();
    let mut rows: Vec<(DeliveryError, Option<String>)> = Vec::new();
    for (fault, tls, port) in [
        (SetupFault::TlsOnPlainPort, TlsMode::Tls, 587),
        (SetupFault::PlainOnTlsPort, TlsMode::Starttls, 465),
        (SetupFault::UntrustedCertificate, TlsMode::Starttls, 587),
        (SetupFault::WrongName, TlsMode::Tls, 465),
        (SetupFault::NoSuchHost, TlsMode::Starttls, 587),
    ] {
        (profile.tls, profile.port) = (tls, port);
        let fix = fault.fix("p");
        let error = DeliveryError::Mismatch {
            server: format!("relay.test:{port}"),
            problem: fault.problem(&profile),
            detail: "what the relay did".into(),
            fix: fix.clone(),
        };
        rows.push((error, Some(fix)));
    }
    let connect = |reason: &str| DeliveryError::Connect {
        server: "relay.test:587".into(),
        reason: reason.into(),
    };
    rows.extend([
        (connect("Connection refused (os error 111)"), None),
        (connect("failed to lookup address information: Temporary failure in name resolution"), None),
        (
            DeliveryError::Network {
                server: "relay.test:587".into(),
                stage: "greeting",
                reason: "timed out waiting for the relay".into(),
            },
            None,
        ),
        (
            DeliveryError::Tls {
                server: "relay.test:465".into(),
                reason: "invalid peer certificate: certificate expired (the relay's certificate has expired: its administrator must renew it)".into(),
            },
            None,
        ),
    ]);
    for (error, fix) in rows {
        let mut state = message(&["a@example.org"]);
        // Opening the session failed, or the transaction's failure was recorded: the same.
        let opened = RelayOutcome::unavailable(error.fault(), error.to_string(), false);
        let (recorded, _) = record(&mut state, &Err(error));
        assert_eq!(opened, recorded);
        let next = decide_for(&state, &relays(&[("p", opened)]));
        match (&fix, &next) {
            (
                Some(fix),
                Next::Hold {
                    reason,
                    alert: true,
                    notice: true,
                    ..
                },
            ) => {
                assert!(reason.ends_with(fix.as_str()), "{reason}");
                next.apply(&mut state);
                assert_eq!(
                    (state.status, state.hold, state.alerted),
                    (Status::Held, Some(Hold::ConfigFault), true)
                );
            }
            (None, Next::Retry { .. }) => {}
            _ => panic!("{fix:?}: {next:?}"),
        }
    }
}
