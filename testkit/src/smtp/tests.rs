//! The server's own rules, checked with a raw client: the order in which acts are used, the
//! answers to commands out of sequence, BDAT, and what is recorded. (TLS and the OAuth2
//! logins are checked in relayctl's integration tests, which have a test CA:
//! tests/integration/oauth_server.rs.)

use std::net::TcpStream;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::*;

/// A raw client.
struct Client(Wire<rustls::ClientConnection>);

impl Client {
    /// Connects and returns the client with the greeting.
    fn connect(server: &Server) -> (Client, String) {
        let tcp = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut client = Client(Wire::new(Stream::Plain(tcp)));
        let greeting = client.reply();
        (client, greeting)
    }

    /// A whole reply, its lines joined by `\n`.
    fn reply(&mut self) -> String {
        let mut lines = Vec::new();
        loop {
            let line = self.0.read_line().unwrap().expect("a reply");
            let line = String::from_utf8(line).unwrap();
            let line = line.strip_suffix("\r\n").expect("CRLF").to_string();
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                return lines.join("\n");
            }
        }
    }

    /// Sends bytes as they are and reads the reply.
    fn raw(&mut self, bytes: &str) -> String {
        self.0.send_bytes(bytes.as_bytes()).unwrap();
        self.reply()
    }

    fn cmd(&mut self, line: &str) -> String {
        self.raw(&format!("{line}\r\n"))
    }
}

#[test]
fn acts_by_occurrence_and_answers_out_of_sequence() {
    let server = Server::start(Script {
        mail: acts([reply("451 4.3.0 first"), Act::Accept]),
        rcpt: vec![
            acts([reply("550 5.1.1 first recipient, first time"), Act::Accept]),
            reply("450 4.2.1 second recipient").into(),
        ],
        ..Script::default()
    });
    let (mut c, greeting) = Client::connect(&server);
    assert_eq!(greeting, "220 fault.test ESMTP");
    assert_eq!(
        c.cmd("EHLO client.test"),
        "250-fault.test\n250-8BITMIME\n250 SIZE 50000000"
    );
    // A scripted act is used as it is; only Accept looks at the state of the session. The
    // second MAIL takes the second act, and every later one the last.
    assert_eq!(c.cmd("MAIL FROM:<a@x.test>"), "451 4.3.0 first");
    assert_eq!(c.cmd("MAIL FROM:<a@x.test> SIZE=10"), "250 2.1.0 OK");
    assert_eq!(
        c.cmd("MAIL FROM:<a@x.test>"),
        "503 5.5.1 Nested MAIL command"
    );
    assert_eq!(c.cmd("DATA"), "503 5.5.1 Need RCPT command");
    assert_eq!(
        c.cmd("RCPT TO:<b@x.test>"),
        "550 5.1.1 first recipient, first time"
    );
    assert_eq!(c.cmd("RCPT TO:<c@x.test>"), "450 4.2.1 second recipient");
    assert_eq!(c.cmd("RCPT TO:<d@x.test>"), "250 2.1.5 OK");
    assert_eq!(c.cmd("RSET"), "250 2.0.0 OK");
    // A new transaction: its first recipient meets the first position's second act.
    assert_eq!(c.cmd("MAIL FROM:<>"), "250 2.1.0 OK");
    assert_eq!(c.cmd("RCPT TO:<e@x.test> NOTIFY=NEVER"), "250 2.1.5 OK");
    assert!(c.cmd("DATA").starts_with("354 "));
    // Bare LF in the message is taken, and recorded as a violation.
    assert_eq!(
        c.raw("Subject: x\n\r\n..dot\r\n.\r\n"),
        "250 2.0.0 OK queued"
    );
    assert_eq!(c.cmd("QUIT"), "221 2.0.0 Bye");

    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.mail_from, "<>");
    assert_eq!(m.rcpt_to, ["<e@x.test> NOTIFY=NEVER"]);
    assert_eq!(m.data, b"Subject: x\n\r\n.dot\r\n");
    assert_eq!(m.raw, b"Subject: x\n\r\n..dot\r\n.\r\n");
    assert_eq!(m.reply.as_deref(), Some("250 2.0.0 OK queued"));
    assert_eq!(server.violations(), ["a message line ends in a bare LF"]);
    assert_eq!(server.count("mail from:"), 4);
    assert_eq!(server.connections(), 1);
}

