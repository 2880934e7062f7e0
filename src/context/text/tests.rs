//! Extraction per format on the fixture files, asserted exactly.

use crate::context::{analyze, FileContext};

/// The context as readable lines: `L:C scheme:name` for references, `L slot NAME => EXPECTED`.
fn render(ctx: &FileContext) -> Vec<String> {
    let refs = ctx
        .references
        .iter()
        .map(|r| format!("{}:{} {}", r.line, r.column, r.reference));
    let slots = ctx
        .slots
        .iter()
        .map(|s| format!("{} slot {} => {}", s.line, s.name, s.expected));
    let warnings = ctx
        .warnings
        .iter()
        .map(|w| format!("{} warning {}", w.line.unwrap_or(0), w.message));
    refs.chain(slots).chain(warnings).collect()
}

/// Every fixture of a text format, as (path as the scanner sees it, bytes).
const FIXTURES: &[(&str, &[u8])] = &[
    (
        "Jenkinsfile",
        include_bytes!("../../../fixtures/formats/jenkinsfile/Jenkinsfile"),
    ),
    (
        "Dockerfile",
        include_bytes!("../../../fixtures/formats/dockerfile/Dockerfile"),
    ),
    (
        "main.tf",
        include_bytes!("../../../fixtures/formats/terraform/main.tf"),
    ),
    (
        "prod.tfvars",
        include_bytes!("../../../fixtures/formats/terraform-vars/prod.tfvars"),
    ),
    (
        "terraform.tfstate",
        include_bytes!("../../../fixtures/formats/terraform-state/terraform.tfstate"),
    ),
    (
        ".env",
        include_bytes!("../../../fixtures/formats/dotenv/.env"),
    ),
    (
        ".npmrc",
        include_bytes!("../../../fixtures/formats/npmrc/.npmrc"),
    ),
    (
        ".pypirc",
        include_bytes!("../../../fixtures/formats/pypirc/.pypirc"),
    ),
    (
        ".netrc",
        include_bytes!("../../../fixtures/formats/netrc/.netrc"),
    ),
    (
        ".git-credentials",
        include_bytes!("../../../fixtures/formats/git-credentials/.git-credentials"),
    ),
    (
        "settings.xml",
        include_bytes!("../../../fixtures/formats/maven-settings/settings.xml"),
    ),
    (
        "gradle.properties",
        include_bytes!("../../../fixtures/formats/gradle-properties/gradle.properties"),
    ),
    (
        "src/main/resources/application.properties",
        include_bytes!(
            "../../../fixtures/formats/spring-properties/src/main/resources/application.properties"
        ),
    ),
    (
        ".docker/config.json",
        include_bytes!("../../../fixtures/formats/docker-config/.docker/config.json"),
    ),
    (
        "scripts/rotate.sh",
        include_bytes!("../../../fixtures/formats/commands/scripts/rotate.sh"),
    ),
    (
        "infra/broken.tf",
        include_bytes!("../../../fixtures/formats/malformed/infra/broken.tf"),
    ),
    (
        "infra/prod.tfvars",
        include_bytes!("../../../fixtures/formats/malformed/infra/prod.tfvars"),
    ),
    (
        "infra/terraform.tfstate",
        include_bytes!("../../../fixtures/formats/malformed/infra/terraform.tfstate"),
    ),
    (
        "home/.docker/config.json",
        include_bytes!("../../../fixtures/formats/malformed/home/.docker/config.json"),
    ),
    (
        ".m2/settings.xml",
        include_bytes!("../../../fixtures/formats/malformed/.m2/settings.xml"),
    ),
];

/// Analyzes the fixture stored for `path` and checks its kind and rendered context.
fn check(path: &str, kind: &str, expected: &[&str]) {
    let (_, bytes) = FIXTURES
        .iter()
        .find(|(p, _)| *p == path)
        .unwrap_or_else(|| panic!("no fixture {path}"));
    let ctx = analyze(path, bytes);
    assert_eq!(ctx.kind, kind, "{path}");
    assert_eq!(render(&ctx), expected, "{path}");
    assert!(ctx.includes.is_empty(), "{path}");
}

