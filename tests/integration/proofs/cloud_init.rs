//! The cloud-init examples: every user-data file in packaging/cloud-init/ and every
//! `#cloud-config` block in packaging/README.md (which names each file) passes Debian's
//! `cloud-init schema`, and boots: in a throwaway image ([`Image`]), cloud-init's own code
//! writes its `write_files` and runs its `runcmd` as the `scripts_user` module does, then the
//! queue timer's first run starts `relayctl-queue.service` by hand with the drop-ins the user
//! data wrote. The machine's test message must reach the relay, and the relay password must be
//! nowhere on disk in clear but where the example keeps it.
//!
//! What the image cannot do is stood in for: the secret manager's CLI (`aws`) prints the
//! password from a root-only file, `apt-get` finds relayctl installed (the package is proved by
//! tests/packaging.rs), and the host name (cloud-init sets it from the instance's metadata) is
//! set in a UTS namespace, so that each machine's "is up" message is told apart.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::systemd_units::{Unit, service_log, start_by_hand};
use super::{Image, files_containing, output, repo};
use crate::harness::{PASSWORD, Root, USER, as_root, captured, marker};
use crate::namespace;

/// What the examples name that the test relay replaces: its host and its login.
const REPLACE: [(&str, &str); 2] = [
    ("smtp.example.org", "localhost"),
    ("vm-alerts@example.org", USER),
];

/// Where the stand-in secret manager keeps the password in the image.
const SECRET_MANAGER: &str = "/etc/secret-manager/relayctl-relay";

/// Stands in for the AWS CLI: the one call the examples make, answered from a file.
const AWS: &str = r#"#!/bin/sh
# tests/integration/proofs/cloud_init.rs: the secret manager, answered from a file.
if [ "$*" != "secretsmanager get-secret-value --secret-id relayctl/relay --query SecretString --output text" ]; then
    echo "aws (stand-in): unexpected call: $*" >&2
    exit 2
fi
cat /etc/secret-manager/relayctl-relay
"#;

/// Stands in for apt-get: relayctl is in the image already.
const APT_GET: &str = r#"#!/bin/sh
# tests/integration/proofs/cloud_init.rs: the package is installed in the image.
[ "$1" = install ] && [ -x /usr/bin/relayctl ]
"#;

/// cloud-init's write_files module, then its runcmd module's script run as the scripts_user
/// module runs it (deferred files are written in between, in the final stage, as cloud-init does).
const BOOT: &str = r#"
import os, sys
from cloudinit import subp, util
from cloudinit.config import cc_write_files

cfg = util.load_yaml(util.load_file(sys.argv[1]))
files = cfg.get("write_files", [])
cc_write_files.write_files("write_files", [f for f in files if not f.get("defer")], "root:root")
scripts = "/var/lib/cloud/instance/scripts"
util.write_file(os.path.join(scripts, "runcmd"), util.shellify(cfg["runcmd"]), 0o700)
cc_write_files.write_files("write_files_deferred", [f for f in files if f.get("defer")], "root:root")
subp.runparts(scripts)
"#;

/// The examples: the files, and the README's inline `#cloud-config` blocks (name, text).
fn examples() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(repo("packaging/README.md")).unwrap();
    let mut all = Vec::new();
    for entry in std::fs::read_dir(repo("packaging/cloud-init")).unwrap() {
        let path = entry.unwrap().path();
        let name = format!("cloud-init/{}", path.file_name().unwrap().to_string_lossy());
        assert!(
            readme.contains(&format!("({name})")),
            "packaging/README.md does not link {name}"
        );
        all.push((name, std::fs::read_to_string(&path).unwrap()));
    }
    let mut block: Option<String> = None;
    for line in readme.lines() {
        match &mut block {
            None if line.starts_with("```") => block = Some(String::new()),
            None => {}
            Some(text) if line.starts_with("```") => {
                if text.starts_with("#cloud-config") {
                    all.push((format!("README.md block {}", all.len()), text.clone()));
                }
                block = None;
            }
            Some(text) => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    all.sort();
    assert!(all.len() >= 3, "{all:?}");
    all
}

#[test]
fn every_example_passes_cloud_init_schema() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in examples() {
        let file = dir.path().join("user-data");
        std::fs::write(&file, &text).unwrap();
        let valid = output(
            std::process::Command::new("cloud-init")
                .args(["schema", "--config-file"])
                .arg(&file),
        );
        assert!(valid.starts_with("Valid cloud-config"), "{name}: {valid}");
    }
}

