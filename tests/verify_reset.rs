//! `keytrace verify-reset` on estates of real git repositories: INCOMPLETE with every
//! remaining place until each is fixed (history rewritten too), then COMPLETE; holes in the
//! scope make a clean result INCONCLUSIVE; one key in four encodings is found four times.

use crate::git::{commit, git, init};
use crate::inventory::{add, rotate};
use crate::macros::{run, TestDir};
use crate::synth::Synth;
use base64::Engine as _;
use serde_json::Value;
use std::path::Path;

/// Runs `verify-reset ARGS --format json` in `dir`; returns (exit, record, stdout+stderr).
fn verify(dir: &TestDir, args: &[&str]) -> (i32, Value, String) {
    let (code, out, err) = run(dir
        .command()
        .arg("verify-reset")
        .args(args)
        .args(["--format", "json"]));
    let record: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("not JSON ({e}), exit {code}: {out}{err}"));
    (code, record, format!("{out}{err}"))
}

/// (repo, path, where, kind) of each remaining place of the first credential.
fn places(record: &Value, field: &str) -> Vec<(String, String, String, String)> {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    record["credentials"][0][field]
        .as_array()
        .expect("places")
        .iter()
        .map(|p| (s(&p["repo"]), s(&p["path"]), s(&p["where"]), s(&p["kind"])))
        .collect()
}

fn place(repo: &str, path: &str, at: &str, kind: &str) -> (String, String, String, String) {
    (repo.into(), path.into(), at.into(), kind.into())
}

