//! Git history source: every blob reachable from every ref, read once by unique blob and
//! attributed to the oldest commit that introduced it; or only a revision range, or the index.
//!
//! Knows nothing of rules: hands [`Chunk`]s to a callback, with a [`Role`] saying whether the
//! blob is new content or the base version a limited scope compares against.

mod discover;
mod facts;
mod index;
mod pack;
mod read;
mod scope;

pub use discover::{discover, read_repository_config_only, Discovery, RepoTarget};
pub(crate) use facts::describe;
use facts::describe_open;

use crate::diag::{Code, Diagnostic};
use crate::types::{Chunk, HistoryCounts, Origin, RepositoryScope};
use git2::{ObjectType, Oid, Repository};
use index::{CommitInfo, Index, Root, Trees};
use pack::Packs;
use rayon::prelude::*;
use read::Item;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Which part of history to read.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Every commit reachable from any ref; with `since`, only commits made at or after it.
    All { since: Option<i64> },
    /// Only blobs introduced by the commits of `A..B` (or `A...B`).
    Range(String),
    /// Only blobs staged in the index that differ from `HEAD`.
    Staged,
}

/// How a history read behaves.
#[derive(Debug, Clone)]
pub struct HistoryOptions {
    pub scope: Scope,
    /// Blobs larger than this many bytes are skipped and counted.
    pub max_file_size: u64,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Stop reading past this instant (a sweep's `--repo-timeout`): the read ends with
    /// [`GitError::TimedOut`] instead of finishing late.
    pub deadline: Option<std::time::Instant>,
}

/// Why a chunk is handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// New content: report what is found in it.
    Scan,
    /// The base version of a file changed in a limited scope: what is found here is old.
    Baseline,
}

/// Receives progress of the blob reading phase (a terminal progress bar, or nothing).
pub trait Progress: Sync {
    fn begin(&self, repo: &str, blobs: u64);
    fn advance(&self, bytes: u64);
    fn end(&self);
}

/// Blobs whose results the caller already holds (a sweep cache): the read skips them
/// before inflating them, after telling the caller the origin this walk gives them.
/// It is asked before the `max_file_size` check, so it must hold only blobs handed over
/// as text under the same limit.
///
/// A reuser serves one repository. It may also hold that repository's last whole [`Walk`]:
/// while the refs are as they were, the walk is replayed instead of reading every commit's
/// trees again, which is what a re-sweep of an unchanged repository spends its time on.
pub trait Reuse: Sync {
    /// Whether blob `oid` (hex), planned as new content at `origin`, need not be read.
    fn reuse(&self, oid: &str, origin: &Origin) -> bool;
    /// The walk of `repo` recorded under refs digest `refs`, if held: its blobs' results
    /// have then been handed over at their recorded origins, and nothing is to be read.
    fn replay(&self, repo: &str, refs: &str) -> Option<Walk>;
    /// Likewise, the walk of bare repository `repo` recorded with its scope under
    /// [`scope::files_state`] digest `files`: the repository need not even be opened.
    fn replay_unopened(&self, repo: &str, files: &str) -> Option<Walk>;
    /// A whole walk just done (every blob read or reused), to replay next time.
    fn record(&self, walk: Walk);
    /// The walk just replayed, described anew from files that changed while its refs did
    /// not (a config edit, `git pack-refs`), to be kept in place of the one replayed.
    fn redescribe(&self, walk: Walk);
}

/// One whole history walk of a repository, as a reuser keeps it: what it started from
/// (the refs digest), its counts and warnings, and the blobs it planned with their origins
/// (commit, author, date, path; never content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Walk {
    pub refs: String,
    /// The digest of the bare repository's ref and config files taken before the walk
    /// (see [`scope::files_state`]); with `scope`, what a replay without opening it needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<String>,
    /// The repository as described when the walk began (without its history and warnings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<RepositoryScope>,
    pub counts: HistoryCounts,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shallow: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Diagnostic>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blobs: Vec<WalkBlob>,
}

/// A blob of a [`Walk`] and the origin the walk gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalkBlob {
    pub oid: String,
    #[serde(flatten)]
    origin: Origin,
    /// The commit time, which orders history locations ([`Origin::time`] is not serialized).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    time: Option<i64>,
}

