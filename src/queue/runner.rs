//! The queue runner: takes due messages, delivers them over one session per relay profile
//! (many messages per login), fails over to the profile's `fallback` relays on temporary failure,
//! and records each outcome in the message's state. What happens to a message after an attempt
//! is [`super::decision`]'s to say; the runner talks to the relays ([`Relays`]), keeps the
//! limits, writes the state and queues the notices.
//!
//! Delivery is at least once: the relay's acceptance is recorded (the message finished, or the
//! recipients it accepted saved) right after its reply to the final dot, before anything else
//! (the log line, the next relay of the chain, the next message). A process that dies before
//! that sends the message again on the next run. Nothing is ever lost.
//!
//! Before a message goes to a relay, the runner asks the [`Limiter`] for it: mail over a
//! profile's `rate_limit`, for a relay cooling down after throttling replies, or for a profile
//! frozen by the spew brake waits in the queue without an attempt being counted.

use std::collections::{HashMap, HashSet};

use super::decision::{self, Facts, Next, RelayOutcome};
use super::id::QueueId;
use super::notice::{self, Kind};
use super::ratelimit::{Grant, Limiter, Submitted, Wait, throttling_reply};
use super::relays::{RelaySession, Relays, Smtp};
use super::schedule::now;
use super::spool::{Area, Locked, Spool, SpoolError};
use super::state::{Status, WaitReason};
use crate::config::LoadedConfig;
use crate::messages;
use crate::oauth::OAuthError;
use crate::relay::{DeliveryError, Fault};
use crate::transcript::Transcript;

/// Which messages a pass takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Select {
    /// Queued messages whose next attempt is due.
    Due,
    /// Every queued (not held) message now (`queue flush`, `sendmail -q`).
    AllQueued,
    /// These messages, whatever their schedule.
    Ids(Vec<QueueId>),
}

/// What happened to one message in an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every recipient was accepted.
    Delivered,
    /// Some recipients wait for a later attempt.
    Deferred(String),
    /// Held until the relay configuration is fixed.
    Held(String),
    /// Given up: moved to the failed area.
    Failed { reason: String, fault: Fault },
    /// Another process is working on it.
    Busy,
}

/// Counts of one pass.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub delivered: usize,
    pub deferred: usize,
    pub held: usize,
    pub failed: usize,
    pub corrupt: usize,
}

/// Why no session to a profile's relay could be had.
#[derive(Debug, Clone)]
struct SessionFailure {
    fault: Fault,
    reason: String,
    /// The relay's throttling reply, which starts a cool-down.
    throttling: Option<String>,
}

/// A relay the runner may send a message through now: its session, the token taken for the
/// message, and the log line of the attempt.
struct Ticket<S> {
    session: S,
    grant: Option<Grant>,
    log: crate::log::Attempt,
}

/// Delivers queued messages.
pub struct Runner<'a, R: Relays = Smtp<'a>> {
    spool: &'a Spool,
    config: &'a LoadedConfig,
    transcript: &'a Transcript,
    relays: R,
    /// Open sessions, by profile.
    sessions: HashMap<String, R::Session>,
    /// Profiles that could not be reached in this pass, with why: not tried again until the next.
    unreachable: HashMap<String, SessionFailure>,
    /// Notices queued by this runner, sent before it finishes.
    notices: Vec<QueueId>,
    /// Rate limits, cool-downs and the spew brake, shared with every other process.
    limiter: Limiter<'a>,
    /// Profiles whose relay asked to slow down in this pass, with the end of the cool-down:
    /// nothing more goes to them in this pass.
    throttled: HashMap<String, u64>,
    /// How many messages this pass made wait for each profile's rate limit, so that they are
    /// scheduled one token apart rather than all for the same moment.
    spread: HashMap<String, u64>,
    /// Profiles whose OAuth2 refresh token was refused: one alert for the profile replaces the
    /// notice about each held message.
    revoked: HashSet<String>,
    /// Profiles whose relay accepted a message in this pass, as recorded for notices.
    delivered: HashSet<String>,
}

