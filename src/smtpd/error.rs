//! Why the SMTP listener cannot start (each with the fix), for the one error-to-exit-code map.

use std::io;
use std::net::SocketAddr;

use crate::config::Listen;

/// Why the listener cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {address}: {source}{}", bind_hint(source, address))]
    Bind {
        address: SocketAddr,
        source: io::Error,
    },
    #[error("socket activation: {0}")]
    Activation(String),
    #[error(
        "the system user {0} does not exist; create it (useradd --system --no-create-home --shell /usr/sbin/nologin {0}) or set [server] user"
    )]
    NoUser(String),
    #[error("[server] user is root; the listener never serves clients as root")]
    RootUser,
    #[error("cannot become user {user}: {source}")]
    Privileges { user: String, source: io::Error },
    #[error("{0} needs [server] tls_cert and tls_key (implicit TLS)")]
    NoCertificate(Listen),
    #[error(transparent)]
    Tls(#[from] super::tls::TlsError),
    #[error(transparent)]
    Users(#[from] super::users::UsersError),
}

fn bind_hint(source: &io::Error, address: &SocketAddr) -> String {
    match source.kind() {
        io::ErrorKind::PermissionDenied if address.port() < 1024 => {
            "; ports below 1024 need root (or use a port such as 2525)".into()
        }
        io::ErrorKind::AddrInUse => "; another mail server may be listening there".into(),
        _ => String::new(),
    }
}
