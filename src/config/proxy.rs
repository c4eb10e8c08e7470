//! The egress proxy a profile reaches its relay through (`proxy`): SOCKS5 (RFC 1928, with the
//! user name and password of RFC 1929) or an HTTP proxy's CONNECT (RFC 9110 section 9.3.6).
//! The URL names the user; the password is a secret like the relay's (`proxy_secret`).

use std::fmt;
use std::str::FromStr;

/// How the proxy is spoken to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    /// `socks5://`: relayctl resolves the relay's name and hands the proxy an address.
    Socks5,
    /// `socks5h://`: the proxy resolves the relay's name (the only way when this host has no
    /// DNS of its own).
    Socks5h,
    /// `http://`: an HTTP proxy's CONNECT; the proxy resolves the name.
    Http,
}

/// `proxy = "socks5://user@host:1080"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    pub kind: ProxyKind,
    /// A name or an IP address (without brackets).
    pub host: String,
    pub port: u16,
    /// The user name the proxy wants, if any; its password lives in `proxy_secret`.
    pub user: Option<String>,
}

impl FromStr for ProxyUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| {
            format!(
                "proxy {s:?}: {why} (socks5://[user@]host:port, socks5h://..., or http://[user@]host:port)"
            )
        };
        let (scheme, rest) = s.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "socks5" => ProxyKind::Socks5,
            "socks5h" => ProxyKind::Socks5h,
            "http" => ProxyKind::Http,
            _ => return Err(bad("an unknown scheme")),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#'])
            || rest.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad("a proxy URL has no path, query or spaces"));
        }
        let (user, hostport) = match rest.rsplit_once('@') {
            Some((user, _)) if user.contains(':') => {
                return Err(bad(
                    "the password does not go in the URL; it is a secret (proxy_secret)",
                ));
            }
            Some((user, hostport)) if !user.is_empty() => (Some(user.to_string()), hostport),
            Some(_) => return Err(bad("an empty user name")),
            None => (None, rest),
        };
        let (host, port) = match hostport.strip_prefix('[') {
            Some(v6) => {
                let (host, port) = v6.split_once("]:").ok_or_else(|| bad("no port"))?;
                host.parse::<std::net::Ipv6Addr>()
                    .map_err(|_| bad("not an IPv6 address in brackets"))?;
                (host, port)
            }
            None => hostport.rsplit_once(':').ok_or_else(|| bad("no port"))?,
        };
        if host.is_empty() || host.contains(':') && !hostport.starts_with('[') {
            return Err(bad("no host"));
        }
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad("not a port"))?;
        if user.as_ref().is_some_and(|u| u.len() > 255) {
            return Err(bad("the user name is longer than 255 bytes"));
        }
        Ok(ProxyUrl {
            kind,
            host: host.to_string(),
            port,
            user,
        })
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.kind {
            ProxyKind::Socks5 => "socks5",
            ProxyKind::Socks5h => "socks5h",
            ProxyKind::Http => "http",
        };
        write!(f, "{scheme}://")?;
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        f.write_str(&self.host_port())
    }
}

impl ProxyUrl {
    /// `host:port`, an IPv6 address in brackets.
    pub fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

super::serde_as_string!(ProxyUrl);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls() {
        let p: ProxyUrl = "socks5h://mail@[::1]:1080".parse().unwrap();
        assert_eq!(p.kind, ProxyKind::Socks5h);
        assert_eq!((p.host.as_str(), p.port), ("::1", 1080));
        assert_eq!(p.user.as_deref(), Some("mail"));
        assert_eq!(p.to_string(), "socks5h://mail@[::1]:1080");
        let p: ProxyUrl = "http://proxy.example:3128/".parse().unwrap();
        assert_eq!(p.kind, ProxyKind::Http);
        assert_eq!(p.to_string(), "http://proxy.example:3128");
        assert!(
            "http://u:secret@proxy:3128"
                .parse::<ProxyUrl>()
                .unwrap_err()
                .contains("proxy_secret")
        );
        for bad in [
            "proxy:3128",
            "https://proxy:3128",
            "socks5://proxy",
            "socks5://proxy:0",
            "socks5://:1080",
            "socks5://::1:1080",
            "http://proxy:3128/path",
            "socks5://@proxy:1080",
        ] {
            assert!(bad.parse::<ProxyUrl>().is_err(), "{bad}");
        }
    }
}
