//! The inventory file as DESIGN §4 writes it: parsed with positions for every
//! error, validated, and printed sorted so that it reviews well.

use super::InventoryError;
use crate::fingerprint::Fingerprinter;
use crate::types::ResetRecord;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::num::NonZeroU32;
use std::path::Path;

/// The inventory file used when none is named.
pub const DEFAULT_FILE: &str = "keytrace-inventory.json";

/// A string type whose every value is checked on load. The model and the
/// scan-time view ([`super::view`]) check through this one function, so both
/// accept exactly the same files.
pub(super) trait Checked {
    fn check(s: &str) -> Result<(), String>;
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    pub version: FormatVersion,
    /// Short digest naming the HMAC key, when fingerprints are keyed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint_key_id: Option<String>,
    #[serde(default)]
    pub credentials: Vec<Credential>,
}

impl Default for Inventory {
    fn default() -> Self {
        Inventory {
            version: FormatVersion,
            fingerprint_key_id: None,
            credentials: Vec::new(),
        }
    }
}

/// The file format version; only 1 exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct FormatVersion;

impl TryFrom<u32> for FormatVersion {
    type Error = String;
    fn try_from(v: u32) -> Result<Self, String> {
        if v == 1 {
            Ok(FormatVersion)
        } else {
            Err(format!(
                "unsupported inventory version {v} (this keytrace reads version 1)"
            ))
        }
    }
}

impl From<FormatVersion> for u32 {
    fn from(_: FormatVersion) -> u32 {
        1
    }
}

/// One credential and every version it ever had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    pub id: String,
    pub kind: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_days: Option<u32>,
    #[serde(default, deserialize_with = "compact")]
    pub references: Vec<Reference>,
    #[serde(default, deserialize_with = "compact")]
    pub retired_references: Vec<Reference>,
    /// Public identifiers of the credential (AWS access key ids).
    #[serde(default, deserialize_with = "compact")]
    pub identifiers: Vec<String>,
    /// Globs of repository names its references apply to (empty: everywhere).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "compact"
    )]
    pub repos: Vec<String>,
    #[serde(default, deserialize_with = "compact")]
    pub versions: Vec<Version>,
}

/// One value a credential had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Version {
    /// Absent for versions known only by identifier (imported AWS keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Fingerprint>,
    #[serde(default)]
    pub hint: String,
    /// Byte length of the canonical value, when recorded: the known-value pass
    /// then hashes only tokens of this length (see the README on what it reveals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<NonZeroU32>,
    /// The identifier of this version (e.g. its AWS access key id), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    pub created: Timestamp,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<Box<ResetRecord>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation: Option<Box<Revocation>>,
}

/// How the provider-side revocation was confirmed; recorded, never checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    pub method: String,
    #[serde(default)]
    pub evidence: String,
    pub at: Timestamp,
}

/// Whether a version is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Revoked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Revoked => "revoked",
        }
    }
}

/// `sha256:` or `hmac-sha256:` and 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_hmac(&self) -> bool {
        Fingerprint::is_hmac_text(&self.0)
    }

    /// Whether the fingerprint written `s` is keyed; the scan-time view asks this too.
    pub(super) fn is_hmac_text(s: &str) -> bool {
        s.starts_with("hmac-")
    }
}

impl Checked for Fingerprint {
    fn check(s: &str) -> Result<(), String> {
        let hex = s
            .strip_prefix("sha256:")
            .or_else(|| s.strip_prefix("hmac-sha256:"));
        match hex {
            Some(h) if h.len() == 64 && h.bytes().all(is_lower_hex) => Ok(()),
            // The value is not echoed: a pasted secret must not reach an error message.
            _ => Err("malformed fingerprint: expected `sha256:` or `hmac-sha256:` followed by 64 lowercase hex digits".to_string()),
        }
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::check(&s)?;
        Ok(Fingerprint(s))
    }
}

/// `0-9a-f`, by table: every fingerprint of a large inventory passes here on load.
fn is_lower_hex(b: u8) -> bool {
    const TABLE: [bool; 256] = {
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = matches!(i as u8, b'0'..=b'9' | b'a'..=b'f');
            i += 1;
        }
        t
    };
    TABLE[usize::from(b)]
}

impl From<Fingerprint> for String {
    fn from(f: Fingerprint) -> String {
        f.0
    }
}

/// An RFC 3339 time, kept as written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp(String);

impl Timestamp {
    pub fn at(t: i64) -> Timestamp {
        Timestamp(crate::time::format(t))
    }

