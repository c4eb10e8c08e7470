use super::*;

/// Takes every message and records it; knows one login (`grafana` / `s3cret`) and refuses the
/// sender `ceo@corp.example`. With `closed`, nobody may submit (a client outside `allow`).
#[derive(Default)]
struct Recorder {
    messages: Vec<(Transaction, Vec<u8>)>,
    logins: Vec<String>,
    closed: bool,
}

impl Backend for Recorder {
    type Pending = (Transaction, Vec<u8>);

    fn login(&mut self, c: &Credentials) -> Result<(), Reply> {
        if c.user == "grafana" && &c.password[..] == b"s3cret" {
            self.logins.push(c.user.clone());
            return Ok(());
        }
        Err(Reply::new(535, "5.7.8 Error: authentication failed"))
    }

    fn access(&self) -> Result<(), Reply> {
        if self.closed {
            return Err(Reply::new(554, "5.7.1 Relay access denied"));
        }
        Ok(())
    }

    fn sender(&mut self, sender: Option<&str>) -> Result<(), Reply> {
        if self.closed {
            return Err(Reply::new(530, "5.7.0 Authentication required"));
        }
        if sender == Some("ceo@corp.example") {
            return Err(Reply::new(553, "5.7.1 not yours"));
        }
        Ok(())
    }

    fn recipient(&mut self, address: &str) -> Result<(), Reply> {
        if address.starts_with("refused") {
            return Err(Reply::new(550, "5.1.1 unknown"));
        }
        Ok(())
    }

    fn receive(
        &mut self,
        transaction: &Transaction,
        data: &mut dyn BufRead,
    ) -> Result<Self::Pending, Reply> {
        let mut text = Vec::new();
        data.read_to_end(&mut text)
            .map_err(|e| Reply::new(451, e.to_string()))?;
        Ok((transaction.clone(), text))
    }

    fn commit(&mut self, pending: Self::Pending) -> Reply {
        self.messages.push(pending);
        Reply::new(250, "2.0.0 Ok: queued")
    }
}

fn settings() -> Settings {
    Settings {
        hostname: "host.test".into(),
        size_limit: 1000,
        max_recipients: 3,
        max_errors: 5,
        max_commands: 100,
        starttls: false,
        auth: false,
        strict_pipelining: false,
        scratch: std::env::temp_dir(),
        idle: None,
    }
}

fn dialogue_with(settings: &Settings, input: &[u8]) -> (String, Recorder, End) {
    let mut backend = Recorder::default();
    let mut out = Vec::new();
    let end = serve(
        &mut BufReader::new(input),
        &mut out,
        settings,
        &mut backend,
        true,
    )
    .unwrap();
    (String::from_utf8(out).unwrap(), backend, end)
}

fn dialogue(input: &[u8]) -> (String, Recorder) {
    let (out, backend, _) = dialogue_with(&settings(), input);
    (out, backend)
}

fn codes(replies: &str) -> Vec<&str> {
    replies
        .lines()
        .filter(|l| l.as_bytes().get(3) != Some(&b'-'))
        .map(|l| &l[..3])
        .collect()
}

#[test]
fn a_transaction() {
    let (out, b) = dialogue(
        b"EHLO c\r\nMAIL FROM:<a@x> SIZE=10 BODY=8BITMIME\r\nRCPT TO:<b@y>\r\nRCPT TO:<refused@y>\r\nDATA\r\nSubject: s\r\n\r\n..dot\r\n.\r\nQUIT\r\n",
    );
    assert_eq!(
        codes(&out),
        ["220", "250", "250", "250", "550", "354", "250", "221"],
        "{out}"
    );
    for keyword in ["PIPELINING", "CHUNKING", "DSN", "SMTPUTF8", "SIZE 1000"] {
        assert!(
            out.contains(&format!("250-{keyword}\r\n"))
                || out.contains(&format!("250 {keyword}\r\n")),
            "{keyword}: {out}"
        );
    }
    assert!(!out.contains("STARTTLS") && !out.contains("AUTH"), "{out}");
    assert_eq!(b.messages.len(), 1);
    let (tx, text) = &b.messages[0];
    assert_eq!(tx.sender, Some(Some("a@x".into())));
    assert_eq!(tx.recipients, ["b@y"]);
    assert_eq!(text, b"Subject: s\r\n\r\n.dot\r\n");
}

