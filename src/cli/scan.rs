//! `keytrace scan`: scan paths, print findings, exit by the gate.

use super::{ColorChoice, ExitStatus, Global};
use crate::baseline::{Applied, Baseline};
use crate::config::Config;
use crate::diag::{Code, Diagnostic};
use crate::fingerprint::Fingerprinter;
use crate::inventory::Index;
use crate::link::{Allowlist, Linker};
use crate::matcher::Matcher;
use crate::report::options::{Format, HumanStyle};
use crate::report::{self, Summary};
use crate::rules::RuleSet;
use crate::source::git::{self, HistoryOptions, Progress, Scope};
use crate::source::WalkOptions;
use crate::types::{Confidence, Severity};
use anyhow::{bail, Context as _};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Environment variable holding the key for `hmac-sha256:` fingerprints.
pub const FINGERPRINT_KEY_ENV: &str = "KEYTRACE_FINGERPRINT_KEY";

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Files or directories to scan.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the report in FORMAT to FILE, from this same scan (repeatable), e.g.
    /// `--report sarif=keytrace.sarif --report json=report.json`.
    #[arg(long = "report", value_name = "FORMAT=FILE", value_parser = parse_report_target)]
    pub reports: Vec<ReportTarget>,
    /// Config file (default: .keytrace.toml at the repository root).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Extra rule files or directories, added to the built-in rules.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = Severity::Low)]
    pub fail_on: Severity,
    /// Report only findings of rules at or above this confidence.
    #[arg(long, value_enum, default_value_t = Confidence::Low)]
    pub min_confidence: Confidence,
    /// Skip files larger than this (bytes, or with K/M/G suffix: 25M).
    #[arg(long, value_name = "SIZE", default_value = "25M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub threads: usize,
    /// Print plaintext secrets in human output (never in other formats).
    #[arg(long)]
    pub show_secrets: bool,
    /// Do not honour .gitignore, .ignore and .keytraceignore files.
    #[arg(long)]
    pub no_ignore: bool,
    /// Treat unreadable files, directories and git objects as errors (exit 2).
    #[arg(long)]
    pub strict: bool,
    /// Also scan the history of every git repository at or under the paths: every blob
    /// reachable from any ref (branches, tags, remotes, notes, stash), read once.
    #[arg(long)]
    pub git: bool,
    /// Scan only the blobs introduced by the commits of this range (e.g. origin/main..HEAD),
    /// not the working tree; findings already in the base version are not reported.
    #[arg(long, value_name = "A..B", conflicts_with = "staged")]
    pub rev_range: Option<String>,
    /// Scan only what is staged in the index and differs from HEAD (pre-commit gate).
    #[arg(long, conflicts_with = "since")]
    pub staged: bool,
    /// With --git: only history committed at or after DATE (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE", value_parser = crate::time::parse_date, conflicts_with = "rev_range")]
    pub since: Option<i64>,
    /// Credential inventory to link findings to (default: keytrace-inventory.json in the current directory, when present).
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// Also report client tokens that are public by design (Stripe publishable keys,
    /// Datadog RUM client tokens, Sentry DSN keys …), as severity info.
    #[arg(long)]
    pub include_public: bool,
    /// Also report references (secret names in CI config and manifests) that no
    /// inventory entry lists, as unknown-reference (severity info).
    #[arg(long)]
    pub unknown_references: bool,
    /// With an inventory: skip the known-value pass, which finds revoked values by
    /// fingerprint in every token whatever their shape (rule matches are still linked).
    /// Faster on large trees; verify-reset always runs the pass.
    #[arg(long)]
    pub no_known_values: bool,
    /// Report unmanaged secrets first committed more than DAYS ago as stale-secret (needs history).
    #[arg(long, value_name = "DAYS")]
    pub max_age: Option<u32>,
    /// Leave out the findings this baseline file lists (`keytrace baseline create`), except
    /// those the inventory knows. The file is only read, never rewritten.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

/// One `--report FORMAT=FILE`: a further report of the same scan.
#[derive(Debug, Clone)]
pub struct ReportTarget {
    pub format: Format,
    pub path: PathBuf,
}

