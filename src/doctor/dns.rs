//! A small blocking DNS stub resolver for the doctor: A, AAAA, MX and PTR queries against a
//! chosen server, over UDP with a TCP retry when the answer is truncated.
//!
//! Why not the system resolver: getaddrinfo cannot ask for MX or PTR records and cannot tell
//! "this name does not exist" from "DNS is unreachable", which the doctor must distinguish (a
//! blocklist that cannot be asked is "could not check", never "not listed"). The messages are
//! encoded and decoded by `hickory-proto` (names, compression, record data); hickory's
//! resolvers are asynchronous and would bring a runtime along, so the one-question exchange
//! over a blocking socket stays here.
//!
//! The server is `RELAYCTL_DNS_SERVER` (`ADDR` or `ADDR:PORT`, e.g. `127.0.0.1:5353`: for tests
//! and for hosts whose resolver is not in /etc/resolv.conf), else the first `nameserver` lines
//! of /etc/resolv.conf, else 127.0.0.1.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

/// The answer to one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<T> {
    /// The name has records of the type asked for.
    Records(Vec<T>),
    /// The name exists but has no record of that type.
    NoData,
    /// The name does not exist (NXDOMAIN).
    NoName,
}

impl<T> Answer<T> {
    /// The records, none for `NoData` and `NoName`.
    pub fn records(self) -> Vec<T> {
        match self {
            Answer::Records(r) => r,
            Answer::NoData | Answer::NoName => Vec::new(),
        }
    }
}

/// Why DNS could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// No server answered in time, or none could be reached.
    #[error("no answer from the DNS server {server} ({reason})")]
    Unreachable { server: String, reason: String },
    /// The server answered with an error (SERVFAIL, REFUSED, ...).
    #[error("the DNS server {server} answered {rcode}")]
    Server { server: String, rcode: &'static str },
    /// The answer could not be understood.
    #[error("the DNS server {server} sent an answer that cannot be read: {detail}")]
    Malformed { server: String, detail: String },
    /// The name cannot be put in a query.
    #[error("`{0}` is not a DNS name")]
    BadName(String),
}

/// A blocking stub resolver.
#[derive(Debug)]
pub struct Resolver {
    servers: Vec<SocketAddr>,
    timeout: Duration,
    /// Set after a server did not answer at all: later questions fail at once instead of each
    /// waiting for its own timeout.
    dead: RefCell<Option<DnsError>>,
}

impl Resolver {
    /// The resolver configured for this host: `RELAYCTL_DNS_SERVER`, else /etc/resolv.conf.
    pub fn from_environment() -> Resolver {
        let explicit = std::env::var("RELAYCTL_DNS_SERVER")
            .ok()
            .filter(|_| !crate::privilege::raised())
            .and_then(|s| parse_server(&s));
        let servers = match explicit {
            Some(server) => vec![server],
            None => std::fs::read_to_string("/etc/resolv.conf")
                .map(|text| resolv_conf(&text))
                .unwrap_or_default(),
        };
        Resolver::new(servers, Duration::from_secs(2))
    }

    /// A resolver asking `servers` in turn (127.0.0.1:53 when empty), waiting `timeout` for each.
    pub fn new(servers: Vec<SocketAddr>, timeout: Duration) -> Resolver {
        let servers = if servers.is_empty() {
            vec![SocketAddr::from((Ipv4Addr::LOCALHOST, 53))]
        } else {
            servers
        };
        Resolver {
            servers,
            timeout,
            dead: RefCell::new(None),
        }
    }

