//! Reaching the relay: from which local address, directly or through a proxy, and which of
//! the relay's addresses to use.
//!
//! A relay name with both IPv4 and IPv6 addresses is connected to in the spirit of Happy
//! Eyeballs (RFC 8305): the families alternate, and while an attempt is pending the next
//! address is tried after [`ATTEMPT_DELAY`]; the first connection to succeed wins, and all of
//! them share one budget (the profile's timeout). A family that is unreachable (no route, or
//! silently dropped) then costs a quarter of a second, not the whole timeout. Attempts are non-blocking sockets waited on with `poll`, no threads.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, poll};
use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketFlags, SocketType, ipproto};
use std::os::fd::OwnedFd;

use super::proxy::{self, Proxy};
use super::{RouteFailure, SmtpError, resolve};

/// How long an attempt has alone before the next address is tried too (RFC 8305 section 5
/// recommends 250 ms).
const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// How a connection reaches the relay; the default is directly, from whatever local address
/// the system chooses.
#[derive(Debug, Default)]
pub struct Route {
    /// The local address connections come from (`source_address`).
    pub source: Option<IpAddr>,
    /// The proxy the relay is reached through.
    pub proxy: Option<Proxy>,
}

/// Connects to `host` (a name or an IP literal, optionally in brackets) on `port` as `route`
/// says, within what `left` says is left of the time (`None`: it has run out). Through a
/// proxy, the connection returned is the proxy's tunnel to the relay.
pub fn dial(
    host: &str,
    port: u16,
    route: &Route,
    left: &dyn Fn() -> Option<Duration>,
) -> Result<(TcpStream, String), SmtpError> {
    match &route.proxy {
        None => {
            let addrs = resolve(host, port)?;
            let budget = left().ok_or(SmtpError::Timeout { stage: "connect" })?;
            let tcp = connect_any(host, &addrs, route.source, budget)?;
            let shown = tcp
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| host.to_string());
            Ok((tcp, format!("connected to {shown}")))
        }
        Some(p) => {
            let addrs =
                resolve(&p.url.host, p.url.port).map_err(|e| proxy::unreachable(&p.url, &e))?;
            let budget = left().ok_or(SmtpError::Timeout { stage: "connect" })?;
            let mut tcp = connect_any(&p.url.host, &addrs, route.source, budget)
                .map_err(|e| proxy::unreachable(&p.url, &e))?;
            let timeout = left().ok_or(SmtpError::Timeout { stage: "connect" })?;
            super::set_timeouts(&tcp, timeout).map_err(|source| SmtpError::Network {
                stage: "connect",
                source,
            })?;
            let name = host.trim_matches(['[', ']']);
            proxy::open(&mut tcp, p, name, port)?;
            Ok((
                tcp,
                format!("connected to {name}:{port} through proxy {}", p.url),
            ))
        }
    }
}

/// The addresses in the order they are tried: the resolver's order, but alternating between
/// the families, starting with the resolver's first (RFC 8305 section 4). With a `source`, only
/// addresses of its family: the others cannot be reached from it.
fn order(addrs: &[SocketAddr], source: Option<IpAddr>) -> Vec<SocketAddr> {
    let (first, second): (Vec<SocketAddr>, Vec<SocketAddr>) = addrs
        .iter()
        .filter(|a| source.is_none_or(|s| s.is_ipv4() == a.is_ipv4()))
        .partition(|a| Some(a.is_ipv4()) == addrs.first().map(SocketAddr::is_ipv4));
    let mut out = Vec::with_capacity(first.len() + second.len());
    let (mut a, mut b) = (first.into_iter(), second.into_iter());
    loop {
        match (a.next(), b.next()) {
            (None, None) => return out,
            (x, y) => out.extend(x.into_iter().chain(y)),
        }
    }
}

