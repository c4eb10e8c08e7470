//! What relayctl refuses before anything is queued: messages that will not fit the profile's size
//! limit once encoded, addresses at bare host names, and line breaks in command-line values
//! (header injection). Attachment warnings and `--zip` through the real relay.

use std::io::{Cursor, Read};

use crate::harness::{Root, Run, Sandbox, arrives_soon, as_root, marker, queue, relay, wait_for};

/// A sandbox sending through the relay's port 25 smarthost, with `extra` profile settings.
fn smarthost(from: &str, extra: &str) -> Sandbox {
    relay();
    let sb = Sandbox::new();
    let path = sb.user_config();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        format!(
            "default_profile = \"campus\"\n\n[profiles.campus]\npreset = \"smarthost\"\nhost = \"localhost\"\nport = 25\ntls = \"none\"\nfrom = \"{from}\"\n{extra}\n[aliases]\nroot = \"admins@example.org\"\n"
        ),
    )
    .unwrap();
    sb
}

fn random(n: usize) -> Vec<u8> {
    std::iter::repeat_with(|| fastrand::u8(..))
        .take(n)
        .collect()
}

/// Asserts the queue holds nothing.
#[track_caller]
fn queue_is_empty(sb: &Sandbox) {
    let list = queue(sb, "list");
    assert!(list.is_empty(), "{list:#?}");
}

/// Asserts a refusal with `code`: one `relayctl:` line containing `needle`, nothing queued.
#[track_caller]
fn refused(sb: &Sandbox, run: Run, code: i32, needle: &str) {
    run.code(code).one_line_error(needle);
    queue_is_empty(sb);
}

#[test]
fn oversize_attachment_is_refused_before_anything_is_queued_or_sent() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("vm1@campus.example", "max_message_size = \"64K\"\n");
    let file = sb.path("report.tar");
    // 60 KB fits the limit as it is, but not base64-encoded (82 KB).
    std::fs::write(&file, random(60 << 10)).unwrap();
    let m = marker("oversize");
    let run = sb.run(
        &[
            "send",
            "--to",
            "ops@example.org",
            "--subject",
            &m,
            "--attach",
            file.to_str().unwrap(),
        ],
        b"see attached\n",
    );
    refused(
        &sb,
        run,
        65,
        "report.tar (60 KB, 82.2 KB encoded) does not fit profile campus's limit of 64 KB",
    );
    assert!(!arrives_soon(&m), "nothing may reach the relay");

    // The same file compressed does not fit either (random bytes do not compress).
    let run = sb.run(
        &[
            "send",
            "--to",
            "ops@example.org",
            "--subject",
            &m,
            "--zip",
            "--attach",
            file.to_str().unwrap(),
        ],
        b"see attached\n",
    );
    refused(&sb, run, 65, "attachments.zip of report.tar (");

    // A file that fits once encoded is sent.
    std::fs::write(&file, random(40 << 10)).unwrap();
    let m = marker("fits");
    sb.run(
        &[
            "send",
            "--to",
            "ops@example.org",
            "--subject",
            &m,
            "--attach",
            file.to_str().unwrap(),
        ],
        b"see attached\n",
    )
    .ok();
    assert!(wait_for(&m).text().contains("filename=\"report.tar\""));
}

#[test]
fn executable_and_script_attachments_warn_but_are_sent() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("vm1@campus.example", "");
    let files: Vec<String> = ["deploy.sh", "setup.exe", "report.csv"]
        .iter()
        .map(|name| {
            let path = sb.path(name);
            std::fs::write(&path, b"#!/bin/sh\necho hi\n").unwrap();
            path.to_str().unwrap().to_string()
        })
        .collect();
    let m = marker("blocked");
    let mut args = vec![
        "send",
        "--to",
        "ops@example.org",
        "--subject",
        &m,
        "--attach",
    ];
    args.extend(files.iter().map(String::as_str));
    let run = sb.run(&args, b"x\n").ok();
    let warnings: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(warnings.len(), 2, "{}", run.stderr);
    for (line, name) in warnings.iter().zip(["deploy.sh", "setup.exe"]) {
        assert!(
            line.starts_with(&format!("relayctl: warning: {name} is ")) && line.contains("--zip"),
            "{line}"
        );
    }
    let text = wait_for(&m).text();
    for name in ["deploy.sh", "setup.exe", "report.csv"] {
        assert!(text.contains(&format!("filename=\"{name}\"")), "{text}");
    }
}

