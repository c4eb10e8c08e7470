//! Config files: `config::file::parse` is `pub(super)`, so this goes the same way it does:
//! `toml::from_str::<ConfigFile>` and `Profile::validate` for each profile. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relayctl::config::ConfigFile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = toml::from_str::<ConfigFile>(text) else {
        return;
    };
    for (name, profile) in &file.profiles {
        if profile.validate(name).is_ok() {
            // What a valid profile's accessors compute must not panic either.
            let _ = profile.timeout();
            let _ = profile.max_message_size();
            let _ = profile.bucket();
            let _ = profile.brake();
            let _ = profile.brake_per_caller(true);
            let _ = profile.authenticates();
        }
    }
    // A parsed file serialises again (what `relayctl profile` edits do).
    let _ = toml::to_string(&file);
});
