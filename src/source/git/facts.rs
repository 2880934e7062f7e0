//! What a repository is, for the scope of a scan: HEAD, branch, remotes, ref namespaces,
//! shallowness. Read once per repository, whether its tree, its history or both are scanned.

use crate::diag::{Code, Diagnostic};
use crate::types::{RemoteInfo, RepositoryScope};
use git2::{Repository, RepositoryOpenFlags};
use std::collections::BTreeSet;
use std::path::Path;

/// The scope entry of the repository at `dir` (a working tree or a bare repository), with
/// no counts yet; a repository that cannot be opened is named in a warning.
pub(crate) fn describe(dir: &Path, name: &str) -> RepositoryScope {
    match Repository::open_ext(dir, RepositoryOpenFlags::NO_SEARCH, [] as [&Path; 0]) {
        Ok(repo) => describe_open(&repo, dir, name),
        Err(e) => {
            let mut scope = RepositoryScope::directory(name, &dir.to_string_lossy());
            scope.git = true;
            scope.warnings.push(unreadable(name, e.message()));
            scope
        }
    }
}

/// The warning that the repository `name` cannot be opened, and `why`.
pub(crate) fn unreadable(name: &str, why: &str) -> Diagnostic {
    Diagnostic::new(
        Code::UnreadableRepository,
        name.to_string(),
        format!("cannot open as a git repository: {why}"),
    )
}

/// [`describe`] of a repository already open (the history read's handle): opening one
/// again, reading its config again, cost as much as replaying it from a sweep cache.
pub(crate) fn describe_open(repo: &Repository, dir: &Path, name: &str) -> RepositoryScope {
    let mut scope = RepositoryScope::directory(name, &dir.to_string_lossy());
    scope.git = true;
    scope.bare = repo.is_bare();
    scope.shallow = repo.is_shallow();
    if let Ok(head) = repo.head() {
        scope.head = head.peel_to_commit().ok().map(|c| c.id().to_string());
        scope.branch = head
            .is_branch()
            .then(|| head.shorthand().map(str::to_string))
            .flatten();
    }
    let mut names: Vec<String> = repo
        .remotes()
        .map(|r| r.iter().flatten().map(str::to_string).collect())
        .unwrap_or_default();
    names.sort();
    for n in names {
        let Ok(remote) = repo.find_remote(&n) else {
            continue;
        };
        let url = remote.url().map(strip_credentials).unwrap_or_default();
        let fetch = remote
            .fetch_refspecs()
            .map(|specs| specs.iter().flatten().map(str::to_string).collect())
            .unwrap_or_default();
        if n == "origin" {
            scope.remote_url = Some(url.clone());
        }
        scope.remotes.push(RemoteInfo {
            name: n,
            url,
            fetch,
        });
    }
    scope.ref_namespaces = ref_namespaces(repo);
    scope
}

/// The distinct ref prefixes present: `refs/<kind>`, and `refs/remotes/<remote>` per remote.
fn ref_namespaces(repo: &Repository) -> Vec<String> {
    let mut out = BTreeSet::new();
    let Ok(refs) = repo.references() else {
        return Vec::new();
    };
    for r in refs.flatten() {
        let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
        let parts: Vec<&str> = name.splitn(4, '/').collect();
        let depth = match parts.as_slice() {
            ["refs", "remotes", _, _] => 3,
            ["refs", _, _, ..] => 2,
            _ => parts.len(),
        };
        out.insert(parts[..depth.min(parts.len())].join("/"));
    }
    out.into_iter().collect()
}

/// A remote URL without its userinfo (`https://user:token@host/x` → `https://host/x`).
///
/// An scp-like address (`git@host:path`) names a login, not a secret, and is kept as is.
pub(crate) fn strip_credentials(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &url[..scheme_end + 3], &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::strip_credentials;

    #[test]
    fn userinfo_is_stripped_from_remote_urls() {
        for (given, shown) in [
            (
                "https://user:tok@github.com/acme/api.git",
                "https://github.com/acme/api.git",
            ),
            ("https://tok@host/a@b", "https://host/a@b"),
            ("ssh://git@host:22/x.git", "ssh://host:22/x.git"),
            (
                "https://github.com/acme/api.git",
                "https://github.com/acme/api.git",
            ),
            ("git@github.com:acme/api.git", "git@github.com:acme/api.git"),
            ("/srv/git/api.git", "/srv/git/api.git"),
        ] {
            assert_eq!(strip_credentials(given), shown);
        }
    }
}
