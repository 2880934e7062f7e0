//! The sweep report model: per-repository results and the estate views derived from them.

use crate::types::{Finding, FindingKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

    /// What holds a secret value not in the redacted shape of `fingerprint::redact`
    /// (`ghp_ab…(40 chars)`), if anything: a sweep writes nothing else, but a report
    /// edited by hand or written by another tool might.
    pub fn unredacted(&self) -> Option<String> {
        let f = self
            .findings
            .iter()
            .find(|f| f.fingerprint.is_some() && !looks_redacted(&f.shown))?;
        let place = f
            .places
            .first()
            .map_or(String::new(), |p| format!(" at {}:{}", p.path, p.line));
        Some(format!("the {} finding in {}{place}", f.rule, self.path))
    }
}

/// Whether a secret's shown value has the shape of `fingerprint::redact`: a short hint,
/// `…`, then the length.
fn looks_redacted(shown: &str) -> bool {
    shown.strip_suffix(" chars)").is_some_and(|head| {
        head.rsplit_once("…(")
            .is_some_and(|(hint, n)| hint.chars().count() <= 6 && n.parse::<u32>().is_ok())
    })
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
            shown: "ghp_…(40 chars)".into(),
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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EstatePlace {
    pub repo: String,
    pub path: String,
    pub line: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    pub kind: String,
}

/// Blast radius of one inventory credential: every repository and place it was found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CredentialSpread {
    pub id: String,
    pub repositories: Vec<String>,
    pub places: Vec<EstatePlace>,
}

/// One unmanaged value and every place across the estate it was found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnmanagedGroup {
    pub fingerprint: String,
    pub redacted: String,
    pub rules: Vec<String>,
    pub repositories: Vec<String>,
    pub places: Vec<EstatePlace>,
}

/// A stale secret: unmanaged and first committed long ago.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StaleEntry {
    pub fingerprint: String,
    pub redacted: String,
    pub repo: String,
    pub path: String,
    pub first_seen: Option<String>,
    pub age_days: Option<u32>,
}

/// Estate-wide counts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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

/// The estate report (`sweep --output`, `merge`), held: what `keytrace report` renders.
pub type SweepReport = Report;

/// The estate report. Held with the default parameters ([`SweepReport`]); written with
/// each list streamed from disk (`spool`), as serde writes the held one, byte for byte.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report<
    C = Vec<CredentialSpread>,
    U = Vec<UnmanagedGroup>,
    S = Vec<StaleEntry>,
    R = Vec<RepoResult>,
> {
    pub schema_version: u32,
    pub report: String,
    pub totals: Totals,
    pub credentials: C,
    pub unmanaged: U,
    pub stale: S,
    pub repositories: R,
}

/// What the report kind of a sweep report is.
pub(super) const REPORT_KIND: &str = "keytrace-sweep";

/// One item of an estate view (per credential, or per unmanaged fingerprint), keyed and
/// ordered as the report lists them: for each key its findings' rules and shown values
/// in sweep order, then its repositories, then its places, each sorted as the report
/// sorts them. Grouped on disk by sorting, so no view is ever held whole.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(super) struct ViewItem {
    pub key: String,
    pub part: ViewPart,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(super) enum ViewPart {
    /// Finding `seq` of repository `repo`: the first non-empty `shown` is the group's.
    Finding {
        repo: String,
        seq: usize,
        rule: String,
        shown: String,
    },
    Repo(String),
    Place(EstatePlace),
}