const DOTENV: &str = "a CI variable or secret store (keep .env files out of the repository)";
const NETRC: &str = "a credential helper or a token from the CI's secret store";

#[test]
fn jenkinsfile() {
    check(
        "Jenkinsfile",
        "jenkinsfile",
        &[
            "6:17 jenkins-credential:nexus-deploy",
            "17:57 jenkins-credential:prod-deploy-token",
            "18:67 jenkins-credential:db-admin",
            "22:45 env:DATADOG_API_KEY",
            "25:97 env:KUBE_CONTEXT",
            "4 slot environment REGISTRY => credentials('<credential id>')",
            "5 slot environment SLACK_TOKEN => credentials('<credential id>')",
        ],
    );
}

#[test]
fn dockerfile() {
    check(
        "Dockerfile",
        "dockerfile",
        &[
            "2:5 env:NPM_TOKEN",
            "3:5 env:APP_VERSION",
            "8:28 env:sentry_auth_token",
            "14 slot ENV GITHUB_TOKEN => a BuildKit secret (RUN --mount=type=secret,id=GITHUB_TOKEN)",
        ],
    );
}

#[test]
fn terraform() {
    check(
        "main.tf",
        "terraform",
        &[
            "8:16 aws-sm:prod/payments/db",
            "12:10 aws-sm:prod/payments/stripe",
            "16:11 aws-ssm:/prod/payments/sentry-dsn",
            "21:12 vault:secret/payments/webhook",
            "25:11 vault:secret/payments/legacy",
            "30:18 k8s-secret:payments/payments-db",
            "3 slot provider \"aws\" access_key => var.access_key (sensitive) or a data source",
            "4 slot provider \"aws\" secret_key => var.secret_key (sensitive) or a data source",
            "50 slot variable \"db_password\" default => a sensitive variable without default, set from a secret store",
        ],
    );
    check(
        "prod.tfvars",
        "terraform-vars",
        &[
            "3 slot datadog_api_key => TF_VAR_datadog_api_key set from a secret store (keep secrets out of .tfvars)",
            "4 slot github_token => TF_VAR_github_token set from a secret store (keep secrets out of .tfvars)",
        ],
    );
    check(
        "terraform.tfstate",
        "terraform-state",
        &[
            "17:21 aws-sm:prod/payments/db",
            "18:22 aws-sm:prod/payments/db",
            "32:22 aws-ssm:/prod/payments/api-key",
            "50:26 k8s-secret:payments/payments-db",
            "34 slot aws_ssm_parameter.api_key value => a remote state backend (state holds secrets in plaintext: keep it out of the repository)",
        ],
    );
}

#[test]
fn dotfiles() {
    check(
        ".env",
        "dotenv",
        &[
            "3:34 env:DB_PASSWORD",
            "5:12 env:SENTRY_DSN",
            &format!("2 slot APP_ENV => {DOTENV}"),
            &format!("4 slot SLACK_BOT_TOKEN => {DOTENV}"),
            &format!("6 slot LOG_LEVEL => {DOTENV}"),
        ],
    );
    check(
        ".npmrc",
        "npmrc",
        &[
            "3:34 env:GITHUB_PACKAGES_TOKEN",
            "4 slot _authToken for //registry.npmjs.org/ => ${NPM_TOKEN}",
        ],
    );
    check(
        ".pypirc",
        "pypirc",
        &[
            "13:12 env:INTERNAL_PYPI_PASSWORD",
            "8 slot password for [pypi] => a keyring or TWINE_PASSWORD",
        ],
    );
    check(
        ".netrc",
        "netrc",
        &[
            &format!("3 slot password for machine api.heroku.com => {NETRC}"),
            &format!("4 slot password for machine github.com => {NETRC}"),
        ],
    );
    check(
        ".git-credentials",
        "git-credentials",
        &["1 slot credential for github.com => a credential helper"],
    );
    check(
        ".docker/config.json",
        "docker-config",
        &["4 slot auth for ghcr.io => a credential helper (credsStore)"],
    );
}

