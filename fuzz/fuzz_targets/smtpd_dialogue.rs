//! The server side of SMTP (`sendmail -bs`, the listener): the input is a client's whole side
//! of a dialogue, fed to `smtpd::serve` with a backend that takes every message.
//!
//! Never panics; every message taken ended at a CRLF.CRLF that the input really holds and holds
//! no bare LF or bare CR (SMTP smuggling); no more messages are taken than DATA commands sent;
//! every reply line is `NNN text` or `NNN-text` ending with CRLF.
#![no_main]

use std::io::{BufRead, BufReader, Read};

use libfuzzer_sys::fuzz_target;
use relayctl::smtpd::{Backend, Reply, Settings, Transaction, serve};

#[derive(Default)]
struct Taker {
    messages: Vec<Vec<u8>>,
}

impl Backend for Taker {
    type Pending = Vec<u8>;

    fn recipient(&mut self, address: &str) -> Result<(), Reply> {
        if address.contains("refuse") {
            return Err(Reply::new(550, "5.1.1 no"));
        }
        Ok(())
    }

    fn receive(&mut self, _: &Transaction, data: &mut dyn BufRead) -> Result<Vec<u8>, Reply> {
        let mut text = Vec::new();
        // As the real backend does: at most a limit, the rest left to the dialogue to drain.
        data.take(1 << 16)
            .read_to_end(&mut text)
            .map_err(|_| Reply::new(451, "4.3.0 input error"))?;
        Ok(text)
    }

    fn commit(&mut self, pending: Vec<u8>) -> Reply {
        self.messages.push(pending);
        Reply::new(250, "2.0.0 Ok")
    }
}

fuzz_target!(|data: &[u8]| {
    let settings = Settings {
        hostname: "fuzz.test".into(),
        size_limit: 1 << 16,
        max_recipients: 5,
        max_errors: 10,
    };
    let mut taker = Taker::default();
    let mut out = Vec::new();
    let _ = serve(&mut BufReader::new(data), &mut out, &settings, &mut taker);
    let datas = data
        .split(|&b| b == b'\n')
        .filter(|l| l.len() >= 4 && l[..4].eq_ignore_ascii_case(b"DATA"))
        .count();
    assert!(taker.messages.len() <= datas);
    if !taker.messages.is_empty() {
        assert!(data.windows(5).any(|w| w == b"\r\n.\r\n"));
    }
    for m in &taker.messages {
        for (i, &b) in m.iter().enumerate() {
            match b {
                b'\n' => assert!(i > 0 && m[i - 1] == b'\r', "bare LF taken: {m:?}"),
                b'\r' => assert_eq!(m.get(i + 1), Some(&b'\n'), "bare CR taken: {m:?}"),
                _ => {}
            }
        }
    }
    for line in out.split_inclusive(|&b| b == b'\n') {
        assert!(line.ends_with(b"\r\n"), "{line:?}");
        assert!(line.len() >= 6, "{line:?}");
        assert!(line[..3].iter().all(u8::is_ascii_digit), "{line:?}");
        assert!(matches!(line[3], b' ' | b'-'), "{line:?}");
        assert!(!line[..line.len() - 2].contains(&b'\r'), "{line:?}");
    }
});
