//! The name relayctl announces in EHLO. Relays reject a bare `localhost` and many campus relays
//! want a fully qualified name, so the default is this host's FQDN (what `hostname --fqdn`
//! prints), falling back to an address literal.

use dns_lookup::{AddrInfoHints, getaddrinfo};

use crate::config::Profile;

/// The EHLO name for `profile`: its `ehlo_name`, else this host's fully qualified name, else
/// an address literal.
pub fn client_name(profile: &Profile) -> String {
    profile
        .ehlo_name
        .clone()
        .or_else(system_fqdn)
        .unwrap_or_else(|| "[127.0.0.1]".into())
}

/// This host's fully qualified name, from the host name or the resolver's canonical name for it.
pub fn system_fqdn() -> Option<String> {
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

fn is_fqdn(name: &str) -> bool {
    let name = name.trim_end_matches('.');
    name.contains('.')
        && !name.starts_with("localhost")
        && !name.ends_with(".localdomain")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
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
