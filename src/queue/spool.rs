//! The spool directory. Each message is a directory holding `message` (the bytes as they go to
//! the relay) and `state.json`. A message appears in `queue/` by one rename of a fully written,
//! fsynced directory, so a crash leaves either the whole message or nothing. The runner locks the
//! `message` file (never replaced) while it works on a message, so runs from cron, a timer, the
//! daemon and an interactive flush can overlap.
//!
//! Paths are built from [`QueueId`]s only, never from a name as given: see [`super::id`].

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::id::QueueId;
use super::state::{MessageState, Status};
use crate::atomic_file;

/// The areas of the spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// Waiting or held messages.
    Queue,
    /// Messages given up on, with the reason.
    Failed,
    /// Messages whose state file could not be read.
    Corrupt,
}

impl Area {
    fn dir(self) -> &'static str {
        match self {
            Area::Queue => "queue",
            Area::Failed => "failed",
            Area::Corrupt => "corrupt",
        }
    }
}

/// Why the spool could not be used. Every variant means "try again later" to a caller.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("state of queued message {id} is unreadable ({reason}); moved to {}", path.display())]
    Corrupt {
        id: QueueId,
        reason: String,
        path: PathBuf,
    },
    #[error(transparent)]
    StateFile(#[from] crate::state_file::StateFileError),
    #[error("no message {0} in the queue")]
    NotFound(QueueId),
}

/// Turns an I/O error into a [`SpoolError`] saying what was done to which path.
pub(crate) fn io<'p>(
    action: &'static str,
    path: &'p Path,
) -> impl FnOnce(std::io::Error) -> SpoolError + 'p {
    move |source| SpoolError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// A spool directory.
#[derive(Debug, Clone)]
pub struct Spool {
    root: PathBuf,
}

/// The system spool, used by root.
pub const SYSTEM_SPOOL: &str = "/var/spool/relayctl";

/// The maildrop inside a spool: where users without the profile's secret drop messages for the
/// root runner.
pub const MAILDROP: &str = "maildrop";

/// Creates the maildrop of the system spool (root only): mode 1733 (anyone may create, nobody
/// but root may list, the sticky bit keeps users from removing each other's files), and the
/// spool directory itself searchable (0711) so that users can reach it.
pub fn prepare_maildrop(spool_root: &Path) -> Result<(), SpoolError> {
    use std::os::unix::fs::PermissionsExt;
    let dir = spool_root.join(MAILDROP);
    if !dir.exists() {
        fs::create_dir(&dir).map_err(io("create", &dir))?;
    }
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o1733))
        .map_err(io("set the mode of", &dir))?;
    fs::set_permissions(spool_root, fs::Permissions::from_mode(0o711))
        .map_err(io("set the mode of", spool_root))
}

