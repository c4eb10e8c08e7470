//! Messages go through the real relay and arrive as sent: `send` and its MIME (Bcc, attachments,
//! UTF-8 subjects and bodies), byte-exact bodies (leading dots, LF or CRLF, 8-bit), each way to
//! reach the relay (submission with STARTTLS and AUTH, implicit TLS on 465, a plain smarthost on
//! 25, opportunistic TLS, a client certificate instead of a password), the EHLO name, recipients
//! the relay refuses, a message over the relay's size, and a relay that never answers (the
//! scripted server of testkit/).

use testkit::smtp::{Act, Script, Server};

use crate::harness::{Root, Sandbox, USER, as_root, marker, relay, wait_for};

#[test]
fn send_through_submission_port_with_starttls_and_auth() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    let m = marker("send587");
    let run = sb.run(
        &["send", "--to", "ops@example.org", "--subject", &m],
        b"disk almost full\n",
    );
    run.ok();
    let got = wait_for(&m);
    assert_eq!(got.rcpt_to, ["<ops@example.org>"]);
    assert!(
        got.mail_from.starts_with(&format!("<{USER}>")),
        "{}",
        got.mail_from
    );
    let text = got.text();
    assert!(text.contains(&format!("Subject: {m}\r\n")), "{text}");
    assert!(text.contains(&format!("From: {USER}\r\n")), "{text}");
    assert!(text.contains("\r\nDate: "), "{text}");
    assert!(
        text.contains("with ESMTPSA"),
        "authenticated over TLS: {text}"
    );
    assert_eq!(got.body(), b"disk almost full\r\n");
}

#[test]
fn nothing_on_stdout_on_success() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    let m = marker("quiet");
    let run = sb
        .run(
            &["send", "--to", "ops@example.org", "--subject", &m],
            b"x\n",
        )
        .ok();
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "");
    wait_for(&m);
}

#[test]
fn bcc_goes_to_the_envelope_only() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    let m = marker("bcc");
    sb.run(
        &[
            "send",
            "--to",
            "ops@example.org",
            "--cc",
            "team@example.org",
            "--bcc",
            "audit@example.org",
            "--subject",
            &m,
        ],
        b"hello\n",
    )
    .ok();
    let got = wait_for(&m);
    let mut rcpts = got.rcpt_to.clone();
    rcpts.sort();
    assert_eq!(
        rcpts,
        [
            "<audit@example.org>",
            "<ops@example.org>",
            "<team@example.org>"
        ]
    );
    assert!(!got.text().contains("audit@"), "{}", got.text());
    assert!(got.text().contains("Cc: team@example.org\r\n"));
}

#[test]
fn attachments_become_mime_parts() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    let file = sb.path("report.csv");
    std::fs::write(&file, "a,b\n1,2\n").unwrap();
    let m = marker("attach");
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
    let text = wait_for(&m).text();
    assert!(text.contains("Content-Type: multipart/mixed"), "{text}");
    assert!(text.contains("filename=\"report.csv\""), "{text}");
    assert!(text.contains("Content-Type: text/csv"), "{text}");
}

/// Regression: a bare-LF message whose lines start with dots lost those dots at a Postfix relay
/// when sent as given. Every line must arrive intact, with CRLF endings and no extra blank line.
#[test]
fn lf_only_message_with_leading_dots_arrives_byte_identical() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    let m = marker("dots");
    let body = "line1\n.dotline\n..two dots\n.\nafter lone dot\n. space\nlast line\n";
    let message = format!("From: {USER}\nTo: ops@example.org\nSubject: {m}\n\n{body}");
    sb.run(&["sendmail", "-i", "ops@example.org"], message.as_bytes())
        .ok();
    let got = wait_for(&m);
    assert_eq!(
        String::from_utf8_lossy(got.body()),
        body.replace('\n', "\r\n"),
        "body must survive byte for byte (line endings canonicalised)"
    );
}

