//! What an OAuth2 profile keeps in its secret store: the refresh token on the first line and,
//! for providers that want one (Google), the client secret on the second. One store, one
//! permission check, one `profile set-secret`.

use secrecy::{ExposeSecret, SecretString};

use crate::secrets::{SecretError, SecretStore, store_and_verify};

/// A profile's OAuth2 secrets.
pub struct OAuthSecret {
    pub refresh_token: SecretString,
    pub client_secret: Option<SecretString>,
}

impl OAuthSecret {
    /// Reads them from `store`.
    pub fn read(store: &dyn SecretStore) -> Result<Self, SecretError> {
        let text = store.read_text()?;
        let mut lines = text
            .expose_secret()
            .lines()
            .map(|l| l.trim_end_matches('\r'));
        let refresh_token = match lines.next() {
            Some(t) if !t.is_empty() => SecretString::from(t.to_string()),
            _ => {
                return Err(SecretError::Empty {
                    store: store.describe(),
                });
            }
        };
        let client_secret = lines
            .next()
            .filter(|s| !s.is_empty())
            .map(|s| SecretString::from(s.to_string()));
        Ok(OAuthSecret {
            refresh_token,
            client_secret,
        })
    }

    /// Writes them to `store` and reads them back.
    pub fn write(&self, store: &dyn SecretStore) -> Result<(), SecretError> {
        let mut text = self.refresh_token.expose_secret().to_string();
        if let Some(secret) = &self.client_secret {
            text.push('\n');
            text.push_str(secret.expose_secret());
        }
        store_and_verify(store, &SecretString::from(text))
    }
}
