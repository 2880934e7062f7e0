//! The HTML page: one file with inline CSS and a few lines of inline JS, no external
//! asset and no network (its Content-Security-Policy forbids both), so it can be mailed,
//! archived or attached to a CI run and still open the same.
//!
//! Every string from the report goes through [`escape`]; the script reads only the page.

use super::view::{self, escape, Row};
use crate::sweep::{RepoResult, SweepFinding, SweepReport};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

const STYLE: &str = r#"
:root{--fg:#1d2330;--mute:#5b6475;--line:#d9dde5;--bg:#f6f7f9;--hit:#fff4d6;--bad:#b3261e}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);margin:0;background:var(--bg)}
header,section{max-width:1400px;margin:0 auto;padding:12px 24px}
h1{font-size:22px;margin:8px 0 2px} h2{font-size:17px;margin:18px 0 8px} h3{font-size:15px;margin:14px 0 4px}
.mute{color:var(--mute)} code{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace}
.totals{display:flex;flex-wrap:wrap;gap:10px;margin:0;padding:0}
.totals div{background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:120px}
.totals dt{color:var(--mute);font-size:12px} .totals dd{margin:0;font-size:20px;font-weight:600}
.totals .bad dd{color:var(--bad)}
table{border-collapse:collapse;background:#fff}
th,td{border:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top}
thead th{background:#eef0f4;font-weight:600}
.scroll{overflow:auto;max-height:75vh;border:1px solid var(--line);width:fit-content;max-width:100%}
.scroll.short{max-height:30vh}
.matrix th.repo{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-weight:500;max-height:180px}
.matrix td.hit{background:var(--hit);text-align:center;white-space:nowrap}
.matrix td.hit a{color:inherit;text-decoration:none;font-size:12px}
.matrix td.k-revoked,.matrix td.k-active{background:#fbd9d6}
.matrix tbody th{position:sticky;left:0;background:#fff;white-space:nowrap}
.matrix td{white-space:nowrap} .matrix td.n{text-align:right}
.errors td:first-child{white-space:nowrap;color:var(--bad)}
.findings td.place{white-space:nowrap}
.findings ul{margin:0;padding-left:16px}
tr:target,tr.target{outline:2px solid #3b6fd8;background:#e8efff}
#filter{padding:5px 8px;width:320px;border:1px solid var(--line);border-radius:4px}
"#;

/// Filters matrix rows and findings by text, and says how many rows it shows.
const SCRIPT: &str = r#"
(function(){
  var f=document.getElementById('filter'),s=document.getElementById('shown');
  var rows=[].slice.call(document.querySelectorAll('.matrix tbody tr,.findings tbody tr'));
  function apply(){
    var q=f.value.toLowerCase(),n=0,m=0;
    rows.forEach(function(r){
      var ok=!q||r.textContent.toLowerCase().indexOf(q)>=0;
      r.style.display=ok?'':'none';
      if(r.parentNode.parentNode.classList.contains('matrix')){m++;if(ok)n++;}
    });
    s.textContent=n+' of '+m+' rows shown';
  }
  f.addEventListener('input',apply);apply();
  document.documentElement.setAttribute('data-rendered','yes');
})();
"#;

/// The whole page for `report`.
pub fn html(report: &SweepReport) -> String {
    let root = view::common_root(report);
    let rows = view::matrix(report);
    let mut page = String::new();
    page.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\
         <title>keytrace sweep report</title><style>",
    );
    page.push_str(STYLE);
    page.push_str("</style></head>\n<body>\n");
    totals(&mut page, report, &root);
    errors(&mut page, report, &root);
    matrix(&mut page, report, &rows, &root);
    stale(&mut page, report, &root);
    findings(&mut page, report, &rows, &root);
    page.push_str("<script>");
    page.push_str(SCRIPT);
    page.push_str("</script>\n</body></html>\n");
    page
}

fn totals(page: &mut String, report: &SweepReport, root: &str) {
    let t = &report.totals;
    let _ = write!(
        page,
        "<header><h1>keytrace sweep report</h1><p class=\"mute\">{} repositories{}</p>\
         </header>\n<section id=\"totals\"><dl class=\"totals\">",
        t.repositories,
        if root.is_empty() {
            String::new()
        } else {
            format!(" under <code>{}</code>", escape(root))
        }
    );
    let mut cell = |label: &str, n: u64, bad: bool| {
        let class = if bad && n > 0 { " class=\"bad\"" } else { "" };
        let _ = write!(page, "<div{class}><dt>{label}</dt><dd>{n}</dd></div>");
    };
    cell("repositories", t.repositories, false);
    cell("with errors", t.repositories_with_errors, true);
    cell("files scanned", t.files_scanned, false);
    cell("blobs scanned", t.blobs_scanned, false);
    cell("blobs reused", t.blobs_reused, false);
    cell("findings", t.findings, true);
    cell("credentials found", t.credentials, false);
    cell("unmanaged values", t.unmanaged_values, true);
    for (kind, n) in &t.findings_by_kind {
        cell(&escape(kind), *n, false);
    }
    page.push_str("</dl></section>\n");
}

fn errors(page: &mut String, report: &SweepReport, root: &str) {
    let failed: Vec<&RepoResult> = report
        .repositories
        .iter()
        .filter(|r| !r.errors.is_empty())
        .collect();
    if failed.is_empty() {
        return;
    }
    let _ = write!(
        page,
        "<section id=\"errors\"><h2>Repositories not fully swept ({})</h2>\
         <div class=\"scroll short\"><table class=\"errors\"><thead><tr><th>repository</th><th>error</th></tr></thead><tbody>",
        failed.len()
    );
    for r in failed {
        for e in &r.errors {
            let _ = write!(
                page,
                "<tr><td title=\"{}\">{}</td><td><code>{}</code></td></tr>",
                escape(&r.path),
                escape(view::short(&r.path, root)),
                escape(e)
            );
        }
    }
    page.push_str("</tbody></table></div></section>\n");
}

/// Anchor of finding `i` of repository `repo` (its index in the report).
fn anchor(repo: usize, i: usize) -> String {
    format!("f-{repo}-{i}")
}

fn matrix(page: &mut String, report: &SweepReport, rows: &[Row<'_>], root: &str) {
    let index: BTreeMap<&str, usize> = report
        .repositories
        .iter()
        .enumerate()
        .map(|(i, r)| (r.path.as_str(), i))
        .collect();
    let columns = columns(rows);
    let _ = write!(
        page,
        "<section id=\"matrix\"><h2>Credential × repository</h2>\
         <p class=\"mute\">Each cell counts the places a credential or unmanaged value was \
         found in a repository, by kind, and links to the findings. \
         <input id=\"filter\" type=\"search\" placeholder=\"filter by value, rule, repository…\"> \
         <span id=\"shown\"></span></p>"
    );
    if rows.is_empty() {
        page.push_str("<p>No credential or secret value was found.</p></section>\n");
        return;
    }
    let hit: BTreeSet<&str> = rows.iter().flat_map(|r| r.cells.keys().copied()).collect();
    if hit.len() > columns.len() {
        let _ = write!(
            page,
            "<p class=\"mute\">The matrix shows the {} repositories holding the most \
             credentials and values, of {} holding any; every finding is listed below.</p>",
            columns.len(),
            hit.len()
        );
    }
    page.push_str(
        "<div class=\"scroll\"><table class=\"matrix\"><thead><tr><th>value</th><th>what</th>\
         <th>rule</th><th>first seen</th><th>age</th><th>repos</th><th>places</th>",
    );
    for c in &columns {
        let _ = write!(
            page,
            "<th class=\"repo\" title=\"{}\">{}</th>",
            escape(c),
            escape(view::short(c, root))
        );
    }
    page.push_str("</tr></thead><tbody>\n");
    for (n, row) in rows.iter().enumerate() {
        let _ = write!(
            page,
            "<tr id=\"row-{n}\"><th><code>{}</code></th><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            escape(row.label),
            row.what,
            escape(&row.rules.join(", ")),
            escape(row.first_seen.and_then(|s| s.get(..10)).unwrap_or("")),
            row.age_days.map_or(String::new(), |d| format!("{d} days")),
            row.repositories(),
            row.places
        );
        for c in &columns {
            let Some(kinds) = row.cells.get(c) else {
                page.push_str("<td></td>");
                continue;
            };
            let text: Vec<String> = kinds
                .iter()
                .map(|(k, n)| match n {
                    1 => view::short_kind(k).to_string(),
                    n => format!("{} ×{n}", view::short_kind(k)),
                })
                .collect();
            let first = kinds.keys().next().map_or("", |k| view::short_kind(k));
            let target = anchor(index[c], row.first_finding[c]);
            let _ = write!(
                page,
                "<td class=\"hit k-{}\" data-repo=\"{}\"><a href=\"#{target}\" title=\"{} in {}\">{}</a></td>",
                escape(first),
                escape(c),
                escape(row.label),
                escape(c),
                escape(&text.join(" "))
            );
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody></table></div></section>\n");
}

/// Matrix columns past which a page stops being readable (and grows by rows × columns).
const MAX_COLUMNS: usize = 80;

/// The repositories the matrix shows, by path: those holding the most rows, at most
/// [`MAX_COLUMNS`].
fn columns<'r>(rows: &[Row<'r>]) -> BTreeSet<&'r str> {
    let mut count: BTreeMap<&'r str, usize> = BTreeMap::new();
    for r in rows {
        for repo in r.cells.keys() {
            *count.entry(repo).or_insert(0) += 1;
        }
    }
    let mut by_hits: Vec<(&'r str, usize)> = count.into_iter().collect();
    by_hits.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    by_hits
        .into_iter()
        .take(MAX_COLUMNS)
        .map(|(repo, _)| repo)
        .collect()
}

fn stale(page: &mut String, report: &SweepReport, root: &str) {
    if report.stale.is_empty() {
        return;
    }
    let mut entries: Vec<_> = report.stale.iter().collect();
    entries.sort_by(|a, b| b.age_days.cmp(&a.age_days).then(a.repo.cmp(&b.repo)));
    let _ = write!(
        page,
        "<section id=\"stale\"><h2>Stale secrets, oldest first ({})</h2><table><thead><tr>\
         <th>age</th><th>first seen</th><th>value</th><th>repository</th><th>path</th></tr>\
         </thead><tbody>",
        entries.len()
    );
    for s in entries {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td title=\"{}\">{}</td>\
             <td><code>{}</code></td></tr>",
            s.age_days.map_or(String::new(), |d| format!("{d} days")),
            escape(
                s.first_seen
                    .as_deref()
                    .map_or("", |f| f.get(..10).unwrap_or(f))
            ),
            escape(&s.redacted),
            escape(&s.repo),
            escape(view::short(&s.repo, root)),
            escape(&s.path)
        );
    }
    page.push_str("</tbody></table></section>\n");
}

/// The matrix row of a finding: its credential's, else its unmanaged value's.
fn row_of(rows: &[Row<'_>], f: &SweepFinding) -> Option<usize> {
    let (credential, key) = view::row_key(f)?;
    rows.iter()
        .position(|r| r.key == key && (r.what == "credential") == credential)
}

fn findings(page: &mut String, report: &SweepReport, rows: &[Row<'_>], root: &str) {
    page.push_str("<section id=\"findings\"><h2>Every finding, by repository</h2>");
    for (ri, r) in report.repositories.iter().enumerate() {
        if r.findings.is_empty() {
            continue;
        }
        let _ = write!(
            page,
            "<h3 id=\"repo-{ri}\">{}</h3><p class=\"mute\"><code>{}</code>{}{}</p>\
             <table class=\"findings\"><thead><tr><th>kind</th><th>severity</th><th>rule</th>\
             <th>value</th><th>credential</th><th>places (path:line @ commit)</th><th></th>\
             </tr></thead><tbody>",
            escape(view::short(&r.path, root)),
            escape(&r.path),
            r.head.as_deref().map_or(String::new(), |h| format!(
                " · HEAD <code>{}</code>",
                escape(view::short_commit(h))
            )),
            if r.bare { " · bare" } else { "" }
        );
        for (fi, f) in r.findings.iter().enumerate() {
            finding(page, rows, ri, fi, f);
        }
        page.push_str("</tbody></table>");
    }
    page.push_str("</section>\n");
}

fn finding(page: &mut String, rows: &[Row<'_>], ri: usize, fi: usize, f: &SweepFinding) {
    let credential = match (&f.credential, f.version) {
        (Some(c), Some(v)) => format!("{} v{v}", escape(c)),
        (Some(c), None) => escape(c),
        _ => String::new(),
    };
    let _ = write!(
        page,
        "<tr id=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{credential}</td>\
         <td class=\"place\"><ul>",
        anchor(ri, fi),
        escape(&f.kind),
        escape(&f.severity),
        escape(&f.rule),
        escape(&f.shown),
    );
    for p in &f.places {
        let _ = write!(page, "<li><code>{}:{}</code>", escape(&p.path), p.line);
        if let Some(c) = &p.commit {
            let _ = write!(
                page,
                " @ <code title=\"{}\">{}</code>",
                escape(c),
                escape(view::short_commit(c))
            );
        }
        page.push_str("</li>");
    }
    page.push_str("</ul></td><td>");
    if let Some(n) = row_of(rows, f) {
        let _ = write!(page, "<a href=\"#row-{n}\">matrix</a>");
    }
    page.push_str("</td></tr>\n");
}

#[cfg(test)]
mod tests {
    use crate::sweep::{build_report, RepoResult};

    fn repo(i: usize) -> RepoResult {
        RepoResult::with_unmanaged(&format!("/srv/r{i:03}"), "github-pat-classic", "fp")
    }

    #[test]
    fn matrix_columns_are_capped_and_say_so() {
        let report = build_report((0..100).map(repo)).expect("report");
        let page = super::html(&report);
        assert_eq!(
            page.matches("<th class=\"repo\"").count(),
            super::MAX_COLUMNS
        );
        assert!(page
            .contains("shows the 80 repositories holding the most credentials and values, of 100"));
        // Every finding is still listed.
        assert_eq!(page.matches("<tr id=\"f-").count(), 100);
    }
}
