//! Estate sweeps: per-repository results, the estate report built from them, and shards.
//!
//! A sweep scans each repository on its own and streams one [`RepoResult`] per repository
//! to a [`Spool`] on disk, which joins them (in any order) into one report whose bytes
//! depend only on the results, so a merge of shard reports equals the unsharded report.

pub mod cache;
mod model;
mod progress;
mod sorter;
mod spool;

pub use model::{RepoResult, SweepFinding, SweepReport};
pub use progress::{ProgressMode, SweepProgress};
#[cfg(test)]
pub use spool::build_report;
pub use spool::{Spool, SpoolError};

/// Visits every entry under `dir` that is not a directory, depth first, until `visit` breaks.
/// Unreadable directories are skipped: the caller (a size limit) only estimates, and the
/// history read reports what it cannot read.
pub fn for_each_file_under(
    dir: &std::path::Path,
    mut visit: impl FnMut(&std::fs::DirEntry, std::fs::FileType) -> std::ops::ControlFlow<()>,
) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) => {
                    if visit(&e, t).is_break() {
                        return;
                    }
                }
                Err(_) => {}
            }
        }
    }
}

/// The shard (0-based, of `n`) a repository belongs to: FNV-1a 64 of its path's bytes
/// modulo `n`. Stable across machines, platforms and releases, so N machines given the
/// same repository paths sweep disjoint shares that cover the estate.
pub fn shard_of(path: &str, n: u32) -> u32 {
    shard_of_hash(path_hash(path), n)
}

/// The shard (0-based, of `n`) of a repository whose path hashes to `hash`.
fn shard_of_hash(hash: u64, n: u32) -> u32 {
    (hash % u64::from(n.max(1))) as u32
}

/// FNV-1a 64 of a repository path: names its shard and its cache file.
fn path_hash(path: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    #[test]
    fn shard_is_stable_and_in_range() {
        assert_eq!(super::shard_of("a", 1), 0);
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c.
        assert_eq!(
            super::shard_of("a", 7),
            (0xaf63_dc4c_8601_ec8c_u64 % 7) as u32
        );
        for n in 1..5 {
            assert!(super::shard_of("/srv/repos/x", n) < n);
        }
    }
}
