//! The client against scripted SMTP servers on 127.0.0.1.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::*;
use crate::relay::sasl;

const TIMEOUT: Duration = Duration::from_secs(5);

/// Records the dialogue as `C: `, `S: ` and `N: ` lines.
#[derive(Default)]
struct Recorder(RefCell<Vec<String>>);

impl Observer for Recorder {
    fn client(&self, line: &str) {
        self.0.borrow_mut().push(format!("C: {line}"));
    }
    fn server(&self, line: &str) {
        self.0.borrow_mut().push(format!("S: {line}"));
    }
    fn note(&self, text: &str) {
        self.0.borrow_mut().push(format!("N: {text}"));
    }
}

impl Recorder {
    fn lines(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
}

/// The server end of a test connection.
struct Peer {
    stream: TcpStream,
    buf: Vec<u8>,
    /// How many reads were made.
    reads: usize,
}

impl Peer {
    fn send(&mut self, text: &str) {
        self.stream.write_all(text.as_bytes()).unwrap();
    }

    fn fill(&mut self) -> usize {
        let mut chunk = vec![0u8; 256 * 1024];
        let n = self.stream.read(&mut chunk).unwrap();
        self.buf.extend_from_slice(&chunk[..n]);
        self.reads += 1;
        n
    }

    /// Everything up to and including `end`.
    fn until(&mut self, end: &[u8]) -> Vec<u8> {
        let mut from = 0;
        loop {
            if let Some(i) = self.buf[from..].windows(end.len()).position(|w| w == end) {
                let rest = self.buf.split_off(from + i + end.len());
                return std::mem::replace(&mut self.buf, rest);
            }
            from = self.buf.len().saturating_sub(end.len() - 1);
            assert!(self.fill() > 0, "client closed the connection");
        }
    }

    fn line(&mut self) -> String {
        let mut line = String::from_utf8(self.until(b"\r\n")).unwrap();
        line.truncate(line.len() - 2);
        line
    }

    /// Greets, answers EHLO with `keywords`.
    fn hello(&mut self, keywords: &[&str]) {
        self.send("220 mx.test ESMTP\r\n");
        let ehlo = self.line();
        assert_eq!(ehlo, "EHLO client.test");
        let mut reply = String::new();
        let mut lines = vec!["mx.test Hello"];
        lines.extend_from_slice(keywords);
        for (i, line) in lines.iter().enumerate() {
            let sep = if i + 1 == lines.len() { ' ' } else { '-' };
            reply.push_str(&format!("250{sep}{line}\r\n"));
        }
        self.send(&reply);
    }

    /// Reads one command, checks it, and sends `reply` (with CRLF added).
    fn exchange(&mut self, expected: &str, reply: &str) {
        assert_eq!(self.line(), expected);
        self.send(&format!("{reply}\r\n"));
    }
}

fn server(script: impl FnOnce(Peer) + Send + 'static) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        script(Peer {
            stream,
            buf: Vec::new(),
            reads: 0,
        });
    });
    (port, handle)
}

fn connect(port: u16, observer: &dyn Observer) -> Connection {
    Connection::connect("127.0.0.1", port, TIMEOUT, None, observer).unwrap()
}

fn open(port: u16, observer: &dyn Observer) -> Connection {
    let mut conn = connect(port, observer);
    conn.ehlo("client.test", observer).unwrap();
    conn
}

fn rcpts(list: &[&str]) -> Vec<(String, Vec<String>)> {
    list.iter().map(|r| (r.to_string(), Vec::new())).collect()
}

