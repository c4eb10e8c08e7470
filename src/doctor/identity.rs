//! How the world sees this host: the name it announces in EHLO (fully qualified, resolving to
//! this host's address and back, as relays and campus networks require of hosts that send
//! mail), and whether this host's or the relay's address is on a common DNS blocklist.
//!
//! This host's address is the one it reaches the relay from. Behind NAT the public address
//! differs and cannot be learnt without asking an outside service, which the doctor never does:
//! `RELAYCTL_PUBLIC_ADDRESS` names it. Blocklist zones are `RELAYCTL_DNSBL_ZONES` (comma or space
//! separated; empty turns the check off), else [`DEFAULT_ZONES`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::dns::{Answer, DnsError, Resolver, reverse_name};
use super::{Check, Findings};
use crate::options::Selected;
use crate::relay::client_name;

/// Common DNS blocklists that answer ordinary queries.
pub const DEFAULT_ZONES: [&str; 4] = [
    "zen.spamhaus.org",
    "bl.spamcop.net",
    "b.barracudacentral.org",
    "psbl.surriel.com",
];

/// This host's address as relays see it: `RELAYCTL_PUBLIC_ADDRESS`, else the address of the
/// connection to the relay. The flag says whether it was given explicitly.
fn this_host(found: &Findings) -> Result<Option<(IpAddr, bool)>, String> {
    match std::env::var("RELAYCTL_PUBLIC_ADDRESS")
        .ok()
        .filter(|v| !v.trim().is_empty() && !crate::privilege::raised())
    {
        Some(text) => text
            .trim()
            .parse()
            .map(|ip| Some((ip, true)))
            .map_err(|_| format!("RELAYCTL_PUBLIC_ADDRESS={text} is not an IP address")),
        None => Ok(found.local_address.map(|ip| (ip, false))),
    }
}

/// `ehlo.name`, `ehlo.forward`, `ehlo.reverse`.
pub fn ehlo_name(selected: &Selected, resolver: &Resolver, found: &Findings, out: &mut Vec<Check>) {
    let name = client_name(&selected.profile);
    let fix_name = format!(
        "set ehlo_name = \"host.your.domain\" in [profiles.{}]: a name registered in DNS for this host",
        selected.name
    );
    let bare = name.trim_end_matches('.');
    let fqdn = bare.contains('.')
        && !bare.starts_with('[')
        && !bare.starts_with("localhost")
        && !bare.ends_with(".localdomain");
    if !fqdn {
        out.push(Check::warn(
            "ehlo.name",
            format!("the EHLO name {name} is not a fully qualified domain name; relays and campus networks often refuse such hosts"),
            fix_name,
        ));
        let why = "needs a fully qualified EHLO name";
        out.push(Check::skip("ehlo.forward", why));
        out.push(Check::skip("ehlo.reverse", why));
        return;
    }
    out.push(Check::pass("ehlo.name", format!("the EHLO name is {name}")));
    let this = match this_host(found) {
        Ok(Some((ip, explicit))) if explicit || !ip.is_loopback() => ip,
        Ok(Some(_)) => {
            let why =
                "the relay is on this host (loopback): DNS registration does not matter to it";
            out.push(Check::skip("ehlo.forward", why));
            out.push(Check::skip("ehlo.reverse", why));
            return;
        }
        Ok(None) => {
            let why = "this host's address is unknown (the relay was not reached)";
            out.push(Check::skip("ehlo.forward", why));
            out.push(Check::skip("ehlo.reverse", why));
            return;
        }
        Err(e) => {
            out.push(Check::warn(
                "ehlo.forward",
                e,
                "set RELAYCTL_PUBLIC_ADDRESS to this host's public IP address, or unset it",
            ));
            out.push(Check::skip(
                "ehlo.reverse",
                "this host's address is unknown",
            ));
            return;
        }
    };
    let nat = if is_public(this) {
        ""
    } else {
        " (behind NAT, set RELAYCTL_PUBLIC_ADDRESS to the public address)"
    };
    out.push(match resolver.addresses(bare) {
        Ok(Answer::Records(addrs)) if addrs.contains(&this) => {
            Check::pass("ehlo.forward", format!("{bare} resolves to this host's address {this}"))
        }
        Ok(Answer::Records(addrs)) => Check::warn(
            "ehlo.forward",
            format!(
                "{bare} resolves to {}, not to this host's address {this}{nat}",
                addrs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ),
            format!("register {bare} -> {this} in DNS (A/AAAA), or {fix_name}"),
        ),
        Ok(_) => Check::warn(
            "ehlo.forward",
            format!("{bare} does not resolve; relays and campus networks require hosts that send mail to be registered in DNS"),
            format!("register {bare} -> {this} in DNS (A/AAAA), or {fix_name}"),
        ),
        Err(e) => could_not("ehlo.forward", &e),
    });
    out.push(match resolver.ptr(this) {
        Ok(Answer::Records(names)) if names.iter().any(|n| n.eq_ignore_ascii_case(bare)) => {
            Check::pass("ehlo.reverse", format!("{this} maps back to {bare}"))
        }
        Ok(Answer::Records(names)) => Check::warn(
            "ehlo.reverse",
            format!("{this} maps back to {}, not to {bare}", names.join(", ")),
            format!(
                "set ehlo_name = \"{}\" if that name resolves to {this}, or ask whoever runs the reverse zone of {this} (cloud provider, campus network) for a PTR record to {bare}",
                names.first().map(String::as_str).unwrap_or_default()
            ),
        ),
        Ok(_) => Check::warn(
            "ehlo.reverse",
            format!("{this} has no reverse (PTR) record{nat}"),
            format!("ask whoever runs the reverse zone of {this} (cloud provider, campus network) for a PTR record to {bare}"),
        ),
        Err(e) => could_not("ehlo.reverse", &e),
    });
}