/// Review finding 6: the smuggled second message is never taken, and neither is the first.
#[test]
fn smuggling_with_a_bare_lf_dot_queues_nothing() {
    let (out, b) = dialogue(
        b"HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nSubject: s\r\n\r\nhi\n.\nMAIL FROM:<a@x>\nRCPT TO:<victim@y>\nDATA\nevil\r\n.\r\nQUIT\r\n",
    );
    assert!(b.messages.is_empty(), "{:?}", b.messages);
    assert_eq!(
        codes(&out),
        ["220", "250", "250", "250", "354", "550", "221"],
        "{out}"
    );
}

#[test]
fn a_bare_lf_command_ends_the_session() {
    let (out, b) = dialogue(b"HELO c\r\nMAIL FROM:<a@x>\nRCPT TO:<b@y>\r\n");
    assert!(b.messages.is_empty());
    assert_eq!(codes(&out), ["220", "250", "550"], "{out}");
}

#[test]
fn order_syntax_and_parameters() {
    let (out, _) = dialogue(
        b"RCPT TO:<b@y>\r\nDATA\r\nMAIL FROM:<a b@x>\r\nMAIL FROM:<a@x> X-ENVID=x\r\nMAIL FROM:<> SIZE=5000\r\nMAIL FROM:<>\r\nMAIL FROM:<>\r\nRCPT TO:<b@y> NOTIFY=NEVER\r\nDATA\r\nVRFY x\r\nQUIT\r\n",
    );
    assert_eq!(
        codes(&out),
        ["220", "503", "503", "501", "555", "552", "250", "421"],
        "the fifth error ends the session: {out}"
    );
    let (out, _) = dialogue(
        b"MAIL FROM:<> SIZE=5000\r\nMAIL FROM:<>\r\nMAIL FROM:<>\r\nRCPT TO:<b@y> NOTIFY=NEVER\r\nDATA\r\nVRFY x\r\nNOOP\r\nRSET\r\nQUIT\r\n",
    );
    assert_eq!(
        codes(&out),
        ["220", "552", "250", "503", "250", "354"],
        "{out}"
    );
}

#[test]
fn recipients_are_limited() {
    let mut input = b"HELO c\r\nMAIL FROM:<a@x>\r\n".to_vec();
    for i in 0..5 {
        input.extend_from_slice(format!("RCPT TO:<r{i}@y>\r\n").as_bytes());
    }
    let (out, _) = dialogue(&input);
    assert_eq!(
        codes(&out),
        ["220", "250", "250", "250", "250", "250", "452", "452"]
    );
}

#[test]
fn the_backend_decides_about_the_sender() {
    let (out, b) = dialogue(
        b"EHLO c\r\nMAIL FROM:<ceo@corp.example>\r\nRCPT TO:<b@y>\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nQUIT\r\n",
    );
    assert_eq!(
        codes(&out),
        ["220", "250", "553", "503", "250", "250", "221"],
        "{out}"
    );
    assert!(b.messages.is_empty());
}

#[test]
fn dsn_parameters_reach_the_transaction() {
    let (out, b) = dialogue(
        b"EHLO c\r\nMAIL FROM:<a@x> RET=HDRS ENVID=job+2042\r\nRCPT TO:<b@y> NOTIFY=FAILURE ORCPT=rfc822;b@y\r\nRCPT TO:<c@y> NOTIFY=NEVER\r\nRCPT TO:<d@y> NOTIFY=FAILURE\r\nDATA\r\nx\r\n.\r\nQUIT\r\n",
    );
    assert_eq!(
        codes(&out),
        [
            "220", "250", "250", "250", "455", "250", "354", "250", "221"
        ],
        "{out}"
    );
    let (tx, _) = &b.messages[0];
    assert_eq!(tx.recipients, ["b@y", "d@y"]);
    assert_eq!(tx.dsn.mail_parameters(), ["RET=HDRS", "ENVID=job+2042"]);
    assert_eq!(tx.dsn.rcpt_parameters(), ["NOTIFY=FAILURE"]);
}

