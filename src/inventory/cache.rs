//! The lookup tables of a validated inventory, kept between scans.
//!
//! A scheduled sweep runs many scans against one unchanged inventory, and a
//! 100,000-credential file costs about 120 ms of CPU to validate and index.
//! The tables (credential offsets, fingerprint digests, identifiers, reference
//! spans; never a secret) are saved after a full validation and reused while
//! the file is unchanged, judged the way git judges its index: same size,
//! modification and change times, inode and device. A file modified less than
//! [`SETTLE`] ago is not cached, since a second write within the file system's
//! timestamp granularity could leave those unchanged. Any fault in the cache
//! (missing, foreign, corrupt, unwritable) only means a full validation.

use super::index::{FxHasher, Tables};
use crate::atomic_file::{replace, Durability};
use serde::{Deserialize, Serialize};
use std::fs::Metadata;
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Names the cache directory; empty disables the cache.
const DIR_ENV: &str = "KEYTRACE_CACHE_DIR";

/// How long a file must have been left alone before its tables are cached.
const SETTLE: Duration = Duration::from_secs(2);

/// Bumped whenever [`Tables`] or the validation rules change.
const FORMAT: u32 = 2;

/// What identifies one state of an inventory file without reading it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Stamp {
    len: u64,
    modified: (i64, i64),
    changed: (i64, i64),
    inode: u64,
    device: u64,
}

impl Stamp {
    /// The stamp of an open file's metadata, when the platform gives one and
    /// the file has settled.
    pub fn of(meta: &Metadata) -> Option<Stamp> {
        let settled = meta
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_some_and(|age| age >= SETTLE);
        settled.then(|| Stamp::unix(meta)).flatten()
    }

    #[cfg(unix)]
    fn unix(meta: &Metadata) -> Option<Stamp> {
        use std::os::unix::fs::MetadataExt;
        Some(Stamp {
            len: meta.len(),
            modified: (meta.mtime(), meta.mtime_nsec()),
            changed: (meta.ctime(), meta.ctime_nsec()),
            inode: meta.ino(),
            device: meta.dev(),
        })
    }

    #[cfg(not(unix))]
    fn unix(_: &Metadata) -> Option<Stamp> {
        None
    }
}

#[derive(Serialize, Deserialize)]
struct Entry {
    format: u32,
    keytrace: String,
    stamp: Stamp,
    tables: Tables,
}

/// The tables saved in cache directory `dir` for the inventory at `path` when
/// it still has `stamp`.
pub(super) fn lookup(dir: &Path, path: &Path, stamp: &Stamp) -> Option<Tables> {
    let bytes = std::fs::read(entry_path(dir, path)).ok()?;
    let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(8)?)?;
    if fx_hash(body).to_le_bytes() != sum {
        return None;
    }
    let entry: Entry = postcard::from_bytes(body).ok()?;
    let current = entry.format == FORMAT
        && entry.keytrace == env!("CARGO_PKG_VERSION")
        && entry.stamp == *stamp;
    current.then_some(entry.tables)
}

/// Saves `tables` in `dir` for the inventory at `path` as of `stamp`; best effort.
pub(super) fn store(dir: &Path, path: &Path, stamp: &Stamp, tables: Tables) -> Tables {
    let file = entry_path(dir, path);
    let entry = Entry {
        format: FORMAT,
        keytrace: env!("CARGO_PKG_VERSION").to_string(),
        stamp: stamp.clone(),
        tables,
    };
    if let Ok(mut bytes) = postcard::to_stdvec(&entry) {
        bytes.extend_from_slice(&fx_hash(&bytes).to_le_bytes());
        let saved =
            create_private_dir(dir).and_then(|()| replace(&file, &bytes, Durability::Unsynced));
        // A cache that cannot be written costs the next scan a full validation, nothing more.
        drop(saved);
    }
    entry.tables
}

/// `DIR/inventory-HASH.idx`, one entry per inventory path.
fn entry_path(dir: &Path, path: &Path) -> PathBuf {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let name = fx_hash(absolute.to_string_lossy().as_bytes());
    dir.join(format!("inventory-{name:016x}.idx"))
}

/// `$KEYTRACE_CACHE_DIR`, else `$XDG_CACHE_HOME/keytrace`, else `~/.cache/keytrace`.
pub(super) fn dir() -> Option<PathBuf> {
    let set = |name| std::env::var_os(name).map(PathBuf::from);
    match set(DIR_ENV) {
        Some(d) if d.as_os_str().is_empty() => None,
        Some(d) => Some(d),
        None => set("XDG_CACHE_HOME")
            .filter(|d| d.is_absolute())
            .or_else(|| set("HOME").map(|h| h.join(".cache")))
            .map(|d| d.join("keytrace")),
    }
}

/// Creates `dir` readable by its owner only: the tables hold fingerprints,
/// which for a weak password are worth keeping from other users.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// The Fx hash of `bytes`: an entry's file name and its checksum.
fn fx_hash(bytes: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(bytes);
    h.finish()
}
