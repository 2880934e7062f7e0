//! `keytrace report`: a sweep report (`sweep --output`, `merge`) rendered for people, as a
//! terminal summary on stdout and, with `--html`, one self-contained HTML page.

use super::{ColorChoice, ExitStatus, Global};
use crate::sweep::{self, RepoResult};
use anyhow::{bail, Context as _};
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

/// The repository entries of a sweep report; the estate views are rebuilt from them, as
/// `merge` does, so the page shows exactly what a fresh sweep report would hold.
#[derive(serde::Deserialize)]
struct Stored {
    report: String,
    repositories: Vec<RepoResult>,
}

/// Reads a sweep report; a malformed one is an error naming the file, line and column.
fn read(path: &Path) -> anyhow::Result<Vec<RepoResult>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the sweep report", path.display()))?;
    let stored: Stored = serde_json::from_str(&text).map_err(|e| {
        let what = e.to_string();
        let what = what
            .rsplit_once(" at line ")
            .map_or(what.as_str(), |(head, _)| head);
        anyhow::anyhow!(
            "{}:{}:{}: not a keytrace sweep report: {what}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    if stored.report != "keytrace-sweep" {
        bail!(
            "{}: not a keytrace sweep report (\"report\" is \"{}\", expected \"keytrace-sweep\")",
            path.display(),
            stored.report.escape_debug()
        );
    }
    for r in &stored.repositories {
        for f in r.findings.iter().filter(|f| f.fingerprint.is_some()) {
            if !looks_redacted(&f.shown) {
                let place = f
                    .places
                    .first()
                    .map_or(String::new(), |p| format!(" at {}:{}", p.path, p.line));
                bail!(
                    "{}: the {} finding in {}{place} holds a value that is not redacted; \
                     refusing to render a report that may carry a plaintext secret",
                    path.display(),
                    f.rule,
                    r.path
                );
            }
        }
    }
    Ok(stored.repositories)
}

/// Whether a secret's shown value has the shape of `fingerprint::redact`: a short hint,
/// `…`, then the length (`ghp_ab…(40 chars)`). Sweep reports hold nothing else; a report
/// edited or written by another tool might.
fn looks_redacted(shown: &str) -> bool {
    shown.strip_suffix(" chars)").is_some_and(|head| {
        head.rsplit_once("…(")
            .is_some_and(|(hint, n)| hint.chars().count() <= 6 && n.parse::<u32>().is_ok())
    })
}

pub fn run(global: &Global, args: &ReportArgs) -> anyhow::Result<ExitStatus> {
    let report = sweep::build_report(read(&args.report)?);
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
