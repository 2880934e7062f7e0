//! `keytrace verify-reset`: prove a credential reset is complete over a scope, or list
//! every place the old credential still lives, and append the evidence (DESIGN §6).

use super::scan::{fingerprinter_from_env, parse_size, Bar};
use super::{ExitStatus, Global};
use crate::diag::Diagnostic;
use crate::evidence::holes;
use crate::evidence::record::{
    CredentialCheck, EvidenceRecord, HistoryPolicy, Hole, ScopeEntry, ToolInfo, Verdict,
    RECORD_KIND,
};
use crate::evidence::text::{self, Logged};
use crate::inventory::{self, Inventory};
use crate::link::{Allowlist, Linker};
use crate::matcher::Matcher;
use crate::rules::RuleSet;
use crate::scan::Outcome;
use crate::source::git::{self, HistoryOptions, Scope};
use crate::source::WalkOptions;
use crate::types::{Confidence, FindingKind};
use anyhow::{bail, Context as _};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
#[command(
    override_usage = "keytrace verify-reset <ID> [PATH]... --inventory FILE [--evidence-log FILE]\n       keytrace verify-reset --all [PATH]... --inventory FILE [--evidence-log FILE]"
)]
pub struct VerifyResetArgs {
    /// The credential id, then the paths to verify (default: the current directory).
    /// With --all, every argument is a path.
    #[arg(value_name = "ID | PATH")]
    pub targets: Vec<String>,
    /// Verify every credential that has a revoked version or a retired reference, in one pass.
    #[arg(long)]
    pub all: bool,
    /// Credential inventory (default: keytrace-inventory.json in the current directory).
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// Append the evidence record to this hash-chained audit log (created if missing).
    #[arg(long, value_name = "FILE", env = "KEYTRACE_EVIDENCE_LOG")]
    pub evidence_log: Option<PathBuf>,
    /// Scan working trees only, not git history (the record says so).
    #[arg(long)]
    pub no_history: bool,
    /// Whether old values found only in history block a complete verdict.
    #[arg(long, value_enum, default_value_t = HistoryPolicy::Block)]
    pub history_policy: HistoryPolicy,
    /// Output format: human, or json (the evidence record itself).
    #[arg(long, short, value_enum, default_value_t = VerifyFormat::Human)]
    pub format: VerifyFormat,
    /// Write the output to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Extra rule files or directories, added to the built-in rules.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Files and blobs larger than this are skipped, which leaves a hole in the scope.
    #[arg(long, value_name = "SIZE", default_value = "25M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub threads: usize,
}

/// `verify-reset --format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyFormat {
    Human,
    Json,
}

