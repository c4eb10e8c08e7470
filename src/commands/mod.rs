//! One module per subcommand, each with an `execute` function: they turn the command line into
//! calls below (submit, queue, doctor, config, ...) and print what the command shows.

pub mod doctor;
pub mod metrics;
pub mod profile;
pub mod queue;
pub mod route;
pub mod send;
pub mod sendmail;
pub mod serve;
pub mod server;
pub mod setup;
pub mod test_message;

use std::io::Read;

use crate::error::{Error, Result};

/// Reads all of stdin (the text `send` composes a message around), refusing more than `limit`
/// bytes so that a runaway producer cannot exhaust memory.
pub fn read_stdin(limit: u64) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(Error::Stdin)?;
    if buf.len() as u64 > limit {
        return Err(crate::submit::ReadError::TooLarge(limit).into());
    }
    Ok(buf)
}
