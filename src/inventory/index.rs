//! Lookup tables over a loaded inventory: fingerprint → (credential, version)
//! and identifier → (credential, version), so linking a match costs one hash lookup.

use super::model::{check_key, Credential, Inventory, Status};
use super::view::{self, Text};
use super::InventoryError;
use crate::fingerprint::Fingerprinter;
use crate::types::CredentialRef;
use serde::Deserialize;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;
use std::sync::OnceLock;

use crate::context::{Reference, Scheme};

/// A fast non-cryptographic hasher (the Fx multiply-rotate) for fingerprint and
/// identifier keys. Keys come from the trusted inventory; scanned values only
/// look up, so bucket placement cannot be steered by a scanned repository.
/// SipHash was the largest single cost of loading a 100,000-credential inventory.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FxHasher`].
pub(crate) type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// An inventory ready for matching: the validated text, where each credential
/// starts in it, and hash tables over fingerprints and identifiers. A
/// credential is deserialized only when a lookup hits it, so loading a large
/// inventory costs one validating pass and the tables (see [`super::view`]).
pub struct Index {
    text: String,
    fingerprint_key_id: Option<String>,
    /// Byte offset of each credential's object in `text`, in file order.
    starts: Vec<u32>,
    /// First 64 bits of the digest → the version holding it and where its
    /// fingerprint is in `text` (compared in full on a hit).
    by_fingerprint: FxHashMap<u64, Slot>,
    /// Fingerprints sharing their first 64 bits with another, or written with
    /// JSON escapes (practically never).
    collided: FxHashMap<String, (u32, u32)>,
    /// Identifier → credential and, when a version carries it, that version.
    by_identifier: FxHashMap<String, (u32, Option<u32>)>,
    /// Every `references` and `retired_references` entry, in file order.
    listed: Vec<(u32, bool, Span)>,
    /// Reference key → every entry listing it, built on the first reference
    /// lookup so scans that never look up references never pay for it.
    by_reference: OnceLock<FxHashMap<(Scheme, String), Vec<ListedReference>>>,
    now: i64,
}

#[derive(Clone, Copy)]
struct Slot {
    credential: u32,
    version: u32,
    at: u32,
}

/// A string of the inventory: a place in its text, or its unescaped value.
enum Span {
    At(u32, u32),
    Unescaped(Box<str>),
}

impl Span {
    fn new(text: &str, t: &Text<'_>) -> Option<Span> {
        match t.borrowed() {
            Some(b) => {
                let at = offset(text, b)?;
                Some(Span::At(at, u32::try_from(b.len()).ok()?))
            }
            None => Some(Span::Unescaped(t.0.as_ref().into())),
        }
    }

    fn get<'t>(&'t self, text: &'t str) -> &'t str {
        match self {
            Span::At(at, len) => text
                .get(*at as usize..(*at + *len) as usize)
                .unwrap_or_default(),
            Span::Unescaped(s) => s,
        }
    }
}

/// Byte offset of `part`, a slice of `text`, as u32 (inventories stay under 4 GiB).
fn offset(text: &str, part: &str) -> Option<u32> {
    let at = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    (at + part.len() <= text.len()).then_some(())?;
    u32::try_from(at).ok()
}

/// One `references` or `retired_references` entry of a credential.
struct ListedReference {
    credential: u32,
    retired: bool,
    reference: Reference,
}

/// What the inventory says about a reference a file uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceStatus {
    /// A credential lists it among its current references.
    Known(CredentialRef),
    /// A credential lists it among its retired references: the use is residue of a reset.
    Retired {
        credential: CredentialRef,
        /// The credential's current references, of the same scheme when it has any.
        replaced_by: Vec<String>,
    },
    /// No credential lists it.
    Unknown,
}

/// What the inventory says about a value it knows.
#[derive(Debug, Clone)]
pub struct Known {
    pub credential: CredentialRef,
    pub revoked: bool,
}