#[test]
fn multiline_replies_and_extensions() {
    let (port, server) = server(|mut p| {
        p.send("220-mx.test ESMTP\r\n220-second line\r\n220 third\r\n");
        assert_eq!(p.line(), "EHLO client.test");
        p.send(
            "250-mx.test Hello client\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n\
             250-AUTH PLAIN LOGIN\r\n250-AUTH=LOGIN\r\n250-DSN\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
        );
        p.exchange("QUIT", "221 2.0.0 Bye");
    });
    let rec = Recorder::default();
    let mut conn = connect(port, &rec);
    let ext = conn.ehlo("client.test", &rec).unwrap();
    assert_eq!(ext.server_name(), "mx.test");
    for keyword in ["PIPELINING", "DSN", "8BITMIME", "smtputf8", "AUTH", "SIZE"] {
        assert!(ext.has(keyword), "{keyword}");
    }
    assert!(!ext.has("STARTTLS"));
    assert_eq!(ext.size_limit(), Some(10_240_000));
    assert_eq!(ext.auth_mechanisms(), ["PLAIN", "LOGIN"]);
    assert_eq!(
        conn.extensions().keywords(),
        ["PIPELINING", "SIZE", "AUTH", "DSN", "8BITMIME", "SMTPUTF8"]
    );
    assert!(!conn.is_encrypted());
    let quit = conn.quit(&rec).unwrap();
    assert_eq!(quit.text(), "221 2.0.0 Bye");
    server.join().unwrap();
    let lines = rec.lines();
    assert!(lines[0].starts_with("N: connected to 127.0.0.1:"));
    assert_eq!(
        lines[1..5],
        [
            "S: 220-mx.test ESMTP",
            "S: 220-second line",
            "S: 220 third",
            "C: EHLO client.test"
        ]
    );
    assert_eq!(lines.last().unwrap(), "S: 221 2.0.0 Bye");
}

#[test]
fn helo_fallback() {
    let (port, server) = server(|mut p| {
        p.send("220 old.test SMTP\r\n");
        p.exchange(
            "EHLO client.test",
            "502 5.5.2 Error: command not recognized",
        );
        p.exchange("HELO client.test", "250 old.test");
    });
    let rec = Recorder::default();
    let mut conn = connect(port, &rec);
    let ext = conn.ehlo("client.test", &rec).unwrap();
    assert_eq!(ext.server_name(), "old.test");
    assert!(ext.keywords().is_empty());
    server.join().unwrap();
}

#[test]
fn pipelined_commands_go_out_in_one_write() {
    let (port, server) = server(|mut p| {
        p.hello(&["PIPELINING", "SIZE 1000000", "DSN"]);
        let reads = p.reads;
        // Nothing is answered before all four commands are in.
        let batch = String::from_utf8(p.until(b"DATA\r\n")).unwrap();
        assert_eq!(
            p.reads - reads,
            1,
            "the commands came in more than one read"
        );
        assert_eq!(
            batch,
            "MAIL FROM:<me@client.test> SIZE=7 RET=HDRS\r\n\
             RCPT TO:<a@x.test> NOTIFY=FAILURE\r\n\
             RCPT TO:<b@x.test>\r\n\
             DATA\r\n"
        );
        p.send(
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550-5.1.1 <b@x.test>: Recipient address rejected\r\n\
             550 5.1.1 User unknown\r\n354 End data with <CR><LF>.<CR><LF>\r\n",
        );
        let data = p.until(b"\r\n.\r\n");
        assert_eq!(data, b"Hello\r\n.\r\n");
        p.send("250 2.0.0 Ok: queued as ABC\r\n");
        p.exchange("QUIT", "221 Bye");
    });
    let rec = Recorder::default();
    let mut conn = open(port, &rec);
    let recipients = vec![
        ("a@x.test".to_string(), vec!["NOTIFY=FAILURE".to_string()]),
        ("b@x.test".to_string(), vec![]),
    ];
    let params = ["SIZE=7".to_string(), "RET=HDRS".to_string()];
    let result = conn
        .transaction(
            Some("me@client.test"),
            &params,
            &recipients,
            &mut &b"Hello"[..],
            &rec,
        )
        .unwrap();
    assert_eq!(result.recipients.len(), 2);
    assert_eq!(result.recipients[0].0, "a@x.test");
    assert_eq!(result.recipients[0].1.as_ref().unwrap().code, 250);
    let refused = result.recipients[1].1.as_ref().unwrap_err();
    assert_eq!(
        refused.text(),
        "550 5.1.1 <b@x.test>: Recipient address rejected 5.1.1 User unknown"
    );
    assert!(refused.is_permanent());
    assert_eq!(result.accepted(), 1);
    let data = result.data.unwrap().unwrap();
    assert_eq!(data.text(), "250 2.0.0 Ok: queued as ABC");
    conn.quit(&rec).unwrap();
    server.join().unwrap();
    let lines = rec.lines();
    assert!(lines.contains(&"N: message sent (7 bytes)".to_string()));
    assert!(lines.contains(&"C: DATA".to_string()));
}

