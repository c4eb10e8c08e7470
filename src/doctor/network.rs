//! Name and network checks: the relay's name resolves, the sender's domain can receive mail, and
//! the relay's port (with 25, 465 and 587 for context) can be reached, telling a refused
//! connection from a filtered port and from a reset.

use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use super::dns::{Answer, Resolver};
use super::{CONNECT_TIMEOUT, Check, Findings};
use crate::options::Selected;
use crate::relay::policy::SetupFault;
use crate::relay::smtp::{Connection, SmtpError, connect_any, is_local_address, resolve};
use crate::transcript::Transcript;

/// The ports probed for context besides the profile's.
const CONTEXT_PORTS: [u16; 3] = [25, 465, 587];

/// `net.source_address`: the profile's `source_address` is an address of this host (only for a
/// profile that has one).
pub fn source_address(selected: &Selected, out: &mut Vec<Check>) {
    let Some(source) = selected.profile.source_address else {
        return;
    };
    let id = "net.source_address";
    out.push(match is_local_address(source) {
        Ok(()) => Check::pass(
            id,
            format!("connections to the relay come from {source}, an address of this host"),
        ),
        Err(e) => Check::fail(
            id,
            match e {
                SmtpError::Route { detail, .. } => detail,
                other => other.to_string(),
            },
            format!(
                "add {source} to an interface, or remove source_address from [profiles.{}]",
                selected.name
            ),
        ),
    });
}

/// `net.proxy`: the profile's proxy takes a connection, its login, and opens a tunnel to the
/// relay's port, as delivery asks it (only for a profile that has a proxy). The relay's name
/// and port are then the proxy's to reach: the direct DNS and TCP checks are skipped.
pub fn proxy(
    selected: &Selected,
    transcript: Transcript,
    found: &mut Findings,
    out: &mut Vec<Check>,
) {
    let p = &selected.profile;
    let Some(url) = &p.proxy else {
        return;
    };
    let id = "net.proxy";
    let why = format!(
        "the relay is reached through the proxy {} (net.proxy)",
        url.host_port()
    );
    for skipped in ["dns.relay", "tcp.relay"] {
        out.push(Check::skip(skipped, &why));
    }
    let credentials = selected.credentials(transcript);
    let route = match crate::relay::route(p, &credentials) {
        Ok(route) => route,
        Err(e) => {
            out.push(Check::fail(
                id,
                format!("the proxy's password cannot be read: {e}"),
                format!(
                    "store it where proxy_secret in [profiles.{}] says",
                    selected.name
                ),
            ));
            return;
        }
    };
    let target = format!("{}:{}", p.host, p.port);
    // A tunnel and the relay's first words; the SMTP checks that follow open their own.
    match Connection::connect_within(
        &p.host,
        p.port,
        &route,
        None,
        CONNECT_TIMEOUT,
        None,
        &crate::relay::smtp::Silent,
    ) {
        Err(SmtpError::Route { detail, .. }) => out.push(Check::fail(
            id,
            detail,
            format!(
                "check proxy (and proxy_secret) in [profiles.{}], and that the proxy lets this host reach {target}",
                selected.name
            ),
        )),
        Err(SmtpError::Timeout { .. }) if p.tls == crate::config::TlsMode::Tls => {
            // Implicit TLS: the relay says nothing until the handshake.
            found.port_open = true;
            out.push(Check::pass(id, format!("the proxy {} opens a tunnel to {target}", url.host_port())));
        }
        Err(e) => out.push(Check::fail(
            id,
            format!("the proxy {} opened no working tunnel to {target}: {e}", url.host_port()),
            "check that the proxy can reach the relay, and host and port of the profile",
        )),
        Ok(conn) => {
            found.port_open = true;
            drop(conn);
            out.push(Check::pass(id, format!("the proxy {} opens a tunnel to {target}", url.host_port())));
        }
    }
}

