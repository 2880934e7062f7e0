//! `keytrace scan --git`, `--rev-range` and `--staged` on real repositories built with the git CLI.

use crate::macros::{run, TestDir};
use crate::synth::Synth;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// A git command in `dir` with a fixed identity, no signing and `main` as the first branch.
pub(crate) fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .env("GIT_AUTHOR_NAME", "Ann")
        .env("GIT_AUTHOR_EMAIL", "ann@example.org")
        .env("GIT_COMMITTER_NAME", "Ann")
        .env("GIT_COMMITTER_EMAIL", "ann@example.org")
        .env_remove("GIT_DIR");
    cmd
}

/// Runs git in `dir` with fixed identity and dates; returns trimmed stdout.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_command(dir).args(args).output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Commits everything with a date `n` days after 2024-01-01 and returns the commit id.
pub(crate) fn commit(dir: &Path, n: u32, msg: &str) -> String {
    let when = format!("{} +0000", 1_704_067_200 + u64::from(n) * 86_400);
    git(dir, &["add", "-A"]);
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            msg,
        ])
        .env("GIT_AUTHOR_NAME", "Ann")
        .env("GIT_AUTHOR_EMAIL", "ann@example.org")
        .env("GIT_COMMITTER_NAME", "Ann")
        .env("GIT_COMMITTER_EMAIL", "ann@example.org")
        .env("GIT_AUTHOR_DATE", &when)
        .env("GIT_COMMITTER_DATE", &when)
        .output()
        .expect("git commit");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    git(dir, &["rev-parse", "HEAD"])
}

pub(crate) fn init(dir: &Path) {
    git(dir, &["init", "-q"]);
}

/// Runs `keytrace scan` with `args` and JSON output in `dir`; returns (exit, report, stderr).
fn scan(dir: &TestDir, args: &[&str]) -> (i32, Value, String) {
    let (code, stdout, stderr) = run(dir
        .command()
        .arg("scan")
        .args(args)
        .args(["--format", "json"]));
    let v = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (code, v, stderr)
}

/// `(path, commit or "tree")` of each finding's primary location.
fn places(v: &Value) -> Vec<(String, String)> {
    v["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array: {v}"))
        .iter()
        .map(|f| {
            let l = &f["location"];
            (
                l["path"].as_str().unwrap().to_string(),
                l["commit"].as_str().unwrap_or("tree").to_string(),
            )
        })
        .collect()
}

fn p(path: &str, commit: &str) -> (String, String) {
    (path.to_string(), commit.to_string())
}

kttest!(
    git_secret_added_then_removed_is_found_in_history,
    |dir, _cmd| {
        let gh = Synth::new(40).github_pat();
        init(dir.path());
        dir.write("config.py", format!("TOKEN = \"{gh}\"\n"));
        let c1 = commit(dir.path(), 1, "add token");
        dir.write("config.py", "TOKEN = os.environ[\"TOKEN\"]\n");
        commit(dir.path(), 2, "remove token");
        let (code, v, stderr) = scan(&dir, &["--git", "."]);
        assert_eq!(code, 1, "{stderr}");
        assert_eq!(places(&v), vec![p("config.py", &c1)]);
        let f = &v["findings"][0];
        assert_eq!(f["location"]["author"], "Ann <ann@example.org>");
        assert_eq!(f["location"]["date"], "2024-01-02T00:00:00Z");
        assert_eq!(f["first_seen"], "2024-01-02T00:00:00Z");
        assert_eq!(f["location"]["commits"], 1);
        assert_eq!(v["summary"]["history"]["commits"], 2);
        // --since: history from a date on; the secret came in before it.
        let (code, v, _) = scan(&dir, &["--git", ".", "--since", "2024-01-03"]);
        assert_eq!((code, places(&v)), (0, vec![]));
        let (_, v, _) = scan(&dir, &["--git", ".", "--since", "2024-01-01T00:00:00Z"]);
        assert_eq!(places(&v), vec![p("config.py", &c1)]);
        // Without --git, the working tree alone is clean.
        let (code, v, _) = scan(&dir, &["."]);
        assert_eq!((code, places(&v)), (0, vec![]));
    }
);

