//! Command line: one file per subcommand, each `run(&Global, &Args) -> Result<ExitStatus>`.
//!
//! Parsed arguments are plain data; walkers, compiled rules and reporters are
//! built by the subcommand after parsing.

mod audit;
mod baseline;
mod install_hook;
mod inventory;
mod refs;
mod report;
mod rules;
mod scan;
mod sweep;
mod verify_reset;

use clap::{Parser, Subcommand};

/// Process exit status (DESIGN §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Nothing at or above the gate.
    Clean = 0,
    /// Findings at or above the gate, or an incomplete reset.
    Findings = 1,
    /// Usage, configuration or input error.
    Error = 2,
    /// Reset verification inconclusive.
    Inconclusive = 3,
}

/// keytrace: find secrets and prove a credential reset is complete.
#[derive(Debug, Parser)]
#[command(name = "keytrace", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand understands.
#[derive(Debug, clap::Args)]
pub struct Global {
    /// Print no progress or warnings on stderr (errors still print).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// When to colour human output: auto (terminal and no NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories for secrets.
    Scan(scan::ScanArgs),
    /// List, check and explain detection rules.
    Rules(rules::RulesArgs),
    /// List credential references in CI config and manifests, and their inventory coverage.
    Refs(refs::RefsArgs),
    /// Keep the credential inventory: add, rotate, import, adopt, check.
    Inventory(inventory::InventoryArgs),
    /// Prove a credential reset is complete: no old value, identifier or retired name remains.
    VerifyReset(verify_reset::VerifyResetArgs),
    /// Verify and show the reset evidence log.
    Audit(audit::AuditArgs),
    /// Sweep every git repository under the roots (tree and history) into one estate report.
    Sweep(sweep::SweepArgs),
    /// Write a git pre-commit hook that runs `keytrace scan --staged` (without the pre-commit framework).
    InstallHook(install_hook::InstallHookArgs),
    /// Join shard reports of `sweep --shard K/N` into the report one machine would write.
    Merge(sweep::MergeArgs),
    /// Render a sweep report for people: a terminal summary, and `--html FILE` one page.
    Report(report::ReportArgs),
    /// Record today's findings as accepted debt (`scan --baseline` leaves them out), and prune it.
    Baseline(baseline::BaselineArgs),
}

/// Runs the parsed command and maps errors to exit status 2 (a closed pipe is not an error).
pub fn execute(cli: &Cli) -> ExitStatus {
    let result = match &cli.command {
        Command::Scan(args) => scan::run(&cli.global, args),
        Command::Rules(args) => rules::run(&cli.global, args),
        Command::Inventory(args) => inventory::run(&cli.global, args),
        Command::Refs(args) => refs::run(&cli.global, args),
        Command::VerifyReset(args) => verify_reset::run(&cli.global, args),
        Command::Audit(args) => audit::run(&cli.global, args),
        Command::Sweep(args) => sweep::run(&cli.global, args),
        Command::Merge(args) => sweep::merge(&cli.global, args),
        Command::Report(args) => report::run(&cli.global, args),
        Command::Baseline(args) => baseline::run(&cli.global, args),
        Command::InstallHook(args) => install_hook::run(&cli.global, args),
    };
    match result {
        Ok(status) => status,
        Err(err) if is_broken_pipe(&err) => ExitStatus::Clean,
        Err(err) => {
            eprintln!("error: {}", message(&err));
            ExitStatus::Error
        }
    }
}

/// The error and its causes joined by ": ", each cause once: library errors
/// already name their source in their own message.
fn message(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks over every subcommand (a clash panics only at run time).
    #[test]
    fn command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
