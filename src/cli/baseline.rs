//! `keytrace baseline create|prune`: record today's findings as accepted debt, and drop
//! the entries whose finding is gone. `keytrace scan --baseline FILE` reads the file;
//! the format and the match key are described in `crate::baseline`.
//!
//! Both take the scan flags as they are (paths, `--git`, `--config`, `--inventory`, …),
//! so a baseline is made with exactly the scan the CI gate runs. `--output` names the
//! baseline file; the flags that only shape a report are refused, not ignored.

use super::scan::{self, Collected, ScanArgs};
use super::{ExitStatus, Global};
use crate::baseline::Baseline;
use crate::report::options::Format;
use anyhow::bail;
use std::path::PathBuf;

/// Where `baseline create` writes when no `--output` is given.
pub const DEFAULT_FILE: &str = ".keytrace-baseline.jsonl";

#[derive(Debug, clap::Args)]
pub struct BaselineArgs {
    #[command(subcommand)]
    command: BaselineCommand,
}

#[derive(Debug, clap::Subcommand)]
enum BaselineCommand {
    /// Record today's findings in a baseline file to commit (`scan --baseline` reads it).
    ///
    /// Takes the scan flags, so the baseline is made by the scan the gate runs. --output
    /// names the baseline file (default .keytrace-baseline.jsonl); --format and
    /// --show-secrets are refused.
    Create(ScanArgs),
    /// Drop the entries of --baseline FILE that a whole scan no longer finds.
    ///
    /// Takes the scan flags the baseline was made with (not --rev-range, --staged or
    /// --since). Rewrites the file atomically, or writes --output FILE when given.
    Prune(ScanArgs),
}

pub fn run(global: &Global, args: &BaselineArgs) -> anyhow::Result<ExitStatus> {
    match &args.command {
        BaselineCommand::Create(scan) => create(global, scan),
        BaselineCommand::Prune(scan) => prune(global, scan),
    }
}

/// The flags that shape a report mean nothing for a baseline: refuse them rather than ignore them.
fn refuse_report_flags(args: &ScanArgs, verb: &str) -> anyhow::Result<()> {
    if args.format != Format::Human {
        bail!("baseline {verb}: --format does not apply: a baseline file has one format");
    }
    if !args.reports.is_empty() {
        bail!("baseline {verb}: --report does not apply: a baseline file has one format");
    }
    if args.show_secrets {
        bail!("baseline {verb}: --show-secrets does not apply: a baseline never holds plaintext");
    }
    Ok(())
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn create(global: &Global, args: &ScanArgs) -> anyhow::Result<ExitStatus> {
    refuse_report_flags(args, "create")?;
    if args.baseline.is_some() {
        bail!("baseline create: --baseline does not apply: it writes a new baseline to --output (`baseline prune --baseline FILE` drops stale entries)");
    }
    let output = (args.output.clone()).unwrap_or_else(|| PathBuf::from(DEFAULT_FILE));
    let Collected {
        outcome, warnings, ..
    } = scan::collect(global, args)?;
    scan::print_warnings(global, &warnings);
    scan::check_coverage(args, &outcome.stats, outcome.history.as_ref())?;
    // One repository: entries without its name, which depends on the checkout's directory.
    let with_repo = outcome.repositories.len() > 1;
    let (baseline, known) = Baseline::from_findings(
        &outcome.findings,
        with_repo,
        scan::fingerprinter_from_env().key_id(),
    );
    baseline.write(&output)?;
    let mut line = format!(
        "wrote {} to {}",
        plural(baseline.len(), "baseline entry", "baseline entries"),
        output.display()
    );
    if known > 0 {
        line.push_str(&format!(
            "; left out {} the inventory knows (a baseline never hides them)",
            plural(known, "finding", "findings")
        ));
    }
    println!("{line}");
    Ok(ExitStatus::Clean)
}

fn prune(global: &Global, args: &ScanArgs) -> anyhow::Result<ExitStatus> {
    refuse_report_flags(args, "prune")?;
    let Some(file) = &args.baseline else {
        bail!("baseline prune: --baseline FILE names the baseline to prune");
    };
    if !scan::whole_scope(args) {
        bail!("baseline prune: --rev-range, --staged and --since see part of the history, where every finding outside it would look gone; prune with the flags the baseline was made with");
    }
    // A bad baseline fails before any file is scanned.
    let baseline = Baseline::load(file, scan::fingerprinter_from_env().key_id().as_deref())?;
    let Collected {
        set,
        outcome,
        warnings,
        ..
    } = scan::collect(global, args)?;
    scan::print_warnings(global, &warnings);
    scan::check_coverage(args, &outcome.stats, outcome.history.as_ref())?;
    let resolve = |id: &str| set.resolve_id(id).to_string();
    let (kept, dropped) = baseline.pruned(&outcome.findings, &resolve);
    let output = args.output.as_ref().unwrap_or(file);
    if kept != baseline || output != file {
        kept.write(output)?;
    }
    println!(
        "dropped {} from {}; {} kept in {}",
        plural(dropped, "stale entry", "stale entries"),
        file.display(),
        plural(kept.len(), "entry", "entries"),
        output.display()
    );
    Ok(ExitStatus::Clean)
}
