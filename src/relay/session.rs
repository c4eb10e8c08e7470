//! One connection to a relay, with the relay [`Policy`] on top of the SMTP client: TLS as the
//! profile demands (never downgraded when a password is configured), the login the policy
//! chooses with the secret read only once the connection is encrypted, extension-dependent MAIL
//! parameters, and failures translated into [`DeliveryError`]s that say what to do.

use std::time::Duration;

use super::login::{self, LoginError, Timing};
use super::policy::{Policy, TlsStep};
use super::smtp::{Connection, SmtpError};
use super::translate::translate;
use super::{Credentials, DeliveryError, Envelope, RecipientFailure, RecipientResult, hello};
use crate::config::{ByteSize, Profile, TlsMode};
use crate::transcript::Transcript;

/// A recipient with its RCPT TO parameters (`NOTIFY=...`).
type Recipient = (String, Vec<String>);

/// An open, ready connection to a relay.
pub struct Session<'t> {
    conn: Connection,
    server: String,
    /// The profile's own address: a relay refusing it refuses the profile, not one message.
    profile_from: Option<String>,
    /// The user logged in as, and what to do when the relay refuses the login: a login sent
    /// with the first message is answered with that message's replies.
    login: Option<(String, &'static str)>,
    transcript: &'t Transcript,
}

impl<'t> Session<'t> {
    /// Connects to the relay of profile `name`, secures the connection and logs in as the
    /// relay [`Policy`] says. The secret is read only after TLS is up and the relay has offered
    /// a login this profile can give. A failure that is a mistake in the profile's setup is
    /// [`DeliveryError::Mismatch`], with the fix.
    pub fn open(
        name: &str,
        profile: &Profile,
        credentials: &dyn Credentials,
        transcript: &'t Transcript,
    ) -> Result<Self, DeliveryError> {
        Session::open_within(name, profile, credentials, transcript, None)
    }

    /// Like [`Session::open`], with `first_answer` (when given) for connecting and the
    /// greeting instead of the profile's timeout ([`Connection::connect_within`]).
    pub fn open_within(
        name: &str,
        profile: &Profile,
        credentials: &dyn Credentials,
        transcript: &'t Transcript,
        first_answer: Option<Duration>,
    ) -> Result<Self, DeliveryError> {
        let server = format!("{}:{}", profile.host, profile.port);
        let hello = hello::client_name(profile);
        let implicit = profile.tls == TlsMode::Tls;
        let connecting =
            || transcript.note(&format!("connecting to {server} (tls: {})", profile.tls));
        let reach = |route: &super::smtp::Route, tls: Option<super::policy::TlsParameters>| {
            Connection::connect_within(
                &profile.host,
                profile.port,
                route,
                first_answer,
                profile.timeout(),
                tls,
                transcript,
            )
            .and_then(|mut conn| {
                conn.ehlo(&hello, transcript)?;
                Ok(conn)
            })
        };
        // The TLS settings (the system's CA store alone is a few hundred certificates to read)
        // are made while the relay is reached and greets, unless TLS comes first (port 465).
        let (policy, route, reached) = std::thread::scope(|scope| {
            let making = scope.spawn(|| Policy::new(profile));
            let route = super::route(profile, credentials);
            let reached = match (&route, implicit) {
                (Ok(route), false) => {
                    connecting();
                    Some(reach(route, None))
                }
                _ => None,
            };
            let policy = making
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (policy, route, reached)
        });
        let policy = policy?;
        let route = route?;
        let fail = |e: SmtpError| match policy.setup_fault(&e) {
            Some(fault) => DeliveryError::Mismatch {
                server: server.clone(),
                problem: fault.problem(profile),
                detail: match e {
                    SmtpError::NoSuchHost { reason, .. } => reason,
                    other => other.to_string(),
                },
                fix: fault.fix(name),
            },
            None => translate(&server, e),
        };
        let mut conn = match reached {
            Some(reached) => reached.map_err(fail)?,
            None => {
                connecting();
                reach(&route, policy.implicit_tls()).map_err(fail)?
            }
        };
        match policy.tls_step(conn.extensions().has("STARTTLS")) {
            TlsStep::Starttls((config, server_name)) => {
                conn.starttls(config, server_name, transcript)
                    .map_err(fail)?;
                conn.ehlo(&hello, transcript).map_err(fail)?;
            }
            TlsStep::Refuse => {
                return Err(DeliveryError::NoStarttls {
                    server,
                    credentials: profile.authenticates(),
                });
            }
            TlsStep::Established | TlsStep::Clear => {}
        }
        let mut session = Session {
            conn,
            server,
            profile_from: profile.from.clone(),
            login: None,
            transcript,
        };
        if let Some(user) = policy.user() {
            let timing = Timing::WithFirstTransaction;
            login::log_in(
                &mut session.conn,
                &policy,
                (user, timing),
                credentials,
                transcript,
            )
            .map_err(|e| session.login_error(&policy, user, e))?;
            session.login = Some((user.to_string(), policy.refused_login_hint()));
        }
        Ok(session)
    }

