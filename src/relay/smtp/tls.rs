//! TLS for the SMTP client: the rustls configuration and the stream under the dialogue.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use super::SmtpError;
use super::pin::{PinMismatch, PinnedVerifier};
use crate::config::{Fingerprint, TlsVersion};

/// How the relay's certificate is trusted.
#[derive(Debug, Clone, Copy)]
pub enum Trust<'a> {
    /// A chain to the system's CA store or to a certificate of these PEM files' contents (any
    /// number of certificates each), valid for the name verified.
    Roots(&'a [Vec<u8>]),
    /// Only an end-entity certificate (or public key) these pins name ([`super::pin`]); no
    /// pins at all accepts nothing.
    Pins(&'a [Fingerprint]),
}

/// Builds the client configuration relayctl uses for every relay: certificates trusted as
/// `trust` says, TLS 1.2 or 1.3 (only 1.3 when `min_version` says so) with the `ring` provider,
/// and optionally a client certificate chain and key (both PEM). Certificate verification is
/// always on.
///
/// Errors (as text for the user) when a CA PEM holds no certificate, when no trust anchor at
/// all is available, or when the client certificate or key cannot be used.
pub fn tls_config(
    trust: Trust<'_>,
    client_identity: Option<(Vec<u8>, Vec<u8>)>,
    min_version: TlsVersion,
) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let algorithms = provider.signature_verification_algorithms;
    let versions: &[&rustls::SupportedProtocolVersion] = match min_version {
        TlsVersion::Tls12 => &[&rustls::version::TLS13, &rustls::version::TLS12],
        TlsVersion::Tls13 => &[&rustls::version::TLS13],
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| format!("TLS settings: {e}"))?;
    let builder = match trust {
        Trust::Roots(ca_file_pems) => builder.with_root_certificates(roots(ca_file_pems)?),
        Trust::Pins(pins) => builder
            .dangerous()
            .with_custom_certificate_verifier(PinnedVerifier::new(pins, algorithms)),
    };
    let config = match client_identity {
        None => builder.with_no_client_auth(),
        Some((cert_pem, key_pem)) => {
            let key_pem = zeroize::Zeroizing::new(key_pem);
            let chain = CertificateDer::pem_slice_iter(&cert_pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("client certificate: {e}"))?;
            if chain.is_empty() {
                return Err("the client certificate file holds no PEM certificate".into());
            }
            let key =
                PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| format!("client key: {e}"))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("client certificate and key: {e}"))?
        }
    };
    Ok(Arc::new(config))
}

/// The system's CA store plus the certificates of `ca_file_pems`.
fn roots(ca_file_pems: &[Vec<u8>]) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    // Unreadable system certificates are skipped: a per-profile CA may be all that is needed.
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    for (i, pem) in ca_file_pems.iter().enumerate() {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("CA file {}: {e}", i + 1))?;
        if certs.is_empty() {
            return Err(format!("CA file {} holds no PEM certificate", i + 1));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| format!("CA file {}: {e}", i + 1))?;
        }
    }
    if roots.is_empty() {
        return Err("no trusted CA certificates: the system store is empty or unreadable, and no CA file was given".into());
    }
    Ok(roots)
}

/// The byte stream under the dialogue.
pub(super) enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
    /// Left behind when a STARTTLS upgrade failed half-way.
    Gone,
}

impl Stream {
    pub(super) fn tcp(&self) -> Option<&TcpStream> {
        match self {
            Stream::Plain(s) => Some(s),
            Stream::Tls(s) => Some(s.get_ref()),
            Stream::Gone => None,
        }
    }

