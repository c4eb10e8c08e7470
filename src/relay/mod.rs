//! Delivery to the relay over SMTP. The wire protocol is relayctl's own small client
//! ([`smtp`]): lettre's blocking client cannot set TCP_NODELAY (each message then stalls ~40 ms
//! on a Nagle/delayed-ACK interaction), cannot pipeline, hides EHLO keywords such as SIZE and
//! DSN, and wants every message whole in memory.
//!
//! [`policy`] decides how a profile's relay is spoken to (TLS, certificate checks, login
//! mechanism, token retry) and [`login`] runs the login it decides; [`Session`] (delivery) and
//! `doctor` both use them, so they cannot disagree, as they do [`route`] (source address, proxy). [`sasl`] holds the login mechanisms,
//! [`certificate`] names why a certificate was refused and reads what it says.

pub mod certificate;
mod credentials;
mod hello;
pub mod login;
pub mod policy;
mod route;
pub mod sasl;
mod session;
pub mod smtp;
pub mod tls;
mod translate;

use std::fmt;

pub use credentials::{Credentials, GivenPassword, ProfileCredentials};
pub use hello::client_name;
pub use route::route;
pub use session::Session;

use crate::config::{ByteSize, Profile};
use crate::message::canonical::canonicalize;
use crate::message::envelope::Envelope;
use crate::oauth::OAuthError;
use crate::secrets::SecretError;
use crate::transcript::Transcript;

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
    /// Try again later: 4xx replies, network errors, timeouts, a resolver that does not answer,
    /// TLS failures that are not the profile's (an expired certificate).
    Transient,
    /// The relay refused for good (5xx).
    Permanent,
    /// A recipient was refused for good.
    Recipient,
    /// The login was refused: the secret or the account needs attention.
    Auth,
    /// The profile does not match the relay (no STARTTLS, no AUTH, unreadable CA file, the
    /// wrong TLS mode for the port, a certificate it cannot verify, a host that does not exist).
    Config,
    /// The message itself cannot be sent (too large, needs an extension the relay lacks).
    Message,
}

/// Whose fault a refused MAIL FROM is: it decides whether the profile's mail is held or only
/// this message fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderRefusal {
    /// The profile's own address was refused: every message would be, so the profile needs
    /// fixing.
    ProfileAddress,
    /// A sender the caller chose was refused: this message only.
    CallerAddress,
    /// The command's parameters (ENVID, SIZE, SMTPUTF8, ...) or syntax were refused: this
    /// message only (`555 5.5.4 Unsupported option`).
    Parameters,
}

impl SenderRefusal {
    /// Classifies the relay's refusal of `sender` (`profile_from` is the profile's address).
    pub fn classify(reply: &smtp::Reply, sender: Option<&str>, profile_from: Option<&str>) -> Self {
        let status_subject = reply
            .enhanced_status()
            .and_then(|s| s.split('.').nth(1))
            .unwrap_or("");
        if matches!(reply.code, 501 | 552 | 555) || matches!(status_subject, "3" | "5" | "6") {
            return SenderRefusal::Parameters;
        }
        match (sender, profile_from) {
            (Some(s), Some(p)) if s.eq_ignore_ascii_case(p) => SenderRefusal::ProfileAddress,
            _ => SenderRefusal::CallerAddress,
        }
    }
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
    #[error(
        "{server} offers no login method this profile can use ({methods}) on this connection; {hint}"
    )]
    NoAuthMechanism {
        server: String,
        methods: String,
        hint: String,
    },
    #[error("{server} refused the login for {user}: {reply}; {hint}")]
    Auth {
        server: String,
        user: String,
        reply: String,
        hint: String,
    },
    /// The proxy refused its login (`proxy_secret`).
    #[error("{0}")]
    ProxyLogin(String),
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
        refusal: SenderRefusal,
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
    /// The profile's setup does not match the relay ([`policy::SetupFault`]): the TLS mode for
    /// the port, a certificate the profile cannot verify, a host that does not exist. `fix` is
    /// the one `doctor` gives.
    #[error("{server}: {problem} ({detail}); {fix}")]
    Mismatch {
        server: String,
        problem: String,
        detail: String,
        fix: String,
    },
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
    /// Whether the relay could not be reached or did not answer (refused, reset or unreachable
    /// connections, timeouts, a dialogue broken off), as opposed to answering with a refusal:
    /// a relay that is down for now.
    pub fn is_unanswered(&self) -> bool {
        matches!(
            self,
            DeliveryError::Connect { .. } | DeliveryError::Network { .. }
        ) && self.fault() == Fault::Transient
    }

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
            // A relay that refuses the profile's own sender for good needs the profile fixed;
            // a sender or parameters of one message's choosing fail that message only.
            Sender {
                permanent: true,
                refusal,
                ..
            } => match refusal {
                SenderRefusal::ProfileAddress => Fault::Config,
                SenderRefusal::CallerAddress => Fault::Permanent,
                SenderRefusal::Parameters => Fault::Message,
            },
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
            Auth { .. } | ProxyLogin(_) => Fault::Auth,
            // A locked keyring is unlocked at its owner's next login: the message waits.
            Secret(e) if e.is_transient() => Fault::Transient,
            NoStarttls { .. } | NoAuthMechanism { .. } | Setup(_) | Mismatch { .. } | Secret(_) => {
                Fault::Config
            }
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
    let mut session = Session::open(name, profile, credentials, transcript)?;
    let result = session.send(envelope, &wire);
    session.quit();
    result
}

/// Asks the relay about each recipient (MAIL FROM, RCPT TO, RSET) without sending a message.
pub fn verify(
    name: &str,
    profile: &Profile,
    credentials: &dyn Credentials,
    envelope: &Envelope,
    transcript: &Transcript,
) -> Result<Vec<(String, RecipientResult)>, DeliveryError> {
    let mut session = Session::open(name, profile, credentials, transcript)?;
    let result = session.verify(envelope);
    session.quit();
    result
}
