//! The server side of an SMTP dialogue (RFC 5321), independent of where the bytes come from
//! (`sendmail -bs` on stdin and stdout, or a socket) and of what happens to the mail (the
//! [`Backend`]).
//!
//! The dialogue checks syntax, order and limits; the backend decides about recipients and takes
//! messages. A message is read whole (to the CRLF.CRLF that ends it) before anything is queued,
//! and refused when it held a bare LF or CR: nothing of a smuggled second message is ever taken.
//! Replies are written as they come and flushed whenever the client has nothing more waiting,
//! so that a pipelining client gets one flight of replies for one flight of commands.

use std::io::{self, BufRead, BufReader, Read, Write};

use super::input::{DataReader, LineError, read_command};

/// A reply to the client: a code and text (with its enhanced status code). Text with line
/// breaks is sent as a multi-line reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

impl Reply {
    pub fn new(code: u16, text: impl Into<String>) -> Self {
        Reply {
            code,
            text: text.into(),
        }
    }

    /// Writes the reply, one `code-text` line per line of text and `code text` last. Control
    /// characters in the text become spaces: a reply is never more lines than it says.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        let lines: Vec<String> = self
            .text
            .split('\n')
            .map(|l| {
                l.chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect()
            })
            .collect();
        for (i, line) in lines.iter().enumerate() {
            let sep = if i + 1 == lines.len() { ' ' } else { '-' };
            write!(out, "{}{sep}{}\r\n", self.code, line.trim_end())?;
        }
        Ok(())
    }
}

/// The envelope of the transaction being built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transaction {
    /// `MAIL FROM`; `Some(None)` is the null sender `<>`.
    pub sender: Option<Option<String>>,
    /// Accepted `RCPT TO` addresses, as the client wrote them.
    pub recipients: Vec<String>,
}

/// Whoever takes the mail of a dialogue.
pub trait Backend {
    /// A message read and prepared, not yet queued.
    type Pending;

    /// Decides about one recipient; `Err` is the reply that refuses it.
    fn recipient(&mut self, address: &str) -> Result<(), Reply>;

    /// Reads the whole message from `data` and prepares it; nothing may be queued yet, since
    /// the message can still be refused when it turns out to hold a bare LF.
    fn receive(
        &mut self,
        transaction: &Transaction,
        data: &mut dyn BufRead,
    ) -> Result<Self::Pending, Reply>;

    /// Queues (or delivers) a message that was received whole and clean; returns the reply to
    /// the final dot.
    fn commit(&mut self, pending: Self::Pending) -> Reply;
}

/// What the dialogue announces and enforces.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The name in the greeting and the EHLO reply.
    pub hostname: String,
    /// The largest message accepted (announced as SIZE).
    pub size_limit: u64,
    /// The most recipients per message.
    pub max_recipients: usize,
    /// Errors after which the session is ended with 421.
    pub max_errors: usize,
}

