//! Reports: format sorted findings as human text, JSON, JSONL, SARIF, GitHub annotations or
//! GitLab's secret-detection report.
//!
//! Every format implements [`Sink`]; reports only format, they decide nothing.

mod github;
mod gitlab;
mod human;
mod json;
pub mod options;
mod sarif;

use crate::baseline::Applied;
use crate::diag::Diagnostic;
use crate::source::git::HistoryStats;
use crate::source::WalkStats;
use crate::types::{Finding, RepositoryScope};
use options::{Format, HumanStyle, RuleInfo};
use serde::Serialize;
use std::io::{self, Write};

/// Receives findings in their final order, then the run summary.
pub trait Sink {
    /// One finding, in sorted order.
    fn finding(&mut self, finding: &Finding) -> io::Result<()>;
    /// Called once after the last finding.
    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        Ok(())
    }
    /// Warnings the format raised while writing (SARIF: results left out to fit upload
    /// limits), for the caller to print; asked once, after `finish`.
    fn diagnostics(&mut self) -> Vec<Diagnostic> {
        Vec::new()
    }
}

/// Everything a report may print besides findings.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub findings: usize,
    pub by_severity: std::collections::BTreeMap<String, usize>,
    #[serde(flatten)]
    pub stats: WalkStats,
    /// What the history scan read, for `--git`, `--rev-range` and `--staged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryStats>,
    pub warnings: Vec<Diagnostic>,
    /// Each repository (or plain directory) scanned, sorted by name then root.
    pub repositories: Vec<RepositoryScope>,
    /// Findings left out because the `--baseline` file lists them (0 without one).
    pub baselined: usize,
    /// What the `--baseline` file did, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Applied>,
    /// When the run started (seconds since the epoch), for reports that carry scan times.
    #[serde(skip)]
    pub started: i64,
}

/// Builds the sink for `format` writing to `out`.
fn sink<'w>(
    format: Format,
    out: Box<dyn Write + 'w>,
    style: HumanStyle,
    rules: &[RuleInfo],
) -> Box<dyn Sink + 'w> {
    match format {
        Format::Human => Box::new(human::Human::new(out, style, rules)),
        Format::Json => Box::new(json::Json::new(out)),
        Format::Jsonl => Box::new(json::Jsonl::new(out)),
        Format::Sarif => Box::new(sarif::Sarif::new(out, rules)),
        Format::Github => Box::new(github::Github::new(out)),
        Format::Gitlab => Box::new(gitlab::Gitlab::new(out, rules)),
    }
}

/// Writes `findings` and `summary` to `out` in `format`; returns the warnings the format
/// raised (SARIF's dropped results), for the caller to print.
pub fn render(
    format: Format,
    out: &mut dyn Write,
    style: HumanStyle,
    rules: &[RuleInfo],
    findings: &[Finding],
    summary: &Summary,
) -> io::Result<Vec<Diagnostic>> {
    let mut sink = sink(format, Box::new(out), style, rules);
    for f in findings {
        sink.finding(f)?;
    }
    sink.finish(summary)?;
    Ok(sink.diagnostics())
}

/// A finding in one line for formats that carry a single message (SARIF, GitHub
/// annotations): what it is, the redacted value or reference, its credential and
/// the fix a slot or a retired name calls for. Never plaintext.
fn one_line(f: &Finding) -> String {
    let mut line = format!("{}: {} ({})", f.kind.as_str(), f.title, f.shown_value());
    if let Some(c) = &f.credential {
        line.push_str(&format!(
            "; credential {} v{} ({})",
            c.id, c.version, c.status
        ));
        if let Some(r) = &c.reset {
            line.push_str(&format!(", reset under {}", r.ticket));
        }
    }
    if let Some(s) = &f.context.slot {
        line.push_str(&format!("; in {}, use {} instead", s.name, s.expected));
    }
    if let Some(r) = f.reference.as_ref().filter(|r| !r.replaced_by.is_empty()) {
        line.push_str(&format!("; use {} instead", r.replaced_by.join(" or ")));
    }
    line
}
