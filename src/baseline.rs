//! Baselines: the findings a repository already had when it adopted keytrace, so that a
//! CI gate reports only what a change adds (DESIGN §1, issue 12).
//!
//! The file is JSON Lines: a header line naming the format and its version, then one
//! entry per line, sorted, with neither timestamps nor line numbers. Regenerating it
//! from the same findings gives the same bytes, and two pull requests that each add an
//! entry touch different lines (a JSON array would make both edit its last line).
//!
//! An entry matches on rule + secret fingerprint (or, for reference findings, the
//! reference name), plus the repository when the baseline was made from a scan of
//! several repositories. The path is kept only to tell a reader where the debt lies:
//! moving a line or renaming the file keeps the finding baselined. A finding whose
//! value the inventory knows is never hidden: the inventory's verdict outranks a list
//! of old debt.

use crate::atomic_file::{self, Durability};
use crate::diag::{Code, Diagnostic};
use crate::types::{Finding, FindingKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// The `format` value of the header line.
pub const FORMAT: &str = "keytrace-baseline";
/// Version of the baseline layout; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// A baseline that cannot be read or written; always names the file (and line).
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{path}: cannot read the baseline: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: malformed baseline: {message}")]
    Malformed {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}: cannot write the baseline: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// The first line of every baseline file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    schema_version: u32,
    /// The public id of the `hmac-sha256:` fingerprint key (none for `sha256:`): a scan
    /// under another key could match nothing, so it is an error, not a flood of findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fingerprint_key: Option<String>,
}

/// One finding of the day the baseline was made. Field order is the sort order and the
/// order on the line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Only in baselines of several repositories: the same secret in another one is new debt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repo: Option<String>,
    rule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fingerprint: Option<String>,
    /// The reference name, for reference findings (which hold no secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    /// Where the finding was: information for the reader, not part of the match.
    path: String,
}

impl Entry {
    fn of(f: &Finding, with_repo: bool) -> Entry {
        Entry {
            repo: with_repo.then(|| f.location.repo.clone()),
            rule: f.rule.clone(),
            fingerprint: f.secret.as_ref().map(|s| s.fingerprint.clone()),
            reference: f.reference.as_ref().map(|r| r.name.clone()),
            path: f.location.path.clone(),
        }
    }
}

/// The entries of a baseline, sorted and without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    entries: BTreeSet<Entry>,
    /// `Fingerprinter::key_id` of the key the fingerprints were made under.
    key_id: Option<String>,
}

/// What applying a baseline to a scan did, for the summary of every report format.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    /// The baseline file as given.
    pub file: String,
    pub entries: usize,
    /// Entries that matched no finding; null when the scan saw only part of the history
    /// (`--rev-range`, `--staged`, `--since`), where an absent finding proves nothing.
    pub stale: Option<usize>,
    /// Findings a baseline entry matches that are reported anyway, because the inventory
    /// knows their value (revoked, active, a revoked identifier or a retired reference).
    pub inventory_known: usize,
    /// Findings left out, per repository (SARIF puts each count on its repository's run).
    #[serde(skip)]
    pub by_repo: BTreeMap<String, usize>,
}

impl Applied {
    /// Findings left out of the report.
    pub fn baselined(&self) -> usize {
        self.by_repo.values().sum()
    }

    /// A `stale-baseline-entry` warning when entries matched nothing, with the command that drops them.
    pub fn warning(&self) -> Option<Diagnostic> {
        let stale = self.stale.filter(|n| *n > 0)?;
        Some(Diagnostic::new(
            Code::StaleBaselineEntry,
            self.file.clone(),
            format!(
                "{stale} baseline entr{} matched no finding; `keytrace baseline prune --baseline {}` drops {}",
                if stale == 1 { "y" } else { "ies" },
                self.file,
                if stale == 1 { "it" } else { "them" },
            ),
        ))
    }
}

/// The kinds a baseline never hides: the inventory says the value is a known credential.
fn inventory_known(kind: FindingKind) -> bool {
    matches!(
        kind,
        FindingKind::RevokedSecretPresent
            | FindingKind::ActiveSecretExposed
            | FindingKind::RevokedIdentifierPresent
            | FindingKind::RetiredReference
    )
}

