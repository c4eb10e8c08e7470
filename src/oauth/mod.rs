//! OAuth2 for relays that take access tokens instead of passwords (Gmail, Microsoft 365).
//!
//! `setup PRESET --oauth` signs in once ([`flow`]): the device flow where the provider allows it
//! for mail, else a URL opened on any other machine and the redirect pasted back. The refresh
//! token goes to the profile's secret store. Before each connection [`TokenSource`] gives an
//! access token: the cached one while it is fresh, else a new one from the token endpoint,
//! fetched by one process at a time ([`cache`]).

pub mod cache;
mod endpoint;
pub mod flow;
mod http;
mod pkce;
mod proxy;
mod secret;

use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

pub use endpoint::{Client, Grant};
pub use secret::OAuthSecret;

use crate::config::{OAuth, Profile};
use crate::secrets::{SecretError, SecretStore};
use crate::transcript::Transcript;
use cache::CachedToken;

/// What can go wrong getting a token. Messages never contain a token or secret.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The endpoint answered with an OAuth error (RFC 6749 §5.2).
    #[error("{endpoint} refused: {error}{}", description.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        endpoint: String,
        error: String,
        description: Option<String>,
    },
    /// The endpoint could not be reached or its answer understood.
    #[error("OAuth2 endpoint {endpoint}: {reason}")]
    Endpoint { endpoint: String, reason: String },
    /// The refresh token no longer works: the profile must sign in again. `first` is set for
    /// the first process to find out since it last worked (which gives the alert).
    #[error(
        "the OAuth2 refresh token of profile `{profile}` was refused ({reason}): it was revoked or has expired; sign in again with `relayctl setup {preset} --oauth --name {profile} ...` (the same options as before)"
    )]
    Revoked {
        profile: String,
        preset: String,
        reason: String,
        first: bool,
    },
    /// Signing in at setup did not finish.
    #[error("signing in did not finish: {0}")]
    SignIn(String),
    #[error("token cache {}: {reason}", path.display())]
    Cache { path: PathBuf, reason: String },
    #[error(transparent)]
    Secret(#[from] SecretError),
}

impl OAuthError {
    /// Whether trying again later may help: the endpoint is down or busy.
    pub fn is_transient(&self) -> bool {
        match self {
            OAuthError::Endpoint { .. } | OAuthError::Cache { .. } => true,
            OAuthError::Refused { error, .. } => {
                matches!(error.as_str(), "temporarily_unavailable" | "server_error")
            }
            OAuthError::Secret(e) => e.is_transient(),
            _ => false,
        }
    }
}

/// An access token to log in with.
pub struct AccessToken {
    pub secret: SecretString,
    /// Just issued by the endpoint (not from the cache): a relay refusing it will refuse the
    /// next one too.
    pub fresh: bool,
}

/// Access tokens for one OAuth2 profile.
pub struct TokenSource<'a> {
    pub name: &'a str,
    pub profile: &'a Profile,
    pub oauth: &'a OAuth,
    /// Where the refresh token (and client secret) live.
    pub store: Box<dyn SecretStore>,
    /// The spool whose `oauth/` directory caches the access tokens.
    pub spool: &'a Path,
    /// The `-v` transcript.
    pub transcript: Transcript,
}

impl TokenSource<'_> {
    /// A token to log in with: the cached one while it is fresh and not `refused` (the one the
    /// relay just turned down), else a new one. When another process refreshed meanwhile,
    /// its token is used.
    pub fn access_token(&self, refused: Option<&SecretString>) -> Result<AccessToken, OAuthError> {
        let mut cache = cache::lock(self.spool, self.name)?;
        if let Some(token) = cache.token() {
            let was_refused =
                refused.is_some_and(|r| r.expose_secret() == token.access_token.expose_secret());
            if token.is_fresh(now()) && !was_refused {
                return Ok(AccessToken {
                    secret: token.access_token,
                    fresh: false,
                });
            }
            cache.clear()?;
        }
        self.refresh_locked(&mut cache).map(|t| AccessToken {
            secret: t.access_token,
            fresh: true,
        })
    }

    /// A new token from the endpoint, whatever the cache holds (`doctor`).
    pub fn refresh(&self) -> Result<CachedToken, OAuthError> {
        let mut cache = cache::lock(self.spool, self.name)?;
        self.refresh_locked(&mut cache)
    }

    fn refresh_locked(&self, cache: &mut cache::Locked) -> Result<CachedToken, OAuthError> {
        let secret = OAuthSecret::read(self.store.as_ref())?;
        let client = Client {
            oauth: self.oauth,
            client_secret: secret.client_secret.as_ref(),
            timeout: self.profile.timeout(),
            ca_file: self.profile.ca_file.as_deref(),
            transcript: self.transcript,
        };
        let obtained = now();
        let grant = match client.refresh(&secret.refresh_token) {
            Ok(grant) => grant,
            Err(OAuthError::Refused {
                error, description, ..
            }) if error == "invalid_grant" => {
                let first = cache.mark_revoked()?;
                return Err(OAuthError::Revoked {
                    profile: self.name.to_string(),
                    preset: self.profile.preset.to_string(),
                    reason: description.map_or(error.clone(), |d| format!("{error}: {d}")),
                    first,
                });
            }
            Err(e) => return Err(e),
        };
        let token = CachedToken {
            access_token: grant.access_token,
            obtained,
            expires: obtained + grant.lifetime,
            scope: grant.scope,
        };
        cache.store(&token)?;
        if let Some(rotated) = grant.refresh_token
            && rotated.expose_secret() != secret.refresh_token.expose_secret()
        {
            self.keep_rotated(rotated, secret.client_secret);
        }
        Ok(token)
    }

    /// Stores a new refresh token the endpoint issued (Microsoft rotates them). A store that
    /// relayctl cannot write keeps the old one, which stays valid until it expires.
    fn keep_rotated(&self, refresh_token: SecretString, client_secret: Option<SecretString>) {
        let rotated = OAuthSecret {
            refresh_token,
            client_secret,
        };
        if let Err(e) = rotated.write(self.store.as_ref()) {
            crate::messages::warning(&format!(
                "profile {}: the token endpoint issued a new refresh token that cannot be kept ({e}); the old one is used until it expires",
                self.name
            ));
        }
    }
}

fn now() -> u64 {
    crate::queue::schedule::now()
}

/// A stored token for `setup`: the access token of a fresh sign-in, cached so that the first
/// message needs no refresh.
pub fn cache_grant(spool: &Path, name: &str, grant: &Grant) -> Result<(), OAuthError> {
    let obtained = now();
    cache::lock(spool, name)?.store(&CachedToken {
        access_token: grant.access_token.clone(),
        obtained,
        expires: obtained + grant.lifetime,
        scope: grant.scope.clone(),
    })
}
