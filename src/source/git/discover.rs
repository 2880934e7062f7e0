//! Finds the git repositories at or under the scanned paths: working trees (by their `.git`),
//! bare repositories, and the repository enclosing a path given inside one.

use crate::diag::{Code, Diagnostic};
use crate::source::fs::looks_bare;
use git2::ConfigLevel;
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
    let skipped = [
        ConfigLevel::System,
        ConfigLevel::XDG,
        ConfigLevel::Global,
        ConfigLevel::ProgramData,
    ]
    .into_iter()
    // SAFETY: the caller guarantees no other thread is using libgit2.
    .all(|level| unsafe { git2::opts::set_search_path(level, "") }.is_ok());
    REPOSITORY_CONFIG_ONLY.store(skipped, std::sync::atomic::Ordering::Relaxed);
    skipped
}

/// Set by [`read_repository_config_only`] once the other config files are skipped.
static REPOSITORY_CONFIG_ONLY: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Whether a repository opened now reads its own config only (see
/// [`read_repository_config_only`]): what its files alone then say of it is all there is.
pub(super) fn repository_config_only() -> bool {
    REPOSITORY_CONFIG_ONLY.load(std::sync::atomic::Ordering::Relaxed)
}

/// Records the repository at `dir` once (worktrees share their common directory), from
/// its layout on disk alone: opening it with libgit2 (config and all) is left to the history
/// read, which would open it again anyway, and which names one that will not open.
fn consider(dir: &Path, found: &mut BTreeMap<PathBuf, RepoTarget>, warnings: &mut Vec<Diagnostic>) {
    let layout = match Layout::of(dir) {
        Ok(l) => l,
        Err(why) => {
            warnings.push(super::facts::unreadable(&dir.display().to_string(), &why));
            return;
        }
    };
    if layout.linked
        && layout
            .gitdir
            .components()
            .any(|c| c.as_os_str() == "modules")
    {
        warnings.push(Diagnostic::new(
            Code::GitSubmodule,
            dir.display().to_string(),
            "checked-out submodule: its history is not followed (scan it on its own to include it)",
        ));
        return;
    }
    // `dir` is canonical (a canonical root, its ancestors, or a directory listed under it
    // that is no symbolic link): so are the paths of a layout that followed no file.
    let canonical = |p: PathBuf| match layout.followed {
        true => p.canonicalize().unwrap_or(p),
        false => p,
    };
    let common = canonical(layout.common);
    let workdir = layout.workdir.map(canonical);
    let named = workdir.clone().unwrap_or_else(|| dir.to_path_buf());
    found.entry(common).or_insert(RepoTarget {
        open_path: dir.to_path_buf(),
        name: name_of(&named),
        workdir,
    });
}

/// Where the repository at a directory keeps itself, as git lays it out.
#[derive(Debug, PartialEq, Eq)]
struct Layout {
    /// The git directory: `.git`, the one a `.git` file names, or the directory itself.
    gitdir: PathBuf,
    /// Where objects and refs live: the git directory, or the main repository's for a
    /// linked worktree (its `commondir` file).
    common: PathBuf,
    /// The working tree; `None` for a bare repository.
    workdir: Option<PathBuf>,
    /// Whether the git directory is the one a `.git` file names.
    linked: bool,
    /// Whether a file named where the repository is (`.git` or `commondir`): its paths
    /// are then not known to be canonical.
    followed: bool,
}

impl Layout {
    /// The layout of `dir`: a working tree with a `.git` directory or a `.git` file
    /// (`gitdir: PATH`, a linked worktree or a submodule), a `.git` directory itself, or a
    /// bare repository; why not, when it holds no HEAD, objects and refs where git keeps them.
    fn of(dir: &Path) -> Result<Layout, String> {
        let dot_git = dir.join(".git");
        let (gitdir, workdir, linked) = match std::fs::metadata(&dot_git) {
            Ok(m) if m.is_dir() => (dot_git, Some(dir.to_path_buf()), false),
            Ok(_) => (linked_gitdir(&dot_git, dir)?, Some(dir.to_path_buf()), true),
            Err(_) if dir.file_name().is_some_and(|n| n == ".git") => (
                dir.to_path_buf(),
                dir.parent().map(Path::to_path_buf),
                false,
            ),
            Err(_) => (dir.to_path_buf(), None, false),
        };
        let (common, shared) = match std::fs::read_to_string(gitdir.join("commondir")) {
            Ok(text) => (gitdir.join(text.trim_end()), true),
            Err(_) => (gitdir.clone(), false),
        };
        let holds = gitdir.join("HEAD").is_file()
            && common.join("objects").is_dir()
            && common.join("refs").is_dir();
        if !holds {
            return Err(format!(
                "{} holds no HEAD, objects/ and refs/",
                gitdir.display()
            ));
        }
        Ok(Layout {
            gitdir,
            common,
            workdir,
            linked,
            followed: linked || shared,
        })
    }
}

/// The git directory a `.git` file in `dir` names (`gitdir: PATH`, relative to `dir`).
fn linked_gitdir(file: &Path, dir: &Path) -> Result<PathBuf, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    text.strip_prefix("gitdir:")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| dir.join(p))
        .ok_or_else(|| format!("{} names no `gitdir:`", file.display()))
}

