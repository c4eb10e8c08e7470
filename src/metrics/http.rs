//! `metrics_listen`: a tiny HTTP responder for Prometheus, run by `queue daemon` (and by `serve`
//! when it keeps access to its queue) on a loopback address only ([`MetricsListen`]). It
//! answers `GET /metrics` with [`super::render`], read afresh from the spool and the
//! configuration at each scrape, and 404 to everything else. It runs on a thread of its own,
//! so a slow scraper never holds up delivery.

use std::path::PathBuf;

use crate::config::{ConfigLocation, MetricsListen};
use crate::queue::Spool;
use crate::queue::schedule::now;

/// The content type of the text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Why the responder could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot serve metrics on {addr}: {reason}")]
pub struct ListenError {
    pub addr: MetricsListen,
    pub reason: String,
}

/// Binds `addr` and answers scrapes on a thread of its own for as long as the process runs,
/// with the metrics of the spool at `spool` and the configuration at `location`.
pub fn spawn(
    addr: MetricsListen,
    spool: PathBuf,
    location: ConfigLocation,
) -> Result<(), ListenError> {
    let server = tiny_http::Server::http(addr.0).map_err(|e| ListenError {
        addr,
        reason: e.to_string(),
    })?;
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let (status, body) = respond(request.method(), request.url(), &spool, &location);
            let header = tiny_http::Header::from_bytes("Content-Type", CONTENT_TYPE)
                .expect("a valid header");
            let response = tiny_http::Response::from_string(body)
                .with_status_code(status)
                .with_header(header);
            // A scraper that went away is its own business.
            let _ = request.respond(response);
        }
    });
    Ok(())
}

/// The status and body for one request.
fn respond(
    method: &tiny_http::Method,
    url: &str,
    spool: &std::path::Path,
    location: &ConfigLocation,
) -> (u16, String) {
    let path = url.split('?').next().unwrap_or_default();
    if path != "/metrics" {
        return (404, "relayctl serves /metrics only\n".into());
    }
    if !matches!(method, tiny_http::Method::Get | tiny_http::Method::Head) {
        return (405, "GET /metrics\n".into());
    }
    // A configuration that does not load still leaves the queue and the counters to report.
    let config = location.load().ok();
    let rendered = Spool::open(spool).and_then(|s| super::render(&s, config.as_ref(), now()));
    match rendered {
        Ok(text) => (200, text),
        Err(e) => (500, format!("{e}\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn get(addr: &MetricsListen, request: &str) -> String {
        let mut stream = std::net::TcpStream::connect(addr.0).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    #[test]
    fn answers_get_metrics_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let addr: MetricsListen = format!("127.0.0.1:{port}").parse().unwrap();
        let location = ConfigLocation::new(Some(dir.path().join("config.toml")));
        spawn(addr, dir.path().join("spool"), location.clone()).unwrap();
        let ok = get(&addr, "GET /metrics HTTP/1.0\r\n\r\n");
        assert!(ok.starts_with("HTTP/1.0 200"), "{ok}");
        assert!(
            ok.contains("Content-Type: text/plain; version=0.0.4"),
            "{ok}"
        );
        assert!(ok.contains("\r\n\r\n# HELP relayctl_build_info "), "{ok}");
        let other = get(&addr, "GET /secrets HTTP/1.0\r\n\r\n");
        assert!(other.starts_with("HTTP/1.0 404"), "{other}");
        let post = get(&addr, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
        assert!(post.starts_with("HTTP/1.0 405"), "{post}");
        let taken = spawn(addr, dir.path().join("spool"), location).unwrap_err();
        assert!(
            taken
                .to_string()
                .starts_with("cannot serve metrics on 127.0.0.1:")
        );
    }
}
