//! Linker: turns a raw match into a classified [`Finding`]: kind, severity,
//! fingerprint, redaction, context, and allow-list decisions.

use crate::fingerprint::{redact, Fingerprinter};
use crate::matcher::Matcher;
use crate::rules::model::RuleKind;
use crate::types::{
    Chunk, Confidence, Finding, FindingContext, FindingKind, Location, RawMatch, SecretRef,
    Severity,
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
        }
    }

    pub fn allowlist(&self) -> &Allowlist {
        &self.allow
    }

    /// The finding for a match, or `None` when it is gated or allowed.
    pub fn link(&self, chunk: &Chunk<'_>, m: RawMatch) -> Option<Finding> {
        let rule = self.matcher.rule(m.rule);
        // An identifier alone (an AWS key id with no secret near it) names a
        // credential but is not one; it matters only when the inventory knows it.
        if rule.kind == RuleKind::Identifier {
            return None;
        }
        if rule.confidence < self.min_confidence {
            return None;
        }
        if line_has_inline_allow(chunk.bytes, m.line) || self.allow.allows(&chunk.origin.path) {
            return None;
        }
        let canon = &m.canonical;
        let kind = FindingKind::UnmanagedSecret;
        let severity = self
            .severity_overrides
            .get(&rule.id)
            .copied()
            .unwrap_or(rule.severity);
        let origin = chunk.origin;
        let location = Location {
            repo: origin.repo.clone(),
            path: origin.path.clone(),
            line: m.line,
            column: m.column,
            commit: origin.commit.clone(),
            author: origin.author.clone(),
            date: origin.date.clone(),
            commits: origin.commits,
            time: origin.time,
        };
        Some(Finding {
            kind,
            severity,
            confidence: rule.confidence,
            rule: rule.id.clone(),
            title: rule.name.clone(),
            secret: SecretRef {
                fingerprint: self.fingerprinter.of_canonical(canon),
                redacted: redact(canon, rule.prefix.as_deref()),
            },
            locations: vec![location.clone()],
            location,
            credential: None,
            context: FindingContext {
                file_kind: crate::context::file_kind(&origin.path, chunk.bytes).to_string(),
                decoding: m.decoding.map(str::to_string),
            },
            identifiers: m.identifiers,
            first_seen: origin.date.clone(),
            plaintext: self.show_secrets.then_some(m.secret),
        })
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
