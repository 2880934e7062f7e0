//! Fixture files per format: the references and findings keytrace reports for each, asserted exactly.
//!
//! Text formats (Jenkinsfile, Dockerfile, Terraform, dotfiles, Maven/Gradle/Spring
//! properties, docker config, command lines): the real binary over `fixtures/formats/`,
//! copied into the test's own dir. `scan` must find every planted secret in its file
//! kind and name the slot it sits in; `refs` must list every reference; a malformed
//! file still yields its secret and a warning naming its line.

use std::path::Path;

use crate::macros::{run_json, TestDir};
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
    "maven-settings",
    "netrc",
    "npmrc",
    "pypirc",
    "spring-properties",
    "terraform",
    "terraform-state",
    "terraform-vars",
];

/// Copies `fixtures/formats/<format>` for each format into `dir`, keeping relative paths.
fn copy_fixtures(dir: &TestDir, formats: &[&str]) {
    for f in formats {
        dir.copy_fixture(&format!("formats/{f}"), f);
    }
}

/// Runs `keytrace <args> --format json` and returns (parsed stdout, stderr).
fn json(dir: &TestDir, args: &[&str]) -> (Value, String) {
    let (_, v, stderr) = run_json(dir.command().args(args).args(["--format", "json"]));
    (v, stderr)
}

/// `rule path:line kind [decoding] [slot NAME]` of every finding of `scan .`.
fn scan(dir: &TestDir) -> (Vec<String>, String) {
    let (v, stderr) = json(dir, &["scan", "."]);
    let found = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let c = &f["context"];
            let mut s = format!(
                "{} {}:{} {}",
                f["rule"].as_str().expect("rule"),
                f["location"]["path"].as_str().expect("path"),
                f["location"]["line"],
                c["file_kind"].as_str().expect("file_kind"),
            );
            if let Some(d) = c["decoding"].as_str() {
                s.push_str(&format!(" [{d}]"));
            }
            if let Some(slot) = c["slot"]["name"].as_str() {
                s.push_str(&format!(" slot {slot}"));
            }
            s
        })
        .collect();
    (found, stderr)
}

kttest!(
    formats_text_every_fixture_secret_found_in_its_slot,
    |dir, _cmd| {
        copy_fixtures(&dir, FORMATS);
        let (found, stderr) = scan(&dir);
        assert_eq!(
        found,
        [
            "slack-bot-token commands/scripts/rotate.sh:10 shell",
            "github-pat-classic docker-config/.docker/config.json:4 docker-config [base64] slot auth for ghcr.io",
            "github-pat-classic dockerfile/Dockerfile:14 dockerfile slot ENV GITHUB_TOKEN",
            "slack-bot-token dotenv/.env:4 dotenv slot SLACK_BOT_TOKEN",
            "github-pat-classic git-credentials/.git-credentials:1 git-credentials slot credential for github.com",
            "generic-password gradle-properties/gradle.properties:4 gradle-properties slot artifactoryPassword",
            "github-pat-classic gradle-properties/gradle.properties:5 gradle-properties slot githubToken",
            "slack-bot-token jenkinsfile/Jenkinsfile:5 jenkinsfile slot environment SLACK_TOKEN",
            "github-pat-classic maven-settings/settings.xml:12 maven-settings slot server github password",
            "github-pat-classic netrc/.netrc:3 netrc slot password for machine api.heroku.com",
            "github-pat-classic netrc/.netrc:4 netrc slot password for machine github.com",
            "npm-access-token npmrc/.npmrc:4 npmrc slot _authToken for //registry.npmjs.org/",
            "pypi-api-token pypirc/.pypirc:8 pypirc slot password for [pypi]",
            "slack-bot-token spring-properties/src/main/resources/application.properties:6 spring-config slot slack.bot-token",
            "github-pat-classic terraform-state/terraform.tfstate:34 terraform-state slot aws_ssm_parameter.api_key value",
            "generic-api-key terraform-vars/prod.tfvars:3 terraform-vars slot datadog_api_key",
            "github-pat-classic terraform-vars/prod.tfvars:4 terraform-vars slot github_token",
            "aws-secret-access-key-near-id terraform/main.tf:4 terraform slot provider \"aws\" secret_key",
            "terraform-variable-default-secret terraform/main.tf:50 terraform slot variable \"db_password\" default",
        ],
        "{stderr}"
    );
        assert!(!stderr.contains("warning"), "{stderr}");
    }
);

