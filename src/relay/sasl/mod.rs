//! SASL mechanisms (RFC 4422) for SMTP AUTH (RFC 4954): what the client says, not how it gets
//! to the relay. Each mechanism builds its initial response and answers the relay's challenges
//! ([`Exchange`]); the SMTP client's `Connection::authenticate` carries the exchange (base64,
//! the `334` challenges, cancelling with `*`) and knows no mechanism. Which mechanism a profile
//! uses is the relay policy's choice.
//!
//! One file per family: [`password`] (PLAIN, LOGIN), [`scram`] (SCRAM-SHA-256, SCRAM-SHA-1 and
//! their `-PLUS` forms), [`cram`] (CRAM-MD5), [`bearer`] (XOAUTH2, OAUTHBEARER) and [`external`]
//! (EXTERNAL, the TLS client certificate).
//! Secrets are borrowed, never copied into a buffer that is not wiped: every response that
//! holds one is [`Zeroizing`], built at its final size so that no reallocation leaves a copy.

mod bearer;
mod binding;
mod cram;
mod external;
mod password;
mod scram;

use std::fmt;

use zeroize::Zeroizing;

pub use bearer::Bearer;
pub use binding::channel_binding;
pub use cram::CramMd5;
pub use external::External;
pub use password::{Login, Plain};
pub use scram::{ChannelBinding, Hash, Scram};

/// A mechanism relayctl can log in with, by its SASL name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    ScramSha256Plus,
    ScramSha256,
    ScramSha1Plus,
    ScramSha1,
    CramMd5,
    Plain,
    Login,
    XOAuth2,
    OAuthBearer,
    External,
}

/// What a mechanism proves the login with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// The profile's password.
    Password,
    /// An OAuth2 access token.
    Token,
    /// The TLS client certificate, presented in the handshake: no secret is read.
    Certificate,
}

impl Mechanism {
    /// Whether the whole exchange is the initial response, answered by the relay's final
    /// reply: such a login may share a flight with the commands after it (RFC 4954 section 4
    /// names PLAIN and EXTERNAL). LOGIN, CRAM-MD5 and SCRAM need challenges; the OAuth2
    /// mechanisms answer a refused token with a challenge.
    pub fn completes_in_one_step(self) -> bool {
        matches!(self, Mechanism::Plain | Mechanism::External)
    }

    /// The name AUTH uses and EHLO announces.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::ScramSha256Plus => "SCRAM-SHA-256-PLUS",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha1Plus => "SCRAM-SHA-1-PLUS",
            Mechanism::ScramSha1 => "SCRAM-SHA-1",
            Mechanism::CramMd5 => "CRAM-MD5",
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
            Mechanism::External => "EXTERNAL",
        }
    }

    /// What the mechanism needs as its secret.
    pub fn secret(self) -> Secret {
        match self {
            Mechanism::XOAuth2 | Mechanism::OAuthBearer => Secret::Token,
            Mechanism::External => Secret::Certificate,
            _ => Secret::Password,
        }
    }

    /// Whether the mechanism binds the login to the TLS channel (`-PLUS`): it needs the
    /// connection's [`ChannelBinding`].
    pub fn binds_channel(self) -> bool {
        matches!(self, Mechanism::ScramSha256Plus | Mechanism::ScramSha1Plus)
    }

    /// Starts an exchange of this mechanism for `identity`.
    pub fn start<'a>(self, identity: Identity<'a>) -> Box<dyn Exchange + 'a> {
        let scram = |hash, plus| {
            Box::new(Scram::new(
                hash,
                plus,
                identity.user,
                identity.secret,
                identity.channel_binding,
            ))
        };
        match self {
            Mechanism::ScramSha256Plus => scram(Hash::Sha256, true),
            Mechanism::ScramSha256 => scram(Hash::Sha256, false),
            Mechanism::ScramSha1Plus => scram(Hash::Sha1, true),
            Mechanism::ScramSha1 => scram(Hash::Sha1, false),
            Mechanism::CramMd5 => Box::new(CramMd5::new(identity.user, identity.secret)),
            Mechanism::Plain => Box::new(Plain::new(identity.user, identity.secret)),
            Mechanism::Login => Box::new(Login::new(identity.user, identity.secret)),
            Mechanism::XOAuth2 => Box::new(Bearer::xoauth2(identity.user, identity.secret)),
            Mechanism::OAuthBearer => Box::new(Bearer::oauthbearer(
                identity.user,
                identity.secret,
                identity.host,
                identity.port,
            )),
            Mechanism::External => Box::new(External),
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Who logs in where: everything a mechanism may put into its responses.
#[derive(Clone, Copy)]
pub struct Identity<'a> {
    /// The login name.
    pub user: &'a str,
    /// The password or access token, as [`Mechanism::secret`] says.
    pub secret: &'a str,
    /// The relay's host as connected to (OAUTHBEARER names it).
    pub host: &'a str,
    /// The relay's port.
    pub port: u16,
    /// What binds the login to this TLS connection (SCRAM: sent with `-PLUS`, announced
    /// without); `None` without TLS, or when the relay offers some `-PLUS` mechanism that is not
    /// being used (announcing a binding then would fail the login).
    pub channel_binding: Option<&'a ChannelBinding>,
}

