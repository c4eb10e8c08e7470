//! What a session logs in with: a profile's password, or for OAuth2 profiles an access token.
//! Both are read only when the connection is encrypted and the relay asks for a login.

use std::path::Path;

use crate::config::Profile;
use crate::oauth::{AccessToken, OAuthError, TokenSource};
use crate::secrets::{SecretError, SecretString, proxy_store_for, store_for};
use crate::transcript::Transcript;

/// A login's secrets, asked for only when needed.
pub trait Credentials {
    /// The password of a password profile.
    fn password(&self) -> Result<SecretString, SecretError>;
    /// An access token of an OAuth2 profile; not `refused`, the one the relay just turned down.
    fn access_token(&self, refused: Option<&SecretString>) -> Result<AccessToken, OAuthError>;
    /// The password of the profile's proxy (`proxy_secret`); read before connecting, and only
    /// when the proxy URL names a user.
    fn proxy_password(&self) -> Result<SecretString, SecretError> {
        Err(SecretError::NotFound {
            store: "proxy_secret".into(),
            hint: "these credentials hold no proxy password".into(),
        })
    }
}

/// The credentials of a configured profile: its secret store and, for OAuth2, the token cache.
pub struct ProfileCredentials<'a> {
    pub name: &'a str,
    pub profile: &'a Profile,
    /// The config file that defines the profile (a file store's default lives beside it).
    pub file: &'a Path,
    /// The spool whose `oauth/` directory caches access tokens.
    pub spool: &'a Path,
    /// The `-v` transcript, for what getting a token involves.
    pub transcript: Transcript,
}

impl<'a> ProfileCredentials<'a> {
    /// The credentials of profile `name`, with the token cache of the spool at `spool`.
    pub fn new(
        name: &'a str,
        profile: &'a Profile,
        file: &'a Path,
        spool: &'a Path,
        transcript: Transcript,
    ) -> Self {
        ProfileCredentials {
            name,
            profile,
            file,
            spool,
            transcript,
        }
    }

    /// Where an OAuth2 profile's access tokens come from.
    pub fn token_source(&self) -> Result<TokenSource<'a>, OAuthError> {
        let (Some(oauth), Some(reference)) = (&self.profile.oauth, &self.profile.secret) else {
            return Err(self.missing().into());
        };
        Ok(TokenSource {
            name: self.name,
            profile: self.profile,
            oauth,
            store: store_for(reference, self.name, self.file, &self.profile.secret_env),
            spool: self.spool,
            transcript: self.transcript,
        })
    }

    fn missing(&self) -> SecretError {
        SecretError::NotFound {
            store: format!("profile `{}`", self.name),
            hint: "the profile has a user but no `secret`; run `relayctl profile set-secret`"
                .into(),
        }
    }
}

impl Credentials for ProfileCredentials<'_> {
    fn password(&self) -> Result<SecretString, SecretError> {
        match &self.profile.secret {
            Some(reference) => {
                store_for(reference, self.name, self.file, &self.profile.secret_env).read()
            }
            None => Err(self.missing()),
        }
    }

    fn access_token(&self, refused: Option<&SecretString>) -> Result<AccessToken, OAuthError> {
        self.token_source()?.access_token(refused)
    }

    fn proxy_password(&self) -> Result<SecretString, SecretError> {
        match &self.profile.proxy_secret {
            Some(reference) => proxy_store_for(reference, self.name, self.file).read(),
            None => Err(SecretError::NotFound {
                store: format!("profile `{}`", self.name),
                hint: "the proxy URL names a user but the profile has no proxy_secret".into(),
            }),
        }
    }
}

/// A password not stored yet: `setup` and `profile set-secret` log in with it before it replaces
/// anything, so that a refused one is never saved.
pub struct GivenPassword(pub SecretString);

impl Credentials for GivenPassword {
    fn password(&self) -> Result<SecretString, SecretError> {
        Ok(self.0.clone())
    }

    fn access_token(&self, _refused: Option<&SecretString>) -> Result<AccessToken, OAuthError> {
        Err(SecretError::NotFound {
            store: "the password given".into(),
            hint: "a password is not an OAuth2 token".into(),
        }
        .into())
    }
}
