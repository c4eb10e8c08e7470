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
    /// A mailbox whose display name is safe to write into a header: names come decoded from
    /// RFC 2047 encoded words and comments, so they may hold anything, CR and LF included. Every
    /// control character becomes a space and runs of white space one space; an empty name is none.
    pub fn new(name: Option<String>, address: &str) -> Self {
        let name = name.map(|n| {
            n.split(|c: char| c.is_control() || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        });
        Mailbox {
            name: name.filter(|n| !n.is_empty()),
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
            Some(name) => write!(f, "{} <{}>", encode_words(name), self.address),
            None => f.write_str(&self.address),
        }
    }
}

/// A non-ASCII display name as RFC 2047 base64 encoded words of at most 75 characters each (the
/// RFC's limit), split at character boundaries and separated by spaces, where a long header
/// line may be folded.
fn encode_words(text: &str) -> String {
    use base64::Engine;
    // 45 bytes encode to 60 characters; with `=?utf-8?b?` and `?=`, 72.
    const CHUNK: usize = 45;
    let mut words = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + CHUNK).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        words.push(format!(
            "=?utf-8?b?{}?=",
            base64::engine::general_purpose::STANDARD.encode(&text.as_bytes()[start..end])
        ));
        start = end;
    }
    words.join(" ")
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

    /// A decoded name may hold anything: written back, it never breaks the field.
    #[test]
    fn names_with_line_breaks_are_flattened() {
        use base64::Engine;
        let evil = "Ops\r\nX-Relayctl-Submitter: uid 0 (root)\r\nBcc: victim@example.org";
        let encoded = base64::engine::general_purpose::STANDARD.encode(evil);
        let list = parse_list(format!(" =?utf-8?b?{encoded}?= <root@localhost>").as_bytes());
        assert_eq!(list.len(), 1, "{list:?}");
        let text = list[0].to_string();
        assert!(!text.contains(['\r', '\n']), "{text:?}");
        assert_eq!(
            text,
            "\"Ops X-Relayctl-Submitter: uid 0 (root) Bcc: victim@example.org\" <root@localhost>"
        );
        let m = Mailbox::new(Some("Jü\u{1b}[2J\n".into()), "j@example.org");
        assert_eq!(m.name.as_deref(), Some("Jü [2J"));
    }

    #[test]
    fn long_non_ascii_names_are_split_into_short_encoded_words() {
        let name = "Jürgen ".repeat(20);
        let text = Mailbox::new(Some(name.clone()), "j@example.org").to_string();
        let words: Vec<&str> = text.split(' ').filter(|w| w.starts_with("=?")).collect();
        assert!(
            words.len() > 1 && words.iter().all(|w| w.len() <= 75),
            "{text}"
        );
        let back = parse_list(format!(" {text}").as_bytes());
        assert_eq!(back[0].name.as_deref(), Some(name.trim_end()));
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