impl WalkBlob {
    /// The origin as the walk gave it.
    pub fn origin(&self) -> Origin {
        Origin {
            time: self.time,
            ..self.origin.clone()
        }
    }

    /// Whether the origin is of repository `repo`.
    pub fn is_of(&self, repo: &str) -> bool {
        self.origin.repo == repo
    }

    pub fn path(&self) -> &str {
        &self.origin.path
    }
}

/// What the history read covered and skipped, summed over the repositories.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HistoryStats {
    pub repositories: u64,
    #[serde(flatten)]
    pub counts: HistoryCounts,
    pub shallow_repositories: u64,
    #[serde(skip)]
    pub warnings: Vec<Diagnostic>,
}

/// A history scope that cannot be read as asked: the scan must not pass (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{repo}: --rev-range `{spec}`: {message}")]
    Range {
        repo: String,
        spec: String,
        message: String,
    },
    #[error("{repo}: --rev-range `{spec}` runs past the shallow boundary at commit {commit}: the base is missing from this shallow clone; fetch more history (git fetch --unshallow, or fetch-depth: 0)")]
    ShallowBase {
        repo: String,
        spec: String,
        commit: String,
    },
    #[error("{repo}: {message}")]
    Repository { repo: String, message: String },
    #[error("{repo}: stopped after {seconds}s, past the time limit; history not fully read")]
    TimedOut { repo: String, seconds: u64 },
}

/// Reads the history of each repository in `repos`, calling `on_chunk` for every text blob.
///
/// Each repository's own counts and warnings go to its entry in `scopes` (the working-tree
/// walk's list, matched by root; an entry is added for a repository the walk did not cover).
/// With `reuse`, blobs it claims are not read, and `on_chunk` gets the blob id of every
/// chunk whose results depend on its content alone (not an LFS pointer, which is counted
/// as it is read), so the caller can keep them for next time.
pub fn scan_history<F>(
    repos: &[RepoTarget],
    opts: &HistoryOptions,
    progress: &dyn Progress,
    scopes: &mut Vec<RepositoryScope>,
    reuse: Option<&dyn Reuse>,
    on_chunk: F,
) -> Result<HistoryStats, GitError>
where
    F: Fn(&Chunk<'_>, Role, Option<&str>) + Sync,
{
    let started = std::time::Instant::now();
    let timed_out = |repo: &str| GitError::TimedOut {
        repo: repo.to_string(),
        seconds: started.elapsed().as_secs(),
    };
    let pool = worker_pool(opts.threads).map_err(|e| GitError::Repository {
        repo: String::new(),
        message: e.to_string(),
    })?;
    // Like `git cat-file`, trust the object store's names: re-hashing every object read (SHA-1
    // with collision detection) costs a sixth of the scan. Corrupt data still fails to inflate.
    git2::opts::strict_hash_verification(false);
    let mut stats = HistoryStats::default();
    for target in repos {
        // A bare repository whose ref and config files are as at the walk recorded with
        // them is replayed unopened: its scope comes from the record.
        let files = reuse
            .filter(|_| replays_unopened(target, opts))
            .and_then(|_| scope::files_state(&target.open_path));
        let unopened = reuse
            .zip(files.as_deref())
            .and_then(|(r, f)| r.replay_unopened(&target.name, f));
        if let Some(walk) = unopened {
            let root = target.open_path.to_string_lossy();
            let at = match scopes.iter().position(|s| s.root == root) {
                Some(at) => at,
                None => {
                    scopes.extend(walk.scope.clone());
                    scopes.len() - 1
                }
            };
            let one = replayed(walk, progress, &target.name);
            add_walk(&mut stats, &mut scopes[at], one);
            continue;
        }
        // Discovery found it by its layout alone: one that will not open (its config, format
        // or owner) is named in a warning, and the others are read.
        let repo = match Repository::open(&target.open_path) {
            Ok(repo) => repo,
            Err(e) => {
                stats
                    .warnings
                    .push(facts::unreadable(&target.name, e.message()));
                continue;
            }
        };
        let at = scope_of(scopes, target, &repo);
        let described = files.map(|f| {
            let mut scope = scopes[at].clone();
            scope.history = None;
            scope.warnings.clear();
            (f, scope)
        });
        let one = walk_one(
            pool, target, repo, opts, progress, reuse, described, &on_chunk,
        )?;
        if past(opts.deadline) {
            return Err(timed_out(&target.name));
        }
        add_walk(&mut stats, &mut scopes[at], one);
    }
    scopes.sort_by(|a, b| (&a.name, &a.root).cmp(&(&b.name, &b.root)));
    stats.warnings.sort();
    stats.warnings.dedup();
    Ok(stats)
}

/// Whether `target` may be replayed without opening it: a bare repository (a working
/// tree is walked anyway) read in full, with only its own config in effect (another
/// config's `url.<base>.insteadOf` would change its remotes unseen by [`scope::files_state`]).
fn replays_unopened(target: &RepoTarget, opts: &HistoryOptions) -> bool {
    target.workdir.is_none()
        && matches!(opts.scope, Scope::All { since: None })
        && discover::repository_config_only()
}

/// Adds one repository's history read to the totals and to its scope.
fn add_walk(stats: &mut HistoryStats, scope: &mut RepositoryScope, one: HistoryStats) {
    stats.repositories += one.repositories;
    stats.shallow_repositories += one.shallow_repositories;
    stats.counts.add(&one.counts);
    stats.warnings.extend(one.warnings.iter().cloned());
    scope.history = Some(one.counts);
    scope.warnings.extend(one.warnings);
    scope.warnings.sort();
}

/// The history read of a repository whose recorded `walk` was replayed: nothing was read.
fn replayed(walk: Walk, progress: &dyn Progress, repo: &str) -> HistoryStats {
    progress.begin(repo, 0);
    progress.end();
    HistoryStats {
        repositories: 1,
        counts: HistoryCounts {
            blobs_scanned: 0,
            bytes_scanned: 0,
            ..walk.counts
        },
        shallow_repositories: u64::from(walk.shallow),
        warnings: walk.warnings,
    }
}

/// The pool of `threads` workers (0: one per core), built once per process: a sweep reads
/// the history of repository after repository (several at once on these same workers),
/// and starting a pool for each cost more than replaying a repository from the cache.
pub fn worker_pool(
    threads: usize,
) -> Result<&'static rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    static POOLS: std::sync::Mutex<Vec<(usize, &'static rayon::ThreadPool)>> =
        std::sync::Mutex::new(Vec::new());
    let mut pools = POOLS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, pool)) = pools.iter().find(|(n, _)| *n == threads) {
        return Ok(pool);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let pool: &'static rayon::ThreadPool = Box::leak(Box::new(pool));
    pools.push((threads, pool));
    Ok(pool)
}

