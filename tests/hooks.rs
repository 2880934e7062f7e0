//! Commit gates for real: `keytrace install-hook` under `git commit`, and the repository's
//! `.pre-commit-hooks.yaml` under the pre-commit framework.

use crate::git::{commit, git, git_command, init};
use crate::macros::{run, TestDir};
use crate::synth::Synth;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `git commit -m msg` plus `extra`, hooks enabled; returns (exit, stdout + stderr).
fn git_commit(dir: &Path, extra: &[&str]) -> (i32, String) {
    let out = git_command(dir)
        .args(["commit", "-q", "-m", "change"])
        .args(extra)
        .output()
        .expect("git commit");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn commits(dir: &Path) -> usize {
    git(dir, &["rev-list", "--count", "HEAD"])
        .parse()
        .expect("count")
}

/// A repository with one clean commit, and the keytrace hook installed.
fn repo_with_hook(dir: &TestDir) {
    init(dir.path());
    dir.write("app.py", "print('hello')\n");
    commit(dir.path(), 1, "first");
    let (code, _, stderr) = run(dir.command().arg("install-hook"));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("installed the keytrace pre-commit hook"),
        "{stderr}"
    );
}

kttest!(
    hook_blocks_a_staged_secret_and_not_an_unstaged_one,
    |dir, _cmd| {
        let mut s = Synth::new(1201);
        let (staged, unstaged) = (s.github_pat(), s.github_pat());
        repo_with_hook(&dir);

        dir.write("deploy.py", format!("TOKEN = \"{staged}\"\n"));
        git(dir.path(), &["add", "deploy.py"]);
        let (code, out) = git_commit(dir.path(), &[]);
        assert_ne!(code, 0, "the commit went through:\n{out}");
        assert!(
            out.contains("github-pat-classic") && out.contains("deploy.py:1"),
            "{out}"
        );
        assert!(
            !out.contains(&staged),
            "plaintext secret in the hook output:\n{out}"
        );
        assert_eq!(commits(dir.path()), 1);

        // The secret only in the work tree (tracked file edited after staging, and an untracked
        // file) is not what is committed: the commit of the clean staged change goes through.
        git(dir.path(), &["rm", "-q", "--cached", "deploy.py"]);
        dir.write("app.py", "print('hello, world')\n");
        git(dir.path(), &["add", "app.py"]);
        dir.write(
            "app.py",
            format!("print('hello, world')\nT = \"{unstaged}\"\n"),
        );
        let (code, out) = git_commit(dir.path(), &[]);
        assert_eq!(code, 0, "{out}");
        assert_eq!(commits(dir.path()), 2);

        // `git commit -a` and `git commit PATH` hand the hook a temporary index: still blocked.
        let (code, out) = git_commit(dir.path(), &["-a"]);
        assert_ne!(code, 0, "commit -a went through:\n{out}");
        assert!(out.contains("app.py:2"), "{out}");
        let (code, out) = git_commit(dir.path(), &["app.py"]);
        assert_ne!(code, 0, "commit PATH went through:\n{out}");
        assert_eq!(commits(dir.path()), 2);
    }
);

kttest!(
    install_hook_keeps_a_foreign_hook_unless_forced,
    |dir, cmd| {
        init(dir.path());
        let hook = dir.write(".git/hooks/pre-commit", "#!/bin/sh\nexec make lint\n");
        let (code, stdout, stderr) = run(cmd.arg("install-hook"));
        assert_eq!(code, 2, "{stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(
            stderr.contains(".git/hooks/pre-commit: a pre-commit hook keytrace did not write")
                && stderr.contains("--force"),
            "{stderr}"
        );
        assert_eq!(
            std::fs::read_to_string(&hook).expect("hook"),
            "#!/bin/sh\nexec make lint\n"
        );

        let (code, _, stderr) = run(dir.command().args(["install-hook", "--force"]));
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stderr.contains("replaced the existing pre-commit hook"),
            "{stderr}"
        );
        let ours = std::fs::read(&hook).expect("hook");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&hook).expect("stat").permissions().mode();
            assert_eq!(mode & 0o777, 0o755);
        }

        // Ours already: no --force needed, nothing changes.
        let (code, _, stderr) = run(dir.command().arg("install-hook"));
        assert_eq!(code, 0, "{stderr}");
        assert!(stderr.contains("is already installed"), "{stderr}");
        assert_eq!(std::fs::read(&hook).expect("hook"), ours);
        // A new gate rewrites our own hook in place.
        let (code, _, stderr) = run(dir.command().args(["install-hook", "--fail-on", "high"]));
        assert_eq!(code, 0, "{stderr}");
        assert!(stderr.contains("updated"), "{stderr}");
        let text = std::fs::read_to_string(&hook).expect("hook");
        assert!(text.contains("scan --staged --fail-on high ."), "{text}");
    }
);