pub fn run(global: &Global, args: &VerifyResetArgs) -> anyhow::Result<ExitStatus> {
    let started = crate::time::format(crate::time::now());
    let (id, paths) = split_targets(args)?;
    let Some(inventory_path) = super::inventory::path_for_scan(args.inventory.as_deref()) else {
        bail!(
            "no inventory: give --inventory FILE (or run where {} is)",
            inventory::DEFAULT_FILE
        );
    };
    let fingerprinter = fingerprinter_from_env();
    let model = inventory::load(&inventory_path, &fingerprinter)?;
    let mut checks = select(&model, id.as_deref(), &inventory_path)?;
    let indexing = super::inventory::start_indexing(&inventory_path, &fingerprinter)?;
    let set = RuleSet::with_user_rules(&args.rules)?;
    let mut matcher = Matcher::new(&set)?;
    // The index is needed before the scan: the known-value pass looks for the revoked
    // versions' fingerprints in every candidate token, whatever the rules match.
    let index = indexing.finish()?;
    matcher = matcher.with_known_values(index.revoked_values(id.as_deref()), fingerprinter.clone());
    let retired = checks.iter().any(|c| !c.retired_references.is_empty());
    let linker = scope_linker(&matcher, &fingerprinter)?.expect_inventory(retired);
    let history = !args.no_history;
    let scanned = scan(global, args, &paths, &matcher, &linker)?;
    let outcome = scanned.resolve(&linker, Some(&index));
    let blobs = outcome
        .history
        .as_ref()
        .map_or(0, |h| h.counts.blobs_scanned);
    if outcome.stats.counts.files_scanned == 0 && blobs == 0 {
        bail!("nothing was scanned: the paths given hold no readable file or git history");
    }

    let (scope, all_holes) = scope_entries(&outcome, history);
    let by_id: BTreeMap<String, usize> = checks
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.clone(), i))
        .collect();
    for f in &outcome.findings {
        let residue = matches!(
            f.kind,
            FindingKind::RevokedSecretPresent
                | FindingKind::RevokedIdentifierPresent
                | FindingKind::RetiredReference
        );
        let target = f.credential.as_ref().and_then(|c| by_id.get(&c.id));
        if let (true, Some(&i)) = (residue, target) {
            checks[i].add(f, args.history_policy);
        }
    }
    for c in &mut checks {
        c.conclude(!all_holes.is_empty());
    }
    let record = EvidenceRecord {
        kind: RECORD_KIND,
        started,
        finished: crate::time::format(crate::time::now()),
        verdict: EvidenceRecord::overall(&checks),
        history,
        history_policy: args.history_policy,
        tool: ToolInfo {
            name: "keytrace",
            version: env!("CARGO_PKG_VERSION"),
            rules_digest: set.digest(),
            inventory_digest: file_digest(&inventory_path)?,
        },
        inventory: inventory_path.display().to_string(),
        paths: paths.iter().map(|p| p.display().to_string()).collect(),
        credentials: checks,
        scope,
        holes: all_holes,
    };
    let logged = append_evidence(args.evidence_log.as_deref(), &record)?;
    write_output(args, &record, logged.as_ref())?;
    Ok(match record.verdict {
        Verdict::Complete => ExitStatus::Clean,
        Verdict::Incomplete => ExitStatus::Findings,
        Verdict::Inconclusive => ExitStatus::Inconclusive,
    })
}

/// The credential id and the paths, from the positional arguments.
fn split_targets(args: &VerifyResetArgs) -> anyhow::Result<(Option<String>, Vec<PathBuf>)> {
    let (id, rest) = if args.all {
        (None, &args.targets[..])
    } else {
        match args.targets.split_first() {
            Some((id, rest)) => (Some(id.clone()), rest),
            None => bail!("verify-reset needs a credential id (or --all)"),
        }
    };
    let mut paths: Vec<PathBuf> = rest.iter().map(PathBuf::from).collect();
    if paths.is_empty() {
        paths.push(PathBuf::from("."));
    }
    for p in &paths {
        if std::fs::symlink_metadata(p).is_err() {
            bail!("{}: no such file or directory", p.display());
        }
    }
    Ok((id, paths))
}

/// The checks to run: the one credential named, or every one with something retired.
fn select(inv: &Inventory, id: Option<&str>, path: &Path) -> anyhow::Result<Vec<CredentialCheck>> {
    match id {
        Some(id) => {
            let Some(c) = inv.get(id) else {
                bail!(
                    "{}: no credential `{id}` (see keytrace inventory list)",
                    path.display()
                );
            };
            let check = CredentialCheck::new(c);
            if !check.has_residue_to_check() {
                bail!(
                    "{id}: no revoked version and no retired reference: nothing to verify (rotate it first: keytrace inventory rotate --id {id} …)"
                );
            }
            Ok(vec![check])
        }
        None => {
            let checks: Vec<CredentialCheck> = inv
                .credentials
                .iter()
                .map(CredentialCheck::new)
                .filter(CredentialCheck::has_residue_to_check)
                .collect();
            if checks.is_empty() {
                bail!(
                    "{}: no credential has a revoked version or a retired reference: nothing to verify",
                    path.display()
                );
            }
            Ok(checks)
        }
    }
}

/// A linker that keeps every finding of a scope: no allow-list, every confidence, no
/// overrides and no plaintext, since a remaining copy hidden by a filter is a false COMPLETE
/// (and a sweep's report must show the whole estate).
pub(super) fn scope_linker<'m>(
    matcher: &'m Matcher,
    fingerprinter: &crate::fingerprint::Fingerprinter,
) -> anyhow::Result<Linker<'m>> {
    Ok(Linker::new(
        matcher,
        fingerprinter.clone(),
        Allowlist::new(&[]).context("allow-list")?,
        Confidence::Low,
        HashMap::new(),
        false,
    ))
}

