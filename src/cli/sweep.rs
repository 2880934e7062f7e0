//! `keytrace sweep`: every repository under the roots, tree and history, one estate report;
//! `keytrace merge`: shard reports joined into the report one machine would have written.

use super::scan::{fingerprinter_from_env, parse_size};
use super::{ExitStatus, Global};
use crate::inventory::Index;
use crate::link::Linker;
use crate::matcher::Matcher;
use crate::rules::RuleSet;
use crate::source::git::{self, Discovery, HistoryOptions, RepoTarget, Scope};
use crate::source::WalkOptions;
use crate::sweep::{self, ProgressMode, RepoResult, SweepFinding, SweepProgress};
use anyhow::{bail, Context as _};
use std::collections::BTreeMap;
use std::io::{BufRead, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

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
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => total += e.metadata().map_or(0, |m| m.len()),
                _ => {}
            }
            if total > limit {
                return total;
            }
        }
    }
    total
}

pub fn run(global: &Global, args: &SweepArgs) -> anyhow::Result<ExitStatus> {
    let now = crate::time::now();
    let (repos, mut failed) = targets(args)?;
    let fingerprinter = fingerprinter_from_env();
    let (index, retires) = match super::inventory::path_for_scan(args.inventory.as_deref()) {
        Some(path) => {
            let loading = super::inventory::start_indexing(&path, &fingerprinter)?;
            let retires = loading.may_retire_references()?;
            (Some(loading.finish()?), retires)
        }
        None => (None, false),
    };
    let set = RuleSet::with_user_rules(&args.rules)?;
    let mut matcher = Matcher::new(&set)?;
    if let Some(ix) = &index {
        matcher = matcher.with_known_values(ix.revoked_values(None), fingerprinter.clone());
    }
    let matcher = matcher;
    let mut linker = super::verify_reset::scope_linker(&matcher, &fingerprinter)?
        .with_max_age(args.max_age, now);
    if index.is_some() {
        linker = linker.expect_inventory(retires);
    }
    // Per-repository results stream to a spool file beside the report: memory holds one
    // repository's findings at a time while scanning.
    let spool_path = args.output.with_extension("spool.jsonl");
    let spool_file = std::fs::File::create(&spool_path)
        .with_context(|| format!("{}: cannot create", spool_path.display()))?;
    let mut spool = BufWriter::new(spool_file);
    let mode = if global.quiet {
        ProgressMode::Off
    } else {
        args.progress
    };
    let total = (repos.len() + failed.len()) as u64;
    let bar = SweepProgress::new(mode, total, std::io::stderr().is_terminal());
    for target in &repos {
        let path = repo_path(target);
        bar.repo_start(&path);
        let result = sweep_one(args, target, &matcher, &linker, index.as_ref(), &bar, now);
        serde_json::to_writer(&mut spool, &result).context("spool")?;
        spool.write_all(b"\n")?;
        bar.repo_done(&path);
    }
    for f in failed.drain(..) {
        serde_json::to_writer(&mut spool, &f).context("spool")?;
        spool.write_all(b"\n")?;
        bar.repo_done(&f.path);
    }
    bar.finish();
    spool.flush()?;
    drop(spool);
    let results = read_results(&spool_path)?;
    let _ = std::fs::remove_file(&spool_path);
    write_report(&args.output, results)?;
    Ok(ExitStatus::Clean)
}

/// Scans one repository (tree and full history) through the shared scan pipeline.
fn sweep_one(
    args: &SweepArgs,
    target: &RepoTarget,
    matcher: &Matcher,
    linker: &Linker<'_>,
    index: Option<&Index>,
    bar: &SweepProgress,
    now: i64,
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
    };
    let scanned = match crate::scan::scan_git(&found, Some(&opts), &hist, bar, matcher, linker) {
        Ok(s) => s,
        Err(e) => return RepoResult::failed(path, e.to_string()),
    };
    let outcome = scanned.resolve(linker, index);
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
            .map(|f| SweepFinding::of(f, now))
            .collect(),
    }
}

fn read_results(path: &Path) -> anyhow::Result<Vec<RepoResult>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("{}: cannot read", path.display()))?;
        out.push(
            serde_json::from_str(&line)
                .with_context(|| format!("{}:{}: bad result line", path.display(), i + 1))?,
        );
    }
    Ok(out)
}

fn write_report(output: &Path, results: Vec<RepoResult>) -> anyhow::Result<()> {
    let report = sweep::build_report(results);
    let mut bytes = serde_json::to_vec_pretty(&report).context("encode the report")?;
    bytes.push(b'\n');
    crate::atomic_file::replace(output, &bytes, crate::atomic_file::Durability::Synced)
        .with_context(|| format!("{}: cannot write the report", output.display()))?;
    Ok(())
}

/// Only the repository entries of a report: the estate views are rebuilt from them.
#[derive(serde::Deserialize)]
struct PartReport {
    report: String,
    repositories: Vec<RepoResult>,
}

pub fn merge(_global: &Global, args: &MergeArgs) -> anyhow::Result<ExitStatus> {
    let mut results = Vec::new();
    for part in &args.parts {
        let file = std::fs::File::open(part)
            .with_context(|| format!("{}: cannot open shard report", part.display()))?;
        let parsed: PartReport = serde_json::from_reader(std::io::BufReader::new(file))
            .with_context(|| format!("{}: not a sweep report", part.display()))?;
        if parsed.report != "keytrace-sweep" {
            bail!(
                "{}: not a sweep report (report = {})",
                part.display(),
                parsed.report
            );
        }
        results.extend(parsed.repositories);
    }
    write_report(&args.output, results)?;
    Ok(ExitStatus::Clean)
}