    /// Whether something can be read without waiting: decrypted data TLS holds, or bytes (or
    /// the end, or an error) on the socket.
    pub(super) fn ready(&mut self) -> bool {
        if let Stream::Tls(tls) = self
            && tls
                .conn
                .process_new_packets()
                .is_ok_and(|state| state.plaintext_bytes_to_read() > 0)
        {
            return true;
        }
        let Some(tcp) = self.tcp() else {
            return true;
        };
        if tcp.set_nonblocking(true).is_err() {
            return false;
        }
        let peeked = tcp.peek(&mut [0u8; 1]);
        let _ = tcp.set_nonblocking(false);
        !matches!(peeked, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// Sends TLS's close_notify, best effort.
    pub(super) fn close(&mut self) {
        if let Stream::Tls(tls) = self {
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    }
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the connection is closed")
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
            Stream::Gone => Err(gone()),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
            Stream::Gone => Err(gone()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
            Stream::Gone => Err(gone()),
        }
    }
}

/// Wraps `tcp` in TLS and completes the handshake now, so that certificate problems show up
/// as [`SmtpError::Tls`] at `stage`.
pub(super) fn handshake(
    tcp: TcpStream,
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    stage: &'static str,
) -> Result<Stream, SmtpError> {
    let conn = ClientConnection::new(config, server_name).map_err(|e| SmtpError::Tls {
        stage,
        reason: e.to_string(),
        certificate: false,
        error: Some(e),
    })?;
    let mut tls = StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        match tls.conn.complete_io(&mut tls.sock) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(SmtpError::Tls {
                    stage,
                    reason: "the relay closed the connection during the TLS handshake".into(),
                    certificate: false,
                    error: None,
                });
            }
            Err(e) => return Err(SmtpError::from_io(stage, e)),
        }
    }
    // Anything still queued (the client's Finished) goes out now.
    while tls.conn.wants_write() {
        tls.conn
            .write_tls(&mut tls.sock)
            .map_err(|e| SmtpError::from_io(stage, e))?;
    }
    Ok(Stream::Tls(Box::new(tls)))
}

/// Sends a TLS ClientHello (for `name`) on `tcp` and says whether the peer answers with a TLS
/// record: a handshake message (ServerHello) or an alert. A plain SMTP server answers with a
/// reply line, or not at all; `tcp`'s read timeout bounds the wait.
pub(super) fn starts_with_tls_record(tcp: &mut TcpStream, name: &str) -> bool {
    const ALERT: u8 = 0x15;
    const HANDSHAKE: u8 = 0x16;
    let Ok(server_name) = ServerName::try_from(name.to_string()) else {
        return false;
    };
    // No certificate is ever judged: the answer's first bytes are all that is read.
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map(|b| {
                b.with_root_certificates(RootCertStore::empty())
                    .with_no_client_auth()
            });
    let Ok(config) = config else {
        return false;
    };
    let Ok(mut client) = ClientConnection::new(Arc::new(config), server_name) else {
        return false;
    };
    while client.wants_write() {
        if client.write_tls(tcp).is_err() {
            return false;
        }
    }
    let mut head = [0u8; 2];
    let mut got = 0;
    while got < head.len() {
        match tcp.read(&mut head[got..]) {
            Ok(0) => return false,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    // A record: its content type, then the major version 3 of TLS 1.x.
    matches!(head[0], ALERT | HANDSHAKE) && head[1] == 3
}

/// What a rustls error says, for the user: a pin mismatch in its own words (both
/// fingerprints), anything else as rustls puts it.
pub(super) fn describe(e: &rustls::Error) -> String {
    match PinMismatch::of(e) {
        Some(mismatch) => mismatch.to_string(),
        None => e.to_string(),
    }
}

/// Whether a rustls error is about the certificates (the relay's, or ours as it judged it).
pub(super) fn is_certificate_error(e: &rustls::Error) -> bool {
    use rustls::AlertDescription as A;
    match e {
        rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => true,
        rustls::Error::AlertReceived(alert) => matches!(
            alert,
            A::BadCertificate
                | A::UnsupportedCertificate
                | A::CertificateRevoked
                | A::CertificateExpired
                | A::CertificateUnknown
                | A::UnknownCA
                | A::CertificateRequired
        ),
        _ => false,
    }
}
