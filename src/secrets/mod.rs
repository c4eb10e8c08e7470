//! Secret stores. A profile holds a [`SecretRef`] naming where its password lives; the store
//! behind it is asked for the password only when a connection needs it. Secrets are held in
//! zeroizing [`SecretString`]s and never printed, logged or passed in a child's argv or env.

mod command;
mod env;
mod file;
mod keyring;
mod prompt;
mod systemd;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use file::default_path as default_file_path;
pub use keyring::usable as keyring_usable;
pub use prompt::read_new_secret;
pub use secrecy::{ExposeSecret, SecretString};

/// The longest secret relayctl reads; anything longer is not a password.
const MAX_SECRET_BYTES: usize = 16 * 1024;

/// Where a profile's secret lives, as written in the config (`secret = "..."`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// The OS keyring (Secret Service, macOS Keychain, Windows Credential Manager).
    Keyring,
    /// `$CREDENTIALS_DIRECTORY/<profile>`, provided by a systemd unit.
    Systemd,
    /// The first line printed by a command, run without a shell.
    Command(String),
    /// A file private to its owner; `None` is `secrets/<profile>` beside the config file.
    File(Option<PathBuf>),
    /// An environment variable; `None` is `RELAYCTL_PASSWORD_<PROFILE>`, then `RELAYCTL_PASSWORD`.
    Env(Option<String>),
}

impl FromStr for SecretRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, arg) = match s.split_once(':') {
            Some((k, a)) => (k, Some(a)),
            None => (s, None),
        };
        match (kind, arg.filter(|a| !a.trim().is_empty())) {
            ("keyring", None) => Ok(SecretRef::Keyring),
            ("systemd", None) => Ok(SecretRef::Systemd),
            ("command", Some(cmd)) => Ok(SecretRef::Command(cmd.to_string())),
            ("command", None) => Err("`command` needs the command: \"command:<cmd>\"".into()),
            ("file", path) => Ok(SecretRef::File(path.map(PathBuf::from))),
            ("env", var) => Ok(SecretRef::Env(var.map(str::to_string))),
            _ => Err(format!(
                "unknown secret store `{s}` (keyring | systemd | command:<cmd> | file[:<path>] | env[:<VAR>])"
            )),
        }
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Keyring => f.write_str("keyring"),
            SecretRef::Systemd => f.write_str("systemd"),
            SecretRef::Command(c) => write!(f, "command:{c}"),
            SecretRef::File(None) => f.write_str("file"),
            SecretRef::File(Some(p)) => write!(f, "file:{}", p.display()),
            SecretRef::Env(None) => f.write_str("env"),
            SecretRef::Env(Some(v)) => write!(f, "env:{v}"),
        }
    }
}

crate::config::serde_as_string!(SecretRef);

/// What can go wrong with a secret. Messages name the store and the fix, never the secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("no secret in {store}: {hint}")]
    NotFound { store: String, hint: String },
    #[error("the secret in {store} is empty")]
    Empty { store: String },
    #[error("secret file {} is readable by group or others (mode {mode:04o}); run: chmod 600 {}", path.display(), path.display())]
    UnsafePermissions { path: PathBuf, mode: u32 },
    /// A secret file that belongs to another user, or that others could replace.
    #[error(transparent)]
    Untrusted(#[from] crate::trust::Untrusted),
    /// The keyring's own words (`reason`) are shown only under `-v` ([`SecretError::detail`]).
    #[error(
        "{}: headless servers and cron have none; use --secret-store file (a root-only file), systemd, command or env",
        SecretError::NO_SESSION
    )]
    KeyringUnavailable { reason: String },
    /// The keyring is there but locked, and this run may not ask to unlock it (no terminal).
    #[error(
        "{what} is locked; relayctl asks to unlock it only when run in a terminal: unlock the keyring (log in to the desktop session, or run the command in a terminal there); queued mail waits until then"
    )]
    KeyringLocked { what: String },
    /// A Secret Service answers, but has no keyring to keep a new secret in.
    #[error("the Secret Service has no default keyring to keep a new secret in")]
    NoDefaultKeyring,
    #[error("keyring error: {0}")]
    Keyring(String),
    #[error("relayctl cannot store a secret in {store}: {how}")]
    ReadOnlyStore { store: String, how: String },
    #[error("password command `{program}` {problem}")]
    Command { program: String, problem: String },
    #[error("cannot {action} secret file {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the secret stored in {store} reads back differently; it was not saved correctly")]
    ReadBackMismatch { store: String },
    #[error("cannot prompt for the password without a terminal; pipe it with --password-stdin")]
    NoTerminal,
    #[error("cannot read the password: {0}")]
    Input(std::io::Error),
    #[error("the password is longer than {MAX_SECRET_BYTES} bytes")]
    TooLong,
}

impl SecretError {
    /// Why the OS keyring cannot be used, in words (the keyring's own error names D-Bus
    /// addresses and error codes).
    pub const NO_SESSION: &str = "no Secret Service session (the OS keyring) is reachable here";

    /// The text of the layer below for `-v`: too raw for the one error line.
    pub fn detail(&self) -> Option<&str> {
        match self {
            SecretError::KeyringUnavailable { reason } => Some(reason),
            _ => None,
        }
    }

    /// Whether the same request may succeed later without a change to the configuration: a
    /// locked keyring is unlocked when its owner logs in.
    pub fn is_transient(&self) -> bool {
        matches!(self, SecretError::KeyringLocked { .. })
    }
}

