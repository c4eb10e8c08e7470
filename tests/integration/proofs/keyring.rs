//! The OS keyring for real: gnome-keyring's Secret Service on a D-Bus session bus of the test's
//! own (`dbus-run-session`), its login keyring created and unlocked with a password as a desktop
//! login does, everything in the sandbox's home. relayctl finds the bus through
//! `DBUS_SESSION_BUS_ADDRESS`, as in a desktop session; `secret-tool` (libsecret) looks at what it
//! stored. relayctl runs without a controlling terminal (`setsid`), as cron, units and programs
//! calling `sendmail` do, whether or not the tests were started from one.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{ChildStdin, Command, Stdio};
use std::time::Duration;

use super::{files_containing, output};
use crate::harness::{
    PASSWORD, Root, Run, Sandbox, USER, as_root, marker, queue, submission_args, wait_for,
};
use crate::namespace::ChildGuard;
use crate::oauth_server::{SmtpOptions, TokenOptions, TokenServer, oauth_smtp};

/// The password of the test keyring itself (what a desktop login unlocks it with).
const LOGIN_PASSWORD: &str = "Keyring-Login-Pass-5120";

/// What the session starts with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Login {
    /// A login keyring, created and unlocked (gnome-keyring-daemon --unlock).
    Unlocked,
    /// Nothing but the bus: gnome-keyring is started by D-Bus activation when first asked and
    /// has no login keyring, as in a session whose keyring was never set up.
    NoKeyring,
}

/// A headless desktop session's bus and keyring. Dropping it ends the bus, and gnome-keyring
/// with it.
struct Session {
    /// `dbus-run-session`, which ends the bus when its `cat` sees end of input.
    guard: ChildGuard,
    stdin: Option<ChildStdin>,
    /// The bus daemon's log: which services it started. A keyring unlock dialog is the
    /// `org.gnome.keyring.SystemPrompter` service.
    log: PathBuf,
}

