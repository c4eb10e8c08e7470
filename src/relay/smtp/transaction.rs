//! Mail transactions on a [`Connection`]: one at a time ([`Connection::transaction`]), or
//! streamed, each sent in one flight without waiting for the replies to the ones before it
//! ([`Connection::begin`] and [`Connection::finish`]).
//!
//! Streaming needs PIPELINING and CHUNKING (RFC 2920 with RFC 3030): `BDAT n LAST` carries the
//! whole message without a 354 first, and its reply ends the transaction whatever it is, so the
//! next MAIL may follow at once. A relay 20 ms away then takes a message every few milliseconds
//! on one connection instead of one a round trip.

use std::io::{self, Read};

use super::{CHUNK, Connection, Observer, RecipientReply, Reply, SmtpError, Transaction};
use super::{check_argument, dot_stuff, with_params};

/// A transaction sent whose replies have not been read yet.
pub(super) struct Unanswered {
    /// Its recipients, in the order of their RCPT commands.
    recipients: Vec<String>,
    /// The login went out in front of it ([`Connection::authenticate_with_next_transaction`]).
    login: bool,
}

impl Connection {
    /// Runs one mail transaction: MAIL FROM with `mail_params` (`SIZE=1234`, `BODY=8BITMIME`,
    /// `RET=HDRS`), RCPT TO for each recipient with its own parameters (`NOTIFY=FAILURE`),
    /// DATA, then the message.
    ///
    /// When the relay offers PIPELINING and CHUNKING and the message fits in one chunk, the
    /// transaction goes in one flight ([`Connection::begin`], then [`Connection::finish`]).
    /// Otherwise, when the relay offers PIPELINING, MAIL, every RCPT and DATA go out in one
    /// write and the replies are read afterwards (RFC 2920); without it, command by command.
    ///
    /// When no recipient is accepted the message is not sent (a pipelined DATA the relay
    /// accepted anyway is ended with a lone `.`), RSET is sent, and the result has `data:
    /// None`. When MAIL FROM is refused, the pipelined replies are read and RSET is sent, and
    /// the refusal is returned as [`SmtpError::Reply`] at stage `MAIL FROM`; the connection
    /// stays usable. When DATA is refused, RSET is sent and `data` holds the refusal.
    ///
    /// `message` must already have CRLF line endings, with the last line WITHOUT its CRLF
    /// (the terminating `CRLF . CRLF` supplies it). It is read in 64 KiB pieces and
    /// dot-stuffed on the way; the terminator goes out in the same write as the last piece.
    ///
    /// A 421 reply at any point (the relay is closing the connection) is returned as
    /// [`SmtpError::Reply`] at the stage it came at, and leaves the connection broken. A failed
    /// RSET after a refusal is not reported here; it leaves the connection broken too (see
    /// [`Connection::is_broken`]).
    pub fn transaction(
        &mut self,
        sender: Option<&str>,
        mail_params: &[String],
        recipients: &[(String, Vec<String>)],
        message: &mut dyn Read,
        observer: &dyn Observer,
    ) -> Result<Transaction, SmtpError> {
        self.usable("MAIL FROM")?;
        let (mail, rcpts) = envelope_commands(sender, mail_params, recipients)?;

        // A message that fits in one chunk goes in the same flight as MAIL and RCPT when the
        // relay takes CHUNKING (RFC 3030 with RFC 2920): `BDAT n LAST` needs no 354 first, so
        // the whole transaction is one round trip. Larger messages stream through DATA.
        let mut head = Vec::new();
        if self.extensions.has("PIPELINING") && self.extensions.has("CHUNKING") {
            if let Err(e) = message.take(CHUNK as u64 + 1).read_to_end(&mut head) {
                return Err(SmtpError::Client {
                    stage: "message",
                    detail: format!("cannot read the message: {e}"),
                });
            }
            if head.len() <= CHUNK {
                self.send_in_one_flight(&mail, recipients, &rcpts, &head, observer)?;
                return self.finish(observer);
            }
        }
        self.finish_login(observer)?;
        let mut message = io::Read::chain(&head[..], message);
        let message: &mut dyn Read = &mut message;

        let (mail_result, results, data_reply) = if self.extensions.has("PIPELINING") {
            let mut batch = String::new();
            for line in std::iter::once(&mail)
                .chain(&rcpts)
                .chain(std::iter::once(&"DATA".to_string()))
            {
                observer.client(line);
                batch.push_str(line);
                batch.push_str("\r\n");
            }
            self.send("MAIL FROM", batch.as_bytes())?;
            let (mail_result, results) =
                self.pipelined_envelope_replies(&envelope_addresses(recipients), observer)?;
            let data_reply = self.read_reply("DATA", observer, false)?;
            (mail_result, results, Some(data_reply))
        } else {
            let reply = self.command("MAIL FROM", &mail, observer)?;
            let mail_result = self.classify("MAIL FROM", reply)?;
            let mut results = Vec::with_capacity(recipients.len());
            if mail_result.is_ok() {
                for ((rcpt, _), line) in recipients.iter().zip(&rcpts) {
                    let reply = self.command("RCPT TO", line, observer)?;
                    results.push((rcpt.clone(), self.classify("RCPT TO", reply)?));
                }
            }
            (mail_result, results, None)
        };

        let accepted = results.iter().any(|(_, r)| r.is_ok());
        if mail_result.is_err() || !accepted {
            if let Some(reply) = data_reply {
                if reply.code == 354 {
                    // The relay takes a message although it refused everything before:
                    // end it empty, whatever it says to that.
                    observer.client(".");
                    self.send("DATA", b".\r\n")?;
                    self.read_reply("DATA", observer, false)?;
                } else if reply.is_positive() {
                    return Err(self.unexpected("DATA", &reply));
                }
            }
            self.reset_quietly(observer);
            return match mail_result {
                Err(reply) => Err(SmtpError::Reply {
                    stage: "MAIL FROM",
                    reply,
                }),
                Ok(_) => Ok(Transaction {
                    recipients: results,
                    data: None,
                }),
            };
        }

        let data_reply = match data_reply {
            Some(reply) => reply,
            None => self.command("DATA", "DATA", observer)?,
        };
        if data_reply.code != 354 {
            if data_reply.is_positive() {
                return Err(self.unexpected("DATA", &data_reply));
            }
            if data_reply.code == 421 {
                return Err(self.fail(SmtpError::Reply {
                    stage: "DATA",
                    reply: data_reply,
                }));
            }
            self.reset_quietly(observer);
            return Ok(Transaction {
                recipients: results,
                data: Some(Err(data_reply)),
            });
        }
        let data = self.send_message(message, observer)?;
        Ok(Transaction {
            recipients: results,
            data: Some(data),
        })
    }