/// The history read of one repository (open as `repo`): replayed from `reuse` when its refs
/// are as they were at the walk it recorded, otherwise planned from the refs and read (then
/// recorded when whole, so the next sweep may replay it, with `described`: the digest of
/// its files and its scope as described, taken before the walk).
#[allow(clippy::too_many_arguments)]
fn walk_one<F>(
    pool: &rayon::ThreadPool,
    target: &RepoTarget,
    repo: Repository,
    opts: &HistoryOptions,
    progress: &dyn Progress,
    reuse: Option<&dyn Reuse>,
    described: Option<(String, RepositoryScope)>,
    on_chunk: &F,
) -> Result<HistoryStats, GitError>
where
    F: Fn(&Chunk<'_>, Role, Option<&str>) + Sync,
{
    let mut one = HistoryStats {
        repositories: 1,
        ..HistoryStats::default()
    };
    // Only a walk of everything is replayed: a date or range scope depends on more than refs.
    let refs = reuse
        .filter(|_| matches!(opts.scope, Scope::All { since: None }))
        .map(|r| (r, scope::refs_state(&repo)));
    if let Some((r, walk)) = refs
        .as_ref()
        .and_then(|(r, s)| Some((r, r.replay(&target.name, s)?)))
    {
        if let Some((files, scope)) = described {
            if walk.files.as_ref() != Some(&files) || walk.scope.as_ref() != Some(&scope) {
                r.redescribe(Walk {
                    files: Some(files),
                    scope: Some(scope),
                    ..walk.clone()
                });
            }
        }
        return Ok(replayed(walk, progress, &target.name));
    }
    // Staged scope reads a handful of objects: libgit2 alone serves it.
    let packs = match opts.scope {
        Scope::Staged => Packs::none(),
        _ => Packs::open(repo.commondir()),
    };
    let items = plan_items(pool, &repo, &packs, target, opts, &mut one)?;
    if past(opts.deadline) {
        return Ok(one);
    }
    progress.begin(&target.name, items.len() as u64);
    let read = read::Read {
        open_path: &target.open_path,
        repo_name: &target.name,
        max_size: opts.max_file_size,
        deadline: opts.deadline,
        reuse,
        packs: &packs,
    };
    read::read_all(pool, read, repo, &items, progress, &mut one, on_chunk);
    progress.end();
    one.warnings.sort();
    one.warnings.dedup();
    // A walk that left something unread, or read LFS pointers (handed over without a blob
    // id, so not kept), could not be replayed whole: it is not recorded.
    let whole = one.counts.unreadable == 0 && one.counts.lfs_pointers == 0 && !past(opts.deadline);
    match (refs, whole) {
        (Some((r, state)), true) => r.record(Walk {
            refs: state,
            files: described.as_ref().map(|(f, _)| f.clone()),
            scope: described.map(|(_, s)| s),
            counts: one.counts.clone(),
            shallow: one.shallow_repositories > 0,
            warnings: one.warnings.clone(),
            blobs: items
                .into_iter()
                .filter(|i| i.role == Role::Scan)
                .map(|i| WalkBlob {
                    oid: i.oid.to_string(),
                    time: i.origin.time,
                    origin: i.origin,
                })
                .collect(),
        }),
        _ => free_on(pool, items),
    }
    free_on(pool, packs);
    Ok(one)
}

/// Frees `garbage` on a worker of `pool` instead of the calling thread, which goes on
/// meanwhile. What a walk leaves behind (a path per blob, an origin per blob, the cache of
/// decoded objects) took the calling thread some 70M instructions to free, about 30 ms of
/// the bench repository's 1.2 s scan, while the workers waited or had nothing left to do.
fn free_on(pool: &rayon::ThreadPool, garbage: impl Send + 'static) {
    pool.spawn(move || drop(garbage));
}

/// Whether `deadline` has passed.
fn past(deadline: Option<std::time::Instant>) -> bool {
    deadline.is_some_and(|d| std::time::Instant::now() >= d)
}

/// Where `target`'s root is in `scopes`, its entry described from `repo` (the history
/// read's handle, not opened again) when the working-tree walk did not list it.
fn scope_of(scopes: &mut Vec<RepositoryScope>, target: &RepoTarget, repo: &Repository) -> usize {
    let root = target.workdir.as_ref().unwrap_or(&target.open_path);
    let shown = root.to_string_lossy();
    scopes
        .iter()
        .position(|s| s.root == shown)
        .unwrap_or_else(|| {
            scopes.push(describe_open(repo, root, &target.name));
            scopes.len() - 1
        })
}

/// Index one repository per its scope and list the blobs to read, sorted by path for locality.
fn plan_items(
    pool: &rayon::ThreadPool,
    repo: &Repository,
    packs: &Packs,
    target: &RepoTarget,
    opts: &HistoryOptions,
    stats: &mut HistoryStats,
) -> Result<Vec<Item>, GitError> {
    let name = &target.name;
    let mut warn = Vec::new();
    let shallow = scope::shallow_roots(repo);
    if !shallow.is_empty() {
        stats.shallow_repositories += 1;
        warn.push(Diagnostic::new(
            Code::ShallowClone,
            name.clone(),
            format!("shallow clone: history before {} boundary commit(s) is not in the repository and was not scanned", shallow.len()),
        ));
    }
    if let Scope::Staged = opts.scope {
        let items = staged_items(repo, packs, name, &mut warn, stats)?;
        stats.warnings.extend(warn);
        return Ok(items);
    }
    let plan = match &opts.scope {
        Scope::Range(spec) => scope::range(repo, packs, name, spec, &mut warn)?,
        Scope::All { since } => {
            let parsed = pool.install(|| scope::read_packed_commits(packs));
            scope::all(repo, packs, name, *since, &mut warn, parsed)
        }
        Scope::Staged => unreachable!("handled above"),
    };
    if plan.commits.is_empty()
        && plan.loose.is_empty()
        && matches!(opts.scope, Scope::All { since: None })
    {
        warn.push(Diagnostic::new(
            Code::EmptyRepository,
            name.clone(),
            "no commit on any ref (empty repository or unborn HEAD): only the working tree was scanned",
        ));
    }
    let mut idx = Index::new(name);
    let mut base_reader = Trees::shared(packs, repo);
    for t in &plan.base_trees {
        idx.preseed(&mut base_reader, *t);
    }
    let roots = roots(&plan);
    let parts = walk_parts(pool.current_num_threads(), roots.len());
    let reader = || Trees::lazy(packs, &target.open_path);
    idx.walk(pool, &roots, parts, reader, opts.deadline);
    stats.counts.refs += plan.refs;
    stats.counts.commits += plan.commits.len() as u64;
    stats.counts.trees += idx.trees_read;
    stats.counts.unreadable += idx.unreadable;
    stats.counts.blobs += idx.blobs.len() as u64;
    // Building an origin per blob (strings, a formatted date) and sorting them is a tenth of
    // the planning: on the pool, each commit's id and date formatted once for all its blobs.
    let mut items: Vec<Item> = pool.install(|| {
        let stamps: Vec<Stamp> = plan.commits.par_iter().map(Stamp::of).collect();
        idx.blobs
            .par_iter()
            .map(|b| Item {
                oid: b.oid,
                origin: origin(
                    name,
                    &b.path,
                    b.commit.map(|c| &stamps[c as usize]),
                    Some(b.count),
                ),
                role: Role::Scan,
            })
            .collect()
    });
    if plan.limited {
        items.extend(baselines(repo, name, &idx, &plan));
    }
    warn.append(&mut idx.warnings);
    stats.warnings.extend(warn);
    drop(roots);
    free_on(pool, (idx, plan));
    pool.install(|| {
        items.par_sort_by(|a, b| {
            (&a.origin.path, a.origin.time, a.oid).cmp(&(&b.origin.path, b.origin.time, b.oid))
        })
    });
    Ok(items)
}

/// A commit as the origins of its blobs show it: formatted once, copied to each blob.
struct Stamp {
    id: String,
    author: String,
    date: String,
    time: i64,
}

impl Stamp {
    fn of(c: &CommitInfo) -> Stamp {
        Stamp {
            id: c.id.to_string(),
            author: c.author.clone(),
            date: crate::time::format_with_offset(c.author_time, c.author_offset),
            time: c.time,
        }
    }
}

fn origin(repo: &str, path: &str, commit: Option<&Stamp>, count: Option<u64>) -> Origin {
    Origin {
        repo: repo.to_string(),
        path: path.to_string(),
        commit: commit.map(|c| c.id.clone()),
        author: commit.map(|c| c.author.clone()),
        date: commit.map(|c| c.date.clone()),
        commits: commit.and(count),
        time: commit.map(|c| c.time),
    }
}

/// Where the tree walk of `plan` starts: each commit's tree, oldest first, then what refs
/// name directly.
fn roots(plan: &scope::Plan) -> Vec<Root<'_>> {
    let mut roots: Vec<Root<'_>> = (plan.commits.iter().enumerate())
        .map(|(i, c)| Root::Tree {
            tree: c.tree,
            commit: Some(i as u32),
        })
        .collect();
    roots.extend(plan.loose.iter().map(|(refname, oid, kind)| match kind {
        ObjectType::Tree => Root::Tree {
            tree: *oid,
            commit: None,
        },
        _ => Root::Blob {
            oid: *oid,
            name: refname,
        },
    }));
    roots
}

