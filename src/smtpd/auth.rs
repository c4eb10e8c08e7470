//! The server side of AUTH PLAIN (RFC 4616) and AUTH LOGIN: what the client's base64 lines
//! say. The password is kept in memory that is wiped when dropped, and never printed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

/// A login the client offered.
pub struct Credentials {
    pub user: String,
    pub password: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Why a client's AUTH lines are not a login.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// `*`: the client gave up (RFC 4954 section 4).
    #[error("authentication cancelled")]
    Cancelled,
    #[error("malformed authentication data")]
    Malformed,
}

/// The mechanisms offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Plain,
    Login,
}

impl Mechanism {
    pub fn parse(name: &str) -> Option<Mechanism> {
        match name.to_ascii_uppercase().as_str() {
            "PLAIN" => Some(Mechanism::Plain),
            "LOGIN" => Some(Mechanism::Login),
            _ => None,
        }
    }
}

/// Decodes one base64 line of the exchange; `*` cancels.
pub fn decode(line: &str) -> Result<Zeroizing<Vec<u8>>, AuthError> {
    if line == "*" {
        return Err(AuthError::Cancelled);
    }
    if line == "=" {
        return Ok(Zeroizing::new(Vec::new()));
    }
    STANDARD
        .decode(line.trim())
        .map(Zeroizing::new)
        .map_err(|_| AuthError::Malformed)
}

/// `authzid NUL authcid NUL passwd`. An authorization identity other than the login's own
/// (acting for another user) is refused.
pub fn plain(message: &[u8]) -> Result<Credentials, AuthError> {
    let mut parts = message.split(|&b| b == 0);
    let (Some(authzid), Some(authcid), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed);
    };
    if !authzid.is_empty() && authzid != authcid {
        return Err(AuthError::Malformed);
    }
    Ok(Credentials {
        user: user_name(authcid)?,
        password: Zeroizing::new(password.to_vec()),
    })
}

/// The user name of AUTH LOGIN's first answer.
pub fn login_user(answer: &[u8]) -> Result<String, AuthError> {
    user_name(answer)
}

/// A user name is printable UTF-8 without spaces.
fn user_name(bytes: &[u8]) -> Result<String, AuthError> {
    let name = std::str::from_utf8(bytes).map_err(|_| AuthError::Malformed)?;
    if name.is_empty() || name.len() > 255 || name.chars().any(|c| c.is_control() || c == ' ') {
        return Err(AuthError::Malformed);
    }
    Ok(name.to_string())
}

/// The base64 of AUTH LOGIN's prompts.
pub const USERNAME_PROMPT: &str = "VXNlcm5hbWU6";
pub const PASSWORD_PROMPT: &str = "UGFzc3dvcmQ6";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_messages() {
        let c = plain(b"\0grafana\0s3cret").unwrap();
        assert_eq!(c.user, "grafana");
        assert_eq!(&c.password[..], b"s3cret");
        assert_eq!(plain(b"grafana\0grafana\0pw").unwrap().user, "grafana");
        for bad in [
            &b"admin\0grafana\0pw"[..],
            b"\0grafana",
            b"\0\0pw",
            b"\0a b\0pw",
            b"\0grafana\0pw\0x",
        ] {
            assert_eq!(plain(bad).unwrap_err(), AuthError::Malformed, "{bad:?}");
        }
    }

    #[test]
    fn lines_decode_and_cancel() {
        assert_eq!(&decode("Z3JhZmFuYQ==").unwrap()[..], b"grafana");
        assert_eq!(decode("*").unwrap_err(), AuthError::Cancelled);
        assert_eq!(decode("not base64!").unwrap_err(), AuthError::Malformed);
        assert!(
            format!("{:?}", plain(b"\0u\0hunter2").unwrap())
                .find("hunter2")
                .is_none()
        );
    }
}
