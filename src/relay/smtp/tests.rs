//! The client against the scripted SMTP server (`testkit::smtp`) on 127.0.0.1: replies and
//! extensions, pipelining, dot-stuffing and streaming, AUTH, STARTTLS, and each way a relay can
//! fail (refusals, silence, a dropped connection, malformed or oversized replies).

use std::cell::RefCell;
use std::io::{self, Read};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use testkit::smtp::{Act, Auth, AuthAttempt, MidData, Script, Server, acts, reply};

use super::*;
use crate::config::TlsVersion;
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

/// The scripted server as `mx.test`, offering no extension the test does not ask for.
fn mx() -> Script {
    Script {
        name: "mx.test".into(),
        eightbitmime: false,
        size: None,
        timeout: TIMEOUT,
        ..Script::default()
    }
}

fn connect(port: u16, observer: &dyn Observer) -> Connection {
    Connection::connect("127.0.0.1", port, TIMEOUT, None, observer).unwrap()
}

fn open(port: u16, observer: &dyn Observer) -> Connection {
    let mut conn = connect(port, observer);
    conn.ehlo("client.test", observer).unwrap();
    conn
}

/// Ends the session and waits until the server has read the QUIT, which is not answered.
fn quit(conn: Connection, server: &Server, observer: &dyn Observer) {
    conn.quit(observer).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    while server.commands().last().map(String::as_str) != Some("QUIT") {
        assert!(Instant::now() < deadline, "the server never read QUIT");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn rcpts(list: &[&str]) -> Vec<(String, Vec<String>)> {
    list.iter().map(|r| (r.to_string(), Vec::new())).collect()
}

#[test]
fn multiline_replies_and_extensions() {
    let server = Server::start(Script {
        greeting: reply("220-mx.test ESMTP\r\n220-second line\r\n220 third"),
        ehlo: reply(
            "250-mx.test Hello client\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n\
             250-AUTH PLAIN LOGIN\r\n250-AUTH=LOGIN\r\n250-DSN\r\n250-8BITMIME\r\n250 SMTPUTF8",
        )
        .into(),
        ..mx()
    });
    let rec = Recorder::default();
    let mut conn = connect(server.port, &rec);
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
    quit(conn, &server, &rec);
    assert_eq!(server.commands(), ["EHLO client.test", "QUIT"]);
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
    // QUIT's reply is not waited for.
    assert_eq!(lines.last().unwrap(), "C: QUIT");
}

#[test]
fn helo_fallback() {
    let server = Server::start(Script {
        name: "old.test".into(),
        greeting: reply("220 old.test SMTP"),
        ehlo: reply("502 5.5.2 Error: command not recognized").into(),
        ..mx()
    });
    let rec = Recorder::default();
    let mut conn = connect(server.port, &rec);
    let ext = conn.ehlo("client.test", &rec).unwrap();
    assert_eq!(ext.server_name(), "old.test");
    assert!(ext.keywords().is_empty());
    assert_eq!(server.commands(), ["EHLO client.test", "HELO client.test"]);
}

#[test]
fn pipelined_commands_go_out_in_one_write() {
    let server = Server::start(Script {
        pipelining: true,
        size: Some(1_000_000),
        dsn: true,
        mail: reply("250 2.1.0 Ok").into(),
        rcpt: vec![
            reply("250 2.1.5 Ok").into(),
            reply("550-5.1.1 <b@x.test>: Recipient address rejected\r\n550 5.1.1 User unknown")
                .into(),
        ],
        data: reply("354 End data with <CR><LF>.<CR><LF>").into(),
        final_dot: reply("250 2.0.0 Ok: queued as ABC").into(),
        ..mx()
    });
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
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
    quit(conn, &server, &rec);
    let commands = server.command_records();
    let lines: Vec<&str> = commands.iter().map(|c| c.line.as_str()).collect();
    assert_eq!(
        lines,
        [
            "EHLO client.test",
            "MAIL FROM:<me@client.test> SIZE=7 RET=HDRS",
            "RCPT TO:<a@x.test> NOTIFY=FAILURE",
            "RCPT TO:<b@x.test>",
            "DATA",
            "QUIT"
        ]
    );
    // Nothing is answered before all four commands are in: they came in the read after EHLO's.
    let reads: Vec<usize> = commands.iter().map(|c| c.read).collect();
    assert_eq!(
        reads[1..5],
        [reads[0] + 1; 4],
        "the commands came in more than one read"
    );
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].raw, b"Hello\r\n.\r\n");
    let lines = rec.lines();
    assert!(lines.contains(&"N: message sent (7 bytes)".to_string()));
    assert!(lines.contains(&"C: DATA".to_string()));
}

/// A relay offering CHUNKING and PIPELINING, answering each recipient from `rcpt`.
fn chunking(rcpt: Vec<Act>) -> Script {
    Script {
        pipelining: true,
        chunking: true,
        mail: reply("250 2.1.0 Ok").into(),
        rcpt: rcpt.into_iter().map(Into::into).collect(),
        final_dot: reply("250 2.0.0 Ok: queued as BDAT1").into(),
        ..mx()
    }
}