#[test]
fn zip_round_trip_through_the_relay() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("vm1@campus.example", "");
    let script = b"#!/bin/sh\necho hi\n".to_vec();
    let binary = random(200_000);
    let log = "GET / 200\n".repeat(20_000).into_bytes();
    let originals = [
        ("deploy.sh", &script),
        ("data.bin", &binary),
        ("access.log", &log),
    ];
    let mut paths = Vec::new();
    for (name, bytes) in originals {
        let path = sb.path(name);
        std::fs::write(&path, bytes).unwrap();
        paths.push(path.to_str().unwrap().to_string());
    }
    let m = marker("zip");
    let mut args = vec!["send", "--to", "ops@example.org", "--subject", &m, "--zip"];
    args.push("--attach");
    args.extend(paths.iter().map(String::as_str));
    let run = sb.run(&args, b"three files, zipped\n").ok();
    assert_eq!(run.stderr, "", "no warning for a zipped script");

    let got = wait_for(&m);
    let parsed = mail_parser::MessageParser::default()
        .parse(&got.data)
        .unwrap();
    let names: Vec<&str> = parsed
        .attachments()
        .filter_map(mail_parser::MimeHeaders::attachment_name)
        .collect();
    assert_eq!(names, ["attachments.zip"], "{}", got.text());
    let zipped = parsed.attachment(0).unwrap();
    assert_eq!(
        mail_parser::MimeHeaders::content_type(zipped).map(|c| c.ctype()),
        Some("application")
    );
    let mut archive = zip::ZipArchive::new(Cursor::new(zipped.contents().to_vec())).unwrap();
    assert_eq!(archive.len(), originals.len());
    for (name, bytes) in originals {
        let mut content = Vec::new();
        archive
            .by_name(name)
            .unwrap()
            .read_to_end(&mut content)
            .unwrap();
        assert_eq!(&content, bytes, "{name}");
    }
    assert!(
        zipped.contents().len() < binary.len() + log.len() / 10,
        "the log compresses: {} bytes",
        zipped.contents().len()
    );
}

