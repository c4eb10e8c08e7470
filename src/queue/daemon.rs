//! `relayctl queue daemon`: runs the queue whenever a message is submitted or a retry is due.
//! Submitters wake it with a datagram on `daemon.sock` in the spool, so it never polls the disk
//! in a tight loop; between wake-ups it sleeps until the earliest retry.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use super::runner::Select;
use super::schedule::now;
use super::spool::{Area, Spool, SpoolError};
use super::state::Status;
use crate::config::LoadedConfig;
use crate::transcript::Transcript;

const SOCKET: &str = "daemon.sock";

/// The longest sleep: held messages and config changes are looked at at least this often.
const MAX_SLEEP: Duration = Duration::from_secs(300);

/// The shortest time between two passes. Every local user may write to `daemon.sock` (the
/// maildrop's submitters wake the daemon), so a flood of wake-ups must not become a flood of
/// passes: one pass a second at most, each taking everything due.
const MIN_PASS_INTERVAL: Duration = Duration::from_secs(1);

/// Tells a running daemon that a message is waiting. Harmless when no daemon runs.
pub fn wake(spool: &Spool) {
    wake_at(spool.root());
}

/// Wakes the daemon of the spool at `root`.
pub fn wake_at(root: &std::path::Path) {
    if let Ok(sock) = UnixDatagram::unbound() {
        let _ = sock.send_to(b"w", root.join(SOCKET));
    }
}

/// How often the metrics are written (see `write_metrics`), at most and at least.
const METRICS_INTERVAL: Duration = crate::metrics::textfile::INTERVAL;

/// Runs until killed. `reload` re-reads the configuration before each pass, and `before_pass`
/// runs first in each pass (it imports the maildrop). With `metrics_textfile` configured,
/// `write_metrics` runs after a pass once [`METRICS_INTERVAL`] has passed since it last ran,
/// and the daemon wakes at least that often, so that the file is never much older.
pub fn run(
    spool: &Spool,
    reload: &dyn Fn() -> Option<LoadedConfig>,
    before_pass: &dyn Fn(&Spool, &LoadedConfig),
    write_metrics: &dyn Fn(&Spool, &LoadedConfig),
    transcript: &Transcript,
) -> Result<(), SpoolError> {
    let path = spool.root().join(SOCKET);
    let _ = std::fs::remove_file(&path);
    let sock = UnixDatagram::bind(&path).map_err(|source| SpoolError::Io {
        action: "listen on",
        path: path.clone(),
        source,
    })?;
    // Users submitting through the maildrop wake the daemon too.
    let _ = std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o622));
    let mut config = reload();
    let mut metrics_written: Option<std::time::Instant> = None;
    loop {
        let started = std::time::Instant::now();
        if let Some(fresh) = reload() {
            config = Some(fresh);
        }
        if let Some(config) = &config {
            before_pass(spool, config);
            match super::pass::run(spool, config, transcript, &Select::Due) {
                Ok(s) => transcript.note(&format!("pass: {s:?}")),
                Err(e) => crate::messages::alert(&format!("queue pass failed: {e}")),
            }
            if config.metrics_textfile.is_some()
                && metrics_written.is_none_or(|t| t.elapsed() >= METRICS_INTERVAL)
            {
                write_metrics(spool, config);
                metrics_written = Some(std::time::Instant::now());
            }
        }
        let mut sleep = sleep_time(spool);
        if config
            .as_ref()
            .is_some_and(|c| c.metrics_textfile.is_some())
        {
            sleep = sleep.min(METRICS_INTERVAL);
        }
        let _ = sock.set_read_timeout(Some(sleep));
        let mut buf = [0u8; 16];
        // A datagram or the timeout: either way, run again. Further datagrams that arrived
        // meanwhile are drained so that a burst of submissions causes one pass.
        let _ = sock.recv(&mut buf);
        std::thread::sleep(MIN_PASS_INTERVAL.saturating_sub(started.elapsed()));
        let _ = sock.set_nonblocking(true);
        while sock.recv(&mut buf).is_ok() {}
        let _ = sock.set_nonblocking(false);
    }
}

/// Until the earliest next attempt of a queued message, between 1 s and `MAX_SLEEP`.
fn sleep_time(spool: &Spool) -> Duration {
    let now = now();
    let earliest = spool
        .ids(Area::Queue)
        .unwrap_or_default()
        .iter()
        .filter_map(|id| spool.state(Area::Queue, id).ok())
        .filter(|s| s.status == Status::Queued)
        .map(|s| s.next_attempt)
        .min();
    match earliest {
        Some(t) => Duration::from_secs(t.saturating_sub(now).clamp(1, MAX_SLEEP.as_secs())),
        None => MAX_SLEEP,
    }
}