/// Runs a dialogue until QUIT, the end of the input, or too many errors.
pub fn serve<R: Read, B: Backend>(
    input: &mut BufReader<R>,
    out: &mut dyn Write,
    settings: &Settings,
    backend: &mut B,
) -> io::Result<()> {
    let mut session = Session {
        settings,
        transaction: Transaction::default(),
        errors: 0,
    };
    Reply::new(220, format!("{} ESMTP relayctl", settings.hostname)).write_to(out)?;
    loop {
        if input.buffer().is_empty() {
            out.flush()?;
        }
        let line = match read_command(input) {
            Ok(line) => line,
            Err(LineError::Closed) => return out.flush(),
            Err(LineError::TooLong) => {
                if session.error(out, Reply::new(500, "5.5.2 Error: line too long"))? {
                    return out.flush();
                }
                continue;
            }
            Err(LineError::BareNewline) => {
                Reply::new(550, "5.5.2 Error: bare <LF> or <CR> received").write_to(out)?;
                return out.flush();
            }
            Err(LineError::Io(e)) => return Err(e),
        };
        let (verb, rest) = match line.split_once(' ') {
            Some((v, r)) => (v.to_ascii_uppercase(), r),
            None => (line.to_ascii_uppercase(), ""),
        };
        let reply = match verb.as_str() {
            "EHLO" if !rest.trim().is_empty() => {
                session.transaction = Transaction::default();
                Reply::new(
                    250,
                    format!(
                        "{}\nPIPELINING\n8BITMIME\nSMTPUTF8\nSIZE {}\nENHANCEDSTATUSCODES",
                        settings.hostname, settings.size_limit
                    ),
                )
            }
            "HELO" if !rest.trim().is_empty() => {
                session.transaction = Transaction::default();
                Reply::new(250, settings.hostname.clone())
            }
            "EHLO" | "HELO" => Reply::new(501, format!("5.5.4 Syntax: {verb} hostname")),
            "MAIL" => session.mail(rest),
            "RCPT" => session.rcpt(rest, backend),
            "DATA" if !rest.is_empty() => Reply::new(501, "5.5.4 Syntax: DATA"),
            "DATA" => match session.data_ready() {
                Err(reply) => reply,
                Ok(()) => {
                    Reply::new(354, "End data with <CR><LF>.<CR><LF>").write_to(out)?;
                    out.flush()?;
                    let reply = session.data(input, backend)?;
                    session.transaction = Transaction::default();
                    reply
                }
            },
            "RSET" => {
                session.transaction = Transaction::default();
                Reply::new(250, "2.0.0 Ok")
            }
            "NOOP" => Reply::new(250, "2.0.0 Ok"),
            "VRFY" | "EXPN" => Reply::new(252, "2.0.0 Cannot VRFY user; try RCPT"),
            "HELP" => Reply::new(
                214,
                "2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT",
            ),
            "QUIT" => {
                Reply::new(221, "2.0.0 Bye").write_to(out)?;
                return out.flush();
            }
            _ => Reply::new(502, "5.5.2 Error: command not recognized"),
        };
        let failed = reply.code >= 500 && !matches!(reply.code, 550..=554);
        if failed {
            if session.error(out, reply)? {
                return out.flush();
            }
        } else {
            reply.write_to(out)?;
        }
    }
}

/// The state of one dialogue.
struct Session<'s> {
    settings: &'s Settings,
    transaction: Transaction,
    errors: usize,
}

impl Session<'_> {
    /// Sends an error reply and counts it; true when the session must end (421 sent).
    fn error(&mut self, out: &mut dyn Write, reply: Reply) -> io::Result<bool> {
        self.errors += 1;
        if self.errors >= self.settings.max_errors {
            Reply::new(421, "4.7.0 Error: too many errors").write_to(out)?;
            return Ok(true);
        }
        reply.write_to(out)?;
        Ok(false)
    }

    fn mail(&mut self, rest: &str) -> Reply {
        if self.transaction.sender.is_some() {
            return Reply::new(503, "5.5.1 Error: nested MAIL command");
        }
        let Some((path, params)) = path_and_parameters(rest, "FROM:") else {
            return Reply::new(501, "5.5.4 Syntax: MAIL FROM:<address>");
        };
        for param in params {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            match key.to_ascii_uppercase().as_str() {
                "SIZE" => match value.parse::<u64>() {
                    Ok(size) if size > self.settings.size_limit => {
                        return Reply::new(
                            552,
                            format!(
                                "5.3.4 Message size exceeds the limit of {} bytes",
                                self.settings.size_limit
                            ),
                        );
                    }
                    Ok(_) => {}
                    Err(_) => return Reply::new(501, "5.5.4 Bad SIZE parameter"),
                },
                "BODY" if matches!(value.to_ascii_uppercase().as_str(), "7BIT" | "8BITMIME") => {}
                "SMTPUTF8" if value.is_empty() => {}
                _ => {
                    return Reply::new(555, format!("5.5.4 Unsupported option: {key}"));
                }
            }
        }
        self.transaction.sender = Some((!path.is_empty()).then_some(path));
        Reply::new(250, "2.1.0 Ok")
    }

    fn rcpt(&mut self, rest: &str, backend: &mut impl Backend) -> Reply {
        if self.transaction.sender.is_none() {
            return Reply::new(503, "5.5.1 Error: need MAIL command");
        }
        let Some((path, params)) = path_and_parameters(rest, "TO:") else {
            return Reply::new(501, "5.5.4 Syntax: RCPT TO:<address>");
        };
        if let Some(param) = params.first() {
            let key = param.split_once('=').map_or(*param, |(k, _)| k);
            return Reply::new(555, format!("5.5.4 Unsupported option: {key}"));
        }
        if path.is_empty() {
            return Reply::new(501, "5.1.3 Bad recipient address syntax");
        }
        if self.transaction.recipients.len() >= self.settings.max_recipients {
            return Reply::new(452, "4.5.3 Error: too many recipients");
        }
        match backend.recipient(&path) {
            Ok(()) => {
                self.transaction.recipients.push(path);
                Reply::new(250, "2.1.5 Ok")
            }
            Err(reply) => reply,
        }
    }

    /// Whether DATA may start now.
    fn data_ready(&self) -> Result<(), Reply> {
        if self.transaction.sender.is_none() {
            return Err(Reply::new(503, "5.5.1 Error: need MAIL command"));
        }
        if self.transaction.recipients.is_empty() {
            return Err(Reply::new(503, "5.5.1 Error: need RCPT command"));
        }
        Ok(())
    }

    /// Reads the message after 354 and returns the reply to its final dot.
    fn data<R: Read, B: Backend>(
        &mut self,
        input: &mut BufReader<R>,
        backend: &mut B,
    ) -> io::Result<Reply> {
        let mut data = DataReader::new(input);
        let received = backend.receive(&self.transaction, &mut data);
        // Whatever the backend took, the message is read to its end before the next command.
        let bare = data.finish()?;
        Ok(match received {
            Err(reply) => reply,
            Ok(_) if bare => Reply::new(550, "5.5.2 Error: bare <LF> or <CR> received"),
            Ok(pending) => backend.commit(pending),
        })
    }
}

