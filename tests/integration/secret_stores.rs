//! Each secret store round-trips through setup and a real login at the Postfix relay: the 0600
//! file, an environment variable, a password command (no shell, a clean environment), systemd
//! credentials, the keyring (and the fallback when a headless host has none), the interactive
//! prompt; unsafe files are refused with the fix, and secrets never leak.

use std::os::unix::fs::PermissionsExt;

use crate::harness::{
    PASSWORD, Root, Sandbox, USER, as_root, marker, relay, submission_args, wait_for,
};

/// Runs `setup` for the submission port with the given store options.
fn setup(sb: &Sandbox, name: &str, store: &[&str], stdin: &[u8]) -> crate::harness::Run {
    let args = submission_args(name, store);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sb.run(&args, stdin)
}

fn send_ok(sb: &Sandbox, profile: &str) {
    let m = marker(profile);
    sb.run(
        &[
            "--profile",
            profile,
            "send",
            "--to",
            "a@example.org",
            "--subject",
            &m,
        ],
        b"x\n",
    )
    .ok();
    wait_for(&m);
}

#[test]
fn file_store_is_0600_and_config_holds_only_a_reference() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let run = sb.setup_submission("uni", &[]).ok();
    assert!(
        run.stdout.contains("stored and read back"),
        "{}",
        run.stdout
    );
    let secret = sb.path("config/relayctl/secrets/uni");
    let mode = std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    assert!(
        config.contains(&format!("secret = \"file:{}\"", secret.display())),
        "{config}"
    );
    assert!(!config.contains(PASSWORD));
    send_ok(&sb, "uni");
}

#[test]
fn env_store() {
    if !as_root(Root::Postfix) {
        return;
    }
    let mut sb = Sandbox::new();
    sb.env("RELAYCTL_PASSWORD_ENV_PROFILE", PASSWORD);
    let run = setup(&sb, "env-profile", &["--secret-store", "env"], b"").ok();
    assert!(run.stdout.contains("read successfully"), "{}", run.stdout);
    send_ok(&sb, "env-profile");
}

#[test]
fn env_store_not_set_is_a_warning_at_setup_and_an_error_at_send() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let run = setup(&sb, "later", &["--secret-store", "env"], b"").ok();
    assert!(
        run.stderr.contains("RELAYCTL_PASSWORD_LATER"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("read successfully"), "{}", run.stdout);
    sb.run(
        &["--wait", "send", "--to", "a@example.org", "--subject", "x"],
        b"x\n",
    )
    .code(78)
    .one_line_error("RELAYCTL_PASSWORD_LATER");
}

/// The command also records what the kernel shows of it and of relayctl, its parent (which is
/// what any local user may read through /proc for the argument vector): neither the password
/// relayctl gets from the command, nor one from its own environment, may appear in the child's
/// environment or in either argument vector.
#[test]
fn command_store_runs_without_a_shell_and_hides_parent_passwords() {
    if !as_root(Root::Postfix) {
        return;
    }
    let mut sb = Sandbox::new();
    let script = sb.path("secret-manager");
    let seen = sb.path("seen");
    // Fails if it can see a password relayctl got through its own environment.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ -z \"$RELAYCTL_PASSWORD\" ] || exit 3\n\
             cat /proc/self/environ /proc/$$/cmdline /proc/$PPID/cmdline > {seen}.$$\n\
             echo {PASSWORD}\n",
            seen = seen.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    sb.env("RELAYCTL_PASSWORD", "must-not-reach-the-child");
    let cmd = format!("{} get relay/jdoe", script.display());
    setup(&sb, "cmd", &["--password-command", &cmd], b"").ok();
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    assert!(
        config.contains(&format!("secret = \"command:{cmd}\"")),
        "{config}"
    );
    send_ok(&sb, "cmd");
    let records: Vec<_> = std::fs::read_dir(sb.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("seen."))
        .collect();
    assert!(records.len() >= 2, "setup and send each ran the command");
    for record in records {
        let text = String::from_utf8_lossy(&std::fs::read(record.path()).unwrap()).into_owned();
        assert!(text.contains("relay/jdoe"), "{text:?}");
        for secret in [PASSWORD, "must-not-reach-the-child"] {
            assert!(!text.contains(secret), "{secret} visible: {text:?}");
        }
    }
}

