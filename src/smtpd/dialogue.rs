//! The server side of an SMTP dialogue (RFC 5321), independent of where the bytes come from
//! (`sendmail -bs` on stdin and stdout, or a listener's socket) and of what happens to the mail
//! (the [`Backend`]).
//!
//! The dialogue checks syntax, order and limits; the backend decides about logins, senders and
//! recipients, and takes messages. A message is read whole (to the CRLF.CRLF that ends it, or
//! to `BDAT ... LAST`) before anything is queued, and refused when it held a bare LF or CR:
//! nothing of a smuggled second message is ever taken. Replies are written as they come and
//! flushed whenever the client has nothing more waiting, so that a pipelining client gets one
//! flight of replies for one flight of commands.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::auth::{self, AuthError, Credentials, Mechanism};
use super::chunks::{self, Chunks};
use super::command;
use super::input::{DataReader, LineError, read_command};
use super::reply::Reply;
use crate::message::envelope::Dsn;

/// The envelope of the transaction being built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transaction {
    /// `MAIL FROM`; `Some(None)` is the null sender `<>`.
    pub sender: Option<Option<String>>,
    /// Accepted `RCPT TO` addresses, as the client wrote them.
    pub recipients: Vec<String>,
    /// DSN parameters: RET and ENVID of MAIL, the NOTIFY all recipients share.
    pub dsn: Dsn,
}

/// Whoever takes the mail of a dialogue.
pub trait Backend {
    /// A message read and prepared, not yet queued.
    type Pending;

    /// Checks a login (only asked when [`Settings::auth`] offers AUTH); `Err` is the refusal.
    fn login(&mut self, credentials: &Credentials) -> Result<(), Reply> {
        let _ = credentials;
        Err(Reply::new(503, "5.5.1 Error: authentication not enabled"))
    }

    /// Decides about the envelope sender (`None`: the null sender); `Err` is the refusal.
    fn sender(&mut self, sender: Option<&str>) -> Result<(), Reply> {
        let _ = sender;
        Ok(())
    }

    /// Whether the client may submit mail at all; `Err` is the refusal. Asked first at every
    /// RCPT, before the order of commands is checked: a client that may not relay hears so
    /// (`554 5.7.1`) whatever it sent before, which is the reply open-relay probes look for.
    fn access(&self) -> Result<(), Reply> {
        Ok(())
    }

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
    /// the final dot or `BDAT ... LAST`.
    fn commit(&mut self, pending: Self::Pending) -> Reply;

    /// A message received but refused by the dialogue (it held a bare LF or CR) with `reply`:
    /// nothing of it is queued.
    fn discard(&mut self, pending: Self::Pending, reply: &Reply) {
        let _ = (pending, reply);
    }
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
    /// Commands after which the session is ended with 421.
    pub max_commands: usize,
    /// STARTTLS is offered (a certificate is configured and the session is in the clear).
    pub starttls: bool,
    /// AUTH PLAIN and LOGIN are offered (under TLS, or on loopback).
    pub auth: bool,
    /// A command that must be the last of a pipelined group (RFC 2920 section 3.1: EHLO, HELO,
    /// DATA, AUTH, STARTTLS) and is followed by more input ends the session, as Postfix's
    /// `smtpd_forbid_unauth_pipelining` does: spamware talks ahead, mail clients wait.
    pub strict_pipelining: bool,
    /// Where BDAT chunks spill to disk.
    pub scratch: PathBuf,
    /// Set while the dialogue waits for a command. A read that fails then with
    /// `ConnectionAborted` means the server is shutting down: the client gets `421` (a
    /// message being read is never cut short).
    pub idle: Option<Arc<AtomicBool>>,
}

/// How a dialogue ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The client said QUIT.
    Quit,
    /// The client went away.
    Closed,
    /// STARTTLS was accepted: the caller starts TLS and serves again without a greeting.
    StartTls,
    /// The server ended the session (too many errors or commands, a bare LF in a command,
    /// improper pipelining); the reply that said so was sent.
    Dropped(&'static str),
}

/// Runs a dialogue until QUIT, the end of the input, STARTTLS, or a reason to end it. `greet`
/// sends the 220 greeting first (not after STARTTLS).
pub fn serve<R: Read, B: Backend>(
    input: &mut BufReader<R>,
    out: &mut dyn Write,
    settings: &Settings,
    backend: &mut B,
    greet: bool,
) -> io::Result<End> {
    let mut session = Session {
        settings,
        transaction: Transaction::default(),
        chunks: None,
        chunks_failed: false,
        errors: 0,
        commands: 0,
        authenticated: false,
    };
    if greet {
        Reply::new(220, format!("{} ESMTP relayctl", settings.hostname)).write_to(out)?;
    }
    let end = session.run(input, out, backend);
    out.flush()?;
    end
}

