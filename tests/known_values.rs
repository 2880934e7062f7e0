//! The known-value pass (issue 11): a revoked value that no rule recognises is
//! still found, in every common file format, by its fingerprint; a revoked
//! identifier alone is `revoked-identifier-present`. Nothing prints plaintext.

use crate::inventory::{add, rotate};
use crate::macros::{run, run_json, TestDir};
use crate::synth::Synth;
use serde_json::Value;

/// A custom password no rule matches: random-looking, with symbols, no known prefix.
fn custom_value(seed: u64) -> String {
    let mut s = Synth::new(seed);
    let alphabet = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!%^*~+.";
    format!("{}^{}~", s.chars(alphabet, 9), s.chars(alphabet, 9))
}

/// `scan tree --format json` with the test's inventory: exit code, report, stderr.
fn scan_tree(dir: &TestDir) -> (i32, Value, String) {
    run_json(dir.command().args([
        "scan",
        "tree",
        "--format",
        "json",
        "--inventory",
        "keytrace-inventory.json",
    ]))
}

/// `(kind, rule, path)` of every finding of a JSON report.
fn findings(v: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap_or_default().to_string(),
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["location"]["path"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

kttest!(
    revoked_custom_value_is_found_in_five_formats,
    |dir, _cmd| {
        let old = custom_value(110);
        let new = custom_value(111);
        assert_eq!(old.len(), 20);
        add(&dir, "billing-db", &old, &[]);
        rotate(&dir, "billing-db", &new);
        dir.write("tree/app.properties", format!("billing.db.opaque={old}\n"));
        dir.write(
            "tree/hosts.yaml",
            format!("entries:\n  - alpha\n  - {old}\n"),
        );
        dir.write(
            "tree/Config.java",
            format!("class Config {{\n    private static final String DB = \"{old}\";\n}}\n"),
        );
        dir.write(
        "tree/deploy.sh",
        format!("#!/bin/sh\nexport BILLING_DB={old}\ncurl -u billing:{old} https://api.example.invalid/\n"),
    );
        let escaped = serde_json::to_string(&old).expect("json");
        dir.write(
            "tree/config.json",
            format!("{{\"db\": {{\"pass\": {escaped}}}}}\n"),
        );
        let (_, v, err) = scan_tree(&dir);
        let got = findings(&v);
        for path in [
            "app.properties",
            "hosts.yaml",
            "Config.java",
            "deploy.sh",
            "config.json",
        ] {
            assert!(
                got.contains(&(
                    "revoked-secret-present".to_string(),
                    "known-value".to_string(),
                    path.to_string()
                )),
                "{path}: {got:?}"
            );
        }
        let in_script = v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["location"]["path"] == "deploy.sh")
            .count();
        assert!(in_script >= 1);
        let f = &v["findings"][0];
        assert_eq!(f["credential"]["id"], "billing-db");
        assert_eq!(f["credential"]["version"], 1);
        // No plaintext anywhere: inventory, report, stderr, human and SARIF output.
        let inventory =
            std::fs::read_to_string(dir.path().join("keytrace-inventory.json")).expect("inv");
        assert!(inventory.contains("\"length\": 20"), "{inventory}");
        let (_, human, human_err) =
            run(dir
                .command()
                .args(["scan", "tree", "--inventory", "keytrace-inventory.json"]));
        let (_, sarif, _) = run(dir.command().args([
            "scan",
            "tree",
            "--format",
            "sarif",
            "--inventory",
            "keytrace-inventory.json",
        ]));
        for text in [&inventory, &v.to_string(), &err, &human, &human_err, &sarif] {
            assert!(
                !text.contains(&old) && !text.contains(&new),
                "plaintext leaked"
            );
        }
        assert!(
            human.contains("known-value")
                || human.contains("Value of a known inventory credential"),
            "{human}"
        );
    }
);

kttest!(no_inventory_means_no_known_value_findings, |dir, _cmd| {
    let old = custom_value(112);
    dir.write("tree/app.properties", format!("billing.db.opaque={old}\n"));
    let (_, v, _) = run_json(dir.command().args(["scan", "tree", "--format", "json"]));
    assert!(findings(&v)
        .iter()
        .all(|(_, rule, _)| rule != "known-value"));
});

kttest!(revoked_identifier_alone_is_reported, |dir, _cmd| {
    let mut s = Synth::new(113);
    let (old_id, _) = s.aws_pair();
    let (new_id, _) = s.aws_pair();
    dir.write(
        "keys.json",
        format!(
            r#"{{"AccessKeyMetadata": [
  {{"UserName": "deploy-bot", "AccessKeyId": "{old_id}", "Status": "Inactive", "CreateDate": "2025-01-15T10:20:30+00:00"}},
  {{"UserName": "deploy-bot", "AccessKeyId": "{new_id}", "Status": "Active", "CreateDate": "2026-10-01T08:00:00+00:00"}}
]}}"#
        ),
    );
    let (code, out, err) = run(dir.command().args(["inventory", "import", "keys.json"]));
    assert_eq!(code, 0, "{out}{err}");
    dir.write(
        "tree/policy.json",
        format!(
            "{{\"Version\": \"2012-10-17\", \"Statement\": [{{\"Effect\": \"Deny\", \"Condition\": {{\"StringEquals\": {{\"aws:AccessKeyId\": [\"{old_id}\"]}}}}}}]}}\n"
        ),
    );
    dir.write(
        "tree/prod.tfvars",
        format!("deploy_key_id = \"{old_id}\"\nother = \"{new_id}\"\n"),
    );
    let (_, v, _) = scan_tree(&dir);
    let got: Vec<(String, String)> = findings(&v)
        .into_iter()
        .map(|(kind, _, path)| (kind, path))
        .collect();
    for path in ["policy.json", "prod.tfvars"] {
        assert!(
            got.contains(&("revoked-identifier-present".to_string(), path.to_string())),
            "{path}: {got:?}"
        );
    }
    assert_eq!(got.len(), 2, "the active key id is not reported: {got:?}");
});

