//! Submission by users who may not read the relay's secret (privilege separation).
//!
//! With a system profile, the secret is readable by root only. An ordinary user's `sendmail`
//! (or `relayctl send`) therefore does not deliver: it drops the message into
//! `/var/spool/relayctl/maildrop`, a directory every user may write into but none may list
//! (mode 1733: write and search, no read; sticky, so nobody removes another's file). Each drop
//! file is private to its owner (0600), and its owner — set by the kernel, not by the user — is
//! the submitting uid.
//!
//! The root runner (`queue run`, the daemon) imports drop files. A drop file is the user's to
//! write, so every byte of it is hostile input: the import first moves it out of the user's
//! reach into the spool's root-only `tmp/` (so the user can no longer rename, replace or grow
//! it under the runner), then reads it as a stream under the profile's size limit, exactly as
//! `sendmail` reads its input, applies the sender policy to that uid (the envelope sender is the
//! profile's address, the From is enforced, users cannot send as each other), records the
//! submitter in an `X-Relayctl-Submitter` header after every rewrite, and queues the message.
//! One bad drop file never stops the import of the others.
//!
//! - [`drop`]: writing a drop file (the user's side).
//! - This module: importing drop files (the root runner's side).

pub mod drop;

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use self::drop::{MAX_TICKET, Ticket};
use super::{Ready, SmtpClient, read};
use crate::aliases::{AliasError, Aliases};
use crate::config::LoadedConfig;
use crate::message::envelope::Dsn;
use crate::message::submission::{Request, SubmissionError};
use crate::queue::spool::{CLAIM_PREFIX, MAILDROP, owner_pid, process_alive, tmp_name};
use crate::queue::{QueueId, Spool};
use crate::transcript::Transcript;
use crate::users::LocalUser;

/// What one import pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Drop files queued, with their queue ids.
    pub queued: Vec<QueueId>,
    /// Drop files refused (moved to the corrupt area), with the reason.
    pub refused: Vec<String>,
}

/// Imports every complete drop file into `spool` (root side), with the aliases of `config`. A
/// file that cannot be accepted is moved to the corrupt area with the reason; nothing about one
/// file (a rename under the runner, a read error, a bad ticket) stops the import of the others.
/// Only aliases that cannot be read (`aliases_file`) stop it, before any file is touched.
pub fn import(
    spool: &Spool,
    config: &LoadedConfig,
    transcript: &Transcript,
) -> Result<Imported, AliasError> {
    let aliases = &Aliases::for_config(config)?;
    let mut result = Imported::default();
    let mut claimed = orphaned_claims(spool);
    if let Ok(entries) = fs::read_dir(spool.root().join(MAILDROP)) {
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                sweep_stale(&path);
                continue;
            }
            // Gone (the user renamed or removed it): nothing of it is ours to import.
            claimed.extend(claim(spool, &path));
        }
    }
    for path in claimed {
        match import_one(spool, config, aliases, &path) {
            Ok(id) => {
                transcript.note(&format!("maildrop file queued as {id}"));
                let _ = fs::remove_file(&path);
                result.queued.push(id);
            }
            Err(reason) => {
                // The reason may quote what the user wrote.
                let reason = crate::printable::one_line(&reason);
                crate::messages::alert(&format!("a maildrop file was refused: {reason}"));
                keep_refused(spool, &path, &reason);
                result.refused.push(reason);
            }
        }
    }
    Ok(result)
}

/// How much of a refused drop file is kept for the admin: enough to see what it was.
const KEPT_OF_REFUSED: u64 = 64 * 1024;

/// Keeps a refused drop for the admin as the quarantine keeps a message: a directory in the
/// corrupt area with the start of the file and the reason. What is not a plain file (a planted
/// directory, link or FIFO) is removed; only the reason stays.
fn keep_refused(spool: &Spool, claimed: &Path, reason: &str) {
    let name = claimed
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dest = spool
        .root()
        .join("corrupt")
        .join(format!("maildrop-{}", name.trim_start_matches('.')));
    let plain = fs::symlink_metadata(claimed).is_ok_and(|m| m.file_type().is_file());
    let kept = fs::create_dir(&dest).and_then(|()| {
        if plain {
            fs::rename(claimed, dest.join("drop"))?;
            let file = OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
                .open(dest.join("drop"))?;
            file.set_len(KEPT_OF_REFUSED.min(file.metadata()?.len()))?;
        }
        fs::write(dest.join("reason"), reason)
    });
    if kept.is_err() || !plain {
        let _ = fs::remove_dir_all(claimed).or_else(|_| fs::remove_file(claimed));
    }
}

