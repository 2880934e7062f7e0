//! `keytrace audit`: verify and show the reset evidence log (DESIGN §6).
//!
//! `verify` checks the hash chain on the file's exact bytes and, given an anchor
//! (`--head`, a head digest kept outside the log, e.g. in the change ticket),
//! also sees records cut from the end. `show` refuses a broken log. The hidden
//! `append` adds one record body from stdin, for tests and scripts.

use super::{ExitStatus, Global};
use crate::evidence::{self, record_count, EvidenceError, ShowFormat};
use anyhow::{bail, Context as _};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain: exit 0 if intact, 1 naming the first edited, removed, inserted,
    /// moved or truncated record.
    Verify {
        /// The evidence log (JSON Lines).
        file: PathBuf,
        /// A head digest recorded earlier (`sha256:…`): exit 1 unless the log still holds it,
        /// which catches records removed from the end.
        #[arg(long, value_name = "DIGEST")]
        head: Option<String>,
    },
    /// Show the history of resets and checks, one row per record and credential.
    Show {
        /// The evidence log (JSON Lines).
        file: PathBuf,
        /// Show only this credential's rows and records.
        #[arg(long, value_name = "ID")]
        credential: Option<String>,
        /// table (terminal), markdown (for a change ticket, with the head digest) or json.
        #[arg(long, value_enum, default_value_t = ShowFormat::Table)]
        format: ShowFormat,
    },
    /// Append one record; its body is one JSON object read from stdin. For tests and scripts.
    #[command(hide = true)]
    Append {
        /// The evidence log (JSON Lines), created if missing.
        file: PathBuf,
    },
}

pub fn run(_global: &Global, args: &AuditArgs) -> anyhow::Result<ExitStatus> {
    match &args.command {
        AuditCommand::Verify { file, head } => verify(file, head.as_deref()),
        AuditCommand::Show {
            file,
            credential,
            format,
        } => show(file, credential.as_deref(), *format),
        AuditCommand::Append { file } => append(file),
    }
}

fn verify(file: &Path, anchor: Option<&str>) -> anyhow::Result<ExitStatus> {
    let anchor = anchor.map(parse_digest).transpose()?;
    let verified = match checked(evidence::verify(file))? {
        Ok(v) => v,
        Err(broken) => {
            println!("{broken}");
            return Ok(ExitStatus::Findings);
        }
    };
    let summary = verified.summary(file);
    let Some(anchor) = anchor else {
        println!("{summary}");
        return Ok(ExitStatus::Clean);
    };
    match verified.records_after(&anchor) {
        Some(0) => println!("{summary}; the head is the anchor"),
        Some(n) => println!("{summary}; {} after the anchor {anchor}", record_count(n)),
        None => {
            println!(
                "{}: the anchor {anchor} is not in the log: records were removed from its end, \
                 or it is another log ({} now, head {})",
                file.display(),
                record_count(verified.records),
                verified.head
            );
            return Ok(ExitStatus::Findings);
        }
    }
    Ok(ExitStatus::Clean)
}

fn show(file: &Path, credential: Option<&str>, format: ShowFormat) -> anyhow::Result<ExitStatus> {
    let log = match checked(evidence::read(file))? {
        Ok(log) => log,
        Err(broken) => {
            eprintln!("error: {broken}; not showing a broken log");
            return Ok(ExitStatus::Findings);
        }
    };
    let text = evidence::render(&log, file, credential, format);
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitStatus::Clean)
}

fn append(file: &Path) -> anyhow::Result<ExitStatus> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("cannot read the record body from stdin")?;
    let body = match serde_json::from_str(&input) {
        Ok(serde_json::Value::Object(body)) => body,
        Ok(_) => bail!("stdin: the record body must be one JSON object"),
        Err(e) => bail!("stdin: the record body is not JSON: {e}"),
    };
    match checked(evidence::append(file, &body))? {
        Ok(appended) => {
            println!(
                "{}: appended record {}, head {}",
                file.display(),
                appended.seq,
                appended.digest
            );
            Ok(ExitStatus::Clean)
        }
        Err(broken) => {
            eprintln!("error: {broken}; not appending to a broken log");
            Ok(ExitStatus::Findings)
        }
    }
}

/// Splits a broken chain (exit 1, the verdict of a check) from errors that stop the
/// command (exit 2: a missing or unreadable file, a lock or write failure).
fn checked<T>(result: Result<T, EvidenceError>) -> anyhow::Result<Result<T, EvidenceError>> {
    match result {
        Ok(v) => Ok(Ok(v)),
        Err(broken @ EvidenceError::Broken { .. }) => Ok(Err(broken)),
        Err(e) => Err(e.into()),
    }
}

/// An anchor as given on the command line, checked and in the log's lowercase form.
fn parse_digest(given: &str) -> anyhow::Result<String> {
    let digest = given.trim().to_ascii_lowercase();
    let hex = digest.strip_prefix("sha256:").unwrap_or_default();
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!(
            "--head {given}: expected sha256: and 64 hex digits, as `audit verify` prints the head"
        );
    }
    Ok(digest)
}
