//! `smtpd.*`: the SMTP listener (`relayctl serve`), checked when `[server]` is configured, from
//! the outside, as the programs that send through it see it: something answers on each listen
//! address and it is relayctl, it is no open relay (tried from an address of this host outside
//! `allow`: MAIL and RCPT without AUTH must be refused; no message is ever sent), and its
//! certificate is not about to expire.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

use super::{CONNECT_TIMEOUT, Check};
use crate::config::{Listen, ServerSettings};
use crate::relay::certificate::Summary;

/// How a listener greets: `220 <name> ESMTP relayctl` (the dialogue's greeting).
const GREETING_MARK: &str = " ESMTP relayctl";

/// What clients are told to start the listener with.
const START_FIX: &str = "start the listener: systemctl enable --now relayctl-smtpd.socket (or run `relayctl serve`), and keep the socket's ListenStream= and [server] listen the same";

/// The sender and recipient of the open-relay trial; reserved names (RFC 2606), and the
/// transaction is reset before any DATA.
const TRIAL_ADDRESS: &str = "<relay-check@example.invalid>";

/// `smtpd.listen` (one per listen address), `smtpd.open_relay` and `smtpd.certificate`.
pub fn checks(settings: &ServerSettings, out: &mut Vec<Check>) {
    let root = rustix::process::geteuid().is_root();
    let listen = settings.listen_or_default(root);
    let wait = CONNECT_TIMEOUT + Duration::from_secs(settings.greet_pause.0);
    let mut answering = Vec::new();
    for l in &listen {
        let (check, greeted) = listen_check(l, wait);
        if greeted {
            answering.push(l.address);
        }
        out.push(check);
    }
    out.push(open_relay(settings, &answering, &local_addresses(), wait));
    out.push(certificate(settings));
}

/// One SMTP connection, as a client sees it.
struct Session {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Session {
    fn new(stream: TcpStream, wait: Duration) -> io::Result<Session> {
        stream.set_read_timeout(Some(wait))?;
        stream.set_write_timeout(Some(CONNECT_TIMEOUT))?;
        Ok(Session {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    /// One reply, its lines joined by spaces; an error when the server closed first.
    fn reply(&mut self) -> io::Result<String> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if (&mut self.reader).take(1024).read_line(&mut line)? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let line = line.trim_end().to_string();
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last || lines.len() > 100 {
                return Ok(crate::printable::from_bytes(lines.join(" ").as_bytes()));
            }
        }
    }

    fn command(&mut self, line: &str) -> io::Result<String> {
        self.writer.write_all(format!("{line}\r\n").as_bytes())?;
        self.reply()
    }

    /// Ends politely; the server's answer does not matter.
    fn quit(mut self) {
        let _ = self.command("QUIT");
    }
}

/// `smtpd.listen`: the address accepts connections, and relayctl greets on it (implicit TLS
/// addresses are only connected to). True with it when a server greeted with 220 in plain
/// text, relayctl or not: whatever answers there is what clients reach, and is tried for
/// relaying.
fn listen_check(l: &Listen, wait: Duration) -> (Check, bool) {
    let id = "smtpd.listen";
    let target = connect_target(l.address);
    let stream = match TcpStream::connect_timeout(&target, CONNECT_TIMEOUT) {
        Ok(s) => s,
        Err(e) => {
            let check = Check::fail(id, format!("nothing listens on {l} ({e})"), START_FIX);
            return (check, false);
        }
    };
    if l.implicit_tls {
        let check = Check::pass(
            id,
            format!("{l} accepts connections (implicit TLS, not spoken to)"),
        );
        return (check, false);
    }
    let greeting = Session::new(stream, wait).and_then(|mut s| {
        let g = s.reply();
        s.quit();
        g
    });
    let greeted = greeting.as_ref().is_ok_and(|g| g.starts_with("220 "));
    let check = match greeting {
        Ok(g) if g.starts_with("220 ") && g.contains(GREETING_MARK) => {
            Check::pass(id, format!("relayctl answers on {l}: {g}"))
        }
        Ok(g) if g.starts_with("421") => Check::warn(
            id,
            format!("{l} answers but turns clients away: {g}"),
            "the listener is at max_connections (or max_connections_per_client); raise them in [server] if this lasts",
        ),
        Ok(g) => Check::fail(
            id,
            format!("another program answers on {l}: {g}"),
            "stop the other mail server on that port, or give relayctl another address in [server] listen and the socket",
        ),
        Err(e) => Check::fail(
            id,
            format!("{l} accepts connections but sends no greeting ({e})"),
            "look at the listener's log: journalctl -u relayctl-smtpd",
        ),
    };
    (check, greeted)
}

/// Where to connect to reach a listener on `address`: a wildcard address is reached on
/// loopback.
fn connect_target(address: SocketAddr) -> SocketAddr {
    match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, address.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, address.port()).into(),
        _ => address,
    }
}

