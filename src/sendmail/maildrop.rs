//! Submission by users who may not read the relay's secret (privilege separation).
//!
//! With a system profile, the secret is readable by root only. An ordinary user's `sendmail`
//! (or `relayctl send`) therefore does not deliver: it drops the message into
//! `/var/spool/relayctl/maildrop`, a directory every user may write into but none may list
//! (mode 1733: write and search, no read; sticky, so nobody removes another's file). Each drop
//! file is private to its owner (0600), and its owner — set by the kernel, not by the user — is
//! the submitting uid. The root runner (`queue run`, the daemon) imports drop files: it applies
//! the sender policy to that uid (the envelope sender is the profile's address, a From that is
//! not the profile's is replaced, so users cannot send as each other), records the submitter
//! in an `X-Relayctl-Submitter` header, and queues the message.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::aliases::Aliases;
use crate::config::LoadedConfig;
use crate::message::headers::{Field, split};
use crate::message::submission::{Request, SenderPolicy, prepare};
use crate::queue::schedule::now;
use crate::queue::spool::SYSTEM_SPOOL;
use crate::queue::{MessageState, QueueId, Spool, SpoolError};
use crate::relay::{Dsn, Envelope, Transcript};

/// The maildrop inside a spool.
pub const DIR: &str = "maildrop";

/// The header naming the user who submitted through the maildrop.
const SUBMITTER: &str = "X-Relayctl-Submitter";

/// The envelope line at the top of a drop file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Ticket {
    version: u32,
    profile: String,
    recipients: Vec<String>,
    #[serde(default)]
    dsn: Dsn,
}

fn io<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(std::io::Error) -> SpoolError + 'p {
    move |source| SpoolError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// The system maildrop.
pub fn system_dir() -> PathBuf {
    Path::new(SYSTEM_SPOOL).join(DIR)
}

/// Creates the maildrop of the system spool (root only): mode 1733, and the spool directory
/// itself searchable (0711) so that users can reach it.
pub fn prepare_dir(spool_root: &Path) -> Result<(), SpoolError> {
    let dir = spool_root.join(DIR);
    if !dir.exists() {
        fs::create_dir(&dir).map_err(io("create", &dir))?;
    }
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o1733))
        .map_err(io("set the mode of", &dir))?;
    fs::set_permissions(spool_root, fs::Permissions::from_mode(0o711))
        .map_err(io("set the mode of", spool_root))
}

/// Drops a prepared message for the root runner (user side). The file is written under a
/// hidden name, synced, renamed into view, and the file system synced (a user cannot open the
/// unreadable directory to fsync it).
pub fn submit(profile: &str, envelope: &Envelope, message: &[u8]) -> Result<String, SpoolError> {
    let dir = system_dir();
    let id = format!(
        "{:016x}{:04x}",
        fastrand::u64(..),
        std::process::id() & 0xffff
    );
    let part = dir.join(format!(".{id}.part"));
    let ticket = Ticket {
        version: 1,
        profile: profile.to_string(),
        recipients: envelope.recipients.clone(),
        dsn: envelope.dsn.clone(),
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&part)
        .map_err(io("write into the system maildrop", &dir))?;
    let mut text = serde_json::to_vec(&ticket).expect("ticket serialises");
    text.push(b'\n');
    let written = file
        .write_all(&text)
        .and_then(|_| file.write_all(message))
        .and_then(|_| file.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(&part);
        return Err(io("write", &part)(e));
    }
    let dest = dir.join(&id);
    fs::rename(&part, &dest).map_err(io("rename", &part))?;
    rustix::fs::syncfs(&file).map_err(|e| io("sync", &dest)(e.into()))?;
    Ok(id)
}