#[test]
fn java_build_config() {
    check(
        "settings.xml",
        "maven-settings",
        &[
            "7:17 env:NEXUS_PASSWORD",
            "12 slot server github password => ${env.GITHUB_PASSWORD}",
        ],
    );
    check(
        "gradle.properties",
        "gradle-properties",
        &[
            "4 slot artifactoryPassword => ORG_GRADLE_PROJECT_artifactoryPassword in the environment, or ~/.gradle/gradle.properties",
            "5 slot githubToken => ORG_GRADLE_PROJECT_githubToken in the environment, or ~/.gradle/gradle.properties",
        ],
    );
    check(
        "src/main/resources/application.properties",
        "spring-config",
        &[
            "4:28 env:DB_PASSWORD",
            "5:16 env:STRIPE_API_KEY",
            "6 slot slack.bot-token => ${SLACK_BOT_TOKEN}",
        ],
    );
}

#[test]
fn commands_in_any_file() {
    check(
        "scripts/rotate.sh",
        "shell",
        &[
            "3:15 vault:secret/payments/db#password",
            "4:14 aws-sm:prod/payments/stripe",
            "5:14 aws-ssm:/prod/payments/sentry-dsn",
            "6:10 vault:secret/legacy/ci#token",
            "8:20 aws-sm:prod/payments/webhook",
            "9:20 aws-ssm:/prod/payments/api-key",
        ],
    );
    let ctx = analyze(
        "docs/ops.md",
        b"Run `vault read secret/ci` or\n`aws ssm get-parameters --names /a/b /a/c --with-decryption`.\n\
          Policy: arn:aws:secretsmanager:*:*:secret:prod/*\n",
    );
    assert_eq!(
        render(&ctx),
        [
            "1:6 vault:secret/ci",
            "2:2 aws-ssm:/a/b",
            "2:2 aws-ssm:/a/c"
        ]
    );
    assert_eq!(analyze("src/lib.rs", b"fn main() {}\n").references, vec![]);
}

#[test]
fn malformed_files_warn_at_the_failing_line() {
    check(
        "infra/broken.tf",
        "terraform",
        &["6 warning HCL does not parse (invalid block body; expected `}`, newline or identifier); scanned as plain text"],
    );
    check(
        "infra/prod.tfvars",
        "terraform-vars",
        &["2 warning HCL does not parse (expected newline or eof); scanned as plain text"],
    );
    check(
        "infra/terraform.tfstate",
        "terraform-state",
        &["4 warning JSON does not parse (expected `,` or `}` at line 4 column 123); scanned as plain text"],
    );
    check(
        "home/.docker/config.json",
        "docker-config",
        &["7 warning JSON does not parse (EOF while parsing an object at line 7 column 0); scanned as plain text"],
    );
    check(
        ".m2/settings.xml",
        "maven-settings",
        &["5 warning XML does not parse (`<password>` is not closed before the next element); scanned as plain text"],
    );
}

/// Bad input is normal input: every prefix of every fixture analyzes without panicking.
#[test]
fn truncated_fixtures_never_panic() {
    for (path, bytes) in FIXTURES {
        for end in 0..bytes.len() {
            let _ = analyze(path, &bytes[..end]);
        }
        let mut garbled = bytes.to_vec();
        garbled.iter_mut().step_by(7).for_each(|b| *b = 0xFF);
        let _ = analyze(path, &garbled);
    }
}

/// Inline files for forms the fixtures do not show.
fn inline(path: &str, text: &str) -> Vec<String> {
    render(&analyze(path, text.as_bytes()))
}

#[test]
fn terraform_object_values_and_computed_names() {
    assert_eq!(
        inline(
            "k8s.tf",
            "resource \"kubernetes_secret_v1\" \"api\" {\n  metadata {\n    name = \"api\"\n  }\n  data = {\n    api_token = \"tok-1\"\n    url       = \"https://api\"\n  }\n}\n\
             data \"aws_secretsmanager_secret\" \"x\" {\n  name = \"${var.env}/x\"\n}\n\
             resource \"aws_secretsmanager_secret_version\" \"v\" {\n  secret_string = jsonencode({ user = \"app\", password = \"pw-1\" })\n}\n"
        ),
        [
            "3:13 k8s-secret:api",
            "6 slot resource \"kubernetes_secret_v1\" \"api\" data.api_token => var.api_token (sensitive) or a data source",
            "14 slot resource \"aws_secretsmanager_secret_version\" \"v\" secret_string.password => var.password (sensitive) or a data source",
        ]
    );
}

