//! The verify-reset evidence record (DESIGN §6): what was checked, for which reset, over
//! which scope, with what result. Plain data; it holds fingerprints and hints, never a value.

use crate::inventory::{Credential, Status};
use crate::types::{Finding, FindingKind, Location, ResetRecord};
use serde::Serialize;

/// Kind of record `verify-reset` appends (other tools may append other kinds).
pub const RECORD_KIND: &str = "verify-reset";

/// Result of a check, for one credential or a whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No revoked value, revoked identifier or retired reference remains in a scope without holes.
    Complete,
    /// The scope had holes: nothing was found, but the absence is not proven.
    Inconclusive,
    /// Something of the old credential remains.
    Incomplete,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Complete => "complete",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Incomplete => "incomplete",
        }
    }
}

/// Whether copies found only in history block a complete verdict (`--history-policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum HistoryPolicy {
    /// An old value anywhere in history makes the reset incomplete.
    Block,
    /// Old values found only in history are listed but do not block.
    Report,
}

/// One whole record, as appended to the audit log (the log adds `seq`, `prev`, `digest`).
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceRecord {
    pub kind: &'static str,
    pub started: String,
    pub finished: String,
    pub verdict: Verdict,
    /// Whether git history was part of the scope (`--no-history` turns it off).
    pub history: bool,
    pub history_policy: HistoryPolicy,
    pub tool: ToolInfo,
    /// The inventory file as given on the command line.
    pub inventory: String,
    /// The paths given, as given.
    pub paths: Vec<String>,
    pub credentials: Vec<CredentialCheck>,
    pub scope: Vec<ScopeEntry>,
    /// Every hole of the scope, each naming its repository.
    pub holes: Vec<Hole>,
}

/// What ran the check: a verdict is only as good as the rules and inventory behind it.
#[derive(Debug, Clone, Serialize)]
pub struct ToolInfo {
    pub name: &'static str,
    pub version: &'static str,
    /// `sha256:` over the rule set in force (built-in and user rules).
    pub rules_digest: String,
    /// `sha256:` of the inventory file's bytes.
    pub inventory_digest: String,
}

/// The check of one credential.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialCheck {
    pub id: String,
    pub kind: String,
    pub owner: String,
    pub verdict: Verdict,
    /// The revoked versions checked.
    pub versions: Vec<VersionChecked>,
    /// Identifiers of revoked versions, looked for literally.
    pub identifiers: Vec<String>,
    pub retired_references: Vec<String>,
    /// The current references a retired one should be replaced by.
    pub references: Vec<String>,
    /// Places that block the verdict.
    pub remaining: Vec<Remaining>,
    /// Places in history only, listed without blocking (`--history-policy report`).
    pub history_only: Vec<Remaining>,
}

/// A revoked version and its reset metadata from the inventory.
#[derive(Debug, Clone, Serialize)]
pub struct VersionChecked {
    /// 1-based version number within the credential.
    pub version: u32,
    /// `None` for versions known only by identifier.
    pub fingerprint: Option<String>,
    pub hint: String,
    pub status: &'static str,
    pub revoked: Option<String>,
    pub reset: Option<ResetRecord>,
    pub revocation: Option<RevocationRecord>,
    /// Whether the inventory records that the provider revoked this version: keytrace
    /// proves the copies are gone, not that the old secret stopped working.
    pub provider_revocation_recorded: bool,
}

/// The provider-side revocation as the inventory records it (DESIGN §4).
#[derive(Debug, Clone, Serialize)]
pub struct RevocationRecord {
    pub method: String,
    pub evidence: String,
    pub at: String,
}

/// Where a remaining copy or use is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    /// A working-tree file (or a plain directory's file).
    Tree,
    /// A blob of a commit only.
    History,
}

/// One remaining place of the old credential (never its value).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Remaining {
    pub repo: String,
    pub path: String,
    pub line: u32,
    pub column: u32,
    #[serde(rename = "where")]
    pub place: Place,
    pub kind: FindingKind,
    /// Commit that introduced the blob, for history places.
    pub commit: Option<String>,
    /// Author and date of that commit: who to ask, and since when it is there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Commits whose tree holds it, for history places.
    pub commits: Option<u64>,
    pub rule: String,
    /// Revoked version whose value this is (value and identifier findings).
    pub version: Option<u32>,
    pub fingerprint: Option<String>,
    /// Identifiers (an AWS access key id) named beside the value: the same key's public half.
    pub identifiers: Vec<String>,
    /// `base64`, `json-string`… when the value was encoded in the file.
    pub decoding: Option<String>,
    pub file_kind: String,
    /// The retired reference used here, and its replacement.
    pub reference: Option<String>,
    pub replaced_by: Vec<String>,
}