#[test]
fn bare_hostname_addresses_are_refused_unless_the_profile_allows_them() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("vm1@campus.example", "allow_from_override = true\n");
    let m = marker("barehost");
    let send = |extra: &[&str]| {
        let mut args = vec!["send", "--subject", &m];
        args.extend_from_slice(extra);
        sb.run(&args, b"x\n")
    };
    refused(
        &sb,
        send(&["--from", "root@vm123", "--to", "ops@example.org"]),
        64,
        "--from <root@vm123> is at the bare host name \"vm123\"",
    );
    refused(
        &sb,
        send(&["--to", "ops@example.org", "--cc", "ops@mailhost"]),
        67,
        "recipient <ops@mailhost> is at the bare host name \"mailhost\"",
    );
    let sendmail = |args: &[&str], message: &str| {
        let mut all = vec!["sendmail"];
        all.extend_from_slice(args);
        sb.run(&all, message.as_bytes())
    };
    let message = format!("Subject: {m}\n\nx\n");
    refused(
        &sb,
        sendmail(&["-f", "bounces@vm123", "ops@example.org"], &message),
        64,
        "envelope sender (-f) <bounces@vm123> is at the bare host name",
    );
    refused(
        &sb,
        sendmail(
            &["ops@example.org"],
            &format!("From: App <app@vm123.localdomain>\n{message}"),
        ),
        65,
        "From header <app@vm123.localdomain>",
    );
    refused(
        &sb,
        sendmail(&["ops@mailhost"], &message),
        67,
        "recipient <ops@mailhost>",
    );
    assert!(!arrives_soon(&m), "nothing may reach the relay");

    // What relayctl can fix, it fixes: cron's `-f root` and `From: root` become the profile's.
    let m = marker("cronroot");
    sendmail(
        &["-FCronDaemon", "-i", "-f", "root", "root"],
        &format!("From: root (Cron Daemon)\nTo: root\nSubject: {m}\n\nx\n"),
    )
    .ok();
    let got = wait_for(&m);
    assert!(
        got.mail_from.starts_with("<vm1@campus.example>"),
        "{}",
        got.mail_from
    );

    // A bare host name in the profile's own from is a configuration error.
    let bad = smarthost("root@vm123", "");
    bad.run(
        &["send", "--to", "ops@example.org", "--subject", "x"],
        b"x\n",
    )
    .code(78)
    .one_line_error("`from` \"root@vm123\" is at the bare host name");

    // Allowed, for an internal relay that knows the names.
    let ok = smarthost("root@vm123", "allow_bare_hostnames = true\n");
    let m = marker("bareallowed");
    ok.run(
        &["send", "--to", "ops@example.org", "--subject", &m],
        b"x\n",
    )
    .ok();
    assert!(wait_for(&m).mail_from.starts_with("<root@vm123>"));
}

#[test]
fn line_breaks_in_command_line_values_are_refused() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = smarthost("vm1@campus.example", "");
    let m = marker("injection");
    let inject = format!("{m}\nBcc: victim@example.org");
    let inject_crlf = format!("x@example.org\r\nBcc: {m}@example.org");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--to", "ops@example.org", "--subject", &inject],
            "--subject",
        ),
        (vec!["--to", &inject_crlf, "--subject", &m], "--to"),
        (
            vec![
                "--to",
                "ops@example.org",
                "--cc",
                &inject_crlf,
                "--subject",
                &m,
            ],
            "--cc",
        ),
        (vec!["--bcc", &inject_crlf, "--subject", &m], "--bcc"),
        (
            vec![
                "--to",
                "ops@example.org",
                "--from",
                &inject_crlf,
                "--subject",
                &m,
            ],
            "--from",
        ),
    ];
    for (args, option) in &cases {
        let mut all = vec!["send"];
        all.extend_from_slice(args);
        refused(
            &sb,
            sb.run(&all, b"x\n"),
            64,
            &format!("relayctl: {option} \""),
        );
    }
    // An attachment whose file name holds a line break.
    let evil = sb.path(&format!("{m}\nBcc: victim@example.org"));
    std::fs::write(&evil, b"x").unwrap();
    refused(
        &sb,
        sb.run(
            &[
                "send",
                "--to",
                "ops@example.org",
                "--subject",
                &m,
                "--attach",
                evil.to_str().unwrap(),
            ],
            b"x\n",
        ),
        64,
        "relayctl: --attach \"",
    );

    let message = format!("Subject: {m}\n\nx\n");
    let sendmail: Vec<(Vec<&str>, &str)> = vec![
        (vec!["-F", &inject, "ops@example.org"], "relayctl: -F \""),
        (
            vec!["-f", &inject_crlf, "ops@example.org"],
            "relayctl: -f \"",
        ),
        (
            vec!["-V", &inject, "ops@example.org"],
            "relayctl: invalid -V value",
        ),
        (
            vec!["ops@example.org", &inject_crlf],
            "relayctl: recipient \"",
        ),
    ];
    for (args, needle) in &sendmail {
        let mut all = vec!["sendmail"];
        all.extend_from_slice(args);
        refused(&sb, sb.run(&all, message.as_bytes()), 64, needle);
    }
    // Every attempt carries the marker in its Subject.
    assert!(!arrives_soon(&m), "nothing may reach the relay");
}
