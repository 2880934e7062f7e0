//! The terminal summary: a few short tables a person reads in seconds, widest exposure
//! first, each cut at [`TOP`] rows with a count of the rest.

use super::view::{self, Row};
use crate::sweep::SweepReport;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Rows shown per table before "… and N more".
const TOP: usize = 10;

/// How the summary is printed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// ANSI colours for headings, errors and counts.
    pub color: bool,
}

struct Out<'w> {
    w: &'w mut dyn Write,
    color: bool,
}

impl Out<'_> {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn heading(&mut self, text: &str) -> io::Result<()> {
        let text = self.paint("1", text);
        writeln!(self.w, "\n{text}")
    }

    /// Rows as aligned columns; the last column is left unpadded.
    fn table(&mut self, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for r in rows {
            for (w, cell) in widths.iter_mut().zip(r) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::from(" ");
            for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
                s.push(' ');
                s.push_str(cell);
                if i + 1 < cells.len() {
                    s.push_str(&" ".repeat(w - cell.chars().count() + 1));
                }
            }
            s
        };
        let head: Vec<String> = header.iter().map(|h| (*h).to_string()).collect();
        let head = self.paint("2", &line(&head));
        writeln!(self.w, "{head}")?;
        for r in rows {
            writeln!(self.w, "{}", line(r))?;
        }
        Ok(())
    }

    fn more(&mut self, total: usize) -> io::Result<()> {
        if total > TOP {
            writeln!(
                self.w,
                "  … and {} more (keytrace report --html shows all)",
                total - TOP
            )?;
        }
        Ok(())
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `kind ×n` for each kind of a matrix row, most frequent first.
fn kinds(row: &Row<'_>) -> String {
    let mut sum: BTreeMap<&str, usize> = BTreeMap::new();
    for cell in row.cells.values() {
        for (k, n) in cell {
            *sum.entry(k).or_insert(0) += n;
        }
    }
    let mut v: Vec<(&str, usize)> = sum.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.iter()
        .map(|(k, n)| format!("{} ×{n}", view::short_kind(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first repositories of a row, short, then "+N".
fn repo_list(row: &Row<'_>, root: &str) -> String {
    let mut names: Vec<&str> = row
        .cells
        .keys()
        .take(3)
        .map(|r| view::short(r, root))
        .collect();
    let rest = row.repositories().saturating_sub(names.len());
    let extra = format!("+{rest}");
    if rest > 0 {
        names.push(&extra);
    }
    names.join(", ")
}

/// Writes the summary of `report`: totals, repositories with errors, credentials by blast
/// radius, unmanaged values in the most repositories, stale secrets oldest first.
pub fn summary(report: &SweepReport, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let mut o = Out {
        w: out,
        color: style.color,
    };
    let root = view::common_root(report);
    totals(&mut o, report, &root)?;
    errors(&mut o, report, &root)?;
    let rows = view::matrix(report);
    let creds: Vec<&Row<'_>> = rows.iter().filter(|r| r.what == "credential").collect();
    let unmanaged: Vec<&Row<'_>> = rows.iter().filter(|r| r.what == "unmanaged").collect();
    if !creds.is_empty() {
        o.heading("Credentials by blast radius")?;
        let table: Vec<Vec<String>> = creds
            .iter()
            .take(TOP)
            .map(|r| {
                vec![
                    r.label.to_string(),
                    r.repositories().to_string(),
                    r.places.to_string(),
                    kinds(r),
                    repo_list(r, &root),
                ]
            })
            .collect();
        o.table(&["CREDENTIAL", "REPOS", "PLACES", "FOUND AS", "IN"], &table)?;
        o.more(creds.len())?;
    }
    if !unmanaged.is_empty() {
        o.heading("Unmanaged values found in the most repositories")?;
        let table: Vec<Vec<String>> = unmanaged
            .iter()
            .take(TOP)
            .map(|r| {
                vec![
                    r.label.to_string(),
                    r.rules.join(", "),
                    r.repositories().to_string(),
                    r.places.to_string(),
                    repo_list(r, &root),
                ]
            })
            .collect();
        o.table(&["VALUE", "RULE", "REPOS", "PLACES", "IN"], &table)?;
        o.more(unmanaged.len())?;
    }
    stale(&mut o, report, &root)
}

fn totals(o: &mut Out<'_>, report: &SweepReport, root: &str) -> io::Result<()> {
    let t = &report.totals;
    let title = o.paint("1", "keytrace sweep report");
    let under = if root.is_empty() {
        String::new()
    } else {
        format!(" under {root}")
    };
    writeln!(o.w, "{title}: {} repositories{under}", t.repositories)?;
    let errors = if t.repositories_with_errors > 0 {
        o.paint(
            "1;31",
            &format!("{} with errors", t.repositories_with_errors),
        )
    } else {
        "none with errors".to_string()
    };
    writeln!(
        o.w,
        "  {errors} · {} files and {} blobs scanned, {} blobs reused from the cache",
        t.files_scanned, t.blobs_scanned, t.blobs_reused
    )?;
    let mut by_kind: Vec<(&String, &u64)> = t.findings_by_kind.iter().collect();
    by_kind.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let findings = o.paint(
        if t.findings > 0 { "1;33" } else { "1;32" },
        &format!("{} findings", t.findings),
    );
    let detail = if kinds.is_empty() {
        String::new()
    } else {
        format!(" ({})", kinds.join(", "))
    };
    writeln!(
        o.w,
        "  {findings}{detail} · {} credentials found · {} unmanaged values",
        t.credentials, t.unmanaged_values
    )
}

fn errors(o: &mut Out<'_>, report: &SweepReport, root: &str) -> io::Result<()> {
    let failed: Vec<_> = report
        .repositories
        .iter()
        .filter(|r| !r.errors.is_empty())
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    let label = o.paint("1;31", "error");
    writeln!(
        o.w,
        "\n{label}: {} not fully swept",
        plural(failed.len(), "repository", "repositories")
    )?;
    for r in failed.iter().take(TOP) {
        let name = o.paint("1", view::short(&r.path, root));
        writeln!(o.w, "  {name}")?;
        for e in r.errors.iter().take(3) {
            writeln!(o.w, "    {e}")?;
        }
        if r.errors.len() > 3 {
            writeln!(o.w, "    … and {} more", r.errors.len() - 3)?;
        }
    }
    o.more(failed.len())
}

fn stale(o: &mut Out<'_>, report: &SweepReport, root: &str) -> io::Result<()> {
    if report.stale.is_empty() {
        return Ok(());
    }
    o.heading("Stale secrets, oldest first")?;
    let mut entries: Vec<_> = report.stale.iter().collect();
    entries.sort_by(|a, b| {
        b.age_days
            .cmp(&a.age_days)
            .then(a.repo.cmp(&b.repo))
            .then(a.path.cmp(&b.path))
    });
    let table: Vec<Vec<String>> = entries
        .iter()
        .take(TOP)
        .map(|s| {
            vec![
                s.age_days.map_or("?".into(), |d| format!("{d} days")),
                s.first_seen
                    .as_deref()
                    .map_or("?", |f| f.get(..10).unwrap_or(f))
                    .to_string(),
                s.redacted.clone(),
                format!("{}/{}", view::short(&s.repo, root), s.path),
            ]
        })
        .collect();
    o.table(&["AGE", "FIRST SEEN", "VALUE", "WHERE"], &table)?;
    o.more(entries.len())
}