/// Scans the scope once for every credential: trees with ignore files off, and history.
fn scan(
    global: &Global,
    args: &VerifyResetArgs,
    paths: &[PathBuf],
    matcher: &Matcher,
    linker: &Linker<'_>,
) -> anyhow::Result<crate::scan::Scanned> {
    let opts = WalkOptions {
        max_file_size: args.max_file_size,
        respect_ignore_files: false,
        threads: args.threads,
    };
    if args.no_history {
        return Ok(crate::scan::scan_paths(paths, &opts, matcher, linker));
    }
    let found = git::discover(paths);
    let hist = HistoryOptions {
        scope: Scope::All { since: None },
        max_file_size: args.max_file_size,
        threads: args.threads,
        deadline: None,
    };
    let bar = Bar::new(!global.quiet && std::io::stderr().is_terminal());
    Ok(crate::scan::scan_git(
        &found,
        Some(&opts),
        &hist,
        &bar,
        matcher,
        linker,
        None,
    )?)
}

/// One scope entry per repository (or plain directory), with its holes; warnings that
/// name no repository (a directory that would not open as one, a submodule) are holes of
/// the scope as a whole, listed under the path they name.
fn scope_entries(outcome: &Outcome, history: bool) -> (Vec<ScopeEntry>, Vec<Hole>) {
    let mut placed: BTreeSet<&Diagnostic> = BTreeSet::new();
    let mut holes = Vec::new();
    let entries = outcome
        .repositories
        .iter()
        .map(|r| {
            placed.extend(r.warnings.iter());
            let (mut own, warnings) = holes::classify(&r.name, &r.warnings);
            if history && r.git {
                let remotes: Vec<holes::Remote<'_>> = r
                    .remotes
                    .iter()
                    .map(|x| holes::Remote {
                        name: &x.name,
                        url: &x.url,
                        fetch: &x.fetch,
                    })
                    .collect();
                own.extend(holes::missing_ref_namespaces(&r.name, &remotes));
            }
            own.sort();
            own.dedup();
            holes.extend(own.iter().cloned());
            let h = r.history.clone().unwrap_or_default();
            ScopeEntry {
                repo: r.name.clone(),
                root: r.root.clone(),
                bare: r.bare,
                head: r.head.clone(),
                branch: r.branch.clone(),
                history: r.history.is_some(),
                refs: h.refs,
                ref_namespaces: r.ref_namespaces.clone(),
                commits: h.commits,
                blobs: h.blobs,
                blobs_scanned: h.blobs_scanned,
                files_scanned: r.tree.as_ref().map_or(0, |t| t.files_scanned),
                holes: own,
                warnings,
            }
        })
        .collect();
    let mut rest: Vec<Diagnostic> = outcome.stats.warnings.clone();
    if let Some(h) = &outcome.history {
        rest.extend(h.warnings.iter().cloned());
    }
    rest.retain(|w| !placed.contains(w));
    for w in &rest {
        let (mut found, _) = holes::classify(&w.path, std::slice::from_ref(w));
        holes.append(&mut found);
    }
    holes.sort();
    holes.dedup();
    (entries, holes)
}

pub(super) fn file_digest(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    Ok(format!(
        "sha256:{}",
        crate::fingerprint::hex(&Sha256::digest(&bytes))
    ))
}

/// Appends the record to the audit log, when one is named.
fn append_evidence(log: Option<&Path>, record: &EvidenceRecord) -> anyhow::Result<Option<Logged>> {
    let Some(log) = log else { return Ok(None) };
    let appended = crate::evidence::append(log, &record.to_body())?;
    Ok(Some(Logged {
        path: log.display().to_string(),
        seq: appended.seq,
        digest: appended.digest,
    }))
}

fn write_output(
    args: &VerifyResetArgs,
    record: &EvidenceRecord,
    logged: Option<&Logged>,
) -> anyhow::Result<()> {
    let text = match args.format {
        VerifyFormat::Human => text::render(record, logged),
        VerifyFormat::Json => {
            let mut s = serde_json::to_string_pretty(record).context("encode the record")?;
            s.push('\n');
            s
        }
    };
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("{}: cannot write output file", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}
