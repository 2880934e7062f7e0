//! `keytrace sweep` and `keytrace merge` over a generated estate of real git repositories
//! (issue 13): exact grouping of one value in several repositories, a corrupt repository
//! reported and skipped, and shards that merge into the unsharded report byte for byte.

use crate::git::{commit, init};
use crate::macros::{run, TestDir};
use crate::synth::Synth;
use serde_json::Value;
use std::collections::BTreeSet;

const REPOS: usize = 50;

/// 50 repositories under `estate/`, one shared token in repos 0, 10 and 20, one token of
/// its own in repo 5, and a directory whose `.git` is junk. Returns the two tokens.
pub(crate) fn estate(dir: &TestDir) -> (String, String) {
    let mut synth = Synth::new(13);
    let shared = synth.github_pat();
    let single = synth.github_pat();
    for i in 0..REPOS {
        let rel = format!("estate/r{i:02}");
        dir.write(&format!("{rel}/README.md"), format!("repo {i}\n"));
        let value = match i {
            0 | 10 | 20 => Some(&shared),
            5 => Some(&single),
            _ => None,
        };
        if let Some(v) = value {
            dir.write(&format!("{rel}/deploy.env"), format!("TOKEN={v}\n"));
        }
        let repo = dir.path().join(&rel);
        init(&repo);
        commit(&repo, 1, "first");
    }
    dir.write("estate/broken/.git/HEAD", "not a ref\n");
    (shared, single)
}

pub(crate) fn sweep(dir: &TestDir, out: &str, extra: &[&str]) -> String {
    let (code, stdout, stderr) = run(dir
        .command()
        .args(["sweep", "estate", "-o", out])
        .args(extra));
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    std::fs::read_to_string(dir.path().join(out)).expect("report written")
}

kttest!(sweep_groups_one_value_across_repositories, |dir, _cmd| {
    let (shared, single) = estate(&dir);
    let text = sweep(&dir, "report.json", &[]);
    assert!(
        !text.contains(&shared) && !text.contains(&single),
        "plaintext in report"
    );
    let report: Value = serde_json::from_str(&text).expect("json");
    let totals = &report["totals"];
    assert_eq!(totals["repositories"], REPOS as u64 + 1);
    assert_eq!(totals["repositories_with_errors"], 1);
    assert_eq!(totals["unmanaged_values"], 2);
    // Committed on 2024-01-02, past the default --max-age of 365 days: stale, with ages.
    assert_eq!(totals["findings_by_kind"]["stale-secret"], 4);
    let stale = report["stale"].as_array().expect("stale");
    assert_eq!(stale.len(), 4);
    assert!(stale
        .iter()
        .all(|s| s["age_days"].as_u64().is_some_and(|d| d > 365)));
    let root = dir.path().join("estate").canonicalize().expect("root");
    let at = |name: &str| root.join(name).display().to_string();
    let groups = report["unmanaged"].as_array().expect("unmanaged");
    let repos_of = |g: &Value| -> Vec<String> {
        g["repositories"]
            .as_array()
            .expect("repositories")
            .iter()
            .map(|r| r.as_str().unwrap_or_default().to_string())
            .collect()
    };
    let mut seen: Vec<Vec<String>> = groups.iter().map(repos_of).collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![vec![at("r00"), at("r10"), at("r20")], vec![at("r05")]]
    );
    for g in groups {
        for p in g["places"].as_array().expect("places") {
            assert_eq!(p["path"], "deploy.env");
            assert_eq!(p["line"], 1);
        }
    }
    let repos = report["repositories"].as_array().expect("repositories");
    let broken = repos
        .iter()
        .find(|r| r["path"] == at("broken"))
        .expect("broken repo has an entry");
    assert!(broken["errors"][0]
        .as_str()
        .is_some_and(|e| e.contains("unreadable-repository")));
    let r05 = repos.iter().find(|r| r["path"] == at("r05")).expect("r05");
    assert_eq!(r05["findings_by_kind"]["stale-secret"], 1);
    assert_eq!(r05["blobs_scanned"], 2);
    assert!(r05["head"].as_str().is_some_and(|h| h.len() == 40));
});

kttest!(sweep_shards_merge_to_the_unsharded_report, |dir, _cmd| {
    estate(&dir);
    let whole = sweep(&dir, "whole.json", &[]);
    let all: Value = serde_json::from_str(&whole).expect("json");
    let every: BTreeSet<String> = all["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .map(|r| r["path"].as_str().unwrap_or_default().to_string())
        .collect();
    for n in 1..=4 {
        let mut parts = Vec::new();
        let mut covered: Vec<String> = Vec::new();
        for k in 1..=n {
            let name = format!("part-{k}-of-{n}.json");
            let text = sweep(&dir, &name, &["--shard", &format!("{k}/{n}")]);
            let part: Value = serde_json::from_str(&text).expect("json");
            covered.extend(
                part["repositories"]
                    .as_array()
                    .expect("repositories")
                    .iter()
                    .map(|r| r["path"].as_str().unwrap_or_default().to_string()),
            );
            parts.push(name);
        }
        covered.sort();
        let once: Vec<String> = every.iter().cloned().collect();
        assert_eq!(covered, once, "N={n}: every repository exactly once");
        let merged = format!("merged-{n}.json");
        let (code, _, stderr) = run(dir
            .command()
            .arg("merge")
            .args(&parts)
            .args(["-o", &merged]));
        assert_eq!(code, 0, "{stderr}");
        let text = std::fs::read_to_string(dir.path().join(&merged)).expect("merged");
        assert!(
            text == whole,
            "N={n}: merge differs from the unsharded report"
        );
    }
});

kttest!(sweep_rejects_a_bad_shard, |dir, cmd| {
    dir.write("estate/.keep", "");
    let (code, _, stderr) = run(cmd.args(["sweep", "estate", "-o", "r.json", "--shard", "5/4"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("bad shard `5/4`"), "{stderr}");
});