/// The state of one dialogue.
struct Session<'s> {
    settings: &'s Settings,
    transaction: Transaction,
    /// The message of a BDAT transaction, once its first chunk came.
    chunks: Option<Chunks>,
    /// A chunk of this transaction was refused: the others are read and refused too.
    chunks_failed: bool,
    errors: usize,
    commands: usize,
    authenticated: bool,
}

/// What one command leads to.
enum Next {
    Reply(Reply),
    End(End),
}

impl Session<'_> {
    fn run<R: Read, B: Backend>(
        &mut self,
        input: &mut BufReader<R>,
        out: &mut dyn Write,
        backend: &mut B,
    ) -> io::Result<End> {
        loop {
            if input.buffer().is_empty() {
                out.flush()?;
            }
            let line = self.next_command(input);
            let line = match line {
                Ok(line) => line,
                Err(LineError::Closed) => return Ok(End::Closed),
                Err(LineError::Io(e)) if e.kind() == io::ErrorKind::ConnectionAborted => {
                    Reply::new(421, "4.3.2 Error: shutting down; try again later").write_to(out)?;
                    return Ok(End::Dropped("shutting down"));
                }
                Err(LineError::TooLong) => {
                    if let Some(end) =
                        self.error(out, Reply::new(500, "5.5.2 Error: line too long"))?
                    {
                        return Ok(end);
                    }
                    continue;
                }
                Err(LineError::BareNewline) => return bare_newline(out),
                Err(LineError::Io(e)) => return Err(e),
            };
            self.commands += 1;
            if self.commands > self.settings.max_commands {
                Reply::new(421, "4.7.0 Error: too many commands").write_to(out)?;
                return Ok(End::Dropped("too many commands"));
            }
            let (verb, rest) = match line.split_once(' ') {
                Some((v, r)) => (v.to_ascii_uppercase(), r),
                None => (line.to_ascii_uppercase(), ""),
            };
            if self.settings.strict_pipelining
                && matches!(
                    verb.as_str(),
                    "EHLO" | "HELO" | "DATA" | "AUTH" | "STARTTLS"
                )
                && !input.buffer().is_empty()
            {
                Reply::new(
                    554,
                    format!("5.5.0 Error: improper command pipelining after {verb}"),
                )
                .write_to(out)?;
                return Ok(End::Dropped("improper command pipelining"));
            }
            let reply = match self.command(&verb, rest, input, out, backend)? {
                Next::Reply(reply) => reply,
                Next::End(end) => return Ok(end),
            };
            let counted = reply.code >= 500 && !matches!(reply.code, 550..=554);
            if counted {
                if let Some(end) = self.error(out, reply)? {
                    return Ok(end);
                }
            } else {
                reply.write_to(out)?;
            }
        }
    }

    fn command<R: Read, B: Backend>(
        &mut self,
        verb: &str,
        rest: &str,
        input: &mut BufReader<R>,
        out: &mut dyn Write,
        backend: &mut B,
    ) -> io::Result<Next> {
        let reply = match verb {
            "EHLO" | "HELO" if rest.trim().is_empty() => {
                Reply::new(501, format!("5.5.4 Syntax: {verb} hostname"))
            }
            "EHLO" => {
                self.reset();
                Reply::new(250, self.ehlo_keywords())
            }
            "HELO" => {
                self.reset();
                Reply::new(250, self.settings.hostname.clone())
            }
            "MAIL" => self.mail(rest, backend),
            "RCPT" => self.rcpt(rest, backend),
            "DATA" if !rest.is_empty() => Reply::new(501, "5.5.4 Syntax: DATA"),
            "DATA" => match self.data_ready() {
                Err(reply) => reply,
                Ok(()) => {
                    Reply::new(354, "End data with <CR><LF>.<CR><LF>").write_to(out)?;
                    out.flush()?;
                    let next = self.data(input, backend)?;
                    self.reset();
                    return Ok(next);
                }
            },
            "BDAT" => return self.bdat(rest, input, out, backend),
            "AUTH" => return self.auth(rest, input, out, backend),
            "STARTTLS" if !self.settings.starttls => {
                Reply::new(502, "5.5.1 Error: command not implemented")
            }
            "STARTTLS" if !rest.is_empty() => Reply::new(501, "5.5.4 Syntax: STARTTLS"),
            "STARTTLS" => {
                Reply::new(220, "2.0.0 Ready to start TLS").write_to(out)?;
                return Ok(Next::End(End::StartTls));
            }
            "RSET" => {
                self.reset();
                Reply::new(250, "2.0.0 Ok")
            }
            "NOOP" => Reply::new(250, "2.0.0 Ok"),
            "VRFY" | "EXPN" => Reply::new(252, "2.0.0 Cannot VRFY user; try RCPT"),
            "HELP" => Reply::new(
                214,
                "2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP VRFY HELP STARTTLS AUTH QUIT",
            ),
            "QUIT" => {
                Reply::new(221, "2.0.0 Bye").write_to(out)?;
                return Ok(Next::End(End::Quit));
            }
            _ => Reply::new(502, "5.5.2 Error: command not recognized"),
        };
        Ok(Next::Reply(reply))
    }

    /// Reads the next command line, marked idle while it waits for one (see
    /// [`Settings::idle`]); once a byte of it has come, the line is read to its end.
    fn next_command<R: Read>(&self, input: &mut BufReader<R>) -> Result<String, LineError> {
        if let Some(idle) = &self.settings.idle
            && input.buffer().is_empty()
        {
            idle.store(true, Ordering::Relaxed);
            let waited = input.fill_buf().map(|b| b.is_empty());
            idle.store(false, Ordering::Relaxed);
            if waited? {
                return Err(LineError::Closed);
            }
        }
        read_command(input)
    }

    fn ehlo_keywords(&self) -> String {
        let mut lines = vec![
            self.settings.hostname.clone(),
            "PIPELINING".into(),
            format!("SIZE {}", self.settings.size_limit),
        ];
        if self.settings.starttls {
            lines.push("STARTTLS".into());
        }
        if self.settings.auth {
            lines.push("AUTH PLAIN LOGIN".into());
        }
        lines.extend(
            [
                "ENHANCEDSTATUSCODES",
                "8BITMIME",
                "DSN",
                "SMTPUTF8",
                "CHUNKING",
            ]
            .map(String::from),
        );
        lines.join("\n")
    }

    /// Starts over: no transaction, no chunks.
    fn reset(&mut self) {
        self.transaction = Transaction::default();
        self.chunks = None;
        self.chunks_failed = false;
    }

    /// Sends an error reply and counts it; `Some` when the session must end (421 sent).
    fn error(&mut self, out: &mut dyn Write, reply: Reply) -> io::Result<Option<End>> {
        self.errors += 1;
        if self.errors >= self.settings.max_errors {
            Reply::new(421, "4.7.0 Error: too many errors").write_to(out)?;
            return Ok(Some(End::Dropped("too many errors")));
        }
        reply.write_to(out)?;
        Ok(None)
    }

    fn mail(&mut self, rest: &str, backend: &mut impl Backend) -> Reply {
        if self.transaction.sender.is_some() {
            return Reply::new(503, "5.5.1 Error: nested MAIL command");
        }
        let mail = match command::mail(rest) {
            Ok(mail) => mail,
            Err(reply) => return reply,
        };
        if mail
            .size
            .is_some_and(|size| size > self.settings.size_limit)
        {
            return Reply::new(
                552,
                format!(
                    "5.3.4 Message size exceeds the limit of {} bytes",
                    self.settings.size_limit
                ),
            );
        }
        if let Err(reply) = backend.sender(mail.sender.as_deref()) {
            return reply;
        }
        self.transaction.sender = Some(mail.sender);
        self.transaction.dsn.ret = mail.ret;
        self.transaction.dsn.envid = mail.envid;
        Reply::new(250, "2.1.0 Ok")
    }

    fn rcpt(&mut self, rest: &str, backend: &mut impl Backend) -> Reply {
        if let Err(reply) = backend.access() {
            return reply;
        }
        if self.transaction.sender.is_none() {
            return Reply::new(503, "5.5.1 Error: need MAIL command");
        }
        let rcpt = match command::rcpt(rest) {
            Ok(rcpt) => rcpt,
            Err(reply) => return reply,
        };
        if self.transaction.recipients.len() >= self.settings.max_recipients {
            return Reply::new(452, "4.5.3 Error: too many recipients");
        }
        let recipients = &self.transaction.recipients;
        if !recipients.is_empty() && rcpt.notify != self.transaction.dsn.notify {
            // The queue keeps one NOTIFY per message; the client sends this one again in a
            // transaction of its own.
            return Reply::new(
                455,
                "4.5.4 Error: NOTIFY differs from the other recipients'; send it in another transaction",
            );
        }
        match backend.recipient(&rcpt.recipient) {
            Ok(()) => {
                self.transaction.dsn.notify = rcpt.notify;
                self.transaction.recipients.push(rcpt.recipient);
                Reply::new(250, "2.1.5 Ok")
            }
            Err(reply) => reply,
        }
    }

    /// Whether DATA may start now.
    fn data_ready(&self) -> Result<(), Reply> {
        if self.chunks.is_some() {
            return Err(Reply::new(503, "5.5.1 Error: BDAT in progress"));
        }
        self.envelope_ready()
    }

    /// Whether the envelope is complete (a sender, a recipient), so that message data may come.
    fn envelope_ready(&self) -> Result<(), Reply> {
        if self.transaction.sender.is_none() {
            return Err(Reply::new(503, "5.5.1 Error: need MAIL command"));
        }
        if self.transaction.recipients.is_empty() {
            return Err(Reply::new(503, "5.5.1 Error: need RCPT command"));
        }
        Ok(())
    }

    /// Reads the message after 354 and returns the reply to its final dot; nothing is taken
    /// from a client that goes away before it.
    fn data<R: Read, B: Backend>(
        &mut self,
        input: &mut BufReader<R>,
        backend: &mut B,
    ) -> io::Result<Next> {
        let mut data = DataReader::new(input);
        let received = backend.receive(&self.transaction, &mut data);
        // Whatever the backend took, the message is read to its end before the next command.
        let bare = match data.finish() {
            Ok(bare) => bare,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Ok(Next::End(End::Closed));
            }
            Err(e) => return Err(e),
        };
        Ok(Next::Reply(match received {
            Err(reply) => reply,
            Ok(pending) if bare => {
                let reply = bare_newline_reply();
                backend.discard(pending, &reply);
                reply
            }
            Ok(pending) => backend.commit(pending),
        }))
    }

    /// `BDAT size [LAST]` (RFC 3030): the chunk's bytes follow the command at once, and are
    /// read whatever the reply.
    fn bdat<R: Read, B: Backend>(
        &mut self,
        rest: &str,
        input: &mut BufReader<R>,
        out: &mut dyn Write,
        backend: &mut B,
    ) -> io::Result<Next> {
        let mut words = rest.split(' ').filter(|w| !w.is_empty());
        let (size, last) = match (words.next(), words.next(), words.next()) {
            (Some(size), None, None) => (size.parse::<u64>().ok(), false),
            (Some(size), Some(last), None) if last.eq_ignore_ascii_case("LAST") => {
                (size.parse::<u64>().ok(), true)
            }
            _ => (None, false),
        };
        let Some(size) = size else {
            // Without its size, the chunk cannot be told from the next command.
            Reply::new(501, "5.5.4 Syntax: BDAT size [LAST]").write_to(out)?;
            return Ok(Next::End(End::Dropped("malformed BDAT")));
        };
        let refusal = if let Err(reply) = self.envelope_ready() {
            Some(reply)
        } else if self.chunks_failed {
            Some(Reply::new(503, "5.5.1 Error: an earlier chunk was refused"))
        } else {
            None
        };
        if let Some(reply) = refusal {
            if chunks::skip(input, size).is_err() {
                return Ok(Next::End(End::Closed));
            }
            if last {
                self.reset();
            }
            return Ok(Next::Reply(reply));
        }
        let limit = self.settings.size_limit;
        let scratch = &self.settings.scratch;
        let chunks = self.chunks.get_or_insert_with(|| Chunks::new(scratch));
        if let Err(e) = chunks.add(input, size, limit) {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                return Ok(Next::End(End::Closed));
            }
            self.chunks_failed = true;
            return Ok(Next::Reply(Reply::new(
                452,
                "4.3.1 Error: cannot keep the message now; try again later",
            )));
        }
        if chunks.too_large() {
            self.chunks_failed = true;
            if last {
                self.reset();
            }
            return Ok(Next::Reply(Reply::new(
                552,
                format!("5.3.4 Message size exceeds the limit of {limit} bytes"),
            )));
        }
        if !last {
            return Ok(Next::Reply(Reply::new(
                250,
                format!("2.0.0 Ok: {size} octets received"),
            )));
        }
        let chunks = self.chunks.take().expect("chunks were just added");
        let bare = chunks.saw_bare_newline();
        let reply = match chunks.into_reader() {
            Err(_) => Reply::new(452, "4.3.1 Error: cannot read the message back"),
            Ok(mut reader) => match backend.receive(&self.transaction, &mut reader) {
                Err(reply) => reply,
                Ok(pending) if bare => {
                    let reply = bare_newline_reply();
                    backend.discard(pending, &reply);
                    reply
                }
                Ok(pending) => backend.commit(pending),
            },
        };
        self.reset();
        Ok(Next::Reply(reply))
    }

    /// `AUTH mechanism [initial-response]` (RFC 4954), PLAIN and LOGIN.
    fn auth<R: Read, B: Backend>(
        &mut self,
        rest: &str,
        input: &mut BufReader<R>,
        out: &mut dyn Write,
        backend: &mut B,
    ) -> io::Result<Next> {
        let refused = |code, text: &str| Ok(Next::Reply(Reply::new(code, text)));
        if !self.settings.auth {
            return refused(503, "5.5.1 Error: authentication not enabled");
        }
        if self.authenticated {
            return refused(503, "5.5.1 Error: already authenticated");
        }
        if self.transaction.sender.is_some() {
            return refused(503, "5.5.1 Error: MAIL transaction in progress");
        }
        let mut words = rest.split(' ').filter(|w| !w.is_empty());
        let (mechanism, initial) = (words.next().unwrap_or(""), words.next());
        let Some(mechanism) = Mechanism::parse(mechanism) else {
            return refused(504, "5.5.4 Unsupported authentication mechanism");
        };
        let credentials = match self.exchange(mechanism, initial, input, out)? {
            Ok(credentials) => credentials,
            Err(Exchange::End(end)) => return Ok(Next::End(end)),
            Err(Exchange::Failed(AuthError::Cancelled)) => {
                return refused(501, "5.7.0 Authentication aborted");
            }
            Err(Exchange::Failed(AuthError::Malformed)) => {
                return refused(501, "5.5.2 Error: cannot decode the response");
            }
        };
        Ok(Next::Reply(match backend.login(&credentials) {
            Ok(()) => {
                self.authenticated = true;
                Reply::new(235, "2.7.0 Authentication successful")
            }
            Err(reply) => reply,
        }))
    }

    /// The client's side of a PLAIN or LOGIN exchange.
    fn exchange<R: Read>(
        &mut self,
        mechanism: Mechanism,
        initial: Option<&str>,
        input: &mut BufReader<R>,
        out: &mut dyn Write,
    ) -> io::Result<Result<Credentials, Exchange>> {
        let mut ask = |prompt: &str| -> io::Result<Result<String, Exchange>> {
            Reply::new(334, prompt).write_to(out)?;
            out.flush()?;
            Ok(match read_command(input) {
                Ok(line) => Ok(line),
                Err(LineError::Closed) => Err(Exchange::End(End::Closed)),
                Err(LineError::BareNewline) => {
                    bare_newline(out)?;
                    Err(Exchange::End(End::Dropped("bare newline")))
                }
                Err(LineError::TooLong) => Err(Exchange::Failed(AuthError::Malformed)),
                Err(LineError::Io(e)) => return Err(e),
            })
        };
        let first = match initial {
            Some(line) => line.to_string(),
            None if mechanism == Mechanism::Plain => match ask("")? {
                Ok(line) => line,
                Err(e) => return Ok(Err(e)),
            },
            None => match ask(auth::USERNAME_PROMPT)? {
                Ok(line) => line,
                Err(e) => return Ok(Err(e)),
            },
        };
        let first = match auth::decode(&first) {
            Ok(bytes) => bytes,
            Err(e) => return Ok(Err(Exchange::Failed(e))),
        };
        if mechanism == Mechanism::Plain {
            return Ok(auth::plain(&first).map_err(Exchange::Failed));
        }
        let user = match auth::login_user(&first) {
            Ok(user) => user,
            Err(e) => return Ok(Err(Exchange::Failed(e))),
        };
        let password = match ask(auth::PASSWORD_PROMPT)? {
            Ok(line) => zeroize::Zeroizing::new(line),
            Err(e) => return Ok(Err(e)),
        };
        Ok(auth::decode(&password)
            .map(|password| Credentials { user, password })
            .map_err(Exchange::Failed))
    }
}

/// How an AUTH exchange did not give credentials.
enum Exchange {
    End(End),
    Failed(AuthError),
}

fn bare_newline_reply() -> Reply {
    Reply::new(550, "5.5.2 Error: bare <LF> or <CR> received")
}

/// A command line with a bare LF or CR ends the session.
fn bare_newline(out: &mut dyn Write) -> io::Result<End> {
    bare_newline_reply().write_to(out)?;
    Ok(End::Dropped("bare newline in a command"))
}

#[cfg(test)]
mod tests;
