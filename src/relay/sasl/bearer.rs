//! The OAuth2 bearer-token mechanisms: OAUTHBEARER (RFC 7628) and XOAUTH2 (Google's and
//! Microsoft's older form). Both send the token as the initial response. A relay refusing the
//! token sends one challenge, the provider's error as JSON (`{"status":"401",...}`), and
//! waits for a dummy answer (XOAUTH2: an empty line; OAUTHBEARER: `%x01`, RFC 7628 section
//! 3.2.3) before its final reply; the error's status is kept for that reply.

use super::{Exchange, Mechanism, Response, Step, joined};
use crate::printable;

/// Which of the two forms a [`Bearer`] exchange sends.
enum Form<'a> {
    /// XOAUTH2: `user=U^Aauth=Bearer T^A^A`.
    XOAuth2,
    /// OAUTHBEARER: a GS2 header naming the user (`=` and `,` escaped), then the relay's host
    /// and port, and the token.
    OAuthBearer { host: &'a str, port: u16 },
}

/// AUTH XOAUTH2 or AUTH OAUTHBEARER with an access token.
pub struct Bearer<'a> {
    form: Form<'a>,
    user: &'a str,
    token: &'a str,
    /// The relay's error challenge was answered.
    answered: bool,
    /// The provider's error status from that challenge.
    status: Option<String>,
}

impl<'a> Bearer<'a> {
    /// XOAUTH2 for `user` with `token`.
    pub fn xoauth2(user: &'a str, token: &'a str) -> Self {
        Bearer {
            form: Form::XOAuth2,
            user,
            token,
            answered: false,
            status: None,
        }
    }

    /// OAUTHBEARER for `user` with `token`, at the relay `host`:`port`.
    pub fn oauthbearer(user: &'a str, token: &'a str, host: &'a str, port: u16) -> Self {
        Bearer {
            form: Form::OAuthBearer { host, port },
            user,
            token,
            answered: false,
            status: None,
        }
    }
}

impl Exchange for Bearer<'_> {
    fn mechanism(&self) -> Mechanism {
        match self.form {
            Form::XOAuth2 => Mechanism::XOAuth2,
            Form::OAuthBearer { .. } => Mechanism::OAuthBearer,
        }
    }

    fn initial_response(&mut self) -> Option<Response> {
        let token = self.token.as_bytes();
        let data = match self.form {
            Form::XOAuth2 => joined(&[
                b"user=",
                self.user.as_bytes(),
                b"\x01auth=Bearer ",
                token,
                b"\x01\x01",
            ]),
            Form::OAuthBearer { host, port } => {
                let user = self.user.replace('=', "=3D").replace(',', "=2C");
                let port = port.to_string();
                joined(&[
                    b"n,a=",
                    user.as_bytes(),
                    b",\x01host=",
                    host.as_bytes(),
                    b"\x01port=",
                    port.as_bytes(),
                    b"\x01auth=Bearer ",
                    token,
                    b"\x01\x01",
                ])
            }
        };
        Some(Response::secret(data, "token not shown"))
    }

    /// The one challenge is the provider's error; it gets the form's dummy answer.
    fn step(&mut self, challenge: &[u8]) -> Step {
        if self.answered {
            return Step::exhausted();
        }
        self.answered = true;
        self.status = serde_json::from_slice::<serde_json::Value>(challenge)
            .ok()
            .and_then(|v| {
                v.get("status")
                    .map(|s| printable::clean(&s.to_string().replace('"', "")))
            });
        Step::Respond(Response::clear(match self.form {
            Form::XOAuth2 => b"",
            Form::OAuthBearer { .. } => b"\x01",
        }))
    }

    fn refusal_detail(&self) -> Option<String> {
        self.status
            .as_ref()
            .map(|status| format!("token refused: status {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ERROR: &[u8] = br#"{"status":"401","schemes":"bearer","scope":"https://mail.test/smtp"}"#;

    #[test]
    fn xoauth2_initial_response_and_refusal() {
        let mut x = Bearer::xoauth2("jdoe@mail.test", "at-1");
        let first = x.initial_response().unwrap();
        assert_eq!(
            first.data(),
            b"user=jdoe@mail.test\x01auth=Bearer at-1\x01\x01"
        );
        assert_eq!(first.hidden(), Some("token not shown"));
        assert_eq!(x.refusal_detail(), None);
        match x.step(ERROR) {
            Step::Respond(r) => assert_eq!((r.data(), r.hidden()), (&b""[..], None)),
            Step::Cancel(reason) => panic!("{reason}"),
        }
        assert_eq!(
            x.refusal_detail().as_deref(),
            Some("token refused: status 401")
        );
        assert!(matches!(x.step(ERROR), Step::Cancel(_)));
    }

    #[test]
    fn oauthbearer_escapes_the_user_and_names_the_relay() {
        let mut b = Bearer::oauthbearer("a=b,c@mail.test", "at-2", "smtp.mail.test", 587);
        let first = b.initial_response().unwrap();
        assert_eq!(
            first.data(),
            b"n,a=a=3Db=2Cc@mail.test,\x01host=smtp.mail.test\x01port=587\x01auth=Bearer at-2\x01\x01"
        );
        match b.step(b"not json") {
            Step::Respond(r) => assert_eq!(r.data(), b"\x01"),
            Step::Cancel(reason) => panic!("{reason}"),
        }
        assert_eq!(b.refusal_detail(), None);
    }

    #[test]
    fn an_error_status_never_carries_control_characters() {
        let mut x = Bearer::xoauth2("u", "t");
        let _ = x.step(br#"{"status":"4\u001b[2J01"}"#);
        // Shown as JSON writes it: the escape stays an escape sequence in text.
        assert_eq!(
            x.refusal_detail().as_deref(),
            Some(r"token refused: status 4\u001b[2J01")
        );
    }
}
