//! The queue runner: takes due messages, delivers them over one connection per relay profile
//! (many messages per login), fails over to the profile's `fallback` relays on temporary failure,
//! and records each outcome in the message's state.
//!
//! Delivery is at least once: if the process dies after the relay accepted a message but before
//! its state was updated, the message is sent again on the next run. Nothing is ever lost.

use std::collections::{HashMap, HashSet};

use super::notice::{self, Kind};
use super::schedule::{backoff, now};
use super::spool::{Area, Locked, Spool, SpoolError};
use super::state::{RecipientStatus, Status};
use crate::config::LoadedConfig;
use crate::relay::{DeliveryError, Fault, Session, Transcript};
use crate::secrets::{SecretError, store_for};

/// Which messages a pass takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Select {
    /// Queued messages whose next attempt is due.
    Due,
    /// Every queued (not held) message now (`queue flush`, `sendmail -q`).
    AllQueued,
    /// These messages, whatever their schedule.
    Ids(Vec<String>),
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
    notices: Vec<String>,
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
        }
    }

    /// One pass over the queue. Notices queued during the pass are sent in the same pass.
    pub fn run(&mut self, select: &Select) -> Result<Summary, SpoolError> {
        let mut summary = Summary::default();
        self.spool.sweep();
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
        id: &str,
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

    /// One attempt at one locked message: its profile, then the fallbacks.
    pub fn attempt(&mut self, mut locked: Locked<'_>) -> Result<Outcome, SpoolError> {
        let wire = locked.message()?;
        let mut chain = vec![locked.state.profile.clone()];
        if let Some((profile, _, _)) = self.config.profiles.get(&locked.state.profile) {
            chain.extend(profile.fallback.iter().cloned());
        }
        let mut transient: Option<String> = None;
        let mut config_fault: Option<String> = None;
        let mut permanent = Fault::Permanent;
        for name in &chain {
            let envelope = locked.state.pending_envelope();
            if envelope.recipients.is_empty() {
                break;
            }
            let session = match self.session(name) {
                Ok(s) => s,
                Err((Fault::Config | Fault::Auth, reason)) => {
                    config_fault = Some(reason);
                    continue;
                }
                Err((_, reason)) => {
                    transient = Some(reason);
                    continue;
                }
            };
            match session.send(&envelope, &wire) {
                Ok(reply) => {
                    locked.state.mark_pending(RecipientStatus::Sent, &reply);
                    self.transcript
                        .note(&format!("{}: delivered via {name}: {reply}", locked.id));
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
        }
        self.conclude(locked, transient, config_fault, permanent)
    }

    /// Updates the state after an attempt: done, failed, held or rescheduled.
    fn conclude(
        &mut self,
        mut locked: Locked<'_>,
        transient: Option<String>,
        config_fault: Option<String>,
        permanent: Fault,
    ) -> Result<Outcome, SpoolError> {
        let settings = &self.config.queue;
        let now = now();
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
        match (transient, config_fault) {
            (None, Some(fault)) => {
                locked.state.status = Status::Held;
                locked.state.reason = Some(fault.clone());
                locked.state.last_reply = Some(fault.clone());
                locked.state.next_attempt = now + settings.retry_max.0;
                if !locked.state.alerted {
                    eprintln!(
                        "relayctl: message {} held until the relay configuration is fixed: {fault}",
                        locked.id
                    );
                    self.notify(&locked, Kind::Held, &fault)?;
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
                locked.state.next_attempt = now + backoff(settings, locked.state.attempts);
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

    /// The open session for a profile, connecting (and logging in) on first use.
    fn session(&mut self, name: &str) -> Result<&mut Session<'a>, (Fault, String)> {
        if let Some((fault, reason)) = self.unreachable.get(name) {
            return Err((*fault, reason.clone()));
        }
        if !self.sessions.contains_key(name) {
            let Some((profile, _, file)) = self.config.profiles.get(name) else {
                return Err((Fault::Config, format!("profile `{name}` is not configured")));
            };
            let secret = || -> Result<_, SecretError> {
                match &profile.secret {
                    Some(r) => store_for(r, name, file).read(),
                    None => Err(SecretError::NotFound {
                        store: format!("profile `{name}`"),
                        hint: "the profile has a user but no `secret`".into(),
                    }),
                }
            };
            match Session::open(profile, &secret, self.transcript) {
                Ok(s) => {
                    self.sessions.insert(name.to_string(), s);
                }
                Err(e) => {
                    let entry = (e.fault(), e.to_string());
                    self.unreachable.insert(name.to_string(), entry.clone());
                    return Err(entry);
                }
            }
        }
        self.sessions
            .get_mut(name)
            .ok_or((Fault::Transient, "session lost".into()))
    }

    /// Forgets a session whose connection can no longer be used.
    fn drop_if_broken(&mut self, name: &str) {
        if self.sessions.get(name).is_some_and(|s| !s.is_usable()) {
            self.sessions.remove(name);
        }
    }
}
