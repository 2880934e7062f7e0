//! What a report is told besides findings: the format, human styling and rule metadata.

use crate::types::{FindingKind, Severity, KNOWN_IDENTIFIER, KNOWN_VALUE};

impl RuleInfo {
    /// The rule's `Rotate:` line, which tells the reader how to fix a finding.
    pub fn fix(&self) -> Option<&str> {
        self.line("Rotate: ")
    }

    /// The documentation link at the end of the `Rotate:` line. `rules explain` prints it
    /// and SARIF carries it as `helpUri`, so both always name the same page.
    pub fn help_uri(&self) -> Option<&str> {
        let fix = self.fix()?;
        fix.find("https://").map(|i| {
            fix[i..]
                .split_whitespace()
                .next()
                .unwrap_or(&fix[i..])
                .trim_end_matches(['.', ',', ')', ';'])
        })
    }

    /// The remediation advice as plain text, fix first: how to rotate (with the link),
    /// then why it matters. A description without those lines is given whole.
    pub fn help_text(&self) -> String {
        match (self.fix(), self.line("Why: ")) {
            (Some(fix), Some(why)) => format!("To fix: {fix}\nWhy it matters: {why}"),
            (Some(fix), None) => format!("To fix: {fix}"),
            _ => self.description.trim().to_string(),
        }
    }

    /// The same advice as Markdown (code scanning shows it under the alert), with the
    /// rule's own text escaped and its link kept clickable.
    pub fn help_markdown(&self) -> String {
        match (self.fix(), self.line("Why: ")) {
            (Some(fix), why) => {
                let mut md = format!("**To fix:** {}", escape_markdown(fix));
                if let Some(why) = why {
                    md.push_str(&format!("\n\n**Why it matters:** {}", escape_markdown(why)));
                }
                if let Some(what) = self.line("Finds ") {
                    md.push_str(&format!("\n\nThis rule finds {}", escape_markdown(what)));
                }
                md
            }
            (None, _) => escape_markdown(self.description.trim()),
        }
    }

    /// The rest of the description's line that starts with `label`.
    fn line(&self, label: &str) -> Option<&str> {
        self.description
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(label))
    }
}

impl RuleInfo {
    /// The two checks that come from the inventory, not from a rule file: uses of
    /// retired reference names and (on request) references no entry lists.
    pub fn reference_checks() -> Vec<RuleInfo> {
        let check = |kind: FindingKind, description: &str| RuleInfo {
            id: kind.as_str().to_string(),
            name: kind.reference_title().unwrap_or_default().to_string(),
            description: description.to_string(),
            severity: kind.default_severity(),
            tags: vec!["reference".to_string()],
            defined_at: "inventory check".to_string(),
        };
        vec![
            check(
                FindingKind::RetiredReference,
                "CI config or a manifest still names a secret that the inventory lists under a credential's retired_references: the reset left this use behind.\nRotate: point this use at the credential's current reference (named with the finding) and delete the old secret where it is stored.",
            ),
            check(
                FindingKind::UnknownReference,
                "CI config or a manifest names a secret that no inventory credential lists among its references (reported with --unknown-references).\nRotate: add the reference to the credential it belongs to (inventory add --reference, or edit the inventory), or remove the use.",
            ),
        ]
    }
}

impl RuleInfo {
    /// The built-in rules of the known-value pass, which finds revoked values and
    /// identifiers of the inventory whatever their shape.
    pub fn known_value_checks() -> Vec<RuleInfo> {
        [KNOWN_VALUE, KNOWN_IDENTIFIER]
            .iter()
            .map(|c| RuleInfo {
                id: c.id.to_string(),
                name: c.name.to_string(),
                description: c.description.to_string(),
                severity: c.severity,
                tags: vec!["inventory".to_string()],
                defined_at: "built-in".to_string(),
            })
            .collect()
    }
}

/// Escapes the Markdown characters that would change how a description reads (a `_` in an
/// environment variable name, a `*` in a glob), except in URLs, which GitHub links as they are.
fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, word) in s.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.starts_with("https://") || word.starts_with("http://") {
            out.push_str(word);
            continue;
        }
        for c in word.chars() {
            if matches!(
                c,
                '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|'
            ) {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// What a report needs to know about a rule.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub id: String,
    pub name: String,
    pub description: String,
    pub severity: Severity,
    pub tags: Vec<String>,
    /// `file:line` of the rule's definition, so a reader can see what raised a finding.
    pub defined_at: String,
}

/// Output formats of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Jsonl,
    Sarif,
    Github,
    /// GitLab's secret-detection report (schema 15), for `artifacts:reports:secret_detection`.
    Gitlab,
}

/// Human-output options.
#[derive(Debug, Clone, Copy, Default)]
pub struct HumanStyle {
    pub color: bool,
    pub show_secrets: bool,
}
