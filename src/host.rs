//! This host's names: the fully qualified name relayctl announces in EHLO and in notices, and
//! the names under which mail to a local user (`root@<this host>`) is local.

use dns_lookup::{AddrInfoHints, getaddrinfo};

/// This host's fully qualified name, from the host name or the resolver's canonical name for it.
pub fn fqdn() -> Option<String> {
    let host = dns_lookup::get_hostname().ok()?;
    if is_fqdn(&host) {
        return Some(host);
    }
    let hints = AddrInfoHints {
        flags: libc::AI_CANONNAME,
        socktype: libc::SOCK_STREAM,
        ..AddrInfoHints::default()
    };
    getaddrinfo(Some(&host), None, Some(hints))
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|ai| ai.canonname)
        .find(|name| is_fqdn(name))
}

/// The name this host goes by in what relayctl writes (notices, test messages): its fully
/// qualified name, else its host name.
pub fn name() -> String {
    fqdn()
        .or_else(|| dns_lookup::get_hostname().ok())
        .unwrap_or_else(|| "this host".into())
}

fn is_fqdn(name: &str) -> bool {
    let name = name.trim_end_matches('.');
    name.contains('.')
        && !name.starts_with("localhost")
        && !name.ends_with(".localdomain")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// The names that mean "this host": mail to `user@` one of them is local.
pub fn local_domains() -> Vec<String> {
    let mut names = vec!["localhost".to_string(), "localhost.localdomain".to_string()];
    if let Ok(host) = dns_lookup::get_hostname() {
        names.push(host);
    }
    names.extend(fqdn());
    names
}

#[cfg(test)]
mod tests {
    use super::is_fqdn;

    #[test]
    fn fqdn_rules() {
        assert!(is_fqdn("vm1.cloud.example.org"));
        for bad in [
            "vm1",
            "localhost",
            "localhost.localdomain",
            "vm1.localdomain",
            "a b.c",
        ] {
            assert!(!is_fqdn(bad), "{bad}");
        }
    }
}
