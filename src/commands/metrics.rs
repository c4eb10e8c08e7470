//! `relayctl metrics`: prints the spool's metrics for Prometheus ([`crate::metrics`]). A
//! configuration that does not load is a warning: the queue and the counters are still worth
//! reporting, and a monitoring job must not lose them for it.

use std::io::Write as _;

use crate::error::{Error, Result};
use crate::messages;
use crate::options::Options;
use crate::queue::schedule::now;

pub fn execute(options: &Options) -> Result<()> {
    let spool = options.open_spool()?;
    let config = options
        .location
        .load()
        .map_err(|e| messages::warning(&format!("metrics without the configuration: {e}")))
        .ok();
    let text = crate::metrics::render(&spool, config.as_ref(), now())?;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io("cannot write to", "standard output", e))
        }
        _ => Ok(()),
    }
}
