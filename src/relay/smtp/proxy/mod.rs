//! Tunnels to the relay through an egress proxy: SOCKS5 ([`socks5`]) or an HTTP proxy's
//! CONNECT ([`http`]). Both are spoken over the connection to the proxy, and when they succeed
//! the same connection carries the SMTP dialogue (and TLS, end to end with the relay: the
//! proxy sees only ciphertext). Nothing beyond the proxy's answer is read, so the relay's
//! greeting is left for the SMTP client.
//!
//! The proxy's password is a secret: it is sent to the proxy only, never shown, and held in
//! zeroizing memory.

mod http;
mod socks5;

use std::net::TcpStream;

use super::{RouteFailure, SmtpError, resolve};
use crate::config::{ProxyKind, ProxyUrl};
use crate::secrets::SecretString;

/// A proxy, with its password when its URL names a user.
#[derive(Debug)]
pub struct Proxy {
    pub url: ProxyUrl,
    pub password: Option<SecretString>,
}

/// Asks the proxy on `tcp` for a tunnel to `host` (a name or an address) on `port`.
pub fn open(tcp: &mut TcpStream, proxy: &Proxy, host: &str, port: u16) -> Result<(), SmtpError> {
    let login = match (&proxy.url.user, &proxy.password) {
        (Some(user), Some(password)) => Some((user.as_str(), password)),
        _ => None,
    };
    match proxy.url.kind {
        ProxyKind::Socks5 => {
            // relayctl resolves the name, as it does without a proxy.
            let target = match host.parse() {
                Ok(ip) => socks5::Target::Address(ip),
                Err(_) => {
                    let addrs = resolve(host, port)?;
                    let first = addrs.first().ok_or_else(|| SmtpError::NoSuchHost {
                        host: host.to_string(),
                        reason: "no address".into(),
                    })?;
                    socks5::Target::Address(first.ip())
                }
            };
            socks5::connect(tcp, &proxy.url, login, &target, port)
        }
        ProxyKind::Socks5h => {
            let target = match host.parse() {
                Ok(ip) => socks5::Target::Address(ip),
                Err(_) => socks5::Target::Name(host),
            };
            socks5::connect(tcp, &proxy.url, login, &target, port)
        }
        ProxyKind::Http => http::connect(tcp, &proxy.url, login, host, port),
    }
}

/// The proxy itself could not be reached: `e` names why.
pub fn unreachable(url: &ProxyUrl, e: &SmtpError) -> SmtpError {
    let failure = match e {
        // A proxy name that does not exist is the profile's mistake.
        SmtpError::NoSuchHost { .. } => RouteFailure::Setup,
        SmtpError::Route { failure, .. } => *failure,
        _ => RouteFailure::Transient,
    };
    SmtpError::Route {
        detail: format!("cannot reach the proxy {}: {e}", url.host_port()),
        failure,
    }
}

/// A failure the proxy reported.
fn refused(url: &ProxyUrl, what: String, failure: RouteFailure) -> SmtpError {
    SmtpError::Route {
        detail: format!("proxy {}: {what}", url.host_port()),
        failure,
    }
}

