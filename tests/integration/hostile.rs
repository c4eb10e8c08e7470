//! Hostile input and a hostile network (SECURITY.md): limits that keep a local program from
//! exhausting memory or disk, refusal of unsafe files, certificates that are not valid, relay
//! replies with terminal escapes (against the scripted fault server, `testkit::smtp::Server`), and queue
//! IDs that are paths.
//!
//! The message limits are checked against a profile whose relay is unreachable (port 1): what
//! is refused is refused before anything is queued, what is accepted stays queued.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testkit::smtp::{Script, Server, reply};

use crate::faults;
use crate::harness::{
    PASSWORD, Root, Run, Sandbox, USER, arrives_soon, as_root, marker, queue, relay,
};

/// A sandbox whose profile queues everything (its relay, port 1, refuses connections).
fn unreachable(extra: &[&str]) -> Sandbox {
    let sb = Sandbox::new();
    let mut args = vec![
        "--port",
        "1",
        "--tls",
        "none",
        "--from",
        "vm1@campus.example",
    ];
    args.extend_from_slice(extra);
    sb.setup_smarthost(&args).ok();
    sb
}

/// The queued messages' directories.
fn queued(sb: &Sandbox) -> Vec<std::path::PathBuf> {
    match std::fs::read_dir(sb.path("spool/queue")) {
        Ok(dir) => dir.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Asserts a quick refusal with `code` and a one-line message containing `needle`, and that
/// nothing was queued.
#[track_caller]
fn refused_quickly(sb: &Sandbox, args: &[&str], input: &[u8], code: i32, needle: &str) -> Run {
    let start = Instant::now();
    let run = sb.run(args, input).code(code).one_line_error(needle);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(10), "refusal took {took:?}");
    assert!(queued(sb).is_empty(), "{:?}", queued(sb));
    run
}

#[test]
fn a_2_mb_header_line_is_refused_quickly() {
    let sb = unreachable(&[]);
    let mut input = b"Subject: ".to_vec();
    input.extend(std::iter::repeat_n(b'x', 2 << 20));
    input.extend_from_slice(b"\n\nbody\n");
    refused_quickly(
        &sb,
        &["sendmail", "ops@example.org"],
        &input,
        65,
        "larger than 1 MiB",
    );
}

#[test]
fn more_than_1000_header_fields_are_refused() {
    let sb = unreachable(&[]);
    let input = format!("{}\nbody\n", "X-Spam: y\n".repeat(1001));
    refused_quickly(
        &sb,
        &["sendmail", "ops@example.org"],
        input.as_bytes(),
        65,
        "1001 header fields; at most 1000",
    );
}

#[test]
fn more_than_1000_recipients_are_refused() {
    let sb = unreachable(&[]);
    let addresses: Vec<String> = (0..100_000).map(|i| format!("r{i}@example.org")).collect();
    let message = b"Subject: many\n\nbody\n";

    // As arguments: a usage error.
    let mut args = vec!["sendmail"];
    args.extend(addresses[..1001].iter().map(String::as_str));
    refused_quickly(&sb, &args, message, 64, "at most 1000");

    // With -t, from the headers: the message is refused.
    let to = |n: usize| {
        format!(
            "To: {}\nSubject: many\n\nbody\n",
            addresses[..n].join(",\n ")
        )
    };
    refused_quickly(
        &sb,
        &["sendmail", "-t"],
        to(1001).as_bytes(),
        65,
        "at most 1000",
    );
    // 100,000 of them do not even fit the header section.
    refused_quickly(
        &sb,
        &["sendmail", "-t"],
        to(100_000).as_bytes(),
        65,
        "larger than 1 MiB",
    );
    // 1,000 are accepted (and queued, the relay being unreachable).
    sb.run(&["sendmail", "-t"], to(1000).as_bytes()).ok();
    assert_eq!(queued(&sb).len(), 1);
}

/// `sendmail -bs` (PHPMailer, Symfony): the 1001st RCPT is answered 452, as Postfix does.
#[test]
fn smtp_session_limits_recipients() {
    let sb = unreachable(&[]);
    let mut dialogue = String::from("EHLO app\r\nMAIL FROM:<app@campus.example>\r\n");
    for i in 0..1001 {
        dialogue.push_str(&format!("RCPT TO:<r{i}@example.org>\r\n"));
    }
    dialogue.push_str("QUIT\r\n");
    let run = sb.run(&["sendmail", "-bs"], dialogue.as_bytes()).ok();
    let replies: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        replies
            .iter()
            .filter(|l| l.starts_with("250 2.1.5"))
            .count(),
        1000
    );
    assert!(
        replies.contains(&"452 4.5.3 Error: too many recipients"),
        "{}",
        run.stdout
    );
}

