//! The systemd units in packaging/systemd/, every one there (a unit added later is covered
//! without a change here):
//!
//! - `systemd-analyze verify` passes without a word, in an image with relayctl and its man
//!   pages installed (it needs no running systemd);
//! - every service sets the sandbox options, each under a comment that says why;
//! - every queue service, started by hand the way systemd starts it: its own `ExecStart` and
//!   `Environment=` read from the unit, under its sandbox rebuilt with util-linux (mount,
//!   setpriv) and systemd-creds, delivers root's queued mail and a user's maildrop drop to the
//!   relay;
//! - the SMTP listener's service, started the same way with a socket passed as
//!   `relayctl-smtpd.socket` passes it (`systemd-socket-activate`), in an image where the
//!   package's postinst created its user, takes a message as that user into the maildrop,
//!   from where the queue runner delivers it.
//!
//! systemd is not PID 1 here, so systemd itself cannot start the units.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Image, repo};
use crate::harness::{Captured, PASSWORD, Root, USER, as_root, captured, marker};
use crate::namespace::{self, ChildGuard};

/// The sandbox options every service must set, each explained by a comment above it.
const SANDBOX: [&str; 7] = [
    "ProtectSystem=strict",
    "ReadWritePaths=/var/spool/relayctl",
    "PrivateTmp=yes",
    "ProtectHome=yes",
    "NoNewPrivileges=yes",
    "CapabilityBoundingSet=",
    "LimitCORE=0",
];

/// One unit file: its sections' assignments in order.
pub(super) struct Unit {
    pub name: String,
    /// (section, key, value, the comment lines right above it)
    assignments: Vec<(String, String, String, Vec<String>)>,
}

impl Unit {
    pub fn read(path: &Path) -> Unit {
        let text = std::fs::read_to_string(path).unwrap();
        Unit::parse(&path.file_name().unwrap().to_string_lossy(), &text)
    }

    /// The unit file syntax of systemd.syntax(7), without line continuations (which no unit here
    /// uses; a line ending in `\` fails the test).
    pub fn parse(name: &str, text: &str) -> Unit {
        let mut section = String::new();
        let mut comments = Vec::new();
        let mut assignments = Vec::new();
        for line in text.lines().map(str::trim) {
            assert!(!line.ends_with('\\'), "{name}: continuation lines: {line}");
            if line.is_empty() {
                comments.clear();
            } else if line.starts_with(['#', ';']) {
                comments.push(line.to_string());
            } else if let Some(s) = line.strip_prefix('[') {
                section = s.trim_end_matches(']').to_string();
                comments.clear();
            } else {
                let (key, value) = line
                    .split_once('=')
                    .unwrap_or_else(|| panic!("{name}: not an assignment: {line}"));
                assignments.push((
                    section.clone(),
                    key.trim().to_string(),
                    value.trim().to_string(),
                    std::mem::take(&mut comments),
                ));
            }
        }
        Unit {
            name: name.to_string(),
            assignments,
        }
    }

    /// Every value of `key` in `section`, in order; an empty assignment empties the list, as in
    /// systemd.
    pub fn values(&self, section: &str, key: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (s, k, v, _) in &self.assignments {
            if s == section && k == key {
                if v.is_empty() {
                    out.clear();
                } else {
                    out.push(v.clone());
                }
            }
        }
        out
    }

    /// The last value of `key` in `section`.
    pub fn value(&self, section: &str, key: &str) -> Option<String> {
        self.assignments
            .iter()
            .rev()
            .find(|(s, k, ..)| s == section && k == key)
            .map(|(.., v, _)| v.clone())
    }

    /// The comment right above `key` in `section`.
    fn comment(&self, section: &str, key: &str) -> Vec<String> {
        self.assignments
            .iter()
            .find(|(s, k, ..)| s == section && k == key)
            .map(|(.., c)| c.clone())
            .unwrap_or_default()
    }

    /// The service's keys, with those of `drop_ins` (`*.service.d/*.conf`) after its own.
    pub fn with_drop_ins(mut self, drop_ins: &[Unit]) -> Unit {
        for d in drop_ins {
            self.assignments.extend(d.assignments.iter().cloned());
        }
        self
    }
}

/// Every unit in packaging/systemd/.
fn units() -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = std::fs::read_dir(repo("packaging/systemd"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    all.sort();
    assert!(!all.is_empty());
    all
}

fn services() -> Vec<Unit> {
    units()
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "service"))
        .map(|p| Unit::read(p))
        .collect()
}

