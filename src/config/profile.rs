//! One relay profile: where to connect, how to secure the connection, who to log in as and where
//! the secret lives. A profile never holds the secret itself.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::presets::{DEFAULT_MAX_MESSAGE_SIZE, Preset};
use super::{ByteSize, ConfigError};
use crate::secrets::SecretRef;

/// How the connection to the relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain connection upgraded with STARTTLS; refused when the relay does not offer it (587).
    Starttls,
    /// Implicit TLS from the first byte (465).
    Tls,
    /// Use STARTTLS when offered, plain otherwise (never with a password).
    Opportunistic,
    /// No encryption (a trusted network relay on port 25; never with a password).
    None,
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsMode::Starttls => "starttls",
            TlsMode::Tls => "tls",
            TlsMode::Opportunistic => "opportunistic",
            TlsMode::None => "none",
        })
    }
}

/// Seconds allowed for connecting and for each reply of the relay, unless the profile says otherwise.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// A relay profile as stored in `[profiles.NAME]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The preset the profile was made from.
    pub preset: Preset,
    /// Relay host name or IP address.
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// Name to verify the relay's certificate against when `host` is an IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_name: Option<String>,
    /// Extra CA certificates (PEM) trusted for this relay, besides the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// TLS client certificate (PEM) presented to the relay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<PathBuf>,
    /// Private key (PEM) of `client_cert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<PathBuf>,
    /// SMTP AUTH login; no login means no AUTH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Envelope sender and default From address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Where the password lives (never the password itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretRef>,
    /// Name announced in EHLO; default: this host's fully qualified name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ehlo_name: Option<String>,
    /// Seconds for connecting and for each reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// Largest message this relay accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_message_size: Option<ByteSize>,
    /// Whether callers may choose the envelope sender (`sendmail -f`) and keep their own From.
    /// Off by default: most relays accept only the account's own (verified) addresses.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_from_override: bool,
    /// Reply-To added when relayctl replaces a caller's From and the message has no Reply-To.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Profiles tried in order when this relay fails temporarily.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback: Vec<String>,
    /// Where notices about this profile's failed, delayed or held mail go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<String>,
}

impl Profile {
    /// Whether this profile logs in to the relay.
    pub fn authenticates(&self) -> bool {
        self.user.is_some()
    }

    /// The timeout for connecting and for each reply.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS))
    }

    /// The largest message relayctl hands to this relay.
    pub fn max_message_size(&self) -> ByteSize {
        self.max_message_size.unwrap_or(DEFAULT_MAX_MESSAGE_SIZE)
    }

    /// Checks what no relay could work with, so that mistakes surface at `setup` and at load time
    /// rather than in the middle of a delivery.
    pub fn validate(&self, name: &str) -> Result<(), ConfigError> {
        let invalid = |reason: String| ConfigError::InvalidProfile {
            name: name.to_string(),
            reason,
        };
        if self.host.trim().is_empty() {
            return Err(invalid("no relay host (set `host`)".into()));
        }
        if self.port == 0 {
            return Err(invalid("port 0 is not a port".into()));
        }
        if self.authenticates() {
            if matches!(self.tls, TlsMode::None | TlsMode::Opportunistic) {
                return Err(invalid(format!(
                    "tls = \"{}\" with a user would risk sending the password in clear; use starttls or tls",
                    self.tls
                )));
            }
            if self.secret.is_none() {
                return Err(invalid(
                    "a user is set but no secret store (set `secret`, e.g. \"file\")".into(),
                ));
            }
        }
        if self.client_cert.is_some() != self.client_key.is_some() {
            return Err(invalid("client_cert and client_key go together".into()));
        }
        for (key, value) in [
            ("from", &self.from),
            ("reply_to", &self.reply_to),
            ("notify", &self.notify),
        ] {
            if let Some(addr) = value
                && !crate::message::is_plausible_address(addr)
            {
                return Err(invalid(format!("`{key}` {addr:?} is not an email address")));
            }
        }
        Ok(())
    }
}
