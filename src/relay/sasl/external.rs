//! EXTERNAL (RFC 4422 appendix A): the login is the TLS client certificate presented in the
//! handshake (`client_cert` in the profile). The client sends no credentials, only an empty
//! authorization identity (`=` on the wire), so the relay takes the identity from the
//! certificate.

use super::{Exchange, Mechanism, Response, Step};

/// AUTH EXTERNAL with an empty authorization identity.
pub struct External;

impl Exchange for External {
    fn mechanism(&self) -> Mechanism {
        Mechanism::External
    }

    fn initial_response(&mut self) -> Option<Response> {
        Some(Response::clear(b""))
    }

    fn step(&mut self, _challenge: &[u8]) -> Step {
        Step::exhausted()
    }
}
