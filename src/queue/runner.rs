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
//!
//! A relay that fails to connect or to answer is recorded as down ([`health`]). The first
//! attempt at a submission ([`Runner::for_submission`]), whose caller waits, does not try a
//! relay known to be down and gives the others `submit_timeout` to connect and greet; when it
//! delivers, the profile's overdue messages follow on the same connection
//! ([`Runner::catch_up`]), so that a host without a queue runner still catches up.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

use super::decision::{self, Facts, Next, RelayOutcome};
use super::health;
use super::id::QueueId;
use super::notice::{self, Kind};
use super::ratelimit::{Grant, Limiter, Submitted, Wait, throttling_reply};
use super::relays::{RelaySession, Relays, Smtp};
use super::schedule::now;
use super::spool::{Area, Locked, Spool, SpoolError};
use super::state::{MessageState, Status, WaitReason};
use super::tally::Tally;
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
    /// Queued messages of this profile that are due, or that wait only because its relay was
    /// down ([`Runner::catch_up`]).
    Overdue(String),
}

impl Select {
    /// Whether a pass that selects so takes the message in `state` at `now`.
    fn takes(&self, state: &MessageState, now: u64) -> bool {
        match self {
            Select::Due => state.is_due(now),
            Select::AllQueued => state.status == Status::Queued,
            Select::Ids(_) => true,
            Select::Overdue(profile) => {
                state.profile == *profile
                    && state.status == Status::Queued
                    && (state.is_due(now) || state.waiting == Some(WaitReason::RelayDown))
            }
        }
    }
}

/// At most this many overdue messages follow a submission ([`Runner::catch_up`])...
const CATCH_UP_MESSAGES: usize = 10;
/// ... and none is started after this long, so that its caller is not kept waiting.
const CATCH_UP_TIME: Duration = Duration::from_secs(2);

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
    /// The same for each profile whose messages the pass tried.
    pub profiles: BTreeMap<String, Counts>,
}

/// What became of the messages of one profile in a pass.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub delivered: usize,
    pub deferred: usize,
    pub held: usize,
    pub failed: usize,
    /// Why the last message not delivered was not.
    pub last_reason: Option<String>,
}

impl Summary {
    /// Counts what became of a message of `profile`.
    fn count(&mut self, profile: &str, outcome: &Outcome) {
        let counts = self.profiles.entry(profile.to_string()).or_default();
        let reason = match outcome {
            Outcome::Delivered => {
                self.delivered += 1;
                counts.delivered += 1;
                None
            }
            Outcome::Deferred(reason) => {
                self.deferred += 1;
                counts.deferred += 1;
                Some(reason)
            }
            Outcome::Held(reason) => {
                self.held += 1;
                counts.held += 1;
                Some(reason)
            }
            Outcome::Failed { reason, .. } => {
                self.failed += 1;
                counts.failed += 1;
                Some(reason)
            }
            Outcome::Busy => None,
        };
        if let Some(reason) = reason {
            counts.last_reason = Some(reason.clone());
        }
    }

    /// Adds the counts of another runner of the same pass.
    pub fn add(&mut self, other: Summary) {
        self.delivered += other.delivered;
        self.deferred += other.deferred;
        self.held += other.held;
        self.failed += other.failed;
        self.corrupt += other.corrupt;
        for (profile, theirs) in other.profiles {
            let ours = self.profiles.entry(profile).or_default();
            ours.delivered += theirs.delivered;
            ours.deferred += theirs.deferred;
            ours.held += theirs.held;
            ours.failed += theirs.failed;
            if theirs.last_reason.is_some() {
                ours.last_reason = theirs.last_reason;
            }
        }
    }

    /// One line per profile: `uni: delivered 3, deferred 1, held 0, failed 0 (last: ...)`.
    pub fn lines(&self) -> Vec<String> {
        self.profiles
            .iter()
            .map(|(profile, counts)| format!("{profile}: {counts}"))
            .collect()
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "delivered {}, deferred {}, held {}, failed {}",
            self.delivered, self.deferred, self.held, self.failed
        )?;
        match &self.last_reason {
            Some(reason) => write!(f, " (last: {reason})"),
            None => Ok(()),
        }
    }
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