fn could_not(id: &str, e: &DnsError) -> Check {
    Check::warn(
        id,
        format!("could not check: {e}"),
        "check this host's DNS (/etc/resolv.conf, or RELAYCTL_DNS_SERVER)",
    )
}

/// The blocklist zones to ask.
fn zones() -> Vec<String> {
    match std::env::var("RELAYCTL_DNSBL_ZONES")
        .ok()
        .filter(|_| !crate::privilege::raised())
    {
        Some(list) => list
            .split([',', ' '])
            .map(str::trim)
            .filter(|z| !z.is_empty())
            .map(String::from)
            .collect(),
        None => DEFAULT_ZONES.iter().map(|z| z.to_string()).collect(),
    }
}

/// What one blocklist says about one address.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Listing {
    Clean,
    /// Listed, with the list's answer (`127.0.0.2`).
    Listed(Ipv4Addr),
    /// Listed as an end-user address range (Spamhaus PBL): normal for a host that submits
    /// with a login, refused when it sends without one.
    Policy,
    /// The list could not be asked, or refused to answer.
    Unknown(String),
}

fn lookup(resolver: &Resolver, zone: &str, address: IpAddr) -> Listing {
    match resolver.a(&reverse_name(address, zone, zone)) {
        Ok(Answer::Records(ips)) => {
            // 127.255.255.x: the list refuses the query (a public resolver, too many queries).
            if let Some(err) = ips.iter().find(|ip| ip.octets()[..3] == [127, 255, 255]) {
                return Listing::Unknown(format!(
                    "{zone} refused the query ({err}); public resolvers are often refused"
                ));
            }
            match ips.iter().find(|ip| ip.octets()[0] == 127) {
                Some(ip) if zone.ends_with("spamhaus.org") && matches!(ip.octets()[3], 10 | 11) => {
                    Listing::Policy
                }
                Some(ip) => Listing::Listed(*ip),
                None => Listing::Unknown(format!("{zone} answered {}", ips[0])),
            }
        }
        Ok(_) => Listing::Clean,
        Err(e) => Listing::Unknown(e.to_string()),
    }
}

