//! Replacing a file so that readers see the old or the new contents, never a torn mix, and the
//! new contents survive a crash once this returns: temp file in the same directory, fsync,
//! rename, fsync the directory.

use std::fs::{self, DirBuilder, File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

/// Writes `contents` to `path` atomically with the given permission bits, creating the parent
/// directory (with `dir_mode`) when it is missing.
pub fn write(path: &Path, contents: &[u8], mode: u32, dir_mode: u32) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    DirBuilder::new()
        .recursive(true)
        .mode(dir_mode)
        .create(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".relayctl-")
        .permissions(Permissions::from_mode(mode))
        .tempfile_in(dir)?;
    // The umask may have narrowed the mode given at creation; set it exactly.
    fs::set_permissions(tmp.path(), Permissions::from_mode(mode))?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_with_exact_mode_and_replaces_old_contents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/file");
        write(&path, b"one", 0o600, 0o700).unwrap();
        write(&path, b"two", 0o640, 0o700).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("sub")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp file is left behind");
    }
}