#[test]
fn with_chunking_the_transaction_is_one_flight() {
    let server = Server::start(chunking(vec![
        reply("250 2.1.5 Ok"),
        reply("550 5.1.1 <b@x.test>: User unknown"),
    ]));
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
    let message = b"Subject: x\r\n\r\n.leading dot\r\nend";
    let result = conn
        .transaction(
            Some("me@client.test"),
            &[],
            &rcpts(&["a@x.test", "b@x.test"]),
            &mut &message[..],
            &rec,
        )
        .unwrap();
    assert_eq!(result.accepted(), 1);
    let data = result.data.unwrap().unwrap();
    assert_eq!(data.text(), "250 2.0.0 Ok: queued as BDAT1");
    quit(conn, &server, &rec);
    let commands = server.command_records();
    let lines: Vec<&str> = commands.iter().map(|c| c.line.as_str()).collect();
    assert_eq!(
        lines,
        [
            "EHLO client.test",
            "MAIL FROM:<me@client.test>",
            "RCPT TO:<a@x.test>",
            "RCPT TO:<b@x.test>",
            "BDAT 33 LAST",
            "QUIT"
        ]
    );
    // MAIL, both RCPTs and the BDAT with its chunk came in the one read after EHLO's.
    let reads: Vec<usize> = commands.iter().map(|c| c.read).collect();
    assert_eq!(reads[1..5], [reads[0] + 1; 4], "more than one flight");
    // No dot-stuffing in a chunk; the final CRLF is the client's, as DATA's terminator adds it.
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].data,
        b"Subject: x\r\n\r\n.leading dot\r\nend\r\n"
    );
}