    /// What a failed login means for delivery.
    fn login_error(&self, policy: &Policy, user: &str, e: LoginError) -> DeliveryError {
        let server = self.server.clone();
        match e {
            LoginError::NotEncrypted => DeliveryError::NoStarttls {
                server,
                credentials: true,
            },
            LoginError::NoMechanism(offered) => DeliveryError::NoAuthMechanism {
                server,
                methods: policy.mechanism_names(", "),
                hint: policy.no_mechanism_hint(&offered),
            },
            LoginError::Secret(e) => DeliveryError::Secret(e),
            LoginError::Token(e) => DeliveryError::OAuth(e),
            LoginError::Smtp(SmtpError::Reply { reply, .. }) => {
                refused_login(server, user, policy.refused_login_hint(), &reply)
            }
            LoginError::Smtp(e) => translate(&server, e),
        }
    }

    /// Runs one mail transaction, pipelined when the relay offers it. Recipients the relay
    /// refuses are reported together; the message still goes to those it accepted.
    pub fn send(&mut self, envelope: &Envelope, wire: &[u8]) -> Result<String, DeliveryError> {
        self.send_stream(
            envelope,
            &mut &wire[..],
            wire.len() as u64,
            !wire.is_ascii(),
        )
    }

    /// Like [`Session::send`], reading the message (CRLF line endings, no final CRLF) from
    /// `message` as it goes out, so that its size does not matter to memory.
    pub fn send_stream(
        &mut self,
        envelope: &Envelope,
        message: &mut dyn std::io::Read,
        size: u64,
        eight_bit: bool,
    ) -> Result<String, DeliveryError> {
        let (params, recipients) = self.envelope_args(envelope, size, eight_bit)?;
        let tx = self
            .conn
            .transaction(
                envelope.sender.as_deref(),
                &params,
                &recipients,
                message,
                self.transcript,
            )
            .map_err(|e| self.transaction_error(envelope, e))?;
        self.outcome(tx)
    }

    /// Whether a message of `size` octets can be streamed on this session: sent without
    /// waiting for the replies to the messages before it ([`Session::begin`]).
    pub fn streams(&self, size: u64) -> bool {
        self.conn.streams(size)
    }

    /// Sends the transaction of `envelope` with the whole `message` (CRLF line endings, no
    /// final CRLF) without waiting for its replies, which [`Session::finish`] reads, in the
    /// order the messages were begun.
    pub fn begin(
        &mut self,
        envelope: &Envelope,
        message: &[u8],
        eight_bit: bool,
    ) -> Result<(), DeliveryError> {
        let (params, recipients) = self.envelope_args(envelope, message.len() as u64, eight_bit)?;
        self.conn
            .begin(
                envelope.sender.as_deref(),
                &params,
                &recipients,
                message,
                self.transcript,
            )
            .map_err(|e| self.transaction_error(envelope, e))
    }

    /// Whether the replies to the oldest begun message have begun to arrive.
    pub fn answered(&mut self) -> bool {
        self.conn.answered()
    }

    /// The outcome of the oldest begun message, whose envelope is `envelope`: as
    /// [`Session::send`]'s.
    pub fn finish(&mut self, envelope: &Envelope) -> Result<String, DeliveryError> {
        let tx = self
            .conn
            .finish(self.transcript)
            .map_err(|e| self.transaction_error(envelope, e))?;
        self.outcome(tx)
    }

    /// MAIL's parameters and each recipient with its RCPT parameters, for this message on
    /// this relay.
    fn envelope_args(
        &self,
        envelope: &Envelope,
        size: u64,
        eight_bit: bool,
    ) -> Result<(Vec<String>, Vec<Recipient>), DeliveryError> {
        let params = self.mail_params(envelope, size, eight_bit)?;
        let notify = if self.dsn() {
            envelope.dsn.rcpt_parameters()
        } else {
            Vec::new()
        };
        let recipients = envelope
            .recipients
            .iter()
            .map(|r| (r.clone(), notify.clone()))
            .collect();
        Ok((params, recipients))
    }

    /// What a transaction's replies mean: the reply to the message when every recipient
    /// was accepted; refused recipients reported together (the message still went to the
    /// others); a refused message.
    fn outcome(&self, tx: super::smtp::Transaction) -> Result<String, DeliveryError> {
        let accepted = tx.accepted();
        let failures: Vec<RecipientFailure> = tx
            .recipients
            .iter()
            .filter_map(|(address, r)| r.as_ref().err().map(|reply| failure(address, reply)))
            .collect();
        match tx.data {
            None => Err(DeliveryError::Recipients {
                server: self.server.clone(),
                failures,
                accepted: 0,
            }),
            Some(Err(reply)) => Err(DeliveryError::Data {
                server: self.server.clone(),
                reply: reply.text(),
                permanent: reply.is_permanent(),
            }),
            Some(Ok(reply)) if failures.is_empty() => Ok(reply.text()),
            Some(Ok(_)) => Err(DeliveryError::Recipients {
                server: self.server.clone(),
                failures,
                accepted,
            }),
        }
    }

