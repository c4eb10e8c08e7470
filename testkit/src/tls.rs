//! rustls configurations from PEM files (the integration tests' test CA and the server
//! certificate it signed; see tests/relay/postfix-up.sh), with the ring provider relayctl uses.

use std::path::Path;
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration with the certificate chain `cert` and its key `key` (PEM files).
/// Panics with the file's name if either cannot be read.
pub fn server_config(cert: &Path, key: &Path) -> Arc<ServerConfig> {
    server_config_for(cert, key, rustls::DEFAULT_VERSIONS)
}

/// The same, speaking TLS 1.2 only (a relay without TLS 1.3).
pub fn server_config_tls12(cert: &Path, key: &Path) -> Arc<ServerConfig> {
    server_config_for(cert, key, &[&rustls::version::TLS12])
}

/// Like [`server_config`], speaking only the TLS `versions` given (a relay stuck on TLS 1.2).
pub fn server_config_for(
    cert: &Path,
    key: &Path,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<ServerConfig> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .unwrap_or_else(|e| panic!("read {}: {e}", cert.display()));
    let key =
        PrivateKeyDer::from_pem_file(key).unwrap_or_else(|e| panic!("read {}: {e}", key.display()));
    let config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server certificate and key");
    Arc::new(config)
}

/// A client configuration trusting only the certificates in the PEM file `ca`.
pub fn client_config(ca: &Path) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in
        CertificateDer::pem_file_iter(ca).unwrap_or_else(|e| panic!("read {}: {e}", ca.display()))
    {
        roots
            .add(cert.expect("a PEM certificate"))
            .expect("a CA certificate");
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}
