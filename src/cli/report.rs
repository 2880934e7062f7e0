//! `keytrace report`: a sweep report (`sweep --output`, `merge`) rendered for people, as a
//! terminal summary on stdout and, with `--html`, one self-contained HTML page.

use super::{ColorChoice, ExitStatus, Global};
use crate::sweep::{Spool, SweepReport};
use anyhow::Context as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The estate report written by `keytrace sweep --output` or `keytrace merge`.
    pub report: PathBuf,
    /// Also write the report as one self-contained HTML page (no external assets), atomically.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Reads a sweep report as `merge` does (the estate views rebuilt from its repository
/// entries, so the page shows exactly what a fresh sweep report would hold); a malformed
/// one is an error naming the file, line and column, one with a plaintext value is refused.
fn read(path: &Path) -> anyhow::Result<SweepReport> {
    let mut spool = Spool::temporary()?;
    spool.push_report(path)?;
    Ok(spool.into_report()?)
}

pub fn run(global: &Global, args: &ReportArgs) -> anyhow::Result<ExitStatus> {
    let report = read(&args.report)?;
    if let Some(path) = &args.html {
        let page = crate::estate::html(&report);
        crate::atomic_file::replace(
            path,
            page.as_bytes(),
            crate::atomic_file::Durability::Synced,
        )
        .with_context(|| format!("{}: cannot write the HTML report", path.display()))?;
    }
    let stdout = std::io::stdout();
    let color = match global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let mut out = std::io::BufWriter::new(stdout.lock());
    crate::estate::summary(&report, crate::estate::Style { color }, &mut out)?;
    out.flush()?;
    Ok(ExitStatus::Clean)
}
