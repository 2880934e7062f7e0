//! The sweep report model: per-repository results and the estate views derived from them.

use crate::types::{Finding, FindingKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One place of a finding inside its repository (no plaintext, ever).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Place {
    pub path: String,
    pub line: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// A finding as the sweep keeps it: small, fingerprinted, with every place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepFinding {
    pub kind: String,
    pub severity: String,
    pub rule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The redacted value, or the reference's name.
    pub shown: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// Days since `first_seen` when the finding was swept (stale secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_days: Option<u32>,
    pub places: Vec<Place>,
}

impl SweepFinding {
    /// The sweep's view of a scan finding; `now` dates the age of stale secrets.
    pub fn of(f: &Finding, now: i64) -> Self {
        let age_days = (f.kind == FindingKind::StaleSecret)
            .then(|| f.first_seen.as_deref().and_then(crate::time::parse))
            .flatten()
            .map(|t| crate::time::days_between(t, now));
        SweepFinding {
            kind: f.kind.as_str().to_string(),
            severity: f.severity.as_str().to_string(),
            rule: f.rule.clone(),
            fingerprint: f.secret.as_ref().map(|s| s.fingerprint.clone()),
            shown: f.shown_value().to_string(),
            credential: f.credential.as_ref().map(|c| c.id.clone()),
            version: f.credential.as_ref().map(|c| c.version),
            first_seen: f.first_seen.clone(),
            age_days,
            places: f
                .locations
                .iter()
                .map(|l| Place {
                    path: l.path.clone(),
                    line: l.line,
                    commit: l.commit.clone(),
                })
                .collect(),
        }
    }
}

/// What the sweep saw in one repository, or why it could not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoResult {
    /// Absolute path of the repository (working tree root, or the bare directory).
    pub path: String,
    #[serde(default)]
    pub head: Option<String>,
    #[serde(default)]
    pub bare: bool,
    #[serde(default)]
    pub files_scanned: u64,
    #[serde(default)]
    pub blobs_scanned: u64,
    /// Blobs whose findings came from the cache instead of a scan.
    #[serde(default)]
    pub blobs_reused: u64,
    #[serde(default)]
    pub findings_by_kind: BTreeMap<String, u64>,
    /// Why the repository (or part of it) could not be swept; empty when all went well.
    #[serde(default)]
    pub errors: Vec<String>,
    #[serde(default)]
    pub findings: Vec<SweepFinding>,
}

impl RepoResult {
    /// An entry for a repository that could not be swept.
    pub fn failed(path: String, error: String) -> Self {
        RepoResult {
            path,
            head: None,
            bare: false,
            files_scanned: 0,
            blobs_scanned: 0,
            blobs_reused: 0,
            findings_by_kind: BTreeMap::new(),
            errors: vec![error],
            findings: Vec::new(),
        }
    }
}

#[cfg(test)]
impl RepoResult {
    /// A repository that read cleanly and holds one unmanaged value at no place, for the
    /// unit tests of the report and its renderings.
    pub(crate) fn with_unmanaged(path: &str, rule: &str, fingerprint: &str) -> Self {
        let mut r = RepoResult::failed(path.to_string(), String::new());
        r.errors.clear();
        r.findings.push(SweepFinding {
            kind: "unmanaged-secret".into(),
            severity: "high".into(),
            rule: rule.into(),
            fingerprint: Some(fingerprint.into()),
            shown: "ghp_…".into(),
            credential: None,
            version: None,
            first_seen: None,
            age_days: None,
            places: Vec::new(),
        });
        r
    }
}

/// A place in the estate: repository, file, line, and commit for history.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EstatePlace {
    pub repo: String,
    pub path: String,
    pub line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    pub kind: String,
}

/// Blast radius of one inventory credential: every repository and place it was found.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialSpread {
    pub id: String,
    pub repositories: Vec<String>,
    pub places: Vec<EstatePlace>,
}

/// One unmanaged value and every place across the estate it was found.
#[derive(Debug, Clone, Serialize)]
pub struct UnmanagedGroup {
    pub fingerprint: String,
    pub redacted: String,
    pub rules: Vec<String>,
    pub repositories: Vec<String>,
    pub places: Vec<EstatePlace>,
}

/// A stale secret: unmanaged and first committed long ago.
#[derive(Debug, Clone, Serialize)]
pub struct StaleEntry {
    pub fingerprint: String,
    pub redacted: String,
    pub repo: String,
    pub path: String,
    pub first_seen: Option<String>,
    pub age_days: Option<u32>,
}

