//! `keytrace refs`: every credential reference in CI config and manifests, where it is
//! used, and (with an inventory) whether the inventory knows it, retired it, or not.

use super::{ExitStatus, Global};
use crate::context::{Reference, Scheme};
use crate::inventory::{Index, ReferenceStatus};
use crate::scan::{collect_references, NamedInclude, UsedReference};
use crate::source::WalkOptions;
use anyhow::bail;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct RefsArgs {
    /// Files or directories to read.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Credential inventory to check coverage against (default: keytrace-inventory.json
    /// in the current directory, when present).
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = RefsFormat::Human)]
    pub format: RefsFormat,
    /// Do not honour .gitignore, .ignore and .keytraceignore files.
    #[arg(long)]
    pub no_ignore: bool,
    /// Skip files larger than this (bytes, or with K/M/G suffix: 25M).
    #[arg(long, value_name = "SIZE", default_value = "25M", value_parser = super::scan::parse_size)]
    pub max_file_size: u64,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub threads: usize,
}

/// `refs --format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RefsFormat {
    Human,
    Json,
}

/// One reference as the report shows it.
#[derive(Debug, Serialize)]
struct Row {
    reference: String,
    /// `known`, `retired` or `unknown`; absent without an inventory.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    replaced_by: Vec<String>,
    locations: Vec<Place>,
}

#[derive(Debug, Serialize)]
struct Place {
    repo: String,
    path: String,
    line: u32,
    column: u32,
    file_kind: &'static str,
}

#[derive(Debug, Serialize)]
struct IncludeRow {
    path: String,
    line: u32,
    target: String,
}

#[derive(Debug, Serialize)]
struct RefsReport {
    schema_version: u32,
    references: Vec<Row>,
    includes: Vec<IncludeRow>,
    /// Inventory references (current ones) that no scanned file uses.
    #[serde(skip_serializing_if = "Option::is_none")]
    unused_inventory_references: Option<Vec<String>>,
    summary: BTreeMap<&'static str, usize>,
}

pub fn run(global: &Global, args: &RefsArgs) -> anyhow::Result<ExitStatus> {
    for p in &args.paths {
        if std::fs::symlink_metadata(p).is_err() {
            bail!("{}: no such file or directory", p.display());
        }
    }
    let fp = super::scan::fingerprinter_from_env();
    let index = super::inventory::index_for_scan(args.inventory.as_deref(), &fp)?;
    let opts = WalkOptions {
        max_file_size: args.max_file_size,
        respect_ignore_files: !args.no_ignore,
        threads: args.threads,
    };
    let (used, includes, stats) = collect_references(&args.paths, &opts);
    if !global.quiet {
        let mut err = std::io::stderr().lock();
        for w in &stats.warnings {
            let _ = writeln!(err, "{w}");
        }
    }
    let report = build(&used, &includes, index.as_ref());
    let mut out = std::io::stdout().lock();
    match args.format {
        RefsFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        RefsFormat::Human => human(&mut out, &report)?,
    }
    Ok(ExitStatus::Clean)
}