/// Hole codes of a record, sorted.
fn hole_codes(record: &Value) -> Vec<String> {
    let mut codes: Vec<String> = record["holes"]
        .as_array()
        .expect("holes")
        .iter()
        .map(|h| h["code"].as_str().unwrap_or_default().to_string())
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

/// Drops `path` from every commit of the repository at `dir`, as a real clean-up does, and
/// leaves no backup ref or reflog that still reaches the old blobs.
fn rewrite_out(dir: &Path, path: &str) {
    let filter = format!("git rm -q --cached --ignore-unmatch {path}");
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args([
            "filter-branch",
            "-f",
            "--index-filter",
            &filter,
            "--",
            "--all",
        ])
        .env("FILTER_BRANCH_SQUELCH_WARNING", "1")
        .output()
        .expect("git filter-branch");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let backups = git(
        dir,
        &["for-each-ref", "--format=%(refname)", "refs/original/"],
    );
    for r in backups.lines() {
        git(dir, &["update-ref", "-d", r]);
    }
    git(dir, &["reflog", "expire", "--expire=now", "--all"]);
    git(dir, &["gc", "-q", "--prune=now"]);
}

/// A credential `deploy` whose v1 (`old`) was rotated out and whose old reference name
/// was retired; returns (old, new).
fn rotated_credential(dir: &TestDir, seed: u64) -> (String, String) {
    let mut synth = Synth::new(seed);
    let (old, new) = (synth.github_pat(), synth.github_pat());
    add(
        dir,
        "deploy",
        &old,
        &[
            "--reference",
            "github-secret:OLD_DEPLOY_TOKEN",
            "--reference",
            "github-secret:DEPLOY_TOKEN",
        ],
    );
    let mut cmd = dir.command();
    cmd.args([
        "inventory",
        "retire-reference",
        "--id",
        "deploy",
        "github-secret:OLD_DEPLOY_TOKEN",
    ]);
    assert_eq!(run(&mut cmd).0, 0);
    rotate(dir, "deploy", &new);
    (old, new)
}

fn workflow(secret_name: &str) -> String {
    format!(
        "name: deploy\non: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - run: ./deploy.sh\n        env:\n          GH_TOKEN: ${{{{ secrets.{secret_name} }}}}\n"
    )
}

fn k8s_secret(value: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(value);
    format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: deploy\ntype: Opaque\ndata:\n  token: {b64}\n")
}

/// Three repositories holding the old credential: in a tree file and a workflow's retired
/// reference (api), in history only (web), base64 in a Kubernetes Secret (infra).
fn estate(dir: &TestDir, old: &str) {
    let api = dir.path().join("estate/api");
    dir.write(
        "estate/api/config/settings.py",
        format!("GITHUB_TOKEN = \"{old}\"\n"),
    );
    dir.write(
        "estate/api/.github/workflows/deploy.yml",
        workflow("OLD_DEPLOY_TOKEN"),
    );
    init(&api);
    commit(&api, 1, "api");
    let web = dir.path().join("estate/web");
    dir.write(
        "estate/web/scripts/deploy.sh",
        format!("#!/bin/sh\nexport GH_TOKEN={old}\n"),
    );
    init(&web);
    commit(&web, 2, "web: deploy script");
    dir.write(
        "estate/web/scripts/deploy.sh",
        "#!/bin/sh\nexport GH_TOKEN=\"$DEPLOY_TOKEN\"\n",
    );
    commit(&web, 3, "web: read the token from the environment");
    let infra = dir.path().join("estate/infra");
    dir.write("estate/infra/k8s/secret.yaml", k8s_secret(old));
    init(&infra);
    commit(&infra, 4, "infra");
}

#[test]
fn a_reset_is_incomplete_until_every_copy_and_name_is_gone() {
    let dir = TestDir::new();
    let (old, new) = rotated_credential(&dir, 11);
    estate(&dir, &old);
    let log = ["--evidence-log", "audit.jsonl"];
    let (code, record, out) = verify(&dir, &[&["deploy", "estate"][..], &log[..]].concat());
    assert_eq!(code, 1, "{out}");
    assert_eq!(record["verdict"], "incomplete");
    let secret = "revoked-secret-present";
    assert_eq!(
        places(&record, "remaining"),
        vec![
            place(
                "api",
                ".github/workflows/deploy.yml",
                "tree",
                "retired-reference"
            ),
            place(
                "api",
                ".github/workflows/deploy.yml",
                "history",
                "retired-reference"
            ),
            place("api", "config/settings.py", "tree", secret),
            place("api", "config/settings.py", "history", secret),
            place("infra", "k8s/secret.yaml", "tree", secret),
            place("infra", "k8s/secret.yaml", "history", secret),
            place("web", "scripts/deploy.sh", "history", secret),
        ],
        "{out}"
    );
    let remaining = record["credentials"][0]["remaining"]
        .as_array()
        .expect("remaining");
    let infra = remaining
        .iter()
        .find(|p| p["repo"] == "infra")
        .expect("infra");
    assert_eq!(infra["decoding"], "base64");
    let reference = remaining
        .iter()
        .find(|p| p["kind"] == "retired-reference")
        .expect("ref");
    assert_eq!(reference["reference"], "github-secret:OLD_DEPLOY_TOKEN");
    assert_eq!(reference["replaced_by"][0], "github-secret:DEPLOY_TOKEN");
    let v1 = &record["credentials"][0]["versions"][0];
    assert_eq!(v1["reset"]["approved_by"], "bob");
    assert_eq!(v1["reset"]["ticket"], "SEC-42");
    assert_eq!(v1["provider_revocation_recorded"], false);
    assert!(record["holes"].as_array().expect("holes").is_empty());

    // The human verdict: one look says what is left and what to do.
    let (code, human, _) = run(dir.command().args(["verify-reset", "deploy", "estate"]));
    assert_eq!(code, 1);
    assert!(
        human.starts_with("verify-reset deploy: INCOMPLETE: 7 place(s) in 3 repositories"),
        "{human}"
    );
    assert!(
        human.contains("fix: point this use at github-secret:DEPLOY_TOKEN"),
        "{human}"
    );
    assert!(human.contains("fix: rewrite history"), "{human}");

    // Fix every place: rename the reference, drop the value from the files and the old
    // name and value from history.
    let api = dir.path().join("estate/api");
    rewrite_out(&api, "config/settings.py");
    rewrite_out(&api, ".github/workflows/deploy.yml");
    dir.write(
        "estate/api/.github/workflows/deploy.yml",
        workflow("DEPLOY_TOKEN"),
    );
    dir.write(
        "estate/api/config/settings.py",
        "import os\nGITHUB_TOKEN = os.environ[\"GITHUB_TOKEN\"]\n",
    );
    commit(&api, 5, "api: token from the environment");
    rewrite_out(&dir.path().join("estate/web"), "scripts/deploy.sh");
    let infra = dir.path().join("estate/infra");
    rewrite_out(&infra, "k8s/secret.yaml");
    assert!(
        !infra.join("k8s/secret.yaml").exists(),
        "the rewrite checks out the new tree"
    );

    // The provider confirmed the revocation: the inventory records it, and so does the evidence.
    let (code, said, _) = run(dir.command().args([
        "inventory",
        "record-revocation",
        "--id",
        "deploy",
        "--method",
        "github-api",
        "--evidence",
        "DELETE /installation/token 204",
    ]));
    assert_eq!(code, 0);
    assert_eq!(
        said,
        "deploy v1: provider revocation recorded (github-api)\n"
    );
    let (code, record, out) = verify(&dir, &[&["deploy", "estate"][..], &log[..]].concat());
    assert_eq!(code, 0, "{out}");
    assert_eq!(record["verdict"], "complete");
    let v1 = &record["credentials"][0]["versions"][0];
    assert_eq!(v1["provider_revocation_recorded"], true);
    assert_eq!(v1["revocation"]["method"], "github-api");
    assert!(places(&record, "remaining").is_empty());
    let scope: Vec<&str> = record["scope"]
        .as_array()
        .expect("scope")
        .iter()
        .filter_map(|s| s["repo"].as_str())
        .collect();
    assert_eq!(scope, ["api", "infra", "web"]);

    let log_text = std::fs::read_to_string(dir.path().join("audit.jsonl")).expect("log");
    assert_eq!(log_text.lines().count(), 2);
    let (code, said, _) = run(dir.command().args(["audit", "verify", "audit.jsonl"]));
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("2 records, chain intact"), "{said}");
    let (code, table, _) = run(dir.command().args([
        "audit",
        "show",
        "audit.jsonl",
        "--credential",
        "deploy",
        "--format",
        "markdown",
    ]));
    assert_eq!(code, 0);
    assert!(
        table.contains("incomplete") && table.contains("complete") && table.contains("SEC-42"),
        "{table}"
    );
    for text in [&log_text, &out, &human] {
        assert!(
            !text.contains(&old) && !text.contains(&new),
            "plaintext leaked"
        );
    }
}

