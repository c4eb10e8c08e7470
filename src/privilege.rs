//! Whether this process runs with privileges its caller does not have (a set-user-ID or
//! set-group-ID binary). Then nothing the caller controls may choose files: config paths,
//! environment overrides and `sendmail -C` are ignored, and only handing over a message is
//! allowed ([`allow`]).

use crate::error::{Error, Result};

/// True when the effective user or group differs from the real one.
pub fn raised() -> bool {
    use rustix::process::{getegid, geteuid, getgid, getuid};
    getuid() != geteuid() || getgid() != getegid()
}

/// `value` unless the process runs with raised privileges.
pub fn unless_raised<T>(value: Option<T>) -> Option<T> {
    if raised() { None } else { value }
}

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