kttest!(
    identifier_next_to_revoked_value_is_named_on_it,
    |dir, _cmd| {
        let old = custom_value(114);
        add(&dir, "svc", &old, &[]);
        rotate(&dir, "svc", &custom_value(115));
        // The revoked version's own identifier (as an import records it).
        let path = dir.path().join("keytrace-inventory.json");
        let mut inv: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("inv")).expect("json");
        inv["credentials"][0]["versions"][0]["identifier"] = "svc-key-7f3a91".into();
        std::fs::write(&path, serde_json::to_string_pretty(&inv).expect("json")).expect("write");
        dir.write(
            "tree/svc.conf",
            format!("key_id = svc-key-7f3a91\nopaque = {old}\n"),
        );
        dir.write("tree/alone.conf", "key_id = svc-key-7f3a91\n");
        let (_, v, _) = scan_tree(&dir);
        let got = findings(&v);
        assert_eq!(
            got,
            vec![
                (
                    "revoked-identifier-present".to_string(),
                    "known-identifier".to_string(),
                    "alone.conf".to_string()
                ),
                (
                    "revoked-secret-present".to_string(),
                    "known-value".to_string(),
                    "svc.conf".to_string()
                ),
            ]
        );
        let value = v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["rule"] == "known-value")
            .expect("value");
        assert_eq!(value["identifiers"], serde_json::json!(["svc-key-7f3a91"]));
    }
);

// A revoked value in a Jupyter cell is reported at the line of the cell that holds it
// (the rule pass's `decode::source_offset` mapping), not at the cell's `"source": [`
// line, and once: whether the raw text or the joined cell finds it, one place.
kttest!(
    revoked_value_in_a_notebook_cell_is_placed_at_its_line,
    |dir, _cmd| {
        let old = custom_value(118);
        add(&dir, "nb-db", &old, &[]);
        rotate(&dir, "nb-db", &custom_value(119));
        let cells = [
            vec![
                "import psycopg2\n".to_string(),
                format!("opaque = \"{old}\"\n"),
                "conn = psycopg2.connect(password=opaque)\n".to_string(),
            ],
            vec![
                "# a second cell\n".to_string(),
                "print(1)\n".to_string(),
                format!("run(['--user', 'svc', '{old}'])\n"),
            ],
        ];
        let notebook = serde_json::json!({
            "cells": cells.iter().map(|c| serde_json::json!({
                "cell_type": "code", "metadata": {}, "source": c,
            })).collect::<Vec<_>>(),
            "nbformat": 4,
        });
        let text = serde_json::to_string_pretty(&notebook).expect("json");
        let lines_of: Vec<u64> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains(&old))
            .map(|(i, _)| i as u64 + 1)
            .collect();
        assert_eq!(lines_of.len(), 2);
        dir.write("tree/analysis.ipynb", &text);
        let (_, v, err) = scan_tree(&dir);
        let mut got: Vec<(String, u64)> = v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule"] == "known-value")
            .map(|f| {
                (
                    f["kind"].as_str().expect("kind").to_string(),
                    f["location"]["line"].as_u64().expect("line"),
                )
            })
            .collect();
        got.sort();
        let want: Vec<(String, u64)> = lines_of
            .iter()
            .map(|&l| ("revoked-secret-present".to_string(), l))
            .collect();
        assert_eq!(got, want, "{v}");
        assert!(!v.to_string().contains(&old) && !err.contains(&old));
    }
);
