//! Whether this process runs with privileges its caller does not have (a set-user-ID or
//! set-group-ID binary). Then nothing the caller controls may choose files: config paths,
//! environment overrides and `sendmail -C` are ignored, and only handing over a message is
//! allowed (the gate in `gate.rs`).

/// True when the effective user or group differs from the real one.
pub fn raised() -> bool {
    use rustix::process::{getegid, geteuid, getgid, getuid};
    getuid() != geteuid() || getgid() != getegid()
}

/// `value` unless the process runs with raised privileges.
pub fn unless_raised<T>(value: Option<T>) -> Option<T> {
    if raised() { None } else { value }
}