/// Commits per range below which the tree walk is not split: each range reads its first
/// commit's whole tree again.
const MIN_WALK_PART: usize = 512;

/// Into how many ranges a tree walk of `roots` roots is split on `threads` workers: four
/// per worker, so that the last range still walking (later ranges hold bigger trees) does
/// not leave the others idle long. With two per worker, one waited 10-20 ms on the other
/// in the bench repository; each range more reads one whole tree again.
fn walk_parts(threads: usize, roots: usize) -> usize {
    let wanted = if threads > 1 { threads * 4 } else { 1 };
    wanted.min(roots / MIN_WALK_PART).max(1)
}

/// The base version (in each parent) of every new blob's path, when it is not itself new.
fn baselines(repo: &Repository, name: &str, idx: &Index, plan: &scope::Plan) -> Vec<Item> {
    let mut wanted: BTreeSet<(String, Oid)> = BTreeSet::new();
    for b in &idx.blobs {
        let Some(c) = b.commit.map(|c| &plan.commits[c as usize]) else {
            continue;
        };
        for p in &c.parents {
            let Some(tree) = plan.trees_of.get(p).and_then(|t| repo.find_tree(*t).ok()) else {
                continue;
            };
            if let Ok(e) = tree.get_path(std::path::Path::new(&b.path)) {
                if e.kind() == Some(ObjectType::Blob) && !idx.is_new_blob(e.id()) {
                    wanted.insert((b.path.clone(), e.id()));
                }
            }
        }
    }
    wanted
        .into_iter()
        .map(|(path, oid)| Item {
            oid,
            origin: origin(name, &path, None, None),
            role: Role::Baseline,
        })
        .collect()
}

