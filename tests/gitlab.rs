//! `--format gitlab` carries every field GitLab's secret-detection report (schema 15) requires.

use crate::git::{commit, init};
use crate::macros::run;
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

fn report(dir: &crate::macros::TestDir, extra: &[&str]) -> (Value, String) {
    let mut cmd = dir.command();
    cmd.env("KEYTRACE_NOW", "2026-12-01T10:00:00Z")
        .args(["scan", ".", "--format", "gitlab"])
        .args(extra);
    let (code, stdout, stderr) = run(&mut cmd);
    assert_eq!(code, 1, "{stderr}");
    (serde_json::from_str(&stdout).expect("JSON"), stdout)
}

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
