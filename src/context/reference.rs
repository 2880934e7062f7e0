//! Reference strings (DESIGN §4): `scheme:name`, how CI config and manifests name a
//! credential without holding its value.

use std::fmt;
use std::str::FromStr;

/// Where a referenced credential lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scheme {
    /// A GitHub Actions secret, `${{ secrets.NAME }}`.
    GithubSecret,
    /// A GitLab CI/CD variable, `$NAME` in `.gitlab-ci.yml`.
    GitlabVariable,
    /// An environment variable, `$NAME` / `${NAME}` elsewhere.
    Env,
    /// A Kubernetes Secret: `[namespace/]name[#key]`.
    K8sSecret,
    /// A HashiCorp Vault path, optionally `#field`.
    Vault,
    /// An AWS Secrets Manager secret name.
    AwsSm,
    /// An AWS Systems Manager parameter name.
    AwsSsm,
    /// A Jenkins credential id, `credentials('ID')` / `credentialsId: 'ID'`.
    JenkinsCredential,
}

impl Scheme {
    pub const ALL: &'static [Scheme] = &[
        Scheme::GithubSecret,
        Scheme::GitlabVariable,
        Scheme::Env,
        Scheme::K8sSecret,
        Scheme::Vault,
        Scheme::AwsSm,
        Scheme::AwsSsm,
        Scheme::JenkinsCredential,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::GithubSecret => "github-secret",
            Scheme::GitlabVariable => "gitlab-variable",
            Scheme::Env => "env",
            Scheme::K8sSecret => "k8s-secret",
            Scheme::Vault => "vault",
            Scheme::AwsSm => "aws-sm",
            Scheme::AwsSsm => "aws-ssm",
            Scheme::JenkinsCredential => "jenkins-credential",
        }
    }

    fn names() -> String {
        Scheme::ALL
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A parsed `scheme:name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference {
    pub scheme: Scheme,
    pub name: String,
}

impl Reference {
    pub fn new(scheme: Scheme, name: impl Into<String>) -> Reference {
        Reference {
            scheme,
            name: name.into(),
        }
    }

    /// The lookup key: references that may cover each other share it. A `#key`
    /// (a field of the secret: Kubernetes key, Vault field, ExternalSecret property) is dropped.
    /// GitHub secret names are case-insensitive; Kubernetes names drop namespace and key;
    /// Vault KV v2 API paths (`mount/data/path`) and ARN-style or `/`-led names are normalised.
    pub fn key(&self) -> (Scheme, String) {
        let (path, _) = split_key(&self.name);
        let name = match self.scheme {
            Scheme::GithubSecret => path.to_ascii_uppercase(),
            Scheme::K8sSecret => path.rsplit('/').next().unwrap_or(path).to_string(),
            Scheme::Vault => vault_path(path),
            Scheme::AwsSsm => path.trim_start_matches('/').to_string(),
            _ => path.to_string(),
        };
        (self.scheme, name)
    }

    /// Whether this reference (as an inventory lists it) covers `found` (as a file uses it):
    /// same key, and where both name a namespace or a `#key`, the same one. An inventory
    /// entry without a `#key` covers every key of that secret, and a use without one
    /// (`envFrom`) is covered by any entry for the secret.
    pub fn covers(&self, found: &Reference) -> bool {
        if self.key() != found.key() {
            return false;
        }
        let (a_path, a_key) = split_key(&self.name);
        let (b_path, b_key) = split_key(&found.name);
        let same = |a: Option<&str>, b: Option<&str>| a.is_none() || b.is_none() || a == b;
        let ns = |p: &str| p.rsplit_once('/').map(|(ns, _)| ns).map(str::to_string);
        let namespaces_agree =
            self.scheme != Scheme::K8sSecret || same(ns(a_path).as_deref(), ns(b_path).as_deref());
        namespaces_agree && same(a_key, b_key)
    }
}

/// `path#key` → (`path`, Some(`key`)).
fn split_key(name: &str) -> (&str, Option<&str>) {
    match name.split_once('#') {
        Some((p, k)) if !k.is_empty() => (p, Some(k)),
        Some((p, _)) => (p, None),
        None => (name, None),
    }
}

/// A Vault path without leading `/` and without the KV v2 `data/` segment after the mount.
fn vault_path(path: &str) -> String {
    let path = path.trim_matches('/');
    match path.split_once('/') {
        Some((mount, rest)) => match rest.strip_prefix("data/") {
            Some(rest) => format!("{mount}/{rest}"),
            None => path.to_string(),
        },
        None => path.to_string(),
    }
}

impl Reference {
    /// Checks `scheme:name` without building it (an inventory of 100,000 entries
    /// validates every reference on load).
    pub fn validate(s: &str) -> Result<(Scheme, &str), String> {
        let Some((scheme, name)) = s.split_once(':') else {
            return Err(format!(
                "reference `{s}` has no scheme: write scheme:name with a scheme among {}",
                Scheme::names()
            ));
        };
        let Some(&scheme) = Scheme::ALL.iter().find(|k| k.as_str() == scheme) else {
            return Err(format!(
                "unknown reference scheme `{scheme}` in `{s}` (known: {})",
                Scheme::names()
            ));
        };
        if name.trim().is_empty() {
            return Err(format!("reference `{s}` has an empty name"));
        }
        Ok((scheme, name))
    }
}

impl FromStr for Reference {
    type Err = String;

    fn from_str(s: &str) -> Result<Reference, String> {
        let (scheme, name) = Reference::validate(s)?;
        Ok(Reference::new(scheme, name))
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.scheme.as_str(), self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Reference {
        s.parse().expect("reference")
    }

    #[test]
    fn parses_and_prints_every_scheme() {
        for s in Scheme::ALL {
            let text = format!("{}:NAME", s.as_str());
            assert_eq!(r(&text).to_string(), text);
        }
        assert!("nope:X"
            .parse::<Reference>()
            .unwrap_err()
            .contains("unknown reference scheme"));
        assert!("env"
            .parse::<Reference>()
            .unwrap_err()
            .contains("no scheme"));
        assert!("env: "
            .parse::<Reference>()
            .unwrap_err()
            .contains("empty name"));
    }

    #[test]
    fn inventory_entries_cover_uses() {
        assert!(r("github-secret:Deploy_Token").covers(&r("github-secret:DEPLOY_TOKEN")));
        assert!(!r("env:DEPLOY_TOKEN").covers(&r("env:deploy_token")));
        assert!(r("k8s-secret:db-creds").covers(&r("k8s-secret:prod/db-creds#password")));
        assert!(r("k8s-secret:prod/db-creds#password").covers(&r("k8s-secret:db-creds")));
        assert!(!r("k8s-secret:prod/db-creds").covers(&r("k8s-secret:dev/db-creds")));
        assert!(!r("k8s-secret:db-creds#user").covers(&r("k8s-secret:db-creds#password")));
        assert!(r("vault:secret/payments/deploy").covers(&r("vault:secret/data/payments/deploy")));
        assert!(r("aws-ssm:/prod/db/password").covers(&r("aws-ssm:prod/db/password")));
        assert!(!r("aws-sm:prod/db").covers(&r("vault:prod/db")));
        assert!(r("aws-ssm:/prod/db").covers(&r("aws-ssm:/prod/db#password")));
        assert!(r("aws-sm:prod/db").covers(&r("aws-sm:prod/db#password")));
        assert!(!r("aws-sm:prod/db#user").covers(&r("aws-sm:prod/db#password")));
    }
}
