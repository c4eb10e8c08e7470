//! Drop files: whatever bytes a local user writes into the maildrop, read by the root runner.
//!
//! `submit::maildrop::read_drop` never panics, and when it accepts a drop the message it
//! prepared is the user's, nobody else's: exactly one From (the profile's address), exactly one
//! `X-Relayctl-Submitter` (the uid's), no Sender, Resent-*, Return-Path or Bcc field, every line
//! of its header section ends with CRLF, and the DSN parameters it would send hold no space or
//! line break. (What follows the header section may be bare: the wire makes it CRLF.)
#![no_main]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use relayctl::aliases::{AliasTarget, Aliases};
use relayctl::config::{ConfigFile, LoadedConfig, LoadedProfile, Origin};
use relayctl::message::headers;
use relayctl::submit::maildrop::read_drop;

static CONFIG: LazyLock<LoadedConfig> = LazyLock::new(|| {
    let file: ConfigFile = toml::from_str(
        "[profiles.p]\npreset = \"smarthost\"\nhost = \"localhost\"\nport = 25\ntls = \"none\"\nfrom = \"a@example.org\"\nmax_message_size = 100000\n",
    )
    .expect("the fuzz config parses");
    let mut config = LoadedConfig::default();
    for (name, profile) in file.profiles {
        config.profiles.insert(
            name,
            LoadedProfile {
                profile,
                origin: Origin::Explicit,
                file: PathBuf::from("fuzz.toml"),
            },
        );
    }
    config
});

static ALIASES: LazyLock<Aliases> = LazyLock::new(|| {
    let mut table = BTreeMap::new();
    table.insert("root".to_string(), AliasTarget::One("ops@example.org".into()));
    Aliases::new(&table, None, vec!["localhost".into()]).expect("no aliases file to read")
});

fuzz_target!(|data: &[u8]| {
    let scratch = std::env::temp_dir();
    let Ok((profile, mut ready)) = read_drop(&mut &data[..], 1001, &CONFIG, &ALIASES, &scratch)
    else {
        return;
    };
    assert_eq!(profile, "p");
    let end = ready
        .head
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("prepare writes From, so the header section ends with an empty line");
    let head = &ready.head[..end + 2];
    for (i, &b) in head.iter().enumerate() {
        if b == b'\n' {
            assert!(i > 0 && head[i - 1] == b'\r', "LF without CR: {head:?}");
        }
    }
    let message = headers::split(head);
    let froms: Vec<String> = message.all("From").map(|f| f.value()).collect();
    assert_eq!(froms.len(), 1, "{froms:?}");
    assert!(froms[0].ends_with("a@example.org") || froms[0].ends_with("<a@example.org>"), "{froms:?}");
    let submitters: Vec<String> = message.all("X-Relayctl-Submitter").map(|f| f.value()).collect();
    assert_eq!(submitters.len(), 1, "{submitters:?}");
    assert!(submitters[0].starts_with("uid 1001 "), "{submitters:?}");
    for f in &message.fields {
        let name = f.name.to_ascii_lowercase();
        assert!(
            !matches!(name.as_str(), "sender" | "return-path" | "bcc") && !name.starts_with("resent-"),
            "{name} left in {:?}",
            String::from_utf8_lossy(head)
        );
    }
    let dsn = &ready.envelope.dsn;
    for p in dsn.mail_parameters().iter().chain(&dsn.rcpt_parameters()) {
        assert!(!p.contains([' ', '\r', '\n', '\0']), "{p:?}");
    }
    let mut sink = Vec::new();
    ready.write_to(&mut sink).expect("the spooled body reads back");
});