/// `dns.relay`: the relay host resolves, through the system resolver that delivery uses
/// ([`crate::relay::smtp::resolve`]). A name that does not exist is the setup fault delivery
/// holds mail for, with the same fix; a resolver that does not answer is this host's DNS.
pub fn relay_name(selected: &Selected, found: &mut Findings, out: &mut Vec<Check>) {
    let p = &selected.profile;
    let host = p.host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        found.relay_addresses = vec![ip];
        out.push(Check::pass(
            "dns.relay",
            format!("the relay is the address {ip}"),
        ));
        return;
    }
    match resolve(host, p.port) {
        Ok(addrs) => {
            let mut list: Vec<IpAddr> = Vec::new();
            for a in addrs {
                if !list.contains(&a.ip()) {
                    list.push(a.ip());
                }
            }
            if list.is_empty() {
                let fault = SetupFault::NoSuchHost;
                out.push(Check::fail(
                    fault.check(),
                    format!("{}: it has no address", fault.problem(p)),
                    fault.fix(&selected.name),
                ));
                return;
            }
            out.push(Check::pass(
                "dns.relay",
                format!("{host} resolves to {}", join(&list)),
            ));
            found.relay_addresses = list;
        }
        Err(SmtpError::NoSuchHost { reason, .. }) => {
            let fault = SetupFault::NoSuchHost;
            out.push(Check::fail(
                fault.check(),
                format!("{} ({reason})", fault.problem(p)),
                fault.fix(&selected.name),
            ));
        }
        Err(e) => out.push(Check::fail(
            "dns.relay",
            format!("the relay host {host} could not be resolved now: {e}"),
            "this host's resolver did not answer: check /etc/resolv.conf and the network (delivery keeps retrying meanwhile)",
        )),
    }
}

/// `dns.sender_domain`: the sender's domain has MX records (or at least an address). Relays
/// reject senders whose domain does not exist, and many require an MX.
pub fn sender_domain(selected: &Selected, resolver: &Resolver, out: &mut Vec<Check>) {
    let id = "dns.sender_domain";
    let Some(from) = &selected.profile.from else {
        out.push(Check::skip(id, "the profile has no `from`"));
        return;
    };
    let Some((_, domain)) = from.rsplit_once('@') else {
        out.push(Check::skip(id, "`from` has no domain"));
        return;
    };
    if domain.starts_with('[') {
        out.push(Check::skip(id, format!("{domain} is an address literal")));
        return;
    }
    let fix_domain = format!(
        "use a sender address in a domain that exists and receives mail (from in [profiles.{}]), or add an MX record for {domain}",
        selected.name
    );
    let could_not = |e: &dyn std::fmt::Display| {
        Check::warn(
            id,
            format!("could not check {domain}: {e}"),
            "check this host's DNS (/etc/resolv.conf, or RELAYCTL_DNS_SERVER)",
        )
    };
    match resolver.mx(domain) {
        Ok(Answer::Records(mx)) if mx.iter().any(|(_, host)| host.is_empty()) => {
            out.push(Check::fail(
                id,
                format!("{domain} has a null MX: it receives no mail, and relays refuse it as a sender"),
                fix_domain,
            ));
        }
        Ok(Answer::Records(mx)) => {
            let list: Vec<String> = mx.iter().map(|(pref, h)| format!("{h} ({pref})")).collect();
            out.push(Check::pass(
                id,
                format!("{domain} has MX {}", list.join(", ")),
            ));
        }
        Ok(Answer::NoName) => out.push(Check::fail(
            id,
            format!("{domain} does not exist in DNS: relays reject senders whose domain does not exist"),
            fix_domain,
        )),
        Ok(Answer::NoData) => match resolver.addresses(domain) {
            Ok(Answer::Records(addrs)) => out.push(Check::warn(
                id,
                format!(
                    "{domain} has no MX record, only addresses ({}); many relays require an MX for the sender's domain",
                    join(&addrs)
                ),
                fix_domain,
            )),
            Ok(_) => out.push(Check::fail(
                id,
                format!("{domain} has neither MX nor address records: relays reject such senders"),
                fix_domain,
            )),
            Err(e) => out.push(could_not(&e)),
        },
        Err(e) => out.push(could_not(&e)),
    }
}