/// The last message of a session takes QUIT along in its flight (BDAT here, the final dot with
/// DATA), the reply to QUIT is not awaited, and the connection is closed after the message's
/// reply.
#[test]
fn the_last_message_takes_quit_along() {
    for chunking_offered in [true, false] {
        let server = Server::start(Script {
            chunking: chunking_offered,
            data: reply("354 go ahead").into(),
            ..chunking(vec![reply("250 2.1.5 Ok")])
        });
        let rec = Recorder::default();
        let mut conn = open(server.port, &rec);
        conn.quit_with_next_message();
        let result = conn
            .transaction(
                Some("me@client.test"),
                &[],
                &rcpts(&["a@x.test"]),
                &mut &b"body"[..],
                &rec,
            )
            .unwrap();
        assert!(result.data.unwrap().is_ok());
        assert!(conn.is_broken(), "closed after the last message");
        // Nothing more goes out: the session already ended.
        conn.quit(&rec).unwrap_err();
        let deadline = Instant::now() + TIMEOUT;
        while server.commands().last().map(String::as_str) != Some("QUIT") {
            assert!(
                Instant::now() < deadline,
                "no QUIT: {:?}",
                server.commands()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let records = server.command_records();
        let (last, before) = (&records[records.len() - 1], &records[records.len() - 2]);
        if chunking_offered {
            assert_eq!(before.line, "BDAT 6 LAST");
            assert_eq!(last.read, before.read, "QUIT came in the message's flight");
        }
        assert_eq!(server.messages().len(), 1);
        assert_eq!(
            rec.lines().last().unwrap(),
            "S: 250 2.0.0 Ok: queued as BDAT1"
        );
    }
}

#[test]
fn with_chunking_refused_recipients_deliver_nothing() {
    let server = Server::start(chunking(vec![reply("550 5.1.1 User unknown")]));
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
    let result = conn
        .transaction(
            Some("me@client.test"),
            &[],
            &rcpts(&["a@x.test"]),
            &mut &b"body"[..],
            &rec,
        )
        .unwrap();
    assert_eq!(result.accepted(), 0);
    assert_eq!(result.data, None);
    assert!(!conn.is_broken());
    quit(conn, &server, &rec);
    assert!(server.messages().is_empty());
}

#[test]
fn with_chunking_a_message_over_one_chunk_streams_through_data() {
    let server = Server::start(Script {
        data: reply("354 go ahead").into(),
        ..chunking(vec![reply("250 2.1.5 Ok")])
    });
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
    let line = [b'x'; 78];
    let mut message = Vec::new();
    while message.len() <= CHUNK {
        message.extend_from_slice(&line);
        message.extend_from_slice(b"\r\n");
    }
    message.extend_from_slice(b".dot");
    conn.transaction(
        Some("me@client.test"),
        &[],
        &rcpts(&["a@x.test"]),
        &mut &message[..],
        &rec,
    )
    .unwrap()
    .data
    .unwrap()
    .unwrap();
    quit(conn, &server, &rec);
    assert!(server.commands().contains(&"DATA".to_string()));
    let mut expected = message.clone();
    expected.extend_from_slice(b"\r\n");
    assert_eq!(server.messages()[0].data, expected);
}

#[test]
fn without_pipelining_command_by_command() {
    let server = Server::start(Script {
        ehlo: reply("250-mx.test Hello\r\n250 SIZE").into(),
        mail: reply("250 Ok").into(),
        rcpt: vec![
            reply("450 4.2.0 Mailbox busy").into(),
            reply("251 User not local; will forward").into(),
        ],
        data: reply("354 go ahead").into(),
        final_dot: reply("451 4.3.0 Try later").into(),
        ..mx()
    });
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
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
    assert_eq!(
        server.commands(),
        [
            "EHLO client.test",
            "MAIL FROM:<>",
            "RCPT TO:<a@x.test>",
            "RCPT TO:<b@x.test>",
            "DATA"
        ]
    );
    // The client waits for each reply: nothing more had arrived when a command was answered.
    let commands = server.command_records();
    assert!(commands.iter().all(|c| !c.pipelined), "{commands:#?}");
    assert_eq!(server.messages()[0].raw, b"x\r\n.\r\n");
}

#[test]
fn no_recipient_accepted_means_no_message() {
    let server = Server::start(Script {
        pipelining: true,
        mail: reply("250 Ok").into(),
        // Three transactions: no recipient, a recipient refused for now, a recipient taken.
        rcpt: vec![
            acts([reply("550 no a"), reply("450 later"), reply("250 Ok")]),
            reply("550 no b").into(),
        ],
        data: acts([
            // A server that answers DATA with 354 even though no recipient was accepted.
            reply("354 go on anyway"),
            // The RFC 2920 way: DATA refused.
            reply("554 5.5.1 Error: no valid recipients"),
            reply("354 go"),
        ]),
        final_dot: acts([
            reply("554 5.5.1 Error: no valid recipients"),
            reply("250 queued"),
        ]),
        ..mx()
    });
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
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
    assert_eq!(unread.consumed(), 0, "message was read");
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
    // The connection is still good for a real transaction.
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
    let transaction = |rcpts: &[&'static str]| {
        let mut lines = vec!["MAIL FROM:<me@x.test>"];
        lines.extend_from_slice(rcpts);
        lines.push("DATA");
        lines
    };
    let mut expected = vec!["EHLO client.test"];
    expected.extend(transaction(&["RCPT TO:<a@x.test>", "RCPT TO:<b@x.test>"]));
    expected.push("RSET");
    expected.extend(transaction(&["RCPT TO:<a@x.test>"]));
    expected.push("RSET");
    expected.extend(transaction(&["RCPT TO:<a@x.test>"]));
    assert_eq!(server.commands(), expected);
    // Only the dot after the first 354, then the real message.
    let raw: Vec<Vec<u8>> = server.messages().into_iter().map(|m| m.raw).collect();
    assert_eq!(raw, [&b".\r\n"[..], b"body\r\n.\r\n"]);
}

#[test]
fn refused_sender_leaves_the_connection_usable() {
    let server = Server::start(Script {
        pipelining: true,
        // The second EHLO offers no PIPELINING.
        ehlo: acts([Act::Accept, reply("250 mx.test")]),
        mail: acts([
            reply("553 5.7.1 <me@x.test>: Sender address rejected"),
            reply("451 4.3.0 later"),
        ]),
        rcpt: vec![reply("503 5.5.1 need MAIL").into()],
        data: reply("503 5.5.1 need MAIL").into(),
        ..mx()
    });
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
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
    // And without pipelining, after a new EHLO.
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
    assert_eq!(
        server.commands(),
        [
            "EHLO client.test",
            "MAIL FROM:<me@x.test>",
            "RCPT TO:<a@x.test>",
            "DATA",
            "RSET",
            "NOOP",
            "EHLO client.test",
            "MAIL FROM:<me@x.test>",
            "RSET"
        ]
    );
}

#[test]
fn reply_421_ends_the_connection() {
    let server = Server::start(Script {
        pipelining: true,
        // The server gives up at the first recipient and goes away.
        rcpt: vec![
            reply("421 4.4.2 mx.test Error: timeout exceeded").into(),
            Act::Close.into(),
        ],
        ..mx()
    });
    let mut conn = open(server.port, &Silent);
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
    assert_eq!(
        server.commands()[..3],
        ["EHLO client.test", "MAIL FROM:<>", "RCPT TO:<a@x.test>"]
    );
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
    let server = Server::start(mx());
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
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
    assert_eq!(
        server.commands(),
        [
            "EHLO client.test",
            "MAIL FROM:<>",
            "RCPT TO:<a@x.test>",
            "DATA"
        ]
    );
    let got = &server.messages()[0];
    assert_eq!(
        String::from_utf8_lossy(&got.raw),
        "..start\r\n...two\r\nmid.dle\r\n..\r\n\r\n..x\r\nend.\r\n.\r\n"
    );
    // One write: the data and the terminator arrive together.
    assert_eq!(got.reads, 1);
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

/// A generated message of `len` bytes (lines of 76 characters), recording how much was read
/// when.
struct Counting {
    data: Vec<u8>,
    pos: usize,
    len: usize,
    /// After each read: when, and how many bytes were read in all.
    progress: Arc<Mutex<Vec<(Instant, u64)>>>,
}

impl Counting {
    fn new(data: Vec<u8>) -> Counting {
        let len = data.len();
        Counting {
            data,
            pos: 0,
            len,
            progress: Arc::default(),
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

    /// How many bytes were read in all.
    fn consumed(&self) -> u64 {
        consumed_by(&self.progress, Instant::now())
    }
}

/// How many bytes a [`Counting`] had handed out by `when`.
fn consumed_by(progress: &Mutex<Vec<(Instant, u64)>>, when: Instant) -> u64 {
    let progress = progress.lock().unwrap();
    progress
        .iter()
        .take_while(|(at, _)| *at <= when)
        .last()
        .map_or(0, |(_, total)| *total)
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < buf.len() && self.pos < self.len {
            buf[n] = self.data[self.pos % self.data.len()];
            n += 1;
            self.pos += 1;
        }
        self.progress
            .lock()
            .unwrap()
            .push((Instant::now(), self.pos as u64));
        Ok(n)
    }
}

#[test]
fn large_message_is_streamed() {
    const LEN: usize = 32 * 1024 * 1024;
    let reader = Counting::generated(LEN);
    let progress = reader.progress.clone();
    // The relay takes 1 MiB, then nothing for a while: a client that read the whole message
    // into memory first would have read it all by the time the relay goes on.
    let server = Server::start(Script {
        pipelining: true,
        mid_data: Some(MidData::Stall {
            after: 1024 * 1024,
            pause: Duration::from_millis(200),
        }),
        ..mx()
    });
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
    let mut reader = reader;
    let result = conn
        .transaction(None, &[], &rcpts(&["a@x.test"]), &mut reader, &rec)
        .unwrap();
    assert!(result.data.unwrap().is_ok());
    let got = &server.messages()[0];
    let stalled_until = got.stalled_until.expect("the relay stalled");
    let read_so_far = consumed_by(&progress, stalled_until);
    assert!(
        read_so_far < 24 * 1024 * 1024,
        "{read_so_far} bytes read before the relay took 1 MiB"
    );
    // Every line (the last one too, unfinished) starts with a dot, which is doubled.
    assert_eq!(got.raw.len(), LEN + LEN.div_ceil(78) + 5);
    assert!(got.raw.starts_with(b"..xxx"));
}

#[test]
fn greeting_421_is_a_reply_error() {
    let server = Server::start(Script {
        greeting: reply("421 4.3.2 mx.test Service not available, closing"),
        ..mx()
    });
    let err = Connection::connect("127.0.0.1", server.port, TIMEOUT, None, &Silent)
        .err()
        .unwrap();
    assert_eq!(err.stage(), "greeting");
    let reply = err.reply().unwrap();
    assert!(reply.is_transient());
    assert_eq!(
        err.to_string(),
        "greeting: 421 4.3.2 mx.test Service not available, closing"
    );
}

#[test]
fn silent_server_times_out() {
    let server = Server::start(Script {
        greeting: Act::Silence,
        ..mx()
    });
    let start = Instant::now();
    let err = Connection::connect(
        "127.0.0.1",
        server.port,
        Duration::from_millis(500),
        None,
        &Silent,
    )
    .err()
    .unwrap();
    let elapsed = start.elapsed();
    assert!(
        matches!(err, SmtpError::Timeout { stage: "greeting" }),
        "{err}"
    );
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    assert_eq!(err.to_string(), "greeting: timed out waiting for the relay");
}

/// A submission's first answer has a budget of its own (connect and greeting); once the relay
/// has greeted, the dialogue has the profile's (longer) timeout again.
#[test]
fn the_first_answer_has_its_own_budget_then_the_timeout_holds() {
    let silent = Server::start(Script {
        greeting: Act::Silence,
        ..mx()
    });
    let start = Instant::now();
    let err = Connection::connect_within(
        "127.0.0.1",
        silent.port,
        &Route::default(),
        Some(Duration::from_millis(300)),
        Duration::from_secs(30),
        None,
        &Silent,
    )
    .err()
    .unwrap();
    assert!(
        matches!(err, SmtpError::Timeout { stage: "greeting" }),
        "{err}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );

    let slow_ehlo = Server::start(Script {
        ehlo: Act::Silence.into(),
        ..mx()
    });
    let mut conn = Connection::connect_within(
        "127.0.0.1",
        slow_ehlo.port,
        &Route::default(),
        Some(Duration::from_millis(300)),
        Duration::from_millis(1200),
        None,
        &Silent,
    )
    .unwrap();
    let start = Instant::now();
    let err = conn.ehlo("client.test", &Silent).err().unwrap();
    let waited = start.elapsed();
    assert!(matches!(err, SmtpError::Timeout { stage: "EHLO" }), "{err}");
    assert!(
        (Duration::from_millis(1100)..Duration::from_secs(3)).contains(&waited),
        "EHLO waited the timeout, not what was left of the first answer's budget: {waited:?}"
    );
}

#[test]
fn dropped_connection_mid_data_is_a_network_error() {
    // Dropped with unread data: the client's writes fail.
    let server = Server::start(Script {
        pipelining: true,
        mid_data: Some(MidData::Close),
        ..mx()
    });
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
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
    assert!(server.messages().is_empty());
}

#[test]
fn closed_before_final_reply_is_a_network_error() {
    let server = Server::start(Script {
        final_dot: Act::Close.into(),
        ..mx()
    });
    let mut conn = open(server.port, &Silent);
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
    assert_eq!(server.messages()[0].raw, b"x\r\n.\r\n");
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
    let server = Server::start(Script {
        auth: Some(Auth {
            accepted: "235 2.7.0 Authentication successful".into(),
            ..Auth::new(&["LOGIN"], |user, password| {
                user == "jdoe@x.test" && password == "s3cret pass"
            })
        }),
        ..mx()
    });
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
    let reply = conn
        .authenticate(&mut sasl::Login::new("jdoe@x.test", "s3cret pass"), &rec)
        .unwrap();
    assert_eq!(reply.code, 235);
    // The server's challenges are `Username:` and `Password:`; no initial response.
    assert_eq!(server.commands(), ["EHLO client.test", "AUTH LOGIN"]);
    assert_eq!(
        server.auths(),
        [AuthAttempt {
            mechanism: "LOGIN".into(),
            user: "jdoe@x.test".into(),
            secret: "s3cret pass".into(),
            accepted: true,
        }]
    );
    assert_eq!(server.violations(), Vec::<String>::new());
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
    let server = Server::start(Script {
        auth: Some(Auth {
            refused: "535 5.7.8 Error: authentication failed".into(),
            ..Auth::new(&["LOGIN", "PLAIN"], |user, password| {
                user == "jdoe" && password == "right"
            })
        }),
        ..mx()
    });
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
    let err = conn
        .authenticate(&mut sasl::Plain::new("jdoe", "wrong"), &rec)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "AUTH: 535 5.7.8 Error: authentication failed"
    );
    assert!(!conn.is_broken());
    quit(conn, &server, &rec);
    // PLAIN with an initial response: no authorization identity, `jdoe`, `wrong`.
    assert_eq!(
        server.commands(),
        ["EHLO client.test", "AUTH PLAIN <payload>", "QUIT"]
    );
    assert_eq!(
        server.auths(),
        [AuthAttempt {
            mechanism: "PLAIN".into(),
            user: "jdoe".into(),
            secret: "wrong".into(),
            accepted: false,
        }]
    );
    assert_eq!(server.violations(), Vec::<String>::new());
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
    let server = Server::start(Script {
        auth: Some(Auth::new(&["CRAM-MD5"], |_, _| true)),
        ..mx()
    });
    let mut conn = open(server.port, &Silent);
    let err = conn
        .authenticate(&mut sasl::Plain::new("u", "p"), &Silent)
        .unwrap_err();
    assert!(
        matches!(err, SmtpError::Client { stage: "AUTH", .. }),
        "{err}"
    );
    assert_eq!(err.to_string(), "AUTH: the relay does not offer AUTH PLAIN");
    // Nothing went out for it: the NOOP is the next command.
    conn.noop(&Silent).unwrap();
    assert_eq!(server.commands(), ["EHLO client.test", "NOOP"]);
}

#[test]
fn a_refused_token_gets_the_dummy_answer_and_its_status() {
    let server = Server::start(Script {
        auth: Some(Auth::new(&["XOAUTH2"], |_, _| false)),
        ..mx()
    });
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
    let err = conn
        .authenticate(&mut sasl::Bearer::xoauth2("jdoe", "at-1"), &rec)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "AUTH: 535 5.7.8 Username and Password not accepted (token refused: status 401)"
    );
    assert!(!conn.is_broken());
    quit(conn, &server, &rec);
    assert_eq!(server.violations(), Vec::<String>::new());
    assert_eq!(
        server.auths(),
        [AuthAttempt {
            mechanism: "XOAUTH2".into(),
            user: "jdoe".into(),
            secret: "at-1".into(),
            accepted: false,
        }]
    );
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

/// SCRAM against the scripted server: the dialogue shows no user name, proof or password; the
/// login counts only once the relay's signature is verified.
#[test]
fn scram_logs_in_and_shows_no_secret() {
    let server = Server::start(Script {
        auth: Some(Auth {
            scram_password: Some("s3cret pass".into()),
            ..Auth::new(&["PLAIN", "SCRAM-SHA-256"], |user, _| user == "jdoe")
        }),
        ..mx()
    });
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
    let mut scram = sasl::Scram::new(sasl::Hash::Sha256, false, "jdoe", "s3cret pass", None);
    conn.authenticate(&mut scram, &rec).unwrap();
    conn.quit(&rec).unwrap();
    assert_eq!(server.violations(), Vec::<String>::new());
    assert!(server.auths()[0].accepted);
    let lines = rec.lines();
    let auth = lines.iter().position(|l| l.starts_with("C: AUTH")).unwrap();
    assert_eq!(
        lines[auth..auth + 6],
        [
            "C: AUTH SCRAM-SHA-256 (user name not shown)",
            "S: 334 (challenge not shown)",
            "C: (proof not shown)",
            "S: 334 (challenge not shown)",
            "C: ",
            "S: 235 2.7.0 Accepted",
        ]
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("s3cret") || l.contains("jdoe"))
    );
}

/// A relay that says 235 to the proof without proving that it knows the password (no server
/// signature) has not authenticated itself: the login fails and the connection is not used.
#[test]
fn a_scram_relay_that_skips_its_signature_is_not_trusted() {
    let server = Server::start(Script {
        auth: Some(Auth {
            scram_password: Some("pw".into()),
            skip_server_final: true,
            ..Auth::new(&["SCRAM-SHA-1"], |_, _| true)
        }),
        ..mx()
    });
    let mut conn = open(server.port, &Silent);
    let mut scram = sasl::Scram::new(sasl::Hash::Sha1, false, "u", "pw", None);
    let err = conn.authenticate(&mut scram, &Silent).unwrap_err();
    assert!(
        matches!(err, SmtpError::Protocol { stage: "AUTH", .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("no SCRAM server signature"),
        "{err}"
    );
    assert!(conn.is_broken());
    assert!(conn.noop(&Silent).is_err(), "nothing more is sent");
    assert_eq!(server.count("NOOP"), 0);
}

/// EXTERNAL's empty authorization identity goes as `=` with the AUTH command.
#[test]
fn external_sends_an_empty_initial_response_as_equals() {
    let server = Server::start(Script {
        auth: Some(Auth::new(&["EXTERNAL"], |user, _| user.is_empty())),
        ..mx()
    });
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
    conn.authenticate(&mut sasl::External, &rec).unwrap();
    assert!(rec.lines().contains(&"C: AUTH EXTERNAL =".to_string()));
    assert_eq!(server.violations(), Vec::<String>::new());
}

#[test]
fn a_relay_asking_for_more_is_cancelled() {
    let server = Server::start(Script {
        auth: Some(Auth {
            extra_challenge: true,
            ..Auth::new(&["PLAIN"], |_, _| true)
        }),
        ..mx()
    });
    let mut conn = open(server.port, &Silent);
    let err = conn
        .authenticate(&mut sasl::Plain::new("u", "p"), &Silent)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "AUTH: protocol error: the relay asked for more than the login mechanism sends"
    );
    assert!(conn.is_broken());
    assert_eq!(server.violations(), Vec::<String>::new());
}

#[test]
fn tcp_nodelay_is_set() {
    let server = Server::start(mx());
    let conn = open(server.port, &Silent);
    assert!(conn.nodelay());
    assert_eq!(conn.peer_addr().unwrap().port(), server.port);
}

#[test]
fn starttls_needs_the_offer_and_a_clean_reply() {
    let server = Server::start(Script {
        ehlo: acts([
            reply("250-mx.test Hello\r\n250 SIZE"),
            reply("250-mx.test\r\n250 STARTTLS"),
        ]),
        // A reply with something after it: injected plain text.
        starttls: reply("220 go ahead\r\n250 injected").into(),
        ..mx()
    });
    let config = tls_config(Trust::Roots(&[]), None, TlsVersion::Tls12).unwrap();
    let name = ServerName::try_from("mx.test").unwrap();
    let mut conn = open(server.port, &Silent);
    let err = conn
        .starttls(config.clone(), name.clone(), &Silent)
        .unwrap_err();
    assert!(matches!(err, SmtpError::Client { .. }), "{err}");
    assert!(!conn.is_broken());
    conn.ehlo("client.test", &Silent).unwrap();
    let err = conn.starttls(config, name, &Silent).unwrap_err();
    assert!(matches!(err, SmtpError::Protocol { .. }), "{err}");
    assert!(conn.is_broken());
    assert_eq!(
        server.commands(),
        ["EHLO client.test", "EHLO client.test", "STARTTLS"]
    );
}

#[test]
fn broken_replies_are_protocol_errors() {
    let long = format!("250 {}", "x".repeat(3000));
    let cases: [(&str, &str); 4] = [
        ("250-mx.test\r\n251 other code", "changed its code"),
        ("+OK POP3 server ready", "not an SMTP reply"),
        ("354 what", "unexpected reply"),
        (&long, "longer than 2048"),
    ];
    for (ehlo, expected) in cases {
        let server = Server::start(Script {
            greeting: reply("220 mx.test"),
            ehlo: reply(ehlo).into(),
            ..mx()
        });
        let mut conn = connect(server.port, &Silent);
        let err = conn.ehlo("client.test", &Silent).unwrap_err();
        assert!(
            matches!(err, SmtpError::Protocol { stage: "EHLO", .. }),
            "{err}"
        );
        assert!(err.to_string().contains(expected), "{err}");
        assert!(conn.is_broken());
        assert_eq!(server.commands(), ["EHLO client.test"]);
    }
}

#[test]
fn huge_replies_are_refused() {
    // 120 continuation lines of 1000 characters, and no last line.
    let line = format!("250-{}", "x".repeat(1000));
    let server = Server::start(Script {
        greeting: reply("220 mx.test"),
        ehlo: reply(&vec![line; 120].join("\r\n")).into(),
        ..mx()
    });
    let mut conn = connect(server.port, &Silent);
    let err = conn.ehlo("client.test", &Silent).unwrap_err();
    assert!(err.to_string().contains("longer than 102400"), "{err}");
}

#[test]
fn line_breaks_in_arguments_are_refused() {
    let server = Server::start(Script {
        pipelining: true,
        ..mx()
    });
    let mut conn = open(server.port, &Silent);
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
    // Nothing but a NOOP shows the connection is still in step.
    conn.noop(&Silent).unwrap();
    assert_eq!(server.commands(), ["EHLO client.test", "NOOP"]);
}

#[test]
fn tls_config_rejects_bad_pems() {
    assert!(tls_config(Trust::Roots(&[]), None, TlsVersion::Tls12).is_ok());
    let err = tls_config(
        Trust::Roots(&[b"not a certificate".to_vec()]),
        None,
        TlsVersion::Tls12,
    )
    .unwrap_err();
    assert!(err.contains("no PEM certificate"), "{err}");
    let err = tls_config(
        Trust::Roots(&[]),
        Some((b"x".to_vec(), b"y".to_vec())),
        TlsVersion::Tls12,
    )
    .unwrap_err();
    assert!(err.contains("client certificate"), "{err}");
}

/// A listener that answers whatever arrives with a TLS alert record (as a port that speaks TLS
/// from the first byte answers a ClientHello it cannot serve), or says nothing at all.
fn raw_listener(answer: Option<&'static [u8]>) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let mut buf = [0u8; 512];
        let _ = tcp.read(&mut buf);
        match answer {
            Some(bytes) => {
                let _ = io::Write::write_all(&mut tcp, bytes);
            }
            None => std::thread::sleep(Duration::from_millis(1500)),
        }
    });
    (port, handle)
}

/// A fatal `handshake_failure` alert, TLS 1.2 record.
const TLS_ALERT: &[u8] = &[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];

#[test]
fn implicit_tls_to_a_port_that_greets_in_plain_text_is_told_apart() {
    let server = Server::start(mx());
    let config = tls_config(Trust::Roots(&[]), None, TlsVersion::Tls12).unwrap();
    let name = ServerName::try_from("mx.test").unwrap();
    let err = Connection::connect(
        "127.0.0.1",
        server.port,
        TIMEOUT,
        Some((config, name)),
        &Silent,
    )
    .err()
    .expect("no TLS");
    assert!(
        matches!(
            err,
            SmtpError::Tls {
                stage: "connect",
                error: Some(rustls::Error::InvalidMessage(_)),
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn only_a_port_that_speaks_tls_answers_a_client_hello() {
    let (port, tls) = raw_listener(Some(TLS_ALERT));
    assert!(answers_tls("127.0.0.1", port, None, TIMEOUT));
    tls.join().unwrap();
    // An SMTP server greets (and then answers the ClientHello with an error line).
    let server = Server::start(mx());
    assert!(!answers_tls("127.0.0.1", server.port, None, TIMEOUT));
    // A relay that says nothing is not taken for a TLS port: the wait is the probe's.
    let (port, silent) = raw_listener(None);
    let started = Instant::now();
    assert!(!answers_tls(
        "127.0.0.1",
        port,
        None,
        Duration::from_millis(300)
    ));
    assert!(started.elapsed() < Duration::from_secs(1));
    silent.join().unwrap();
    // Nothing listens.
    assert!(!answers_tls("127.0.0.1", port, None, TIMEOUT));
}

/// Names that do not exist are tested against a DNS server of the tests' own (the integration
/// tests' dnsmasq): a unit test asks no resolver beyond this host.
#[test]
fn addresses_resolve_without_a_resolver() {
    assert_eq!(resolve("[127.0.0.1]", 25).unwrap()[0].port(), 25);
    assert!(resolve("127.0.0.1", 587).unwrap()[0].ip().is_loopback());
    assert!(resolve("[::1]", 465).unwrap()[0].ip().is_loopback());
}

/// Streamed transactions: three go out before any reply is read, and each gets its own
/// replies, in order; the one whose recipient was refused delivers nothing and the next one is
/// not disturbed by it.
#[test]
fn streamed_transactions_are_answered_in_order() {
    let server = Server::start(Script {
        rcpt: vec![acts([
            reply("250 2.1.5 Ok"),
            reply("550 5.1.1 <b@x.test>: User unknown"),
            reply("250 2.1.5 Ok"),
        ])],
        ..chunking(Vec::new())
    });
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
    assert!(conn.streams(100));
    assert!(
        !conn.streams(CHUNK as u64),
        "a message over one chunk streams through DATA"
    );
    for (to, body) in [
        ("a@x.test", "one"),
        ("b@x.test", "two"),
        ("c@x.test", "three"),
    ] {
        conn.begin(
            Some("me@client.test"),
            &[],
            &rcpts(&[to]),
            body.as_bytes(),
            &rec,
        )
        .unwrap();
    }
    assert_eq!(conn.unanswered(), 3);
    let results: Vec<Transaction> = (0..3).map(|_| conn.finish(&rec).unwrap()).collect();
    assert_eq!(conn.unanswered(), 0);
    assert!(results[0].data.as_ref().unwrap().is_ok());
    assert_eq!(results[1].accepted(), 0);
    assert_eq!(results[1].data, None);
    assert_eq!(
        results[1].recipients[0].1.as_ref().unwrap_err().text(),
        "550 5.1.1 <b@x.test>: User unknown"
    );
    assert!(results[2].data.as_ref().unwrap().is_ok());
    conn.finish(&rec).unwrap_err();
    quit(conn, &server, &rec);
    let bodies: Vec<Vec<u8>> = server.messages().into_iter().map(|m| m.data).collect();
    assert_eq!(bodies, [b"one\r\n".to_vec(), b"three\r\n".to_vec()]);
    let records = server.command_records();
    let bdats: Vec<bool> = records
        .iter()
        .filter(|c| c.line.starts_with("BDAT"))
        .map(|c| c.pipelined)
        .collect();
    // One at a time, the server would have answered each BDAT before the next MAIL came.
    assert_eq!(
        bdats[..2],
        [true, true],
        "the next transaction did not go out before the reply to the one before: {records:?}"
    );
}

/// A relay offering PLAIN with PIPELINING and CHUNKING, taking `jdoe` with `right`; MAIL
/// needs the login.
fn chunking_with_login() -> Script {
    Script {
        mail: testkit::smtp::Acts::default(),
        rcpt: Vec::new(),
        auth: Some(Auth {
            refused: "535 5.7.8 Error: authentication failed".into(),
            ..Auth::new(&["PLAIN"], |user, password| {
                user == "jdoe" && password == "right"
            })
        }),
        ..chunking(vec![reply("250 2.1.5 Ok")])
    }
}

/// AUTH PLAIN with its initial response leads the first transaction's flight (RFC 4954
/// section 4), shown without the credentials.
#[test]
fn a_one_step_login_goes_with_the_first_message() {
    let server = Server::start(chunking_with_login());
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
    assert!(conn.authenticate_with_next_transaction(&mut sasl::Plain::new("jdoe", "right")));
    let result = conn
        .transaction(
            Some("me@client.test"),
            &[],
            &rcpts(&["a@x.test"]),
            &mut &b"hi"[..],
            &rec,
        )
        .unwrap();
    assert!(result.data.unwrap().is_ok());
    assert!(!conn.is_broken());
    quit(conn, &server, &rec);
    let records = server.command_records();
    let lines: Vec<&str> = records.iter().map(|c| c.line.as_str()).collect();
    assert_eq!(
        lines,
        [
            "EHLO client.test",
            "AUTH PLAIN <payload>",
            "MAIL FROM:<me@client.test>",
            "RCPT TO:<a@x.test>",
            "BDAT 4 LAST",
            "QUIT"
        ]
    );
    assert!(
        records[1..5].iter().all(|c| c.read == records[1].read),
        "the login and the transaction took more than one flight"
    );
    assert_eq!(server.messages().len(), 1);
    assert_eq!(server.violations(), Vec::<String>::new());
    let shown = rec.lines();
    assert!(shown.contains(&"C: AUTH PLAIN (credentials not shown)".to_string()));
    assert!(
        !shown
            .iter()
            .any(|l| l.contains("right") || l.contains("AGpk"))
    );
}

/// A refused login that went with the message is the login's refusal (not the 530 that MAIL
/// got for it), nothing is delivered, and the connection is not used again.
#[test]
fn a_refused_login_sent_with_the_message_is_the_error() {
    let server = Server::start(chunking_with_login());
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
    assert!(conn.authenticate_with_next_transaction(&mut sasl::Plain::new("jdoe", "wrong")));
    conn.begin(
        Some("me@client.test"),
        &[],
        &rcpts(&["a@x.test"]),
        b"one",
        &rec,
    )
    .unwrap();
    conn.begin(
        Some("me@client.test"),
        &[],
        &rcpts(&["b@x.test"]),
        b"two",
        &rec,
    )
    .unwrap();
    for _ in 0..2 {
        let err = conn.finish(&rec).unwrap_err();
        assert_eq!(
            err.to_string(),
            "AUTH: 535 5.7.8 Error: authentication failed"
        );
    }
    assert!(conn.is_broken());
    assert!(server.messages().is_empty());
    assert!(
        rec.lines()
            .contains(&"S: 530 5.7.0 Authentication required".to_string())
    );
}

/// Without PIPELINING, or with a mechanism that needs challenges, the login is not deferred,
/// and a login waiting for a transaction goes out on its own before any other command.
#[test]
fn a_login_is_deferred_only_where_allowed() {
    let server = Server::start(Script {
        pipelining: false,
        ..chunking_with_login()
    });
    let rec = Recorder::default();
    let mut conn = open(server.port, &rec);
    assert!(!conn.authenticate_with_next_transaction(&mut sasl::Plain::new("jdoe", "right")));
    quit(conn, &server, &rec);

    let server = Server::start(chunking_with_login());
    let mut conn = open(server.port, &rec);
    assert!(!conn.authenticate_with_next_transaction(&mut sasl::Login::new("jdoe", "right")));
    assert!(conn.authenticate_with_next_transaction(&mut sasl::Plain::new("jdoe", "right")));
    conn.rset(&rec).unwrap();
    quit(conn, &server, &rec);
    assert_eq!(
        server.commands(),
        ["EHLO client.test", "AUTH PLAIN <payload>", "RSET", "QUIT"]
    );
}