/// The index git is committing: `GIT_INDEX_FILE` when git set it for this repository
/// (`git commit -a` and `git commit PATH…` run the pre-commit hook on a temporary index
/// beside the real one, which does not yet hold what is being committed), else the
/// repository's own. A `GIT_INDEX_FILE` outside this repository's git dir belongs to
/// another repository (a scan of several) and is ignored here.
fn commit_index(repo: &Repository) -> Result<git2::Index, git2::Error> {
    if let Some(file) = std::env::var_os("GIT_INDEX_FILE").filter(|f| !f.is_empty()) {
        let file = std::path::PathBuf::from(file);
        let file = match std::env::current_dir() {
            Ok(cwd) if file.is_relative() => cwd.join(file),
            _ => file,
        };
        let dir = file.parent().and_then(|d| d.canonicalize().ok());
        if dir.is_some() && dir == repo.path().canonicalize().ok() {
            return git2::Index::open(&file);
        }
    }
    repo.index()
}

/// Blobs staged in the index that are not in `HEAD`, and the `HEAD` version of their paths.
fn staged_items(
    repo: &Repository,
    packs: &Packs,
    name: &str,
    warn: &mut Vec<Diagnostic>,
    stats: &mut HistoryStats,
) -> Result<Vec<Item>, GitError> {
    let fail = |e: git2::Error| GitError::Repository {
        repo: name.to_string(),
        message: format!("cannot read the index: {}", e.message()),
    };
    let index = commit_index(repo).map_err(fail)?;
    let head = repo.head().ok().and_then(|h| h.peel_to_tree().ok());
    let mut idx = Index::new(name);
    if let Some(t) = &head {
        idx.preseed(&mut Trees::shared(packs, repo), t.id());
    }
    let mut items = Vec::new();
    let mut seen = BTreeSet::new();
    for e in index.iter() {
        let path = String::from_utf8_lossy(&e.path).into_owned();
        if e.mode == 0o160_000
            || e.mode == 0o120_000
            || idx.is_known_blob(e.id)
            || !seen.insert(e.id)
        {
            continue;
        }
        stats.counts.blobs += 1;
        items.push(Item {
            oid: e.id,
            origin: origin(name, &path, None, None),
            role: Role::Scan,
        });
        if let Some(old) = head
            .as_ref()
            .and_then(|t| t.get_path(std::path::Path::new(&path)).ok())
        {
            if old.kind() == Some(ObjectType::Blob) {
                items.push(Item {
                    oid: old.id(),
                    origin: origin(name, &path, None, None),
                    role: Role::Baseline,
                });
            }
        }
    }
    if items.is_empty() {
        warn.push(Diagnostic::new(
            Code::NothingStaged,
            name.to_string(),
            "no staged change adds content: nothing to scan",
        ));
    }
    warn.append(&mut idx.warnings);
    Ok(items)
}
