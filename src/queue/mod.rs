//! The durable queue: every message is written to the spool (temp file, fsync, rename, fsync of
//! the directory) before delivery is attempted, so that "exit 0" means delivered or safely
//! queued. Runners retry with exponential backoff, fail over to fallback relays, hold mail when
//! the relay configuration is wrong, and move mail they give up on to the failed area with a
//! notice to the admin. Per-profile rate limits, relay throttling and the spew brake
//! ([`ratelimit`]) keep excess mail waiting in the queue instead of sending it. [`health`]
//! remembers relays that just failed to answer, so that no submitter waits for them, and when
//! the last queue pass ran; [`tally`] counts deliveries and failures for `relayctl metrics`.

pub mod daemon;
pub mod decision;
pub mod health;
pub mod id;
pub mod notice;
pub mod pass;
pub mod ratelimit;
pub mod relays;
pub mod runner;
pub mod schedule;
pub mod shared;
pub mod spool;
pub mod state;
pub mod tally;

pub use id::{InvalidQueueId, QueueId};
pub use runner::{Outcome, Runner, Select, Summary};
pub use spool::{Area, Listing, Spool, SpoolError, prepare_maildrop};
pub use state::MessageState;
