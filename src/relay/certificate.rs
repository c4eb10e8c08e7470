//! The relay's certificate: why TLS refused it, and what it says. rustls (with webpki) does the
//! verification; this module only names its verdict, for delivery's hints and `doctor`'s checks
//! alike ([`Refusal`]), and reads the issuer and expiry of a certificate the relay presented
//! ([`Summary`]). Certificates are bytes from a server relayctl does not control: they are read
//! with the maintained `x509-parser`, which has met far more of them than a parser of our own.

use rustls::CertificateError;
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};

use crate::printable;

/// Why the relay's certificate was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The chain does not lead to a trusted CA (self-signed, a private CA, an incomplete
    /// chain).
    Untrusted,
    /// The certificate does not carry the name relayctl verifies (`host` or `tls_name`).
    WrongName,
    /// The certificate has expired.
    Expired,
    /// The certificate is not valid yet (or this host's clock is wrong).
    NotYetValid,
    /// Anything else rustls refused it for.
    Other,
}

impl Refusal {
    /// The verdict on the relay's certificate in `error`; `None` when `error` is not one (a
    /// failed handshake, an alert about relayctl's own certificate).
    pub fn of(error: &rustls::Error) -> Option<Refusal> {
        let rustls::Error::InvalidCertificate(e) = error else {
            return None;
        };
        Some(match e {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => Refusal::Untrusted,
            // A self-signed certificate that calls itself a CA (what `openssl req -x509` makes)
            // is refused by webpki as `CaUsedAsEndEntity`, which rustls passes on only as an
            // opaque `Other`: told by its text.
            CertificateError::Other(other) if other.to_string() == "CaUsedAsEndEntity" => {
                Refusal::Untrusted
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                Refusal::WrongName
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => Refusal::Expired,
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                Refusal::NotYetValid
            }
            _ => Refusal::Other,
        })
    }
}

/// What a certificate says that `doctor` and `setup --trust-on-first-use` show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The subject's common name (`CN=...`), else its organisation (`O=...`), printable.
    pub subject: Option<String>,
    /// The issuer's, the same way.
    pub issuer: Option<String>,
    /// notAfter, as Unix time.
    pub not_after: i64,
}

impl Summary {
    /// Reads a DER certificate; `None` when it cannot be parsed.
    pub fn parse(der: &[u8]) -> Option<Summary> {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        Some(Summary {
            subject: short_name(cert.subject()),
            issuer: short_name(cert.issuer()),
            not_after: cert.validity().not_after.timestamp(),
        })
    }
}

