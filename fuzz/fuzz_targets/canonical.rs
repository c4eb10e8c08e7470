//! CRLF canonicalisation for the wire.
//!
//! - the output has no bare CR and no bare LF;
//! - the input's lines (split on CRLF, LF or bare CR) are the output's lines (split on CRLF),
//!   except that the input's final empty line (after a trailing line ending) is dropped;
//! - feeding the input in two chunks through `Canonicalizer::push` gives the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relayctl::message::canonical::{Canonicalizer, canonicalize};

/// Lines split on any line ending (CRLF, LF, bare CR).
fn input_lines(input: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'\r' => {
                lines.push(&input[start..i]);
                i += if input.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                start = i;
            }
            b'\n' => {
                lines.push(&input[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    lines.push(&input[start..]);
    lines
}

fn crlf_lines(output: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + 1 < output.len() {
        if &output[i..i + 2] == b"\r\n" {
            lines.push(&output[start..i]);
            i += 2;
            start = i;
        } else {
            i += 1;
        }
    }
    lines.push(&output[start..]);
    lines
}

fuzz_target!(|data: &[u8]| {
    let out = canonicalize(data);

    // No bare CR or LF.
    for (i, &b) in out.iter().enumerate() {
        if b == b'\r' {
            assert_eq!(out.get(i + 1), Some(&b'\n'), "bare CR at {i}");
        }
        if b == b'\n' {
            assert!(i > 0 && out[i - 1] == b'\r', "bare LF at {i}");
        }
    }

    // Same lines, except a dropped final empty one.
    let mut expected = input_lines(data);
    if expected.len() > 1 && expected.last().is_some_and(|l| l.is_empty()) {
        expected.pop();
    }
    let got = crlf_lines(&out);
    assert_eq!(got, expected, "lines differ");

    // Two chunks, split at a point derived from the first byte.
    let split = match data.first() {
        Some(&b) => usize::from(b) % (data.len() + 1),
        None => 0,
    };
    let mut c = Canonicalizer::new();
    let mut chunked = Vec::new();
    c.push(&data[..split], &mut chunked);
    c.push(&data[split..], &mut chunked);
    assert_eq!(chunked, out, "chunked at {split}");

    // Byte by byte, for short inputs.
    if data.len() <= 64 {
        let mut c = Canonicalizer::new();
        let mut bytewise = Vec::new();
        for b in data {
            c.push(std::slice::from_ref(b), &mut bytewise);
        }
        c.push(&[], &mut bytewise);
        assert_eq!(bytewise, out, "byte by byte");
    }
});
