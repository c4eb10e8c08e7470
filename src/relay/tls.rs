//! TLS settings for a profile: the system's CA store plus an optional per-profile CA file, the
//! name to verify, and an optional client certificate. Verification is always on.

use std::fs;
use std::path::Path;

use lettre::transport::smtp::client::{Certificate, Identity, TlsParameters};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use super::DeliveryError;
use crate::config::Profile;

/// Builds the TLS parameters for connecting to `profile`'s relay.
pub fn parameters(profile: &Profile) -> Result<TlsParameters, DeliveryError> {
    let name = profile
        .tls_name
        .clone()
        .unwrap_or_else(|| profile.host.clone());
    let mut builder = TlsParameters::builder(name);
    if let Some(ca) = &profile.ca_file {
        let pem = read(ca, "CA file")?;
        let cert = Certificate::from_pem(&pem).map_err(|_| {
            DeliveryError::Setup(format!("CA file {} holds no PEM certificate", ca.display()))
        })?;
        builder = builder.add_root_certificate(cert);
    }
    if let (Some(cert), Some(key)) = (&profile.client_cert, &profile.client_key) {
        builder = builder.identify_with(identity(cert, key)?);
    }
    builder
        .build_rustls()
        .map_err(|e| DeliveryError::Setup(format!("TLS settings: {e}")))
}

/// The client certificate and key. lettre's rustls backend takes the certificate argument as
/// DER bytes (despite the name `from_pem`), so the PEM is decoded here first.
fn identity(cert: &Path, key: &Path) -> Result<Identity, DeliveryError> {
    let pem = read(cert, "client certificate")?;
    let der = CertificateDer::pem_slice_iter(&pem)
        .next()
        .and_then(Result::ok)
        .ok_or_else(|| {
            DeliveryError::Setup(format!("{} holds no PEM certificate", cert.display()))
        })?;
    let key_pem = zeroize::Zeroizing::new(read(key, "client key")?);
    Identity::from_pem(der.as_ref(), &key_pem)
        .map_err(|e| DeliveryError::Setup(format!("client key {}: {e}", key.display())))
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, DeliveryError> {
    fs::read(path)
        .map_err(|e| DeliveryError::Setup(format!("cannot read {what} {}: {e}", path.display())))
}
