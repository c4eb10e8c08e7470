//! Operations as a new admin meets them (issue 20): mail is never dropped because the
//! configuration is wrong, and local recipients resolve the same way for `sendmail`, `send` and
//! `test`. Each test runs the command as the admin would, and checks its exit code, what stderr
//! says, what the queue shows, and what the real relay received.

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::harness::{Sandbox, marker, relay, wait_for};

/// A sandbox whose profile `campus` sends through the test relay's port 25, with no aliases.
fn smarthost() -> Sandbox {
    relay();
    let sb = Sandbox::new();
    sb.setup_smarthost(&[
        "--name",
        "campus",
        "--host",
        "localhost",
        "--port",
        "25",
        "--tls",
        "none",
        "--from",
        "vm1@campus.example",
    ])
    .ok();
    sb
}

fn queue(sb: &Sandbox) -> Vec<Value> {
    let run = sb.run(&["queue", "list", "--json"], b"").ok();
    serde_json::from_str::<Value>(&run.stdout)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_else(|| panic!("queue list --json: {run:#?}"))
}

fn add_to_config(sb: &Sandbox, text: &str) {
    let mut config = std::fs::read_to_string(sb.user_config()).unwrap();
    config.push_str(text);
    std::fs::write(sb.user_config(), config).unwrap();
}

/// The one held message: its id, after checking what the queue says about it.
#[track_caller]
fn held_one(sb: &Sandbox, reason: &str) -> String {
    let list = queue(sb);
    assert_eq!(list.len(), 1, "{list:#?}");
    assert_eq!(list[0]["state"], "held", "{:#}", list[0]);
    let said = list[0]["last_reply"].as_str().unwrap_or_default();
    assert!(said.contains(reason), "{said}");
    list[0]["id"].as_str().unwrap().to_string()
}