/// Drops an earlier import claimed but did not finish (it was killed): their claimer is gone,
/// or they are older than an hour. They are delivered now, never lost.
fn orphaned_claims(spool: &Spool) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(spool.root().join("tmp")) else {
        return Vec::new();
    };
    let cutoff = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(CLAIM_PREFIX)
                && (owner_pid(&name).is_none_or(|pid| !process_alive(pid))
                    || e.metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|t| t < cutoff))
        })
        .map(|e| e.path())
        .collect()
}

/// Moves a drop file into the spool's root-only `tmp/`, under a name relayctl chose, so that its
/// owner can no longer rename, replace or remove it while it is read. `None` when it is gone.
fn claim(spool: &Spool, path: &Path) -> Option<PathBuf> {
    let claimed = spool.root().join("tmp").join(tmp_name(
        CLAIM_PREFIX,
        &format!("{:016x}", fastrand::u64(..)),
    ));
    fs::rename(path, &claimed).ok().map(|()| claimed)
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

/// Opens a claimed drop file: never through a link, only a plain file with one name.
fn open_claimed(path: &Path) -> Result<(File, u32), String> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot open: {e}"))?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.file_type().is_file() || meta.nlink() != 1 {
        return Err("not a plain file".into());
    }
    Ok((file, meta.uid()))
}

fn import_one(
    spool: &Spool,
    config: &LoadedConfig,
    aliases: &Aliases,
    path: &Path,
) -> Result<QueueId, String> {
    let (file, uid) = open_claimed(path)?;
    let mut input = BufReader::with_capacity(64 * 1024, file);
    match read_drop(&mut input, uid, config, aliases, &spool.root().join("tmp")) {
        Ok((profile, mut ready)) => ready
            .enqueue(spool, &profile, Some(uid))
            .map_err(|e| e.to_string()),
        Err(DropError::Refused(reason)) => Err(reason),
        Err(DropError::Held(mut held)) => {
            let asked = super::held::Asked {
                profile: Some(held.profile.as_str()).filter(|p| !p.is_empty()),
                recipients: &held.recipients,
                extract_recipients: held.extract_recipients,
                sender: None,
                full_name: None,
                dsn: held.dsn.clone(),
            };
            super::held::keep(spool, &mut held.incoming, &asked, Some(uid), &held.reason)
                .map_err(|e| e.to_string())
        }
    }
}

/// Why a drop file was not turned into a message ready for the queue.
#[derive(Debug)]
pub enum DropError {
    /// The drop itself cannot be accepted: it goes to the corrupt area with the reason.
    Refused(String),
    /// The system configuration cannot deliver it yet (no such profile, no alias for a local
    /// recipient): it is held, as the user wrote it, until it can.
    Held(Box<HeldDrop>),
}

/// A drop held for the configuration: what its envelope line asked for, and its message.
#[derive(Debug)]
pub struct HeldDrop {
    pub profile: String,
    pub recipients: Vec<String>,
    pub extract_recipients: bool,
    pub dsn: Dsn,
    pub incoming: super::Incoming,
    pub reason: String,
}

