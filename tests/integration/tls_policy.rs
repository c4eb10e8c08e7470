//! TLS policy: certificates are verified (an untrusted CA, an IP address host with `tls_name`;
//! either is a mistake in the profile's setup, exit 78 with the fix),
//! credentials never travel in clear (a relay that drops STARTTLS gets no password, a password
//! profile without TLS is refused at setup), login failures say what to do (Gmail app
//! passwords), and an unreachable relay is a temporary failure.

use crate::harness::{
    PASSWORD, Root, Sandbox, USER, arrives_soon, as_root, marker, relay, wait_for,
};

/// Port 2526 offers AUTH but no STARTTLS. The profile asks for STARTTLS, so relayctl must stop
/// before AUTH; the password command leaves a trace when run, proving the secret was not even read.
#[test]
fn relay_without_starttls_gets_no_credentials() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let trace = sb.path("secret-was-read");
    let cmd = format!("sh -c 'touch {}; echo {PASSWORD}'", trace.display());
    sb.run(
        &[
            "setup",
            "institutional",
            "--no-verify",
            "--name",
            "strip",
            "--host",
            "localhost",
            "--port",
            "2526",
            "--tls",
            "starttls",
            "--user",
            USER,
            "--password-command",
            &cmd,
        ],
        b"",
    )
    .ok();
    std::fs::remove_file(&trace).expect("setup checks the command once");
    let m = marker("nostarttls");
    sb.run(
        &["--wait", "send", "--to", "a@example.org", "--subject", &m],
        b"x\n",
    )
    .code(78)
    .one_line_error("does not offer STARTTLS");
    assert!(
        !trace.exists(),
        "the secret was read for a plaintext connection"
    );
    assert!(!arrives_soon(&m));
}

#[test]
fn profile_with_password_over_plaintext_is_refused_at_setup() {
    let sb = Sandbox::new();
    sb.run(
        &[
            "setup",
            "institutional",
            "--host",
            "localhost",
            "--port",
            "2526",
            "--tls",
            "none",
            "--user",
            USER,
            "--password-stdin",
            "--secret-store",
            "file",
        ],
        PASSWORD.as_bytes(),
    )
    .code(64)
    .one_line_error("in clear");
    assert!(!sb.user_config().exists());
}

#[test]
fn untrusted_certificate_is_refused() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    // No --ca-file: the test CA is not among the system's roots.
    sb.run(
        &[
            "setup",
            "institutional",
            "--no-verify",
            "--name",
            "untrusted",
            "--host",
            "localhost",
            "--port",
            "465",
            "--tls",
            "tls",
            "--user",
            USER,
            "--password-stdin",
            "--secret-store",
            "file",
        ],
        PASSWORD.as_bytes(),
    )
    .ok();
    let m = marker("untrusted");
    // A certificate this profile cannot verify is a mistake in its setup (78), with the fix.
    sb.run(
        &["--wait", "send", "--to", "a@example.org", "--subject", &m],
        b"x\n",
    )
    .code(78)
    .one_line_error("--ca-file");
    sb.run(
        &["--wait", "send", "--to", "a@example.org", "--subject", &m],
        b"x\n",
    )
    .one_line_error("UnknownIssuer");
    assert!(!arrives_soon(&m));
}

#[test]
fn ip_address_host_verifies_against_tls_name() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let ca = relay().ca_file.to_str().unwrap().to_string();
    let setup = |name: &str, tls_name: &str| {
        sb.run(
            &[
                "setup",
                "institutional",
                "--no-verify",
                "--name",
                name,
                "--host",
                "127.0.0.1",
                "--port",
                "587",
                "--tls",
                "starttls",
                "--tls-name",
                tls_name,
                "--ca-file",
                &ca,
                "--user",
                USER,
                "--password-stdin",
                "--secret-store",
                "file",
            ],
            PASSWORD.as_bytes(),
        )
        .ok()
    };
    setup("right", "localhost");
    setup("wrong", "mail.elsewhere.example");
    let m = marker("tlsname");
    sb.run(
        &[
            "--wait",
            "--profile",
            "right",
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
    sb.run(
        &[
            "--wait",
            "--profile",
            "wrong",
            "send",
            "--to",
            "a@example.org",
            "--subject",
            "x",
        ],
        b"x\n",
    )
    .code(78)
    .one_line_error("not valid for mail.elsewhere.example");
}

#[test]
fn wrong_gmail_app_password_exits_77_and_explains_app_passwords() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let ca = relay().ca_file.to_str().unwrap().to_string();
    // The gmail preset pointed at the test relay: same dialogue, wrong password.
    sb.run(
        &[
            "setup",
            "gmail",
            "--no-verify",
            "--user",
            USER,
            "--host",
            "localhost",
            "--ca-file",
            &ca,
            "--password-stdin",
            "--secret-store",
            "file",
        ],
        b"abcd efgh ijkl mnop\n",
    )
    .ok();
    let run = sb
        .run(
            &["--wait", "send", "--to", "a@example.org", "--subject", "x"],
            b"x\n",
        )
        .code(77)
        .one_line_error("535");
    assert!(run.stderr.contains("app password"), "{}", run.stderr);
    assert!(!run.stderr.contains("abcd"), "{}", run.stderr);
}

#[test]
fn gmail_app_password_spaces_are_removed() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let ca = relay().ca_file.to_str().unwrap().to_string();
    let spaced: String = PASSWORD.chars().flat_map(|c| [c, ' ']).collect();
    sb.run(
        &[
            "setup",
            "gmail",
            "--user",
            USER,
            "--host",
            "localhost",
            "--ca-file",
            &ca,
            "--password-stdin",
            "--secret-store",
            "file",
        ],
        spaced.as_bytes(),
    )
    .ok();
    let m = marker("gmailspaces");
    sb.run(&["send", "--to", "a@example.org", "--subject", &m], b"x\n")
        .ok();
    wait_for(&m);
}

#[test]
fn unreachable_relay_is_a_temporary_failure() {
    let sb = Sandbox::new();
    sb.setup_smarthost(&["--port", "1", "--tls", "none", "--from", "a@campus.example"])
        .ok();
    sb.run(
        &["--wait", "send", "--to", "a@example.org", "--subject", "x"],
        b"x\n",
    )
    .code(75)
    .one_line_error("cannot connect to localhost:1");
}