    /// Whether a message of `size` octets (CRLF line endings, no final CRLF) can be streamed:
    /// the relay offers PIPELINING and CHUNKING, and the message fits in one chunk.
    pub fn streams(&self, size: u64) -> bool {
        self.extensions.has("PIPELINING")
            && self.extensions.has("CHUNKING")
            && size + 2 <= CHUNK as u64
    }

    /// Sends a whole transaction without waiting for any reply: MAIL FROM, RCPT TO for each
    /// recipient and `BDAT n LAST` with `message` (CRLF line endings, no final CRLF), in one
    /// write. Its replies are read by [`Connection::finish`], transactions in the order they
    /// were begun. Only for a message the connection [`streams`](Connection::streams).
    pub fn begin(
        &mut self,
        sender: Option<&str>,
        mail_params: &[String],
        recipients: &[(String, Vec<String>)],
        message: &[u8],
        observer: &dyn Observer,
    ) -> Result<(), SmtpError> {
        self.usable("MAIL FROM")?;
        if !self.streams(message.len() as u64) {
            return Err(SmtpError::Client {
                stage: "MAIL FROM",
                detail: "the message cannot go in one flight on this connection".into(),
            });
        }
        let (mail, rcpts) = envelope_commands(sender, mail_params, recipients)?;
        self.send_in_one_flight(&mail, recipients, &rcpts, message, observer)
    }

