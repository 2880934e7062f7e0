//! Linker: turns a raw match into a classified [`Finding`]: kind, severity,
//! fingerprint, redaction, context, and allow-list decisions.

use crate::context::{FileContext, FoundReference};
use crate::fingerprint::{redact, Fingerprinter};
use crate::inventory::{Index, ReferenceStatus};
use crate::matcher::Matcher;
use crate::rules::model::RuleKind;
use crate::types::{
    Chunk, Confidence, CredentialRef, Finding, FindingContext, FindingKind, Location, Origin,
    RawMatch, ReferenceRef, SecretRef, Severity, SlotRef,
};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// The marker that suppresses a finding on its own line.
pub const INLINE_ALLOW: &str = "keytrace:allow";

/// Everything the linker needs besides the match itself.
pub struct Linker<'m> {
    matcher: &'m Matcher,
    fingerprinter: Fingerprinter,
    allow: Allowlist,
    min_confidence: Confidence,
    severity_overrides: HashMap<String, Severity>,
    show_secrets: bool,
    inventory: Option<&'m Index>,
    /// `--max-age` in days and the time it is measured from.
    max_age: Option<(u32, i64)>,
    /// `--unknown-references`: report references no inventory entry lists.
    unknown_references: bool,
}

/// Path globs (relative to the repository root) whose findings are not reported,
/// with a count of use per entry so unused ones can be named.
pub struct Allowlist {
    globs: Vec<String>,
    set: GlobSet,
    used: Vec<AtomicU64>,
}

impl Allowlist {
    /// Builds the allow-list; a bad glob is an error naming it.
    pub fn new(globs: &[String]) -> Result<Allowlist, globset::Error> {
        let mut b = GlobSetBuilder::new();
        for g in globs {
            b.add(Glob::new(g)?);
        }
        Ok(Allowlist {
            globs: globs.to_vec(),
            set: b.build()?,
            used: globs.iter().map(|_| AtomicU64::new(0)).collect(),
        })
    }

    fn allows(&self, path: &str) -> bool {
        let hits = self.set.matches(path);
        for &i in &hits {
            self.used[i].fetch_add(1, Ordering::Relaxed);
        }
        !hits.is_empty()
    }

    /// Entries that suppressed nothing in this run.
    pub fn unused(&self) -> Vec<&str> {
        self.globs
            .iter()
            .zip(&self.used)
            .filter(|(_, n)| n.load(Ordering::Relaxed) == 0)
            .map(|(g, _)| g.as_str())
            .collect()
    }
}

impl<'m> Linker<'m> {
    pub fn new(
        matcher: &'m Matcher,
        fingerprinter: Fingerprinter,
        allow: Allowlist,
        min_confidence: Confidence,
        severity_overrides: HashMap<String, Severity>,
        show_secrets: bool,
    ) -> Self {
        Linker {
            matcher,
            fingerprinter,
            allow,
            min_confidence,
            severity_overrides,
            show_secrets,
            inventory: None,
            max_age: None,
            unknown_references: false,
        }
    }

    /// Also report references that no inventory entry lists (`unknown-reference`).
    pub fn with_unknown_references(mut self) -> Self {
        self.unknown_references = true;
        self
    }

    /// Whether scans must extract references: something would come of them.
    pub fn wants_references(&self) -> bool {
        self.unknown_references || self.inventory.is_some_and(Index::has_retired_references)
    }

    /// Links matches to `inventory`: known values get their credential and kind,
    /// and are never hidden by an allow-list or an inline allow.
    pub fn with_inventory(mut self, inventory: &'m Index) -> Self {
        self.inventory = Some(inventory);
        self
    }

    /// Unmanaged secrets first seen more than `days` before `now` become `stale-secret`.
    pub fn with_max_age(mut self, days: u32, now: i64) -> Self {
        self.max_age = Some((days, now));
        self
    }

    /// What the inventory says about a match: its kind and credential, or `None` when it does not know it.
    fn classify(
        &self,
        is_identifier: bool,
        fingerprint: &str,
        m: &RawMatch,
    ) -> Option<(FindingKind, CredentialRef)> {
        let inv = self.inventory?;
        if is_identifier {
            let known = inv.by_identifier(&m.canonical)?;
            return known
                .revoked
                .then_some((FindingKind::RevokedIdentifierPresent, known.credential));
        }
        // The value itself, else the identifier it pairs with (an AWS secret next to a known key id).
        let known = inv
            .by_fingerprint(fingerprint)
            .or_else(|| m.identifiers.iter().find_map(|id| inv.by_identifier(id)))?;
        let kind = if known.revoked {
            FindingKind::RevokedSecretPresent
        } else {
            FindingKind::ActiveSecretExposed
        };
        Some((kind, known.credential))
    }