#[test]
fn every_service_sets_the_sandbox_and_says_why() {
    let services = services();
    assert!(services.len() >= 2);
    for unit in services {
        for option in SANDBOX {
            let (key, want) = option.split_once('=').unwrap();
            let value = unit
                .value("Service", key)
                .unwrap_or_else(|| panic!("{}: no {key}=", unit.name));
            assert!(
                value.starts_with(want),
                "{}: {key}={value}, not {option}",
                unit.name
            );
            assert!(
                !unit.comment("Service", key).is_empty(),
                "{}: {key}= has no comment above it saying why",
                unit.name
            );
        }
    }
}

#[test]
fn systemd_analyze_verifies_every_unit() {
    if !as_root(Root::Postfix) {
        return;
    }
    let image = Image::new();
    for page in ["relayctl.1", "relayctl.toml.5", "relayctl-sendmail.8"] {
        let section = page.rsplit('.').next().unwrap();
        image.write(
            &format!("/usr/share/man/man{section}/{page}"),
            &std::fs::read(repo(&format!("man/{page}"))).unwrap(),
            0o644,
        );
    }
    let units: Vec<String> = units()
        .iter()
        .map(|p| p.to_str().unwrap().to_string())
        .collect();
    let mut args = vec!["verify"];
    args.extend(units.iter().map(String::as_str));
    let run = namespace::run(
        image.namespace().command("systemd-analyze", &args),
        b"",
        Duration::from_secs(60),
    );
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (0, ""),
        "systemd-analyze verify {units:?}:\n{run:#?}"
    );
}

/// Starts the `[Service]` of `unit` in `image` as systemd would, and returns the running
/// namespace. What it rebuilds of systemd's execution environment (systemd.exec(5)): the
/// environment (`PATH` and `Environment=`), `LoadCredential=`/`LoadCredentialEncrypted=`
/// (decrypted by systemd-creds into `$CREDENTIALS_DIRECTORY`), `PrivateTmp=`, `ProtectHome=`,
/// `ProtectSystem=strict` with `ReadWritePaths=`, `LimitCORE=`, `NoNewPrivileges=` and
/// `CapabilityBoundingSet=`, `PrivateDevices=`. A key it does not know fails the test, so that
/// a unit never runs here with less than it asks for.
pub(super) fn start_by_hand(image: &Image, unit: &Unit) -> ChildGuard {
    start_under(image, unit, &[])
}

/// [`start_by_hand`], with `ExecStart` run by `launcher` (a command line that ends by
/// executing the program given after it, inside the sandbox).
fn start_under(image: &Image, unit: &Unit, launcher: &[&str]) -> ChildGuard {
    const KNOWN: [&str; 16] = [
        "Type",
        "ExecStart",
        "Restart",
        "RestartSec",
        "Environment",
        "LoadCredential",
        "LoadCredentialEncrypted",
        "PrivateTmp",
        "ProtectHome",
        "ProtectSystem",
        "ReadWritePaths",
        "LimitCORE",
        "NoNewPrivileges",
        "CapabilityBoundingSet",
        "RemainAfterExit",
        "PrivateDevices",
    ];
    for (section, key, ..) in &unit.assignments {
        assert!(
            section != "Service" || KNOWN.contains(&key.as_str()),
            "{}: {key}= is not rebuilt by start_by_hand; add it",
            unit.name
        );
    }
    let exec = unit.values("Service", "ExecStart");
    assert_eq!(exec.len(), 1, "{}: one ExecStart", unit.name);
    let argv = shlex::split(exec[0].trim_start_matches(['-', '@', ':', '+', '!']))
        .unwrap_or_else(|| panic!("{}: ExecStart cannot be split", unit.name));
    let mut environment =
        vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string()];
    for line in unit.values("Service", "Environment") {
        environment.extend(shlex::split(&line).expect("Environment= splits"));
    }
    let mut credentials = Vec::new();
    for key in ["LoadCredential", "LoadCredentialEncrypted"] {
        credentials.extend(unit.values("Service", key));
    }
    if !credentials.is_empty() {
        environment.push(format!(
            "CREDENTIALS_DIRECTORY=/run/credentials/{}",
            unit.name
        ));
    }
    let option = |key: &str, default: &str| {
        unit.value("Service", key)
            .unwrap_or_else(|| default.to_string())
    };
    let bounding = match unit.value("Service", "CapabilityBoundingSet") {
        None => "+all".to_string(),
        Some(caps) => std::iter::once("-all".to_string())
            .chain(
                caps.split_whitespace()
                    .map(|c| format!("+{}", c.trim_start_matches("CAP_").to_ascii_lowercase())),
            )
            .collect::<Vec<_>>()
            .join(","),
    };
    let mut cmd = image
        .namespace()
        .command("sh", &["-c", SANDBOX_SCRIPT, "sh"]);
    cmd.args(["env", "-i"])
        .args(&environment)
        .args(launcher)
        .args(&argv);
    cmd.env("UNIT", &unit.name)
        .env("CREDENTIALS", credentials.join("\n"))
        .env("PRIVATE_TMP", option("PrivateTmp", "no"))
        .env("PROTECT_HOME", option("ProtectHome", "no"))
        .env("PRIVATE_DEVICES", option("PrivateDevices", "no"))
        .env("PROTECT_SYSTEM", option("ProtectSystem", "no"))
        .env(
            "READ_WRITE_PATHS",
            unit.values("Service", "ReadWritePaths").join(" "),
        )
        .env("LIMIT_CORE", option("LimitCORE", "unlimited"))
        .env(
            "NO_NEW_PRIVS",
            if option("NoNewPrivileges", "no") == "yes" {
                "--no-new-privs"
            } else {
                "--"
            },
        )
        .env("BOUNDING", bounding)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(service_log(image, unit)).unwrap());
    ChildGuard::spawn(cmd)
}

