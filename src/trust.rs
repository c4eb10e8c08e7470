//! Whether relayctl may believe a file: a config file names commands that run as its reader, a
//! secret file holds the relay's password. Root reading a user's config (`sudo -E`, `su`
//! without `-` keep `HOME`) would otherwise run that user's password command as root.
//!
//! Such a file must belong to root or to the user running relayctl, and nobody else may be able
//! to replace it: every directory above it belongs to root or to that user and is not writable
//! by group or others, unless it is sticky (like `/tmp`, where nobody can rename or remove
//! another's file). Mode bits of the file itself are the caller's concern (a config file may be
//! world-readable, a secret file may not).

use std::fs::{self, Metadata};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::users::{describe_uid, user_name};

/// Why a file is not believed. Each message is one line with the command that fixes it.
#[derive(Debug, thiserror::Error)]
pub enum Untrusted {
    #[error("{what} {} belongs to {}, not to root or the user running relayctl; run: chown {} {}", path.display(), describe_uid(*owner), rightful_owner(), path.display())]
    Owner {
        what: &'static str,
        path: PathBuf,
        owner: u32,
    },
    #[error("{what} {} is in {}, which group or others may write (and so replace the file); run: chmod go-w {}", path.display(), dir.display(), dir.display())]
    WritableDirectory {
        what: &'static str,
        path: PathBuf,
        dir: PathBuf,
    },
    #[error("{what} {} is in {}, which belongs to {} (who may replace the file); run: chown root:root {}", path.display(), dir.display(), describe_uid(*owner), dir.display())]
    DirectoryOwner {
        what: &'static str,
        path: PathBuf,
        dir: PathBuf,
        owner: u32,
    },
    #[error("cannot inspect {}, a directory above {what} {}: {source}", dir.display(), path.display())]
    Inspect {
        what: &'static str,
        path: PathBuf,
        dir: PathBuf,
        source: std::io::Error,
    },
}

impl Untrusted {
    /// The command that fixes it, for `doctor`.
    pub fn fix(&self) -> String {
        match self {
            Untrusted::Owner { path, .. } => {
                format!("chown {} {}", rightful_owner(), path.display())
            }
            Untrusted::WritableDirectory { dir, .. } => format!("chmod go-w {}", dir.display()),
            Untrusted::DirectoryOwner { dir, .. } => format!("chown root:root {}", dir.display()),
            Untrusted::Inspect { dir, .. } => {
                format!("check that this user may reach {}", dir.display())
            }
        }
    }
}

/// Checks the owner of the file at `path` (its metadata `meta`, taken from the open file where
/// the caller has one) and every directory above it, both as written and with symbolic links
/// resolved. `what` names the file in messages (`config file`).
pub fn check(what: &'static str, path: &Path, meta: &Metadata) -> Result<(), Untrusted> {
    if !trusted_owner(meta.uid()) {
        return Err(Untrusted::Owner {
            what,
            path: path.to_path_buf(),
            owner: meta.uid(),
        });
    }
    let written = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let resolved = fs::canonicalize(path).unwrap_or_else(|_| written.clone());
    for dir in written
        .ancestors()
        .skip(1)
        .chain(resolved.ancestors().skip(1))
    {
        if dir.as_os_str().is_empty() {
            continue;
        }
        let dmeta = fs::metadata(dir).map_err(|source| Untrusted::Inspect {
            what,
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
            source,
        })?;
        if !trusted_owner(dmeta.uid()) {
            return Err(Untrusted::DirectoryOwner {
                what,
                path: path.to_path_buf(),
                dir: dir.to_path_buf(),
                owner: dmeta.uid(),
            });
        }
        if !sticky_or_private(dmeta.permissions().mode()) {
            return Err(Untrusted::WritableDirectory {
                what,
                path: path.to_path_buf(),
                dir: dir.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// Root, or the user relayctl runs as.
fn trusted_owner(uid: u32) -> bool {
    uid == 0 || uid == rustix::process::geteuid().as_raw()
}

/// A directory nobody but its owner can change, or a sticky one, where nobody can rename or
/// remove another's file.
fn sticky_or_private(mode: u32) -> bool {
    mode & 0o022 == 0 || mode & 0o1000 != 0
}

/// `root:root`, or the name of the user relayctl runs as.
fn rightful_owner() -> String {
    let me = rustix::process::geteuid().as_raw();
    if me == 0 {
        "root:root".into()
    } else {
        user_name(me).unwrap_or_else(|| me.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_mode(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    fn check_file(path: &Path) -> Result<(), Untrusted> {
        check("config file", path, &fs::metadata(path).unwrap())
    }

    #[test]
    fn directories_others_may_write_are_refused_unless_sticky() {
        let top = tempfile::tempdir().unwrap();
        let dir = top.path().join("relayctl");
        fs::create_dir(&dir).unwrap();
        let file = dir.join("config.toml");
        fs::write(&file, "").unwrap();
        set_mode(&dir, 0o755);
        check_file(&file).unwrap();
        for mode in [0o775, 0o757] {
            set_mode(&dir, mode);
            let err = check_file(&file).unwrap_err();
            assert!(matches!(err, Untrusted::WritableDirectory { .. }), "{err}");
            let text = err.to_string();
            assert!(
                text.contains(&format!("chmod go-w {}", dir.display())),
                "{text}"
            );
            assert_eq!(err.fix(), format!("chmod go-w {}", dir.display()));
        }
        set_mode(&dir, 0o1777);
        check_file(&file).unwrap();
    }

    #[test]
    fn a_writable_directory_behind_a_symbolic_link_is_found() {
        let top = tempfile::tempdir().unwrap();
        let open = top.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::write(open.join("config.toml"), "").unwrap();
        set_mode(&open, 0o777);
        let link = top.path().join("link.toml");
        std::os::unix::fs::symlink(open.join("config.toml"), &link).unwrap();
        let err = check_file(&link).unwrap_err();
        assert!(
            matches!(&err, Untrusted::WritableDirectory { dir, .. } if *dir == open),
            "{err}"
        );
    }
}