    /// Whether the replies to the oldest begun transaction have begun to arrive, so that
    /// [`Connection::finish`] would hardly wait: reading them as they come keeps few unread
    /// (a relay that drops the connection takes unread replies with it).
    pub fn answered(&mut self) -> bool {
        !self.unanswered.is_empty() && (self.start < self.buf.len() || self.stream.ready())
    }

    /// How many begun transactions wait for their replies.
    pub fn unanswered(&self) -> usize {
        self.unanswered.len()
    }

    /// Reads the replies to the oldest begun transaction. When MAIL or every RCPT was refused,
    /// the relay refused the BDAT too and nothing was delivered (`data: None`; a refused MAIL
    /// is [`SmtpError::Reply`] at stage `MAIL FROM`, and the connection stays usable).
    ///
    /// When the login went in front of the transaction and the relay refused it, the result is
    /// that refusal ([`SmtpError::Reply`] at stage `AUTH`) for this and every transaction begun
    /// after it, unless the relay took the message anyway (it is then delivered, and said so);
    /// once their replies are read the connection is not used again.
    pub fn finish(&mut self, observer: &dyn Observer) -> Result<Transaction, SmtpError> {
        self.usable("message")?;
        let Some(sent) = self.unanswered.pop_front() else {
            return Err(SmtpError::Client {
                stage: "message",
                detail: "no transaction waits for its replies".into(),
            });
        };
        if sent.login {
            let reply = self.read_reply("AUTH", observer, true)?;
            if reply.code == 421 {
                return Err(self.fail(SmtpError::Reply {
                    stage: "AUTH",
                    reply,
                }));
            }
            if reply.code / 100 != 2 {
                self.login_refused = Some(reply);
            }
        }
        let (mail_result, results) = self.pipelined_envelope_replies(&sent.recipients, observer)?;
        let reply = self.read_reply("message", observer, false)?;
        let data = self.classify("message", reply)?;
        self.close_after_quit();
        let accepted = results.iter().any(|(_, r)| r.is_ok());
        if let Some(refusal) = self.login_refused.clone() {
            if self.unanswered.is_empty() {
                self.broken = true;
            }
            if !(mail_result.is_ok() && accepted && data.is_ok()) {
                return Err(SmtpError::Reply {
                    stage: "AUTH",
                    reply: refusal,
                });
            }
            observer.note("the relay refused the login, and took the message all the same");
        }
        if let Err(reply) = mail_result {
            return Err(SmtpError::Reply {
                stage: "MAIL FROM",
                reply,
            });
        }
        Ok(Transaction {
            recipients: results,
            data: accepted.then_some(data),
        })
    }

    /// Writes a transaction's one flight: a login prepared for it, MAIL FROM, RCPT TO for each
    /// recipient, `BDAT n LAST` with `message` and its final CRLF (as DATA's terminator would
    /// add it), and QUIT when it is the last message; then records it as unanswered.
    fn send_in_one_flight(
        &mut self,
        mail: &str,
        recipients: &[(String, Vec<String>)],
        rcpts: &[String],
        message: &[u8],
        observer: &dyn Observer,
    ) -> Result<(), SmtpError> {
        let size = message.len() + 2;
        let bdat = format!("BDAT {size} LAST");
        let login = self.pending_login.take();
        let mut batch = zeroize::Zeroizing::new(Vec::with_capacity(size + 512));
        if let Some(login) = &login {
            observer.client(&login.shown);
            batch.extend_from_slice(&login.line);
        }
        for line in std::iter::once(mail).chain(rcpts.iter().map(String::as_str)) {
            observer.client(line);
            batch.extend_from_slice(line.as_bytes());
            batch.extend_from_slice(b"\r\n");
        }
        observer.client(&bdat);
        batch.extend_from_slice(bdat.as_bytes());
        batch.extend_from_slice(b"\r\n");
        batch.extend_from_slice(message);
        batch.extend_from_slice(b"\r\n");
        self.append_quit(&mut batch, observer);
        self.send("MAIL FROM", &batch)?;
        self.close_notify_after_quit();
        observer.note(&format!("message sent ({size} bytes)"));
        self.unanswered.push_back(Unanswered {
            recipients: envelope_addresses(recipients),
            login: login.is_some(),
        });
        Ok(())
    }