/// One run of a mechanism: the client's side of the dialogue.
pub trait Exchange {
    /// The mechanism being run.
    fn mechanism(&self) -> Mechanism;

    /// The response sent with the AUTH command itself (RFC 4954 "initial response"), when the
    /// mechanism has one; an empty one goes as `=`.
    fn initial_response(&mut self) -> Option<Response>;

    /// The answer to a `334` challenge (base64-decoded; empty when the relay sent none or
    /// something that is not base64).
    fn step(&mut self, challenge: &[u8]) -> Step;

    /// What the exchange learnt that explains a refusal (the provider's OAuth2 error status),
    /// to be added to the relay's final reply.
    fn refusal_detail(&self) -> Option<String> {
        None
    }

    /// Whether a 2xx from the relay ends the login: a mechanism that authenticates the relay
    /// too (SCRAM) fails here when the relay has not proved itself.
    fn check_success(&self) -> Result<(), String> {
        Ok(())
    }
}

/// One client response.
pub struct Response {
    /// The bytes, base64-encoded on the wire; wiped when dropped.
    data: Zeroizing<Vec<u8>>,
    /// What a transcript shows in place of the response when it holds a secret
    /// (`credentials not shown`); `None` shows the response as sent.
    hidden: Option<&'static str>,
}

impl Response {
    /// A response holding a secret: transcripts show `(hidden)` instead.
    pub fn secret(data: Zeroizing<Vec<u8>>, hidden: &'static str) -> Response {
        Response {
            data,
            hidden: Some(hidden),
        }
    }

    /// A response without a secret: transcripts show it as sent.
    pub fn clear(data: &[u8]) -> Response {
        Response {
            data: Zeroizing::new(data.to_vec()),
            hidden: None,
        }
    }

    /// The bytes to send (before base64).
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// What a transcript may show in place of the response, when it holds a secret.
    pub fn hidden(&self) -> Option<&'static str> {
        self.hidden
    }
}

/// What the client does after a challenge.
pub enum Step {
    /// Sends this response.
    Respond(Response),
    /// Has nothing (more) to say: the exchange is cancelled (`*`) and fails for this reason.
    Cancel(String),
}

impl Step {
    /// The relay asks for more than the mechanism has to give.
    pub fn exhausted() -> Step {
        Step::Cancel("the relay asked for more than the login mechanism sends".into())
    }
}

/// `parts` joined into one wiped buffer, allocated once at its final size.
fn joined(parts: &[&[u8]]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(parts.iter().map(|p| p.len()).sum()));
    for part in parts {
        out.extend_from_slice(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_secrets() {
        let all = [
            Mechanism::ScramSha256Plus,
            Mechanism::ScramSha256,
            Mechanism::ScramSha1Plus,
            Mechanism::ScramSha1,
            Mechanism::CramMd5,
            Mechanism::Plain,
            Mechanism::Login,
            Mechanism::XOAuth2,
            Mechanism::OAuthBearer,
            Mechanism::External,
        ];
        let names: Vec<&str> = all.iter().map(|m| m.name()).collect();
        assert_eq!(
            names,
            [
                "SCRAM-SHA-256-PLUS",
                "SCRAM-SHA-256",
                "SCRAM-SHA-1-PLUS",
                "SCRAM-SHA-1",
                "CRAM-MD5",
                "PLAIN",
                "LOGIN",
                "XOAUTH2",
                "OAUTHBEARER",
                "EXTERNAL"
            ]
        );
        let binding = ChannelBinding {
            kind: "tls-exporter",
            data: vec![0; 32],
        };
        let identity = Identity {
            user: "u",
            secret: "s",
            host: "h",
            port: 1,
            channel_binding: Some(&binding),
        };
        for m in all {
            assert_eq!(m.start(identity).mechanism(), m);
            assert_eq!(m.to_string(), m.name());
        }
        assert_eq!(Mechanism::Login.secret(), Secret::Password);
        assert_eq!(Mechanism::OAuthBearer.secret(), Secret::Token);
        assert_eq!(Mechanism::ScramSha1.secret(), Secret::Password);
        assert_eq!(Mechanism::External.secret(), Secret::Certificate);
        assert!(Mechanism::ScramSha1Plus.binds_channel() && !Mechanism::ScramSha1.binds_channel());
    }

    #[test]
    fn joined_buffers_are_allocated_once() {
        let out = joined(&[b"\0", b"user", b"\0", b"pass"]);
        assert_eq!(&out[..], b"\0user\0pass");
        assert_eq!(out.capacity(), out.len());
    }
}
