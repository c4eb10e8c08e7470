//! Header parsing and sendmail submission.
//!
//! - `headers::split` then `to_bytes`, and `addresses::parse_list`, never panic;
//! - `submission::prepare` never panics, and when it succeeds the message it returns has no
//!   Bcc (or Resent-Bcc) field and every line of its header section ends with CRLF.
#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use relayctl::aliases::{AliasTarget, Aliases};
use relayctl::message::canonical::canonicalize;
use relayctl::message::submission::{Request, SenderPolicy, prepare};
use relayctl::message::{addresses, headers};

static ALIASES: LazyLock<Aliases> = LazyLock::new(|| {
    let mut table = BTreeMap::new();
    table.insert(
        "root".to_string(),
        AliasTarget::One("ops@example.org".to_string()),
    );
    Aliases::new(&table, None, vec!["localhost".into()]).expect("no aliases file to read")
});

static RECIPIENTS: LazyLock<Vec<String>> = LazyLock::new(|| vec!["b@example.org".to_string()]);

fn is_bcc(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"bcc") || name.eq_ignore_ascii_case(b"resent-bcc")
}

fuzz_target!(|data: &[u8]| {
    let message = headers::split(data);
    let _ = message.to_bytes();
    for field in &message.fields {
        let _ = field.value();
    }
    let list = addresses::parse_list(data);
    let _ = addresses::format_list(&list);

    let policy = SenderPolicy {
        profile_from: "a@example.org",
        allow_from_override: false,
        reply_to: None,
        full_name: None,
    };
    let request = Request {
        recipients: &RECIPIENTS,
        extract_recipients: true,
        sender: None,
    };
    let Ok(submission) = prepare(data, &request, &policy, &ALIASES) else {
        return;
    };
    let out = &submission.message;
    // prepare always writes From, Date and Message-ID, so the header section is not empty and
    // ends at the first empty line.
    let end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("the header section ends with an empty line");
    let head = &out[..end + 2];
    for (i, &b) in head.iter().enumerate() {
        if b == b'\n' {
            assert!(
                i > 0 && head[i - 1] == b'\r',
                "header LF without CR at {i}: {head:?}"
            );
        }
    }
    // The brief's check: no line starting "Bcc:" (any case).
    let mut with_start = b"\r\n".to_vec();
    with_start.extend_from_slice(head);
    let lower = with_start.to_ascii_lowercase();
    assert!(
        !lower.windows(6).any(|w| w == b"\r\nbcc:"),
        "Bcc left in {:?}",
        String::from_utf8_lossy(head)
    );
    // What goes on the wire (`relay` canonicalises the message, so a bare
    // CR becomes a line break) has no field whose name, with the whitespace RFC 5322's obsolete
    // syntax allows before the colon, is Bcc or Resent-Bcc.
    let wire = canonicalize(out);
    let wire_end = wire
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(wire.len());
    for line in wire[..wire_end].split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            let name = line[..colon].trim_ascii_end();
            assert!(
                !is_bcc(name),
                "Bcc-like field on the wire: {:?}",
                String::from_utf8_lossy(line)
            );
        }
    }
});
