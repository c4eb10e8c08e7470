//! The password mechanisms: PLAIN (RFC 4616), one response with user and password, and LOGIN
//! (draft-murchison-sasl-login), the user name and the password each in answer to a challenge.
//! Both send the password itself, so the policy lets them out only on an encrypted connection.

use super::{Exchange, Mechanism, Response, Step, joined};

/// AUTH PLAIN: `\0user\0password` as the initial response; any challenge is one too many.
pub struct Plain<'a> {
    user: &'a str,
    password: &'a str,
}

impl<'a> Plain<'a> {
    pub fn new(user: &'a str, password: &'a str) -> Self {
        Plain { user, password }
    }
}

impl Exchange for Plain<'_> {
    fn mechanism(&self) -> Mechanism {
        Mechanism::Plain
    }

    fn initial_response(&mut self) -> Option<Response> {
        let data = joined(&[b"\0", self.user.as_bytes(), b"\0", self.password.as_bytes()]);
        Some(Response::secret(data, "credentials not shown"))
    }

    fn step(&mut self, _challenge: &[u8]) -> Step {
        Step::exhausted()
    }
}

/// AUTH LOGIN: no initial response; the user name answers the first challenge and the password
/// the second, whatever their text (servers word them differently).
pub struct Login<'a> {
    user: &'a str,
    password: &'a str,
    /// Challenges answered so far.
    answered: usize,
}

impl<'a> Login<'a> {
    pub fn new(user: &'a str, password: &'a str) -> Self {
        Login {
            user,
            password,
            answered: 0,
        }
    }
}

impl Exchange for Login<'_> {
    fn mechanism(&self) -> Mechanism {
        Mechanism::Login
    }

    fn initial_response(&mut self) -> Option<Response> {
        None
    }

    fn step(&mut self, _challenge: &[u8]) -> Step {
        let (secret, hidden) = match self.answered {
            0 => (self.user, "user name not shown"),
            1 => (self.password, "password not shown"),
            _ => return Step::exhausted(),
        };
        self.answered += 1;
        Step::Respond(Response::secret(joined(&[secret.as_bytes()]), hidden))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn respond(step: Step) -> Response {
        match step {
            Step::Respond(r) => r,
            Step::Cancel(reason) => panic!("cancelled: {reason}"),
        }
    }

    #[test]
    fn plain_sends_everything_at_once_and_nothing_more() {
        let mut plain = Plain::new("jdoe", "s3cret");
        let first = plain.initial_response().unwrap();
        assert_eq!(first.data(), b"\0jdoe\0s3cret");
        assert_eq!(first.hidden(), Some("credentials not shown"));
        assert!(matches!(plain.step(b""), Step::Cancel(_)));
    }

    #[test]
    fn login_answers_two_challenges_then_cancels() {
        let mut login = Login::new("jdoe@x.test", "s3cret pass");
        assert!(login.initial_response().is_none());
        let user = respond(login.step(b"Username:"));
        assert_eq!(user.data(), b"jdoe@x.test");
        assert_eq!(user.hidden(), Some("user name not shown"));
        let password = respond(login.step(b"Password:"));
        assert_eq!(password.data(), b"s3cret pass");
        assert_eq!(password.hidden(), Some("password not shown"));
        match login.step(b"More:") {
            Step::Cancel(reason) => assert!(reason.contains("asked for more"), "{reason}"),
            Step::Respond(_) => panic!("a third answer"),
        }
    }
}
