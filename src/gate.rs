//! The raised-privileges gate: with raised privileges (a set-user-ID or set-group-ID copy) only
//! handing over a message passes; everything else is refused before it runs.

use crate::error::{Error, Result};
use crate::privilege::raised;

/// What the caller asks relayctl to do, as far as raised privileges are concerned.
#[derive(Debug, PartialEq, Eq)]
pub enum Intent {
    /// Handing over a message the caller wrote: `sendmail` delivery or `-bs`, `send` without
    /// attachments.
    Submission,
    /// Anything else, named for the message (`queue`, `sendmail -bp`). Each reads, writes or
    /// deletes files the caller chooses or that belong to others, or shows other users' mail.
    Other(String),
}

/// The one gate for raised privileges: with them, only an [`Intent::Submission`] passes and
/// everything else is refused (EX_NOPERM) before it runs. `intent` is worked out only when
/// privileges are raised.
pub fn allow(intent: impl FnOnce() -> Result<Intent>) -> Result<()> {
    if !raised() {
        return Ok(());
    }
    match intent()? {
        Intent::Submission => Ok(()),
        Intent::Other(refused) => Err(Error::RaisedPrivileges {
            refused,
            binary: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "relayctl".into()),
        }),
    }
}
