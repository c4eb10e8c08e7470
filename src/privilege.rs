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

/// Gives up root for good: the supplementary groups, then the group and user ids (real,
/// effective and saved), and the right to gain privileges again (`no_new_privs`). Checked
/// afterwards: a process that could become root again is an error.
///
/// The ids are set for the calling thread only (Linux system calls are per thread), so this
/// must run before the process starts any thread.
pub fn drop_to(uid: u32, gid: u32) -> std::io::Result<()> {
    use rustix::process::{Gid, Uid, getegid, geteuid, getgid, getuid};
    use rustix::thread::{
        set_no_new_privs, set_thread_groups, set_thread_res_gid, set_thread_res_uid,
    };
    let (uid, gid) = (Uid::from_raw(uid), Gid::from_raw(gid));
    set_thread_groups(&[])?;
    set_thread_res_gid(gid, gid, gid)?;
    set_thread_res_uid(uid, uid, uid)?;
    set_no_new_privs(true)?;
    let dropped = getuid() == uid && geteuid() == uid && getgid() == gid && getegid() == gid;
    if !dropped || set_thread_res_uid(Uid::ROOT, Uid::ROOT, Uid::ROOT).is_ok() {
        return Err(std::io::Error::other("the process could still become root"));
    }
    Ok(())
}