/// One repository (or plain directory) of the scope.
#[derive(Debug, Clone, Serialize)]
pub struct ScopeEntry {
    pub repo: String,
    pub root: String,
    pub bare: bool,
    pub head: Option<String>,
    pub branch: Option<String>,
    pub history: bool,
    pub refs: u64,
    pub ref_namespaces: Vec<String>,
    pub commits: u64,
    pub blobs: u64,
    pub blobs_scanned: u64,
    pub files_scanned: u64,
    pub holes: Vec<Hole>,
    /// Other warnings that do not leave a hole (listed for the auditor).
    pub warnings: Vec<String>,
}

/// Something the scope could not cover: it makes a clean result inconclusive.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Hole {
    pub repo: String,
    /// Stable kebab-case code (a diagnostic code, or `missing-ref-namespace`).
    pub code: String,
    pub message: String,
}

impl CredentialCheck {
    /// The check of `credential`, before any place is known: its revoked versions,
    /// identifiers and retired references.
    pub fn new(credential: &Credential) -> CredentialCheck {
        let mut identifiers: Vec<String> = Vec::new();
        let mut versions = Vec::new();
        for (i, v) in credential.versions.iter().enumerate() {
            if v.status != Status::Revoked {
                continue;
            }
            identifiers.extend(v.identifier.iter().cloned());
            let revocation = v.revocation.as_ref().map(|r| RevocationRecord {
                method: r.method.clone(),
                evidence: r.evidence.clone(),
                at: r.at.as_str().to_string(),
            });
            versions.push(VersionChecked {
                version: u32::try_from(i + 1).unwrap_or(u32::MAX),
                fingerprint: v.fingerprint.as_ref().map(|f| f.as_str().to_string()),
                hint: v.hint.clone(),
                status: v.status.as_str(),
                revoked: v.revoked.as_ref().map(|t| t.as_str().to_string()),
                reset: v.reset.as_deref().cloned(),
                provider_revocation_recorded: revocation.is_some(),
                revocation,
            });
        }
        // A credential whose every version is revoked retires its identifiers too.
        if credential.active().is_none() {
            identifiers.extend(credential.identifiers.iter().cloned());
        }
        identifiers.sort();
        identifiers.dedup();
        CredentialCheck {
            id: credential.id.clone(),
            kind: credential.kind.clone(),
            owner: credential.owner.clone(),
            verdict: Verdict::Complete,
            versions,
            identifiers,
            retired_references: credential
                .retired_references
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
            references: credential
                .references
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
            remaining: Vec::new(),
            history_only: Vec::new(),
        }
    }

    /// Whether there is anything of this credential to look for.
    pub fn has_residue_to_check(&self) -> bool {
        !self.versions.is_empty() || !self.retired_references.is_empty()
    }

    /// Files the places of `finding` (one of this credential's) as blocking or history-only.
    pub fn add(&mut self, finding: &Finding, policy: HistoryPolicy) {
        let in_tree = finding.locations.iter().any(|l| l.commit.is_none());
        for l in &finding.locations {
            let r = remaining(finding, l);
            if policy == HistoryPolicy::Report && !in_tree {
                self.history_only.push(r);
            } else {
                self.remaining.push(r);
            }
        }
    }

    /// Sorts the places and decides the verdict, given whether the scope had holes.
    pub fn conclude(&mut self, scope_has_holes: bool) {
        self.remaining.sort();
        self.remaining.dedup();
        self.history_only.sort();
        self.history_only.dedup();
        self.verdict = if !self.remaining.is_empty() {
            Verdict::Incomplete
        } else if scope_has_holes {
            Verdict::Inconclusive
        } else {
            Verdict::Complete
        };
    }
}

/// The record of one place of a finding.
fn remaining(f: &Finding, l: &Location) -> Remaining {
    Remaining {
        repo: l.repo.clone(),
        path: l.path.clone(),
        line: l.line,
        column: l.column,
        place: if l.commit.is_some() {
            Place::History
        } else {
            Place::Tree
        },
        kind: f.kind,
        commit: l.commit.clone(),
        author: l.author.clone(),
        date: l.date.clone(),
        commits: l.commits,
        rule: f.rule.clone(),
        version: match f.kind {
            FindingKind::RetiredReference => None,
            _ => f.credential.as_ref().map(|c| c.version),
        },
        fingerprint: f.secret.as_ref().map(|s| s.fingerprint.clone()),
        identifiers: f.identifiers.clone(),
        decoding: f.context.decoding.clone(),
        file_kind: f.context.file_kind.clone(),
        reference: f.reference.as_ref().map(|r| r.name.clone()),
        replaced_by: f
            .reference
            .as_ref()
            .map(|r| r.replaced_by.clone())
            .unwrap_or_default(),
    }
}

impl EvidenceRecord {
    /// The overall verdict: the worst of its credentials' (no credential: complete).
    pub fn overall(credentials: &[CredentialCheck]) -> Verdict {
        credentials
            .iter()
            .map(|c| c.verdict)
            .max()
            .unwrap_or(Verdict::Complete)
    }

    /// The record as a JSON object, for the audit log.
    pub fn to_body(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        }
    }
}
