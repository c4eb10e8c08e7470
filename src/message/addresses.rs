//! Address lists in header fields (RFC 5322: groups, comments, quoted display names, folding),
//! parsed with mail-parser.

use mail_parser::{Addr, Address, MessageParser};

/// One mailbox of an address list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// The display name (or, for `root (Cron Daemon)`, the comment).
    pub name: Option<String>,
    pub address: String,
}

impl Mailbox {
    pub fn new(name: Option<String>, address: &str) -> Self {
        Mailbox {
            name: name.filter(|n| !n.trim().is_empty()),
            address: address.to_string(),
        }
    }
}

impl std::fmt::Display for Mailbox {
    /// `"Display Name" <address>` or a bare address. Names outside printable ASCII are written as
    /// RFC 2047 encoded words.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) if name.is_ascii() => {
                let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
                write!(f, "\"{escaped}\" <{}>", self.address)
            }
            Some(name) => write!(f, "{} <{}>", encode_word(name), self.address),
            None => f.write_str(&self.address),
        }
    }
}

/// RFC 2047 base64 encoded word for a non-ASCII display name.
fn encode_word(text: &str) -> String {
    use base64::Engine;
    format!(
        "=?utf-8?b?{}?=",
        base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
    )
}

/// Every mailbox in a field value, groups flattened. Entries without an address are skipped.
pub fn parse_list(value: &[u8]) -> Vec<Mailbox> {
    // mail-parser parses whole header sections; the value is given to it as a `To` field.
    let mut raw = Vec::with_capacity(value.len() + 8);
    raw.extend_from_slice(b"To:");
    raw.extend_from_slice(value);
    raw.extend_from_slice(b"\r\n\r\n");
    let Some(message) = MessageParser::default().parse_headers(&raw) else {
        return Vec::new();
    };
    let Some(list) = message.to() else {
        return Vec::new();
    };
    let addrs: Vec<&Addr> = match list {
        Address::List(list) => list.iter().collect(),
        Address::Group(groups) => groups.iter().flat_map(|g| &g.addresses).collect(),
    };
    addrs
        .into_iter()
        .filter_map(|a| match (a.address.as_deref(), a.name.as_deref()) {
            (Some(address), name) if !address.trim().is_empty() => {
                Some(Mailbox::new(name.map(str::to_string), address.trim()))
            }
            // A domainless local user (`To: root`) comes back as a name without an address.
            (_, Some(word)) if is_local_word(word) => Some(Mailbox::new(None, word)),
            _ => None,
        })
        .collect()
}

fn is_local_word(word: &str) -> bool {
    !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c))
}

/// Writes mailboxes as a field value.
pub fn format_list(list: &[Mailbox]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(v: &str) -> Vec<String> {
        parse_list(v.as_bytes())
            .into_iter()
            .map(|m| m.address)
            .collect()
    }

    #[test]
    fn groups_comments_quotes_and_folding() {
        assert_eq!(
            addrs(" \"Doe, Jane\" <jane@example.org>, bob@example.org (Bob)"),
            ["jane@example.org", "bob@example.org"]
        );
        assert_eq!(
            addrs(" Team: a@example.org, \"B\" <b@example.org>;, c@example.org"),
            ["a@example.org", "b@example.org", "c@example.org"]
        );
        assert_eq!(
            addrs(" a@example.org,\r\n\tb@example.org"),
            ["a@example.org", "b@example.org"]
        );
        assert_eq!(addrs(" undisclosed-recipients:;"), Vec::<String>::new());
        assert_eq!(addrs(" root"), ["root"]);
    }

    #[test]
    fn cron_style_comment_becomes_the_name() {
        let list = parse_list(b" root (Cron Daemon)");
        assert_eq!(list, [Mailbox::new(Some("Cron Daemon".into()), "root")]);
    }

    #[test]
    fn formatting_quotes_names() {
        let m = Mailbox::new(Some("Cron \"D\"".into()), "a@example.org");
        assert_eq!(m.to_string(), "\"Cron \\\"D\\\"\" <a@example.org>");
        let m = Mailbox::new(Some("Jürgen".into()), "j@example.org");
        assert_eq!(m.to_string(), "=?utf-8?b?SsO8cmdlbg==?= <j@example.org>");
        assert_eq!(
            format_list(&[Mailbox::new(None, "a@x.org"), Mailbox::new(None, "b@x.org")]),
            "a@x.org, b@x.org"
        );
    }
}
