//! What becomes of a message after an attempt, decided from its state, what each relay of its
//! failover chain did with it, and the queue settings: delivered, failed, held, tried again
//! later, or waiting without an attempt counted. Nothing here touches the spool, the network or
//! the clock, so the rules behind "never lose a message" are unit-tested as a table below.
//! The runner talks to the relays and carries the decision out.

use std::collections::HashMap;

use super::ratelimit::Wait;
use super::schedule::backoff;
use super::state::{Hold, MessageState, RecipientStatus, Status, WaitReason};
use crate::config::{QueueSettings, Span};
use crate::relay::{DeliveryError, Fault};

/// What one relay of a message's chain did with it in this attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayOutcome {
    /// Not tried: it waits for a token of its `rate_limit` or for the end of a cool-down.
    NotTried(Wait),
    /// It accepted every recipient still pending.
    Delivered,
    /// It failed or refused for now, for the whole message (a 4xx reply, a network error, a
    /// timeout): try again after the backoff.
    TryLater {
        reason: String,
        /// Its throttling reply started a cool-down that ends then: not tried before.
        cool_down: Option<u64>,
    },
    /// It refused some recipients (the state records which), the others it accepted.
    Recipients {
        /// Some were refused for good: they failed.
        refused: bool,
        /// Some were refused for now (this is the last such reply): they stay pending.
        for_now: Option<String>,
        /// Its throttling reply started a cool-down that ends then: not tried before.
        cool_down: Option<u64>,
    },
    /// It refused the message for good (its sender, content or size, or an address): every
    /// recipient still pending failed.
    Refused(Fault),
    /// It refused the profile's configuration or login: the profile needs the admin, and the
    /// relay is not tried again before that is fixed.
    Misconfigured {
        reason: String,
        /// The profile's OAuth2 refresh token was refused: the profile's one alert stands for
        /// the notice about each held message.
        token_refused: bool,
    },
}

impl RelayOutcome {
    /// What a failure to open a session means. A session is never refused for one message's
    /// sake, so whatever is not the profile's fault is tried again later.
    pub fn unavailable(fault: Fault, reason: String, token_refused: bool) -> Self {
        match fault {
            Fault::Config | Fault::Auth => RelayOutcome::Misconfigured {
                reason,
                token_refused,
            },
            _ => RelayOutcome::TryLater {
                reason,
                cool_down: None,
            },
        }
    }

    /// The relay's throttling reply started a cool-down that ends at `until`.
    pub fn cooling_down(self, until: u64) -> Self {
        match self {
            RelayOutcome::TryLater { reason, .. } => RelayOutcome::TryLater {
                reason,
                cool_down: Some(until),
            },
            RelayOutcome::Recipients {
                refused, for_now, ..
            } => RelayOutcome::Recipients {
                refused,
                for_now,
                cool_down: Some(until),
            },
            other => other,
        }
    }

    /// The reply that asks to try again later, if there is one.
    fn for_now(&self) -> Option<&str> {
        match self {
            RelayOutcome::TryLater { reason, .. } => Some(reason),
            RelayOutcome::Recipients { for_now, .. } => for_now.as_deref(),
            _ => None,
        }
    }

    /// When this relay could take the message again, for a message retried after `backoff_at`;
    /// `None` for a relay that needs the admin first.
    fn ready_at(&self, backoff_at: u64) -> Option<u64> {
        match self {
            RelayOutcome::NotTried(wait) => Some(wait.until()),
            RelayOutcome::TryLater { cool_down, .. }
            | RelayOutcome::Recipients { cool_down, .. } => {
                Some(backoff_at.max(cool_down.unwrap_or(0)))
            }
            RelayOutcome::Delivered | RelayOutcome::Refused(_) => Some(backoff_at),
            RelayOutcome::Misconfigured { .. } => None,
        }
    }
}

