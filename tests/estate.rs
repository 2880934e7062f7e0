//! The reset residue an inventory can see by name: a credential rotated and renamed, and
//! every remaining use of its old names across a workflow, a Deployment, an ExternalSecret
//! and a compose file (fixtures/estate). Fixing the names makes the findings go away.

use crate::macros::{assert_schema_valid, run, run_json, TestDir, REPORT_SCHEMA};

/// A copy of the fixture estate in a fresh temp dir.
fn estate() -> TestDir {
    let dir = TestDir::new();
    dir.copy_fixture("estate", "");
    dir
}

/// (kind, path, line, column, reference, credential, reset ticket) of each finding.
type Row = (String, String, u64, u64, String, String, String);

fn scan_rows(dir: &TestDir, extra: &[&str]) -> (i32, Vec<Row>) {
    let (code, report, _) = run_json(
        dir.command()
            .args(["scan", ".", "--format", "json"])
            .args(extra),
    );
    assert_schema_valid(REPORT_SCHEMA, &report);
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let rows = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                s(&f["kind"]),
                s(&f["location"]["path"]),
                f["location"]["line"].as_u64().unwrap_or(0),
                f["location"]["column"].as_u64().unwrap_or(0),
                s(&f["reference"]["name"]),
                s(&f["credential"]["id"]),
                s(&f["credential"]["reset"]["ticket"]),
            )
        })
        .collect();
    (code, rows)
}

fn row(
    kind: &str,
    path: &str,
    line: u64,
    column: u64,
    reference: &str,
    cred: &str,
    ticket: &str,
) -> Row {
    (
        kind.into(),
        path.into(),
        line,
        column,
        reference.into(),
        cred.into(),
        ticket.into(),
    )
}

#[test]
fn every_use_of_a_retired_name_is_reported_until_renamed() {
    let dir = estate();
    let (code, rows) = scan_rows(&dir, &[]);
    let db = |path: &str, line, column, reference: &str| {
        row(
            "retired-reference",
            path,
            line,
            column,
            reference,
            "payments-db",
            "SEC-77",
        )
    };
    assert_eq!(
        rows,
        vec![
            row(
                "retired-reference",
                ".github/workflows/deploy.yml",
                13,
                21,
                "github-secret:OLD_DEPLOY_TOKEN",
                "payments-deploy-token",
                "SEC-42"
            ),
            db("docker-compose.yml", 6, 20, "env:OLD_DB_PASSWORD"),
            db("docker-compose.yml", 12, 26, "env:OLD_DB_PASSWORD"),
            db(
                "k8s/deployment.yaml",
                23,
                25,
                "k8s-secret:payments/db-creds-v1#password"
            ),
            db(
                "k8s/external-secret.yaml",
                16,
                14,
                "vault:secret/payments/db-v1#password"
            ),
        ]
    );
    assert_eq!(
        code, 1,
        "retired references are medium: above the default gate"
    );

    // Point every use at the new names: nothing is left.
    for (file, old, new) in [
        (
            ".github/workflows/deploy.yml",
            "OLD_DEPLOY_TOKEN",
            "DEPLOY_TOKEN",
        ),
        ("docker-compose.yml", "OLD_DB_PASSWORD", "DB_PASSWORD"),
        ("k8s/deployment.yaml", "db-creds-v1", "db-creds-v2"),
        (
            "k8s/external-secret.yaml",
            "secret/payments/db-v1",
            "secret/payments/db",
        ),
    ] {
        let path = dir.path().join(file);
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, text.replace(old, new)).expect("write");
    }
    let (code, rows) = scan_rows(&dir, &[]);
    assert_eq!(rows, Vec::<Row>::new());
    assert_eq!(code, 0);
}

