//! The OS keyring through the `keyring` crate's real platform stores (Secret Service over D-Bus,
//! macOS Keychain, Windows Credential Manager). There is no fallback to an in-memory store: when
//! no keyring is usable, every operation says so.

use secrecy::{ExposeSecret, SecretString};

use super::{SecretError, SecretStore};

/// The keyring service name under which relayctl files its entries.
const SERVICE: &str = "relayctl";

pub struct KeyringStore {
    profile: String,
}

impl KeyringStore {
    pub fn new(profile: &str) -> Self {
        KeyringStore {
            profile: profile.to_string(),
        }
    }

    fn entry(&self) -> Result<keyring::Entry, SecretError> {
        if let Err(e) = keyring::Entry::store_status() {
            return Err(SecretError::KeyringUnavailable {
                reason: e.to_string(),
            });
        }
        keyring::Entry::new(SERVICE, &self.profile).map_err(unavailable)
    }
}

fn unavailable(e: keyring::Error) -> SecretError {
    match e {
        keyring::Error::NoEntry => SecretError::Keyring(e.to_string()),
        keyring::Error::NoDefaultStore
        | keyring::Error::PlatformFailure(_)
        | keyring::Error::NoStorageAccess(_) => SecretError::KeyringUnavailable {
            reason: e.to_string(),
        },
        other => SecretError::Keyring(other.to_string()),
    }
}

impl SecretStore for KeyringStore {
    fn describe(&self) -> String {
        format!("OS keyring ({SERVICE}/{})", self.profile)
    }

    fn read_text(&self) -> Result<SecretString, SecretError> {
        match self.entry()?.get_password() {
            Ok(p) => {
                super::keep_out_of_core_dumps();
                Ok(SecretString::from(p))
            }
            Err(keyring::Error::NoEntry) => Err(SecretError::NotFound {
                store: self.describe(),
                hint: "run `relayctl profile set-secret PROFILE`".into(),
            }),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn write(&self, secret: &SecretString) -> Result<(), SecretError> {
        self.entry()?
            .set_password(secret.expose_secret())
            .map_err(unavailable)
    }

    fn delete(&self) -> Result<(), SecretError> {
        match self.entry()?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}