/// Imports every complete drop file into `spool` (root side). Returns how many were queued.
/// A file that cannot be accepted is moved to the corrupt area with the reason.
pub fn import(
    spool: &Spool,
    config: &LoadedConfig,
    aliases: &Aliases,
    transcript: &Transcript,
) -> Result<usize, SpoolError> {
    let dir = spool.root().join(DIR);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(0);
    };
    let mut imported = 0;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name.starts_with('.') {
            sweep_stale(&path);
            continue;
        }
        match import_one(spool, config, aliases, &path) {
            Ok(id) => {
                transcript.note(&format!("maildrop {name} queued as {id}"));
                fs::remove_file(&path).map_err(io("remove", &path))?;
                imported += 1;
            }
            Err(reason) => {
                eprintln!("relayctl: maildrop file {name} refused: {reason}");
                let dest = spool
                    .root()
                    .join("corrupt")
                    .join(format!("maildrop-{name}"));
                let _ = fs::rename(&path, &dest);
            }
        }
    }
    Ok(imported)
}

/// A hidden file left by a killed submitter is removed after an hour.
fn sweep_stale(path: &Path) {
    let stale = fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t.elapsed().is_ok_and(|age| age.as_secs() > 3600));
    if stale {
        let _ = fs::remove_file(path);
    }
}

fn import_one(
    spool: &Spool,
    config: &LoadedConfig,
    aliases: &Aliases,
    path: &Path,
) -> Result<QueueId, String> {
    // Never follow a link a user planted, and read only what the open file is.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot open: {e}"))?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.file_type().is_file() || meta.nlink() != 1 {
        return Err("not a plain file".into());
    }
    let uid = meta.uid();
    let cap = config
        .profiles
        .values()
        .map(|(p, _, _)| p.max_message_size().0)
        .max()
        .unwrap_or(0)
        + 65536;
    let mut raw = Vec::new();
    (&file)
        .take(cap + 1)
        .read_to_end(&mut raw)
        .map_err(|e| e.to_string())?;
    if raw.len() as u64 > cap {
        return Err("larger than any profile allows".into());
    }
    let split_at = raw
        .iter()
        .position(|&b| b == b'\n')
        .ok_or("no envelope line")?;
    let ticket: Ticket =
        serde_json::from_slice(&raw[..split_at]).map_err(|e| format!("bad envelope line: {e}"))?;
    let body = &raw[split_at + 1..];
    let (name, profile, _) = config.get(&ticket.profile).map_err(|e| e.to_string())?;
    if body.len() as u64 > profile.max_message_size().0 {
        return Err(format!(
            "larger than profile {name}'s limit of {}",
            profile.max_message_size()
        ));
    }

    let mut message = split(body);
    message.remove(SUBMITTER);
    message
        .fields
        .insert(0, Field::new(SUBMITTER, &submitter(uid)));
    let from = profile
        .from
        .clone()
        .ok_or("the profile has no from address")?;
    // Whatever the profile allows root, a user never chooses the sender.
    let policy = SenderPolicy {
        profile_from: &from,
        allow_from_override: false,
        reply_to: profile.reply_to.as_deref(),
        full_name: None,
    };
    let request = Request {
        recipients: &ticket.recipients,
        extract_recipients: false,
        sender: None,
    };
    let submission =
        prepare(&message.to_bytes(), &request, &policy, aliases).map_err(|e| e.to_string())?;
    submission
        .check_addresses(profile.allow_bare_hostnames)
        .map_err(|e| e.to_string())?;
    let mut envelope = submission.envelope;
    envelope.dsn = ticket.dsn;
    let wire = crate::message::canonical::canonicalize(&submission.message);
    let mut state = MessageState::new(name, &envelope, wire.len() as u64, now());
    state.uid = Some(uid);
    spool.enqueue(&wire, &state).map_err(|e| e.to_string())
}

/// `uid 1001 (alice)`.
fn submitter(uid: u32) -> String {
    let name = fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|l| {
                let mut f = l.split(':');
                let name = f.next()?;
                let id: u32 = f.nth(1)?.parse().ok()?;
                (id == uid).then(|| name.to_string())
            })
        })
        .unwrap_or_else(|| "unknown".into());
    format!("uid {uid} ({name})")
}