/// Estate-wide counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub repositories: u64,
    pub repositories_with_errors: u64,
    pub files_scanned: u64,
    pub blobs_scanned: u64,
    pub blobs_reused: u64,
    pub findings: u64,
    pub findings_by_kind: BTreeMap<String, u64>,
    pub credentials: u64,
    pub unmanaged_values: u64,
}

/// The estate report (`sweep --output`, `merge`): same results, same bytes.
pub type SweepReport = Report<Vec<RepoResult>>;

/// The estate report around its repository entries: held ([`SweepReport`]), or streamed
/// from disk while the report is written.
#[derive(Debug, Clone, Serialize)]
pub struct Report<R> {
    pub schema_version: u32,
    pub report: &'static str,
    pub totals: Totals,
    pub credentials: Vec<CredentialSpread>,
    pub unmanaged: Vec<UnmanagedGroup>,
    pub stale: Vec<StaleEntry>,
    pub repositories: R,
}

/// What the estate views accumulate per key: repositories and places, deduplicated.
#[derive(Default)]
struct Spread {
    repos: BTreeSet<String>,
    places: BTreeSet<EstatePlace>,
    rules: BTreeSet<String>,
    redacted: String,
}

impl Spread {
    fn add(&mut self, repo: &str, f: &SweepFinding) {
        self.repos.insert(repo.to_string());
        self.rules.insert(f.rule.clone());
        if self.redacted.is_empty() {
            self.redacted.clone_from(&f.shown);
        }
        for p in &f.places {
            self.places.insert(EstatePlace {
                repo: repo.to_string(),
                path: p.path.clone(),
                line: p.line,
                commit: p.commit.clone(),
                kind: f.kind.clone(),
            });
        }
    }
}

/// The estate views, accumulated one repository at a time (in path order), so that a
/// report can be written without holding every repository's results.
#[derive(Default)]
pub(super) struct Views {
    totals: Totals,
    credentials: BTreeMap<String, Spread>,
    unmanaged: BTreeMap<String, Spread>,
    stale: Vec<StaleEntry>,
}

impl Views {
    pub(super) fn add(&mut self, r: &RepoResult) {
        let totals = &mut self.totals;
        totals.repositories += 1;
        totals.repositories_with_errors += u64::from(!r.errors.is_empty());
        totals.files_scanned += r.files_scanned;
        totals.blobs_scanned += r.blobs_scanned;
        totals.blobs_reused += r.blobs_reused;
        for f in &r.findings {
            totals.findings += 1;
            *totals.findings_by_kind.entry(f.kind.clone()).or_insert(0) += 1;
            if let Some(id) = &f.credential {
                self.credentials
                    .entry(id.clone())
                    .or_default()
                    .add(&r.path, f);
            } else if let Some(fp) = &f.fingerprint {
                self.unmanaged
                    .entry(fp.clone())
                    .or_default()
                    .add(&r.path, f);
            }
            if f.kind == FindingKind::StaleSecret.as_str() {
                self.stale.push(StaleEntry {
                    fingerprint: f.fingerprint.clone().unwrap_or_default(),
                    redacted: f.shown.clone(),
                    repo: r.path.clone(),
                    path: f.places.first().map(|p| p.path.clone()).unwrap_or_default(),
                    first_seen: f.first_seen.clone(),
                    age_days: f.age_days,
                });
            }
        }
    }

    /// The report around `repositories` (which must be the results added, in path order).
    pub(super) fn finish<R>(self, repositories: R) -> Report<R> {
        let mut totals = self.totals;
        totals.credentials = self.credentials.len() as u64;
        totals.unmanaged_values = self.unmanaged.len() as u64;
        Report {
            schema_version: 1,
            report: "keytrace-sweep",
            totals,
            credentials: self
                .credentials
                .into_iter()
                .map(|(id, s)| CredentialSpread {
                    id,
                    repositories: s.repos.into_iter().collect(),
                    places: s.places.into_iter().collect(),
                })
                .collect(),
            unmanaged: self
                .unmanaged
                .into_iter()
                .map(|(fingerprint, s)| UnmanagedGroup {
                    fingerprint,
                    redacted: s.redacted,
                    rules: s.rules.into_iter().collect(),
                    repositories: s.repos.into_iter().collect(),
                    places: s.places.into_iter().collect(),
                })
                .collect(),
            stale: self.stale,
            repositories,
        }
    }
}

/// Joins per-repository results, in any order, into the estate report.
pub fn build_report(results: impl IntoIterator<Item = RepoResult>) -> SweepReport {
    let mut repositories: Vec<RepoResult> = results.into_iter().collect();
    repositories.sort_by(|a, b| a.path.cmp(&b.path));
    repositories.dedup_by(|a, b| a.path == b.path);
    let mut views = Views::default();
    for r in &repositories {
        views.add(r);
    }
    views.finish(repositories)
}
