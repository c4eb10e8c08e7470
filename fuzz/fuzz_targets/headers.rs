//! Header parsing and sendmail submission.
//!
//! - `headers::split` then `to_bytes`, and `addresses::parse_list`, never panic;
//! - `submission::prepare` never panics, and when it succeeds the message it returns has no
//!   Bcc (or Resent-Bcc) field and every line of its header section ends with CRLF;
//! - a Bcc field of the input's header section, however it is written (white space, tabs
//!   before the colon), appears nowhere in the output, not even as a body line.
#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use relayctl::aliases::{AliasTarget, Aliases};
use relayctl::message::canonical::canonicalize;
use relayctl::message::submission::{Request, SenderPolicy, Senders, prepare};
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

/// The lines of `input` as the header section reads them (CRLF, LF or a bare CR ends one).
fn lines(input: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            Some(i) => {
                out.push(&rest[..i]);
                let skip = if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
                rest = &rest[i + skip..];
            }
            None => {
                out.push(rest);
                rest = &[];
            }
        }
    }
    out
}

/// The Bcc fields of the input's header section: its lines up to the first empty one, as long as
/// each is a field (printable name, white space, colon) or the continuation of one. A message
/// whose first line is a continuation has no header section: it is all body, as Postfix's
/// cleanup reads it too.
fn header_section_bccs(input: &[u8]) -> Vec<&[u8]> {
    let mut bccs = Vec::new();
    for (i, line) in lines(input).into_iter().enumerate() {
        if line.is_empty() {
            break;
        }
        if matches!(line[0], b' ' | b'\t') {
            if i == 0 {
                break;
            }
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            break;
        };
        let name = line[..colon].trim_ascii_end();
        let padding = &line[name.len()..colon];
        let field = !name.is_empty()
            && name.iter().all(|&b| (33..=126).contains(&b))
            && padding.iter().all(|&b| b == b' ' || b == b'\t');
        if !field {
            break;
        }
        if is_bcc(name) && line.len() > colon + 4 {
            bccs.push(line);
        }
    }
    bccs
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
        senders: Senders::Listed(&[]),
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
    // A Bcc of the header section is gone, wherever the parser might have put it. (A line of
    // the input's body that repeats it may stay, as often as the body has it.)
    let all_out = lines(out);
    let all_in = lines(data);
    for bcc in header_section_bccs(data) {
        let in_count = all_in.iter().filter(|l| **l == bcc).count();
        let out_count = all_out.iter().filter(|l| **l == bcc).count();
        assert!(
            out_count < in_count,
            "Bcc line kept: {:?} in {:?}",
            String::from_utf8_lossy(bcc),
            String::from_utf8_lossy(out)
        );
    }
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
