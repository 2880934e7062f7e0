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
        findings: aged(
            linker,
            merge(collected.into_inner().expect("findings lock")),
        ),
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
        findings: aged(linker, merge(findings)),
        stats,
        history: Some(history),
    })
}

fn aged(linker: &Linker<'_>, mut findings: Vec<Finding>) -> Vec<Finding> {
    linker.apply_age(&mut findings);
    findings
}

/// Joins findings of the same secret at the same path across history: each
/// working-tree occurrence stays its own finding (two lines, two places to
/// fix), and the history copies (blobs of old commits) are listed under the
/// first of them, or under the oldest commit when the tree no longer holds it.
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
    let mut out: Vec<Finding> = Vec::new();
    for mut group in groups.into_values() {
        group.sort_by(|a, b| a.location.order_key().cmp(&b.location.order_key()));
        let first_seen = group.iter().find_map(|f| f.location.date.clone());
        let tree = group
            .iter()
            .take_while(|f| f.location.commit.is_none())
            .count();
        let history: Vec<Finding> = group.split_off(tree.max(1));
        let mut history_locations: Vec<_> = history.iter().map(|f| f.location.clone()).collect();
        history_locations.dedup();
        for (i, mut f) in group.into_iter().enumerate() {
            f.locations = vec![f.location.clone()];
            if i == 0 {
                f.locations.extend(history_locations.iter().cloned());
                for h in &history {
                    for id in &h.identifiers {
                        if !f.identifiers.contains(id) {
                            f.identifiers.push(id.clone());
                        }
                    }
                }
            }
            f.locations.dedup();
            f.first_seen.clone_from(&first_seen);
            out.push(f);
        }
    }
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}
