//! CRAM-MD5 (RFC 2195), for legacy appliances: the relay sends a challenge, the client answers
//! with the user name and the HMAC-MD5 of the challenge keyed with the password. The password
//! does not cross the wire, but the relay must keep it in clear, and whoever sees the exchange
//! can try passwords against it offline: relayctl prefers SCRAM, and sends it only over TLS.

use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;

use super::{Exchange, Mechanism, Response, Step, joined};

/// AUTH CRAM-MD5: no initial response; one challenge, one answer.
pub struct CramMd5<'a> {
    user: &'a str,
    password: &'a str,
    answered: bool,
}

impl<'a> CramMd5<'a> {
    pub fn new(user: &'a str, password: &'a str) -> Self {
        CramMd5 {
            user,
            password,
            answered: false,
        }
    }
}

impl Exchange for CramMd5<'_> {
    fn mechanism(&self) -> Mechanism {
        Mechanism::CramMd5
    }

    fn initial_response(&mut self) -> Option<Response> {
        None
    }

    /// `USER HEXDIGEST` for the challenge; an empty challenge (none, or not base64) is one
    /// relayctl will not sign.
    fn step(&mut self, challenge: &[u8]) -> Step {
        if self.answered {
            return Step::exhausted();
        }
        if challenge.is_empty() {
            return Step::Cancel("the relay's CRAM-MD5 challenge is empty".into());
        }
        self.answered = true;
        // HMAC takes a key of any length; this cannot fail.
        let Ok(mut mac) = <Hmac<Md5> as KeyInit>::new_from_slice(self.password.as_bytes()) else {
            return Step::Cancel("HMAC-MD5 refused the password as a key".into());
        };
        mac.update(challenge);
        let digest = mac.finalize().into_bytes();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Step::Respond(Response::secret(
            joined(&[self.user.as_bytes(), b" ", hex.as_bytes()]),
            "user name and digest not shown",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 2195 section 2's example.
    #[test]
    fn the_rfc_example() {
        let mut cram = CramMd5::new("tim", "tanstaaftanstaaf");
        assert!(cram.initial_response().is_none());
        match cram.step(b"<1896.697170952@postoffice.reston.mci.net>") {
            Step::Respond(r) => {
                assert_eq!(r.data(), b"tim b913a602c7eda7a495b4e6e7334d3890");
                assert_eq!(r.hidden(), Some("user name and digest not shown"));
            }
            Step::Cancel(reason) => panic!("{reason}"),
        }
        assert!(matches!(cram.step(b"<again>"), Step::Cancel(_)));
    }

    #[test]
    fn an_empty_challenge_is_not_signed() {
        let mut cram = CramMd5::new("tim", "pw");
        assert!(matches!(cram.step(b""), Step::Cancel(_)));
    }
}
