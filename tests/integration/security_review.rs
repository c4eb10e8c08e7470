//! The findings of the security review of a multi-user host (issue 14), each as the attack that
//! worked before its fix. The hostile local user is `nobody`: it writes drop files into the
//! maildrop byte by byte as it likes (it need not use relayctl to do so), and the root runner
//! (`queue run`) imports them. What reached the relay is asserted at the capture server behind
//! the real Postfix relay, or at the scripted fault server where a test must steer the replies.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use testkit::smtp::{Script, Server, reply};

use crate::faults::{message, sandbox};
use crate::harness::{Captured, Root, Sandbox, USER, as_root, marker, queue, wait_for};

/// The hostile local user.
const HOSTILE: &str = "nobody";

/// Makes the sandbox's spool a system-like spool with a maildrop (mode 1733) that `nobody` can
/// reach, as `/var/spool/relayctl` is on a real host.
pub fn open_maildrop(sb: &Sandbox) -> PathBuf {
    sb.run(&["queue", "list"], b"").ok();
    let drop = sb.path("spool/maildrop");
    std::fs::create_dir_all(&drop).unwrap();
    std::fs::set_permissions(&drop, std::fs::Permissions::from_mode(0o1733)).unwrap();
    for dir in [sb.path("spool"), sb.path("")] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o711)).unwrap();
    }
    drop
}

/// Writes a drop file as `nobody` would: its envelope line, then the message, any bytes.
pub fn drop_as_hostile(sb: &Sandbox, name: &str, ticket: &str, message: &[u8]) {
    let path = open_maildrop(sb).join(name);
    let mut child = Command::new("runuser")
        .args([
            "-u",
            HOSTILE,
            "--",
            "sh",
            "-c",
            "umask 077; cat > \"$1\"",
            "sh",
        ])
        .arg(&path)
        .stdin(Stdio::piped())
        .spawn()
        .expect("runuser");
    let mut input = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut input, format!("{ticket}\n").as_bytes()).unwrap();
    std::io::Write::write_all(&mut input, message).unwrap();
    drop(input);
    assert!(
        child.wait().unwrap().success(),
        "writing {name} as {HOSTILE}"
    );
}

/// A ticket for `profile` to `recipients`, with `dsn` as JSON (`{}` for none).
pub fn ticket(profile: &str, recipients: &[&str], dsn: &str) -> String {
    format!(
        r#"{{"version":1,"profile":"{profile}","recipients":{},"dsn":{dsn}}}"#,
        serde_json::to_string(recipients).unwrap()
    )
}

/// A sandbox sending through the Postfix relay's submission port, with `root` aliased.
fn submission_sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    let mut config = std::fs::read_to_string(sb.user_config()).unwrap();
    config.push_str("\n[aliases]\nroot = \"ops@example.org\"\n");
    std::fs::write(sb.user_config(), config).unwrap();
    sb
}

/// The header section of a captured message, unfolded into (name, value) pairs.
fn fields(m: &Captured) -> Vec<(String, String)> {
    let text = m.text();
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap()
        .replace("\r\n\t", " ");
    let head = head.replace("\r\n ", " ");
    head.split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect()
}

fn named<'a>(fields: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Finding 1: an encoded display name that decodes to CR LF and header lines, on a local
/// recipient rewritten through the aliases, added a forged X-Relayctl-Submitter, a second From
/// and a Bcc to the transmitted message. (Fails without the fix: three forged fields arrive.)
#[test]
fn finding_01_a_decoded_display_name_cannot_add_header_fields() {
    if !as_root(Root::Postfix) {
        return;
    }
    use base64::Engine;
    let sb = submission_sandbox();
    let m = marker("review-01");
    let evil = "Ops\r\nX-Relayctl-Submitter: uid 0 (root)\r\nFrom: ceo@corp.example\r\nBcc: victim@corp.example";
    let word = base64::engine::general_purpose::STANDARD.encode(evil);
    let body = format!("To: =?utf-8?b?{word}?= <root@localhost>\nSubject: {m}\n\nhi\n");
    drop_as_hostile(&sb, "a1", &ticket("uni", &["root"], "{}"), body.as_bytes());
    sb.run(&["queue", "run"], b"").ok();
    let got = wait_for(&m);
    let f = fields(&got);
    let submitter = named(&f, "x-relayctl-submitter");
    assert_eq!(submitter, ["uid 65534 (nobody)"], "{}", got.text());
    assert_eq!(named(&f, "from"), [USER], "{}", got.text());
    assert!(named(&f, "bcc").is_empty(), "{}", got.text());
    assert_eq!(got.rcpt_to.len(), 1, "{got:?}");
    assert!(got.rcpt_to[0].contains("ops@example.org"), "{got:?}");
    assert!(!got.text().contains("\r\nBcc:"), "{}", got.text());
}

