//! The sendmail front end, driven the way web apps, scripts and PHP drive it, through the real
//! relay.

use std::io::Write;
use std::process::Stdio;

use crate::harness::{Root, Sandbox, arrives_soon, as_root, marker, relay, wait_for};

/// A sandbox whose config sends through the relay's port 25 smarthost, with aliases.
fn smarthost(extra: &str) -> Sandbox {
    relay();
    let sb = Sandbox::new();
    let path = sb.user_config();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        format!(
            "default_profile = \"campus\"\n\n[profiles.campus]\npreset = \"smarthost\"\nhost = \"localhost\"\nport = 25\ntls = \"none\"\nfrom = \"vm1@campus.example\"\n{extra}\n[aliases]\nroot = \"admins@example.org\"\npostmaster = \"root\"\n"
        ),
    )
    .unwrap();
    sb
}

fn rcpts(list: &[String]) -> Vec<String> {
    let mut v = list.to_vec();
    v.sort();
    v
}

/// PHP's mail() runs `sendmail -t -i`.
#[test]
fn php_style_t_i_takes_recipients_from_headers_and_drops_bcc() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("");
    let m = marker("php");
    let message = format!(
        "To: \"Doe, Jane\" <jane@example.org>, Team: a@example.org, b@example.org (B);\nCc: cc@example.org\nBcc: hidden@example.org,\n  also-hidden@example.org\nSubject: {m}\nX-Mailer: PHP/8.2\nFrom: shop@campus.example\n\nOrder confirmed.\n.\nLine after a lone dot.\n"
    );
    sb.run(&["sendmail", "-t", "-i"], message.as_bytes()).ok();
    let got = wait_for(&m);
    assert_eq!(
        rcpts(&got.rcpt_to),
        [
            "<a@example.org>",
            "<also-hidden@example.org>",
            "<b@example.org>",
            "<cc@example.org>",
            "<hidden@example.org>",
            "<jane@example.org>"
        ]
    );
    let text = got.text();
    assert!(
        !text.contains("hidden"),
        "Bcc must not be transmitted: {text}"
    );
    let headers = text.split("\r\n\r\n").next().unwrap();
    let order: Vec<&str> = headers
        .lines()
        .filter_map(|l| l.split(':').next())
        .filter(|n| ["To", "Cc", "Subject", "X-Mailer", "From"].contains(n))
        .collect();
    assert_eq!(order, ["To", "Cc", "Subject", "X-Mailer", "From"], "{text}");
    assert!(text.contains("\r\nX-Mailer: PHP/8.2\r\n"), "{text}");
    // The shop's own From is replaced: the profile does not allow callers other senders.
    assert!(text.contains("\r\nFrom: vm1@campus.example\r\n"), "{text}");
    assert_eq!(
        got.body(),
        b"Order confirmed.\r\n.\r\nLine after a lone dot.\r\n"
    );
}

/// Many apps run `sendmail -oi -t`; command-line recipients are added to the header ones.
#[test]
fn oi_t_with_command_line_recipients() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("");
    let m = marker("oit");
    let message = format!("To: app-user@example.org\nSubject: {m}\n\nhello\n");
    sb.run(
        &["sendmail", "-oi", "-t", "copy@example.org"],
        message.as_bytes(),
    )
    .ok();
    let got = wait_for(&m);
    assert_eq!(
        rcpts(&got.rcpt_to),
        ["<app-user@example.org>", "<copy@example.org>"]
    );
    let text = got.text();
    assert!(
        text.contains("\r\nFrom: vm1@campus.example\r\n"),
        "From added: {text}"
    );
    assert!(
        text.contains("\r\nDate: ") && text.contains("\r\nMessage-ID: <"),
        "{text}"
    );
    assert!(
        text.contains("@campus.example>\r\n"),
        "Message-ID in the sender's domain: {text}"
    );
}

#[test]
fn without_i_a_lone_dot_ends_the_message() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("");
    let m = marker("dotend");
    let message = format!("Subject: {m}\n\nkept\n.\ndropped\n");
    sb.run(&["sendmail", "ops@example.org"], message.as_bytes())
        .ok();
    assert_eq!(wait_for(&m).body(), b"kept\r\n");
}

