//! The verify-reset verdict for people: readable in five seconds, then every remaining
//! place grouped by repository with what to do about it.

use super::record::{CredentialCheck, EvidenceRecord, Place, Remaining, Verdict};
use crate::types::FindingKind;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Where the record went, when it was appended to a log.
#[derive(Debug, Clone)]
pub struct Logged {
    pub path: String,
    pub seq: u64,
    pub digest: String,
}

/// The whole human report of one run.
pub fn render(record: &EvidenceRecord, logged: Option<&Logged>) -> String {
    let mut out = String::new();
    for c in &record.credentials {
        credential(&mut out, record, c);
        out.push('\n');
    }
    scope(&mut out, record);
    if record.credentials.len() > 1 {
        let _ = writeln!(
            out,
            "overall: {} ({} credentials checked)",
            record.verdict.as_str().to_ascii_uppercase(),
            record.credentials.len()
        );
    }
    match logged {
        Some(l) => {
            let _ = writeln!(
                out,
                "evidence: record {} appended to {} ({})",
                l.seq, l.path, l.digest
            );
        }
        None => {
            out.push_str("evidence: not recorded (give --evidence-log FILE to append a record)\n")
        }
    }
    out
}

fn credential(out: &mut String, record: &EvidenceRecord, c: &CredentialCheck) {
    let places = c.remaining.len();
    let repos = distinct_repos(&c.remaining);
    let headline = match c.verdict {
        Verdict::Complete => "COMPLETE: no revoked value, revoked identifier or retired reference remains in scope".to_string(),
        Verdict::Inconclusive => format!(
            "INCONCLUSIVE: nothing found, but the scope has {} hole(s) (listed below); close them and verify again",
            record.holes.len()
        ),
        Verdict::Incomplete => format!(
            "INCOMPLETE: {places} place(s) in {repos} repositor{} still hold the old credential",
            if repos == 1 { "y" } else { "ies" }
        ),
    };
    let _ = writeln!(out, "verify-reset {}: {headline}", c.id);
    for v in &c.versions {
        let mut line = format!("  v{} revoked", v.version);
        if let Some(at) = &v.revoked {
            let _ = write!(line, " {at}");
        }
        if let Some(r) = &v.reset {
            let _ = write!(
                line,
                " by {}, approved by {}, {} ({})",
                r.by, r.approved_by, r.ticket, r.reason
            );
        }
        let _ = write!(
            line,
            "; provider revocation: {}",
            v.revocation.as_ref().map_or_else(
                || "not recorded".to_string(),
                |r| format!("{} at {}", r.method, r.at)
            )
        );
        let _ = writeln!(out, "{line}");
    }
    if !c.retired_references.is_empty() {
        let _ = writeln!(
            out,
            "  retired references: {}",
            c.retired_references.join(", ")
        );
    }
    grouped(out, &c.remaining, "");
    if !c.history_only.is_empty() {
        let _ = writeln!(
            out,
            "  in history only, not blocking (--history-policy report): {} place(s)",
            c.history_only.len()
        );
        grouped(out, &c.history_only, "  ");
    }
}

fn distinct_repos(places: &[Remaining]) -> usize {
    let mut repos: Vec<&str> = places.iter().map(|p| p.repo.as_str()).collect();
    repos.sort_unstable();
    repos.dedup();
    repos.len()
}

/// Places grouped by repository, each with its kind and the fix it calls for.
fn grouped(out: &mut String, places: &[Remaining], indent: &str) {
    let mut by_repo: BTreeMap<&str, Vec<&Remaining>> = BTreeMap::new();
    for p in places {
        by_repo.entry(&p.repo).or_default().push(p);
    }
    for (repo, places) in by_repo {
        let _ = writeln!(out, "{indent}  {repo}");
        for p in places {
            let _ = writeln!(out, "{indent}    {}", place_line(p));
            let _ = writeln!(out, "{indent}      fix: {}", fix(p));
        }
    }
}

fn place_line(p: &Remaining) -> String {
    let what = match p.kind {
        FindingKind::RetiredReference => format!(
            "retired reference {}",
            p.reference.as_deref().unwrap_or_default()
        ),
        FindingKind::RevokedIdentifierPresent => "identifier of a revoked version".to_string(),
        _ => match p.version {
            Some(v) => format!("value of revoked v{v}"),
            None => "revoked value".to_string(),
        },
    };
    let mut line = format!("{}:{}:{}  {what}", p.path, p.line, p.column);
    if p.kind != FindingKind::RetiredReference {
        let _ = write!(line, " ({}", p.rule);
        if let Some(d) = &p.decoding {
            let _ = write!(line, ", {d}");
        }
        line.push(')');
    }
    match (&p.place, &p.commit) {
        (Place::History, Some(commit)) => {
            let short = &commit[..commit.len().min(12)];
            let _ = write!(line, "  history: commit {short}");
            if let Some(n) = p.commits {
                let _ = write!(line, ", in {n} commit(s)");
            }
        }
        _ => line.push_str("  working tree"),
    }
    line
}

/// What to do about one remaining place.
fn fix(p: &Remaining) -> String {
    match (p.kind, p.place) {
        (FindingKind::RetiredReference, _) if !p.replaced_by.is_empty() => {
            format!("point this use at {}", p.replaced_by.join(" or "))
        }
        (FindingKind::RetiredReference, _) => {
            "point this use at the credential's current reference, or remove it".to_string()
        }
        (_, Place::Tree) => "remove the value from the file (use a reference to the new secret), commit, then rewrite history: the old value is in every commit that held this file".to_string(),
        (_, Place::History) => "rewrite history to drop it (e.g. git filter-repo --replace-text), force-push every ref and tag, and have the host purge pull-request refs and caches".to_string(),
    }
}

fn scope(out: &mut String, record: &EvidenceRecord) {
    let what = if record.history {
        "working trees (ignore files off) and full history"
    } else {
        "working trees only (--no-history)"
    };
    let _ = writeln!(
        out,
        "scope: {} repositor{} / director{}, {what}; history policy: {}",
        record.scope.len(),
        if record.scope.len() == 1 { "y" } else { "ies" },
        if record.scope.len() == 1 { "y" } else { "ies" },
        match record.history_policy {
            super::record::HistoryPolicy::Block => "block",
            super::record::HistoryPolicy::Report => "report",
        }
    );
    for s in &record.scope {
        let mut line = format!("  {} ({})", s.repo, s.root);
        if let Some(h) = &s.head {
            let _ = write!(line, " HEAD {}", &h[..h.len().min(12)]);
        }
        if let Some(b) = &s.branch {
            let _ = write!(line, " on {b}");
        }
        let _ = write!(line, ": {} files", s.files_scanned);
        if s.history {
            let _ = write!(
                line,
                ", {} refs, {} commits, {} blobs",
                s.refs, s.commits, s.blobs
            );
        }
        let _ = writeln!(out, "{line}");
    }
    if record.holes.is_empty() {
        out.push_str("holes: none\n");
    } else {
        let _ = writeln!(
            out,
            "holes ({}): the verdict cannot be complete until each is closed",
            record.holes.len()
        );
        for h in &record.holes {
            let _ = writeln!(out, "  {} [{}] {}", h.repo, h.code, h.message);
        }
    }
}
