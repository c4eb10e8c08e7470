//! One SMTP connection to a relay: connect, secure, log in, run transactions, quit.

use std::error::Error as _;

use lettre::Address;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::SmtpConnection;
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Quit, Rcpt, Rset, Starttls};
use lettre::transport::smtp::extension::{
    ClientId, Extension, MailBodyParameter, MailParameter, RcptParameter,
};
use lettre::transport::smtp::{Error as SmtpError, response::Response};
use secrecy::ExposeSecret;

use super::{DeliveryError, Envelope, RecipientFailure, RecipientResult, Transcript, hello, tls};
use crate::config::{Profile, TlsMode};
use crate::secrets::{SecretError, SecretString};

/// Mechanisms relayctl uses, in order of preference.
const MECHANISMS: [Mechanism; 2] = [Mechanism::Plain, Mechanism::Login];

/// The size of the pieces a message is written in.
const CHUNK: usize = 64 * 1024;

/// An open, ready connection to a relay.
pub struct Session<'t> {
    conn: SmtpConnection,
    server: String,
    transcript: &'t Transcript,
    /// EHLO keywords (upper case) when they were asked for; lettre's `ServerInfo` knows only
    /// STARTTLS, AUTH, 8BITMIME and SMTPUTF8.
    keywords: Vec<String>,
}

impl<'t> Session<'t> {
    /// Connects to the profile's relay, secures the connection as the profile requires and logs
    /// in when the profile has a user. The secret is read only after TLS is up. With
    /// `read_keywords`, the full EHLO keyword list is read too (one more round trip), for
    /// extensions such as DSN.
    pub fn open(
        profile: &Profile,
        secret: &dyn Fn() -> Result<SecretString, SecretError>,
        transcript: &'t Transcript,
        read_keywords: bool,
    ) -> Result<Self, DeliveryError> {
        let server = format!("{}:{}", profile.host, profile.port);
        let hello = hello::client_id(profile);
        let tls_params = match profile.tls {
            TlsMode::None => None,
            _ => Some(tls::parameters(profile)?),
        };
        let wrapper = match profile.tls {
            TlsMode::Tls => tls_params.as_ref(),
            _ => None,
        };
        transcript.note(&format!("connecting to {server} (tls: {})", profile.tls));
        let conn = SmtpConnection::connect(
            (profile.host.as_str(), profile.port),
            Some(profile.timeout()),
            &hello,
            wrapper,
            None,
        )
        .map_err(|e| connect_error(&server, "connect", e))?;
        let mut session = Session {
            conn,
            server,
            transcript,
            keywords: Vec::new(),
        };
        session
            .transcript
            .client(&Ehlo::new(hello.clone()).to_string());
        session.transcript.capabilities(session.conn.server_info());

        let wants_starttls = match profile.tls {
            TlsMode::Starttls => true,
            TlsMode::Opportunistic => session.conn.can_starttls(),
            TlsMode::Tls | TlsMode::None => false,
        };
        if wants_starttls {
            session.starttls(tls_params.as_ref(), &hello, profile.authenticates())?;
        }
        if read_keywords {
            session.read_keywords(&hello)?;
        }
        if let Some(user) = &profile.user {
            session.login(user, secret, profile)?;
        }
        Ok(session)
    }

    /// Sends EHLO again and keeps every keyword of the reply. Done before AUTH, which a new
    /// EHLO would not keep on every server.
    fn read_keywords(&mut self, hello: &ClientId) -> Result<(), DeliveryError> {
        let ehlo = Ehlo::new(hello.clone());
        self.transcript.client(&ehlo.to_string());
        let reply = self
            .conn
            .command(ehlo)
            .map_err(|e| connect_error(&self.server, "EHLO", e))?;
        self.transcript.server(&reply);
        self.keywords = reply
            .message()
            .skip(1)
            .filter_map(|line| line.split_whitespace().next())
            .map(str::to_ascii_uppercase)
            .collect();
        Ok(())
    }

    fn offers(&self, keyword: &str) -> bool {
        self.keywords.iter().any(|k| k == keyword)
    }

    fn starttls(
        &mut self,
        params: Option<&lettre::transport::smtp::client::TlsParameters>,
        hello: &ClientId,
        credentials: bool,
    ) -> Result<(), DeliveryError> {
        let Some(params) = params.filter(|_| self.conn.can_starttls()) else {
            self.conn.abort();
            return Err(DeliveryError::NoStarttls {
                server: self.server.clone(),
                credentials,
            });
        };
        self.transcript.client(&Starttls.to_string());
        self.conn
            .starttls(params, hello)
            .map_err(|e| connect_error(&self.server, "STARTTLS", e))?;
        self.transcript.note("TLS established");
        self.transcript
            .client(&Ehlo::new(hello.clone()).to_string());
        self.transcript.capabilities(self.conn.server_info());
        Ok(())
    }

