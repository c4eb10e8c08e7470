//! Configuration: the TOML file format, the layering of system and user files, and presets.
//!
//! Precedence is flags > environment > user file > system file. `--config FILE` (or
//! `RELAYCTL_CONFIG`) replaces both files with one. A file never contains a secret, only a
//! reference to the store that holds it.

mod auth;
mod change;
mod duration;
mod file;
mod metrics;
mod oauth;
mod presets;
mod profile;
mod proxy;
mod rate;
mod routes;
mod server;
mod size;
mod tls;

pub use self::metrics::MetricsListen;
pub use auth::AuthMechanism;
pub use change::Change;
pub use duration::Span;
pub use file::{
    ConfigEdit, ConfigFile, ConfigLocation, Delivery, LoadedConfig, LoadedProfile, Origin,
    QueueSettings,
};
pub use oauth::{OAuth, Provider, is_loopback_url, provider as oauth_provider};
pub use presets::{DEFAULT_MAX_MESSAGE_SIZE, Preset, PresetDefaults};
pub use profile::{DEFAULT_TIMEOUT_SECS, Profile};
pub use proxy::{ProxyKind, ProxyUrl};
pub use rate::{Brake, Rate, RateLimitSetting};
pub use routes::{Pattern, Route, Routes};
pub use server::{DEFAULT_SERVER_USER, Listen, ServerSettings, canonical as canonical_ip};
pub use size::ByteSize;
pub use tls::{Fingerprint, TlsMode, TlsVersion};

use std::path::PathBuf;

/// What can be wrong with the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is not valid TOML or has unknown keys; `line` points at the problem.
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A config file that others may write could redirect mail or run commands as its reader.
    #[error("{} is writable by group or others; run: chmod go-w {}", path.display(), path.display())]
    UnsafePermissions { path: PathBuf },
    /// A config file that belongs to another user, or that others could replace.
    #[error(transparent)]
    Untrusted(#[from] crate::trust::Untrusted),
    #[error(
        "no relay profile is configured; run `relayctl setup PRESET` (e.g. `relayctl setup gmail --user you@gmail.com`)"
    )]
    NoProfile,
    #[error("several profiles are configured and none is the default; pass --profile NAME or run `relayctl profile default NAME` (profiles: {})", names.join(", "))]
    NoDefault { names: Vec<String> },
    #[error("no profile named `{name}`{}", if known.is_empty() { String::new() } else { format!(" (profiles: {})", known.join(", ")) })]
    UnknownProfile { name: String, known: Vec<String> },
    #[error("profile `{name}`: {reason}")]
    InvalidProfile { name: String, reason: String },
    #[error(
        "cannot tell where the user's configuration lives (no home directory); pass --config FILE or --system"
    )]
    NoHome,
}

/// Implements serde for a quantity written either as a bare number (`26214400`, `90`) or as text
/// with a unit (`"25MB"`, `"90s"`): `Display` writes it, `FromStr` reads the text form, and
/// `$from_number` makes it from a number.
macro_rules! serde_number_or_text {
    ($ty:ty, $from_number:expr) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[derive(serde::Deserialize)]
                #[serde(untagged)]
                enum Raw {
                    Number(u64),
                    Text(String),
                }
                match <Raw as serde::Deserialize>::deserialize(d)? {
                    Raw::Number(n) => Ok($from_number(n)),
                    Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
                }
            }
        }
    };
}
pub(crate) use serde_number_or_text;

/// Implements serde for a type through its `Display` and `FromStr`, so that it is a plain string in
/// the config file and a typo in it is reported with the file and line.
macro_rules! serde_as_string {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use serde_as_string;

serde_as_string!(Preset);
