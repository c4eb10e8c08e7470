//! `metrics_textfile`: the metrics written to a file for node_exporter's textfile collector,
//! the usual way for jobs that are not always running. Every queue pass writes it (the daemon
//! at most every [`INTERVAL`]), atomically, so the collector never reads half a file. The file
//! is readable by all (node_exporter runs as its own user); it holds nothing secret.

use std::time::Duration;

use crate::atomic_file;
use crate::config::LoadedConfig;
use crate::queue::schedule::now;
use crate::queue::{Spool, SpoolError};

/// How often the daemon writes the file at most, and at least while it runs.
pub const INTERVAL: Duration = Duration::from_secs(30);

/// Writes the metrics to `metrics_textfile` when one is configured.
pub fn write(spool: &Spool, config: &LoadedConfig) -> Result<(), SpoolError> {
    let Some(path) = &config.metrics_textfile else {
        return Ok(());
    };
    let text = super::render(spool, Some(config), now())?;
    atomic_file::write(path, text.as_bytes(), 0o644, 0o755).map_err(|source| SpoolError::Io {
        action: "write the metrics to",
        path: path.clone(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_file_is_written_whole_and_readable_by_the_collector() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(&dir.path().join("spool")).unwrap();
        let mut config = LoadedConfig::default();
        write(&spool, &config).unwrap();
        let path = dir.path().join("textfile/relayctl.prom");
        assert!(!path.exists(), "nothing configured, nothing written");
        config.metrics_textfile = Some(path.clone());
        write(&spool, &config).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("# TYPE relayctl_build_info gauge\n"),
            "{text}"
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }
}