    fn login(
        &mut self,
        user: &str,
        secret: &dyn Fn() -> Result<SecretString, SecretError>,
        profile: &Profile,
    ) -> Result<(), DeliveryError> {
        // Checked again here, whatever the profile says: credentials never go out in clear.
        if !self.conn.is_encrypted() {
            self.conn.abort();
            return Err(DeliveryError::NoStarttls {
                server: self.server.clone(),
                credentials: true,
            });
        }
        let Some(mechanism) = self.conn.server_info().get_auth_mechanism(&MECHANISMS) else {
            self.conn.abort();
            return Err(DeliveryError::NoAuthMechanism {
                server: self.server.clone(),
            });
        };
        let password = secret()?;
        let credentials = Credentials::new(user.to_string(), password.expose_secret().to_string());
        drop(password);
        self.transcript
            .client(&format!("AUTH {mechanism} (credentials not shown)"));
        match self.conn.auth(&[mechanism], &credentials) {
            Ok(reply) => {
                self.transcript.server(&reply);
                Ok(())
            }
            Err(e) if e.is_permanent() => Err(DeliveryError::Auth {
                server: self.server.clone(),
                user: user.to_string(),
                reply: reply_text(&e),
                hint: profile.preset.defaults(None).password_hint.to_string(),
            }),
            Err(e) if e.is_transient() => Err(DeliveryError::AuthTemporary {
                server: self.server.clone(),
                user: user.to_string(),
                reply: reply_text(&e),
            }),
            Err(e) => Err(self.network("AUTH", e)),
        }
    }

    /// Runs one mail transaction. Recipients the relay refuses are reported together; the message
    /// still goes to those it accepted.
    pub fn send(&mut self, envelope: &Envelope, wire: &[u8]) -> Result<String, DeliveryError> {
        let results = self.begin(envelope, !wire.is_ascii())?;
        let accepted = results.iter().filter(|(_, r)| r.is_ok()).count();
        let failures: Vec<RecipientFailure> =
            results.into_iter().filter_map(|(_, r)| r.err()).collect();
        if accepted == 0 {
            return Err(DeliveryError::Recipients {
                server: self.server.clone(),
                failures,
                accepted,
            });
        }

        self.transcript.client(&Data.to_string());
        match self.conn.command(Data) {
            Ok(reply) => self.transcript.server(&reply),
            Err(e) => return Err(self.data_error(e)),
        }
        let reply = self
            .conn
            .message_iter(wire.chunks(CHUNK))
            .map_err(|e| self.data_error(e))?;
        self.transcript
            .note(&format!("message sent ({} bytes)", wire.len() + 2));
        self.transcript.server(&reply);
        if failures.is_empty() {
            Ok(response_text(&reply))
        } else {
            Err(DeliveryError::Recipients {
                server: self.server.clone(),
                failures,
                accepted,
            })
        }
    }

    /// Asks about each recipient without sending anything, then resets the transaction.
    pub fn verify(
        &mut self,
        envelope: &Envelope,
    ) -> Result<Vec<(String, RecipientResult)>, DeliveryError> {
        let results = self.begin(envelope, false)?;
        self.transcript.client("RSET");
        if let Ok(reply) = self.conn.command(Rset) {
            self.transcript.server(&reply);
        }
        Ok(results)
    }

