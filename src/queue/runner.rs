//! The queue runner: takes due messages, delivers them over one connection per relay profile
//! (many messages per login), fails over to the profile's `fallback` relays on temporary failure,
//! and records each outcome in the message's state.
//!
//! Delivery is at least once: if the process dies after the relay accepted a message but before
//! its state was updated, the message is sent again on the next run. Nothing is ever lost.
//!
//! Before a message goes to a relay, the runner asks the [`Limiter`] for it: mail over a
//! profile's `rate_limit`, for a relay cooling down after throttling replies, or for a profile
//! frozen by the spew brake waits in the queue without an attempt being counted.

use std::collections::{HashMap, HashSet};

use super::id::QueueId;
use super::notice::{self, Kind};
use super::ratelimit::{Limiter, Limits, Submitted, Wait, throttling_reply};
use super::schedule::{backoff, now};
use super::spool::{Area, Locked, Spool, SpoolError};
use super::state::{RecipientStatus, Status, Waiting};
use crate::config::{LoadedConfig, LoadedProfile};
use crate::oauth::OAuthError;
use crate::relay::{DeliveryError, Fault, ProfileCredentials, Session};
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

/// Delivers queued messages.
pub struct Runner<'a> {
    spool: &'a Spool,
    config: &'a LoadedConfig,
    transcript: &'a Transcript,
    sessions: HashMap<String, Session<'a>>,
    /// Profiles that could not be reached in this pass, with why: not tried again until the next.
    unreachable: HashMap<String, (Fault, String)>,
    /// Notices queued by this runner, sent before it finishes.
    notices: Vec<QueueId>,
    /// Rate limits, cool-downs and the spew brake, shared with every other process.
    limiter: Limiter<'a>,
    /// Profiles whose relay asked to slow down in this pass, with the end of the cool-down:
    /// nothing more goes to them in this pass.
    throttled: HashMap<String, u64>,
    /// How many messages this pass deferred for each profile's rate limit, so that they are
    /// scheduled one token apart rather than all for the same moment.
    spread: HashMap<String, u64>,
    /// Profiles whose OAuth2 refresh token was refused: one alert for the profile replaces the
    /// notice about each held message.
    revoked: HashSet<String>,
}

/// When one profile of a message's chain could take it again.
#[derive(Debug, Clone, Copy)]
enum Ready {
    /// It was not tried: it waits for a token or the end of a cool-down.
    Waits(Wait),
    /// It was tried and failed for now: after the backoff, but not before this Unix time.
    AfterBackoff { not_before: u64 },
}