impl Spool {
    /// The spool for this user: `--spool`/`RELAYCTL_SPOOL` when given, `/var/spool/relayctl` for
    /// root, else `$XDG_STATE_HOME/relayctl`.
    pub fn default_path(explicit: Option<&Path>) -> PathBuf {
        if let Some(p) = crate::privilege::unless_raised(explicit) {
            return p.to_path_buf();
        }
        if rustix::process::geteuid().is_root() {
            return PathBuf::from(SYSTEM_SPOOL);
        }
        dirs::state_dir()
            .or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))
            .unwrap_or_else(|| PathBuf::from("."))
            .join("relayctl")
    }

    /// Opens the spool, creating its directories (private to the user) when missing.
    pub fn open(root: &Path) -> Result<Spool, SpoolError> {
        for sub in ["", "tmp", "queue", "failed", "corrupt"] {
            let dir = root.join(sub);
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(io("create spool directory", &dir))?;
        }
        Ok(Spool {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Removes what killed processes left in `tmp/`: half-written submissions (whose senders
    /// never got a success) and half-removed delivered messages. Each such entry is named after
    /// the process that made it (see [`tmp_name`]) and removed as soon as that process is gone;
    /// an entry without a live owner to tell (or whose pid was reused) goes after an hour. A
    /// submission in progress is never disturbed. Claimed maildrop files are left to the
    /// maildrop import, which delivers them rather than lose them.
    pub fn sweep(&self) {
        let tmp = self.root.join("tmp");
        let Ok(entries) = fs::read_dir(&tmp) else {
            return;
        };
        let cutoff = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(CLAIM_PREFIX) {
                continue;
            }
            let orphaned = owner_pid(&name).is_some_and(|pid| !process_alive(pid));
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < cutoff);
            if orphaned || old {
                let path = entry.path();
                let _ = fs::remove_dir_all(&path).or_else(|_| fs::remove_file(&path));
            }
        }
    }

    /// Keeps the corrupt area (quarantined messages, refused maildrop files, all kept for the
    /// admin to read) from growing without end: entries older than [`CORRUPT_MAX_AGE`] go, then
    /// the oldest beyond [`CORRUPT_MAX_ENTRIES`]. Returns how many were removed.
    pub fn sweep_corrupt(&self) -> usize {
        let dir = self.root.join(Area::Corrupt.dir());
        let Ok(entries) = fs::read_dir(&dir) else {
            return 0;
        };
        let mut aged: Vec<(std::time::SystemTime, PathBuf)> = entries
            .filter_map(Result::ok)
            .map(|e| {
                let t = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                (t, e.path())
            })
            .collect();
        aged.sort();
        let cutoff = std::time::SystemTime::now() - CORRUPT_MAX_AGE;
        let excess = aged.len().saturating_sub(CORRUPT_MAX_ENTRIES);
        let mut removed = 0;
        for (i, (modified, path)) in aged.iter().enumerate() {
            if i < excess || *modified < cutoff {
                let gone = fs::remove_dir_all(path).or_else(|_| fs::remove_file(path));
                removed += usize::from(gone.is_ok());
            }
        }
        removed
    }

    fn dir(&self, area: Area, id: &QueueId) -> PathBuf {
        self.root.join(area.dir()).join(id.as_str())
    }

    /// Writes a new message durably and returns its id. Nothing is left behind on failure.
    pub fn enqueue(&self, message: &[u8], state: &MessageState) -> Result<QueueId, SpoolError> {
        self.enqueue_from(&mut |w| w.write_all(message), |_| state.clone())
    }

    /// Like [`Spool::enqueue`], with the message written by `write` straight into the spool
    /// file (so that it is never held in memory whole); `state` gets what was written.
    pub fn enqueue_from(
        &self,
        write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
        state: impl FnOnce(Written) -> MessageState,
    ) -> Result<QueueId, SpoolError> {
        let id = QueueId::generate();
        let tmp = self.root.join("tmp").join(tmp_name("", id.as_str()));
        let result = (|| {
            DirBuilder::new()
                .mode(0o700)
                .create(&tmp)
                .map_err(io("create", &tmp))?;
            let path = tmp.join("message");
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(io("create", &path))?;
            let mut out = Counting {
                inner: std::io::BufWriter::with_capacity(64 * 1024, file),
                written: Written::default(),
            };
            write(&mut out).map_err(io("write", &path))?;
            let written = out.written;
            let file = out
                .inner
                .into_inner()
                .map_err(|e| io("write", &path)(e.into_error()))?;
            file.sync_all().map_err(io("sync", &path))?;
            let mut state = state(written);
            // What the file holds decides, whatever the caller thought.
            state.size = written.size;
            state.eight_bit = written.eight_bit;
            write_synced(&tmp.join("state.json"), &to_json(&state))?;
            sync_dir(&tmp)?;
            let dest = self.dir(Area::Queue, &id);
            fs::rename(&tmp, &dest).map_err(io("move into the queue", &dest))?;
            sync_dir(&self.root.join("queue"))
        })();
        if result.is_err() {
            let _ = fs::remove_dir_all(&tmp);
        }
        result.map(|()| id)
    }

    /// The ids in an area, oldest first. Entries whose names are not ids are left out (see
    /// [`Spool::list`]).
    pub fn ids(&self, area: Area) -> Result<Vec<QueueId>, SpoolError> {
        self.list(area).map(|listing| listing.ids)
    }

    /// What an area holds: the messages, oldest first, and the other entries, which relayctl
    /// never made and leaves alone (hidden ones, such as an editor's, are not reported).
    pub fn list(&self, area: Area) -> Result<Listing, SpoolError> {
        let dir = self.root.join(area.dir());
        let mut listing = Listing::default();
        for entry in fs::read_dir(&dir)
            .map_err(io("read", &dir))?
            .filter_map(Result::ok)
        {
            let name = entry.file_name();
            match name.to_str().map(str::parse::<QueueId>) {
                Some(Ok(id)) => listing.ids.push(id),
                _ if name.as_encoded_bytes().starts_with(b".") => {}
                _ => listing.strays.push(entry.path()),
            }
        }
        listing.ids.sort();
        listing.strays.sort();
        Ok(listing)
    }

    /// Reads a message's state. An unreadable one is moved to the corrupt area and reported.
    pub fn state(&self, area: Area, id: &QueueId) -> Result<MessageState, SpoolError> {
        let path = self.dir(area, id).join("state.json");
        let text = match fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound && !self.dir(area, id).exists() => {
                return Err(SpoolError::NotFound(id.clone()));
            }
            Err(e) => return Err(self.quarantine(area, id, e.to_string())),
        };
        MessageState::from_json(&text).map_err(|reason| self.quarantine(area, id, reason))
    }

    fn quarantine(&self, area: Area, id: &QueueId, reason: String) -> SpoolError {
        let dest = self.dir(Area::Corrupt, id);
        let _ = fs::rename(self.dir(area, id), &dest);
        let _ = fs::write(dest.join("reason"), &reason);
        SpoolError::Corrupt {
            id: id.clone(),
            reason,
            path: dest,
        }
    }

    /// Locks a queued message for delivery. `None` when another process holds it or it is gone.
    pub fn lock(&self, id: &QueueId) -> Result<Option<Locked<'_>>, SpoolError> {
        let dir = self.dir(Area::Queue, id);
        let file = match File::open(dir.join("message")) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("open", &dir)(e)),
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(e)) => return Err(io("lock", &dir)(e)),
        }
        // It may have been delivered and removed between listing and locking.
        if !dir.exists() {
            return Ok(None);
        }
        let state = self.state(Area::Queue, id)?;
        Ok(Some(Locked {
            spool: self,
            id: id.clone(),
            file,
            state,
        }))
    }

    /// Removes a message from an area (admin `delete`).
    pub fn delete(&self, area: Area, id: &QueueId) -> Result<(), SpoolError> {
        if !self.dir(area, id).exists() {
            return Err(SpoolError::NotFound(id.clone()));
        }
        self.discard(area, id)
    }

    /// Puts a failed message back into the queue with `state` (`queue retry`): the state is
    /// written in the failed area first, then the directory is moved, so that a crash leaves
    /// the message whole, failed or queued.
    pub fn requeue(&self, id: &QueueId, state: &MessageState) -> Result<(), SpoolError> {
        let from = self.dir(Area::Failed, id);
        if !from.exists() {
            return Err(SpoolError::NotFound(id.clone()));
        }
        let path = from.join("state.json");
        atomic_file::write(&path, &to_json(state), 0o600, 0o700).map_err(io("write", &path))?;
        let dest = self.dir(Area::Queue, id);
        fs::rename(&from, &dest).map_err(io("move to", &dest))?;
        sync_dir(&self.root.join("queue"))
    }

    /// Removes a message directory: renamed away first, so it disappears at once.
    fn discard(&self, area: Area, id: &QueueId) -> Result<(), SpoolError> {
        let dir = self.dir(area, id);
        let trash = self.root.join("tmp").join(tmp_name(".trash-", id.as_str()));
        fs::rename(&dir, &trash).map_err(io("remove", &dir))?;
        fs::remove_dir_all(&trash).map_err(io("remove", &trash))
    }
}