/// cron's mail: From `root (Cron Daemon)`, To the local user root.
#[test]
fn local_recipients_resolve_through_aliases_and_headers_follow() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("");
    let m = marker("alias");
    let message = format!("From: root (Cron Daemon)\nTo: root\nSubject: {m}\n\noutput\n");
    sb.run(
        &[
            "sendmail",
            "-FCronDaemon",
            "-i",
            "-B8BITMIME",
            "-oem",
            "root",
        ],
        message.as_bytes(),
    )
    .ok();
    let got = wait_for(&m);
    assert_eq!(got.rcpt_to, ["<admins@example.org>"]);
    assert!(
        got.mail_from.starts_with("<vm1@campus.example>"),
        "{}",
        got.mail_from
    );
    let text = got.text();
    assert!(
        text.contains("\r\nFrom: \"Cron Daemon\" <vm1@campus.example>\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\nTo: admins@example.org\r\n"), "{text}");

    // Nested aliases and user@localhost.
    let m = marker("alias2");
    sb.run(
        &["sendmail", "postmaster@localhost"],
        format!("Subject: {m}\n\nx\n").as_bytes(),
    )
    .ok();
    assert_eq!(wait_for(&m).rcpt_to, ["<admins@example.org>"]);
}

/// A local recipient without an alias is the configuration's fault: the message is held (cron's
/// mail is the mail nobody sends again), with the fix on stderr.
#[test]
fn unknown_local_recipient_is_held_with_the_fix() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("");
    let run = sb
        .run(&["sendmail", "www-data"], b"Subject: x\n\nx\n")
        .ok()
        .one_line_error("www-data = \"you@example.org\"");
    assert!(run.stderr.contains("held"), "{run:#?}");
    assert_eq!(
        std::fs::read_dir(sb.path("spool/queue")).unwrap().count(),
        1
    );
}

#[test]
fn default_catch_all_and_etc_aliases_file() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("");
    let aliases = sb.path("aliases");
    std::fs::write(&aliases, "# local\nbackup: backup-team@example.org\n").unwrap();
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    let config = config.replacen(
        "default_profile = \"campus\"\n",
        &format!(
            "default_profile = \"campus\"\naliases_file = \"{}\"\n",
            aliases.display()
        ),
        1,
    ) + "default = \"catchall@example.org\"\n";
    std::fs::write(sb.user_config(), config).unwrap();
    let m = marker("etcaliases");
    sb.run(
        &["sendmail", "backup", "www-data"],
        format!("Subject: {m}\n\nx\n").as_bytes(),
    )
    .ok();
    assert_eq!(
        rcpts(&wait_for(&m).rcpt_to),
        ["<backup-team@example.org>", "<catchall@example.org>"]
    );
}

#[test]
fn sender_override_follows_the_profile_policy() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("");
    let m = marker("nooverride");
    let message = format!("From: App <noreply@app.example>\nSubject: {m}\n\nx\n");
    sb.run(
        &["sendmail", "-f", "bounces@app.example", "ops@example.org"],
        message.as_bytes(),
    )
    .ok();
    let got = wait_for(&m);
    assert!(
        got.mail_from.starts_with("<vm1@campus.example>"),
        "{}",
        got.mail_from
    );
    assert!(
        got.text()
            .contains("\r\nFrom: \"App\" <vm1@campus.example>\r\n"),
        "{}",
        got.text()
    );

    let sb = smarthost("allow_from_override = true\nreply_to = \"helpdesk@campus.example\"\n");
    let m = marker("override");
    sb.run(
        &["sendmail", "-f", "bounces@app.example", "ops@example.org"],
        format!("From: App <noreply@app.example>\nSubject: {m}\n\nx\n").as_bytes(),
    )
    .ok();
    let got = wait_for(&m);
    assert!(
        got.mail_from.starts_with("<bounces@app.example>"),
        "{}",
        got.mail_from
    );
    assert!(
        got.text()
            .contains("\r\nFrom: App <noreply@app.example>\r\n"),
        "{}",
        got.text()
    );

    // A domainless From is still replaced, and then the configured Reply-To is added.
    let m = marker("replyto");
    sb.run(
        &["sendmail", "ops@example.org"],
        format!("From: root\nSubject: {m}\n\nx\n").as_bytes(),
    )
    .ok();
    let text = wait_for(&m).text();
    assert!(
        text.contains("\r\nFrom: vm1@campus.example\r\nReply-To: helpdesk@campus.example\r\n"),
        "{text}"
    );
}