/// `dnsbl.host` and `dnsbl.relay`.
pub fn blocklists(resolver: &Resolver, found: &Findings, out: &mut Vec<Check>) {
    let zones = zones();
    if zones.is_empty() {
        out.push(Check::skip("dnsbl.host", "RELAYCTL_DNSBL_ZONES is empty"));
        out.push(Check::skip("dnsbl.relay", "RELAYCTL_DNSBL_ZONES is empty"));
        return;
    }
    match this_host(found) {
        Ok(Some((ip, explicit))) => out.push(check_address(
            resolver,
            &zones,
            "dnsbl.host",
            "this host's",
            ip,
            explicit,
        )),
        Ok(None) => out.push(Check::skip(
            "dnsbl.host",
            "this host's address is unknown (the relay was not reached)",
        )),
        Err(e) => out.push(Check::warn(
            "dnsbl.host",
            e,
            "set RELAYCTL_PUBLIC_ADDRESS to this host's public IP address, or unset it",
        )),
    }
    match found
        .relay_address
        .or_else(|| found.relay_addresses.first().copied())
    {
        Some(ip) => out.push(check_address(
            resolver,
            &zones,
            "dnsbl.relay",
            "the relay's",
            ip,
            false,
        )),
        None => out.push(Check::skip("dnsbl.relay", "the relay's address is unknown")),
    }
}

fn check_address(
    resolver: &Resolver,
    zones: &[String],
    id: &str,
    whose: &str,
    ip: IpAddr,
    explicit: bool,
) -> Check {
    if !explicit && !is_public(ip) {
        return Check::skip(
            id,
            format!(
                "{whose} address {ip} is not a public address; blocklists list only public ones{}",
                if id == "dnsbl.host" {
                    " (behind NAT, set RELAYCTL_PUBLIC_ADDRESS to check the public one)"
                } else {
                    ""
                }
            ),
        );
    }
    let results: Vec<(&String, Listing)> =
        zones.iter().map(|z| (z, lookup(resolver, z, ip))).collect();
    let listed: Vec<String> = results
        .iter()
        .filter_map(|(z, l)| match l {
            Listing::Listed(code) => Some(format!("{z} ({code})")),
            _ => None,
        })
        .collect();
    let unknown: Vec<&str> = results
        .iter()
        .filter_map(|(_, l)| match l {
            Listing::Unknown(why) => Some(why.as_str()),
            _ => None,
        })
        .collect();
    let policy = results.iter().any(|(_, l)| *l == Listing::Policy);
    if !listed.is_empty() {
        return if id == "dnsbl.host" {
            Check::fail(
                id,
                format!(
                    "{whose} address {ip} is listed on {}: relays and big providers refuse or bounce its mail",
                    listed.join(", ")
                ),
                "a listing usually follows a compromise or an open relay: find and stop what sent spam from this host, then request removal at each list's site",
            )
        } else {
            Check::warn(
                id,
                format!(
                    "{whose} address {ip} is listed on {}: recipients' servers may refuse what it relays",
                    listed.join(", ")
                ),
                "nothing to change on this host: tell the relay's operator, or use another relay",
            )
        };
    }
    if !unknown.is_empty() && unknown.len() == results.len() {
        return Check::warn(
            id,
            format!("could not check {whose} address {ip}: {}", unknown[0]),
            format!(
                "the blocklists could not be asked through {}; nothing to do unless mail bounces",
                resolver.describe()
            ),
        );
    }
    let mut summary = format!("{whose} address {ip} is on none of {}", zones.join(", "));
    if !unknown.is_empty() {
        summary.push_str(&format!(
            " that answered ({} could not be asked)",
            unknown.len()
        ));
    }
    if policy {
        summary.push_str(
            "; it is on the Spamhaus PBL (end-user addresses): fine for submission with a login",
        );
    }
    Check::pass(id, summary)
}

/// Whether an address is routable on the internet (what blocklists and reverse DNS are about).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 100 && (64..128).contains(&o[1])))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || v6 == Ipv6Addr::LOCALHOST)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_addresses() {
        for ip in ["8.8.8.8", "2a00:1450::1", "192.0.1.1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "100.64.0.1",
            "169.254.1.1",
            "192.0.2.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
            "0.1.2.3",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