/// The entries of an area ([`Spool::list`]).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// The messages, oldest first.
    pub ids: Vec<QueueId>,
    /// Entries whose names are not ids: never read, moved or deleted by relayctl.
    pub strays: Vec<PathBuf>,
}

/// What went into a message file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub size: u64,
    /// A byte above 127 was written: the message needs 8BITMIME.
    pub eight_bit: bool,
}

/// Counts what passes through and notes 8-bit bytes.
struct Counting<W: Write> {
    inner: W,
    written: Written,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written.size += n as u64;
        self.written.eight_bit |= !buf[..n].is_ascii();
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A message locked for delivery, with its state.
pub struct Locked<'s> {
    spool: &'s Spool,
    pub id: QueueId,
    /// The message file, locked until the message is dropped.
    file: File,
    pub state: MessageState,
}

impl Locked<'_> {
    /// The owner of the message file (the submitter, when it queued the message itself).
    pub fn file_owner(&self) -> Option<u32> {
        self.file
            .metadata()
            .ok()
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
    }

    /// The first 64 KiB of the message: its header section, for logs (and the whole message
    /// when it is no larger).
    pub fn head(&self) -> Result<Vec<u8>, SpoolError> {
        let mut head = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(self.open_message()?, 64 * 1024),
            &mut head,
        )
        .map_err(io("read", &self.spool.dir(Area::Queue, &self.id)))?;
        Ok(head)
    }

    /// The message file, read as it is sent so that a large message never sits in memory.
    pub fn open_message(&self) -> Result<std::io::BufReader<File>, SpoolError> {
        let path = self.spool.dir(Area::Queue, &self.id).join("message");
        File::open(&path)
            .map(|f| std::io::BufReader::with_capacity(64 * 1024, f))
            .map_err(io("read", &path))
    }

    /// Writes the state atomically.
    pub fn save(&self) -> Result<(), SpoolError> {
        let path = self.spool.dir(Area::Queue, &self.id).join("state.json");
        atomic_file::write(&path, &to_json(&self.state), 0o600, 0o700).map_err(io("write", &path))
    }

    /// The message is done: every recipient was accepted.
    pub fn finish(self) -> Result<(), SpoolError> {
        self.spool.discard(Area::Queue, &self.id)
    }

    /// Moves the message to the failed area with the reason.
    /// Moved first, then marked: a crash in between leaves the message in the failed area with
    /// its last queue state, never stuck in the queue as "failed".
    pub fn fail(mut self, reason: &str) -> Result<(), SpoolError> {
        let dest = self.spool.dir(Area::Failed, &self.id);
        fs::rename(self.spool.dir(Area::Queue, &self.id), &dest).map_err(io("move to", &dest))?;
        sync_dir(&self.spool.root.join("failed"))?;
        self.state.status = Status::Failed;
        self.state.hold = None;
        self.state.reason = Some(reason.to_string());
        let path = dest.join("state.json");
        atomic_file::write(&path, &to_json(&self.state), 0o600, 0o700).map_err(io("write", &path))
    }
}