#[test]
fn bdat_chunks_make_a_message() {
    let (out, b) = dialogue(
        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 12\r\nSubject: s\r\nBDAT 8 LAST\r\n\r\nbody\r\nQUIT\r\n",
    );
    assert_eq!(
        codes(&out),
        ["220", "250", "250", "250", "250", "250", "221"],
        "{out}"
    );
    assert_eq!(b.messages.len(), 1);
    assert_eq!(b.messages[0].1, b"Subject: s\r\n\r\nbody\r\n");
    // A second transaction on the same connection, with BDAT 0 LAST closing it.
    let (out, b) = dialogue(
        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 3\r\nx\r\nBDAT 0 LAST\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 3 LAST\r\ny\r\nQUIT\r\n",
    );
    assert_eq!(
        codes(&out),
        [
            "220", "250", "250", "250", "250", "250", "250", "250", "250", "221"
        ],
        "{out}"
    );
    let texts: Vec<&[u8]> = b.messages.iter().map(|m| &m.1[..]).collect();
    assert_eq!(texts, [&b"x\r\n"[..], b"y\r\n"]);
}

#[test]
fn bdat_refusals_keep_the_dialogue_in_step() {
    // Without a transaction, over the size limit, with a bare LF, and malformed.
    let (out, b) = dialogue(
        b"EHLO c\r\nBDAT 6 LAST\r\nQUIT\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 1001\r\n",
    );
    assert_eq!(codes(&out), ["220", "250", "503", "250", "250"], "{out}");
    assert!(b.messages.is_empty());
    let mut big = b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 1001\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', 1001));
    big.extend_from_slice(b"BDAT 2 LAST\r\nyyNOOP\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 8 LAST\r\na\nb\r\n.\r\nNOOP\r\nBDAT x\r\nNOOP\r\n");
    let (out, b, end) = dialogue_with(&settings(), &big);
    assert_eq!(
        codes(&out),
        [
            "220", "250", "250", "250", "552", "503", "250", "250", "250", "550", "250", "501"
        ],
        "{out}"
    );
    assert!(b.messages.is_empty());
    assert_eq!(end, End::Dropped("malformed BDAT"));
    let (out, _) =
        dialogue(b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 4\r\nab\r\nDATA\r\nQUIT\r\n");
    assert_eq!(
        codes(&out),
        ["220", "250", "250", "250", "250", "503", "221"],
        "{out}"
    );
}

fn with_auth() -> Settings {
    Settings {
        auth: true,
        starttls: true,
        ..settings()
    }
}

#[test]
fn auth_plain_and_login() {
    let s = with_auth();
    let (out, b, _) = dialogue_with(
        &s,
        b"EHLO c\r\nAUTH PLAIN AGdyYWZhbmEAczNjcmV0\r\nAUTH PLAIN AGdyYWZhbmEAczNjcmV0\r\nQUIT\r\n",
    );
    assert!(
        out.contains("250-AUTH PLAIN LOGIN\r\n") && out.contains("250-STARTTLS\r\n"),
        "{out}"
    );
    assert_eq!(codes(&out), ["220", "250", "235", "503", "221"], "{out}");
    assert_eq!(b.logins, ["grafana"]);
    // PLAIN without an initial response; LOGIN in two steps; a wrong password; a cancel.
    let (out, b, _) = dialogue_with(
        &s,
        b"EHLO c\r\nAUTH PLAIN\r\nAGdyYWZhbmEAd3Jvbmc=\r\nAUTH LOGIN\r\nZ3JhZmFuYQ==\r\n*\r\nAUTH LOGIN Z3JhZmFuYQ==\r\nczNjcmV0\r\nQUIT\r\n",
    );
    assert_eq!(
        codes(&out),
        [
            "220", "250", "334", "535", "334", "334", "501", "334", "235", "221"
        ],
        "{out}"
    );
    assert!(
        out.contains("334 VXNlcm5hbWU6\r\n") && out.contains("334 UGFzc3dvcmQ6\r\n"),
        "{out}"
    );
    assert_eq!(b.logins, ["grafana"]);
    // Not offered: refused without looking at the credentials.
    let (out, b) = dialogue(b"EHLO c\r\nAUTH PLAIN AGdyYWZhbmEAczNjcmV0\r\nQUIT\r\n");
    assert_eq!(codes(&out), ["220", "250", "503", "221"], "{out}");
    assert!(b.logins.is_empty());
    let (out, _, _) = dialogue_with(&s, b"EHLO c\r\nAUTH CRAM-MD5\r\nMAIL FROM:<a@x>\r\nAUTH PLAIN AGdyYWZhbmEAczNjcmV0\r\nQUIT\r\n");
    assert_eq!(
        codes(&out),
        ["220", "250", "504", "250", "503", "221"],
        "{out}"
    );
}

#[test]
fn starttls_hands_the_connection_back() {
    let (out, _, end) = dialogue_with(&with_auth(), b"EHLO c\r\nSTARTTLS\r\n");
    assert_eq!(codes(&out), ["220", "250", "220"], "{out}");
    assert_eq!(end, End::StartTls);
    let (out, _, end) = dialogue_with(&settings(), b"EHLO c\r\nSTARTTLS\r\nQUIT\r\n");
    assert_eq!(codes(&out), ["220", "250", "502", "221"], "{out}");
    assert_eq!(end, End::Quit);
}

#[test]
fn strict_pipelining_refuses_talking_ahead() {
    let strict = Settings {
        strict_pipelining: true,
        ..with_auth()
    };
    for input in [
        &b"EHLO c\r\nMAIL FROM:<a@x>\r\n"[..],
        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nSubject: s\r\n\r\nx\r\n.\r\n",
        b"STARTTLS\r\nEHLO injected\r\n",
    ] {
        let (out, b, end) = dialogue_with(&strict, input);
        assert_eq!(end, End::Dropped("improper command pipelining"), "{out}");
        assert!(
            out.ends_with("improper command pipelining after EHLO\r\n")
                || out.contains("554 5.5.0"),
            "{out}"
        );
        assert!(b.messages.is_empty());
    }
    // MAIL, RCPT and BDAT ... LAST may go in one flight.
    let (out, b, end) = dialogue_with(
        &strict,
        b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 3 LAST\r\nx\r\nQUIT\r\n",
    );
    assert_eq!(codes(&out), ["220", "250", "250", "250", "221"], "{out}");
    assert_eq!((b.messages.len(), end), (1, End::Quit));
}

/// A client that may not submit hears `554 5.7.1` at RCPT whether or not its MAIL was taken,
/// and nothing it sends is taken.
#[test]
fn rcpt_tells_a_client_that_may_not_submit_so() {
    let mut backend = Recorder {
        closed: true,
        ..Recorder::default()
    };
    let mut out = Vec::new();
    let input = b"EHLO c\r\nRCPT TO:<b@y>\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nQUIT\r\n";
    let end = serve(
        &mut BufReader::new(&input[..]),
        &mut out,
        &settings(),
        &mut backend,
        true,
    )
    .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_eq!(
        codes(&out),
        ["220", "250", "554", "530", "554", "503", "221"],
        "{out}"
    );
    assert_eq!(end, End::Quit);
    assert!(backend.messages.is_empty());
}

#[test]
fn commands_per_session_are_limited() {
    let s = Settings {
        max_commands: 3,
        ..settings()
    };
    let (out, _, end) = dialogue_with(&s, b"NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n");
    assert_eq!(codes(&out), ["220", "250", "250", "250", "421"], "{out}");
    assert_eq!(end, End::Dropped("too many commands"));
}