/// Parses `--report FORMAT=FILE`.
fn parse_report_target(s: &str) -> Result<ReportTarget, String> {
    use clap::ValueEnum as _;
    let (format, path) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected FORMAT=FILE, e.g. sarif=keytrace.sarif"))?;
    let format = Format::from_str(format, true).map_err(|_| {
        let names: Vec<String> = Format::value_variants()
            .iter()
            .filter_map(|f| f.to_possible_value())
            .map(|v| v.get_name().to_string())
            .collect();
        format!("`{format}` is not a format (one of {})", names.join(", "))
    })?;
    if path.is_empty() {
        return Err(format!("`{s}`: no FILE after `=`"));
    }
    Ok(ReportTarget {
        format,
        path: PathBuf::from(path),
    })
}

/// Parses `25M`, `512K`, `1G` or plain bytes (binary multiples).
pub(super) fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => {
            let unit = s[i..].to_ascii_lowercase();
            let mult = match unit.trim_end_matches("ib").trim_end_matches('b') {
                "" => 1,
                "k" => 1 << 10,
                "m" => 1 << 20,
                "g" => 1 << 30,
                _ => return Err(format!("unknown size unit `{}` (use K, M or G)", &s[i..])),
            };
            (&s[..i], mult)
        }
        None => (s, 1),
    };
    num.trim()
        .parse::<u64>()
        .map(|n| n * mult)
        .map_err(|e| format!("bad size `{s}`: {e}"))
}

/// The fingerprinter chosen by the environment.
pub fn fingerprinter_from_env() -> Fingerprinter {
    match std::env::var_os(FINGERPRINT_KEY_ENV) {
        Some(k) if !k.is_empty() => Fingerprinter::hmac(k.to_string_lossy().as_bytes()),
        _ => Fingerprinter::sha256(),
    }
}

/// The directory config and relative paths hang off: the repository root of the first path.
fn config_root(path: &Path) -> PathBuf {
    crate::source::repository_root(&path.canonicalize().unwrap_or_else(|_| path.to_path_buf()))
}