/// The proxy broke off or answered what is not its protocol.
fn broken(url: &ProxyUrl, e: std::io::Error) -> SmtpError {
    match SmtpError::from_io("connect", e) {
        timeout @ SmtpError::Timeout { .. } => timeout,
        other => refused(
            url,
            format!("the proxy broke off: {other}"),
            RouteFailure::Transient,
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    use super::*;
    use crate::secrets::SecretString;

    /// A proxy on 127.0.0.1 that, for each step, reads so many bytes and answers, then sends
    /// the relay's greeting right after its last answer; returns what it read.
    fn fake(steps: Vec<(usize, Vec<u8>)>) -> (u16, std::thread::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (mut tcp, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            for (expect, answer) in steps {
                let mut read = vec![0u8; expect];
                tcp.read_exact(&mut read).unwrap();
                got.extend(read);
                tcp.write_all(&answer).unwrap();
            }
            tcp.write_all(b"220 relay.test ESMTP\r\n").unwrap();
            got
        });
        (port, handle)
    }

    fn proxy(url: &str, password: Option<&str>) -> Proxy {
        Proxy {
            url: url.parse().unwrap(),
            password: password.map(|p| SecretString::from(p.to_string())),
        }
    }

    /// The relay's greeting is still there to read: nothing after the proxy's answer was taken.
    fn greeting_follows(tcp: TcpStream) {
        let mut line = String::new();
        BufReader::new(tcp).read_line(&mut line).unwrap();
        assert_eq!(line, "220 relay.test ESMTP\r\n");
    }

    #[test]
    fn socks5h_logs_in_and_asks_for_the_name() {
        // Method choice (user/password), login accepted, connect succeeded with an IPv4 bound
        // address.
        let hello = 4;
        let login = 3 + "u".len() + "pw".len();
        let request = 4 + 1 + "relay.test".len() + 2;
        let (port, server) = fake(vec![
            (hello, vec![5, 2]),
            (login, vec![1, 0]),
            (request, vec![5, 0, 0, 1, 127, 0, 0, 1, 0x9c, 0x40]),
        ]);
        let p = proxy(&format!("socks5h://u@127.0.0.1:{port}"), Some("pw"));
        let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        open(&mut tcp, &p, "relay.test", 587).unwrap();
        greeting_follows(tcp);
        let got = server.join().unwrap();
        assert_eq!(&got[..hello], [5, 2, 0, 2]);
        assert_eq!(&got[hello..hello + login], [1, 1, b'u', 2, b'p', b'w']);
        let mut want = vec![5, 1, 0, 3, 10];
        want.extend_from_slice(b"relay.test");
        want.extend_from_slice(&587u16.to_be_bytes());
        assert_eq!(&got[hello + login..], want);
    }

    #[test]
    fn socks5_refusals_say_whose_they_are() {
        let (port, _server) = fake(vec![
            (3, vec![5, 0]),
            (10, vec![5, 2, 0, 1, 0, 0, 0, 0, 0, 0]),
        ]);
        let p = proxy(&format!("socks5://127.0.0.1:{port}"), None);
        let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let err = open(&mut tcp, &p, "127.0.0.1", 25).unwrap_err();
        assert!(
            matches!(
                &err,
                SmtpError::Route {
                    failure: RouteFailure::Setup,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("rules do not allow"), "{err}");
    }

    #[test]
    fn http_connect_with_basic_credentials() {
        let request = "CONNECT [::1]:587 HTTP/1.1\r\nHost: [::1]:587\r\nProxy-Authorization: Basic dTpwdw==\r\n\r\n";
        let (port, server) = fake(vec![(
            request.len(),
            b"HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\n".to_vec(),
        )]);
        let p = proxy(&format!("http://u@127.0.0.1:{port}"), Some("pw"));
        let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        open(&mut tcp, &p, "::1", 587).unwrap();
        greeting_follows(tcp);
        assert_eq!(String::from_utf8(server.join().unwrap()).unwrap(), request);
    }

    #[test]
    fn http_proxy_refusals() {
        let request = "CONNECT relay.test:587 HTTP/1.1\r\nHost: relay.test:587\r\n\r\n";
        for (status, failure) in [
            ("403 Forbidden", RouteFailure::Setup),
            ("407 Proxy Authentication Required", RouteFailure::Setup),
            ("502 Bad Gateway", RouteFailure::Transient),
        ] {
            let (port, _server) = fake(vec![(
                request.len(),
                format!("HTTP/1.1 {status}\r\n\r\n").into_bytes(),
            )]);
            let p = proxy(&format!("http://127.0.0.1:{port}"), None);
            let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
            match open(&mut tcp, &p, "relay.test", 587) {
                Err(SmtpError::Route { failure: f, detail }) => {
                    assert_eq!(f, failure, "{detail}");
                    assert!(detail.contains(status), "{detail}");
                }
                other => panic!("{status}: {other:?}"),
            }
        }
    }
}