kttest!(formats_text_refs_lists_every_reference, |dir, _cmd| {
    copy_fixtures(&dir, FORMATS);
    let (v, stderr) = json(&dir, &["refs", "."]);
    let mut refs: Vec<String> = v["references"]
        .as_array()
        .expect("references")
        .iter()
        .flat_map(|r| {
            let name = r["reference"].as_str().expect("reference").to_string();
            r["locations"]
                .as_array()
                .expect("locations")
                .iter()
                .map(move |l| {
                    format!(
                        "{}:{}:{} {name}",
                        l["path"].as_str().expect("path"),
                        l["line"],
                        l["column"]
                    )
                })
        })
        .collect();
    refs.sort();
    assert_eq!(
        refs,
        [
            "commands/scripts/rotate.sh:3:15 vault:secret/payments/db#password",
            "commands/scripts/rotate.sh:4:14 aws-sm:prod/payments/stripe",
            "commands/scripts/rotate.sh:5:14 aws-ssm:/prod/payments/sentry-dsn",
            "commands/scripts/rotate.sh:6:10 vault:secret/legacy/ci#token",
            "commands/scripts/rotate.sh:8:20 aws-sm:prod/payments/webhook",
            "commands/scripts/rotate.sh:9:20 aws-ssm:/prod/payments/api-key",
            "dockerfile/Dockerfile:2:5 env:NPM_TOKEN",
            "dockerfile/Dockerfile:3:5 env:APP_VERSION",
            "dockerfile/Dockerfile:8:28 env:sentry_auth_token",
            "dotenv/.env:3:34 env:DB_PASSWORD",
            "dotenv/.env:5:12 env:SENTRY_DSN",
            "jenkinsfile/Jenkinsfile:17:57 jenkins-credential:prod-deploy-token",
            "jenkinsfile/Jenkinsfile:18:67 jenkins-credential:db-admin",
            "jenkinsfile/Jenkinsfile:22:45 env:DATADOG_API_KEY",
            "jenkinsfile/Jenkinsfile:25:97 env:KUBE_CONTEXT",
            "jenkinsfile/Jenkinsfile:6:17 jenkins-credential:nexus-deploy",
            "maven-settings/settings.xml:7:17 env:NEXUS_PASSWORD",
            "npmrc/.npmrc:3:34 env:GITHUB_PACKAGES_TOKEN",
            "pypirc/.pypirc:13:12 env:INTERNAL_PYPI_PASSWORD",
            "spring-properties/src/main/resources/application.properties:4:28 env:DB_PASSWORD",
            "spring-properties/src/main/resources/application.properties:5:16 env:STRIPE_API_KEY",
            "terraform-state/terraform.tfstate:17:21 aws-sm:prod/payments/db",
            "terraform-state/terraform.tfstate:18:22 aws-sm:prod/payments/db",
            "terraform-state/terraform.tfstate:32:22 aws-ssm:/prod/payments/api-key",
            "terraform-state/terraform.tfstate:50:26 k8s-secret:payments/payments-db",
            "terraform/main.tf:12:10 aws-sm:prod/payments/stripe",
            "terraform/main.tf:16:11 aws-ssm:/prod/payments/sentry-dsn",
            "terraform/main.tf:21:12 vault:secret/payments/webhook",
            "terraform/main.tf:25:11 vault:secret/payments/legacy",
            "terraform/main.tf:30:18 k8s-secret:payments/payments-db",
            "terraform/main.tf:8:16 aws-sm:prod/payments/db",
        ],
        "{stderr}"
    );
});

/// One malformed file alone: its secret is still found on its line, in its kind, and
/// stderr names the parse failure at `warning_line`.
fn malformed_still_scanned(dir: &TestDir, path: &str, finding: &str, warning_line: u32) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/formats/malformed")
        .join(path);
    dir.write(path, std::fs::read(src).expect("fixture"));
    let (found, stderr) = scan(dir);
    assert_eq!(found, [finding], "{stderr}");
    let warning = format!("warning[malformed-config]: {path}:{warning_line}: ");
    assert!(stderr.contains(&warning), "{warning} not in {stderr}");
}

kttest!(formats_text_malformed_hcl_still_scanned, |dir, _cmd| {
    malformed_still_scanned(
        &dir,
        "infra/broken.tf",
        "github-pat-classic infra/broken.tf:3 terraform",
        6,
    );
});

kttest!(formats_text_malformed_tfvars_still_scanned, |dir, _cmd| {
    malformed_still_scanned(
        &dir,
        "infra/prod.tfvars",
        "github-pat-classic infra/prod.tfvars:2 terraform-vars",
        2,
    );
});

kttest!(formats_text_malformed_tfstate_still_scanned, |dir, _cmd| {
    malformed_still_scanned(
        &dir,
        "infra/terraform.tfstate",
        "github-pat-classic infra/terraform.tfstate:4 terraform-state",
        4,
    );
});

kttest!(
    formats_text_malformed_docker_config_still_scanned,
    |dir, _cmd| {
        malformed_still_scanned(
            &dir,
            "home/.docker/config.json",
            "github-pat-classic home/.docker/config.json:4 docker-config [base64]",
            7,
        );
    }
);

kttest!(
    formats_text_malformed_maven_settings_still_scanned,
    |dir, _cmd| {
        malformed_still_scanned(
            &dir,
            ".m2/settings.xml",
            "github-pat-classic .m2/settings.xml:5 maven-settings",
            5,
        );
    }
);