/// `sendmail root` without an alias for root was exit 67 and the message was gone. Cron's mail
/// is the mail nobody sends again: now it is accepted (exit 0, one line saying why it is held)
/// and goes out with the next run once the alias exists.
#[test]
fn mail_to_root_without_an_alias_is_held_until_there_is_one() {
    let sb = smarthost();
    let m = marker("ops-noalias");
    let run = sb
        .run(
            &["sendmail", "root"],
            format!("From: root (Cron Daemon)\nSubject: {m}\n\nbackup done\n").as_bytes(),
        )
        .ok();
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{run:#?}");
    assert!(
        lines[0].starts_with("relayctl: message ") && lines[0].contains("held"),
        "{run:#?}"
    );
    assert!(
        lines[0].contains("no alias for local recipient `root`"),
        "{run:#?}"
    );
    held_one(&sb, "no alias for local recipient");
    // A run that still cannot deliver it leaves it held, quietly.
    let run = sb.run(&["queue", "run"], b"").ok();
    assert_eq!(run.stderr, "", "{run:#?}");
    held_one(&sb, "no alias");

    add_to_config(&sb, "\n[aliases]\nroot = \"admins@example.org\"\n");
    sb.run(&["queue", "run"], b"").ok();
    let got = wait_for(&m);
    assert_eq!(got.rcpt_to.len(), 1, "{got:?}");
    assert!(got.rcpt_to[0].contains("admins@example.org"), "{got:?}");
    let text = got.text();
    assert!(
        text.contains("From: \"Cron Daemon\" <vm1@campus.example>\r\n"),
        "{text}"
    );
    assert!(queue(&sb).is_empty());
}

/// A typo in the config, or a config others may write, made `sendmail` exit 78 and lose the
/// message. Now it is held, and released by the first run that can load the config.
#[test]
fn mail_is_held_while_the_config_does_not_load() {
    for (what, break_it, fix) in [
        (
            "a typo",
            Box::new(|sb: &Sandbox| {
                let text = std::fs::read_to_string(sb.user_config()).unwrap();
                std::fs::write(sb.user_config(), text.replace("port = 25", "prot = 25")).unwrap();
            }) as Box<dyn Fn(&Sandbox)>,
            Box::new(|sb: &Sandbox| {
                let text = std::fs::read_to_string(sb.user_config()).unwrap();
                std::fs::write(sb.user_config(), text.replace("prot = 25", "port = 25")).unwrap();
            }) as Box<dyn Fn(&Sandbox)>,
        ),
        (
            "group-writable",
            Box::new(|sb: &Sandbox| {
                let mode = std::fs::Permissions::from_mode(0o664);
                std::fs::set_permissions(sb.user_config(), mode).unwrap();
            }),
            Box::new(|sb: &Sandbox| {
                let mode = std::fs::Permissions::from_mode(0o600);
                std::fs::set_permissions(sb.user_config(), mode).unwrap();
            }),
        ),
    ] {
        let sb = smarthost();
        let m = marker("ops-badconfig");
        break_it(&sb);
        let run = sb
            .run(
                &["sendmail", "ops@example.org"],
                format!("Subject: {m}\n\n{what}\n").as_bytes(),
            )
            .ok();
        assert_eq!(run.stderr.lines().count(), 1, "{what}: {run:#?}");
        assert!(run.stderr.contains("held"), "{what}: {run:#?}");
        let id = held_one(&sb, "cannot deliver it yet");
        // `queue release` while it is still broken says so and keeps it.
        let run = sb.run(&["queue", "release", &id], b"").ok();
        assert!(
            run.stderr.contains("still does not load"),
            "{what}: {run:#?}"
        );
        fix(&sb);
        let run = sb.run(&["queue", "release", &id], b"").ok();
        assert!(
            run.stdout
                .contains(&format!("held message {id} queued as ")),
            "{run:#?}"
        );
        sb.run(&["queue", "run"], b"").ok();
        wait_for(&m);
        assert!(queue(&sb).is_empty(), "{what}");
    }
}

/// `--profile` naming no profile: held, and sent through it once it exists.
#[test]
fn mail_for_a_missing_profile_is_held_until_it_exists() {
    let sb = smarthost();
    let m = marker("ops-noprofile");
    let run = sb
        .run(
            &["--profile", "backup", "sendmail", "-t"],
            format!("To: ops@example.org\nSubject: {m}\n\nx\n").as_bytes(),
        )
        .ok();
    assert!(run.stderr.contains("no profile named `backup`"), "{run:#?}");
    held_one(&sb, "no profile named `backup`");
    add_to_config(
        &sb,
        "\n[profiles.backup]\npreset = \"smarthost\"\nhost = \"localhost\"\nport = 25\ntls = \"none\"\nfrom = \"backup@campus.example\"\n",
    );
    sb.run(&["queue", "run"], b"").ok();
    let got = wait_for(&m);
    assert!(
        got.mail_from.starts_with("<backup@campus.example>"),
        "{got:?}"
    );
    assert!(got.rcpt_to[0].contains("ops@example.org"), "{got:?}");
}

/// A message that is refused on its own merits (a NUL byte) is still refused at once: holding is
/// for what the configuration cannot deliver, not for what cannot be sent.
#[test]
fn a_bad_message_is_still_refused() {
    let sb = smarthost();
    sb.run(&["sendmail", "root"], b"Subject: x\n\nnul \0 here\n")
        .code(65)
        .one_line_error("NUL");
    assert!(queue(&sb).is_empty());
}

/// `send --to root` and `test --to root` resolve aliases as `sendmail root` does.
#[test]
fn send_and_test_resolve_local_recipients_as_sendmail_does() {
    let sb = smarthost();
    add_to_config(&sb, "\n[aliases]\nroot = \"admins@example.org\"\n");
    let m = marker("ops-sendroot");
    sb.run(
        &["send", "--to", "root", "--subject", &m],
        b"disk almost full\n",
    )
    .ok();
    let got = wait_for(&m);
    assert!(got.rcpt_to[0].contains("admins@example.org"), "{got:?}");
    assert!(
        got.text().contains("To: admins@example.org\r\n"),
        "{}",
        got.text()
    );
    let run = sb.run(&["test", "--to", "root"], b"").ok();
    assert!(run.stdout.contains("accepted"), "{run:#?}");
    // Without an alias, send refuses as sendmail did before holding (a command a person typed).
    let bare = smarthost();
    bare.run(&["send", "--to", "root", "--subject", "x"], b"x\n")
        .code(67)
        .one_line_error("no alias for local recipient `root`");
}

/// A maildrop user's message that the system configuration cannot deliver yet (its envelope
/// names no such profile, or a local recipient without an alias) is held, not refused into the
/// corrupt area; once the configuration can deliver it, the next run does, with the sender
/// policy of a maildrop user.
#[test]
fn a_maildrop_message_the_configuration_cannot_deliver_is_held() {
    use crate::security_review::{drop_as_hostile, ticket};
    let sb = smarthost();
    let m = marker("ops-heldrop");
    drop_as_hostile(
        &sb,
        "to-root",
        &ticket("campus", &["root"], "{}"),
        format!("From: ceo@corp.example\nSubject: {m}-root\n\nx\n").as_bytes(),
    );
    drop_as_hostile(
        &sb,
        "no-profile",
        &ticket("backup", &["ops@example.org"], "{}"),
        format!("Subject: {m}-profile\n\nx\n").as_bytes(),
    );
    let run = sb.run(&["queue", "run"], b"").ok();
    assert_eq!(run.stderr, "", "held, not refused: {run:#?}");
    let list = queue(&sb);
    assert_eq!(list.len(), 2, "{list:#?}");
    assert!(list.iter().all(|e| e["state"] == "held"), "{list:#?}");
    assert!(
        std::fs::read_dir(sb.path("spool/corrupt"))
            .unwrap()
            .next()
            .is_none(),
        "nothing refused"
    );
    add_to_config(
        &sb,
        "\n[profiles.backup]\npreset = \"smarthost\"\nhost = \"localhost\"\nport = 25\ntls = \"none\"\nfrom = \"backup@campus.example\"\n\n[aliases]\nroot = \"admins@example.org\"\n",
    );
    sb.run(&["queue", "run"], b"").ok();
    let root = wait_for(&format!("{m}-root"));
    assert!(root.rcpt_to[0].contains("admins@example.org"), "{root:?}");
    let text = root.text();
    assert!(
        text.contains("From: vm1@campus.example\r\n"),
        "the sender is enforced: {text}"
    );
    assert!(
        text.contains("X-Relayctl-Submitter: uid 65534 (nobody)\r\n"),
        "{text}"
    );
    let profile = wait_for(&format!("{m}-profile"));
    assert!(
        profile.mail_from.starts_with("<backup@campus.example>"),
        "{profile:?}"
    );
    assert!(queue(&sb).is_empty());
}
