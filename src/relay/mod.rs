//! Delivery to the relay over SMTP. The wire protocol is relayctl's own small client
//! ([`smtp`]): lettre's blocking client cannot set TCP_NODELAY (each message then stalls ~40 ms
//! on a Nagle/delayed-ACK interaction), cannot pipeline, hides EHLO keywords such as SIZE and
//! DSN, and wants every message whole in memory. [`Session`] puts relayctl's policy on top.

mod credentials;
mod hello;
mod session;
pub mod smtp;
pub(crate) mod tls;
mod transcript;

use std::fmt;

pub use credentials::{Credentials, ProfileCredentials};
pub use hello::{client_name, system_fqdn};
pub use session::Session;
pub use transcript::Transcript;

use crate::config::{ByteSize, Profile};
use crate::message::canonical::canonicalize;
use crate::oauth::OAuthError;
use crate::secrets::SecretError;

/// Who a message is from and to, as given to the relay in MAIL FROM and RCPT TO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The envelope sender; `None` is the null sender `<>`.
    pub sender: Option<String>,
    pub recipients: Vec<String>,
    /// Delivery status notifications asked for (sent only to relays that offer DSN).
    pub dsn: Dsn,
}

/// DSN parameters (RFC 3461): NOTIFY on each RCPT, RET and ENVID on MAIL.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dsn {
    /// `NEVER`, or a comma-separated subset of `SUCCESS,FAILURE,DELAY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<String>,
    /// `FULL` or `HDRS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The envelope identifier, already xtext-safe.
    pub envid: Option<String>,
}

impl Dsn {
    /// Whether any DSN parameter was asked for.
    pub fn is_requested(&self) -> bool {
        self.notify.is_some() || self.ret.is_some() || self.envid.is_some()
    }
}

/// What the relay said about one recipient.
pub type RecipientResult = Result<String, RecipientFailure>;

/// A recipient the relay did not accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientFailure {
    pub address: String,
    /// The relay's reply, code first.
    pub reply: String,
    /// A 5xx reply: retrying will not help.
    pub permanent: bool,
}

impl fmt::Display for RecipientFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}>: {}", self.address, self.reply)
    }
}

/// What the queue (and the exit code) should make of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Try again later: 4xx replies, network errors, timeouts, TLS handshake failures.
    Transient,
    /// The relay refused for good (5xx).
    Permanent,
    /// A recipient was refused for good.
    Recipient,
    /// The login was refused: the secret or the account needs attention.
    Auth,
    /// The profile does not match the relay (no STARTTLS, no AUTH, unreadable CA file).
    Config,
    /// The message itself cannot be sent (too large, needs an extension the relay lacks).
    Message,
}

/// Why a delivery failed. Every message names the relay and, when there is one, its reply.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("cannot connect to {server}: {reason}")]
    Connect { server: String, reason: String },
    #[error("TLS with {server} failed: {reason}")]
    Tls { server: String, reason: String },
    #[error("{server} does not offer STARTTLS; refusing to continue without TLS{}", if *.credentials { " (the password is never sent in clear)" } else { "" })]
    NoStarttls { server: String, credentials: bool },
    #[error("{server} offers no login method this profile can use ({methods}) on this connection")]
    NoAuthMechanism {
        server: String,
        methods: &'static str,
    },
    #[error("{server} refused the login for {user}: {reply}; {hint}")]
    Auth {
        server: String,
        user: String,
        reply: String,
        hint: String,
    },
    #[error("{server} refused the login for {user} for now: {reply}")]
    AuthTemporary {
        server: String,
        user: String,
        reply: String,
    },
    #[error("{server} rejected the sender <{sender}>: {reply}")]
    Sender {
        server: String,
        sender: String,
        reply: String,
        permanent: bool,
    },
    #[error("{server} rejected {}{}", list(failures), if *accepted > 0 { format!(" (delivered to the other {accepted})") } else { String::new() })]
    Recipients {
        server: String,
        failures: Vec<RecipientFailure>,
        accepted: usize,
    },
    #[error("{server} rejected the message: {reply}")]
    Data {
        server: String,
        reply: String,
        permanent: bool,
    },
    #[error("{server} refused the session at {stage}: {reply}")]
    Refused {
        server: String,
        stage: &'static str,
        reply: String,
        permanent: bool,
    },
    #[error("{server}: {stage} failed: {reason}")]
    Network {
        server: String,
        stage: &'static str,
        reason: String,
    },
    #[error(
        "the message is {size} bytes; profile `{profile}` allows at most {limit} (max_message_size)"
    )]
    TooLarge {
        size: u64,
        limit: ByteSize,
        profile: String,
    },
    #[error("{0}")]
    Unsupported(String),
    #[error("{0} is not a valid address")]
    InvalidAddress(String),
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    OAuth(#[from] OAuthError),
}

