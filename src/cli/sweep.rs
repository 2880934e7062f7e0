//! `keytrace sweep`: every repository under the roots, tree and history, one estate report;
//! `keytrace merge`: shard reports joined into the report one machine would have written.

use super::scan::{fingerprinter_from_env, parse_size};
use super::{ExitStatus, Global};
use crate::diag::{Code, Diagnostic};
use crate::fingerprint::Fingerprinter;
use crate::inventory::Index;
use crate::link::Linker;
use crate::matcher::Matcher;
use crate::rules::RuleSet;
use crate::scan::BlobMemo;
use crate::source::git::{self, Discovery, GitError, HistoryOptions, RepoTarget, Scope};
use crate::source::WalkOptions;
use crate::sweep::{self, cache, ProgressMode, RepoResult, Spool, SweepFinding, SweepProgress};
use anyhow::{bail, Context as _};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Directories under which every git repository (work tree or bare) is swept.
    pub roots: Vec<PathBuf>,
    /// File listing one repository path per line, instead of (or besides) the roots.
    #[arg(long, value_name = "FILE")]
    pub repos: Option<PathBuf>,
    /// Credential inventory to link findings to.
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// Where the estate report (JSON) is written, atomically.
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,
    /// Sweep only shard K of N (1-based): repositories whose path hashes (FNV-1a 64,
    /// modulo N) to K-1. `keytrace merge` joins the N reports.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<(u32, u32)>,
    /// Extra rule files or directories, added to the built-in rules.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// A repository whose git directory holds more than this is an error entry, not swept.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub repo_max_bytes: Option<u64>,
    /// A repository still being read after this long (`90s`, `10m`, `1h`) is stopped and
    /// is an error entry; the sweep goes on with the next.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub repo_timeout: Option<Duration>,
    /// Directory of per-repository cache files: a re-sweep reads only history blobs not
    /// scanned before by the same build under the same rules, inventory and options. A
    /// sweep removes the files of the repositories of its shard no longer found.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Skip files and blobs larger than this.
    #[arg(long, value_name = "SIZE", default_value = "25M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Report unmanaged secrets first committed more than DAYS ago as stale-secret.
    #[arg(long, value_name = "DAYS", default_value_t = 365)]
    pub max_age: u32,
    /// Worker threads (default: one per core), shared by every repository.
    #[arg(long, short = 'j', default_value_t = 0)]
    pub threads: usize,
    /// Progress on stderr: auto (a bar on a terminal), json (one object per line for
    /// schedulers: event, repo, done, total, blobs, elapsed_ms), off. --quiet silences all.
    #[arg(long, value_name = "MODE", value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Shard reports written by `sweep --shard K/N`.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Where the merged report is written, atomically.
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,
}

/// Parses `90s`, `10m`, `2h`, `500ms` or plain seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("bad duration `{s}`: use e.g. 90s, 10m, 2h"))?;
    let d = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        u => {
            return Err(format!(
                "unknown duration unit `{u}` in `{s}` (use ms, s, m or h)"
            ))
        }
    };
    Ok(d)
}

fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("bad shard `{s}`: use K/N with 1 <= K <= N, e.g. 2/4");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let k: u32 = k.trim().parse().map_err(|_| bad())?;
    let n: u32 = n.trim().parse().map_err(|_| bad())?;
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// The repositories to sweep, sorted by path, and error entries for what would not open.
fn targets(args: &SweepArgs) -> anyhow::Result<(Vec<RepoTarget>, Vec<RepoResult>)> {
    let mut paths = args.roots.clone();
    if let Some(list) = &args.repos {
        let text = std::fs::read_to_string(list)
            .with_context(|| format!("{}: cannot read the repository list", list.display()))?;
        paths.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(PathBuf::from),
        );
    }
    if paths.is_empty() {
        bail!("sweep needs at least one ROOT or --repos FILE");
    }
    let mut failed = Vec::new();
    for p in &paths {
        if std::fs::symlink_metadata(p).is_err() {
            failed.push(RepoResult::failed(
                p.display().to_string(),
                "no such file or directory".to_string(),
            ));
        }
    }
    let found = git::discover(&paths);
    for w in &found.warnings {
        failed.push(RepoResult::failed(w.path.clone(), w.to_string()));
    }
    let mut repos = found.repos;
    repos.sort_by(|a, b| a.open_path.cmp(&b.open_path));
    repos.dedup_by(|a, b| a.open_path == b.open_path);
    if let Some((k, n)) = args.shard {
        repos.retain(|r| sweep::shard_of(&repo_path(r), n) == k - 1);
        failed.retain(|r| sweep::shard_of(&r.path, n) == k - 1);
    }
    Ok((repos, failed))
}