impl Baseline {
    /// Today's findings as a baseline, their fingerprints made under the key `key_id`
    /// names. Entries carry the repository when `with_repo` (a scan of several
    /// repositories). Findings the inventory knows are left out, since no entry would
    /// hide them; the second value counts them.
    pub fn from_findings(
        findings: &[Finding],
        with_repo: bool,
        key_id: Option<String>,
    ) -> (Baseline, usize) {
        let (known, debt): (Vec<&Finding>, Vec<&Finding>) =
            findings.iter().partition(|f| inventory_known(f.kind));
        let entries = debt.iter().map(|f| Entry::of(f, with_repo)).collect();
        (Baseline { entries, key_id }, known.len())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Reads and checks a baseline file: the header's format, version and fingerprint key
    /// (it must be `key_id`, the scan's), then every entry.
    pub fn load(path: &Path, key_id: Option<&str>) -> Result<Baseline, BaselineError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: name.clone(),
            source,
        })?;
        Baseline::parse(&name, &text, key_id)
    }

    fn parse(name: &str, text: &str, key_id: Option<&str>) -> Result<Baseline, BaselineError> {
        let bad = |line: usize, message: String| BaselineError::Malformed {
            path: name.to_string(),
            line,
            message,
        };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty());
        let expected = format!("{{\"format\":\"{FORMAT}\",\"schema_version\":{SCHEMA_VERSION}}}");
        let (n, first) = lines
            .next()
            .ok_or_else(|| bad(1, format!("empty file; the first line must be {expected}")))?;
        let header: Header = serde_json::from_str(first).map_err(|e| {
            bad(
                n,
                format!("not a baseline header ({e}); expected {expected}"),
            )
        })?;
        if header.format != FORMAT {
            return Err(bad(
                n,
                format!("format `{}` is not {FORMAT}", header.format),
            ));
        }
        if header.schema_version != SCHEMA_VERSION {
            return Err(bad(
                n,
                format!(
                    "schema_version {} is not supported (this keytrace reads {SCHEMA_VERSION})",
                    header.schema_version
                ),
            ));
        }
        if header.fingerprint_key.as_deref() != key_id {
            let key = |id: Option<&str>| {
                id.map_or("plain sha256 (no key)".to_string(), |id| {
                    format!("hmac key {id}")
                })
            };
            return Err(bad(
                n,
                format!(
                    "its fingerprints were made with {}, this scan's with {}: set KEYTRACE_FINGERPRINT_KEY as when the baseline was made",
                    key(header.fingerprint_key.as_deref()),
                    key(key_id)
                ),
            ));
        }
        let mut entries = BTreeSet::new();
        for (n, line) in lines {
            let entry: Entry = serde_json::from_str(line).map_err(|e| bad(n, e.to_string()))?;
            if entry.rule.is_empty() {
                return Err(bad(n, "empty `rule`".to_string()));
            }
            if entry.fingerprint.is_some() == entry.reference.is_some() {
                return Err(bad(
                    n,
                    "an entry needs exactly one of `fingerprint` and `reference`".to_string(),
                ));
            }
            entries.insert(entry);
        }
        Ok(Baseline {
            entries,
            key_id: header.fingerprint_key,
        })
    }

    /// The file's bytes: the header line, then one sorted entry per line.
    pub fn render(&self) -> String {
        let header = Header {
            format: FORMAT.to_string(),
            schema_version: SCHEMA_VERSION,
            fingerprint_key: self.key_id.clone(),
        };
        let mut out = serde_json::to_string(&header).expect("header serializes");
        out.push('\n');
        for e in &self.entries {
            out.push_str(&serde_json::to_string(e).expect("entry serializes"));
            out.push('\n');
        }
        out
    }

    /// Writes the baseline atomically: readers see the old file or the new, never part.
    pub fn write(&self, path: &Path) -> Result<(), BaselineError> {
        atomic_file::replace(path, self.render().as_bytes(), Durability::Synced).map_err(|source| {
            BaselineError::Write {
                path: path.display().to_string(),
                source,
            }
        })
    }

    /// Leaves out the findings an entry matches, except those the inventory knows.
    /// `resolve` maps a rule id that may have been renamed to the current one
    /// (rules/aliases.toml). `whole_scope` says the scan saw everything the baseline
    /// could list, so entries that matched nothing are counted as stale.
    pub fn apply(
        &self,
        findings: Vec<Finding>,
        resolve: &dyn Fn(&str) -> String,
        whole_scope: bool,
        file: &Path,
    ) -> (Vec<Finding>, Applied) {
        let index = Matches::new(self, resolve);
        let mut applied = Applied {
            file: file.display().to_string(),
            entries: self.entries.len(),
            stale: None,
            inventory_known: 0,
            by_repo: BTreeMap::new(),
        };
        let mut matched = vec![false; self.entries.len()];
        let mut kept = Vec::with_capacity(findings.len());
        for f in findings {
            let hits = index.hits(&f);
            for &i in &hits {
                // Also when the inventory knows the value: it is still there, so not stale.
                matched[i] = true;
            }
            if hits.is_empty() {
                kept.push(f);
            } else if inventory_known(f.kind) {
                applied.inventory_known += 1;
                kept.push(f);
            } else {
                *applied.by_repo.entry(f.location.repo.clone()).or_insert(0) += 1;
            }
        }
        if whole_scope {
            applied.stale = Some(matched.iter().filter(|m| !**m).count());
        }
        (kept, applied)
    }

    /// The baseline without the entries no finding matches any more, with rule ids
    /// brought up to date; the second value counts the entries dropped.
    pub fn pruned(
        &self,
        findings: &[Finding],
        resolve: &dyn Fn(&str) -> String,
    ) -> (Baseline, usize) {
        let index = Matches::new(self, resolve);
        let mut matched = vec![false; self.entries.len()];
        for f in findings {
            for i in index.hits(f) {
                matched[i] = true;
            }
        }
        let entries: BTreeSet<Entry> = self
            .entries
            .iter()
            .zip(&matched)
            .filter(|(_, m)| **m)
            .map(|(e, _)| Entry {
                rule: resolve(&e.rule),
                ..e.clone()
            })
            .collect();
        let dropped = matched.iter().filter(|m| !**m).count();
        (
            Baseline {
                entries,
                key_id: self.key_id.clone(),
            },
            dropped,
        )
    }
}