kttest!(git_secret_only_on_side_branch_or_tag, |dir, _cmd| {
    let mut s = Synth::new(41);
    let (a, b) = (s.github_pat(), s.github_pat());
    init(dir.path());
    dir.write("README.md", "hello\n");
    commit(dir.path(), 1, "init");
    git(dir.path(), &["checkout", "-q", "-b", "feature"]);
    dir.write("feature.py", format!("KEY = \"{a}\"\n"));
    let side = commit(dir.path(), 2, "feature");
    git(dir.path(), &["checkout", "-q", "main"]);
    git(dir.path(), &["checkout", "-q", "--detach"]);
    dir.write("release.py", format!("KEY = \"{b}\"\n"));
    let tagged = commit(dir.path(), 3, "release");
    git(dir.path(), &["tag", "-a", "v1", "-m", "v1"]);
    git(dir.path(), &["checkout", "-q", "main"]);
    let (code, v, stderr) = scan(&dir, &["--git", "."]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        places(&v),
        vec![p("feature.py", &side), p("release.py", &tagged)]
    );
});

kttest!(
    git_same_blob_in_many_commits_is_one_finding_with_oldest_commit,
    |dir, _cmd| {
        let gh = Synth::new(42).github_pat();
        init(dir.path());
        dir.write("app/settings.py", format!("TOKEN = \"{gh}\"\n"));
        let first = commit(dir.path(), 1, "settings");
        for i in 0..30 {
            dir.write("log.txt", format!("entry {i}\n"));
            commit(dir.path(), 2 + i, "churn");
        }
        let (code, v, stderr) = scan(&dir, &["--git", ".", "-j", "2"]);
        assert_eq!(code, 1, "{stderr}");
        assert_eq!(places(&v), vec![p("app/settings.py", "tree")]);
        let f = &v["findings"][0];
        let locs = f["locations"].as_array().expect("locations");
        assert_eq!(locs.len(), 2, "{f}");
        assert!(locs[0]["commit"].is_null(), "working tree first");
        assert_eq!(locs[1]["commit"], first.as_str());
        assert_eq!(locs[1]["commits"], 31);
        assert_eq!(f["first_seen"], "2024-01-02T00:00:00Z");
        // 1 settings blob + 30 log.txt versions, each read once.
        assert_eq!(v["summary"]["history"]["blobs"], 31);
        assert_eq!(v["summary"]["history"]["commits"], 31);
        // Byte-identical whatever the thread count.
        let one = run(dir
            .command()
            .args(["scan", "--git", ".", "-f", "json", "-j", "1"]))
        .1;
        let eight = run(dir
            .command()
            .args(["scan", "--git", ".", "-f", "json", "-j", "8"]))
        .1;
        assert_eq!(one, eight);
        // SARIF: one result per location, same partial fingerprint.
        let (_, sarif, _) = run(dir.command().args(["scan", "--git", ".", "-f", "sarif"]));
        let doc: Value = serde_json::from_str(&sarif).expect("sarif");
        let results = doc["runs"][0]["results"].as_array().expect("results");
        assert_eq!(results.len(), 2);
        assert_eq!(
            results[0]["partialFingerprints"],
            results[1]["partialFingerprints"]
        );
        assert_eq!(results[1]["properties"]["commit"], first.as_str());
    }
);

kttest!(git_rename_keeps_the_introducing_commit, |dir, _cmd| {
    let gh = Synth::new(43).github_pat();
    init(dir.path());
    dir.write("old.env", format!("GH={gh}\n"));
    let c1 = commit(dir.path(), 1, "add");
    git(dir.path(), &["mv", "old.env", "new.env"]);
    commit(dir.path(), 2, "rename");
    let (_, v, stderr) = scan(&dir, &["--git", "."]);
    // The blob is read once, under the path and commit that introduced it; the
    // working-tree copy is at the new path.
    assert_eq!(
        places(&v),
        vec![p("new.env", "tree"), p("old.env", &c1)],
        "{stderr}"
    );
    assert_eq!(v["summary"]["history"]["blobs"], 1);
    assert_eq!(v["findings"][1]["location"]["commits"], 2);
});