    /// Seconds since the epoch (validated on construction).
    pub fn seconds(&self) -> i64 {
        crate::time::parse(&self.0).unwrap_or(0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Checked for Timestamp {
    fn check(s: &str) -> Result<(), String> {
        match crate::time::parse(s) {
            Some(_) => Ok(()),
            None => Err(format!(
                "invalid time `{s}`: expected RFC 3339 such as 2026-09-01T00:00:00Z"
            )),
        }
    }
}

impl TryFrom<String> for Timestamp {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::check(&s)?;
        Ok(Timestamp(s))
    }
}

impl From<Timestamp> for String {
    fn from(t: Timestamp) -> String {
        t.0
    }
}

/// `scheme:name` with a known scheme.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reference(String);

impl Reference {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parsed form, for matching against references found in files.
    pub fn parsed(&self) -> crate::context::Reference {
        self.0.parse().expect("validated on load")
    }
}

impl Checked for Reference {
    fn check(s: &str) -> Result<(), String> {
        crate::context::Reference::validate(s).map(|_| ())
    }
}

impl TryFrom<String> for Reference {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::check(&s)?;
        Ok(Reference(s))
    }
}

impl From<Reference> for String {
    fn from(r: Reference) -> String {
        r.0
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Deserializes a list allocating exactly for the usual one or two items: a
/// growing `Vec` starts at four, which made a 100,000-credential inventory
/// several times larger in memory and slower to load.
fn compact<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Compact<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Compact<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let Some(first) = seq.next_element()? else {
                return Ok(Vec::new());
            };
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0) + 1);
            out.push(first);
            while let Some(next) = seq.next_element()? {
                if out.len() == out.capacity() {
                    out.reserve_exact(out.len());
                }
                out.push(next);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Compact(std::marker::PhantomData))
}

