//! Repositories as scan units: a folder of repositories names each finding after the
//! repository that holds it, SARIF has one run per repository with its provenance, the report
//! lists each repository's scope facts, and compressed archives are named holes.

use crate::git::{commit, git, init};
use crate::macros::{assert_schema_valid, run, run_json, TestDir, REPORT_SCHEMA, SARIF_SCHEMA};
use crate::synth::Synth;
use serde_json::Value;
use std::path::Path;

/// `estate/` with `api` (origin remote with a user name), `shared.git` (bare, pushed to from a
/// clone outside the estate) and `web` (no remote), each holding one synthetic token.
/// Returns the tokens (api, shared, web).
fn estate(dir: &TestDir) -> (String, String, String) {
    let mut s = Synth::new(61);
    let (api, shared, web) = (s.github_pat(), s.github_pat(), s.github_pat());
    let root = dir.path().join("estate");
    let api_dir = root.join("api");
    std::fs::create_dir_all(api_dir.join("conf")).expect("mkdir");
    init(&api_dir);
    git(
        &api_dir,
        &[
            "remote",
            "add",
            "origin",
            "https://deploy@github.com/acme/api.git",
        ],
    );
    std::fs::write(
        api_dir.join("conf/config yml.py"),
        format!("TOKEN = \"{api}\"\n"),
    )
    .expect("write");
    commit(&api_dir, 1, "api");
    let web_dir = root.join("web");
    std::fs::create_dir_all(&web_dir).expect("mkdir");
    init(&web_dir);
    std::fs::write(web_dir.join("app.py"), format!("TOKEN = \"{web}\"\n")).expect("write");
    commit(&web_dir, 2, "web");
    git(&root, &["init", "-q", "--bare", "shared.git"]);
    let work = dir.path().join("shared-work");
    std::fs::create_dir_all(&work).expect("mkdir");
    init(&work);
    std::fs::write(work.join("deploy.py"), format!("TOKEN = \"{shared}\"\n")).expect("write");
    commit(&work, 3, "shared");
    let bare = root.join("shared.git");
    git(
        &work,
        &["push", "-q", bare.to_str().expect("utf-8"), "HEAD:main"],
    );
    (api, shared, web)
}

/// `(repo, path)` of each finding's primary location, from a JSON report.
fn repo_paths(v: &Value) -> Vec<(String, String)> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let l = &f["location"];
            (
                l["repo"].as_str().expect("repo").to_string(),
                l["path"].as_str().expect("path").to_string(),
            )
        })
        .collect()
}

fn rp(repo: &str, path: &str) -> (String, String) {
    (repo.to_string(), path.to_string())
}

fn scan_estate(dir: &TestDir, extra: &[&str], format: &str) -> (i32, String, String) {
    run(dir
        .command()
        .args(["scan", "estate", "--format", format])
        .args(extra))
}

kttest!(
    each_finding_names_the_repository_that_holds_it,
    |dir, _cmd| {
        let (api, shared, web) = estate(&dir);
        let tree = vec![rp("api", "conf/config yml.py"), rp("web", "app.py")];
        let mut with_history = tree.clone();
        with_history.insert(1, rp("shared.git", "deploy.py"));
        for (extra, expected) in [(vec![], &tree), (vec!["--git"], &with_history)] {
            let (code, v, stderr) = run_json(
                dir.command()
                    .args(["scan", "estate", "--format", "json"])
                    .args(&extra),
            );
            assert_eq!(code, 1, "{stderr}");
            assert_eq!(&repo_paths(&v), expected, "{extra:?}");
            assert_schema_valid(REPORT_SCHEMA, &v);

            let (_, jsonl, _) = scan_estate(&dir, &extra, "jsonl");
            let lines: Vec<(String, String)> = jsonl
                .lines()
                .map(|l| {
                    let f: Value = serde_json::from_str(l).expect("jsonl line");
                    rp(
                        f["location"]["repo"].as_str().expect("repo"),
                        f["location"]["path"].as_str().expect("path"),
                    )
                })
                .collect();
            assert_eq!(&lines, expected, "jsonl {extra:?}");

            let (_, human, _) = scan_estate(&dir, &extra, "human");
            for (repo, path) in expected {
                assert!(
                    human.contains(&format!("  --> {repo}:{path}:1:")),
                    "{human}"
                );
            }
            let (_, github, _) = scan_estate(&dir, &extra, "github");
            assert!(
                github.contains("::error file=app.py,line=1,col=10,")
                    && github.contains("in repository web\n"),
                "{github}"
            );
            assert!(github.contains("file=conf/config yml.py,"), "{github}");
            for out in [&jsonl, &human, &github] {
                for secret in [&api, &shared, &web] {
                    assert!(!out.contains(secret.as_str()), "plaintext in output");
                }
            }
        }
    }
);