kttest!(install_hook_outside_a_repository_is_exit_2, |dir, cmd| {
    let (code, _, stderr) = run(cmd.arg("install-hook"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not inside a git repository"), "{stderr}");
});

/// Where git itself runs this repository's hooks from, made absolute.
fn git_hooks_dir(dir: &Path) -> PathBuf {
    let p = PathBuf::from(git(dir, &["rev-parse", "--git-path", "hooks"]));
    let p = if p.is_relative() { dir.join(p) } else { p };
    std::fs::create_dir_all(&p).expect("mkdir");
    p.canonicalize().expect("hooks dir")
}

kttest!(install_hook_writes_where_git_runs_hooks, |dir, _cmd| {
    let mut s = Synth::new(1202);
    let secret = s.github_pat();
    repo_with_hook(&dir);
    let worktree = dir.path().join("wt");
    git(dir.path(), &["worktree", "add", "-q", "wt"]);
    // A linked worktree shares the main repository's hooks: the hook is already there.
    let (code, _, stderr) = run(dir.command().current_dir(&worktree).arg("install-hook"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("is already installed"), "{stderr}");
    let shown = stderr.trim().rsplit(": ").next().expect("path").to_string();
    assert_eq!(
        PathBuf::from(&shown)
            .parent()
            .expect("dir")
            .canonicalize()
            .expect("dir"),
        git_hooks_dir(&worktree)
    );
    std::fs::write(worktree.join("k.py"), format!("K = \"{secret}\"\n")).expect("write");
    git(&worktree, &["add", "k.py"]);
    let (code, out) = git_commit(&worktree, &[]);
    assert_ne!(code, 0, "commit in the worktree went through:\n{out}");
    assert!(out.contains("k.py:1"), "{out}");

    // core.hooksPath (relative: to the work tree's top) moves it.
    git(dir.path(), &["config", "core.hooksPath", ".githooks"]);
    let (code, _, stderr) = run(dir.command().arg("install-hook"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("installed"), "{stderr}");
    let hook = git_hooks_dir(dir.path()).join("pre-commit");
    assert_eq!(
        hook,
        dir.path()
            .canonicalize()
            .expect("dir")
            .join(".githooks/pre-commit")
    );
    assert!(hook.is_file());
    dir.write("k2.py", format!("K = \"{secret}\"\n"));
    git(dir.path(), &["add", "k2.py"]);
    let (code, out) = git_commit(dir.path(), &[]);
    assert_ne!(code, 0, "commit with core.hooksPath went through:\n{out}");
});

/// The pre-commit executable: `$KEYTRACE_PRE_COMMIT` (which must work: `.ci/run` sets it
/// after installing pre-commit into a venv), else `pre-commit` on PATH, else the framework
/// tests say they are skipped.
fn pre_commit() -> Option<PathBuf> {
    let given = std::env::var_os("KEYTRACE_PRE_COMMIT").map(PathBuf::from);
    let exe = given.clone().unwrap_or_else(|| PathBuf::from("pre-commit"));
    let works = Command::new(&exe)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    match (works, given) {
        (true, _) => Some(exe),
        (false, Some(given)) => panic!("KEYTRACE_PRE_COMMIT={}: does not run", given.display()),
        (false, None) => {
            eprintln!(
                "SKIPPED: pre-commit is not installed (pip install pre-commit, or set \
                 KEYTRACE_PRE_COMMIT); the framework tests did not run"
            );
            None
        }
    }
}

/// A repository `work` whose `.pre-commit-config.yaml` uses this checkout's
/// `.pre-commit-hooks.yaml` (hook `keytrace-system`: the entry of `keytrace` without the
/// cargo build), cloned by pre-commit from a local hook repository, with the keytrace under
/// test first on PATH and pre-commit's cache inside the test dir.
struct Framework {
    exe: PathBuf,
    work: PathBuf,
    env: Vec<(&'static str, std::ffi::OsString)>,
}

impl Framework {
    fn new(dir: &TestDir, exe: PathBuf) -> Self {
        let hooks = dir.path().join("hookrepo");
        std::fs::create_dir(&hooks).expect("mkdir");
        init(&hooks);
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
        std::fs::copy(manifest, hooks.join(".pre-commit-hooks.yaml")).expect("copy hooks");
        let rev = commit(&hooks, 1, "hooks");
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).expect("mkdir");
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_keytrace"), bin.join("keytrace"))
            .expect("symlink");
        let work = dir.path().join("work");
        std::fs::create_dir(&work).expect("mkdir");
        init(&work);
        let config = format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: keytrace-system\n",
            hooks.display()
        );
        std::fs::write(work.join(".pre-commit-config.yaml"), config).expect("config");
        let old_path = std::env::var_os("PATH").unwrap_or_default();
        let path =
            std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&old_path)))
                .expect("PATH");
        let env = vec![
            ("PATH", path),
            ("PRE_COMMIT_HOME", dir.path().join("pre-commit-home").into()),
            ("KEYTRACE_CACHE_DIR", dir.cache_dir().into()),
            ("NO_COLOR", "1".into()),
        ];
        Framework { exe, work, env }
    }

    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.work.join(rel), text).expect("write");
    }

    /// Runs `cmd` in `work` with the framework's environment; returns (exit, stdout + stderr).
    fn output(&self, cmd: &mut Command) -> (i32, String) {
        cmd.current_dir(&self.work)
            .env_remove("KEYTRACE_FINGERPRINT_KEY");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    fn pre_commit(&self, args: &[&str]) -> (i32, String) {
        self.output(Command::new(&self.exe).args(args))
    }

    /// `git commit` (hooks enabled) of what is staged.
    fn commit(&self) -> (i32, String) {
        self.output(git_command(&self.work).args(["commit", "-q", "-m", "change"]))
    }
}