    /// The replies to a pipelined MAIL FROM and the RCPT TO of each of `recipients`, in order.
    fn pipelined_envelope_replies(
        &mut self,
        recipients: &[String],
        observer: &dyn Observer,
    ) -> Result<(Result<Reply, Reply>, Vec<RecipientReply>), SmtpError> {
        let reply = self.read_reply("MAIL FROM", observer, false)?;
        let mail_result = self.classify("MAIL FROM", reply)?;
        let mut results = Vec::with_capacity(recipients.len());
        for rcpt in recipients {
            let reply = self.read_reply("RCPT TO", observer, false)?;
            results.push((rcpt.clone(), self.classify("RCPT TO", reply)?));
        }
        Ok((mail_result, results))
    }

    /// Streams the message after a 354 and reads the final reply.
    fn send_message(
        &mut self,
        message: &mut dyn Read,
        observer: &dyn Observer,
    ) -> Result<Result<Reply, Reply>, SmtpError> {
        let stage = "message";
        let mut input = vec![0u8; CHUNK];
        let mut out = Vec::with_capacity(3 * CHUNK);
        let mut line_start = true;
        let mut size: u64 = 0;
        loop {
            let n = match message.read(&mut input) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // The relay is waiting for the rest; the only way out is to hang up.
                    return Err(self.fail_hard(SmtpError::Client {
                        stage,
                        detail: format!("cannot read the message: {e}"),
                    }));
                }
            };
            if n == 0 {
                break;
            }
            // Written only now that more is known to follow, so that the last write always
            // carries data and the terminator together.
            if out.len() >= CHUNK {
                self.send(stage, &out)?;
                out.clear();
            }
            size += n as u64;
            dot_stuff(&input[..n], &mut out, &mut line_start);
        }
        out.extend_from_slice(b"\r\n.\r\n");
        self.append_quit(&mut out, observer);
        self.send(stage, &out)?;
        self.close_notify_after_quit();
        observer.note(&format!("message sent ({} bytes)", size + 2));
        let reply = self.read_reply(stage, observer, false)?;
        let result = self.classify(stage, reply);
        self.close_after_quit();
        result
    }
}

/// MAIL FROM with its parameters and RCPT TO for each recipient with its own, each argument
/// checked (no line breaks, no control characters).
fn envelope_commands(
    sender: Option<&str>,
    mail_params: &[String],
    recipients: &[(String, Vec<String>)],
) -> Result<(String, Vec<String>), SmtpError> {
    let sender = sender.unwrap_or("");
    check_argument("MAIL FROM", sender)?;
    for p in mail_params {
        check_argument("MAIL FROM", p)?;
    }
    if recipients.is_empty() {
        return Err(SmtpError::Client {
            stage: "RCPT TO",
            detail: "no recipients".into(),
        });
    }
    for (rcpt, params) in recipients {
        check_argument("RCPT TO", rcpt)?;
        for p in params {
            check_argument("RCPT TO", p)?;
        }
    }
    let mail = with_params(format!("MAIL FROM:<{sender}>"), mail_params);
    let rcpts = recipients
        .iter()
        .map(|(r, params)| with_params(format!("RCPT TO:<{r}>"), params))
        .collect();
    Ok((mail, rcpts))
}

/// The addresses of `recipients`, in order.
fn envelope_addresses(recipients: &[(String, Vec<String>)]) -> Vec<String> {
    recipients.iter().map(|(r, _)| r.clone()).collect()
}