fn build(used: &[UsedReference], includes: &[NamedInclude], index: Option<&Index>) -> RefsReport {
    let mut summary = BTreeMap::new();
    let mut rows = Vec::new();
    let mut sorted: Vec<&UsedReference> = used.iter().collect();
    // Listed as written (`scheme:name`), in byte order.
    sorted.sort_by_cached_key(|u| u.reference.to_string());
    for u in sorted {
        // Coverage is per repository (credentials may be scoped by `repos`): the
        // status shown is the most urgent over the repositories using it.
        let statuses: Vec<ReferenceStatus> = match index {
            Some(index) => {
                let mut repos: Vec<&str> = u.places.iter().map(|(l, _)| l.repo.as_str()).collect();
                repos.dedup();
                repos
                    .into_iter()
                    .map(|repo| index.reference_status(&u.reference, repo))
                    .collect()
            }
            None => Vec::new(),
        };
        let pick = statuses
            .iter()
            .find(|s| matches!(s, ReferenceStatus::Retired { .. }))
            .or_else(|| {
                statuses
                    .iter()
                    .find(|s| matches!(s, ReferenceStatus::Unknown))
            })
            .or(statuses.first());
        let (status, credential, replaced_by) = match pick {
            None => (None, None, Vec::new()),
            Some(ReferenceStatus::Known(c)) => (Some("known"), Some(c.id.clone()), Vec::new()),
            Some(ReferenceStatus::Retired {
                credential,
                replaced_by,
            }) => (
                Some("retired"),
                Some(credential.id.clone()),
                replaced_by.clone(),
            ),
            Some(ReferenceStatus::Unknown) => (Some("unknown"), None, Vec::new()),
        };
        *summary.entry("references").or_insert(0) += 1;
        if let Some(s) = status {
            *summary.entry(s).or_insert(0) += 1;
        }
        rows.push(Row {
            reference: u.reference.to_string(),
            status,
            credential,
            replaced_by,
            locations: u
                .places
                .iter()
                .map(|(l, kind)| Place {
                    repo: l.repo.clone(),
                    path: l.path.clone(),
                    line: l.line,
                    column: l.column,
                    file_kind: kind,
                })
                .collect(),
        });
    }
    let unused = index.map(|index| {
        let mut found: BTreeMap<(Scheme, String), Vec<&Reference>> = BTreeMap::new();
        for u in used {
            found
                .entry(u.reference.key())
                .or_default()
                .push(&u.reference);
        }
        let mut unused: Vec<String> = index
            .current_references()
            .filter(|r| {
                let Ok(listed) = r.parse::<Reference>() else {
                    return false;
                };
                !found
                    .get(&listed.key())
                    .is_some_and(|uses| uses.iter().any(|f| listed.covers(f)))
            })
            .map(str::to_string)
            .collect();
        unused.sort();
        unused.dedup();
        unused
    });
    RefsReport {
        schema_version: crate::types::REPORT_SCHEMA_VERSION,
        references: rows,
        includes: includes
            .iter()
            .map(|i| IncludeRow {
                path: i.location.path.clone(),
                line: i.location.line,
                target: i.target.clone(),
            })
            .collect(),
        unused_inventory_references: unused,
        summary,
    }
}

fn human(out: &mut impl Write, r: &RefsReport) -> std::io::Result<()> {
    for row in &r.references {
        let mut head = row.reference.clone();
        if let Some(s) = row.status {
            head.push_str(&format!("  [{s}"));
            if let Some(c) = &row.credential {
                head.push_str(&format!(": {c}"));
            }
            if !row.replaced_by.is_empty() {
                head.push_str(&format!(", now {}", row.replaced_by.join(", ")));
            }
            head.push(']');
        }
        writeln!(out, "{head}")?;
        for p in &row.locations {
            writeln!(
                out,
                "  --> {}:{}:{} ({})",
                p.path, p.line, p.column, p.file_kind
            )?;
        }
    }
    if !r.includes.is_empty() {
        writeln!(out, "\nincludes (named, not fetched):")?;
        for i in &r.includes {
            writeln!(out, "  {}:{}: {}", i.path, i.line, i.target)?;
        }
    }
    if let Some(unused) = r
        .unused_inventory_references
        .as_ref()
        .filter(|u| !u.is_empty())
    {
        writeln!(out, "\nin the inventory but used by no scanned file:")?;
        for u in unused {
            writeln!(out, "  {u}")?;
        }
    }
    let n = |k| r.summary.get(k).copied().unwrap_or(0);
    let mut line = format!(
        "{} reference{}",
        n("references"),
        if n("references") == 1 { "" } else { "s" }
    );
    if r.unused_inventory_references.is_some() {
        line.push_str(&format!(
            ": {} known, {} retired, {} unknown",
            n("known"),
            n("retired"),
            n("unknown")
        ));
    }
    writeln!(out, "{line}")
}
