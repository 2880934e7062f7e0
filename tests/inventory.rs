//! `keytrace inventory` and `scan --inventory` (issue 5): every finding kind from a
//! fixture tree and inventory, HMAC on and off, stdin-only secrets, imports, adopt,
//! validation messages and concurrent writers.

use crate::macros::{run, run_json, TestDir};
use crate::synth::Synth;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Starts `cmd` with `stdin` written to its piped standard input (then closed).
fn spawn_stdin(cmd: &mut Command, stdin: &str) -> std::process::Child {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child
}

/// Runs `cmd` with `stdin` piped in; returns (exit code, stdout, stderr).
pub(crate) fn run_stdin(cmd: &mut Command, stdin: &str) -> (i32, String, String) {
    let out = spawn_stdin(cmd, stdin).wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub(crate) fn add(dir: &TestDir, id: &str, secret: &str, extra: &[&str]) {
    let mut cmd = dir.command();
    cmd.args([
        "inventory",
        "add",
        "--id",
        id,
        "--kind",
        "test",
        "--owner",
        "team-a",
    ])
    .args(extra);
    let (code, out, err) = run_stdin(&mut cmd, &format!("{secret}\n"));
    assert_eq!(code, 0, "add {id}: {out}{err}");
}

pub(crate) fn rotate(dir: &TestDir, id: &str, secret: &str) {
    let mut cmd = dir.command();
    cmd.args([
        "inventory",
        "rotate",
        "--id",
        id,
        "--by",
        "alice",
        "--approved-by",
        "bob",
        "--ticket",
        "SEC-42",
        "--reason",
        "suspected exposure",
    ])
    .env("KEYTRACE_NOW", "2026-11-01T00:00:00Z");
    let (code, out, err) = run_stdin(&mut cmd, secret);
    assert_eq!(code, 0, "rotate {id}: {out}{err}");
}

/// The inventory file of `dir`, parsed.
fn inventory_file(dir: &TestDir) -> Value {
    let text = std::fs::read_to_string(dir.path().join("keytrace-inventory.json")).expect("inv");
    serde_json::from_str(&text).expect("inventory JSON")
}

/// The credential ids of a parsed inventory, in file order.
fn credential_ids(inv: &Value) -> Vec<&str> {
    inv["credentials"]
        .as_array()
        .expect("creds")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect()
}

/// `(kind, path, credential id or "-")` of every finding of a JSON scan.
fn kinds(dir: &TestDir, extra: &[&str]) -> (i32, Vec<(String, String, String)>, Value) {
    kinds_of(
        dir.command()
            .args(["scan", "tree", "--format", "json"])
            .args(extra),
    )
}

/// `(kind, path, credential id or "-")` of every finding of a JSON scan run by `cmd`.
fn kinds_of(cmd: &mut Command) -> (i32, Vec<(String, String, String)>, Value) {
    let (code, v, _) = run_json(cmd);
    let list = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().expect("kind").to_string(),
                f["location"]["path"].as_str().expect("path").to_string(),
                f["credential"]["id"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    (code, list, v)
}

fn k(kind: &str, path: &str, id: &str) -> (String, String, String) {
    (kind.into(), path.into(), id.into())
}

const LIST_ACCESS_KEYS: &str = r#"{
    "AccessKeyMetadata": [
        { "UserName": "deploy-bot", "AccessKeyId": "AKIAQ4OLDKEYSTALE7XZ", "Status": "Inactive", "CreateDate": "2025-01-15T10:20:30+00:00" },
        { "UserName": "deploy-bot", "AccessKeyId": "AKIAQ4NEWKEYACTIVE3W", "Status": "Active", "CreateDate": "2026-10-01T08:00:00+00:00" }
    ]
}"#;

kttest!(every_finding_kind_from_a_fixture_inventory, |dir, _cmd| {
    let mut s = Synth::new(50);
    let (old, new, stray) = (s.github_pat(), s.github_pat(), s.github_pat());
    let slack = s.slack_bot();
    let (_, aws_secret) = s.aws_pair();
    add(
        &dir,
        "payments-deploy-token",
        &old,
        &["--rotation-days", "90"],
    );
    rotate(&dir, "payments-deploy-token", &new);
    add(&dir, "chat-bot", &slack, &[]);
    dir.write("keys.json", LIST_ACCESS_KEYS);
    let (code, _, err) = run(dir.command().args(["inventory", "import", "keys.json"]));
    assert_eq!(code, 0, "{err}");

    dir.write("tree/.env", format!("DEPLOY_TOKEN={old}\n"));
    dir.write("tree/ci/deploy.sh", format!("export GH_TOKEN=\"{old}\"\n"));
    dir.write("tree/app/config.py", format!("TOKEN = \"{new}\"\n"));
    dir.write("tree/app/chat.py", format!("SLACK = \"{slack}\"\n"));
    dir.write("tree/app/other.py", format!("OTHER = \"{stray}\"\n"));
    dir.write(
        "tree/aws/old.ini",
        "[ci]\naws_access_key_id = AKIAQ4OLDKEYSTALE7XZ\nregion = eu-west-1\n",
    );
    dir.write(
        "tree/aws/new.ini",
        "[ci]\naws_access_key_id = AKIAQ4NEWKEYACTIVE3W\n",
    );
    dir.write(
        "tree/aws/pair.ini",
        format!("[ci]\naws_access_key_id = AKIAQ4OLDKEYSTALE7XZ\naws_secret_access_key = {aws_secret}\n"),
    );
    let (code, found, v) = kinds(&dir, &["--inventory", "keytrace-inventory.json"]);
    assert_eq!(code, 1);
    assert_eq!(
        found,
        vec![
            k("revoked-secret-present", ".env", "payments-deploy-token"),
            k("active-secret-exposed", "app/chat.py", "chat-bot"),
            k(
                "active-secret-exposed",
                "app/config.py",
                "payments-deploy-token"
            ),
            k("unmanaged-secret", "app/other.py", "-"),
            k(
                "revoked-identifier-present",
                "aws/old.ini",
                "aws-iam-deploy-bot"
            ),
            k(
                "revoked-secret-present",
                "aws/pair.ini",
                "aws-iam-deploy-bot"
            ),
            k(
                "revoked-secret-present",
                "ci/deploy.sh",
                "payments-deploy-token"
            ),
        ]
    );
    crate::macros::assert_schema_valid(crate::macros::REPORT_SCHEMA, &v);
    let revoked = &v["findings"][0];
    assert_eq!(revoked["severity"], "high");
    assert_eq!(revoked["credential"]["version"], 1);
    assert_eq!(revoked["credential"]["status"], "revoked");
    assert_eq!(revoked["credential"]["owner"], "team-a");
    assert_eq!(revoked["credential"]["revoked"], "2026-11-01T00:00:00Z");
    assert_eq!(
        revoked["credential"]["reset"],
        serde_json::json!({"by": "alice", "approved_by": "bob", "ticket": "SEC-42", "reason": "suspected exposure"})
    );
    assert_eq!(v["findings"][1]["severity"], "critical");
    assert_eq!(v["findings"][4]["severity"], "medium");
    assert_eq!(v["findings"][4]["credential"]["status"], "revoked");

    // --fail-on gates on the kind's severity: only the active exposures are critical.
    let (code, _, _) = kinds(&dir, &["--fail-on", "critical"]);
    assert_eq!(code, 1);
    std::fs::remove_file(dir.path().join("tree/app/config.py")).expect("rm");
    std::fs::remove_file(dir.path().join("tree/app/chat.py")).expect("rm");
    let (code, _, _) = kinds(&dir, &["--fail-on", "critical"]);
    assert_eq!(code, 0, "nothing critical is left");

    // The default inventory is picked up from the current directory.
    let (_, found, _) = kinds(&dir, &[]);
    assert_eq!(
        found[0],
        k("revoked-secret-present", ".env", "payments-deploy-token")
    );
});

kttest!(
    overdue_credentials_carry_overdue_days_and_fail_check,
    |dir, _cmd| {
        let mut s = Synth::new(51);
        let tok = s.github_pat();
        let mut cmd = dir.command();
        cmd.args([
            "inventory",
            "add",
            "--id",
            "old-token",
            "--kind",
            "github-pat",
            "--rotation-days",
            "30",
        ])
        .env("KEYTRACE_NOW", "2026-01-01T00:00:00Z");
        assert_eq!(run_stdin(&mut cmd, &tok).0, 0);
        let now = ("KEYTRACE_NOW", "2026-03-02T00:00:00Z");
        let (code, out, _) = run(dir.command().args(["inventory", "check"]).env(now.0, now.1));
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("old-token: active v1 created 2026-01-01T00:00:00Z is 60 days old, 30 days past its rotation period of 30 days"), "{out}");
        dir.write("tree/a.py", format!("T = \"{tok}\"\n"));
        let mut cmd = dir.command();
        cmd.args(["scan", "tree", "--format", "json"])
            .env(now.0, now.1);
        let (_, out, _) = run(&mut cmd);
        let v: Value = serde_json::from_str(&out).expect("json");
        assert_eq!(v["findings"][0]["kind"], "active-secret-exposed");
        assert_eq!(v["findings"][0]["credential"]["overdue_days"], 30);
        let (code, out, _) = run(dir
            .command()
            .args(["inventory", "check"])
            .env("KEYTRACE_NOW", "2026-01-20T00:00:00Z"));
        assert_eq!(
            (code, out.trim()),
            (0, "no credential is past its rotation period")
        );
    }
);

