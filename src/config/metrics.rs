//! `metrics_listen`: where `relayctl serve` and `queue daemon` answer `GET /metrics`. Only a
//! loopback address is accepted: the responder has neither TLS nor a login, and the metrics name
//! the host's profiles and how its mail fares. To publish them beyond the host, let
//! node_exporter's textfile collector read `metrics_textfile` (node_exporter has TLS and basic
//! auth), or put a proxy in front.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

/// A loopback socket address (`127.0.0.1:9469`, `[::1]:9469`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsListen(pub SocketAddr);

impl FromStr for MetricsListen {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let addr: SocketAddr = s.trim().parse().map_err(|_| {
            format!("`{s}` is not an address and port (example: \"127.0.0.1:9469\")")
        })?;
        if !addr.ip().is_loopback() {
            return Err(format!(
                "metrics_listen `{s}` is not a loopback address: the metrics responder has no TLS or login; use 127.0.0.1 or [::1], and metrics_textfile with node_exporter (or a proxy) to publish the metrics beyond this host"
            ));
        }
        Ok(MetricsListen(addr))
    }
}

impl fmt::Display for MetricsListen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

super::serde_as_string!(MetricsListen);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_accepted() {
        for ok in ["127.0.0.1:9469", "[::1]:9469", "127.0.0.2:1"] {
            assert!(ok.parse::<MetricsListen>().is_ok(), "{ok}");
        }
        for bad in [
            "0.0.0.0:9469",
            "[::]:9469",
            "192.0.2.1:9469",
            "localhost:9469",
            "9469",
        ] {
            assert!(bad.parse::<MetricsListen>().is_err(), "{bad}");
        }
        let e = "0.0.0.0:9469".parse::<MetricsListen>().unwrap_err();
        assert!(e.contains("not a loopback address"), "{e}");
    }
}
