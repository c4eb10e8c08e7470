//! Test harness: a real Postfix relay on loopback (brought up by `tests/relay/postfix-up.sh`),
//! a capture server Postfix forwards everything to, and a sandbox to run the relayctl binary in.
//!
//! Postfix listens on 127.0.0.1: 25 (smarthost, no TLS, no AUTH), 587 (STARTTLS + AUTH),
//! 465 (implicit TLS + AUTH), 2526 (AUTH offered without TLS), 2587 (STARTTLS, no AUTH),
//! 2465 (implicit TLS, client certificate required), 2588 (implicit TLS, OAuth2 tokens checked
//! by Dovecot's auth service through introspection at 127.0.0.1:2590, where the OAuth2 tests run
//! their authorization server) and 2589 (implicit TLS, SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5,
//! PLAIN and LOGIN checked by Dovecot's auth service). The capture server (the scripted SMTP server of testkit/ on
//! port 2525) records what Postfix relays, so tests assert on the bytes that went through a real
//! relay.
//!
//! Postfix, namespaces, mounts and test users need root. A test that needs it starts with
//! `if skip_unless_root(WHY) { return; }`: run by anyone else, it passes without doing anything
//! and prints why it was skipped.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use testkit::forward::{self, Proxy};
use testkit::smtp::{Script, Server};

/// The SASL login the test relay accepts.
pub const USER: &str = "jdoe@relay.test";
/// Its password; tests grep every output for it.
pub const PASSWORD: &str = "Relay-Test-App-Pass-7431";
const CAPTURE_PORT: u16 = 2525;

/// What `postfix-up.sh` reported.
pub struct Relay {
    pub ca_file: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

/// A server TLS configuration with the test relay's certificate (`server.pem`, signed by the
/// test CA, for `localhost` and 127.0.0.1), for scripted servers that speak TLS.
pub fn tls_server_config() -> Arc<rustls::ServerConfig> {
    let dir = relay()
        .ca_file
        .parent()
        .expect("the CA file is in a directory");
    testkit::tls::server_config(&dir.join("server.pem"), &dir.join("server.key"))
}

/// What a test needs root for; [`as_root`] prints it when it skips the test.
#[derive(Debug, Clone, Copy)]
pub enum Root {
    /// The Postfix relay on loopback and its test CA (`tests/relay/postfix-up.sh`).
    Postfix,
    /// File systems mounted over the spool, in a private mount namespace.
    Mounts,
    /// A network namespace (`ip netns`).
    NetworkNamespace,
    /// Users of their own (`useradd`), programs run as them (`runuser`).
    Users,
}

impl Root {
    fn reason(self) -> &'static str {
        match self {
            Root::Postfix => "configure Postfix on 127.0.0.1 (tests/relay/postfix-up.sh)",
            Root::Mounts => "mount file systems over the spool in a private mount namespace",
            Root::NetworkNamespace => "create a network namespace (ip netns)",
            Root::Users => "add test users and run programs as them (useradd, runuser)",
        }
    }
}

/// Whether the calling test can go on: the tests run as root (and for [`Root::Postfix`], the
/// relay and the capture server are up). Otherwise it prints `skipped: needs root to WHY: TEST`
/// to stderr (which the test harness does not capture) and returns false, and the test returns
/// at once, passing: `if !as_root(Root::Postfix) { return; }`.
#[track_caller]
pub fn as_root(need: Root) -> bool {
    if process_uid() == 0 {
        if let Root::Postfix = need {
            relay();
        }
        return true;
    }
    let thread = std::thread::current();
    let test = match thread.name() {
        Some(name) if name != "main" => name.to_string(),
        _ => std::panic::Location::caller().to_string(),
    };
    let _ = writeln!(
        std::io::stderr(),
        "skipped: needs root to {}: {test}",
        need.reason()
    );
    false
}

/// Starts the capture server and Postfix once per test process (as root only: a test that needs
/// it starts with [`as_root`]).
pub fn relay() -> &'static Relay {
    static RELAY: OnceLock<Relay> = OnceLock::new();
    RELAY.get_or_init(|| {
        assert_eq!(
            process_uid(),
            0,
            "Postfix needs root: begin the test with `if !as_root(Root::Postfix) {{ return; }}`"
        );
        capture();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/relay/postfix-up.sh");
        let out = Command::new("bash")
            .arg(&script)
            .env("RELAYCTL_TEST_CAPTURE_PORT", CAPTURE_PORT.to_string())
            .output()
            .expect("run postfix-up.sh");
        assert!(
            out.status.success(),
            "postfix-up.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let vars: HashMap<String, String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Relay {
            ca_file: vars["CA_FILE"].clone().into(),
            client_cert: vars["CLIENT_CERT"].clone().into(),
            client_key: vars["CLIENT_KEY"].clone().into(),
        }
    })
}

/// The user the tests run as.
pub fn process_uid() -> u32 {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap_or(u32::MAX)
}

/// One message as the capture server received it from Postfix.
pub use testkit::smtp::Received as Captured;

/// The capture server: the scripted SMTP server on port 2525, accepting whatever Postfix relays.
/// It offers 8BITMIME and SMTPUTF8 so that Postfix forwards 8-bit bodies unconverted.
fn capture() -> &'static Server {
    static CAPTURE: OnceLock<Server> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let script = Script {
            name: "capture.test".into(),
            smtputf8: true,
            ..Script::default()
        };
        Server::start_on(CAPTURE_PORT, script)
            .unwrap_or_else(|e| panic!("capture server cannot listen on {CAPTURE_PORT}: {e}"))
    })
}

