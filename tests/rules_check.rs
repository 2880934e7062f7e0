//! The built-in rules pass their own samples, and the generated docs are current.

use crate::macros::{run, TestDir};
use keytrace::matcher::selftest::{check_rules, CONTEXTS};
use keytrace::matcher::Matcher;
use keytrace::rules::RuleSet;
use std::path::Path;

#[test]
fn builtin_rules_pass_examples_and_negatives_in_every_context() {
    let set = RuleSet::embedded().expect("embedded rules load");
    let matcher = Matcher::new(&set).expect("rules compile");
    matcher.compile_all().expect("every regex compiles");
    let report = check_rules(&set, &matcher);
    println!("contexts: {}", CONTEXTS.join(", "));
    for line in &report.lines {
        println!("{line}");
    }
    let problems: Vec<String> = report
        .problems
        .iter()
        .map(|p| format!("{}: {}: {}", p.place, p.rule, p.message))
        .collect();
    assert!(
        problems.is_empty(),
        "{} rule problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        set.rules.len() >= 150,
        "only {} built-in rules",
        set.rules.len()
    );
}

#[test]
fn rules_check_command_passes_on_builtins() {
    let dir = TestDir::new();
    let (code, stdout, _) = run(dir.command().args(["rules", "check"]));
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("problems") && stdout.ends_with("0 problems\n"),
        "{stdout}"
    );
}

#[test]
fn docs_rules_md_is_current() {
    let set = RuleSet::embedded().expect("embedded rules load");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == set.markdown(),
        "docs/rules.md is stale: run `cargo run -- rules docs > docs/rules.md`"
    );
}

#[test]
fn docs_diagnostics_md_is_current_and_codes_unique() {
    let codes: Vec<&str> = keytrace::diag::Code::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    let mut unique = codes.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), codes.len(), "duplicate diagnostic code");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == keytrace::diag::markdown(),
        "docs/diagnostics.md is stale: run `cargo run -- rules diagnostics > docs/diagnostics.md`"
    );
}

/// A user rule that passes `rules check`; other tests vary it (sweep_cache changes its confidence).
pub(crate) const GOOD_RULE: &str = r#"
[[rule]]
id = "acme-api-key"
name = "Acme API key"
description = """
Finds Acme API keys (acme_ followed by 32 lowercase letters and digits).
Why: an Acme key reads and writes every project of its account.
Rotate: delete the key under Settings > API and create a new one, https://acme.invalid/docs/keys
"""
regex = '''\b(acme_[a-z0-9]{32})\b'''
keywords = ["acme_"]
confidence = "high"
examples = [{ secret = "acme_q8w7e6r5t4y3u2i1o9p8a7s6d5f4g3h2" }]
negatives = ["acme_short"]
"#;

#[test]
fn user_rules_are_checked_the_same_way() {
    let dir = TestDir::new();
    dir.write("mine/acme.toml", GOOD_RULE);
    let (code, stdout, _) = run(dir.command().args(["rules", "test", "--rules", "mine"]));
    assert_eq!(code, 0, "{stdout}");
    assert!(
        // Seven contexts, and the six multi-line ones again with CRLF line endings.
        stdout.contains("acme-api-key") && stdout.contains("13 example runs"),
        "{stdout}"
    );

    let broken = GOOD_RULE.replace(
        r#"negatives = ["acme_short"]"#,
        r#"negatives = ["acme_q8w7e6r5t4y3u2i1o9p8a7s6d5f4g3h2"]"#,
    );
    dir.write("bad/acme.toml", broken);
    let (code, stdout, _) = run(dir.command().args(["rules", "check", "bad"]));
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("negative 1 matched"), "{stdout}");
}

