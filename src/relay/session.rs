//! One connection to a relay, with relayctl's policy on top of the SMTP client: TLS as the
//! profile demands (never downgraded when a password is configured), the secret read only once
//! the connection is encrypted, extension-dependent MAIL parameters, and failures translated
//! into [`DeliveryError`]s that say what to do.

use secrecy::ExposeSecret;

use super::smtp::{Connection, SmtpError};
use super::{Credentials, DeliveryError, Envelope, RecipientFailure, RecipientResult, hello, tls};
use crate::config::{ByteSize, Profile, TlsMode};
use crate::transcript::Transcript;

/// An open, ready connection to a relay.
pub struct Session<'t> {
    conn: Connection,
    server: String,
    /// The profile's own address: a relay refusing it refuses the profile, not one message.
    profile_from: Option<String>,
    transcript: &'t Transcript,
}

impl<'t> Session<'t> {
    /// Connects to the profile's relay, secures the connection as the profile requires and logs
    /// in when the profile has a user. The secret is read only after TLS is up.
    pub fn open(
        profile: &Profile,
        credentials: &dyn Credentials,
        transcript: &'t Transcript,
    ) -> Result<Self, DeliveryError> {
        let server = format!("{}:{}", profile.host, profile.port);
        let name = hello::client_name(profile);
        let tls_params = match profile.tls {
            TlsMode::None => None,
            _ => Some(tls::parameters(profile)?),
        };
        let implicit = match profile.tls {
            TlsMode::Tls => tls_params.clone(),
            _ => None,
        };
        transcript.note(&format!("connecting to {server} (tls: {})", profile.tls));
        let mut conn = Connection::connect(
            &profile.host,
            profile.port,
            profile.timeout(),
            implicit,
            transcript,
        )
        .map_err(|e| translate(&server, e))?;
        conn.ehlo(&name, transcript)
            .map_err(|e| translate(&server, e))?;
        let mut session = Session {
            conn,
            server,
            profile_from: profile.from.clone(),
            transcript,
        };
        let offers_starttls = session.conn.extensions().has("STARTTLS");
        let wants_starttls = match profile.tls {
            TlsMode::Starttls => true,
            TlsMode::Opportunistic => offers_starttls,
            TlsMode::Tls | TlsMode::None => false,
        };
        if wants_starttls {
            let Some((config, server_name)) = tls_params.filter(|_| offers_starttls) else {
                return Err(DeliveryError::NoStarttls {
                    server: session.server,
                    credentials: profile.authenticates(),
                });
            };
            session
                .conn
                .starttls(config, server_name, transcript)
                .map_err(|e| translate(&session.server, e))?;
            session
                .conn
                .ehlo(&name, transcript)
                .map_err(|e| translate(&session.server, e))?;
        }
        if let Some(user) = &profile.user {
            session.login(user, credentials, profile)?;
        }
        Ok(session)
    }

    fn login(
        &mut self,
        user: &str,
        credentials: &dyn Credentials,
        profile: &Profile,
    ) -> Result<(), DeliveryError> {
        // Checked again here, whatever the profile says: credentials never go out in clear.
        if !self.conn.is_encrypted() {
            return Err(DeliveryError::NoStarttls {
                server: self.server.clone(),
                credentials: true,
            });
        }
        if profile.oauth.is_some() {
            return self.login_with_token(user, credentials);
        }
        let mechanisms = self.conn.extensions().auth_mechanisms();
        if !mechanisms.iter().any(|m| m == "PLAIN" || m == "LOGIN") {
            return Err(DeliveryError::NoAuthMechanism {
                server: self.server.clone(),
                methods: "PLAIN, LOGIN",
            });
        }
        let password = credentials.password()?;
        let result = self
            .conn
            .authenticate(user, password.expose_secret(), self.transcript);
        self.login_result(
            user,
            result,
            profile.preset.defaults(None).password_hint.to_string(),
        )
    }