impl Index {
    /// Validates the inventory `text` read from `path`, checks the fingerprint
    /// key against it, and indexes it; `now` decides `overdue_days`.
    pub fn load(
        path: &Path,
        text: String,
        fp: &Fingerprinter,
        now: i64,
    ) -> Result<Index, InventoryError> {
        let index = match Index::build(text, now) {
            Ok(index) => index,
            Err(text) => {
                // The one-pass view could not vouch for the file: the model says
                // what is wrong with it, or accepts it and writes it in the form
                // the view reads (a credential array instead of objects, say).
                let inv = Inventory::parse(path, &text)?;
                Index::build(inv.to_pretty(), now).map_err(|_| InventoryError::Invalid {
                    path: path.to_path_buf(),
                    line: 1,
                    column: 1,
                    message: "keytrace could not index this valid inventory; please report it"
                        .into(),
                })?
            }
        };
        check_key(
            path,
            index.fingerprint_key_id.as_deref(),
            !index.is_empty_of_fingerprints(),
            fp,
        )?;
        Ok(index)
    }

    /// The tables over `text`, or `text` back when the view cannot vouch for it.
    fn build(text: String, now: i64) -> Result<Index, String> {
        let Some(summary) = view::read(&text) else {
            return Err(text);
        };
        let mut index = Index {
            text: String::new(),
            fingerprint_key_id: None,
            starts: Vec::with_capacity(summary.first_keys.len()),
            by_fingerprint: FxHashMap::default(),
            collided: FxHashMap::default(),
            by_identifier: FxHashMap::default(),
            listed: Vec::new(),
            by_reference: OnceLock::new(),
            now,
        };
        if index.fill(&text, summary).is_none() {
            return Err(text);
        }
        index.text = text;
        Ok(index)
    }

    /// Fills the tables from one pass's summary; `None` for a duplicate
    /// fingerprint or a credential the pass could not locate.
    fn fill(&mut self, text: &str, s: view::Summary<'_>) -> Option<()> {
        for key in &s.first_keys {
            let start = view::object_start(text, (*key)?)?;
            self.starts.push(u32::try_from(start).ok()?);
        }
        self.by_fingerprint.reserve(s.fingerprints.len());
        for (fp, credential, version) in &s.fingerprints {
            let (credential, version) = (*credential, *version);
            let at = fp.borrowed().and_then(|b| offset(text, b));
            let Some(at) = at else {
                self.collided
                    .insert(fp.0.to_string(), (credential, version))
                    .is_none()
                    .then_some(())?;
                continue;
            };
            let slot = Slot {
                credential,
                version,
                at,
            };
            match self.by_fingerprint.entry(digest_prefix(&fp.0)) {
                Entry::Vacant(e) => {
                    e.insert(slot);
                }
                Entry::Occupied(e) => {
                    let first = fingerprint_at(text, e.get().at, &fp.0);
                    (!first).then_some(())?;
                    self.collided
                        .insert(fp.0.to_string(), (credential, version))
                        .is_none()
                        .then_some(())?;
                }
            }
        }
        // An escaped fingerprint may repeat one stored by place.
        for fp in self.collided.keys() {
            if let Some(slot) = self.by_fingerprint.get(&digest_prefix(fp)) {
                if fingerprint_at(text, slot.at, fp) {
                    return None;
                }
            }
        }
        for (id, credential, version) in s.identifiers {
            self.by_identifier
                .insert(id.0.into_owned(), (credential, version));
        }
        self.listed = s
            .references
            .iter()
            .map(|(ci, retired, r)| Some((*ci, *retired, Span::new(text, r)?)))
            .collect::<Option<_>>()?;
        self.fingerprint_key_id = s.fingerprint_key_id;
        Some(())
    }

    /// Number of fingerprints indexed.
    pub fn len(&self) -> usize {
        self.by_fingerprint.len() + self.collided.len()
    }

    pub fn is_empty(&self) -> bool {
        self.is_empty_of_fingerprints() && self.by_identifier.is_empty()
    }

    fn is_empty_of_fingerprints(&self) -> bool {
        self.by_fingerprint.is_empty() && self.collided.is_empty()
    }

