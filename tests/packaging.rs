//! The packages, built from the binary under test and used for real (a test binary of its own, so
//! that it runs once per `cargo test`, after the integration tests):
//!
//! - the .deb (cargo-deb) replaces Postfix, sends through its `/usr/sbin/sendmail` to the real
//!   relay, upgrades, is removed and purged (`tests/packaging/deb.sh`);
//! - `packaging/install.sh` installs, sends and uninstalls (`tests/packaging/install-sh.sh`);
//! - the RPM (cargo-generate-rpm) is inspected with `rpm -qp`: files, modes, scriptlets.
//!
//! Postfix on this machine is the test relay and the machine's mail transport agent, and
//! installing relayctl's package removes it (Conflicts: mail-transport-agent). So the package is
//! installed in a private mount and PID namespace (`integration/namespace.rs`) whose `/usr`,
//! `/etc` and `/var` are overlays over the host's, thrown away afterwards: dpkg's database, the
//! removal of Postfix and relayctl's files exist only there, while the host's Postfix keeps
//! running and relays what the namespace's relayctl sends over loopback.
//!
//! cargo-deb and cargo-generate-rpm are installed by `tests/run`. The packages are built with
//! `--no-build` from a stripped copy of the test binary placed where their metadata expects the
//! release build (`target/release/relayctl` under a temporary `CARGO_TARGET_DIR`), so the
//! package metadata in Cargo.toml is what is tested, without a release build.

#[allow(dead_code)]
#[path = "integration/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "integration/namespace.rs"]
mod namespace;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use harness::{Root, as_root, marker, wait_for};
use namespace::Namespace;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(MANIFEST_DIR);
    cmd
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

/// A `CARGO_TARGET_DIR` whose `release/relayctl` is a stripped copy of the binary under test.
fn package_target() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("release")).unwrap();
        output(
            Command::new("strip")
                .arg("-o")
                .arg(dir.path().join("release/relayctl"))
                .arg(env!("CARGO_BIN_EXE_relayctl")),
        );
        dir
    })
    .path()
}

/// Fails with what to do when a packaging tool is missing.
fn require_tool(subcommand: &str) {
    let ok = cargo()
        .args([subcommand, "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "`cargo {subcommand}` is not installed; tests/run installs it (see the tools there)"
    );
}

/// `cargo deb` with the given Debian revision; returns the .deb.
fn build_deb(revision: &str, out: &Path) -> PathBuf {
    require_tool("deb");
    let stdout = output(
        cargo()
            .args(["deb", "--no-build", "--locked", "--fast", "--deb-revision"])
            .arg(revision)
            .arg("--output")
            .arg(out)
            .env("CARGO_TARGET_DIR", package_target()),
    );
    let deb = PathBuf::from(
        stdout
            .lines()
            .last()
            .expect("cargo deb prints the .deb")
            .trim(),
    );
    assert!(deb.is_file(), "{stdout}");
    deb
}

/// Runs `script` (under tests/packaging/) in `ns` with `env`; it must print `ok` at the end.
fn run_script(ns: &Namespace, script: &str, env: &[(&str, &str)]) {
    let path = Path::new(MANIFEST_DIR).join("tests/packaging").join(script);
    let mut cmd = ns.command("bash", &[path.to_str().unwrap()]);
    cmd.env("LANG", "C.UTF-8");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let run = namespace::run(cmd, b"", Duration::from_secs(300));
    assert_eq!(
        run.code, 0,
        "{script} failed:\n{}\n{}",
        run.stdout, run.stderr
    );
    assert!(run.stdout.trim_end().ends_with(": ok"), "{}", run.stdout);
}

#[test]
fn deb_replaces_the_mta_sends_through_its_sendmail_upgrades_and_removes_cleanly() {
    if !as_root(Root::Postfix) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let debs = work.path().join("debs");
    let deb1 = build_deb("1", &debs);
    let deb2 = build_deb("2", &debs);
    let [m1, m2, m3] = ["pkg-sent", "pkg-queued", "pkg-kept"].map(marker);
    let ns = namespace::disposable_system(&work.path().join("root"));
    run_script(
        &ns,
        "deb.sh",
        &[
            ("DEB1", deb1.to_str().unwrap()),
            ("DEB2", deb2.to_str().unwrap()),
            ("M1", &m1),
            ("M2", &m2),
            ("M3", &m3),
        ],
    );
    for m in [&m1, &m2] {
        let got = wait_for(m);
        assert!(
            got.mail_from.starts_with("<vm1@campus.example>"),
            "{m}: {}",
            got.mail_from
        );
        assert_eq!(got.rcpt_to, ["<ops@example.org>"], "{m}");
    }
    assert!(
        !harness::captured().iter().any(|c| c.text().contains(&m3)),
        "the message queued before removal was sent"
    );
}

#[test]
fn install_sh_installs_sends_and_uninstalls_beside_postfix() {
    if !as_root(Root::Postfix) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let m4 = marker("install-sh");
    let ns = namespace::disposable_system(&work.path().join("root"));
    let bin = package_target().join("release/relayctl");
    run_script(
        &ns,
        "install-sh.sh",
        &[
            ("REPO", MANIFEST_DIR),
            ("BIN", bin.to_str().unwrap()),
            ("M4", &m4),
        ],
    );
    let got = wait_for(&m4);
    assert!(
        got.mail_from.starts_with("<vm1@campus.example>"),
        "{}",
        got.mail_from
    );
}

/// The files of docs/ (README.md links to them), by name.
fn docs() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md") || n.ends_with(".json"))
        .collect();
    names.sort();
    names
}

