//! SARIF output validates against the official SARIF 2.1.0 schema and keeps fingerprints stable.

use crate::macros::{assert_no_plaintext, assert_schema_valid, run, SARIF_SCHEMA};
use crate::synth::Synth;

kttest!(sarif_validates_against_schema, |dir, cmd| {
    let mut s = Synth::new(7);
    let (id, secret) = s.aws_pair();
    dir.write(
        "app/.env",
        format!("AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}\n"),
    );
    dir.write(
        "app/config.py",
        format!("GITHUB_TOKEN = \"{}\"\n", s.github_pat()),
    );
    let (code, stdout, stderr) = run(cmd.args(["scan", ".", "--format", "sarif"]));
    assert_eq!(code, 1, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("SARIF is JSON");
    assert_schema_valid(SARIF_SCHEMA, &doc);
    let run0 = &doc["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().expect("rules");
    assert!(
        rules.len() >= 150,
        "every rule is listed in tool.driver.rules"
    );
    let results = run0["results"].as_array().expect("results");
    assert_eq!(results.len(), 2, "{stdout}");
    for r in results {
        assert!(r["ruleId"].is_string() && r["level"].is_string());
        assert!(r["locations"][0]["physicalLocation"]["region"]["startLine"].is_u64());
        assert!(r["partialFingerprints"]["keytrace/v1"].is_string());
    }
    assert!(
        !stdout.contains(&secret),
        "SARIF must not contain the plaintext secret"
    );
});

kttest!(sarif_fingerprints_survive_moved_lines, |dir, cmd| {
    let token = Synth::new(9).github_pat();
    dir.write("config.py", format!("TOKEN = \"{token}\"\n"));
    let (_, before, _) = run(cmd.args(["scan", ".", "--format", "sarif"]));
    dir.write("config.py", format!("import os\n\n\nTOKEN = \"{token}\"\n"));
    let (_, after, _) = run(dir.command().args(["scan", ".", "--format", "sarif"]));
    let fp = |s: &str| {
        let v: serde_json::Value = serde_json::from_str(s).expect("json");
        let r = &v["runs"][0]["results"][0];
        (
            r["partialFingerprints"]["keytrace/v1"]
                .as_str()
                .expect("fp")
                .to_string(),
            r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64(),
        )
    };
    let (a, b) = (fp(&before), fp(&after));
    assert_eq!(a.0, b.0);
    assert_ne!(a.1, b.1);
});

kttest!(
    sarif_fingerprints_survive_moved_lines_in_history,
    |dir, cmd| {
        let token = Synth::new(10).github_pat();
        crate::git::init(dir.path());
        dir.write("config.py", format!("TOKEN = \"{token}\"\n"));
        crate::git::commit(dir.path(), 1, "add");
        let (_, before, _, _) = sarif_of(cmd.args(["scan", ".", "--git", "--format", "sarif"]));
        dir.write("config.py", format!("import os\n\n\nTOKEN = \"{token}\"\n"));
        crate::git::commit(dir.path(), 2, "move it down");
        let (_, after, text, _) = sarif_of(
            dir.command()
                .args(["scan", ".", "--git", "--format", "sarif"]),
        );
        assert!(!text.contains(&token), "no plaintext in SARIF");
        // (fingerprint, line) of every result, and the fingerprints alone.
        let places = |doc: &serde_json::Value| -> Vec<(String, u64)> {
            doc["runs"][0]["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|r| {
                    (
                        r["partialFingerprints"]["keytrace/v1"]
                            .as_str()
                            .expect("fp")
                            .to_string(),
                        r["locations"][0]["physicalLocation"]["region"]["startLine"]
                            .as_u64()
                            .expect("line"),
                    )
                })
                .collect()
        };
        let (before, after) = (places(&before), places(&after));
        let fps = |p: &[(String, u64)]| {
            let mut f: Vec<String> = p.iter().map(|(fp, _)| fp.clone()).collect();
            f.dedup();
            f
        };
        assert_eq!(fps(&before).len(), 1, "{before:?}");
        assert_eq!(
            fps(&before),
            fps(&after),
            "the moved line keeps its fingerprint"
        );
        assert!(after.iter().any(|(_, line)| *line == 4), "{after:?}");
        assert!(before.iter().all(|(_, line)| *line == 1), "{before:?}");
    }
);

/// The SARIF document of a scan, checked against the bundled 2.1.0 schema.
fn sarif_of(cmd: &mut std::process::Command) -> (i32, serde_json::Value, String, String) {
    let (code, stdout, stderr) = run(cmd);
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("SARIF is JSON");
    assert_schema_valid(SARIF_SCHEMA, &doc);
    (code, doc, stdout, stderr)
}

kttest!(
    sarif_rules_carry_help_and_severity_for_code_scanning,
    |dir, cmd| {
        dir.write(
            "config.py",
            format!("TOKEN = \"{}\"\n", Synth::new(11).github_pat()),
        );
        let (code, doc, _, stderr) = sarif_of(cmd.args(["scan", ".", "--format", "sarif"]));
        assert_eq!(code, 1, "{stderr}");
        let rules = doc["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules");
        for r in rules {
            let id = r["id"].as_str().expect("id");
            let sev: f64 = r["properties"]["security-severity"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("{id}: security-severity is a number in a string"));
            assert!((0.0..=10.0).contains(&sev), "{id}: {sev}");
            let tags = r["properties"]["tags"].as_array().expect("tags");
            assert!(
                tags.len() <= 10 && tags.contains(&"security".into()),
                "{id}"
            );
            assert!(
                ["error", "warning", "note"]
                    .contains(&r["defaultConfiguration"]["level"].as_str().unwrap_or("")),
                "{id}"
            );
            assert!(
                r["shortDescription"]["text"].is_string()
                    && r["fullDescription"]["text"].is_string()
            );
            let help = r["help"]["text"].as_str().expect("help.text");
            assert!(help.starts_with("To fix: "), "{id}: {help}");
            assert!(r["help"]["markdown"]
                .as_str()
                .is_some_and(|m| m.starts_with("**To fix:** ")));
        }
        // The link in SARIF is the one `rules explain` prints, for a rule file's rule and a built-in check.
        for id in ["github-pat-classic", "known-value", "retired-reference"] {
            let (code, explain, _) = run(dir.command().args(["rules", "explain", id]));
            assert_eq!(code, 0, "{id}");
            let printed = explain
                .lines()
                .find_map(|l| l.strip_prefix("help: "))
                .map(str::to_string);
            let rule = rules.iter().find(|r| r["id"] == id).expect("rule listed");
            assert_eq!(
                rule["helpUri"].as_str().map(str::to_string),
                printed,
                "{id}"
            );
            if id == "github-pat-classic" {
                let uri = printed.expect("github-pat-classic has a link");
                assert!(uri.starts_with("https://") && !uri.ends_with('.'), "{uri}");
                assert!(rule["help"]["markdown"]
                    .as_str()
                    .expect("md")
                    .contains(&uri));
            }
        }
    }
);

kttest!(sarif_results_carry_the_credential_linkage, |dir, cmd| {
    let token = Synth::new(12).github_pat();
    let mut add = dir.command();
    add.args([
        "inventory",
        "add",
        "--id",
        "deploy-bot",
        "--kind",
        "github-pat",
        "--owner",
        "platform",
    ]);
    assert_eq!(crate::macros::run_stdin(&mut add, &token).0, 0);
    dir.write("tree/app.py", format!("TOKEN = \"{token}\"\n"));
    let (code, doc, stdout, stderr) = sarif_of(cmd.args(["scan", "tree", "--format", "sarif"]));
    assert_eq!(code, 1, "{stderr}");
    let (_, json, _) =
        crate::macros::run_json(dir.command().args(["scan", "tree", "--format", "json"]));
    let finding = &json["findings"][0];
    let result = &doc["runs"][0]["results"][0];
    let props = &result["properties"];
    assert_eq!(props["kind"], "active-secret-exposed", "{stdout}");
    assert_eq!(props["kind"], finding["kind"]);
    assert_eq!(props["credential"]["id"], "deploy-bot");
    assert_eq!(props["credential"]["version"], 1);
    assert_eq!(
        props["credential"]["status"],
        finding["credential"]["status"]
    );
    assert_eq!(props["credential"]["owner"], "platform");
    assert_eq!(
        props["credential"], finding["credential"],
        "the JSON report's linkage, no more"
    );
    assert_eq!(props["fingerprint"], finding["secret"]["fingerprint"]);
    assert_eq!(result["level"], "error");
    assert!(!stdout.contains(&token), "no plaintext in SARIF");
    // An unmanaged secret says so: no credential.
    dir.write(
        "tree/other.py",
        format!("T = \"{}\"\n", Synth::new(13).github_pat()),
    );
    let (_, doc, _, _) = sarif_of(dir.command().args(["scan", "tree", "--format", "sarif"]));
    let other = doc["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["properties"]["kind"] == "unmanaged-secret")
        .expect("unmanaged result");
    assert!(other["properties"]["credential"].is_null());
});

/// File names that a URI must escape: space, `%`, `#`, `?` and non-ASCII.
const AWKWARD_NAMES: [&str; 4] = [
    "dir with space/a b.py",
    "100%/x%41.py",
    "x#y?z.py",
    "café/ключ.py",
];

/// Every result's URI is relative, percent-encoded, and decodes to the path the JSON report names.
fn check_uris(doc: &serde_json::Value, json: &serde_json::Value) {
    let mut decoded: Vec<String> = Vec::new();
    for r in doc["runs"][0]["results"].as_array().expect("results") {
        let loc = &r["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(loc["uriBaseId"], "SRCROOT");
        let uri = loc["uri"].as_str().expect("uri");
        assert!(
            uri.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~/%".contains(&b)),
            "{uri} is percent-encoded"
        );
        assert!(
            !uri.starts_with('/') && !uri.contains("://"),
            "{uri} is relative"
        );
        decoded.push(
            percent_encoding::percent_decode_str(uri)
                .decode_utf8()
                .expect("UTF-8")
                .into_owned(),
        );
    }
    let mut paths: Vec<String> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .flat_map(|f| f["locations"].as_array().expect("locations").iter())
        .map(|l| l["path"].as_str().expect("path").to_string())
        .collect();
    decoded.sort();
    paths.sort();
    assert_eq!(decoded, paths);
    let mut expected: Vec<&str> = AWKWARD_NAMES.to_vec();
    expected.sort_unstable();
    let mut distinct = decoded.clone();
    distinct.dedup();
    assert_eq!(distinct, expected);
}

kttest!(sarif_uris_are_percent_encoded_relative_paths, |dir, cmd| {
    let mut s = Synth::new(21);
    let mut secrets = Vec::new();
    for name in AWKWARD_NAMES {
        let token = s.github_pat();
        dir.write(&format!("repo/{name}"), format!("T = \"{token}\"\n"));
        secrets.push(token);
    }
    let (code, doc, text, stderr) = sarif_of(cmd.args(["scan", "repo", "--format", "sarif"]));
    assert_eq!(code, 1, "{stderr}");
    assert_no_plaintext(&text, &secrets);
    let (_, json, _) =
        crate::macros::run_json(dir.command().args(["scan", "repo", "--format", "json"]));
    check_uris(&doc, &json);

    let repo = dir.path().join("repo");
    crate::git::init(&repo);
    crate::git::commit(&repo, 1, "add");
    let (code, doc, text, stderr) = sarif_of(
        dir.command()
            .args(["scan", "repo", "--git", "--format", "sarif"]),
    );
    assert_eq!(code, 1, "{stderr}");
    assert_no_plaintext(&text, &secrets);
    let (_, json, _) = crate::macros::run_json(
        dir.command()
            .args(["scan", "repo", "--git", "--format", "json"]),
    );
    assert!(
        doc["runs"][0]["versionControlProvenance"][0]["revisionId"].is_string(),
        "a git run names its commit"
    );
    check_uris(&doc, &json);
});

kttest!(
    sarif_over_25000_results_keeps_the_highest_severity,
    |dir, cmd| {
        // Over 25,000 high-severity tokens in one file, and five medium-severity ones first in
        // finding order.
        let mut s = Synth::new(31);
        let mut secrets = Vec::with_capacity(25_055);
        let mut bulk = String::with_capacity(25_050 * 52);
        for _ in 0..25_050 {
            let token = s.github_pat();
            bulk.push_str(&format!("T = \"{token}\"\n"));
            secrets.push(token);
        }
        dir.write("repo/z.py", bulk);
        let mut low = String::new();
        for _ in 0..5 {
            let token = format!("glimt-{}", s.base62(25));
            low.push_str(&format!("MAIL_TOKEN={token}\n"));
            secrets.push(token);
        }
        dir.write("repo/a.env", low);
        let (_, lows, _) =
            crate::macros::run_json(
                dir.command()
                    .args(["scan", "repo/a.env", "--format", "json"]),
            );
        let lows = lows["findings"].as_array().expect("findings");
        assert_eq!(lows.len(), 5);
        assert!(lows.iter().all(|f| f["severity"] == "medium"));

        let (code, doc, text, stderr) = sarif_of(cmd.args(["scan", "repo", "--format", "sarif"]));
        assert_eq!(code, 1, "{stderr}");
        // Kept and dropped alike: no value in the report, nor in the warning.
        assert_no_plaintext(&format!("{text}{stderr}"), &secrets);
        let run0 = &doc["runs"][0];
        let results = run0["results"].as_array().expect("results");
        assert_eq!(results.len(), 25_000);
        assert!(
            results.iter().all(|r| r["ruleId"] == "github-pat-classic"),
            "the medium-severity results are the ones left out"
        );
        // "N of TOTAL results left out": TOTAL counts all found, N all beyond 25,000.
        let said = stderr
            .lines()
            .find_map(|l| l.strip_prefix("warning[sarif-results-dropped]: "))
            .unwrap_or_else(|| panic!("a warning on stderr: {stderr}"));
        let numbers: Vec<u64> = said
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect();
        let dropped = run0["properties"]["dropped"].as_u64().expect("dropped");
        assert!(numbers.contains(&dropped), "{said}");
        assert!(
            numbers.contains(&(dropped + 25_000)) && dropped >= 5,
            "{said}"
        );
        assert_eq!(
            run0["invocations"][0]["toolExecutionNotifications"][0]["descriptor"]["id"],
            "sarif-results-dropped"
        );
    }
);