    /// Every current reference the inventory lists, as written.
    pub fn current_references(&self) -> impl Iterator<Item = &str> {
        self.listed
            .iter()
            .filter(|(_, retired, _)| !retired)
            .map(|(_, _, r)| r.get(&self.text))
    }

    /// Credential `ci`, deserialized from its place in the text.
    fn credential(&self, ci: u32) -> Option<Credential> {
        let start = *self.starts.get(ci as usize)? as usize;
        let mut de = serde_json::Deserializer::from_str(self.text.get(start..)?);
        Credential::deserialize(&mut de).ok()
    }

    /// The credential version whose value has this fingerprint.
    pub fn by_fingerprint(&self, fingerprint: &str) -> Option<Known> {
        let hit = self
            .by_fingerprint
            .get(&digest_prefix(fingerprint))
            .filter(|slot| fingerprint_at(&self.text, slot.at, fingerprint))
            .map(|slot| (slot.credential, slot.version));
        let (ci, vi) = hit.or_else(|| self.collided.get(fingerprint).copied())?;
        let c = self.credential(ci)?;
        Some(self.known(&c, vi as usize))
    }

    /// The credential an identifier (e.g. an AWS access key id) names.
    ///
    /// A credential-level identifier counts as revoked when no version is active.
    pub fn by_identifier(&self, identifier: &str) -> Option<Known> {
        let &(ci, vi) = self.by_identifier.get(identifier)?;
        let c = self.credential(ci)?;
        let vi = match vi {
            Some(vi) => vi as usize,
            None => match c.active() {
                Some((n, _)) => n - 1,
                None => c.versions.len().checked_sub(1)?,
            },
        };
        Some(self.known(&c, vi))
    }

    /// What the inventory says about `found`, used in repository `repo`. A retired
    /// listing wins over a current one: the contract is that any use of a retired
    /// name is residue. Entries of credentials scoped by `repos` apply only there.
    pub fn reference_status(&self, found: &Reference, repo: &str) -> ReferenceStatus {
        let table = self.by_reference.get_or_init(|| self.reference_table());
        let Some(listed) = table.get(&found.key()) else {
            return ReferenceStatus::Unknown;
        };
        let applying = |retired: bool| {
            listed
                .iter()
                .filter(move |l| l.retired == retired && l.reference.covers(found))
                .filter_map(|l| self.credential(l.credential))
                .find(|c| applies_to(c, repo))
        };
        if let Some(c) = applying(true) {
            let same: Vec<String> = c
                .references
                .iter()
                .map(|r| r.parsed())
                .filter(|r| r.scheme == found.scheme)
                .map(|r| r.to_string())
                .collect();
            let replaced_by = if same.is_empty() {
                c.references
                    .iter()
                    .map(|r| r.as_str().to_string())
                    .collect()
            } else {
                same
            };
            // The reset that retired the name is the latest revoked version's.
            let vi = c
                .versions
                .iter()
                .rposition(|v| v.status == Status::Revoked)
                .unwrap_or(c.versions.len().saturating_sub(1));
            return ReferenceStatus::Retired {
                credential: self.credential_ref(&c, vi),
                replaced_by,
            };
        }
        match applying(false) {
            Some(c) => {
                let vi = c
                    .active()
                    .map_or(c.versions.len().saturating_sub(1), |(n, _)| n - 1);
                ReferenceStatus::Known(self.credential_ref(&c, vi))
            }
            None => ReferenceStatus::Unknown,
        }
    }

    fn reference_table(&self) -> FxHashMap<(Scheme, String), Vec<ListedReference>> {
        let mut table: FxHashMap<(Scheme, String), Vec<ListedReference>> = FxHashMap::default();
        for (credential, retired, r) in &self.listed {
            // Validated on load; a value that no longer parses is skipped, not a panic.
            let Ok(reference) = r.get(&self.text).parse::<Reference>() else {
                continue;
            };
            table
                .entry(reference.key())
                .or_default()
                .push(ListedReference {
                    credential: *credential,
                    retired: *retired,
                    reference,
                });
        }
        table
    }

