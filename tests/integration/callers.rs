//! Real programs that hand mail to `/usr/sbin/sendmail` — Debian's cron daemon and bsd-mailx —
//! with relayctl as that sendmail, through the real relay to the capture server.
//!
//! Each program runs in a private namespace (see `namespace.rs`) where `/usr/sbin/sendmail` is the
//! relayctl binary under test and `/etc/relayctl/config.toml` is the test's config: the programs
//! call the hard-coded path and pass no environment that would point relayctl elsewhere, so
//! relayctl must find its system config at the standard place.
//!
//! What the programs pass (observed with a logging script bound over /usr/sbin/sendmail):
//! - cron 3.0pl1-162: `/usr/sbin/sendmail -FCronDaemon -i -B8BITMIME -oem <MAILTO or owner>`,
//!   with the cron daemon's own environment, and a message with bare LF line endings and headers
//!   `From: root (Cron Daemon)`, `To: <recipient>`, `Subject: Cron <root@HOST> <command>`,
//!   `MIME-Version`, `Content-Type: text/plain; charset=UTF-8`, `Content-Transfer-Encoding: 8bit`
//!   and one `X-Cron-Env: <NAME=value>` per variable; no Date, no Message-ID. The job's output is
//!   passed unchanged, so output without a final newline ends the message without one.
//! - bsd-mailx 8.1.2-0.20220412cvs: `/usr/sbin/sendmail -i -t` — the recipients are NOT on the
//!   command line but only in the `To:` header it writes (`To: a@x, b@y`, `Subject`, `MIME-Version`,
//!   `Content-Type: text/plain; charset="<locale charset>"`, `Content-Transfer-Encoding: 8bit`; no
//!   From, Date or Message-ID). It waits for sendmail; when sendmail fails it prints
//!   `Can't send mail: sendmail process failed with error code N` and exits 1.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::{Captured, Root, Sandbox, arrives_soon, as_root, marker, relay, wait_for};
use crate::namespace::{self, ChildGuard, Namespace};

const CONFIG: &str = r#"default_profile = "campus"

[profiles.campus]
preset = "smarthost"
host = "localhost"
port = 25
tls = "none"
from = "vm1@campus.example"

[aliases]
root = "admins@example.org"
"#;

/// A namespace where `/usr/sbin/sendmail` is relayctl and `/etc/relayctl` is a directory of the
/// sandbox holding [`CONFIG`] (mode 0644). The host has no `/etc/relayctl`, so `/etc` gets a
/// namespace-only overlay to hold the mount point.
fn relayctl_as_sendmail(sb: &Sandbox) -> Namespace {
    relay();
    let etc = sb.path("etc-relayctl");
    std::fs::create_dir_all(&etc).unwrap();
    let config = etc.join("config.toml");
    std::fs::write(&config, CONFIG).unwrap();
    set_mode(&config, 0o644);
    set_mode(&etc, 0o755);
    Namespace::new()
        .overlay("/etc", sb.path("etc-overlay"))
        .sendmail_is_relayctl()
        .bind(&etc, "/etc/relayctl")
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The environment of the programs: a private HOME and config home (so no user config of the
/// machine's root is read), a UTF-8 locale, and nothing that names a relayctl config.
fn program_env(cmd: &mut std::process::Command, sb: &Sandbox) {
    cmd.env("HOME", sb.path(""))
        .env("XDG_CONFIG_HOME", sb.path("config"))
        .env("LANG", "C.UTF-8")
        .env("LOGNAME", "root")
        .env("USER", "root")
        .current_dir(sb.path(""));
}

/// The values of the header fields called `name` (case-insensitive), unfolded, in order.
fn header(got: &Captured, name: &str) -> Vec<String> {
    let text = got.text();
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut fields: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.push_str(line);
            }
        } else {
            fields.push(line.to_string());
        }
    }
    fields
        .iter()
        .filter_map(|f| f.split_once(':'))
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

fn sorted(list: &[String]) -> Vec<String> {
    let mut v = list.to_vec();
    v.sort();
    v
}