/// Peak resident memory (MiB) of `relayctl ARGS < input`, and the run, when `/usr/bin/time` is
/// installed (`tests/run` installs it).
fn peak_memory(sb: &Sandbox, args: &[&str], input: &Path) -> Option<(u64, i32)> {
    if !Path::new("/usr/bin/time").exists() {
        eprintln!("hostile: /usr/bin/time is missing; memory is not measured");
        return None;
    }
    let report = sb.path("time.txt");
    let status = sb
        .program("/usr/bin/time")
        .arg("-v")
        .arg("-o")
        .arg(&report)
        .arg(env!("CARGO_BIN_EXE_relayctl"))
        .args(args)
        .stdin(std::fs::File::open(input).unwrap())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let text = std::fs::read_to_string(&report).unwrap();
    let kib: u64 = text
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .expect("time -v reports the peak")
        .parse()
        .unwrap();
    Some((kib >> 10, status.code().unwrap_or(-1)))
}

/// A 50 MB body on one line (under the smarthost preset's 100 MB limit) is accepted and queued
/// quoted-printable, every line within SMTP's limits; memory stays a small multiple of the line.
#[test]
fn a_50_mb_line_is_queued_quoted_printable_in_bounded_memory() {
    let sb = unreachable(&[]);
    let input = sb.path("one-line.eml");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    file.write_all(b"Subject: one line\n\n").unwrap();
    let chunk = [b'x'; 1 << 20];
    for _ in 0..50 {
        file.write_all(&chunk).unwrap();
    }
    file.write_all(b"\n").unwrap();
    file.into_inner().unwrap().sync_all().unwrap();

    let args = ["sendmail", "ops@example.org"];
    match peak_memory(&sb, &args, &input) {
        Some((mib, code)) => {
            assert_eq!(code, 0);
            eprintln!("hostile: a 50 MiB line took {mib} MiB at peak");
            assert!(mib < 256, "{mib} MiB for a 50 MiB line");
        }
        None => {
            let status = sb
                .command(&args)
                .stdin(std::fs::File::open(&input).unwrap())
                .status()
                .unwrap();
            assert!(status.success());
        }
    }
    let dirs = queued(&sb);
    assert_eq!(dirs.len(), 1);
    let message = std::fs::read(dirs[0].join("message")).unwrap();
    let text_end = message.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&message[..text_end]);
    assert!(
        head.contains("Content-Transfer-Encoding: quoted-printable"),
        "{head}"
    );
    // The spool holds the message without its final line ending (the wire adds CRLF.CRLF).
    let lines: Vec<Vec<u8>> = BufReader::new(&message[..])
        .split(b'\n')
        .map(Result::unwrap)
        .collect();
    let (last, rest) = lines.split_last().unwrap();
    for line in rest {
        assert!(line.ends_with(b"\r"), "bare LF");
    }
    for line in &lines {
        let content = line.strip_suffix(b"\r").unwrap_or(line);
        assert!(!content.contains(&b'\r'), "bare CR");
        assert!(content.len() <= 998, "a line of {} octets", content.len());
    }
    assert!(!last.ends_with(b"\r"));
    assert!(lines.len() > (50 << 20) / 77, "{} lines", lines.len());
}

/// More than the profile's limit, on one endless line, is refused without being buffered.
#[test]
fn input_over_the_size_limit_is_refused_without_buffering_it() {
    let sb = unreachable(&["--max-message-size", "1M"]);
    let input = sb.path("flood.eml");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    file.write_all(b"Subject: flood\n\n").unwrap();
    for _ in 0..64 {
        file.write_all(&[b'y'; 1 << 20]).unwrap();
    }
    file.into_inner().unwrap().sync_all().unwrap();
    let args = ["sendmail", "ops@example.org"];
    if let Some((mib, code)) = peak_memory(&sb, &args, &input) {
        assert_eq!(code, 65);
        assert!(mib < 32, "{mib} MiB to refuse 64 MiB over a 1 MiB limit");
    }
    let input = std::fs::read(&input).unwrap();
    refused_quickly(&sb, &args, &input, 65, "limit of 1048576 bytes");
}

