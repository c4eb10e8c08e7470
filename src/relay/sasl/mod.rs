//! SASL mechanisms (RFC 4422) for SMTP AUTH (RFC 4954): what the client says, not how it gets
//! to the relay. Each mechanism builds its initial response and answers the relay's challenges
//! ([`Exchange`]); the SMTP client's `Connection::authenticate` carries the exchange (base64,
//! the `334` challenges, cancelling with `*`) and knows no mechanism. Which mechanism a profile
//! uses is the relay policy's choice.
//!
//! One file per family: [`password`] (PLAIN, LOGIN) and [`bearer`] (XOAUTH2, OAUTHBEARER).
//! Secrets are borrowed, never copied into a buffer that is not wiped: every response that
//! holds one is [`Zeroizing`], built at its final size so that no reallocation leaves a copy.

mod bearer;
mod password;

use std::fmt;

use zeroize::Zeroizing;

pub use bearer::Bearer;
pub use password::{Login, Plain};

/// A mechanism relayctl can log in with, by its SASL name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Plain,
    Login,
    XOAuth2,
    OAuthBearer,
}

/// What a mechanism proves the login with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// The profile's password.
    Password,
    /// An OAuth2 access token.
    Token,
}

impl Mechanism {
    /// The name AUTH uses and EHLO announces.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
        }
    }

    /// What the mechanism needs as its secret.
    pub fn secret(self) -> Secret {
        match self {
            Mechanism::Plain | Mechanism::Login => Secret::Password,
            Mechanism::XOAuth2 | Mechanism::OAuthBearer => Secret::Token,
        }
    }

    /// Starts an exchange of this mechanism for `identity`.
    pub fn start<'a>(self, identity: Identity<'a>) -> Box<dyn Exchange + 'a> {
        match self {
            Mechanism::Plain => Box::new(Plain::new(identity.user, identity.secret)),
            Mechanism::Login => Box::new(Login::new(identity.user, identity.secret)),
            Mechanism::XOAuth2 => Box::new(Bearer::xoauth2(identity.user, identity.secret)),
            Mechanism::OAuthBearer => Box::new(Bearer::oauthbearer(
                identity.user,
                identity.secret,
                identity.host,
                identity.port,
            )),
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
}

/// One run of a mechanism: the client's side of the dialogue.
pub trait Exchange {
    /// The mechanism being run.
    fn mechanism(&self) -> Mechanism;

    /// The response sent with the AUTH command itself (RFC 4954 "initial response"), when the
    /// mechanism has one. It is never empty.
    fn initial_response(&mut self) -> Option<Response>;

    /// The answer to a `334` challenge (base64-decoded; empty when the relay sent none or
    /// something that is not base64).
    fn step(&mut self, challenge: &[u8]) -> Step;

    /// What the exchange learnt that explains a refusal (the provider's OAuth2 error status),
    /// to be added to the relay's final reply.
    fn refusal_detail(&self) -> Option<String> {
        None
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
            Mechanism::Plain,
            Mechanism::Login,
            Mechanism::XOAuth2,
            Mechanism::OAuthBearer,
        ];
        let names: Vec<&str> = all.iter().map(|m| m.name()).collect();
        assert_eq!(names, ["PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"]);
        let identity = Identity {
            user: "u",
            secret: "s",
            host: "h",
            port: 1,
        };
        for m in all {
            assert_eq!(m.start(identity).mechanism(), m);
            assert_eq!(m.to_string(), m.name());
        }
        assert_eq!(Mechanism::Login.secret(), Secret::Password);
        assert_eq!(Mechanism::OAuthBearer.secret(), Secret::Token);
    }

    #[test]
    fn joined_buffers_are_allocated_once() {
        let out = joined(&[b"\0", b"user", b"\0", b"pass"]);
        assert_eq!(&out[..], b"\0user\0pass");
        assert_eq!(out.capacity(), out.len());
    }
}