kttest!(
    pre_commit_framework_scans_the_files_it_passes,
    |dir, _cmd| {
        let Some(exe) = pre_commit() else { return };
        let mut s = Synth::new(1203);
        let (old, new) = (s.github_pat(), s.github_pat());
        let fw = Framework::new(&dir, exe);
        fw.write("clean.py", "print('hello')\n");
        fw.write("old.py", &format!("OLD = \"{old}\"\n"));
        git(&fw.work, &["add", "-A"]);
        git(&fw.work, &["commit", "-q", "-m", "debt"]);
        fw.write("new.py", &format!("NEW = \"{new}\"\n"));
        git(&fw.work, &["add", "new.py"]);

        // --all-files: every tracked file, committed debt included.
        let (code, out) = fw.pre_commit(&["run", "--all-files"]);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains("old.py:1") && out.contains("new.py:1"),
            "{out}"
        );
        assert!(
            !out.contains(&old) && !out.contains(&new),
            "plaintext in:\n{out}"
        );
        // --files: exactly those.
        let (code, out) = fw.pre_commit(&["run", "--files", "new.py"]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("new.py:1") && !out.contains("old.py"), "{out}");
        let (code, out) = fw.pre_commit(&["run", "--files", "clean.py"]);
        assert_eq!(code, 0, "{out}");
        // A binary file alone is not passed to the hook (types: [text]): no exit 2.
        std::fs::write(fw.work.join("logo.bin"), b"\x89PNG\0\0\x01").expect("write");
        let (code, out) = fw.pre_commit(&["run", "--files", "logo.bin"]);
        assert_eq!(code, 0, "{out}");
    }
);

kttest!(
    pre_commit_framework_commit_scans_the_staged_content,
    |dir, _cmd| {
        let Some(exe) = pre_commit() else { return };
        let mut s = Synth::new(1204);
        let secret = s.github_pat();
        let fw = Framework::new(&dir, exe);
        fw.write("app.py", "print('hello')\n");
        git(&fw.work, &["add", "-A"]);
        git(&fw.work, &["commit", "-q", "-m", "first"]);
        let (code, out) = fw.pre_commit(&["install"]);
        assert_eq!(code, 0, "{out}");

        // Staged: a clean edit. Unstaged, in the same file: a secret. pre-commit stashes the
        // unstaged part, so the scan of the passed path sees the staged content and passes.
        fw.write("app.py", "print('hello, world')\n");
        git(&fw.work, &["add", "app.py"]);
        fw.write(
            "app.py",
            &format!("print('hello, world')\nT = \"{secret}\"\n"),
        );
        let (code, out) = fw.commit();
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("keytrace") && out.contains("Passed"), "{out}");
        assert!(
            std::fs::read_to_string(fw.work.join("app.py"))
                .expect("read")
                .contains(&secret),
            "pre-commit did not restore the unstaged change"
        );
        assert_eq!(commits(&fw.work), 2);

        // Staged secret: blocked.
        git(&fw.work, &["add", "app.py"]);
        let (code, out) = fw.commit();
        assert_ne!(code, 0, "{out}");
        assert!(out.contains("Failed") && out.contains("app.py:2"), "{out}");
        assert!(!out.contains(&secret), "plaintext in:\n{out}");
        assert_eq!(commits(&fw.work), 2);
    }
);