/// Records a relay's answer to one mail transaction in the recipients' statuses, and says what
/// it means. Returns with it how many recipients the relay accepted.
pub fn record(
    state: &mut MessageState,
    result: &Result<String, DeliveryError>,
) -> (RelayOutcome, usize) {
    match result {
        Ok(reply) => {
            let accepted = state.pending().count();
            state.mark_pending(RecipientStatus::Sent, reply);
            (RelayOutcome::Delivered, accepted)
        }
        Err(DeliveryError::Recipients {
            failures, accepted, ..
        }) => {
            let mut refused = false;
            let mut for_now = None;
            for f in failures {
                if f.permanent {
                    refused = true;
                    state.mark(&f.address, RecipientStatus::Failed, &f.reply);
                } else {
                    for_now = Some(f.reply.clone());
                    for r in state
                        .recipients
                        .iter_mut()
                        .filter(|r| r.address == f.address)
                    {
                        r.reply = Some(f.reply.clone());
                    }
                }
            }
            // The relay took the message for every recipient it did not refuse.
            let mut sent = 0;
            if *accepted > 0 {
                let took: Vec<String> = state
                    .pending()
                    .filter(|r| !failures.iter().any(|f| f.address == r.address))
                    .map(|r| r.address.clone())
                    .collect();
                for address in &took {
                    state.mark(address, RecipientStatus::Sent, "accepted");
                }
                sent = took.len();
            }
            let outcome = RelayOutcome::Recipients {
                refused,
                for_now,
                cool_down: None,
            };
            (outcome, sent)
        }
        Err(e) => {
            let reason = e.to_string();
            let outcome = match e.fault() {
                Fault::Transient => RelayOutcome::TryLater {
                    reason,
                    cool_down: None,
                },
                Fault::Auth | Fault::Config => RelayOutcome::Misconfigured {
                    reason,
                    token_refused: false,
                },
                fault @ (Fault::Permanent | Fault::Message | Fault::Recipient) => {
                    state.mark_pending(RecipientStatus::Failed, &reason);
                    RelayOutcome::Refused(fault)
                }
            };
            (outcome, 0)
        }
    }
}

/// Everything the decision about one message rests on.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The message's state, with what this attempt's relays said about its recipients.
    pub state: &'a MessageState,
    /// Why the spew brake froze the message's profile; then no relay was tried.
    pub frozen: Option<&'a str>,
    /// What each relay of the chain did, in the chain's order (the profile, then its
    /// `fallback` list); the chain ends at the relay that took the last pending recipient.
    pub relays: &'a [(String, RelayOutcome)],
    pub settings: &'a QueueSettings,
    /// The current Unix time.
    pub now: u64,
    /// How many messages this pass already made wait for each profile's rate limit: the next
    /// waits one token longer than they, so that they do not all return at once.
    pub spread: &'a HashMap<String, u64>,
}

/// What happens to a message next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Every recipient was accepted: the message leaves the queue.
    Done,
    /// Nothing is pending but some recipients were refused for good: to the failed area, with a
    /// notice.
    Fail { reason: String, fault: Fault },
    /// Still undelivered at `max_age`: the pending recipients fail, to the failed area with a
    /// notice.
    Expire {
        /// Why, with the age.
        reason: String,
        /// The last failure.
        last_reply: String,
    },
    /// Held for a configuration fault until it is fixed, looked at again at `recheck_at`.
    Hold {
        reason: String,
        recheck_at: u64,
        /// First held: the admin hears of it now (once per message).
        alert: bool,
        /// With the alert, a notice about the message (unless the profile's own alert covers
        /// it).
        notice: bool,
    },
    /// An attempt failed for now: tried again at `at`.
    Retry {
        at: u64,
        reason: String,
        /// The message is older than `delay_warning` and no warning was sent yet.
        delay_warning: bool,
    },
    /// No relay of its chain could take it now (rate limit, cool-down): it waits until `until`
    /// without an attempt counted.
    Wait {
        until: u64,
        /// The relay that will take it first.
        profile: String,
        why: WaitReason,
        reason: String,
    },
    /// Its profile is frozen by the spew brake: it waits for `queue release --all`, looked at
    /// again at `until`, without an attempt counted.
    Frozen { until: u64, reason: String },
}

/// Decides what happens to a message after an attempt.
pub fn decide(facts: &Facts<'_>) -> Next {
    let Facts {
        state,
        relays,
        now,
        settings,
        ..
    } = *facts;
    if let Some(freeze) = facts.frozen {
        // Looked at again after `retry_max` (`queue release --all` makes it due at once); an
        // administrator's hold stays one.
        let until = match state.hold {
            Some(Hold::Administrator) => state.next_attempt,
            _ => now + settings.retry_max.0,
        };
        return Next::Frozen {
            until,
            reason: format!(
                "delivery for profile {} is frozen by the spew brake: {freeze}",
                state.profile
            ),
        };
    }
    if state.pending().next().is_none() {
        return finished(state, relays);
    }
    if relays
        .iter()
        .all(|(_, o)| matches!(o, RelayOutcome::NotTried(_)))
        && let Some(wait) = wait(facts)
    {
        return wait;
    }
    let attempts = state.attempts + 1;
    let age = now.saturating_sub(state.created);
    // A relay of the chain that waits for a token or a cool-down may take it sooner than the
    // backoff; one cooling down is not tried before its cool-down ends.
    let backoff_at = now + backoff(settings, attempts);
    let at = relays
        .iter()
        .filter_map(|(_, o)| o.ready_at(backoff_at))
        .min()
        .unwrap_or(backoff_at);
    let waits = relays
        .iter()
        .any(|(_, o)| matches!(o, RelayOutcome::NotTried(_)));
    let for_now = relays.iter().rev().find_map(|(_, o)| o.for_now());
    let misconfigured = relays.iter().rev().find_map(|(_, o)| match o {
        RelayOutcome::Misconfigured { reason, .. } => Some(reason.as_str()),
        _ => None,
    });
    if let (None, Some(reason), false) = (for_now, misconfigured, waits) {
        let alert = !state.alerted;
        let token_refused = relays.iter().any(|(name, o)| {
            *name == state.profile
                && matches!(
                    o,
                    RelayOutcome::Misconfigured {
                        token_refused: true,
                        ..
                    }
                )
        });
        return Next::Hold {
            reason: reason.to_string(),
            recheck_at: now + settings.retry_max.0,
            alert,
            notice: alert && !token_refused,
        };
    }
    let reason = for_now
        .or(misconfigured)
        .unwrap_or("no relay could be tried")
        .to_string();
    if age >= settings.max_age.0 {
        return Next::Expire {
            reason: format!("gave up after {} (max_age): {reason}", Span(age)),
            last_reply: reason,
        };
    }
    Next::Retry {
        at,
        delay_warning: age >= settings.delay_warning.0 && !state.warned,
        reason,
    }
}