#[test]
fn crlf_message_without_final_newline_gets_no_extra_line() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    let m = marker("crlf");
    let message =
        format!("From: {USER}\r\nTo: ops@example.org\r\nSubject: {m}\r\n\r\nfirst\r\n\r\nthird");
    sb.run(&["sendmail", "ops@example.org"], message.as_bytes())
        .ok();
    assert_eq!(wait_for(&m).body(), b"first\r\n\r\nthird\r\n");
}

#[test]
fn eight_bit_utf8_body_arrives_unchanged_and_is_declared() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    let m = marker("utf8");
    let body = "Grüße aus Köln — 日本語のテキスト\nplain line\n";
    let message = format!(
        "From: {USER}\nTo: ops@example.org\nSubject: {m}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}"
    );
    let run = sb
        .run(&["-v", "sendmail", "ops@example.org"], message.as_bytes())
        .ok();
    assert!(run.stderr.contains("BODY=8BITMIME"), "{}", run.stderr);
    let got = wait_for(&m);
    assert_eq!(got.body(), body.replace('\n', "\r\n").as_bytes());
}

#[test]
fn send_encodes_a_utf8_subject_and_body() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("uni", &[]).ok();
    let m = marker("utf8send");
    sb.run(
        &[
            "send",
            "--to",
            "ops@example.org",
            "--subject",
            &format!("{m} Störung"),
        ],
        "Festplatte fast voll: 95 %\n".as_bytes(),
    )
    .ok();
    let got = wait_for(&m);
    let text = got.text();
    let subject = text.lines().find(|l| l.starts_with("Subject: ")).unwrap();
    assert!(
        subject.contains("=?utf-8?b?"),
        "encoded word expected: {subject}"
    );
    assert!(
        text.contains("Content-Type: text/plain; charset=utf-8"),
        "{text}"
    );
    assert!(
        !got.body().is_ascii() || text.contains("Content-Transfer-Encoding: "),
        "{text}"
    );
}

#[test]
fn implicit_tls_on_465() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let ca = relay().ca_file.to_str().unwrap().to_string();
    sb.run(
        &[
            "setup",
            "institutional",
            "--name",
            "smtps",
            "--host",
            "localhost",
            "--tls",
            "tls",
            "--user",
            USER,
            "--password-stdin",
            "--secret-store",
            "file",
            "--ca-file",
            &ca,
        ],
        crate::harness::PASSWORD.as_bytes(),
    )
    .ok();
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    assert!(
        config.contains("port = 465"),
        "--tls tls picks port 465: {config}"
    );
    let m = marker("smtps");
    sb.run(
        &["send", "--to", "ops@example.org", "--subject", &m],
        b"over 465\n",
    )
    .ok();
    let text = wait_for(&m).text();
    assert!(text.contains("using TLS"), "{text}");
}

#[test]
fn smarthost_on_port_25_without_tls_or_auth() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_smarthost(&[
        "--name",
        "campus",
        "--tls",
        "none",
        "--from",
        "vm1@campus.example",
    ])
    .ok();
    let m = marker("smarthost");
    sb.run(
        &["send", "--to", "ops@example.org", "--subject", &m],
        b"plain relay\n",
    )
    .ok();
    let got = wait_for(&m);
    assert!(got.mail_from.starts_with("<vm1@campus.example>"));
    assert!(!got.text().contains("using TLS"), "{}", got.text());
}

#[test]
fn opportunistic_tls_is_used_when_offered_and_skipped_when_not() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let ca = relay().ca_file.to_str().unwrap().to_string();
    for (name, port) in [("offered", "2587"), ("absent", "25")] {
        sb.setup_smarthost(&[
            "--name",
            name,
            "--port",
            port,
            "--ca-file",
            &ca,
            "--from",
            "vm1@campus.example",
        ])
        .ok();
    }
    let m1 = marker("opp-offered");
    sb.run(
        &[
            "--profile",
            "offered",
            "send",
            "--to",
            "a@example.org",
            "--subject",
            &m1,
        ],
        b"x\n",
    )
    .ok();
    assert!(wait_for(&m1).text().contains("using TLS"));
    let m2 = marker("opp-absent");
    sb.run(
        &[
            "--profile",
            "absent",
            "send",
            "--to",
            "a@example.org",
            "--subject",
            &m2,
        ],
        b"x\n",
    )
    .ok();
    assert!(!wait_for(&m2).text().contains("using TLS"));
}

