//! File kinds: what a file is (a workflow, a manifest, an env file…), from its path
//! and, where the path cannot tell, a glance at its first bytes.

/// Every structured kind keytrace understands, as `context.file_kind` names it.
/// Files of none of these kinds fall back to a generic kind (`yaml`, `source`, `text`…).
/// The CI configuration and manifest kinds come first: [`CI_AND_MANIFEST_KINDS`] is that prefix.
pub const CONFIG_KINDS: &[&str] = &[
    "github-actions",
    "github-action",
    "gitlab-ci",
    "circleci",
    "azure-pipelines",
    "bitbucket-pipelines",
    "jenkinsfile",
    "k8s-manifest",
    "external-secret",
    "sealed-secret",
    "helm-values",
    "helm-template",
    "kustomize",
    "docker-compose",
    "dockerfile",
    "terraform",
    "terraform-vars",
    // Not CI configuration or manifests from here on.
    "docker-config",
    "terraform-state",
    "dotenv",
    "npmrc",
    "pypirc",
    "netrc",
    "git-credentials",
    "maven-settings",
    "gradle-properties",
    "spring-config",
];

/// The kinds that are CI configuration or deployment manifests: files that name
/// credentials by reference. Their history blobs are searched for references too, since
/// a retired name in an old workflow is residue of a reset (DESIGN §6).
pub const CI_AND_MANIFEST_KINDS: &[&str] = CONFIG_KINDS.split_at(17).0;

/// Names the kind of file from its path and, for YAML and JSON, a glance at its content.
pub fn file_kind(path: &str, bytes: &[u8]) -> &'static str {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    let is_yaml = matches!(ext, "yml" | "yaml");
    let under = |dir: &str| lower.starts_with(dir) || lower.contains(&format!("/{dir}"));
    if let Some(kind) = by_name(name, stem, ext) {
        return kind;
    }
    if is_yaml {
        if under(".github/workflows/") {
            return "github-actions";
        }
        if stem == "action" {
            return "github-action";
        }
        if under(".gitlab/ci/") || stem.ends_with(".gitlab-ci") {
            return "gitlab-ci";
        }
        if under(".circleci/") {
            return "circleci";
        }
        if stem.starts_with("azure-pipelines") || under(".azure-pipelines/") {
            return "azure-pipelines";
        }
        if stem.starts_with("docker-compose") || stem.starts_with("compose.") || stem == "compose" {
            return "docker-compose";
        }
        if matches!(stem, "application" | "bootstrap")
            || stem.starts_with("application-")
            || stem.starts_with("bootstrap-")
        {
            return "spring-config";
        }
        if under("templates/") && memchr::memmem::find(head(bytes), b"{{").is_some() {
            return "helm-template";
        }
        if stem.starts_with("values") {
            return "helm-values";
        }
        if let Some(kind) = k8s_kind(bytes) {
            return kind;
        }
        return "yaml";
    }
    if ext == "json" && (under(".docker/") || stem.ends_with("dockerconfig"))
        || name == ".dockercfg"
        || name == ".dockerconfigjson"
    {
        return "docker-config";
    }
    if ext == "properties"
        && (stem == "application" || stem == "bootstrap" || stem.starts_with("application-"))
    {
        return "spring-config";
    }
    match ext {
        "tf" => "terraform",
        "tfvars" => "terraform-vars",
        "tfstate" => "terraform-state",
        "json" => "json",
        "ipynb" => "notebook",
        "properties" => "properties",
        "toml" => "toml",
        "xml" => "xml",
        "pem" | "key" => "key-file",
        "sh" | "bash" | "zsh" | "ps1" => "shell",
        "py" | "js" | "jsx" | "ts" | "tsx" | "go" | "java" | "kt" | "rb" | "php" | "cs" | "rs"
        | "c" | "cc" | "cpp" | "h" | "swift" | "scala" | "groovy" => "source",
        _ => "text",
    }
}

/// Kinds fixed by the file name alone.
fn by_name(name: &str, stem: &str, ext: &str) -> Option<&'static str> {
    Some(match name {
        ".gitlab-ci.yml" | ".gitlab-ci.yaml" => "gitlab-ci",
        "bitbucket-pipelines.yml" | "bitbucket-pipelines.yaml" => "bitbucket-pipelines",
        "kustomization.yaml" | "kustomization.yml" | "kustomization" => "kustomize",
        "jenkinsfile" => "jenkinsfile",
        "dockerfile" | "containerfile" => "dockerfile",
        ".npmrc" => "npmrc",
        ".pypirc" => "pypirc",
        ".netrc" | "_netrc" => "netrc",
        ".git-credentials" => "git-credentials",
        "settings.xml" | "settings-security.xml" => "maven-settings",
        "gradle.properties" => "gradle-properties",
        "terraform.tfstate.backup" => "terraform-state",
        ".env" => "dotenv",
        _ if stem == "jenkinsfile" || ext == "jenkinsfile" => "jenkinsfile",
        _ if stem == "dockerfile" || ext == "dockerfile" || stem == "containerfile" => "dockerfile",
        _ if name.starts_with(".env.") || ext == "env" => "dotenv",
        _ if name.ends_with(".tfstate.backup") => "terraform-state",
        _ => return None,
    })
}