/// 1-based line and column of byte offset `at` in `text`.
fn position(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The line and column where the JSON value (or key) ending at `line`:`column` starts.
fn value_start(text: &str, line: usize, column: usize) -> (usize, usize) {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let end = text[line_start..]
        .char_indices()
        .nth(column)
        .map_or(text.len(), |(i, _)| line_start + i);
    let bytes = text.as_bytes();
    let mut i = end;
    let skip_space = |mut i: usize| {
        while i > 0 && bytes[i - 1].is_ascii_whitespace() {
            i -= 1;
        }
        i
    };
    i = skip_space(i);
    // Numbers and list items are reported after the delimiter that ended them.
    if i > 0 && matches!(bytes[i - 1], b']' | b'}' | b',') && end > 0 {
        let before = skip_space(i - 1);
        if before > 0 && (bytes[before - 1] == b'"' || bytes[before - 1].is_ascii_alphanumeric()) {
            i = before;
        }
    }
    if i > 0 && bytes[i - 1] == b'"' {
        i -= 1;
        while i > 0 && !(bytes[i - 1] == b'"' && (i < 2 || bytes[i - 2] != b'\\')) {
            i -= 1;
        }
        i = i.saturating_sub(1);
    } else {
        while i > 0
            && (bytes[i - 1].is_ascii_alphanumeric() || matches!(bytes[i - 1], b'.' | b'-' | b'+'))
        {
            i -= 1;
        }
    }
    position(text, i)
}

/// Byte offset of the `nth` (0-based) JSON string `"value"` that follows key `"key"`.
fn find_key_value(text: &str, key: &str, value: &str, nth: usize) -> Option<usize> {
    let quoted_key = format!("\"{key}\"");
    let quoted_value = serde_json::to_string(value).ok()?;
    let mut seen = 0;
    let mut from = 0;
    while let Some(i) = text[from..].find(&quoted_key) {
        let after = from + i + quoted_key.len();
        let rest = text[after..].trim_start();
        if let Some(rest) = rest.strip_prefix(':') {
            let rest_trim = rest.trim_start();
            if rest_trim.starts_with(&quoted_value) {
                if seen == nth {
                    return Some(text.len() - rest_trim.len());
                }
                seen += 1;
            }
        }
        from = after;
    }
    None
}

impl Inventory {
    /// Parses and validates `text` read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Inventory, InventoryError> {
        let invalid = |at: Option<usize>, message: String| {
            let (line, column) = at.map_or((1, 1), |a| position(text, a));
            InventoryError::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        };
        let inv: Inventory = serde_json::from_str(text).map_err(|e| {
            let full = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            let msg = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
            let (msg, (line, column)) = match e.classify() {
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    (format!("syntax error: {msg}"), (e.line(), e.column()))
                }
                // serde_json points just past the offending value; point at its start.
                _ => (msg, value_start(text, e.line(), e.column())),
            };
            InventoryError::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                message: msg,
            }
        })?;
        let mut ids = super::index::FxHashMap::default();
        let mut fps = super::index::FxHashMap::default();
        ids.reserve(inv.credentials.len());
        fps.reserve(inv.credentials.len());
        for c in &inv.credentials {
            let n = ids.entry(c.id.as_str()).or_insert(0usize);
            *n += 1;
            if *n > 1 {
                return Err(invalid(
                    find_key_value(text, "id", &c.id, *n - 1),
                    format!("duplicate credential id `{}`", c.id),
                ));
            }
            if Credential::is_blank_id(&c.id) {
                return Err(invalid(
                    find_key_value(text, "id", &c.id, 0),
                    "empty credential id".into(),
                ));
            }
            for g in &c.repos {
                if let Err(e) = globset::Glob::new(g) {
                    return Err(invalid(
                        text.find(&serde_json::to_string(g).unwrap_or_default()),
                        format!("credential `{}`: bad repos glob: {e}", c.id),
                    ));
                }
            }
            for v in &c.versions {
                let Some(fp) = &v.fingerprint else { continue };
                // Positions are looked up only for an error: a large inventory validates in one pass.
                let at = || text.find(fp.as_str()).map(|a| a - 1);
                if let Some(other) = fps.insert(fp.as_str(), c.id.as_str()) {
                    let second = text.match_indices(fp.as_str()).nth(1).map(|(a, _)| a - 1);
                    return Err(invalid(
                        second,
                        format!(
                            "fingerprint of credential `{}` is already listed under `{other}`",
                            c.id
                        ),
                    ));
                }
                if fp.is_hmac() != inv.fingerprint_key_id.is_some() {
                    let msg = if fp.is_hmac() {
                        "an hmac-sha256 fingerprint needs `fingerprint_key_id` at the top level"
                    } else {
                        "a plain sha256 fingerprint in an inventory with `fingerprint_key_id` (all fingerprints must use the same key)"
                    };
                    return Err(invalid(at(), msg.into()));
                }
            }
        }
        Ok(inv)
    }

    /// Refuses a fingerprint key that does not match the inventory's; never a silent mismatch.
    pub fn check_key(&self, path: &Path, fp: &Fingerprinter) -> Result<(), InventoryError> {
        let has_fingerprints = self
            .credentials
            .iter()
            .flat_map(|c| &c.versions)
            .any(|v| v.fingerprint.is_some());
        check_key(
            path,
            self.fingerprint_key_id.as_deref(),
            has_fingerprints,
            fp,
        )
    }

    /// The stable pretty form: credentials by id, lists sorted; versions keep
    /// their order, since their position is their version number.
    pub fn to_pretty(&self) -> String {
        let mut inv = self.clone();
        inv.credentials.sort_by(|a, b| a.id.cmp(&b.id));
        for c in &mut inv.credentials {
            for list in [&mut c.references, &mut c.retired_references] {
                list.sort();
                list.dedup();
            }
            c.identifiers.sort();
            c.identifiers.dedup();
            c.repos.sort();
            c.repos.dedup();
        }
        let mut s = serde_json::to_string_pretty(&inv).expect("inventory serialises");
        s.push('\n');
        s
    }

    pub fn get(&self, id: &str) -> Option<&Credential> {
        self.credentials.iter().find(|c| c.id == id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Credential> {
        self.credentials.iter_mut().find(|c| c.id == id)
    }

    /// The credential and 1-based version holding `fingerprint`.
    pub fn find_fingerprint(&self, fingerprint: &str) -> Option<(&Credential, usize)> {
        self.credentials.iter().find_map(|c| {
            c.versions
                .iter()
                .position(|v| {
                    v.fingerprint
                        .as_ref()
                        .is_some_and(|f| f.as_str() == fingerprint)
                })
                .map(|i| (c, i + 1))
        })
    }
}

/// Refuses a fingerprint key that does not match the inventory's key id
/// (`key_id`); never a silent mismatch.
pub(super) fn check_key(
    path: &Path,
    key_id: Option<&str>,
    has_fingerprints: bool,
    fp: &Fingerprinter,
) -> Result<(), InventoryError> {
    let path = path.to_path_buf();
    match (key_id, fp.key_id()) {
        (Some(key_id), None) => Err(InventoryError::KeyMissing {
            path,
            key_id: key_id.to_string(),
        }),
        (Some(expected), Some(given)) if expected != given => Err(InventoryError::KeyMismatch {
            path,
            given,
            expected: expected.to_string(),
        }),
        (None, Some(_)) if has_fingerprints => Err(InventoryError::KeyUnexpected { path }),
        _ => Ok(()),
    }
}

impl Credential {
    /// Whether `id` is no id at all; the scan-time view refuses these too.
    pub(super) fn is_blank_id(id: &str) -> bool {
        id.trim().is_empty()
    }

    /// The newest active version and its 1-based number.
    pub fn active(&self) -> Option<(usize, &Version)> {
        self.versions
            .iter()
            .enumerate()
            .rev()
            .find(|(_, v)| v.status == Status::Active)
            .map(|(i, v)| (i + 1, v))
    }

    /// Days the active version is past `rotation_days`, when it is.
    pub fn overdue_days(&self, now: i64) -> Option<u32> {
        let limit = self.rotation_days?;
        let (_, v) = self.active()?;
        let age = crate::time::days_between(v.created.seconds(), now);
        (age > limit).then(|| age - limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_sorted_output() {
        let text = "{\n  \"version\": 1,\n  \"credentials\": [\n    {\"id\": \"b\", \"kind\": \"k\"},\n    {\"id\": \"a\", \"kind\": \"k\"}\n  ]\n}\n";
        let inv = Inventory::parse(Path::new("i.json"), text).expect("valid");
        let out = inv.to_pretty();
        assert!(out.find("\"a\"").expect("a") < out.find("\"b\"").expect("b"));
        assert_eq!(
            Inventory::parse(Path::new("i.json"), &out)
                .expect("reparse")
                .to_pretty(),
            out
        );
        assert_eq!(position("ab\ncd", 4), (2, 2));
    }
}