/// The first common name of `name`; failing that, its last organisation (the most specific).
fn short_name(name: &X509Name<'_>) -> Option<String> {
    match name.iter_common_name().next() {
        Some(cn) => Some(format!("CN={}", printable::from_bytes(cn.as_slice()))),
        None => name
            .iter_organization()
            .last()
            .map(|o| format!("O={}", printable::from_bytes(o.as_slice()))),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::OnceLock;

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as BASE64;

    use super::*;

    /// Issuer `C=DE, O=Test Org, CN=Test CA`; valid until 2030-01-02 03:04:05 UTC (UTCTime).
    const TEST_CA: &str = "\
MIIBTzCB9aADAgECAgEHMAoGCCqGSM49BAMCMDIxCzAJBgNVBAYTAkRFMREwDwYDVQQKDAhUZXN0IE9yZzEQMA4GA1UEAwwH\
VGVzdCBDQTAeFw0yNTAxMDEwMDAwMDBaFw0zMDAxMDIwMzA0MDVaMBUxEzARBgNVBAMMCnJlbGF5LnRlc3QwWTATBgcqhkjO\
PQIBBggqhkjOPQMBBwNCAASjQLbqeUsYBPjel0A9ZAztSww7DCaF5Nrol5edGc9zvRtSJT0uajwdswiNneNtkl2ThrIU78lu\
7e3nWRKfUFOZoxkwFzAVBgNVHREEDjAMggpyZWxheS50ZXN0MAoGCCqGSM49BAMCA0kAMEYCIQCyWxUNueSI2Wgc5WWvv9YV\
4LgsHOMRUW6xdqNDdRpB4gIhAO01Ksti2WNHzUlWrcG2LuveS5/bcB6taTGTsjh7HNCY";

    /// Issuer `O=First Org, O=Test Org ESC]0;x` (no CN); valid until 2099-12-31 23:59:59 UTC
    /// (GeneralizedTime).
    const ORGANISATIONS_ONLY: &str = "\
MIIBTDCB8qADAgECAgEHMAoGCCqGSM49BAMCMC0xEjAQBgNVBAoMCUZpcnN0IE9yZzEXMBUGA1UECgwOVGVzdCBPcmcgG10w\
O3gwIBcNMjUwMTAxMDAwMDAwWhgPMjA5OTEyMzEyMzU5NTlaMBUxEzARBgNVBAMMCnJlbGF5LnRlc3QwWTATBgcqhkjOPQIB\
BggqhkjOPQMBBwNCAASjQLbqeUsYBPjel0A9ZAztSww7DCaF5Nrol5edGc9zvRtSJT0uajwdswiNneNtkl2ThrIU78lu7e3n\
WRKfUFOZoxkwFzAVBgNVHREEDjAMggpyZWxheS50ZXN0MAoGCCqGSM49BAMCA0kAMEYCIQDjAFdKsU06WRZ7WUirxP/z7hhg\
HgT4IDkyBrP1PFFFbgIhANcxy1JBEPHor9+w2rp5Uo+99i52zRnGv8Vcq0q2GcNY";

    fn der(b64: &str) -> Vec<u8> {
        BASE64.decode(b64).unwrap()
    }

    /// A PEM file holding the test certificate, for tests that need a CA file: written once
    /// (atomically, the same bytes every time) in the temporary directory.
    pub(crate) fn ca_file() -> &'static Path {
        static PATH: OnceLock<PathBuf> = OnceLock::new();
        PATH.get_or_init(|| {
            let dir = std::env::temp_dir();
            let path = dir.join("relayctl-unit-test-ca.pem");
            let pem =
                format!("-----BEGIN CERTIFICATE-----\n{TEST_CA}\n-----END CERTIFICATE-----\n");
            let file = tempfile::NamedTempFile::new_in(&dir).unwrap();
            std::fs::write(file.path(), pem).unwrap();
            file.persist(&path).unwrap();
            path
        })
    }

    #[test]
    fn issuer_and_expiry() {
        let s = Summary::parse(&der(TEST_CA)).unwrap();
        assert_eq!(s.issuer.as_deref(), Some("CN=Test CA"));
        assert_eq!(s.subject.as_deref(), Some("CN=relay.test"));
        // 2030-01-02 03:04:05 UTC
        assert_eq!(s.not_after, 1_893_553_445);
        let s = Summary::parse(&der(ORGANISATIONS_ONLY)).unwrap();
        assert_eq!(s.issuer.as_deref(), Some("O=Test Org \u{fffd}]0;x"));
        // 2099-12-31 23:59:59 UTC
        assert_eq!(s.not_after, 4_102_444_799);
    }

    #[test]
    fn truncated_or_foreign_bytes_are_no_certificate() {
        let cert = der(TEST_CA);
        assert_eq!(Summary::parse(&cert[..40]), None);
        assert_eq!(Summary::parse(b"not a certificate"), None);
        assert_eq!(Summary::parse(&[]), None);
    }

    #[test]
    fn refusals_are_named() {
        let invalid = |e| rustls::Error::InvalidCertificate(e);
        assert_eq!(
            Refusal::of(&invalid(CertificateError::UnknownIssuer)),
            Some(Refusal::Untrusted)
        );
        assert_eq!(
            Refusal::of(&invalid(CertificateError::NotValidForName)),
            Some(Refusal::WrongName)
        );
        assert_eq!(
            Refusal::of(&invalid(CertificateError::Expired)),
            Some(Refusal::Expired)
        );
        assert_eq!(
            Refusal::of(&invalid(CertificateError::NotValidYet)),
            Some(Refusal::NotYetValid)
        );
        assert_eq!(
            Refusal::of(&invalid(CertificateError::Revoked)),
            Some(Refusal::Other)
        );
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::CertificateExpired);
        assert_eq!(Refusal::of(&alert), None);
    }
}
