//! Counters of what the queue runners did, by profile, for `relayctl metrics`: kept in
//! `$spool/counters.json` ([`super::shared`]) so that they survive restarts and only ever go up,
//! as Prometheus counters must. A runner counts in memory and adds its counts to the file once,
//! when it closes ([`Tally::flush`]): one locked write per pass, not one per message. A runner
//! that dies before that loses its pass's counts, never anyone else's.
//!
//! Only profile names and fixed words are kept: no address, subject or reply text.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::shared;
use super::spool::{Spool, SpoolError};
use crate::relay::{DeliveryError, Fault};

const FILE: &str = "counters.json";

/// Everything counted, by profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counters {
    pub profiles: BTreeMap<String, ProfileCounters>,
}

/// What was counted for one profile (the profile whose relay was tried, a fallback included).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileCounters {
    /// Mail transactions the relay accepted for every recipient still pending.
    pub delivered: u64,
    /// Failed mail transactions and failed sessions (connect, TLS, login), by
    /// [`failure_class`].
    pub failures: BTreeMap<String, u64>,
    /// Logins the relay refused, for good or for now.
    pub login_failures: u64,
    /// Times the spew brake froze the profile's delivery.
    pub brake_trips: u64,
}

/// The class of a delivery failure, a fixed word: `throttled` for a reply that asks to slow
/// down, else its [`Fault`] (`transient`, `permanent`, `recipient`, `auth`, `config`,
/// `message`).
pub fn failure_class(e: &DeliveryError) -> &'static str {
    if super::ratelimit::throttling_reply(e).is_some() {
        return "throttled";
    }
    match e.fault() {
        Fault::Transient => "transient",
        Fault::Permanent => "permanent",
        Fault::Recipient => "recipient",
        Fault::Auth => "auth",
        Fault::Config => "config",
        Fault::Message => "message",
    }
}

/// Counts kept in memory by one runner until it closes.
#[derive(Debug, Default)]
pub struct Tally {
    counts: Counters,
}

impl Tally {
    fn profile(&mut self, name: &str) -> &mut ProfileCounters {
        self.counts.profiles.entry(name.to_string()).or_default()
    }

    /// The relay of profile `name` accepted a message.
    pub fn delivered(&mut self, name: &str) {
        self.profile(name).delivered += 1;
    }

    /// A transaction or a session of profile `name` failed with `e`.
    pub fn failed(&mut self, name: &str, e: &DeliveryError) {
        let counts = self.profile(name);
        *counts
            .failures
            .entry(failure_class(e).to_string())
            .or_default() += 1;
        if matches!(
            e,
            DeliveryError::Auth { .. } | DeliveryError::AuthTemporary { .. }
        ) {
            counts.login_failures += 1;
        }
    }

    /// The spew brake froze profile `name`.
    pub fn brake_tripped(&mut self, name: &str) {
        self.profile(name).brake_trips += 1;
    }

    /// Adds the counts to the spool's file (nothing is written when nothing was counted).
    pub fn flush(self, spool: &Spool) -> Result<(), SpoolError> {
        if self.counts.profiles.is_empty() {
            return Ok(());
        }
        shared::update(&spool.root().join(FILE), |file: &mut Counters| {
            for (name, add) in self.counts.profiles {
                let counts = file.profiles.entry(name).or_default();
                counts.delivered += add.delivered;
                for (class, n) in add.failures {
                    *counts.failures.entry(class).or_default() += n;
                }
                counts.login_failures += add.login_failures;
                counts.brake_trips += add.brake_trips;
            }
        })
    }
}

/// What the spool at `root` counted so far, read without creating anything.
pub fn read(root: &Path) -> Counters {
    shared::read(&root.join(FILE)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth_refused() -> DeliveryError {
        DeliveryError::Auth {
            server: "relay.example:587".into(),
            user: "vm1".into(),
            reply: "535 5.7.8 authentication failed".into(),
            hint: String::new(),
        }
    }

    #[test]
    fn passes_add_up_and_survive_in_the_spool() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        assert_eq!(read(dir.path()), Counters::default());
        for _ in 0..2 {
            let mut tally = Tally::default();
            tally.delivered("uni");
            tally.delivered("uni");
            tally.failed("uni", &auth_refused());
            tally.brake_tripped("backup");
            tally.flush(&spool).unwrap();
        }
        Tally::default().flush(&spool).unwrap();
        let counters = read(dir.path());
        let uni = &counters.profiles["uni"];
        assert_eq!(uni.delivered, 4);
        assert_eq!(uni.failures["auth"], 2);
        assert_eq!(uni.login_failures, 2);
        assert_eq!(counters.profiles["backup"].brake_trips, 2);
    }

    #[test]
    fn throttling_is_its_own_class() {
        let throttled = DeliveryError::Data {
            server: "relay.example:587".into(),
            reply: "451 4.7.28 rate limited".into(),
            permanent: false,
        };
        assert_eq!(failure_class(&throttled), "throttled");
        assert_eq!(failure_class(&auth_refused()), "auth");
    }
}