#[test]
fn line_breaks_in_envelope_arguments_are_refused() {
    let sb = unreachable(&[]);
    for args in [
        &["sendmail", "ops@example.org>\r\nRCPT TO:<evil@example.net"][..],
        &[
            "sendmail",
            "-f",
            "a@campus.example\nBcc: evil@example.net",
            "ops@example.org",
        ],
        &[
            "send",
            "--to",
            "ops@example.org",
            "--subject",
            "x\r\nBcc: evil@example.net",
        ],
    ] {
        refused_quickly(&sb, args, b"Subject: x\n\nx\n", 64, "line break");
    }
}

#[test]
fn config_writable_by_others_and_secrets_readable_by_others_are_refused() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    let config = sb.user_config();
    for mode in [0o664, 0o646] {
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(mode)).unwrap();
        sb.run(
            &["--wait", "send", "--to", "a@example.org", "--subject", "x"],
            b"x\n",
        )
        .code(78)
        .one_line_error(&format!("chmod go-w {}", config.display()));
    }
    // Readable by all is fine: the config holds no secret.
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let secret = sb.path("config/relayctl/secrets/uni");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o604)).unwrap();
    let run = sb
        .run(
            &["--wait", "send", "--to", "a@example.org", "--subject", "x"],
            b"x\n",
        )
        .code(77)
        .one_line_error(&format!("chmod 600 {}", secret.display()));
    assert!(!run.stderr.contains(PASSWORD));
}

/// A certificate from the trusted CA, for the right name, but expired: refused at the handshake,
/// before a greeting is read or a password is looked up.
#[test]
fn expired_certificate_is_refused() {
    if !as_root(Root::Postfix) {
        return;
    }
    let ca = relay();
    let sb = Sandbox::new();
    let dir = sb.path("expired");
    std::fs::create_dir(&dir).unwrap();
    let ca_dir = ca.ca_file.parent().unwrap();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    };
    std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n",
    )
    .unwrap();
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("serial"), "01\n").unwrap();
    std::fs::write(
        dir.join("ext"),
        "subjectAltName = DNS:localhost, IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "key.pem",
        "-subj",
        "/CN=localhost",
        "-out",
        "req.pem",
    ]);
    let (ca_cert, ca_key) = (ca_dir.join("ca.pem"), ca_dir.join("ca.key"));
    openssl(&[
        "ca",
        "-batch",
        "-config",
        "ca.cnf",
        "-cert",
        ca_cert.to_str().unwrap(),
        "-keyfile",
        ca_key.to_str().unwrap(),
        "-in",
        "req.pem",
        "-out",
        "cert.pem",
        "-notext",
        "-extfile",
        "ext",
        "-startdate",
        "20200101000000Z",
        "-enddate",
        "20200102000000Z",
    ]);

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new("openssl")
        .args([
            "s_server", "-quiet", "-cert", "cert.pem", "-key", "key.pem", "-accept",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "openssl s_server did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }

    let trace = sb.path("secret-was-read");
    let cmd = format!("sh -c 'touch {}; echo {PASSWORD}'", trace.display());
    let ca_file = ca.ca_file.display().to_string();
    let port = port.to_string();
    sb.run(
        &[
            "setup",
            "institutional",
            "--no-verify",
            "--name",
            "expired",
            "--host",
            "127.0.0.1",
            "--tls-name",
            "localhost",
            "--port",
            &port,
            "--tls",
            "tls",
            "--ca-file",
            &ca_file,
            "--user",
            USER,
            "--from",
            USER,
            "--password-command",
            &cmd,
        ],
        b"",
    )
    .ok();
    let _ = std::fs::remove_file(&trace);
    let m = marker("expired");
    sb.run(
        &["--wait", "send", "--to", "a@example.org", "--subject", &m],
        b"x\n",
    )
    .code(75)
    .one_line_error("certificate expired")
    .one_line_error("its administrator must renew it");
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        !trace.exists(),
        "the secret was read for an unverified relay"
    );
    assert!(!arrives_soon(&m));
}

/// Control characters a hostile relay puts in its replies: clear the screen, set the terminal's
/// title, ring the bell, a C1 CSI (red), DEL.
const ESCAPES: &str = "\x1b[2J\x1b]0;owned\x07\u{9b}31m\x7f";

/// Whether `text` has a control character other than the line break.
fn has_control(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n')
}

/// Every string in a JSON value.
fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                strings(v, out);
            }
        }
        _ => {}
    }
}