/// What a TCP connection attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// Connected; the addresses of both ends.
    Open { local: IpAddr, peer: IpAddr },
    /// Actively refused (a TCP reset to the SYN): nothing listens, or a firewall rejects.
    Refused,
    /// No answer at all within the timeout: a firewall drops the packets.
    Filtered,
    /// Connected, then reset (or closed at once) before the relay said anything.
    Reset,
    /// No route, or another error.
    Unreachable(String),
}

/// Connects to `port` on each address in turn, from `source` when given, as delivery does;
/// the first that answers wins.
pub fn probe(addresses: &[IpAddr], port: u16, source: Option<IpAddr>, timeout: Duration) -> Probe {
    let mut result = Probe::Unreachable("no address".into());
    for ip in addresses {
        let addr = SocketAddr::new(*ip, port);
        let host = ip.to_string();
        result = match connect_any(&host, &[addr], source, timeout) {
            Ok(tcp) => after_connect(&tcp),
            Err(SmtpError::Network { source, .. }) => classify(&source),
            Err(SmtpError::Timeout { .. }) => Probe::Filtered,
            Err(e) => Probe::Unreachable(e.to_string()),
        };
        if matches!(result, Probe::Open { .. }) {
            break;
        }
    }
    result
}

/// A connection that is reset or closed before the greeting is a relay (or a middlebox)
/// turning this host away. An implicit-TLS port says nothing first, so silence is fine.
fn after_connect(tcp: &TcpStream) -> Probe {
    let (Ok(local), Ok(peer)) = (tcp.local_addr(), tcp.peer_addr()) else {
        return Probe::Reset;
    };
    let _ = tcp.set_read_timeout(Some(Duration::from_millis(500)));
    let mut byte = [0u8; 1];
    match (&*tcp).read(&mut byte) {
        Ok(0) => Probe::Reset,
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => Probe::Reset,
        _ => Probe::Open {
            local: local.ip(),
            peer: peer.ip(),
        },
    }
}

/// What a failed connect means.
pub fn classify(e: &io::Error) -> Probe {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => Probe::Refused,
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Probe::Filtered,
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => Probe::Reset,
        _ => Probe::Unreachable(e.to_string()),
    }
}

/// `tcp.relay` (the profile's port) and `tcp.port_N` for 25, 465 and 587.
pub fn reachability(selected: &Selected, found: &mut Findings, out: &mut Vec<Check>) {
    if found.relay_addresses.is_empty() {
        out.push(Check::skip("tcp.relay", "the relay's address is not known"));
        return;
    }
    relay_port(selected, found, out);
    context_ports(selected, found, out);
}

/// What a filtered `port` most likely means.
fn blocked(port: u16) -> String {
    if port == 25 {
        "your provider blocks outbound port 25 (most clouds do); use 587 (--tls starttls) or 465 (--tls tls)".into()
    } else {
        format!(
            "a firewall drops outbound port {port}: open it, or use the relay's other submission port (587 or 465)"
        )
    }
}

