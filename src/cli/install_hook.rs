//! `keytrace install-hook`: write a plain git pre-commit hook running `keytrace scan --staged`.
//!
//! For repositories that do not use the pre-commit framework (which has its own
//! `.pre-commit-hooks.yaml`). The hook goes where git looks for it: `core.hooksPath`
//! when set (relative to the work tree's top, `~` expanded), otherwise the `hooks`
//! directory of the common git dir, which linked worktrees share — the same answer as
//! `git rev-parse --git-path hooks`. A hook keytrace did not write is never replaced
//! without `--force`; one it wrote is rewritten in place, so running it twice changes nothing.

use super::{ExitStatus, Global};
use crate::types::Severity;
use anyhow::{bail, Context as _};
use std::path::{Path, PathBuf};

/// The line that marks a hook as keytrace's own (so it may be rewritten without `--force`).
const MARKER: &str = "# keytrace-pre-commit-hook";

#[derive(Debug, clap::Args)]
pub struct InstallHookArgs {
    /// The repository (any path inside its work tree).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Replace an existing pre-commit hook that keytrace did not write.
    #[arg(long)]
    pub force: bool,
    /// Block the commit when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = Severity::Low)]
    pub fail_on: Severity,
}

pub fn run(global: &Global, args: &InstallHookArgs) -> anyhow::Result<ExitStatus> {
    let repo = git2::Repository::discover(&args.path).with_context(|| {
        format!(
            "{}: not inside a git repository (install-hook needs one)",
            args.path.display()
        )
    })?;
    let Some(workdir) = repo.workdir() else {
        bail!(
            "{}: a bare repository has no commits to check (install the hook in a clone)",
            repo.path().display()
        );
    };
    let dir = hooks_dir(&repo, workdir)?;
    let hook = dir.join("pre-commit");
    let exe = std::env::current_exe().context("cannot find the keytrace executable to call")?;
    let script = script(&exe, args.fail_on);
    let action = match std::fs::read(&hook) {
        Ok(old) if old == script.as_bytes() => Action::Unchanged,
        Ok(old) if is_ours(&old) => Action::Update,
        Ok(_) if args.force => Action::Replace,
        Ok(_) => bail!(
            "{}: a pre-commit hook keytrace did not write is already there; \
             call keytrace from it, or replace it with `keytrace install-hook --force`",
            hook.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Action::Install,
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", hook.display())),
    };
    if action != Action::Unchanged {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("{}: cannot create the hooks directory", dir.display()))?;
        crate::atomic_file::replace_executable(&hook, script.as_bytes())
            .with_context(|| format!("{}: cannot write the hook", hook.display()))?;
    }
    if !global.quiet {
        let what = match action {
            Action::Unchanged => "the keytrace pre-commit hook is already installed",
            Action::Install => "installed the keytrace pre-commit hook",
            Action::Update => "updated the keytrace pre-commit hook",
            Action::Replace => "replaced the existing pre-commit hook with keytrace's (--force)",
        };
        eprintln!("{what}: {}", hook.display());
    }
    Ok(ExitStatus::Clean)
}

/// What `install-hook` does to the hook file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Ours, byte for byte: nothing to write.
    Unchanged,
    /// No hook yet.
    Install,
    /// Ours, from another keytrace path or gate.
    Update,
    /// Someone else's, and `--force` was given.
    Replace,
}

/// Where git runs hooks from for this repository (see the module comment).
fn hooks_dir(repo: &git2::Repository, workdir: &Path) -> anyhow::Result<PathBuf> {
    let config = repo
        .config()
        .context("cannot read the repository's git config")?;
    match config.get_path("core.hooksPath") {
        Ok(p) if p.is_absolute() => Ok(p),
        Ok(p) => Ok(workdir.join(p)),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(repo.commondir().join("hooks")),
        Err(e) => Err(e).context("core.hooksPath: cannot read"),
    }
}

fn is_ours(hook: &[u8]) -> bool {
    hook.split(|&b| b == b'\n')
        .any(|line| line == MARKER.as_bytes())
}

/// The hook: this keytrace (or, when it has moved, the one on PATH) on the staged content,
/// from the work tree's top, where git runs hooks.
/// Any non-zero exit blocks the commit: 1 for a finding, 2 when the scan could not run,
/// so a broken install never lets a commit through unchecked.
fn script(exe: &Path, fail_on: Severity) -> String {
    let exe = exe.to_string_lossy().replace('\'', r"'\''");
    format!(
        "#!/bin/sh\n\
         {MARKER}\n\
         # Written by `keytrace install-hook`; `keytrace install-hook --force` rewrites it.\n\
         # Blocks the commit when the staged content adds a secret (exit 1) or cannot be\n\
         # scanned (exit 2). Skip it once with `git commit --no-verify`.\n\
         KEYTRACE='{exe}'\n\
         if [ ! -x \"$KEYTRACE\" ]; then\n\
         \x20 KEYTRACE=$(command -v keytrace) || {{\n\
         \x20   echo \"keytrace pre-commit hook: keytrace is not installed (run keytrace install-hook again)\" >&2\n\
         \x20   exit 2\n\
         \x20 }}\n\
         fi\n\
         exec \"$KEYTRACE\" scan --staged --fail-on {} .\n",
        fail_on.as_str()
    )
}