fn to_json(state: &MessageState) -> Vec<u8> {
    let mut text = serde_json::to_vec_pretty(state).expect("state serialises");
    text.push(b'\n');
    text
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), SpoolError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io("create", path))?;
    f.write_all(bytes).map_err(io("write", path))?;
    f.sync_all().map_err(io("sync", path))
}

fn sync_dir(dir: &Path) -> Result<(), SpoolError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("sync", dir))
}

/// Oldest entry kept in the corrupt area.
pub const CORRUPT_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(30 * 86400);

/// Most entries kept in the corrupt area.
pub const CORRUPT_MAX_ENTRIES: usize = 100;

/// How the maildrop import names the drop files it claims in `tmp/`.
pub const CLAIM_PREFIX: &str = ".drop-";

/// The name of an entry this process makes in `tmp/`: `PREFIX` + this process's id + `-` +
/// `rest`, so that [`Spool::sweep`] can tell when its maker died.
pub fn tmp_name(prefix: &str, rest: &str) -> String {
    format!("{prefix}{}-{rest}", std::process::id())
}

/// The process that made a `tmp/` entry named by [`tmp_name`].
pub fn owner_pid(name: &str) -> Option<u32> {
    let after = [".trash-", CLAIM_PREFIX]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    after.split_once('-')?.0.parse().ok()
}