/// Reads a drop file that local user `uid` wrote (any bytes) and prepares its message as that
/// user's: returns the profile it goes through and the message, ready for the queue. The body
/// is spooled in `scratch`, never held in memory.
pub fn read_drop(
    input: &mut dyn BufRead,
    uid: u32,
    config: &LoadedConfig,
    aliases: &Aliases,
    scratch: &Path,
) -> Result<(String, Ready), DropError> {
    let refused = |e: &dyn std::fmt::Display| DropError::Refused(e.to_string());
    let mut line = Vec::new();
    input
        .take(MAX_TICKET)
        .read_until(b'\n', &mut line)
        .map_err(|e| refused(&e))?;
    if !line.ends_with(b"\n") {
        return Err(refused(&"no envelope line"));
    }
    let ticket: Ticket =
        serde_json::from_slice(&line).map_err(|e| refused(&format!("bad envelope line: {e}")))?;
    let held = |incoming, reason: &dyn std::fmt::Display| {
        DropError::Held(Box::new(HeldDrop {
            profile: ticket.profile.clone(),
            recipients: ticket.recipients.clone(),
            extract_recipients: ticket.extract_recipients,
            dsn: ticket.dsn.clone(),
            incoming,
            reason: reason.to_string(),
        }))
    };
    let named = if ticket.profile.is_empty() {
        config.select(None).map(|(name, _)| name)
    } else {
        Ok(ticket.profile.as_str())
    };
    let (name, profile) = match named.and_then(|n| config.get(n)) {
        Ok((name, profile, _)) => (name, profile),
        Err(e) => {
            let limit = crate::config::DEFAULT_MAX_MESSAGE_SIZE.0;
            let incoming = read(input, true, limit, scratch).map_err(|e| refused(&e))?;
            return Err(held(incoming, &e));
        }
    };
    let user = LocalUser::lookup(uid);
    // The route the user's side (or the listener) named, while the configuration still has it.
    let route = ticket.route.as_deref().and_then(|key| {
        config
            .routes
            .0
            .iter()
            .find(|r| r.key == key && r.profile == name)
            .map(|r| r.key.clone())
    });
    let senders = match &ticket.client {
        Some(client) => {
            client_senders(client, uid, (name, route.is_some()), config).map_err(|e| refused(&e))?
        }
        None if !profile.admits(&user) => {
            return Err(refused(&format!(
                "{user} may not submit through profile {name} (its `users` and `groups`)"
            )));
        }
        None => Vec::new(),
    };
    let mut incoming =
        read(input, true, profile.max_message_size().0, scratch).map_err(|e| refused(&e))?;
    let policy = match super::policy::listed(name, profile, &senders) {
        Ok(policy) => policy,
        Err(e) => return Err(held(incoming, &e)),
    };
    let sender = ticket.client.as_ref().and(ticket.sender.as_deref());
    let request = Request {
        recipients: &ticket.recipients,
        extract_recipients: ticket.extract_recipients,
        sender: sender.map(Some),
    };
    let prepared = Ready::prepare(
        incoming,
        &request,
        &policy,
        aliases,
        profile.allow_bare_hostnames,
        ticket.dsn.clone(),
    );
    let mut ready = match prepared {
        Ok(ready) => ready,
        Err(u) => match *u {
            super::Unprepared {
                error: SubmissionError::Alias(e),
                incoming: given,
            } => {
                incoming = given;
                return Err(held(incoming, &e));
            }
            super::Unprepared { error, .. } => return Err(refused(&error)),
        },
    };
    match &ticket.client {
        Some(client) => ready.stamp_client(client),
        None => ready.stamp_submitter(&user.to_string()),
    }
    crate::relay::check_size(name, profile, ready.size()).map_err(|e| refused(&e))?;
    ready.route = route;
    Ok((name.to_string(), ready))
}

/// The senders an SMTP client's drop may use, after checking what the listener says about it:
/// only the listener's own system user may speak for a client; a client that logged in is a
/// server user bound to this profile; one that did not is in `[server] allow` and uses the
/// listener's profile, or the one a `[routes]` entry (`routed`) chose for its sender. A drop
/// that fails a check is refused, never delivered.
fn client_senders(
    client: &SmtpClient,
    uid: u32,
    (profile, routed): (&str, bool),
    config: &LoadedConfig,
) -> Result<Vec<String>, String> {
    let listener = &config.server.user;
    if crate::users::uid_of(listener) != Some(uid) {
        return Err(format!(
            "{} wrote a drop for an SMTP client, but only the listener's user {listener} may",
            LocalUser::lookup(uid)
        ));
    }
    match &client.user {
        Some(name) => {
            let file = config.server_users_file();
            let users = crate::smtpd::users::ServerUsers::load(&file).map_err(|e| e.to_string())?;
            let user = users
                .users
                .get(name)
                .ok_or_else(|| format!("no server user named {name} in {}", file.display()))?;
            if user.profile != profile {
                return Err(format!(
                    "server user {name} sends through profile {}, not {profile}",
                    user.profile
                ));
            }
            Ok(user.senders.clone())
        }
        None => {
            if !config.server.allows(client.address) {
                return Err(format!(
                    "SMTP client {} did not log in and is not in [server] allow",
                    client.address
                ));
            }
            let (expected, _) = config.server_profile().map_err(|e| e.to_string())?;
            if expected != profile && !routed {
                return Err(format!(
                    "clients that do not log in send through profile {expected}, not {profile}"
                ));
            }
            Ok(Vec::new())
        }
    }
}
