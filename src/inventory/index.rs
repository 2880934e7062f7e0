//! Lookup tables over a loaded inventory: fingerprint → (credential, version)
//! and identifier → (credential, version), so linking a match costs one hash lookup.

use super::model::{Credential, Inventory, Status};
use crate::types::CredentialRef;
use std::collections::HashMap;

/// An inventory ready for matching.
pub struct Index {
    inventory: Inventory,
    by_fingerprint: HashMap<String, (usize, usize)>,
    /// Identifier → credential and, when a version carries it, that version.
    by_identifier: HashMap<String, (usize, Option<usize>)>,
    now: i64,
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
        let mut by_fingerprint = HashMap::new();
        let mut by_identifier = HashMap::new();
        for (ci, c) in inventory.credentials.iter().enumerate() {
            for id in &c.identifiers {
                by_identifier.insert(id.clone(), (ci, None));
            }
            for (vi, v) in c.versions.iter().enumerate() {
                if let Some(fp) = &v.fingerprint {
                    by_fingerprint.insert(fp.as_str().to_string(), (ci, vi));
                }
                if let Some(id) = &v.identifier {
                    by_identifier.insert(id.clone(), (ci, Some(vi)));
                }
            }
        }
        Index {
            inventory,
            by_fingerprint,
            by_identifier,
            now,
        }
    }

    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// Number of fingerprints indexed.
    pub fn len(&self) -> usize {
        self.by_fingerprint.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_fingerprint.is_empty() && self.by_identifier.is_empty()
    }

    /// The credential version whose value has this fingerprint.
    pub fn by_fingerprint(&self, fingerprint: &str) -> Option<Known> {
        let &(ci, vi) = self.by_fingerprint.get(fingerprint)?;
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

    /// The credential that lists `reference` among its retired references for `repo`.
    pub fn retired_reference(&self, reference: &str, repo: &str) -> Option<CredentialRef> {
        self.inventory
            .credentials
            .iter()
            .enumerate()
            .find_map(|(ci, c)| {
                let listed = c.retired_references.iter().any(|r| r.as_str() == reference);
                (listed && applies_to(c, repo)).then(|| {
                    let vi = c.versions.len().saturating_sub(1);
                    self.credential_ref(ci, vi)
                })
            })
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
            reset: v.and_then(|v| v.reset.clone()),
            overdue_days: c.overdue_days(self.now),
        }
    }
}

/// Whether a credential's references apply in `repo` (its `repos` globs, or everywhere).
fn applies_to(c: &Credential, repo: &str) -> bool {
    c.repos.is_empty()
        || c.repos
            .iter()
            .filter_map(|g| globset::Glob::new(g).ok())
            .any(|g| g.compile_matcher().is_match(repo))
}