/// Waits (up to 30 s) for the message whose text contains `marker`.
pub fn wait_for(marker: &str) -> Captured {
    capture()
        .wait_for(Duration::from_secs(30), |m| m.text().contains(marker))
        .unwrap_or_else(|| panic!("no message with {marker:?} reached the capture server"))
}

/// Every message captured so far.
pub fn captured() -> Vec<Captured> {
    capture().messages()
}

/// `queue list --json` or `queue failed --json`, checked against docs/queue-schema.json (so
/// every test that looks at the queue checks the listing's schema in that state).
pub fn queue(sb: &Sandbox, area: &str) -> Vec<serde_json::Value> {
    let run = sb.run(&["queue", area, "--json"], b"").ok();
    validate_json("queue-schema.json", &run.stdout);
    match serde_json::from_str(&run.stdout) {
        Ok(serde_json::Value::Array(list)) => list,
        other => panic!("queue {area} --json: not an array: {other:?}\n{run:#?}"),
    }
}

/// Validates `json` against `docs/<schema>` with a real JSON Schema validator (Python's
/// jsonschema, Draft 2020-12).
pub fn validate_json(schema: &str, json: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join(schema);
    let script = "import json, sys, jsonschema\n\
                  schema = json.load(open(sys.argv[1]))\n\
                  jsonschema.Draft202012Validator.check_schema(schema)\n\
                  jsonschema.Draft202012Validator(schema).validate(json.load(sys.stdin))\n";
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", script])
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (apt-get install python3-jsonschema)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the output does not match docs/{schema}:\n{}\n{json}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The current Unix time in seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Whether a message with `marker` arrives within a few seconds (for "nothing was sent" checks).
pub fn arrives_soon(marker: &str) -> bool {
    capture()
        .wait_for(Duration::from_secs(3), |m| m.text().contains(marker))
        .is_some()
}

/// A tee in front of the server on 127.0.0.1:`port`: testkit's forwarder, keeping what each
/// client sent ([`Proxy::sent`]) without delaying anything.
pub fn tee(port: u16) -> Proxy {
    let options = forward::Options {
        record: true,
        ..forward::Options::default()
    };
    Proxy::start("127.0.0.1:0", ([127, 0, 0, 1], port), options).expect("the tee cannot listen")
}

/// A unique marker for one test's message.
pub fn marker(test: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!(
        "{test}-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// A private home for one test: its own user config, system config and environment.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns self.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }

    /// Asserts the exit code and returns self.
    #[track_caller]
    pub fn code(self, code: i32) -> Self {
        assert_eq!(self.code, code, "unexpected exit code: {self:#?}");
        self
    }

    /// Asserts stderr is exactly one `relayctl:` line containing `needle`.
    #[track_caller]
    pub fn one_line_error(self, needle: &str) -> Self {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.contains("warning:"))
            .collect();
        assert_eq!(lines.len(), 1, "one error line expected: {self:#?}");
        assert!(lines[0].starts_with("relayctl: "), "{self:#?}");
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}: {self:#?}"
        );
        self
    }
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        Sandbox {
            dir,
            env: Vec::new(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The user config file `setup` writes by default.
    pub fn user_config(&self) -> PathBuf {
        self.path("config/relayctl/config.toml")
    }

    /// Sets an environment variable for every later run.
    pub fn env(&mut self, key: &str, value: &str) -> &mut Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// relayctl with `args`, in the sandbox's environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.program(env!("CARGO_BIN_EXE_relayctl"));
        cmd.args(args);
        cmd
    }

    /// Any program, in the sandbox's environment.
    pub fn program(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env(
                "RELAYCTL_SYSTEM_CONFIG",
                self.path("etc/relayctl/config.toml"),
            )
            .env("RELAYCTL_SPOOL", self.path("spool"))
            .current_dir(self.dir.path());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs relayctl with `stdin` as standard input.
    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn relayctl");
        let mut pipe = child.stdin.take().unwrap();
        let input = stdin.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
        let out: Output = child.wait_with_output().expect("wait relayctl");
        writer.join().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `relayctl setup smarthost --no-verify ARGS` (no login, so nothing on stdin). These
    /// profiles often name relays that do not exist or are started later; the tests of setup's
    /// own login check run `setup` themselves.
    pub fn setup_smarthost(&self, args: &[&str]) -> Run {
        let mut all = vec!["setup", "smarthost", "--no-verify"];
        all.extend_from_slice(args);
        self.run(&all, b"")
    }

    /// `setup institutional` for the test relay's submission port with the file store.
    pub fn setup_submission(&self, name: &str, extra: &[&str]) -> Run {
        let mut store = vec!["--from", USER, "--password-stdin", "--secret-store", "file"];
        store.extend_from_slice(extra);
        let args = submission_args(name, &store);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&args, PASSWORD.as_bytes())
    }
}

/// `setup institutional` arguments for the relay's submission port (587, STARTTLS, the test user,
/// the test CA), followed by `extra`.
pub fn submission_args(name: &str, extra: &[&str]) -> Vec<String> {
    let ca = relay().ca_file.display().to_string();
    let base = [
        "setup",
        "institutional",
        "--name",
        name,
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
    ];
    base.iter().chain(extra).map(|a| a.to_string()).collect()
}