#[test]
fn full_name_is_used_when_relayctl_writes_the_from() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("");
    let m = marker("fullname");
    sb.run(
        &["sendmail", "-F", "Backup Job", "ops@example.org"],
        format!("Subject: {m}\n\nx\n").as_bytes(),
    )
    .ok();
    assert!(
        wait_for(&m)
            .text()
            .contains("\r\nFrom: \"Backup Job\" <vm1@campus.example>\r\n")
    );
}

/// Symfony Mailer and PHPMailer speak SMTP to `sendmail -bs` over its stdin and stdout.
#[test]
fn bs_smtp_dialogue() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("");
    let m = marker("bs");
    let mut child = sb
        .command(&["sendmail", "-bs"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let script = format!(
        "EHLO app.example\r\nMAIL FROM:<app@campus.example>\r\nRCPT TO:<ops@example.org>\r\nRCPT TO:<root>\r\nDATA\r\nFrom: app@campus.example\r\nSubject: {m}\r\n\r\n..leading dot\r\nbody\r\n.\r\nRCPT TO:<x@example.org>\r\nNOOP\r\nQUIT\r\n"
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let replies = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{replies} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let codes: Vec<&str> = replies
        .lines()
        .filter(|l| !l.starts_with("250-"))
        .map(|l| &l[..3])
        .collect();
    assert_eq!(
        codes,
        [
            "220", "250", "250", "250", "250", "354", "250", "503", "250", "221"
        ],
        "{replies}"
    );
    assert!(replies.contains("250 2.0.0 Ok: delivered"), "{replies}");
    let got = wait_for(&m);
    assert_eq!(
        rcpts(&got.rcpt_to),
        ["<admins@example.org>", "<ops@example.org>"]
    );
    assert_eq!(got.body(), b".leading dot\r\nbody\r\n");
}

#[test]
fn bs_reports_a_relay_refusal_in_the_data_reply() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("");
    let mut child = sb
        .command(&["--wait", "sendmail", "-bs"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"HELO x\r\nMAIL FROM:<>\r\nRCPT TO:<later@example.org>\r\nDATA\r\nSubject: x\r\n\r\nx\r\n.\r\nQUIT\r\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let replies = String::from_utf8_lossy(&out.stdout);
    assert!(
        replies.contains("\r\n451 4.3.0 ") && replies.contains("450 4.2.0"),
        "{replies}"
    );
}

#[test]
fn bv_verifies_recipients_without_sending() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("");
    let run = sb
        .run(
            &[
                "sendmail",
                "-bv",
                "ops@example.org",
                "rejected@example.org",
                "root",
            ],
            b"",
        )
        .code(67);
    assert!(
        run.stdout.contains("ops@example.org... deliverable: 250"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("admins@example.org... deliverable"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("rejected@example.org... undeliverable: 550 5.1.1"),
        "{}",
        run.stdout
    );
}

#[test]
fn mailq_newaliases_and_queue_runs() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("");
    let run = sb.run(&["sendmail", "-bp"], b"").ok();
    assert_eq!(run.stdout, "Mail queue is empty\n");
    let run = sb.run(&["sendmail", "-bi"], b"").ok();
    assert!(run.stderr.contains("[aliases]"), "{}", run.stderr);
    let run = sb.run(&["sendmail", "-q"], b"").ok();
    assert_eq!(
        (run.stdout.as_str(), run.stderr.as_str()),
        ("", ""),
        "cron mails any output of -q"
    );
}

/// Invoked through links named sendmail, mailq and newaliases.
#[test]
fn program_name_selects_the_personality() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("");
    let bin = sb.path("bin");
    std::fs::create_dir(&bin).unwrap();
    for name in ["sendmail", "mailq", "newaliases"] {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_relayctl"), bin.join(name)).unwrap();
    }
    let out = sb
        .program(bin.join("mailq").to_str().unwrap())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Mail queue is empty\n"
    );
    let out = sb
        .program(bin.join("newaliases").to_str().unwrap())
        .output()
        .unwrap();
    assert!(out.status.success());
    let m = marker("argv0");
    let mut child = sb
        .program(bin.join("sendmail").to_str().unwrap())
        .args(["-t", "-i"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("To: ops@example.org\nSubject: {m}\n\nx\n").as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    wait_for(&m);
}

#[test]
fn option_values_never_become_recipients() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("");
    let m = marker("optvalues");
    let args = [
        "sendmail",
        "-o",
        "Q",
        "/var/spool/x",
        "-oQ",
        "/tmp/q",
        "-L",
        "tag",
        "-h",
        "5",
        "-O",
        "DeliveryMode=b",
        "-X",
        "/tmp/never-written",
        "-N",
        "never",
        "-R",
        "full",
        "-V",
        "env1",
        "-G",
        "-U",
        "-Am",
        "-C",
        sb.user_config().to_str().unwrap().to_string().leak(),
        "--",
        "ops@example.org",
    ];
    sb.run(&args, format!("Subject: {m}\n\nx\n").as_bytes())
        .ok();
    assert_eq!(wait_for(&m).rcpt_to, ["<ops@example.org>"]);
    assert!(!std::path::Path::new("/tmp/never-written").exists());
}

#[test]
fn dsn_parameters_are_sent_when_the_relay_offers_dsn() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("");
    let m = marker("dsn");
    let run = sb
        .run(
            &[
                "-v",
                "sendmail",
                "-N",
                "failure,delay",
                "-R",
                "hdrs",
                "-V",
                "job42",
                "ops@example.org",
            ],
            format!("Subject: {m}\n\nx\n").as_bytes(),
        )
        .ok();
    assert!(
        run.stderr.contains("RET=HDRS ENVID=job42"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("NOTIFY=FAILURE,DELAY"),
        "{}",
        run.stderr
    );
    wait_for(&m);
}

#[test]
fn eight_bit_message_to_a_relay_without_8bitmime_is_refused() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("");
    let config = std::fs::read_to_string(sb.user_config())
        .unwrap()
        .replace("port = 25", "port = 2587");
    std::fs::write(sb.user_config(), config).unwrap();
    let m = marker("no8bit");
    sb.run(
        &["sendmail", "ops@example.org"],
        format!("Subject: {m}\n\nGrüße\n").as_bytes(),
    )
    .code(65)
    .one_line_error("8BITMIME");
    assert!(!arrives_soon(&m));
    let m = marker("ascii7bit");
    sb.run(
        &["sendmail", "ops@example.org"],
        format!("Subject: {m}\n\nplain\n").as_bytes(),
    )
    .ok();
    wait_for(&m);
}

#[test]
fn edge_cases_have_defined_behaviour() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("");
    // No final newline.
    let m = marker("nofinal");
    sb.run(
        &["sendmail", "ops@example.org"],
        format!("Subject: {m}\n\nlast line").as_bytes(),
    )
    .ok();
    assert_eq!(wait_for(&m).body(), b"last line\r\n");
    // Headers only, no body.
    let m = marker("nobody");
    sb.run(
        &["sendmail", "ops@example.org"],
        format!("Subject: {m}\n").as_bytes(),
    )
    .ok();
    assert_eq!(wait_for(&m).body(), b"");
    // NUL bytes are refused.
    sb.run(&["sendmail", "ops@example.org"], b"Subject: x\n\na\0b\n")
        .code(65)
        .one_line_error("NUL");
    // Lines over 998 octets go quoted-printable, decoding to the same text.
    let m = marker("longline");
    let long = "y".repeat(2000);
    sb.run(
        &["sendmail", "ops@example.org"],
        format!("Subject: {m}\n\n{long}\n").as_bytes(),
    )
    .ok();
    let got = wait_for(&m);
    assert!(
        got.text()
            .contains("Content-Transfer-Encoding: quoted-printable\r\n")
    );
    assert!(got.text().lines().all(|l| l.len() <= 998));
    // Non-UTF-8 header bytes are transmitted unchanged.
    let m = marker("latin1");
    let mut msg = format!("Subject: {m} caf").into_bytes();
    msg.extend_from_slice(b"\xe9\n\nx\n");
    sb.run(&["sendmail", "ops@example.org"], &msg).ok();
    let got = wait_for(&m);
    assert!(
        got.data.windows(5).any(|w| w == b"caf\xe9\r"),
        "{:?}",
        got.text()
    );
}

