//! One scan, several reports: `--report FORMAT=FILE` writes the same bytes as one run per
//! format, and every report file is replaced atomically.

use crate::git::{commit, init};
use crate::macros::{assert_no_plaintext, run, TestDir};
use crate::synth::Synth;

/// A repository `repo/` with secrets in its tree and its history. Reports go beside it, not
/// into it, so no run scans another's report.
fn leaky_repo(dir: &TestDir) -> Vec<String> {
    let mut s = Synth::new(41);
    let (id, secret) = s.aws_pair();
    let token = s.github_pat();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).expect("mkdir");
    init(&repo);
    dir.write(
        "repo/app/.env",
        format!("AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}\n"),
    );
    commit(&repo, 1, "add env");
    dir.write("repo/app/config.py", format!("TOKEN = \"{token}\"\n"));
    commit(&repo, 2, "add config");
    vec![secret, token]
}

/// `keytrace scan repo --git ARGS` at a fixed time; returns (exit, stdout, stderr).
fn scan(dir: &TestDir, args: &[&str]) -> (i32, String, String) {
    run(dir
        .command()
        .env("KEYTRACE_NOW", "2026-12-01T10:00:00Z")
        .args(["scan", "repo", "--git"])
        .args(args))
}

fn read(dir: &TestDir, name: &str) -> Vec<u8> {
    std::fs::read(dir.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

kttest!(
    one_scan_writes_the_bytes_of_one_run_per_format,
    |dir, _cmd| {
        let secrets = leaky_repo(&dir);
        std::fs::create_dir(dir.path().join("out")).expect("mkdir");
        let (code, annotations, stderr) = scan(
            &dir,
            &[
                "--format",
                "github",
                "--report",
                "json=out/all.json",
                "--report",
                "SARIF=out/all.sarif",
                "--report",
                "gitlab=out/all-gitlab.json",
            ],
        );
        assert_eq!(code, 1, "{stderr}");
        for (format, name) in [
            ("json", "out/all.json"),
            ("sarif", "out/all.sarif"),
            ("gitlab", "out/all-gitlab.json"),
        ] {
            let single = format!("out/one.{format}");
            let (code, _, stderr) = scan(&dir, &["--format", format, "-o", &single]);
            assert_eq!(code, 1, "{stderr}");
            let (all, one) = (read(&dir, name), read(&dir, &single));
            assert!(!all.is_empty());
            assert!(all == one, "{format}: --report and -o differ");
            assert_no_plaintext(&String::from_utf8(all).expect("UTF-8"), &secrets);
        }
        let (_, alone, _) = scan(&dir, &["--format", "github"]);
        assert_eq!(annotations, alone, "stdout keeps the --format report");
        let names: Vec<String> = std::fs::read_dir(dir.path().join("out"))
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| !n.starts_with('.')),
            "no temp file is left behind: {names:?}"
        );
    }
);

kttest!(bad_report_targets_are_clear_errors, |dir, _cmd| {
    leaky_repo(&dir);
    for (args, says) in [
        (&["--report", "xml=a.xml"][..], "`xml` is not a format"),
        (&["--report", "sarif"][..], "expected FORMAT=FILE"),
        (&["--report", "json="][..], "no FILE after `=`"),
        (
            &["-o", "r.json", "--report", "sarif=./r.json"][..],
            "named by two reports",
        ),
        (
            &["--report", "json=no/such/dir/r.json"][..],
            "cannot write the report",
        ),
    ] {
        let (code, _, stderr) = scan(&dir, args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert!(!dir.path().join("r.json").exists());
});

kttest!(output_files_are_replaced_whole, |dir, _cmd| {
    leaky_repo(&dir);
    // An old, longer report is replaced, not overwritten in place.
    dir.write("old.json", "x".repeat(1 << 20));
    let (code, _, stderr) = scan(&dir, &["--format", "json", "-o", "old.json"]);
    assert_eq!(code, 1, "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&read(&dir, "old.json")).expect("JSON");
    assert!(doc["findings"].is_array());

    // Through a symlink, the target is replaced and the link kept.
    #[cfg(unix)]
    {
        dir.write("reports/target.sarif", "old");
        std::os::unix::fs::symlink("reports/target.sarif", dir.path().join("link.sarif"))
            .expect("symlink");
        let (code, _, stderr) = scan(&dir, &["--format", "json", "--report", "sarif=link.sarif"]);
        assert_eq!(code, 1, "{stderr}");
        let link = std::fs::symlink_metadata(dir.path().join("link.sarif")).expect("link");
        assert!(link.file_type().is_symlink());
        let sarif: serde_json::Value =
            serde_json::from_slice(&read(&dir, "reports/target.sarif")).expect("SARIF");
        assert_eq!(sarif["version"], "2.1.0");

        // A device is written to, not renamed over.
        let (code, stdout, stderr) = scan(&dir, &["--format", "json", "-o", "/dev/stdout"]);
        assert_eq!(code, 1, "{stderr}");
        let doc: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
        assert!(doc["findings"].is_array());
    }
});
