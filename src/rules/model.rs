//! The rule table as written in `rules/*.toml` (see docs/rule-format.md).

use crate::types::{Confidence, Severity};
use serde::Deserialize;

/// One `[[rule]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub description: String,
    pub regex: String,
    /// Named-value rule: regexes on the name a value is assigned to (`DD_API_KEY`, or
    /// qualified by its blocks, `datadog.api_key`). When set, `regex` runs on each value
    /// whose name matches one, in every format the named-value scanner reads.
    #[serde(default)]
    pub names: Vec<String>,
    /// Named-value rule only: a regex that must match within a few lines of the value.
    /// A name such as `AUTH_TOKEN` says which vendor only next to that vendor's
    /// identifier (`\bAC[a-f0-9]{32}\b`, the Twilio account SID).
    #[serde(default)]
    pub near: Option<String>,
    pub keywords: Vec<String>,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub validate: Option<Validator>,
    #[serde(default)]
    pub entropy: Option<f64>,
    pub confidence: Confidence,
    #[serde(default = "default_severity")]
    pub severity: Severity,
    #[serde(default)]
    pub kind: RuleKind,
    /// Public by design (a browser-side client token): it wins over every other rule
    /// matching the same value, so no generic rule reports it, and its findings are
    /// dropped unless `--include-public`. Such a rule declares `severity = "info"`.
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub pairs_with: Vec<String>,
    #[serde(default)]
    pub window: usize,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub examples: Vec<Example>,
    #[serde(default)]
    pub negatives: Vec<String>,
    /// File the rule came from (`aws.toml`, or a user path) and the line of its `id`.
    #[serde(skip)]
    pub origin: RuleOrigin,
}

/// Where a rule was defined, for diagnostics that point at it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleOrigin {
    pub file: String,
    pub line: usize,
}

fn default_severity() -> Severity {
    Severity::High
}

/// Structural checks run on a capture after its regex matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Validator {
    /// GitHub / npm style: last 6 chars are base62 CRC32 of the random part.
    #[serde(rename = "crc32-base62")]
    Crc32Base62,
    /// Header and payload decode to JSON objects; header has `alg`.
    Jwt,
    /// PEM / OpenSSH body is base64 of at least 40 bytes.
    Pem,
    /// Standard base64 decoding to at least 16 bytes.
    Base64,
    /// Standard base64 decoding to exactly 64 bytes.
    #[serde(rename = "base64-64")]
    Base64Len64,
    /// A JWT (as `jwt`) whose payload claims `"role": "anon"`: a Supabase/PostgREST
    /// anonymous key, meant for browsers; any other role is a real credential.
    JwtRoleAnon,
}

/// Secrets are reported; identifiers name a secret (an AWS key id) and are
/// attached to the secret they pair with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    #[default]
    Secret,
    Identifier,
}

/// A sample that must match, with the value the rule must capture.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    #[serde(default)]
    pub input: Option<String>,
    pub secret: String,
}

impl Example {
    /// The text as scanned: the input, or for a bare example the secret itself.
    pub fn text(&self) -> &str {
        self.input.as_deref().unwrap_or(&self.secret)
    }
}