    /// Asks about each recipient without sending anything.
    pub fn verify(
        &mut self,
        envelope: &Envelope,
    ) -> Result<Vec<(String, RecipientResult)>, DeliveryError> {
        let results = self
            .conn
            .probe(
                envelope.sender.as_deref(),
                &envelope.recipients,
                self.transcript,
            )
            .map_err(|e| self.transaction_error(envelope, e))?;
        Ok(results
            .into_iter()
            .map(|(address, r)| {
                let result = match r {
                    Ok(reply) => Ok(reply.text()),
                    Err(reply) => Err(failure(&address, &reply)),
                };
                (address, result)
            })
            .collect())
    }

    /// MAIL FROM parameters for this message on this relay.
    fn mail_params(
        &self,
        envelope: &Envelope,
        size: u64,
        eight_bit: bool,
    ) -> Result<Vec<String>, DeliveryError> {
        let ext = self.conn.extensions();
        let mut params = Vec::new();
        // SIZE counts the message as transmitted, with its final CRLF.
        let size = size + 2;
        if ext.has("SIZE") {
            if let Some(limit) = ext.size_limit()
                && size > limit
            {
                return Err(DeliveryError::Unsupported(format!(
                    "the message is {size} bytes; {} accepts at most {} (its SIZE)",
                    self.server,
                    ByteSize(limit)
                )));
            }
            params.push(format!("SIZE={size}"));
        }
        if eight_bit {
            if !ext.has("8BITMIME") {
                return Err(DeliveryError::Unsupported(format!(
                    "{} does not offer 8BITMIME, and the message has 8-bit content; send it MIME-encoded (quoted-printable or base64)",
                    self.server
                )));
            }
            params.push("BODY=8BITMIME".into());
        }
        let non_ascii = envelope
            .sender
            .iter()
            .chain(&envelope.recipients)
            .any(|a| !a.is_ascii());
        if non_ascii {
            if !ext.has("SMTPUTF8") {
                return Err(DeliveryError::Unsupported(format!(
                    "{} does not support SMTPUTF8, needed for the non-ASCII addresses of this message",
                    self.server
                )));
            }
            params.push("SMTPUTF8".into());
        }
        if envelope.dsn.is_requested() {
            if self.dsn() {
                params.extend(envelope.dsn.mail_parameters());
            } else {
                self.transcript
                    .note("the relay does not offer DSN; notifications were not requested");
            }
        }
        Ok(params)
    }

    fn dsn(&self) -> bool {
        self.conn.extensions().has("DSN")
    }

    fn transaction_error(&self, envelope: &Envelope, e: SmtpError) -> DeliveryError {
        match e {
            SmtpError::Reply {
                stage: "AUTH",
                reply,
            } if self.login.is_some() => {
                let (user, hint) = self.login.clone().unwrap_or_default();
                refused_login(self.server.clone(), &user, hint, &reply)
            }
            SmtpError::Reply {
                stage: "MAIL FROM",
                reply,
            } => DeliveryError::Sender {
                server: self.server.clone(),
                sender: envelope.sender.clone().unwrap_or_default(),
                reply: reply.text(),
                permanent: reply.is_permanent(),
                refusal: super::SenderRefusal::classify(
                    &reply,
                    envelope.sender.as_deref(),
                    self.profile_from.as_deref(),
                ),
            },
            other => translate(&self.server, other),
        }
    }

    /// Whether the connection can carry another message.
    pub fn is_usable(&self) -> bool {
        !self.conn.is_broken()
    }

    /// Ends a failed transaction so the connection can carry the next message.
    pub fn reset(&mut self) {
        let _ = self.conn.rset(self.transcript);
    }

    /// Makes the next message the last on this session (QUIT goes with it).
    pub fn quit_with_next_message(&mut self) {
        self.conn.quit_with_next_message();
    }

    /// Ends the session politely; a relay that has gone away by now changes nothing.
    pub fn quit(self) {
        let _ = self.conn.quit(self.transcript);
    }
}

/// The relay's refusal of the login as `user`: permanent (the credentials are wrong: `hint`
/// says what to do) or for now.
fn refused_login(
    server: String,
    user: &str,
    hint: &str,
    reply: &super::smtp::Reply,
) -> DeliveryError {
    match reply.is_permanent() {
        true => DeliveryError::Auth {
            server,
            user: user.to_string(),
            reply: reply.text(),
            hint: hint.to_string(),
        },
        false => DeliveryError::AuthTemporary {
            server,
            user: user.to_string(),
            reply: reply.text(),
        },
    }
}

fn failure(address: &str, reply: &super::smtp::Reply) -> RecipientFailure {
    RecipientFailure {
        address: address.to_string(),
        reply: reply.text(),
        permanent: reply.is_permanent(),
    }
}
