//! Extraction on the fixture files of every YAML kind, asserted exactly.

use crate::context::{analyze, FileContext};

/// The context of a fixture under `fixtures/formats/`, as readable lines:
/// `R line:col reference`, `S line name => expected`, `I line target`, `W warning`.
fn lines(ctx: &FileContext) -> Vec<String> {
    let refs = ctx
        .references
        .iter()
        .map(|r| format!("R {}:{} {}", r.line, r.column, r.reference));
    let slots = ctx
        .slots
        .iter()
        .map(|s| format!("S {} {} => {}", s.line, s.name, s.expected));
    let includes = ctx
        .includes
        .iter()
        .map(|i| format!("I {} {}", i.line, i.target));
    let warnings = ctx.warnings.iter().map(|w| format!("W {w}"));
    refs.chain(slots).chain(includes).chain(warnings).collect()
}

macro_rules! fixture {
    ($path:literal) => {
        analyze(
            $path,
            include_bytes!(concat!("../../../fixtures/formats/", $path)),
        )
    };
}

#[test]
fn github_workflow() {
    let ctx = fixture!("github-actions/.github/workflows/deploy.yml");
    assert_eq!(ctx.kind, "github-actions");
    assert_eq!(
        lines(&ctx),
        [
            "R 13:26 github-secret:AWS_ACCESS_KEY_ID",
            "R 14:30 github-secret:AWS_SECRET_ACCESS_KEY",
            "R 23:47 env:SENTRY_AUTH_TOKEN",
            "R 27:24 github-secret:SLACK_BOT_TOKEN",
            "R 27:24 github-secret:SLACK_TOKEN",
            "S 6 env.REGISTRY => ${{ secrets.REGISTRY }}",
            "S 7 env.AWS_REGION => ${{ secrets.AWS_REGION }}",
            "S 19 jobs.deploy.steps[1].env.DEPLOY_TOKEN => ${{ secrets.DEPLOY_TOKEN }}",
        ]
    );
}

#[test]
fn github_composite_action() {
    let ctx = fixture!("github-action/.github/actions/publish/action.yml");
    assert_eq!(ctx.kind, "github-action");
    assert_eq!(
        lines(&ctx),
        [
            "R 19:16 github-secret:ARTIFACT_TOKEN",
            "S 13 runs.steps[0].env.SLACK_WEBHOOK_TOKEN => ${{ secrets.SLACK_WEBHOOK_TOKEN }}",
        ]
    );
}

#[test]
fn gitlab_ci() {
    let ctx = fixture!("gitlab-ci/.gitlab-ci.yml");
    assert_eq!(ctx.kind, "gitlab-ci");
    assert_eq!(
        lines(&ctx),
        [
            "R 23:14 vault:ops/production/db#password",
            "R 25:13 gitlab-variable:REGISTRY_PASSWORD",
            "R 26:28 gitlab-variable:PROD_DEPLOY_TOKEN",
            "S 11 variables.DEPLOY_PASSWORD => $DEPLOY_PASSWORD from a masked CI/CD variable",
            "S 13 variables.SLACK_TOKEN => $SLACK_TOKEN from a masked CI/CD variable",
            "I 2 /ci/templates/build.yml",
            "I 5 platform/ci-templates:/templates/deploy.yml@v3.2.0",
            "I 6 https://gitlab.example.com/shared/raw/main/lint.yml",
            "I 7 Security/SAST.gitlab-ci.yml",
        ]
    );
}

#[test]
fn circleci() {
    let ctx = fixture!("circleci/.circleci/config.yml");
    assert_eq!(ctx.kind, "circleci");
    assert_eq!(
        lines(&ctx),
        [
            "R 8:21 env:DOCKERHUB_PASSWORD",
            "R 14:53 env:NPM_PUBLISH_TOKEN",
            "S 10 jobs.publish.environment.NODE_ENV => $NODE_ENV from a project or context environment variable",
            "S 11 jobs.publish.environment.NPM_TOKEN => $NPM_TOKEN from a project or context environment variable",
            "I 20 npm-publishing",
        ]
    );
}

#[test]
fn azure_pipelines() {
    let ctx = fixture!("azure-pipelines/azure-pipelines.yml");
    assert_eq!(ctx.kind, "azure-pipelines");
    assert_eq!(
        lines(&ctx),
        [
            "R 14:39 env:ARM_CLIENT_ID",
            "R 14:59 env:ARM_CLIENT_SECRET",
            "R 15:21 env:NUGET_API_KEY",
            "S 8 variables.buildConfiguration => $(buildConfiguration) from a secret variable or variable group",
            "S 10 variables.SONAR_TOKEN => $(SONAR_TOKEN) from a secret variable or variable group",
            "I 6 prod-credentials",
        ]
    );
}