#[test]
fn without_pipelining_command_by_command() {
    let (port, server) = server(|mut p| {
        p.hello(&["SIZE"]);
        p.exchange("MAIL FROM:<>", "250 Ok");
        // The client waits for each reply: nothing more has arrived yet.
        p.exchange("RCPT TO:<a@x.test>", "450 4.2.0 Mailbox busy");
        p.exchange("RCPT TO:<b@x.test>", "251 User not local; will forward");
        assert!(p.buf.is_empty());
        p.exchange("DATA", "354 go ahead");
        assert_eq!(p.until(b"\r\n.\r\n"), b"x\r\n.\r\n");
        p.send("451 4.3.0 Try later\r\n");
    });
    let rec = Recorder::default();
    let mut conn = open(port, &rec);
    let result = conn
        .transaction(
            None,
            &[],
            &rcpts(&["a@x.test", "b@x.test"]),
            &mut &b"x"[..],
            &rec,
        )
        .unwrap();
    assert!(result.recipients[0].1.as_ref().unwrap_err().is_transient());
    assert_eq!(result.recipients[1].1.as_ref().unwrap().code, 251);
    assert_eq!(result.data.unwrap().unwrap_err().code, 451);
    assert!(!conn.is_broken());
    server.join().unwrap();
}

#[test]
fn no_recipient_accepted_means_no_message() {
    let (port, server) = server(|mut p| {
        p.hello(&["PIPELINING"]);
        // A server that answers DATA with 354 even though no recipient was accepted.
        assert_eq!(
            String::from_utf8(p.until(b"DATA\r\n")).unwrap(),
            "MAIL FROM:<me@x.test>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n"
        );
        p.send("250 Ok\r\n550 no a\r\n550 no b\r\n354 go on anyway\r\n");
        p.exchange(".", "554 5.5.1 Error: no valid recipients");
        p.exchange("RSET", "250 2.0.0 Ok");
        // The RFC 2920 way: DATA refused.
        p.until(b"DATA\r\n");
        p.send("250 Ok\r\n450 later\r\n554 5.5.1 Error: no valid recipients\r\n");
        p.exchange("RSET", "250 2.0.0 Ok");
        // The connection is still good for a real transaction.
        p.until(b"DATA\r\n");
        p.send("250 Ok\r\n250 Ok\r\n354 go\r\n");
        assert_eq!(p.until(b"\r\n.\r\n"), b"body\r\n.\r\n");
        p.send("250 queued\r\n");
    });
    let rec = Recorder::default();
    let mut conn = open(port, &rec);
    let mut unread = Counting::new(b"body".to_vec());
    let first = conn
        .transaction(
            Some("me@x.test"),
            &[],
            &rcpts(&["a@x.test", "b@x.test"]),
            &mut unread,
            &rec,
        )
        .unwrap();
    assert_eq!(first.data, None);
    assert_eq!(first.accepted(), 0);
    assert_eq!(
        unread.consumed.load(Ordering::SeqCst),
        0,
        "message was read"
    );
    assert!(!conn.is_broken());
    let second = conn
        .transaction(
            Some("me@x.test"),
            &[],
            &rcpts(&["a@x.test"]),
            &mut &b"body"[..],
            &rec,
        )
        .unwrap();
    assert_eq!(second.data, None);
    assert!(second.recipients[0].1.as_ref().unwrap_err().is_transient());
    let third = conn
        .transaction(
            Some("me@x.test"),
            &[],
            &rcpts(&["a@x.test"]),
            &mut &b"body"[..],
            &rec,
        )
        .unwrap();
    assert_eq!(third.data.unwrap().unwrap().text(), "250 queued");
    server.join().unwrap();
}

#[test]
fn refused_sender_leaves_the_connection_usable() {
    let (port, server) = server(|mut p| {
        p.hello(&["PIPELINING"]);
        p.until(b"DATA\r\n");
        p.send(
            "553 5.7.1 <me@x.test>: Sender address rejected\r\n503 5.5.1 need MAIL\r\n\
             503 5.5.1 need MAIL\r\n",
        );
        p.exchange("RSET", "250 Ok");
        p.exchange("NOOP", "250 Ok");
        // And without pipelining, after a new EHLO.
        p.exchange("EHLO client.test", "250 mx.test");
        p.exchange("MAIL FROM:<me@x.test>", "451 4.3.0 later");
        p.exchange("RSET", "250 Ok");
    });
    let rec = Recorder::default();
    let mut conn = open(port, &rec);
    let err = conn
        .transaction(
            Some("me@x.test"),
            &[],
            &rcpts(&["a@x.test"]),
            &mut &b"x"[..],
            &rec,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "MAIL FROM: 553 5.7.1 <me@x.test>: Sender address rejected"
    );
    assert_eq!(err.stage(), "MAIL FROM");
    assert!(!conn.is_broken());
    conn.noop(&rec).unwrap();
    conn.ehlo("client.test", &rec).unwrap();
    let err = conn
        .transaction(
            Some("me@x.test"),
            &[],
            &rcpts(&["a@x.test"]),
            &mut &b"x"[..],
            &rec,
        )
        .unwrap_err();
    assert!(err.reply().unwrap().is_transient());
    assert!(!conn.is_broken());
    server.join().unwrap();
}