/// Where a service started by [`start_by_hand`] writes its standard error.
pub(super) fn service_log(image: &Image, unit: &Unit) -> PathBuf {
    image.scratch("services").join(&unit.name)
}

/// The service's execution environment, then `exec "$@"`. Inputs in the environment (see
/// [`start_by_hand`]). It checks that the file system is read-only where it should be.
const SANDBOX_SCRIPT: &str = r#"set -eu
if [ -n "$CREDENTIALS" ]; then
    dir=/run/credentials/$UNIT
    mkdir -p "$dir"
    mount -t tmpfs -o mode=0700 tmpfs "$dir"
    # Each credential readable by the service's user only, as systemd makes them.
    echo "$CREDENTIALS" | while IFS=: read -r name path; do
        (umask 0277 && systemd-creds decrypt --name="$name" "$path" "$dir/$name")
    done
    mount -o remount,ro "$dir"
fi
if [ "$PRIVATE_TMP" = yes ]; then
    mount -t tmpfs -o mode=1777 tmpfs /tmp
    mount -t tmpfs -o mode=1777 tmpfs /var/tmp
fi
if [ "$PRIVATE_DEVICES" = yes ]; then
    # A /dev of its own with the pseudo devices only, as systemd makes it.
    mount -t tmpfs -o mode=0755,nosuid,noexec tmpfs /dev
    mknod -m 0666 /dev/null c 1 3
    mknod -m 0666 /dev/zero c 1 5
    mknod -m 0666 /dev/full c 1 7
    mknod -m 0666 /dev/random c 1 8
    mknod -m 0666 /dev/urandom c 1 9
    mknod -m 0666 /dev/tty c 5 0
fi
if [ "$PROTECT_HOME" = yes ]; then
    for d in /home /root /run/user; do
        if [ -d "$d" ]; then mount -t tmpfs -o ro,mode=0755 tmpfs "$d"; fi
    done
