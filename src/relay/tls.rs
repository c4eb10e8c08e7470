//! TLS settings for a profile: the system's CA store plus an optional per-profile CA file, the
//! name to verify, and an optional client certificate. Verification is always on.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;

use super::DeliveryError;
use super::smtp::tls_config;
use crate::config::Profile;

/// The TLS configuration and the name the relay's certificate must carry.
pub fn parameters(
    profile: &Profile,
) -> Result<(Arc<ClientConfig>, ServerName<'static>), DeliveryError> {
    let name = profile
        .tls_name
        .clone()
        .unwrap_or_else(|| profile.host.clone());
    let name = name
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let server_name = ServerName::try_from(name.clone()).map_err(|_| {
        DeliveryError::Setup(format!(
            "`{name}` is not a name a certificate can carry; set tls_name"
        ))
    })?;
    let ca: Vec<Vec<u8>> = profile
        .ca_file
        .iter()
        .map(|p| read(p, "CA file"))
        .collect::<Result<_, _>>()?;
    let identity = match (&profile.client_cert, &profile.client_key) {
        (Some(cert), Some(key)) => {
            Some((read(cert, "client certificate")?, read(key, "client key")?))
        }
        _ => None,
    };
    let config = tls_config(&ca, identity).map_err(DeliveryError::Setup)?;
    Ok((config, server_name))
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, DeliveryError> {
    fs::read(path)
        .map_err(|e| DeliveryError::Setup(format!("cannot read {what} {}: {e}", path.display())))
}
