//! `--format gitlab` validates against GitLab's published secret-detection report schema
//! (15.2.4, bundled in tests/) and carries every field the issue lists.

use crate::git::{commit, init};
use crate::macros::{assert_schema_valid, run, TestDir, GITLAB_SECRET_SCHEMA};
use crate::synth::Synth;
use serde_json::Value;

/// `yyyy-mm-ddThh:mm:ss`, GitLab's scan time format.
fn is_scan_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

/// The GitLab report of `scan . EXTRA`, checked against the bundled schema, and the exit code.
fn report_exit(dir: &TestDir, extra: &[&str]) -> (i32, Value, String) {
    let mut cmd = dir.command();
    cmd.env("KEYTRACE_NOW", "2026-12-01T10:00:00Z")
        .args(["scan", ".", "--format", "gitlab"])
        .args(extra);
    let (code, stdout, stderr) = run(&mut cmd);
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_schema_valid(GITLAB_SECRET_SCHEMA, &doc);
    (code, doc, stdout)
}

/// [`report_exit`] of a scan that finds something.
fn report(dir: &TestDir, extra: &[&str]) -> (Value, String) {
    let (code, doc, stdout) = report_exit(dir, extra);
    assert_eq!(code, 1, "{stdout}");
    (doc, stdout)
}

kttest!(
    gitlab_report_declares_the_bundled_schema_version,
    |_dir, _cmd| {
        let schema: Value = serde_json::from_str(GITLAB_SECRET_SCHEMA).expect("schema");
        let dir = TestDir::new();
        dir.write("clean.txt", "nothing here\n");
        let (code, doc, text) = report_exit(&dir, &[]);
        assert_eq!(code, 0, "{text}");
        assert_eq!(
            doc["version"], schema["self"]["version"],
            "refresh both together"
        );
        assert_eq!(doc["vulnerabilities"], serde_json::json!([]));
    }
);

kttest!(
    gitlab_report_of_every_finding_kind_validates,
    |dir, _cmd| {
        // References (retired and unknown) from the estate fixture, inventory-linked and
        // unmanaged secrets in the tree, and their history with commits.
        dir.copy_fixture("estate", "");
        let mut s = Synth::new(23);
        let (id, secret) = s.aws_pair();
        let linked = s.github_pat();
        let mut add = dir.command();
        add.args(["inventory", "add", "--id", "bot", "--kind", "github-pat"]);
        assert_eq!(crate::macros::run_stdin(&mut add, &linked).0, 0);
        dir.write(
            "app/.env",
            format!("AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}\nGH={linked}\n"),
        );
        let (doc, text) = report(&dir, &["--unknown-references"]);
        let names = |d: &Value| -> Vec<String> {
            let mut v: Vec<String> = d["vulnerabilities"]
                .as_array()
                .expect("vulnerabilities")
                .iter()
                .map(|v| {
                    v["identifiers"][0]["value"]
                        .as_str()
                        .unwrap_or("")
                        .to_string()
                })
                .collect();
            v.dedup();
            v
        };
        let rules = names(&doc);
        for rule in ["retired-reference", "unknown-reference"] {
            assert!(rules.iter().any(|r| r == rule), "{rule} in {rules:?}");
        }
        assert!(text.contains("active-secret-exposed"), "{text}");
        for plain in [&secret, &linked] {
            assert!(
                !text.contains(plain.as_str()),
                "no plaintext in the GitLab report"
            );
        }
        init(dir.path());
        commit(dir.path(), 1, "add");
        let (doc, text) = report(&dir, &["--git", "--unknown-references"]);
        assert!(doc["vulnerabilities"]
            .as_array()
            .expect("vulnerabilities")
            .iter()
            .any(|v| v["location"]["commit"]["sha"] != "0000000"));
        assert!(!text.contains(secret.as_str()));
    }
);

kttest!(gitlab_report_has_every_required_field, |dir, _cmd| {
    let token = Synth::new(21).github_pat();
    init(dir.path());
    dir.write("config.py", format!("TOKEN = \"{token}\"\n"));
    let sha = commit(dir.path(), 1, "add config");
    let (doc, text) = report(&dir, &["--git"]);
    assert!(!text.contains(&token), "no plaintext in the GitLab report");
    assert_eq!(doc["version"].as_str().map(|v| &v[..3]), Some("15."));
    let scan = &doc["scan"];
    for part in ["analyzer", "scanner"] {
        for field in ["id", "name", "version"] {
            assert!(scan[part][field].as_str().is_some_and(|s| !s.is_empty()));
        }
        assert!(scan[part]["vendor"]["name"].is_string());
    }
    assert_eq!(scan["type"], "secret_detection");
    assert_eq!(scan["status"], "success");
    assert_eq!(scan["start_time"], "2026-12-01T10:00:00");
    assert!(is_scan_time(scan["end_time"].as_str().expect("end_time")));
    let vulns = doc["vulnerabilities"].as_array().expect("vulnerabilities");
    assert!(!vulns.is_empty(), "{text}");
    let severities = ["Info", "Unknown", "Low", "Medium", "High", "Critical"];
    let mut saw_commit = false;
    for v in vulns {
        assert!(v["id"].as_str().is_some_and(|s| s.len() == 36));
        assert_eq!(v["category"], "secret_detection");
        assert!(v["name"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(v["description"].is_string());
        assert!(severities.contains(&v["severity"].as_str().expect("severity")));
        assert_eq!(v["location"]["file"], "config.py");
        assert_eq!(v["location"]["start_line"], 1);
        assert!(v["location"]["commit"]["sha"].is_string());
        saw_commit |= v["location"]["commit"]["sha"] == sha.as_str();
        assert!(v.get("raw_source_code_extract").is_none());
        let ids = v["identifiers"].as_array().expect("identifiers");
        assert!(!ids.is_empty());
        for i in ids {
            for field in ["type", "name", "value"] {
                assert!(i[field].as_str().is_some_and(|s| !s.is_empty()));
            }
        }
    }
    assert!(saw_commit, "history findings name their commit: {text}");
    // Same input, same ids.
    let (again, _) = report(&dir, &["--git"]);
    let ids = |d: &Value| -> Vec<Value> {
        d["vulnerabilities"]
            .as_array()
            .expect("array")
            .iter()
            .map(|v| v["id"].clone())
            .collect()
    };
    assert_eq!(ids(&doc), ids(&again));
});