    /// MAIL FROM and one RCPT TO per recipient, with the parameters the message and the envelope
    /// need. Returns the relay's answer for each recipient.
    fn begin(
        &mut self,
        envelope: &Envelope,
        eight_bit: bool,
    ) -> Result<Vec<(String, RecipientResult)>, DeliveryError> {
        let mut params = Vec::new();
        if eight_bit {
            if !self
                .conn
                .server_info()
                .supports_feature(Extension::EightBitMime)
            {
                return Err(DeliveryError::Unsupported(format!(
                    "{} does not offer 8BITMIME, and the message has 8-bit content; send it MIME-encoded (quoted-printable or base64)",
                    self.server
                )));
            }
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let non_ascii = envelope
            .sender
            .iter()
            .chain(&envelope.recipients)
            .any(|a| !a.is_ascii());
        if non_ascii {
            if !self
                .conn
                .server_info()
                .supports_feature(Extension::SmtpUtfEight)
            {
                return Err(DeliveryError::Unsupported(format!(
                    "{} does not support SMTPUTF8, needed for the non-ASCII addresses of this message",
                    self.server
                )));
            }
            params.push(MailParameter::SmtpUtfEight);
        }
        let dsn = envelope.dsn.is_requested() && self.offers("DSN");
        if dsn {
            if let Some(ret) = envelope.dsn.ret {
                params.push(other("RET", ret));
            }
            if let Some(envid) = &envelope.dsn.envid {
                params.push(other("ENVID", envid));
            }
        } else if envelope.dsn.is_requested() {
            self.transcript
                .note("the relay does not offer DSN; notifications were not requested");
        }
        let sender = envelope.sender.as_deref().map(parse_address).transpose()?;
        let mail = Mail::new(sender, params);
        self.transcript.client(&mail.to_string());
        match self.conn.command(mail) {
            Ok(reply) => self.transcript.server(&reply),
            Err(e) if e.status().is_some() => {
                return Err(DeliveryError::Sender {
                    server: self.server.clone(),
                    sender: envelope.sender.clone().unwrap_or_default(),
                    reply: reply_text(&e),
                    permanent: e.is_permanent(),
                });
            }
            Err(e) => return Err(self.network("MAIL FROM", e)),
        }

        let notify: Vec<RcptParameter> = match (&envelope.dsn.notify, dsn) {
            (Some(n), true) => vec![RcptParameter::Other {
                keyword: "NOTIFY".into(),
                value: Some(n.clone()),
            }],
            _ => vec![],
        };
        let mut results = Vec::new();
        for rcpt in &envelope.recipients {
            let command = Rcpt::new(parse_address(rcpt)?, notify.clone());
            self.transcript.client(&command.to_string());
            let result = match self.conn.command(command) {
                Ok(reply) => {
                    self.transcript.server(&reply);
                    Ok(response_text(&reply))
                }
                Err(e) if e.status().is_some() => {
                    self.transcript
                        .note(&format!("rejected: {}", reply_text(&e)));
                    Err(RecipientFailure {
                        address: rcpt.clone(),
                        reply: reply_text(&e),
                        permanent: e.is_permanent(),
                    })
                }
                Err(e) => return Err(self.network("RCPT TO", e)),
            };
            results.push((rcpt.clone(), result));
        }
        Ok(results)
    }

    /// Ends the session politely; a relay that has gone away by now changes nothing.
    pub fn quit(mut self) {
        self.transcript.client(&Quit.to_string());
        if let Ok(reply) = self.conn.quit() {
            self.transcript.server(&reply);
        }
    }

    fn data_error(&self, e: SmtpError) -> DeliveryError {
        if e.status().is_some() {
            DeliveryError::Data {
                server: self.server.clone(),
                reply: reply_text(&e),
                permanent: e.is_permanent(),
            }
        } else {
            self.network("DATA", e)
        }
    }

    fn network(&self, stage: &'static str, e: SmtpError) -> DeliveryError {
        connect_error(&self.server, stage, e)
    }
}

fn other(keyword: &str, value: &str) -> MailParameter {
    MailParameter::Other {
        keyword: keyword.to_string(),
        value: Some(value.to_string()),
    }
}

fn parse_address(text: &str) -> Result<Address, DeliveryError> {
    text.parse()
        .map_err(|_| DeliveryError::InvalidAddress(format!("<{text}>")))
}

/// Classifies a failure below the SMTP dialogue: TLS (certificates, handshake), timeouts,
/// refused or dropped connections.
fn connect_error(server: &str, stage: &'static str, e: SmtpError) -> DeliveryError {
    if let Some(tls) = rustls_cause(&e) {
        let hint = match tls {
            rustls::Error::InvalidCertificate(_) => {
                " (the relay's certificate is not trusted for this name; for a private CA set ca_file / --ca-file, for an IP address set tls_name / --tls-name)"
            }
            _ => "",
        };
        return DeliveryError::Tls {
            server: server.to_string(),
            reason: format!("{tls}{hint}"),
        };
    }
    if e.is_tls() {
        return DeliveryError::Tls {
            server: server.to_string(),
            reason: innermost(&e),
        };
    }
    if timed_out(&e) {
        return DeliveryError::Network {
            server: server.to_string(),
            stage,
            reason: "timed out waiting for the relay".into(),
        };
    }
    if stage == "connect" && e.status().is_none() {
        return DeliveryError::Connect {
            server: server.to_string(),
            reason: innermost(&e),
        };
    }
    match e.status() {
        Some(_) => DeliveryError::Data {
            server: server.to_string(),
            reply: reply_text(&e),
            permanent: e.is_permanent(),
        },
        None => DeliveryError::Network {
            server: server.to_string(),
            stage,
            reason: innermost(&e),
        },
    }
}

/// Whether a socket timeout ended the wait. On Unix an expired read timeout surfaces as
/// `WouldBlock` (EAGAIN), which lettre's `is_timeout` does not count.
fn timed_out(e: &SmtpError) -> bool {
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            )
        {
            return true;
        }
        source = err.source();
    }
    false
}

/// The rustls error behind an I/O failure, if that is what it was.
fn rustls_cause(e: &SmtpError) -> Option<&rustls::Error> {
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        source = err.source();
    }
    None
}

/// The most specific description in an error chain ("Connection refused (os error 111)").
fn innermost(e: &SmtpError) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(err) = source {
        text = err.to_string();
        source = err.source();
    }
    text
}

/// The relay's reply carried by an error, as "550 5.1.1 <x>: Recipient address rejected".
fn reply_text(e: &SmtpError) -> String {
    match (e.status(), e.source()) {
        (Some(code), Some(msg)) => format!("{code} {msg}"),
        (Some(code), None) => code.to_string(),
        _ => innermost(e),
    }
}

fn response_text(r: &Response) -> String {
    format!("{} {}", r.code(), r.message().collect::<Vec<_>>().join(" "))
}
