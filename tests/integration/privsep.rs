//! Privilege separation on a multi-user host, with real unprivileged users: ordinary users submit
//! through the maildrop, cannot read the relay secret, cannot read, list or delete queued mail,
//! and cannot send as someone else; the root runner delivers.

use std::process::Command;
use std::time::Duration;

use crate::harness::{PASSWORD, Root, Sandbox, USER, as_root, relay, wait_for};
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
    if !as_root(Root::Postfix) {
        return;
    }
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
    if !as_root(Root::Users) {
        return;
    }
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
        .args(["--config", evil.to_str().unwrap(), "--profile", "evil"])
        .args(["sendmail", "ops@example.org"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    // It read the system configuration instead, which has no such profile: the message is
    // held (the configuration cannot deliver it yet), never sent through the caller's profile.
    let stderr = String::from_utf8_lossy(&suid.stderr);
    assert_eq!(suid.status.code(), Some(0), "{suid:?}");
    assert!(
        stderr.contains("held") && stderr.contains("no profile named `evil`"),
        "{suid:?}"
    );
}

/// What a set-user-ID copy run by another user is asked to do, in a namespace where
/// /etc/relayctl and /var/spool/relayctl are the test's own.
const RAISED_SCRIPT: &str = r#"
R="$1"; ALICE="$2"; MAN="$3"; MAILQ="$4"
# One line per step: key=exit code|stderr, its lines joined by ~.
r() { printf '%s=%s|%s\n' "$1" "$2" "$(printf '%s' "$3" | tr '\n' '~')"; }
as() { runuser -u "$ALICE" -- env -i HOME=/nonexistent PATH=/usr/bin:/bin "$@"; }
printf 'Subject: by root\n\nx\n' | "$R" sendmail ops@example.org; echo "rootqueued=$?|"
ID=$(ls /var/spool/relayctl/queue | head -n 1)
e=$(as "$R" generate man "$MAN" 2>&1 >/dev/null); r generate $? "$e"
e=$(as "$R" setup smarthost --system --name evil --host attacker.example --from x@attacker.example 2>&1 >/dev/null); r setup $? "$e"
e=$(printf 'evil\n' | as "$R" profile set-secret uni --password-stdin 2>&1 >/dev/null); r setsecret $? "$e"
e=$(as "$R" queue delete "$ID" 2>&1 >/dev/null); r delete $? "$e"
e=$(as "$R" queue list 2>&1 >/dev/null); r list $? "$e"
e=$(as "$R" send --to ops@example.org --subject s --attach /etc/shadow </dev/null 2>&1 >/dev/null); r attach $? "$e"
e=$(as "$R" sendmail -bp 2>&1 >/dev/null); r bp $? "$e"
e=$(as "$MAILQ" 2>&1 >/dev/null); r mailq $? "$e"
echo "queued=$(ls /var/spool/relayctl/queue | wc -l)|"
e=$(printf 'Subject: by alice\n\nx\n' | as "$R" sendmail ops@example.org 2>&1 >/dev/null); r submit $? "$e"
e=$(printf 'x\n' | as "$R" send --to ops@example.org --subject s 2>&1 >/dev/null); r send $? "$e"
echo "submitted=$(ls /var/spool/relayctl/queue | wc -l)|"
"#;

/// Issue 14, item 7: a set-user-ID copy run by another user hands over messages (`sendmail`,
/// `send` without attachments) and refuses everything else with 77 before touching anything:
/// no man pages in a root-only directory, no system profile, no secret replaced, no queued mail
/// listed or deleted, no /etc/shadow attached.
#[test]
fn raised_privileges_allow_only_submission() {
    if !as_root(Root::Users) {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    ensure_user(ALICE);
    let sb = Sandbox::new();
    let bin = sb.path("relayctl-suid");
    std::fs::copy(env!("CARGO_BIN_EXE_relayctl"), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o4755)).unwrap();
    std::os::unix::fs::symlink(&bin, sb.path("mailq")).unwrap();
    std::fs::set_permissions(sb.path(""), std::fs::Permissions::from_mode(0o755)).unwrap();
    let root_only = sb.path("root-only");
    std::fs::create_dir(&root_only).unwrap();
    std::fs::set_permissions(&root_only, std::fs::Permissions::from_mode(0o700)).unwrap();
    for dir in ["etc-relayctl/secrets", "spool"] {
        std::fs::create_dir_all(sb.path(dir)).unwrap();
    }
    std::fs::write(
        sb.path("etc-relayctl/config.toml"),
        "default_profile = \"smart\"\ndelivery = \"queue\"\n\n\
         [profiles.smart]\npreset = \"smarthost\"\nhost = \"127.0.0.1\"\nport = 9\ntls = \"none\"\nfrom = \"relay@example.org\"\n\n\
         [profiles.uni]\npreset = \"institutional\"\nhost = \"127.0.0.1\"\nport = 9\ntls = \"tls\"\nuser = \"jdoe@example.org\"\nfrom = \"jdoe@example.org\"\nsecret = \"file\"\n",
    )
    .unwrap();
    let secret = sb.path("etc-relayctl/secrets/uni");
    std::fs::write(&secret, "old-secret\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(
        sb.path("etc-relayctl/secrets"),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    let ns = Namespace::new()
        .overlay("/etc", sb.path("etc-overlay"))
        .bind(sb.path("etc-relayctl"), "/etc/relayctl")
        .overlay("/var/spool", sb.path("spool-overlay"))
        .bind(sb.path("spool"), "/var/spool/relayctl");
    let man = root_only.join("man");
    let mut cmd = ns.command(
        "sh",
        &[
            "-c",
            RAISED_SCRIPT,
            "sh",
            bin.to_str().unwrap(),
            ALICE,
            man.to_str().unwrap(),
            sb.path("mailq").to_str().unwrap(),
        ],
    );
    cmd.env("HOME", sb.path("root-home"));
    let out = run(cmd, b"", Duration::from_secs(60));
    let got = |key: &str| -> (String, String) {
        let line = out
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key}= in output: {out:#?}"));
        let (code, stderr) = line.split_once('|').unwrap();
        (code.to_string(), stderr.to_string())
    };
    assert_eq!(got("rootqueued").0, "0", "{out:#?}");
    for key in [
        "generate",
        "setup",
        "setsecret",
        "delete",
        "list",
        "attach",
        "bp",
        "mailq",
    ] {
        let (code, stderr) = got(key);
        assert_eq!(code, "77", "{key}: {out:#?}");
        assert!(!stderr.contains('~'), "{key}: one line expected: {stderr}");
        assert!(
            stderr.starts_with("relayctl: ")
                && stderr.contains("raised privileges")
                && stderr.contains("chmod ug-s"),
            "{key}: {stderr}"
        );
    }
    assert!(
        !man.exists(),
        "man pages written into a root-only directory"
    );
    let config = std::fs::read_to_string(sb.path("etc-relayctl/config.toml")).unwrap();
    assert!(!config.contains("evil"), "{config}");
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        "old-secret\n",
        "the secret was replaced"
    );
    assert_eq!(got("queued").0, "1", "deleted or added mail: {out:#?}");
    // Handing over a message passes the gate.
    assert_eq!(got("submit").0, "0", "{out:#?}");
    assert_eq!(got("send").0, "0", "{out:#?}");
    assert_eq!(got("submitted").0, "3", "{out:#?}");
}

/// A profile whose password command leaves `marker` behind when it runs.
fn profile_running(marker: &std::path::Path) -> String {
    let ca = relay().ca_file.display().to_string();
    format!(
        "[profiles.uni]\npreset = \"institutional\"\nhost = \"localhost\"\nport = 587\n\
         tls = \"starttls\"\nuser = \"{USER}\"\nfrom = \"{USER}\"\nca_file = \"{ca}\"\n\
         secret = \"command:sh -c 'touch {marker}; echo {PASSWORD}'\"\n",
        marker = marker.display()
    )
}

/// Issue 14, item 8: root with `HOME` pointing at a user's home (`sudo -E`, `su` without `-`)
/// does not run that user's config: its password command would run as root. Neither does it
/// trust a config in a directory that group or others may write. The new test fails without
/// the fix (the command ran and the mail went out).
#[test]
fn root_refuses_config_owned_by_another_user_or_in_a_writable_directory() {
    if !as_root(Root::Postfix) {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let alice = ensure_user(ALICE);
    let mut sb = Sandbox::new();
    let home = sb.path("alice");
    let dir = home.join(".config/relayctl");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    let marker = sb.path("command-ran");
    std::fs::write(&config, profile_running(&marker)).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    for path in [&home, &home.join(".config"), &dir, &config] {
        std::os::unix::fs::chown(path, Some(alice), Some(alice)).unwrap();
    }
    sb.env("HOME", home.to_str().unwrap());
    sb.env("XDG_CONFIG_HOME", home.join(".config").to_str().unwrap());
    let send = [
        "--wait",
        "send",
        "--to",
        "ops@example.org",
        "--subject",
        "x",
    ];
    // `send` refuses; `sendmail` (cron's mail) holds the message until the configuration
    // is fixed. Either way the user's command never runs as root.
    for (args, input, code) in [
        (&send[..], &b"x\n"[..], 78),
        (&["sendmail", "ops@example.org"], b"Subject: x\n\nx\n", 0),
    ] {
        let run = sb
            .run(args, input)
            .code(code)
            .one_line_error(&format!("uid {alice} ({ALICE})"))
            .one_line_error(&format!("chown root:root {}", config.display()));
        if code == 0 {
            assert!(run.stderr.contains("held"), "{run:#?}");
        }
        assert!(!marker.exists(), "the user's password command ran as root");
    }

    // Root's own file, in a directory its group may write.
    for path in [&home, &home.join(".config"), &dir, &config] {
        std::os::unix::fs::chown(path, Some(0), Some(0)).unwrap();
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o770)).unwrap();
    sb.run(&send, b"x\n")
        .code(78)
        .one_line_error(&format!("chmod go-w {}", dir.display()));
    assert!(!marker.exists(), "a replaceable config's command ran");
    // A sticky directory (like /tmp) keeps others from replacing the file: accepted.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
    sb.run(&send, b"x\n").ok();
    assert!(marker.exists(), "root's own config works");
}
