//! Streaming a pass: the messages of one profile go out on its session one after another
//! without waiting for the replies to the ones before (where the relay offers PIPELINING and
//! CHUNKING and the message fits in one chunk), up to a flight of [`FLIGHT`] messages. Their
//! replies are read in order, and each message is recorded as it lands exactly as one sent
//! alone: what the relay accepted is on disk before anything else happens, a temporary
//! failure goes on to the profile's fallbacks, limits and the spew brake are taken per message
//! before it is sent. A relay 20 ms away then takes a message every few milliseconds on one
//! connection instead of one per round trip.
//!
//! A message that cannot be streamed (too large, a relay without CHUNKING, a frozen profile,
//! another profile) waits until the flight has landed and goes alone.

use std::collections::VecDeque;

use super::{Landed, Runner, Select, Summary, Ticket};
use crate::log::Attempt;
use crate::message::envelope::Envelope;
use crate::queue::id::QueueId;
use crate::queue::ratelimit::Grant;
use crate::queue::relays::{RelaySession, Relays};
use crate::queue::spool::{Locked, SpoolError};

/// The most messages in flight on one session...
const FLIGHT: usize = 32;
/// ... and the most replies they may wait for, so that the relay never blocks writing replies
/// that are not being read while the client blocks writing the next message.
const FLIGHT_REPLIES: usize = 512;

/// A message sent whose replies are not read yet.
pub(super) struct InFlight<'s> {
    /// The profile whose session carries it.
    pub(super) name: String,
    locked: Locked<'s>,
    envelope: Envelope,
    grant: Option<Grant>,
    log: Attempt,
    /// How many replies it waits for (MAIL, each RCPT, BDAT).
    replies: usize,
}

impl<'a, R: Relays> Runner<'a, R> {
    /// Attempts each message of `ids` that `select` takes, streaming where the relay allows;
    /// every message has landed when it returns.
    pub(in crate::queue) fn stream(
        &mut self,
        ids: &mut dyn Iterator<Item = QueueId>,
        select: &Select,
        summary: &mut Summary,
    ) -> Result<(), SpoolError> {
        for id in ids {
            if let Some(locked) = self.take(&id, select, summary)? {
                self.launch(locked, summary)?;
            }
        }
        self.land_all(summary)
    }

    /// Sends a message into the flight of its profile's session, or alone once the flight has
    /// landed when it cannot be streamed.
    fn launch(&mut self, mut locked: Locked<'a>, summary: &mut Summary) -> Result<(), SpoolError> {
        let name = locked.state.profile.clone();
        if self.flight.front().is_some_and(|f| f.name != name) || self.doomed.contains_key(&name) {
            self.land_all(summary)?;
        }
        let frozen = self.frozen(&mut locked)?;
        let size = locked.state.size;
        let streams = self
            .sessions
            .get(&name)
            .is_none_or(|session| session.streams(size));
        if frozen.is_some() || !streams || locked.state.pending().next().is_none() {
            self.land_all(summary)?;
            return self.alone(locked, frozen, Vec::new(), 0, summary);
        }
        let head = locked.head()?;
        let mut ticket = match self.ticket(&name, &locked, &head)? {
            Ok(ticket) => ticket,
            Err(outcome) => {
                self.land_all(summary)?;
                return self.alone(locked, None, vec![(name, outcome)], 1, summary);
            }
        };
        // A message that fits in one flight (one chunk) is all in its head, already read; a
        // larger one streams from the spool through DATA, whatever its size.
        let whole = ticket.session.streams(size) && head.len() as u64 == size;
        let Some(message) = whole.then_some(head) else {
            // A session just opened (nothing was in flight) to a relay that takes this message
            // only alone, or a message that could not be read: it goes the usual way.
            let landed = self.send_now(locked, &name, ticket)?;
            return self.after(landed, &name, summary);
        };
        let envelope = locked.state.pending_envelope();
        if let Err(e) = ticket
            .session
            .begin(&envelope, &message, locked.state.eight_bit)
        {
            let landed = self.land(locked, &name, ticket, Err(e))?;
            return self.after(landed, &name, summary);
        }
        let Ticket {
            session,
            grant,
            log,
        } = ticket;
        self.sessions.insert(name.clone(), session);
        let replies = envelope.recipients.len() + 2;
        self.flight.push_back(InFlight {
            name: name.clone(),
            locked,
            envelope,
            grant,
            log,
            replies,
        });
        // What the relay has answered lands at once, so that few replies wait unread (a relay
        // that drops the connection takes those with it, and their messages go again).
        while self.flight.front().is_some_and(|f| f.name == name)
            && self
                .sessions
                .get_mut(&name)
                .is_some_and(|session| session.answered())
        {
            self.land_one(summary)?;
        }
        // A full flight lands by half, so that the next half goes out together.
        let full = |flight: &VecDeque<InFlight<'_>>, share: usize| {
            flight.len() * share >= FLIGHT
                || flight.iter().map(|f| f.replies).sum::<usize>() * share >= FLIGHT_REPLIES
        };
        if full(&self.flight, 1) {
            while full(&self.flight, 2) {
                self.land_one(summary)?;
            }
        }
        Ok(())
    }

    /// Reads the replies to the oldest message in flight and records what became of it.
    fn land_one(&mut self, summary: &mut Summary) -> Result<(), SpoolError> {
        let Some(InFlight {
            name,
            locked,
            envelope,
            grant,
            log,
            ..
        }) = self.flight.pop_front()
        else {
            return Ok(());
        };
        let Some(mut session) = self.sessions.remove(&name) else {
            // A flight always has its session; were it gone, the message is tried afresh.
            return self.alone(locked, None, Vec::new(), 0, summary);
        };
        let result = session.finish(&envelope);
        let ticket = Ticket {
            session,
            grant,
            log,
        };
        let landed = self.land(locked, &name, ticket, result)?;
        self.after(landed, &name, summary)
    }

    /// Lands every message in flight.
    fn land_all(&mut self, summary: &mut Summary) -> Result<(), SpoolError> {
        while !self.flight.is_empty() {
            self.land_one(summary)?;
        }
        Ok(())
    }

    /// What a message that its profile `name` did not deliver still needs (its fallbacks, the
    /// decision), and its count.
    fn after(
        &mut self,
        landed: Landed<'_>,
        name: &str,
        summary: &mut Summary,
    ) -> Result<(), SpoolError> {
        let outcome = match landed {
            Landed::Delivered => super::Outcome::Delivered,
            Landed::Pending(locked, outcome) => {
                self.through_chain(*locked, None, vec![(name.to_string(), outcome)], 1)?
            }
        };
        summary.count(name, &outcome);
        Ok(())
    }

    /// A message going alone through its chain from the `skip`th relay on, and its count.
    fn alone(
        &mut self,
        locked: Locked<'_>,
        frozen: Option<String>,
        relays: Vec<(String, crate::queue::decision::RelayOutcome)>,
        skip: usize,
        summary: &mut Summary,
    ) -> Result<(), SpoolError> {
        let profile = locked.state.profile.clone();
        let outcome = self.through_chain(locked, frozen, relays, skip)?;
        summary.count(&profile, &outcome);
        Ok(())
    }
}