/// A place a profile's secret can be read from, and for some stores written to.
pub trait SecretStore {
    /// Where the secret lives, for messages (`file /etc/relayctl/secrets/uni`).
    fn describe(&self) -> String;
    /// Reads the whole secret, without its final line ending.
    fn read_text(&self) -> Result<SecretString, SecretError>;
    /// Reads the secret: its first line. Password files and commands (`pass show`) may print
    /// more lines that are not part of the password.
    fn read(&self) -> Result<SecretString, SecretError> {
        let text = self.read_text()?;
        let first = text.expose_secret().lines().next().unwrap_or_default();
        if first.is_empty() {
            return Err(SecretError::Empty {
                store: self.describe(),
            });
        }
        Ok(SecretString::from(first.to_string()))
    }
    /// Stores a new secret. Stores filled from outside relayctl explain how to fill them.
    fn write(&self, secret: &SecretString) -> Result<(), SecretError>;
    /// Forgets the secret, for stores that relayctl writes; others are left alone.
    fn delete(&self) -> Result<(), SecretError> {
        Ok(())
    }
}

/// The store behind `reference` for profile `profile`, defined in `config_file`. A password
/// command also gets the variables named in `secret_env`.
pub fn store_for(
    reference: &SecretRef,
    profile: &str,
    config_file: &Path,
    secret_env: &[String],
) -> Box<dyn SecretStore> {
    match reference {
        SecretRef::Keyring => Box::new(keyring::KeyringStore::new(profile)),
        SecretRef::Systemd => Box::new(systemd::SystemdStore::new(profile)),
        SecretRef::Command(cmd) => Box::new(command::CommandStore::new(cmd, secret_env)),
        SecretRef::File(path) => Box::new(file::FileStore::new(
            path.clone()
                .unwrap_or_else(|| file::default_path(config_file, profile)),
        )),
        SecretRef::Env(var) => Box::new(env::EnvStore::new(profile, var.clone())),
    }
}

/// The store of profile `profile`'s proxy password (`proxy_secret`): the same stores as the
/// relay's, under the name `<profile>.proxy` (`secrets/<profile>.proxy`, the systemd credential
/// `<profile>.proxy`, `RELAYCTL_PASSWORD_<PROFILE>_PROXY`). Never the shared
/// `RELAYCTL_PASSWORD`, which holds a relay's password.
pub fn proxy_store_for(
    reference: &SecretRef,
    profile: &str,
    config_file: &Path,
) -> Box<dyn SecretStore> {
    let name = format!("{profile}.proxy");
    match reference {
        SecretRef::Env(None) => Box::new(env::EnvStore::new(
            &name,
            Some(env::profile_variable(&name)),
        )),
        other => store_for(other, &name, config_file, &[]),
    }
}

/// Writes `secret` and reads it back, so that setup never reports a secret it cannot read.
pub fn store_and_verify(store: &dyn SecretStore, secret: &SecretString) -> Result<(), SecretError> {
    store.write(secret)?;
    let back = store.read_text()?;
    if back.expose_secret() != secret.expose_secret() {
        return Err(SecretError::ReadBackMismatch {
            store: store.describe(),
        });
    }
    Ok(())
}

/// Makes this process non-dumpable (`PR_SET_DUMPABLE` 0), once a secret is about to be in its
/// memory: no core file is written when it crashes, and users other than root cannot attach to
/// it or read its memory through /proc, whatever `ulimit -c` or the system's core pattern say.
/// Called wherever a secret enters memory (a store, the prompt, a cached OAuth2 token).
pub fn keep_out_of_core_dumps() {
    // Best effort: a kernel without prctl leaves the system's setting, as before.
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
}

/// The secret in `raw`: its first line, without the line ending. Password files and commands
/// conventionally end with a newline that is not part of the password.
fn first_line(raw: &[u8], store: &dyn Fn() -> String) -> Result<SecretString, SecretError> {
    let line = raw.split(|&b| b == b'\n').next().unwrap_or_default();
    text(line, store)
}

/// The secret in `raw`, every line of it, without the final line ending.
fn whole_text(raw: &[u8], store: &dyn Fn() -> String) -> Result<SecretString, SecretError> {
    let text_end = raw.strip_suffix(b"\n").unwrap_or(raw);
    text(text_end, store)
}

fn text(line: &[u8], store: &dyn Fn() -> String) -> Result<SecretString, SecretError> {
    keep_out_of_core_dumps();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return Err(SecretError::Empty { store: store() });
    }
    let text = String::from_utf8(line.to_vec()).map_err(|e| {
        zeroize::Zeroize::zeroize(&mut e.into_bytes());
        SecretError::NotFound {
            store: store(),
            hint: "the secret is not valid UTF-8".into(),
        }
    })?;
    Ok(SecretString::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_round_trip() {
        for text in [
            "keyring",
            "systemd",
            "command:pass show relay",
            "file",
            "file:/etc/relayctl/secrets/uni",
            "env",
            "env:SMTP_PASS",
        ] {
            let r: SecretRef = text.parse().unwrap();
            assert_eq!(r.to_string(), text);
        }
    }

    #[test]
    fn bad_references_are_explained() {
        assert!(
            "command"
                .parse::<SecretRef>()
                .unwrap_err()
                .contains("command:<cmd>")
        );
        assert!(
            "vault"
                .parse::<SecretRef>()
                .unwrap_err()
                .contains("unknown secret store")
        );
    }

    #[test]
    fn first_line_drops_the_line_ending_only() {
        let d = || "test".to_string();
        assert_eq!(
            first_line(b"p a ss\r\nrest", &d).unwrap().expose_secret(),
            "p a ss"
        );
        assert_eq!(first_line(b"pass", &d).unwrap().expose_secret(), "pass");
        assert!(matches!(
            first_line(b"\n", &d),
            Err(SecretError::Empty { .. })
        ));
    }
}