#[test]
fn reply_421_ends_the_connection() {
    let (port, server) = server(|mut p| {
        p.hello(&["PIPELINING"]);
        p.until(b"DATA\r\n");
        p.send("250 Ok\r\n421 4.4.2 mx.test Error: timeout exceeded\r\n");
    });
    let mut conn = open(port, &Silent);
    let err = conn
        .transaction(
            None,
            &[],
            &rcpts(&["a@x.test", "b@x.test"]),
            &mut &b"x"[..],
            &Silent,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "RCPT TO: 421 4.4.2 mx.test Error: timeout exceeded"
    );
    assert!(conn.is_broken());
    server.join().unwrap();
}

/// A reader that hands out one byte at a time.
struct OneByte<'a>(&'a [u8]);

impl Read for OneByte<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((&b, rest)), Some(slot)) => {
                *slot = b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn dot_stuffing_across_reads() {
    let message = b".start\r\n..two\r\nmid.dle\r\n.\r\n\r\n.x\r\nend.";
    let (port, server) = server(|mut p| {
        p.hello(&[]);
        p.exchange("MAIL FROM:<>", "250 Ok");
        p.exchange("RCPT TO:<a@x.test>", "250 Ok");
        p.exchange("DATA", "354 go");
        let reads = p.reads;
        let data = p.until(b"\r\n.\r\n");
        assert_eq!(
            String::from_utf8(data).unwrap(),
            "..start\r\n...two\r\nmid.dle\r\n..\r\n\r\n..x\r\nend.\r\n.\r\n"
        );
        // One write: the data and the terminator arrive together.
        assert_eq!(p.reads - reads, 1);
        p.send("250 Ok\r\n");
    });
    let rec = Recorder::default();
    let mut conn = open(port, &rec);
    let result = conn
        .transaction(
            None,
            &[],
            &rcpts(&["a@x.test"]),
            &mut OneByte(message),
            &rec,
        )
        .unwrap();
    assert!(result.data.unwrap().is_ok());
    server.join().unwrap();
}

#[test]
fn dot_stuff_keeps_state_between_pieces() {
    let mut out = Vec::new();
    let mut line_start = true;
    for piece in [&b"a\r"[..], b"\n", b".", b"b\r\n", b"", b".", b"."] {
        dot_stuff(piece, &mut out, &mut line_start);
    }
    assert_eq!(out, b"a\r\n..b\r\n...");
}

/// A generated message of `len` bytes (lines of 76 characters), counting what was read.
struct Counting {
    data: Vec<u8>,
    pos: usize,
    len: usize,
    consumed: Arc<AtomicU64>,
}

impl Counting {
    fn new(data: Vec<u8>) -> Counting {
        let len = data.len();
        Counting {
            data,
            pos: 0,
            len,
            consumed: Arc::new(AtomicU64::new(0)),
        }
    }

    fn generated(len: usize) -> Counting {
        let mut line = vec![b'x'; 76];
        line[0] = b'.';
        line.extend_from_slice(b"\r\n");
        let mut c = Counting::new(line);
        c.len = len;
        c
    }
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < buf.len() && self.pos < self.len {
            buf[n] = self.data[self.pos % self.data.len()];
            n += 1;
            self.pos += 1;
        }
        self.consumed.fetch_add(n as u64, Ordering::SeqCst);
        Ok(n)
    }
}

