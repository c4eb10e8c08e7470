//! `setup` and the `profile` subcommands manage the config file as an admin expects: the default
//! profile, `show` without the secret, `set-secret`, `remove`, the system file under the user's,
//! comments kept, the presets' endpoints and limits, and secrets absent from every output.

use crate::harness::{
    PASSWORD, Root, Sandbox, USER, as_root, marker, relay, submission_args, wait_for,
};

#[test]
fn first_profile_becomes_default_and_list_marks_it() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    sb.setup_submission("backup", &[]).ok();
    let run = sb.run(&["profile", "list"], b"").ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].contains("NAME") && lines[0].contains("RELAY"),
        "{}",
        run.stdout
    );
    assert!(
        lines.iter().any(|l| l.starts_with("* uni ")),
        "{}",
        run.stdout
    );
    assert!(
        lines.iter().any(|l| l.starts_with("  backup ")),
        "{}",
        run.stdout
    );

    sb.run(&["profile", "default", "backup"], b"").ok();
    let run = sb.run(&["profile", "list"], b"").ok();
    assert!(
        run.stdout.lines().any(|l| l.starts_with("* backup ")),
        "{}",
        run.stdout
    );
}

#[test]
fn setup_default_flag_switches_the_default() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("a", &[]).ok();
    sb.setup_submission("b", &["--default"]).ok();
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    assert!(config.starts_with("default_profile = \"b\""), "{config}");
}

#[test]
fn show_never_prints_the_secret() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    let run = sb.run(&["profile", "show", "uni"], b"").ok();
    assert!(
        run.stdout.contains("relay:            localhost:587"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("(readable)"), "{}", run.stdout);
    assert!(!run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD));
}

#[test]
fn set_secret_rotates_the_password_in_one_step() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    // The provider revokes the password: stand it in without the login check.
    sb.run(
        &[
            "profile",
            "set-secret",
            "uni",
            "--password-stdin",
            "--no-verify",
        ],
        b"revoked-one\n",
    )
    .ok();
    sb.run(
        &["--wait", "send", "--to", "a@example.org", "--subject", "x"],
        b"x\n",
    )
    .code(77);
    let run = sb
        .run(
            &["profile", "set-secret", "uni", "--password-stdin"],
            PASSWORD.as_bytes(),
        )
        .ok();
    assert!(run.stdout.contains("read back"), "{}", run.stdout);
    let m = marker("rotated");
    sb.run(
        &["--wait", "send", "--to", "a@example.org", "--subject", &m],
        b"x\n",
    )
    .ok();
    wait_for(&m);
}

#[test]
fn remove_deletes_the_profile_and_its_secret_file() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    let secret = sb.path("config/relayctl/secrets/uni");
    assert!(secret.exists());
    sb.run(&["profile", "remove", "uni"], b"").ok();
    assert!(!secret.exists());
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    assert!(!config.contains("uni"), "{config}");
    sb.run(&["profile", "show", "uni"], b"")
        .code(78)
        .one_line_error("no profile named `uni`");
}

#[test]
fn system_flag_writes_the_system_file_and_user_file_overrides_it() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &["--system"]).ok();
    let system = sb.path("etc/relayctl/config.toml");
    assert!(system.exists());
    assert!(!sb.user_config().exists());
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&system).unwrap().permissions());
    assert_eq!(
        mode & 0o777,
        0o644,
        "the system file holds no secret and is readable"
    );
    assert!(
        sb.path("etc/relayctl/secrets/uni").exists(),
        "the secret sits beside the system file"
    );

    // A user profile of the same name wins.
    sb.setup_smarthost(&[
        "--name",
        "uni",
        "--port",
        "2587",
        "--from",
        "me@campus.example",
    ])
    .ok();
    let run = sb.run(&["profile", "show", "uni"], b"").ok();
    assert!(run.stdout.contains("localhost:2587"), "{}", run.stdout);
}

#[test]
fn setup_keeps_comments_and_other_profiles() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    let path = sb.user_config();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("# maintained by ops\n{text}")).unwrap();
    sb.setup_smarthost(&["--name", "campus", "--from", "a@campus.example"])
        .ok();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# maintained by ops\n"), "{text}");
    assert!(
        text.contains("[profiles.uni]") && text.contains("[profiles.campus]"),
        "{text}"
    );
}

