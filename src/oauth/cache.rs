//! The access-token cache: one file per profile in the spool's `oauth/` directory (0700, files
//! 0600), so that each sendmail call does not fetch a new token. The file is locked while a
//! process reads it and, when the token is stale, refreshes it: every other process of the
//! profile waits and then uses the new token, so one refresh serves them all.
//!
//! An access token stays on disk only while it is valid: a stale or refused one is overwritten
//! by the next or emptied. The file also remembers that the refresh token was refused, so that
//! the alert about it is given once.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::OAuthError;
use crate::state_file::StateFile;

/// Refresh this long before expiry at most (five minutes)...
const MAX_MARGIN: u64 = 300;

/// An access token and when it stops being valid (by this host's clock).
pub struct CachedToken {
    pub access_token: SecretString,
    /// When it was obtained (Unix seconds).
    pub obtained: u64,
    /// When it expires (Unix seconds).
    pub expires: u64,
    pub scope: Option<String>,
}

impl CachedToken {
    /// Whether the token may still be used at `now`: before its refresh margin (a tenth of its
    /// lifetime, at most five minutes), and not from the future (the clock went back).
    pub fn is_fresh(&self, now: u64) -> bool {
        let lifetime = self.expires.saturating_sub(self.obtained);
        let margin = (lifetime / 10).min(MAX_MARGIN);
        now >= self.obtained && now + margin < self.expires
    }
}

/// What the file holds.
#[derive(Default, Serialize, Deserialize)]
struct Stored {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    #[serde(default)]
    obtained: u64,
    #[serde(default)]
    expires: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    /// The refresh token was refused and the alert given.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    revoked: bool,
}

/// A profile's cache, locked: other processes of the profile wait until it is dropped.
pub struct Locked {
    file: StateFile,
    path: PathBuf,
    stored: Stored,
}

/// The cache directory of the spool at `spool`.
fn dir(spool: &Path) -> PathBuf {
    spool.join("oauth")
}

/// The cache file of `profile`.
fn path(spool: &Path, profile: &str) -> PathBuf {
    dir(spool).join(format!("{profile}.token"))
}

/// Locks and reads the cache of `profile` in the spool at `spool`, creating the directory and
/// the file when missing. A file that cannot be parsed is treated as empty.
pub fn lock(spool: &Path, profile: &str) -> Result<Locked, OAuthError> {
    let dir = dir(spool);
    let path = path(spool, profile);
    let fail = |e: &dyn std::fmt::Display| OAuthError::Cache {
        path: path.clone(),
        reason: e.to_string(),
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| fail(&e))?;
    crate::secrets::keep_out_of_core_dumps();
    let (file, text) = StateFile::open(&path).map_err(|e| fail(&e))?;
    let text = Zeroizing::new(text);
    let stored = serde_json::from_str(&text).unwrap_or_default();
    Ok(Locked { file, path, stored })
}