fn head(bytes: &[u8]) -> &[u8] {
    &bytes[..bytes.len().min(4096)]
}

/// `k8s-manifest`, `external-secret` or `sealed-secret` when the YAML holds Kubernetes objects.
fn k8s_kind(bytes: &[u8]) -> Option<&'static str> {
    let find = |needle: &[u8]| memchr::memmem::find(bytes, needle).is_some();
    if !(find(b"apiVersion:") && find(b"kind:")) {
        return None;
    }
    if find(b"kind: SealedSecret") {
        return Some("sealed-secret");
    }
    if find(b"kind: ExternalSecret")
        || find(b"kind: SecretStore")
        || find(b"kind: ClusterSecretStore")
        || find(b"kind: ClusterExternalSecret")
    {
        return Some("external-secret");
    }
    Some("k8s-manifest")
}

#[cfg(test)]
mod tests {
    use super::{file_kind, CI_AND_MANIFEST_KINDS, CONFIG_KINDS};

    #[test]
    fn ci_and_manifest_kinds_are_the_config_kinds_that_name_credentials() {
        // The prefix ends at the last CI or manifest kind: a kind added to CONFIG_KINDS
        // must be placed on the right side of it.
        assert_eq!(CI_AND_MANIFEST_KINDS.last(), Some(&"terraform-vars"));
        assert_eq!(CONFIG_KINDS[CI_AND_MANIFEST_KINDS.len()], "docker-config");
        assert!(!CI_AND_MANIFEST_KINDS.contains(&"dotenv"));
    }

    #[test]
    fn kinds_by_path_and_content() {
        let cases: &[(&str, &[u8], &str)] = &[
            (".github/workflows/ci.yml", b"", "github-actions"),
            ("svc/.github/workflows/ci.yaml", b"", "github-actions"),
            (".github/actions/deploy/action.yml", b"", "github-action"),
            (".gitlab-ci.yml", b"", "gitlab-ci"),
            (".gitlab/ci/deploy.yml", b"", "gitlab-ci"),
            (".circleci/config.yml", b"", "circleci"),
            ("azure-pipelines.yml", b"", "azure-pipelines"),
            ("bitbucket-pipelines.yml", b"", "bitbucket-pipelines"),
            ("Jenkinsfile", b"", "jenkinsfile"),
            ("ci/deploy.Jenkinsfile", b"", "jenkinsfile"),
            (
                "deploy/app.yaml",
                b"apiVersion: v1\nkind: Secret\n",
                "k8s-manifest",
            ),
            (
                "deploy/es.yaml",
                b"apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\n",
                "external-secret",
            ),
            (
                "deploy/sealed.yaml",
                b"apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n",
                "sealed-secret",
            ),
            ("charts/app/values.yaml", b"", "helm-values"),
            ("charts/app/values-prod.yaml", b"", "helm-values"),
            (
                "charts/app/templates/secret.yaml",
                b"{{ .Values.x }}",
                "helm-template",
            ),
            ("overlays/prod/kustomization.yaml", b"", "kustomize"),
            ("docker-compose.prod.yml", b"", "docker-compose"),
            ("compose.yaml", b"", "docker-compose"),
            ("Dockerfile", b"", "dockerfile"),
            ("build/api.Dockerfile", b"", "dockerfile"),
            ("home/.docker/config.json", b"", "docker-config"),
            ("infra/main.tf", b"", "terraform"),
            ("infra/prod.tfvars", b"", "terraform-vars"),
            ("infra/terraform.tfstate", b"", "terraform-state"),
            ("infra/terraform.tfstate.backup", b"", "terraform-state"),
            ("svc/.env.production", b"", "dotenv"),
            (".npmrc", b"", "npmrc"),
            (".pypirc", b"", "pypirc"),
            (".netrc", b"", "netrc"),
            (".git-credentials", b"", "git-credentials"),
            (".m2/settings.xml", b"", "maven-settings"),
            ("gradle.properties", b"", "gradle-properties"),
            ("src/main/resources/application.yml", b"", "spring-config"),
            (
                "src/main/resources/application-prod.properties",
                b"",
                "spring-config",
            ),
            ("src/main.py", b"", "source"),
            ("scripts/deploy.sh", b"", "shell"),
            ("notes.yaml", b"a: 1", "yaml"),
        ];
        for (path, bytes, kind) in cases {
            assert_eq!(file_kind(path, bytes), *kind, "{path}");
        }
    }
}