kttest!(allow_list_never_hides_a_known_value, |dir, _cmd| {
    let mut s = Synth::new(52);
    let (known, unknown) = (s.github_pat(), s.github_pat());
    add(&dir, "known", &known, &[]);
    dir.write(
        "tree/.keytrace.toml",
        "[allowlist]\npaths = [\"fixtures/**\"]\n",
    );
    dir.write(
        "tree/fixtures/a.py",
        format!("A = \"{known}\"\nB = \"{unknown}\"\n"),
    );
    dir.write(
        "tree/b.py",
        format!("A = \"{known}\"  # keytrace:allow\nB = \"{unknown}\"  # keytrace:allow\n"),
    );
    let (_, found, _) = kinds(&dir, &[]);
    assert_eq!(
        found,
        vec![
            k("active-secret-exposed", "b.py", "known"),
            k("active-secret-exposed", "fixtures/a.py", "known"),
        ]
    );
});

kttest!(hmac_fingerprints_need_the_same_key, |dir, _cmd| {
    let mut s = Synth::new(53);
    let tok = s.github_pat();
    let mut cmd = dir.command();
    cmd.args(["inventory", "add", "--id", "t", "--kind", "github-pat"])
        .env("KEYTRACE_FINGERPRINT_KEY", "key-one");
    assert_eq!(run_stdin(&mut cmd, &tok).0, 0);
    let text = std::fs::read_to_string(dir.path().join("keytrace-inventory.json")).expect("inv");
    let inv: Value = serde_json::from_str(&text).expect("json");
    assert!(
        inv["fingerprint_key_id"]
            .as_str()
            .is_some_and(|k| !k.is_empty()),
        "{text}"
    );
    assert!(inv["credentials"][0]["versions"][0]["fingerprint"]
        .as_str()
        .is_some_and(|f| f.starts_with("hmac-sha256:")));
    let key_id = inv["fingerprint_key_id"].as_str().expect("key id");
    dir.write("tree/a.py", format!("T = \"{tok}\"\n"));

    let (code, out, err) = run(dir.command().args(["scan", "tree"]));
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains(&format!("keytrace-inventory.json: the inventory uses HMAC fingerprints (key id {key_id}); set KEYTRACE_FINGERPRINT_KEY to its key")), "{err}");
    let (code, _, err) = run(dir
        .command()
        .args(["scan", "tree"])
        .env("KEYTRACE_FINGERPRINT_KEY", "key-two"));
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!(
            "but the inventory's fingerprints were made with key id {key_id}"
        )),
        "{err}"
    );
    let (code, _, err) = run(dir
        .command()
        .args(["inventory", "list"])
        .env("KEYTRACE_FINGERPRINT_KEY", "key-two"));
    assert_eq!(code, 2, "{err}");

    let mut cmd = dir.command();
    cmd.args(["scan", "tree", "--format", "json"])
        .env("KEYTRACE_FINGERPRINT_KEY", "key-one");
    let (code, out, _) = run(&mut cmd);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["findings"][0]["kind"], "active-secret-exposed");
    assert!(v["findings"][0]["secret"]["fingerprint"]
        .as_str()
        .is_some_and(|f| f.starts_with("hmac-sha256:")));

    // HMAC off: a plain inventory refuses a key rather than silently matching nothing.
    let plain = TestDir::new();
    add(&plain, "t", &tok, &[]);
    plain.write("tree/a.py", format!("T = \"{tok}\"\n"));
    let (code, _, err) = run(plain
        .command()
        .args(["scan", "tree"])
        .env("KEYTRACE_FINGERPRINT_KEY", "key-one"));
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "the inventory uses plain sha256 fingerprints but KEYTRACE_FINGERPRINT_KEY is set"
        ),
        "{err}"
    );
    let (_, found, _) = kinds(&plain, &[]);
    assert_eq!(found, vec![k("active-secret-exposed", "a.py", "t")]);
});