/// The address and parameters of `FROM:<a> X=y` / `TO:<a>`; `None` when malformed. An address
/// with white space or control characters in it is malformed.
fn path_and_parameters<'a>(rest: &'a str, prefix: &str) -> Option<(String, Vec<&'a str>)> {
    let head = rest.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = rest[prefix.len()..].trim_start();
    let (path, params) = match rest.strip_prefix('<') {
        Some(inner) => inner.split_once('>')?,
        None => rest.split_once(' ').unwrap_or((rest, "")),
    };
    if path
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
    {
        return None;
    }
    let params: Vec<&str> = params.split(' ').filter(|p| !p.is_empty()).collect();
    Some((path.to_string(), params))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes every message and records it.
    #[derive(Default)]
    struct Recorder {
        messages: Vec<(Transaction, Vec<u8>)>,
    }

    impl Backend for Recorder {
        type Pending = (Transaction, Vec<u8>);

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
        }
    }

    fn dialogue(input: &[u8]) -> (String, Recorder) {
        let mut backend = Recorder::default();
        let mut out = Vec::new();
        serve(
            &mut BufReader::new(input),
            &mut out,
            &settings(),
            &mut backend,
        )
        .unwrap();
        (String::from_utf8(out).unwrap(), backend)
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
        assert!(out.contains("250-PIPELINING\r\n") && out.contains("250 ENHANCEDSTATUSCODES\r\n"));
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
            b"RCPT TO:<b@y>\r\nDATA\r\nMAIL FROM:<a b@x>\r\nMAIL FROM:<a@x> ENVID=x\r\nMAIL FROM:<> SIZE=5000\r\nMAIL FROM:<>\r\nMAIL FROM:<>\r\nRCPT TO:<b@y> NOTIFY=NEVER\r\nDATA\r\nVRFY x\r\nQUIT\r\n",
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
            [
                "220", "552", "250", "503", "555", "503", "252", "250", "250", "221"
            ],
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
    fn replies_never_carry_line_breaks_from_their_text() {
        let mut out = Vec::new();
        Reply::new(550, "5.1.1 a\r\n250 forged\u{1b}[2J")
            .write_to(&mut out)
            .unwrap();
        assert_eq!(out, b"550-5.1.1 a\r\n550 250 forged [2J\r\n");
    }
}