/// Issue 14, item 12: a relay's reply with terminal escape sequences was stored in the queue
/// state and printed raw by `mailq`. Every output and the state file must be free of them.
#[test]
fn relay_replies_with_terminal_escapes_are_stored_and_shown_without_them() {
    let server = Server::start(Script {
        greeting: reply(&format!("220 fault.test ESMTP {ESCAPES}greeting-end")),
        rcpt: vec![reply(&format!("451 4.3.0 {ESCAPES}rcpt-busy")).into()],
        ..Script::default()
    });
    let mut sb = faults::sandbox(server.port, "none", 5);
    sb.env("RELAYCTL_LOG", "stderr")
        .env("RELAYCTL_DNS_SERVER", "127.0.0.1:1");
    let mut outputs = Vec::new();
    let submit = sb
        .run(
            &["sendmail", "-v", "a@example.org"],
            b"Subject: s\n\nescapes\n",
        )
        .ok();
    assert!(submit.stderr.contains("rcpt-busy"), "{submit:#?}");
    outputs.push(("sendmail -v".to_string(), submit.stdout + &submit.stderr));

    let list = queue(&sb, "list");
    assert_eq!(list.len(), 1, "{list:#?}");
    let id = list[0]["id"].as_str().unwrap().to_string();
    for args in [
        vec!["queue", "list"],
        vec!["queue", "list", "--json"],
        vec!["queue", "show", &id],
        vec!["doctor"],
    ] {
        let run = sb.run(&args, b"");
        assert!(
            run.stdout.contains("-busy") || run.stdout.contains("greeting-end"),
            "{run:#?}"
        );
        outputs.push((args.join(" "), run.stdout + &run.stderr));
    }
    let mailq = sb.path("mailq");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_relayctl"), &mailq).unwrap();
    let out = sb.program(mailq.to_str().unwrap()).output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("rcpt-busy"), "{text}");
    outputs.push(("mailq".to_string(), text));
    for (what, text) in &outputs {
        assert!(
            !has_control(text),
            "{what} printed a control character: {text:?}"
        );
    }

    let state = std::fs::read(sb.path(&format!("spool/queue/{id}/state.json"))).unwrap();
    assert!(
        !state.iter().any(|&b| (b < 0x20 && b != b'\n') || b == 0x7f),
        "{}",
        String::from_utf8_lossy(&state)
    );
    let mut texts = Vec::new();
    strings(&serde_json::from_slice(&state).unwrap(), &mut texts);
    assert!(texts.iter().any(|t| t.contains("rcpt-busy")), "{texts:?}");
    for t in &texts {
        assert!(!has_control(t), "state.json holds {t:?}");
    }
}

/// Issue 14, item 13: `queue delete ../../outside/victim` deleted a directory outside the spool,
/// and `queue show` with such an ID wrote a `reason` file into it. Every command that takes an
/// ID refuses one that is not an ID (64) before touching any file.
#[test]
fn queue_ids_that_are_paths_are_refused_and_touch_nothing() {
    let sb = unreachable(&[]);
    sb.run(&["sendmail", "ops@example.org"], b"Subject: s\n\nqueued\n")
        .ok();
    let victim = sb.path("outside/victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::write(victim.join("data"), "keep").unwrap();
    let inside = sb.path("spool/x");
    std::fs::create_dir_all(&inside).unwrap();
    let snapshot = || -> Vec<String> {
        let mut names = Vec::new();
        for dir in [
            sb.path("outside"),
            victim.clone(),
            inside.clone(),
            sb.path("spool"),
        ] {
            for entry in std::fs::read_dir(&dir).unwrap() {
                names.push(entry.unwrap().path().display().to_string());
            }
        }
        names.sort();
        names
    };
    let before = snapshot();
    let messages = queued(&sb);
    assert_eq!(messages.len(), 1);
    for args in [
        ["queue", "delete", "../../outside/victim"],
        ["queue", "show", "../../outside/victim"],
        ["queue", "show", "../x"],
        ["queue", "delete", "../x"],
        ["queue", "hold", "../../outside/victim"],
        ["queue", "release", "../x"],
        ["queue", "retry", "../../outside/victim"],
        ["queue", "show", "0190ABCDEF0123456789"],
    ] {
        sb.run(&args, b"")
            .code(64)
            .one_line_error("20 lowercase hexadecimal digits");
        assert_eq!(snapshot(), before, "{args:?} changed files");
        assert_eq!(
            std::fs::read_to_string(victim.join("data")).unwrap(),
            "keep"
        );
        assert!(!victim.join("reason").exists() && !inside.join("reason").exists());
    }
    assert_eq!(queued(&sb), messages);
    assert_eq!(
        std::fs::read_dir(sb.path("spool/corrupt")).unwrap().count(),
        0
    );
}
