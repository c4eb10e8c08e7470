//! The server's side of SCRAM (RFC 5802, RFC 7677) for the scripted server: it knows the
//! password, checks the client's proof and channel binding, and sends its signature (or, to
//! test a client, a forged one). `-PLUS` binds with `tls-exporter` (RFC 9266) or
//! `tls-server-end-point` (RFC 5929).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::{digest, hmac, pbkdf2};

/// The salt the server announces.
const SALT: &[u8] = b"testkit-salt-16b";

/// What the server appends to the client's nonce.
const SERVER_NONCE: &str = "testkit-server-nonce";

/// The client-first message, read.
pub struct ClientFirst {
    /// `n,,`, `y,,` or `p=TYPE,,`.
    pub gs2_header: String,
    /// `p=TYPE`'s type, when the client binds.
    pub binding: Option<String>,
    pub user: String,
    /// `n=...,r=...`.
    bare: String,
    nonce: String,
}

/// `GS2-HEADER n=USER,r=NONCE`: an authorization identity is not expected from relayctl.
pub fn parse_client_first(raw: &[u8]) -> Result<ClientFirst, String> {
    let text = std::str::from_utf8(raw).map_err(|_| "the client-first message is not UTF-8")?;
    let mut parts = text.splitn(3, ',');
    let (flag, authzid, bare) = match (parts.next(), parts.next(), parts.next()) {
        (Some(flag), Some(authzid), Some(bare)) => (flag, authzid, bare),
        _ => return Err("the client-first message lacks a GS2 header".into()),
    };
    if !authzid.is_empty() {
        return Err(format!("an authorization identity {authzid:?} was sent"));
    }
    let binding = match flag {
        "n" | "y" => None,
        _ => Some(
            flag.strip_prefix("p=")
                .ok_or_else(|| format!("bad GS2 flag {flag:?}"))?
                .to_string(),
        ),
    };
    let (user, nonce) = bare
        .strip_prefix("n=")
        .and_then(|rest| rest.split_once(",r="))
        .ok_or("the client-first message is not n=USER,r=NONCE")?;
    if nonce.is_empty() || nonce.contains(',') {
        return Err("bad client nonce".into());
    }
    Ok(ClientFirst {
        gs2_header: format!("{flag},,"),
        binding,
        user: user.replace("=2C", ",").replace("=3D", "="),
        bare: bare.to_string(),
        nonce: nonce.to_string(),
    })
}

/// One SCRAM exchange on the server's side, after the client-first message.
pub struct Exchange {
    sha256: bool,
    first: ClientFirst,
    server_first: String,
}

impl Exchange {
    /// With SHA-256 or SHA-1, at `iterations`.
    pub fn new(sha256: bool, first: ClientFirst, iterations: u32) -> Exchange {
        let server_first = format!(
            "r={}{SERVER_NONCE},s={},i={iterations}",
            first.nonce,
            STANDARD.encode(SALT)
        );
        Exchange {
            sha256,
            first,
            server_first,
        }
    }

    pub fn user(&self) -> &str {
        &self.first.user
    }

    /// The channel binding type the client named (`p=`), if any.
    pub fn binding(&self) -> Option<&str> {
        self.first.binding.as_deref()
    }

    /// The server-first message.
    pub fn server_first(&self) -> &str {
        &self.server_first
    }

    /// Checks the client-final message against `password` and the channel's `binding` data
    /// (for `p=`): the server-final message (`v=SIGNATURE`) when the proof is right; what is
    /// wrong otherwise. `Ok(None)`: well-formed, but the proof does not match the password.
    pub fn finish(
        &self,
        raw: &[u8],
        password: &str,
        binding: Option<&[u8]>,
    ) -> Result<Option<String>, String> {
        let text = std::str::from_utf8(raw).map_err(|_| "the client-final message is not UTF-8")?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or("the client-final message has no proof")?;
        let (cbind, nonce) = without_proof
            .strip_prefix("c=")
            .and_then(|rest| rest.split_once(",r="))
            .ok_or("the client-final message is not c=...,r=...")?;
        let cbind = STANDARD.decode(cbind).map_err(|_| "c= is not base64")?;
        let mut expected = self.first.gs2_header.clone().into_bytes();
        if self.first.binding.is_some() {
            expected.extend_from_slice(binding.ok_or("no channel binding data here")?);
        }
        if cbind != expected {
            return Err("the channel binding does not match this connection".into());
        }
        if nonce != format!("{}{SERVER_NONCE}", self.first.nonce) {
            return Err("the nonce is not the combined one".into());
        }
        let proof = STANDARD.decode(proof).map_err(|_| "p= is not base64")?;
        let (pbkdf2_alg, hmac_alg, digest_alg) = if self.sha256 {
            (
                pbkdf2::PBKDF2_HMAC_SHA256,
                hmac::HMAC_SHA256,
                &digest::SHA256,
            )
        } else {
            (
                pbkdf2::PBKDF2_HMAC_SHA1,
                hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
                &digest::SHA1_FOR_LEGACY_USE_ONLY,
            )
        };
        let iterations = self
            .server_first
            .rsplit_once(",i=")
            .and_then(|(_, i)| i.parse().ok())
            .and_then(std::num::NonZeroU32::new)
            .ok_or("bad iterations")?;
        let mut salted = vec![0u8; digest_alg.output_len()];
        pbkdf2::derive(
            pbkdf2_alg,
            iterations,
            SALT,
            password.as_bytes(),
            &mut salted,
        );
        let salted = hmac::Key::new(hmac_alg, &salted);
        let client_key = hmac::sign(&salted, b"Client Key");
        let stored_key = digest::digest(digest_alg, client_key.as_ref());
        let auth_message = format!("{},{},{without_proof}", self.first.bare, self.server_first);
        let signature = hmac::sign(
            &hmac::Key::new(hmac_alg, stored_key.as_ref()),
            auth_message.as_bytes(),
        );
        if proof.len() != signature.as_ref().len() {
            return Err("the proof has the wrong length".into());
        }
        let recovered: Vec<u8> = proof
            .iter()
            .zip(signature.as_ref())
            .map(|(p, s)| p ^ s)
            .collect();
        if digest::digest(digest_alg, &recovered).as_ref() != stored_key.as_ref() {
            return Ok(None);
        }
        let server_key = hmac::Key::new(hmac_alg, hmac::sign(&salted, b"Server Key").as_ref());
        let server_signature = hmac::sign(&server_key, auth_message.as_bytes());
        Ok(Some(format!(
            "v={}",
            STANDARD.encode(server_signature.as_ref())
        )))
    }
}