/// Finding 2: through the maildrop, a From list, a second From, Sender, Resent-From and
/// Resent-Sender reached the relay unchanged. Every originator field of RFC 5322 sections 3.6.2
/// and 3.6.6: the message leaves with exactly one From (the profile's address, the display name
/// kept) and none of the others, except Reply-To. (Fails without the fix.)
#[test]
fn finding_02_a_drop_cannot_choose_its_originator() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = submission_sandbox();
    let m = marker("review-02");
    let body = format!(
        "From: \"The CEO\" <ceo@corp.example>, someone@corp.example\n\
         From: second@corp.example\n\
         Sender: ceo@corp.example\n\
         Reply-To: replies@corp.example\n\
         Resent-Date: Fri, 27 Nov 2026 12:00:00 +0000\n\
         Resent-From: ceo@corp.example\n\
         Resent-Sender: ceo@corp.example\n\
         Resent-To: ceo@corp.example\n\
         Resent-Cc: ceo@corp.example\n\
         Resent-Message-ID: <resent@corp.example>\n\
         Return-Path: <ceo@corp.example>\n\
         To: ops@example.org\n\
         Subject: {m}\n\nhi\n"
    );
    drop_as_hostile(
        &sb,
        "a2",
        &ticket("uni", &["ops@example.org"], "{}"),
        body.as_bytes(),
    );
    sb.run(&["queue", "run"], b"").ok();
    let got = wait_for(&m);
    let f = fields(&got);
    assert_eq!(
        named(&f, "from"),
        [format!("\"The CEO\" <{USER}>")],
        "{}",
        got.text()
    );
    for gone in ["sender", "return-path"] {
        assert!(named(&f, gone).is_empty(), "{gone}: {}", got.text());
    }
    assert!(
        !f.iter().any(|(n, _)| n.starts_with("resent-")),
        "{}",
        got.text()
    );
    assert!(!got.text().contains("corp.example>,"), "{}", got.text());
    assert!(
        !got.text().contains("ceo@corp.example") && !got.text().contains("second@"),
        "{}",
        got.text()
    );
    assert_eq!(named(&f, "reply-to"), ["replies@corp.example"]);
    assert!(got.mail_from.starts_with(&format!("<{USER}>")), "{got:?}");
}

