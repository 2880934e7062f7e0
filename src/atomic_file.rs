//! Files that several processes rewrite: an exclusive lock file beside the file
//! for each read-modify-write, and atomic replacement (temp file in the same
//! directory, fsync, rename, fsync of the directory), so a crash leaves the old
//! file whole. The inventory and the evidence log share these.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Whether a replacement must survive a power cut, or may be lost (a cache that checks itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// fsync the temp file before the rename and the directory after it.
    Synced,
    /// Rename only: readers still never see part of a file.
    Unsynced,
}

/// An exclusive lock on `FILE.lock`, held until dropped (the kernel releases it if the process dies).
pub(crate) struct Lock {
    _file: File,
}

impl Lock {
    /// Takes the lock beside `path`, waiting for other holders. On error, also returns the lock's path.
    pub(crate) fn acquire(path: &Path) -> Result<Lock, (PathBuf, std::io::Error)> {
        let lock = lock_path(path);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .and_then(|file| lock_exclusive(&file).map(|()| file))
            .map_err(|e| (lock.clone(), e))?;
        Ok(Lock { _file: file })
    }
}

/// Replaces `path` with `bytes` through a temp file in the same directory and
/// a rename, so readers see the old file or the new, never part. With
/// [`Durability::Synced`] the temp file is synced first, so a crash cannot leave
/// the new name on a file whose data never reached the disk, and the directory
/// after, so the rename itself is durable.
pub(crate) fn replace(path: &Path, bytes: &[u8], durability: Durability) -> std::io::Result<()> {
    replace_with(path, durability, |f| f.write_all(bytes))
}

/// [`replace`] with the content written by `write` as it is produced, for files too big
/// to hold in memory first.
pub(crate) fn replace_with(
    path: &Path,
    durability: Durability,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let synced = durability == Durability::Synced;
    let tmp = write_temp_with(path, synced, write)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    if synced {
        // Not every platform can open a directory; the data itself is synced already.
        if let Ok(d) = File::open(parent_dir(path)) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Writes an output file the user named (`scan -o`, `--report`): atomically through
/// [`replace_with`] when it is a regular file or does not exist yet (through a symlink, the
/// target is replaced, not the link), so a failed or killed scan never leaves half a report
/// under the name a CI step uploads. A device or a pipe (`-o /dev/stdout`) is written in
/// place: a rename would replace the device node, not write to it.
pub(crate) fn write_output(
    path: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => write(&mut File::create(path)?),
        Ok(_) => replace_with(&std::fs::canonicalize(path)?, Durability::Synced, write),
        Err(_) => replace_with(path, Durability::Synced, write),
    }
}

/// [`replace`] for a program (a git hook): the new file is executable by all (mode 0755)
/// before it takes the name, so no one can run a half-written or not-yet-executable hook.
pub(crate) fn replace_executable(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = write_temp_with(path, true, |f| f.write_all(bytes))?;
    let renamed = set_executable(&tmp).and_then(|()| std::fs::rename(&tmp, path));
    renamed.inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(unix)]
fn set_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn set_executable(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Removes temp files that a writer of `path` left when it died before its rename.
/// Call it only under the [`Lock`]: then no live writer owns a temp file.
pub(crate) fn remove_stray_temps(path: &Path) {
    let prefix = temp_prefix(path);
    let Ok(entries) = std::fs::read_dir(parent_dir(path)) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

/// `.NAME.tmp.`: every temp file of `path` starts so.
fn temp_prefix(path: &Path) -> String {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    format!(".{name}.tmp.")
}

/// Writes `bytes` to a fresh temp file next to `path`, as a writer that died before its
/// rename leaves it (for tests of the recovery).
#[cfg(test)]
pub(crate) fn write_temp(path: &Path, bytes: &[u8], synced: bool) -> std::io::Result<PathBuf> {
    write_temp_with(path, synced, |f| f.write_all(bytes))
}

/// Writes a fresh temp file next to `path` with `write` (fsynced when `synced`); returns its path.
fn write_temp_with(
    path: &Path,
    synced: bool,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<PathBuf> {
    let prefix = temp_prefix(path);
    let mut write = Some(write);
    for attempt in 0..100u32 {
        let tmp = parent_dir(path).join(format!("{prefix}{}.{attempt}", std::process::id()));
        let mut f = match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        let write = write.take().expect("written once");
        let written = write(&mut f).and_then(|()| if synced { f.sync_all() } else { Ok(()) });
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        return Ok(tmp);
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "no free temp file name",
    ))
}

#[cfg(unix)]
fn lock_exclusive(file: &File) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    loop {
        // SAFETY: flock on a file descriptor we own; the lock is released when the file closes.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if rc == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

#[cfg(not(unix))]
fn lock_exclusive(file: &File) -> std::io::Result<()> {
    file.lock()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stray_temps_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("log.jsonl");
        std::fs::write(&path, b"kept").expect("write");
        let other = dir.path().join("other.jsonl");
        std::fs::write(&other, b"kept").expect("write");
        let stray = write_temp(&path, b"half", true).expect("temp");
        let foreign = write_temp(&other, b"half", true).expect("temp");
        let _lock = Lock::acquire(&path).expect("lock");
        remove_stray_temps(&path);
        assert!(!stray.exists());
        assert!(foreign.exists() && path.exists() && other.exists());
    }

    #[test]
    fn bare_file_names_live_in_the_current_directory() {
        assert_eq!(parent_dir(Path::new("log.jsonl")), Path::new("."));
        assert_eq!(parent_dir(Path::new("a/log.jsonl")), Path::new("a"));
    }
}
