//! TLS for the listener: the server configuration from `[server] tls_cert` and `tls_key`, read
//! once (as root, before the listener gives up its privileges: the key stays root's file).

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why the certificate or key cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct TlsError {
    pub path: std::path::PathBuf,
    pub reason: String,
}

/// The listener's TLS settings: TLS 1.2 or 1.3 with the `ring` provider, no client
/// certificates asked for.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let fail = |path: &Path, reason: String| TlsError {
        path: path.to_path_buf(),
        reason,
    };
    let cert_pem = std::fs::read(cert).map_err(|e| fail(cert, e.to_string()))?;
    let key_pem =
        zeroize::Zeroizing::new(std::fs::read(key).map_err(|e| fail(key, e.to_string()))?);
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(fail(cert, "holds no PEM certificate".into()));
    }
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| fail(key, e.to_string()))?;
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| fail(cert, e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(|e| fail(cert, format!("certificate and key do not go together: {e}")))?;
    Ok(Arc::new(config))
}

/// The end-entity certificate of the file at `cert` (DER), for `doctor`.
pub fn first_certificate(cert: &Path) -> Option<Vec<u8>> {
    let pem = std::fs::read(cert).ok()?;
    CertificateDer::pem_slice_iter(&pem)
        .next()?
        .ok()
        .map(|c| c.as_ref().to_vec())
}