/// The path a repository is known by in the report: its working tree root or bare directory.
fn repo_path(t: &RepoTarget) -> String {
    t.workdir
        .as_ref()
        .unwrap_or(&t.open_path)
        .display()
        .to_string()
}

/// Bytes held under `dir` (its git objects, for a size limit), stopping past `limit`.
fn bytes_under(dir: &Path, limit: u64) -> u64 {
    let mut total = 0u64;
    crate::sweep::for_each_file_under(dir, |e, t| {
        if t.is_file() {
            total += e.metadata().map_or(0, |m| m.len());
        }
        if total > limit {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    });
    total
}

pub fn run(global: &Global, args: &SweepArgs) -> anyhow::Result<ExitStatus> {
    let now = crate::time::now();
    // SAFETY: no other thread has started yet.
    unsafe {
        git::read_repository_config_only();
    }
    let fingerprinter = fingerprinter_from_env();
    // Made here, for the cache files read ahead; an error is reported where it always was.
    let key = cache_key(args, &fingerprinter);
    // Compiling the rules is the one long fixed cost of a sweep that replays its cache: it
    // runs beside the search for repositories and the reading of their cache files.
    let (rules, found, mut prefetched) = std::thread::scope(|s| {
        let rules = s.spawn(|| -> anyhow::Result<Matcher> {
            let set = RuleSet::with_user_rules(&args.rules)?;
            Ok(Matcher::new(&set)?)
        });
        let found = targets(args);
        let prefetched = match &found {
            Ok((repos, _)) => prefetch(global, args, key.as_deref().ok(), repos, || {
                rules.is_finished()
            }),
            Err(_) => Vec::new(),
        };
        (rules.join(), found, prefetched)
    });
    let (repos, mut failed) = found?;
    prefetched.resize_with(repos.len(), || None);
    let (index, retires) = match super::inventory::path_for_scan(args.inventory.as_deref()) {
        Some(path) => {
            let loading = super::inventory::start_indexing(&path, &fingerprinter)?;
            let retires = loading.may_retire_references()?;
            (Some(loading.finish()?), retires)
        }
        None => (None, false),
    };
    let mut matcher = match rules {
        Ok(loaded) => loaded?,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    if let Some(ix) = &index {
        matcher = matcher.with_known_values(ix.revoked_values(None), fingerprinter.clone());
    }
    let matcher = matcher;
    let mut linker = super::verify_reset::scope_linker(&matcher, &fingerprinter)?
        .with_max_age(args.max_age, now);
    if index.is_some() {
        linker = linker.expect_inventory(retires);
    }
    // Per-repository results stream to a spool directory beside the report, and the report
    // is written from it: memory holds one repository's findings at a time.
    let mut spool = Spool::create(&args.output.with_extension("spool"))?;
    let mode = if global.quiet {
        ProgressMode::Off
    } else {
        args.progress
    };
    let total = (repos.len() + failed.len()) as u64;
    let bar = SweepProgress::new(mode, total, std::io::stderr().is_terminal());
    let ctx = Sweeper {
        matcher: &matcher,
        linker: &linker,
        index: index.as_ref(),
        cache_key: key?,
        bar: &bar,
        global,
        now,
    };
    // Repositories are swept side by side on the workers that read their blobs (a worker
    // busy with one repository's blobs helps with another's only between them), so the cores
    // are never oversubscribed; results come back here, one at a time, to the spool.
    let pool = git::worker_pool(args.threads)?;
    std::thread::scope(|s| -> anyhow::Result<()> {
        let (done, results) = std::sync::mpsc::sync_channel::<(String, RepoResult)>(4);
        let (ctx, bar, repos) = (&ctx, &bar, &repos);
        s.spawn(move || {
            pool.install(|| {
                // A send fails only when writing the spool failed: the sweep stops there.
                let _ = repos
                    .par_iter()
                    .zip(prefetched)
                    .with_max_len(1)
                    .try_for_each_with(done, |done, (target, prior)| {
                        let path = repo_path(target);
                        bar.repo_start(&path);
                        let result = ctx.sweep_one(args, target, prior);
                        done.send((path, result)).map_err(drop)
                    });
            });
        });
        for (path, result) in results {
            spool.push(&result)?;
            bar.repo_done(&path);
        }
        Ok(())
    })?;
    let mut estate: Vec<String> = repos.iter().map(repo_path).collect();
    for f in failed.drain(..) {
        spool.push(&f)?;
        bar.repo_done(&f.path);
        estate.push(f.path);
    }
    bar.finish();
    spool
        .write_report(&args.output)
        .with_context(|| format!("{}: cannot write the report", args.output.display()))?;
    // The sweep saw every repository of its shard: the files of those gone from it go too.
    if let Some(dir) = &args.cache {
        if let Err(e) = cache::prune(dir, estate.iter().map(String::as_str), args.shard) {
            warn(global, &format!("warning: {e}"));
        }
    }
    Ok(ExitStatus::Clean)
}

/// The settings a cache file must have been written under to be reused: the build, the
/// user's rules, the inventory and the options that change what a blob yields.
fn cache_key(args: &SweepArgs, fingerprinter: &Fingerprinter) -> anyhow::Result<String> {
    let inventory_digest = match super::inventory::path_for_scan(args.inventory.as_deref()) {
        Some(p) => super::verify_reset::file_digest(&p)?,
        None => "none".to_string(),
    };
    Ok(cache::key(&[
        ("keytrace", env!("CARGO_PKG_VERSION").to_string()),
        ("user-rules", RuleSet::user_sources_digest(&args.rules)?),
        ("inventory", inventory_digest),
        ("fingerprint", fingerprinter.key_id().unwrap_or_default()),
        ("max-age", args.max_age.to_string()),
        ("max-file-size", args.max_file_size.to_string()),
    ]))
}

/// What a repository's cache file offers ([`prior`]), read ahead of its sweep.
type Prior = (BlobMemo, Vec<String>);

/// Cache file bytes read ahead at most: what waits in memory for its repository's turn.
const PREFETCH_BYTES: u64 = 64 << 20;

/// The cache files of `repos` (in order), read while the rules compile, until `done` says
/// they are compiled or [`PREFETCH_BYTES`] were read: a re-sweep's workers then start on
/// replays, not on reading files. None without a cache, with `--repo-max-bytes` (a
/// repository's size is checked before its cache is read), or without a settings `key`
/// (the sweep then reports why).
fn prefetch(
    global: &Global,
    args: &SweepArgs,
    key: Option<&str>,
    repos: &[RepoTarget],
    done: impl Fn() -> bool,
) -> Vec<Option<Prior>> {
    let (Some(dir), None, Some(key)) = (&args.cache, args.repo_max_bytes, key) else {
        return Vec::new();
    };
    let mut read = 0;
    let mut out = Vec::new();
    for target in repos {
        if done() || read > PREFETCH_BYTES {
            break;
        }
        let mut notes = Vec::new();
        let (memo, bytes) = prior(global, dir, &repo_path(target), key, &mut notes);
        read += bytes;
        out.push(Some((memo, notes)));
    }
    out
}

/// What the cache file of repository `path` offers, its line two parsed only if the
/// history read asks for it, and the file's size; a file not trusted is named in a warning
/// (on stderr and in `notes`) and offers nothing.
fn prior(
    global: &Global,
    dir: &Path,
    path: &str,
    key: &str,
    notes: &mut Vec<String>,
) -> (BlobMemo, u64) {
    match cache::load(dir, path, key) {
        Ok(loaded) => {
            let rest = loaded.rest;
            let memo = BlobMemo::new(loaded.kept.blobs, loaded.kept.walk)
                .deferring(rest.blobs, move || rest.parse().map_err(|e| e.to_string()));
            (memo, loaded.bytes)
        }
        Err(e) => {
            discarded(global, path, &e.to_string(), notes);
            (BlobMemo::default(), 0)
        }
    }
}

/// Names the cache file of repository `path` that was not trusted, for `why`, in a
/// warning on stderr and in `notes`.
fn discarded(global: &Global, path: &str, why: &str, notes: &mut Vec<String>) {
    let w = Diagnostic::new(Code::CacheDiscarded, path, why);
    warn(global, &w.to_string());
    notes.push(w.to_string());
}

/// What every repository's sweep shares.
struct Sweeper<'a> {
    matcher: &'a Matcher,
    linker: &'a Linker<'a>,
    index: Option<&'a Index>,
    /// The settings a cache file must have been written under to be reused.
    cache_key: String,
    bar: &'a SweepProgress,
    global: &'a Global,
    now: i64,
}

/// A warning on stderr, unless `--quiet` (the report keeps it either way).
fn warn(global: &Global, line: &str) {
    if !global.quiet {
        eprintln!("{line}");
    }
}

impl Sweeper<'_> {
    /// Scans one repository (tree and full history) through the shared scan pipeline,
    /// reusing (from `prefetched`, if read ahead) and then refreshing its cache file when
    /// there is a cache.
    fn sweep_one(
        &self,
        args: &SweepArgs,
        target: &RepoTarget,
        prefetched: Option<Prior>,
    ) -> RepoResult {
        let path = repo_path(target);
        if let Some(limit) = args.repo_max_bytes {
            let git_dir = target
                .workdir
                .as_ref()
                .map_or_else(|| target.open_path.clone(), |w| w.join(".git"));
            let size = bytes_under(&git_dir, limit);
            if size > limit {
                return RepoResult::failed(
                    path,
                    format!("repository holds more than --repo-max-bytes {limit} bytes; not swept"),
                );
            }
        }
        let (prefetched, notes) = prefetched.unzip();
        let mut notes = notes.unwrap_or_default();
        let cached = args.cache.as_ref().map(|dir| {
            let memo = prefetched
                .unwrap_or_else(|| prior(self.global, dir, &path, &self.cache_key, &mut notes).0);
            (dir, memo)
        });
        let memo = cached.as_ref().map(|(_, memo)| memo);
        let scanned = self.scan(args, target, memo);
        let mut reused = memo.map_or(0, BlobMemo::reused);
        if let Some((dir, memo)) = cached {
            if let Some(e) = memo.deferred_error() {
                discarded(self.global, &path, &e, &mut notes);
            }
            // Replayed, or every blob reused: all the file holds was, read or not.
            let unchanged = memo.unchanged();
            if unchanged {
                reused = memo.held();
            }
            // Blobs read before a timeout are kept too: the next sweep goes on from there.
            if !unchanged {
                let kept = memo.into_kept();
                if let Err(e) = cache::store(dir, &path, &self.cache_key, kept) {
                    warn(self.global, &format!("warning: {e}"));
                    notes.push(e.to_string());
                }
            }
        }
        let mut result = match scanned {
            Ok(outcome) => self.result_of(target, path, &outcome),
            Err(GitError::TimedOut { seconds, .. }) => {
                let limit = args.repo_timeout.unwrap_or_default().as_secs_f64();
                RepoResult::failed(
                    path,
                    format!("exceeded --repo-timeout {limit}s: stopped after {seconds}s; not fully swept"),
                )
            }
            Err(e) => RepoResult::failed(path, e.to_string()),
        };
        result.blobs_reused = reused;
        result.errors.extend(notes);
        result
    }

    /// The tree walk and the history read of one repository, linked to the inventory.
    fn scan(
        &self,
        args: &SweepArgs,
        target: &RepoTarget,
        memo: Option<&BlobMemo>,
    ) -> Result<crate::scan::Outcome, GitError> {
        let found = Discovery {
            repos: vec![target.clone()],
            walk_roots: target.workdir.iter().cloned().collect(),
            warnings: Vec::new(),
        };
        let opts = WalkOptions {
            max_file_size: args.max_file_size,
            respect_ignore_files: false,
            threads: args.threads,
        };
        let hist = HistoryOptions {
            scope: Scope::All { since: None },
            max_file_size: args.max_file_size,
            threads: args.threads,
            deadline: args.repo_timeout.map(|d| Instant::now() + d),
        };
        let (m, l) = (self.matcher, self.linker);
        let scanned = crate::scan::scan_git(&found, Some(&opts), &hist, self.bar, m, l, memo)?;
        Ok(scanned.resolve(self.linker, self.index))
    }

    /// The report entry of a repository swept in full.
    fn result_of(
        &self,
        target: &RepoTarget,
        path: String,
        outcome: &crate::scan::Outcome,
    ) -> RepoResult {
        let scope = outcome.repositories.iter().find(|s| s.git);
        let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
        for f in &outcome.findings {
            *by_kind.entry(f.kind.as_str().to_string()).or_insert(0) += 1;
        }
        let mut errors: Vec<String> = outcome
            .stats
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect();
        if let Some(h) = &outcome.history {
            errors.extend(h.warnings.iter().map(ToString::to_string));
        }
        errors.sort();
        errors.dedup();
        RepoResult {
            path,
            head: scope.and_then(|s| s.head.clone()),
            bare: target.workdir.is_none(),
            files_scanned: outcome.stats.counts.files_scanned,
            blobs_scanned: outcome
                .history
                .as_ref()
                .map_or(0, |h| h.counts.blobs_scanned),
            blobs_reused: 0,
            findings_by_kind: by_kind,
            errors,
            findings: outcome
                .findings
                .iter()
                .map(|f| SweepFinding::of(f, self.now))
                .collect(),
        }
    }
}

pub fn merge(_global: &Global, args: &MergeArgs) -> anyhow::Result<ExitStatus> {
    let mut spool = Spool::create(&args.output.with_extension("spool"))?;
    for part in &args.parts {
        spool
            .push_report(part)
            .with_context(|| format!("{}: cannot merge this shard report", part.display()))?;
    }
    spool
        .write_report(&args.output)
        .with_context(|| format!("{}: cannot write the merged report", args.output.display()))?;
    Ok(ExitStatus::Clean)
}
