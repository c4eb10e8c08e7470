//! The service extensions a relay announces in its EHLO reply (RFC 5321 section 4.1.1.1).

use super::Reply;

/// The relay's EHLO keywords with their parameters, in the order announced. Keywords are kept
/// in upper case; lookups are case-insensitive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extensions {
    /// The name the relay gave in the first line of its EHLO (or HELO) reply.
    server_name: String,
    entries: Vec<(String, Vec<String>)>,
}

impl Extensions {
    /// Reads the extensions from an EHLO reply: the first line is the relay's name, each further
    /// line one keyword and its parameters. `AUTH=PLAIN LOGIN` (the form of early drafts) counts
    /// as `AUTH PLAIN LOGIN`.
    pub fn from_ehlo(reply: &Reply) -> Extensions {
        let server_name = reply
            .lines
            .first()
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_default()
            .to_string();
        let mut extensions = Extensions {
            server_name,
            entries: Vec::new(),
        };
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split_whitespace();
            let Some(first) = words.next() else { continue };
            let (keyword, mut params): (String, Vec<String>) = match first.split_once('=') {
                Some((k, v)) if k.eq_ignore_ascii_case("AUTH") => (
                    "AUTH".into(),
                    Some(v)
                        .filter(|v| !v.is_empty())
                        .map(String::from)
                        .into_iter()
                        .collect(),
                ),
                _ => (first.to_ascii_uppercase(), Vec::new()),
            };
            params.extend(words.map(String::from));
            match extensions.entries.iter_mut().find(|(k, _)| *k == keyword) {
                Some((_, existing)) => {
                    for p in params {
                        if !existing.iter().any(|e| e.eq_ignore_ascii_case(&p)) {
                            existing.push(p);
                        }
                    }
                }
                None => extensions.entries.push((keyword, params)),
            }
        }
        extensions
    }

    /// Extensions of a relay that answered HELO: none, only its name.
    pub(super) fn helo(reply: &Reply) -> Extensions {
        let mut extensions = Extensions::from_ehlo(reply);
        extensions.entries.clear();
        extensions
    }

    /// The name the relay gave in its EHLO reply (`mail.example.com`).
    pub fn server_name(&self) -> &str {
        &self.server_name
    }

    /// Whether the relay offers `keyword` (`PIPELINING`, `8BITMIME`, `SMTPUTF8`, `DSN`,
    /// `STARTTLS`, ...), in any case.
    pub fn has(&self, keyword: &str) -> bool {
        self.params(keyword).is_some()
    }

    /// The parameters of `keyword`, if the relay offers it.
    pub fn params(&self, keyword: &str) -> Option<&[String]> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(keyword))
            .map(|(_, p)| p.as_slice())
    }

    /// The largest message the relay accepts (`SIZE n`, RFC 1870); `None` when it announces no
    /// limit (no SIZE, a bare `SIZE`, or `SIZE 0`).
    pub fn size_limit(&self) -> Option<u64> {
        self.params("SIZE")?
            .first()?
            .parse::<u64>()
            .ok()
            .filter(|&n| n > 0)
    }

    /// The SASL mechanisms offered, in upper case (`["PLAIN", "LOGIN"]`).
    pub fn auth_mechanisms(&self) -> Vec<String> {
        self.params("AUTH")
            .unwrap_or_default()
            .iter()
            .map(|m| m.to_ascii_uppercase())
            .collect()
    }

    /// Every keyword, in upper case, in the order announced (without parameters).
    pub fn keywords(&self) -> Vec<String> {
        self.entries.iter().map(|(k, _)| k.clone()).collect()
    }

    /// Every keyword with its parameters, as announced (`SIZE 10240000`, `AUTH PLAIN LOGIN`).
    pub fn lines(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|(k, p)| {
                if p.is_empty() {
                    k.clone()
                } else {
                    format!("{k} {}", p.join(" "))
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ehlo(lines: &[&str]) -> Extensions {
        Extensions::from_ehlo(&Reply {
            code: 250,
            lines: lines.iter().map(|l| l.to_string()).collect(),
        })
    }

    #[test]
    fn keywords_and_params() {
        let ext = ehlo(&[
            "mx.example.test Hello client [127.0.0.1]",
            "pipelining",
            "SIZE 10240000",
            "AUTH PLAIN login",
            "AUTH=LOGIN CRAM-MD5",
            "8BITMIME",
            "DSN",
            "ENHANCEDSTATUSCODES",
        ]);
        assert_eq!(ext.server_name(), "mx.example.test");
        assert!(ext.has("PIPELINING") && ext.has("pipelining") && ext.has("dsn"));
        assert!(!ext.has("STARTTLS") && !ext.has("SMTPUTF8"));
        assert_eq!(ext.size_limit(), Some(10_240_000));
        assert_eq!(ext.auth_mechanisms(), ["PLAIN", "LOGIN", "CRAM-MD5"]);
        assert_eq!(
            ext.keywords(),
            [
                "PIPELINING",
                "SIZE",
                "AUTH",
                "8BITMIME",
                "DSN",
                "ENHANCEDSTATUSCODES"
            ]
        );
        assert_eq!(ext.lines()[1], "SIZE 10240000");
    }

    #[test]
    fn old_auth_form_and_sizes() {
        let ext = ehlo(&["mx", "AUTH=LOGIN", "SIZE 0"]);
        assert_eq!(ext.auth_mechanisms(), ["LOGIN"]);
        assert!(ext.has("AUTH"));
        assert_eq!(ext.size_limit(), None);
        assert_eq!(ehlo(&["mx", "SIZE"]).size_limit(), None);
        assert_eq!(ehlo(&["mx", "SIZE huge"]).size_limit(), None);
        assert_eq!(ehlo(&["mx"]).auth_mechanisms(), Vec::<String>::new());
        assert_eq!(ehlo(&[]).server_name(), "");
    }
}
