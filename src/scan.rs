//! Runs the pipeline over paths: source → matcher → linker, collecting sorted findings.
//!
//! Shared by `scan` and the later commands that scan (sweep, verify-reset).

use crate::link::Linker;
use crate::matcher::{MatchSink, Matcher};
use crate::source::{self, WalkOptions, WalkStats};
use crate::types::{Chunk, Finding, RawMatch};
use std::path::PathBuf;
use std::sync::Mutex;

/// Findings in deterministic order and what the walk saw.
#[derive(Debug)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub stats: WalkStats,
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

/// Scans every path in parallel and returns sorted findings.
pub fn scan_paths(
    paths: &[PathBuf],
    opts: &WalkOptions,
    matcher: &Matcher,
    linker: &Linker<'_>,
) -> Outcome {
    let collected: Mutex<Vec<Finding>> = Mutex::new(Vec::new());
    let stats = source::walk(paths, opts, |chunk| {
        let mut sink = LinkingSink {
            linker,
            out: Vec::new(),
        };
        matcher.scan(chunk, &mut sink);
        if !sink.out.is_empty() {
            collected.lock().expect("findings lock").extend(sink.out);
        }
    });
    let mut findings = collected.into_inner().expect("findings lock");
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup_by(|a, b| a.sort_key() == b.sort_key());
    Outcome { findings, stats }
}
