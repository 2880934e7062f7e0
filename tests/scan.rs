//! `keytrace scan` on fixture trees: exact findings for positives, silence for
//! negatives, survival of bad input, exit codes, config and redaction.

use crate::macros::{place, run, TestDir};
use crate::synth::Synth;
use serde_json::Value;

/// `(rule, path, line)` of every finding in a JSON report.
fn findings(json: &str) -> Vec<(String, String, u64)> {
    let v: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("not JSON ({e}): {json}"));
    assert_eq!(v["schema_version"], 1);
    crate::macros::finding_places(&v)
}

fn scan_json(dir: &TestDir, extra: &[&str]) -> (i32, Vec<(String, String, u64)>, String) {
    let mut cmd = dir.command();
    cmd.args(["scan", ".", "--format", "json"]).args(extra);
    let (code, stdout, stderr) = run(&mut cmd);
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    (code, findings(&stdout), stderr)
}

kttest!(finds_planted_secrets_with_exact_places, |dir, _cmd| {
    let mut s = Synth::new(1);
    let (id, secret) = s.aws_pair();
    let gh = s.github_pat();
    let slack = s.slack_bot();
    let stripe = s.stripe_live();
    let pw = s.password();
    dir.write(
        ".env",
        format!("APP_ENV=production\nAWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}\n"),
    );
    dir.write(
        "src/settings.py",
        format!("import os\n\nDEBUG = False\nGITHUB_TOKEN = \"{gh}\"\n"),
    );
    dir.write(".github/workflows/notify.yml", format!("on: push\njobs:\n  n:\n    runs-on: ubuntu-latest\n    env:\n      SLACK_TOKEN: {slack}\n"));
    dir.write(
        "billing/config.json",
        format!("{{\n  \"currency\": \"eur\",\n  \"stripe_key\": \"{stripe}\"\n}}\n"),
    );
    dir.write("deploy/compose.yaml", format!("services:\n  api:\n    environment:\n      DATABASE_URL: postgres://app:{pw}@db:5432/app\n"));
    let (code, found, _) = scan_json(&dir, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        found,
        vec![
            place("aws-secret-access-key-near-id", ".env", 3),
            place("slack-bot-token", ".github/workflows/notify.yml", 6),
            place("stripe-secret-key-live", "billing/config.json", 3),
            place("postgres-uri-password", "deploy/compose.yaml", 4),
            place("github-pat-classic", "src/settings.py", 4),
        ]
    );
});

kttest!(reports_nothing_for_negatives, |dir, cmd| {
    let mut s = Synth::new(2);
    let gh = s.github_pat();
    let wrong_checksum = format!("{}AAAAAA", &gh[..gh.len() - 6]);
    dir.write(
        ".github/workflows/ci.yml",
        "env:\n  GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n  NPM_TOKEN: ${NPM_TOKEN}\n",
    );
    dir.write(
        "chart/values.yaml",
        "db:\n  password: \"{{ .Values.db.password }}\"\n",
    );
    dir.write(
        "app.py",
        "import os\npassword = os.environ[\"DB_PASSWORD\"]\napi_key = os.getenv('API_KEY')\n",
    );
    dir.write("docs/aws.md", "Use AKIAIOSFODNN7EXAMPLE and wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY as in the AWS docs.\n");
    dir.write("tok.txt", format!("token = \"{wrong_checksum}\"\n"));
    dir.write(
        ".env.example",
        "API_KEY=your_api_key_here\nPASSWORD=changeme\nSECRET=<secret>\nTOKEN=xxxxxxxxxxxxxxxx\n",
    );
    dir.write(
        "keys/id_rsa.pub",
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 user@host\n",
    );
    dir.write("hashes.txt", "sha256 = \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"\ncommit: 3f786850e387550fdab836ed7e6dc881de23001b\nid = \"123e4567-e89b-12d3-a456-426614174000\"\n");
    dir.write("package-lock.json", "{\n  \"packages\": {\n    \"node_modules/left-pad\": {\n      \"version\": \"1.3.0\",\n      \"integrity\": \"sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQaZ+mh6ZxtlUyo3e4o6GS9RWI5aCGhz5XkDB9ZpfoqGRcxQ==\"\n    }\n  }\n}\n");
    let (code, stdout, stderr) = run(cmd.args(["scan", ".", "--format", "json"]));
    assert_eq!(findings(&stdout), vec![], "{stderr}");
    assert_eq!(code, 0);
});

