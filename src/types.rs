//! Plain data shared by the pipeline stages; no I/O happens here.
//!
//! Sources produce [`Chunk`]s, the matcher turns them into [`RawMatch`]es, the
//! linker turns those into [`Finding`]s and reports format them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Version of the JSON/JSONL report layout; bumped on incompatible changes.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// Where a chunk of bytes came from: enough to point a user at it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Origin {
    /// Repository (or scan root) name, as given by the source.
    pub repo: String,
    /// Path relative to the repository root, `/`-separated.
    pub path: String,
    /// Commit that introduced this content, for history scans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Author of that commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Author date of that commit (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Number of commits whose tree holds this blob, for history scans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits: Option<u64>,
    /// Committer time of `commit` (seconds since the epoch): orders history locations.
    #[serde(skip)]
    pub time: Option<i64>,
}

/// Bytes to scan plus their provenance: the one input type of the matcher.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    pub bytes: &'a [u8],
    pub origin: &'a Origin,
}

/// How sure a rule is that its capture is a real secret (DESIGN §3).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// Severity of a finding; `--fail-on` gates on it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// One confirmed rule match in a chunk, before any inventory is consulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMatch {
    /// Index of the rule in the compiled rule set.
    pub rule: usize,
    /// The captured secret as written.
    pub secret: String,
    /// The same value in canonical form (`fingerprint::canonical`).
    pub canonical: String,
    /// 1-based line and column of the capture (of the encoded text when decoded).
    pub line: u32,
    pub column: u32,
    /// Decoding applied before the rule matched, if any (`base64`, `json-string`).
    pub decoding: Option<&'static str>,
    /// Identifiers (e.g. AWS key ids) found next to this secret.
    pub identifiers: Vec<String>,
}

/// The stable list of finding kinds (DESIGN §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    RevokedSecretPresent,
    ActiveSecretExposed,
    StaleSecret,
    UnmanagedSecret,
    RevokedIdentifierPresent,
    RetiredReference,
    UnknownReference,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::RevokedSecretPresent => "revoked-secret-present",
            FindingKind::ActiveSecretExposed => "active-secret-exposed",
            FindingKind::StaleSecret => "stale-secret",
            FindingKind::UnmanagedSecret => "unmanaged-secret",
            FindingKind::RevokedIdentifierPresent => "revoked-identifier-present",
            FindingKind::RetiredReference => "retired-reference",
            FindingKind::UnknownReference => "unknown-reference",
        }
    }

    /// The one-line title of the findings that come from the inventory's references,
    /// not from a rule file (`None` for the kinds a rule names).
    pub fn reference_title(self) -> Option<&'static str> {
        match self {
            FindingKind::RetiredReference => Some("Reference to a retired secret name"),
            FindingKind::UnknownReference => Some("Reference that no inventory entry lists"),
            _ => None,
        }
    }

    /// Default severity from the DESIGN §5 table.
    pub fn default_severity(self) -> Severity {
        match self {
            FindingKind::ActiveSecretExposed => Severity::Critical,
            FindingKind::RevokedSecretPresent
            | FindingKind::UnmanagedSecret
            | FindingKind::StaleSecret => Severity::High,
            FindingKind::RevokedIdentifierPresent | FindingKind::RetiredReference => {
                Severity::Medium
            }
            FindingKind::UnknownReference => Severity::Info,
        }
    }
}

/// A secret as reports may show it: never the plaintext.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SecretRef {
    pub fingerprint: String,
    pub redacted: String,
}

/// Exact place of a finding.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    pub repo: String,
    pub path: String,
    pub line: u32,
    pub column: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Number of commits whose tree holds the blob (history only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits: Option<u64>,
    /// Committer time of `commit`, for ordering (not serialized).
    #[serde(skip)]
    pub time: Option<i64>,
}

impl Location {
    /// The place `line`:`column` of a chunk from `origin`.
    pub fn at(origin: &Origin, line: u32, column: u32) -> Location {
        Location {
            repo: origin.repo.clone(),
            path: origin.path.clone(),
            line,
            column,
            commit: origin.commit.clone(),
            author: origin.author.clone(),
            date: origin.date.clone(),
            commits: origin.commits,
            time: origin.time,
        }
    }

    /// Order of locations within a finding: working tree first, then history oldest first.
    pub fn order_key(&self) -> impl Ord + '_ {
        (
            self.time.is_some(),
            self.time,
            &self.commit,
            &self.path,
            self.line,
            self.column,
        )
    }
}