#[test]
fn bitbucket_pipelines() {
    let ctx = fixture!("bitbucket-pipelines/bitbucket-pipelines.yml");
    assert_eq!(ctx.kind, "bitbucket-pipelines");
    assert_eq!(
        lines(&ctx),
        [
            "R 11:36 env:AWS_ACCESS_KEY_ID",
            "R 15:54 env:SLACK_TOKEN",
            "S 12 pipelines.branches.main[0].step.script[0].variables.AWS_SECRET_ACCESS_KEY => $AWS_SECRET_ACCESS_KEY from a secured repository or deployment variable",
            "S 13 pipelines.branches.main[0].step.script[0].variables.AWS_ACCESS_KEY_ID_LEGACY => $AWS_ACCESS_KEY_ID_LEGACY from a secured repository or deployment variable",
            "S 14 pipelines.branches.main[0].step.script[0].variables.S3_BUCKET => $S3_BUCKET from a secured repository or deployment variable",
        ]
    );
}

#[test]
fn k8s_manifest() {
    let ctx = fixture!("k8s-manifest/deployment.yaml");
    assert_eq!(ctx.kind, "k8s-manifest");
    assert_eq!(
        lines(&ctx),
        [
            "R 15:53 vault:secret/data/payments/db",
            "R 19:17 k8s-secret:payments/ghcr-pull",
            "R 25:23 k8s-secret:payments/api-env",
            "R 35:25 k8s-secret:payments/payments-db#password",
            "R 44:25 k8s-secret:payments/api-tls",
            "R 49:25 k8s-secret:payments/gcp-sa",
            "R 73:9 k8s-secret:payments/payments-db",
            "R 85:11 k8s-secret:payments/api-token-legacy",
            "R 87:11 k8s-secret:payments/ghcr-pull",
            "S 31 Deployment api / container app / env LOG_LEVEL => valueFrom.secretKeyRef",
            "S 38 Deployment api / container app / env GITHUB_TOKEN => valueFrom.secretKeyRef",
            "S 68 CronJob nightly-report / container report / env SLACK_TOKEN => valueFrom.secretKeyRef",
        ]
    );
}

#[test]
fn external_secret() {
    let ctx = fixture!("external-secret/external-secrets.yaml");
    assert_eq!(ctx.kind, "external-secret");
    assert_eq!(
        lines(&ctx),
        [
            "R 13:19 k8s-secret:external-secrets/aws-eso-creds#access-key-id",
            "R 17:19 k8s-secret:external-secrets/aws-eso-creds#secret-access-key",
            "R 32:11 k8s-secret:payments/payments-db-credentials",
            "R 36:14 aws-ssm:/prod/payments/db#password",
            "R 42:9 k8s-secret:payments/stripe",
            "R 50:14 vault:secret/payments/stripe",
            "R 65:17 k8s-secret:payments/vault-token#token",
            "R 71:9 k8s-secret:payments/vault-token",
        ]
    );
}

#[test]
fn sealed_secret() {
    let ctx = fixture!("sealed-secret/sealed-db.yaml");
    assert_eq!(ctx.kind, "sealed-secret");
    assert_eq!(
        lines(&ctx),
        [
            "R 4:9 k8s-secret:orders/orders-db",
            "R 11:13 k8s-secret:orders/orders-db",
            "R 30:38 k8s-secret:orders/orders-db#password",
            "S 27 Deployment orders / container orders / env STRIPE_KEY => valueFrom.secretKeyRef",
        ]
    );
}

#[test]
fn helm_values() {
    let ctx = fixture!("helm-values/charts/api/values.yaml");
    assert_eq!(ctx.kind, "helm-values");
    assert_eq!(
        lines(&ctx),
        [
            "R 6:11 k8s-secret:ghcr-pull",
            "R 10:21 k8s-secret:api-postgresql#password",
            "R 19:15 k8s-secret:api-sentry#dsn",
            "R 22:15 k8s-secret:api-tls",
            "S 14 redis.auth.password => existingSecret (a Kubernetes Secret) or --set at deploy time",
        ]
    );
}

#[test]
fn kustomize() {
    let ctx = fixture!("kustomize/overlays/prod/kustomization.yaml");
    assert_eq!(ctx.kind, "kustomize");
    assert_eq!(
        lines(&ctx),
        [
            "R 12:11 k8s-secret:payments/api-env",
            "R 15:11 k8s-secret:payments/api-tokens",
            "S 17 secretGenerator api-tokens / literal LOG_LEVEL => envs: or files: kept out of the repository",
            "S 18 secretGenerator api-tokens / literal GITHUB_TOKEN => envs: or files: kept out of the repository",
            "I 5 ../../base",
            "I 6 ingress.yaml",
            "I 8 ../../components/monitoring",
            "I 10 replicas.yaml",
            "I 14 secrets.env",
        ]
    );
}

#[test]
fn docker_compose() {
    let ctx = fixture!("docker-compose/docker-compose.yml");
    assert_eq!(ctx.kind, "docker-compose");
    assert_eq!(
        lines(&ctx),
        [
            "R 3:29 env:API_TAG",
            "R 7:36 env:POSTGRES_PASSWORD",
            "R 16:22 env:GITHUB_TOKEN",
            "R 17:9 env:NPM_TOKEN",
            "R 22:18 env:REGISTRY_TOKEN",
            "S 8 services.api.environment.STRIPE_SECRET_KEY => ${STRIPE_SECRET_KEY} or a compose secrets: entry",
            "S 14 services.worker.environment.QUEUE_URL => ${QUEUE_URL} or a compose secrets: entry",
            "S 15 services.worker.environment.SLACK_TOKEN => ${SLACK_TOKEN} or a compose secrets: entry",
            "I 5 .env.api",
            "I 20 ./secrets/sentry_dsn.txt",
        ]
    );
}

