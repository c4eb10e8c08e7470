//! `[server]`: the SMTP listener (`relayctl serve`) for programs that can only speak SMTP.
//!
//! ```toml
//! [server]
//! listen = ["127.0.0.1:25", "[::1]:25", "smtps://127.0.0.1:465"]
//! allow = ["127.0.0.0/8", "::1/128"]
//! profile = "default"
//! tls_cert = "/etc/relayctl/smtpd.crt"
//! tls_key = "/etc/relayctl/smtpd.key"
//! max_connections = 100
//! max_connections_per_client = 20
//! ```

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::{ByteSize, Span};

/// The listener's users file, beside the config file that has `[server]`.
pub const USERS_FILE: &str = "smtpd-users.toml";

/// The system user the listener runs as once its sockets are bound (when started as root).
pub const DEFAULT_SERVER_USER: &str = "relayctl-smtpd";

/// The listener's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Addresses to listen on: `HOST:PORT` (STARTTLS when a certificate is configured) or
    /// `smtps://HOST:PORT` (implicit TLS). Default: 127.0.0.1:25 and [::1]:25 as root, else
    /// 127.0.0.1:2525.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub listen: Vec<Listen>,
    /// Client networks that may submit without AUTH (default: loopback only).
    pub allow: Vec<IpNet>,
    /// The profile for clients that do not log in; `default` is the default profile (unless a
    /// profile is named so). Server users name their own.
    pub profile: String,
    /// Certificate chain (PEM) for STARTTLS and `smtps://` listeners.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// Its private key (PEM); readable by root only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// Connections served at once; more are answered `421` and closed.
    pub max_connections: usize,
    /// Connections served at once from one client address.
    pub max_connections_per_client: usize,
    /// The system user the listener becomes after binding (started as root).
    pub user: String,
    /// Where server users are kept [default: smtpd-users.toml beside the config file].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users_file: Option<PathBuf>,
    /// The longest wait for one command line, or one line of a message.
    pub timeout: Span,
    /// The longest a connection may last.
    pub session_timeout: Span,
    /// How long to wait before the greeting, watching for a client that talks first (spamware
    /// does, mail clients wait for the greeting). A client that talks before it is refused.
    pub greet_pause: Span,
    /// Errors after which a client is disconnected.
    pub max_errors: usize,
    /// Commands (of any kind) one connection may send.
    pub max_commands: usize,
    /// The largest message accepted [default: the profile's max_message_size].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_message_size: Option<ByteSize>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: Vec::new(),
            allow: vec![
                IpNet::from_str("127.0.0.0/8").expect("a network"),
                IpNet::from_str("::1/128").expect("a network"),
            ],
            profile: "default".into(),
            tls_cert: None,
            tls_key: None,
            max_connections: 100,
            max_connections_per_client: 20,
            user: DEFAULT_SERVER_USER.into(),
            users_file: None,
            timeout: Span(300),
            session_timeout: Span(3600),
            greet_pause: Span(0),
            max_errors: 10,
            max_commands: 10_000,
            max_message_size: None,
        }
    }
}

impl ServerSettings {
    /// The addresses to listen on: the configured ones, else the defaults for this user.
    pub fn listen_or_default(&self, root: bool) -> Vec<Listen> {
        if !self.listen.is_empty() {
            return self.listen.clone();
        }
        let defaults: &[&str] = if root {
            &["127.0.0.1:25", "[::1]:25"]
        } else {
            &["127.0.0.1:2525"]
        };
        defaults
            .iter()
            .map(|d| d.parse().expect("a listen address"))
            .collect()
    }

    /// Whether a client at `ip` may submit without logging in.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.allow.iter().any(|net| net.contains(&ip))
    }
}

/// An IPv4 client seen on an IPv6 socket (`::ffff:10.0.0.1`) is that IPv4 address.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// One address the listener accepts connections on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen {
    pub address: SocketAddr,
    /// TLS from the first byte (`smtps://`), as on port 465.
    pub implicit_tls: bool,
}

impl FromStr for Listen {
    type Err = String;

    /// `127.0.0.1:25`, `[::1]:25` or `smtps://0.0.0.0:465`.
    fn from_str(text: &str) -> Result<Self, String> {
        let (implicit_tls, rest) = match text.strip_prefix("smtps://") {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix("smtp://").unwrap_or(text)),
        };
        let address = rest.parse().map_err(|_| {
            format!("{text:?} is not HOST:PORT with an IP address (e.g. 127.0.0.1:25, [::1]:25, smtps://0.0.0.0:465)")
        })?;
        Ok(Listen {
            address,
            implicit_tls,
        })
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.implicit_tls {
            f.write_str("smtps://")?;
        }
        write!(f, "{}", self.address)
    }
}

super::serde_as_string!(Listen);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_parse_and_print_back() {
        for text in ["127.0.0.1:25", "[::1]:2525", "smtps://0.0.0.0:465"] {
            let listen: Listen = text.parse().unwrap();
            assert_eq!(listen.to_string(), text);
        }
        assert!(
            "smtps://0.0.0.0:465"
                .parse::<Listen>()
                .unwrap()
                .implicit_tls
        );
        for bad in ["localhost:25", "127.0.0.1", "smtps://", ":25"] {
            assert!(bad.parse::<Listen>().is_err(), "{bad}");
        }
    }

    #[test]
    fn only_loopback_is_allowed_by_default() {
        let s = ServerSettings::default();
        assert!(s.allows("127.0.0.1".parse().unwrap()));
        assert!(s.allows("::1".parse().unwrap()));
        assert!(s.allows("::ffff:127.0.0.5".parse().unwrap()));
        assert!(!s.allows("10.200.0.2".parse().unwrap()));
        assert!(!s.allows("::ffff:10.200.0.2".parse().unwrap()));
    }

    #[test]
    fn the_default_listeners_depend_on_who_runs_it() {
        let s = ServerSettings::default();
        let root: Vec<String> = s
            .listen_or_default(true)
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert_eq!(root, ["127.0.0.1:25", "[::1]:25"]);
        let user: Vec<String> = s
            .listen_or_default(false)
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert_eq!(user, ["127.0.0.1:2525"]);
    }
}
