//! Runs the pipeline over paths: source → matcher → linker, collecting sorted findings.
//!
//! Shared by `scan` and the later commands that scan (sweep, verify-reset). The same secret
//! (rule, fingerprint, repository, path) found in several places is one finding listing them all.

use crate::link::Linker;
use crate::matcher::{MatchSink, Matcher};
use crate::source::git::{self, Discovery, HistoryOptions, HistoryStats, Progress, Role};
use crate::source::{self, WalkOptions, WalkStats};
use crate::types::{Chunk, Finding, RawMatch};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Mutex;

/// Findings in deterministic order and what the sources saw.
#[derive(Debug)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub stats: WalkStats,
    /// Present for history scans.
    pub history: Option<HistoryStats>,
}

/// Per-chunk sink that links each match as it is found.
struct LinkingSink<'a, 'm> {
    linker: &'a Linker<'m>,
    out: Vec<Finding>,
}

impl MatchSink for LinkingSink<'_, '_> {
    fn on_match(&mut self, chunk: &Chunk<'_>, m: RawMatch) {
        if let Some(f) = self.linker.link(chunk, m) {
            self.out.push(f);
        }
    }
}

fn scan_chunk(matcher: &Matcher, linker: &Linker<'_>, chunk: &Chunk<'_>) -> Vec<Finding> {
    let mut sink = LinkingSink {
        linker,
        out: Vec::new(),
    };
    matcher.scan(chunk, &mut sink);
    sink.out
}

/// Scans every path in parallel and returns sorted findings.
pub fn scan_paths(
    paths: &[PathBuf],
    opts: &WalkOptions,
    matcher: &Matcher,
    linker: &Linker<'_>,
) -> Outcome {
    let collected: Mutex<Vec<Finding>> = Mutex::new(Vec::new());
    let stats = source::walk(paths, opts, |chunk| {
        let found = scan_chunk(matcher, linker, chunk);
        if !found.is_empty() {
            collected.lock().expect("findings lock").extend(found);
        }
    });
    Outcome {
        findings: merge(collected.into_inner().expect("findings lock")),
        stats,
        history: None,
    }
}

/// Scans the working trees (unless `tree` is off) and the history of every repository found.
pub fn scan_git(
    found: &Discovery,
    tree: Option<&WalkOptions>,
    hist: &HistoryOptions,
    progress: &dyn Progress,
    matcher: &Matcher,
    linker: &Linker<'_>,
) -> Result<Outcome, git::GitError> {
    let collected: Mutex<Vec<Finding>> = Mutex::new(Vec::new());
    let old: Mutex<HashSet<(String, String, String)>> = Mutex::new(HashSet::new());
    let mut stats = match tree {
        Some(opts) if !found.walk_roots.is_empty() => {
            let opts = WalkOptions {
                skip_dirs: found.skip_dirs.clone(),
                ..opts.clone()
            };
            source::walk(&found.walk_roots, &opts, |chunk| {
                let f = scan_chunk(matcher, linker, chunk);
                if !f.is_empty() {
                    collected.lock().expect("findings lock").extend(f);
                }
            })
        }
        _ => WalkStats::default(),
    };
    let history = git::scan_history(&found.repos, hist, progress, |chunk, role| {
        let f = scan_chunk(matcher, linker, chunk);
        if f.is_empty() {
            return;
        }
        match role {
            Role::Scan => collected.lock().expect("findings lock").extend(f),
            Role::Baseline => old.lock().expect("baseline lock").extend(
                f.into_iter()
                    .map(|f| (f.location.repo, f.location.path, f.secret.fingerprint)),
            ),
        }
    })?;
    let old = old.into_inner().expect("baseline lock");
    let mut findings = collected.into_inner().expect("findings lock");
    if !old.is_empty() {
        findings.retain(|f| {
            let key = (
                f.location.repo.clone(),
                f.location.path.clone(),
                f.secret.fingerprint.clone(),
            );
            !old.contains(&key)
        });
    }
    stats.warnings.extend(found.warnings.iter().cloned());
    stats.warnings.sort();
    Ok(Outcome {
        findings: merge(findings),
        stats,
        history: Some(history),
    })
}

/// Joins findings of the same secret at the same path (tree copy, history blobs, repeated lines)
/// into one, listing every location; the primary is the working-tree copy, else the oldest.
pub fn merge(findings: Vec<Finding>) -> Vec<Finding> {
    let mut groups: BTreeMap<(String, String, String, String), Vec<Finding>> = BTreeMap::new();
    for f in findings {
        let key = (
            f.location.repo.clone(),
            f.location.path.clone(),
            f.rule.clone(),
            f.secret.fingerprint.clone(),
        );
        groups.entry(key).or_default().push(f);
    }
    let mut out: Vec<Finding> = groups
        .into_values()
        .map(|mut group| {
            group.sort_by(|a, b| a.location.order_key().cmp(&b.location.order_key()));
            let mut locations: Vec<_> = group.iter().map(|f| f.location.clone()).collect();
            locations.dedup();
            let mut primary = group.swap_remove(0);
            primary.first_seen = locations.iter().find_map(|l| l.date.clone());
            for f in &group {
                for id in &f.identifiers {
                    if !primary.identifiers.contains(id) {
                        primary.identifiers.push(id.clone());
                    }
                }
            }
            primary.locations = locations;
            primary
        })
        .collect();
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}
