//! Messages: line-ending canonicalisation for the wire, and composing new messages for `send`.

pub mod addresses;
pub mod canonical;
pub mod compose;
pub mod headers;
pub mod submission;

/// The current time as an RFC 5322 date (`Fri, 27 Nov 2026 12:14:21 +0000`).
pub fn rfc5322_now() -> String {
    let http = httpdate::fmt_http_date(std::time::SystemTime::now());
    http.strip_suffix(" GMT")
        .map(|d| format!("{d} +0000"))
        .unwrap_or(http)
}

/// A new Message-ID in the sender's domain.
pub fn message_id(domain: &str) -> String {
    format!(
        "<{:016x}.{}@{domain}>",
        fastrand::u64(..),
        std::process::id()
    )
}

/// Whether `addr` looks like `local@domain`: no spaces or angle brackets, both parts present.
/// Full RFC 5322 parsing happens where messages are parsed; this guards configuration values.
pub fn is_plausible_address(addr: &str) -> bool {
    match addr.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !addr
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || "<>,;".contains(c))
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_plausible_address;

    #[test]
    fn plausible_addresses() {
        assert!(is_plausible_address("jdoe@uni.example"));
        assert!(is_plausible_address("a+b@[127.0.0.1]"));
        for bad in ["root", "@x", "x@", "a b@c", "<a@b>", "a@b.", "a@b,c@d"] {
            assert!(!is_plausible_address(bad), "{bad}");
        }
    }
}
