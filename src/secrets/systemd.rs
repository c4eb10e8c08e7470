//! A secret passed by systemd: `LoadCredential=` or `LoadCredentialEncrypted=` in the unit that
//! runs relayctl places it at `$CREDENTIALS_DIRECTORY/<profile>`.

use std::path::PathBuf;

use secrecy::SecretString;

use super::file::FileStore;
use super::{SecretError, SecretStore};

pub struct SystemdStore {
    profile: String,
}

impl SystemdStore {
    pub fn new(profile: &str) -> Self {
        SystemdStore {
            profile: profile.to_string(),
        }
    }

    fn how(&self) -> String {
        format!(
            "add `LoadCredentialEncrypted={p}:/etc/credstore.encrypted/relayctl.{p}` (made with `systemd-creds encrypt --name={p} - /etc/credstore.encrypted/relayctl.{p}`) or `LoadCredential={p}:/path/to/file` to the unit that runs relayctl",
            p = self.profile
        )
    }

    fn credential_path(&self) -> Option<PathBuf> {
        std::env::var_os("CREDENTIALS_DIRECTORY").map(|d| PathBuf::from(d).join(&self.profile))
    }
}

impl SecretStore for SystemdStore {
    fn describe(&self) -> String {
        format!("systemd credential {}", self.profile)
    }

    fn read_text(&self) -> Result<SecretString, SecretError> {
        match self.credential_path() {
            // systemd makes the credential file private to the service; the file store's
            // ownership and mode checks apply unchanged.
            Some(path) if path.exists() => FileStore::new(path).read_text(),
            Some(path) => Err(SecretError::NotFound {
                store: self.describe(),
                hint: format!("{} does not exist; {}", path.display(), self.how()),
            }),
            None => Err(SecretError::NotFound {
                store: self.describe(),
                hint: format!(
                    "CREDENTIALS_DIRECTORY is not set (not running under a systemd unit with credentials); {}",
                    self.how()
                ),
            }),
        }
    }

    fn write(&self, _secret: &SecretString) -> Result<(), SecretError> {
        Err(SecretError::ReadOnlyStore {
            store: self.describe(),
            how: self.how(),
        })
    }
}