#[test]
fn failing_password_command_fails_setup() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    setup(&sb, "bad", &["--password-command", "false"], b"")
        .code(78)
        .one_line_error("exited");
    assert!(
        !sb.user_config().exists(),
        "no profile is saved with a secret that does not resolve"
    );
}

#[test]
fn systemd_credentials_directory() {
    if !as_root(Root::Postfix) {
        return;
    }
    let mut sb = Sandbox::new();
    let creds = sb.path("credentials");
    std::fs::create_dir(&creds).unwrap();
    let cred = creds.join("unit-profile");
    std::fs::write(&cred, format!("{PASSWORD}\n")).unwrap();
    std::fs::set_permissions(&cred, std::fs::Permissions::from_mode(0o400)).unwrap();
    sb.env("CREDENTIALS_DIRECTORY", creds.to_str().unwrap());
    let run = setup(&sb, "unit-profile", &["--secret-store", "systemd"], b"").ok();
    assert!(
        run.stdout
            .contains("systemd credential unit-profile (read successfully)"),
        "{}",
        run.stdout
    );
    send_ok(&sb, "unit-profile");
}

#[test]
fn systemd_store_outside_a_unit_explains_the_unit_lines() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let run = setup(&sb, "svc", &["--secret-store", "systemd"], b"").ok();
    assert!(
        run.stderr.contains("LoadCredentialEncrypted=svc"),
        "{}",
        run.stderr
    );
    sb.run(
        &["--wait", "send", "--to", "a@example.org", "--subject", "x"],
        b"x\n",
    )
    .code(78)
    .one_line_error("CREDENTIALS_DIRECTORY is not set");
}

/// This machine is a headless server: no D-Bus session, so no Secret Service. The keyring store
/// must say so and must not pretend the secret was stored.
#[test]
fn keyring_reports_unavailability_honestly() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    setup(
        &sb,
        "kr",
        &["--secret-store", "keyring", "--password-stdin"],
        PASSWORD.as_bytes(),
    )
    .code(78)
    .one_line_error("no Secret Service session");
    assert!(!sb.user_config().exists());
}

#[test]
fn without_a_keyring_setup_falls_back_to_a_private_file_and_says_so() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let run = setup(&sb, "auto", &["--password-stdin"], PASSWORD.as_bytes()).ok();
    assert!(
        run.stderr.contains("no Secret Service session"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("secret: file "), "{}", run.stdout);
    send_ok(&sb, "auto");
}

#[test]
fn group_readable_secret_file_is_refused_with_the_fix() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    let secret = sb.path("config/relayctl/secrets/uni");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o640)).unwrap();
    sb.run(
        &["--wait", "send", "--to", "a@example.org", "--subject", "x"],
        b"x\n",
    )
    .code(77)
    .one_line_error(&format!("chmod 600 {}", secret.display()));
}