    /// `stale-secret` when the value was first seen longer ago than `--max-age`.
    fn unlinked_kind(&self, first_seen: Option<&str>) -> FindingKind {
        let stale = self.max_age.is_some_and(|(days, now)| {
            first_seen
                .and_then(crate::time::parse)
                .is_some_and(|t| crate::time::days_between(t, now) > days)
        });
        if stale {
            FindingKind::StaleSecret
        } else {
            FindingKind::UnmanagedSecret
        }
    }

    /// Re-applies `--max-age` once merging has given each finding the date
    /// its secret was first committed (a working-tree copy learns it from history).
    pub fn apply_age(&self, findings: &mut [Finding]) {
        if self.max_age.is_none() {
            return;
        }
        for f in findings
            .iter_mut()
            .filter(|f| f.kind == FindingKind::UnmanagedSecret)
        {
            if self.unlinked_kind(f.first_seen.as_deref()) == FindingKind::StaleSecret {
                f.kind = FindingKind::StaleSecret;
                f.severity = f.severity.max(FindingKind::StaleSecret.default_severity());
            }
        }
    }

    pub fn allowlist(&self) -> &Allowlist {
        &self.allow
    }

    /// The finding for a match in a file understood as `file`, or `None` when it is gated or allowed.
    pub fn link(&self, chunk: &Chunk<'_>, file: &FileContext, m: RawMatch) -> Option<Finding> {
        let rule = self.matcher.rule(m.rule);
        let is_identifier = rule.kind == RuleKind::Identifier;
        // Hash only what matched, and only once.
        let fingerprint = if self.inventory.is_some() || !is_identifier {
            self.fingerprinter.of_canonical(&m.canonical)
        } else {
            return None;
        };
        let origin = chunk.origin;
        let location = location(origin, m.line, m.column);
        let (kind, severity, credential) = match self.classify(is_identifier, &fingerprint, &m) {
            Some((kind, credential)) => (kind, kind.default_severity(), Some(credential)),
            None => {
                // An identifier alone (an AWS key id with no secret near it) names a
                // credential but is not one; it matters only when the inventory knows it.
                if is_identifier || rule.confidence < self.min_confidence {
                    return None;
                }
                if line_has_inline_allow(chunk.bytes, m.line) || self.allow.allows(&origin.path) {
                    return None;
                }
                let kind = self.unlinked_kind(origin.date.as_deref());
                let severity = match kind {
                    FindingKind::UnmanagedSecret => self
                        .severity_overrides
                        .get(&rule.id)
                        .copied()
                        .unwrap_or(rule.severity),
                    _ => kind.default_severity(),
                };
                (kind, severity, None)
            }
        };
        let canon = &m.canonical;
        Some(Finding {
            kind,
            severity,
            confidence: rule.confidence,
            rule: rule.id.clone(),
            title: rule.name.clone(),
            secret: Some(SecretRef {
                fingerprint,
                redacted: redact(canon, rule.prefix.as_deref()),
            }),
            reference: None,
            locations: vec![location.clone()],
            location,
            credential,
            context: FindingContext {
                file_kind: file.kind.to_string(),
                decoding: m.decoding.map(str::to_string),
                slot: file.slot_at(m.line).map(|s| SlotRef {
                    name: s.name.clone(),
                    expected: s.expected.clone(),
                }),
            },
            identifiers: m.identifiers,
            first_seen: origin.date.clone(),
            plaintext: self.show_secrets.then_some(m.secret),
        })
    }
}

