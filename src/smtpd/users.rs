//! The SMTP listener's users (`relayctl server user add|list|remove`): apps that log in with
//! AUTH, each bound to one relay profile and the sender addresses or domains it may use.
//!
//! Passwords are stored as Argon2id PHC strings (`$argon2id$v=19$m=...`), never in clear and
//! never reversibly, in a TOML file beside the config (`smtpd-users.toml`). The listener, which
//! runs as its own system user, reads the file (mode 0640, group of that user); nobody else
//! may, and only root may write it.
//!
//! ```toml
//! [users.grafana]
//! hash = "$argon2id$v=19$m=7168,t=5,p=1$..."
//! profile = "gmail"
//! senders = ["alerts@example.org", "@example.org"]
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};

use crate::message::submission::Senders;

/// The file name beside the config file.
pub const USERS_FILE: &str = "smtpd-users.toml";

/// One user of the listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerUser {
    /// The password's Argon2id hash (PHC string).
    pub hash: String,
    /// The relay profile this user's mail goes through.
    pub profile: String,
    /// Addresses (`alerts@example.org`) and domains (`@example.org`) the user may send as;
    /// empty: only the profile's own address.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub senders: Vec<String>,
}

impl ServerUser {
    /// Whether this user may use `address` as the envelope sender or From: one of its senders,
    /// or the address of its profile (`profile_from`).
    pub fn may_send_as(&self, address: &str, profile_from: &str) -> bool {
        Senders::Listed(&self.senders).allow(address, profile_from)
    }
}

/// What can be wrong with the users file or a change to it.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Readable by others, or writable by anyone but its owner.
    #[error("{} may be read by others or changed by group or others; run: chmod 640 {}", path.display(), path.display())]
    UnsafePermissions { path: PathBuf },
    #[error(transparent)]
    Untrusted(#[from] crate::trust::Untrusted),
    #[error("no server user named {0}")]
    Unknown(String),
    #[error(
        "{0:?} is not a usable user name: use letters, digits, `.`, `_`, `-` and `@` (at most 64)"
    )]
    BadName(String),
    #[error("{0:?} is not an address or @domain a user may send as")]
    BadSender(String),
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// The users, as read from their file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerUsers {
    #[serde(default)]
    pub users: BTreeMap<String, ServerUser>,
}

impl ServerUsers {
    /// Reads the file at `path`; a missing file has no users. The file must belong to root or
    /// to this user, nobody but its owner may change it, and others may not read it.
    pub fn load(path: &Path) -> Result<ServerUsers, UsersError> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(ServerUsers::default()),
            Err(source) => {
                return Err(UsersError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let meta = fs::metadata(path).map_err(|source| UsersError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        crate::trust::check("server users file", path, &meta)?;
        if meta.permissions().mode() & 0o026 != 0 {
            return Err(UsersError::UnsafePermissions {
                path: path.to_path_buf(),
            });
        }
        toml::from_str(&text).map_err(|e| UsersError::Parse {
            path: path.to_path_buf(),
            line: e
                .span()
                .map(|s| text[..s.start].matches('\n').count() + 1)
                .unwrap_or(1),
            message: e.message().to_string(),
        })
    }

    /// Writes the users to `path` (mode 0640; group `group` when given, so that the listener's
    /// system user can read it).
    pub fn save(&self, path: &Path, group: Option<u32>) -> Result<(), UsersError> {
        let write = |source| UsersError::Write {
            path: path.to_path_buf(),
            source,
        };
        let text = toml::to_string(self).map_err(|e| write(std::io::Error::other(e)))?;
        let header = "# relayctl SMTP listener users: `relayctl server user add|list|remove`.\n# Passwords are Argon2id hashes. Keep this file mode 0640, group of the listener's user.\n";
        crate::atomic_file::write(path, format!("{header}{text}").as_bytes(), 0o640, 0o755)
            .map_err(write)?;
        if let Some(gid) = group {
            let gid = rustix::process::Gid::from_raw(gid);
            rustix::fs::chown(path, None, Some(gid)).map_err(|e| write(e.into()))?;
        }
        Ok(())
    }

    /// Adds or replaces user `name`.
    pub fn set(
        &mut self,
        name: &str,
        password: &[u8],
        profile: &str,
        senders: Vec<String>,
    ) -> Result<(), UsersError> {
        check_name(name)?;
        for sender in &senders {
            check_sender(sender)?;
        }
        let hash = hash(password)?;
        self.users.insert(
            name.to_string(),
            ServerUser {
                hash,
                profile: profile.to_string(),
                senders,
            },
        );
        Ok(())
    }

    /// Removes user `name`.
    pub fn remove(&mut self, name: &str) -> Result<ServerUser, UsersError> {
        self.users
            .remove(name)
            .ok_or_else(|| UsersError::Unknown(name.to_string()))
    }

    /// The user `name` when `password` is theirs. An unknown name costs the same work as a
    /// wrong password, so that timing does not tell which names exist.
    pub fn verify(&self, name: &str, password: &[u8]) -> Option<&ServerUser> {
        let _slot = Slot::take();
        let user = self.users.get(name);
        let hash = user.map_or(DUMMY_HASH, |u| u.hash.as_str());
        let parsed = PasswordHash::new(hash).ok()?;
        let matches = Argon2::default().verify_password(password, &parsed).is_ok();
        user.filter(|_| matches)
    }
}

/// The hash checked for unknown names (of a random password nobody knows).
const DUMMY_HASH: &str = "$argon2id$v=19$m=7168,t=5,p=1$Zm9vYmFyYmF6cXV4cXV1eA$3IXp3ZrTdZ7fT3Ku0qLPl1Q+dE1E6Y4yUe1m8X7pWlA";

/// Argon2id with OWASP's second recommended setting (7 MiB, 5 passes): the memory a
/// verification takes stays small enough to run two at once in the listener.
fn argon2() -> Argon2<'static> {
    let params = Params::new(7168, 5, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of `password` with a fresh salt.
pub fn hash(password: &[u8]) -> Result<String, UsersError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password, &salt)
        .map(|h| h.to_string())
        .map_err(|e| UsersError::Hash(e.to_string()))
}

/// At most this many password checks run at once: each takes several MiB and a CPU for tens
/// of milliseconds, and a flood of logins must not take the listener's memory or every core.
const CONCURRENT_CHECKS: usize = 2;

static RUNNING: Mutex<usize> = Mutex::new(0);
static FREED: Condvar = Condvar::new();

/// A place among the [`CONCURRENT_CHECKS`], held while a password is checked.
struct Slot;

impl Slot {
    fn take() -> Slot {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        while *running >= CONCURRENT_CHECKS {
            running = FREED.wait(running).unwrap_or_else(|e| e.into_inner());
        }
        *running += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        *running -= 1;
        FREED.notify_one();
    }
}

fn check_name(name: &str) -> Result<(), UsersError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(UsersError::BadName(name.to_string()))
    }
}

