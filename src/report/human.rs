//! Human output: one block per finding naming the place, the redacted value and the fix.

use super::options::{HumanStyle, RuleInfo};
use super::{Sink, Summary};
use crate::types::{Finding, Severity};
use std::collections::HashMap;
use std::io::{self, Write};

pub(super) struct Human<'w> {
    out: Box<dyn Write + 'w>,
    style: HumanStyle,
    fixes: HashMap<String, String>,
}

impl<'w> Human<'w> {
    pub(super) fn new(out: Box<dyn Write + 'w>, style: HumanStyle, rules: &[RuleInfo]) -> Self {
        let fixes = rules
            .iter()
            .filter_map(|r| Some((r.id.clone(), r.fix()?.to_string())))
            .collect();
        Human { out, style, fixes }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.style.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Extra locations shown per finding before "… and N more".
const MORE: usize = 5;

/// `path:line:col`, plus `@ commit (date, author)` for history.
fn place(l: &crate::types::Location) -> String {
    let mut s = format!("{}:{}:{}", l.path, l.line, l.column);
    if let Some(commit) = &l.commit {
        s.push_str(&format!(" @ {}", &commit[..commit.len().min(12)]));
        if let (Some(date), Some(author)) = (&l.date, &l.author) {
            s.push_str(&format!(" ({date}, {author})"));
        }
    }
    s
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "1;35",
        Severity::High => "1;31",
        Severity::Medium => "1;33",
        Severity::Low => "1;36",
        Severity::Info => "1;34",
    }
}

impl Sink for Human<'_> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        let head = self.paint(
            severity_color(f.severity),
            &format!("{}[{}]", f.severity, f.kind.as_str()),
        );
        let title = self.paint("1", &f.title);
        let mut place = place(&f.location);
        let others = f.locations.len().saturating_sub(1);
        for l in f.locations.iter().filter(|l| **l != f.location).take(MORE) {
            place.push_str(&format!("\n  --> {}", self::place(l)));
        }
        if others > MORE {
            place.push_str(&format!("\n      … and {} more", others - MORE));
        }
        let value = match &f.plaintext {
            Some(p) => p.clone(),
            None => f.secret.redacted.clone(),
        };
        let fp = &f.secret.fingerprint;
        let short_fp = &fp[..fp.len().min(fp.find(':').map_or(0, |i| i + 13))];
        let mut block =
            format!("{head}: {title}\n  --> {place}\n   = secret: {value}  {short_fp}…\n");
        let mut rule_line = format!(
            "   = rule: {} ({} confidence), in {}",
            f.rule,
            f.confidence.as_str(),
            f.context.file_kind
        );
        if let Some(d) = &f.context.decoding {
            rule_line.push_str(&format!(", decoded from {d}"));
        }
        block.push_str(&rule_line);
        block.push('\n');
        if !f.identifiers.is_empty() {
            block.push_str(&format!("   = identifier: {}\n", f.identifiers.join(", ")));
        }
        if let Some(fix) = self.fixes.get(&f.rule) {
            block.push_str(&format!("   = fix: {fix}\n"));
        }
        writeln!(self.out, "{block}")
    }

    fn finish(&mut self, s: &Summary) -> io::Result<()> {
        let counts: Vec<String> = ["critical", "high", "medium", "low", "info"]
            .iter()
            .filter_map(|k| s.by_severity.get(*k).map(|n| format!("{n} {k}")))
            .collect();
        let found = if s.findings == 0 {
            self.paint("1;32", "no secrets found")
        } else {
            self.paint(
                "1",
                &format!(
                    "{} finding{} ({})",
                    s.findings,
                    if s.findings == 1 { "" } else { "s" },
                    counts.join(", ")
                ),
            )
        };
        let mb = s.stats.bytes_scanned as f64 / 1_000_000.0;
        match &s.history {
            None => writeln!(
                self.out,
                "{found} in {} files ({mb:.1} MB)",
                s.stats.files_scanned
            )?,
            Some(h) => writeln!(
                self.out,
                "{found} in {} files ({mb:.1} MB) and {} blobs ({:.1} MB) of {} commits in {} repositor{}",
                s.stats.files_scanned,
                h.blobs_scanned,
                h.bytes_scanned as f64 / 1_000_000.0,
                h.commits,
                h.repositories,
                if h.repositories == 1 { "y" } else { "ies" }
            )?,
        }
        let skipped = s.stats.skipped_binary
            + s.stats.skipped_too_large
            + s.stats.skipped_symlinks
            + s.stats.unreadable;
        if skipped > 0 || !s.warnings.is_empty() {
            writeln!(
                self.out,
                "skipped: {} binary, {} too large, {} symlinks, {} unreadable; {} warning{}",
                s.stats.skipped_binary,
                s.stats.skipped_too_large,
                s.stats.skipped_symlinks,
                s.stats.unreadable,
                s.warnings.len(),
                if s.warnings.len() == 1 { "" } else { "s" }
            )?;
        }
        self.out.flush()
    }
}