kttest!(secrets_come_from_stdin_only_and_never_leak, |dir, _cmd| {
    let mut s = Synth::new(54);
    let (first, second) = (s.github_pat(), s.github_pat());
    let mut transcript = String::new();
    let mut argv = String::new();
    let rotate_args = |id: &'static str| {
        [
            "inventory",
            "rotate",
            "--id",
            id,
            "--by",
            "a",
            "--approved-by",
            "b",
            "--ticket",
            "T",
            "--reason",
            "r",
        ]
    };
    let mut go = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = dir.command();
        cmd.args(args);
        argv.push_str(&args.join(" "));
        let (code, out, err) = match stdin {
            Some(input) => run_stdin(&mut cmd, input),
            None => run(&mut cmd),
        };
        transcript.push_str(&format!("{out}{err}"));
        code
    };
    assert_eq!(
        go(
            &[
                "inventory",
                "add",
                "--id",
                "t",
                "--kind",
                "github-pat",
                "--reference",
                "env:TOKEN"
            ],
            Some(&first)
        ),
        0
    );
    // Error paths: duplicate id, the same value again, an empty stdin, no such credential.
    assert_eq!(
        go(
            &["inventory", "add", "--id", "t", "--kind", "github-pat"],
            Some(&second)
        ),
        2
    );
    assert_eq!(
        go(
            &["inventory", "add", "--id", "u", "--kind", "github-pat"],
            Some(&first)
        ),
        2
    );
    assert_eq!(
        go(
            &["inventory", "add", "--id", "v", "--kind", "github-pat"],
            Some("")
        ),
        2
    );
    assert_eq!(go(&rotate_args("nope"), Some(&second)), 2);
    assert_eq!(go(&rotate_args("t"), Some(&second)), 0);
    assert_eq!(go(&rotate_args("t"), Some(&first)), 2);
    assert_eq!(go(&["inventory", "list"], None), 0);
    assert_eq!(go(&["inventory", "show", "t"], None), 0);
    assert_eq!(go(&["inventory", "check"], None), 0);
    dir.write("tree/a.py", format!("A = \"{first}\"\nB = \"{second}\"\n"));
    for format in ["human", "json", "jsonl", "sarif", "github"] {
        assert_eq!(go(&["scan", "tree", "--format", format], None), 1);
    }
    // A secret pasted where a fingerprint belongs is not echoed by the validation error.
    let inv = std::fs::read_to_string(dir.path().join("keytrace-inventory.json")).expect("inv");
    dir.write("bad.json", inv.replacen("sha256:", &format!("{first}:"), 1));
    assert_eq!(
        go(&["inventory", "list", "--inventory", "bad.json"], None),
        2
    );
    assert!(transcript.contains("malformed fingerprint"), "{transcript}");
    let (code, _, _) = run(dir.command().args(["inventory", "add", "--help"]));
    assert_eq!(code, 0);
    for secret in [&first, &second] {
        assert!(!argv.contains(secret.as_str()));
        assert!(!transcript.contains(secret.as_str()), "{transcript}");
        assert!(!inv.contains(secret.as_str()));
        assert!(
            !inv.contains(&secret[6..]),
            "no more than the hint is stored"
        );
    }
    assert!(transcript.contains("ghp_"), "hints are shown");
});