    fn known(&self, c: &Credential, vi: usize) -> Known {
        Known {
            credential: self.credential_ref(c, vi),
            revoked: c
                .versions
                .get(vi)
                .is_some_and(|v| v.status == Status::Revoked),
        }
    }

    fn credential_ref(&self, c: &Credential, vi: usize) -> CredentialRef {
        let v = c.versions.get(vi);
        CredentialRef {
            id: c.id.clone(),
            version: u32::try_from(vi + 1).unwrap_or(u32::MAX),
            status: v.map_or("unknown", |v| v.status.as_str()).to_string(),
            owner: c.owner.clone(),
            revoked: v
                .and_then(|v| v.revoked.as_ref())
                .map(|t| t.as_str().to_string()),
            reset: v.and_then(|v| v.reset.as_deref().cloned()),
            overdue_days: c.overdue_days(self.now),
        }
    }
}

/// Whether the fingerprint stored at byte `at` of `text` is `fingerprint`.
fn fingerprint_at(text: &str, at: u32, fingerprint: &str) -> bool {
    let at = at as usize;
    text.get(at..at + fingerprint.len()) == Some(fingerprint)
        && text.as_bytes().get(at + fingerprint.len()) == Some(&b'"')
}

/// The first 64 bits of a fingerprint's hex digest (0 when it has none).
fn digest_prefix(fingerprint: &str) -> u64 {
    let hex = fingerprint.rsplit(':').next().unwrap_or_default();
    hex.get(..16)
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .unwrap_or(0)
}