#[test]
fn loader_rejects_rules_without_negatives_or_expected_values() {
    let dir = TestDir::new();
    dir.write(
        "a/acme.toml",
        GOOD_RULE.replace(r#"negatives = ["acme_short"]"#, "negatives = []"),
    );
    let (code, _, stderr) = run(dir.command().args(["rules", "check", "a"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("acme.toml:3: rule `acme-api-key`: at least one negative"),
        "{stderr}"
    );

    dir.write(
        "b/acme.toml",
        GOOD_RULE.replace(
            r#"{ secret = "acme_q8w7e6r5t4y3u2i1o9p8a7s6d5f4g3h2" }"#,
            r#"{ input = "acme_q8w7e6r5t4y3u2i1o9p8a7s6d5f4g3h2" }"#,
        ),
    );
    let (code, _, stderr) = run(dir.command().args(["rules", "check", "b"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("missing field `secret`"), "{stderr}");
}

#[test]
fn descriptions_have_the_fixed_shape() {
    let set = RuleSet::embedded().expect("embedded rules load");
    for r in &set.rules {
        let lines: Vec<&str> = r.description.trim().lines().collect();
        assert_eq!(lines.len(), 3, "{}", r.id);
        assert!(
            lines[2].contains("https://"),
            "{}: Rotate line needs a link",
            r.id
        );
    }
}

#[test]
fn renamed_rule_ids_keep_working_through_aliases() {
    let dir = TestDir::new();
    dir.write(
        "extra/aliases.toml",
        "[aliases]\ngithub-personal-token = \"github-pat-classic\"\n",
    );
    dir.write(
        ".keytrace.toml",
        "[rules]\npaths = [\"extra\"]\ndisable = [\"github-personal-token\"]\n",
    );
    let token = crate::synth::Synth::new(3).github_pat();
    dir.write("app.py", format!("print(\"{token}\")\n"));
    let (code, stdout, stderr) = run(dir.command().args(["scan", "app.py", "--format", "json"]));
    assert_eq!(
        code, 0,
        "an old id in the config still disables the renamed rule: {stdout}{stderr}"
    );
    let (code, stdout, _) = run(dir
        .command()
        .args(["rules", "explain", "github-pat-classic"]));
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("github-pat-classic — ") && stdout.contains("Rotate: "),
        "{stdout}"
    );
}

#[test]
fn matcher_never_panics_on_hostile_bytes() {
    let set = RuleSet::embedded().expect("embedded rules load");
    let matcher = Matcher::new(&set).expect("rules compile");
    let origin = keytrace::types::Origin::default();
    // Keyword fragments, escapes, PEM armour and base64 glued with random bytes.
    let pieces: &[&[u8]] = &[
        b"-----BEGIN RSA PRIVATE KEY-----",
        b"-----END",
        b"\\n",
        b"\\u00",
        b"\"",
        b"password=",
        b"ghp_",
        b"AKIA",
        b"kind: Secret\ndata:\n  k: ",
        b"data:text/plain;base64,",
        b"\"cell_type\"",
        b"\"source\": [",
        b"\xff\xfe",
        b"\x00",
        b"%4",
        b"xoxb-",
        b"eyJ",
        b"==",
        b"\n",
        b"\r\n",
        b"\xe2\x82",
        b"postgres://u:",
        b"@h/",
        b"sk_live_",
    ];
    let mut rng = crate::synth::Synth::new(99);
    for _ in 0..3000 {
        let mut buf = Vec::new();
        let n = rng.chars(b"0123456789", 2).parse::<usize>().unwrap_or(10);
        for _ in 0..n {
            let pick = rng.chars(b"0123456789", 2).parse::<usize>().unwrap_or(0);
            match pieces.get(pick % (pieces.len() + 4)) {
                Some(p) => buf.extend_from_slice(p),
                None => buf.extend_from_slice(rng.base62(pick % 50).as_bytes()),
            }
        }
        let mut found: Vec<keytrace::types::RawMatch> = Vec::new();
        matcher.scan(
            &keytrace::types::Chunk {
                bytes: &buf,
                origin: &origin,
            },
            &mut found,
        );
    }
}
