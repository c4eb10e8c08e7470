//! The server side of SMTP (`sendmail -bs`, the listener): the input is a client's whole side
//! of a dialogue, fed to `smtpd::serve` with a backend that takes every message.
//!
//! The first byte of the input chooses what the session offers (STARTTLS, AUTH, strict
//! pipelining). Never panics; every message taken holds no bare LF or bare CR (SMTP smuggling);
//! no more messages are taken than DATA and BDAT commands sent; no login is taken where AUTH is
//! not offered; every reply line is `NNN text` or `NNN-text` ending with CRLF.
#![no_main]

use std::io::{BufRead, BufReader, Read};

use libfuzzer_sys::fuzz_target;
use relayctl::smtpd::auth::Credentials;
use relayctl::smtpd::{Backend, Reply, Settings, Transaction, serve};

#[derive(Default)]
struct Taker {
    messages: Vec<Vec<u8>>,
    logins: usize,
}

impl Backend for Taker {
    type Pending = Vec<u8>;

    fn login(&mut self, c: &Credentials) -> Result<(), Reply> {
        if c.user == "u" {
            self.logins += 1;
            return Ok(());
        }
        Err(Reply::new(535, "5.7.8 no"))
    }

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
    // The first byte chooses what the session offers, as the listener does per client.
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let settings = Settings {
        hostname: "fuzz.test".into(),
        size_limit: 1 << 16,
        max_recipients: 5,
        max_errors: 10,
        max_commands: 200,
        starttls: mode & 1 != 0,
        auth: mode & 2 != 0,
        strict_pipelining: mode & 4 != 0,
        scratch: std::env::temp_dir(),
        idle: None,
    };
    let mut taker = Taker::default();
    let mut out = Vec::new();
    let _ = serve(&mut BufReader::new(data), &mut out, &settings, &mut taker, true);
    let ends = data
        .split(|&b| b == b'\n')
        .filter(|l| {
            l.len() >= 4
                && (l[..4].eq_ignore_ascii_case(b"DATA") || l[..4].eq_ignore_ascii_case(b"BDAT"))
        })
        .count();
    assert!(taker.messages.len() <= ends);
    if !settings.auth {
        assert!(taker.logins == 0, "AUTH taken though not offered");
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
