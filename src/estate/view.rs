//! What both renderings derive from a sweep report: the credential × repository matrix,
//! short repository names, and the escaping a page needs.

use crate::sweep::{SweepFinding, SweepReport};
use std::collections::BTreeMap;

/// One row of the matrix: an inventory credential, or one unmanaged value.
pub(super) struct Row<'r> {
    /// The credential id, or the unmanaged value's fingerprint.
    pub key: &'r str,
    /// The credential id, or the redacted unmanaged value.
    pub label: &'r str,
    /// `credential` or `unmanaged`.
    pub what: &'static str,
    pub rules: Vec<&'r str>,
    /// Repository → finding kind → places there.
    pub cells: BTreeMap<&'r str, BTreeMap<&'r str, usize>>,
    pub places: usize,
    /// Earliest `first_seen` of any finding of the row, and the largest stale age.
    pub first_seen: Option<&'r str>,
    pub age_days: Option<u32>,
    /// Repository → index of the row's first finding in that repository's list.
    pub first_finding: BTreeMap<&'r str, usize>,
}

impl Row<'_> {
    pub fn repositories(&self) -> usize {
        self.cells.len()
    }
}

/// Which row a finding belongs to: its credential, else its unmanaged fingerprint.
pub(super) fn row_key(f: &SweepFinding) -> Option<(bool, &str)> {
    match (&f.credential, &f.fingerprint) {
        (Some(id), _) => Some((true, id.as_str())),
        (None, Some(fp)) => Some((false, fp.as_str())),
        (None, None) => None,
    }
}

/// Credentials first, then unmanaged values, each widest blast radius first: most
/// repositories, then most places, then label.
pub(super) fn matrix(report: &SweepReport) -> Vec<Row<'_>> {
    let mut rows: Vec<Row<'_>> = Vec::new();
    let mut at: BTreeMap<(bool, &str), usize> = BTreeMap::new();
    for c in &report.credentials {
        at.insert((true, c.id.as_str()), rows.len());
        rows.push(Row::new(&c.id, &c.id, "credential", Vec::new()));
    }
    for u in &report.unmanaged {
        at.insert((false, u.fingerprint.as_str()), rows.len());
        let rules = u.rules.iter().map(String::as_str).collect();
        rows.push(Row::new(&u.fingerprint, &u.redacted, "unmanaged", rules));
    }
    for r in &report.repositories {
        for (i, f) in r.findings.iter().enumerate() {
            let Some(&n) = row_key(f).and_then(|k| at.get(&k)) else {
                continue;
            };
            let row = &mut rows[n];
            if row.what == "credential" && !row.rules.contains(&f.rule.as_str()) {
                row.rules.push(&f.rule);
            }
            let cell = row.cells.entry(&r.path).or_default();
            *cell.entry(&f.kind).or_insert(0) += f.places.len().max(1);
            row.places += f.places.len().max(1);
            row.first_finding.entry(&r.path).or_insert(i);
            if let Some(seen) = f.first_seen.as_deref() {
                if row.first_seen.is_none_or(|s| seen < s) {
                    row.first_seen = Some(seen);
                }
            }
            row.age_days = row.age_days.max(f.age_days);
        }
    }
    for row in &mut rows {
        row.rules.sort_unstable();
    }
    rows.sort_by(|a, b| {
        (a.what != "credential")
            .cmp(&(b.what != "credential"))
            .then(b.repositories().cmp(&a.repositories()))
            .then(b.places.cmp(&a.places))
            .then(a.label.cmp(b.label))
            .then(a.key.cmp(b.key))
    });
    rows
}

impl<'r> Row<'r> {
    fn new(key: &'r str, label: &'r str, what: &'static str, rules: Vec<&'r str>) -> Self {
        Row {
            key,
            label,
            what,
            rules,
            cells: BTreeMap::new(),
            places: 0,
            first_seen: None,
            age_days: None,
            first_finding: BTreeMap::new(),
        }
    }
}

/// The directory every repository path lies under (with its trailing `/`), so names
/// can be shown short; empty when they share none.
pub(super) fn common_root(report: &SweepReport) -> String {
    let mut paths = report.repositories.iter().map(|r| r.path.as_str());
    let Some(first) = paths.next() else {
        return String::new();
    };
    let mut len = first.rfind('/').map_or(0, |i| i + 1);
    for p in paths {
        while len > 0 && !(p.len() >= len && p.as_bytes()[..len] == first.as_bytes()[..len]) {
            len = first[..len - 1].rfind('/').map_or(0, |i| i + 1);
        }
    }
    first[..len].to_string()
}

/// `path` without the common root (the root itself when nothing is left).
pub(super) fn short<'p>(path: &'p str, root: &str) -> &'p str {
    match path.strip_prefix(root) {
        Some("") | None => path,
        Some(rest) => rest,
    }
}

/// A finding kind as a matrix cell shows it.
pub(super) fn short_kind(kind: &str) -> &str {
    match kind {
        "revoked-secret-present" => "revoked",
        "active-secret-exposed" => "active",
        "stale-secret" => "stale",
        "unmanaged-secret" => "unmanaged",
        "revoked-identifier-present" => "revoked-id",
        "retired-reference" => "retired-ref",
        "unknown-reference" => "unknown-ref",
        other => other,
    }
}

/// The first 12 hex digits of a commit, as git shows it.
pub(super) fn short_commit(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// Text made safe for HTML element content and quoted attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(
            super::escape(r#"<script>alert('x')</script>&"y""#),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;y&quot;"
        );
    }

    #[test]
    fn short_names_drop_the_shared_directory() {
        assert_eq!(super::short("/srv/repos/a", "/srv/repos/"), "a");
        assert_eq!(super::short("/srv/repos/", "/srv/repos/"), "/srv/repos/");
        assert_eq!(super::short("/other/b", "/srv/repos/"), "/other/b");
    }
}
