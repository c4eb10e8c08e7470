//! Proof Key for Code Exchange (RFC 7636) and the `state` value of the paste-back flow: random
//! values from the operating system, the S256 challenge.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};

/// A PKCE verifier with its S256 challenge.
pub struct Pkce {
    pub verifier: SecretString,
    pub challenge: String,
}

/// A new verifier: 32 random bytes, base64url (43 characters, RFC 7636 §4.1).
pub fn pkce() -> Result<Pkce, ring::error::Unspecified> {
    let verifier = SecretString::from(random_text(32)?);
    let challenge = challenge(&verifier);
    Ok(Pkce {
        verifier,
        challenge,
    })
}

/// `BASE64URL(SHA256(verifier))` (RFC 7636 §4.2).
fn challenge(verifier: &SecretString) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.expose_secret().as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// `bytes` random bytes from the operating system, base64url.
pub fn random_text(bytes: usize) -> Result<String, ring::error::Unspecified> {
    let mut raw = vec![0u8; bytes];
    SystemRandom::new().fill(&mut raw)?;
    Ok(URL_SAFE_NO_PAD.encode(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7636_appendix_b() {
        let verifier = SecretString::from("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            challenge(&verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let a = pkce().unwrap();
        assert_eq!(a.verifier.expose_secret().len(), 43);
        assert_ne!(
            a.verifier.expose_secret(),
            pkce().unwrap().verifier.expose_secret()
        );
    }
}
