//! `keytrace sweep --cache DIR` and the per-repository limits (issue 13 points 2 and 3):
//! a re-sweep reads only new blobs and writes the same report; rules and inventory changes
//! void the cache; a corrupt cache file is discarded with a warning; a repository past
//! `--repo-timeout` or `--repo-max-bytes` is an error entry and the sweep goes on; a
//! repository whose refs did not move is not walked again, and one whose refs did is.

use crate::git::{commit, git};
use crate::macros::{run, TestDir};
use crate::rules_check::GOOD_RULE;
use crate::sweep::{estate, sweep};
use crate::synth::Synth;
use serde_json::Value;

const CACHE: &str = "sweep-cache";

/// The report without its `blobs_scanned` and `blobs_reused` lines: what a cache must not change.
fn without_blob_counts(text: &str) -> String {
    text.lines()
        .filter(|l| {
            let l = l.trim_start();
            !l.starts_with("\"blobs_scanned\"") && !l.starts_with("\"blobs_reused\"")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("report JSON")
}

/// `(blobs_scanned, blobs_reused)` of the repository whose path ends with `/name`.
fn counts_of(report: &Value, name: &str) -> (u64, u64) {
    let r = report["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .find(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with(&format!("/{name}")))
        })
        .unwrap_or_else(|| panic!("no repository {name}"));
    (
        r["blobs_scanned"].as_u64().expect("scanned"),
        r["blobs_reused"].as_u64().expect("reused"),
    )
}

fn totals(report: &Value) -> (u64, u64) {
    let t = &report["totals"];
    (
        t["blobs_scanned"].as_u64().expect("scanned"),
        t["blobs_reused"].as_u64().expect("reused"),
    )
}

/// Every cache file's text, checked to hold none of `secrets`.
fn assert_cache_has_no_plaintext(dir: &TestDir, secrets: &[&str]) {
    let mut files = 0;
    for e in std::fs::read_dir(dir.path().join(CACHE)).expect("cache dir") {
        let text = std::fs::read_to_string(e.expect("entry").path()).expect("cache file");
        for s in secrets {
            assert!(!text.contains(s), "plaintext in a cache file");
        }
        files += 1;
    }
    assert!(files > 0, "the cache holds no file");
}

kttest!(
    sweep_cache_reads_only_new_blobs_and_keeps_the_report,
    |dir, _cmd| {
        let (shared, single) = estate(&dir);
        let uncached = sweep(&dir, "plain.json", &[]);
        let first = sweep(&dir, "first.json", &["--cache", CACHE]);
        assert_eq!(
            first, uncached,
            "a cold cache changes nothing, counts included"
        );
        // A README in each of 50 repositories, and a deploy.env in 4 of them.
        let first_blobs = totals(&parse(&first)).0;
        assert_eq!(first_blobs, 54);
        assert_cache_has_no_plaintext(&dir, &[&shared, &single]);

        let again = sweep(&dir, "again.json", &["--cache", CACHE]);
        assert_eq!(totals(&parse(&again)), (0, first_blobs));
        assert_eq!(without_blob_counts(&again), without_blob_counts(&uncached));

        // One commit in one repository: a new file with a new token, and a changed README.
        let mut synth = Synth::new(99);
        let added = synth.github_pat();
        let repo = dir.path().join("estate/r07");
        dir.write("estate/r07/ci.env", format!("TOKEN={added}\n"));
        dir.write("estate/r07/README.md", "repo 7, edited\n");
        commit(&repo, 800, "second");
        let after = sweep(&dir, "after.json", &["--cache", CACHE]);
        let report = parse(&after);
        assert_eq!(counts_of(&report, "r07"), (2, 1));
        assert_eq!(counts_of(&report, "r05"), (0, 2));
        assert_eq!(totals(&report), (2, first_blobs));
        let fresh = sweep(&dir, "fresh.json", &[]);
        assert_eq!(without_blob_counts(&after), without_blob_counts(&fresh));
        assert_eq!(report["totals"]["unmanaged_values"], 3);
        assert!(!after.contains(&added), "plaintext in the report");
        assert_cache_has_no_plaintext(&dir, &[&shared, &single, &added]);
    }
);

kttest!(
    sweep_cache_is_void_after_a_rule_or_inventory_change,
    |dir, _cmd| {
        let (shared, _) = estate(&dir);
        dir.write("rules/acme.toml", GOOD_RULE);
        let with_rules = ["--cache", CACHE, "--rules", "rules"];
        let first = parse(&sweep(&dir, "first.json", &with_rules));
        let all = totals(&first).0;
        assert_eq!(
            totals(&parse(&sweep(&dir, "again.json", &with_rules))),
            (0, all)
        );

        // One rule changed: every blob is read again, then reused again.
        dir.write(
            "rules/acme.toml",
            GOOD_RULE.replace(r#"confidence = "high""#, r#"confidence = "medium""#),
        );
        assert_eq!(
            totals(&parse(&sweep(&dir, "changed.json", &with_rules))),
            (all, 0)
        );
        assert_eq!(
            totals(&parse(&sweep(&dir, "stable.json", &with_rules))),
            (0, all)
        );

        // An inventory appears (the default file): the cache is void, and the shared token
        // is now an inventory credential in every repository that holds it.
        crate::inventory::add(&dir, "deploy-token", &shared, &[]);
        let linked = sweep(&dir, "linked.json", &with_rules);
        assert_eq!(totals(&parse(&linked)), (all, 0));
        let reused = sweep(&dir, "reused.json", &with_rules);
        assert_eq!(totals(&parse(&reused)), (0, all));
        let plain = sweep(&dir, "plain.json", &["--rules", "rules"]);
        assert_eq!(without_blob_counts(&reused), without_blob_counts(&plain));
        let report = parse(&reused);
        assert_eq!(report["credentials"][0]["id"], "deploy-token");
        assert_eq!(
            report["credentials"][0]["repositories"]
                .as_array()
                .map(Vec::len),
            Some(3)
        );
    }
);

kttest!(
    sweep_discards_a_corrupt_cache_file_with_a_warning,
    |dir, _cmd| {
        estate(&dir);
        let uncached = sweep(&dir, "plain.json", &[]);
        sweep(&dir, "first.json", &["--cache", CACHE]);
        let mut files: Vec<_> = std::fs::read_dir(dir.path().join(CACHE))
            .expect("cache dir")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        // One torn mid-write, one of a future format, one whose findings were tampered with
        // into a shape that no longer parses.
        let torn = std::fs::read(&files[0]).expect("read");
        std::fs::write(&files[0], &torn[..torn.len() / 2]).expect("tear");
        std::fs::write(&files[1], r#"{"format": 99, "blobs": {}}"#).expect("future");
        let text = std::fs::read_to_string(&files[2]).expect("read");
        std::fs::write(&files[2], text.replace("\"path\":", "\"path\":7,\"x\":")).expect("tamper");
        let (code, _, stderr) =
            run(dir
                .command()
                .args(["sweep", "estate", "-o", "after.json", "--cache", CACHE]));
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(
            stderr.matches("warning[cache-discarded]").count(),
            3,
            "{stderr}"
        );
        assert!(stderr.contains("format 99"), "{stderr}");
        let after = std::fs::read_to_string(dir.path().join("after.json")).expect("report");
        let report = parse(&after);
        let discarded: Vec<&Value> = report["repositories"]
            .as_array()
            .expect("repositories")
            .iter()
            .filter(|r| {
                r["errors"].as_array().is_some_and(|e| {
                    e.iter()
                        .any(|e| e.as_str().is_some_and(|e| e.contains("cache-discarded")))
                })
            })
            .collect();
        assert_eq!(discarded.len(), 3);
        for r in &discarded {
            assert_eq!(r["blobs_reused"], 0, "a discarded cache is not trusted");
            assert!(r["blobs_scanned"].as_u64().is_some_and(|n| n > 0));
        }
        // Apart from those warnings, the findings are those of an uncached sweep.
        let plain = parse(&uncached);
        for key in ["credentials", "unmanaged", "stale"] {
            assert_eq!(report[key], plain[key], "{key}");
        }
        // The discarded files were rewritten whole: the next sweep reuses everything.
        let next = parse(&sweep(&dir, "next.json", &["--cache", CACHE]));
        assert_eq!(totals(&next).0, 0);
    }
);

kttest!(
    sweep_repo_limits_make_error_entries_and_the_sweep_goes_on,
    |dir, _cmd| {
        estate(&dir);
        // r03 holds 1 MiB of random base62 text: past a 512K limit, the others (about 100K) are not.
        let mut synth = Synth::new(7);
        dir.write("estate/r03/blob.bin", synth.base62(1024 * 1024));
        commit(&dir.path().join("estate/r03"), 2, "big");
        let limited = parse(&sweep(&dir, "limited.json", &["--repo-max-bytes", "512K"]));
        let errors: Vec<(String, String)> = limited["repositories"]
            .as_array()
            .expect("repositories")
            .iter()
            .filter(|r| r["errors"].as_array().is_some_and(|e| !e.is_empty()))
            .map(|r| {
                (
                    r["path"].as_str().unwrap_or_default().to_string(),
                    r["errors"][0].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors
            .iter()
            .any(|(p, e)| p.ends_with("/r03")
                && e.contains("more than --repo-max-bytes 524288 bytes")));
        assert!(errors.iter().any(|(p, _)| p.ends_with("/broken")));
        assert_eq!(limited["totals"]["unmanaged_values"], 2);

        // A zero timeout stops every repository before its first blob is read: error entries,
        // and cache files that record no blob, since none was scanned.
        let (code, _, stderr) = run(dir.command().args([
            "sweep",
            "estate",
            "-o",
            "late.json",
            "--repo-timeout",
            "0s",
            "--cache",
            CACHE,
        ]));
        assert_eq!(code, 0, "{stderr}");
        let late = parse(&std::fs::read_to_string(dir.path().join("late.json")).expect("report"));
        let repos = late["repositories"].as_array().expect("repositories");
        assert_eq!(repos.len(), 51);
        for r in repos
            .iter()
            .filter(|r| !r["path"].as_str().unwrap_or("").ends_with("/broken"))
        {
            let e = r["errors"][0].as_str().unwrap_or_default();
            assert!(e.contains("exceeded --repo-timeout 0s"), "{e}");
            assert_eq!(r["blobs_scanned"], 0);
        }
        for e in std::fs::read_dir(dir.path().join(CACHE)).expect("cache dir") {
            let text = std::fs::read_to_string(e.expect("entry").path()).expect("cache");
            let (head, rest) = head_and_rest(&text);
            assert_eq!(
                (&head["found"], rest),
                (&serde_json::json!({}), "{}"),
                "{text}"
            );
        }
        let (code, _, stderr) =
            run(dir
                .command()
                .args(["sweep", "estate", "-o", "x.json", "--repo-timeout", "soon"]));
        assert_eq!(code, 2);
        assert!(stderr.contains("bad duration `soon`"), "{stderr}");
    }
);

/// `keytrace sweep` (with the cache when `cached`) at time `now`, with `--progress json`:
/// the report, and how many blobs the history reads went through (the last progress line's
/// running count, which a replayed repository adds nothing to).
fn sweep_at(dir: &TestDir, out: &str, now: &str, cached: bool) -> (String, u64) {
    let mut cmd = dir.command();
    cmd.args(["sweep", "estate", "-o", out, "--progress", "json"])
        .env("KEYTRACE_NOW", now);
    if cached {
        cmd.args(["--cache", CACHE]);
    }
    let (code, stdout, stderr) = run(&mut cmd);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    let last = stderr
        .lines()
        .rfind(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no progress line: {stderr}"));
    let line: Value = serde_json::from_str(last).expect("progress JSON");
    let report = std::fs::read_to_string(dir.path().join(out)).expect("report written");
    (report, line["blobs"].as_u64().expect("blobs"))
}

const JUNE_2024: &str = "2024-06-01T00:00:00Z";
const JUNE_2025: &str = "2025-06-01T00:00:00Z";

kttest!(
    sweep_cache_replays_a_repository_whose_refs_did_not_move_with_ages_of_now,
    |dir, _cmd| {
        let (shared, single) = estate(&dir);
        let (first, walked) = sweep_at(&dir, "first.json", JUNE_2024, true);
        assert_eq!(walked, 54, "the cold sweep walks every repository");
        let kinds = &parse(&first)["totals"]["findings_by_kind"];
        assert_eq!(kinds["unmanaged-secret"], 4, "{kinds}");
        // A year on, nothing moved: no history is walked, yet the secrets have grown stale.
        let (again, walked) = sweep_at(&dir, "again.json", JUNE_2025, true);
        assert_eq!(walked, 0, "an unchanged repository was walked again");
        assert_eq!(totals(&parse(&again)), (0, 54));
        assert_eq!(counts_of(&parse(&again), "r05"), (0, 2));
        let (plain, _) = sweep_at(&dir, "plain.json", JUNE_2025, false);
        assert_eq!(without_blob_counts(&again), without_blob_counts(&plain));
        assert_eq!(
            parse(&again)["totals"]["findings_by_kind"]["stale-secret"],
            4
        );
        assert_cache_has_no_plaintext(&dir, &[&shared, &single]);
    }
);

kttest!(
    sweep_cache_walks_again_when_a_ref_is_added_or_deleted,
    |dir, _cmd| {
        let (shared, single) = estate(&dir);
        // r09 holds a token only on branch `leak`, which main does not contain.
        let mut synth = Synth::new(77);
        let leaked = synth.github_pat();
        let r09 = dir.path().join("estate/r09");
        git(&r09, &["checkout", "-q", "-b", "leak"]);
        dir.write("estate/r09/leak.env", format!("TOKEN={leaked}\n"));
        commit(&r09, 2, "leak");
        git(&r09, &["checkout", "-q", "main"]);
        let (first, _) = sweep_at(&dir, "first.json", JUNE_2025, true);
        assert_eq!(parse(&first)["totals"]["unmanaged_values"], 3);
        assert_eq!(sweep_at(&dir, "same.json", JUNE_2025, true).1, 0);

        // A new branch and a new tag at commits that exist: those two are walked again
        // (r07 holds one blob, r05 two), and every blob's result is still reused.
        git(&dir.path().join("estate/r07"), &["branch", "extra"]);
        git(&dir.path().join("estate/r05"), &["tag", "v1"]);
        let (moved, walked) = sweep_at(&dir, "moved.json", JUNE_2025, true);
        assert_eq!(walked, 3);
        assert_eq!(totals(&parse(&moved)).0, 0);
        let (plain, _) = sweep_at(&dir, "plain.json", JUNE_2025, false);
        assert_eq!(without_blob_counts(&moved), without_blob_counts(&plain));

        // The branch deleted: r09 (three blobs before, two now) is walked, and the token
        // that only that branch held is gone from the report.
        git(&r09, &["branch", "-q", "-D", "leak"]);
        let (gone, walked) = sweep_at(&dir, "gone.json", JUNE_2025, true);
        assert_eq!(walked, 1);
        let report = parse(&gone);
        assert_eq!(report["totals"]["unmanaged_values"], 2);
        assert!(
            !gone.contains("leak.env"),
            "a finding of the deleted branch"
        );
        let (plain, _) = sweep_at(&dir, "plain2.json", JUNE_2025, false);
        assert_eq!(without_blob_counts(&gone), without_blob_counts(&plain));
        assert_cache_has_no_plaintext(&dir, &[&shared, &single, &leaked]);
        assert!(!gone.contains(&leaked) && !first.contains(&leaked));
    }
);

/// A cache file's first line (its head: settings, walk and the blobs that yield
/// something), and the rest (the blobs that yield nothing).
fn head_and_rest(text: &str) -> (Value, &str) {
    let (head, rest) = text.split_once('\n').expect("a cache file is two lines");
    (parse(head), rest)
}

/// The repository paths the cache files (`*.json`) name, each file's `"repo"`.
fn cached_repos(dir: &TestDir) -> Vec<String> {
    let mut repos: Vec<String> = std::fs::read_dir(dir.path().join(CACHE))
        .expect("cache dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("cache file");
            head_and_rest(&text).0["repo"]
                .as_str()
                .expect("repo")
                .to_string()
        })
        .collect();
    repos.sort();
    repos
}

/// The repository paths a sweep report lists.
fn reported_repos(report: &str) -> Vec<String> {
    parse(report)["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .map(|r| r["path"].as_str().expect("path").to_string())
        .collect()
}

kttest!(
    sweep_prunes_cache_files_of_repositories_gone_only_in_their_own_shard,
    |dir, _cmd| {
        estate(&dir);
        sweep(&dir, "first.json", &["--cache", CACHE]);
        let before = cached_repos(&dir);
        assert_eq!(before.len(), 50, "one file per readable repository");
        dir.write(&format!("{CACHE}/README"), "not a cache file\n");
        let first_half = reported_repos(&sweep(
            &dir,
            "half1.json",
            &["--cache", CACHE, "--shard", "1/2"],
        ));
        assert_eq!(cached_repos(&dir), before);
        let r07 = before
            .iter()
            .find(|r| r.ends_with("/r07"))
            .expect("r07")
            .clone();
        let gone: Vec<String> = before.iter().filter(|r| **r != r07).cloned().collect();

        // r07 goes: the sweep of the other shard leaves its file, the sweep of its own not.
        std::fs::remove_dir_all(dir.path().join("estate/r07")).expect("rm r07");
        sweep(&dir, "half2.json", &["--cache", CACHE, "--shard", "2/2"]);
        let in_first = first_half.contains(&r07);
        assert_eq!(&cached_repos(&dir), if in_first { &before } else { &gone });
        sweep(&dir, "half1.json", &["--cache", CACHE, "--shard", "1/2"]);
        assert_eq!(cached_repos(&dir), gone);
        sweep(&dir, "all.json", &["--cache", CACHE]);
        assert_eq!(cached_repos(&dir), gone);
        assert!(dir.path().join(CACHE).join("README").exists());
    }
);

kttest!(
    sweep_cache_written_by_another_build_is_rescanned,
    |dir, _cmd| {
        estate(&dir);
        let first = parse(&sweep(&dir, "first.json", &["--cache", CACHE]));
        let all = totals(&first).0;
        for e in std::fs::read_dir(dir.path().join(CACHE)).expect("cache dir") {
            let path = e.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("cache file");
            let (mut head, rest) = head_and_rest(&text);
            assert_eq!(head["build"].as_str().map(str::len), Some(16), "{head}");
            head["build"] = "0000000000000000".into();
            std::fs::write(&path, format!("{head}\n{rest}")).expect("write");
        }
        let other = parse(&sweep(&dir, "other.json", &["--cache", CACHE]));
        assert_eq!(totals(&other), (all, 0), "another build's cache was reused");
        let again = parse(&sweep(&dir, "again.json", &["--cache", CACHE]));
        assert_eq!(totals(&again), (0, all));
    }
);

/// Every cache file's name and bytes.
fn cache_files(dir: &TestDir) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir.path().join(CACHE))
        .expect("cache dir")
        .map(|e| {
            let path = e.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("cache file"))
        })
        .collect()
}

kttest!(
    sweep_writes_nothing_into_repositories_and_a_resweep_rewrites_no_cache_file,
    |dir, _cmd| {
        estate(&dir);
        sweep(&dir, "first.json", &["--cache", CACHE]);
        // libgit2 creates an empty reflog file when asked for a missing one: the sweep
        // must not leave a stash reflog behind (it also moved the ref files' digest).
        for i in 0..50 {
            let log = dir
                .path()
                .join(format!("estate/r{i:02}/.git/logs/refs/stash"));
            assert!(!log.exists(), "the sweep wrote {}", log.display());
        }
        let before = cache_files(&dir);
        assert_eq!(before.len(), 50);
        sweep(&dir, "again.json", &["--cache", CACHE]);
        assert!(
            cache_files(&dir) == before,
            "a re-sweep of an unchanged estate rewrote cache files"
        );
    }
);

kttest!(
    sweep_cache_replays_an_unchanged_mirror_unopened_and_sees_each_change_to_its_files,
    |dir, _cmd| {
        let mut synth = Synth::new(31);
        let (old, new) = (synth.github_pat(), synth.github_pat());
        for i in 0..3 {
            let src = dir.path().join(format!("src/r{i}"));
            dir.write(&format!("src/r{i}/deploy.env"), format!("TOKEN={old}\n"));
            crate::git::init(&src);
            commit(&src, 1, "first");
            let mirror = format!("estate/m{i}.git");
            git(
                dir.path(),
                &["clone", "-q", "--mirror", &format!("src/r{i}"), &mirror],
            );
        }
        let mirror = |i: u32| dir.path().join(format!("estate/m{i}.git"));
        let (first, walked) = sweep_at(&dir, "first.json", JUNE_2025, true);
        assert_eq!(walked, 3);
        // The walk is recorded with the digest of the mirror's files and its scope.
        for file in std::fs::read_dir(dir.path().join(CACHE)).expect("cache dir") {
            let text = std::fs::read_to_string(file.expect("entry").path()).expect("read");
            let walk = &head_and_rest(&text).0["walk"];
            assert!(
                walk["files"]
                    .as_str()
                    .is_some_and(|f| f.starts_with("sha256:")),
                "{walk}"
            );
            assert_eq!(walk["scope"]["bare"], true, "{walk}");
        }
        let unchanged = |out: &str, plain: &str| {
            let (again, walked) = sweep_at(&dir, out, JUNE_2025, true);
            let (fresh, _) = sweep_at(&dir, plain, JUNE_2025, false);
            assert_eq!(without_blob_counts(&again), without_blob_counts(&fresh));
            (again, walked)
        };
        let (again, walked) = unchanged("again.json", "plain.json");
        assert_eq!((walked, totals(&parse(&again))), (0, (0, 3)));
        assert_eq!(without_blob_counts(&again), without_blob_counts(&first));

        // Only the config changes (a remote's URL): nothing is walked, and the walk is kept
        // described anew, so that the next sweep replays it unopened again.
        let before = walk_of(&dir, "m1.git");
        git(
            &mirror(1),
            &["remote", "set-url", "origin", "https://git.example.org/m1"],
        );
        assert_eq!(unchanged("url.json", "url-plain.json").1, 0);
        let after = walk_of(&dir, "m1.git");
        assert_ne!(after["files"], before["files"]);
        assert_eq!(after["scope"]["remote_url"], "https://git.example.org/m1");
        assert_eq!(after["blobs"], before["blobs"]);
        assert_eq!(unchanged("url2.json", "url2-plain.json").1, 0);
        assert_eq!(walk_of(&dir, "m1.git"), after);
        // A push of a new commit: that mirror is walked (its two blobs), only the new blob
        // is read, and its token is found.
        dir.write("src/r2/deploy.env", format!("TOKEN={new}\n"));
        commit(&dir.path().join("src/r2"), 2, "rotate");
        git(
            &dir.path().join("src/r2"),
            &["push", "-q", "../../estate/m2.git", "main"],
        );
        let (pushed, walked) = unchanged("pushed.json", "pushed-plain.json");
        assert_eq!((walked, totals(&parse(&pushed)).0), (2, 1));
        assert_eq!(parse(&pushed)["totals"]["unmanaged_values"], 2);
        // The pushed ref packed: the files differ, the refs do not; nothing is walked.
        let before = walk_of(&dir, "m2.git");
        git(&mirror(2), &["pack-refs", "--all"]);
        assert_eq!(unchanged("packed.json", "packed-plain.json").1, 0);
        assert_ne!(walk_of(&dir, "m2.git")["files"], before["files"]);
        // A config that includes another file cannot be vouched for by its bytes: the
        // mirror is opened again (and still replayed from its refs).
        dir.write("estate/extra.config", "[remote \"origin\"]\n");
        let config = mirror(0).join("config");
        let text = std::fs::read_to_string(&config).expect("config");
        std::fs::write(
            &config,
            format!("{text}[include]\n\tpath = ../extra.config\n"),
        )
        .expect("write config");
        assert_eq!(unchanged("include.json", "include-plain.json").1, 0);
        assert_cache_has_no_plaintext(&dir, &[&old, &new]);
        assert!(!pushed.contains(&new) && !pushed.contains(&old));
    }
);

/// The walk the cache file of the repository whose path ends with `name` records.
fn walk_of(dir: &TestDir, name: &str) -> Value {
    for file in std::fs::read_dir(dir.path().join(CACHE)).expect("cache dir") {
        let text = std::fs::read_to_string(file.expect("entry").path()).expect("cache file");
        let head = head_and_rest(&text).0;
        if head["repo"].as_str().is_some_and(|r| r.ends_with(name)) {
            return head["walk"].clone();
        }
    }
    panic!("no cache file of {name}")
}
