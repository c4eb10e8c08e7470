//! Configuration mistakes are reported with file and line (unknown keys, bad values, a
//! world-writable file), `--config` and `RELAYCTL_CONFIG` choose the file, a missing profile says
//! how to make one, and usage errors are one line with exit 64. No relay, no root.

use std::os::unix::fs::PermissionsExt;

use crate::harness::Sandbox;

fn write_config(sb: &Sandbox, text: &str) -> std::path::PathBuf {
    let path = sb.user_config();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

const PROFILE: &str = "[profiles.campus]\npreset = \"smarthost\"\nhost = \"localhost\"\nport = 25\ntls = \"none\"\nfrom = \"a@campus.example\"\n";

#[test]
fn unknown_key_names_file_line_and_key() {
    let sb = Sandbox::new();
    let path = write_config(&sb, &PROFILE.replace("host =", "hots ="));
    sb.run(&["profile", "list"], b"")
        .code(78)
        .one_line_error(&format!("{}:3: unknown field `hots`", path.display()));
}

#[test]
fn bad_value_names_the_line() {
    let sb = Sandbox::new();
    let path = write_config(
        &sb,
        &format!(
            "default_profile = \"campus\"\n\n{}",
            PROFILE.replace("port = 25", "port = \"smtp\"")
        ),
    );
    sb.run(&["send", "--to", "a@example.org", "--subject", "x"], b"x\n")
        .code(78)
        .one_line_error(&format!("{}:6:", path.display()));
}

#[test]
fn world_writable_config_is_refused() {
    let sb = Sandbox::new();
    let path = write_config(&sb, PROFILE);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    sb.run(&["profile", "list"], b"")
        .code(78)
        .one_line_error(&format!("chmod go-w {}", path.display()));
}

#[test]
fn explicit_config_file_from_flag_or_environment() {
    let mut sb = Sandbox::new();
    let path = sb.path("elsewhere.toml");
    std::fs::write(&path, PROFILE).unwrap();
    let run = sb
        .run(
            &["--config", path.to_str().unwrap(), "profile", "list"],
            b"",
        )
        .ok();
    assert!(run.stdout.contains("campus"), "{}", run.stdout);
    sb.env("RELAYCTL_CONFIG", path.to_str().unwrap());
    let run = sb.run(&["profile", "show", "campus"], b"").ok();
    assert!(
        run.stdout.contains(&path.display().to_string()),
        "{}",
        run.stdout
    );
    sb.run(
        &["--config", "/nonexistent/relayctl.toml", "profile", "list"],
        b"",
    )
    .code(78)
    .one_line_error("/nonexistent/relayctl.toml");
}

#[test]
fn no_profile_configured_says_how_to_create_one() {
    let sb = Sandbox::new();
    sb.run(&["send", "--to", "a@example.org", "--subject", "x"], b"x\n")
        .code(78)
        .one_line_error("relayctl setup");
}

#[test]
fn usage_errors_are_one_line_with_exit_64() {
    let sb = Sandbox::new();
    sb.run(&["send", "--bogus"], b"")
        .code(64)
        .one_line_error("--bogus");
    sb.run(&["setup", "nosuchpreset"], b"")
        .code(64)
        .one_line_error("nosuchpreset");
    sb.run(&["setup", "institutional", "--user", "a@b.example"], b"")
        .code(64)
        .one_line_error("--host");
    sb.run(&["sendmail"], b"")
        .code(64)
        .one_line_error("no recipients");
    sb.run(&["sendmail", "-k", "a@b.example"], b"")
        .code(64)
        .one_line_error("-k");
}

#[test]
fn help_and_version_succeed_on_stdout() {
    let sb = Sandbox::new();
    let run = sb.run(&["--version"], b"").ok();
    assert!(run.stdout.starts_with("relayctl "), "{}", run.stdout);
    let run = sb.run(&["setup", "--help"], b"").ok();
    for preset in [
        "gmail",
        "institutional",
        "smarthost",
        "outlook",
        "fastmail",
        "ses",
        "sendgrid",
        "mailgun",
        "icloud",
        "yahoo",
        "zoho",
    ] {
        assert!(run.stdout.contains(preset), "{preset} missing from help");
    }
}
