//! Lookup tables over a loaded inventory: fingerprint → (credential, version)
//! and identifier → (credential, version), so linking a match costs one hash lookup.

use super::model::{Credential, Inventory, Status};
use crate::types::CredentialRef;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
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

/// An inventory ready for matching.
pub struct Index {
    inventory: Inventory,
    /// First 64 bits of the digest → (credential, version); the full fingerprint
    /// is compared on a hit. Keys need no copy of the 70-character strings.
    by_fingerprint: FxHashMap<u64, (u32, u32)>,
    /// Fingerprints whose first 64 bits collide with another's (practically never).
    collided: FxHashMap<String, (usize, usize)>,
    /// Identifier → credential and, when a version carries it, that version.
    by_identifier: FxHashMap<String, (usize, Option<usize>)>,
    /// Reference key → every credential entry listing it, built on the first
    /// reference lookup so scans that never look up references never pay for it.
    by_reference: OnceLock<FxHashMap<(Scheme, String), Vec<ListedReference>>>,
    now: i64,
}

/// One `references` or `retired_references` entry of a credential.
struct ListedReference {
    credential: usize,
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
    /// Builds the tables; `now` decides `overdue_days`.
    pub fn new(inventory: Inventory, now: i64) -> Index {
        let versions: usize = inventory.credentials.iter().map(|c| c.versions.len()).sum();
        let mut by_fingerprint = FxHashMap::default();
        by_fingerprint.reserve(versions);
        let mut by_identifier = FxHashMap::default();
        let mut collided = FxHashMap::default();
        for (ci, c) in inventory.credentials.iter().enumerate() {
            for id in &c.identifiers {
                by_identifier.insert(id.clone(), (ci, None));
            }
            for (vi, v) in c.versions.iter().enumerate() {
                if let Some(fp) = &v.fingerprint {
                    let key = digest_prefix(fp.as_str());
                    let slot = (
                        u32::try_from(ci).unwrap_or(u32::MAX),
                        u32::try_from(vi).unwrap_or(u32::MAX),
                    );
                    if let Some(first) = by_fingerprint.insert(key, slot) {
                        by_fingerprint.insert(key, first);
                        collided.insert(fp.as_str().to_string(), (ci, vi));
                    }
                }
                if let Some(id) = &v.identifier {
                    by_identifier.insert(id.clone(), (ci, Some(vi)));
                }
            }
        }
        Index {
            inventory,
            by_fingerprint,
            collided,
            by_identifier,
            by_reference: OnceLock::new(),
            now,
        }
    }

    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// Number of fingerprints indexed.
    pub fn len(&self) -> usize {
        self.by_fingerprint.len() + self.collided.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_fingerprint.is_empty() && self.by_identifier.is_empty()
    }

    /// The credential version whose value has this fingerprint.
    pub fn by_fingerprint(&self, fingerprint: &str) -> Option<Known> {
        if let Some(&(ci, vi)) = self.by_fingerprint.get(&digest_prefix(fingerprint)) {
            let (ci, vi) = (ci as usize, vi as usize);
            let stored = self.inventory.credentials[ci].versions[vi]
                .fingerprint
                .as_ref();
            if stored.is_some_and(|f| f.as_str() == fingerprint) {
                return Some(self.known(ci, vi));
            }
        }
        let &(ci, vi) = self.collided.get(fingerprint)?;
        Some(self.known(ci, vi))
    }

    /// The credential an identifier (e.g. an AWS access key id) names.
    ///
    /// A credential-level identifier counts as revoked when no version is active.
    pub fn by_identifier(&self, identifier: &str) -> Option<Known> {
        let &(ci, vi) = self.by_identifier.get(identifier)?;
        let c = &self.inventory.credentials[ci];
        let vi = match vi {
            Some(vi) => vi,
            None => match c.active() {
                Some((n, _)) => n - 1,
                None => c.versions.len().checked_sub(1)?,
            },
        };
        Some(self.known(ci, vi))
    }

    /// What the inventory says about `found`, used in repository `repo`. A retired
    /// listing wins over a current one: the contract is that any use of a retired
    /// name is residue. Entries of credentials scoped by `repos` apply only there.
    pub fn reference_status(&self, found: &Reference, repo: &str) -> ReferenceStatus {
        let table = self.by_reference.get_or_init(|| self.reference_table());
        let Some(listed) = table.get(&found.key()) else {
            return ReferenceStatus::Unknown;
        };
        let applies = |l: &&ListedReference| {
            l.reference.covers(found) && applies_to(&self.inventory.credentials[l.credential], repo)
        };
        if let Some(l) = listed.iter().filter(|l| l.retired).find(applies) {
            let c = &self.inventory.credentials[l.credential];
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
                credential: self.credential_ref(l.credential, vi),
                replaced_by,
            };
        }
        match listed.iter().find(applies) {
            Some(l) => {
                let c = &self.inventory.credentials[l.credential];
                let vi = c
                    .active()
                    .map_or(c.versions.len().saturating_sub(1), |(n, _)| n - 1);
                ReferenceStatus::Known(self.credential_ref(l.credential, vi))
            }
            None => ReferenceStatus::Unknown,
        }
    }

    fn reference_table(&self) -> FxHashMap<(Scheme, String), Vec<ListedReference>> {
        let mut table: FxHashMap<(Scheme, String), Vec<ListedReference>> = FxHashMap::default();
        for (ci, c) in self.inventory.credentials.iter().enumerate() {
            let current = c.references.iter().map(|r| (false, r));
            let retired = c.retired_references.iter().map(|r| (true, r));
            for (retired, r) in current.chain(retired) {
                let reference = r.parsed();
                table
                    .entry(reference.key())
                    .or_default()
                    .push(ListedReference {
                        credential: ci,
                        retired,
                        reference,
                    });
            }
        }
        table
    }

    fn known(&self, ci: usize, vi: usize) -> Known {
        let v = &self.inventory.credentials[ci].versions[vi];
        Known {
            credential: self.credential_ref(ci, vi),
            revoked: v.status == Status::Revoked,
        }
    }

    fn credential_ref(&self, ci: usize, vi: usize) -> CredentialRef {
        let c = &self.inventory.credentials[ci];
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
    use std::path::Path;

    #[test]
    fn fingerprints_sharing_a_prefix_both_resolve() {
        let a = format!("sha256:{}{}", "ab".repeat(8), "1".repeat(48));
        let b = format!("sha256:{}{}", "ab".repeat(8), "2".repeat(48));
        let text = format!(
            r#"{{"version": 1, "credentials": [
              {{"id": "a", "kind": "k", "versions": [{{"fingerprint": "{a}", "created": "2026-01-01", "status": "active"}}]}},
              {{"id": "b", "kind": "k", "versions": [{{"fingerprint": "{b}", "created": "2026-01-01", "status": "revoked"}}]}}]}}"#
        );
        let inv = Inventory::parse(Path::new("i.json"), &text).expect("valid");
        let index = Index::new(inv, 0);
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
        let inv = Inventory::parse(Path::new("i.json"), text).expect("valid");
        let index = Index::new(inv, 0);
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
