//! Linker: turns a raw match into a classified [`Finding`]: kind, severity,
//! fingerprint, redaction, context, and allow-list decisions.
//!
//! Linking has two steps so a scan never waits for the inventory: [`Linker::link`]
//! runs while files are scanned and yields a [`Candidate`] (the finding as if no
//! inventory knew it, plus what would hide it); [`Linker::resolve`] runs once the
//! scan and the inventory load (in parallel with it) are both done, and classifies
//! each candidate against the inventory.

use crate::context::{FileContext, FoundReference};
use crate::fingerprint::{redact, Fingerprinter};
use crate::inventory::{Index, ReferenceStatus};
use crate::matcher::Matcher;
use crate::rules::model::RuleKind;
use crate::types::{
    Chunk, Confidence, Finding, FindingContext, FindingKind, Location, Origin, RawMatch,
    ReferenceRef, SecretRef, Severity, SlotRef, StoredCandidate,
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
    /// An inventory will be given to `resolve`: keep what only it can reveal.
    expect_inventory: bool,
    /// The inventory coming may list retired references.
    may_retire: bool,
    /// `--max-age` in days and the time it is measured from.
    max_age: Option<(u32, i64)>,
    /// `--unknown-references`: report references no inventory entry lists.
    unknown_references: bool,
    /// `--include-public`: report values of public-by-design rules (as info).
    include_public: bool,
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

    /// The entries matching `path` (not yet counted as used).
    fn hits(&self, path: &str) -> Vec<usize> {
        if self.globs.is_empty() {
            return Vec::new();
        }
        self.set.matches(path)
    }

    /// Counts `hits` as used: they hid a finding.
    fn count(&self, hits: &[usize]) {
        for &i in hits {
            self.used[i].fetch_add(1, Ordering::Relaxed);
        }
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

/// A finding before the inventory is consulted, with what would hide it.
#[derive(Debug)]
pub struct Candidate {
    /// The finding as if no inventory knew the value (kind `unmanaged-secret` or
    /// `stale-secret`), or a reference finding still without its kind.
    finding: Finding,
    what: Subject,
    /// The value's rule is below `--min-confidence`.
    below_confidence: bool,
    /// The line carries `keytrace:allow`.
    inline_allowed: bool,
    /// Allow-list entries matching the path.
    allow_hits: Vec<usize>,
    /// The severity it has while unmanaged and not stale (the rule's, after overrides).
    unlinked_severity: Severity,
}

#[derive(Debug)]
enum Subject {
    /// A secret value (its identifiers are in the finding).
    Secret,
    /// An identifier alone (an AWS key id): canonical form, for the inventory lookup.
    Identifier(String),
    /// A reference by name.
    Reference(crate::context::Reference),
}

impl Candidate {
    /// The finding as linked so far (for baselines, which compare places and values).
    pub fn finding(&self) -> &Finding {
        &self.finding
    }

    /// Hidden unless the inventory knows the value.
    fn hidden(&self) -> bool {
        self.below_confidence || self.inline_allowed || !self.allow_hits.is_empty()
    }

    /// What a cache may keep of this candidate: no plaintext, no commit.
    pub fn stored(&self) -> StoredCandidate {
        let f = &self.finding;
        let (reference, identifier) = match &self.what {
            Subject::Secret => (None, None),
            Subject::Identifier(id) => (None, Some(id.clone())),
            Subject::Reference(r) => (Some((r.scheme.as_str().to_string(), r.name.clone())), None),
        };
        StoredCandidate {
            rule: f.rule.clone(),
            title: f.title.clone(),
            confidence: f.confidence,
            severity: self.unlinked_severity,
            secret: f.secret.clone(),
            reference,
            identifier,
            line: f.location.line,
            column: f.location.column,
            context: f.context.clone(),
            identifiers: f.identifiers.clone(),
            below_confidence: self.below_confidence,
            inline_allowed: self.inline_allowed,
            allow_hits: self.allow_hits.clone(),
        }
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
            expect_inventory: false,
            may_retire: false,
            max_age: None,
            unknown_references: false,
            include_public: false,
        }
    }

    /// An inventory will be given to [`Linker::resolve`]: keep candidates that only it can
    /// reveal (identifiers, allow-listed values). `retired_references` says whether it
    /// may retire reference names, so files must be searched for references.
    pub fn expect_inventory(mut self, retired_references: bool) -> Self {
        self.expect_inventory = true;
        self.may_retire = retired_references;
        self
    }

    /// Also report references that no inventory entry lists (`unknown-reference`).
    pub fn with_unknown_references(mut self) -> Self {
        self.unknown_references = true;
        self
    }

    /// Also report values that public-by-design rules recognise (browser client tokens).
    pub fn with_public(mut self) -> Self {
        self.include_public = true;
        self
    }

    /// Whether scans must extract references: something would come of them.
    pub fn wants_references(&self) -> bool {
        self.unknown_references || self.may_retire
    }

    /// Unmanaged secrets first seen more than `days` before `now` become `stale-secret`.
    pub fn with_max_age(mut self, days: u32, now: i64) -> Self {
        self.max_age = Some((days, now));
        self
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

    /// The candidate for a match in a file understood as `file`, or `None` when nothing
    /// could make it a finding (an identifier or a hidden value, with no inventory coming).
    pub fn link(&self, chunk: &Chunk<'_>, file: &FileContext, m: RawMatch) -> Option<Candidate> {
        let rule = self.matcher.rule(m.rule);
        let is_identifier = rule.kind == RuleKind::Identifier;
        // An identifier alone (an AWS key id with no secret near it) names a
        // credential but is not one; it matters only when the inventory knows it.
        if is_identifier && !self.expect_inventory {
            return None;
        }
        let origin = chunk.origin;
        // A public value (a browser client token) hides like a value below the
        // confidence gate: the inventory may still know it, nothing else reports it.
        let below_confidence =
            rule.confidence < self.min_confidence || (rule.public && !self.include_public);
        let inline_allowed = !below_confidence && line_has_inline_allow(chunk.bytes, m.line);
        let allow_hits = if below_confidence || inline_allowed {
            Vec::new()
        } else {
            self.allow.hits(&origin.path)
        };
        let hidden = below_confidence || inline_allowed || !allow_hits.is_empty();
        if hidden && !self.expect_inventory {
            self.allow.count(&allow_hits);
            return None;
        }
        // Hash only what matched, and only once.
        let fingerprint = self.fingerprinter.of_canonical(&m.canonical);
        let kind = self.unlinked_kind(origin.date.as_deref());
        let unlinked_severity = self
            .severity_overrides
            .get(&rule.id)
            .copied()
            .unwrap_or(rule.severity);
        let severity = match kind {
            FindingKind::UnmanagedSecret => unlinked_severity,
            _ => kind.default_severity(),
        };
        let location = Location::at(origin, m.line, m.column);
        let what = if is_identifier {
            Subject::Identifier(m.canonical.clone())
        } else {
            Subject::Secret
        };
        let finding = Finding {
            kind,
            severity,
            confidence: rule.confidence,
            rule: rule.id.clone(),
            title: rule.name.clone(),
            secret: Some(SecretRef {
                fingerprint,
                redacted: redact(&m.canonical, rule.prefix.as_deref()),
            }),
            reference: None,
            locations: vec![location.clone()],
            location,
            credential: None,
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
        };
        Some(Candidate {
            finding,
            what,
            below_confidence,
            inline_allowed,
            allow_hits,
            unlinked_severity,
        })
    }

    /// The candidate a stored one makes at `origin`: as [`Linker::link`] would have made it
    /// from the same blob read there (same content and path; commit, dates and age from
    /// this run).
    pub fn relocate(&self, s: &StoredCandidate, origin: &Origin) -> Candidate {
        let location = Location::at(origin, s.line, s.column);
        let what = match (&s.reference, &s.identifier) {
            (Some((scheme, name)), _) => crate::context::Scheme::ALL
                .iter()
                .find(|k| k.as_str() == scheme)
                .map_or(Subject::Secret, |k| {
                    Subject::Reference(crate::context::Reference::new(*k, name.clone()))
                }),
            (None, Some(id)) => Subject::Identifier(id.clone()),
            (None, None) => Subject::Secret,
        };
        let kind = match what {
            Subject::Reference(_) => FindingKind::UnknownReference,
            _ => self.unlinked_kind(origin.date.as_deref()),
        };
        let severity = match kind {
            FindingKind::UnmanagedSecret => s.severity,
            _ => kind.default_severity(),
        };
        let finding = Finding {
            kind,
            severity,
            confidence: s.confidence,
            rule: s.rule.clone(),
            title: s.title.clone(),
            secret: s.secret.clone(),
            reference: s.reference.as_ref().map(|(scheme, name)| ReferenceRef {
                name: format!("{scheme}:{name}"),
                replaced_by: Vec::new(),
            }),
            locations: vec![location.clone()],
            location,
            credential: None,
            context: s.context.clone(),
            identifiers: s.identifiers.clone(),
            first_seen: origin.date.clone(),
            plaintext: None,
        };
        Candidate {
            finding,
            what,
            below_confidence: s.below_confidence,
            inline_allowed: s.inline_allowed,
            allow_hits: s.allow_hits.clone(),
            unlinked_severity: s.severity,
        }
    }

    /// The candidate for a reference a file uses; whether it becomes a finding is for
    /// [`Linker::resolve`] to say.
    pub fn link_reference(
        &self,
        chunk: &Chunk<'_>,
        file: &FileContext,
        found: &FoundReference,
    ) -> Candidate {
        let origin = chunk.origin;
        let location = Location::at(origin, found.line, found.column);
        let inline_allowed = line_has_inline_allow(chunk.bytes, found.line);
        let allow_hits = if inline_allowed {
            Vec::new()
        } else {
            self.allow.hits(&origin.path)
        };
        let kind = FindingKind::UnknownReference;
        let finding = Finding {
            kind,
            severity: kind.default_severity(),
            confidence: Confidence::High,
            rule: kind.as_str().to_string(),
            title: kind.reference_title().unwrap_or_default().to_string(),
            secret: None,
            reference: Some(ReferenceRef {
                name: found.reference.to_string(),
                replaced_by: Vec::new(),
            }),
            locations: vec![location.clone()],
            location,
            credential: None,
            context: FindingContext {
                file_kind: file.kind.to_string(),
                decoding: None,
                slot: None,
            },
            identifiers: Vec::new(),
            first_seen: origin.date.clone(),
            plaintext: None,
        };
        Candidate {
            finding,
            what: Subject::Reference(found.reference.clone()),
            below_confidence: false,
            inline_allowed,
            allow_hits,
            unlinked_severity: kind.default_severity(),
        }
    }

    /// Classifies candidates against the inventory (when there is one): known values
    /// get their credential and kind and are never hidden by an allow-list or an
    /// inline allow; retired references become `retired-reference`; the rest keep
    /// their unmanaged kind or are dropped when hidden.
    pub fn resolve(&self, candidates: Vec<Candidate>, inventory: Option<&Index>) -> Vec<Finding> {
        let mut out = Vec::with_capacity(candidates.len());
        for c in candidates {
            if let Some(f) = self.resolve_one(c, inventory) {
                out.push(f);
            }
        }
        out
    }

    fn resolve_one(&self, c: Candidate, inventory: Option<&Index>) -> Option<Finding> {
        let hidden = c.hidden();
        let mut f = c.finding;
        let known = match (&c.what, inventory) {
            (Subject::Reference(r), inv) => {
                let status = match inv {
                    Some(inv) => inv.reference_status(r, &f.location.repo),
                    None => ReferenceStatus::Unknown,
                };
                return match status {
                    ReferenceStatus::Known(_) => None,
                    ReferenceStatus::Retired {
                        credential,
                        replaced_by,
                    } => {
                        f.kind = FindingKind::RetiredReference;
                        f.severity = f.kind.default_severity();
                        f.rule = f.kind.as_str().to_string();
                        f.title = f.kind.reference_title().unwrap_or_default().to_string();
                        f.credential = Some(credential);
                        if let Some(r) = &mut f.reference {
                            r.replaced_by = replaced_by;
                        }
                        Some(f)
                    }
                    // Unknown names are asked about for the working tree only: history
                    // is searched for references only to find retired ones.
                    ReferenceStatus::Unknown => {
                        if !self.unknown_references || hidden || f.location.commit.is_some() {
                            self.allow.count(&c.allow_hits);
                            return None;
                        }
                        Some(f)
                    }
                };
            }
            (_, None) => None,
            (Subject::Identifier(id), Some(inv)) => inv
                .by_identifier(id)
                .filter(|k| k.revoked)
                .map(|k| (FindingKind::RevokedIdentifierPresent, k.credential)),
            (Subject::Secret, Some(inv)) => {
                // The value itself, else the identifier it pairs with (an AWS secret next to a known key id).
                inv.by_fingerprint(f.subject())
                    .or_else(|| f.identifiers.iter().find_map(|id| inv.by_identifier(id)))
                    .map(|k| {
                        let kind = if k.revoked {
                            FindingKind::RevokedSecretPresent
                        } else {
                            FindingKind::ActiveSecretExposed
                        };
                        (kind, k.credential)
                    })
            }
        };
        match known {
            Some((kind, credential)) => {
                f.kind = kind;
                f.severity = kind.default_severity();
                f.credential = Some(credential);
                Some(f)
            }
            None if matches!(c.what, Subject::Identifier(_)) => None,
            None if hidden => {
                self.allow.count(&c.allow_hits);
                None
            }
            None => Some(f),
        }
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
        let candidates = raw
            .into_iter()
            .filter_map(|m| linker.link(&chunk, &file, m))
            .collect();
        linker
            .resolve(candidates, None)
            .into_iter()
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
