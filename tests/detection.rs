//! Detection quality (issue 14): where findings are reported and which values count.

use crate::macros::{finding_places as places, run_json};
use crate::synth::Synth;

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

const HEX: &[u8] = b"0123456789abcdef";

// Values that only their name identifies: a Datadog key in a Kubernetes env list
// (name/value pairs), a Mailgun key under a `mailgun:` block, Twilio API key SID and
// secret as Java constants, and every password of a .netrc with several machines.
kttest!(named_values_are_found_by_their_names, |dir, cmd| {
    let mut synth = Synth::new(1414);
    let dd = synth.chars(HEX, 32);
    dir.write(
        "k8s/agent.yaml",
        format!(
            "spec:\n  containers:\n    - name: agent\n      env:\n        - name: DD_SITE\n          value: datadoghq.eu\n        - name: DD_API_KEY\n          value: \"{dd}\"\n        - name: DD_APP_KEY\n          valueFrom:\n            secretKeyRef:\n              name: datadog\n              key: app-key\n"
        ),
    );
    let mailgun = format!("key-{}", synth.chars(HEX, 32));
    dir.write(
        "config/app.yml",
        format!("mailgun:\n  domain: mg.corp-mail.net\n  region: eu\n  api_key: {mailgun}\n"),
    );
    let sid = format!("SK{}", synth.chars(HEX, 32));
    let twilio = synth.base62(32);
    dir.write(
        "src/Sms.java",
        format!(
            "public class Sms {{\n    private static final String TWILIO_API_KEY_SID = \"{sid}\";\n    private static final String TWILIO_API_KEY_SECRET = \"{twilio}\";\n}}\n"
        ),
    );
    let (first, second) = (synth.password(), synth.password());
    dir.write(
        ".netrc",
        format!("machine api.heroku.com\n  login ops@corp.net\n  password {first}\nmachine git.corp.net login deploy password {second}\n"),
    );
    let (_, report, _) = run_json(cmd.args(["scan", ".", "--format", "json"]));
    let got: Vec<(String, String, u64)> = places(&report);
    let want = |rule: &str, path: &str, line: u64| (rule.to_string(), path.to_string(), line);
    assert_eq!(
        got,
        vec![
            want("netrc-password", ".netrc", 3),
            want("netrc-password", ".netrc", 4),
            want("mailgun-api-key", "config/app.yml", 4),
            want("datadog-api-key", "k8s/agent.yaml", 8),
            want("twilio-auth-token", "src/Sms.java", 3),
        ]
    );
    let twilio_finding = &report["findings"][4];
    assert!(
        !report.to_string().contains(&twilio) && !report.to_string().contains(&dd),
        "no plaintext in the report"
    );
    assert_eq!(twilio_finding["rule"], "twilio-auth-token");
});

// `rules keywords` is the prefilter's literal list (for `rg -F -i -f`), and
// `rules list --format json` one object per rule sorted by id, the same bytes each run.
kttest!(
    rules_keywords_and_json_list_are_sorted_and_stable,
    |dir, cmd| {
        let (code, keywords, _) = crate::macros::run(cmd.args(["rules", "keywords"]));
        assert_eq!(code, 0);
        let lines: Vec<&str> = keywords.lines().collect();
        let mut sorted = lines.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(lines, sorted, "sorted, unique");
        assert!(lines.contains(&"ghp_") && lines.contains(&"\"cell_type\""));
        assert!(lines.iter().all(|k| *k == k.to_ascii_lowercase()));
        let (_, list, _) = run_json(dir.command().args(["rules", "list", "--format", "json"]));
        let ids: Vec<&str> = list
            .as_array()
            .expect("array")
            .iter()
            .map(|r| r["id"].as_str().expect("id"))
            .collect();
        let mut sorted_ids = ids.clone();
        sorted_ids.sort();
        assert_eq!(ids, sorted_ids);
        assert!(ids.contains(&"github-pat-classic"));
        let entry = list
            .as_array()
            .expect("array")
            .iter()
            .find(|r| r["id"] == "github-pat-classic")
            .expect("rule");
        assert_eq!(entry["keywords"], serde_json::json!(["ghp_"]));
        assert_eq!(entry["confidence"], "high");
    }
);
