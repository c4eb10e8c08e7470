//! Certificate pinning (`tls_fingerprint`): a rustls verifier that accepts the relay's
//! end-entity certificate when its SHA-256 fingerprint, or that of its public key (SPKI),
//! is one of the pins, whatever CA signed it and whatever names it carries. Relays outside the
//! web PKI (self-signed, a private CA nobody distributes) are then reachable without trusting
//! anything else. The handshake's signatures are still verified: the relay must hold the key.
//!
//! A certificate that matches no pin is refused during the handshake, before anything is sent
//! through TLS (so never a credential), with a [`PinMismatch`] that carries the certificate
//! presented: its fingerprints go in the error, and `setup --trust-on-first-use` shows it
//! before pinning it.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::config::Fingerprint;

/// The relay presented a certificate that matches no pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinMismatch {
    /// The end-entity certificate presented (DER).
    pub certificate: Vec<u8>,
    /// The pins it was held against (none: `setup --trust-on-first-use` looking at it).
    pub pinned: Vec<Fingerprint>,
}

impl PinMismatch {
    /// The fingerprint of the certificate presented.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.certificate)
    }

    /// The fingerprint of its public key, when the certificate can be read.
    pub fn key_fingerprint(&self) -> Option<Fingerprint> {
        spki(&self.certificate).map(|k| Fingerprint::of(&k))
    }

    /// The mismatch in `error`, if that is what it is.
    pub fn of(error: &rustls::Error) -> Option<&PinMismatch> {
        match error {
            rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(e))) => {
                e.downcast_ref::<PinMismatch>()
            }
            _ => None,
        }
    }
}

impl fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the relay's certificate {} does not match the pinned tls_fingerprint ",
            self.fingerprint()
        )?;
        let pinned: Vec<String> = self.pinned.iter().map(ToString::to_string).collect();
        f.write_str(&pinned.join(" or "))?;
        if let Some(key) = self.key_fingerprint() {
            write!(f, " (its public key is {key})")?;
        }
        Ok(())
    }
}

impl std::error::Error for PinMismatch {}

/// The DER SubjectPublicKeyInfo of a DER certificate.
fn spki(certificate: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = X509Certificate::from_der(certificate).ok()?;
    Some(cert.tbs_certificate.subject_pki.raw.to_vec())
}

/// Accepts the end-entity certificates `pins` name, and nothing else.
#[derive(Debug)]
pub struct PinnedVerifier {
    pins: Vec<Fingerprint>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedVerifier {
    /// A verifier for `pins`, checking handshake signatures with `algorithms`. With no pins
    /// nothing is accepted: the certificate only reaches the [`PinMismatch`].
    pub fn new(pins: &[Fingerprint], algorithms: WebPkiSupportedAlgorithms) -> Arc<Self> {
        Arc::new(PinnedVerifier {
            pins: pins.to_vec(),
            algorithms,
        })
    }

    fn matches(&self, certificate: &[u8]) -> bool {
        let mut presented = vec![Fingerprint::of(certificate)];
        presented.extend(spki(certificate).map(|k| Fingerprint::of(&k)));
        self.pins.iter().any(|pin| presented.contains(pin))
    }
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.matches(end_entity) {
            return Ok(ServerCertVerified::assertion());
        }
        Err(rustls::Error::InvalidCertificate(CertificateError::Other(
            OtherError(Arc::new(PinMismatch {
                certificate: end_entity.to_vec(),
                pinned: self.pins.clone(),
            })),
        )))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
