//! TLS settings for a profile: the system's CA store plus an optional per-profile CA file and
//! the name to verify, or the pinned fingerprints instead (`tls_fingerprint`); the oldest TLS
//! version accepted; and an optional client certificate. Verification is always on.

use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex};

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
    let key = settings_key(
        &ca,
        &profile.tls_fingerprint,
        identity.as_ref(),
        min_version,
    );
    let config = shared(key, || {
        tls_config(trust, identity, min_version).map_err(DeliveryError::Setup)
    })?;
    Ok((config, server_name))
}

/// The TLS configurations made in this process, by [`settings_key`], newest last.
static CONFIGS: Mutex<Vec<([u8; 32], Arc<ClientConfig>)>> = Mutex::new(Vec::new());

/// At most this many are kept (a process talks to a few relays).
const KEPT_CONFIGS: usize = 16;

/// One TLS configuration per set of TLS settings in a process, so that its sessions to a relay
/// resume: rustls keeps the relay's TLS 1.3 tickets in memory, per server name, in the
/// configuration. The daemon's passes and a pass's further connections then skip the full
/// handshake. Other settings (another CA file's contents, other pins, another client
/// certificate or key, another oldest version) are another configuration, which resumes
/// nothing of the first; another server name resumes nothing either. Tickets never leave the
/// process: rustls cannot write a TLS 1.3 client session out (rustls/rustls#2287).
fn shared(
    key: [u8; 32],
    make: impl FnOnce() -> Result<Arc<ClientConfig>, DeliveryError>,
) -> Result<Arc<ClientConfig>, DeliveryError> {
    if let Ok(kept) = CONFIGS.lock()
        && let Some((_, config)) = kept.iter().find(|(k, _)| *k == key)
    {
        return Ok(config.clone());
    }
    let config = make()?;
    if let Ok(mut kept) = CONFIGS.lock() {
        if kept.len() >= KEPT_CONFIGS {
            kept.remove(0);
        }
        kept.push((key, config.clone()));
    }
    Ok(config)
}

/// A digest of everything a TLS configuration is made of (the secret key included, so that
/// nothing of it is kept in the clear for the comparison).
fn settings_key(
    ca: &[Vec<u8>],
    pins: &[crate::config::Fingerprint],
    identity: Option<&(Vec<u8>, Vec<u8>)>,
    min_version: TlsVersion,
) -> [u8; 32] {
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let mut part = |label: &str, bytes: &[u8]| {
        digest.update(label.as_bytes());
        digest.update(&(bytes.len() as u64).to_be_bytes());
        digest.update(bytes);
    };
    for pem in ca {
        part("ca", pem);
    }
    for pin in pins {
        part("pin", format!("{pin:?}").as_bytes());
    }
    if let Some((cert, key)) = identity {
        part("cert", cert);
        part("key", key);
    }
    part("min", format!("{min_version:?}").as_bytes());
    let mut key = [0u8; 32];
    key.copy_from_slice(digest.finish().as_ref());
    key
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Fingerprint;

    /// Sessions resume only within the same settings: any change of CA file contents, pins,
    /// client certificate, key or oldest version is another configuration.
    #[test]
    fn every_setting_keys_the_configuration() {
        let ca = vec![b"CA one".to_vec()];
        let identity = (b"cert".to_vec(), b"key".to_vec());
        let base = settings_key(&ca, &[], Some(&identity), TlsVersion::Tls12);
        assert_eq!(
            base,
            settings_key(&ca, &[], Some(&identity), TlsVersion::Tls12)
        );
        let others = [
            settings_key(
                &[b"CA two".to_vec()],
                &[],
                Some(&identity),
                TlsVersion::Tls12,
            ),
            settings_key(
                &ca,
                &[Fingerprint([7; 32])],
                Some(&identity),
                TlsVersion::Tls12,
            ),
            settings_key(&ca, &[], None, TlsVersion::Tls12),
            settings_key(
                &ca,
                &[],
                Some(&(b"cert".to_vec(), b"other key".to_vec())),
                TlsVersion::Tls12,
            ),
            settings_key(&ca, &[], Some(&identity), TlsVersion::Tls13),
        ];
        for (i, other) in others.iter().enumerate() {
            assert_ne!(base, *other, "change {i} kept the configuration");
        }
    }

    /// The same settings get the same configuration (and so its sessions) within a process.
    #[test]
    fn the_same_settings_share_one_configuration() {
        let key = settings_key(&[b"shared".to_vec()], &[], None, TlsVersion::Tls13);
        let make =
            || tls_config(Trust::Roots(&[]), None, TlsVersion::Tls13).map_err(DeliveryError::Setup);
        let first = shared(key, make).unwrap();
        let again = shared(key, || panic!("made twice")).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
    }
}