fn check_sender(sender: &str) -> Result<(), UsersError> {
    let bad = || UsersError::BadSender(sender.to_string());
    if sender.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    match sender.strip_prefix('@') {
        Some(domain) if domain.contains('.') && !domain.contains('@') => Ok(()),
        Some(_) => Err(bad()),
        None if crate::message::is_plausible_address(sender) => Ok(()),
        None => Err(bad()),
    }
}

/// Who owns the users file: whether root wrote it (for `doctor`).
pub fn owner(path: &Path) -> Option<u32> {
    fs::metadata(path).ok().map(|m| m.uid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_stored_hashed_and_verified() {
        let mut users = ServerUsers::default();
        users
            .set(
                "grafana",
                b"s3cret",
                "gmail",
                vec!["alerts@example.org".into()],
            )
            .unwrap();
        let stored = &users.users["grafana"];
        assert!(
            stored.hash.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"),
            "{}",
            stored.hash
        );
        assert!(!toml::to_string(&users).unwrap().contains("s3cret"));
        assert_eq!(users.verify("grafana", b"s3cret"), Some(stored));
        assert_eq!(users.verify("grafana", b"wrong"), None);
        assert_eq!(users.verify("nobody", b"s3cret"), None);
        // The same password hashes differently each time (a fresh salt).
        assert_ne!(hash(b"s3cret").unwrap(), stored.hash);
    }

    #[test]
    fn the_dummy_hash_is_a_valid_hash() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn senders_are_addresses_or_domains() {
        let user = ServerUser {
            hash: String::new(),
            profile: "p".into(),
            senders: vec!["alerts@example.org".into(), "@shop.example".into()],
        };
        let from = "relay@example.org";
        assert!(user.may_send_as("Alerts@Example.org", from));
        assert!(user.may_send_as("orders@shop.example", from));
        assert!(user.may_send_as("relay@example.org", from));
        assert!(!user.may_send_as("orders@evil.shop.example", from));
        assert!(!user.may_send_as("@shop.example", from));
        assert!(!user.may_send_as("ceo@example.org", from));
        let only_profile = ServerUser {
            senders: vec![],
            ..user
        };
        assert!(only_profile.may_send_as("relay@example.org", from));
        assert!(!only_profile.may_send_as("alerts@example.org", from));
        let mut users = ServerUsers::default();
        for bad in ["@", "@nodot", "a b@x.org", "not-an-address"] {
            assert!(
                users.set("u", b"p", "x", vec![bad.into()]).is_err(),
                "{bad}"
            );
        }
        for bad in ["", "a b", "x/y", &"n".repeat(65)] {
            assert!(
                matches!(
                    users.set(bad, b"p", "x", vec![]),
                    Err(UsersError::BadName(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_file_is_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(USERS_FILE);
        let mut users = ServerUsers::default();
        users.set("app", b"pw", "p", vec![]).unwrap();
        users.save(&path, None).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(ServerUsers::load(&path).unwrap(), users);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            ServerUsers::load(&path),
            Err(UsersError::UnsafePermissions { .. })
        ));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&path, "[users.x]\nhash = 1\n").unwrap();
        let err = ServerUsers::load(&path).unwrap_err().to_string();
        assert!(err.contains(":2:"), "{err}");
    }
}
