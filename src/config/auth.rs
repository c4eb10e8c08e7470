//! Which login mechanism a profile insists on (`auth` in a profile). Unset, relayctl takes the
//! strongest one the relay offers for the profile's kind of secret; set, it uses that one (a
//! SCRAM family with its `-PLUS` form, when the relay offers it) or none, so that a relay, or
//! someone between it and relayctl, cannot talk it down to a weaker one.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A login mechanism a profile can pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthMechanism {
    /// SCRAM-SHA-256-PLUS only: SCRAM-SHA-256 bound to the TLS channel.
    #[serde(rename = "scram-sha-256-plus")]
    ScramSha256Plus,
    /// SCRAM-SHA-256, with channel binding (`-PLUS`) when the relay offers it.
    #[serde(rename = "scram-sha-256")]
    ScramSha256,
    /// SCRAM-SHA-1-PLUS only.
    #[serde(rename = "scram-sha-1-plus")]
    ScramSha1Plus,
    /// SCRAM-SHA-1, with channel binding when the relay offers it.
    #[serde(rename = "scram-sha-1")]
    ScramSha1,
    #[serde(rename = "cram-md5")]
    CramMd5,
    #[serde(rename = "plain")]
    Plain,
    #[serde(rename = "login")]
    Login,
    /// The TLS client certificate (`client_cert`), with AUTH EXTERNAL where the relay offers
    /// it; a relay that offers no AUTH at all takes the certificate itself as the login.
    #[serde(rename = "external")]
    External,
    #[serde(rename = "xoauth2")]
    XOAuth2,
    #[serde(rename = "oauthbearer")]
    OAuthBearer,
}

impl AuthMechanism {
    /// The name as the config file spells it.
    pub fn name(self) -> &'static str {
        match self {
            AuthMechanism::ScramSha256Plus => "scram-sha-256-plus",
            AuthMechanism::ScramSha256 => "scram-sha-256",
            AuthMechanism::ScramSha1Plus => "scram-sha-1-plus",
            AuthMechanism::ScramSha1 => "scram-sha-1",
            AuthMechanism::CramMd5 => "cram-md5",
            AuthMechanism::Plain => "plain",
            AuthMechanism::Login => "login",
            AuthMechanism::External => "external",
            AuthMechanism::XOAuth2 => "xoauth2",
            AuthMechanism::OAuthBearer => "oauthbearer",
        }
    }

    /// Whether the mechanism logs in with an OAuth2 token (needs `oauth`).
    pub fn takes_token(self) -> bool {
        matches!(self, AuthMechanism::XOAuth2 | AuthMechanism::OAuthBearer)
    }
}

impl fmt::Display for AuthMechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
