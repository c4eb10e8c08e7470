//! `setup --trust-on-first-use`: connect to the relay as the profile says, show the certificate
//! it presents (subject, issuer, expiry, fingerprints), ask the admin at the terminal, and pin
//! it (`tls_fingerprint`). The certificate is fetched by a handshake that accepts no
//! certificate at all ([`crate::relay::tls::presented_certificate`]), so nothing is sent to the
//! relay before the admin has said yes.

use std::io::{BufRead, IsTerminal};

use crate::config::{Fingerprint, Profile};
use crate::error::{Error, Result};
use crate::relay::certificate::Summary;
use crate::relay::smtp::pin::PinMismatch;
use crate::relay::{ProfileCredentials, route, tls};
use crate::transcript::Transcript;

/// Shows the relay's certificate and, when the admin accepts it, pins it in `profile`.
pub fn pin(
    name: &str,
    profile: &mut Profile,
    config_path: &std::path::Path,
    spool: &std::path::Path,
    transcript: Transcript,
) -> Result<()> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(Error::Usage(
            "--trust-on-first-use asks at a terminal; without one, check the relay's fingerprint with its admin and pass --tls-fingerprint sha256:..."
                .into(),
        ));
    }
    let credentials = ProfileCredentials::new(name, profile, config_path, spool, transcript);
    let route = route(profile, &credentials)?;
    let der = tls::presented_certificate(profile, &route, &transcript)?;
    let fingerprint = Fingerprint::of(&der);
    let shown = PinMismatch {
        certificate: der.clone(),
        pinned: Vec::new(),
    };
    let summary = Summary::parse(&der);
    let or_unknown = |v: Option<String>| v.unwrap_or_else(|| "(unreadable)".into());
    crate::messages::alert(&format!(
        "{}:{} presents this certificate:",
        profile.host, profile.port
    ));
    crate::messages::alert(&format!(
        "  subject: {}",
        or_unknown(summary.as_ref().and_then(|s| s.subject.clone()))
    ));
    crate::messages::alert(&format!(
        "  issuer: {}",
        or_unknown(summary.as_ref().and_then(|s| s.issuer.clone()))
    ));
    crate::messages::alert(&format!(
        "  expires: {}",
        or_unknown(summary.as_ref().map(|s| crate::calendar::date(s.not_after)))
    ));
    crate::messages::alert(&format!("  fingerprint: {fingerprint}"));
    if let Some(key) = shown.key_fingerprint() {
        crate::messages::alert(&format!("  public key: {key}"));
    }
    crate::messages::ask(
        "Compare the fingerprint with the one the relay's admin gives you. Pin this certificate? [y/N]",
    );
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::Usage(format!("cannot read the answer: {e}")))?;
    if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        return Err(Error::Usage(
            "the certificate was not pinned; nothing was saved".into(),
        ));
    }
    profile.tls_fingerprint = vec![fingerprint];
    Ok(())
}