#[test]
fn presets_fill_in_provider_endpoints() {
    let sb = Sandbox::new();
    let cases = [
        (
            vec!["setup", "gmail", "--user", "me@gmail.com"],
            "smtp.gmail.com:587",
            "starttls",
            "25MB",
        ),
        (
            vec!["setup", "outlook", "--user", "me@contoso.example"],
            "smtp.office365.com:587",
            "starttls",
            "35MB",
        ),
        (
            vec!["setup", "fastmail", "--user", "me@fastmail.com"],
            "smtp.fastmail.com:465",
            "tls",
            "70MB",
        ),
        (
            vec![
                "setup",
                "ses",
                "--region",
                "eu-west-1",
                "--user",
                "AKIAEXAMPLE",
                "--from",
                "me@example.org",
            ],
            "email-smtp.eu-west-1.amazonaws.com:587",
            "starttls",
            "40MB",
        ),
        (
            vec!["setup", "sendgrid", "--from", "me@example.org"],
            "smtp.sendgrid.net:587",
            "starttls",
            "30MB",
        ),
        (
            vec!["setup", "mailgun", "--user", "postmaster@mg.example.org"],
            "smtp.mailgun.org:587",
            "starttls",
            "25MB",
        ),
        (
            vec!["setup", "icloud", "--user", "me@icloud.com"],
            "smtp.mail.me.com:587",
            "starttls",
            "20MB",
        ),
        (
            vec!["setup", "yahoo", "--user", "me@yahoo.com"],
            "smtp.mail.yahoo.com:465",
            "tls",
            "25MB",
        ),
        (
            vec!["setup", "zoho", "--region", "eu", "--user", "me@zoho.eu"],
            "smtp.zoho.eu:465",
            "tls",
            "20MB",
        ),
    ];
    for (args, relay, tls, size) in cases {
        let mut args = args.clone();
        args.extend(["--password-stdin", "--secret-store", "file", "--no-verify"]);
        let preset = args[1];
        sb.run(&args, b"app-pass\n").ok();
        let run = sb.run(&["profile", "show", preset], b"").ok();
        assert!(
            run.stdout.contains(&format!("relay:            {relay}\n")),
            "{preset}: {}",
            run.stdout
        );
        assert!(
            run.stdout.contains(&format!("tls:              {tls}\n")),
            "{preset}: {}",
            run.stdout
        );
        assert!(
            run.stdout.contains(&format!("max message size: {size}\n")),
            "{preset}: {}",
            run.stdout
        );
    }
    let run = sb.run(&["profile", "show", "sendgrid"], b"").ok();
    assert!(
        run.stdout.contains("user:             apikey\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn institutional_setup_warns_about_single_sign_on_passwords() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let run = sb.setup_submission("uni", &[]).ok();
    assert!(run.stderr.contains("single-sign-on"), "{}", run.stderr);
    assert!(
        run.stderr.contains("app-specific password"),
        "{}",
        run.stderr
    );
}

/// Every command's output, with -v transcripts, is free of the password.
#[test]
fn secrets_absent_from_every_output() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let mut outputs = vec![sb.setup_submission("uni", &[]).ok()];
    let m = marker("leak");
    outputs.push(
        sb.run(
            &[
                "--wait",
                "-v",
                "send",
                "--to",
                "a@example.org",
                "--subject",
                &m,
            ],
            b"x\n",
        )
        .ok(),
    );
    outputs.push(
        sb.run(
            &["-v", "sendmail", "a@example.org"],
            format!("Subject: {m}-2\n\nx\n").as_bytes(),
        )
        .ok(),
    );
    outputs.push(sb.run(&["profile", "list"], b"").ok());
    outputs.push(sb.run(&["profile", "show", "uni"], b"").ok());
    outputs.push(
        sb.run(
            &["-v", "profile", "set-secret", "uni", "--password-stdin"],
            PASSWORD.as_bytes(),
        )
        .ok(),
    );
    // A refused password is refused with -v too, without showing it.
    outputs.push(
        sb.run(
            &["-v", "profile", "set-secret", "uni", "--password-stdin"],
            b"wrong-pass-4711\n",
        )
        .code(77),
    );
    sb.run(
        &[
            "profile",
            "set-secret",
            "uni",
            "--password-stdin",
            "--no-verify",
        ],
        b"wrong-pass-4711\n",
    )
    .ok();
    outputs.push(
        sb.run(
            &[
                "--wait",
                "-v",
                "send",
                "--to",
                "a@example.org",
                "--subject",
                "x",
            ],
            b"x\n",
        )
        .code(77),
    );
    let transcript = &outputs[1].stderr;
    assert!(
        transcript.contains("AUTH PLAIN (credentials not shown)"),
        "{transcript}"
    );
    for run in &outputs {
        for secret in [PASSWORD, "wrong-pass-4711"] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "leak: {run:#?}"
            );
        }
        // Nor base64-encoded, as in an AUTH PLAIN line.
        assert!(
            !run.stderr.contains("AGpkb2VAcmVsYXkudGVzdAB"),
            "leak: {run:#?}"
        );
    }
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    assert!(!config.contains(PASSWORD));
    wait_for(&m);
    assert_eq!(
        USER, "jdoe@relay.test",
        "the base64 check above encodes this user"
    );
}