kttest!(git_secret_introduced_by_a_merge_commit, |dir, _cmd| {
    let gh = Synth::new(44).github_pat();
    init(dir.path());
    dir.write("a.txt", "base\n");
    commit(dir.path(), 1, "base");
    git(dir.path(), &["checkout", "-q", "-b", "topic"]);
    dir.write("b.txt", "topic\n");
    commit(dir.path(), 2, "topic");
    git(dir.path(), &["checkout", "-q", "main"]);
    dir.write("c.txt", "main\n");
    commit(dir.path(), 3, "main");
    git(
        dir.path(),
        &["merge", "-q", "--no-ff", "--no-commit", "topic"],
    );
    dir.write("merge.cfg", format!("token = {gh}\n"));
    let merge = commit(dir.path(), 4, "merge topic");
    dir.write("merge.cfg", "token = none\n");
    commit(dir.path(), 5, "clean");
    let (_, v, stderr) = scan(&dir, &["--git", "."]);
    assert_eq!(places(&v), vec![p("merge.cfg", &merge)], "{stderr}");
});

kttest!(git_rev_range_finds_only_the_new_secret, |dir, _cmd| {
    let mut s = Synth::new(45);
    let (old, new, other) = (s.github_pat(), s.github_pat(), s.github_pat());
    init(dir.path());
    dir.write("config.py", format!("OLD = \"{old}\"\n"));
    dir.write("legacy.py", format!("X = \"{other}\"\n"));
    commit(dir.path(), 1, "old debt");
    git(dir.path(), &["checkout", "-q", "-b", "pr"]);
    dir.write("config.py", format!("OLD = \"{old}\"\nNEW = \"{new}\"\n"));
    let c = commit(dir.path(), 2, "pr change");
    dir.write("notes.md", "docs\n");
    commit(dir.path(), 3, "docs");
    let (code, v, stderr) = scan(&dir, &["--rev-range", "main..pr"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(places(&v), vec![p("config.py", &c)]);
    assert_eq!(
        v["findings"][0]["location"]["line"], 2,
        "the new secret, not the old one"
    );
    // A clean range passes; an unresolvable or empty one is an error, not a pass.
    let (code, v, _) = scan(&dir, &["--rev-range", "pr~1..pr"]);
    assert_eq!((code, places(&v)), (0, vec![]));
    let (code, _, stderr) = scan(&dir, &["--rev-range", "nosuch..pr"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("nosuch"), "{stderr}");
    let (code, _, stderr) = scan(&dir, &["--rev-range", "pr..main"]);
    assert_eq!(code, 2, "{stderr}");
});

kttest!(git_staged_finds_only_what_is_staged, |dir, _cmd| {
    let mut s = Synth::new(46);
    let (old, new, unstaged) = (s.github_pat(), s.github_pat(), s.github_pat());
    init(dir.path());
    dir.write("config.py", format!("OLD = \"{old}\"\n"));
    commit(dir.path(), 1, "old");
    dir.write("config.py", format!("OLD = \"{old}\"\nNEW = \"{new}\"\n"));
    git(dir.path(), &["add", "config.py"]);
    dir.write("scratch.py", format!("U = \"{unstaged}\"\n"));
    let (code, v, stderr) = scan(&dir, &["--staged"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(places(&v), vec![p("config.py", "tree")]);
    assert_eq!(v["findings"][0]["location"]["line"], 2);
    git(dir.path(), &["reset", "-q"]);
    let (code, v, stderr) = scan(&dir, &["--staged"]);
    assert_eq!((code, places(&v)), (0, vec![]));
    assert!(stderr.contains("warning[nothing-staged]"), "{stderr}");
});

kttest!(
    git_shallow_clone_and_empty_repo_succeed_with_warnings,
    |dir, _cmd| {
        let mut s = Synth::new(47);
        let origin = dir.path().join("origin");
        std::fs::create_dir(&origin).expect("mkdir");
        init(&origin);
        let mut ids = Vec::new();
        for i in 0..4 {
            std::fs::write(
                origin.join(format!("f{i}.py")),
                format!("T = \"{}\"\n", s.github_pat()),
            )
            .expect("write");
            ids.push(commit(&origin, i + 1, "c"));
        }
        let url = format!("file://{}", origin.display());
        git(
            dir.path(),
            &["clone", "-q", "--depth", "2", &url, "shallow"],
        );
        let (code, v, stderr) = run_in(&dir, "shallow", &["--git", "."]);
        assert_eq!(code, 1, "{stderr}");
        assert!(
            stderr.contains("warning[shallow-clone]: shallow"),
            "{stderr}"
        );
        assert_eq!(v["summary"]["history"]["shallow_repositories"], 1);
        assert_eq!(v["summary"]["history"]["commits"], 2);
        // A range whose base is cut off by the shallow boundary cannot gate anything.
        let range = format!("{}..HEAD", ids[0]);
        let (code, _, stderr) = run_in(&dir, "shallow", &["--rev-range", &range]);
        assert_eq!(code, 2, "{stderr}");
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).expect("mkdir");
        init(&empty);
        let (code, v, stderr) = run_in(&dir, "empty", &["--git", "."]);
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stderr.contains("warning[empty-repository]: empty"),
            "{stderr}"
        );
        assert_eq!(v["summary"]["history"]["repositories"], 1);
        // A directory with no repository is an error for --git.
        let plain = TestDir::new();
        plain.write("a.txt", "x\n");
        let (code, _, stderr) = run(plain.command().args(["scan", "--git", "."]));
        assert_eq!(code, 2, "{stderr}");
    }
);

fn run_in(dir: &TestDir, sub: &str, args: &[&str]) -> (i32, Value, String) {
    let (code, stdout, stderr) = run(dir
        .command()
        .current_dir(dir.path().join(sub))
        .arg("scan")
        .args(args)
        .args(["--format", "json"]));
    (
        code,
        serde_json::from_str(&stdout).unwrap_or(Value::Null),
        stderr,
    )
}

kttest!(git_bare_repo_and_hard_cases, |dir, _cmd| {
    let mut s = Synth::new(48);
    let gh = s.github_pat();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).expect("mkdir");
    init(&work);
    std::fs::write(work.join("k.py"), format!("T = \"{gh}\"\n")).expect("write");
    std::fs::write(
        work.join("big.txt"),
        format!("{}\n{}\n", "a".repeat(4096), s.github_pat()),
    )
    .expect("write");
    std::fs::write(work.join("model.bin"), "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n").expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
        std::fs::write(work.join(name), "plain\n").expect("write");
    }
    let c1 = commit(&work, 1, "add");
    let sub = git(&work, &["rev-parse", "HEAD"]);
    git(
        &work,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{sub},vendor/lib"),
        ],
    );
    git(&work, &["commit", "-q", "-m", "submodule"]);
    git(dir.path(), &["clone", "-q", "--bare", "work", "mirror.git"]);
    let (code, v, stderr) = run_in(&dir, ".", &["--git", "mirror.git", "--max-file-size", "2K"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(places(&v), vec![p("k.py", &c1)]);
    assert_eq!(v["findings"][0]["location"]["repo"], "mirror.git");
    assert_eq!(
        v["summary"]["files_scanned"], 0,
        "a bare repository has no working tree"
    );
    let h = &v["summary"]["history"];
    assert_eq!(
        (h["skipped_too_large"].as_u64(), h["lfs_pointers"].as_u64()),
        (Some(1), Some(1))
    );
    #[cfg(unix)]
    assert!(
        stderr.contains("warning[non-utf8-path]: mirror.git:caf\u{FFFD}.txt"),
        "{stderr}"
    );
    for code in ["blob-too-large", "lfs-pointer", "git-submodule"] {
        assert!(
            stderr.contains(&format!("warning[{code}]")),
            "{code}: {stderr}"
        );
    }
    // Both repositories found under one path; each named after itself.
    let (_, v, stderr) = run_in(&dir, ".", &["--git", ".", "--max-file-size", "2K"]);
    let repos: std::collections::BTreeSet<String> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["location"]["repo"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        repos.into_iter().collect::<Vec<_>>(),
        vec!["mirror.git", "work"],
        "{stderr}"
    );
    // The report still matches its schema.
    crate::macros::assert_schema_valid(crate::macros::REPORT_SCHEMA, &v);
});

// Discovery finds repositories by their layout on disk; one laid out as a repository that
// libgit2 will not open (here a format from the future) is a warning, and the rest is read.
kttest!(
    git_a_repository_that_will_not_open_is_a_warning,
    |dir, _cmd| {
        let gh = Synth::new(50).github_pat();
        std::fs::create_dir(dir.path().join("work")).expect("mkdir");
        init(&dir.path().join("work"));
        dir.write("work/config.py", format!("TOKEN = \"{gh}\"\n"));
        commit(&dir.path().join("work"), 1, "add token");
        git(dir.path(), &["init", "-q", "--bare", "future.git"]);
        git(
            &dir.path().join("future.git"),
            &["config", "core.repositoryformatversion", "99"],
        );
        let (code, v, stderr) = run_in(&dir, ".", &["--git", "."]);
        assert_eq!(code, 1, "{stderr}");
        assert_eq!(places(&v), vec![p("config.py", "tree")]);
        assert_eq!(v["summary"]["history"]["commits"], 1, "work's history read");
        assert!(
            stderr.contains(
                "warning[unreadable-repository]: future.git: cannot open as a git repository"
            ),
            "{stderr}"
        );
    }
);

kttest!(
    git_old_unmanaged_secret_in_the_tree_is_stale_with_max_age,
    |dir, _cmd| {
        init(dir.path());
        let token = Synth::new(41).github_pat();
        dir.write("app.py", format!("TOKEN = \"{token}\"\n"));
        commit(dir.path(), 0, "add token");
        dir.write("README.md", "docs\n");
        commit(dir.path(), 30, "docs");
        let (code, v, stderr) = scan(&dir, &["--git", ".", "--max-age", "90"]);
        assert_eq!(code, 1, "{stderr}");
        let f = &v["findings"][0];
        assert_eq!(f["kind"], "stale-secret", "{v}");
        assert_eq!(f["location"]["path"], "app.py");
        assert!(
            f["location"]["commit"].is_null(),
            "primary is the working-tree copy"
        );
        assert!(f["first_seen"]
            .as_str()
            .expect("first_seen")
            .starts_with("2024-01-01"));
        let (_, v, _) = scan(&dir, &["--git", "."]);
        assert_eq!(v["findings"][0]["kind"], "unmanaged-secret");
    }
);

kttest!(
    git_packed_history_reads_as_loose_and_survives_a_damaged_pack,
    |dir, _cmd| {
        // Many small edits to the same files, so a repack chains them as deltas (what the
        // pack reader resolves itself); a secret comes and goes in the middle.
        let mut s = Synth::new(49);
        let gh = s.github_pat();
        init(dir.path());
        let mut lines: Vec<String> = (0..60).map(|i| format!("setting_{i} = {i}")).collect();
        for n in 0..40u32 {
            lines[(n as usize * 7) % 60] = format!("setting_{n} = {}", n * 3);
            let mut text = lines.join("\n");
            if (10..20).contains(&n) {
                text.push_str(&format!("\nTOKEN = \"{gh}\""));
            }
            dir.write("app/settings.py", &text);
            dir.write(
                &format!("app/mod{}/notes.txt", n % 3),
                lines[..n as usize].join("\n"),
            );
            commit(dir.path(), n, "edit");
        }
        let (code, loose, stderr) = scan(&dir, &["--git", "."]);
        assert_eq!(code, 1, "{stderr}");
        git(
            dir.path(),
            &["repack", "-adfq", "--depth=50", "--window=50"],
        );
        git(dir.path(), &["prune-packed"]);
        let (code, packed, stderr) = scan(&dir, &["--git", "."]);
        assert_eq!(code, 1, "{stderr}");
        assert_eq!(packed["findings"], loose["findings"]);
        assert_eq!(packed["summary"]["history"], loose["summary"]["history"]);
        // A damaged pack: a clear warning or error, never a panic.
        let pack_dir = dir.path().join(".git/objects/pack");
        for e in std::fs::read_dir(&pack_dir).expect("pack dir") {
            let path = e.expect("entry").path();
            if path.extension().is_some_and(|x| x == "pack") {
                let mut bytes = std::fs::read(&path).expect("read pack");
                let mid = bytes.len() / 2;
                for b in &mut bytes[mid..mid + 64] {
                    *b ^= 0x5a;
                }
                let mut perms = std::fs::metadata(&path).expect("meta").permissions();
                #[allow(clippy::permissions_set_readonly_false)]
                perms.set_readonly(false);
                std::fs::set_permissions(&path, perms).expect("chmod");
                std::fs::write(&path, bytes).expect("write pack");
            }
        }
        let (code, _, stderr) = scan(&dir, &["--git", "."]);
        assert!((0..=2).contains(&code), "{code}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!stderr.contains(&gh), "no plaintext secret: {stderr}");
    }
);