#[test]
fn large_message_is_streamed() {
    const LEN: usize = 32 * 1024 * 1024;
    let reader = Counting::generated(LEN);
    let consumed = reader.consumed.clone();
    let (port, server) = server(move |mut p| {
        p.hello(&["PIPELINING"]);
        p.until(b"DATA\r\n");
        p.send("250 Ok\r\n250 Ok\r\n354 go\r\n");
        while p.buf.len() < 1024 * 1024 {
            p.fill();
        }
        thread::sleep(Duration::from_millis(200));
        let read_so_far = consumed.load(Ordering::SeqCst);
        assert!(
            read_so_far < 24 * 1024 * 1024,
            "{read_so_far} bytes read before the relay took 1 MiB"
        );
        let data = p.until(b"\r\n.\r\n");
        // Every line (the last one too, unfinished) starts with a dot, which is doubled.
        assert_eq!(data.len(), LEN + LEN.div_ceil(78) + 5);
        assert!(data.starts_with(b"..xxx"));
        p.send("250 Ok\r\n");
    });
    let rec = Recorder::default();
    let mut conn = open(port, &rec);
    let mut reader = reader;
    let result = conn
        .transaction(None, &[], &rcpts(&["a@x.test"]), &mut reader, &rec)
        .unwrap();
    assert!(result.data.unwrap().is_ok());
    server.join().unwrap();
}

#[test]
fn greeting_421_is_a_reply_error() {
    let (port, server) = server(|mut p| {
        p.send("421 4.3.2 mx.test Service not available, closing\r\n");
    });
    let err = Connection::connect("127.0.0.1", port, TIMEOUT, None, &Silent)
        .err()
        .unwrap();
    assert_eq!(err.stage(), "greeting");
    let reply = err.reply().unwrap();
    assert!(reply.is_transient());
    assert_eq!(
        err.to_string(),
        "greeting: 421 4.3.2 mx.test Service not available, closing"
    );
    server.join().unwrap();
}

#[test]
fn silent_server_times_out() {
    let (port, server) = server(|mut p| {
        // Say nothing; wait for the client to give up.
        let mut byte = [0u8; 1];
        let _ = p.stream.read(&mut byte);
    });
    let start = Instant::now();
    let err = Connection::connect("127.0.0.1", port, Duration::from_millis(500), None, &Silent)
        .err()
        .unwrap();
    let elapsed = start.elapsed();
    assert!(
        matches!(err, SmtpError::Timeout { stage: "greeting" }),
        "{err}"
    );
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    assert_eq!(err.to_string(), "greeting: timed out waiting for the relay");
    server.join().unwrap();
}