/// `setup gmail` aimed at the test relay's submission port, so that Gmail's hint is the one given.
fn gmail_args(extra: &[&str]) -> Vec<String> {
    let ca = relay().ca_file.display().to_string();
    let base = [
        "setup",
        "gmail",
        "--host",
        "localhost",
        "--port",
        "587",
        "--tls",
        "starttls",
        "--user",
        USER,
        "--ca-file",
        &ca,
        "--password-stdin",
        "--secret-store",
        "file",
    ];
    base.iter().chain(extra).map(|a| a.to_string()).collect()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn setup_logs_in_and_tries_the_sender_before_it_saves() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let run = sb.setup_submission("uni", &[]).ok();
    assert!(
        run.stdout
            .contains(&format!("login ok: logged in as {USER} with PLAIN: 235 ")),
        "{run:#?}"
    );
    assert!(
        run.stdout
            .contains(&format!("sender ok: the relay accepts <{USER}> as sender")),
        "{run:#?}"
    );
    // The check comes before the profile is written.
    let login = run.stdout.find("login ok").unwrap();
    let saved = run.stdout.find("profile `uni` saved").unwrap();
    assert!(login < saved, "{run:#?}");
}

#[test]
fn setup_with_a_refused_password_exits_77_with_the_providers_fix_and_saves_nothing() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    // A first profile, so that the config file exists and must stay as it is.
    sb.setup_submission("uni", &[]).ok();
    let before = std::fs::read_to_string(sb.user_config()).unwrap();
    let run = sb
        .run(&strs(&gmail_args(&[])), b"wrong-app-password\n")
        .code(77)
        .one_line_error("auth.login: the relay refused the login for jdoe@relay.test");
    assert!(
        run.stderr.contains("relay said: 535")
            && run.stderr.contains("Gmail needs an app password")
            && run.stderr.contains("nothing was saved"),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("wrong-app-password"), "{run:#?}");
    assert_eq!(std::fs::read_to_string(sb.user_config()).unwrap(), before);
    assert!(!sb.path("config/relayctl/secrets/gmail").exists());

    // Nothing at all in a fresh home either.
    let sb = Sandbox::new();
    let args = submission_args("uni", &["--password-stdin", "--secret-store", "file"]);
    sb.run(&strs(&args), b"wrong\n").code(77);
    assert!(!sb.user_config().exists());
    assert!(!sb.path("config/relayctl/secrets/uni").exists());
}

#[test]
fn setup_against_an_unreachable_relay_exits_75_with_the_doctors_line_and_saves_nothing() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    // Nothing listens on port 1.
    let args = [
        "setup",
        "institutional",
        "--name",
        "uni",
        "--host",
        "127.0.0.1",
        "--port",
        "1",
        "--tls",
        "tls",
        "--user",
        USER,
        "--password-stdin",
        "--secret-store",
        "file",
    ];
    let run = sb
        .run(&args, PASSWORD.as_bytes())
        .code(75)
        .one_line_error("tcp.relay: 127.0.0.1:1 refused the connection");
    assert!(
        run.stderr
            .contains("fix: check host and port in [profiles.uni]")
            && run
                .stderr
                .contains("nothing was saved (--no-verify saves without connecting)"),
        "{run:#?}"
    );
    assert!(!sb.user_config().exists());
    assert!(!sb.path("config/relayctl/secrets/uni").exists());

    // --no-verify: saved without connecting.
    let mut no_verify = args.to_vec();
    no_verify.push("--no-verify");
    let run = sb.run(&no_verify, PASSWORD.as_bytes()).ok();
    assert!(run.stdout.contains("profile `uni` saved"), "{run:#?}");
    assert!(!run.stdout.contains("login"), "{run:#?}");
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    assert!(config.contains("port = 1"), "{config}");
    let secret = std::fs::read_to_string(sb.path("config/relayctl/secrets/uni")).unwrap();
    assert_eq!(secret.trim(), PASSWORD);
}

#[test]
fn set_secret_refuses_a_password_the_relay_refuses_and_keeps_the_old_one() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    let secret = sb.path("config/relayctl/secrets/uni");
    let run = sb
        .run(
            &["profile", "set-secret", "uni", "--password-stdin"],
            b"mistyped\n",
        )
        .code(77)
        .one_line_error("auth.login: the relay refused the login");
    assert!(run.stderr.contains("the old secret is kept"), "{run:#?}");
    assert_eq!(std::fs::read_to_string(&secret).unwrap().trim(), PASSWORD);
    // The old one still delivers.
    let m = marker("kept");
    sb.run(
        &["--wait", "send", "--to", "a@example.org", "--subject", &m],
        b"x\n",
    )
    .ok();
    wait_for(&m);

    // The right one replaces it after logging in.
    let run = sb
        .run(
            &["profile", "set-secret", "uni", "--password-stdin"],
            PASSWORD.as_bytes(),
        )
        .ok();
    assert!(run.stdout.contains("login ok: "), "{run:#?}");
}