#[test]
fn interactive_prompt_does_not_echo() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let ca = relay().ca_file.to_str().unwrap().to_string();
    let bin = env!("CARGO_BIN_EXE_relayctl");
    // With --notify: at a terminal, setup would otherwise also ask where notices go.
    let inner = format!(
        "{bin} setup institutional --name tty --host localhost --port 587 --user {USER} --ca-file {ca} --secret-store file --notify ops@example.org"
    );
    // `script` gives relayctl a terminal; the password is typed into it.
    let mut child = sb
        .program("script")
        .args(["-qec", &inner, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn script");
    // Type only once the prompt is up (and echo is off), as a person would.
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        while let Ok(n) = std::io::Read::read(&mut stdout, &mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            let _ = tx.send(String::from_utf8_lossy(&seen).contains("Password for profile tty:"));
        }
        seen
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .unwrap_or(false)
    {
        assert!(std::time::Instant::now() < deadline, "no password prompt");
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        format!("{PASSWORD}\n").as_bytes(),
    )
    .unwrap();
    let status = child.wait().unwrap();
    let out = reader.join().unwrap();
    let screen = String::from_utf8_lossy(&out);
    assert!(status.success(), "{screen}");
    assert!(screen.contains("Password for profile tty:"), "{screen}");
    assert!(
        !screen.contains(PASSWORD),
        "the password was echoed: {screen}"
    );
    send_ok(&sb, "tty");
}

#[test]
fn no_terminal_and_no_password_stdin_is_a_usage_error() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    // Test processes have no controlling terminal (as under cron).
    let mut cmd = {
        let args = submission_args("notty", &["--secret-store", "file"]);
        sb.command(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let out = cmd.stdin(std::process::Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(64), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--password-stdin"),
        "{out:?}"
    );
    assert!(!sb.user_config().exists());
}

/// Issue 14, item 10: a password command gets the usual variables (PATH, HOME, ...) and those its
/// profile names in `secret_env`, and nothing else of relayctl's environment: not the value of
/// another profile's `env:` store, not even its name. The new test fails without the fix (the
/// command saw SMTP_PASS_A).
#[test]
fn password_command_sees_only_the_allowed_environment() {
    if !as_root(Root::Postfix) {
        return;
    }
    let mut sb = Sandbox::new();
    let other_password = "Other-Profile-Pass-5531";
    sb.env("SMTP_PASS_A", other_password);
    sb.env("VAULT_ADDR", "https://vault.example:8200");
    let dump = sb.path("command-env");
    let ca = relay().ca_file.display().to_string();
    let profile = |name: &str, secret: &str| {
        format!(
            "[profiles.{name}]\npreset = \"institutional\"\nhost = \"localhost\"\nport = 587\n\
             tls = \"starttls\"\nuser = \"{USER}\"\nfrom = \"{USER}\"\nca_file = \"{ca}\"\n\
             secret = \"{secret}\"\n"
        )
    };
    let config = format!(
        "{}\n{}",
        profile("a", "env:SMTP_PASS_A"),
        profile(
            "b",
            &format!("command:sh -c 'env > {}; echo {PASSWORD}'", dump.display())
        )
    );
    std::fs::create_dir_all(sb.path("config/relayctl")).unwrap();
    std::fs::write(sb.user_config(), &config).unwrap();
    send_ok(&sb, "b");
    let seen = std::fs::read_to_string(&dump).unwrap();
    assert!(seen.lines().any(|l| l.starts_with("PATH=")), "{seen}");
    assert!(seen.lines().any(|l| l.starts_with("HOME=")), "{seen}");
    for hidden in [other_password, "SMTP_PASS_A", "VAULT_ADDR", "RELAYCTL_"] {
        assert!(!seen.contains(hidden), "{hidden} visible: {seen}");
    }

    // Named in the profile, a variable is handed over.
    std::fs::write(
        sb.user_config(),
        format!("{config}secret_env = [\"VAULT_ADDR\"]\n"),
    )
    .unwrap();
    std::fs::remove_file(&dump).unwrap();
    send_ok(&sb, "b");
    let seen = std::fs::read_to_string(&dump).unwrap();
    assert!(
        seen.lines()
            .any(|l| l == "VAULT_ADDR=https://vault.example:8200"),
        "{seen}"
    );
    assert!(
        !seen.contains(other_password) && !seen.contains("SMTP_PASS_A"),
        "{seen}"
    );
    // A name that cannot be a variable is refused when the config is read.
    std::fs::write(
        sb.user_config(),
        format!("{config}secret_env = [\"A=B\"]\n"),
    )
    .unwrap();
    sb.run(
        &[
            "--profile",
            "b",
            "send",
            "--to",
            "a@example.org",
            "--subject",
            "x",
        ],
        b"x\n",
    )
    .code(78)
    .one_line_error("secret_env");
}
