//! The paths relayctl promises that depend on other software, proved against that software from
//! Debian's packages (issue 19), each delivering to the Postfix test relay:
//!
//! - `keyring`: the OS keyring for real: gnome-keyring's Secret Service on a private D-Bus
//!   session bus, as on a desktop, for password and OAuth2 profiles, locked and unlocked.
//!
//! `tests/run` installs the packages (gnome-keyring, libsecret-tools, D-Bus).

mod keyring;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The files under `dir` (recursively, without following links) whose bytes contain `needle`:
/// for "no file holds the secret".
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                todo.push(path);
            } else if meta.is_file()
                && std::fs::read(&path)
                    .unwrap()
                    .windows(needle.len())
                    .any(|w| w == needle.as_bytes())
            {
                found.push(path);
            }
        }
    }
    found
}

/// Output of a command that must succeed.
#[track_caller]
fn output(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