pub fn run(global: &Global, args: &ScanArgs) -> anyhow::Result<ExitStatus> {
    // A bad baseline fails before any file is read.
    let key_id = fingerprinter_from_env().key_id();
    let baseline = match &args.baseline {
        Some(file) => Some((Baseline::load(file, key_id.as_deref())?, file)),
        None => None,
    };
    let Collected {
        set,
        outcome,
        mut warnings,
        started,
    } = collect(global, args)?;
    let (findings, applied) = match baseline {
        Some((b, file)) => {
            let resolve = |id: &str| set.resolve_id(id).to_string();
            let (kept, applied) = b.apply(outcome.findings, &resolve, whole_scope(args), file);
            warnings.extend(applied.warning());
            (kept, Some(applied))
        }
        None => (outcome.findings, None),
    };
    print_warnings(global, &warnings);
    let mut by_severity = std::collections::BTreeMap::new();
    for f in &findings {
        *by_severity
            .entry(f.severity.as_str().to_string())
            .or_insert(0) += 1;
    }
    let summary = Summary {
        findings: findings.len(),
        by_severity,
        stats: outcome.stats.clone(),
        history: outcome.history.clone(),
        warnings,
        repositories: outcome.repositories.clone(),
        baselined: applied.as_ref().map_or(0, Applied::baselined),
        baseline: applied,
        started,
    };
    write_report(global, args, &set, &findings, &summary)?;
    check_coverage(args, &outcome.stats, outcome.history.as_ref())?;
    let gated = findings.iter().any(|f| f.severity >= args.fail_on);
    Ok(if gated {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

/// A finished scan before any report: the rules in force, the linked findings and the
/// warnings (not yet printed, so callers can add their own).
pub(super) struct Collected {
    pub(super) set: RuleSet,
    pub(super) outcome: crate::scan::Outcome,
    pub(super) warnings: Vec<Diagnostic>,
    pub(super) started: i64,
}

/// Whether any report of this scan is human text, the only format that may show plaintext.
fn wants_human(args: &ScanArgs) -> bool {
    args.format == Format::Human || args.reports.iter().any(|r| r.format == Format::Human)
}

/// Whether the scan saw every place a baseline made by a full scan could list: not
/// only a range, the staged changes or recent history.
pub(super) fn whole_scope(args: &ScanArgs) -> bool {
    args.rev_range.is_none() && !args.staged && args.since.is_none()
}

/// Runs the scan the flags ask for: rules, inventory, sources, linking.
pub(super) fn collect(global: &Global, args: &ScanArgs) -> anyhow::Result<Collected> {
    let started = crate::time::now();
    for p in &args.paths {
        if std::fs::symlink_metadata(p).is_err() {
            bail!("{}: no such file or directory", p.display());
        }
    }
    let fingerprinter = fingerprinter_from_env();
    // The inventory is opened now (a missing file fails at once) and indexed on
    // its own thread while rules compile and files are scanned.
    let mut inventory = super::inventory::path_for_scan(args.inventory.as_deref())
        .map(|path| super::inventory::start_indexing(&path, &fingerprinter))
        .transpose()?;
    let root = config_root(&args.paths[0]);
    let config = Config::load(args.config.as_deref(), &root)?;
    let mut rule_paths = args.rules.clone();
    rule_paths.extend(config.rule_paths());
    let set = RuleSet::with_user_rules(&rule_paths)?;
    let (set, overrides) = config.apply(set)?;
    let mut matcher = Matcher::new(&set)?;
    if let Some(loading) = inventory {
        // Every revoked value is looked for whatever its shape (DESIGN §6).
        match loading.known_values() {
            Some(_) if args.no_known_values => {}
            Some(targets) => matcher = matcher.with_known_values(targets, fingerprinter.clone()),
            None => {
                return Err(loading.finish().err().unwrap_or_else(|| {
                    anyhow::anyhow!("the inventory thread stopped unexpectedly")
                }))
            }
        }
        inventory = Some(loading);
    }
    let matcher = matcher;
    let allow = Allowlist::new(&config.allowlist_paths()).context("allow-list")?;
    let mut linker = Linker::new(
        &matcher,
        fingerprinter.clone(),
        allow,
        args.min_confidence,
        overrides.into_iter().collect(),
        args.show_secrets && wants_human(args),
    );
    if let Some(loading) = &inventory {
        linker = linker.expect_inventory(loading.may_retire_references()?);
    }
    if args.unknown_references {
        linker = linker.with_unknown_references();
    }
    if args.include_public {
        linker = linker.with_public();
    }
    if let Some(days) = args.max_age {
        linker = linker.with_max_age(days, crate::time::now());
    }
    let opts = WalkOptions {
        max_file_size: args.max_file_size,
        respect_ignore_files: !args.no_ignore,
        threads: args.threads,
    };
    let history = args.git || args.rev_range.is_some() || args.staged || args.since.is_some();
    let scanned = if history {
        scan_git(global, args, &opts, &matcher, &linker)
    } else {
        Ok(crate::scan::scan_paths(
            &args.paths,
            &opts,
            &matcher,
            &linker,
        ))
    };
    let index = inventory.map(|loading| loading.finish()).transpose()?;
    // Lives until the process exits: freeing a large inventory only costs time.
    let index: Option<&Index> = index.map(|i| &*Box::leak(Box::new(i)));
    let outcome = scanned?.resolve(&linker, index);

    let mut warnings = outcome.stats.warnings.clone();
    if let Some(h) = &outcome.history {
        warnings.extend(h.warnings.iter().cloned());
    }
    let config_name = config
        .file
        .as_ref()
        .map_or_else(String::new, |f| f.display().to_string());
    for glob in linker.allowlist().unused() {
        warnings.push(Diagnostic::new(
            Code::UnusedAllowlistEntry,
            config_name.clone(),
            format!("[allowlist] paths entry `{glob}` matched no finding"),
        ));
    }
    Ok(Collected {
        set,
        outcome,
        warnings,
        started,
    })
}

/// Prints the warnings on stderr unless `--quiet`.
pub(super) fn print_warnings(global: &Global, warnings: &[Diagnostic]) {
    if !global.quiet {
        let mut err = std::io::stderr().lock();
        for w in warnings {
            let _ = writeln!(err, "{w}");
        }
    }
}

/// A scan never passes by omission (DESIGN §7): nothing read is exit 2, and so is an
/// unreadable file under `--strict`.
pub(super) fn check_coverage(
    args: &ScanArgs,
    stats: &crate::source::WalkStats,
    history: Option<&git::HistoryStats>,
) -> anyhow::Result<()> {
    let unreadable = stats.counts.unreadable + history.map_or(0, |h| h.counts.unreadable);
    if args.strict && unreadable > 0 {
        bail!("{unreadable} file(s), directories or git objects could not be read (--strict)");
    }
    if stats.counts.files_scanned == 0 && history.is_none() {
        bail!("nothing was scanned: the paths given hold no readable text file");
    }
    Ok(())
}

/// `--git`, `--rev-range`, `--staged`: find the repositories, then scan trees and history.
fn scan_git(
    global: &Global,
    args: &ScanArgs,
    opts: &WalkOptions,
    matcher: &Matcher,
    linker: &Linker<'_>,
) -> anyhow::Result<crate::scan::Scanned> {
    let found = git::discover(&args.paths);
    if found.repos.is_empty() {
        let names: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        bail!("no git repository at or under {}", names.join(", "));
    }
    let scope = match (&args.rev_range, args.staged) {
        (Some(spec), _) => Scope::Range(spec.clone()),
        (None, true) => Scope::Staged,
        (None, false) => Scope::All { since: args.since },
    };
    let tree = matches!(scope, Scope::All { .. }).then_some(opts);
    let hist = HistoryOptions {
        deadline: None,
        scope,
        max_file_size: args.max_file_size,
        threads: args.threads,
    };
    let bar = Bar::new(!global.quiet && std::io::stderr().is_terminal());
    Ok(crate::scan::scan_git(
        &found, tree, &hist, &bar, matcher, linker, None,
    )?)
}

/// The history progress bar: blobs done of total and MB/s, on a terminal only.
pub(super) struct Bar {
    bar: Option<ProgressBar>,
    bytes: AtomicU64,
    start: Mutex<Instant>,
}

impl Bar {
    pub(super) fn new(show: bool) -> Self {
        Bar {
            bar: show.then(|| ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())),
            bytes: AtomicU64::new(0),
            start: Mutex::new(Instant::now()),
        }
    }
}

impl Progress for Bar {
    fn begin(&self, repo: &str, blobs: u64) {
        if let Some(b) = &self.bar {
            b.reset();
            b.set_length(blobs);
            b.set_prefix(repo.to_string());
            b.set_style(
                ProgressStyle::with_template("{prefix} {wide_bar} {pos}/{len} blobs {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            self.bytes.store(0, Ordering::Relaxed);
            *self.start.lock().expect("bar") = Instant::now();
        }
    }

    fn advance(&self, bytes: u64) {
        if let Some(b) = &self.bar {
            let total = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
            b.inc(1);
            if b.position() % 256 == 0 {
                let secs = self.start.lock().expect("bar").elapsed().as_secs_f64();
                b.set_message(format!("{:.1} MB/s", total as f64 / 1e6 / secs.max(1e-3)));
            }
        }
    }

    fn end(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Writes the `--format` report (to `-o FILE` or stdout) and each `--report FORMAT=FILE`,
/// all from the same findings. Files are replaced atomically.
fn write_report(
    global: &Global,
    args: &ScanArgs,
    set: &RuleSet,
    findings: &[crate::types::Finding],
    summary: &Summary,
) -> anyhow::Result<()> {
    let files: Vec<&Path> = args
        .output
        .iter()
        .map(PathBuf::as_path)
        .chain(args.reports.iter().map(|r| r.path.as_path()))
        .collect();
    for (i, a) in files.iter().enumerate() {
        let same = |b: &&Path| std::path::absolute(a).ok() == std::path::absolute(b).ok();
        if files[..i].iter().any(same) {
            bail!(
                "{}: named by two reports; give each report its own file",
                a.display()
            );
        }
    }
    let rules = super::rules::rule_infos(set);
    let style = |to_terminal: bool| HumanStyle {
        color: match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        },
        show_secrets: args.show_secrets,
    };
    let render = |format, out: &mut dyn Write, style| {
        report::render(format, out, style, &rules, findings, summary)
    };
    let to_file = |format, path: &Path| -> anyhow::Result<()> {
        let mut diagnostics = Vec::new();
        crate::atomic_file::write_output(path, |file| {
            let mut out = std::io::BufWriter::new(file);
            diagnostics = render(format, &mut out, style(false))?;
            out.flush()
        })
        .with_context(|| format!("{}: cannot write the report", path.display()))?;
        print_warnings(global, &diagnostics);
        Ok(())
    };
    match &args.output {
        Some(path) => to_file(args.format, path)?,
        None => {
            let stdout = std::io::stdout();
            let to_terminal = stdout.is_terminal();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let diagnostics = render(args.format, &mut out, style(to_terminal))?;
            out.flush()?;
            print_warnings(global, &diagnostics);
        }
    }
    for r in &args.reports {
        to_file(r.format, &r.path)?;
    }
    Ok(())
}
