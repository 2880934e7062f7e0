//! The rule harness: every rule's examples and negatives through the full
//! matcher, bare examples wrapped in six file contexts, and every multi-line sample
//! again with CRLF line endings. `keytrace rules check`
//! and `cargo test` both call [`check_rules`].

use super::Matcher;
use crate::fingerprint::canonical;
use crate::rules::RuleSet;
use crate::types::{Chunk, Origin, RawMatch};
use base64::Engine as _;

/// File contexts a bare example is wrapped in; each must yield the same capture.
pub const CONTEXTS: &[&str] = &[
    "as-is",
    "dotenv",
    "yaml",
    "json",
    "k8s-secret",
    "python",
    "shell",
];

/// What the harness found wrong with one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    pub rule: String,
    /// `file:line` of the rule's `id`.
    pub place: String,
    pub message: String,
}

/// Outcome of checking a rule set: one line per rule and every problem.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// `id  examples×contexts  negatives` for each rule, in rule order.
    pub lines: Vec<String>,
    pub problems: Vec<RuleProblem>,
}

/// Runs every rule's samples through `matcher` (built from `set`).
pub fn check_rules(set: &RuleSet, matcher: &Matcher) -> CheckReport {
    let mut report = CheckReport::default();
    let origin = Origin {
        repo: "rules-check".into(),
        path: "sample".into(),
        ..Origin::default()
    };
    for (idx, rule) in set.rules.iter().enumerate() {
        let place = format!("{}:{}", rule.origin.file, rule.origin.line);
        let problem = |message: String| RuleProblem {
            rule: rule.id.clone(),
            place: place.clone(),
            message,
        };
        let mut runs = 0;
        for (n, example) in rule.examples.iter().enumerate() {
            let contexts: Vec<(&str, String)> = match &example.input {
                Some(input) => vec![("as-is", input.clone())],
                None => CONTEXTS
                    .iter()
                    .map(|c| (*c, wrap(c, &example.secret)))
                    .collect(),
            };
            // Files written on Windows end their lines with CRLF: each multi-line sample
            // must match the same with them.
            let crlf: Vec<(String, String)> = contexts
                .iter()
                .filter(|(_, text)| text.contains('\n') && !text.contains('\r'))
                .map(|(c, text)| (format!("{c}, CRLF"), text.replace('\n', "\r\n")))
                .collect();
            let contexts = contexts
                .into_iter()
                .map(|(c, text)| (c.to_string(), text))
                .chain(crlf);
            for (context, text) in contexts {
                runs += 1;
                let found = scan(matcher, &origin, &text);
                let want = canonical(&example.secret);
                let hit = found.iter().any(|m| m.rule == idx && m.canonical == want);
                if !hit {
                    let got: Vec<String> = found
                        .iter()
                        .map(|m| format!("{} at {}:{}", matcher.rule(m.rule).id, m.line, m.column))
                        .collect();
                    report.problems.push(problem(format!(
                        "example {} ({context}) did not yield the expected secret; matches: [{}]",
                        n + 1,
                        got.join(", ")
                    )));
                }
            }
        }
        for (n, negative) in rule.negatives.iter().enumerate() {
            if scan(matcher, &origin, negative)
                .iter()
                .any(|m| m.rule == idx)
            {
                report
                    .problems
                    .push(problem(format!("negative {} matched", n + 1)));
            }
        }
        report.lines.push(format!(
            "{:<44} {:>3} example runs  {:>2} negatives",
            rule.id,
            runs,
            rule.negatives.len()
        ));
    }
    report
}

fn scan(matcher: &Matcher, origin: &Origin, text: &str) -> Vec<RawMatch> {
    let mut found: Vec<RawMatch> = Vec::new();
    matcher.scan(
        &Chunk {
            bytes: text.as_bytes(),
            origin,
        },
        &mut found,
    );
    found
}

/// A bare secret as it would sit in each kind of file.
pub fn wrap(context: &str, secret: &str) -> String {
    let multiline = secret.contains('\n');
    match context {
        "dotenv" if multiline => format!("APP_ENV=prod\nAPI_TOKEN=\"{secret}\"\nDEBUG=false\n"),
        "dotenv" => format!("APP_ENV=prod\nAPI_TOKEN={secret}\nDEBUG=false\n"),
        "yaml" if multiline => {
            let body: String = secret.lines().map(|l| format!("    {l}\n")).collect();
            format!("service:\n  name: billing\n  api_token: |\n{body}  replicas: 2\n")
        }
        "yaml" => format!("service:\n  name: billing\n  api_token: \"{secret}\"\n  replicas: 2\n"),
        "json" => {
            let quoted = serde_json::to_string(secret).expect("string serializes");
            format!("{{\n  \"service\": \"billing\",\n  \"api_token\": {quoted},\n  \"replicas\": 2\n}}\n")
        }
        "k8s-secret" => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(secret);
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: billing\ntype: Opaque\ndata:\n  api_token: {encoded}\n"
            )
        }
        "python" if multiline => format!("import os\n\nAPI_TOKEN = \"\"\"{secret}\"\"\"\n"),
        "python" => format!("import os\n\nAPI_TOKEN = \"{secret}\"\nclient = Client(API_TOKEN)\n"),
        "shell" => format!("#!/bin/sh\nexport API_TOKEN='{secret}'\ncurl -H \"Authorization: Bearer $API_TOKEN\" https://api.example.com\n"),
        _ => secret.to_string(),
    }
}