impl<'a> Runner<'a> {
    /// A runner that delivers over SMTP.
    pub fn new(spool: &'a Spool, config: &'a LoadedConfig, transcript: &'a Transcript) -> Self {
        Runner::with_relays(
            spool,
            config,
            transcript,
            Smtp::new(spool.root(), transcript),
        )
    }
}

impl<'a, R: Relays> Runner<'a, R> {
    /// A runner that delivers through `relays`.
    pub fn with_relays(
        spool: &'a Spool,
        config: &'a LoadedConfig,
        transcript: &'a Transcript,
        relays: R,
    ) -> Self {
        Runner {
            spool,
            config,
            transcript,
            relays,
            sessions: HashMap::new(),
            unreachable: HashMap::new(),
            notices: Vec::new(),
            limiter: Limiter::new(spool),
            throttled: HashMap::new(),
            spread: HashMap::new(),
            revoked: HashSet::new(),
            delivered: HashSet::new(),
        }
    }

    /// One pass over the queue. Notices queued during the pass are sent in the same pass.
    pub fn run(&mut self, select: &Select) -> Result<Summary, SpoolError> {
        let mut summary = Summary::default();
        self.spool.sweep();
        let swept = self.spool.sweep_corrupt();
        if swept > 0 {
            self.notices
                .extend(notice::corrupt_swept(self.spool, self.config, swept)?);
        }
        for id in self.spool.ids(Area::Queue)? {
            if let Select::Ids(list) = select
                && !list.contains(&id)
            {
                continue;
            }
            self.try_one(&id, select, &mut summary)?;
        }
        self.send_notices(&mut summary)?;
        Ok(summary)
    }

    /// Delivers the notices this runner queued (and notices about those, which are never made).
    pub fn send_notices(&mut self, summary: &mut Summary) -> Result<(), SpoolError> {
        let ids = std::mem::take(&mut self.notices);
        let select = Select::Ids(ids.clone());
        for id in ids {
            self.try_one(&id, &select, summary)?;
        }
        Ok(())
    }