/// Inventory credential a finding belongs to (null when unmanaged).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct CredentialRef {
    pub id: String,
    /// 1-based version number within the credential.
    pub version: u32,
    pub status: String,
    pub owner: String,
    /// When the version was revoked (RFC 3339), for revoked versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked: Option<String>,
    /// Who reset it, who approved, under which ticket and why, for revoked versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset: Option<ResetRecord>,
    /// Days the credential's active version is past its `rotation_days`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue_days: Option<u32>,
}

/// The reset record of a revoked inventory version (DESIGN §4).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetRecord {
    pub by: String,
    pub approved_by: String,
    pub ticket: String,
    pub reason: String,
}

/// What kind of file the finding is in, how its value was decoded, and the
/// slot it sits in when that slot should have held a reference.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FindingContext {
    pub file_kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slot: Option<SlotRef>,
}

/// A place meant for a reference that holds the literal instead (a workflow `env:`
/// entry, a container `env[].value`): where it is and what belongs there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SlotRef {
    pub name: String,
    pub expected: String,
}

/// The reference a `retired-reference` or `unknown-reference` finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ReferenceRef {
    /// `scheme:name` as used in the file.
    pub name: String,
    /// The credential's current references of the same scheme, to point the use at instead.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replaced_by: Vec<String>,
}

/// A classified finding: what reports print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    pub confidence: Confidence,
    pub rule: String,
    /// One-line reason shown to humans (from the rule's name).
    pub title: String,
    /// The secret found; null for reference findings, which name a secret without holding it.
    pub secret: Option<SecretRef>,
    /// The reference, for `retired-reference` and `unknown-reference` findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<ReferenceRef>,
    /// The primary place: the working-tree copy if there is one, else the oldest commit.
    pub location: Location,
    /// Every place this secret (same rule, fingerprint, repository and path) was found, sorted.
    pub locations: Vec<Location>,
    pub credential: Option<CredentialRef>,
    pub context: FindingContext,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// Plaintext, only when the user asked for `--show-secrets` (human output only).
    #[serde(skip)]
    pub plaintext: Option<String>,
}

impl Finding {
    /// What the finding is about: the secret's fingerprint, or the reference's name.
    pub fn subject(&self) -> &str {
        match (&self.secret, &self.reference) {
            (Some(s), _) => &s.fingerprint,
            (None, Some(r)) => &r.name,
            (None, None) => "",
        }
    }

    /// The redacted secret, or the reference's name (never plaintext).
    pub fn shown_value(&self) -> &str {
        match (&self.secret, &self.reference) {
            (Some(s), _) => &s.redacted,
            (None, Some(r)) => &r.name,
            (None, None) => "",
        }
    }

    /// Sort key that makes output independent of thread scheduling.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            &self.location.repo,
            &self.location.path,
            self.location.line,
            self.location.column,
            &self.rule,
            self.subject(),
            &self.location.commit,
        )
    }
}

/// A candidate as a cache keeps it between runs: what the blob's content and path decided,
/// without the plaintext and without the commit, which the next run's history walk gives
/// (`Linker::relocate`). Kind and severity are re-derived there, as ages move on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCandidate {
    pub(crate) rule: String,
    pub(crate) title: String,
    pub(crate) confidence: Confidence,
    pub(crate) severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) secret: Option<SecretRef>,
    /// `scheme` and `name` of a reference candidate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reference: Option<(String, String)>,
    /// Canonical identifier, for an identifier-only candidate (an AWS key id, not a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) identifier: Option<String>,
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) context: FindingContext,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) identifiers: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) below_confidence: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) inline_allowed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) allow_hits: Vec<usize>,
}

/// What the working-tree walk of one root read and skipped (also summed over all roots).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeCounts {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub skipped_binary: u64,
    pub skipped_too_large: u64,
    pub skipped_symlinks: u64,
    /// Compressed archives (zip, gzip, tar, …): their content was not scanned.
    pub skipped_archives: u64,
    pub unreadable: u64,
}

/// What the history read of one repository covered and skipped (also summed over all).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryCounts {
    pub refs: u64,
    pub commits: u64,
    pub trees: u64,
    /// Distinct blobs in scope (each read at most once).
    pub blobs: u64,
    pub blobs_scanned: u64,
    pub bytes_scanned: u64,
    pub skipped_binary: u64,
    pub skipped_too_large: u64,
    /// Compressed archives (zip, gzip, tar, …) in history: their content was not scanned.
    pub skipped_archives: u64,
    pub lfs_pointers: u64,
    pub unreadable: u64,
}

