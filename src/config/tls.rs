//! How the connection to a relay is secured (`tls` in a profile).

use std::fmt;

use serde::{Deserialize, Serialize};

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
