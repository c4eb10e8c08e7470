//! `relayctl sendmail-link`: make relayctl the system's sendmail (`sbin/sendmail`, `bin/mailq`,
//! `bin/newaliases`, `lib/sendmail`) without clobbering another MTA by accident.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The links, relative to the prefix.
const LINKS: [&str; 4] = [
    "sbin/sendmail",
    "bin/mailq",
    "bin/newaliases",
    "lib/sendmail",
];

/// Suffix of a file moved aside by `install --force`; `remove` puts it back.
const SAVED: &str = "relayctl-saved";

/// What is at one link's path.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum State {
    Missing,
    /// A link to this binary.
    Ours,
    /// Something else; the package that owns it when one does.
    Other {
        target: String,
        package: Option<String>,
    },
}

/// Creates the links. Files of another MTA are replaced only with `force`; they are kept as
/// `<path>.relayctl-saved`.
pub fn install(prefix: &Path, force: bool) -> Result<()> {
    let exe = own_binary()?;
    let paths: Vec<PathBuf> = LINKS.iter().map(|l| prefix.join(l)).collect();
    if !force {
        let foreign: Vec<String> = paths
            .iter()
            .filter_map(|p| match state(p, &exe) {
                State::Other { package, .. } => Some(match package {
                    Some(pkg) => format!("{} (package {pkg})", p.display()),
                    None => p.display().to_string(),
                }),
                _ => None,
            })
            .collect();
        if !foreign.is_empty() {
            return Err(Error::Conflict(format!(
                "another mail transport owns {}; remove it (e.g. apt-get remove that package) or use --force to move its files aside",
                foreign.join(", ")
            )));
        }
    }
    for path in &paths {
        match state(path, &exe) {
            State::Ours => continue,
            State::Other { .. } => {
                let saved = saved_path(path);
                fs::rename(path, &saved).map_err(|e| Error::io("cannot move aside", path, e))?;
                println!("moved {} to {}", path.display(), saved.display());
            }
            State::Missing => {}
        }
        link(&exe, path)?;
        println!("{} -> {}", path.display(), exe.display());
    }
    Ok(())
}

/// Removes relayctl's links and puts back what `install --force` moved aside.
pub fn remove(prefix: &Path) -> Result<()> {
    let exe = own_binary()?;
    for l in LINKS {
        let path = prefix.join(l);
        if state(&path, &exe) == State::Ours {
            fs::remove_file(&path).map_err(|e| Error::io("cannot remove", &path, e))?;
            println!("removed {}", path.display());
        }
        let saved = saved_path(&path);
        if fs::symlink_metadata(&saved).is_ok() && fs::symlink_metadata(&path).is_err() {
            fs::rename(&saved, &path).map_err(|e| Error::io("cannot restore", &saved, e))?;
            println!("restored {}", path.display());
        }
    }
    Ok(())
}

/// Prints what each link path holds.
pub fn status(prefix: &Path) -> Result<()> {
    let exe = own_binary()?;
    for l in LINKS {
        let path = prefix.join(l);
        let text = match state(&path, &exe) {
            State::Missing => "missing".to_string(),
            State::Ours => "relayctl".to_string(),
            State::Other { target, package } => format!(
                "other: {target}{}",
                package
                    .map(|p| format!(" (package {p})"))
                    .unwrap_or_default()
            ),
        };
        println!("{:<24} {text}", path.display());
    }
    Ok(())
}

/// What `PREFIX/sbin/sendmail` is: relayctl, another program, or nothing (for `doctor`).
pub(crate) fn sendmail_state(prefix: &Path) -> Result<State> {
    Ok(state(&prefix.join(LINKS[0]), &own_binary()?))
}

fn own_binary() -> Result<PathBuf> {
    std::env::current_exe()
        .and_then(fs::canonicalize)
        .map_err(|e| Error::io("cannot locate", "the relayctl binary", e))
}

fn state(path: &Path, exe: &Path) -> State {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => return State::Missing,
        _ => {}
    }
    if fs::canonicalize(path).is_ok_and(|p| p == exe) {
        return State::Ours;
    }
    let target = fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string();
    State::Other {
        package: owning_package(path),
        target,
    }
}

/// The Debian or RPM package that ships `path`, if any.
fn owning_package(path: &Path) -> Option<String> {
    let query = |program: &str, args: &[&str]| -> Option<String> {
        let out = crate::child::command(program, &[])
            .args(args)
            .arg(path)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    if let Some(out) = query("dpkg-query", &["-S"]) {
        // "postfix: /usr/sbin/sendmail"
        return out
            .lines()
            .next()?
            .split(':')
            .next()
            .map(|s| s.trim().to_string());
    }
    query("rpm", &["-qf", "--qf", "%{NAME}"]).map(|s| s.trim().to_string())
}

fn saved_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{SAVED}"));
    PathBuf::from(name)
}

/// Creates the symlink atomically (temp name + rename), creating the directory if needed.
fn link(exe: &Path, path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    }
    let tmp = path.with_file_name(format!(
        ".{}.relayctl-tmp",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    let _ = fs::remove_file(&tmp);
    symlink(exe, &tmp).map_err(|e| Error::io("cannot create", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| Error::io("cannot create", path, e))
}