#[test]
fn dropped_connection_mid_data_is_a_network_error() {
    let (port, server) = server(|mut p| {
        p.hello(&["PIPELINING"]);
        p.until(b"DATA\r\n");
        p.send("250 Ok\r\n250 Ok\r\n354 go\r\n");
        p.fill();
        // Drop with unread data: the client's writes fail.
    });
    let rec = Recorder::default();
    let mut conn = open(port, &rec);
    let err = conn
        .transaction(
            None,
            &[],
            &rcpts(&["a@x.test"]),
            &mut Counting::generated(64 * 1024 * 1024),
            &rec,
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            SmtpError::Network {
                stage: "message",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(conn.is_broken());
    assert!(matches!(
        conn.noop(&rec).unwrap_err(),
        SmtpError::Network { .. }
    ));
    server.join().unwrap();
}

#[test]
fn closed_before_final_reply_is_a_network_error() {
    let (port, server) = server(|mut p| {
        p.hello(&[]);
        p.exchange("MAIL FROM:<>", "250 Ok");
        p.exchange("RCPT TO:<a@x.test>", "250 Ok");
        p.exchange("DATA", "354 go");
        p.until(b"\r\n.\r\n");
    });
    let mut conn = open(port, &Silent);
    let err = conn
        .transaction(None, &[], &rcpts(&["a@x.test"]), &mut &b"x"[..], &Silent)
        .unwrap_err();
    match &err {
        SmtpError::Network { stage, source } => {
            assert_eq!(*stage, "message");
            assert_eq!(source.kind(), io::ErrorKind::UnexpectedEof);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.to_string(), "message: the relay closed the connection");
    server.join().unwrap();
}

#[test]
fn refused_connection_is_a_network_error() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = Connection::connect("127.0.0.1", port, TIMEOUT, None, &Silent)
        .err()
        .unwrap();
    match err {
        SmtpError::Network { stage, source } => {
            assert_eq!(stage, "connect");
            assert_eq!(source.kind(), io::ErrorKind::ConnectionRefused);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn auth_login_challenges() {
    let (port, server) = server(|mut p| {
        p.hello(&["AUTH LOGIN"]);
        p.exchange("AUTH LOGIN", "334 VXNlcm5hbWU6");
        p.exchange(&BASE64.encode("jdoe@x.test"), "334 UGFzc3dvcmQ6");
        p.exchange(
            &BASE64.encode("s3cret pass"),
            "235 2.7.0 Authentication successful",
        );
    });
    let rec = Recorder::default();
    let mut conn = open(port, &rec);
    let reply = conn
        .authenticate(&mut sasl::Login::new("jdoe@x.test", "s3cret pass"), &rec)
        .unwrap();
    assert_eq!(reply.code, 235);
    server.join().unwrap();
    let lines = rec.lines();
    let auth = lines.iter().position(|l| l == "C: AUTH LOGIN").unwrap();
    assert_eq!(
        lines[auth..],
        [
            "C: AUTH LOGIN",
            "S: 334 (challenge not shown)",
            "C: (user name not shown)",
            "S: 334 (challenge not shown)",
            "C: (password not shown)",
            "S: 235 2.7.0 Authentication successful",
        ]
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("s3cret") || l.contains("amRv"))
    );
}

#[test]
fn auth_plain_and_refusal() {
    let (port, server) = server(|mut p| {
        p.hello(&["AUTH LOGIN PLAIN"]);
        let token = BASE64.encode("\0jdoe\0wrong");
        p.exchange(
            &format!("AUTH PLAIN {token}"),
            "535 5.7.8 Error: authentication failed",
        );
        p.exchange("QUIT", "221 Bye");
    });
    let rec = Recorder::default();
    let mut conn = open(port, &rec);
    let err = conn
        .authenticate(&mut sasl::Plain::new("jdoe", "wrong"), &rec)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "AUTH: 535 5.7.8 Error: authentication failed"
    );
    assert!(!conn.is_broken());
    conn.quit(&rec).unwrap();
    server.join().unwrap();
    let lines = rec.lines();
    assert!(lines.contains(&"C: AUTH PLAIN (credentials not shown)".to_string()));
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("wrong") || l.contains("AGpk"))
    );
}

#[test]
fn auth_without_mechanism() {
    let (port, server) = server(|mut p| {
        p.hello(&["AUTH CRAM-MD5"]);
    });
    let mut conn = open(port, &Silent);
    let err = conn
        .authenticate(&mut sasl::Plain::new("u", "p"), &Silent)
        .unwrap_err();
    assert!(
        matches!(err, SmtpError::Client { stage: "AUTH", .. }),
        "{err}"
    );
    assert_eq!(err.to_string(), "AUTH: the relay does not offer AUTH PLAIN");
    server.join().unwrap();
}

#[test]
fn a_refused_token_gets_the_dummy_answer_and_its_status() {
    let error = BASE64.encode(r#"{"status":"401","schemes":"bearer"}"#);
    let (port, server) = server(move |mut p| {
        p.hello(&["AUTH XOAUTH2"]);
        let payload = BASE64.encode("user=jdoe\x01auth=Bearer at-1\x01\x01");
        p.exchange(&format!("AUTH XOAUTH2 {payload}"), &format!("334 {error}"));
        p.exchange("", "535 5.7.8 Username and Password not accepted");
        p.exchange("QUIT", "221 Bye");
    });
    let rec = Recorder::default();
    let mut conn = open(port, &rec);
    let err = conn
        .authenticate(&mut sasl::Bearer::xoauth2("jdoe", "at-1"), &rec)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "AUTH: 535 5.7.8 Username and Password not accepted (token refused: status 401)"
    );
    assert!(!conn.is_broken());
    conn.quit(&rec).unwrap();
    server.join().unwrap();
    let lines = rec.lines();
    let auth = lines.iter().position(|l| l.starts_with("C: AUTH")).unwrap();
    assert_eq!(
        lines[auth..auth + 4],
        [
            "C: AUTH XOAUTH2 (token not shown)",
            "S: 334 (challenge not shown)",
            "C: ",
            "S: 535 5.7.8 Username and Password not accepted",
        ]
    );
    assert!(!lines.iter().any(|l| l.contains("at-1")));
}

#[test]
fn a_relay_asking_for_more_is_cancelled() {
    let (port, server) = server(|mut p| {
        p.hello(&["AUTH PLAIN"]);
        p.exchange(&format!("AUTH PLAIN {}", BASE64.encode("\0u\0p")), "334 ");
        p.exchange("*", "501 5.7.0 Authentication aborted");
    });
    let mut conn = open(port, &Silent);
    let err = conn
        .authenticate(&mut sasl::Plain::new("u", "p"), &Silent)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "AUTH: protocol error: the relay asked for more than the login mechanism sends"
    );
    assert!(conn.is_broken());
    server.join().unwrap();
}