/// Whether a credential's references apply in `repo` (its `repos` globs, or everywhere).
fn applies_to(c: &Credential, repo: &str) -> bool {
    c.repos.is_empty()
        || c.repos
            .iter()
            .filter_map(|g| globset::Glob::new(g).ok())
            .any(|g| g.compile_matcher().is_match(repo))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Index, InventoryError> {
        Index::load(
            Path::new("i.json"),
            text.to_string(),
            &Fingerprinter::sha256(),
            0,
        )
    }

    impl Index {
        /// Every credential, deserialized from its place, sorted by id.
        fn all_credentials(&self) -> Vec<Credential> {
            let mut all: Vec<Credential> = (0..self.starts.len())
                .map(|ci| self.credential(ci as u32).expect("locates"))
                .collect();
            all.sort_by(|a, b| a.id.cmp(&b.id));
            all
        }
    }

    const FULL: &str = r#"{
  "version": 1,
  "credentials": [
    {
      "id": "deploy",
      "kind": "github-pat",
      "owner": "payments",
      "rotation_days": 90,
      "references": ["github-secret:DEPLOY_TOKEN"],
      "retired_references": ["k8s-secret:prod/db-creds-v1"],
      "identifiers": ["AKIAEXAMPLEEXAMPLE01"],
      "repos": ["billing-*"],
      "versions": [
        {
          "fingerprint": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
          "hint": "ghp_",
          "identifier": "AKIAEXAMPLEEXAMPLE02",
          "created": "2026-01-01T00:00:00Z",
          "status": "revoked",
          "revoked": "2026-11-01T00:00:00Z",
          "reset": {"by": "alice", "approved_by": "bob", "ticket": "SEC-42", "reason": "exposed"},
          "revocation": {"method": "api", "evidence": "200", "at": "2026-11-01T00:00:00Z"}
        },
        {
          "fingerprint": "sha256:2222222222222222222222222222222222222222222222222222222222222222",
          "created": "2026-11-01T00:00:00Z",
          "status": "active"
        }
      ]
    },
    {"id": "other", "kind": "password", "versions": []}
  ]
}
"#;

    /// Each variant of [`FULL`] must fare the same through the one-pass view
    /// (with its fallback) as through the model: same error text, or the same
    /// credentials when valid.
    #[test]
    fn view_and_model_agree() {
        let fp2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
        let edits: &[(&str, &str)] = &[
            ("", ""),
            ("\"version\": 1", "\"version\": 2"),
            ("\"version\": 1,", ""),
            ("\"owner\": \"payments\"", "\"owner\": null"),
            ("\"owner\": \"payments\"", "\"owner\": 7"),
            ("\"kind\": \"github-pat\",", ""),
            (
                "\"kind\": \"github-pat\",",
                "\"kind\": \"github-pat\", \"kind\": \"x\",",
            ),
            ("\"rotation_days\": 90", "\"rotation_days\": -1"),
            ("\"rotation_days\": 90", "\"rotation_days\": null"),
            ("\"references\": [", "\"references\": [\"nope:x\", "),
            (
                "\"retired_references\": [",
                "\"retired_references\": [\"noscheme\", ",
            ),
            (
                "\"references\": [\"github-secret:DEPLOY_TOKEN\"]",
                "\"references\": null",
            ),
            ("\"repos\": [\"billing-*\"]", "\"repos\": [\"billing-[\"]"),
            (
                "\"identifiers\": [\"AKIAEXAMPLEEXAMPLE01\"]",
                "\"identifiers\": [1]",
            ),
            ("\"hint\": \"ghp_\"", "\"hint\": null"),
            ("\"hint\": \"ghp_\"", "\"hint\": \"ghp_\", \"extra\": 1"),
            ("\"status\": \"active\"", "\"status\": \"expired\""),
            (
                "\"status\": \"active\"",
                "\"status\": \"active\", \"status\": \"active\"",
            ),
            ("\"created\": \"2026-11-01T00:00:00Z\",", ""),
            (
                "\"created\": \"2026-11-01T00:00:00Z\"",
                "\"created\": \"yesterday\"",
            ),
            (
                "\"revoked\": \"2026-11-01T00:00:00Z\"",
                "\"revoked\": \"2026-13-01\"",
            ),
            ("\"ticket\": \"SEC-42\", ", ""),
            (
                "\"reason\": \"exposed\"",
                "\"reason\": \"exposed\", \"note\": \"x\"",
            ),
            ("\"evidence\": \"200\", ", ""),
            ("\"method\": \"api\", ", ""),
            ("\"at\": \"2026-11-01T00:00:00Z\"", "\"at\": \"soon\""),
            ("sha256:1111", "sha256:111X"),
            ("sha256:1111", "sha1:1111"),
            (
                "sha256:1111111111111111111111111111111111111111111111111111111111111111",
                fp2,
            ),
            ("\"id\": \"other\"", "\"id\": \"deploy\""),
            ("\"id\": \"other\"", "\"id\": \"  \""),
            (
                "\"version\": 1,",
                "\"version\": 1, \"fingerprint_key_id\": \"abcd\",",
            ),
            ("\"version\": 1,", "\"version\": 1, \"surprise\": true,"),
            (
                "{\"id\": \"other\", \"kind\": \"password\", \"versions\": []}",
                "[\"other\", \"password\"]",
            ),
            ("{\"id\": \"other\"", "{\"\\u0069d\": \"other\""),
            ("\"id\": \"deploy\"", "\"id\": \"de\\u0070loy\""),
            (
                "github-secret:DEPLOY_TOKEN",
                "github-secret:DEPLOY\\u005fTOKEN",
            ),
            (
                fp2,
                "sha256:\\u00322222222222222222222222222222222222222222222222222222222222222",
            ),
            (
                fp2,
                "sha256:\\u00311111111111111111111111111111111111111111111111111111111111111",
            ),
            ("\"credentials\": [", "\"credentials\": {"),
            ("]\n}\n", "]\n}\n{}"),
            ("]\n}\n", "]\n"),
        ];
        // The plain file goes through the view itself, not the fallback.
        assert!(Index::build(FULL.to_string(), 0).is_ok());
        for (from, to) in edits {
            assert!(FULL.contains(from), "{from}");
            let text = FULL.replacen(from, to, 1);
            let model = Inventory::parse(Path::new("i.json"), &text).map_err(|e| e.to_string());
            let index = load(&text).map_err(|e| e.to_string());
            match (model, index) {
                (Ok(mut inv), Ok(index)) => {
                    inv.credentials.sort_by(|a, b| a.id.cmp(&b.id));
                    assert_eq!(index.all_credentials(), inv.credentials, "{to}");
                }
                (Err(m), Err(i)) => assert_eq!(m, i, "{to}"),
                (m, i) => panic!("{from} -> {to}: model {:?}, index {:?}", m.err(), i.err()),
            }
        }
    }

    #[test]
    fn fingerprints_sharing_a_prefix_both_resolve() {
        let a = format!("sha256:{}{}", "ab".repeat(8), "1".repeat(48));
        let b = format!("sha256:{}{}", "ab".repeat(8), "2".repeat(48));
        let text = format!(
            r#"{{"version": 1, "credentials": [
              {{"id": "a", "kind": "k", "versions": [{{"fingerprint": "{a}", "created": "2026-01-01", "status": "active"}}]}},
              {{"id": "b", "kind": "k", "versions": [{{"fingerprint": "{b}", "created": "2026-01-01", "status": "revoked"}}]}}]}}"#
        );
        let index = load(&text).expect("valid");
        assert_eq!(index.len(), 2);
        assert_eq!(index.by_fingerprint(&a).expect("a").credential.id, "a");
        let b_hit = index.by_fingerprint(&b).expect("b");
        assert_eq!((b_hit.credential.id.as_str(), b_hit.revoked), ("b", true));
        let c = format!("sha256:{}{}", "ab".repeat(8), "3".repeat(48));
        assert!(index.by_fingerprint(&c).is_none());
    }

    #[test]
    fn references_resolve_to_known_retired_or_unknown() {
        let text = r#"{"version": 1, "credentials": [
          {"id": "deploy", "kind": "github-pat", "owner": "payments",
           "references": ["github-secret:DEPLOY_TOKEN", "vault:secret/payments/deploy"],
           "retired_references": ["github-secret:OLD_DEPLOY_TOKEN", "k8s-secret:prod/db-creds-v1"],
           "versions": [
             {"fingerprint": "sha256:1111111111111111111111111111111111111111111111111111111111111111", "created": "2026-01-01", "status": "revoked", "revoked": "2026-11-01",
              "reset": {"by": "alice", "approved_by": "bob", "ticket": "SEC-42", "reason": "exposed"}},
             {"fingerprint": "sha256:2222222222222222222222222222222222222222222222222222222222222222", "created": "2026-11-01", "status": "active"}]},
          {"id": "scoped", "kind": "password", "repos": ["billing-*"],
           "retired_references": ["env:DB_PASSWORD"],
           "versions": [{"fingerprint": "sha256:3333333333333333333333333333333333333333333333333333333333333333", "created": "2026-01-01", "status": "active"}]}]}"#;
        let index = load(text).expect("valid");
        let r = |s: &str| s.parse::<Reference>().expect("reference");
        match index.reference_status(&r("github-secret:old_deploy_token"), "api") {
            ReferenceStatus::Retired {
                credential,
                replaced_by,
            } => {
                assert_eq!((credential.id.as_str(), credential.version), ("deploy", 1));
                assert_eq!(credential.reset.expect("reset").ticket, "SEC-42");
                assert_eq!(replaced_by, vec!["github-secret:DEPLOY_TOKEN".to_string()]);
            }
            other => panic!("expected retired, got {other:?}"),
        }
        assert!(matches!(
            index.reference_status(&r("k8s-secret:prod/db-creds-v1#password"), "api"),
            ReferenceStatus::Retired { .. }
        ));
        assert!(matches!(
            index.reference_status(&r("vault:secret/data/payments/deploy"), "api"),
            ReferenceStatus::Known(c) if c.id == "deploy" && c.version == 2
        ));
        assert_eq!(
            index.reference_status(&r("env:DB_PASSWORD"), "api"),
            ReferenceStatus::Unknown
        );
        assert!(matches!(
            index.reference_status(&r("env:DB_PASSWORD"), "billing-api"),
            ReferenceStatus::Retired { .. }
        ));
    }
}