fn list(failures: &[RecipientFailure]) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl DeliveryError {
    /// How the failure should be treated.
    pub fn fault(&self) -> Fault {
        use DeliveryError::*;
        match self {
            Connect { .. } | Tls { .. } | Network { .. } | AuthTemporary { .. } => Fault::Transient,
            // A relay that refuses this host (greeting, EHLO, STARTTLS) for good needs the
            // admin, not a bounce.
            Refused { permanent, .. } => {
                if *permanent {
                    Fault::Config
                } else {
                    Fault::Transient
                }
            }
            // A relay that refuses the configured sender for good needs its profile fixed.
            Sender {
                permanent: true, ..
            } => Fault::Config,
            Sender { permanent, .. } | Data { permanent, .. } => {
                if *permanent {
                    Fault::Permanent
                } else {
                    Fault::Transient
                }
            }
            Recipients { failures, .. } => {
                if failures.iter().any(|f| f.permanent) {
                    Fault::Recipient
                } else {
                    Fault::Transient
                }
            }
            Auth { .. } => Fault::Auth,
            NoStarttls { .. } | NoAuthMechanism { .. } | Setup(_) | Secret(_) => Fault::Config,
            TooLarge { .. } | Unsupported(_) => Fault::Message,
            InvalidAddress(_) => Fault::Recipient,
            OAuth(e) if e.is_transient() => Fault::Transient,
            OAuth(OAuthError::Revoked { .. }) => Fault::Auth,
            OAuth(_) => Fault::Config,
        }
    }
}

/// Refuses a message of `size` canonical bytes that exceeds the profile's `max_message_size`.
pub fn check_size(name: &str, profile: &Profile, size: u64) -> Result<(), DeliveryError> {
    let limit = profile.max_message_size();
    // SIZE counts the message as transmitted, with its final CRLF.
    let size = size + 2;
    if size > limit.0 {
        return Err(DeliveryError::TooLarge {
            size,
            limit,
            profile: name.to_string(),
        });
    }
    Ok(())
}

/// Delivers one message through `profile`: one connection, TLS and AUTH as the profile says,
/// one transaction. Returns the relay's final reply. The secret is read only once the
/// connection is up and encrypted.
pub fn deliver(
    name: &str,
    profile: &Profile,
    credentials: &dyn Credentials,
    envelope: &Envelope,
    message: &[u8],
    transcript: &Transcript,
) -> Result<String, DeliveryError> {
    let wire = canonicalize(message);
    check_size(name, profile, wire.len() as u64)?;
    let mut session = Session::open(profile, credentials, transcript)?;
    let result = session.send(envelope, &wire);
    session.quit();
    result
}

/// Asks the relay about each recipient (MAIL FROM, RCPT TO, RSET) without sending a message.
pub fn verify(
    profile: &Profile,
    credentials: &dyn Credentials,
    envelope: &Envelope,
    transcript: &Transcript,
) -> Result<Vec<(String, RecipientResult)>, DeliveryError> {
    let mut session = Session::open(profile, credentials, transcript)?;
    let result = session.verify(envelope);
    session.quit();
    result
}