    /// Logs in with an OAuth2 access token. A cached token the relay refuses may have been
    /// revoked or have expired early by the provider's clock: it is dropped and a fresh one
    /// tried, once.
    fn login_with_token(
        &mut self,
        user: &str,
        credentials: &dyn Credentials,
    ) -> Result<(), DeliveryError> {
        let mechanisms = self.conn.extensions().auth_mechanisms();
        if !mechanisms
            .iter()
            .any(|m| m == "XOAUTH2" || m == "OAUTHBEARER")
        {
            return Err(DeliveryError::NoAuthMechanism {
                server: self.server.clone(),
                methods: "XOAUTH2, OAUTHBEARER",
            });
        }
        let token = credentials.access_token(None)?;
        let first =
            self.conn
                .authenticate_bearer(user, token.secret.expose_secret(), self.transcript);
        let result = match first {
            Err(SmtpError::Reply { reply, .. }) if reply.is_permanent() && !token.fresh => {
                self.transcript
                    .note("the relay refused the cached access token; fetching a new one");
                let token = credentials.access_token(Some(&token.secret))?;
                self.conn
                    .authenticate_bearer(user, token.secret.expose_secret(), self.transcript)
            }
            other => other,
        };
        self.login_result(
            user,
            result,
            "the relay refused a fresh OAuth2 token: check that the account may send by SMTP (Microsoft 365: Authenticated SMTP enabled for the mailbox) and that the login name is the account the token was issued for".into(),
        )
    }

    fn login_result(
        &self,
        user: &str,
        result: Result<super::smtp::Reply, SmtpError>,
        hint: String,
    ) -> Result<(), DeliveryError> {
        match result {
            Ok(_) => Ok(()),
            Err(SmtpError::Reply { reply, .. }) if reply.is_permanent() => {
                Err(DeliveryError::Auth {
                    server: self.server.clone(),
                    user: user.to_string(),
                    reply: reply.text(),
                    hint,
                })
            }
            Err(SmtpError::Reply { reply, .. }) => Err(DeliveryError::AuthTemporary {
                server: self.server.clone(),
                user: user.to_string(),
                reply: reply.text(),
            }),
            Err(e) => Err(translate(&self.server, e)),
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
        let params = self.mail_params(envelope, size, eight_bit)?;
        let notify = if self.dsn() {
            envelope.dsn.rcpt_parameters()
        } else {
            Vec::new()
        };
        let recipients: Vec<(String, Vec<String>)> = envelope
            .recipients
            .iter()
            .map(|r| (r.clone(), notify.clone()))
            .collect();
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

    /// Ends the session politely; a relay that has gone away by now changes nothing.
    pub fn quit(self) {
        let _ = self.conn.quit(self.transcript);
    }
}

fn failure(address: &str, reply: &super::smtp::Reply) -> RecipientFailure {
    RecipientFailure {
        address: address.to_string(),
        reply: reply.text(),
        permanent: reply.is_permanent(),
    }
}

/// Translates a client failure: refused or dropped connections and timeouts are temporary,
/// certificate problems get a hint, a relay refusing the session says so.
fn translate(server: &str, e: SmtpError) -> DeliveryError {
    let server = server.to_string();
    match e {
        SmtpError::Network {
            stage: "connect",
            source,
        } => DeliveryError::Connect {
            server,
            reason: source.to_string(),
        },
        SmtpError::Network { stage, source } => DeliveryError::Network {
            server,
            stage,
            reason: source.to_string(),
        },
        SmtpError::Timeout { stage } => DeliveryError::Network {
            server,
            stage,
            reason: "timed out waiting for the relay".into(),
        },
        SmtpError::Tls {
            reason,
            certificate,
            ..
        } => DeliveryError::Tls {
            server,
            reason: match certificate {
                true if reason.to_ascii_lowercase().contains("expired") => format!(
                    "{reason} (the relay's certificate has expired: its administrator must renew it)"
                ),
                true => format!(
                    "{reason} (the relay's certificate is not trusted for this name; for a private CA set ca_file / --ca-file, for an IP address set tls_name / --tls-name)"
                ),
                false => reason,
            },
        },
        SmtpError::Reply { stage, reply } => DeliveryError::Refused {
            server,
            stage,
            reply: reply.text(),
            permanent: reply.is_permanent(),
        },
        SmtpError::Protocol { stage, detail } | SmtpError::Client { stage, detail } => {
            DeliveryError::Network {
                server,
                stage,
                reason: detail,
            }
        }
    }
}