/// SLOW: up to ~70 s. Debian's cron daemon runs two jobs from a system crontab and mails their
/// output with `/usr/sbin/sendmail` = relayctl: one job with `MAILTO=ops@example.org`, and one
/// without MAILTO, whose output goes to the crontab's owner `root`, a local user that relayctl
/// resolves through `[aliases]`. cron starts jobs at the top of each minute only, hence the wait;
/// both cases share one cron run to wait only once.
#[test]
fn cron_mails_job_output_through_relayctl_slow_up_to_70s() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let ns = relayctl_as_sendmail(&sb);

    let (m_local, m_direct) = (marker("cron-local"), marker("cron-direct"));
    let local_cmd = format!("echo {m_local} local");
    let direct_cmd = format!("echo {m_direct} line1; echo .dotline; printf 'no newline at end'");
    let crontab = sb.path("crontab");
    std::fs::write(
        &crontab,
        format!(
            "SHELL=/bin/sh\nPATH=/usr/bin:/bin\n\
             # No MAILTO yet: this job's output goes to its owner, root.\n\
             * * * * * root {local_cmd}\n\
             MAILTO=ops@example.org\n\
             * * * * * root {direct_cmd}\n"
        ),
    )
    .unwrap();
    // cron ignores a system crontab that is group- or world-writable.
    set_mode(&crontab, 0o644);
    let (cron_d, spool, run) = (sb.path("cron.d"), sb.path("crontabs"), sb.path("run"));
    for d in [&cron_d, &spool, &run] {
        std::fs::create_dir_all(d).unwrap();
    }
    // No other jobs: an empty /etc/cron.d and user crontab spool. A fresh /run, since cron
    // refuses to start while another cron holds /run/crond.pid.
    let ns = ns
        .bind(&crontab, "/etc/crontab")
        .bind(&cron_d, "/etc/cron.d")
        .bind(&spool, "/var/spool/cron/crontabs")
        .tmpfs("/run");

    let log_path = sb.path("cron.log");
    let log = std::fs::File::create(&log_path).unwrap();
    // -f: foreground; -L 15: log job start, end, failures and pids (to syslog, which this machine
    // lacks; relayctl's own stderr still reaches cron.log).
    let mut cmd = ns.command("cron", &["-f", "-L", "15"]);
    program_env(&mut cmd, &sb);
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    let started = Instant::now();
    let mut cron = ChildGuard::spawn(cmd);

    let cron_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    for m in [&m_direct, &m_local] {
        while !arrives_soon(m) {
            if let Some(code) = cron.try_wait() {
                panic!(
                    "cron exited with {code} before mailing {m}; its output:\n{}",
                    cron_log()
                );
            }
            // Both are silent on success: any output (e.g. relayctl's error) fails at once.
            let output = cron_log();
            assert!(
                output.is_empty(),
                "cron or relayctl complained {:?} after cron started:\n{output}",
                started.elapsed()
            );
            assert!(
                started.elapsed() < Duration::from_secs(80),
                "no mail with {m} {:?} after cron started; cron/relayctl output:\n{}",
                started.elapsed(),
                cron_log()
            );
        }
    }
    eprintln!(
        "cron: both messages arrived {:?} after cron started",
        started.elapsed()
    );
    drop(cron);
    assert_eq!(cron_log(), "", "cron and relayctl are silent on success");

    // MAILTO=ops@example.org
    let got = wait_for(&m_direct);
    assert_eq!(got.rcpt_to, ["<ops@example.org>"]);
    assert!(
        got.mail_from.starts_with("<vm1@campus.example>"),
        "{}",
        got.mail_from
    );
    let text = got.text();
    // cron writes `From: root (Cron Daemon)`: the domainless root becomes the profile's address,
    // the comment its display name.
    assert_eq!(
        header(&got, "From"),
        ["\"Cron Daemon\" <vm1@campus.example>"],
        "{text}"
    );
    assert_eq!(header(&got, "To"), ["ops@example.org"], "{text}");
    let subject = header(&got, "Subject");
    assert_eq!(subject.len(), 1, "{text}");
    assert!(
        subject[0].starts_with("Cron <root@") && subject[0].ends_with(&format!("> {direct_cmd}")),
        "{text}"
    );
    assert_eq!(header(&got, "Date").len(), 1, "relayctl adds Date: {text}");
    assert_eq!(
        header(&got, "Message-ID").len(),
        1,
        "relayctl adds Message-ID: {text}"
    );
    // cron's own headers pass through.
    assert!(
        header(&got, "X-Cron-Env").contains(&"<MAILTO=ops@example.org>".to_string()),
        "{text}"
    );
    assert_eq!(
        header(&got, "Content-Type"),
        ["text/plain; charset=UTF-8"],
        "{text}"
    );
    // The job's output exactly: cron passes it unchanged (LF endings, no final newline after
    // printf); relayctl sends CRLF lines, keeps the leading dot (cron passes -i) and ends the last
    // line.
    assert_eq!(
        String::from_utf8_lossy(got.body()),
        format!("{m_direct} line1\r\n.dotline\r\nno newline at end\r\n"),
        "{text}"
    );

    // No MAILTO: cron mails the owner, `root`, and writes `To: root`.
    let got = wait_for(&m_local);
    let text = got.text();
    assert_eq!(got.rcpt_to, ["<admins@example.org>"], "{text}");
    assert!(
        got.mail_from.starts_with("<vm1@campus.example>"),
        "{}",
        got.mail_from
    );
    assert_eq!(header(&got, "To"), ["admins@example.org"], "{text}");
    assert_eq!(
        header(&got, "From"),
        ["\"Cron Daemon\" <vm1@campus.example>"],
        "{text}"
    );
    assert!(
        !header(&got, "X-Cron-Env")
            .iter()
            .any(|v| v.contains("MAILTO")),
        "the first job runs without MAILTO: {text}"
    );
    assert_eq!(
        got.body(),
        format!("{m_local} local\r\n").as_bytes(),
        "{text}"
    );
}