/// Told the profile, and whether a session to its relay opened ([`Runner::on_session`]).
pub(in crate::queue) type OnSession<'a> = dyn Fn(&str, bool) + Sync + 'a;

/// What becomes of a session after a message, gravest last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fate {
    /// It carries the next message.
    Keep,
    /// It is broken, or its login failed: dropped without a word.
    Drop,
    /// The relay asked to slow down: QUIT, and nothing more to it in this pass.
    Quit,
}

/// A message after one relay's attempt: delivered (and finished), or still the runner's.
enum Landed<'s> {
    Delivered,
    Pending(Box<Locked<'s>>, RelayOutcome),
}

/// Delivers queued messages.
pub struct Runner<'a, R: Relays = Smtp<'a>> {
    spool: &'a Spool,
    config: &'a LoadedConfig,
    transcript: &'a Transcript,
    relays: R,
    /// Open sessions, by profile.
    sessions: HashMap<String, R::Session>,
    /// Messages sent on a session whose replies are not read yet, oldest first
    /// ([`flight`]); all on the session of one profile.
    flight: std::collections::VecDeque<flight::InFlight<'a>>,
    /// What becomes of a session once the messages in flight on it have landed.
    doomed: HashMap<String, Fate>,
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
    /// The first attempt at a submission: relays known to be down are not tried.
    submission: bool,
    /// The message this runner sends next is the last it sends ([`Runner::only_message`]).
    only_message: bool,
    /// What this runner delivered and what failed, added to the spool's counters when it
    /// closes.
    tally: Tally,
    /// Told about each session opened or not ([`Runner::on_session`]).
    opened: Option<&'a OnSession<'a>>,
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