// Of `.git/` only `config` is read: a token in a remote URL is a copy of the token on
// every machine that cloned with it; objects, logs and refs are history's to read.
kttest!(
    scans_hidden_files_and_only_the_config_of_dot_git_and_honours_ignore_files,
    |dir, _cmd| {
        let mut s = Synth::new(3);
        dir.write(
            ".git/config",
            format!(
                "[remote]\n  url = https://x:{}@github.com/a/b\n",
                s.github_pat()
            ),
        );
        dir.write(
            ".git/logs/HEAD",
            format!(
                "0000 1111 A <a@b> 0 +0000\tclone: from https://x:{}@github.com/a/b\n",
                s.github_pat()
            ),
        );
        dir.write(
            ".npmrc",
            format!(
                "//registry.example.org/:_authToken=x\n# {}\n",
                s.github_pat()
            ),
        );
        dir.write(".gitignore", "build/\n");
        dir.write("build/out.txt", format!("t = {}\n", s.github_pat()));
        dir.write(".keytraceignore", "vendor/\n");
        dir.write("vendor/lib.py", format!("t = \"{}\"\n", s.github_pat()));
        let (_, found, _) = scan_json(&dir, &[]);
        assert_eq!(
            found,
            vec![
                place("github-pat-classic", ".git/config", 2),
                place("github-pat-classic", ".npmrc", 2)
            ]
        );
        let (_, found, _) = scan_json(&dir, &["--no-ignore"]);
        let paths: Vec<&str> = found.iter().map(|x| x.1.as_str()).collect();
        assert_eq!(
            paths,
            vec![".git/config", ".npmrc", "build/out.txt", "vendor/lib.py"]
        );
    }
);

kttest!(survives_bad_input_and_counts_skips, |dir, _cmd| {
    let mut s = Synth::new(4);
    let gh = s.github_pat();
    dir.write(
        "blob.bin",
        [b"\x00\x01\x02binary".as_slice(), gh.as_bytes()].concat(),
    );
    let mut latin1 = b"caf\xe9 = 1\n".to_vec();
    latin1.extend_from_slice(format!("token = \"{gh}\"\n").as_bytes());
    dir.write("latin1.txt", latin1);
    dir.write("big.txt", format!("{}\n{gh}\n", "a".repeat(4096)));
    dir.write("ok.txt", "nothing here\n");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.path().join("missing"), dir.path().join("broken-link"))
            .expect("symlink");
        std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).expect("symlink");
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join("outside")).expect("symlink");
    }
    let (code, stdout, stderr) =
        run(dir
            .command()
            .args(["scan", ".", "--format", "json", "--max-file-size", "2K"]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        findings(&stdout),
        vec![place("github-pat-classic", "latin1.txt", 2)]
    );
    let v: Value = serde_json::from_str(&stdout).expect("json");
    let summary = &v["summary"];
    assert_eq!(summary["skipped_binary"], 1);
    assert_eq!(summary["skipped_too_large"], 1);
    assert_eq!(summary["files_scanned"], 2);
    assert!(
        stderr.contains("warning[invalid-utf8]: latin1.txt"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning[file-too-large]: big.txt"),
        "{stderr}"
    );
    #[cfg(unix)]
    assert_eq!(summary["skipped_symlinks"], 3);
});

kttest!(
    unreadable_file_is_a_warning_and_strict_makes_it_an_error,
    |dir, _cmd| {
        let gh = Synth::new(5).github_pat();
        dir.write("a.txt", format!("t = {gh}\n"));
        let locked = dir.write("locked.txt", "secret stuff\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000))
                .expect("chmod");
            if std::fs::read(&locked).is_ok() {
                eprintln!("running with privileges that read any file (root); unreadable-file case not observable here");
                return;
            }
            let (code, _, stderr) = run(dir.command().args(["scan", ".", "--format", "json"]));
            assert_eq!(code, 1);
            assert!(
                stderr.contains("warning[unreadable-file]: locked.txt"),
                "{stderr}"
            );
            let (code, _, stderr) = run(dir.command().args(["scan", ".", "--strict"]));
            assert_eq!(code, 2, "{stderr}");
        }
    }
);

