//! A secret in a file only its owner can read: the headless-server store.

use std::fs;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::{MAX_SECRET_BYTES, SecretError, SecretStore, whole_text};
use crate::atomic_file;

/// `secrets/<profile>` in the directory of the config file that defines the profile.
pub fn default_path(config_file: &Path, profile: &str) -> PathBuf {
    config_file
        .parent()
        .unwrap_or(Path::new("."))
        .join("secrets")
        .join(profile)
}

/// A 0600/0400 file owned by the user (or root).
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    pub fn new(path: PathBuf) -> Self {
        FileStore { path }
    }

    fn io(&self, action: &'static str) -> impl FnOnce(std::io::Error) -> SecretError + '_ {
        move |source| SecretError::Io {
            action,
            path: self.path.clone(),
            source,
        }
    }

    /// Refuses files others could read, that belong to someone else, or that others could
    /// replace.
    fn check(&self, file: &fs::File) -> Result<(), SecretError> {
        let meta = file.metadata().map_err(self.io("inspect"))?;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(SecretError::UnsafePermissions {
                path: self.path.clone(),
                mode,
            });
        }
        Ok(crate::trust::check("secret file", &self.path, &meta)?)
    }
}

impl SecretStore for FileStore {
    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }

    fn read_text(&self) -> Result<SecretString, SecretError> {
        let file = match fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(SecretError::NotFound {
                    store: self.describe(),
                    hint: "the file does not exist; run `relayctl profile set-secret PROFILE`"
                        .into(),
                });
            }
            Err(e) => return Err(self.io("open")(e)),
        };
        // Checked on the open file, so the file cannot be swapped between check and read.
        self.check(&file)?;
        let mut raw = Zeroizing::new(Vec::new());
        file.take(MAX_SECRET_BYTES as u64 + 1)
            .read_to_end(&mut raw)
            .map_err(self.io("read"))?;
        if raw.len() > MAX_SECRET_BYTES {
            return Err(SecretError::TooLong);
        }
        whole_text(&raw, &|| self.describe())
    }

    fn write(&self, secret: &SecretString) -> Result<(), SecretError> {
        let mut contents = Zeroizing::new(secret.expose_secret().as_bytes().to_vec());
        contents.push(b'\n');
        atomic_file::write(&self.path, &contents, 0o600, 0o700).map_err(self.io("write"))
    }

    fn delete(&self) -> Result<(), SecretError> {
        match fs::remove_file(&self.path) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(self.io("remove")(e)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("secrets/uni"));
        super::super::store_and_verify(&store, &SecretString::from("s3cret pass")).unwrap();
        let mode = fs::metadata(dir.path().join("secrets/uni"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        store.delete().unwrap();
        assert!(matches!(store.read(), Err(SecretError::NotFound { .. })));
    }

    #[test]
    fn group_readable_file_is_refused_with_the_chmod_to_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        fs::write(&path, "pw\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let err = FileStore::new(path.clone()).read().unwrap_err().to_string();
        assert!(
            err.contains(&format!("chmod 600 {}", path.display())),
            "{err}"
        );
        assert!(!err.contains("pw\n"));
    }

    #[test]
    fn a_file_in_a_directory_others_may_write_is_refused_with_the_chmod_to_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        fs::write(&path, "pw\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o770)).unwrap();
        let err = FileStore::new(path).read().unwrap_err();
        assert!(matches!(err, SecretError::Untrusted(_)), "{err}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("chmod go-w {}", dir.path().display())),
            "{text}"
        );
    }
}
