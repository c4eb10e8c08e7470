//! A small state file shared by every relayctl process (notice counts, rate limits, OAuth2
//! tokens): created private to its owner, locked exclusively while a [`StateFile`] lives, read
//! whole on opening and replaced in place.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Why a state file could not be used.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}: {source}", path.display())]
pub struct StateFileError {
    pub action: &'static str,
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// An open, locked state file.
pub struct StateFile {
    file: File,
    path: PathBuf,
}

impl StateFile {
    /// Opens (creating it, mode 0600) and locks the file at `path`; returns it with its text.
    pub fn open(path: &Path) -> Result<(StateFile, String), StateFileError> {
        let fail = |action| {
            move |source| StateFileError {
                action,
                path: path.to_path_buf(),
                source,
            }
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(fail("open"))?;
        file.lock().map_err(fail("lock"))?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(fail("read"))?;
        Ok((
            StateFile {
                file,
                path: path.to_path_buf(),
            },
            text,
        ))
    }

    /// Replaces the contents: overwritten in place, then cut to length. Truncating to zero first
    /// would make ext4 (auto_da_alloc) start writing the file back at every close, and the next
    /// update's truncate wait for that I/O, once per message of a queue run.
    pub fn replace(&mut self, contents: &[u8]) -> Result<(), StateFileError> {
        let written = self
            .file
            .rewind()
            .and_then(|()| self.file.write_all(contents))
            .and_then(|()| self.file.set_len(contents.len() as u64));
        written.map_err(|source| StateFileError {
            action: "write",
            path: self.path.clone(),
            source,
        })
    }
}
