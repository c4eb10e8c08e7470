//! What relayctl's processes learn about the relays and the queue runners, shared through
//! `$spool/health.json` ([`super::shared`]):
//!
//! - relays that just failed to connect or to answer, by `host:port`, until `retry_initial`
//!   has passed: a submission queues its message at once instead of making its caller wait for
//!   a relay known to be down (runners still try it when its messages are due, and the first
//!   relay that answers is forgotten as down);
//! - when the last queue pass began, so that `doctor` can tell queued mail that no runner
//!   retries.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::shared;
use super::spool::{Spool, SpoolError};

const FILE: &str = "health.json";

/// What the file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Health {
    /// Unix time the last queue pass (`queue run`, `queue flush`, the daemon) began.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_pass: Option<u64>,
    /// Relays that failed to connect or to answer, by `host:port`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub down: BTreeMap<String, Down>,
}

/// A relay that failed to connect or to answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Down {
    /// Unix time of the failure.
    pub since: u64,
    /// Submissions do not try the relay before this Unix time.
    pub until: u64,
    /// What went wrong.
    pub reason: String,
}

fn path(spool: &Spool) -> PathBuf {
    spool.root().join(FILE)
}

/// The relay at `server` (`host:port`) failed to connect or to answer at `now`: submissions
/// leave it alone until `until`. Entries that have run out are dropped.
pub fn relay_failed(
    spool: &Spool,
    server: &str,
    reason: &str,
    now: u64,
    until: u64,
) -> Result<(), SpoolError> {
    shared::update(&path(spool), |h: &mut Health| {
        h.down.retain(|_, d| d.until > now);
        h.down.insert(
            server.to_string(),
            Down {
                since: now,
                until,
                reason: reason.to_string(),
            },
        );
    })
}

/// The relay at `server` answered: it is no longer known to be down.
pub fn relay_answered(spool: &Spool, server: &str) -> Result<(), SpoolError> {
    shared::update(&path(spool), |h: &mut Health| {
        h.down.remove(server);
    })
}

/// Until when submissions leave the relay at `server` alone, when it is known to be down at
/// `now`.
pub fn relay_down_until(spool: &Spool, server: &str, now: u64) -> Result<Option<u64>, SpoolError> {
    shared::update(&path(spool), |h: &mut Health| {
        h.down.get(server).map(|d| d.until).filter(|&t| t > now)
    })
}

/// A queue pass begins at `now`.
pub fn pass_began(spool: &Spool, now: u64) -> Result<(), SpoolError> {
    shared::update(&path(spool), |h: &mut Health| h.last_pass = Some(now))
}

/// What the spool at `root` records, read without creating anything (for doctor); `None`
/// when nothing was recorded yet.
pub fn read(root: &Path) -> Option<Health> {
    shared::read(&root.join(FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relay_is_down_until_its_time_or_until_it_answers() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let server = "relay.example:587";
        assert_eq!(relay_down_until(&spool, server, 1000).unwrap(), None);
        relay_failed(&spool, server, "greeting: timed out", 1000, 1060).unwrap();
        assert_eq!(relay_down_until(&spool, server, 1000).unwrap(), Some(1060));
        assert_eq!(
            relay_down_until(&spool, "relay.example:25", 1000).unwrap(),
            None,
            "per host and port"
        );
        assert_eq!(relay_down_until(&spool, server, 1060).unwrap(), None);
        relay_failed(&spool, server, "connection refused", 1100, 1160).unwrap();
        relay_answered(&spool, server).unwrap();
        assert_eq!(relay_down_until(&spool, server, 1100).unwrap(), None);
    }

    #[test]
    fn the_last_pass_is_read_without_creating_the_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()), None);
        assert!(!dir.path().join(FILE).exists());
        let spool = Spool::open(dir.path()).unwrap();
        pass_began(&spool, 1234).unwrap();
        let health = read(dir.path()).unwrap();
        assert_eq!(health.last_pass, Some(1234));
        assert!(health.down.is_empty());
    }
}
