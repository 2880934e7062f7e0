//! Human output: one block per finding naming the place, the redacted value and the fix.
//!
//! Findings linked to an inventory credential come first, grouped under one
//! line per credential version ("payments-deploy-token: 3 places still hold
//! revoked v2"), then the unmanaged ones.

use super::options::{HumanStyle, RuleInfo};
use super::{Sink, Summary};
use crate::baseline::Applied;
use crate::types::{CredentialRef, Finding, FindingKind, Severity};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

pub(super) struct Human<'w> {
    out: Box<dyn Write + 'w>,
    style: HumanStyle,
    fixes: HashMap<String, String>,
    /// Rule id → `file:line` of its definition.
    origins: HashMap<String, String>,
    /// Every finding, held until `finish` so linked ones can be grouped first.
    held: Vec<Finding>,
}

impl<'w> Human<'w> {
    pub(super) fn new(out: Box<dyn Write + 'w>, style: HumanStyle, rules: &[RuleInfo]) -> Self {
        let fixes = rules
            .iter()
            .filter_map(|r| Some((r.id.clone(), r.fix()?.to_string())))
            .collect();
        let origins = rules
            .iter()
            .map(|r| (r.id.clone(), r.defined_at.clone()))
            .collect();
        Human {
            out,
            style,
            fixes,
            origins,
            held: Vec::new(),
        }
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

/// `path:line:col` (`repo:path:line:col` when the scan covered several repositories), plus
/// `@ commit (date, author)` for history.
fn place(l: &crate::types::Location, with_repo: bool) -> String {
    let mut s = format!("{}:{}:{}", l.path, l.line, l.column);
    if with_repo {
        s = format!("{}:{s}", l.repo);
    }
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

/// "payments-deploy-token: 3 places still hold revoked v2 (reset by …)".
fn group_line(c: &CredentialRef, kind: FindingKind, n: usize) -> String {
    let places = if n == 1 {
        "1 place".to_string()
    } else {
        format!("{n} places")
    };
    let hold = if n == 1 { "holds" } else { "hold" };
    let mut line = match kind {
        FindingKind::RevokedSecretPresent => {
            format!("{}: {places} still {hold} revoked v{}", c.id, c.version)
        }
        FindingKind::RevokedIdentifierPresent => {
            format!(
                "{}: {places} still name revoked v{} by its identifier",
                c.id, c.version
            )
        }
        FindingKind::ActiveSecretExposed => {
            format!("{}: active v{} exposed in {places}", c.id, c.version)
        }
        FindingKind::RetiredReference => {
            let names = if n == 1 { "names" } else { "name" };
            format!("{}: {places} still {names} it by a retired reference", c.id)
        }
        _ => format!("{}: v{} ({}) in {places}", c.id, c.version, c.status),
    };
    if let Some(r) = &c.reset {
        line.push_str(&format!(
            " (reset by {}, approved by {}, {}: {}",
            r.by, r.approved_by, r.ticket, r.reason
        ));
        if let Some(t) = &c.revoked {
            line.push_str(&format!(", revoked {t}"));
        }
        line.push(')');
    }
    if !c.owner.is_empty() {
        line.push_str(&format!(" [owner {}]", c.owner));
    }
    if let Some(d) = c.overdue_days {
        line.push_str(&format!(" [rotation overdue by {d} days]"));
    }
    line
}

impl Human<'_> {
    /// Linked findings grouped by credential (most severe first), then the rest in order.
    fn flush_held(&mut self, with_repo: bool) -> io::Result<()> {
        let held = std::mem::take(&mut self.held);
        let mut groups: BTreeMap<
            (std::cmp::Reverse<Severity>, String, u32, FindingKind),
            Vec<&Finding>,
        > = BTreeMap::new();
        for f in &held {
            if let Some(c) = &f.credential {
                groups
                    .entry((
                        std::cmp::Reverse(f.severity),
                        c.id.clone(),
                        c.version,
                        f.kind,
                    ))
                    .or_default()
                    .push(f);
            }
        }
        for ((_, _, _, kind), list) in &groups {
            let c = list[0].credential.as_ref().expect("grouped by credential");
            let line = self.paint(
                severity_color(list[0].severity),
                &group_line(c, *kind, list.len()),
            );
            writeln!(self.out, "{line}\n")?;
            for f in list {
                self.block(f, with_repo)?;
            }
        }
        for f in held.iter().filter(|f| f.credential.is_none()) {
            self.block(f, with_repo)?;
        }
        Ok(())
    }

    fn block(&mut self, f: &Finding, with_repo: bool) -> io::Result<()> {
        let head = self.paint(
            severity_color(f.severity),
            &format!("{}[{}]", f.severity, f.kind.as_str()),
        );
        let title = self.paint("1", &f.title);
        let mut place = place(&f.location, with_repo);
        let others = f.locations.len().saturating_sub(1);
        for l in f.locations.iter().filter(|l| **l != f.location).take(MORE) {
            place.push_str(&format!("\n  --> {}", self::place(l, with_repo)));
        }
        if others > MORE {
            place.push_str(&format!("\n      … and {} more", others - MORE));
        }
        let mut block = format!("{head}: {title}\n  --> {place}\n");
        if let Some(secret) = &f.secret {
            let value = f.plaintext.as_deref().unwrap_or(&secret.redacted);
            let fp = &secret.fingerprint;
            let short_fp = &fp[..fp.len().min(fp.find(':').map_or(0, |i| i + 13))];
            block.push_str(&format!("   = secret: {value}  {short_fp}…\n"));
        }
        if let Some(r) = &f.reference {
            block.push_str(&format!("   = reference: {}\n", r.name));
        }
        let defined_at = self
            .origins
            .get(&f.rule)
            .map_or(String::new(), |o| format!(", {o}"));
        let mut rule_line = format!(
            "   = rule: {} ({} confidence{defined_at}), in {}",
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
        if let Some(c) = &f.credential {
            let owner = if c.owner.is_empty() { "-" } else { &c.owner };
            block.push_str(&format!(
                "   = credential: {} v{} ({}, owner {owner})\n",
                c.id, c.version, c.status
            ));
        }
        if let Some(slot) = &f.context.slot {
            block.push_str(&format!(
                "   = slot: {} holds a literal; use {} instead\n",
                slot.name, slot.expected
            ));
        }
        if let Some(r) = f.reference.as_ref().filter(|r| !r.replaced_by.is_empty()) {
            block.push_str(&format!(
                "   = fix: point this use at {}\n",
                r.replaced_by.join(" or ")
            ));
        } else if let Some(fix) = self.fixes.get(&f.rule) {
            block.push_str(&format!("   = fix: {fix}\n"));
        }
        writeln!(self.out, "{block}")
    }
}

impl Sink for Human<'_> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        self.held.push(f.clone());
        Ok(())
    }

    fn finish(&mut self, s: &Summary) -> io::Result<()> {
        self.flush_held(s.repositories.len() > 1)?;
        let counts: Vec<String> = ["critical", "high", "medium", "low", "info"]
            .iter()
            .filter_map(|k| s.by_severity.get(*k).map(|n| format!("{n} {k}")))
            .collect();
        let found = if s.findings == 0 && s.baseline.is_some() {
            self.paint("1;32", "no new secrets found")
        } else if s.findings == 0 {
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
        let mb = s.stats.counts.bytes_scanned as f64 / 1_000_000.0;
        let trees = s.repositories.len();
        match &s.history {
            None if trees > 1 => writeln!(
                self.out,
                "{found} in {} files ({mb:.1} MB) of {trees} repositories and directories",
                s.stats.counts.files_scanned
            )?,
            None => writeln!(
                self.out,
                "{found} in {} files ({mb:.1} MB)",
                s.stats.counts.files_scanned
            )?,
            Some(h) => writeln!(
                self.out,
                "{found} in {} files ({mb:.1} MB) and {} blobs ({:.1} MB) of {} commits in {} repositor{}",
                s.stats.counts.files_scanned,
                h.counts.blobs_scanned,
                h.counts.bytes_scanned as f64 / 1_000_000.0,
                h.counts.commits,
                h.repositories,
                if h.repositories == 1 { "y" } else { "ies" }
            )?,
        }
        if let Some(b) = &s.baseline {
            writeln!(self.out, "{}", baseline_line(s.baselined, b))?;
        }
        let c = &s.stats.counts;
        let skipped = c.skipped_binary
            + c.skipped_too_large
            + c.skipped_symlinks
            + c.skipped_archives
            + c.unreadable;
        if skipped > 0 || !s.warnings.is_empty() {
            writeln!(
                self.out,
                "skipped: {} binary, {} too large, {} symlinks, {} archives, {} unreadable; {} warning{}",
                c.skipped_binary,
                c.skipped_too_large,
                c.skipped_symlinks,
                c.skipped_archives,
                c.unreadable,
                s.warnings.len(),
                if s.warnings.len() == 1 { "" } else { "s" }
            )?;
        }
        self.out.flush()
    }
}

/// `baseline FILE: N baselined`, then stale entries (with the command that drops them) and
/// the findings reported although an entry lists them, because the inventory knows them.
fn baseline_line(baselined: usize, b: &Applied) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut line = format!(
        "baseline {}: {} baselined (not shown)",
        b.file,
        plural(baselined, "finding", "findings")
    );
    match b.stale {
        Some(0) => {}
        Some(n) => line.push_str(&format!(
            "; {} matched nothing (`keytrace baseline prune --baseline {}` drops {})",
            plural(n, "stale entry", "stale entries"),
            b.file,
            if n == 1 { "it" } else { "them" }
        )),
        None => {
            line.push_str("; stale entries not counted (the scan saw only part of the history)")
        }
    }
    if b.inventory_known > 0 {
        line.push_str(&format!(
            "; {} listed in the baseline but reported: the inventory knows the value, and a baseline never hides it",
            plural(b.inventory_known, "finding", "findings")
        ));
    }
    line
}
