//! The OS keyring through the `keyring` crate's real platform stores (Secret Service over D-Bus,
//! macOS Keychain, Windows Credential Manager). There is no fallback to an in-memory store: when
//! no keyring is usable, every operation says so.
//!
//! A locked keyring is unlocked through the keyring daemon's own dialog, which the `keyring`
//! crate asks for whenever it meets a locked item or collection. relayctl lets that happen only
//! when someone is there to answer, in a run with a terminal: cron jobs, units and programs that
//! call `sendmail` would wait for a dialog nobody sees, or have it fail to open on a host without
//! a display. Without a terminal, a locked keyring is [`SecretError::KeyringLocked`] at once (exit
//! 75: the message stays queued and goes once the keyring is unlocked). The Secret Service is
//! asked about its locks first, on a connection of relayctl's own ([`locks`]).

use secrecy::{ExposeSecret, SecretString};

use super::{SecretError, SecretStore, prompt::has_terminal};

/// The keyring service name under which relayctl files its entries.
const SERVICE: &str = "relayctl";

pub struct KeyringStore {
    profile: String,
}

/// What an operation needs unlocked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// The profile's item, when there is one (reading, deleting).
    Item,
    /// The item, or when there is none the default collection a new one goes into (writing).
    ItemOrNew,
}

impl KeyringStore {
    pub fn new(profile: &str) -> Self {
        KeyringStore {
            profile: profile.to_string(),
        }
    }

    fn entry(&self, access: Access) -> Result<keyring::Entry, SecretError> {
        if let Err(e) = keyring::Entry::store_status() {
            return Err(SecretError::KeyringUnavailable {
                reason: e.to_string(),
            });
        }
        locks::check(&self.profile, access, has_terminal())?;
        keyring::Entry::new(SERVICE, &self.profile).map_err(unavailable)
    }
}

/// Whether a secret of `profile` could be stored in the keyring now without a dialog nobody can
/// answer: `setup`'s default store. The reason when not.
pub fn usable(profile: &str) -> Result<(), SecretError> {
    KeyringStore::new(profile)
        .entry(Access::ItemOrNew)
        .map(drop)
}

fn unavailable(e: keyring::Error) -> SecretError {
    match e {
        keyring::Error::NoEntry => SecretError::Keyring(e.to_string()),
        // The Secret Service's answer to a locked item whose unlocking was declined, or whose
        // dialog could not be shown.
        keyring::Error::NoStorageAccess(_) => SecretError::KeyringLocked {
            what: format!("the keyring ({e})"),
        },
        keyring::Error::NoDefaultStore | keyring::Error::PlatformFailure(_) => {
            SecretError::KeyringUnavailable {
                reason: e.to_string(),
            }
        }
        other => SecretError::Keyring(other.to_string()),
    }
}

impl SecretStore for KeyringStore {
    fn describe(&self) -> String {
        format!("OS keyring ({SERVICE}/{})", self.profile)
    }

    fn read_text(&self) -> Result<SecretString, SecretError> {
        match self.entry(Access::Item)?.get_password() {
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
        self.entry(Access::ItemOrNew)?
            .set_password(secret.expose_secret())
            .map_err(unavailable)
    }

    fn delete(&self) -> Result<(), SecretError> {
        match self.entry(Access::Item)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// The Secret Service's locks, seen before the `keyring` crate would unlock them. The items are
/// the crate's: attributes `service` and `username`, in the default collection when new.
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
mod locks {
    use std::collections::HashMap;

    use secret_service::{EncryptionType, Error, blocking::SecretService};

    use super::{Access, SERVICE, SecretError};

    /// Refuses what would need the keyring daemon's dialog while `may_prompt` is false: the
    /// profile's item locked, or for a new item the default collection locked. A Secret Service
    /// without a default collection cannot take a new item at all (the `keyring` crate does not
    /// create one).
    pub fn check(profile: &str, access: Access, may_prompt: bool) -> Result<(), SecretError> {
        // No secret passes over this connection: a plain session is enough.
        let ss = SecretService::connect(EncryptionType::Plain).map_err(unavailable)?;
        let found = ss
            .search_items(HashMap::from([("service", SERVICE), ("username", profile)]))
            .map_err(unavailable)?;
        if !found.locked.is_empty() {
            return refuse_unless(may_prompt, format!("the keyring item of profile {profile}"));
        }
        if !found.unlocked.is_empty() || access == Access::Item {
            return Ok(());
        }
        let collection = match ss.get_default_collection() {
            Ok(c) => c,
            Err(Error::NoResult) => return Err(SecretError::NoDefaultKeyring),
            Err(e) => return Err(unavailable(e)),
        };
        if collection.is_locked().map_err(unavailable)? {
            let label = collection.get_label().unwrap_or_default();
            return refuse_unless(may_prompt, format!("the keyring {label:?}"));
        }
        Ok(())
    }

    fn refuse_unless(may_prompt: bool, what: String) -> Result<(), SecretError> {
        if may_prompt {
            Ok(())
        } else {
            Err(SecretError::KeyringLocked { what })
        }
    }

    fn unavailable(e: Error) -> SecretError {
        SecretError::KeyringUnavailable {
            reason: e.to_string(),
        }
    }
}

/// Keychain and Credential Manager are unlocked with the session; nothing to look at first.
#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
mod locks {
    use super::{Access, SecretError};

    pub fn check(_profile: &str, _access: Access, _may_prompt: bool) -> Result<(), SecretError> {
        Ok(())
    }
}