kttest!(exit_codes_follow_the_gate, |dir, cmd| {
    dir.write("clean.txt", "hello\n");
    let (code, stdout, _) = run(cmd.args(["scan", "."]));
    assert_eq!(code, 0);
    assert!(stdout.contains("no secrets found"), "{stdout}");
    dir.write(
        "k.py",
        format!("TOKEN = \"{}\"\n", Synth::new(6).github_pat()),
    );
    assert_eq!(run(dir.command().args(["scan", "."])).0, 1);
    assert_eq!(
        run(dir.command().args(["scan", ".", "--fail-on", "critical"])).0,
        0
    );
    let (code, stdout, stderr) = run(dir.command().args(["scan", "does-not-exist"]));
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(stderr.contains("does-not-exist"), "{stderr}");
    let empty = TestDir::new();
    std::fs::create_dir(empty.path().join("nothing")).expect("mkdir");
    let (code, _, stderr) = run(empty.command().args(["scan", "nothing"]));
    assert_eq!(code, 2, "a scan that read nothing is not a pass: {stderr}");
});

kttest!(
    config_allowlists_disables_and_reports_unused,
    |dir, _cmd| {
        let mut s = Synth::new(7);
        dir.write(
            "tests/fixtures/token.txt",
            format!("t = {}\n", s.github_pat()),
        );
        dir.write(
            "src/app.py",
            format!(
                "T = \"{}\"\nU = \"{}\"  # keytrace:allow\n",
                s.github_pat(),
                s.github_pat()
            ),
        );
        dir.write(
            ".keytrace.toml",
            "[allowlist]\npaths = [\"tests/fixtures/**\", \"never/**\"]\n",
        );
        let (_, found, stderr) = scan_json(&dir, &[]);
        assert_eq!(found, vec![place("github-pat-classic", "src/app.py", 1)]);
        assert!(
            stderr.contains("warning[unused-allowlist-entry]") && stderr.contains("never/**"),
            "{stderr}"
        );
        // Scanning a subdirectory: globs stay relative to the repository root.
        std::fs::create_dir(dir.path().join(".git")).expect("mkdir .git");
        let (_, stdout, _) = run(dir.command().args(["scan", "tests", "--format", "json"]));
        assert_eq!(findings(&stdout), vec![]);
        dir.write(
            ".keytrace.toml",
            "[rules]\ndisable = [\"github-pat-classic\"]\n",
        );
        let (code, found, _) = scan_json(&dir, &[]);
        assert_eq!((code, found), (0, vec![]));
    }
);

kttest!(malformed_config_exits_2_before_scanning, |dir, cmd| {
    dir.write("a.txt", "x\n");
    dir.write(".keytrace.toml", "[allowlist]\npaths = [\"a\",\n[rules]\n");
    let (code, stdout, stderr) = run(cmd.args(["scan", "."]));
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(
        stderr.contains(".keytrace.toml") && stderr.contains("line "),
        "{stderr}"
    );
    dir.write(".keytrace.toml", "[rules]\ndisable = [\"no-such-rule\"]\n");
    let (code, stdout, stderr) = run(dir.command().args(["scan", "."]));
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(
        stderr.contains(".keytrace.toml:2") && stderr.contains("no-such-rule"),
        "{stderr}"
    );
    dir.write(".keytrace.toml", "[rules]\nunknown_key = 1\n");
    let (code, _, stderr) = run(dir.command().args(["scan", "."]));
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown field `unknown_key`"), "{stderr}");
    dir.write(".keytrace.toml", "");
    dir.write("rules/bad.toml", "[[rule]]\nid = \"x\"\n");
    let (code, stdout, stderr) = run(dir.command().args(["scan", ".", "--rules", "rules"]));
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(
        stderr.contains("bad.toml") && stderr.contains("missing field"),
        "{stderr}"
    );
});