impl Session {
    /// Starts the session and points `sb`'s runs at it (`DBUS_SESSION_BUS_ADDRESS`, and an
    /// `XDG_RUNTIME_DIR` of its own for gnome-keyring's control socket).
    fn start(sb: &mut Sandbox, login: Login) -> Session {
        let runtime = runtime_dir(sb);
        let log = sb.path("dbus-session.log");
        let unlock = match login {
            Login::Unlocked => {
                r#"printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 1"#
            }
            Login::NoKeyring => ":",
        };
        let script = format!("{unlock}\necho \"$DBUS_SESSION_BUS_ADDRESS\"\nexec cat >/dev/null");
        let mut cmd = sb.program("dbus-run-session");
        cmd.args(["--", "sh", "-c", &script])
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("KEYRING_PASSWORD", LOGIN_PASSWORD)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut guard = ChildGuard::spawn(cmd);
        let stdin = guard.child().stdin.take();
        let mut address = String::new();
        BufReader::new(guard.child().stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim();
        assert!(
            address.starts_with("unix:"),
            "no session bus: {address:?}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        sb.env("DBUS_SESSION_BUS_ADDRESS", address)
            .env("XDG_RUNTIME_DIR", runtime.to_str().unwrap());
        Session { guard, stdin, log }
    }

    /// What the bus daemon logged.
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    /// Locks every keyring, as a screen lock or a timeout would.
    fn lock(&self, sb: &Sandbox) {
        output(sb.program("dbus-send").args([
            "--session",
            "--dest=org.freedesktop.secrets",
            "--type=method_call",
            "--print-reply",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/aliases/default",
        ]));
    }

    /// Logs in again: a new gnome-keyring replaces the running one and unlocks the login
    /// keyring with its password, as a desktop login does.
    fn log_in_again(&self, sb: &Sandbox) {
        let mut child = sb
            .program("gnome-keyring-daemon")
            .args(["--replace", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(LOGIN_PASSWORD.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
    }

    /// The profiles that have an item in the keyring, as libsecret sees them.
    fn profiles(&self, sb: &Sandbox) -> Vec<String> {
        let out = sb
            .program("secret-tool")
            .args(["search", "--all", "service", "relayctl"])
            .output()
            .unwrap();
        // secret-tool prints the items on stdout and their details on stderr.
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        text.lines()
            .filter_map(|l| l.strip_prefix("attribute.username = "))
            .map(str::to_string)
            .collect()
    }

    /// The secret of `profile`, as libsecret reads it.
    fn lookup(&self, sb: &Sandbox, profile: &str) -> String {
        output(
            sb.program("secret-tool")
                .args(["lookup", "service", "relayctl", "username", profile]),
        )
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while self.guard.try_wait().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A private `XDG_RUNTIME_DIR` (0700, as pam_systemd makes it).
fn runtime_dir(sb: &Sandbox) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = sb.path("run");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

/// relayctl `args` in `sb` without a controlling terminal, as from cron or a unit.
fn run(sb: &Sandbox, args: &[&str], stdin: &[u8]) -> Run {
    let mut cmd: Command = sb.program("setsid");
    cmd.arg("--wait")
        .arg(env!("CARGO_BIN_EXE_relayctl"))
        .args(args);
    crate::namespace::run(cmd, stdin, Duration::from_secs(60))
}

/// `setup institutional` for the relay's submission port, password on stdin, with `extra`.
fn setup(sb: &Sandbox, name: &str, extra: &[&str]) -> Run {
    let mut store = vec!["--from", USER, "--password-stdin"];
    store.extend_from_slice(extra);
    let args = submission_args(name, &store);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(sb, &args, PASSWORD.as_bytes())
}

/// Sends a message through the default profile with `global` options before `send`.
fn send(sb: &Sandbox, global: &[&str], subject: &str) -> Run {
    let mut args = global.to_vec();
    args.extend(["send", "--to", "ops@example.org", "--subject", subject]);
    run(sb, &args, b"body\n")
}

#[test]
fn a_password_lives_in_the_keyring_from_setup_to_removal_and_nowhere_on_disk() {
    if !as_root(Root::Postfix) {
        return;
    }
    let mut sb = Sandbox::new();
    let session = Session::start(&mut sb, Login::Unlocked);
    let mut runs = vec![setup(&sb, "kr", &["--secret-store", "keyring"]).ok()];
    assert!(
        runs[0]
            .stdout
            .contains("secret: OS keyring (relayctl/kr) (stored and read back)"),
        "{:#?}",
        runs[0]
    );
    assert_eq!(session.profiles(&sb), ["kr"]);
    assert_eq!(session.lookup(&sb, "kr"), PASSWORD);
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    assert!(config.contains("secret = \"keyring\""), "{config}");
    // The keyring's file on disk is encrypted with the login password; no file holds the
    // relay password in clear: not the config, the spool, nor anything else in the home.
    assert!(sb.path(".local/share/keyrings/login.keyring").is_file());
    assert_eq!(
        files_containing(sb.dir.path(), PASSWORD),
        Vec::<PathBuf>::new()
    );

    // Sent at once (the relay's verdict awaited), and by the queue runner.
    let m = marker("keyring-wait");
    runs.push(send(&sb, &["--wait"], &m).ok());
    wait_for(&m);
    let config_file = sb.user_config();
    std::fs::write(&config_file, format!("delivery = \"queue\"\n{config}")).unwrap();
    let m = marker("keyring-runner");
    runs.push(send(&sb, &[], &m).ok());
    assert_eq!(queue(&sb, "list").len(), 1);
    runs.push(run(&sb, &["queue", "run"], b"").ok());
    wait_for(&m);
    assert!(queue(&sb, "list").is_empty());

    // set-secret replaces the item (still one) and sending reads the new one: a wrong
    // password is refused by the relay (77), the right one works again.
    let wrong = "Not-The-Relay-Password-1";
    runs.push(
        run(
            &sb,
            &[
                "profile",
                "set-secret",
                "kr",
                "--password-stdin",
                "--no-verify",
            ],
            wrong.as_bytes(),
        )
        .ok(),
    );
    assert_eq!(session.lookup(&sb, "kr"), wrong);
    assert_eq!(session.profiles(&sb), ["kr"]);
    runs.push(send(&sb, &["--wait"], "refused").code(77));
    runs.push(
        run(
            &sb,
            &["profile", "set-secret", "kr", "--password-stdin"],
            PASSWORD.as_bytes(),
        )
        .ok(),
    );
    let m = marker("keyring-replaced");
    runs.push(send(&sb, &["--wait"], &m).ok());
    wait_for(&m);

    // remove deletes the item.
    runs.push(run(&sb, &["profile", "remove", "kr"], b"").ok());
    assert_eq!(session.profiles(&sb), Vec::<String>::new());
    assert!(!session.log().contains("Prompter"), "{}", session.log());
    for r in &runs {
        assert!(
            !r.stdout.contains(PASSWORD) && !r.stderr.contains(PASSWORD),
            "{r:#?}"
        );
    }
}

/// A locked keyring without a terminal: no unlock dialog (the daemon never starts its
/// prompter), one line that says what to do, and exit 75 (EX_TEMPFAIL): the keyring is unlocked
/// when its owner logs in, with no change to relayctl, so queued mail waits and goes then.
#[test]
fn a_locked_keyring_fails_at_once_with_75_and_queued_mail_goes_after_the_next_login() {
    if !as_root(Root::Postfix) {
        return;
    }
    let mut sb = Sandbox::new();
    let session = Session::start(&mut sb, Login::Unlocked);
    setup(&sb, "kr", &["--secret-store", "keyring"]).ok();
    session.lock(&sb);

    let started = std::time::Instant::now();
    send(&sb, &["--wait"], "locked")
        .code(75)
        .one_line_error("the keyring item of profile kr is locked");
    assert!(started.elapsed() < Duration::from_secs(10));
    run(
        &sb,
        &[
            "profile",
            "set-secret",
            "kr",
            "--password-stdin",
            "--no-verify",
        ],
        b"x",
    )
    .code(75)
    .one_line_error("is locked");
    // Queued: accepted (0), waiting, not held.
    let m = marker("keyring-locked");
    send(&sb, &[], &m).ok();
    run(&sb, &["queue", "run"], b"").ok();
    let waiting = queue(&sb, "list");
    assert_eq!(waiting.len(), 1, "{waiting:#?}");
    assert_ne!(waiting[0]["status"], "held", "{waiting:#?}");
    let log = session.log();
    assert!(
        !log.contains("Prompter"),
        "an unlock dialog was asked for:\n{log}"
    );

    session.log_in_again(&sb);
    run(&sb, &["queue", "flush"], b"").ok();
    wait_for(&m);
    assert!(queue(&sb, "list").is_empty());
}

#[test]
fn setup_picks_the_keyring_when_usable_and_otherwise_a_private_file_and_says_why() {
    if !as_root(Root::Postfix) {
        return;
    }
    // A session with an unlocked keyring: the keyring, without a word about files.
    let mut sb = Sandbox::new();
    let session = Session::start(&mut sb, Login::Unlocked);
    let chose = setup(&sb, "desk", &[]).ok();
    assert!(
        chose.stdout.contains("secret: OS keyring (relayctl/desk)"),
        "{chose:#?}"
    );
    assert!(!chose.stderr.contains("file"), "{chose:#?}");
    assert_eq!(session.lookup(&sb, "desk"), PASSWORD);

    // The same session locked, without a terminal to ask: a file, and why.
    session.lock(&sb);
    let locked = setup(&sb, "locked", &[]).ok();
    assert_file_store(&sb, "locked", &locked, "is locked, and without a terminal");
    drop(session);

    // A bus whose Secret Service has no keyring to keep a secret in.
    let mut sb = Sandbox::new();
    let _session = Session::start(&mut sb, Login::NoKeyring);
    let bare = setup(&sb, "bare", &[]).ok();
    assert_file_store(&sb, "bare", &bare, "has no default keyring");

    // No session bus at all: a server, cron.
    let mut sb = Sandbox::new();
    let runtime = runtime_dir(&sb);
    sb.env("XDG_RUNTIME_DIR", runtime.to_str().unwrap());
    let headless = setup(&sb, "server", &[]).ok();
    assert_file_store(&sb, "server", &headless, "no Secret Service session");
}

/// `setup` kept the secret of `name` in its 0600 file and said so, with `why`.
#[track_caller]
fn assert_file_store(sb: &Sandbox, name: &str, run: &Run, why: &str) {
    use std::os::unix::fs::PermissionsExt;
    assert!(run.stderr.contains(why), "{run:#?}");
    assert!(
        run.stderr
            .contains("keeping the secret in a file only its owner can read"),
        "{run:#?}"
    );
    assert!(
        !run.stderr.contains("zbus"),
        "the keyring's own words under -v only: {run:#?}"
    );
    let file = sb.path(&format!("config/relayctl/secrets/{name}"));
    assert!(
        run.stdout
            .contains(&format!("secret: file {}", file.display())),
        "{run:#?}"
    );
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        format!("{PASSWORD}\n")
    );
}

#[test]
fn oauth2_tokens_and_client_secret_live_in_the_keyring_and_a_rotated_token_is_written_back() {
    if !as_root(Root::Postfix) {
        return;
    }
    let client_secret = "Keyring-Client-Secret-3388";
    let tokens = TokenServer::start(TokenOptions {
        client_secret: Some(client_secret.into()),
        rotate_refresh: true,
        device_pending_polls: 0,
        ..TokenOptions::default()
    });
    let smtp = oauth_smtp(&tokens, SmtpOptions::default());
    let mut sb = Sandbox::new();
    let session = Session::start(&mut sb, Login::Unlocked);
    let ca = crate::harness::relay().ca_file.display().to_string();
    let (port, token, device) = (
        smtp.port.to_string(),
        tokens.url("/token"),
        tokens.url("/device"),
    );
    let opts = TokenOptions::default();
    let signed_in = run(
        &sb,
        &[
            "setup",
            "institutional",
            "--oauth",
            "--name",
            "uni",
            "--host",
            "localhost",
            "--port",
            &port,
            "--tls",
            "tls",
            "--user",
            &opts.subject,
            "--ca-file",
            &ca,
            "--secret-store",
            "keyring",
            "--client-id",
            &opts.client_id,
            "--client-secret-stdin",
            "--token-endpoint",
            &token,
            "--device-endpoint",
            &device,
            "--scope",
            &opts.scope,
        ],
        format!("{client_secret}\n").as_bytes(),
    )
    .ok();
    assert!(
        signed_in
            .stdout
            .contains("secret: OS keyring (relayctl/uni) (signed in"),
        "{signed_in:#?}"
    );
    let first = tokens.last_refresh_token().unwrap();
    assert_eq!(
        session.lookup(&sb, "uni"),
        format!("{first}\n{client_secret}")
    );

    // An emptied token cache forces a refresh: the refresh token and the client secret come
    // from the keyring, and the rotated refresh token goes back into it.
    std::fs::write(sb.path("spool/oauth/uni.token"), "").unwrap();
    let sent = send(&sb, &["--wait"], "rotated").ok();
    assert_eq!(tokens.refresh_grants(), 1, "{sent:#?}");
    let refresh = tokens
        .requests()
        .into_iter()
        .find(|r| r.field("grant_type") == Some("refresh_token"))
        .unwrap();
    assert_eq!(refresh.field("refresh_token"), Some(first.as_str()));
    assert_eq!(refresh.field("client_secret"), Some(client_secret));
    let rotated = tokens.last_refresh_token().unwrap();
    assert_ne!(rotated, first);
    assert_eq!(
        session.lookup(&sb, "uni"),
        format!("{rotated}\n{client_secret}")
    );
    assert_eq!(smtp.messages().len(), 1);
    assert!(
        smtp.auths().iter().all(|a| a.accepted),
        "{:?}",
        smtp.auths()
    );
    for secret in [client_secret, &first, &rotated] {
        assert_eq!(
            files_containing(sb.dir.path(), secret),
            Vec::<PathBuf>::new()
        );
        for r in [&signed_in, &sent] {
            assert!(
                !r.stdout.contains(secret) && !r.stderr.contains(secret),
                "{r:#?}"
            );
        }
    }
}

#[test]
fn doctor_warns_that_a_system_profile_in_the_keyring_has_no_session_for_cron_and_services() {
    if !as_root(Root::Postfix) {
        return;
    }
    let mut sb = Sandbox::new();
    let _session = Session::start(&mut sb, Login::Unlocked);
    setup(&sb, "sys", &["--system", "--secret-store", "keyring"]).ok();
    sb.env("RELAYCTL_DNS_SERVER", "127.0.0.1:1");
    let doctor = run(&sb, &["doctor", "--json"], b"");
    let report = crate::doctor::parse(&doctor);
    let store = crate::doctor::check(&report, "secret.store");
    assert_eq!(store["status"], "pass", "{store:#}");
    assert!(
        store["summary"]
            .as_str()
            .unwrap()
            .contains("OS keyring (relayctl/sys)"),
        "{store:#}"
    );
    let warning = crate::doctor::check(&report, "secret.keyring");
    assert_eq!(warning["status"], "warn", "{warning:#}");
    let text = warning.to_string();
    assert!(
        text.contains("cron jobs, systemd timers and the queue daemon have no keyring session"),
        "{warning:#}"
    );
    assert!(text.contains("--secret-store file"), "{warning:#}");
    let login = crate::doctor::check(&report, "auth.login");
    assert_eq!(login["status"], "pass", "{login:#}");
}