/// Connects to the first of `addrs` that answers, from `source` when given (see the module's
/// description), all within `budget`. When time runs out the result is a timeout, unless an
/// attempt failed otherwise; when every attempt failed, the last failure.
pub fn connect_any(
    host: &str,
    addrs: &[SocketAddr],
    source: Option<IpAddr>,
    budget: Duration,
) -> Result<TcpStream, SmtpError> {
    let stage = "connect";
    let deadline = Instant::now() + budget;
    let left = || Some(deadline.saturating_duration_since(Instant::now())).filter(|t| !t.is_zero());
    let addrs = order(addrs, source);
    if addrs.is_empty() {
        return Err(match source {
            Some(s) if s.is_ipv4() => unreachable_from(host, s, "IPv4"),
            Some(s) => unreachable_from(host, s, "IPv6"),
            None => SmtpError::Network {
                stage,
                source: io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address")),
            },
        });
    }
    let mut pending: Vec<OwnedFd> = Vec::new();
    let mut next = addrs.iter();
    let mut more = true;
    let mut started = Instant::now();
    let mut failure: Option<SmtpError> = None;
    loop {
        let Some(time) = left() else {
            return Err(failure.unwrap_or(SmtpError::Timeout { stage }));
        };
        if more && (pending.is_empty() || started.elapsed() >= ATTEMPT_DELAY) {
            match next.next() {
                Some(addr) => {
                    started = Instant::now();
                    match start(addr, source)? {
                        Ok(fd) => pending.push(fd),
                        Err(e) => failure = Some(SmtpError::from_io(stage, e)),
                    }
                    continue;
                }
                None => more = false,
            }
        }
        if pending.is_empty() {
            return Err(failure.unwrap_or(SmtpError::Timeout { stage }));
        }
        let wait = if more {
            time.min(ATTEMPT_DELAY.saturating_sub(started.elapsed()))
        } else {
            time
        };
        let mut fds: Vec<PollFd<'_>> = pending
            .iter()
            .map(|fd| PollFd::new(fd, PollFlags::OUT))
            .collect();
        let timeout = rustix::time::Timespec::try_from(wait).ok();
        match poll(&mut fds, timeout.as_ref()) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(e) => return Err(SmtpError::from_io(stage, e.into())),
        }
        let ready: Vec<bool> = fds.iter().map(|f| !f.revents().is_empty()).collect();
        drop(fds);
        let mut kept = Vec::with_capacity(pending.len());
        for (fd, ready) in pending.into_iter().zip(ready) {
            if !ready {
                kept.push(fd);
                continue;
            }
            match rustix::net::sockopt::socket_error(&fd) {
                Ok(Ok(())) => {
                    rustix::io::ioctl_fionbio(&fd, false)
                        .map_err(|e| SmtpError::from_io(stage, e.into()))?;
                    return Ok(TcpStream::from(fd));
                }
                Ok(Err(e)) | Err(e) => failure = Some(SmtpError::from_io(stage, e.into())),
            }
        }
        pending = kept;
    }
}

/// Starts a non-blocking connection to `addr` from `source`. The outer error is the source
/// address that cannot be used (the profile's mistake, not this address's); the inner one an
/// attempt that failed at once.
fn start(addr: &SocketAddr, source: Option<IpAddr>) -> Result<io::Result<OwnedFd>, SmtpError> {
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let fd = match rustix::net::socket_with(
        family,
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        Some(ipproto::TCP),
    ) {
        Ok(fd) => fd,
        Err(e) => return Ok(Err(e.into())),
    };
    if let Some(source) = source {
        match rustix::net::bind(&fd, &SocketAddr::new(source, 0)) {
            Ok(()) => {}
            Err(Errno::ADDRNOTAVAIL) => return Err(not_here(source)),
            Err(e) => {
                return Err(SmtpError::Route {
                    detail: format!("cannot send from source_address {source}: {e}"),
                    failure: RouteFailure::Setup,
                });
            }
        }
    }
    Ok(match rustix::net::connect(&fd, addr) {
        Ok(()) | Err(Errno::INPROGRESS) => Ok(fd),
        Err(e) => Err(e.into()),
    })
}

/// `source_address` is not an address of this host.
pub fn not_here(source: IpAddr) -> SmtpError {
    SmtpError::Route {
        detail: format!(
            "source_address {source} is not an address of this host (see `ip address`); remove it or add the address to an interface"
        ),
        failure: RouteFailure::Setup,
    }
}

fn unreachable_from(host: &str, source: IpAddr, family: &str) -> SmtpError {
    SmtpError::Route {
        detail: format!(
            "source_address {source} is an {family} address, and {host} has no {family} address"
        ),
        failure: RouteFailure::Setup,
    }
}

/// Whether `source` is an address of this host: binding to it succeeds.
pub fn is_local(source: IpAddr) -> Result<(), SmtpError> {
    let probe = SocketAddr::new(source, 0);
    match start_bound(probe) {
        Ok(()) => Ok(()),
        Err(Errno::ADDRNOTAVAIL) => Err(not_here(source)),
        Err(e) => Err(SmtpError::Route {
            detail: format!("cannot send from source_address {source}: {e}"),
            failure: RouteFailure::Setup,
        }),
    }
}

fn start_bound(addr: SocketAddr) -> Result<(), Errno> {
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let fd = rustix::net::socket_with(family, SocketType::STREAM, SocketFlags::CLOEXEC, None)?;
    rustix::net::bind(&fd, &addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn families_alternate_from_the_resolvers_first() {
        let addrs = [
            a("[2001:db8::1]:25"),
            a("[2001:db8::2]:25"),
            a("192.0.2.1:25"),
            a("192.0.2.2:25"),
            a("192.0.2.3:25"),
        ];
        assert_eq!(
            order(&addrs, None),
            [addrs[0], addrs[2], addrs[1], addrs[3], addrs[4]]
        );
        let v4: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(order(&addrs, Some(v4)), [addrs[2], addrs[3], addrs[4]]);
    }

    #[test]
    fn a_source_address_not_on_this_host_is_named() {
        let err = is_local("192.0.2.10".parse().unwrap()).unwrap_err();
        assert!(
            err.to_string()
                .contains("source_address 192.0.2.10 is not an address of this host"),
            "{err}"
        );
        assert!(is_local("127.0.0.1".parse().unwrap()).is_ok());
    }
}