kttest!(plaintext_never_leaves_without_show_secrets, |dir, _cmd| {
    let mut s = Synth::new(8);
    let gh = s.github_pat();
    let (id, secret) = s.aws_pair();
    dir.write(
        "a.env",
        format!("GH={gh}\nAWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}\n"),
    );
    for format in ["human", "json", "jsonl", "sarif", "github"] {
        let (code, stdout, stderr) =
            run(dir
                .command()
                .args(["scan", ".", "--format", format, "--show-secrets"]));
        assert_eq!(code, 1, "{format}: {stderr}");
        let leaked = stdout.contains(&gh)
            || stdout.contains(&secret)
            || stderr.contains(&gh)
            || stderr.contains(&secret);
        assert_eq!(
            leaked,
            format == "human",
            "{format} output with --show-secrets"
        );
        let (_, stdout, stderr) = run(dir.command().args(["scan", ".", "--format", format]));
        assert!(
            !stdout.contains(&gh) && !stdout.contains(&secret) && !stderr.contains(&secret),
            "{format} leaked"
        );
    }
});

kttest!(
    output_is_identical_whatever_the_thread_count,
    |dir, _cmd| {
        let mut s = Synth::new(9);
        for i in 0..60 {
            dir.write(
                &format!("d{}/f{i}.py", i % 7),
                format!("A = 1\nT = \"{}\"\n", s.github_pat()),
            );
        }
        let one = run(dir
            .command()
            .args(["scan", ".", "--format", "json", "-j", "1"]))
        .1;
        let two = run(dir
            .command()
            .args(["scan", ".", "--format", "json", "-j", "2"]))
        .1;
        let eight = run(dir
            .command()
            .args(["scan", ".", "--format", "json", "-j", "8"]))
        .1;
        assert_eq!(findings(&one).len(), 60);
        assert_eq!(one, two);
        assert_eq!(one, eight);
    }
);

kttest!(formats_jsonl_and_github_annotations, |dir, cmd| {
    dir.write(
        "k.py",
        format!("TOKEN = \"{}\"\n", Synth::new(10).github_pat()),
    );
    let (_, stdout, _) = run(cmd.args(["scan", ".", "--format", "jsonl"]));
    let line: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(line["schema_version"], 1);
    assert_eq!(line["kind"], "unmanaged-secret");
    assert_eq!(line["location"]["path"], "k.py");
    assert!(line["secret"]["fingerprint"]
        .as_str()
        .expect("fp")
        .starts_with("sha256:"));
    let (_, stdout, _) = run(dir.command().args(["scan", ".", "--format", "github"]));
    assert!(
        stdout.starts_with("::error file=k.py,line=1,col=10,title=keytrace unmanaged-secret::"),
        "{stdout}"
    );
    let out = dir.path().join("report.json");
    let (code, stdout, _) = run(dir
        .command()
        .args(["scan", "k.py", "--format", "json", "--output"])
        .arg(&out));
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert_eq!(
        findings(&std::fs::read_to_string(out).expect("report")).len(),
        1
    );
});

kttest!(decodes_kubernetes_secrets_and_json_escapes, |dir, cmd| {
    use base64::Engine as _;
    let gh = Synth::new(11).github_pat();
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{gh}\n"));
    dir.write(
        "k8s/secret.yaml",
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: gh\ndata:\n  token: {b64}\n"),
    );
    let (_, stdout, _) = run(cmd.args(["scan", ".", "--format", "json"]));
    let v: Value = serde_json::from_str(&stdout).expect("json");
    let fnd = &v["findings"][0];
    assert_eq!(fnd["rule"], "github-pat-classic");
    assert_eq!(fnd["location"]["line"], 6);
    assert_eq!(fnd["context"]["decoding"], "base64");
    assert_eq!(fnd["context"]["file_kind"], "k8s-manifest");
});

kttest!(json_report_matches_its_published_schema, |dir, cmd| {
    let mut s = Synth::new(12);
    let (id, secret) = s.aws_pair();
    dir.write(
        ".env",
        format!("AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}\n"),
    );
    dir.write("bin.dat", b"\x00\x00binary");
    let (_, stdout, _) = run(cmd.args(["scan", ".", "--format", "json"]));
    let doc: Value = serde_json::from_str(&stdout).expect("json");
    crate::macros::assert_schema_valid(crate::macros::REPORT_SCHEMA, &doc);
    assert_eq!(doc["findings"][0]["identifiers"][0], id.as_str());
});

