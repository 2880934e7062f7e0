//! Holes in a verification scope (DESIGN §6): what the scan could not cover, so that a
//! clean result over it proves nothing. A verdict over a scope with holes is inconclusive.

use super::record::Hole;
use crate::diag::{Code, Diagnostic};

/// Whether a warning of this code means part of the scope was not read.
///
/// Warnings that only say how something was read (invalid UTF-8 scanned as bytes, a
/// malformed config scanned as text, a non-UTF-8 path shown lossily) leave no hole.
pub fn leaves_hole(code: Code) -> bool {
    match code {
        Code::UnreadableFile
        | Code::UnreadableDirectory
        | Code::FileTooLarge
        | Code::WalkError
        | Code::NothingScanned
        | Code::UnreadableRepository
        | Code::ShallowClone
        | Code::BrokenRef
        | Code::MissingGitObject
        | Code::CorruptGitObject
        | Code::GitSubmodule
        | Code::BlobTooLarge
        | Code::LfsPointer
        | Code::ArchiveSkipped => true,
        Code::InvalidUtf8
        | Code::SymlinkLoop
        | Code::UnusedAllowlistEntry
        | Code::UnknownRuleId
        | Code::EmptyRepository
        | Code::NonUtf8Path
        | Code::NothingStaged
        | Code::MalformedConfig
        | Code::CacheDiscarded
        | Code::StaleBaselineEntry
        | Code::SarifResultsDropped => false,
    }
}

/// Splits the warnings of one repository into holes and the rest (as printed lines).
pub fn classify(repo: &str, warnings: &[Diagnostic]) -> (Vec<Hole>, Vec<String>) {
    let mut holes = Vec::new();
    let mut rest = Vec::new();
    for w in warnings {
        if leaves_hole(w.code) {
            let place = match w.line {
                Some(line) => format!("{}:{line}", w.path),
                None => w.path.clone(),
            };
            holes.push(Hole {
                repo: repo.to_string(),
                code: w.code.as_str().to_string(),
                message: if place.is_empty() || place == repo {
                    w.message.clone()
                } else {
                    format!("{place}: {}", w.message)
                },
            });
        } else {
            rest.push(w.to_string());
        }
    }
    holes.sort();
    holes.dedup();
    (holes, rest)
}

/// A configured remote of a clone: its name, URL and fetch refspecs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote<'a> {
    pub name: &'a str,
    pub url: &'a str,
    pub fetch: &'a [String],
}

/// Code of the hole a clone leaves when it lacks refs that its host serves.
pub const MISSING_REF_NAMESPACE: &str = "missing-ref-namespace";

/// Ref namespaces a clone's remotes serve but its fetch refspecs do not bring in: a
/// single-branch clone misses the other branches; a clone of a forge misses the
/// pull-request refs (`refs/pull/*` on GitHub and Azure DevOps, `refs/merge-requests/*`
/// on GitLab), which keep commits that a rewrite removed from every branch.
pub fn missing_ref_namespaces(repo: &str, remotes: &[Remote<'_>]) -> Vec<Hole> {
    let mut holes = Vec::new();
    for r in remotes {
        let sources: Vec<&str> = r
            .fetch
            .iter()
            .map(|s| s.trim_start_matches('+').split(':').next().unwrap_or(""))
            .collect();
        let covers = |namespace: &str| {
            sources
                .iter()
                .any(|s| *s == "refs/*" || *s == format!("{namespace}/*"))
        };
        let mut wanted = vec!["refs/heads"];
        wanted.extend(forge_review_namespace(r.url));
        for namespace in wanted {
            if !covers(namespace) {
                holes.push(Hole {
                    repo: repo.to_string(),
                    code: MISSING_REF_NAMESPACE.to_string(),
                    message: format!(
                        "remote `{}` ({}) serves {namespace}/* but this clone does not fetch it; mirror it (git clone --mirror, or git fetch {} '+{namespace}/*:{namespace}/*') and verify again",
                        r.name, r.url, r.name
                    ),
                });
            }
        }
    }
    holes.sort();
    holes.dedup();
    holes
}

/// The namespace where a forge keeps review refs, known from the remote's URL.
fn forge_review_namespace(url: &str) -> Option<&'static str> {
    let host = host_of(url).to_ascii_lowercase();
    if host.contains("github")
        || host.contains("dev.azure.com")
        || host.contains("visualstudio.com")
    {
        Some("refs/pull")
    } else if host.contains("gitlab") {
        Some("refs/merge-requests")
    } else {
        None
    }
}

