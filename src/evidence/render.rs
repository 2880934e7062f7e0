//! `keytrace audit show`: the history of resets and checks in a verified log, as a
//! table, a Markdown block for a change ticket, or the selected records as JSON.
//!
//! Only what the log holds is printed (the log holds no plaintext). Fields are
//! read as they are there: a missing one shows `-`, unknown fields are ignored,
//! and a record of another `kind` gets a row of what it shares with the rest.

use super::log::{record_count, Log, Verified};
use serde_json::{Map, Value};
use std::path::Path;

/// How `audit show` prints the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ShowFormat {
    /// One row per record and credential, aligned for a terminal.
    #[default]
    Table,
    /// A heading, a Markdown table and the head digest, to paste into a change ticket.
    Markdown,
    /// The selected records, whole, as a JSON array.
    Json,
}

/// The history in `log` (read from `path`) as `format`, keeping only rows and records
/// of `credential` when given. The same log gives the same bytes.
pub fn render(log: &Log, path: &Path, credential: Option<&str>, format: ShowFormat) -> String {
    let selected: Vec<&Map<String, Value>> = log
        .records
        .iter()
        .filter(|r| credential.is_none_or(|id| credentials(r, Some(id)).next().is_some()))
        .collect();
    match format {
        ShowFormat::Json => {
            let mut text = serde_json::to_string_pretty(&selected).unwrap_or_default();
            text.push('\n');
            text
        }
        ShowFormat::Table => table(&selected, &log.verified, path, credential),
        ShowFormat::Markdown => markdown(&selected, &log.verified, path, credential),
    }
}

const HEADINGS: [&str; 10] = [
    "seq",
    "finished",
    "credential",
    "verdict",
    "reset by",
    "approved by",
    "ticket",
    "remaining",
    "repositories",
    "holes",
];

type Row = [String; HEADINGS.len()];

fn table(
    records: &[&Map<String, Value>],
    verified: &Verified,
    path: &Path,
    credential: Option<&str>,
) -> String {
    let rows = all_rows(records, credential, printable);
    let heads = HEADINGS.map(str::to_uppercase);
    let mut widths = heads.each_ref().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&heads).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    if rows.is_empty() {
        out.push_str(&no_rows(credential));
        out.push('\n');
    }
    for note in other_kinds(records) {
        out.push_str(&note);
        out.push('\n');
    }
    out.push_str(&printable(&verified.summary(path)));
    out.push('\n');
    out
}

fn markdown(
    records: &[&Map<String, Value>],
    verified: &Verified,
    path: &Path,
    credential: Option<&str>,
) -> String {
    let rows = all_rows(records, credential, |s| printable(s).replace('|', "\\|"));
    let mut out = String::from("### Credential reset evidence");
    if let Some(id) = credential {
        out.push_str(&format!(": {}", printable(id)));
    }
    out.push_str("\n\n");
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    out.push_str(&line(&HEADINGS.map(capitalised)));
    out.push_str(&line(&HEADINGS.map(|_| "---".to_string())));
    for row in &rows {
        out.push_str(&line(row));
    }
    out.push('\n');
    if rows.is_empty() {
        out.push_str(&format!("{}\n\n", no_rows(credential)));
    }
    for note in other_kinds(records) {
        out.push_str(&format!("{note}\n\n"));
    }
    out.push_str(&format!(
        "Evidence log `{}`: {}, chain intact, head `{}`.\n",
        printable(&path.display().to_string()),
        record_count(verified.records),
        verified.head
    ));
    out
}

fn no_rows(credential: Option<&str>) -> String {
    match credential {
        Some(id) => format!("(no record of credential {})", printable(id)),
        None => "(no records)".into(),
    }
}

/// One note per record of a kind other than `verify-reset`, so its row is not mistaken for one.
fn other_kinds(records: &[&Map<String, Value>]) -> Vec<String> {
    records
        .iter()
        .filter(|r| !is_reset_check(r))
        .map(|r| {
            format!(
                "record {} is of kind {}; --format json shows it whole",
                printable(&text(r.get("seq"))),
                printable(&text(r.get("kind")))
            )
        })
        .collect()
}