kttest!(
    sarif_has_one_run_per_repository_with_provenance,
    |dir, _cmd| {
        estate(&dir);
        let head = |repo: &str| {
            git(
                &dir.path().join("estate").join(repo),
                &["rev-parse", "HEAD"],
            )
        };
        for extra in [vec![], vec!["--git"]] {
            let (code, stdout, stderr) = scan_estate(&dir, &extra, "sarif");
            assert_eq!(code, 1, "{stderr}");
            assert!(!stdout.contains("Tok3nInUrl"), "credentials stripped");
            let doc: Value = serde_json::from_str(&stdout).expect("SARIF is JSON");
            assert_schema_valid(SARIF_SCHEMA, &doc);
            let runs = doc["runs"].as_array().expect("runs");
            assert_eq!(runs.len(), 3, "{extra:?}: {stdout}");
            let root = dir.path().join("estate").canonicalize().expect("canonical");
            let srcroot = |r: &Value| r["originalUriBaseIds"]["SRCROOT"]["uri"].clone();
            let vcs = |r: &Value| r["versionControlProvenance"][0].clone();
            // One result per location: with --git, the tree copy and the commit that added it.
            let copies = if extra.is_empty() { 1 } else { 2 };
            let uris = |r: &Value| -> Vec<String> {
                r["results"]
                    .as_array()
                    .expect("results")
                    .iter()
                    .map(|x| {
                        let a = &x["locations"][0]["physicalLocation"]["artifactLocation"];
                        assert_eq!(a["uriBaseId"], "SRCROOT");
                        a["uri"].as_str().expect("uri").to_string()
                    })
                    .collect()
            };
            let (api, shared, web) = (&runs[0], &runs[1], &runs[2]);
            assert_eq!(
                srcroot(api),
                format!("file://{}/api/", root.display()).as_str()
            );
            assert_eq!(vcs(api)["repositoryUri"], "https://github.com/acme/api.git");
            assert_eq!(vcs(api)["revisionId"], head("api").as_str());
            assert_eq!(vcs(api)["branch"], "main");
            assert_eq!(uris(api), vec!["conf/config%20yml.py"; copies]);
            assert_eq!(vcs(shared)["branch"], "main");
            assert_eq!(
                vcs(shared)["revisionId"],
                git(&dir.path().join("shared-work"), &["rev-parse", "HEAD"]).as_str()
            );
            let shared_found = if extra.is_empty() { 0 } else { 1 };
            assert_eq!(uris(shared).len(), shared_found, "{extra:?}");
            assert_eq!(
                vcs(web)["repositoryUri"],
                format!("file://{}/web/", root.display()).as_str(),
                "no origin: the repository is named by where it lies"
            );
            assert_eq!(vcs(web)["revisionId"], head("web").as_str());
            assert_eq!(uris(web), vec!["app.py"; copies]);
        }
        // One repository: one run, as GitHub code scanning expects.
        let (_, stdout, _) = run(dir
            .command()
            .args(["scan", "estate/web", "--format", "sarif"]));
        let doc: Value = serde_json::from_str(&stdout).expect("SARIF");
        assert_eq!(doc["runs"].as_array().map(Vec::len), Some(1));
        // A plain directory is a run without provenance.
        let plain = TestDir::new();
        plain.write(
            "app.py",
            format!("T = \"{}\"\n", Synth::new(62).github_pat()),
        );
        let (_, stdout, _) = run(plain.command().args(["scan", ".", "--format", "sarif"]));
        let doc: Value = serde_json::from_str(&stdout).expect("SARIF");
        assert_schema_valid(SARIF_SCHEMA, &doc);
        assert_eq!(doc["runs"].as_array().map(Vec::len), Some(1));
        assert!(doc["runs"][0]["versionControlProvenance"].is_null());
        assert_eq!(
            doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
                ["uri"],
            "app.py"
        );
    }
);

