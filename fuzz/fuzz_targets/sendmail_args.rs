//! `sendmail` option parsing: arbitrary argument vectors (non-UTF-8 included) must never panic.
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let args: Vec<OsString> = data
        .split(|&b| b == 0)
        .map(|a| OsString::from_vec(a.to_vec()))
        .collect();
    let _ = relayctl::commands::sendmail::args::for_program("sendmail", &args);
    let _ = relayctl::commands::sendmail::args::for_program("mailq", &args);
    let _ = relayctl::commands::sendmail::args::for_program("newaliases", &args);
});