impl<'a> Runner<'a> {
    pub fn new(spool: &'a Spool, config: &'a LoadedConfig, transcript: &'a Transcript) -> Self {
        Runner {
            spool,
            config,
            transcript,
            sessions: HashMap::new(),
            unreachable: HashMap::new(),
            notices: Vec::new(),
            limiter: Limiter::new(spool),
            throttled: HashMap::new(),
            spread: HashMap::new(),
            revoked: HashSet::new(),
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
                eprintln!("relayctl: {e}");
                summary.corrupt += 1;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let due = match select {
            // Mail held for a configuration fault is looked at again when its (long) retry
            // time comes, in case the fault was fixed; an admin's hold never expires.
            Select::Due => {
                locked.state.status != Status::Failed && locked.state.next_attempt <= now()
            }
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

    /// One attempt at one locked message: its profile, then the fallbacks. A message whose
    /// profile is frozen, or whose every relay waits for a token or a cool-down, is deferred
    /// without an attempt being counted.
    pub fn attempt(&mut self, mut locked: Locked<'_>) -> Result<Outcome, SpoolError> {
        let start = now();
        if !locked.state.notice
            && let Some(outcome) = self.brake(&mut locked, start)?
        {
            return Ok(outcome);
        }
        let head = locked.head()?;
        let mut chain = vec![locked.state.profile.clone()];
        if let Some(profile) = self.config.profile(&locked.state.profile) {
            chain.extend(profile.fallback.iter().cloned());
        }
        let mut transient: Option<String> = None;
        let mut config_fault: Option<String> = None;
        let mut permanent = Fault::Permanent;
        let mut ready: Vec<(String, Ready)> = Vec::new();
        for name in &chain {
            let envelope = locked.state.pending_envelope();
            if envelope.recipients.is_empty() {
                break;
            }
            if let Some(&until) = self.throttled.get(name) {
                ready.push((name.clone(), Ready::Waits(Wait::CoolDown { until })));
                continue;
            }
            let profile = self.config.profile(name);
            let grant = match profile {
                Some(p) => match self.limiter.acquire(name, p, now(), locked.state.notice)? {
                    Ok(grant) => Some(grant),
                    Err(wait) => {
                        ready.push((name.clone(), Ready::Waits(wait)));
                        continue;
                    }
                },
                None => None,
            };
            let attempt_log = crate::log::Attempt::start(
                Some(&locked.id),
                name,
                profile
                    .map(|p| format!("{}:{}", p.host, p.port))
                    .unwrap_or_default(),
                envelope.recipients.len(),
                &head,
                locked.state.size,
                self.transcript.is_enabled(),
            );
            let session = match self.session(name) {
                Ok(s) => s,
                Err(e) => {
                    attempt_log.failed(&e.1);
                    if let (Some(p), Some(g)) = (profile, grant)
                        && g.token
                    {
                        self.limiter.give_back(name, p)?;
                    }
                    match e {
                        (_, reason, Some(reply)) => {
                            let until = self.throttle(name, &reply)?;
                            ready.push((name.clone(), Ready::AfterBackoff { not_before: until }));
                            transient = Some(reason);
                        }
                        (Fault::Config | Fault::Auth, reason, None) => config_fault = Some(reason),
                        (_, reason, None) => {
                            ready.push((name.clone(), Ready::AfterBackoff { not_before: 0 }));
                            transient = Some(reason);
                        }
                    }
                    continue;
                }
            };
            let mut message = locked.open_message()?;
            let result = session.send_stream(
                &envelope,
                &mut message,
                locked.state.size,
                locked.state.eight_bit,
            );
            match &result {
                Ok(reply) => attempt_log.delivered(reply),
                Err(e) => attempt_log.failed(&e.to_string()),
            }
            let throttled = result
                .as_ref()
                .err()
                .and_then(throttling_reply)
                .map(str::to_string);
            match result {
                Ok(reply) => {
                    locked.state.mark_pending(RecipientStatus::Sent, &reply);
                    self.transcript
                        .note(&format!("{}: delivered via {name}: {reply}", locked.id));
                    if grant.is_some_and(|g| g.cooling) {
                        self.limiter.update(name, Limits::succeeded)?;
                    }
                }
                Err(DeliveryError::Recipients {
                    failures, accepted, ..
                }) => {
                    for f in &failures {
                        if f.permanent {
                            permanent = Fault::Recipient;
                            locked
                                .state
                                .mark(&f.address, RecipientStatus::Failed, &f.reply);
                        } else {
                            transient = Some(f.reply.clone());
                            for r in &mut locked.state.recipients {
                                if r.address == f.address {
                                    r.reply = Some(f.reply.clone());
                                }
                            }
                        }
                    }
                    if accepted > 0 {
                        let waiting: HashSet<&str> = failures
                            .iter()
                            .filter(|f| !f.permanent)
                            .map(|f| f.address.as_str())
                            .collect();
                        let sent: Vec<String> = locked
                            .state
                            .pending()
                            .filter(|r| !waiting.contains(r.address.as_str()))
                            .map(|r| r.address.clone())
                            .collect();
                        for a in sent {
                            locked.state.mark(&a, RecipientStatus::Sent, "accepted");
                        }
                    }
                }
                Err(e) => {
                    let reason = e.to_string();
                    match e.fault() {
                        Fault::Transient => {
                            transient = Some(reason);
                            self.drop_if_broken(name);
                        }
                        Fault::Auth | Fault::Config => {
                            config_fault = Some(reason.clone());
                            self.sessions.remove(name);
                            self.unreachable.insert(name.clone(), (e.fault(), reason));
                        }
                        Fault::Permanent | Fault::Message | Fault::Recipient => {
                            permanent = e.fault();
                            locked.state.mark_pending(RecipientStatus::Failed, &reason);
                            self.drop_if_broken(name);
                        }
                    }
                }
            }
            let not_before = match throttled {
                Some(reply) => {
                    // Stop talking to a relay that asked us to slow down.
                    if let Some(session) = self.sessions.remove(name) {
                        session.quit();
                    }
                    self.throttle(name, &reply)?
                }
                None => 0,
            };
            ready.push((name.clone(), Ready::AfterBackoff { not_before }));
        }
        let tried = ready
            .iter()
            .any(|(_, r)| matches!(r, Ready::AfterBackoff { .. }));
        if !tried && config_fault.is_none() && locked.state.pending().next().is_some() {
            return self.wait(locked, &ready);
        }
        self.conclude(locked, transient, config_fault, permanent, &ready)
    }

    /// Counts a message's submission for the spew brake (once), engages the brake and queues
    /// its alert when the submission exceeds it, and defers the message while its profile is
    /// frozen.
    fn brake(&mut self, locked: &mut Locked<'_>, now: u64) -> Result<Option<Outcome>, SpoolError> {
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
            let submission = Submitted {
                created: locked.state.created,
                uid,
                through_maildrop,
            };
            if let Some(engaged) = self.limiter.count(&name, profile, submission, now)? {
                eprintln!(
                    "relayctl: delivery for profile {name} frozen by the spew brake: {}; review with `relayctl queue list`, then `relayctl queue release --all`",
                    engaged.reason
                );
                let alert = notice::brake(self.spool, self.config, &name, &engaged.reason)?;
                self.notices.extend(alert);
            }
        }
        let Some(freeze) = self.limiter.frozen(&name) else {
            return Ok(None);
        };
        locked.state.waiting = Some(Waiting::Brake);
        // Looked at again after `retry_max` (`queue release --all` makes it due at once); an
        // administrator's hold stays one.
        if locked.state.next_attempt != u64::MAX {
            locked.state.next_attempt = now + self.config.queue.retry_max.0;
        }
        locked.save()?;
        Ok(Some(Outcome::Deferred(format!(
            "delivery for profile {name} is frozen by the spew brake: {}",
            freeze.reason
        ))))
    }

    /// Defers a message no relay of whose chain could take it now, without counting an attempt:
    /// until the earliest token or end of cool-down. Messages deferred for the same rate limit
    /// in one pass are spaced one token apart.
    fn wait(
        &mut self,
        mut locked: Locked<'_>,
        ready: &[(String, Ready)],
    ) -> Result<Outcome, SpoolError> {
        let candidates = ready.iter().filter_map(|(name, r)| match r {
            Ready::Waits(w @ Wait::RateLimit { until, rate }) => Some((
                until + self.spread.get(name).copied().unwrap_or(0) * rate.interval(),
                name,
                *w,
            )),
            Ready::Waits(w @ Wait::CoolDown { until }) => Some((*until, name, *w)),
            Ready::AfterBackoff { .. } => None,
        });
        let Some((until, name, wait)) = candidates.min_by_key(|(until, _, _)| *until) else {
            // Nothing in the chain could be tried (no relay configured): try again later.
            return self.conclude(locked, None, None, Fault::Transient, ready);
        };
        let name = name.clone();
        let (waiting, reason) = match wait {
            Wait::RateLimit { rate, .. } => {
                *self.spread.entry(name.clone()).or_default() += 1;
                (
                    Waiting::RateLimit,
                    format!("rate limited: profile {name} allows {rate}"),
                )
            }
            Wait::CoolDown { .. } => (
                Waiting::CoolDown,
                format!("relay of profile {name} asked to slow down"),
            ),
        };
        locked.state.status = Status::Queued;
        locked.state.waiting = Some(waiting);
        locked.state.next_attempt = until;
        locked.save()?;
        self.transcript.note(&format!(
            "{}: {reason}; waits {}s",
            locked.id,
            until.saturating_sub(now())
        ));
        Ok(Outcome::Deferred(reason))
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

    /// Updates the state after an attempt: done, failed, held or rescheduled.
    fn conclude(
        &mut self,
        mut locked: Locked<'_>,
        transient: Option<String>,
        config_fault: Option<String>,
        permanent: Fault,
        ready: &[(String, Ready)],
    ) -> Result<Outcome, SpoolError> {
        let settings = &self.config.queue;
        let now = now();
        locked.state.waiting = None;
        if locked.state.pending().next().is_none() {
            let failed: Vec<String> = locked
                .state
                .recipients
                .iter()
                .filter(|r| r.status == RecipientStatus::Failed)
                .map(|r| format!("<{}>: {}", r.address, r.reply.as_deref().unwrap_or("")))
                .collect();
            if failed.is_empty() {
                locked.finish()?;
                return Ok(Outcome::Delivered);
            }
            let reason = format!("refused: {}", failed.join("; "));
            self.notify(&locked, Kind::Failed, &reason)?;
            locked.fail(&reason)?;
            return Ok(Outcome::Failed {
                reason,
                fault: permanent,
            });
        }
        locked.state.attempts += 1;
        let age = now.saturating_sub(locked.state.created);
        // A relay of the chain that waits for a token or a cool-down may take it sooner than
        // the backoff; one cooling down is not tried before its cool-down ends.
        let backoff_at = now + backoff(settings, locked.state.attempts);
        let next_attempt = ready
            .iter()
            .map(|(_, r)| match r {
                Ready::Waits(w) => w.until(),
                Ready::AfterBackoff { not_before } => backoff_at.max(*not_before),
            })
            .min()
            .unwrap_or(backoff_at);
        let waits = ready.iter().any(|(_, r)| matches!(r, Ready::Waits(_)));
        match (transient, config_fault) {
            (None, Some(fault)) if !waits => {
                locked.state.status = Status::Held;
                locked.state.reason = Some(fault.clone());
                locked.state.last_reply = Some(fault.clone());
                locked.state.next_attempt = now + settings.retry_max.0;
                if !locked.state.alerted {
                    eprintln!(
                        "relayctl: message {} held until the relay configuration is fixed: {fault}",
                        locked.id
                    );
                    if !self.revoked.contains(&locked.state.profile) {
                        self.notify(&locked, Kind::Held, &fault)?;
                    }
                    locked.state.alerted = true;
                }
                locked.save()?;
                Ok(Outcome::Held(fault))
            }
            (transient, fault) => {
                let reason = transient
                    .or(fault)
                    .unwrap_or_else(|| "no relay could be tried".into());
                locked.state.last_reply = Some(reason.clone());
                if age >= settings.max_age.0 {
                    let reason = format!(
                        "gave up after {} (max_age): {reason}",
                        crate::config::Span(age)
                    );
                    locked.state.mark_pending(RecipientStatus::Failed, &reason);
                    self.notify(&locked, Kind::Failed, &reason)?;
                    locked.fail(&reason)?;
                    return Ok(Outcome::Failed {
                        reason,
                        fault: Fault::Transient,
                    });
                }
                locked.state.status = Status::Queued;
                locked.state.next_attempt = next_attempt;
                if age >= settings.delay_warning.0 && !locked.state.warned {
                    self.notify(&locked, Kind::Delayed, &reason)?;
                    locked.state.warned = true;
                }
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

    /// The open session for a profile, connecting (and logging in) on first use. A failure
    /// carries the relay's reply when it was throttling.
    fn session(&mut self, name: &str) -> Result<&mut Session<'a>, (Fault, String, Option<String>)> {
        if let Some((fault, reason)) = self.unreachable.get(name) {
            return Err((*fault, reason.clone(), None));
        }
        if !self.sessions.contains_key(name) {
            let Some(LoadedProfile { profile, file, .. }) = self.config.profiles.get(name) else {
                return Err((
                    Fault::Config,
                    format!("profile `{name}` is not configured"),
                    None,
                ));
            };
            let credentials =
                ProfileCredentials::new(name, profile, file, self.spool.root(), *self.transcript);
            match Session::open(profile, &credentials, self.transcript) {
                Ok(s) => {
                    self.sessions.insert(name.to_string(), s);
                }
                Err(e) => {
                    if let DeliveryError::OAuth(OAuthError::Revoked { first, .. }) = &e {
                        self.revoked.insert(name.to_string());
                        if *first {
                            let alert =
                                notice::revoked(self.spool, self.config, name, &e.to_string())
                                    .map_err(|e| (Fault::Transient, e.to_string(), None))?;
                            self.notices.extend(alert);
                        }
                    }
                    if let Some(reply) = throttling_reply(&e) {
                        return Err((e.fault(), e.to_string(), Some(reply.to_string())));
                    }
                    let entry = (e.fault(), e.to_string());
                    self.unreachable.insert(name.to_string(), entry.clone());
                    return Err((entry.0, entry.1, None));
                }
            }
        }
        self.sessions
            .get_mut(name)
            .ok_or((Fault::Transient, "session lost".into(), None))
    }

    /// Forgets a session whose connection can no longer be used.
    fn drop_if_broken(&mut self, name: &str) {
        if self.sessions.get(name).is_some_and(|s| !s.is_usable()) {
            self.sessions.remove(name);
        }
    }
}
