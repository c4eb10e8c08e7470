//! The library's error type. Each variant says what went wrong in words an admin can act on and
//! carries enough structure for the binary to choose a sysexits code (see `main.rs`, the one place
//! where errors become exit codes). No variant ever holds a secret.

use std::path::PathBuf;

/// Everything that can make a relayctl command fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line was wrong (EX_USAGE).
    #[error("{0}")]
    Usage(String),

    /// The configuration is missing, unreadable or inconsistent (EX_CONFIG).
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),

    /// A secret could not be stored or resolved.
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),

    /// Signing in or getting an OAuth2 token failed.
    #[error(transparent)]
    OAuth(#[from] crate::oauth::OAuthError),

    /// The message given to relayctl is not acceptable (EX_DATAERR).
    #[error("{0}")]
    Message(String),

    /// Talking to the relay failed.
    #[error(transparent)]
    Delivery(#[from] crate::relay::DeliveryError),

    /// The SMTP listener cannot start, or its users file cannot be used.
    #[error(transparent)]
    Serve(#[from] crate::smtpd::error::ServeError),

    /// A local file could not be read or written (EX_IOERR).
    #[error("{context} {}: {source}", path.display())]
    Io {
        context: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    /// A local recipient could not be resolved (EX_NOUSER).
    #[error(transparent)]
    Alias(#[from] crate::aliases::AliasError),

    /// A message handed to sendmail cannot be submitted.
    #[error(transparent)]
    Submission(#[from] crate::message::submission::SubmissionError),

    /// The message could not be read from the caller.
    #[error(transparent)]
    Read(#[from] crate::submit::read::ReadError),

    /// The spool cannot be written or read (EX_TEMPFAIL: nothing was queued).
    #[error(transparent)]
    Spool(#[from] crate::queue::SpoolError),

    /// A queued message was given up on; it is in the failed area.
    #[error("message {id} was not delivered and is kept in the failed area: {reason}")]
    Undeliverable {
        id: crate::queue::QueueId,
        reason: String,
        fault: crate::relay::Fault,
    },

    /// A queue command named a message that is in neither the queue nor the failed area
    /// (EX_NOINPUT).
    #[error("no message {0} in the queue or the failed area (see relayctl queue list)")]
    NoMessage(crate::queue::QueueId),

    /// The caller may not do this (EX_NOPERM).
    #[error("{0}")]
    Forbidden(String),

    /// Another program's file is in the way (EX_CANTCREAT).
    #[error("{0}")]
    Conflict(String),

    /// relayctl runs with raised privileges (set-user-ID) and was asked for something other
    /// than handing over a message (EX_NOPERM).
    #[error(
        "`{refused}` is refused: relayctl runs with raised privileges (set-user-ID or set-group-ID), which allow only handing over a message (sendmail, or send without attachments); run it as root, or remove the bit: chmod ug-s {binary}"
    )]
    RaisedPrivileges { refused: String, binary: String },

    /// Reading standard input failed (EX_IOERR).
    #[error("cannot read standard input: {0}")]
    Stdin(std::io::Error),

    /// The first attempt at message `id`, run in a process of its own, ended with `code`; that
    /// process has said why on the same stderr.
    #[error("message {id}: the delivery attempt exited with {code}")]
    Attempt {
        id: crate::queue::QueueId,
        code: i32,
    },

    /// `setup` or `profile set-secret` could not prove the profile with its relay: the doctor's
    /// check that failed, on one line, and what was left as it was.
    #[error("{line}; {kept}")]
    NotProven {
        line: String,
        fault: crate::relay::Fault,
        kept: &'static str,
    },

    /// `relayctl doctor` found failures (exit 1); the report says which.
    #[error("{0} doctor check(s) failed")]
    ChecksFailed(usize),

    /// `relayctl test`: the message was not delivered yet; it stays in the queue (EX_TEMPFAIL,
    /// or EX_CONFIG when it is held for a configuration fault).
    #[error("test message {id} was not delivered and stays queued{}: {reason}", if *held { " (held)" } else { "" })]
    NotDelivered {
        id: crate::queue::QueueId,
        reason: String,
        held: bool,
    },
}

impl Error {
    /// What the layer below said, for `-v` only (see [`crate::secrets::SecretError::detail`]).
    pub fn detail(&self) -> Option<&str> {
        use crate::oauth::OAuthError;
        use crate::relay::DeliveryError;
        match self {
            Error::Secret(s)
            | Error::Delivery(DeliveryError::Secret(s))
            | Error::OAuth(OAuthError::Secret(s))
            | Error::Delivery(DeliveryError::OAuth(OAuthError::Secret(s))) => s.detail(),
            _ => None,
        }
    }

    /// Wraps an I/O error with what was being done and to which file.
    pub fn io(context: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            context,
            path: path.into(),
            source,
        }
    }
}

impl From<crate::smtpd::users::UsersError> for Error {
    fn from(e: crate::smtpd::users::UsersError) -> Self {
        Error::Serve(e.into())
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