/// Deletes the cache of `profile` (the profile is removed); a missing one is fine.
pub fn remove(spool: &Path, profile: &str) -> std::io::Result<()> {
    match std::fs::remove_file(path(spool, profile)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// When the access token cached for `profile` expires (Unix seconds), read under a shared lock
/// without creating anything (for `metrics`); `None` when no token is cached. The token itself
/// is skipped by the parser, and the text read is wiped.
pub fn expiry(spool: &Path, profile: &str) -> Option<u64> {
    #[derive(Deserialize)]
    struct Expiry {
        #[serde(default)]
        expires: u64,
    }
    let mut file = std::fs::File::open(path(spool, profile)).ok()?;
    file.lock_shared().ok()?;
    let mut text = Zeroizing::new(String::new());
    std::io::Read::read_to_string(&mut file, &mut text).ok()?;
    let expiry: Expiry = serde_json::from_str(&text).ok()?;
    Some(expiry.expires).filter(|&t| t > 0)
}

impl Locked {
    /// The cached token, if there is one.
    pub fn token(&self) -> Option<CachedToken> {
        let access = self.stored.access_token.as_ref()?;
        Some(CachedToken {
            access_token: SecretString::from(access.clone()),
            obtained: self.stored.obtained,
            expires: self.stored.expires,
            scope: self.stored.scope.clone(),
        })
    }

    /// Replaces the cached token (and forgets an earlier revocation).
    pub fn store(&mut self, token: &CachedToken) -> Result<(), OAuthError> {
        self.stored.forget();
        self.stored = Stored {
            access_token: Some(token.access_token.expose_secret().to_string()),
            obtained: token.obtained,
            expires: token.expires,
            scope: token.scope.clone(),
            revoked: false,
        };
        self.save()
    }

    /// Empties the cache: the token is stale or the relay refused it.
    pub fn clear(&mut self) -> Result<(), OAuthError> {
        self.stored.forget();
        self.save()
    }

    /// Notes that the refresh token was refused; true the first time since it last worked.
    pub fn mark_revoked(&mut self) -> Result<bool, OAuthError> {
        let first = !self.stored.revoked;
        self.stored.forget();
        self.stored.revoked = true;
        self.save()?;
        Ok(first)
    }

    fn save(&mut self) -> Result<(), OAuthError> {
        let text = Zeroizing::new(serde_json::to_vec(&self.stored).unwrap_or_default());
        self.file.replace(&text).map_err(|e| OAuthError::Cache {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }
}

impl Stored {
    /// Drops the token, overwriting its copy in memory.
    fn forget(&mut self) {
        if let Some(mut token) = self.access_token.take() {
            zeroize::Zeroize::zeroize(&mut token);
        }
        self.obtained = 0;
        self.expires = 0;
        self.scope = None;
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        self.stored.forget();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(obtained: u64, expires: u64) -> CachedToken {
        CachedToken {
            access_token: SecretString::from("at"),
            obtained,
            expires,
            scope: None,
        }
    }

    #[test]
    fn refreshed_early_and_never_from_the_future() {
        let t = token(1000, 4600);
        assert!(t.is_fresh(1000));
        assert!(t.is_fresh(4299));
        assert!(!t.is_fresh(4300), "five minutes before expiry");
        assert!(!t.is_fresh(999), "the clock went back");
        let short = token(1000, 1100);
        assert!(short.is_fresh(1089));
        assert!(!short.is_fresh(1090), "a tenth of a short lifetime");
    }

    #[test]
    fn stored_private_and_revocation_noted_once() {
        let spool = tempfile::tempdir().unwrap();
        let oauth = spool.path().join("oauth");
        {
            let mut c = lock(spool.path(), "p").unwrap();
            assert!(c.token().is_none());
            c.store(&token(1, 2)).unwrap();
        }
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&oauth), 0o700);
        assert_eq!(mode(&oauth.join("p.token")), 0o600);
        let mut c = lock(spool.path(), "p").unwrap();
        assert_eq!(c.token().unwrap().expires, 2);
        assert!(c.mark_revoked().unwrap());
        assert!(c.token().is_none(), "a revoked profile's token is gone");
        assert!(!c.mark_revoked().unwrap());
        c.clear().unwrap();
        assert!(!c.mark_revoked().unwrap(), "clearing keeps the revocation");
        c.store(&token(1, 2)).unwrap();
        assert!(c.mark_revoked().unwrap(), "a working token resets it");
    }

    #[test]
    fn the_expiry_is_read_without_creating_anything() {
        let spool = tempfile::tempdir().unwrap();
        assert_eq!(expiry(spool.path(), "p"), None);
        assert!(!spool.path().join("oauth").exists());
        let mut c = lock(spool.path(), "p").unwrap();
        c.store(&token(1000, 4600)).unwrap();
        drop(c);
        assert_eq!(expiry(spool.path(), "p"), Some(4600));
        lock(spool.path(), "p").unwrap().clear().unwrap();
        assert_eq!(expiry(spool.path(), "p"), None, "no token, no expiry");
    }
}