#[test]
fn jenkins_registry_agent_and_labelled_steps() {
    assert_eq!(
        inline(
            "Jenkinsfile",
            "environment {\n  URL = 'https://ghcr.io' // where images go\n}\n\
             docker.withRegistry('https://ghcr.io', 'ghcr-push') { img.push() }\n\
             sshagent(credentials: ['deploy-key']) {\n  sh label: 'ship', script: 'rsync -e ssh dist/ $DEPLOY_HOST:/srv && echo $f'\n}\n"
        ),
        [
            "4:41 jenkins-credential:ghcr-push",
            "5:25 jenkins-credential:deploy-key",
            "6:49 env:DEPLOY_HOST",
            "2 slot environment URL => credentials('<credential id>')",
        ]
    );
}

#[test]
fn vault_flags_with_spaces_and_dockerfile_legacy_env() {
    assert_eq!(
        inline(
            "ci.sh",
            "vault kv get -mount secret -field password payments/db\n"
        ),
        ["1:1 vault:secret/payments/db#password"]
    );
    assert_eq!(
        inline(
            "Dockerfile",
            "FROM alpine\nENV API_TOKEN abc123def456\nRUN curl -H \"Authorization: $API_TOKEN\" $BASE_URL\n\
             RUN VERSION=$(cat VERSION) && for PKG in a b; do echo $PKG $VERSION $MIRROR; done\n"
        ),
        [
            "3:41 env:BASE_URL",
            "4:69 env:MIRROR",
            "2 slot ENV API_TOKEN => a BuildKit secret (RUN --mount=type=secret,id=API_TOKEN)",
        ]
    );
}

#[test]
fn dotfile_quoting_and_maven_proxies() {
    assert_eq!(
        inline(
            ".env.local",
            "A='$NOT_A_REF'\nB=\"${REF}\"\nC=\nD_FILE=/run/secrets/d\n"
        ),
        ["2:4 env:REF", &format!("4 slot D_FILE => {DOTENV}"),]
    );
    assert_eq!(
        inline(
            "settings.xml",
            "<proxies><proxy>\n<id>corp</id>\n<password>hunter2-proxy</password>\n</proxy></proxies>\n"
        ),
        ["3 slot proxy corp password => ${env.CORP_PASSWORD}"]
    );
}

#[test]
fn credential_names() {
    use super::is_credential_name;
    for yes in [
        "DB_PASSWORD",
        "githubToken",
        "api-key",
        "secret_string",
        "npmAuth",
    ] {
        assert!(is_credential_name(yes), "{yes}");
    }
    for no in [
        "secret_id",
        "tokenName",
        "PASSWORD_FILE",
        "secretArn",
        "region",
    ] {
        assert!(!is_credential_name(no), "{no}");
    }
}

#[test]
fn registry_credentials_in_their_other_forms() {
    assert_eq!(
        inline(
            "ci/.docker/config.json",
            "{\"auths\": {\"registry.example.com\": {\"identitytoken\": \"eyJhbGciOi-token\"}}}"
        ),
        ["1 slot identitytoken for registry.example.com => a credential helper (credsStore)"]
    );
    assert_eq!(
        inline(".npmrc", "_auth=dXNlcjpwYXNzd29yZA==\n"),
        ["1 slot _auth for the default registry => ${NPM_TOKEN}"]
    );
    assert_eq!(
        inline(".pypirc", "[testpypi]\npassword: pypi-secret-value\n"),
        ["2 slot password for [testpypi] => a keyring or TWINE_PASSWORD"]
    );
    assert_eq!(
        inline(
            ".netrc",
            "machine ftp.example.com login u password p-1\nmacdef init\ncd /pub\npassword x\n\n\
             default login anonymous password s3cr3t-pass\n"
        ),
        [
            format!("1 slot password for machine ftp.example.com => {NETRC}"),
            format!("6 slot password for machine default => {NETRC}"),
        ]
    );
}
