//! The client side of SOCKS5 (RFC 1928) with user name and password (RFC 1929): one CONNECT.

use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream};

use zeroize::Zeroizing;

use super::{RouteFailure, SmtpError, broken, refused};
use crate::config::ProxyUrl;
use crate::secrets::{ExposeSecret, SecretString};

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0;
const USER_PASSWORD: u8 = 2;
const NO_ACCEPTABLE: u8 = 0xff;

/// Where the tunnel goes.
pub enum Target<'a> {
    Address(IpAddr),
    /// A name the proxy resolves (`socks5h`).
    Name(&'a str),
}

/// Asks the SOCKS5 proxy on `tcp` to connect to `target`:`port`, logging in with `login` when
/// the proxy asks for it.
pub fn connect(
    tcp: &mut TcpStream,
    url: &ProxyUrl,
    login: Option<(&str, &SecretString)>,
    target: &Target<'_>,
    port: u16,
) -> Result<(), SmtpError> {
    let io = |e| broken(url, e);
    let methods: &[u8] = if login.is_some() {
        &[NO_AUTH, USER_PASSWORD]
    } else {
        &[NO_AUTH]
    };
    let mut hello = vec![VERSION, methods.len() as u8];
    hello.extend_from_slice(methods);
    tcp.write_all(&hello).map_err(io)?;
    let mut choice = [0u8; 2];
    tcp.read_exact(&mut choice).map_err(io)?;
    if choice[0] != VERSION {
        return Err(not_socks(url));
    }
    match (choice[1], login) {
        (NO_AUTH, _) => {}
        (USER_PASSWORD, Some((user, password))) => log_in(tcp, url, user, password)?,
        (NO_ACCEPTABLE, None) => {
            return Err(refused(
                url,
                "the proxy wants a login: put the user in the proxy URL (socks5://user@host:port) and its password in proxy_secret".into(),
                RouteFailure::Setup,
            ));
        }
        (NO_ACCEPTABLE, Some(_)) => {
            return Err(refused(
                url,
                "the proxy accepts neither no login nor a user name and password".into(),
                RouteFailure::Setup,
            ));
        }
        (other, _) => {
            return Err(refused(
                url,
                format!("the proxy chose login method {other}, which was not offered"),
                RouteFailure::Setup,
            ));
        }
    }
    let mut request = vec![VERSION, 1, 0];
    match target {
        Target::Address(IpAddr::V4(a)) => {
            request.push(1);
            request.extend_from_slice(&a.octets());
        }
        Target::Address(IpAddr::V6(a)) => {
            request.push(4);
            request.extend_from_slice(&a.octets());
        }
        Target::Name(name) => {
            let len = u8::try_from(name.len()).map_err(|_| {
                refused(
                    url,
                    format!("{name:?} is too long a name for SOCKS5"),
                    RouteFailure::Setup,
                )
            })?;
            request.push(3);
            request.push(len);
            request.extend_from_slice(name.as_bytes());
        }
    }
    request.extend_from_slice(&port.to_be_bytes());
    tcp.write_all(&request).map_err(io)?;
    let mut head = [0u8; 4];
    tcp.read_exact(&mut head).map_err(io)?;
    if head[0] != VERSION {
        return Err(not_socks(url));
    }
    if head[1] != 0 {
        let (what, failure) = reply(head[1]);
        return Err(refused(
            url,
            format!("the proxy could not connect to the relay: {what}"),
            failure,
        ));
    }
    // The address the proxy connected from: read and dropped, so that only the relay's bytes
    // are left.
    let rest = match head[3] {
        1 => 4 + 2,
        4 => 16 + 2,
        3 => {
            let mut len = [0u8; 1];
            tcp.read_exact(&mut len).map_err(io)?;
            usize::from(len[0]) + 2
        }
        _ => return Err(not_socks(url)),
    };
    let mut bound = vec![0u8; rest];
    tcp.read_exact(&mut bound).map_err(io)
}

/// RFC 1929: version 1, the user name, the password; status 0 is success.
fn log_in(
    tcp: &mut TcpStream,
    url: &ProxyUrl,
    user: &str,
    password: &SecretString,
) -> Result<(), SmtpError> {
    let password = password.expose_secret().as_bytes();
    let (Ok(user_len), Ok(password_len)) = (u8::try_from(user.len()), u8::try_from(password.len()))
    else {
        return Err(refused(
            url,
            "SOCKS5 takes a user name and a password of at most 255 bytes each".into(),
            RouteFailure::Setup,
        ));
    };
    let mut message = Zeroizing::new(Vec::with_capacity(3 + user.len() + password.len()));
    message.extend_from_slice(&[1, user_len]);
    message.extend_from_slice(user.as_bytes());
    message.push(password_len);
    message.extend_from_slice(password);
    tcp.write_all(&message).map_err(|e| broken(url, e))?;
    let mut status = [0u8; 2];
    tcp.read_exact(&mut status).map_err(|e| broken(url, e))?;
    if status[1] != 0 {
        return Err(refused(
            url,
            format!("the proxy refused the login for {user} (check proxy_secret)"),
            RouteFailure::Login,
        ));
    }
    Ok(())
}

/// What a SOCKS5 reply code means, and whether trying again can help.
fn reply(code: u8) -> (&'static str, RouteFailure) {
    match code {
        1 => ("general SOCKS server failure", RouteFailure::Transient),
        2 => (
            "the proxy's rules do not allow this connection",
            RouteFailure::Setup,
        ),
        3 => ("network unreachable", RouteFailure::Transient),
        4 => ("host unreachable", RouteFailure::Transient),
        5 => ("connection refused", RouteFailure::Transient),
        6 => ("TTL expired", RouteFailure::Transient),
        7 => ("command not supported", RouteFailure::Setup),
        8 => ("address type not supported", RouteFailure::Setup),
        _ => ("an unknown SOCKS5 error", RouteFailure::Transient),
    }
}

fn not_socks(url: &ProxyUrl) -> SmtpError {
    refused(
        url,
        "the proxy does not speak SOCKS5".into(),
        RouteFailure::Setup,
    )
}