/// Match key of an entry or a finding: current rule id, fingerprint, reference name.
type Key<'a> = (String, Option<&'a str>, Option<&'a str>);

/// The entries indexed by match key, each with its position and repository (if any).
struct Matches<'a> {
    by_key: HashMap<Key<'a>, Vec<(usize, Option<&'a str>)>>,
}

impl<'a> Matches<'a> {
    fn new(baseline: &'a Baseline, resolve: &dyn Fn(&str) -> String) -> Self {
        let mut by_key: HashMap<Key<'a>, Vec<(usize, Option<&'a str>)>> = HashMap::new();
        for (i, e) in baseline.entries.iter().enumerate() {
            let key = (
                resolve(&e.rule),
                e.fingerprint.as_deref(),
                e.reference.as_deref(),
            );
            by_key.entry(key).or_default().push((i, e.repo.as_deref()));
        }
        Matches { by_key }
    }

    /// Positions of the entries that match `f`: same key, and same repository when the entry names one.
    fn hits(&self, f: &Finding) -> Vec<usize> {
        let key = (
            f.rule.clone(),
            f.secret.as_ref().map(|s| s.fingerprint.as_str()),
            f.reference.as_ref().map(|r| r.name.as_str()),
        );
        self.by_key
            .get(&key)
            .into_iter()
            .flatten()
            .filter(|(_, repo)| repo.is_none_or(|r| r == f.location.repo.as_str()))
            .map(|(i, _)| *i)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"format":"keytrace-baseline","schema_version":1}"#;

    fn parse(text: &str) -> Result<Baseline, BaselineError> {
        Baseline::parse("b.jsonl", text, None)
    }

    #[test]
    fn render_and_parse_round_trip_sorted_and_deduplicated() {
        let text = format!(
            "{HEADER}\n{}\n{}\n{}\n",
            r#"{"rule":"z-rule","fingerprint":"sha256:01","path":"b.py"}"#,
            r#"{"rule":"a-rule","reference":"secrets:OLD","path":"ci.yml"}"#,
            r#"{"rule":"z-rule","fingerprint":"sha256:01","path":"b.py"}"#,
        );
        let b = parse(&text).expect("parses");
        assert_eq!(b.len(), 2);
        let rendered = b.render();
        assert_eq!(
            rendered,
            format!(
                "{HEADER}\n{}\n{}\n",
                r#"{"rule":"a-rule","reference":"secrets:OLD","path":"ci.yml"}"#,
                r#"{"rule":"z-rule","fingerprint":"sha256:01","path":"b.py"}"#,
            )
        );
        assert_eq!(parse(&rendered).expect("parses again"), b);
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let cases = [
            (String::new(), "b.jsonl:1: malformed baseline: empty file"),
            (
                format!("{HEADER}\n\n{{\"rule\":\"r\",\"path\":\"p\"}}\n"),
                "b.jsonl:3: malformed baseline: an entry needs exactly one of",
            ),
            (
                r#"{"format":"other","schema_version":1}"#.to_string(),
                "b.jsonl:1: malformed baseline: format `other`",
            ),
            (
                format!("{HEADER}\n{{\"rule\":\"\",\"fingerprint\":\"f\",\"path\":\"p\"}}\n"),
                "b.jsonl:2: malformed baseline: empty `rule`",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(&text).expect_err(&text).to_string();
            assert!(err.starts_with(expected), "{err}");
        }
    }

    #[test]
    fn a_baseline_under_another_fingerprint_key_is_refused() {
        let keyed = r#"{"format":"keytrace-baseline","schema_version":1,"fingerprint_key":"abc"}"#;
        let err = parse(keyed).expect_err("plain scan, keyed baseline");
        assert!(err.to_string().contains("hmac key abc"), "{err}");
        let err = Baseline::parse("b.jsonl", HEADER, Some("abc")).expect_err("keyed scan");
        assert!(err.to_string().contains("plain sha256"), "{err}");
        let b = Baseline::parse("b.jsonl", keyed, Some("abc")).expect("same key");
        assert_eq!(b.render(), format!("{keyed}\n"));
    }
}
