//! `keytrace report` over a swept estate (issue 13, point 3): the terminal summary, the
//! self-contained HTML page with its credential × repository matrix (escaped, never a
//! plaintext value), headless Chromium rendering it, malformed reports, and
//! `sweep --progress json` (issue 13, point 5).

use crate::git::{commit, init};
use crate::inventory::add;
use crate::macros::{run, TestDir};
use crate::synth::Synth;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// The directory holding a `<script>` tag, to prove every repository string is escaped.
const HOSTILE: &str = "<script>alert(1)</script>";

/// Five repositories under `estate/` and a broken one: inventory credential
/// `payments-token` in r0 and r1, one unmanaged value in r2 (under [`HOSTILE`]) and r3,
/// nothing in r4. Returns every plaintext value it planted.
pub(crate) fn small_estate(dir: &TestDir) -> Vec<String> {
    let mut synth = Synth::new(17);
    let managed = synth.github_pat();
    let loose = synth.github_pat();
    add(dir, "payments-token", &managed, &[]);
    let files = [
        ("r0/deploy.env", format!("TOKEN={managed}\n")),
        ("r1/ci/app.env", format!("GITHUB_TOKEN={managed}\n")),
        (&format!("r2/{HOSTILE}/x.env"), format!("KEY={loose}\n")),
        ("r3/.env", format!("KEY={loose}\n")),
        ("r4/README.md", "nothing here\n".to_string()),
    ];
    for (rel, text) in &files {
        dir.write(&format!("estate/{rel}"), text);
    }
    for i in 0..5 {
        let repo = dir.path().join(format!("estate/r{i}"));
        init(&repo);
        commit(&repo, 1, "first");
    }
    dir.write("estate/broken/.git/HEAD", "not a ref\n");
    vec![managed, loose]
}

/// Sweeps `estate/` into `report.json` with the inventory; returns the command's stderr.
fn sweep(dir: &TestDir, extra: &[&str]) -> String {
    let (code, stdout, stderr) = run(dir
        .command()
        .args(["sweep", "estate", "-o", "report.json"])
        .args(["--inventory", "keytrace-inventory.json"])
        .args(extra));
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert_eq!(stdout, "", "sweep prints nothing on stdout");
    stderr
}