kttest!(rotate_retire_reference_list_and_show, |dir, _cmd| {
    let mut s = Synth::new(55);
    let (v1, v2, v3) = (s.github_pat(), s.github_pat(), s.github_pat());
    add(
        &dir,
        "deploy",
        &v1,
        &[
            "--reference",
            "github-secret:OLD_DEPLOY_TOKEN",
            "--reference",
            "vault:secret/deploy",
        ],
    );
    rotate(&dir, "deploy", &v2);
    rotate(&dir, "deploy", &v3);
    let (code, out, err) = run(dir.command().args([
        "inventory",
        "retire-reference",
        "--id",
        "deploy",
        "github-secret:OLD_DEPLOY_TOKEN",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "deploy: github-secret:OLD_DEPLOY_TOKEN is now a retired reference\n"
    );
    let inv = inventory_file(&dir);
    let c = &inv["credentials"][0];
    assert_eq!(c["references"], serde_json::json!(["vault:secret/deploy"]));
    assert_eq!(
        c["retired_references"],
        serde_json::json!(["github-secret:OLD_DEPLOY_TOKEN"])
    );
    let statuses: Vec<&str> = c["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, vec!["revoked", "revoked", "active"]);
    assert_eq!(c["versions"][0]["reset"]["ticket"], "SEC-42");
    assert_eq!(c["versions"][2]["hint"].as_str().map(str::len), Some(6));
    let (_, out, _) = run(dir.command().args(["inventory", "list"]));
    assert!(
        out.starts_with("deploy  test  owner team-a  active v3 (ghp_"),
        "{out}"
    );
    assert!(out.trim_end().ends_with(", 2 revoked"), "{out}");
    let (_, out, _) = run(dir.command().args(["inventory", "show", "deploy"]));
    assert!(
        out.contains("  retired references: github-secret:OLD_DEPLOY_TOKEN\n"),
        "{out}"
    );
    assert!(
        out.contains("     reset by alice, approved by bob, ticket SEC-42: suspected exposure\n"),
        "{out}"
    );
    let (code, _, err) =
        run(dir
            .command()
            .args(["inventory", "retire-reference", "--id", "deploy", "ftp:x"]));
    assert_eq!(code, 2);
    assert!(err.contains("unknown reference scheme `ftp`"), "{err}");
});

kttest!(human_output_groups_by_credential_first, |dir, _cmd| {
    let mut s = Synth::new(56);
    let (old, new, stray) = (s.github_pat(), s.github_pat(), s.github_pat());
    add(&dir, "payments-deploy-token", &old, &[]);
    rotate(&dir, "payments-deploy-token", &new);
    for p in ["tree/a.py", "tree/b.py", "tree/c.py"] {
        dir.write(p, format!("T = \"{old}\"\n"));
    }
    dir.write("tree/0.py", format!("T = \"{stray}\"\n"));
    let (code, out, _) = run(dir.command().args(["scan", "tree"]));
    assert_eq!(code, 1);
    assert!(out.starts_with("payments-deploy-token: 3 places still hold revoked v1 (reset by alice, approved by bob, SEC-42: suspected exposure, revoked 2026-11-01T00:00:00Z) [owner team-a]\n"), "{out}");
    let places: Vec<&str> = out.lines().filter(|l| l.starts_with("  --> ")).collect();
    assert_eq!(
        places,
        vec![
            "  --> a.py:1:6",
            "  --> b.py:1:6",
            "  --> c.py:1:6",
            "  --> 0.py:1:6"
        ]
    );
});

kttest!(
    imports_list_access_keys_json_and_credential_report_csv,
    |dir, _cmd| {
        dir.write("keys.json", LIST_ACCESS_KEYS);
        let (code, out, err) =
            run(dir
                .command()
                .args(["inventory", "import", "keys.json", "--rotation-days", "90"]));
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            out,
            "imported keys.json: 1 credential(s) added, 2 version(s) added, 0 updated\n"
        );
        dir.write(
        "report.csv",
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n\
<root_account>,arn:aws:iam::123456789012:root,2019-01-01T00:00:00+00:00,not_supported,2026-11-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
deploy-bot,arn:aws:iam::123456789012:user/deploy-bot,2025-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,2025-01-15T10:20:30+00:00,2025-06-01T00:00:00+00:00,us-east-1,s3,true,2026-10-01T08:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A\n\
ci-legacy,arn:aws:iam::123456789012:user/ci-legacy,2023-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2023-02-01T00:00:00+00:00,2026-11-20T00:00:00+00:00,eu-west-1,ec2,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n",
    );
        let (code, out, err) =
            run(dir
                .command()
                .args(["inventory", "import", "report.csv", "--rotation-days", "90"]));
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            out,
            "imported report.csv: 1 credential(s) added, 1 version(s) added, 0 updated\n"
        );
        let inv = inventory_file(&dir);
        let ids = credential_ids(&inv);
        assert_eq!(ids, vec!["aws-iam-ci-legacy", "aws-iam-deploy-bot"]);
        let bot = &inv["credentials"][1];
        assert_eq!(
            bot["identifiers"],
            serde_json::json!(["AKIAQ4NEWKEYACTIVE3W", "AKIAQ4OLDKEYSTALE7XZ"])
        );
        assert_eq!(bot["versions"][0]["identifier"], "AKIAQ4OLDKEYSTALE7XZ");
        assert_eq!(bot["versions"][0]["status"], "revoked");
        assert_eq!(bot["versions"][0]["created"], "2025-01-15T10:20:30+00:00");
        assert_eq!(bot["versions"][0]["hint"], "AKIAQ4");
        assert_eq!(bot["versions"][1]["status"], "active");
        assert!(bot["versions"][1].get("fingerprint").is_none());
        let (code, out, _) = run(dir
            .command()
            .args(["inventory", "check"])
            .env("KEYTRACE_NOW", "2026-11-23T00:00:00Z"));
        assert_eq!(code, 1);
        assert_eq!(
        out,
        "aws-iam-ci-legacy: active v1 created 2023-02-01T00:00:00+00:00 is 1391 days old, 1301 days past its rotation period of 90 days (owner -)\n1 credential(s) past their rotation period\n"
    );
        dir.write(
            "bad.json",
            "{\"AccessKeyMetadata\": [{\"UserName\": \"x\"}]}",
        );
        let (code, _, err) = run(dir.command().args(["inventory", "import", "bad.json"]));
        assert_eq!(code, 2);
        assert!(err.contains("bad.json:1: not the JSON of `aws iam list-access-keys`: missing field `AccessKeyId`"), "{err}");
    }
);

kttest!(adopt_round_trip_makes_findings_managed, |dir, _cmd| {
    let mut s = Synth::new(57);
    let (tok, slack) = (s.github_pat(), s.slack_bot());
    dir.write("tree/.env", format!("GITHUB_TOKEN={tok}\n"));
    dir.write("tree/deploy.sh", format!("export GH_TOKEN=\"{tok}\"\n"));
    dir.write(
        ".github/workflows/notify.yml",
        format!("jobs:\n  n:\n    env:\n      SLACK_TOKEN: {slack}\n"),
    );
    std::fs::rename(dir.path().join(".github"), dir.path().join("tree/.github")).expect("mv");
    let (code, out, _) =
        run(dir
            .command()
            .args(["scan", "tree", "--format", "json", "-o", "report.json"]));
    assert_eq!((code, out.as_str()), (1, ""));
    let (code, out, err) =
        run(dir
            .command()
            .args(["inventory", "adopt", "report.json", "--root", "tree"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "adopted 2 credential(s) from report.json\n");
    let inv = inventory_file(&dir);
    let creds = inv["credentials"].as_array().expect("creds");
    assert_eq!(creds.len(), 2);
    let refs: Vec<Value> = creds.iter().map(|c| c["references"].clone()).collect();
    assert!(
        refs.contains(&serde_json::json!(["env:GH_TOKEN", "env:GITHUB_TOKEN"])),
        "{refs:?}"
    );
    assert!(
        refs.contains(&serde_json::json!(["github-secret:SLACK_TOKEN"])),
        "{refs:?}"
    );
    assert!(creds
        .iter()
        .all(|c| c["owner"] == "" && c["versions"][0]["status"] == "active"));
    let (_, found, _) = kinds(&dir, &[]);
    assert_eq!(found.len(), 3);
    assert!(
        found.iter().all(|f| f.0 == "active-secret-exposed"),
        "{found:?}"
    );
    // Adopting the same report again adds nothing.
    let (_, out, _) =
        run(dir
            .command()
            .args(["inventory", "adopt", "report.json", "--root", "tree"]));
    assert_eq!(out, "adopted 0 credential(s) from report.json\n");
});

/// (file contents, expected error after "inv.json:")
const INVALID: &[(&str, &str)] = &[
    ("{\n  \"version\": 1,\n  \"credentials\": [\n    {\"id\": \"a\", \"kind\": \"k\",}\n  ]\n}\n", "4:29: syntax error: trailing comma"),
    ("{\n  \"version\": 1,\n  \"credentials\": [\n    {\"id\": \"a\", \"kind\": \"k\"},\n    {\"id\": \"a\", \"kind\": \"k\"}\n  ]\n}\n", "5:12: duplicate credential id `a`"),
    ("{\n  \"version\": 1,\n  \"credentials\": [\n    {\"id\": \"a\", \"kind\": \"k\", \"versions\": [\n      {\"fingerprint\": \"sha256:abc\", \"created\": \"2026-01-01T00:00:00Z\", \"status\": \"active\"}\n    ]}\n  ]\n}\n", "5:23: malformed fingerprint: expected `sha256:` or `hmac-sha256:` followed by 64 lowercase hex digits"),
    ("{\n  \"version\": 1,\n  \"credentials\": [\n    {\"id\": \"a\", \"kind\": \"k\", \"versions\": [\n      {\"created\": \"2026-01-01T00:00:00Z\", \"status\": \"retired\"}\n    ]}\n  ]\n}\n", "5:53: unknown variant `retired`, expected `active` or `revoked`"),
    ("{\n  \"version\": 1,\n  \"credentials\": [\n    {\"id\": \"a\", \"kind\": \"k\", \"references\": [\"ftp:x\"]}\n  ]\n}\n", "4:45: unknown reference scheme `ftp` in `ftp:x` (known: github-secret, gitlab-variable, env, k8s-secret, vault, aws-sm, aws-ssm, jenkins-credential)"),
    ("{\n  \"version\": 1,\n  \"credentials\": [\n    {\"id\": \"a\", \"kind\": \"k\", \"versions\": [\n      {\"created\": \"yesterday\", \"status\": \"active\"}\n    ]}\n  ]\n}\n", "5:19: invalid time `yesterday`: expected RFC 3339 such as 2026-09-01T00:00:00Z"),
    ("{\n  \"version\": 2\n}\n", "2:14: unsupported inventory version 2 (this keytrace reads version 1)"),
    ("{\n  \"version\": 1,\n  \"credentials\": [\n    {\"id\": \"a\", \"kind\": \"k\", \"colour\": \"red\"}\n  ]\n}\n", "4:30: unknown field `colour`, expected one of `id`, `kind`, `owner`, `rotation_days`, `references`, `retired_references`, `identifiers`, `repos`, `versions`"),
    ("{\n  \"version\": 1,\n  \"credentials\": [\n    {\"id\": \"a\", \"kind\": \"k\", \"versions\": [\n      {\"fingerprint\": \"hmac-sha256:0000000000000000000000000000000000000000000000000000000000000000\", \"created\": \"2026-01-01T00:00:00Z\", \"status\": \"active\"}\n    ]}\n  ]\n}\n", "5:23: an hmac-sha256 fingerprint needs `fingerprint_key_id` at the top level"),
    ("{\n  \"version\": 1,\n  \"credentials\": [\n    {\"id\": \"a\", \"kind\": \"k\", \"versions\": [{\"fingerprint\": \"sha256:1111111111111111111111111111111111111111111111111111111111111111\", \"created\": \"2026-01-01\", \"status\": \"active\"}]},\n    {\"id\": \"b\", \"kind\": \"k\", \"versions\": [{\"fingerprint\": \"sha256:1111111111111111111111111111111111111111111111111111111111111111\", \"created\": \"2026-01-01\", \"status\": \"active\"}]}\n  ]\n}\n", "5:59: fingerprint of credential `b` is already listed under `a`"),
];

kttest!(
    every_validation_error_names_file_line_and_column,
    |dir, _cmd| {
        for (text, expected) in INVALID {
            dir.write("inv.json", text);
            let (code, out, err) =
                run(dir
                    .command()
                    .args(["inventory", "list", "--inventory", "inv.json"]));
            assert_eq!((code, out.as_str()), (2, ""), "{expected}");
            assert_eq!(err.trim_end(), format!("error: inv.json:{expected}"));
            // scan validates the inventory before reading any file.
            dir.write("tree/a.txt", "nothing\n");
            let (code, out, err) =
                run(dir
                    .command()
                    .args(["scan", "tree", "--inventory", "inv.json"]));
            assert_eq!((code, out.as_str()), (2, ""));
            assert_eq!(err.trim_end(), format!("error: inv.json:{expected}"));
        }
    }
);

kttest!(concurrent_writers_lose_no_update, |dir, _cmd| {
    let mut s = Synth::new(58);
    let secrets: Vec<String> = (0..12).map(|_| s.github_pat()).collect();
    let children: Vec<_> = secrets
        .iter()
        .enumerate()
        .map(|(i, secret)| {
            spawn_stdin(
                dir.command().args([
                    "inventory",
                    "add",
                    "--id",
                    &format!("cred-{i:02}"),
                    "--kind",
                    "github-pat",
                ]),
                secret,
            )
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let inv = inventory_file(&dir);
    let ids = credential_ids(&inv);
    let expected: Vec<String> = (0..12).map(|i| format!("cred-{i:02}")).collect();
    assert_eq!(ids, expected);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("ls")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
});

/// Sets the modification time of `path` an hour back: an inventory nobody is editing.
fn settle(path: &Path) {
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open inventory");
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    file.set_modified(past).expect("set mtime");
}

fn cache_files(dir: &TestDir) -> Vec<PathBuf> {
    std::fs::read_dir(dir.cache_dir())
        .expect("cache dir")
        .map(|e| e.expect("entry").path())
        .collect()
}

kttest!(
    cached_tables_serve_an_unchanged_inventory_only,
    |dir, _cmd| {
        let mut s = Synth::new(57);
        let (old, new) = (s.github_pat(), s.github_pat());
        add(
            &dir,
            "deploy",
            &old,
            &["--reference", "github-secret:DEPLOY_TOKEN"],
        );
        dir.write("tree/ci.env", format!("DEPLOY_TOKEN={old}\n"));
        let inventory = dir.path().join("keytrace-inventory.json");

        // A file written moments ago is not cached: a second write in the same
        // timestamp tick could go unnoticed.
        let (_, fresh, _) = kinds(&dir, &[]);
        assert!(cache_files(&dir).is_empty());
        settle(&inventory);
        let (code, cold, cold_report) = kinds(&dir, &[]);
        assert_eq!(code, 1);
        assert_eq!(cold, fresh);
        assert_eq!(cold, vec![k("active-secret-exposed", "ci.env", "deploy")]);
        let cached = cache_files(&dir);
        assert_eq!(cached.len(), 1, "{cached:?}");
        let (_, warm, warm_report) = kinds(&dir, &[]);
        assert_eq!((&warm, &warm_report), (&cold, &cold_report));

        // The cache holds fingerprints and offsets, never the secret.
        let bytes = std::fs::read(&cached[0]).expect("cache file");
        assert!(!bytes.windows(old.len()).any(|w| w == old.as_bytes()));

        // A rotation replaces the file, so the next scan validates it afresh.
        rotate(&dir, "deploy", &new);
        settle(&inventory);
        let (_, rotated, _) = kinds(&dir, &[]);
        assert_eq!(
            rotated,
            vec![k("revoked-secret-present", "ci.env", "deploy")]
        );
        let (_, again, _) = kinds(&dir, &[]);
        assert_eq!(again, rotated);

        // So does an edit in place that keeps the length; an invalid edit is refused.
        let text = std::fs::read_to_string(&inventory).expect("inventory");
        std::fs::write(&inventory, text.replace("\"revoked\",", "\"expired\",")).expect("edit");
        settle(&inventory);
        let (code, _, err) = run(dir.command().args(["scan", "tree"]));
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("unknown variant `expired`"), "{err}");
        std::fs::write(&inventory, &text).expect("restore");
        settle(&inventory);

        // A corrupt or foreign cache file only costs a full validation.
        for f in cache_files(&dir) {
            std::fs::write(&f, b"not a keytrace cache").expect("corrupt");
        }
        let (_, corrupt, _) = kinds(&dir, &[]);
        assert_eq!(corrupt, rotated);
        for cache in ["", "/proc/keytrace-cannot-write-here"] {
            let (_, uncached, _) = kinds_of(
                dir.command()
                    .args(["scan", "tree", "--format", "json"])
                    .env("KEYTRACE_CACHE_DIR", cache),
            );
            assert_eq!(uncached, rotated, "cache dir {cache:?}");
        }
    }
);

kttest!(
    an_inventory_that_cannot_be_read_is_named_once,
    |dir, _cmd| {
        dir.write("tree/a.txt", "nothing here\n");
        std::fs::create_dir(dir.path().join("dir.json")).expect("dir");
        for (name, why) in [
            ("missing.json", "No such file or directory"),
            ("dir.json", "Is a directory"),
        ] {
            let (code, out, err) = run(dir.command().args(["scan", "tree", "--inventory", name]));
            assert_eq!((code, out.as_str()), (2, ""), "{err}");
            assert_eq!(err.matches(why).count(), 1, "{err}");
            assert!(
                err.starts_with(&format!("error: {name}: cannot read inventory: {why}")),
                "{err}"
            );
        }
        // Bytes that are not UTF-8 are named by line and column, by every command.
        dir.write(
            "binary.json",
            b"{\"version\": 1,\n \"credentials\": [{\"id\": \"a\xff\"}]}",
        );
        for args in [
            &["scan", "tree", "--inventory", "binary.json"][..],
            &["inventory", "list", "--inventory", "binary.json"][..],
        ] {
            let (code, _, err) = run(dir.command().args(args));
            assert_eq!(code, 2, "{err}");
            assert_eq!(err, "error: binary.json:2:27: not UTF-8 text\n", "{args:?}");
        }
    }
);