fi
# A path with a leading `-` is skipped when it does not exist, as systemd does.
for p in $READ_WRITE_PATHS; do
    case $p in -*) p=${p#-}; [ -e "$p" ] || continue ;; esac
    mount --bind "$p" "$p"
done
if [ "$PROTECT_SYSTEM" = strict ]; then
    awk '{ print $5 }' /proc/self/mountinfo | sort -u | while read -r m; do
        case $m in
            /proc | /proc/* | /sys | /sys/* | /dev | /dev/* | /run/credentials/*) continue ;;
        esac
        # Mounts of the host's hidden under the namespace's own (its /run, files bound over
        # /etc/hosts under the /etc overlay) are out of reach.
        mountpoint -q "$m" || continue
        if [ "$PRIVATE_TMP" = yes ] && { [ "$m" = /tmp ] || [ "$m" = /var/tmp ]; }; then continue; fi
        for p in $READ_WRITE_PATHS; do [ "$m" = "${p#-}" ] && continue 2; done
        mount -o remount,bind,ro "$m"
    done
    if touch /etc/.sandbox-probe 2>/dev/null; then
        echo "sandbox: /etc is writable under ProtectSystem=strict" >&2
        exit 125
    fi
fi
ulimit -c "$LIMIT_CORE"
exec setpriv $NO_NEW_PRIVS --bounding-set="$BOUNDING" --inh-caps=-all -- "$@"
"#;

/// Prepares `image` for a queue service: the package's directories (its postinst), a system
/// profile for the relay's submission port with the secret in its root-only file, mail queued
/// by root and a drop written to the maildrop by an ordinary user (`nobody`), none delivered.
fn queue_mail(image: &Image, root_marker: &str, user_marker: &str) {
    let script = r#"set -eu
sh "$REPO/packaging/debian/postinst" configure
printf %s "$PASSWORD" | relayctl setup institutional --system --name relay --host localhost \
    --port 587 --tls starttls --user "$RELAY_USER" --password-stdin --secret-store file >/dev/null
sed -i '1i delivery = "queue"' /etc/relayctl/config.toml
printf 'Subject: %s\n\nfrom root\n' "$M1" | /usr/sbin/sendmail ops@example.org
printf 'Subject: %s\n\nfrom a user\n' "$M2" | runuser -u nobody -- /usr/sbin/sendmail ops@example.org
test "$(ls /var/spool/relayctl/maildrop | wc -l)" = 1
"#;
    let mut cmd = image.namespace().command("sh", &["-c", script]);
    cmd.env("REPO", env!("CARGO_MANIFEST_DIR"))
        .env("PASSWORD", PASSWORD)
        .env("RELAY_USER", USER)
        .env("M1", root_marker)
        .env("M2", user_marker);
    let run = namespace::run(cmd, b"", Duration::from_secs(60));
    assert_eq!(run.code, 0, "{run:#?}");
}

/// Waits (up to 30 s) until the capture server has a message with each of `markers`, and
/// returns them; fails with what the service said when it does not, when a long-running
/// service stops, or when a oneshot service fails.
fn delivered_by(
    service: &mut ChildGuard,
    oneshot: bool,
    log: &Path,
    markers: &[&str],
) -> Vec<Captured> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let got: Vec<Captured> = markers
            .iter()
            .filter_map(|m| captured().into_iter().find(|c| c.text().contains(m)))
            .collect();
        if got.len() == markers.len() {
            return got;
        }
        let stopped = service.try_wait();
        let failed = match stopped {
            Some(code) => !oneshot || code != 0,
            None => false,
        };
        if failed || std::time::Instant::now() > deadline {
            panic!(
                "{markers:?}: {} delivered, the service {}; it said:\n{}",
                got.len(),
                stopped.map_or("still runs".to_string(), |c| format!("exited with {c}")),
                std::fs::read_to_string(log).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_queue_services_started_as_systemd_would_deliver_root_and_user_mail() {
    if !as_root(Root::Postfix) {
        return;
    }
    let queue_services: Vec<Unit> = services()
        .into_iter()
        .filter(|u| {
            u.value("Service", "ExecStart")
                .is_some_and(|e| e.contains("relayctl queue"))
        })
        .collect();
    assert!(queue_services.len() >= 2);
    for unit in queue_services {
        let image = Image::new();
        let [m1, m2] = ["unit-root", "unit-user"].map(|m| marker(&format!("{}-{m}", unit.name)));
        queue_mail(&image, &m1, &m2);
        let mut service = start_by_hand(&image, &unit);
        let log = service_log(&image, &unit);
        let oneshot = unit.value("Service", "Type").as_deref() == Some("oneshot");
        if oneshot {
            // A oneshot service ends once it has done its work.
            let started = std::time::Instant::now();
            while service.try_wait().is_none() {
                assert!(started.elapsed() < Duration::from_secs(60), "{}", unit.name);
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        for got in delivered_by(&mut service, oneshot, &log, &[&m1, &m2]) {
            assert_eq!(got.rcpt_to, ["<ops@example.org>"], "{}", unit.name);
            assert!(
                got.mail_from.starts_with(&format!("<{USER}>")),
                "{}",
                got.mail_from
            );
        }
        // The spool is empty once the runner has recorded the deliveries (a long-running one
        // may still be finishing its pass).
        let left = || -> Vec<PathBuf> {
            ["queue", "maildrop"]
                .iter()
                .flat_map(|area| {
                    std::fs::read_dir(image.spool().join(area))
                        .unwrap()
                        .map(|e| e.unwrap().path())
                })
                .collect()
        };
        let started = std::time::Instant::now();
        while !left().is_empty() && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(
            left(),
            Vec::<PathBuf>::new(),
            "{}: the service said:\n{}",
            unit.name,
            std::fs::read_to_string(&log).unwrap()
        );
        drop(service);
    }
}

/// Prepares `image` for the SMTP listener: the package's postinst (directories, and the
/// listener's system user, which this machine need not have), and a system profile for the
/// relay's submission port with its secret, which the listener itself never reads.
fn listener_image(image: &Image) {
    let script = r#"set -eu
sh "$REPO/packaging/debian/postinst" configure
getent passwd relayctl-smtpd >/dev/null
printf %s "$PASSWORD" | relayctl setup institutional --system --name relay --host localhost \
    --port 587 --tls starttls --user "$RELAY_USER" --password-stdin --secret-store file >/dev/null
sed -i '1i delivery = "queue"' /etc/relayctl/config.toml
"#;
    let mut cmd = image.namespace().command("sh", &["-c", script]);
    cmd.env("REPO", env!("CARGO_MANIFEST_DIR"))
        .env("PASSWORD", PASSWORD)
        .env("RELAY_USER", USER);
    let run = namespace::run(cmd, b"", Duration::from_secs(60));
    assert_eq!(run.code, 0, "{run:#?}");
}

/// The uid `user` has in `image` (the postinst's, or this machine's when it had one).
fn uid_in(image: &Image, user: &str) -> u32 {
    let run = namespace::run(
        image.namespace().command("id", &["-u", user]),
        b"",
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 0, "{run:#?}");
    run.stdout.trim().parse().expect("a uid")
}

#[test]
fn the_listener_service_socket_activated_takes_mail_as_its_own_user() {
    use std::os::unix::fs::MetadataExt;

    if !as_root(Root::Postfix) {
        return;
    }
    let dir = repo("packaging/systemd");
    let socket = Unit::read(&dir.join("relayctl-smtpd.socket"));
    let unit = Unit::read(&dir.join("relayctl-smtpd.service"));
    assert_eq!(socket.value("Socket", "Accept").as_deref(), Some("no"));
    assert_eq!(
        unit.value("Unit", "Requires").as_deref(),
        Some("relayctl-smtpd.socket")
    );
    let image = Image::new();
    listener_image(&image);
    // The socket's own addresses are port 25, which the test relay holds here: the same kind
    // of socket on a free port, passed as LISTEN_FDS by systemd's own tool.
    let port = crate::listener::free_port();
    let address = format!("127.0.0.1:{port}");
    let mut service = start_under(&image, &unit, &["systemd-socket-activate", "-l", &address]);
    let log = service_log(&image, &unit);
    let started = std::time::Instant::now();
    // The socket is up (systemd-socket-activate says so); the service starts, as under
    // systemd, with the first connection.
    while !std::fs::read_to_string(&log)
        .unwrap()
        .contains(&format!("Listening on {address}"))
    {
        assert!(
            service.try_wait().is_none() && started.elapsed() < Duration::from_secs(30),
            "the socket was not made:\n{}",
            std::fs::read_to_string(&log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let m = marker("smtpd-unit");
    let (mut client, greeting) = crate::listener::Client::connect(port);
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(greeting.starts_with("220 "), "{greeting}\n{said}");
    assert!(said.contains(&format!("listening on {address}")), "{said}");
    assert!(client.command("EHLO app.test").starts_with("250"));
    assert!(
        client
            .command("MAIL FROM:<app@apps.example>")
            .starts_with("250")
    );
    assert!(
        client
            .command("RCPT TO:<ops@example.org>")
            .starts_with("250")
    );
    assert!(client.command("DATA").starts_with("354"));
    let accepted = client.command(&format!(
        "Subject: {m}\r\n\r\nfrom an app, through the unit\r\n."
    ));
    assert!(accepted.starts_with("250 "), "{accepted}");
    assert!(client.command("QUIT").starts_with("221"));

    // The drop in the maildrop is the listener user's, as the kernel records it: the service
    // gave root up before it took the message.
    let drops: Vec<_> = std::fs::read_dir(image.spool().join("maildrop"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().uid())
        .collect();
    assert_eq!(drops, [uid_in(&image, "relayctl-smtpd")]);

    // The queue runner imports and delivers it.
    let run = namespace::run(
        image.namespace().command("relayctl", &["queue", "run"]),
        b"",
        Duration::from_secs(60),
    );
    assert_eq!(run.code, 0, "{run:#?}");
    let got = crate::harness::wait_for(&m);
    assert!(
        got.text()
            .contains("X-Relayctl-Submitter: SMTP client 127.0.0.1\r\n"),
        "{}",
        got.text()
    );
    assert_eq!(got.rcpt_to, ["<ops@example.org>"]);
    assert!(
        service.try_wait().is_none(),
        "the listener stopped:\n{}",
        std::fs::read_to_string(&log).unwrap()
    );
}