impl Linker<'_> {
    /// The finding for a reference a file uses: `retired-reference` when a credential
    /// retired it, `unknown-reference` (only with `--unknown-references`) when no
    /// credential lists it, nothing when it is a known current reference.
    pub fn link_reference(
        &self,
        chunk: &Chunk<'_>,
        file: &FileContext,
        found: &FoundReference,
    ) -> Option<Finding> {
        let origin = chunk.origin;
        let status = match self.inventory {
            Some(inv) => inv.reference_status(&found.reference, &origin.repo),
            None => ReferenceStatus::Unknown,
        };
        let name = found.reference.to_string();
        let (kind, credential, replaced_by, title) = match status {
            ReferenceStatus::Known(_) => return None,
            ReferenceStatus::Retired {
                credential,
                replaced_by,
            } => (
                FindingKind::RetiredReference,
                Some(credential),
                replaced_by,
                "Reference to a retired secret name",
            ),
            ReferenceStatus::Unknown => {
                // A use the inventory does not know is only news when asked for, and
                // allow-lists apply to it as to any unmanaged finding.
                if !self.unknown_references
                    || line_has_inline_allow(chunk.bytes, found.line)
                    || self.allow.allows(&origin.path)
                {
                    return None;
                }
                (
                    FindingKind::UnknownReference,
                    None,
                    Vec::new(),
                    "Reference that no inventory entry lists",
                )
            }
        };
        let location = location(origin, found.line, found.column);
        Some(Finding {
            kind,
            severity: kind.default_severity(),
            confidence: Confidence::High,
            rule: kind.as_str().to_string(),
            title: title.to_string(),
            secret: None,
            reference: Some(ReferenceRef { name, replaced_by }),
            locations: vec![location.clone()],
            location,
            credential,
            context: FindingContext {
                file_kind: file.kind.to_string(),
                decoding: None,
                slot: None,
            },
            identifiers: Vec::new(),
            first_seen: origin.date.clone(),
            plaintext: None,
        })
    }
}

/// A finding's place from its chunk's origin.
fn location(origin: &Origin, line: u32, column: u32) -> Location {
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

/// Whether the 1-based `line` of `bytes` carries the inline allow marker.
fn line_has_inline_allow(bytes: &[u8], line: u32) -> bool {
    if memchr::memmem::find(bytes, INLINE_ALLOW.as_bytes()).is_none() {
        return false;
    }
    bytes
        .split(|&b| b == b'\n')
        .nth(line.saturating_sub(1) as usize)
        .is_some_and(|l| memchr::memmem::find(l, INLINE_ALLOW.as_bytes()).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;
    use crate::types::Origin;

    /// A classic GitHub token with a valid checksum.
    fn github_token() -> String {
        const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let random = "Qm7tWx2Lp9Rk4Zn8Vb3Hc6Jd1Fs5Gy0Ta2";
        let random = &random[..30];
        let mut n = crc32fast::hash(random.as_bytes());
        let mut tail = [b'0'; 6];
        for slot in tail.iter_mut().rev() {
            *slot = B62[(n % 62) as usize];
            n /= 62;
        }
        format!("ghp_{random}{}", String::from_utf8_lossy(&tail))
    }

    fn kinds(linker: &Linker<'_>, matcher: &Matcher, date: Option<&str>) -> Vec<FindingKind> {
        let text = format!("TOKEN = \"{}\"\n", github_token());
        let origin = Origin {
            repo: "r".into(),
            path: "a.py".into(),
            date: date.map(str::to_string),
            ..Origin::default()
        };
        let chunk = Chunk {
            bytes: text.as_bytes(),
            origin: &origin,
        };
        let mut raw: Vec<RawMatch> = Vec::new();
        matcher.scan(&chunk, &mut raw);
        let file = crate::context::analyze(&origin.path, chunk.bytes);
        raw.into_iter()
            .filter_map(|m| linker.link(&chunk, &file, m))
            .map(|f| f.kind)
            .collect()
    }

    #[test]
    fn unmanaged_secrets_first_seen_before_max_age_are_stale() {
        let set = RuleSet::embedded().expect("rules");
        let matcher = Matcher::new(&set).expect("matcher");
        let now = crate::time::parse("2026-11-23T00:00:00Z").expect("now");
        let linker = Linker::new(
            &matcher,
            Fingerprinter::sha256(),
            Allowlist::new(&[]).expect("allow"),
            Confidence::Low,
            HashMap::new(),
            false,
        )
        .with_max_age(365, now);
        let old = kinds(&linker, &matcher, Some("2024-01-02T03:04:05+01:00"));
        assert_eq!(old, vec![FindingKind::StaleSecret]);
        let recent = kinds(&linker, &matcher, Some("2026-10-01T00:00:00Z"));
        assert_eq!(recent, vec![FindingKind::UnmanagedSecret]);
        // Working-tree findings have no first_seen: never stale.
        assert_eq!(
            kinds(&linker, &matcher, None),
            vec![FindingKind::UnmanagedSecret]
        );
    }
}
