//! Small JSON files in the spool that every relayctl process of the host shares (rate limits,
//! relay health): read, changed and written back under the file's lock, so that concurrent
//! runners and submitters never lose each other's updates.

use std::fs::{DirBuilder, File};
use std::io::Read;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::spool::{SpoolError, io};
use crate::state_file::StateFile;

/// Reads the value kept at `path` under the file's lock (creating the file and its directory,
/// private to the owner, when missing), lets `change` change it, and writes it back if it did.
/// An empty file is the default value; one that cannot be read as JSON is reported and started
/// afresh, since what it held (counters, cool-downs, a relay's health) only tunes delivery.
pub fn update<T, R>(path: &Path, change: impl FnOnce(&mut T) -> R) -> Result<R, SpoolError>
where
    T: Serialize + DeserializeOwned + Default + Clone + PartialEq,
{
    if let Some(dir) = path.parent() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io("create", dir))?;
    }
    let (mut file, text) = StateFile::open(path)?;
    let mut value: T = if text.trim().is_empty() {
        T::default()
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| {
            crate::messages::alert(&format!(
                "{} is unreadable ({e}); starting it afresh",
                path.display()
            ));
            T::default()
        })
    };
    let before = value.clone();
    let result = change(&mut value);
    if value != before {
        let mut out = serde_json::to_vec(&value).expect("shared state serialises");
        out.push(b'\n');
        file.replace(&out)?;
    }
    Ok(result)
}

/// The value kept at `path`, read under a shared lock without creating anything (for doctor,
/// which only looks); `None` when the file is missing or unreadable.
pub fn read<T: DeserializeOwned>(path: &Path) -> Option<T> {
    let mut file = File::open(path).ok()?;
    file.lock_shared().ok()?;
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}