#[test]
fn rpm_holds_the_files_with_their_modes_and_registers_the_mta_alternative() {
    require_tool("generate-rpm");
    let out = tempfile::tempdir().unwrap();
    output(
        cargo()
            .args(["generate-rpm", "--payload-compress", "gzip", "--target-dir"])
            .arg(package_target())
            .arg("--output")
            .arg(out.path()),
    );
    let rpm = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "rpm"))
        .expect("an .rpm");
    let query = |args: &[&str]| output(Command::new("rpm").args(["-qp"]).args(args).arg(&rpm));

    // --dump: path size mtime digest mode owner group isconfig isdoc rdev symlink
    let dump = query(&["--dump"]);
    let modes: Vec<(String, String)> = dump
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f[0].to_string(), format!("{} {}:{}", f[4], f[5], f[6]))
        })
        .collect();
    let expected = [
        ("/usr/bin/relayctl", "0100755 root:root"),
        ("/usr/share/man/man1/relayctl.1", "0100644 root:root"),
        ("/usr/share/man/man5/relayctl.toml.5", "0100644 root:root"),
        (
            "/usr/share/man/man8/relayctl-sendmail.8",
            "0100644 root:root",
        ),
        (
            "/usr/share/bash-completion/completions/relayctl",
            "0100644 root:root",
        ),
        (
            "/usr/share/zsh/site-functions/_relayctl",
            "0100644 root:root",
        ),
        (
            "/usr/share/fish/vendor_completions.d/relayctl.fish",
            "0100644 root:root",
        ),
        (
            "/usr/share/relayctl/completions/relayctl.elv",
            "0100644 root:root",
        ),
        (
            "/usr/share/relayctl/completions/_relayctl.ps1",
            "0100644 root:root",
        ),
        (
            "/usr/lib/systemd/system/relayctl-queue.service",
            "0100644 root:root",
        ),
        (
            "/usr/lib/systemd/system/relayctl-queue.timer",
            "0100644 root:root",
        ),
        (
            "/usr/lib/systemd/system/relayctl-daemon.service",
            "0100644 root:root",
        ),
        (
            "/usr/lib/systemd/system/relayctl-smtpd.socket",
            "0100644 root:root",
        ),
        (
            "/usr/lib/systemd/system/relayctl-smtpd.service",
            "0100644 root:root",
        ),
        (
            "/usr/share/doc/relayctl/examples/config.sample.toml",
            "0100644 root:root",
        ),
        (
            "/usr/share/doc/relayctl/examples/prometheus/relayctl.rules.yml",
            "0100644 root:root",
        ),
        ("/usr/share/doc/relayctl/README.md", "0100644 root:root"),
    ]
    .map(|(p, m)| (p.to_string(), m.to_string()))
    .into_iter()
    .chain(docs().into_iter().map(|doc| {
        let path = format!("/usr/share/doc/relayctl/docs/{doc}");
        (path, "0100644 root:root".to_string())
    }))
    .collect::<Vec<_>>();
    let mut got = modes.clone();
    got.sort();
    let mut want = expected.to_vec();
    want.sort();
    assert_eq!(got, want, "rpm -qp --dump:\n{dump}");
    assert_eq!(
        query(&["--list"]).lines().count(),
        expected.len(),
        "rpm -qlp"
    );

    let scripts = query(&["--scripts"]);
    for needle in [
        "postinstall scriptlet",
        "update-alternatives --install /usr/sbin/sendmail mta /usr/bin/relayctl",
        "--slave /usr/bin/mailq mta-mailq /usr/bin/relayctl",
        "install -d -o root -g root -m 1733 /var/spool/relayctl/maildrop",
        "useradd --system --user-group",
        "relayctl-smtpd.socket relayctl-smtpd.service",
        "preuninstall scriptlet",
        "update-alternatives --remove mta /usr/bin/relayctl",
        "postuninstall scriptlet",
    ] {
        assert!(scripts.contains(needle), "{needle:?} in:\n{scripts}");
    }
    // Each scriptlet is valid sh.
    for script in ["post-install.sh", "pre-uninstall.sh", "post-uninstall.sh"] {
        output(
            Command::new("sh")
                .arg("-n")
                .arg(Path::new(MANIFEST_DIR).join("packaging/rpm").join(script)),
        );
    }
    let provides = query(&["--provides"]);
    for p in [
        "MTA",
        "smtpdaemon",
        concat!("relayctl = ", env!("CARGO_PKG_VERSION")),
    ] {
        assert!(
            provides.lines().any(|l| l.starts_with(p)),
            "{p}: {provides}"
        );
    }
    let requires = query(&["--requires"]);
    for r in ["/usr/sbin/update-alternatives", "/usr/sbin/useradd"] {
        assert!(requires.contains(r), "{r}: {requires}");
    }
}
