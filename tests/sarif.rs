//! SARIF output validates against the official SARIF 2.1.0 schema and keeps fingerprints stable.

use crate::macros::{assert_schema_valid, run, SARIF_SCHEMA};
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