#[test]
fn human_output_names_the_credential_its_reset_and_the_new_name() {
    let dir = estate();
    let mut cmd = dir.command();
    let (code, out, err) = run(cmd.args(["scan", "."]));
    assert_eq!(code, 1, "{err}");
    assert!(
        out.contains("payments-deploy-token: 1 place still names it by a retired reference (reset by alice, approved by bob, SEC-42: suspected exposure in a CI log"),
        "{out}"
    );
    assert!(
        out.contains("   = reference: github-secret:OLD_DEPLOY_TOKEN\n"),
        "{out}"
    );
    assert!(
        out.contains("   = fix: point this use at github-secret:DEPLOY_TOKEN\n"),
        "{out}"
    );
    assert!(
        out.contains("   = fix: point this use at vault:secret/payments/db\n"),
        "{out}"
    );
}

#[test]
fn refs_reports_inventory_coverage() {
    let dir = estate();
    let mut cmd = dir.command();
    let (code, out, err) = run(cmd.args(["refs", ".", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    let rows: Vec<(String, String, usize)> = report["references"]
        .as_array()
        .expect("references")
        .iter()
        .map(|r| {
            (
                r["reference"].as_str().unwrap_or_default().to_string(),
                r["status"].as_str().unwrap_or_default().to_string(),
                r["locations"].as_array().map_or(0, Vec::len),
            )
        })
        .collect();
    let expect = |r: &str, s: &str, n| (r.to_string(), s.to_string(), n);
    assert_eq!(
        rows,
        vec![
            expect("env:OLD_DB_PASSWORD", "retired", 2),
            expect("github-secret:KUBECONFIG_PROD", "unknown", 1),
            expect("github-secret:OLD_DEPLOY_TOKEN", "retired", 1),
            expect("k8s-secret:payments/db-creds-v1#password", "retired", 1),
            expect("k8s-secret:payments/db-creds-v2", "known", 1),
            expect("vault:secret/payments/db-v1#password", "retired", 1),
        ]
    );
    assert_eq!(
        report["unused_inventory_references"],
        serde_json::json!([
            "env:DB_PASSWORD",
            "github-secret:DEPLOY_TOKEN",
            "vault:secret/payments/db"
        ])
    );
}

#[test]
fn unknown_references_are_reported_only_when_asked() {
    let dir = estate();
    let (_, rows) = scan_rows(&dir, &["--unknown-references"]);
    let unknown: Vec<&Row> = rows.iter().filter(|r| r.0 == "unknown-reference").collect();
    assert_eq!(
        unknown,
        vec![&row(
            "unknown-reference",
            ".github/workflows/deploy.yml",
            17,
            28,
            "github-secret:KUBECONFIG_PROD",
            "",
            ""
        )]
    );
    let (_, rows) = scan_rows(&dir, &[]);
    assert!(rows.iter().all(|r| r.0 != "unknown-reference"));
}

#[test]
fn reference_findings_are_valid_sarif_and_annotations() {
    let dir = estate();
    let mut cmd = dir.command();
    let (code, out, err) = run(cmd.args(["scan", ".", "--format", "sarif"]));
    assert_eq!(code, 1, "{err}");
    let sarif: serde_json::Value = serde_json::from_str(&out).expect("sarif");
    crate::macros::assert_schema_valid(crate::macros::SARIF_SCHEMA, &sarif);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 5);
    let first = &results[0];
    assert_eq!(first["ruleId"], "retired-reference");
    let message = first["message"]["text"].as_str().unwrap_or_default();
    assert!(
        message.contains("github-secret:OLD_DEPLOY_TOKEN")
            && message.contains("credential payments-deploy-token")
            && message.contains("use github-secret:DEPLOY_TOKEN instead"),
        "{message}"
    );
    let mut cmd = dir.command();
    let (_, out, _) = run(cmd.args(["scan", ".", "--format", "github"]));
    assert!(
        out.lines()
            .any(|l| l.starts_with("::warning file=k8s/deployment.yaml,line=23,")),
        "{out}"
    );
}
