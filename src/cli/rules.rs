//! `keytrace rules`: list, check, explain and document the detection rules.

use super::{ExitStatus, Global};
use crate::matcher::selftest::{check_rules, CONTEXTS};
use crate::matcher::Matcher;
use crate::report::options::RuleInfo;
use crate::rules::RuleSet;
use anyhow::bail;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: RulesCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum RulesCommand {
    /// List the rules in force (built-in plus --rules).
    List {
        /// Extra rule files or directories.
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
        /// `json` prints one object per rule, sorted by id, so rule sets diff well.
        #[arg(long, value_enum, default_value = "human")]
        format: ListFormat,
    },
    /// Print the keyword prefilter's literals, one per line, sorted (for `rg -F -i -f`).
    Keywords {
        /// Extra rule files or directories.
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
    /// Run every rule's examples and negatives through the real matcher.
    ///
    /// With PATHs, checks only the rules in those files or directories;
    /// without, the built-in rules.
    #[command(alias = "test")]
    Check {
        /// Rule files or directories to check (default: the built-in rules).
        paths: Vec<PathBuf>,
        /// Same as giving the PATHs (kept for `rules test --rules DIR`).
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
    /// Print what a rule finds, why it matters and how to rotate the secret.
    Explain {
        /// Rule id (old ids from rules/aliases.toml work too).
        id: String,
    },
    /// Print the Markdown rule reference (docs/rules.md).
    Docs,
    /// Print the Markdown list of diagnostic codes (docs/diagnostics.md).
    #[command(hide = true)]
    Diagnostics,
}

/// `rules list --format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

/// What the reports know of each rule in force, and of the inventory's built-in checks:
/// the one source of the help text and link that `rules explain` prints and SARIF carries.
pub(super) fn rule_infos(set: &RuleSet) -> Vec<RuleInfo> {
    set.rules
        .iter()
        .map(|r| RuleInfo {
            id: r.id.clone(),
            name: r.name.clone(),
            description: r.description.clone(),
            severity: r.severity,
            tags: r.tags.clone(),
            defined_at: format!("{}:{}", r.origin.file, r.origin.line),
        })
        .chain(RuleInfo::reference_checks())
        .chain(RuleInfo::known_value_checks())
        .collect()
}

/// The rules as JSON objects sorted by id: what a user diffs between two rule sets.
fn rules_json(set: &RuleSet) -> serde_json::Value {
    let mut rules: Vec<&crate::rules::model::Rule> = set.rules.iter().collect();
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    serde_json::Value::Array(
        rules
            .into_iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "name": r.name,
                    "confidence": r.confidence.as_str(),
                    "severity": r.severity.to_string(),
                    "kind": format!("{:?}", r.kind).to_ascii_lowercase(),
                    "public": r.public,
                    "keywords": r.keywords,
                    "prefix": r.prefix,
                    "validate": r.validate.map(|v| format!("{v:?}")),
                    "entropy": r.entropy,
                    "tags": r.tags,
                    "regex": r.regex,
                    "names": r.names,
                    "near": r.near,
                    "file": r.origin.file,
                })
            })
            .collect(),
    )
}

pub fn run(_global: &Global, args: &RulesArgs) -> anyhow::Result<ExitStatus> {
    let mut out = std::io::stdout().lock();
    match &args.command {
        RulesCommand::List { rules, format } => {
            let set = RuleSet::with_user_rules(rules)?;
            if *format == ListFormat::Json {
                writeln!(out, "{}", serde_json::to_string_pretty(&rules_json(&set))?)?;
                return Ok(ExitStatus::Clean);
            }
            for r in &set.rules {
                writeln!(
                    out,
                    "{:<44} {:<6} {:<8} {}",
                    r.id,
                    r.confidence.as_str(),
                    r.severity,
                    r.name
                )?;
            }
            writeln!(out, "{} rules", set.rules.len())?;
            Ok(ExitStatus::Clean)
        }
        RulesCommand::Keywords { rules } => {
            let set = RuleSet::with_user_rules(rules)?;
            for kw in Matcher::new(&set)?.keywords() {
                writeln!(out, "{kw}")?;
            }
            Ok(ExitStatus::Clean)
        }
        RulesCommand::Check { paths, rules } => {
            let mut all = paths.clone();
            all.extend(rules.iter().cloned());
            let set = if all.is_empty() {
                RuleSet::embedded()?
            } else {
                RuleSet::from_paths(&all)?
            };
            let matcher = Matcher::new(&set)?;
            matcher.compile_all()?;
            let report = check_rules(&set, &matcher);
            writeln!(
                out,
                "contexts for bare examples: {}; every multi-line sample again with CRLF",
                CONTEXTS.join(", ")
            )?;
            for line in &report.lines {
                writeln!(out, "{line}")?;
            }
            for p in &report.problems {
                writeln!(out, "error: {}: rule `{}`: {}", p.place, p.rule, p.message)?;
            }
            writeln!(
                out,
                "{} rules checked, {} problems",
                set.rules.len(),
                report.problems.len()
            )?;
            Ok(if report.problems.is_empty() {
                ExitStatus::Clean
            } else {
                ExitStatus::Findings
            })
        }
        RulesCommand::Explain { id } => {
            let set = RuleSet::embedded()?;
            let resolved = set.resolve_id(id);
            let infos = rule_infos(&set);
            let Some(info) = infos.iter().find(|r| r.id == resolved) else {
                bail!("no rule `{id}` (see `keytrace rules list`)");
            };
            writeln!(out, "{} — {}\n", info.id, info.name)?;
            for line in info.description.trim().lines() {
                writeln!(out, "{}", line.trim())?;
            }
            if let Some(uri) = info.help_uri() {
                writeln!(out, "\nhelp: {uri}")?;
            }
            let Some(r) = set.rules.iter().find(|r| r.id == resolved) else {
                writeln!(
                    out,
                    "\nseverity: {}   defined in: {}",
                    info.severity, info.defined_at
                )?;
                return Ok(ExitStatus::Clean);
            };
            writeln!(
                out,
                "\nconfidence: {}   severity: {}   tags: {}",
                r.confidence.as_str(),
                r.severity,
                r.tags.join(", ")
            )?;
            writeln!(out, "keywords: {}", r.keywords.join(", "))?;
            if !r.names.is_empty() {
                writeln!(out, "names: {}", r.names.join("  "))?;
            }
            if let Some(near) = &r.near {
                writeln!(out, "near: {near}")?;
            }
            writeln!(out, "regex: {}", r.regex)?;
            if let Some(v) = r.validate {
                writeln!(out, "validator: {v:?}")?;
            }
            if r.public {
                writeln!(
                    out,
                    "public by design: reported only with `scan --include-public`, as info"
                )?;
            }
            writeln!(out, "defined in: {}:{}", r.origin.file, r.origin.line)?;
            Ok(ExitStatus::Clean)
        }
        RulesCommand::Diagnostics => {
            write!(out, "{}", crate::diag::markdown())?;
            Ok(ExitStatus::Clean)
        }
        RulesCommand::Docs => {
            write!(out, "{}", RuleSet::embedded()?.markdown())?;
            Ok(ExitStatus::Clean)
        }
    }
}
