//! The paths relayctl promises that depend on other software, proved against that software from
//! Debian's packages (issue 19), most of them ending in mail delivered to the Postfix test relay:
//!
//! - `keyring`: the OS keyring for real: gnome-keyring's Secret Service on a private D-Bus
//!   session bus, as on a desktop, for password and OAuth2 profiles, locked and unlocked;
//! - `cloud_init`: every cloud-init example in packaging/ validated by `cloud-init schema` and
//!   its `write_files` and `runcmd` run (by cloud-init's own code) in a throwaway system;
//! - `systemd_units`: every unit in packaging/systemd/ checked by `systemd-analyze verify` and
//!   for its hardening, and the queue units' `ExecStart` run under their sandbox by hand.
//!
//! `tests/run` installs the packages (gnome-keyring, libsecret-tools, D-Bus, cloud-init, systemd).

mod cloud_init;
mod keyring;
mod systemd_units;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::namespace::Namespace;

/// The repository's copy of `rel`.
fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

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

/// A machine image with relayctl installed, thrown away afterwards: a private mount and PID
/// namespace whose `/usr`, `/etc` and `/var` are overlays over this machine's
/// ([`crate::namespace::disposable_system`]), with the binary under test at `/usr/bin/relayctl`,
/// `/usr/sbin/sendmail` linked to it as the package does, a spool of its own, and the test
/// relay's CA in the system
/// trust store, so that the relay is trusted as a public one would be and the configuration is
/// what a real machine would have.
struct Image {
    work: tempfile::TempDir,
}

impl Image {
    fn new() -> Image {
        let work = tempfile::tempdir().unwrap();
        let image = Image { work };
        let bin = image.upper("/usr/bin/relayctl");
        std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_relayctl"), &bin).unwrap();
        let sendmail = image.upper("/usr/sbin/sendmail");
        std::fs::create_dir_all(sendmail.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink("../bin/relayctl", &sendmail).unwrap();
        let bundle = "/etc/ssl/certs/ca-certificates.crt";
        let mut roots = std::fs::read(bundle).unwrap_or_default();
        roots.extend(std::fs::read(&crate::harness::relay().ca_file).unwrap());
        image.write(bundle, &roots, 0o644);
        image
    }

    /// Where the file the image has at `path` (under /usr, /etc or /var) is written: the
    /// overlay's upper layer. Files put there before the namespace starts are in the image.
    fn upper(&self, path: &str) -> PathBuf {
        let rel = path.strip_prefix('/').expect("an absolute path");
        let (top, rest) = rel.split_once('/').unwrap_or((rel, ""));
        assert!(
            ["usr", "etc", "var"].contains(&top),
            "{path}: only /usr, /etc and /var are writable"
        );
        self.work.path().join(top).join("upper").join(rest)
    }

    /// Puts a file into the image.
    fn write(&self, path: &str, contents: &[u8], mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        let file = self.upper(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, contents).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A scratch directory outside the image, visible inside it under the same path.
    fn scratch(&self, name: &str) -> PathBuf {
        let dir = self.work.path().join("scratch").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The image's `/var/spool/relayctl`, empty at first whatever this machine's holds.
    fn spool(&self) -> PathBuf {
        self.scratch("spool")
    }

    /// The namespace that boots the image.
    fn namespace(&self) -> Namespace {
        crate::namespace::disposable_system(self.work.path())
            .bind(self.spool(), "/var/spool/relayctl")
    }
}
