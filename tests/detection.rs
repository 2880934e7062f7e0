//! Detection quality (issue 14): where findings are reported and which values count.

use crate::macros::run_json;
use crate::synth::Synth;
use serde_json::Value;

/// `(rule, path, line)` of every finding of a JSON report.
fn places(report: &Value) -> Vec<(String, String, u64)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().expect("rule").to_string(),
                f["location"]["path"].as_str().expect("path").to_string(),
                f["location"]["line"].as_u64().expect("line"),
            )
        })
        .collect()
}

// A token on one line of a multi-line cell is reported once, at the line that holds
// it, not a second time at the cell's `"source": [` line.
kttest!(
    notebook_cell_secret_is_reported_once_at_its_line,
    |dir, cmd| {
        let mut synth = Synth::new(14);
        let token = synth.github_pat();
        let (key_id, key) = synth.aws_pair();
        let first = vec![
            "import requests\n".to_string(),
            format!("GITHUB_TOKEN = \"{token}\"\n"),
            "requests.get(URL, headers={\"Authorization\": GITHUB_TOKEN})\n".to_string(),
        ];
        let second = vec![
            "import boto3\n".to_string(),
            format!("s3 = boto3.client(\"s3\", aws_access_key_id=\"{key_id}\",\n"),
            format!("    aws_secret_access_key=\"{key}\")\n"),
        ];
        let notebook = serde_json::json!({
            "cells": [
                { "cell_type": "code", "metadata": {}, "source": first },
                { "cell_type": "code", "metadata": {}, "source": second },
            ],
            "nbformat": 4,
        });
        let text = serde_json::to_string_pretty(&notebook).expect("json");
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.contains(needle))
                .expect("needle in notebook") as u64
                + 1
        };
        dir.write("analysis.ipynb", &text);
        let (_, report, _) = run_json(cmd.args(["scan", ".", "--format", "json"]));
        assert_eq!(
            places(&report),
            vec![
                (
                    "github-pat-classic".to_string(),
                    "analysis.ipynb".to_string(),
                    line_of(&token)
                ),
                (
                    "aws-secret-access-key-near-id".to_string(),
                    "analysis.ipynb".to_string(),
                    line_of(&key)
                ),
            ]
        );
    }
);
