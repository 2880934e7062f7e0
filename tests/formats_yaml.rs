//! Fixture files per format: the references and findings keytrace reports for each, asserted exactly.
//!
//! Each YAML fixture directory (`fixtures/formats/<kind>/`) is copied into a fresh temp dir
//! and scanned by the real binary; every finding's rule, path, line and `context.file_kind`
//! is asserted. Extraction (references, slots, includes) is asserted in the unit tests of
//! `src/context/yaml/`.

use crate::macros::{run_json, TestDir};

/// Copies `fixtures/formats/<name>` into the test dir.
fn copy_fixture(dir: &TestDir, name: &str) {
    dir.copy_fixture(&format!("formats/{name}"), "");
}

/// `(rule, path, line, file_kind)` of every finding of `scan . --format json`.
fn scan(dir: &TestDir) -> Vec<(String, String, u64, String)> {
    let (_, v, _) = run_json(dir.command().args(["scan", ".", "--format", "json"]));
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().expect("rule").to_string(),
                f["location"]["path"].as_str().expect("path").to_string(),
                f["location"]["line"].as_u64().expect("line"),
                f["context"]["file_kind"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Asserts the findings of one fixture directory: `(rule, line)` pairs in `path`, of `kind`.
fn assert_fixture(name: &str, path: &str, kind: &str, expected: &[(&str, u64)]) {
    let dir = TestDir::new();
    copy_fixture(&dir, name);
    let expected: Vec<_> = expected
        .iter()
        .map(|(rule, line)| (rule.to_string(), path.to_string(), *line, kind.to_string()))
        .collect();
    assert_eq!(scan(&dir), expected, "{name}");
}

#[test]
fn github_workflow() {
    assert_fixture(
        "github-actions",
        ".github/workflows/deploy.yml",
        "github-actions",
        &[("github-pat-classic", 19)],
    );
}

#[test]
fn github_composite_action() {
    assert_fixture(
        "github-action",
        ".github/actions/publish/action.yml",
        "github-action",
        &[("slack-bot-token", 13)],
    );
}

#[test]
fn gitlab_ci() {
    assert_fixture(
        "gitlab-ci",
        ".gitlab-ci.yml",
        "gitlab-ci",
        &[("generic-password", 11), ("slack-bot-token", 13)],
    );
}

#[test]
fn circleci() {
    assert_fixture(
        "circleci",
        ".circleci/config.yml",
        "circleci",
        &[("github-pat-classic", 11)],
    );
}

#[test]
fn azure_pipelines() {
    assert_fixture(
        "azure-pipelines",
        "azure-pipelines.yml",
        "azure-pipelines",
        &[("github-pat-classic", 10)],
    );
}

#[test]
fn bitbucket_pipelines() {
    assert_fixture(
        "bitbucket-pipelines",
        "bitbucket-pipelines.yml",
        "bitbucket-pipelines",
        &[("aws-secret-access-key", 12)],
    );
}

#[test]
fn k8s_manifest() {
    assert_fixture(
        "k8s-manifest",
        "deployment.yaml",
        "k8s-manifest",
        &[("github-pat-classic", 38), ("slack-bot-token", 68)],
    );
}

#[test]
fn external_secret() {
    assert_fixture(
        "external-secret",
        "external-secrets.yaml",
        "external-secret",
        &[("github-pat-classic", 74)],
    );
}

#[test]
fn sealed_secret() {
    // Line 8 is SealedSecret `encryptedData`: ciphertext (DESIGN §3), not reported.
    assert_fixture(
        "sealed-secret",
        "sealed-db.yaml",
        "sealed-secret",
        &[("github-pat-classic", 27)],
    );
}

#[test]
fn helm_values() {
    assert_fixture(
        "helm-values",
        "charts/api/values.yaml",
        "helm-values",
        &[("github-pat-classic", 14)],
    );
}

#[test]
fn kustomize() {
    assert_fixture(
        "kustomize",
        "overlays/prod/kustomization.yaml",
        "kustomize",
        &[("github-pat-classic", 18)],
    );
}

#[test]
fn docker_compose() {
    assert_fixture(
        "docker-compose",
        "docker-compose.yml",
        "docker-compose",
        &[("github-pat-classic", 8), ("slack-bot-token", 15)],
    );
}

#[test]
fn spring_config() {
    assert_fixture(
        "spring-config",
        "src/main/resources/application.yml",
        "spring-config",
        &[("github-pat-classic", 13)],
    );
}

#[test]
fn malformed_workflow_still_yields_its_secret() {
    assert_fixture(
        "malformed-yaml",
        ".github/workflows/release.yml",
        "github-actions",
        &[("github-pat-classic", 7)],
    );
}

/// A YAML file of every kind, broken by an unclosed flow sequence, still has its secret found.
#[test]
fn malformed_yaml_of_every_kind_still_yields_its_secret() {
    let token = "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";
    let cases = [
        (".github/workflows/ci.yml", "github-actions"),
        (".github/actions/setup/action.yml", "github-action"),
        (".gitlab-ci.yml", "gitlab-ci"),
        (".circleci/config.yml", "circleci"),
        ("azure-pipelines.yml", "azure-pipelines"),
        ("bitbucket-pipelines.yml", "bitbucket-pipelines"),
        ("deploy/api.yaml", "k8s-manifest"),
        ("deploy/es.yaml", "external-secret"),
        ("charts/api/values.yaml", "helm-values"),
        ("kustomization.yaml", "kustomize"),
        ("docker-compose.yml", "docker-compose"),
        ("src/main/resources/application.yml", "spring-config"),
    ];
    let dir = TestDir::new();
    for (path, kind) in cases {
        let head = match kind {
            "k8s-manifest" => "apiVersion: v1\nkind: ConfigMap\n",
            "external-secret" => "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\n",
            _ => "name: x\nversion: 2\n",
        };
        dir.write(path, format!("{head}items: [unclosed\n  token: {token}\n"));
    }
    let mut found = scan(&dir);
    found.sort_by(|a, b| a.1.cmp(&b.1));
    let mut expected: Vec<_> = cases
        .iter()
        .map(|(path, kind)| {
            (
                "github-pat-classic".to_string(),
                path.to_string(),
                4,
                kind.to_string(),
            )
        })
        .collect();
    expected.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(found, expected);
}
