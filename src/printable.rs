//! Text relayctl did not write, made safe to store, print and log: relay replies (and so the
//! EHLO keywords and every error quoting a reply), TLS peer data, DNS names, OAuth2 endpoint
//! answers, and a message's Message-ID in the log. Such text can carry terminal escape
//! sequences (`ESC [2J` clears the screen, `ESC ]0;... BEL` sets the window title) that would
//! act on the terminal of whoever runs `mailq` or `doctor`, or line breaks that forge log
//! lines. It is cleaned where it enters relayctl, with the functions here and nowhere else.
//!
//! Every control character (`char::is_control`: C0 including tab and line breaks, DEL, C1) and
//! every invalid UTF-8 sequence becomes U+FFFD (`�`), the mark `String::from_utf8_lossy`
//! already uses, so that one character says "something unprintable was here".

/// What replaces a control character or invalid UTF-8.
pub const REPLACEMENT: char = char::REPLACEMENT_CHARACTER;

/// `bytes` as printable text: invalid UTF-8 and control characters replaced.
pub fn from_bytes(bytes: &[u8]) -> String {
    clean(&String::from_utf8_lossy(bytes))
}

/// `text` with every control character replaced.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { REPLACEMENT } else { c })
        .collect()
}

/// `text` on one printable line, for errors and log fields: each run of whitespace (line
/// breaks and tabs too) becomes one space, without spaces at either end, and the other control
/// characters are replaced.
pub fn one_line(text: &str) -> String {
    clean(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_the_replacement_character() {
        assert_eq!(
            from_bytes(b"a\x1b[2J\x07\x7f\xc2\x9b\xff\tz"),
            "a\u{fffd}[2J\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}z"
        );
        assert_eq!(clean("caf\u{e9} \u{2713}"), "caf\u{e9} \u{2713}");
        assert_eq!(
            one_line(" 451\r\n  try\tlater\x1b[0m\u{85}now "),
            "451 try later\u{fffd}[0m now"
        );
    }
}