/// The host of `scheme://[user@]host[:port]/…` or scp-like `user@host:path`.
fn host_of(url: &str) -> &str {
    let rest = match url.find("://") {
        Some(i) => &url[i + 3..],
        None if url.contains(':') && !url.starts_with('/') => url,
        None => return "",
    };
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let end = rest.find([':', '/']).unwrap_or(rest.len());
    &rest[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote<'a>(url: &'a str, fetch: &'a [String]) -> Remote<'a> {
        Remote {
            name: "origin",
            url,
            fetch,
        }
    }

    fn codes(holes: &[Hole]) -> Vec<String> {
        holes
            .iter()
            .map(|h| {
                h.message
                    .split(" serves ")
                    .nth(1)
                    .unwrap_or("")
                    .split(' ')
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn forge_clones_lack_review_refs_until_mirrored() {
        let normal = ["+refs/heads/*:refs/remotes/origin/*".to_string()];
        let mirror = ["+refs/*:refs/*".to_string()];
        let single = ["+refs/heads/main:refs/remotes/origin/main".to_string()];
        let gh = "https://github.com/acme/api.git";
        assert_eq!(
            codes(&missing_ref_namespaces("api", &[remote(gh, &normal)])),
            ["refs/pull/*"]
        );
        assert!(missing_ref_namespaces("api", &[remote(gh, &mirror)]).is_empty());
        let gl = "git@gitlab.example.com:acme/api.git";
        assert_eq!(
            codes(&missing_ref_namespaces("api", &[remote(gl, &normal)])),
            ["refs/merge-requests/*"]
        );
        // A clone of a plain server misses only what its refspecs leave out.
        let plain = "ssh://git@git.internal:2222/srv/api.git";
        assert!(missing_ref_namespaces("api", &[remote(plain, &normal)]).is_empty());
        assert_eq!(
            codes(&missing_ref_namespaces("api", &[remote(plain, &single)])),
            ["refs/heads/*"]
        );
        let with_pulls = [normal[0].clone(), "+refs/pull/*:refs/pull/*".to_string()];
        assert!(missing_ref_namespaces("api", &[remote(gh, &with_pulls)]).is_empty());
    }

    #[test]
    fn hosts_are_read_from_every_url_form() {
        assert_eq!(host_of("https://user:tok@github.com/a/b.git"), "github.com");
        assert_eq!(host_of("git@gitlab.com:a/b.git"), "gitlab.com");
        assert_eq!(host_of("ssh://git@host:22/x"), "host");
        assert_eq!(host_of("/srv/git/api.git"), "");
        assert_eq!(host_of("file:///srv/git/api.git"), "");
    }

    #[test]
    fn only_unread_parts_are_holes() {
        let w = vec![
            Diagnostic::new(Code::ShallowClone, "api", "shallow clone: …"),
            Diagnostic::new(
                Code::InvalidUtf8,
                "a.txt",
                "not valid UTF-8; scanned as bytes",
            ),
            Diagnostic::new(Code::FileTooLarge, "big.sql", "larger than --max-file-size"),
        ];
        let (holes, rest) = classify("api", &w);
        let codes: Vec<&str> = holes.iter().map(|h| h.code.as_str()).collect();
        assert_eq!(codes, ["file-too-large", "shallow-clone"]);
        assert_eq!(holes[0].message, "big.sql: larger than --max-file-size");
        assert_eq!(rest.len(), 1);
    }
}
