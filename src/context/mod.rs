//! Context: what kind of file a chunk is (CI config, manifest, env file…), so findings can name it.

/// Names the kind of file from its path and, for YAML, a glance at its content.
pub fn file_kind(path: &str, bytes: &[u8]) -> &'static str {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    let is_yaml = matches!(ext, "yml" | "yaml");
    if is_yaml && (lower.starts_with(".github/workflows/") || lower.contains("/.github/workflows/"))
    {
        return "github-actions";
    }
    if is_yaml && (name == "action.yml" || name == "action.yaml") {
        return "github-action";
    }
    match name {
        ".gitlab-ci.yml" => return "gitlab-ci",
        "jenkinsfile" => return "jenkinsfile",
        "dockerfile" => return "dockerfile",
        "docker-compose.yml" | "docker-compose.yaml" | "compose.yml" | "compose.yaml" => {
            return "docker-compose"
        }
        ".npmrc" => return "npmrc",
        ".pypirc" => return "pypirc",
        ".netrc" | "_netrc" => return "netrc",
        ".git-credentials" => return "git-credentials",
        "settings.xml" => return "maven-settings",
        "gradle.properties" => return "gradle-properties",
        "kustomization.yaml" | "kustomization.yml" => return "kustomize",
        "bitbucket-pipelines.yml" => return "bitbucket-pipelines",
        "azure-pipelines.yml" | "azure-pipelines.yaml" => return "azure-pipelines",
        _ => {}
    }
    if lower.contains(".circleci/") && is_yaml {
        return "circleci";
    }
    if name == ".env" || name.starts_with(".env.") || ext == "env" {
        return "dotenv";
    }
    if is_yaml && name.starts_with("values") {
        return "helm-values";
    }
    if is_yaml && looks_like_k8s(bytes) {
        return "k8s-manifest";
    }
    match ext {
        "tf" | "tfvars" => "terraform",
        "tfstate" => "terraform-state",
        "yml" | "yaml" => "yaml",
        "json" => "json",
        "ipynb" => "notebook",
        "properties" => "properties",
        "toml" => "toml",
        "xml" => "xml",
        "pem" | "key" => "key-file",
        "py" | "js" | "jsx" | "ts" | "tsx" | "go" | "java" | "kt" | "rb" | "php" | "cs" | "rs"
        | "c" | "cc" | "cpp" | "h" | "swift" | "scala" | "sh" | "bash" | "ps1" => "source",
        _ => "text",
    }
}

fn looks_like_k8s(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    memchr::memmem::find(head, b"apiVersion:").is_some()
        && memchr::memmem::find(head, b"kind:").is_some()
}

#[cfg(test)]
mod tests {
    use super::file_kind;

    #[test]
    fn kinds_by_path_and_content() {
        assert_eq!(file_kind(".github/workflows/ci.yml", b""), "github-actions");
        assert_eq!(
            file_kind("deploy/app.yaml", b"apiVersion: v1\nkind: Secret\n"),
            "k8s-manifest"
        );
        assert_eq!(file_kind("svc/.env.production", b""), "dotenv");
        assert_eq!(file_kind("src/main.py", b""), "source");
    }
}