    /// The servers asked, for messages (`127.0.0.1:53`).
    pub fn describe(&self) -> String {
        self.servers
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// IPv4 addresses of `name`.
    pub fn a(&self, name: &str) -> Result<Answer<Ipv4Addr>, DnsError> {
        self.query(name, RecordType::A, |data| match data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
    }

    /// IPv6 addresses of `name`.
    pub fn aaaa(&self, name: &str) -> Result<Answer<Ipv6Addr>, DnsError> {
        self.query(name, RecordType::AAAA, |data| match data {
            RData::AAAA(aaaa) => Some(aaaa.0),
            _ => None,
        })
    }

    /// Both kinds of address of `name`; `NoName` only when the name does not exist.
    pub fn addresses(&self, name: &str) -> Result<Answer<IpAddr>, DnsError> {
        let v4 = self.a(name)?;
        if v4 == Answer::NoName {
            return Ok(Answer::NoName);
        }
        let mut all: Vec<IpAddr> = v4.records().into_iter().map(IpAddr::V4).collect();
        all.extend(self.aaaa(name)?.records().into_iter().map(IpAddr::V6));
        Ok(if all.is_empty() {
            Answer::NoData
        } else {
            Answer::Records(all)
        })
    }

    /// Mail exchangers of `name`: (preference, host), lowest preference first. A null MX
    /// (RFC 7505) is the host `""`.
    pub fn mx(&self, name: &str) -> Result<Answer<(u16, String)>, DnsError> {
        let mut answer = self.query(name, RecordType::MX, |data| match data {
            RData::MX(mx) => Some((mx.preference, plain_name(&mx.exchange))),
            _ => None,
        })?;
        if let Answer::Records(list) = &mut answer {
            list.sort();
        }
        Ok(answer)
    }

    /// The names `address` maps back to (its PTR records).
    pub fn ptr(&self, address: IpAddr) -> Result<Answer<String>, DnsError> {
        self.query(
            &reverse_name(address, "in-addr.arpa", "ip6.arpa"),
            RecordType::PTR,
            |data| match data {
                RData::PTR(ptr) => Some(plain_name(&ptr.0)),
                _ => None,
            },
        )
    }

    /// Asks each server in turn until one answers.
    fn query<T>(
        &self,
        name: &str,
        qtype: RecordType,
        parse: impl Fn(&RData) -> Option<T>,
    ) -> Result<Answer<T>, DnsError> {
        if let Some(e) = self.dead.borrow().clone() {
            return Err(e);
        }
        let id = fastrand::u16(..);
        let question = encode_query(id, name, qtype)?;
        let mut failure = None;
        for server in &self.servers {
            match self.exchange(*server, &question) {
                Ok(response) => return decode(&response, id, *server, &parse),
                Err(e) => failure = Some(e),
            }
        }
        let e = failure.unwrap_or_else(|| DnsError::Unreachable {
            server: self.describe(),
            reason: "no server".into(),
        });
        *self.dead.borrow_mut() = Some(e.clone());
        Err(e)
    }

    /// One question to one server: UDP, then TCP when the UDP answer was truncated.
    fn exchange(&self, server: SocketAddr, question: &[u8]) -> Result<Vec<u8>, DnsError> {
        let unreachable = |e: io::Error| DnsError::Unreachable {
            server: server.to_string(),
            reason: if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) {
                "timed out".into()
            } else {
                e.to_string()
            },
        };
        let local: SocketAddr = match server {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let socket = UdpSocket::bind(local).map_err(unreachable)?;
        socket.connect(server).map_err(unreachable)?;
        socket
            .set_read_timeout(Some(self.timeout))
            .map_err(unreachable)?;
        let mut buf = vec![0u8; 4096];
        // One retransmission: a lost datagram is not an unreachable server.
        let mut last = None;
        for _ in 0..2 {
            socket.send(question).map_err(unreachable)?;
            match socket.recv(&mut buf) {
                Ok(n) => {
                    let response = &buf[..n];
                    // Bit TC of the flags: the answer did not fit in a datagram.
                    if response.len() >= 4 && response[2] & 0x02 != 0 {
                        return self.exchange_tcp(server, question).map_err(unreachable);
                    }
                    return Ok(response.to_vec());
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    last = Some(e);
                }
                Err(e) => return Err(unreachable(e)),
            }
        }
        Err(unreachable(
            last.unwrap_or_else(|| io::ErrorKind::TimedOut.into()),
        ))
    }

    fn exchange_tcp(&self, server: SocketAddr, question: &[u8]) -> io::Result<Vec<u8>> {
        let mut tcp = TcpStream::connect_timeout(&server, self.timeout)?;
        tcp.set_read_timeout(Some(self.timeout))?;
        tcp.set_write_timeout(Some(self.timeout))?;
        let len = u16::try_from(question.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
        let mut framed = len.to_be_bytes().to_vec();
        framed.extend_from_slice(question);
        tcp.write_all(&framed)?;
        let mut len = [0u8; 2];
        tcp.read_exact(&mut len)?;
        let mut response = vec![0u8; usize::from(u16::from_be_bytes(len))];
        tcp.read_exact(&mut response)?;
        Ok(response)
    }
}

/// `192.0.2.1` as `1.2.0.192.<v4_zone>`, an IPv6 address nibble by nibble under `<v6_zone>`:
/// the names of PTR records and of DNS blocklist entries.
pub fn reverse_name(address: IpAddr, v4_zone: &str, v6_zone: &str) -> String {
    match address {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.{v4_zone}", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut name = String::new();
            for byte in v6.octets().iter().rev() {
                name.push_str(&format!("{:x}.{:x}.", byte & 0xf, byte >> 4));
            }
            name + v6_zone
        }
    }
}

/// `ADDR` or `ADDR:PORT` (`[v6]:PORT` for IPv6 with a port).
fn parse_server(text: &str) -> Option<SocketAddr> {
    let text = text.trim();
    text.parse::<SocketAddr>().ok().or_else(|| {
        text.parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

/// The `nameserver` addresses of a resolv.conf, at most three (as the C library uses).
fn resolv_conf(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver")).then_some(())?;
            // A scope (`fe80::1%eth0`) is left out: std cannot parse it.
            let addr = words.next()?.split('%').next()?;
            addr.parse::<IpAddr>()
                .ok()
                .map(|ip| SocketAddr::new(ip, 53))
        })
        .take(3)
        .collect()
}

/// A query for `name` and `qtype` with recursion desired. Only host names are asked about
/// (letters, digits, `-` and `_`): anything else is a mistake of the caller, not a question.
fn encode_query(id: u16, name: &str, qtype: RecordType) -> Result<Vec<u8>, DnsError> {
    let bad = || DnsError::BadName(name.to_string());
    let trimmed = name.trim_end_matches('.');
    let host = !trimmed.is_empty()
        && !trimmed.contains("..")
        && trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !host {
        return Err(bad());
    }
    // The crate checks the lengths (63 per label, 255 in all).
    let parsed = Name::from_ascii(trimmed).map_err(|_| bad())?;
    let mut message = Message::new(id, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(parsed, qtype));
    message.to_vec().map_err(|_| bad())
}

/// Reads the response to query `id`: the records `parse` accepts in the answer section (a
/// CNAME chain before them is followed by the server; its records are skipped here).
fn decode<T>(
    response: &[u8],
    id: u16,
    server: SocketAddr,
    parse: &impl Fn(&RData) -> Option<T>,
) -> Result<Answer<T>, DnsError> {
    let message = Message::from_vec(response).map_err(|e| DnsError::Malformed {
        server: server.to_string(),
        detail: e.to_string(),
    })?;
    let header = &message.metadata;
    if header.id != id || header.message_type != MessageType::Response {
        return Err(DnsError::Malformed {
            server: server.to_string(),
            detail: "not the answer to the question asked".into(),
        });
    }
    let rcode = match header.response_code {
        ResponseCode::NoError => None,
        ResponseCode::NXDomain => return Ok(Answer::NoName),
        ResponseCode::FormErr => Some("FORMERR"),
        ResponseCode::ServFail => Some("SERVFAIL"),
        ResponseCode::NotImp => Some("NOTIMP"),
        ResponseCode::Refused => Some("REFUSED"),
        _ => Some("an error"),
    };
    if let Some(rcode) = rcode {
        return Err(DnsError::Server {
            server: server.to_string(),
            rcode,
        });
    }
    let records: Vec<T> = message
        .answers
        .iter()
        .filter_map(|record| parse(&record.data))
        .collect();
    Ok(if records.is_empty() {
        Answer::NoData
    } else {
        Answer::Records(records)
    })
}

/// A name as the doctor prints and compares it: lower case, without the final dot (the root,
/// a null MX's exchange, is `""`).
fn plain_name(name: &Name) -> String {
    name.to_lowercase()
        .to_ascii()
        .trim_end_matches('.')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    // Record types on the wire: the test servers below build their answers byte by byte, so
    // that the decoding is checked against the format, not against the encoder of the crate.
    const TYPE_A: u16 = 1;
    const TYPE_PTR: u16 = 12;
    const TYPE_MX: u16 = 15;
    const TYPE_AAAA: u16 = 28;

    fn name(n: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for l in n.split('.') {
            out.push(l.len() as u8);
            out.extend_from_slice(l.as_bytes());
        }
        out.push(0);
        out
    }

    /// A response to `query` with `rcode` and records (type, rdata), names compressed to the
    /// question's name.
    fn respond(query: &[u8], rcode: u8, records: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut out = query[..2].to_vec();
        out.extend_from_slice(&[0x81, 0x80 | rcode]);
        out.extend_from_slice(&[0, 1]);
        out.extend_from_slice(&(records.len() as u16).to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&query[12..]);
        for (rtype, rdata) in records {
            out.extend_from_slice(&[0xc0, 12]);
            out.extend_from_slice(&rtype.to_be_bytes());
            out.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
            out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            out.extend_from_slice(rdata);
        }
        out
    }

    /// A one-shot UDP server answering with `answer(query)`; returns its address.
    fn server(answer: impl Fn(&[u8]) -> Vec<u8> + Send + 'static) -> SocketAddr {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        thread::spawn(move || {
            let mut buf = [0u8; 512];
            while let Ok((n, peer)) = socket.recv_from(&mut buf) {
                let _ = socket.send_to(&answer(&buf[..n]), peer);
            }
        });
        addr
    }

    fn resolver(addr: SocketAddr) -> Resolver {
        Resolver::new(vec![addr], Duration::from_millis(500))
    }

    #[test]
    fn encodes_the_question() {
        let q = encode_query(0xabcd, "mx.Example.org.", RecordType::MX).unwrap();
        assert_eq!(&q[..4], &[0xab, 0xcd, 0x01, 0x00]);
        assert_eq!(
            &q[12..],
            [name("mx.Example.org"), vec![0, 15, 0, 1]].concat()
        );
        for bad in ["", "a..b", "a b.org", &"x".repeat(64)] {
            assert!(encode_query(1, bad, RecordType::A).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_aaaa_and_nxdomain() {
        let addr = server(|q| {
            let qtype = u16::from_be_bytes([q[q.len() - 4], q[q.len() - 3]]);
            if q[12..].starts_with(&name("gone.example")) {
                return respond(q, 3, &[]);
            }
            match qtype {
                TYPE_A => respond(
                    q,
                    0,
                    &[(5, name("x.example")), (TYPE_A, vec![192, 0, 2, 7])],
                ),
                _ => respond(q, 0, &[(TYPE_AAAA, Ipv6Addr::LOCALHOST.octets().to_vec())]),
            }
        });
        let r = resolver(addr);
        assert_eq!(
            r.a("host.example").unwrap(),
            Answer::Records(vec![Ipv4Addr::new(192, 0, 2, 7)])
        );
        assert_eq!(
            r.aaaa("host.example").unwrap(),
            Answer::Records(vec![Ipv6Addr::LOCALHOST])
        );
        assert_eq!(r.a("gone.example").unwrap(), Answer::NoName);
        assert_eq!(r.addresses("gone.example").unwrap(), Answer::NoName);
        assert_eq!(r.addresses("host.example").unwrap().records().len(), 2);
    }

    #[test]
    fn mx_with_compressed_names_sorted_and_null_mx() {
        let addr = server(|q| {
            let mut mx1 = vec![0, 20];
            mx1.extend_from_slice(&[2, b'm', b'2', 0xc0, 12]);
            let mut mx2 = vec![0, 10];
            mx2.extend_from_slice(&name("mx1.example.org"));
            if q[12..].starts_with(&name("null.example")) {
                return respond(q, 0, &[(TYPE_MX, vec![0, 0, 0])]);
            }
            respond(q, 0, &[(TYPE_MX, mx1), (TYPE_MX, mx2)])
        });
        let r = resolver(addr);
        assert_eq!(
            r.mx("Example.ORG").unwrap(),
            Answer::Records(vec![
                (10, "mx1.example.org".into()),
                (20, "m2.example.org".into())
            ])
        );
        assert_eq!(
            r.mx("null.example").unwrap(),
            Answer::Records(vec![(0, String::new())])
        );
    }

    #[test]
    fn ptr_names_and_reverse_names() {
        assert_eq!(
            reverse_name("192.0.2.1".parse().unwrap(), "zen.example", "x"),
            "1.2.0.192.zen.example"
        );
        let v6 = reverse_name("2001:db8::1".parse().unwrap(), "a", "ip6.arpa");
        assert!(
            v6.starts_with("1.0.0.0.") && v6.ends_with(".8.b.d.0.1.0.0.2.ip6.arpa"),
            "{v6}"
        );
        let addr = server(|q| respond(q, 0, &[(TYPE_PTR, name("host.example.net"))]));
        assert_eq!(
            resolver(addr).ptr("192.0.2.1".parse().unwrap()).unwrap(),
            Answer::Records(vec!["host.example.net".into()])
        );
    }

    #[test]
    fn errors_are_told_apart() {
        let addr = server(|q| respond(q, 2, &[]));
        assert!(matches!(
            resolver(addr).a("x.example"),
            Err(DnsError::Server {
                rcode: "SERVFAIL",
                ..
            })
        ));
        let wrong_id = server(|q| {
            let mut r = respond(q, 0, &[]);
            r[0] ^= 0xff;
            r
        });
        assert!(matches!(
            resolver(wrong_id).a("x.example"),
            Err(DnsError::Malformed { .. })
        ));
        let truncated = server(|q| respond(q, 0, &[(TYPE_A, vec![1, 2, 3, 4])])[..40].to_vec());
        assert!(matches!(
            resolver(truncated).a("x.example"),
            Err(DnsError::Malformed { .. })
        ));
    }

    #[test]
    fn a_silent_server_is_unreachable_once_and_then_at_once() {
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let r = resolver(silent.local_addr().unwrap());
        assert!(matches!(
            r.a("x.example"),
            Err(DnsError::Unreachable { .. })
        ));
        let started = std::time::Instant::now();
        assert!(matches!(
            r.mx("y.example"),
            Err(DnsError::Unreachable { .. })
        ));
        assert!(started.elapsed() < Duration::from_millis(100));
    }

    #[test]
    fn pointer_loops_are_refused() {
        // A response with one answer whose name is a compression pointer to itself.
        let mut message = vec![0x12, 0x34, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0];
        message.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4]);
        let parse = |data: &RData| match data {
            RData::A(a) => Some(a.0),
            _ => None,
        };
        assert!(matches!(
            decode(&message, 0x1234, "127.0.0.1:53".parse().unwrap(), &parse),
            Err(DnsError::Malformed { .. })
        ));
    }

    #[test]
    fn server_settings() {
        assert_eq!(
            parse_server("127.0.0.1:5353"),
            Some("127.0.0.1:5353".parse().unwrap())
        );
        assert_eq!(parse_server("::1"), Some("[::1]:53".parse().unwrap()));
        assert_eq!(parse_server("resolver"), None);
        let conf = "# x\nsearch example\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\noptions ndots:2\nnameserver 1.1.1.1\nnameserver 9.9.9.9\n";
        let servers = resolv_conf(conf);
        assert_eq!(servers.len(), 3);
        assert_eq!(servers[1], "[fe80::1]:53".parse().unwrap());
    }
}