/// The `summary.repositories` entry named `name`.
fn scope<'v>(v: &'v Value, name: &str) -> &'v Value {
    v["summary"]["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no repository {name}: {v}"))
}

kttest!(report_lists_each_repository_scope, |dir, _cmd| {
    let mut s = Synth::new(63);
    let origin = dir.path().join("src").join("origin");
    std::fs::create_dir_all(&origin).expect("mkdir");
    init(&origin);
    std::fs::write(origin.join("a.py"), format!("T = \"{}\"\n", s.github_pat())).expect("write");
    commit(&origin, 1, "one");
    std::fs::write(origin.join("b.py"), "print('hi')\n").expect("write");
    let head = commit(&origin, 2, "two");
    git(&origin, &["tag", "v1"]);
    let url = format!("file://{}", origin.display());
    git(
        dir.path(),
        &["clone", "-q", "--depth", "1", &url, "src/shallow"],
    );
    let (code, v, stderr) = run_json(
        dir.command()
            .args(["scan", "--git", "src", "--format", "json"]),
    );
    assert_eq!(code, 1, "{stderr}");
    assert_schema_valid(REPORT_SCHEMA, &v);
    let names: Vec<&str> = v["summary"]["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, vec!["origin", "shallow"]);
    let o = scope(&v, "origin");
    let canonical = |p: &Path| p.canonicalize().expect("canonical").display().to_string();
    assert_eq!(o["root"], canonical(&origin).as_str());
    assert_eq!(
        (o["git"].as_bool(), o["bare"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(o["head"], head.as_str());
    assert_eq!(o["branch"], "main");
    assert_eq!(o["shallow"], false);
    assert!(o["remote_url"].is_null());
    assert_eq!(
        o["ref_namespaces"],
        serde_json::json!(["refs/heads", "refs/tags"])
    );
    // a.py, b.py and .git/config.
    assert_eq!(o["tree"]["files_scanned"], 3);
    assert_eq!(o["history"]["commits"], 2);
    assert_eq!(o["history"]["blobs"], 2);
    assert_eq!(o["history"]["refs"], 2);
    let sh = scope(&v, "shallow");
    assert_eq!(sh["shallow"], true);
    assert_eq!(sh["head"], head.as_str());
    assert_eq!(sh["branch"], "main");
    assert_eq!(sh["remote_url"], url.as_str());
    assert_eq!(sh["remotes"][0]["name"], "origin");
    assert_eq!(
        sh["remotes"][0]["fetch"],
        serde_json::json!(["+refs/heads/main:refs/remotes/origin/main"]),
        "a shallow clone fetches one branch"
    );
    assert!(sh["ref_namespaces"]
        .as_array()
        .expect("namespaces")
        .contains(&serde_json::json!("refs/remotes/origin")));
    assert_eq!(sh["history"]["commits"], 1);
    // a.py, b.py and .git/config.
    assert_eq!(sh["tree"]["files_scanned"], 3);
    assert!(
        sh["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w["code"] == "shallow-clone"),
        "{sh}"
    );
    assert!(
        o["warnings"].as_array().expect("warnings").is_empty(),
        "{o}"
    );
    // The aggregates are the sums of the repositories.
    assert_eq!(v["summary"]["files_scanned"], 6);
    assert_eq!(v["summary"]["history"]["commits"], 3);
    // Without --git: the same repositories, no history.
    let (_, v, _) = run_json(dir.command().args(["scan", "src", "--format", "json"]));
    assert!(scope(&v, "shallow")["history"].is_null());
    assert_eq!(scope(&v, "shallow")["shallow"], true);
    // A directory that is not a repository: root set, no HEAD, no history.
    let plain = TestDir::new();
    plain.write("notes.txt", "hello\n");
    let (_, v, _) = run_json(plain.command().args(["scan", ".", "--format", "json"]));
    let p = &v["summary"]["repositories"][0];
    assert_eq!(p["root"], canonical(plain.path()).as_str());
    assert_eq!(
        (p["git"].as_bool(), p["head"].is_null()),
        (Some(false), true)
    );
    assert!(p["history"].is_null());
    assert_eq!(p["tree"]["files_scanned"], 1);
});

/// Writes a zip and a tar.gz (each holding a token) and a PNG-like binary with python3.
fn write_archives(dir: &Path, token: &str) {
    let script = format!(
        r#"
import io, tarfile, zipfile
with zipfile.ZipFile("bundle.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("secret.py", 'T = "{token}"\n')
data = b'T = "{token}"\n'
with tarfile.open("bundle.tar.gz", "w:gz") as t:
    info = tarfile.TarInfo("secret.py")
    info.size = len(data)
    info.mtime = 0
    t.addfile(info, io.BytesIO(data))
open("logo.png", "wb").write(b"\x89PNG\r\n\x1a\n" + bytes(64))
"#
    );
    let out = std::process::Command::new("python3")
        .current_dir(dir)
        .args(["-c", &script])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

kttest!(archives_are_named_holes_not_binary_files, |dir, _cmd| {
    let token = Synth::new(64).github_pat();
    init(dir.path());
    write_archives(dir.path(), &token);
    let c1 = commit(dir.path(), 1, "archives");
    let (code, v, stderr) = run_json(
        dir.command()
            .args(["scan", "--git", ".", "--format", "json"]),
    );
    assert_eq!(
        code, 0,
        "the token inside the archives is not read: {stderr}"
    );
    let summary = &v["summary"];
    assert_eq!(summary["skipped_archives"], 2);
    assert_eq!(summary["skipped_binary"], 1);
    assert_eq!(summary["history"]["skipped_archives"], 2);
    assert_eq!(summary["history"]["skipped_binary"], 1);
    for line in [
        "warning[archive-skipped]: bundle.zip: zip archive".to_string(),
        "warning[archive-skipped]: bundle.tar.gz: gzip archive".to_string(),
        format!("(first in {c1}) is a zip archive"),
    ] {
        assert!(stderr.contains(&line), "{line}: {stderr}");
    }
    assert!(
        !stderr.contains("logo.png"),
        "a binary file is counted, not named"
    );
    let name = dir
        .path()
        .canonicalize()
        .expect("canonical")
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let s = scope(&v, &name);
    assert_eq!(s["tree"]["skipped_archives"], 2);
    assert_eq!(s["history"]["skipped_archives"], 2);
    let codes: Vec<&Value> = s["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| &w["code"])
        .collect();
    assert_eq!(codes.len(), 4, "{s}");
    assert!(codes.iter().all(|c| *c == "archive-skipped"), "{s}");
    assert_schema_valid(REPORT_SCHEMA, &v);
});

kttest!(
    git_walks_nested_working_trees_the_parent_ignores,
    |dir, _cmd| {
        let token = Synth::new(65).github_pat();
        let nested = dir.path().join("checkouts").join("svc");
        std::fs::create_dir_all(&nested).expect("mkdir");
        init(dir.path());
        dir.write(".gitignore", "checkouts/\n");
        dir.write("README.md", "meta repository\n");
        commit(dir.path(), 1, "meta");
        init(&nested);
        std::fs::write(nested.join("app.py"), format!("T = \"{token}\"\n")).expect("write");
        commit(&nested, 2, "svc");
        std::fs::write(nested.join("local.py"), format!("T = \"{token}\"\n")).expect("write");
        let (code, v, stderr) = run_json(
            dir.command()
                .args(["scan", "--git", ".", "--format", "json"]),
        );
        assert_eq!(code, 1, "{stderr}");
        assert_eq!(
            repo_paths(&v),
            vec![rp("svc", "app.py"), rp("svc", "local.py")],
            "its history is read, so its working tree is walked too"
        );
        // app.py, local.py and .git/config.
        assert_eq!(scope(&v, "svc")["tree"]["files_scanned"], 3);
    }
);