#[test]
fn bdat_chunks_make_one_message() {
    let server = Server::start(Script {
        chunking: true,
        pipelining: true,
        size: None,
        eightbitmime: false,
        ..Script::default()
    });
    let (mut c, _) = Client::connect(&server);
    assert_eq!(
        c.cmd("EHLO client.test"),
        "250-fault.test\n250-PIPELINING\n250 CHUNKING"
    );
    c.cmd("MAIL FROM:<a@x.test>");
    c.cmd("RCPT TO:<b@x.test>");
    assert_eq!(c.raw("BDAT 5\r\nHello"), "250 2.0.0 5 octets received");
    assert_eq!(c.raw("BDAT 8 LAST\r\n\r\n.world"), "250 2.0.0 OK queued");
    assert_eq!(c.cmd("BDAT x"), "501 5.5.4 Syntax: BDAT size [LAST]");
    let m = &server.messages()[0];
    assert_eq!(m.data, b"Hello\r\n.world");
    assert_eq!(m.raw, m.data);
}

#[test]
fn logins_are_checked_and_recorded() {
    let server = Server::start(Script {
        auth: Some(Auth::new(&["PLAIN", "LOGIN"], |user, password| {
            user == "jdoe" && password == "pw"
        })),
        ..Script::default()
    });
    let (mut c, _) = Client::connect(&server);
    assert_eq!(c.cmd("AUTH PLAIN"), "503 5.5.1 Send EHLO first");
    assert_eq!(c.cmd("MAIL FROM:<a@x.test>"), "503 5.5.1 Send EHLO first");
    assert!(
        c.cmd("EHLO client.test")
            .contains("\n250-AUTH PLAIN LOGIN\n")
    );
    assert_eq!(
        c.cmd("MAIL FROM:<a@x.test>"),
        "530 5.7.0 Authentication required"
    );
    assert_eq!(c.cmd("RCPT TO:<b@x.test>"), "503 5.5.1 Need MAIL command");
    let plain = |s: &str| STANDARD.encode(s);
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {}", plain("jdoe\0jdoe\0pw"))),
        "501 5.5.2 malformed"
    );
    assert_eq!(c.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6");
    assert_eq!(c.cmd(&plain("jdoe")), "334 UGFzc3dvcmQ6");
    assert_eq!(
        c.cmd(&plain("nope")),
        "535 5.7.8 Username and Password not accepted"
    );
    assert_eq!(
        c.cmd("AUTH CRAM-MD5"),
        "504 5.5.4 Unrecognized authentication type"
    );
    assert_eq!(
        c.cmd(&format!("AUTH LOGIN {}", plain("jdoe"))),
        "334 UGFzc3dvcmQ6"
    );
    assert_eq!(c.cmd(&plain("pw")), "235 2.7.0 Accepted");
    assert_eq!(c.cmd("AUTH LOGIN"), "503 5.5.1 Already authenticated");
    assert_eq!(c.cmd("MAIL FROM:<a@x.test>"), "250 2.1.0 OK");

    let outcomes: Vec<(String, String, bool)> = server
        .auths()
        .into_iter()
        .map(|a| (a.mechanism, a.secret, a.accepted))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("LOGIN".into(), "nope".into(), false),
            ("LOGIN".into(), "pw".into(), true)
        ]
    );
    let violations = server.violations();
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(violations[0].contains("authorization identity"));
    assert!(violations[1].contains("CRAM-MD5"));
    assert!(
        server
            .commands()
            .contains(&"AUTH PLAIN <payload>".to_string())
    );
}