/// No recipient is pending: done, or failed for those refused.
fn finished(state: &MessageState, relays: &[(String, RelayOutcome)]) -> Next {
    let refused: Vec<String> = state
        .recipients
        .iter()
        .filter(|r| r.status == RecipientStatus::Failed)
        .map(|r| format!("<{}>: {}", r.address, r.reply.as_deref().unwrap_or("")))
        .collect();
    if refused.is_empty() {
        return Next::Done;
    }
    let fault = relays
        .iter()
        .rev()
        .find_map(|(_, o)| match o {
            RelayOutcome::Recipients { refused: true, .. } => Some(Fault::Recipient),
            RelayOutcome::Refused(fault) => Some(*fault),
            _ => None,
        })
        .unwrap_or(Fault::Permanent);
    Next::Fail {
        reason: format!("refused: {}", refused.join("; ")),
        fault,
    }
}

/// No relay of the chain was tried: the message waits for the earliest token or end of a
/// cool-down, messages waiting for the same rate limit one token apart. `None` when the chain
/// had no relay.
fn wait(facts: &Facts<'_>) -> Option<Next> {
    let (until, name, wait) = facts
        .relays
        .iter()
        .filter_map(|(name, o)| match o {
            RelayOutcome::NotTried(w @ Wait::RateLimit { until, rate }) => Some((
                until + facts.spread.get(name).copied().unwrap_or(0) * rate.interval(),
                name,
                *w,
            )),
            RelayOutcome::NotTried(w) => Some((w.until(), name, *w)),
            _ => None,
        })
        .min_by_key(|(until, _, _)| *until)?;
    let reason = match wait {
        Wait::RateLimit { rate, .. } => format!("rate limited: profile {name} allows {rate}"),
        Wait::CoolDown { .. } => format!("relay of profile {name} asked to slow down"),
        Wait::RelayDown { .. } => format!(
            "relay of profile {name} failed to connect or to answer a moment ago; queued without trying it"
        ),
    };
    Some(Next::Wait {
        until,
        profile: name.clone(),
        why: wait.reason(),
        reason,
    })
}

impl Next {
    /// Brings the message's state up to date with the decision, before the runner saves it,
    /// finishes it or moves it to the failed area.
    pub fn apply(&self, state: &mut MessageState) {
        match self {
            Next::Done => {}
            Next::Fail { .. } => state.waiting = None,
            Next::Expire { reason, last_reply } => {
                state.waiting = None;
                state.attempts += 1;
                state.last_reply = Some(last_reply.clone());
                state.mark_pending(RecipientStatus::Failed, reason);
            }
            Next::Hold {
                reason,
                recheck_at,
                alert,
                ..
            } => {
                state.waiting = None;
                state.attempts += 1;
                state.status = Status::Held;
                state.hold = Some(Hold::ConfigFault);
                state.reason = Some(reason.clone());
                state.last_reply = Some(reason.clone());
                state.next_attempt = *recheck_at;
                state.alerted |= alert;
            }
            Next::Retry {
                at,
                reason,
                delay_warning,
            } => {
                state.waiting = None;
                state.attempts += 1;
                state.last_reply = Some(reason.clone());
                state.status = Status::Queued;
                state.hold = None;
                state.next_attempt = *at;
                state.warned |= delay_warning;
            }
            Next::Wait { until, why, .. } => {
                state.status = Status::Queued;
                state.hold = None;
                state.waiting = Some(*why);
                state.next_attempt = *until;
            }
            Next::Frozen { until, .. } => {
                state.waiting = Some(WaitReason::Brake);
                state.next_attempt = *until;
            }
        }
    }
}

#[cfg(test)]
mod tests;