/// A configured git remote, its URL stripped of any credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteInfo {
    pub name: String,
    pub url: String,
    /// Fetch refspecs as configured (they tell which ref namespaces a clone can hold).
    pub fetch: Vec<String>,
}

/// One repository (or plain directory) a scan covered: what it is, where its HEAD was and
/// what was read of it. Reset verification records it as the scope of its verdict, so the
/// holes (shallow history, missing ref namespaces, skips) are named per repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryScope {
    /// The name findings carry as `location.repo`.
    pub name: String,
    /// Absolute path of the working tree root (or of the bare repository, or the directory).
    pub root: String,
    /// Whether `root` is a git repository (false: a plain directory).
    pub git: bool,
    pub bare: bool,
    /// HEAD commit id; null when HEAD is unborn or the directory is not a repository.
    pub head: Option<String>,
    /// Short name of HEAD's branch; null when detached, unborn or not a repository.
    pub branch: Option<String>,
    /// URL of the `origin` remote, credentials stripped.
    pub remote_url: Option<String>,
    pub remotes: Vec<RemoteInfo>,
    /// Sorted distinct ref prefixes present (`refs/heads`, `refs/tags`, `refs/remotes/origin`, …).
    pub ref_namespaces: Vec<String>,
    pub shallow: bool,
    /// What the working-tree walk read; null when the tree was not walked (bare, range, staged).
    pub tree: Option<TreeCounts>,
    /// What the history read covered; null when history was not read.
    pub history: Option<HistoryCounts>,
    /// The diagnostics that concern this repository.
    pub warnings: Vec<crate::diag::Diagnostic>,
}

impl TreeCounts {
    /// Adds `other` in: the aggregate over roots is the sum of the roots.
    pub fn add(&mut self, other: &TreeCounts) {
        self.files_scanned += other.files_scanned;
        self.bytes_scanned += other.bytes_scanned;
        self.skipped_binary += other.skipped_binary;
        self.skipped_too_large += other.skipped_too_large;
        self.skipped_symlinks += other.skipped_symlinks;
        self.skipped_archives += other.skipped_archives;
        self.unreadable += other.unreadable;
    }
}

impl HistoryCounts {
    /// Adds `other` in: the aggregate over repositories is the sum of the repositories.
    pub fn add(&mut self, other: &HistoryCounts) {
        self.refs += other.refs;
        self.commits += other.commits;
        self.trees += other.trees;
        self.blobs += other.blobs;
        self.blobs_scanned += other.blobs_scanned;
        self.bytes_scanned += other.bytes_scanned;
        self.skipped_binary += other.skipped_binary;
        self.skipped_too_large += other.skipped_too_large;
        self.skipped_archives += other.skipped_archives;
        self.lfs_pointers += other.lfs_pointers;
        self.unreadable += other.unreadable;
    }
}

impl RepositoryScope {
    /// A scanned directory that is not a git repository: no HEAD, no refs, no history.
    pub fn directory(name: &str, root: &str) -> RepositoryScope {
        RepositoryScope {
            name: name.to_string(),
            root: root.to_string(),
            git: false,
            bare: false,
            head: None,
            branch: None,
            remote_url: None,
            remotes: Vec::new(),
            ref_namespaces: Vec::new(),
            shallow: false,
            tree: None,
            history: None,
            warnings: Vec::new(),
        }
    }
}
/// A check built into keytrace rather than read from a rule file: the matcher
/// gives its matches a rule of this shape, and reports describe it from here.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinCheck {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub confidence: Confidence,
    pub severity: Severity,
}

/// The known-value pass's rule: a revoked version's value, found by fingerprint whatever its shape.
pub const KNOWN_VALUE: BuiltinCheck = BuiltinCheck {
    id: "known-value",
    name: "Value of a known inventory credential",
    description: "A value whose fingerprint is that of a revoked inventory version, found by comparing the canonical form of every candidate token with the inventory (no rule needs to recognise its shape): the reset left this copy behind.\nRotate: delete this copy (and rewrite history where it was committed); the credential itself was already rotated.",
    confidence: Confidence::High,
    severity: Severity::High,
};

/// The known-value pass's identifier rule: a revoked credential's identifier (e.g. an AWS key id), found literally.
pub const KNOWN_IDENTIFIER: BuiltinCheck = BuiltinCheck {
    id: "known-identifier",
    name: "Identifier of a revoked inventory credential",
    description: "An identifier (e.g. an AWS access key id) that the inventory lists for a revoked credential version, found literally: configuration or policy still names the old credential.\nRotate: point this use at the credential's current identifier, or remove it.",
    confidence: Confidence::High,
    severity: Severity::Medium,
};
