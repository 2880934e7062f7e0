//! Fixture files per format: the references and findings keytrace reports for each, asserted exactly.
//!
//! Text formats (Jenkinsfile, Dockerfile, Terraform, dotfiles, Maven/Gradle/Spring
//! properties, docker config): `scan --format json` over `fixtures/formats/`, copied
//! into the test's own dir. Extraction (references, slots) is asserted in
//! `src/context/text/tests.rs`; here the real binary proves every planted secret is
//! found in its file kind, malformed files included.

use std::path::Path;

use crate::macros::{run, TestDir};
use serde_json::Value;

/// The text-format fixture directories under `fixtures/formats/`.
const FORMATS: &[&str] = &[
    "commands",
    "docker-config",
    "dockerfile",
    "dotenv",
    "git-credentials",
    "gradle-properties",
    "jenkinsfile",
    "malformed",
    "maven-settings",
    "netrc",
    "npmrc",
    "pypirc",
    "spring-config",
    "terraform",
    "terraform-state",
    "terraform-vars",
];

/// Copies `fixtures/formats/<format>` for each format into `dir`, keeping relative paths.
fn copy_fixtures(dir: &TestDir, formats: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/formats");
    let mut stack: Vec<_> = formats.iter().map(|f| root.join(f)).collect();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read fixtures") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(&root).expect("under root");
                dir.write(
                    &rel.to_string_lossy().replace('\\', "/"),
                    std::fs::read(&p).expect("read"),
                );
            }
        }
    }
}

/// `(rule, path, line, context.file_kind)` of every finding of `scan . --format json`.
fn scan(dir: &TestDir) -> (Vec<(String, String, u64, String)>, String) {
    let mut cmd = dir.command();
    let (code, stdout, stderr) = run(cmd.args(["scan", ".", "--format", "json"]));
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let found = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().expect("rule").to_string(),
                f["location"]["path"].as_str().expect("path").to_string(),
                f["location"]["line"].as_u64().expect("line"),
                f["context"]["file_kind"]
                    .as_str()
                    .expect("file_kind")
                    .to_string(),
            )
        })
        .collect();
    (found, stderr)
}

fn f(rule: &str, path: &str, line: u64, kind: &str) -> (String, String, u64, String) {
    (rule.into(), path.into(), line, kind.into())
}

kttest!(
    formats_text_every_fixture_secret_found_in_its_kind,
    |dir, _cmd| {
        copy_fixtures(&dir, FORMATS);
        let (found, stderr) = scan(&dir);
        assert_eq!(
            found,
            vec![
                f("slack-bot-token", "commands/scripts/rotate.sh", 10, "shell"),
                f(
                    "docker-config-auth",
                    "docker-config/.docker/config.json",
                    4,
                    "docker-config"
                ),
                f(
                    "github-pat-classic",
                    "dockerfile/Dockerfile",
                    14,
                    "dockerfile"
                ),
                f("slack-bot-token", "dotenv/.env", 4, "dotenv"),
                f(
                    "github-pat-classic",
                    "git-credentials/.git-credentials",
                    1,
                    "git-credentials"
                ),
                f(
                    "generic-password",
                    "gradle-properties/gradle.properties",
                    4,
                    "gradle-properties"
                ),
                f(
                    "github-pat-classic",
                    "gradle-properties/gradle.properties",
                    5,
                    "gradle-properties"
                ),
                f(
                    "slack-bot-token",
                    "jenkinsfile/Jenkinsfile",
                    5,
                    "jenkinsfile"
                ),
                f(
                    "github-pat-classic",
                    "malformed/.m2/settings.xml",
                    5,
                    "maven-settings"
                ),
                f(
                    "docker-config-auth",
                    "malformed/home/.docker/config.json",
                    4,
                    "docker-config"
                ),
                f(
                    "github-pat-classic",
                    "malformed/infra/broken.tf",
                    3,
                    "terraform"
                ),
                f(
                    "github-pat-classic",
                    "malformed/infra/prod.tfvars",
                    2,
                    "terraform-vars"
                ),
                f(
                    "github-pat-classic",
                    "malformed/infra/terraform.tfstate",
                    4,
                    "terraform-state"
                ),
                f(
                    "github-pat-classic",
                    "maven-settings/settings.xml",
                    12,
                    "maven-settings"
                ),
                f("github-pat-classic", "netrc/.netrc", 3, "netrc"),
                f("github-pat-classic", "netrc/.netrc", 4, "netrc"),
                f("npm-access-token", "npmrc/.npmrc", 4, "npmrc"),
                f("pypi-api-token", "pypirc/.pypirc", 8, "pypirc"),
                f(
                    "slack-bot-token",
                    "spring-config/src/main/resources/application.properties",
                    6,
                    "spring-config"
                ),
                f(
                    "github-pat-classic",
                    "terraform-state/terraform.tfstate",
                    34,
                    "terraform-state"
                ),
                f(
                    "generic-api-key",
                    "terraform-vars/prod.tfvars",
                    3,
                    "terraform-vars"
                ),
                f(
                    "github-pat-classic",
                    "terraform-vars/prod.tfvars",
                    4,
                    "terraform-vars"
                ),
                f(
                    "aws-secret-access-key-near-id",
                    "terraform/main.tf",
                    4,
                    "terraform"
                ),
            ],
            "{stderr}"
        );
    }
);

/// One malformed file alone: its secret is still found, on its line, in its kind.
fn malformed_still_scanned(dir: &TestDir, path: &str, line: u64, rule: &str, kind: &str) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/formats/malformed")
        .join(path);
    dir.write(path, std::fs::read(src).expect("fixture"));
    let (found, stderr) = scan(dir);
    assert_eq!(found, vec![f(rule, path, line, kind)], "{stderr}");
}

kttest!(formats_text_malformed_hcl_still_scanned, |dir, _cmd| {
    malformed_still_scanned(
        &dir,
        "infra/broken.tf",
        3,
        "github-pat-classic",
        "terraform",
    );
});

kttest!(formats_text_malformed_tfvars_still_scanned, |dir, _cmd| {
    malformed_still_scanned(
        &dir,
        "infra/prod.tfvars",
        2,
        "github-pat-classic",
        "terraform-vars",
    );
});

kttest!(formats_text_malformed_tfstate_still_scanned, |dir, _cmd| {
    malformed_still_scanned(
        &dir,
        "infra/terraform.tfstate",
        4,
        "github-pat-classic",
        "terraform-state",
    );
});

kttest!(
    formats_text_malformed_docker_config_still_scanned,
    |dir, _cmd| {
        malformed_still_scanned(
            &dir,
            "home/.docker/config.json",
            4,
            "docker-config-auth",
            "docker-config",
        );
    }
);

kttest!(
    formats_text_malformed_maven_settings_still_scanned,
    |dir, _cmd| {
        malformed_still_scanned(
            &dir,
            ".m2/settings.xml",
            5,
            "github-pat-classic",
            "maven-settings",
        );
    }
);
