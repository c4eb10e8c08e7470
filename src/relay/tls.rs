//! TLS settings for a profile: the system's CA store plus an optional per-profile CA file and
//! the name to verify, or the pinned fingerprints instead (`tls_fingerprint`); the oldest TLS
//! version accepted; and an optional client certificate. Verification is always on.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;

use super::DeliveryError;
use super::smtp::pin::PinMismatch;
use super::smtp::{Connection, Observer, Route, SmtpError, Trust, tls_config};
use crate::config::{Profile, TlsMode, TlsVersion};

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
    let trust = if profile.tls_fingerprint.is_empty() {
        Trust::Roots(&ca)
    } else {
        Trust::Pins(&profile.tls_fingerprint)
    };
    let min_version = profile.tls_min_version.unwrap_or(TlsVersion::Tls12);
    let config = tls_config(trust, identity, min_version).map_err(DeliveryError::Setup)?;
    Ok((config, server_name))
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, DeliveryError> {
    fs::read(path)
        .map_err(|e| DeliveryError::Setup(format!("cannot read {what} {}: {e}", path.display())))
}

/// The end-entity certificate the relay presents, for `setup --trust-on-first-use` to show
/// before it is pinned. The handshake is made with a verifier that accepts no certificate, so
/// it always stops at the certificate: nothing (no login, no mail) is ever sent through a
/// connection whose certificate was not judged, and the certificate arrives in the
/// [`PinMismatch`] that refused it.
pub fn presented_certificate(
    profile: &Profile,
    route: &Route,
    observer: &dyn Observer,
) -> Result<Vec<u8>, DeliveryError> {
    let server = format!("{}:{}", profile.host, profile.port);
    let (_, server_name) = parameters(profile)?;
    let min_version = profile.tls_min_version.unwrap_or(TlsVersion::Tls12);
    let config = tls_config(Trust::Pins(&[]), None, min_version).map_err(DeliveryError::Setup)?;
    let timeout = profile.timeout();
    let (host, port) = (profile.host.as_str(), profile.port);
    let result = match profile.tls {
        TlsMode::Tls => Connection::connect_within(
            host,
            port,
            route,
            None,
            timeout,
            Some((config, server_name)),
            observer,
        )
        .map(drop),
        TlsMode::Starttls | TlsMode::Opportunistic => Connection::connect_within(
            host, port, route, None, timeout, None, observer,
        )
        .and_then(|mut conn| {
            conn.ehlo(&super::client_name(profile), observer)?;
            conn.starttls(config, server_name, observer)
        }),
        TlsMode::None => {
            return Err(DeliveryError::Setup(
                "the profile uses no TLS (tls = \"none\"): there is no certificate to pin".into(),
            ));
        }
    };
    match result {
        Err(e) => {
            if let SmtpError::Tls {
                error: Some(error), ..
            } = &e
                && let Some(mismatch) = PinMismatch::of(error)
            {
                return Ok(mismatch.certificate.clone());
            }
            Err(super::translate::translate(&server, e))
        }
        Ok(()) => Err(DeliveryError::Setup(format!(
            "{server} finished a TLS handshake without a certificate to show"
        ))),
    }
}