    /// A runner for the first attempt at a submission, whose caller waits: each relay has
    /// `submit_timeout` to connect and greet, and relays known to be down are not tried.
    pub fn for_submission(
        spool: &'a Spool,
        config: &'a LoadedConfig,
        transcript: &'a Transcript,
    ) -> Self {
        let relays =
            Smtp::new(spool.root(), transcript).first_answer_within(config.submit_timeout());
        Runner::with_relays(spool, config, transcript, relays).submission()
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
            flight: Default::default(),
            doomed: HashMap::new(),
            unreachable: HashMap::new(),
            notices: Vec::new(),
            limiter: Limiter::new(spool),
            throttled: HashMap::new(),
            spread: HashMap::new(),
            revoked: HashSet::new(),
            delivered: HashSet::new(),
            submission: false,
            only_message: false,
            tally: Tally::default(),
            opened: None,
        }
    }

    /// Makes this the runner of a submission's first attempt: relays known to be down are not
    /// tried (the message waits for them without an attempt counted).
    pub fn submission(mut self) -> Self {
        self.submission = true;
        self
    }

    /// Tells the runner that its next message is the only one it will send (a submission with
    /// nothing else in the queue): its session ends with that message, QUIT going out in the
    /// same flight, and nothing is caught up after it.
    pub fn only_message(mut self) -> Self {
        self.only_message = true;
        self
    }

    /// One pass over the queue on one connection per profile, as the tests make it (`queue
    /// run` opens more: [`Runner::begin_pass`] and [`Runner::stream`] are its parts). Notices
    /// queued during the pass are sent in the same pass.
    #[cfg(test)]
    pub fn run(&mut self, select: &Select) -> Result<Summary, SpoolError> {
        let mut summary = Summary::default();
        let ids = self.begin_pass(select)?;
        self.stream(&mut ids.into_iter(), select, &mut summary)?;
        self.send_notices(&mut summary)?;
        Ok(summary)
    }

    /// What a pass does first, once: a pass over due or all queued mail is recorded
    /// ([`health::pass_began`]), leftovers are swept (corrupt messages with a notice). Returns
    /// the queued messages the pass is to look at, oldest first.
    pub(in crate::queue) fn begin_pass(
        &mut self,
        select: &Select,
    ) -> Result<Vec<QueueId>, SpoolError> {
        if matches!(select, Select::Due | Select::AllQueued) {
            health::pass_began(self.spool, now())?;
        }
        self.spool.sweep();
        let swept = self.spool.sweep_corrupt();
        if swept > 0 {
            self.notices
                .extend(notice::corrupt_swept(self.spool, self.config, swept)?);
        }
        let mut ids = self.spool.ids(Area::Queue)?;
        if let Select::Ids(list) = select {
            ids.retain(|id| list.contains(id));
        }
        Ok(ids)
    }

    /// Calls `opened` with the profile and whether it worked each time this runner tries to
    /// open a session (a pass opens more connections only once one has logged in).
    pub(in crate::queue) fn on_session(mut self, opened: &'a OnSession<'a>) -> Self {
        self.opened = Some(opened);
        self
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

    /// Attempts message `id` if `select` takes it; returns whether it was attempted.
    fn try_one(
        &mut self,
        id: &QueueId,
        select: &Select,
        summary: &mut Summary,
    ) -> Result<bool, SpoolError> {
        let Some(locked) = self.take(id, select, summary)? else {
            return Ok(false);
        };
        let profile = locked.state.profile.clone();
        let outcome = self.attempt(locked)?;
        summary.count(&profile, &outcome);
        Ok(true)
    }

    /// Message `id`, locked, if `select` takes it and no other process is working on it (a
    /// corrupt one is counted and alerted about).
    fn take(
        &self,
        id: &QueueId,
        select: &Select,
        summary: &mut Summary,
    ) -> Result<Option<Locked<'a>>, SpoolError> {
        let locked = match self.spool.lock(id) {
            Ok(Some(l)) => l,
            Ok(None) => return Ok(None),
            Err(e @ SpoolError::Corrupt { .. }) => {
                messages::alert(&e.to_string());
                summary.corrupt += 1;
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        // Not a message for a relay yet: the submit layer prepares held submissions.
        let takes = locked.state.unprepared.is_none() && select.takes(&locked.state, now());
        Ok(takes.then_some(locked))
    }

    /// After a submission to `profile` was delivered, sends that profile's overdue messages
    /// (due, or waiting only because its relay was down) over the same session: at most
    /// [`CATCH_UP_MESSAGES`], none started after [`CATCH_UP_TIME`], and none once the session
    /// is gone. A host whose queue has no runner thus catches up with its next submission.
    pub fn catch_up(&mut self, profile: &str) -> Result<Summary, SpoolError> {
        let started = Instant::now();
        let select = Select::Overdue(profile.to_string());
        let mut summary = Summary::default();
        let mut tried = 0;
        for id in self.spool.ids(Area::Queue)? {
            if tried >= CATCH_UP_MESSAGES
                || started.elapsed() >= CATCH_UP_TIME
                || !self.sessions.contains_key(profile)
            {
                break;
            }
            tried += usize::from(self.try_one(&id, &select, &mut summary)?);
        }
        for line in summary.lines() {
            self.transcript
                .note(&format!("overdue mail sent along: {line}"));
        }
        Ok(summary)
    }

    /// Ends every open session and adds what the runner counted to the spool's counters (a
    /// failure to is an alert: the mail is not affected).
    pub fn close(self) {
        for (_, session) in self.sessions {
            session.quit();
        }
        if let Err(e) = self.tally.flush(self.spool) {
            messages::alert(&format!("cannot update the delivery counters: {e}"));
        }
    }

    /// One attempt at one locked message: its profile, then the fallbacks, until one takes it.
    /// A message whose profile is frozen, or whose every relay waits for a token or a
    /// cool-down, is deferred without an attempt being counted.
    pub fn attempt(&mut self, mut locked: Locked<'_>) -> Result<Outcome, SpoolError> {
        let frozen = self.frozen(&mut locked)?;
        self.through_chain(locked, frozen, Vec::new(), 0)
    }

    /// Why the message's profile is frozen by the spew brake, if it is (a notice never is),
    /// after counting the message for the brake ([`Runner::brake`]).
    fn frozen(&mut self, locked: &mut Locked<'_>) -> Result<Option<String>, SpoolError> {
        match locked.state.notice {
            true => Ok(None),
            false => self.brake(locked, now()),
        }
    }

    /// Tries the relays of the message's chain from the `skip`th on, one after another, after
    /// what the ones before made of it (`relays`); then decides what becomes of it.
    fn through_chain(
        &mut self,
        mut locked: Locked<'_>,
        frozen: Option<String>,
        mut relays: Vec<(String, RelayOutcome)>,
        skip: usize,
    ) -> Result<Outcome, SpoolError> {
        if frozen.is_none() {
            let head = locked.head()?;
            for name in self.chain(&locked.state.profile).into_iter().skip(skip) {
                if locked.state.pending().next().is_none() {
                    break;
                }
                let ticket = match self.ticket(&name, &locked, &head)? {
                    Ok(ticket) => ticket,
                    Err(outcome) => {
                        relays.push((name, outcome));
                        continue;
                    }
                };
                match self.send_now(locked, &name, ticket)? {
                    Landed::Delivered => return Ok(Outcome::Delivered),
                    Landed::Pending(back, outcome) => {
                        locked = *back;
                        relays.push((name, outcome));
                    }
                }
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

    /// Sends the message through relay `name` now and waits for the replies.
    fn send_now<'s>(
        &mut self,
        locked: Locked<'s>,
        name: &str,
        mut ticket: Ticket<R::Session>,
    ) -> Result<Landed<'s>, SpoolError> {
        let envelope = locked.state.pending_envelope();
        let mut message = locked.open_message()?;
        let (size, eight_bit) = (locked.state.size, locked.state.eight_bit);
        if std::mem::take(&mut self.only_message) {
            ticket.session.quit_with_next_message();
        }
        let result = ticket
            .session
            .send(&envelope, &mut message, size, eight_bit);
        drop(message);
        self.land(locked, name, ticket, result)
    }

    /// Records what relay `name` made of the message: at least once, what the relay accepted
    /// is on disk before anything else happens (the rename that finishes a delivered message
    /// is its record); then the log line, the limits, and the session's fate.
    fn land<'s>(
        &mut self,
        mut locked: Locked<'s>,
        name: &str,
        ticket: Ticket<R::Session>,
        result: Result<String, DeliveryError>,
    ) -> Result<Landed<'s>, SpoolError> {
        let (outcome, accepted) = decision::record(&mut locked.state, &result);
        let Ticket {
            session,
            grant,
            log,
        } = ticket;
        let usable = session.is_usable();
        if locked.state.is_delivered() {
            let id = locked.id.clone();
            locked.finish()?;
            let (_, fate) = self.settle(&id, name, (grant, log, usable), &result, outcome)?;
            self.put_back(name, session, fate);
            return Ok(Landed::Delivered);
        }
        if accepted > 0 {
            locked.save()?;
        }
        let (outcome, fate) =
            self.settle(&locked.id, name, (grant, log, usable), &result, outcome)?;
        self.put_back(name, session, fate);
        Ok(Landed::Pending(Box::new(locked), outcome))
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
        if self.submission
            && !self.sessions.contains_key(name)
            && let Some(p) = profile
            && let Some(until) = health::relay_down_until(self.spool, &server(p), now())?
        {
            self.transcript.note(&format!(
                "{name}: the relay failed to connect or to answer a moment ago; not tried before {}s from now",
                until.saturating_sub(now())
            ));
            return Ok(Err(RelayOutcome::NotTried(Wait::RelayDown { until })));
        }
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
            profile.map(server).unwrap_or_default(),
            locked.state.pending().count(),
            head,
            locked.state.size,
            self.transcript.is_enabled(),
        )
        .routed(locked.state.route.as_deref());
        match self.session(name)? {
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

    /// What follows a transaction once its result is recorded: the log line and the limits,
    /// given the token taken for it, its log line and whether its session is still usable.
    /// Returns the relay's outcome, with the cool-down its throttling reply started, and what
    /// becomes of the session.
    fn settle(
        &mut self,
        id: &QueueId,
        name: &str,
        (grant, log, usable): (Option<Grant>, crate::log::Attempt, bool),
        result: &Result<String, DeliveryError>,
        outcome: RelayOutcome,
    ) -> Result<(RelayOutcome, Fate), SpoolError> {
        match result {
            Ok(reply) => {
                self.tally.delivered(name);
                log.delivered(reply);
                self.transcript
                    .note(&format!("{id}: delivered via {name}: {reply}"));
                // Recorded once a pass (and at once when it ends a cool-down): which profiles
                // work is what notices are routed by, to the minute.
                if grant.is_some_and(|g| g.cooling) || self.delivered.insert(name.to_string()) {
                    self.limiter.update(name, |l| l.succeeded(now()))?;
                }
            }
            Err(e) => {
                self.tally.failed(name, e);
                log.failed(&e.to_string());
            }
        }
        // A session that ended with its message (QUIT sent with it) or broke after the relay's
        // reply is not kept.
        let keep = match result {
            Ok(_) | Err(DeliveryError::Recipients { .. }) => usable,
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
                _ => usable,
            },
        };
        match result.as_ref().err().and_then(throttling_reply) {
            // Stop talking to a relay that asked us to slow down. Streamed messages answered
            // alike in the same pass do not lengthen the cool-down again.
            Some(reply) => {
                let until = match self.throttled.get(name) {
                    Some(&until) => until,
                    None => self.throttle(name, reply)?,
                };
                Ok((outcome.cooling_down(until), Fate::Quit))
            }
            None => Ok((outcome, if keep { Fate::Keep } else { Fate::Drop })),
        }
    }

    /// Keeps the session of profile `name`, ends it or drops it as `fate` says; while other
    /// messages are in flight on it, it is kept until they have landed, with the gravest fate.
    fn put_back(&mut self, name: &str, session: R::Session, fate: Fate) {
        if self.flight.iter().any(|f| f.name == name) {
            if fate != Fate::Keep {
                let doom = self.doomed.entry(name.to_string()).or_insert(fate);
                *doom = (*doom).max(fate);
            }
            self.sessions.insert(name.to_string(), session);
            return;
        }
        match fate.max(self.doomed.remove(name).unwrap_or(Fate::Keep)) {
            Fate::Keep => {
                self.sessions.insert(name.to_string(), session);
            }
            Fate::Drop => drop(session),
            Fate::Quit => session.quit(),
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
                self.tally.brake_tripped(&name);
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
    /// whose relay asked to slow down is kept from it by its cool-down. A relay that fails to
    /// connect or to answer is recorded as down for `retry_initial`, and one that answers is
    /// forgotten as down ([`health`]).
    fn session(&mut self, name: &str) -> Result<Result<R::Session, SessionFailure>, SpoolError> {
        if let Some(failure) = self.unreachable.get(name) {
            return Ok(Err(failure.clone()));
        }
        if let Some(session) = self.sessions.remove(name) {
            return Ok(Ok(session));
        }
        let Some(profile) = self.config.profiles.get(name) else {
            return Ok(Err(SessionFailure {
                fault: Fault::Config,
                reason: format!("profile `{name}` is not configured"),
                throttling: None,
            }));
        };
        let opened = self.relays.open(name, profile);
        if let Some(tell) = self.opened {
            tell(name, opened.is_ok());
        }
        let e = match opened {
            Ok(session) => {
                health::relay_answered(self.spool, &server(&profile.profile))?;
                return Ok(Ok(session));
            }
            Err(e) => e,
        };
        self.tally.failed(name, &e);
        if e.is_unanswered() {
            let now = now();
            let until = now + self.config.queue.retry_initial.0.max(1);
            health::relay_failed(
                self.spool,
                &server(&profile.profile),
                &e.to_string(),
                now,
                until,
            )?;
        }
        if let DeliveryError::OAuth(OAuthError::Revoked { first, .. }) = &e {
            self.revoked.insert(name.to_string());
            if *first {
                match notice::revoked(self.spool, self.config, name, &e.to_string()) {
                    Ok(alert) => self.notices.extend(alert),
                    Err(e) => {
                        return Ok(Err(SessionFailure {
                            fault: Fault::Transient,
                            reason: e.to_string(),
                            throttling: None,
                        }));
                    }
                }
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
        Ok(Err(failure))
    }
}

/// A profile's relay as `host:port`, as logs and [`health`] name it.
fn server(profile: &crate::config::Profile) -> String {
    format!("{}:{}", profile.host, profile.port)
}

mod flight;
#[cfg(test)]
mod tests;