/// (row label, repository short name, cell text) of every filled matrix cell of a page,
/// read from the markup itself so the same check runs on the file and on Chromium's DOM.
pub(crate) fn matrix_cells(page: &str) -> BTreeSet<(String, String, String)> {
    let mut cells = BTreeSet::new();
    let body = page
        .split("<table class=\"matrix\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_else(|| panic!("no matrix in the page:\n{page}"));
    for row in body.split("<tr id=\"row-").skip(1) {
        let label = between(row, "<code>", "</code>");
        for cell in row.split("<td class=\"hit ").skip(1) {
            let repo = between(cell, "data-repo=\"", "\"");
            let repo = repo.rsplit('/').next().unwrap_or_default().to_string();
            let text = between(cell, "\">", "</a>");
            let text = text.rsplit('>').next().unwrap_or_default().to_string();
            cells.insert((label.clone(), repo, text));
        }
    }
    cells
}

fn between(text: &str, open: &str, close: &str) -> String {
    text.split_once(open)
        .and_then(|(_, rest)| rest.split_once(close))
        .map(|(inner, _)| inner.to_string())
        .unwrap_or_default()
}

/// The cells [`small_estate`] must produce, with the unmanaged value's redacted label.
fn expected_cells(loose_label: &str) -> BTreeSet<(String, String, String)> {
    let cell = |l: &str, r: &str, t: &str| (l.to_string(), r.to_string(), t.to_string());
    BTreeSet::from([
        cell("payments-token", "r0", "active ×2"),
        cell("payments-token", "r1", "active ×2"),
        cell(loose_label, "r2", "stale ×2"),
        cell(loose_label, "r3", "stale ×2"),
    ])
}

/// The redacted value the report gives the unmanaged secret.
fn loose_label(dir: &TestDir) -> String {
    let text = std::fs::read_to_string(dir.path().join("report.json")).expect("report");
    let report: Value = serde_json::from_str(&text).expect("json");
    report["unmanaged"][0]["redacted"]
        .as_str()
        .expect("redacted")
        .to_string()
}

fn render(dir: &TestDir) -> (String, String) {
    let (code, stdout, stderr) =
        run(dir
            .command()
            .args(["report", "report.json", "--html", "report.html"]));
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    let page = std::fs::read_to_string(dir.path().join("report.html")).expect("page written");
    (stdout, page)
}

kttest!(report_summarises_the_estate_for_people, |dir, _cmd| {
    let secrets = small_estate(&dir);
    sweep(&dir, &[]);
    let (summary, page) = render(&dir);
    for s in &secrets {
        assert!(!summary.contains(s.as_str()), "plaintext in the summary");
        assert!(!page.contains(s.as_str()), "plaintext in the page");
    }
    let label = loose_label(&dir);
    let has = |needle: &str| {
        assert!(
            summary.contains(needle),
            "summary lacks {needle:?}:\n{summary}"
        );
    };
    has("6 repositories under ");
    has("1 with errors");
    has("error: 1 repository not fully swept\n  broken\n");
    has("unreadable-repository");
    has("Credentials by blast radius");
    // The credential row: 2 repositories, 4 places (tree and commit in each), where.
    let cred = summary
        .lines()
        .find(|l| l.trim_start().starts_with("payments-token"))
        .unwrap_or_else(|| panic!("no credential row:\n{summary}"));
    let words: Vec<&str> = cred.split_whitespace().collect();
    assert_eq!(
        words,
        ["payments-token", "2", "4", "active", "×4", "r0,", "r1"]
    );
    let loose = summary
        .lines()
        .find(|l| l.trim_start().starts_with(&label))
        .unwrap_or_else(|| panic!("no unmanaged row:\n{summary}"));
    assert!(
        loose.contains("github-pat") && loose.contains("r2, r3"),
        "{loose}"
    );
    has("Stale secrets, oldest first");
    has(&format!("{HOSTILE}/x.env"));
    assert_eq!(matrix_cells(&page), expected_cells(&label));
});

kttest!(
    report_page_escapes_repository_strings_and_loads_nothing,
    |dir, _cmd| {
        small_estate(&dir);
        sweep(&dir, &[]);
        let (_, page) = render(&dir);
        assert!(
            !page.contains(HOSTILE),
            "a repository path reached the page unescaped"
        );
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;/x.env:1"));
        assert_eq!(
            page.matches("<script").count(),
            1,
            "only the page's own script"
        );
        for external in ["src=", "href=\"http", "href=\"//", "url(", "@import"] {
            assert!(
                !page.contains(external),
                "page refers outside itself: {external}"
            );
        }
        assert!(page.contains("Content-Security-Policy\" content=\"default-src 'none'"));
        // Every matrix link lands on a finding of the page.
        for link in page.split("href=\"#").skip(1) {
            let id = link.split('"').next().unwrap_or_default();
            assert!(
                page.contains(&format!("id=\"{id}\"")),
                "dangling link #{id}"
            );
        }
    }
);

// Headless Chromium (Debian's `chromium`) loads the page, runs its script and shows the
// matrix; skipped, saying why, when the browser is absent. `KEYTRACE_HTML_SHOT=FILE`
// also saves a screenshot (bench/html-check.sh does).
kttest!(report_page_renders_in_headless_chromium, |dir, _cmd| {
    let Some(browser) = ["chromium", "chromium-browser"].into_iter().find(|b| {
        std::process::Command::new(b)
            .arg("--version")
            .output()
            .is_ok()
    }) else {
        eprintln!("SKIPPED report_page_renders_in_headless_chromium: no chromium on PATH (apt-get install chromium)");
        return;
    };
    small_estate(&dir);
    sweep(&dir, &[]);
    let (_, page) = render(&dir);
    let url = format!("file://{}", dir.path().join("report.html").display());
    let chromium = |extra: &[String]| {
        let profile = tempfile::tempdir().expect("profile dir");
        // A browser that hangs fails the test after two minutes instead of stalling it.
        let out = std::process::Command::new("timeout")
            .args(["120", browser])
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(&url)
            .output()
            .expect("run chromium");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let dom = chromium(&["--dump-dom".to_string()]);
    assert!(
        dom.contains("data-rendered=\"yes\""),
        "the page script did not run:\n{dom}"
    );
    assert!(dom.contains("2 of 2 rows shown"), "{dom}");
    assert_eq!(matrix_cells(&dom), matrix_cells(&page));
    assert_eq!(matrix_cells(&dom), expected_cells(&loose_label(&dir)));
    if let Some(shot) = std::env::var_os("KEYTRACE_HTML_SHOT") {
        chromium(&[format!("--screenshot={}", Path::new(&shot).display())]);
        eprintln!("screenshot: {}", Path::new(&shot).display());
    }
});

kttest!(
    report_rejects_a_malformed_report_naming_the_place,
    |dir, cmd| {
        dir.write(
        "bad.json",
        "{\n  \"report\": \"keytrace-sweep\",\n  \"repositories\": [\n    {\"path\": 3}\n  ]\n}\n",
    );
        let (code, stdout, stderr) = run(cmd.args(["report", "bad.json", "--html", "out.html"]));
        assert_eq!(code, 2, "{stderr}");
        assert_eq!(stdout, "");
        assert!(
            stderr.contains("bad.json:4:14: not a keytrace sweep report"),
            "{stderr}"
        );
        assert!(
            !dir.path().join("out.html").exists(),
            "no page for a bad report"
        );
        dir.write(
            "scan.json",
            "{\"report\": \"keytrace-scan\", \"repositories\": []}",
        );
        let (code, _, stderr) = run(dir.command().args(["report", "scan.json"]));
        assert_eq!(code, 2);
        assert!(
            stderr.contains("scan.json: not a keytrace sweep report"),
            "{stderr}"
        );
        let (code, _, stderr) = run(dir.command().args(["report", "missing.json"]));
        assert_eq!(code, 2);
        assert!(
            stderr.contains("missing.json: cannot read the sweep report"),
            "{stderr}"
        );
    }
);

kttest!(sweep_progress_json_counts_every_repository, |dir, _cmd| {
    small_estate(&dir);
    sweep(&dir, &[]);
    let quiet = std::fs::read(dir.path().join("report.json")).expect("report");
    let stderr = sweep(&dir, &["--progress", "json"]);
    let with_progress = std::fs::read(dir.path().join("report.json")).expect("report");
    assert!(quiet == with_progress, "progress changed the report bytes");
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let events: Vec<&str> = lines
        .iter()
        .map(|l| l["event"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(events.first(), Some(&"start"));
    assert_eq!(events.last(), Some(&"finish"));
    for l in &lines {
        for field in ["done", "total", "blobs", "elapsed_ms"] {
            assert!(l[field].is_u64(), "{field} missing: {l}");
        }
        assert_eq!(l["total"], 6, "{l}");
    }
    let done: BTreeSet<String> = lines
        .iter()
        .filter(|l| l["event"] == "repo-done")
        .map(|l| l["repo"].as_str().unwrap_or_default().to_string())
        .collect();
    let report: Value = serde_json::from_slice(&with_progress).expect("json");
    let every: BTreeSet<String> = report["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .map(|r| r["path"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(done, every, "one repo-done per repository of the report");
    let last = lines.last().expect("lines");
    assert_eq!(last["done"], 6);
    assert!(last["blobs"].as_u64().is_some_and(|b| b >= 5), "{last}");
    let (code, stdout, stderr) = run(dir.command().args([
        "--quiet",
        "sweep",
        "estate",
        "-o",
        "report.json",
        "--progress",
        "json",
    ]));
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (0, "", ""),
        "--quiet silences"
    );
});

kttest!(
    report_refuses_a_report_holding_a_plaintext_value,
    |dir, _cmd| {
        let secrets = small_estate(&dir);
        sweep(&dir, &[]);
        let path = dir.path().join("report.json");
        let text = std::fs::read_to_string(&path).expect("report");
        let label = loose_label(&dir);
        assert!(text.contains(&label));
        // A report edited by hand (or written by another tool) with the value in the clear.
        std::fs::write(&path, text.replace(&label, &secrets[1])).expect("tamper");
        let (code, stdout, stderr) =
            run(dir
                .command()
                .args(["report", "report.json", "--html", "report.html"]));
        assert_eq!(code, 2, "{stdout}{stderr}");
        assert!(
            stderr.contains("holds a value that is not redacted"),
            "{stderr}"
        );
        assert!(
            !stdout.contains(&secrets[1]) && !stderr.contains(&secrets[1]),
            "the plaintext was printed"
        );
        assert!(!dir.path().join("report.html").exists());
    }
);