#[cfg(test)]
mod tests {
    use super::Layout;
    use std::path::{Path, PathBuf};

    fn git(dir: &Path, args: &[&str]) {
        let ok = std::process::Command::new("git")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.org"])
            .args(args)
            .current_dir(dir)
            .status()
            .expect("git")
            .success();
        assert!(ok, "git {args:?}");
    }

    fn canonical(p: &Path) -> PathBuf {
        p.canonicalize().expect("canonical")
    }

    /// The layout read from the file system is the one libgit2 opens.
    #[test]
    fn the_layout_on_disk_is_the_repository_libgit2_opens() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let top = canonical(tmp.path());
        let work = top.join("work");
        std::fs::create_dir(&work).expect("mkdir");
        git(&work, &["init", "-q", "."]);
        std::fs::write(work.join("a.txt"), "a\n").expect("write");
        git(&work, &["add", "a.txt"]);
        git(&work, &["commit", "-q", "-m", "a"]);
        git(&top, &["clone", "-q", "--bare", "work", "mirror.git"]);
        git(&work, &["worktree", "add", "-q", "../linked"]);
        for dir in ["work", "mirror.git", "linked", "work/.git"] {
            let dir = top.join(dir);
            let layout = Layout::of(&dir).expect("a repository");
            let repo = git2::Repository::open_ext(
                &dir,
                git2::RepositoryOpenFlags::NO_SEARCH,
                [] as [&Path; 0],
            )
            .expect("libgit2 opens it");
            assert_eq!(canonical(&layout.gitdir), canonical(repo.path()), "{dir:?}");
            assert_eq!(
                canonical(&layout.common),
                canonical(repo.commondir()),
                "{dir:?}"
            );
            assert_eq!(
                layout.workdir.as_deref().map(canonical),
                repo.workdir().map(canonical),
                "{dir:?}"
            );
        }
    }

    #[test]
    fn a_directory_without_head_objects_and_refs_is_no_repository() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let head_only = tmp.path().join("head-only");
        std::fs::create_dir_all(head_only.join(".git")).expect("mkdir");
        std::fs::write(head_only.join(".git/HEAD"), "garbage\n").expect("write");
        let bad_link = tmp.path().join("bad-link");
        std::fs::create_dir(&bad_link).expect("mkdir");
        std::fs::write(bad_link.join(".git"), "not a gitdir line\n").expect("write");
        let dangling = tmp.path().join("dangling");
        std::fs::create_dir(&dangling).expect("mkdir");
        std::fs::write(dangling.join(".git"), "gitdir: ../nowhere\n").expect("write");
        for dir in [head_only, bad_link, dangling, tmp.path().to_path_buf()] {
            assert!(Layout::of(&dir).is_err(), "{dir:?}");
        }
    }
}