    fn try_one(
        &mut self,
        id: &QueueId,
        select: &Select,
        summary: &mut Summary,
    ) -> Result<(), SpoolError> {
        let locked = match self.spool.lock(id) {
            Ok(Some(l)) => l,
            Ok(None) => return Ok(()),
            Err(e @ SpoolError::Corrupt { .. }) => {
                messages::alert(&e.to_string());
                summary.corrupt += 1;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if locked.state.unprepared.is_some() {
            // Not a message for a relay yet: the submit layer prepares held submissions.
            return Ok(());
        }
        let due = match select {
            Select::Due => locked.state.is_due(now()),
            Select::AllQueued => locked.state.status == Status::Queued,
            Select::Ids(_) => true,
        };
        if !due {
            return Ok(());
        }
        match self.attempt(locked)? {
            Outcome::Delivered => summary.delivered += 1,
            Outcome::Deferred(_) => summary.deferred += 1,
            Outcome::Held(_) => summary.held += 1,
            Outcome::Failed { .. } => summary.failed += 1,
            Outcome::Busy => {}
        }
        Ok(())
    }

    /// Ends every open session.
    pub fn close(self) {
        for (_, session) in self.sessions {
            session.quit();
        }
    }

    /// One attempt at one locked message: its profile, then the fallbacks, until one takes it.
    /// A message whose profile is frozen, or whose every relay waits for a token or a
    /// cool-down, is deferred without an attempt being counted.
    pub fn attempt(&mut self, mut locked: Locked<'_>) -> Result<Outcome, SpoolError> {
        let frozen = match locked.state.notice {
            true => None,
            false => self.brake(&mut locked, now())?,
        };
        let mut relays = Vec::new();
        if frozen.is_none() {
            let head = locked.head()?;
            for name in self.chain(&locked.state.profile) {
                if locked.state.pending().next().is_none() {
                    break;
                }
                let mut ticket = match self.ticket(&name, &locked, &head)? {
                    Ok(ticket) => ticket,
                    Err(outcome) => {
                        relays.push((name, outcome));
                        continue;
                    }
                };
                let envelope = locked.state.pending_envelope();
                let mut message = locked.open_message()?;
                let (size, eight_bit) = (locked.state.size, locked.state.eight_bit);
                let result = ticket
                    .session
                    .send(&envelope, &mut message, size, eight_bit);
                let (outcome, accepted) = decision::record(&mut locked.state, &result);
                // At least once: what the relay accepted is on disk before anything else
                // happens. The rename that finishes a delivered message is its record.
                if locked.state.is_delivered() {
                    let id = locked.id.clone();
                    locked.finish()?;
                    self.settle(&id, &name, ticket, &result, outcome)?;
                    return Ok(Outcome::Delivered);
                }
                if accepted > 0 {
                    locked.save()?;
                }
                let outcome = self.settle(&locked.id, &name, ticket, &result, outcome)?;
                relays.push((name, outcome));
            }
        }
        let next = decision::decide(&Facts {
            state: &locked.state,
            frozen: frozen.as_deref(),
            relays: &relays,
            settings: &self.config.queue,
            now: now(),
            spread: &self.spread,
        });
        self.carry_out(locked, next)
    }

    /// The message's profile, then its fallbacks.
    fn chain(&self, profile: &str) -> Vec<String> {
        let mut chain = vec![profile.to_string()];
        if let Some(p) = self.config.profile(profile) {
            chain.extend(p.fallback.iter().cloned());
        }
        chain
    }

    /// What sending `locked` through profile `name` needs: no cool-down, a token of its rate
    /// limit, a session. When one is missing, what that means for the message.
    fn ticket(
        &mut self,
        name: &str,
        locked: &Locked<'_>,
        head: &[u8],
    ) -> Result<Result<Ticket<R::Session>, RelayOutcome>, SpoolError> {
        if let Some(&until) = self.throttled.get(name) {
            return Ok(Err(RelayOutcome::NotTried(Wait::CoolDown { until })));
        }
        let profile = self.config.profile(name);
        let grant = match profile {
            Some(p) => match self.limiter.acquire(name, p, now(), locked.state.notice)? {
                Ok(grant) => Some(grant),
                Err(wait) => return Ok(Err(RelayOutcome::NotTried(wait))),
            },
            None => None,
        };
        let log = crate::log::Attempt::start(
            Some(&locked.id),
            name,
            profile
                .map(|p| format!("{}:{}", p.host, p.port))
                .unwrap_or_default(),
            locked.state.pending().count(),
            head,
            locked.state.size,
            self.transcript.is_enabled(),
        );
        match self.session(name) {
            Ok(session) => Ok(Ok(Ticket {
                session,
                grant,
                log,
            })),
            Err(failure) => {
                log.failed(&failure.reason);
                if let (Some(p), Some(g)) = (profile, grant)
                    && g.token
                {
                    self.limiter.give_back(name, p)?;
                }
                let outcome = match failure.throttling {
                    Some(reply) => RelayOutcome::TryLater {
                        reason: failure.reason,
                        cool_down: Some(self.throttle(name, &reply)?),
                    },
                    None => RelayOutcome::unavailable(
                        failure.fault,
                        failure.reason,
                        self.revoked.contains(name),
                    ),
                };
                Ok(Err(outcome))
            }
        }
    }

    /// What follows a transaction once its result is recorded: the log line, the limits, and
    /// whether the session carries the next message. Returns the relay's outcome, with the
    /// cool-down its throttling reply started.
    fn settle(
        &mut self,
        id: &QueueId,
        name: &str,
        ticket: Ticket<R::Session>,
        result: &Result<String, DeliveryError>,
        outcome: RelayOutcome,
    ) -> Result<RelayOutcome, SpoolError> {
        let Ticket {
            session,
            grant,
            log,
        } = ticket;
        match result {
            Ok(reply) => {
                log.delivered(reply);
                self.transcript
                    .note(&format!("{id}: delivered via {name}: {reply}"));
                // Recorded once a pass (and at once when it ends a cool-down): which profiles
                // work is what notices are routed by, to the minute.
                if grant.is_some_and(|g| g.cooling) || self.delivered.insert(name.to_string()) {
                    self.limiter.update(name, |l| l.succeeded(now()))?;
                }
            }
            Err(e) => log.failed(&e.to_string()),
        }
        let keep = match result {
            Ok(_) | Err(DeliveryError::Recipients { .. }) => true,
            Err(e) => match e.fault() {
                Fault::Auth | Fault::Config => {
                    let failure = SessionFailure {
                        fault: e.fault(),
                        reason: e.to_string(),
                        throttling: None,
                    };
                    self.unreachable.insert(name.to_string(), failure);
                    false
                }
                _ => session.is_usable(),
            },
        };
        match result.as_ref().err().and_then(throttling_reply) {
            // Stop talking to a relay that asked us to slow down.
            Some(reply) => {
                session.quit();
                let until = self.throttle(name, reply)?;
                Ok(outcome.cooling_down(until))
            }
            None => {
                if keep {
                    self.sessions.insert(name.to_string(), session);
                }
                Ok(outcome)
            }
        }
    }

    /// Counts a message's submission for the spew brake (once), engages the brake and queues
    /// its alert when the submission exceeds it. Returns why its profile is frozen, if it is.
    fn brake(&mut self, locked: &mut Locked<'_>, now: u64) -> Result<Option<String>, SpoolError> {
        let name = locked.state.profile.clone();
        let Some(profile) = self.config.profile(&name) else {
            return Ok(None);
        };
        if !locked.state.brake_counted {
            // Only the maildrop import records a submitter's uid in the state.
            let through_maildrop = locked.state.uid.is_some_and(|uid| uid != 0);
            let uid = locked.state.uid.or_else(|| locked.file_owner());
            locked.state.uid = uid;
            locked.state.brake_counted = true;
            let caller = locked
                .state
                .caller
                .clone()
                .or_else(|| uid.map(|uid| format!("local user {uid}")));
            let submission = Submitted {
                created: locked.state.created,
                caller,
                through_maildrop,
            };
            if let Some(engaged) = self.limiter.count(&name, profile, submission, now)? {
                messages::alert(&format!(
                    "delivery for profile {name} frozen by the spew brake: {}; review with `relayctl queue list`, then `relayctl queue release --all`",
                    engaged.reason
                ));
                let alert = notice::brake(self.spool, self.config, &name, &engaged.reason)?;
                self.notices.extend(alert);
            }
        }
        Ok(self.limiter.frozen(&name).map(|freeze| freeze.reason))
    }

    /// Starts or lengthens the cool-down of a relay that answered with throttling, and stops
    /// sending to it in this pass. Returns the end of the cool-down.
    fn throttle(&mut self, name: &str, reply: &str) -> Result<u64, SpoolError> {
        let settings = &self.config.queue;
        let (initial, max) = (settings.retry_initial.0, settings.retry_max.0);
        let until = self
            .limiter
            .update(name, |l| l.throttle(reply, initial, max, now()))?;
        self.transcript.note(&format!(
            "{name}: the relay asks to slow down ({reply}); nothing more goes to it for {}s",
            until.saturating_sub(now())
        ));
        self.throttled.insert(name.to_string(), until);
        Ok(until)
    }

    /// Carries out the decision about a message: its state saved, finished or failed, and the
    /// admin told what needs telling.
    fn carry_out(&mut self, mut locked: Locked<'_>, next: Next) -> Result<Outcome, SpoolError> {
        next.apply(&mut locked.state);
        match next {
            Next::Done => {
                locked.finish()?;
                Ok(Outcome::Delivered)
            }
            Next::Fail { reason, fault } => {
                self.notify(&locked, Kind::Failed, &reason)?;
                locked.fail(&reason)?;
                Ok(Outcome::Failed { reason, fault })
            }
            Next::Expire { reason, .. } => {
                self.notify(&locked, Kind::Failed, &reason)?;
                locked.fail(&reason)?;
                Ok(Outcome::Failed {
                    reason,
                    fault: Fault::Transient,
                })
            }
            Next::Hold {
                reason,
                alert,
                notice,
                ..
            } => {
                // A notice held with the mail it is about says nothing new.
                if alert && !locked.state.notice {
                    messages::alert(&format!(
                        "message {} (profile {}) held until the relay configuration is fixed: {reason}",
                        locked.id, locked.state.profile
                    ));
                }
                if notice {
                    self.notify(&locked, Kind::Held, &reason)?;
                }
                locked.save()?;
                Ok(Outcome::Held(reason))
            }
            Next::Retry {
                reason,
                delay_warning,
                ..
            } => {
                if delay_warning {
                    self.notify(&locked, Kind::Delayed, &reason)?;
                }
                locked.save()?;
                Ok(Outcome::Deferred(reason))
            }
            Next::Wait {
                until,
                profile,
                why,
                reason,
            } => {
                if why == WaitReason::RateLimit {
                    *self.spread.entry(profile).or_default() += 1;
                }
                locked.save()?;
                self.transcript.note(&format!(
                    "{}: {reason}; waits {}s",
                    locked.id,
                    until.saturating_sub(now())
                ));
                Ok(Outcome::Deferred(reason))
            }
            Next::Frozen { reason, .. } => {
                locked.save()?;
                Ok(Outcome::Deferred(reason))
            }
        }
    }

    fn notify(&mut self, locked: &Locked<'_>, kind: Kind, reason: &str) -> Result<(), SpoolError> {
        let id = notice::send(
            self.spool,
            self.config,
            &locked.id,
            &locked.state,
            kind,
            reason,
        )?;
        self.notices.extend(id);
        Ok(())
    }

    /// The session for a profile: the open one, or a new one (connected and logged in). A
    /// profile that failed for its configuration or login is not tried again in this pass; one
    /// whose relay asked to slow down is kept from it by its cool-down.
    fn session(&mut self, name: &str) -> Result<R::Session, SessionFailure> {
        if let Some(failure) = self.unreachable.get(name) {
            return Err(failure.clone());
        }
        if let Some(session) = self.sessions.remove(name) {
            return Ok(session);
        }
        let Some(profile) = self.config.profiles.get(name) else {
            return Err(SessionFailure {
                fault: Fault::Config,
                reason: format!("profile `{name}` is not configured"),
                throttling: None,
            });
        };
        let e = match self.relays.open(name, profile) {
            Ok(session) => return Ok(session),
            Err(e) => e,
        };
        if let DeliveryError::OAuth(OAuthError::Revoked { first, .. }) = &e {
            self.revoked.insert(name.to_string());
            if *first {
                let alert = notice::revoked(self.spool, self.config, name, &e.to_string())
                    .map_err(|e| SessionFailure {
                        fault: Fault::Transient,
                        reason: e.to_string(),
                        throttling: None,
                    })?;
                self.notices.extend(alert);
            }
        }
        let failure = SessionFailure {
            fault: e.fault(),
            reason: e.to_string(),
            throttling: throttling_reply(&e).map(str::to_string),
        };
        if failure.throttling.is_none() {
            self.unreachable.insert(name.to_string(), failure.clone());
        }
        Err(failure)
    }
}

#[cfg(test)]
mod tests;
