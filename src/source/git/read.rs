//! Reads the indexed blobs in parallel (one `git2::Repository` per worker thread, the
//! planning one reused by the first) and hands each
//! text blob to the callback as a [`Chunk`], counting what it skips.

use super::pack::{Limited, Packs};
use super::{HistoryStats, Progress, Reuse, Role};
use crate::diag::{Code, Diagnostic};
use crate::source::fs::{classify, Content};
use crate::types::{Chunk, Origin};
use git2::{Oid, Repository};
use rayon::prelude::*;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// A blob to read with the provenance its findings carry.
pub(super) struct Item {
    pub oid: Oid,
    pub origin: Origin,
    pub role: Role,
}

/// Which repository to read, and what limits the read.
pub(super) struct Read<'a> {
    pub open_path: &'a Path,
    pub repo_name: &'a str,
    pub max_size: u64,
    /// Past this, the remaining blobs are left unread.
    pub deadline: Option<Instant>,
    pub reuse: Option<&'a dyn Reuse>,
    /// Pack reader shared by the workers (its delta-base cache with them).
    pub packs: &'a Packs,
}

#[derive(Default)]
struct Counters {
    scanned: AtomicU64,
    bytes: AtomicU64,
    binary: AtomicU64,
    too_large: AtomicU64,
    archives: AtomicU64,
    lfs: AtomicU64,
    unreadable: AtomicU64,
    warnings: Mutex<Vec<Diagnostic>>,
    lfs_example: Mutex<Option<String>>,
}

const LFS_POINTER: &[u8] = b"version https://git-lfs.github.com/spec/v1";

/// Reads every item on `pool`, calling `on_chunk` for each text blob. `repo`, already open
/// for planning, serves the first worker; the others open their own.
pub(super) fn read_all<F>(
    pool: &rayon::ThreadPool,
    read: Read<'_>,
    repo: Repository,
    items: &[Item],
    progress: &dyn Progress,
    stats: &mut HistoryStats,
    on_chunk: &F,
) where
    F: Fn(&Chunk<'_>, Role, Option<&str>) + Sync,
{
    let (open_path, repo_name) = (read.open_path, read.repo_name);
    let mut first = Some(repo);
    let slots: Vec<Mutex<Option<Repository>>> = (0..pool.current_num_threads())
        .map(|_| Mutex::new(first.take()))
        .collect();
    let c = Counters::default();
    pool.install(|| {
        items.par_iter().with_min_len(16).for_each(|item| {
            if read.deadline.is_some_and(|d| Instant::now() >= d) {
                return;
            }
            let slot = &slots[pool.current_thread_index().unwrap_or(0) % slots.len()];
            let mut guard = slot.lock().expect("repo slot");
            if guard.is_none() {
                match Repository::open(open_path) {
                    Ok(r) => *guard = Some(r),
                    Err(e) => {
                        c.unreadable.fetch_add(1, Ordering::Relaxed);
                        c.warnings.lock().expect("warnings").push(Diagnostic::new(
                            Code::UnreadableRepository,
                            repo_name.to_string(),
                            e.message().to_string(),
                        ));
                        return;
                    }
                }
            }
            let repo = guard.as_ref().expect("repo");
            let n = read_one(repo, &read, item, &c, on_chunk);
            progress.advance(n);
        });
    });
    let counts = &mut stats.counts;
    counts.blobs_scanned += c.scanned.into_inner();
    counts.bytes_scanned += c.bytes.into_inner();
    counts.skipped_binary += c.binary.into_inner();
    counts.skipped_too_large += c.too_large.into_inner();
    counts.skipped_archives += c.archives.into_inner();
    counts.unreadable += c.unreadable.into_inner();
    let lfs = c.lfs.into_inner();
    counts.lfs_pointers += lfs;
    let mut warnings = c.warnings.into_inner().expect("warnings");
    if let Some(example) = c.lfs_example.into_inner().expect("lfs") {
        warnings.push(Diagnostic::new(
            Code::LfsPointer,
            format!("{repo_name}:{example}"),
            format!("{lfs} Git LFS pointer file(s) in history; their content lives on the LFS server and was not fetched"),
        ));
    }
    stats.warnings.extend(warnings);
}

/// Reads and hands on one blob; returns the bytes read.
fn read_one<F>(repo: &Repository, read: &Read<'_>, item: &Item, c: &Counters, on_chunk: &F) -> u64
where
    F: Fn(&Chunk<'_>, Role, Option<&str>) + Sync,
{
    let (repo_name, max_size) = (read.repo_name, read.max_size);
    let fail = |e: git2::Error| {
        c.unreadable.fetch_add(1, Ordering::Relaxed);
        let w = super::index::object_warning(repo_name, item.oid, "blob", &item.origin.path, &e);
        c.warnings.lock().expect("warnings").push(w);
        0
    };
    // Before the size check: the reuser only holds blobs read as text under a size limit
    // that is part of its key, so a blob it holds is not too large now either.
    let blob = read.reuse.map(|_| item.oid.to_string());
    if let (Some(reuse), Some(id), Role::Scan) = (read.reuse, &blob, item.role) {
        if reuse.reuse(id, &item.origin) {
            return 0;
        }
    }
    let odb = match repo.odb() {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let obj = match read.packs.read_within_or(&odb, item.oid, max_size) {
        Ok(Limited::Object(o)) => o,
        Ok(Limited::TooLarge(size)) => {
            if item.role == Role::Scan {
                c.too_large.fetch_add(1, Ordering::Relaxed);
                let at = item.origin.commit.as_deref().unwrap_or("index");
                c.warnings.lock().expect("warnings").push(Diagnostic::new(
                    Code::BlobTooLarge,
                    format!("{repo_name}:{}", item.origin.path),
                    format!("blob {} ({size} bytes, first in {at}) is larger than --max-file-size ({max_size} bytes); skipped", item.oid),
                ));
            }
            return 0;
        }
        Err(e) => return fail(e),
    };
    let data: &[u8] = &obj;
    let bytes = match classify(data) {
        Content::Text(bytes) => bytes,
        Content::Binary => {
            if item.role == Role::Scan {
                c.binary.fetch_add(1, Ordering::Relaxed);
            }
            return data.len() as u64;
        }
        Content::Archive(format) => {
            if item.role == Role::Scan {
                c.archives.fetch_add(1, Ordering::Relaxed);
                let at = item.origin.commit.as_deref().unwrap_or("index");
                c.warnings.lock().expect("warnings").push(Diagnostic::new(
                    Code::ArchiveSkipped,
                    format!("{repo_name}:{}", item.origin.path),
                    format!("blob {} (first in {at}) is a {format} archive: its content was not scanned", item.oid),
                ));
            }
            return data.len() as u64;
        }
    };
    let mut blob = blob.as_deref();
    if item.role == Role::Scan {
        if bytes.starts_with(LFS_POINTER) {
            blob = None;
            c.lfs.fetch_add(1, Ordering::Relaxed);
            let mut ex = c.lfs_example.lock().expect("lfs");
            if ex.as_ref().is_none_or(|e| item.origin.path < *e) {
                *ex = Some(item.origin.path.clone());
            }
        }
        c.scanned.fetch_add(1, Ordering::Relaxed);
        c.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    }
    on_chunk(
        &Chunk {
            bytes: &bytes,
            origin: &item.origin,
        },
        item.role,
        blob,
    );
    data.len() as u64
}