#[test]
fn spring_config() {
    let ctx = fixture!("spring-config/src/main/resources/application.yml");
    assert_eq!(ctx.kind, "spring-config");
    assert_eq!(
        lines(&ctx),
        [
            "R 7:15 env:DB_PASSWORD",
            "R 9:15 env:MAIL_PASSWORD",
            "S 13 app.github.api-token => ${APP_GITHUB_APITOKEN}",
        ]
    );
}

#[test]
fn malformed_yaml_is_a_warning_with_its_line_and_nothing_else() {
    let ctx = fixture!("malformed-yaml/.github/workflows/release.yml");
    assert_eq!(ctx.kind, "github-actions");
    assert_eq!(
        lines(&ctx),
        ["W warning[malformed-config]: malformed-yaml/.github/workflows/release.yml:8: YAML does not parse (while parsing a block mapping, did not find expected key); scanned as plain text"]
    );
}

/// Each YAML kind with a parse error: one warning naming the line, no references.
#[test]
fn malformed_yaml_of_every_kind() {
    let broken = b"a: [unclosed\nb: ${{ secrets.X }} $Y\n";
    for path in [
        ".github/workflows/ci.yml",
        ".github/actions/x/action.yml",
        ".gitlab-ci.yml",
        ".circleci/config.yml",
        "azure-pipelines.yml",
        "bitbucket-pipelines.yml",
        "charts/app/values.yaml",
        "kustomization.yaml",
        "docker-compose.yml",
        "src/main/resources/application.yml",
    ] {
        let ctx = analyze(path, broken);
        assert_eq!(ctx.warnings.len(), 1, "{path}");
        assert_eq!(ctx.warnings[0].line, Some(2), "{path}");
        assert!(ctx.references.is_empty() && ctx.slots.is_empty(), "{path}");
    }
    let manifest = b"apiVersion: v1\nkind: Secret\nmetadata: {name: x\n";
    for path in ["deploy/app.yaml", "deploy/es.yaml"] {
        let ctx = analyze(path, manifest);
        assert_eq!(ctx.warnings.len(), 1, "{path}");
    }
}

/// Every prefix of every fixture parses or fails without a panic, and never yields
/// a reference or slot outside the text it was given.
#[test]
fn truncated_fixtures_never_panic() {
    let files: &[(&str, &[u8])] = &[
        (
            ".github/workflows/deploy.yml",
            include_bytes!("../../../fixtures/formats/github-actions/.github/workflows/deploy.yml"),
        ),
        (
            ".gitlab-ci.yml",
            include_bytes!("../../../fixtures/formats/gitlab-ci/.gitlab-ci.yml"),
        ),
        (
            "deploy/deployment.yaml",
            include_bytes!("../../../fixtures/formats/k8s-manifest/deployment.yaml"),
        ),
        (
            "deploy/es.yaml",
            include_bytes!("../../../fixtures/formats/external-secret/external-secrets.yaml"),
        ),
        (
            "docker-compose.yml",
            include_bytes!("../../../fixtures/formats/docker-compose/docker-compose.yml"),
        ),
    ];
    for (path, bytes) in files {
        let total = bytes.iter().filter(|b| **b == b'\n').count() as u32 + 1;
        for end in (0..bytes.len()).step_by(7) {
            let ctx = analyze(path, &bytes[..end]);
            assert!(ctx.references.iter().all(|r| r.line <= total), "{path}");
            assert!(ctx.slots.iter().all(|s| s.line <= total), "{path}");
        }
    }
}

#[test]
fn other_kinds_are_left_alone() {
    for path in [
        "notes.yaml",
        "charts/app/templates/secret.yaml",
        "src/main.rs",
    ] {
        let ctx = analyze(path, b"token: ${{ secrets.X }} {{ .Values.x }}\n");
        assert!(
            ctx.references.is_empty() && ctx.warnings.is_empty(),
            "{path}"
        );
    }
}

/// A byte-order mark and CRLF line ends move nothing; invalid UTF-8 is a warning on its line.
#[test]
fn bom_crlf_and_invalid_utf8() {
    let ctx = analyze(
        ".github/workflows/ci.yml",
        "\u{feff}on: push\r\nenv:\r\n  TOKEN: ${{ secrets.CI_TOKEN }}\r\n".as_bytes(),
    );
    assert_eq!(lines(&ctx), ["R 3:10 github-secret:CI_TOKEN"]);
    let ctx = analyze(".gitlab-ci.yml", b"a: 1\nb: \xff\n");
    assert_eq!(ctx.warnings.len(), 1);
    assert_eq!(ctx.warnings[0].line, Some(2));
}