/// `mail -s SUBJECT rcpt...` (bsd-mailx): it runs `sendmail -i -t`, so the recipients come from its
/// `To:` header; it writes no From, which relayctl adds. A lone dot in the body must survive.
#[test]
fn mailx_sends_to_several_recipients_with_a_lone_dot_in_the_body() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let ns = relayctl_as_sendmail(&sb);
    let m = marker("mailx");
    let subject = format!("{m} subject");
    let mut cmd = ns.command(
        "mail",
        &["-s", &subject, "ops@example.org", "other@example.org"],
    );
    program_env(&mut cmd, &sb);
    let run = namespace::run(
        cmd,
        b"hello\n.\nafter a lone dot\n",
        Duration::from_secs(30),
    );
    let run = run.ok();
    assert_eq!(run.stderr, "", "mailx and relayctl are silent on success");

    let got = wait_for(&m);
    let text = got.text();
    assert_eq!(
        sorted(&got.rcpt_to),
        ["<ops@example.org>", "<other@example.org>"],
        "{text}"
    );
    assert!(
        got.mail_from.starts_with("<vm1@campus.example>"),
        "{}",
        got.mail_from
    );
    assert_eq!(header(&got, "Subject"), [subject.as_str()], "{text}");
    assert_eq!(
        header(&got, "To"),
        ["ops@example.org, other@example.org"],
        "{text}"
    );
    let from = header(&got, "From");
    assert!(
        from.len() == 1 && from[0].contains("vm1@campus.example"),
        "relayctl adds the profile's From: {text}"
    );
    assert_eq!(header(&got, "Date").len(), 1, "{text}");
    assert_eq!(header(&got, "Message-ID").len(), 1, "{text}");
    assert_eq!(
        String::from_utf8_lossy(got.body()),
        "hello\r\n.\r\nafter a lone dot\r\n",
        "{text}"
    );
}

/// `mail -s SUBJECT root`: the local user root goes to its alias, in the envelope and in `To:`.
#[test]
fn mailx_to_local_root_goes_to_its_alias() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let ns = relayctl_as_sendmail(&sb);
    let m = marker("mailx-root");
    let mut cmd = ns.command("mail", &["-s", &m, "root"]);
    program_env(&mut cmd, &sb);
    let run = namespace::run(cmd, b"disk almost full\n", Duration::from_secs(30)).ok();
    assert_eq!(run.stderr, "", "mailx and relayctl are silent on success");

    let got = wait_for(&m);
    let text = got.text();
    assert_eq!(got.rcpt_to, ["<admins@example.org>"], "{text}");
    assert_eq!(header(&got, "To"), ["admins@example.org"], "{text}");
    assert_eq!(header(&got, "Subject"), [m.as_str()], "{text}");
    assert_eq!(got.body(), b"disk almost full\r\n", "{text}");
}
