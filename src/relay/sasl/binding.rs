//! The channel binding of a TLS connection, for SCRAM's `-PLUS` mechanisms: what ties a login
//! to the one TLS connection it is made on, so that a man in the middle holding a certificate
//! the client trusts cannot pass the login on over a connection of its own.
//!
//! TLS 1.3: `tls-exporter` (RFC 9266), 32 bytes of keying material exported with the label
//! `EXPORTER-Channel-Binding` and no context. TLS 1.2: `tls-server-end-point` (RFC 5929), the
//! hash of the relay's certificate with the hash of its signature (SHA-256 for MD5 and SHA-1):
//! rustls has no `tls-unique`, and `tls-exporter` on TLS 1.2 is safe only with the extended
//! master secret, which a client cannot require of every relay. A certificate whose signature
//! names no single hash (Ed25519, RSA-PSS) has no `tls-server-end-point`: then there is none.

use ring::digest;
use rustls::{ClientConnection, ProtocolVersion};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::ChannelBinding;

/// RFC 9266 section 2.
const EXPORTER_LABEL: &[u8] = b"EXPORTER-Channel-Binding";

/// The binding of `tls`, when it has one.
pub fn channel_binding(tls: &ClientConnection) -> Option<ChannelBinding> {
    match tls.protocol_version()? {
        ProtocolVersion::TLSv1_3 => {
            let data = tls
                .export_keying_material(vec![0u8; 32], EXPORTER_LABEL, None)
                .ok()?;
            Some(ChannelBinding {
                kind: "tls-exporter",
                data,
            })
        }
        _ => {
            let leaf = tls.peer_certificates()?.first()?;
            Some(ChannelBinding {
                kind: "tls-server-end-point",
                data: server_end_point(leaf)?,
            })
        }
    }
}

/// RFC 5929 section 4.1: the certificate's hash, by its signature algorithm's hash.
pub fn server_end_point(der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let algorithm = match cert.signature_algorithm.algorithm.to_id_string().as_str() {
        // md5WithRSA, sha1WithRSA, sha256WithRSA, ecdsa-with-SHA1, ecdsa-with-SHA256
        "1.2.840.113549.1.1.4"
        | "1.2.840.113549.1.1.5"
        | "1.2.840.113549.1.1.11"
        | "1.2.840.10045.4.1"
        | "1.2.840.10045.4.3.2" => &digest::SHA256,
        // sha384WithRSA, ecdsa-with-SHA384
        "1.2.840.113549.1.1.12" | "1.2.840.10045.4.3.3" => &digest::SHA384,
        // sha512WithRSA, ecdsa-with-SHA512
        "1.2.840.113549.1.1.13" | "1.2.840.10045.4.3.4" => &digest::SHA512,
        _ => return None,
    };
    Some(digest::digest(algorithm, der).as_ref().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::certificate::tests::ca_file;
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    /// The test certificate is signed with ecdsa-with-SHA256: its end point is its SHA-256.
    #[test]
    fn the_end_point_is_the_hash_its_signature_names() {
        let pem = std::fs::read(ca_file()).unwrap();
        let der = CertificateDer::pem_slice_iter(&pem)
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(
            server_end_point(&der).as_deref(),
            Some(digest::digest(&digest::SHA256, &der).as_ref())
        );
        assert_eq!(server_end_point(b"not a certificate"), None);
    }
}
