//! Form POSTs to a provider's endpoints, answered with JSON (RFC 6749 §5). ureq carries them
//! over rustls with the system's CA certificates plus the profile's `ca_file`; endpoints are
//! https (or http on loopback, checked when the profile is loaded). Whether a proxy carries them
//! is relayctl's choice ([`super::proxy`]), and `-v` says when one does.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{Certificate, RootCerts, TlsConfig};

use super::{OAuthError, proxy};
use crate::transcript::Transcript;

/// The largest answer read from an endpoint.
const MAX_RESPONSE_BYTES: u64 = 64 * 1024;

/// An endpoint's answer: its HTTP status and JSON body.
pub struct Answer {
    pub status: u16,
    pub json: serde_json::Value,
}

/// POSTs `form` (application/x-www-form-urlencoded) to `url` and reads the JSON answer, whatever
/// the status: OAuth errors come as 400 and 401 with a JSON body.
pub fn post_form(
    url: &str,
    form: &[(&str, &str)],
    timeout: Duration,
    ca_file: Option<&Path>,
    transcript: &Transcript,
) -> Result<Answer, OAuthError> {
    // ureq's errors may quote what the server sent.
    let fail = |reason: String| OAuthError::Endpoint {
        endpoint: url.to_string(),
        reason: crate::printable::clean(&reason),
    };
    let proxy = url::Url::parse(url)
        .map_err(|e| fail(format!("is not a URL ({e})")))
        .map(|u| proxy::for_url(&u))?;
    if let Some(p) = &proxy {
        transcript.note(&format!(
            "OAuth2: {url} is reached through the {} of the environment (NO_PROXY exempts hosts)",
            proxy::describe(p)
        ));
    }
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .proxy(proxy)
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(timeout))
            .user_agent(concat!("relayctl/", env!("CARGO_PKG_VERSION")))
            .tls_config(
                TlsConfig::builder()
                    .root_certs(roots(ca_file).map_err(fail)?)
                    .unversioned_rustls_crypto_provider(Arc::new(
                        rustls::crypto::ring::default_provider(),
                    ))
                    .build(),
            )
            .build(),
    );
    let mut response = agent
        .post(url)
        .header("Accept", "application/json")
        .send_form(form.iter().copied())
        .map_err(|e| fail(e.to_string()))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(MAX_RESPONSE_BYTES)
        .read_to_string()
        .map_err(|e| fail(format!("HTTP {status}, unreadable answer: {e}")))?;
    let json = serde_json::from_str(&text).map_err(|_| {
        fail(format!(
            "HTTP {status}, and the answer is not JSON (is this the right endpoint?)"
        ))
    })?;
    Ok(Answer { status, json })
}

/// The system's CA certificates and the profile's extra ones.
fn roots(ca_file: Option<&Path>) -> Result<RootCerts, String> {
    let mut certs: Vec<Certificate<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .iter()
        .map(|c| Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| format!("cannot read CA file {}: {e}", path.display()))?;
        for item in ureq::tls::parse_pem(&pem) {
            if let Ok(ureq::tls::PemItem::Certificate(cert)) = item {
                certs.push(cert);
            }
        }
    }
    Ok(RootCerts::new_with_certs(&certs))
}