#[test]
fn client_certificate_instead_of_a_password() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let r = relay();
    let ca = r.ca_file.to_str().unwrap().to_string();
    sb.setup_smarthost(&[
        "--name",
        "cert",
        "--port",
        "2465",
        "--tls",
        "tls",
        "--ca-file",
        &ca,
        "--client-cert",
        r.client_cert.to_str().unwrap(),
        "--client-key",
        r.client_key.to_str().unwrap(),
        "--from",
        "vm1@campus.example",
    ])
    .ok();
    let m = marker("ccert");
    sb.run(
        &["--wait", "send", "--to", "a@example.org", "--subject", &m],
        b"x\n",
    )
    .ok();
    assert!(wait_for(&m).text().contains("using TLS"));

    // The same relay without the certificate refuses the handshake.
    sb.setup_smarthost(&[
        "--name",
        "nocert",
        "--port",
        "2465",
        "--tls",
        "tls",
        "--ca-file",
        &ca,
        "--from",
        "vm1@campus.example",
    ])
    .ok();
    sb.run(
        &[
            "--wait",
            "--profile",
            "nocert",
            "send",
            "--to",
            "a@example.org",
            "--subject",
            "x",
        ],
        b"x\n",
    )
    .code(75);
}

#[test]
fn oversized_message_is_refused_before_connecting() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_submission("small", &["--max-message-size", "1K"])
        .ok();
    let big = vec![b'a'; 4000];
    sb.run(&["send", "--to", "a@example.org", "--subject", "big"], &big)
        .code(65)
        .one_line_error("1024");
}

#[test]
fn rejected_recipients_are_named_and_the_others_still_get_the_message() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_smarthost(&["--tls", "none", "--from", "vm1@campus.example"])
        .ok();
    let m = marker("partial");
    sb.run(
        &[
            "--wait",
            "send",
            "--to",
            "ops@example.org",
            "rejected@example.org",
            "--subject",
            &m,
        ],
        b"x\n",
    )
    .code(67)
    .one_line_error("<rejected@example.org>: 550 5.1.1");
    assert_eq!(wait_for(&m).rcpt_to, ["<ops@example.org>"]);

    // A temporary refusal is exit 75, so that callers know to retry.
    sb.run(
        &[
            "--wait",
            "send",
            "--to",
            "later@example.org",
            "--subject",
            "x",
        ],
        b"x\n",
    )
    .code(75)
    .one_line_error("450 4.2.0");
}

#[test]
fn ehlo_name_is_configurable() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    sb.setup_smarthost(&[
        "--tls",
        "none",
        "--from",
        "vm1@campus.example",
        "--ehlo-name",
        "vm1.cloud.campus.example",
    ])
    .ok();
    let m = marker("ehlo");
    sb.run(
        &["send", "--to", "ops@example.org", "--subject", &m],
        b"x\n",
    )
    .ok();
    let text = wait_for(&m).text();
    assert!(
        text.contains("Received: from vm1.cloud.campus.example "),
        "{text}"
    );
}

/// Fault injection: a relay that accepts the connection and then says nothing. The profile's
/// timeout bounds the wait and the failure is temporary.
#[test]
fn silent_relay_times_out_as_a_temporary_failure() {
    let server = Server::start(Script {
        greeting: Act::Silence,
        ..Script::default()
    });
    let port = server.port.to_string();
    let sb = Sandbox::new();
    sb.setup_smarthost(&[
        "--port",
        &port,
        "--tls",
        "none",
        "--from",
        "a@campus.example",
        "--timeout",
        "1",
    ])
    .ok();
    let started = std::time::Instant::now();
    sb.run(
        &["--wait", "send", "--to", "a@example.org", "--subject", "x"],
        b"x\n",
    )
    .code(75)
    .one_line_error("timed out");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}
