//! Finds the git repositories at or under the scanned paths: working trees (by their `.git`),
//! bare repositories, and the repository enclosing a path given inside one.

use crate::diag::{Code, Diagnostic};
use crate::source::fs::looks_bare;
use git2::{ConfigLevel, Repository, RepositoryOpenFlags};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One repository whose history is to be read.
#[derive(Debug, Clone)]
pub struct RepoTarget {
    /// Path to open (working tree or bare directory).
    pub open_path: PathBuf,
    /// Working tree root; `None` for a bare repository.
    pub workdir: Option<PathBuf>,
    /// Name used in findings, the same the filesystem walk gives this root.
    pub name: String,
}

/// The repositories found, and the paths whose working trees are to be walked.
#[derive(Debug, Default)]
pub struct Discovery {
    pub repos: Vec<RepoTarget>,
    /// Roots for the filesystem walk: the given paths (unless inside a git directory or a
    /// bare repository) and every working tree found below them. The walk finds the working
    /// trees below its roots itself; listing them here also covers those that an enclosing
    /// directory's ignore files hide from it, since their history is read.
    pub walk_roots: Vec<PathBuf>,
    pub warnings: Vec<Diagnostic>,
}

fn name_of(dir: &Path) -> String {
    dir.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Finds repositories at, under or around each path.
pub fn discover(paths: &[PathBuf]) -> Discovery {
    let mut found: BTreeMap<PathBuf, RepoTarget> = BTreeMap::new();
    let mut out = Discovery::default();
    for path in paths {
        let Ok(path) = path.canonicalize() else {
            continue;
        };
        let dir = if path.is_dir() {
            path.clone()
        } else {
            path.parent().map_or(path.clone(), Path::to_path_buf)
        };
        let mut inside_git_dir = false;
        // The repository enclosing the path (nearest ancestor with `.git`, or a bare repo).
        if let Some(a) = dir
            .ancestors()
            .find(|a| a.join(".git").exists() || looks_bare(a))
        {
            inside_git_dir = looks_bare(a) || dir.components().any(|c| c.as_os_str() == ".git");
            consider(a, &mut found, &mut out.warnings);
        }
        out.walk_roots
            .extend((!inside_git_dir && !looks_bare(&dir)).then(|| path.clone()));
        if path.is_dir() {
            for d in candidate_dirs(&path) {
                consider(&d, &mut found, &mut out.warnings);
            }
        }
    }
    out.repos = found.into_values().collect();
    out.repos.sort_by(|a, b| a.open_path.cmp(&b.open_path));
    let below: Vec<PathBuf> = out
        .repos
        .iter()
        .filter_map(|r| r.workdir.clone())
        .filter(|w| {
            let strictly_under = out.walk_roots.iter().any(|r| w != r && w.starts_with(r));
            // A subdirectory given inside `w`: walk only that.
            let holds_root = out.walk_roots.iter().any(|r| r != w && r.starts_with(w));
            strictly_under && !holds_root
        })
        .collect();
    out.walk_roots.extend(below);
    out.walk_roots.sort();
    out.walk_roots.dedup();
    out.warnings.sort();
    out.warnings.dedup();
    out
}

/// Directories under `root` that hold a `.git` or look like bare repositories, in path
/// order. Symbolic links are not followed, `.git` directories are not entered, and neither
/// is a bare repository: its own directories (objects, refs, logs) hold no repository.
fn candidate_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), true)];
    while let Some((dir, is_root)) = stack.pop() {
        let has_git = dir.join(".git").exists();
        let bare = !is_root && !has_git && looks_bare(&dir);
        if bare || has_git {
            out.push(dir.clone());
        }
        if bare {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut below: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()) && e.file_name() != ".git")
            .map(|e| e.path())
            .collect();
        below.sort_unstable_by(|a, b| b.cmp(a));
        stack.extend(below.into_iter().map(|d| (d, false)));
    }
    out
}

/// Has every repository opened from now on read its own config only, not the system's,
/// the user's or the XDG one, unless one of those sets `safe.directory`: the one setting
/// there that changes how a repository is read (whether a repository another user owns
/// may be opened at all). Opening a repository reads all of those files, and a sweep opens
/// each repository two or three times: they are a third of what replaying one costs.
/// Returns whether they are now skipped.
///
/// # Safety
///
/// Changes libgit2's process-wide config search path: no other thread may be using libgit2.
pub unsafe fn read_repository_config_only() -> bool {
    let sets_safe_directories = git2::Config::open_default().is_ok_and(|c| {
        c.multivar("safe.directory", None)
            .is_ok_and(|mut entries| entries.next().is_some())
    });
    if sets_safe_directories {
        return false;
    }
    [
        ConfigLevel::System,
        ConfigLevel::XDG,
        ConfigLevel::Global,
        ConfigLevel::ProgramData,
    ]
    .into_iter()
    // SAFETY: the caller guarantees no other thread is using libgit2.
    .all(|level| unsafe { git2::opts::set_search_path(level, "") }.is_ok())
}

/// Opens `dir` as a repository and records it once (worktrees share their common directory).
fn consider(dir: &Path, found: &mut BTreeMap<PathBuf, RepoTarget>, warnings: &mut Vec<Diagnostic>) {
    let repo = match Repository::open_ext(dir, RepositoryOpenFlags::NO_SEARCH, [] as [&Path; 0]) {
        Ok(r) => r,
        Err(e) => {
            warnings.push(Diagnostic::new(
                Code::UnreadableRepository,
                dir.display().to_string(),
                format!("cannot open as a git repository: {}", e.message()),
            ));
            return;
        }
    };
    let gitdir = repo.path().to_path_buf();
    if dir.join(".git").is_file() && gitdir.components().any(|c| c.as_os_str() == "modules") {
        warnings.push(Diagnostic::new(
            Code::GitSubmodule,
            dir.display().to_string(),
            "checked-out submodule: its history is not followed (scan it on its own to include it)",
        ));
        return;
    }
    let common = repo
        .commondir()
        .canonicalize()
        .unwrap_or_else(|_| repo.commondir().to_path_buf());
    let workdir = repo
        .workdir()
        .map(|w| w.canonicalize().unwrap_or_else(|_| w.to_path_buf()));
    let named = workdir.clone().unwrap_or_else(|| dir.to_path_buf());
    found.entry(common).or_insert(RepoTarget {
        open_path: dir.to_path_buf(),
        name: name_of(&named),
        workdir,
    });
}