#[test]
fn history_only_copies_block_unless_the_policy_says_report() {
    let dir = TestDir::new();
    let (old, _) = rotated_credential(&dir, 12);
    let web = dir.path().join("web");
    dir.write("web/deploy.sh", format!("export GH_TOKEN={old}\n"));
    init(&web);
    commit(&web, 1, "leak");
    dir.write("web/deploy.sh", "export GH_TOKEN=\"$DEPLOY_TOKEN\"\n");
    commit(&web, 2, "fix");

    let (code, record, _) = verify(&dir, &["deploy", "web"]);
    assert_eq!(code, 1);
    assert_eq!(record["history_policy"], "block");
    let (code, record, out) = verify(&dir, &["deploy", "web", "--history-policy", "report"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(record["verdict"], "complete");
    assert_eq!(record["history_policy"], "report");
    assert!(places(&record, "remaining").is_empty());
    assert_eq!(
        places(&record, "history_only"),
        vec![place(
            "web",
            "deploy.sh",
            "history",
            "revoked-secret-present"
        )]
    );
    // Without history the copy is out of scope, and the record says so.
    let (code, record, _) = verify(&dir, &["deploy", "web", "--no-history"]);
    assert_eq!(code, 0);
    assert_eq!(record["history"], false);
}

/// A clean repository at `rel` with two commits.
fn clean_repo(dir: &TestDir, rel: &str) -> std::path::PathBuf {
    let repo = dir.path().join(rel);
    dir.write(&format!("{rel}/README.md"), "hello\n");
    init(&repo);
    commit(&repo, 1, "one");
    dir.write(&format!("{rel}/app.py"), "print('hi')\n");
    commit(&repo, 2, "two");
    repo
}

#[test]
fn every_hole_in_the_scope_makes_a_clean_result_inconclusive() {
    let dir = TestDir::new();
    rotated_credential(&dir, 13);
    let src = clean_repo(&dir, "src");
    // Clean and whole: complete.
    let (code, record, out) = verify(&dir, &["deploy", "src"]);
    assert_eq!(
        (code, record["verdict"].as_str()),
        (0, Some("complete")),
        "{out}"
    );

    // A shallow clone lacks the history before its boundary.
    let url = format!("file://{}", src.display());
    git(
        dir.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let (code, record, out) = verify(&dir, &["deploy", "shallow"]);
    assert_eq!(code, 3, "{out}");
    assert_eq!(record["verdict"], "inconclusive");
    // `--depth` implies a single-branch clone: the other branches are missing too.
    assert_eq!(
        hole_codes(&record),
        ["missing-ref-namespace", "shallow-clone"]
    );

    // A clone of a forge that lacks its pull-request refs, until they are fetched.
    let forge = clean_repo(&dir, "forge");
    git(
        &forge,
        &["remote", "add", "origin", "https://github.com/acme/api.git"],
    );
    let (code, record, out) = verify(&dir, &["deploy", "forge"]);
    assert_eq!(code, 3, "{out}");
    assert_eq!(hole_codes(&record), ["missing-ref-namespace"]);
    let hole = record["holes"][0]["message"].as_str().unwrap_or_default();
    assert!(hole.contains("refs/pull/*"), "{hole}");
    git(
        &forge,
        &[
            "config",
            "--add",
            "remote.origin.fetch",
            "+refs/pull/*:refs/pull/*",
        ],
    );
    let (code, _, out) = verify(&dir, &["deploy", "forge"]);
    assert_eq!(code, 0, "{out}");

    // A compressed archive: its content was not read.
    clean_repo(&dir, "zipped");
    let zip = [&b"PK\x03\x04"[..], &[0u8; 40][..]].concat();
    dir.write("zipped/release.zip", zip);
    let (code, record, _) = verify(&dir, &["deploy", "zipped", "--no-history"]);
    assert_eq!(code, 3);
    assert_eq!(hole_codes(&record), ["archive-skipped"]);

    // Files and blobs skipped for size.
    dir.write("src/dump.sql", "x".repeat(4096));
    commit(&src, 3, "dump");
    let (code, record, _) = verify(&dir, &["deploy", "src", "--max-file-size", "1K"]);
    assert_eq!(code, 3);
    assert_eq!(hole_codes(&record), ["blob-too-large", "file-too-large"]);

    // A directory that looks like a repository but cannot be opened.
    dir.write("broken/.git/HEAD", "garbage\n");
    dir.write("broken/notes.txt", "nothing here\n");
    let (code, record, _) = verify(&dir, &["deploy", "broken"]);
    assert_eq!(code, 3);
    assert_eq!(hole_codes(&record), ["unreadable-repository"]);

    // An object missing from the store.
    let lost = clean_repo(&dir, "lost");
    let blob = git(&lost, &["rev-parse", "HEAD~1:README.md"]);
    std::fs::remove_file(lost.join(".git/objects").join(&blob[..2]).join(&blob[2..])).expect("rm");
    let (code, record, _) = verify(&dir, &["deploy", "lost"]);
    assert_eq!(code, 3);
    assert_eq!(hole_codes(&record), ["missing-git-object"]);
}

#[test]
fn a_copy_found_in_a_scope_with_holes_is_incomplete_and_lists_the_holes() {
    let dir = TestDir::new();
    let (old, _) = rotated_credential(&dir, 18);
    let src = dir.path().join("src");
    dir.write("src/app.py", format!("TOKEN = \"{old}\"\n"));
    init(&src);
    commit(&src, 1, "one");
    dir.write("src/README.md", "two\n");
    commit(&src, 2, "two");
    let url = format!("file://{}", src.display());
    git(
        dir.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let (code, record, _) = verify(&dir, &["deploy", "shallow"]);
    assert_eq!(code, 1);
    assert_eq!(record["verdict"], "incomplete");
    // `--depth` implies a single-branch clone: the other branches are missing too.
    assert_eq!(
        hole_codes(&record),
        ["missing-ref-namespace", "shallow-clone"]
    );
}

#[test]
fn one_private_key_in_four_encodings_is_four_places() {
    let dir = TestDir::new();
    let mut synth = Synth::new(14);
    let body_bytes: Vec<u8> = synth.base62(900).into_bytes();
    let body = base64::engine::general_purpose::STANDARD.encode(&body_bytes);
    let wrapped: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    let pem = format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
        wrapped.join("\n")
    );
    add(&dir, "signing-key", &pem, &[]);
    rotate(&dir, "signing-key", &synth.github_pat());
    dir.write("keys/id_rsa", &pem);
    let one_line = pem.replace('\n', " ");
    dir.write(
        "deploy/.env",
        format!("SIGNING_KEY=\"{}\"\n", one_line.trim()),
    );
    let json = serde_json::json!({ "type": "service_account", "private_key": pem });
    dir.write(
        "deploy/sa.json",
        serde_json::to_string_pretty(&json).expect("json"),
    );
    dir.write("k8s/key-secret.yaml", k8s_secret(&pem));

    let (code, record, out) = verify(&dir, &["signing-key", ".", "--no-history"]);
    assert_eq!(code, 1, "{out}");
    let mut paths: Vec<String> = places(&record, "remaining")
        .into_iter()
        .map(|(_, path, _, kind)| {
            assert_eq!(kind, "revoked-secret-present");
            path
        })
        .collect();
    paths.dedup();
    assert_eq!(
        paths,
        [
            "deploy/.env",
            "deploy/sa.json",
            "k8s/key-secret.yaml",
            "keys/id_rsa"
        ],
        "{out}"
    );
    assert!(!out.contains(&body[..40]), "key material leaked");
}

#[test]
fn verify_all_checks_every_reset_credential_in_one_pass() {
    let dir = TestDir::new();
    let (old, _) = rotated_credential(&dir, 15);
    let mut synth = Synth::new(16);
    let (other_old, other_new) = (synth.github_pat(), synth.github_pat());
    add(&dir, "other", &other_old, &[]);
    rotate(&dir, "other", &other_new);
    add(&dir, "untouched", &synth.github_pat(), &[]);
    let repo = dir.path().join("repo");
    dir.write("repo/app.py", format!("TOKEN = \"{old}\"\n"));
    init(&repo);
    commit(&repo, 1, "one");

    let (code, record, out) = verify(&dir, &["--all", "repo"]);
    assert_eq!(code, 1, "{out}");
    let verdicts: Vec<(String, String)> = record["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_string(),
                c["verdict"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("deploy".to_string(), "incomplete".to_string()),
            ("other".to_string(), "complete".to_string()),
        ]
    );
    assert_eq!(record["verdict"], "incomplete");
}

#[test]
fn bad_input_is_exit_2_with_the_place() {
    let dir = TestDir::new();
    clean_repo(&dir, "repo");
    let (code, _, err) = run(dir.command().args(["verify-reset", "deploy", "repo"]));
    assert_eq!(code, 2);
    assert!(err.contains("no inventory"), "{err}");
    rotated_credential(&dir, 17);
    let (code, _, err) = run(dir.command().args(["verify-reset", "nope", "repo"]));
    assert_eq!(code, 2);
    assert!(err.contains("no credential `nope`"), "{err}");
    dir.write(
        "bad.json",
        "{\n  \"version\": 1,\n  \"credentials\": [\n    {\"id\": }\n  ]\n}\n",
    );
    let (code, out, err) =
        run(dir
            .command()
            .args(["verify-reset", "deploy", "repo", "--inventory", "bad.json"]));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("bad.json:4:"), "{err}");
}

#[test]
fn a_revoked_value_no_rule_knows_is_found_in_every_format() {
    let dir = TestDir::new();
    let mut synth = Synth::new(19);
    let old = format!(
        "{}#{}%{}",
        synth.base62(7),
        synth.base62(6),
        synth.base62(5)
    );
    add(&dir, "db-password", &old, &[]);
    rotate(&dir, "db-password", &synth.password());
    dir.write(
        "app/src/main/resources/app.properties",
        format!("db.pass={old}\n"),
    );
    dir.write("app/config.yml", format!("hosts:\n  - db1\n  - {old}\n"));
    dir.write(
        "app/src/Db.java",
        format!("class Db {{\n    private static final String P = \"{old}\";\n}}\n"),
    );
    dir.write(
        "app/bin/run.sh",
        format!("#!/bin/sh\nmysql -u app -p'{old}' prod\n"),
    );
    dir.write(
        "app/seed.json",
        format!("{{\"users\": [{{\"name\": \"app\", \"pw\": \"{old}\"}}]}}\n"),
    );
    let (code, record, out) = verify(&dir, &["db-password", "app", "--no-history"]);
    assert_eq!(code, 1, "{out}");
    let paths: Vec<String> = places(&record, "remaining")
        .into_iter()
        .map(|p| p.1)
        .collect();
    assert_eq!(
        paths,
        [
            "bin/run.sh",
            "config.yml",
            "seed.json",
            "src/Db.java",
            "src/main/resources/app.properties"
        ],
        "{out}"
    );
    assert!(!out.contains(&old), "plaintext leaked");

    // `scan` with the inventory runs the same pass, unless told not to. Two of the places
    // are also shapes a rule knows (`db.pass=`, `mysql -p'…'`): those the rules find and link
    // to the credential either way; the pass is what finds the other three.
    let linked = |extra: &[&str]| {
        let (_, report, _) = crate::macros::run_json(
            dir.command()
                .args(["scan", "app", "--format", "json"])
                .args(extra),
        );
        let mut rules: Vec<String> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["credential"]["id"] == "db-password")
            .map(|f| f["rule"].as_str().unwrap_or("-").to_string())
            .collect();
        rules.sort();
        rules
    };
    assert_eq!(
        linked(&[]),
        [
            "generic-password",
            "known-value",
            "known-value",
            "known-value",
            "mysql-cli-password"
        ]
    );
    assert_eq!(
        linked(&["--no-known-values"]),
        ["generic-password", "mysql-cli-password"]
    );
}

#[test]
fn a_rotated_access_key_id_alone_is_a_remaining_place() {
    let dir = TestDir::new();
    let mut synth = Synth::new(20);
    let ((old_id, old_secret), (new_id, new_secret)) = (synth.aws_pair(), synth.aws_pair());
    add(&dir, "ci-deployer", &old_secret, &["--identifier", &old_id]);
    let mut cmd = dir.command();
    cmd.args([
        "inventory",
        "rotate",
        "--id",
        "ci-deployer",
        "--by",
        "alice",
        "--approved-by",
        "bob",
        "--ticket",
        "SEC-9",
        "--reason",
        "rotation",
        "--identifier",
        &new_id,
    ]);
    assert_eq!(crate::macros::run_stdin(&mut cmd, &new_secret).0, 0);
    dir.write(
        "infra/prod.tfvars",
        format!("deployer_key_id = \"{old_id}\"\n"),
    );
    dir.write(
        "infra/current.tfvars",
        format!("deployer_key_id = \"{new_id}\"\n"),
    );
    let (code, record, out) = verify(&dir, &["ci-deployer", "infra", "--no-history"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        places(&record, "remaining"),
        vec![place(
            "infra",
            "prod.tfvars",
            "tree",
            "revoked-identifier-present"
        )]
    );
    assert_eq!(record["credentials"][0]["identifiers"][0], old_id.as_str());
}

// A workflow that used the retired secret name in an old commit only (later changed to
// the new name) is residue of the reset: it blocks COMPLETE under the default policy and
// is listed without blocking under `--history-policy report`, with the commit, author
// and date that hold it. Old names in other history blobs than CI config are not searched.
#[test]
fn retired_reference_only_in_history_blocks_unless_the_policy_says_report() {
    let dir = TestDir::new();
    rotated_credential(&dir, 13);
    let ci = dir.path().join("ci");
    dir.write(
        "ci/.github/workflows/deploy.yml",
        workflow("OLD_DEPLOY_TOKEN"),
    );
    dir.write("ci/README.md", "deploy with secrets.OLD_DEPLOY_TOKEN\n");
    init(&ci);
    let leak = commit(&ci, 1, "deploy workflow");
    dir.write("ci/.github/workflows/deploy.yml", workflow("DEPLOY_TOKEN"));
    dir.write("ci/README.md", "deploy with the deploy token\n");
    commit(&ci, 2, "use the new secret");

    let (code, record, out) = verify(&dir, &["deploy", "ci"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(record["verdict"], "incomplete");
    let want = vec![place(
        "ci",
        ".github/workflows/deploy.yml",
        "history",
        "retired-reference",
    )];
    assert_eq!(places(&record, "remaining"), want);
    let p = &record["credentials"][0]["remaining"][0];
    assert_eq!(p["commit"], leak.as_str(), "{p}");
    assert_eq!(p["author"], "Ann <ann@example.org>", "{p}");
    assert_eq!(p["date"], "2024-01-02T00:00:00Z", "{p}");
    assert_eq!(p["line"], 9);
    assert_eq!(p["reference"], "github-secret:OLD_DEPLOY_TOKEN");

    let (code, record, out) = verify(&dir, &["deploy", "ci", "--history-policy", "report"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(record["verdict"], "complete");
    assert!(places(&record, "remaining").is_empty());
    assert_eq!(places(&record, "history_only"), want);

    // Still in the working tree as well: one tree place, the history copy listed with it.
    dir.write("ci/.github/workflows/old.yml", workflow("OLD_DEPLOY_TOKEN"));
    let (code, record, _) = verify(&dir, &["deploy", "ci", "--history-policy", "report"]);
    assert_eq!(code, 1);
    assert!(places(&record, "remaining").contains(&place(
        "ci",
        ".github/workflows/old.yml",
        "tree",
        "retired-reference"
    )));
}