#[test]
fn sendmail_link_install_status_remove() {
    let sb = Sandbox::new();
    let prefix = sb.path("usr");
    let p = prefix.to_str().unwrap();
    // A foreign MTA's sendmail is in the way.
    std::fs::create_dir_all(prefix.join("sbin")).unwrap();
    std::fs::write(prefix.join("sbin/sendmail"), "#!/bin/sh\n").unwrap();
    sb.run(&["sendmail-link", "install", "--prefix", p], b"")
        .code(73)
        .one_line_error("sbin/sendmail");
    assert!(
        !prefix.join("bin/mailq").exists(),
        "nothing is half-installed"
    );
    sb.run(&["sendmail-link", "install", "--prefix", p, "--force"], b"")
        .ok();
    let status = sb
        .run(&["sendmail-link", "status", "--prefix", p], b"")
        .ok();
    assert_eq!(
        status.stdout.matches(" relayctl\n").count(),
        4,
        "{}",
        status.stdout
    );
    let target = std::fs::canonicalize(prefix.join("sbin/sendmail")).unwrap();
    assert_eq!(
        target,
        std::fs::canonicalize(env!("CARGO_BIN_EXE_relayctl")).unwrap()
    );
    sb.run(&["sendmail-link", "remove", "--prefix", p], b"")
        .ok();
    assert_eq!(
        std::fs::read_to_string(prefix.join("sbin/sendmail")).unwrap(),
        "#!/bin/sh\n",
        "restored"
    );
    assert!(!prefix.join("bin/mailq").exists());

    // The real /usr/sbin/sendmail belongs to Postfix here: status names the package and install
    // refuses without --force.
    let status = sb.run(&["sendmail-link", "status"], b"").ok();
    assert!(
        status.stdout.contains("(package postfix)"),
        "{}",
        status.stdout
    );
    sb.run(&["sendmail-link", "install"], b"")
        .code(73)
        .one_line_error("package postfix");
}

