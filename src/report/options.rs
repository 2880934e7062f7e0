//! What a report is told besides findings: the format, human styling and rule metadata.

use crate::types::Severity;

impl RuleInfo {
    /// The rule's `Rotate:` line, which tells the reader how to fix a finding.
    pub fn fix(&self) -> Option<&str> {
        self.description
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix("Rotate: "))
    }

    /// The documentation link at the end of the `Rotate:` line.
    pub fn help_uri(&self) -> Option<&str> {
        let fix = self.fix()?;
        fix.find("https://")
            .map(|i| fix[i..].split_whitespace().next().unwrap_or(&fix[i..]))
    }
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
}

/// Human-output options.
#[derive(Debug, Clone, Copy, Default)]
pub struct HumanStyle {
    pub color: bool,
    pub show_secrets: bool,
}