#[test]
fn tcp_nodelay_is_set() {
    let (port, server) = server(|mut p| p.hello(&[]));
    let conn = open(port, &Silent);
    assert!(conn.nodelay());
    assert_eq!(conn.peer_addr().unwrap().port(), port);
    server.join().unwrap();
}

#[test]
fn starttls_needs_the_offer_and_a_clean_reply() {
    let (port, server) = server(|mut p| {
        p.hello(&["SIZE"]);
        p.exchange("EHLO client.test", "250-mx.test\r\n250 STARTTLS");
        // A reply with something after it: injected plain text.
        p.exchange("STARTTLS", "220 go ahead\r\n250 injected");
    });
    let config = tls_config(&[], None).unwrap();
    let name = ServerName::try_from("mx.test").unwrap();
    let mut conn = open(port, &Silent);
    let err = conn
        .starttls(config.clone(), name.clone(), &Silent)
        .unwrap_err();
    assert!(matches!(err, SmtpError::Client { .. }), "{err}");
    assert!(!conn.is_broken());
    conn.ehlo("client.test", &Silent).unwrap();
    let err = conn.starttls(config, name, &Silent).unwrap_err();
    assert!(matches!(err, SmtpError::Protocol { .. }), "{err}");
    assert!(conn.is_broken());
    server.join().unwrap();
}

#[test]
fn broken_replies_are_protocol_errors() {
    let cases: [(&str, &str); 4] = [
        ("250-mx.test\r\n251 other code\r\n", "changed its code"),
        ("+OK POP3 server ready\r\n", "not an SMTP reply"),
        ("354 what\r\n", "unexpected reply"),
        ("", "longer than 2048"),
    ];
    for (reply, expected) in cases {
        let reply = if reply.is_empty() {
            format!("250 {}\r\n", "x".repeat(3000))
        } else {
            reply.to_string()
        };
        let (port, server) = server(move |mut p| {
            p.send("220 mx.test\r\n");
            p.line();
            p.send(&reply);
        });
        let mut conn = connect(port, &Silent);
        let err = conn.ehlo("client.test", &Silent).unwrap_err();
        assert!(
            matches!(err, SmtpError::Protocol { stage: "EHLO", .. }),
            "{err}"
        );
        assert!(err.to_string().contains(expected), "{err}");
        assert!(conn.is_broken());
        server.join().unwrap();
    }
}

#[test]
fn huge_replies_are_refused() {
    let (port, server) = server(|mut p| {
        p.send("220 mx.test\r\n");
        p.line();
        let line = format!("250-{}\r\n", "x".repeat(1000));
        let mut reply = String::new();
        for _ in 0..120 {
            reply.push_str(&line);
        }
        let _ = p.stream.write_all(reply.as_bytes());
    });
    let mut conn = connect(port, &Silent);
    let err = conn.ehlo("client.test", &Silent).unwrap_err();
    assert!(err.to_string().contains("longer than 102400"), "{err}");
    server.join().unwrap();
}

#[test]
fn line_breaks_in_arguments_are_refused() {
    let (port, server) = server(|mut p| p.hello(&["PIPELINING"]));
    let mut conn = open(port, &Silent);
    let err = conn
        .transaction(
            Some("a@x.test>\r\nRCPT TO:<evil@x.test"),
            &[],
            &rcpts(&["b@x.test"]),
            &mut &b""[..],
            &Silent,
        )
        .unwrap_err();
    assert!(matches!(err, SmtpError::Client { .. }), "{err}");
    let err = conn
        .transaction(None, &[], &[], &mut &b""[..], &Silent)
        .unwrap_err();
    assert!(matches!(err, SmtpError::Client { .. }), "{err}");
    assert!(!conn.is_broken());
    server.join().unwrap();
}

#[test]
fn tls_config_rejects_bad_pems() {
    assert!(tls_config(&[], None).is_ok());
    let err = tls_config(&[b"not a certificate".to_vec()], None).unwrap_err();
    assert!(err.contains("no PEM certificate"), "{err}");
    let err = tls_config(&[], Some((b"x".to_vec(), b"y".to_vec()))).unwrap_err();
    assert!(err.contains("client certificate"), "{err}");
}