/// Whether process `pid` exists (in this PID namespace).
pub fn process_alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::envelope::Envelope;

    fn state() -> MessageState {
        let env = Envelope {
            sender: Some("a@example.org".into()),
            recipients: vec!["b@example.org".into()],
            dsn: Default::default(),
        };
        MessageState::new("p", &env, 3, 100)
    }

    #[test]
    fn enqueue_lock_save_finish() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let id = spool.enqueue(b"abc", &state()).unwrap();
        assert_eq!(spool.ids(Area::Queue).unwrap(), std::slice::from_ref(&id));
        assert!(
            spool
                .ids(Area::Queue)
                .unwrap()
                .iter()
                .all(|i| i.as_str().len() == 20)
        );
        let mut locked = spool.lock(&id).unwrap().unwrap();
        assert!(
            spool.lock(&id).unwrap().is_none(),
            "a second lock is refused"
        );
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut locked.open_message().unwrap(), &mut text).unwrap();
        assert_eq!(text, b"abc");
        assert_eq!((locked.state.size, locked.state.eight_bit), (3, false));
        locked.state.attempts = 2;
        locked.save().unwrap();
        assert_eq!(spool.state(Area::Queue, &id).unwrap().attempts, 2);
        locked.finish().unwrap();
        assert!(spool.ids(Area::Queue).unwrap().is_empty());
        assert!(spool.ids(Area::Corrupt).unwrap().is_empty());
    }

    #[test]
    fn failed_messages_keep_their_reason() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let id = spool.enqueue(b"abc", &state()).unwrap();
        spool.lock(&id).unwrap().unwrap().fail("550 no").unwrap();
        let st = spool.state(Area::Failed, &id).unwrap();
        assert_eq!(
            (st.status, st.reason.as_deref()),
            (Status::Failed, Some("550 no"))
        );
    }

    /// Issue 14: names that are not ids are never taken as messages, whatever they hold.
    #[test]
    fn entries_that_are_not_ids_are_strays() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let id = spool.enqueue(b"abc", &state()).unwrap();
        let queue = dir.path().join("queue");
        for name in ["not-an-id", "0190ABCDEF0123456789", ".hidden"] {
            fs::create_dir(queue.join(name)).unwrap();
        }
        fs::write(queue.join("1 file"), "").unwrap();
        let listing = spool.list(Area::Queue).unwrap();
        assert_eq!(listing.ids, [id]);
        assert_eq!(
            listing.strays,
            [
                queue.join("0190ABCDEF0123456789"),
                queue.join("1 file"),
                queue.join("not-an-id")
            ]
        );
        assert!(spool.ids(Area::Corrupt).unwrap().is_empty());
    }

    #[test]
    fn sweep_removes_what_dead_processes_left_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        // A pid that cannot be running: above the kernel's pid_max.
        let dead = dir.path().join("tmp/4194305-0000019bdeadbeef0001");
        let dead_trash = dir.path().join("tmp/.trash-4194305-0000019bdeadbeef0002");
        let live = dir
            .path()
            .join("tmp")
            .join(tmp_name("", "0000019bdeadbeef0003"));
        let claim = dir.path().join("tmp/.drop-4194305-00aa");
        for d in [&dead, &dead_trash, &live] {
            fs::create_dir(d).unwrap();
        }
        fs::write(&claim, b"a user's message").unwrap();
        spool.sweep();
        assert!(
            !dead.exists() && !dead_trash.exists(),
            "dead owners' leftovers go"
        );
        assert!(live.exists(), "a live submission is left alone");
        assert!(claim.exists(), "claimed drops are the import's to deliver");
        assert_eq!(owner_pid(".trash-77-x"), Some(77));
        assert_eq!(owner_pid("77-0000019b"), Some(77));
        assert_eq!(owner_pid(".tmpAbCd"), None);
    }

    #[test]
    fn the_corrupt_area_is_capped() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let corrupt = dir.path().join("corrupt");
        for i in 0..CORRUPT_MAX_ENTRIES + 5 {
            let entry = corrupt.join(format!("maildrop-{i:04}"));
            fs::create_dir(&entry).unwrap();
            let t = std::time::SystemTime::now() - std::time::Duration::from_secs(1000 - i as u64);
            fs::File::open(&entry).unwrap().set_modified(t).unwrap();
        }
        let ancient = corrupt.join("ancient");
        fs::create_dir(&ancient).unwrap();
        fs::File::open(&ancient)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - CORRUPT_MAX_AGE * 2)
            .unwrap();
        assert_eq!(spool.sweep_corrupt(), 6);
        assert!(!ancient.exists() && !corrupt.join("maildrop-0004").exists());
        assert!(corrupt.join("maildrop-0005").exists());
        assert_eq!(spool.sweep_corrupt(), 0);
    }

    #[test]
    fn sweep_removes_only_old_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let old = dir.path().join("tmp/1a2b");
        let fresh = dir.path().join("tmp/3c4d");
        fs::create_dir(&old).unwrap();
        fs::create_dir(&fresh).unwrap();
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        fs::File::open(&old)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
        spool.sweep();
        assert!(!old.exists() && fresh.exists());
    }

    #[test]
    fn corrupt_state_is_quarantined() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let id = spool.enqueue(b"abc", &state()).unwrap();
        fs::write(
            dir.path()
                .join("queue")
                .join(id.as_str())
                .join("state.json"),
            "{trunc",
        )
        .unwrap();
        assert!(matches!(spool.lock(&id), Err(SpoolError::Corrupt { .. })));
        assert!(spool.ids(Area::Queue).unwrap().is_empty());
        assert_eq!(spool.ids(Area::Corrupt).unwrap(), [id]);
    }
}