/// Finding 3: a drop's DSN fields went into MAIL FROM and RCPT TO unchecked (`envid` of
/// `abc AUTH=<ceo@x> X-INJECT=1` went out verbatim). Now an envelope id goes out xtext-encoded,
/// and a NOTIFY or RET outside its fixed set, or an envelope id with a line break, refuses the
/// drop. (Fails without the fix: the server saw ` AUTH=<ceo@x>` as a parameter.)
#[test]
fn finding_03_drop_dsn_fields_cannot_add_smtp_parameters() {
    if !as_root(Root::Users) {
        return;
    }
    let server = Server::start(Script {
        dsn: true,
        ..Script::default()
    });
    let sb = sandbox(server.port, "none", 5);
    let m = marker("review-03");
    drop_as_hostile(
        &sb,
        "envid",
        &ticket(
            "fault",
            &["a@example.org"],
            r#"{"envid":"abc AUTH=<ceo@x> X-INJECT=1","notify":"FAILURE,DELAY","ret":"HDRS"}"#,
        ),
        &message(&format!("{m}-envid")),
    );
    for (name, dsn) in [
        ("notify", r#"{"notify":"FAILURE ORCPT=rfc822;ceo@x"}"#),
        ("ret", r#"{"ret":"FULL AUTH=<ceo@x>"}"#),
        ("crlf", r#"{"envid":"abc\r\nRCPT TO:<victim@x>"}"#),
    ] {
        drop_as_hostile(
            &sb,
            name,
            &ticket("fault", &["a@example.org"], dsn),
            &message(&format!("{m}-{name}")),
        );
    }
    sb.run(&["queue", "run"], b"").ok();
    let mails: Vec<String> = server
        .commands()
        .into_iter()
        .filter(|c| c.starts_with("MAIL"))
        .collect();
    assert_eq!(mails.len(), 1, "only the valid drop is sent: {mails:?}");
    assert!(
        mails[0].ends_with(" RET=HDRS ENVID=abc+20AUTH+3D<ceo@x>+20X-INJECT+3D1"),
        "{mails:?}"
    );
    let rcpts: Vec<String> = server
        .commands()
        .into_iter()
        .filter(|c| c.starts_with("RCPT"))
        .collect();
    assert_eq!(rcpts, ["RCPT TO:<a@example.org> NOTIFY=FAILURE,DELAY"]);
    let corrupt: Vec<String> = std::fs::read_dir(sb.path("spool/corrupt"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(corrupt.len(), 3, "{corrupt:?}");

    // `-V` is encoded the same way: `+`, `=`, spaces and tabs.
    let run = sb.run(
        &["sendmail", "-V", "a+b=c d\te", "a@example.org"],
        &message(&format!("{m}-cli")),
    );
    run.ok();
    let last = server
        .commands()
        .into_iter()
        .rfind(|c| c.starts_with("MAIL"))
        .unwrap();
    assert!(last.ends_with(" ENVID=a+2Bb+3Dc+20d+09e"), "{last}");
}

/// Finding 3, second part: one message's 5xx to MAIL FROM for its own parameters (555) fails
/// that message only; the profile is not held and everyone else's mail goes out in the same
/// pass. (Fails without the fix: both messages were held as a configuration fault.)
#[test]
fn finding_03_one_messages_refused_parameters_do_not_hold_the_profile() {
    let server = Server::start(Script {
        dsn: true,
        mail_when: vec![(
            "ENVID=".into(),
            reply("555 5.5.4 Unsupported option: ENVID"),
        )],
        ..Script::default()
    });
    let sb = sandbox(server.port, "none", 5);
    let mut config = std::fs::read_to_string(sb.user_config()).unwrap();
    config = config.replace("delivery = \"now\"", "delivery = \"queue\"");
    std::fs::write(sb.user_config(), config).unwrap();
    let m = marker("review-03b");
    sb.run(
        &["sendmail", "-V", "id-1", "a@example.org"],
        &message(&format!("{m}-param")),
    )
    .ok();
    sb.run(
        &["sendmail", "b@example.org"],
        &message(&format!("{m}-plain")),
    )
    .ok();
    sb.run(&["queue", "run"], b"").ok();
    let delivered: Vec<String> = server.messages().iter().map(|r| r.text()).collect();
    assert!(
        delivered.iter().any(|d| d.contains(&format!("{m}-plain"))),
        "the other message went out: {:?}",
        server.commands()
    );
    assert!(queue(&sb, "list").is_empty(), "{:#?}", queue(&sb, "list"));
    let failed = queue(&sb, "failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert!(
        failed[0]["last_reply"].as_str().unwrap().contains("555"),
        "{failed:#?}"
    );
}

/// Finding 11: with `-t`, `Bcc<TAB>:` and `Bcc  :` were not recognised: the hidden recipient was
/// not mailed and the line was visible to the To recipient. (Fails without the fix.)
#[test]
fn finding_11_bcc_with_white_space_before_the_colon_is_hidden_and_mailed() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_smarthost(&[
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
    let m = marker("review-11");
    let input = format!(
        "To: seen@example.org\nBcc\t: hidden-tab@example.org\nBcc  :hidden-spaces@example.org\nSubject: {m}\n\nbody\n"
    );
    sb.run(&["sendmail", "-t", "-i"], input.as_bytes()).ok();
    let got = wait_for(&m);
    let rcpts = got.rcpt_to.join(" ");
    for hidden in ["hidden-tab@", "hidden-spaces@"] {
        assert!(rcpts.contains(hidden), "{hidden} not mailed: {got:?}");
        assert!(
            !got.text().contains(hidden),
            "{hidden} visible: {}",
            got.text()
        );
    }
    assert!(rcpts.contains("seen@example.org"), "{got:?}");
}

/// A sandbox whose profile `campus` queues everything (its relay, port 1, refuses connections).
fn unreachable_sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.setup_smarthost(&[
        "--name",
        "campus",
        "--host",
        "localhost",
        "--port",
        "1",
        "--tls",
        "none",
        "--from",
        "vm1@campus.example",
    ])
    .ok();
    sb
}

/// The queued messages' subjects.
fn queued_subjects(sb: &Sandbox) -> Vec<String> {
    let mut subjects = Vec::new();
    for entry in std::fs::read_dir(sb.path("spool/queue")).unwrap() {
        let text = std::fs::read(entry.unwrap().path().join("message")).unwrap();
        let text = String::from_utf8_lossy(&text[..text.len().min(4096)]).into_owned();
        subjects.extend(
            text.lines()
                .find_map(|l| l.strip_prefix("Subject: "))
                .map(str::to_string),
        );
    }
    subjects
}

/// Finding 4: a user renaming their own drop file while the root runner had it open made
/// `queue run` exit 75 before it delivered anything, on every pass. Now each drop is moved out
/// of the user's reach first, one drop never stops the import of the others, and planted
/// oddities (a directory, a link to a root-only file, a FIFO) are refused one by one. (Fails
/// without the fix: some passes exit 75 and leave the others' drops behind.)
#[test]
fn finding_04_a_user_cannot_abort_the_root_queue_run() {
    if !as_root(Root::Users) {
        return;
    }
    let sb = unreachable_sandbox();
    let m = marker("review-04");
    let maildrop = open_maildrop(&sb);
    // The hostile user's drop, renamed back and forth as fast as the kernel allows, and planted
    // things that are not drop files.
    drop_as_hostile(
        &sb,
        "spin-a",
        &ticket("campus", &["a@example.org"], "{}"),
        format!("Subject: {m}-hostile\n\nx\n").as_bytes(),
    );
    let spinner = Command::new("runuser")
        .args(["-u", HOSTILE, "--", "sh", "-c"])
        .arg("cd \"$1\" && while :; do mv spin-a spin-b 2>/dev/null; mv spin-b spin-a 2>/dev/null; done")
        .args(["sh", maildrop.to_str().unwrap()])
        .spawn()
        .unwrap();
    let guard = KillOnDrop(spinner);
    let planted = Command::new("runuser")
        .args(["-u", HOSTILE, "--", "sh", "-c"])
        .arg("cd \"$1\" && mkdir dir && ln -s /etc/shadow shadow && mkfifo fifo")
        .args(["sh", maildrop.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(planted.success());
    for pass in 0..5 {
        for i in 0..4 {
            drop_as_hostile(
                &sb,
                &format!("other-{pass}-{i}"),
                &ticket("campus", &["a@example.org"], "{}"),
                format!("Subject: {m}-other-{pass}-{i}\n\nx\n").as_bytes(),
            );
        }
        let run = sb.run(&["queue", "run"], b"");
        assert_eq!(run.code, 0, "pass {pass}: {run:#?}");
        let subjects = queued_subjects(&sb);
        for i in 0..4 {
            let want = format!("{m}-other-{pass}-{i}");
            assert!(
                subjects.contains(&want),
                "pass {pass}: {want} not queued: {subjects:?}"
            );
        }
    }
    drop(guard);
    let left: Vec<String> = std::fs::read_dir(&maildrop)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("other") || matches!(n.as_str(), "dir" | "shadow" | "fifo"))
        .collect();
    assert!(left.is_empty(), "left in the maildrop: {left:?}");
    // Nothing the user planted made the runner read a root-only file into the queue.
    let shadow = std::fs::read_to_string("/etc/shadow").unwrap();
    let root_line = shadow.lines().next().unwrap();
    for entry in std::fs::read_dir(sb.path("spool/queue")).unwrap() {
        let text = std::fs::read(entry.unwrap().path().join("message")).unwrap();
        assert!(!String::from_utf8_lossy(&text).contains(root_line));
    }
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // runuser's child keeps running on SIGKILL of runuser; the whole group goes.
        let _ = Command::new("pkill")
            .args(["-KILL", "-u", HOSTILE, "-f", "spin-a"])
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Finding 5: a 99 MB drop took about 512 MB of memory to import (read whole and copied), so
/// under an address-space limit every pass aborted and nobody's mail moved. Now drops stream
/// through the body spool: a pass under `ulimit -v` of 200 MB imports a 100 MB drop, and the
/// other users' mail with it. (Fails without the fix: the pass dies of an allocation failure.)
#[test]
fn finding_05_a_100_mb_drop_imports_in_bounded_memory() {
    if !as_root(Root::Users) {
        return;
    }
    let sb = unreachable_sandbox();
    let m = marker("review-05");
    let path = open_maildrop(&sb).join("big");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        use std::io::Write;
        writeln!(file, "{}", ticket("campus", &["a@example.org"], "{}")).unwrap();
        write!(file, "Subject: {m}-big\n\n").unwrap();
        let line = [b"y".repeat(999), b"\n".to_vec()].concat();
        for _ in 0..(99 << 20) / line.len() {
            file.write_all(&line).unwrap();
        }
    }
    let status = Command::new("chown")
        .args([HOSTILE])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    drop_as_hostile(
        &sb,
        "small",
        &ticket("campus", &["a@example.org"], "{}"),
        format!("Subject: {m}-small\n\nx\n").as_bytes(),
    );
    let run = sb
        .program("sh")
        .args(["-c", "ulimit -v 204800 && exec \"$0\" queue run"])
        .arg(env!("CARGO_BIN_EXE_relayctl"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    let subjects = queued_subjects(&sb);
    for want in [format!("{m}-big"), format!("{m}-small")] {
        assert!(subjects.contains(&want), "{want} not queued: {subjects:?}");
    }
}

/// Finding 6: in `sendmail -bs`, a bare-LF dot inside DATA ended the message, so a body carrying
/// `\n.\nMAIL FROM:...\nRCPT TO:<victim>\nDATA\n...` produced a second message to a recipient the
/// caller never named. Now DATA ends only at CRLF.CRLF, and a message with a bare LF is refused
/// (550, nothing queued), as Postfix does with `smtpd_forbid_bare_newline = reject`. (Fails
/// without the fix: the victim receives the smuggled message.)
#[test]
fn finding_06_smtp_smuggling_through_sendmail_bs_delivers_nothing() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_smarthost(&[
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
    let m = marker("review-06");
    let dialogue = format!(
        "EHLO app.example\r\nMAIL FROM:<vm1@campus.example>\r\nRCPT TO:<ops@example.org>\r\nDATA\r\n\
         Subject: {m}-first\r\n\r\nhello\n.\nMAIL FROM:<vm1@campus.example>\nRCPT TO:<victim@example.org>\n\
         DATA\nSubject: {m}-smuggled\n\nsmuggled\r\n.\r\nQUIT\r\n"
    );
    let run = sb.run(&["sendmail", "-bs"], dialogue.as_bytes());
    let replies: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.as_bytes().get(3) == Some(&b' '))
        .collect();
    assert!(
        replies.iter().any(|r| r.starts_with("550 5.5.2")),
        "the message with a bare LF is refused: {run:#?}"
    );
    assert!(
        !replies.iter().any(|r| r.starts_with("250 2.0.0")),
        "nothing accepted: {run:#?}"
    );
    assert!(
        !crate::harness::arrives_soon(&m),
        "nothing reached the relay"
    );
    assert!(
        !crate::harness::captured()
            .iter()
            .any(|c| c.rcpt_to.iter().any(|r| r.contains("victim@"))),
        "the victim got nothing"
    );
    let queue = std::fs::read_dir(sb.path("spool/queue"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(queue, 0, "nothing queued");
}

/// Also in scope: once a secret is in a relayctl process's memory, the process is not dumpable
/// (no core file; users other than root cannot read its memory or attach to it). Seen from a
/// password command run as `nobody`: its parent's (relayctl's) /proc/PID/environ belongs to
/// nobody while no secret was read, and to root (the kernel's mark of a non-dumpable process)
/// once one was. (Without the fix, both belong to nobody.)
#[test]
fn a_process_holding_a_secret_is_not_dumpable() {
    if !as_root(Root::Postfix) {
        return;
    }
    let r = crate::harness::relay();
    let sb = Sandbox::new();
    let home = sb.path("home");
    let owners = sb.path("home/owners");
    std::fs::create_dir_all(home.join("config/relayctl")).unwrap();
    let profile = |name: &str, secret: &str| {
        format!(
            "[profiles.{name}]\npreset = \"institutional\"\nhost = \"localhost\"\nport = 587\ntls = \"starttls\"\nuser = \"{USER}\"\nfrom = \"{USER}\"\nca_file = \"{}\"\nsecret = '{secret}'\n",
            r.ca_file.display()
        )
    };
    let config = format!(
        "default_profile = \"a\"\ndelivery = \"queue\"\n\n{}\n{}",
        profile("a", "env:RELAYCTL_TEST_PASS"),
        profile(
            "b",
            &format!(
                "command:sh -c \"stat -c %U /proc/$PPID/environ >> {}; printf %s {}\"",
                owners.display(),
                crate::harness::PASSWORD
            )
        ),
    );
    std::fs::write(home.join("config/relayctl/config.toml"), config).unwrap();
    let status = Command::new("chown")
        .args(["-R", HOSTILE])
        .arg(&home)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::set_permissions(sb.path(""), std::fs::Permissions::from_mode(0o711)).unwrap();
    let m = marker("dumpable");
    let as_nobody = |args: &[&str], input: &[u8]| {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", HOSTILE, "--", "env", "-i", "PATH=/usr/bin:/bin"])
            .arg(format!("HOME={}", home.display()))
            .arg(format!("XDG_CONFIG_HOME={}", home.join("config").display()))
            .arg(format!("RELAYCTL_SPOOL={}", home.join("spool").display()))
            .arg(format!("RELAYCTL_TEST_PASS={}", crate::harness::PASSWORD))
            .arg(env!("CARGO_BIN_EXE_relayctl"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
    };
    // Only profile b's message: its command runs before any secret is in memory.
    as_nobody(
        &["--profile", "b", "sendmail", "ops@example.org"],
        format!("Subject: {m}-b1\n\nx\n").as_bytes(),
    );
    as_nobody(&["queue", "flush"], b"");
    // Profile a's message first (its secret read from the environment), then profile b's.
    as_nobody(
        &["--profile", "a", "sendmail", "ops@example.org"],
        format!("Subject: {m}-a\n\nx\n").as_bytes(),
    );
    std::thread::sleep(std::time::Duration::from_millis(5));
    as_nobody(
        &["--profile", "b", "sendmail", "ops@example.org"],
        format!("Subject: {m}-b2\n\nx\n").as_bytes(),
    );
    as_nobody(&["queue", "flush"], b"");
    for subject in ["b1", "a", "b2"] {
        wait_for(&format!("{m}-{subject}"));
    }
    let seen = std::fs::read_to_string(&owners).unwrap();
    assert_eq!(
        seen.lines().collect::<Vec<_>>(),
        [HOSTILE, "root"],
        "owner of relayctl's /proc entry, before and after a secret was read"
    );
}

/// Also in scope: a profile's `users` and `groups` say who may submit through it from the
/// maildrop; a drop from anyone else is refused (and kept in the corrupt area with the reason).
#[test]
fn profile_users_and_groups_limit_maildrop_submitters() {
    if !as_root(Root::Users) {
        return;
    }
    let sb = unreachable_sandbox();
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    std::fs::write(
        sb.user_config(),
        config.replace(
            "[profiles.campus]",
            "[profiles.campus]\nusers = [\"root\", \"daemon\"]\ngroups = [\"adm\"]",
        ),
    )
    .unwrap();
    let m = marker("users");
    drop_as_hostile(
        &sb,
        "not-allowed",
        &ticket("campus", &["a@example.org"], "{}"),
        format!("Subject: {m}\n\nx\n").as_bytes(),
    );
    let run = sb.run(&["queue", "run"], b"").ok();
    assert!(
        run.stderr
            .contains("uid 65534 (nobody) may not submit through profile campus"),
        "{run:#?}"
    );
    assert!(queued_subjects(&sb).is_empty());
    let reasons: Vec<String> = std::fs::read_dir(sb.path("spool/corrupt"))
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path().join("reason")).ok())
        .collect();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(reasons[0].contains("may not submit"), "{reasons:?}");
}

/// Also in scope: every local user may write to `daemon.sock`, so wake-ups are rate limited: a
/// flood of them gives at most one queue pass a second.
#[test]
fn a_flood_of_daemon_wake_ups_gives_one_pass_a_second() {
    let sb = unreachable_sandbox();
    let mut daemon = sb
        .command(&["-v", "queue", "daemon"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let socket = sb.path("spool/daemon.sock");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !socket.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the daemon never listened"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let flood = std::time::Instant::now();
    let sender = std::os::unix::net::UnixDatagram::unbound().unwrap();
    // The socket's queue holds a few datagrams; the rest of the flood is refused until the
    // daemon reads them, which is what it does between passes.
    sender.set_nonblocking(true).unwrap();
    let mut sent = 0;
    while flood.elapsed() < std::time::Duration::from_secs(3) {
        if sender.send_to(b"w", &socket).is_ok() {
            sent += 1;
        }
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    let _ = daemon.kill();
    let out = daemon.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let passes = stderr.lines().filter(|l| l.contains("pass: ")).count();
    assert!(sent >= 20, "{sent} wake-ups got through");
    assert!(
        (2..=5).contains(&passes),
        "{passes} passes for {sent} wake-ups in 3 s: {stderr}"
    );
}
