//! Privilege separation on a multi-user host, with real unprivileged users: ordinary users submit
//! through the maildrop, cannot read the relay secret, cannot read, list or delete queued mail,
//! and cannot send as someone else; the root runner delivers.

use std::process::Command;
use std::time::Duration;

use crate::harness::{PASSWORD, Sandbox, USER, relay, wait_for};
use crate::namespace::{Namespace, run};

const ALICE: &str = "rctest-alice";
const BOB: &str = "rctest-bob";

fn ensure_user(name: &str) -> u32 {
    let _ = Command::new("useradd")
        .args(["--no-create-home", "--shell", "/usr/sbin/nologin", name])
        .output();
    let out = Command::new("id").args(["-u", name]).output().unwrap();
    assert!(out.status.success(), "useradd {name} failed");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// The steps, as root and as the two users, in one private mount namespace where
/// /etc/relayctl and /var/spool/relayctl are the test's own.
const SCRIPT: &str = r#"
R="$1"; CA="$2"; PASS="$3"; USER_="$4"; ALICE="$5"; BOB="$6"; M="$7"
as() { who="$1"; shift; runuser -u "$who" -- env -i HOME=/nonexistent PATH=/usr/bin:/bin "$@"; }
printf '%s' "$PASS" | "$R" setup institutional --system --name uni --host localhost --port 587 \
    --tls starttls --user "$USER_" --from "$USER_" --ca-file "$CA" --password-stdin --secret-store file >/dev/null
echo "setup=$?"
"$R" queue run; echo "prepare=$?"
echo "dropmode=$(stat -c %a /var/spool/relayctl/maildrop)"
printf 'Subject: %s-plain\n\nfrom alice\n' "$M" | as "$ALICE" "$R" sendmail ops@example.org
echo "submit=$?"
printf 'From: %s\nSubject: %s-spoof\n\nspoof\n' "$BOB" "$M" | as "$ALICE" "$R" sendmail -f ceo@example.org ops@example.org
echo "spoof=$?"
printf 'X-Relayctl-Submitter: uid 0 (root)\nSubject: %s-forged\n\nforged\n' "$M" | as "$ALICE" "$R" sendmail ops@example.org
echo "forged=$?"
as "$ALICE" cat /etc/relayctl/secrets/uni >/dev/null 2>&1; echo "readsecret=$?"
as "$ALICE" ls /var/spool/relayctl/maildrop >/dev/null 2>&1; echo "listdrop=$?"
as "$ALICE" ls /var/spool/relayctl/queue >/dev/null 2>&1; echo "listqueue=$?"
F=$(ls /var/spool/relayctl/maildrop | head -n 1)
echo "owner=$(stat -c '%U %a' "/var/spool/relayctl/maildrop/$F")"
as "$BOB" cat "/var/spool/relayctl/maildrop/$F" >/dev/null 2>&1; echo "readother=$?"
as "$BOB" rm -f "/var/spool/relayctl/maildrop/$F" 2>/dev/null; echo "deleteother=$?"
echo "dropped=$(ls /var/spool/relayctl/maildrop | wc -l)"
"$R" queue run; echo "run=$?"
echo "left=$(ls /var/spool/relayctl/maildrop | wc -l)"
as "$ALICE" "$R" queue list >/dev/null 2>&1; echo "alicequeue=$?"
"#;

#[test]
fn users_submit_through_the_maildrop_and_cannot_read_or_spoof() {
    let r = relay();
    let alice = ensure_user(ALICE);
    ensure_user(BOB);
    let sb = Sandbox::new();
    for dir in ["etc-relayctl", "spool"] {
        std::fs::create_dir(sb.path(dir)).unwrap();
    }
    let ns = Namespace::new()
        .overlay("/etc", sb.path("etc-overlay"))
        .bind(sb.path("etc-relayctl"), "/etc/relayctl")
        .overlay("/var/spool", sb.path("spool-overlay"))
        .bind(sb.path("spool"), "/var/spool/relayctl");
    let m = crate::harness::marker("privsep");
    let ca = r.ca_file.display().to_string();
    let mut cmd = ns.command(
        "sh",
        &[
            "-c",
            SCRIPT,
            "sh",
            env!("CARGO_BIN_EXE_relayctl"),
            &ca,
            PASSWORD,
            USER,
            ALICE,
            BOB,
            &m,
        ],
    );
    cmd.env("HOME", sb.path("root-home"));
    let out = run(cmd, b"", Duration::from_secs(60));
    let got = |key: &str| -> String {
        out.stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key}= in output: {out:#?}"))
            .to_string()
    };
    assert_eq!(got("setup"), "0", "{out:#?}");
    assert_eq!(got("dropmode"), "1733");
    assert_eq!(
        (got("submit"), got("spoof"), got("forged")),
        ("0".into(), "0".into(), "0".into()),
        "{out:#?}"
    );
    assert_ne!(got("readsecret"), "0", "a user read the relay secret");
    assert_ne!(got("listdrop"), "0", "a user listed the maildrop");
    assert_ne!(got("listqueue"), "0", "a user listed the queue");
    assert_eq!(got("owner"), format!("{ALICE} 600"));
    assert_ne!(got("readother"), "0", "bob read alice's mail");
    assert_eq!(got("dropped"), "3", "bob deleted alice's mail: {out:#?}");
    assert_eq!(got("run"), "0", "{out:#?}");
    assert_eq!(got("left"), "0", "the runner imported every drop file");

    let plain = wait_for(&format!("{m}-plain"));
    assert!(plain.mail_from.starts_with(&format!("<{USER}>")));
    let text = plain.text();
    assert!(
        text.contains(&format!("X-Relayctl-Submitter: uid {alice} ({ALICE})\r\n")),
        "{text}"
    );
    assert!(
        text.contains("with ESMTPSA"),
        "delivered by the root runner with the secret: {text}"
    );

    let spoof = wait_for(&format!("{m}-spoof"));
    assert!(
        spoof.mail_from.starts_with(&format!("<{USER}>")),
        "-f ignored: {}",
        spoof.mail_from
    );
    let text = spoof.text();
    assert!(!text.contains(&format!("From: {BOB}")), "{text}");
    assert!(text.contains(&format!("\r\nFrom: {USER}\r\n")), "{text}");

    let forged = wait_for(&format!("{m}-forged")).text();
    assert_eq!(
        forged.matches("X-Relayctl-Submitter:").count(),
        1,
        "{forged}"
    );
    assert!(
        forged.contains(&format!("X-Relayctl-Submitter: uid {alice} ({ALICE})")),
        "{forged}"
    );
}

/// A set-user-ID copy of relayctl ignores the caller's config path and environment.
#[test]
fn raised_privileges_ignore_user_supplied_config() {
    ensure_user(ALICE);
    let sb = Sandbox::new();
    let bin = sb.path("relayctl-suid");
    std::fs::copy(env!("CARGO_BIN_EXE_relayctl"), &bin).unwrap();
    let evil = sb.path("evil.toml");
    std::fs::write(&evil, "[profiles.evil]\npreset = \"smarthost\"\nhost = \"attacker.example\"\nport = 25\ntls = \"none\"\nfrom = \"x@attacker.example\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&evil, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o4755)).unwrap();
    std::fs::set_permissions(sb.path(""), std::fs::Permissions::from_mode(0o755)).unwrap();
    let plain = Command::new("runuser")
        .args(["-u", ALICE, "--", "env", "-i", "HOME=/nonexistent"])
        .arg(format!("RELAYCTL_CONFIG={}", evil.display()))
        .arg(env!("CARGO_BIN_EXE_relayctl"))
        .args(["profile", "list"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&plain.stdout).contains("evil"),
        "without privileges the variable is honoured: {plain:?}"
    );
    let suid = Command::new("runuser")
        .args(["-u", ALICE, "--", "env", "-i", "HOME=/nonexistent"])
        .arg(format!("RELAYCTL_CONFIG={}", evil.display()))
        .arg(&bin)
        .args(["--config", evil.to_str().unwrap(), "profile", "list"])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&suid.stdout);
    assert!(suid.status.success(), "{suid:?}");
    assert!(!listing.contains("evil"), "{suid:?}");
    // It read the system configuration instead (none on this host, or its profiles).
    assert!(
        listing.contains("no profiles") || listing.contains("NAME"),
        "{suid:?}"
    );
}
