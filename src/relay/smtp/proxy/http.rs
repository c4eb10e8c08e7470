//! The client side of an HTTP proxy's CONNECT (RFC 9110 section 9.3.6), with Basic
//! credentials (RFC 7617) in `Proxy-Authorization` when the profile has a proxy login.

use std::io::{Read, Write};
use std::net::TcpStream;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use super::{RouteFailure, SmtpError, broken, refused};
use crate::config::ProxyUrl;
use crate::printable;
use crate::secrets::{ExposeSecret, SecretString};

/// The longest proxy answer (status line and headers) read.
const MAX_HEAD: usize = 16 * 1024;

/// Asks the HTTP proxy on `tcp` for a tunnel to `host`:`port`.
pub fn connect(
    tcp: &mut TcpStream,
    url: &ProxyUrl,
    login: Option<(&str, &SecretString)>,
    host: &str,
    port: u16,
) -> Result<(), SmtpError> {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut request = Zeroizing::new(format!(
        "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n"
    ));
    if let Some((user, password)) = login {
        let pair = Zeroizing::new(format!("{user}:{}", password.expose_secret()));
        request.push_str("Proxy-Authorization: Basic ");
        request.push_str(&Zeroizing::new(BASE64.encode(pair.as_bytes())));
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes())
        .map_err(|e| broken(url, e))?;
    let head = read_head(tcp, url)?;
    let status_line = head.lines().next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        return Err(not_http(url));
    };
    let Ok(code) = code.parse::<u16>() else {
        return Err(not_http(url));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(not_http(url));
    }
    let shown = printable::clean(status_line);
    match code {
        200..300 => Ok(()),
        // tinyproxy answers a wrong login with 401.
        401 | 407 if login.is_some() => Err(refused(
            url,
            format!("the proxy refused the login ({shown}; check proxy_secret)"),
            RouteFailure::Login,
        )),
        401 | 407 => Err(refused(
            url,
            format!(
                "the proxy wants a login ({shown}): put the user in the proxy URL (http://user@host:port) and its password in proxy_secret"
            ),
            RouteFailure::Setup,
        )),
        500.. => Err(refused(
            url,
            format!("the proxy could not connect to the relay: {shown}"),
            RouteFailure::Transient,
        )),
        _ => Err(refused(
            url,
            format!("the proxy refused the tunnel to {authority}: {shown}"),
            RouteFailure::Setup,
        )),
    }
}

/// Reads the proxy's answer up to the empty line that ends its headers, one byte at a time so
/// that nothing of the relay's greeting after it is consumed.
fn read_head(tcp: &mut TcpStream, url: &ProxyUrl) -> Result<String, SmtpError> {
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && !head.ends_with(b"\n\n") {
        if head.len() >= MAX_HEAD {
            return Err(not_http(url));
        }
        match tcp.read(&mut byte) {
            Ok(0) => {
                return Err(broken(
                    url,
                    std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the proxy closed the connection",
                    ),
                ));
            }
            Ok(_) => head.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(broken(url, e)),
        }
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

fn not_http(url: &ProxyUrl) -> SmtpError {
    refused(
        url,
        "the proxy does not answer as an HTTP proxy".into(),
        RouteFailure::Setup,
    )
}
