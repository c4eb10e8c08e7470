//! AUTH (RFC 4954) on a [`Connection`]: the exchange of a SASL mechanism, and the one-step
//! login of PLAIN or EXTERNAL sent in the same flight as the first mail transaction, which RFC
//! 4954 section 4 allows for a mechanism that completes in one round trip with its initial
//! response (a relay 20 ms away then costs one round trip less per connection).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use super::{Connection, Observer, Reply, SmtpError};
use crate::relay::sasl::{Exchange, Response, Step};

/// An AUTH command with its whole login, waiting to go out in front of the next mail
/// transaction ([`Connection::authenticate_with_next_transaction`]).
pub(super) struct PendingLogin {
    /// The command line with its CRLF; it holds the secret, and is wiped when dropped.
    pub(super) line: Zeroizing<Vec<u8>>,
    /// The line as the observer sees it, without the secret.
    pub(super) shown: String,
}

impl Connection {
    /// Runs an AUTH exchange: sends `AUTH` with the mechanism's initial response, answers each
    /// `334` challenge as the mechanism says (cancelling with `*` when it has nothing more to
    /// say), and returns the relay's final (2xx) reply. A 4xx or 5xx is [`SmtpError::Reply`] at
    /// stage `AUTH`, with what the mechanism learnt about the refusal added to its text; a
    /// mechanism the relay does not offer is [`SmtpError::Client`]; a 2xx the mechanism does not
    /// take as the end of the login (a SCRAM relay that did not prove itself) is
    /// [`SmtpError::Protocol`] and leaves the connection broken, so that nothing is sent on it. The observer sees AUTH and
    /// every response that holds a secret only as a placeholder (`AUTH PLAIN (credentials not
    /// shown)`), and challenges as `334 (challenge not shown)`; the buffers are wiped.
    ///
    /// Which mechanism, and whether credentials may go out on this connection at all, is the
    /// caller's decision (the relay policy; see [`Connection::is_encrypted`]).
    pub fn authenticate(
        &mut self,
        exchange: &mut dyn Exchange,
        observer: &dyn Observer,
    ) -> Result<Reply, SmtpError> {
        let stage = "AUTH";
        self.usable(stage)?;
        let name = exchange.mechanism().name();
        if !self.extensions.auth_mechanisms().iter().any(|m| m == name) {
            return Err(SmtpError::Client {
                stage,
                detail: format!("the relay does not offer AUTH {name}"),
            });
        }
        let command = format!("AUTH {name}");
        let mut reply = match exchange.initial_response() {
            Some(response) => self.respond(Some(&command), &response, observer)?,
            None => {
                observer.client(&command);
                self.send(stage, format!("{command}\r\n").as_bytes())?;
                self.read_reply(stage, observer, true)?
            }
        };
        while reply.code == 334 {
            let challenge = reply
                .lines
                .first()
                .and_then(|l| BASE64.decode(l.trim()).ok())
                .unwrap_or_default();
            reply = match exchange.step(&challenge) {
                Step::Respond(response) => self.respond(None, &response, observer)?,
                Step::Cancel(detail) => {
                    observer.client("*");
                    self.send(stage, b"*\r\n")?;
                    let _ = self.read_reply(stage, observer, true)?;
                    return Err(self.fail(SmtpError::Protocol { stage, detail }));
                }
            };
        }
        if let Some(detail) = exchange.refusal_detail()
            && reply.code / 100 != 2
        {
            reply.lines.push(format!("({detail})"));
        }
        let reply = self.expect(stage, reply, |code| code / 100 == 2)?;
        exchange
            .check_success()
            .map_err(|detail| self.fail_hard(SmtpError::Protocol { stage, detail }))?;
        Ok(reply)
    }

    /// Prepares the login of `exchange` to go out in the same flight as the next mail
    /// transaction, when that is allowed: the relay offers PIPELINING and the mechanism, and
    /// the mechanism completes with its initial response (PLAIN, EXTERNAL). Returns whether it
    /// was prepared; if not, nothing was sent and the caller runs [`Connection::authenticate`].
    ///
    /// The relay's reply is read with the transaction's: a refusal is [`SmtpError::Reply`] at
    /// stage `AUTH` from that transaction (unless the relay took the message anyway), and the
    /// connection is then not used again. Any other command sends the login first, on its own.
    pub fn authenticate_with_next_transaction(&mut self, exchange: &mut dyn Exchange) -> bool {
        let mechanism = exchange.mechanism();
        if self.broken
            || !mechanism.completes_in_one_step()
            || !self.extensions.has("PIPELINING")
            || !self
                .extensions
                .auth_mechanisms()
                .iter()
                .any(|m| m == mechanism.name())
        {
            return false;
        }
        let Some(response) = exchange.initial_response() else {
            return false;
        };
        let (line, shown) = auth_line(Some(&format!("AUTH {}", mechanism.name())), &response);
        self.pending_login = Some(PendingLogin { line, shown });
        true
    }

    /// Sends a login prepared for the next transaction on its own and reads the reply, before
    /// a command that cannot carry it (RSET, NOOP, a message through DATA, `-bv`'s probe).
    pub(super) fn finish_login(&mut self, observer: &dyn Observer) -> Result<(), SmtpError> {
        let Some(login) = self.pending_login.take() else {
            return Ok(());
        };
        observer.client(&login.shown);
        self.send("AUTH", &login.line)?;
        let reply = self.read_reply("AUTH", observer, true)?;
        self.expect("AUTH", reply, |code| code / 100 == 2)
            .map_err(|e| self.fail_hard(e))?;
        Ok(())
    }

    /// Sends one SASL response, base64-encoded, after `command` when it goes with the AUTH
    /// command, and reads the reply (challenges redacted).
    fn respond(
        &mut self,
        command: Option<&str>,
        response: &Response,
        observer: &dyn Observer,
    ) -> Result<Reply, SmtpError> {
        let (line, shown) = auth_line(command, response);
        observer.client(&shown);
        self.send("AUTH", &line)?;
        self.read_reply("AUTH", observer, true)
    }
}

/// The line of one SASL response, base64-encoded, after `command` when it goes with the AUTH
/// command (an empty one there as `=`, RFC 4954), with its CRLF; and the line as the observer
/// may see it. The line is built at its final size and wiped when dropped.
fn auth_line(command: Option<&str>, response: &Response) -> (Zeroizing<Vec<u8>>, String) {
    let encoded = Zeroizing::new(match (command, response.data()) {
        (Some(_), []) => "=".to_string(),
        (_, data) => BASE64.encode(data),
    });
    let shown = match response.hidden() {
        Some(hidden) => format!("({hidden})"),
        None => encoded.to_string(),
    };
    let prefix = command.map(|c| format!("{c} ")).unwrap_or_default();
    let mut line = Zeroizing::new(Vec::with_capacity(prefix.len() + encoded.len() + 2));
    line.extend_from_slice(prefix.as_bytes());
    line.extend_from_slice(encoded.as_bytes());
    line.extend_from_slice(b"\r\n");
    (line, format!("{prefix}{shown}"))
}