/// `smtpd.open_relay`: from an address of this host that `allow` does not admit, a client that
/// does not log in must have MAIL or RCPT refused. Tried on the first plain-text address that
/// answered; the transaction is reset before DATA, so nothing is ever queued.
fn open_relay(
    settings: &ServerSettings,
    answering: &[SocketAddr],
    local: &[IpAddr],
    wait: Duration,
) -> Check {
    let id = "smtpd.open_relay";
    let Some(&listen) = answering.first() else {
        return Check::skip(
            id,
            "no plain-text listen address answered (see smtpd.listen)",
        );
    };
    let target = connect_target(listen);
    let Some(&source) = local
        .iter()
        .find(|ip| ip.is_ipv4() == target.is_ipv4() && !settings.allows(**ip))
    else {
        return Check::skip(
            id,
            format!(
                "every address of this host is in [server] allow, so the check has no address to try from (allow: {})",
                settings
                    .allow
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    };
    match trial(source, target, wait) {
        Ok(Trial::Refused(reply)) => Check::pass(
            id,
            format!("a client at {source} (not in allow) that does not log in is refused: {reply}"),
        ),
        Ok(Trial::Accepted(reply)) => Check::fail(
            id,
            format!(
                "OPEN RELAY: {target} accepted MAIL and RCPT without AUTH from {source}, which is not in allow: {reply}"
            ),
            "stop what answers there now (relayctl: systemctl stop relayctl-smtpd.socket relayctl-smtpd), find out why it relays, and check its queue for spam",
        ),
        Err(e) => Check::warn(
            id,
            format!("could not try from {source} to {target}: {e}"),
            "run `relayctl doctor` as root on the listener's host",
        ),
    }
}

enum Trial {
    /// MAIL or RCPT was refused, with this reply.
    Refused(String),
    /// Both were accepted; RCPT's reply.
    Accepted(String),
}

/// EHLO, MAIL and RCPT from `source` to `target` without AUTH, then RSET and QUIT.
fn trial(source: IpAddr, target: SocketAddr, wait: Duration) -> io::Result<Trial> {
    let mut s = Session::new(connect_from(source, target)?, wait)?;
    let greeting = s.reply()?;
    if !greeting.starts_with("220") {
        return Ok(Trial::Refused(greeting));
    }
    let host = crate::host::fqdn().unwrap_or_else(|| "localhost".into());
    s.command(&format!("EHLO {host}"))?;
    let mail = s.command(&format!("MAIL FROM:{TRIAL_ADDRESS}"))?;
    let outcome = if !mail.starts_with('2') {
        Trial::Refused(mail)
    } else {
        let rcpt = s.command(&format!("RCPT TO:{TRIAL_ADDRESS}"))?;
        if rcpt.starts_with('2') {
            Trial::Accepted(rcpt)
        } else {
            Trial::Refused(rcpt)
        }
    };
    let _ = s.command("RSET");
    s.quit();
    Ok(outcome)
}

/// A TCP connection to `target` whose source address is `source`.
fn connect_from(source: IpAddr, target: SocketAddr) -> io::Result<TcpStream> {
    use rustix::net::{AddressFamily, SocketType, bind, connect, socket};
    let family = if source.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let fd = socket(family, SocketType::STREAM, None)?;
    bind(&fd, &SocketAddr::new(source, 0))?;
    // A local address answers or refuses at once: no timeout is needed.
    connect(&fd, &target)?;
    Ok(TcpStream::from(fd))
}

/// This host's addresses (of its network namespace), loopback included: IPv4 from the kernel's
/// routing table of local addresses (`/proc/net/fib_trie`), IPv6 from `/proc/net/if_inet6`
/// (without link-local ones, which need an interface to be used).
fn local_addresses() -> Vec<IpAddr> {
    let mut all: Vec<IpAddr> = Vec::new();
    if let Ok(trie) = std::fs::read_to_string("/proc/net/fib_trie") {
        all.extend(parse_fib_trie(&trie));
    }
    if let Ok(inet6) = std::fs::read_to_string("/proc/net/if_inet6") {
        all.extend(parse_if_inet6(&inet6));
    }
    let mut unique = Vec::new();
    for ip in all {
        if !unique.contains(&ip) {
            unique.push(ip);
        }
    }
    unique
}

/// The host addresses of `/proc/net/fib_trie`: a `|-- ADDRESS` line followed by `/32 host
/// LOCAL`.
fn parse_fib_trie(text: &str) -> Vec<IpAddr> {
    let mut found = Vec::new();
    let mut last: Option<Ipv4Addr> = None;
    for line in text.lines().map(str::trim) {
        if let Some(a) = line.strip_prefix("|-- ") {
            last = a.parse().ok();
        } else if line == "/32 host LOCAL"
            && let Some(ip) = last.take()
        {
            found.push(IpAddr::V4(ip));
        }
    }
    found
}

/// The addresses of `/proc/net/if_inet6` (32 hex digits first on each line), link-local ones
/// left out.
fn parse_if_inet6(text: &str) -> Vec<IpAddr> {
    text.lines()
        .filter_map(|line| {
            let hex = line.split_whitespace().next()?;
            let bits = u128::from_str_radix(hex, 16).ok()?;
            let ip = Ipv6Addr::from(bits);
            (!ip.is_unicast_link_local()).then_some(IpAddr::V6(ip))
        })
        .collect()
}

/// `smtpd.certificate`: the expiry of `tls_cert` (the certificate STARTTLS and `smtps://`
/// clients see).
fn certificate(settings: &ServerSettings) -> Check {
    let id = "smtpd.certificate";
    let Some(path) = &settings.tls_cert else {
        return Check::skip(
            id,
            "no tls_cert in [server]: no STARTTLS, and AUTH only on loopback",
        );
    };
    let shown = path.display();
    let Some(summary) =
        crate::smtpd::tls::first_certificate(path).and_then(|der| Summary::parse(&der))
    else {
        return Check::fail(
            id,
            format!("{shown} holds no certificate that can be read"),
            "point [server] tls_cert at the PEM certificate chain (run doctor as root if the file is root's)",
        );
    };
    let days = (summary.not_after - crate::queue::schedule::now() as i64).div_euclid(86400);
    let date = crate::calendar::date(summary.not_after);
    let renew = "renew it (certbot renew, or your CA), then restart the listener: systemctl restart relayctl-smtpd";
    if days < 0 {
        Check::fail(
            id,
            format!("the listener's certificate {shown} expired on {date}: TLS clients refuse it"),
            renew,
        )
    } else if days < super::smtp::EXPIRY_WARNING_DAYS {
        Check::warn(
            id,
            format!("the listener's certificate {shown} expires in {days} day(s), on {date}"),
            renew,
        )
    } else {
        Check::pass(
            id,
            format!("the listener's certificate {shown} is valid until {date} ({days} days)"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_addresses_come_from_the_local_table() {
        let trie = "Main:\n  +-- 0.0.0.0/0 3 0 5\n     +-- 127.0.0.0/8 2 0 2\n           |-- 127.0.0.0\n              /8 host LOCAL\n           |-- 127.0.0.1\n              /32 host LOCAL\n        |-- 127.255.255.255\n           /32 link BROADCAST\n        |-- 192.0.2.0\n           /24 link UNICAST\n        |-- 192.0.2.2\n           /32 host LOCAL\n";
        let want: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap(), "192.0.2.2".parse().unwrap()];
        assert_eq!(parse_fib_trie(trie), want);
        let inet6 = "fe8000000000000000fc00fffe000001 04 40 20 80     eth0\nfd000000000000000000000000000002 04 40 00 82     eth0\n00000000000000000000000000000001 01 80 10 80       lo\n";
        let want: Vec<IpAddr> = vec!["fd00::2".parse().unwrap(), "::1".parse().unwrap()];
        assert_eq!(parse_if_inet6(inet6), want);
    }

    #[test]
    fn wildcard_listen_addresses_are_reached_on_loopback() {
        assert_eq!(
            connect_target("0.0.0.0:25".parse().unwrap()),
            "127.0.0.1:25".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            connect_target("[::]:25".parse().unwrap()),
            "[::1]:25".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            connect_target("172.17.0.1:25".parse().unwrap()),
            "172.17.0.1:25".parse::<SocketAddr>().unwrap()
        );
    }
}