/// PHP's mail() with `sendmail_path` pointing at relayctl, as a web app on the host would send.
#[test]
fn php_mail_function() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("");
    let m = marker("phpmail");
    let sendmail_path = format!(
        "{} --config {} sendmail -t -i",
        env!("CARGO_BIN_EXE_relayctl"),
        sb.user_config().display()
    );
    let script = format!(
        r#"$ok = mail("ops@example.org, Jane <jane@example.org>", "{m} order #1", "Line 1\n.\nLine 3 \u{{e9}}\n", ["From" => "shop@campus.example", "Bcc" => "audit@example.org", "X-Shop" => "1"]); exit($ok ? 0 : 1);"#
    );
    let out = sb
        .program("php")
        .args([
            "-n",
            "-d",
            &format!("sendmail_path={sendmail_path}"),
            "-r",
            &script,
        ])
        .output()
        .expect("php-cli is installed by tests/run");
    assert!(out.status.success(), "{out:?}");
    let got = wait_for(&m);
    assert_eq!(
        rcpts(&got.rcpt_to),
        [
            "<audit@example.org>",
            "<jane@example.org>",
            "<ops@example.org>"
        ]
    );
    let text = got.text();
    assert!(!text.contains("audit@"), "{text}");
    assert!(text.contains("\r\nX-Shop: 1\r\n"), "{text}");
    // PHP writes the message followed by a newline of its own: "\n%s\n".
    assert_eq!(got.body(), "Line 1\r\n.\r\nLine 3 é\r\n\r\n".as_bytes());
}
