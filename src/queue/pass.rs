//! One queue pass over several connections per profile (`queue run`, `queue flush`, the
//! daemon): up to the profile's `max_connections` ([`crate::config::Profile::connections`]),
//! each a runner of its own streaming messages on its session ([`super::runner`]).
//!
//! The messages of each profile wait in one list that its connections take from, each message
//! once: a message is also locked in the spool while it is worked on, so that no two
//! connections (nor two processes) ever send it twice. The first connection to a relay logs in
//! before any other is opened: a relay that refuses the login, or is down, sees one attempt,
//! not one per connection. A further connection is opened only for each full flight of
//! messages waiting. Rate limits, cool-downs and the spew brake are kept in the spool under
//! file locks, so they hold across connections as across processes.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Condvar, Mutex};

use super::id::QueueId;
use super::runner::{Runner, Select, Summary};
use super::spool::{Area, Spool, SpoolError};
use crate::config::LoadedConfig;
use crate::transcript::Transcript;

/// A connection more for each this many messages of a profile waiting (a full flight).
const MESSAGES_PER_CONNECTION: usize = 32;

/// The messages of one profile in this pass, and whether more connections may open.
#[derive(Default)]
struct Profile {
    waiting: Mutex<VecDeque<QueueId>>,
    /// `None` until the first connection has tried to open a session to the relay; then
    /// whether it did.
    gate: Mutex<Option<bool>>,
    opened: Condvar,
}

impl Profile {
    /// The next message to send; `None` once all are taken.
    fn next(&self) -> Option<QueueId> {
        self.waiting.lock().ok()?.pop_front()
    }

    /// Says (once) whether the first connection got a session.
    fn open_gate(&self, ok: bool) {
        if let Ok(mut gate) = self.gate.lock()
            && gate.is_none()
        {
            *gate = Some(ok);
            self.opened.notify_all();
        }
    }

    /// Waits until the first connection got a session or gave up; whether it got one.
    fn wait_for_gate(&self) -> bool {
        let Ok(mut gate) = self.gate.lock() else {
            return false;
        };
        loop {
            if let Some(ok) = *gate {
                return ok;
            }
            gate = match self.opened.wait(gate) {
                Ok(gate) => gate,
                Err(_) => return false,
            };
        }
    }
}

/// Takes the messages of one profile until none is left.
struct Taking<'p>(&'p Profile);

impl Iterator for Taking<'_> {
    type Item = QueueId;
    fn next(&mut self) -> Option<QueueId> {
        self.0.next()
    }
}

/// One pass over the queue as `select` says, with up to each profile's `max_connections`.
/// Notices queued in the pass are sent in it. Returns the counts of every connection together.
pub fn run(
    spool: &Spool,
    config: &LoadedConfig,
    transcript: &Transcript,
    select: &Select,
) -> Result<Summary, SpoolError> {
    let mut first = Runner::new(spool, config, transcript);
    let ids = first.begin_pass(select)?;
    // By profile, in queue order within each; a message whose state cannot be read now goes
    // with the first, which reports it when it locks it.
    let mut by_profile: BTreeMap<String, Profile> = BTreeMap::new();
    for id in ids {
        let profile = spool
            .state(Area::Queue, &id)
            .map(|s| s.profile)
            .unwrap_or_default();
        let entry = by_profile.entry(profile).or_default();
        if let Ok(waiting) = entry.waiting.get_mut() {
            waiting.push_back(id);
        }
    }
    let tell = |name: &str, ok: bool| {
        if let Some(profile) = by_profile.get(name) {
            profile.open_gate(ok);
        }
    };
    let mut first = first.on_session(&tell);
    std::thread::scope(|scope| {
        let mut more = Vec::new();
        for (name, profile) in &by_profile {
            let waiting = profile.waiting.lock().map_or(0, |w| w.len());
            let allowed = config.profile(name).map_or(1, |p| p.connections());
            let extra = (waiting / MESSAGES_PER_CONNECTION).min(allowed.saturating_sub(1));
            for _ in 0..extra {
                more.push(scope.spawn(move || {
                    if !profile.wait_for_gate() {
                        return Ok(Summary::default());
                    }
                    let mut runner = Runner::new(spool, config, transcript);
                    let mut summary = Summary::default();
                    let streamed = runner.stream(&mut Taking(profile), select, &mut summary);
                    let notices = runner.send_notices(&mut summary);
                    runner.close();
                    streamed.and(notices).map(|()| summary)
                }));
            }
        }
        let mut summary = Summary::default();
        let mut result = Ok(());
        for profile in by_profile.values() {
            result = first.stream(&mut Taking(profile), select, &mut summary);
            // Connections still waiting for this profile's first session give up.
            profile.open_gate(false);
            if result.is_err() {
                break;
            }
        }
        for profile in by_profile.values() {
            profile.open_gate(false);
        }
        let result = result.and_then(|()| first.send_notices(&mut summary));
        first.close();
        for connection in more {
            match connection.join() {
                Ok(Ok(other)) => summary.add(other),
                Ok(Err(e)) => return Err(e),
                Err(_) => crate::messages::alert("a queue connection stopped unexpectedly"),
            }
        }
        result.map(|()| summary)
    })
}