/// The synthetic PKCS#8 key of the demo fixture, as PEM text.
fn demo_private_key() -> String {
    let sa = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/demo/deploy/service-account.json"
    ))
    .expect("fixture");
    let v: Value = serde_json::from_str(&sa).expect("json");
    v["private_key"].as_str().expect("private_key").to_string()
}

kttest!(
    finds_keys_in_json_strings_and_notebook_cells_with_one_fingerprint,
    |dir, cmd| {
        let pem = demo_private_key();
        dir.write("id.pem", &pem);
        dir.write(
            "sa.json",
            serde_json::json!({ "type": "service_account", "private_key": pem }).to_string(),
        );
        let cell_lines: Vec<String> = pem.lines().map(|l| format!("{l}\n")).collect();
        let notebook = serde_json::json!({ "cells": [{ "cell_type": "code", "source": cell_lines }], "nbformat": 4 });
        dir.write(
            "analysis.ipynb",
            serde_json::to_string_pretty(&notebook).expect("json"),
        );
        let (_, stdout, _) = run(cmd.args(["scan", ".", "--format", "json"]));
        let v: Value = serde_json::from_str(&stdout).expect("json");
        let found = v["findings"].as_array().expect("findings");
        let summary: Vec<(&str, &str, Option<&str>)> = found
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap(),
                    f["location"]["path"].as_str().unwrap(),
                    f["context"]["decoding"].as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("private-key-pkcs8", "analysis.ipynb", Some("notebook-cell")),
                ("private-key-pkcs8", "id.pem", None),
                ("private-key-pkcs8", "sa.json", None),
            ]
        );
        let fps: std::collections::BTreeSet<&str> = found
            .iter()
            .map(|f| f["secret"]["fingerprint"].as_str().unwrap())
            .collect();
        assert_eq!(fps.len(), 1, "one key, one fingerprint wherever it sits");
    }
);

kttest!(readme_demo_finds_exactly_the_planted_secrets, |dir, cmd| {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo");
    let _ = dir;
    let (code, stdout, stderr) = run(cmd.args(["scan", demo, "--format", "json"]));
    assert_eq!(code, 1, "{stderr}");
    let mut found: Vec<(String, String, u64)> = findings(&stdout)
        .into_iter()
        .map(|(r, p, l)| (r, p.trim_start_matches("fixtures/demo/").to_string(), l))
        .collect();
    found.sort();
    let mut want = vec![
        place("aws-secret-access-key-near-id", ".env", 4),
        place("postgres-uri-password", ".env", 5),
        place("slack-webhook-url", ".github/workflows/deploy.yml", 10),
        place("private-key-pkcs8", "deploy/service-account.json", 5),
        place("stripe-secret-key-live", "k8s/payments-secret.yaml", 8),
        place("github-pat-classic", "src/payments/config.py", 5),
    ];
    want.sort();
    assert_eq!(found, want);
});

kttest!(
    the_same_secret_on_two_lines_is_two_places_to_fix,
    |dir, cmd| {
        let gh = Synth::new(13).github_pat();
        dir.write("a.py", format!("A = \"{gh}\"\nB = 1\nC = \"{gh}\"\n"));
        let (_, stdout, _) = run(cmd.args(["scan", ".", "--format", "json"]));
        assert_eq!(
            findings(&stdout),
            vec![
                place("github-pat-classic", "a.py", 1),
                place("github-pat-classic", "a.py", 3)
            ]
        );
    }
);

kttest!(
    human_output_points_at_the_place_and_the_rule_behind_it,
    |dir, cmd| {
        dir.write(
            "k.py",
            format!("TOKEN = \"{}\"\n", Synth::new(14).github_pat()),
        );
        let (code, stdout, _) = run(cmd.args(["scan", "."]));
        assert_eq!(code, 1);
        assert!(stdout.contains("  --> k.py:1:10\n"), "{stdout}");
        let rule_line = stdout
            .lines()
            .find(|l| l.contains("= rule: github-pat-classic"))
            .expect("rule line");
        assert!(
            rule_line.contains("high confidence, rules/github.toml:"),
            "{rule_line}"
        );
        assert!(
            stdout.contains("= fix: ") && stdout.contains("https://docs.github.com/"),
            "{stdout}"
        );
    }
);
