//! Which proxy, if any, an OAuth2 request goes through. Token requests carry the refresh token
//! and the client secret, so relayctl chooses rather than leaving it to ureq, which on its own
//! sends every request, loopback ones too, through `ALL_PROXY`, `HTTPS_PROXY` or `HTTP_PROXY`,
//! and reads `NO_PROXY` as exact host names only:
//!
//! - a loopback endpoint (127.0.0.0/8, ::1, localhost) is on this machine: never a proxy;
//! - a host `NO_PROXY` (else `no_proxy`) exempts: never a proxy. The variable is a
//!   comma-separated list of host names, each exempting itself and its subdomains (a leading
//!   `.` or `*.` changes nothing), IP addresses exempting themselves, and `*` exempting every
//!   host, as curl reads it;
//! - else the environment's proxy, as ureq finds it (`ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`,
//!   in either case).

use ureq::Proxy;
use url::{Host, Url};

/// The proxy requests to `url` go through, if any.
pub fn for_url(url: &Url) -> Option<Proxy> {
    if crate::config::is_loopback_url(url) {
        return None;
    }
    let host = match url.host()? {
        Host::Domain(name) => Target::Name(name.to_string()),
        Host::Ipv4(ip) => Target::Address(ip.to_string()),
        Host::Ipv6(ip) => Target::Address(ip.to_string()),
    };
    let no_proxy = std::env::var("NO_PROXY").or_else(|_| std::env::var("no_proxy"));
    if no_proxy.is_ok_and(|list| exempt(&host, &list)) {
        return None;
    }
    Proxy::try_from_env()
}

/// How `-v` names a proxy: its protocol, host and port, never its credentials.
pub fn describe(proxy: &Proxy) -> String {
    format!(
        "{} proxy {}:{}",
        proxy.protocol(),
        proxy.host(),
        proxy.port()
    )
}

/// A request's host as `NO_PROXY` entries are matched against it.
#[derive(Debug)]
enum Target {
    /// A host name: entries match it and its parent domains.
    Name(String),
    /// An IP address: entries match it exactly.
    Address(String),
}

/// Whether the `NO_PROXY` list `list` exempts `host`.
fn exempt(host: &Target, list: &str) -> bool {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry
                .strip_prefix("*.")
                .or_else(|| entry.strip_prefix('.'))
                .unwrap_or(entry)
                .trim_end_matches('.')
                .trim_start_matches('[')
                .trim_end_matches(']');
            match host {
                Target::Name(name) => {
                    let name = name.trim_end_matches('.').to_ascii_lowercase();
                    let entry = entry.to_ascii_lowercase();
                    name == entry || name.ends_with(&format!(".{entry}"))
                }
                Target::Address(address) => address.eq_ignore_ascii_case(entry),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str) -> Target {
        Target::Name(n.into())
    }

    #[test]
    fn no_proxy_entries_match_the_host_and_its_subdomains() {
        let list = " login.example.org, .corp.example ,*.internal.example,10.0.0.7,[fd00::1]";
        for host in [
            "login.example.org",
            "LOGIN.Example.org",
            "login.example.org.",
            "corp.example",
            "auth.corp.example",
            "a.b.internal.example",
            "internal.example",
        ] {
            assert!(exempt(&name(host), list), "{host}");
        }
        for host in [
            "example.org",
            "xlogin.example.org",
            "login.example.org.evil.example",
            "notcorp.example",
            "corp.example.net",
        ] {
            assert!(!exempt(&name(host), list), "{host}");
        }
        assert!(exempt(&Target::Address("10.0.0.7".into()), list));
        assert!(exempt(&Target::Address("fd00::1".into()), list));
        assert!(!exempt(&Target::Address("10.0.0.70".into()), list));
        assert!(!exempt(&Target::Address("0.0.7".into()), "10.0.0.7"));
    }

    #[test]
    fn a_star_exempts_everything_and_an_empty_list_nothing() {
        assert!(exempt(&name("login.example.org"), "*"));
        assert!(exempt(&name("login.example.org"), "other.example, *"));
        assert!(!exempt(&name("login.example.org"), ""));
        assert!(!exempt(&name("login.example.org"), " , "));
    }

    #[test]
    fn loopback_endpoints_never_use_a_proxy() {
        // Whatever the environment says: the answer does not depend on it.
        for url in [
            "http://127.0.0.1:8080/token",
            "http://127.9.9.9/token",
            "http://[::1]:8080/token",
            "https://localhost/token",
            "https://LOCALHOST:8443/token",
        ] {
            assert!(for_url(&Url::parse(url).unwrap()).is_none(), "{url}");
        }
    }
}
