//! Messages: line-ending canonicalisation for the wire, composing new messages for `send`, and
//! the checks every address and command-line value goes through.

pub mod addresses;
pub mod body;
pub mod canonical;
pub mod compose;
pub mod envelope;
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

/// The domain of `addr` when it is a bare host name rather than a domain mail can be routed to
/// or from: no dot (`root@vm123`), `localhost`, or under `.localhost` or `.localdomain`
/// (`root@vm1.localdomain`). `None` for real domains, domain literals (`[192.0.2.1]`) and text
/// without an `@`.
pub fn bare_hostname(addr: &str) -> Option<&str> {
    let (_, domain) = addr.rsplit_once('@')?;
    if domain.starts_with('[') {
        return None;
    }
    let name = domain.trim_end_matches('.').to_ascii_lowercase();
    let top = name.rsplit('.').next().unwrap_or_default();
    let bare = !name.contains('.') || top == "localhost" || top == "localdomain";
    bare.then_some(domain)
}

/// How to get past a refused bare host name; appended to the messages that refuse one.
pub const BARE_HOSTNAME_FIX: &str = "use the full domain, or set allow_bare_hostnames = true in the profile if the relay accepts it";

/// Whether a command-line value can go into a header or an SMTP command as it is: no CR, LF or
/// NUL, which would end the field or command and start another (header injection).
pub fn is_single_line(value: &str) -> bool {
    !value.contains(['\r', '\n', '\0'])
}

#[cfg(test)]
mod tests {
    use super::{bare_hostname, is_plausible_address, is_single_line};

    #[test]
    fn bare_hostnames() {
        for bare in [
            "root@vm123",
            "ops@mailhost",
            "a@localhost",
            "a@LOCALHOST.",
            "a@vm1.localdomain",
            "a@x.localhost",
        ] {
            assert!(bare_hostname(bare).is_some(), "{bare}");
        }
        assert_eq!(bare_hostname("root@vm123"), Some("vm123"));
        for real in [
            "vm1@campus.example",
            "jdoe@relay.test",
            "a@[192.0.2.1]",
            "a@[IPv6:2001:db8::1]",
            "root",
            "a@mail.example.org.",
        ] {
            assert_eq!(bare_hostname(real), None, "{real}");
        }
    }

    #[test]
    fn single_line_values() {
        assert!(is_single_line("Disk almost full \t 95%"));
        for bad in ["x\nBcc: v@example.org", "x\r", "a\0b"] {
            assert!(!is_single_line(bad), "{bad:?}");
        }
    }

    #[test]
    fn plausible_addresses() {
        assert!(is_plausible_address("jdoe@uni.example"));
        assert!(is_plausible_address("a+b@[127.0.0.1]"));
        for bad in ["root", "@x", "x@", "a b@c", "<a@b>", "a@b.", "a@b,c@d"] {
            assert!(!is_plausible_address(bad), "{bad}");
        }
    }
}