/// `tcp.relay` alone: whether the profile's port can be reached (what `setup` needs to know
/// before it logs in).
pub fn relay_port(selected: &Selected, found: &mut Findings, out: &mut Vec<Check>) {
    let p = &selected.profile;
    if found.relay_addresses.is_empty() {
        out.push(Check::skip("tcp.relay", "the relay's address is not known"));
        return;
    }
    let secs = CONNECT_TIMEOUT.as_secs();
    let target = format!("{}:{}", p.host, p.port);
    let blocked = |port: u16| -> String {
        if port == 25 {
            "your provider blocks outbound port 25 (most clouds do); use 587 (--tls starttls) or 465 (--tls tls)".into()
        } else {
            format!(
                "a firewall drops outbound port {port}: open it, or use the relay's other submission port (587 or 465)"
            )
        }
    };
    match probe(&found.relay_addresses, p.port, p.source_address, CONNECT_TIMEOUT) {
        Probe::Open { local, peer } => {
            found.port_open = true;
            found.local_address = Some(local);
            found.relay_address = Some(peer);
            out.push(Check::pass(
                "tcp.relay",
                format!("{target} accepts connections ({peer} from {local})"),
            ));
        }
        Probe::Refused => out.push(Check::fail(
            "tcp.relay",
            format!("{target} refused the connection: nothing listens there, or a firewall rejects it"),
            format!(
                "check host and port in [profiles.{}] (submission is 587 with STARTTLS or 465 with TLS)",
                selected.name
            ),
        )),
        Probe::Filtered => out.push(Check::fail(
            "tcp.relay",
            format!("{target} did not answer within {secs}s: the port is filtered"),
            blocked(p.port),
        )),
        Probe::Reset => out.push(Check::fail(
            "tcp.relay",
            format!("{target} reset the connection before the relay said anything"),
            "the relay or a firewall turns this host's address away: see the blocklist checks, and ask the relay's admin",
        )),
        Probe::Unreachable(why) => out.push(Check::fail(
            "tcp.relay",
            format!("{target} cannot be reached: {why}"),
            "check this host's network connection and routes",
        )),
    }
}

/// `tcp.port_N` for 25, 465 and 587 besides the profile's, for context.
fn context_ports(selected: &Selected, found: &Findings, out: &mut Vec<Check>) {
    let p = &selected.profile;
    let secs = CONNECT_TIMEOUT.as_secs();
    for port in CONTEXT_PORTS.into_iter().filter(|&port| port != p.port) {
        let id = format!("tcp.port_{port}");
        let host = &p.host;
        out.push(match probe(&found.relay_addresses, port, p.source_address, CONNECT_TIMEOUT) {
            Probe::Open { .. } => Check::pass(id, format!("{host}:{port} answers (for context)")),
            Probe::Refused => Check::pass(
                id,
                format!("{host}:{port} refused: reachable, no firewall in the way, the relay does not listen there (for context)"),
            ),
            Probe::Filtered => Check::warn(
                id,
                format!("{host}:{port} did not answer within {secs}s: filtered (for context)"),
                blocked(port),
            ),
            Probe::Reset => Check::warn(
                id,
                format!("{host}:{port} reset the connection (for context)"),
                "a firewall or the relay turns this host's address away on that port",
            ),
            Probe::Unreachable(why) => Check::warn(
                id,
                format!("{host}:{port} cannot be reached: {why} (for context)"),
                "check this host's network connection and routes",
            ),
        });
    }
}

fn join(list: &[IpAddr]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{Ipv4Addr, TcpListener};

    const LOCAL: [IpAddr; 1] = [IpAddr::V4(Ipv4Addr::LOCALHOST)];

    #[test]
    fn open_refused_and_reset_are_told_apart() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            // First connection: a greeting. Second: closed at once.
            let (mut first, _) = listener.accept().unwrap();
            first.write_all(b"220 hi\r\n").unwrap();
            let (second, _) = listener.accept().unwrap();
            drop(second);
            first
        });
        assert!(matches!(
            probe(&LOCAL, port, None, CONNECT_TIMEOUT),
            Probe::Open { .. }
        ));
        assert_eq!(probe(&LOCAL, port, None, CONNECT_TIMEOUT), Probe::Reset);
        drop(server.join().unwrap());
        // Nothing listens there any more.
        assert_eq!(probe(&LOCAL, port, None, CONNECT_TIMEOUT), Probe::Refused);
    }

    #[test]
    fn errors_map_to_findings() {
        let e = |k| io::Error::from(k);
        assert_eq!(classify(&e(io::ErrorKind::TimedOut)), Probe::Filtered);
        assert_eq!(classify(&e(io::ErrorKind::ConnectionReset)), Probe::Reset);
        assert_eq!(
            classify(&e(io::ErrorKind::ConnectionRefused)),
            Probe::Refused
        );
        assert!(matches!(
            classify(&e(io::ErrorKind::NetworkUnreachable)),
            Probe::Unreachable(_)
        ));
    }
}