#[test]
fn every_example_boots_and_the_machine_mails_that_it_is_up() {
    if !as_root(Root::Postfix) {
        return;
    }
    for (name, text) in examples() {
        let host = marker("cloud");
        let (image, said) = boot(&name, &text, &host);
        let subject = format!("Subject: {host}.example.test is up");
        let got = captured_within(&subject, Duration::from_secs(30)).unwrap_or_else(|| {
            panic!("{name}: no message with {subject:?}; the machine said:\n{said}")
        });
        assert_eq!(got.rcpt_to, ["<ops@example.org>"], "{name}: root's alias");
        assert!(
            got.mail_from.starts_with(&format!("<{USER}>")),
            "{name}: {}",
            got.mail_from
        );
        assert!(got.text().contains("First boot finished."), "{name}");

        // The password is in clear only where the example keeps it.
        let mut holders: Vec<String> = files_containing(image.work.path(), PASSWORD)
            .iter()
            .map(|p| image_path(&image, p))
            .collect();
        holders.sort();
        let config = std::fs::read_to_string(image.upper("/etc/relayctl/config.toml")).unwrap();
        let mut expected = vec![SECRET_MANAGER.to_string()];
        if config.contains("secret = \"file:") {
            expected.push("/etc/relayctl/secrets/relay".into());
            let mode = std::os::unix::fs::PermissionsExt::mode(
                &std::fs::metadata(image.upper("/etc/relayctl/secrets/relay"))
                    .unwrap()
                    .permissions(),
            );
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
        expected.sort();
        assert_eq!(holders, expected, "{name}: {config}");
    }
}

/// The captured message containing `needle`, once it arrives within `timeout`.
fn captured_within(needle: &str, timeout: Duration) -> Option<crate::harness::Captured> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(m) = captured().into_iter().find(|m| m.text().contains(needle)) {
            return Some(m);
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Boots the user data `text` (after [`REPLACE`]) in a new image named `host`: write_files and
/// runcmd, then the queue service's first run. Returns the image and what the boot printed.
fn boot(name: &str, text: &str, host: &str) -> (Image, String) {
    let mut text = text.to_string();
    for (from, to) in REPLACE {
        assert!(text.contains(from), "{name} no longer names {from}");
        text = text.replace(from, to);
    }
    let image = Image::new();
    image.write("/usr/bin/aws", AWS.as_bytes(), 0o755);
    image.write("/usr/bin/apt-get", APT_GET.as_bytes(), 0o755);
    image.write(SECRET_MANAGER, PASSWORD.as_bytes(), 0o600);
    let mut hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    hosts.push_str(&format!("127.0.1.1 {host}.example.test {host}\n"));
    image.write("/etc/hosts", hosts.as_bytes(), 0o644);
    let user_data = image.scratch("seed").join("user-data");
    std::fs::write(&user_data, &text).unwrap();

    // The package's directories, then what cloud-init runs, under the instance's host name.
    let script = r#"set -e
sh "$REPO/packaging/debian/postinst" configure
hostname "$HOST"
exec python3 -c "$BOOT" "$USER_DATA"
"#;
    let mut cmd = image
        .namespace()
        .command("unshare", &["--uts", "sh", "-c", script]);
    cmd.env("REPO", env!("CARGO_MANIFEST_DIR"))
        .env("HOST", host)
        .env("BOOT", BOOT)
        .env("USER_DATA", &user_data)
        .env("LANG", "C.UTF-8");
    let run = namespace::run(cmd, b"", Duration::from_secs(120));
    // `systemctl daemon-reload` cannot work without systemd as PID 1: the one failure allowed.
    let others: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("Failed") || l.contains("error") || l.contains("relayctl: "))
        .filter(|l| !l.contains("warning:"))
        .filter(|l| !l.contains("systemctl") && !l.contains("booted with systemd"))
        .filter(|l| !l.contains("Failed to connect to bus"))
        .collect();
    assert!(
        others.is_empty() && (run.code == 0 || text.contains("systemctl")),
        "{name}:\n{run:#?}"
    );

    // The queue timer's first run, with the drop-ins the user data wrote.
    let unit = queue_service(&image);
    let mut service = start_by_hand(&image, &unit);
    let started = std::time::Instant::now();
    let code = loop {
        if let Some(code) = service.try_wait() {
            break code;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{name}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let said = std::fs::read_to_string(service_log(&image, &unit)).unwrap();
    assert_eq!(code, 0, "{name}: {}: {said}", unit.name);
    let printed = format!("{}{}{}: {said}", run.stdout, run.stderr, unit.name);
    (image, printed)
}

/// relayctl-queue.service with the drop-ins in the image's /etc/systemd/system.
fn queue_service(image: &Image) -> Unit {
    let name = "relayctl-queue.service";
    let unit = Unit::read(&repo(&format!("packaging/systemd/{name}")));
    let dir = image.upper(&format!("/etc/systemd/system/{name}.d"));
    let mut drop_ins: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    drop_ins.sort();
    let drop_ins: Vec<Unit> = drop_ins
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .map(|p| Unit::read(p))
        .collect();
    unit.with_drop_ins(&drop_ins)
}

/// The path inside the image of `file`, a file of its overlays or spool.
fn image_path(image: &Image, file: &Path) -> String {
    if let Ok(rel) = file.strip_prefix(image.spool()) {
        return Path::new("/var/spool/relayctl")
            .join(rel)
            .display()
            .to_string();
    }
    let rel = file.strip_prefix(image.work.path()).unwrap();
    let mut parts = rel.components();
    let top = parts
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    match parts
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
    {
        Some(layer) if layer == "upper" => format!("/{top}/{}", parts.as_path().display()),
        _ => format!("(outside the image) {}", file.display()),
    }
}