fn all_rows(
    records: &[&Map<String, Value>],
    credential: Option<&str>,
    cell: impl Fn(&str) -> String,
) -> Vec<Row> {
    records
        .iter()
        .flat_map(|r| rows(r, credential))
        .map(|row| row.map(|c| cell(&c)))
        .collect()
}

/// The rows of one record: one per credential (only `credential`'s when given); a record
/// with no credentials, or of another kind, gets one row of the record's own fields.
fn rows(record: &Map<String, Value>, credential: Option<&str>) -> Vec<Row> {
    let shared = |credential: String, verdict: String, resets: [String; 3], remaining: String| {
        let [by, approved_by, ticket] = resets;
        [
            text(record.get("seq")),
            text(record.get("finished")),
            credential,
            verdict,
            by,
            approved_by,
            ticket,
            remaining,
            count(record.get("scope")),
            holes(record),
        ]
    };
    let mut out: Vec<Row> = credentials(record, credential)
        .map(|c| {
            shared(
                text(c.get("id")),
                text(c.get("verdict")),
                resets(c),
                count(c.get("remaining")),
            )
        })
        .collect();
    if out.is_empty() && credential.is_none() {
        let none = || "-".to_string();
        out.push(shared(
            none(),
            text(record.get("verdict")),
            [none(), none(), none()],
            none(),
        ));
    }
    out
}

fn is_reset_check(record: &Map<String, Value>) -> bool {
    record.get("kind").and_then(Value::as_str) == Some("verify-reset")
}

/// The credential entries of a `verify-reset` record, only `id`'s when given.
fn credentials<'a>(
    record: &'a Map<String, Value>,
    id: Option<&'a str>,
) -> impl Iterator<Item = &'a Map<String, Value>> + 'a {
    let list = match record.get("credentials") {
        Some(Value::Array(list)) if is_reset_check(record) => list.as_slice(),
        _ => &[],
    };
    list.iter()
        .filter_map(Value::as_object)
        .filter(move |c| id.is_none_or(|id| c.get("id").and_then(Value::as_str) == Some(id)))
}

/// Who reset, who approved and under which ticket, from the reset records of the
/// credential's revoked versions; several distinct values are joined in log order.
fn resets(credential: &Map<String, Value>) -> [String; 3] {
    let versions = match credential.get("versions") {
        Some(Value::Array(v)) => v.as_slice(),
        _ => &[],
    };
    let reset_records: Vec<&Map<String, Value>> = versions
        .iter()
        .filter(|v| {
            v.get("revoked") == Some(&Value::Bool(true))
                || v.get("status") == Some(&"revoked".into())
        })
        .filter_map(|v| v.get("reset").and_then(Value::as_object))
        .collect();
    ["by", "approved_by", "ticket"].map(|field| {
        let mut seen: Vec<String> = Vec::new();
        for r in &reset_records {
            let value = text(r.get(field));
            if value != "-" && !seen.contains(&value) {
                seen.push(value);
            }
        }
        if seen.is_empty() {
            "-".into()
        } else {
            seen.join(", ")
        }
    })
}

/// The record's holes: its `holes` list, else those of each repository in its scope.
fn holes(record: &Map<String, Value>) -> String {
    if record.contains_key("holes") {
        return count(record.get("holes"));
    }
    match record.get("scope") {
        Some(Value::Array(scope)) => scope
            .iter()
            .filter_map(|s| s.get("holes").and_then(Value::as_array))
            .map(Vec::len)
            .sum::<usize>()
            .to_string(),
        _ => "-".into(),
    }
}

/// The length of a list field, `-` when it is missing or not a list.
fn count(value: Option<&Value>) -> String {
    match value {
        Some(Value::Array(list)) => list.len().to_string(),
        _ => "-".into(),
    }
}

/// A field as one cell: a string as it is, other JSON compact, `-` when missing or null.
fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// `s` with control characters escaped, so a field cannot move the cursor or break a row.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn capitalised(heading: &str) -> String {
    let mut chars = heading.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
