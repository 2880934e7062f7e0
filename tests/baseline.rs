//! Baselines (issue 12 point 2): `keytrace baseline create` records today's findings,
//! `scan --baseline` reports only what is new, `baseline prune` drops entries whose
//! finding is gone. A baseline never hides a value the inventory knows.

use crate::git::{commit, git, init};
use crate::inventory::{add, rotate};
use crate::macros::{
    assert_schema_valid, finding_places, run, run_json, TestDir, REPORT_SCHEMA, SARIF_SCHEMA,
};
use crate::synth::Synth;
use serde_json::Value;

const FILE: &str = ".keytrace-baseline.jsonl";

/// `keytrace baseline create` with `args`; fails the test unless it exits 0.
fn create(dir: &TestDir, args: &[&str]) -> String {
    let (code, out, err) = run(dir.command().args(["baseline", "create"]).args(args));
    assert_eq!(code, 0, "baseline create: {out}{err}");
    out
}

/// `keytrace scan --baseline FILE --format json` with `args`: (exit, report, stderr).
fn scan(dir: &TestDir, args: &[&str]) -> (i32, Value, String) {
    let (code, v, err) = run_json(
        dir.command()
            .args(["scan", "--baseline", FILE, "--format", "json"])
            .args(args),
    );
    assert_schema_valid(REPORT_SCHEMA, &v);
    (code, v, err)
}

fn read(dir: &TestDir, rel: &str) -> String {
    std::fs::read_to_string(dir.path().join(rel)).expect("read")
}

fn places(v: &Value) -> Vec<(String, String)> {
    finding_places(v)
        .into_iter()
        .map(|(rule, path, _)| (rule, path))
        .collect()
}

fn pair(rule: &str, path: &str) -> (String, String) {
    (rule.to_string(), path.to_string())
}

kttest!(
    old_findings_are_baselined_and_a_new_one_reported,
    |dir, _cmd| {
        let mut s = Synth::new(1201);
        let (slack, pat, stripe) = (s.slack_bot(), s.github_pat(), s.stripe_live());
        dir.write("app/.env", format!("SLACK_TOKEN={slack}\n"));
        dir.write("app/config.py", format!("TOKEN = \"{pat}\"\n"));
        let out = create(&dir, &[]);
        assert!(out.contains("wrote 2 baseline entries"), "{out}");
        let text = read(&dir, FILE);
        for secret in [&slack, &pat] {
            assert!(!text.contains(secret.as_str()), "plaintext in the baseline");
            assert!(!out.contains(secret.as_str()), "plaintext in the output");
        }

        let (code, v, err) = scan(&dir, &[]);
        assert_eq!(code, 0, "only baselined findings: the gate passes; {err}");
        assert_eq!(places(&v), vec![]);
        assert_eq!(v["summary"]["baselined"], 2);
        assert_eq!(v["summary"]["baseline"]["entries"], 2);
        assert_eq!(v["summary"]["baseline"]["stale"], 0);

        dir.write("app/billing.py", format!("STRIPE = \"{stripe}\"\n"));
        let (code, v, _) = scan(&dir, &[]);
        assert_eq!(code, 1);
        assert_eq!(
            places(&v),
            vec![pair("stripe-secret-key-live", "app/billing.py")]
        );
        assert_eq!(v["summary"]["findings"], 1);
        assert_eq!(v["summary"]["baselined"], 2);

        // Human: the summary says how many were baselined. SARIF: baselined results are
        // left out (not marked suppressed) and the run's properties count them.
        let (code, human, _) = run(dir.command().args(["scan", "--baseline", FILE]));
        assert_eq!(code, 1);
        assert!(
            human.contains(&format!("baseline {FILE}: 2 findings baselined")),
            "{human}"
        );
        let (_, sarif, _) =
            run_json(
                dir.command()
                    .args(["scan", "--baseline", FILE, "--format", "sarif"]),
            );
        assert_schema_valid(SARIF_SCHEMA, &sarif);
        let run0 = &sarif["runs"][0];
        assert_eq!(run0["results"].as_array().expect("results").len(), 1);
        assert_eq!(run0["results"][0]["ruleId"], "stripe-secret-key-live");
        assert!(run0["results"][0].get("suppressions").is_none());
        assert_eq!(run0["properties"]["baselined"], 2);
        // A scan never rewrites the baseline.
        assert_eq!(read(&dir, FILE), text);
        // Without --baseline every finding is back and the summary says none was baselined.
        let (_, v, _) = run_json(dir.command().args(["scan", "--format", "json"]));
        assert_eq!(v["findings"].as_array().expect("findings").len(), 3);
        assert_eq!(v["summary"]["baselined"], 0);
        assert!(v["summary"].get("baseline").is_none());
    }
);

kttest!(regenerating_gives_the_same_bytes, |dir, _cmd| {
    let mut s = Synth::new(1202);
    for i in 0..6 {
        dir.write(
            &format!("svc{i}/settings.py"),
            format!("A = \"{}\"\nB = \"{}\"\n", s.github_pat(), s.slack_bot()),
        );
    }
    create(&dir, &["--output", "one.jsonl", "-j", "1"]);
    create(&dir, &["--output", "two.jsonl", "-j", "4"]);
    let (one, two) = (read(&dir, "one.jsonl"), read(&dir, "two.jsonl"));
    assert_eq!(
        one, two,
        "same findings, same bytes, whatever the thread count"
    );
    let lines: Vec<&str> = one.lines().collect();
    assert_eq!(
        lines[0],
        r#"{"format":"keytrace-baseline","schema_version":1}"#
    );
    assert_eq!(lines.len(), 13, "a header and one line per finding");
    let keys: Vec<(String, String, String)> = lines[1..]
        .iter()
        .map(|l| {
            let e: Value = serde_json::from_str(l).expect("each entry is one JSON line");
            let keys: Vec<&String> = e.as_object().expect("object").keys().collect();
            assert_eq!(
                keys,
                ["fingerprint", "path", "rule"],
                "no timestamp, no line"
            );
            let field = |k: &str| e[k].as_str().expect(k).to_string();
            (field("rule"), field("fingerprint"), field("path"))
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "entries are sorted");
    // Regenerating over the first file rewrites it with the same bytes.
    create(&dir, &["--output", "one.jsonl"]);
    assert_eq!(read(&dir, "one.jsonl"), two);
});

kttest!(
    moving_a_line_and_renaming_the_file_keep_it_baselined,
    |dir, _cmd| {
        let mut s = Synth::new(1203);
        let (old, new) = (s.github_pat(), s.stripe_live());
        init(dir.path());
        dir.write("config.py", format!("TOKEN = \"{old}\"\n"));
        commit(dir.path(), 1, "old debt");
        create(&dir, &["--git"]);
        git(dir.path(), &["add", FILE]);
        commit(dir.path(), 2, "baseline");

        // The pull request moves the old line down and renames the file, then adds a new secret.
        git(dir.path(), &["checkout", "-q", "-b", "pr"]);
        std::fs::create_dir(dir.path().join("settings")).expect("mkdir");
        git(dir.path(), &["mv", "config.py", "settings/app.py"]);
        dir.write(
            "settings/app.py",
            format!("import os\n\nDEBUG = False\nTOKEN = \"{old}\"\n"),
        );
        commit(dir.path(), 3, "move the token");
        let (code, v, err) = scan(&dir, &["--rev-range", "main..pr"]);
        assert_eq!(code, 0, "the moved line is still baselined: {err}");
        assert_eq!(places(&v), vec![]);
        assert_eq!(v["summary"]["baselined"], 1);
        assert!(
            v["summary"]["baseline"]["stale"].is_null(),
            "a range proves nothing stale"
        );

        dir.write("billing.py", format!("KEY = \"{new}\"\n"));
        commit(dir.path(), 4, "new secret");
        for args in [&["--rev-range", "main..pr"][..], &["--git"], &[]] {
            let (code, v, _) = scan(&dir, args);
            assert_eq!(code, 1, "{args:?}");
            assert_eq!(
                places(&v),
                vec![pair("stripe-secret-key-live", "billing.py")],
                "{args:?}"
            );
            assert!(v["summary"]["baselined"].as_u64() >= Some(1), "{args:?}");
        }

        // Staged: a staged copy of the old value is baselined, a staged new one is not.
        dir.write("copy.py", format!("T = \"{old}\"\n"));
        git(dir.path(), &["add", "copy.py"]);
        let (code, v, _) = scan(&dir, &["--staged"]);
        assert_eq!((code, places(&v)), (0, vec![]));
        assert_eq!(v["summary"]["baselined"], 1);
    }
);

kttest!(stale_entries_are_reported_then_pruned, |dir, _cmd| {
    let mut s = Synth::new(1204);
    let (kept, gone) = (s.github_pat(), s.slack_bot());
    dir.write("app.py", format!("A = \"{kept}\"\nB = \"{gone}\"\n"));
    create(&dir, &[]);
    dir.write("app.py", format!("A = \"{kept}\"\n"));

    let (code, v, err) = scan(&dir, &[]);
    assert_eq!(code, 0);
    assert_eq!(v["summary"]["baselined"], 1);
    assert_eq!(v["summary"]["baseline"]["stale"], 1);
    assert!(err.contains("warning[stale-baseline-entry]"), "{err}");
    assert!(
        err.contains(&format!("keytrace baseline prune --baseline {FILE}")),
        "{err}"
    );
    let (_, human, _) = run(dir.command().args(["scan", "--baseline", FILE]));
    assert!(human.contains("1 stale entry matched nothing"), "{human}");

    // Prune needs a whole scan: a range or the staged changes would make everything look gone.
    let (code, _, err) =
        run(dir
            .command()
            .args(["baseline", "prune", "--baseline", FILE, "--staged"]));
    assert_eq!(code, 2, "{err}");
    let before = read(&dir, FILE);
    let (code, out, err) = run(dir
        .command()
        .args(["baseline", "prune", "--baseline", FILE]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("dropped 1 stale entry"), "{out}");
    let after = read(&dir, FILE);
    assert_eq!(after.lines().count(), 2, "{after}");
    assert_eq!(
        after.lines().nth(1),
        before.lines().find(|l| l.contains("github")),
        "the live entry is kept as it was"
    );
    let (code, v, err) = scan(&dir, &[]);
    assert_eq!(code, 0);
    assert_eq!(v["summary"]["baseline"]["stale"], 0);
    assert!(!err.contains("stale-baseline-entry"), "{err}");
    // Nothing stale: prune leaves the file as it is.
    let (code, out, _) = run(dir
        .command()
        .args(["baseline", "prune", "--baseline", FILE]));
    assert_eq!(code, 0);
    assert!(out.contains("dropped 0 stale entries"), "{out}");
    assert_eq!(read(&dir, FILE), after);
});

kttest!(
    a_baseline_never_hides_a_value_the_inventory_knows,
    |dir, _cmd| {
        let mut s = Synth::new(1205);
        let (old, new, stray) = (s.github_pat(), s.github_pat(), s.slack_bot());
        dir.write("tree/.env", format!("DEPLOY_TOKEN={old}\n"));
        dir.write("tree/chat.py", format!("SLACK = \"{stray}\"\n"));
        // Made before the inventory knew the token: both are plain unmanaged debt then.
        create(&dir, &["tree"]);
        add(&dir, "deploy-token", &old, &[]);
        rotate(&dir, "deploy-token", &new);

        let (code, v, _) = scan(&dir, &["tree", "--inventory", "keytrace-inventory.json"]);
        assert_eq!(code, 1, "the revoked value fails the gate");
        assert_eq!(v["findings"][0]["kind"], "revoked-secret-present");
        assert_eq!(v["findings"].as_array().expect("findings").len(), 1);
        assert_eq!(
            v["summary"]["baselined"], 1,
            "the unmanaged one stays baselined"
        );
        assert_eq!(v["summary"]["baseline"]["inventory_known"], 1);
        assert_eq!(v["summary"]["baseline"]["stale"], 0);
        let (_, human, _) = run(dir.command().args([
            "scan",
            "tree",
            "--baseline",
            FILE,
            "--inventory",
            "keytrace-inventory.json",
        ]));
        assert!(
            human.contains(
                "1 finding listed in the baseline but reported: the inventory knows the value"
            ),
            "{human}"
        );
        assert!(!human.contains(old.as_str()), "no plaintext");

        // A baseline made now leaves the known value out: no entry would hide it anyway.
        let out = create(
            &dir,
            &[
                "tree",
                "--output",
                "again.jsonl",
                "--inventory",
                "keytrace-inventory.json",
            ],
        );
        assert!(out.contains("wrote 1 baseline entry"), "{out}");
        assert!(
            out.contains("left out 1 finding the inventory knows"),
            "{out}"
        );
    }
);

kttest!(
    malformed_baseline_is_exit_2_naming_file_and_line,
    |dir, _cmd| {
        let mut s = Synth::new(1206);
        dir.write("app.py", format!("A = \"{}\"\n", s.github_pat()));
        create(&dir, &[]);
        let good = read(&dir, FILE);
        let entry = good.lines().nth(1).expect("an entry").to_string();
        let header = good.lines().next().expect("header").to_string();
        let cases = [
            (
                format!("{header}\n{entry}\n{{\"rule\": \"x\"\n"),
                format!("{FILE}:3:"),
            ),
            (
                format!("{}\n{entry}\n", header.replace(":1}", ":2}")),
                format!("{FILE}:1: malformed baseline: schema_version 2 is not supported"),
            ),
            (
                format!("{entry}\n"),
                format!("{FILE}:1: malformed baseline: not a baseline header"),
            ),
            (
                format!("{header}\n<<<<<<< HEAD\n{entry}\n"),
                format!("{FILE}:2:"),
            ),
            (
                format!("{header}\n{}\n", entry.replace("\"rule\"", "\"rul\"")),
                format!("{FILE}:2:"),
            ),
            (
                String::new(),
                format!("{FILE}:1: malformed baseline: empty file"),
            ),
        ];
        for (text, expected) in cases {
            dir.write(FILE, &text);
            for verb in [
                &["scan", "--baseline", FILE][..],
                &["baseline", "prune", "--baseline", FILE],
            ] {
                let (code, out, err) = run(dir.command().args(verb));
                assert_eq!(code, 2, "{verb:?} on {text:?}: {err}");
                assert!(
                    err.contains(&expected),
                    "{verb:?}: expected {expected:?} in {err}"
                );
                assert!(out.is_empty(), "nothing is reported: {out}");
            }
            assert_eq!(read(&dir, FILE), text, "a bad baseline is never rewritten");
        }
        let (code, _, err) = run(dir.command().args(["scan", "--baseline", "missing.jsonl"]));
        assert_eq!(code, 2);
        assert!(
            err.contains("missing.jsonl: cannot read the baseline"),
            "{err}"
        );
        // The flags that only shape a report do not apply to a baseline.
        let (code, _, err) = run(dir
            .command()
            .args(["baseline", "create", "--format", "json"]));
        assert_eq!(code, 2);
        assert!(err.contains("--format does not apply"), "{err}");
        let (code, _, err) =
            run(dir
                .command()
                .args(["baseline", "create", "--report", "json=extra.json"]));
        assert_eq!(code, 2);
        assert!(err.contains("--report does not apply"), "{err}");
        assert!(
            !dir.path().join("extra.json").exists(),
            "a refused run writes no report"
        );
    }
);

kttest!(an_old_rule_id_still_matches, |dir, _cmd| {
    // rules/aliases.toml: docker-config-auth was renamed docker-registry-auth.
    dir.copy_fixture("formats/decoding/docker", "");
    create(&dir, &[]);
    let text = read(&dir, FILE);
    assert!(text.contains("\"rule\":\"docker-registry-auth\""), "{text}");
    dir.write(
        FILE,
        text.replace("docker-registry-auth", "docker-config-auth"),
    );
    let (code, v, err) = scan(&dir, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(places(&v), vec![]);
    assert_eq!(v["summary"]["baselined"], 1);
    assert_eq!(v["summary"]["baseline"]["stale"], 0);
    // Prune writes the current id.
    let (code, _, err) = run(dir
        .command()
        .args(["baseline", "prune", "--baseline", FILE]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(read(&dir, FILE), text);
});

kttest!(
    multi_repository_baselines_name_the_repository,
    |dir, _cmd| {
        let mut s = Synth::new(1207);
        let shared = s.github_pat();
        for repo in ["alpha", "beta"] {
            let root = dir.path().join(repo);
            std::fs::create_dir(&root).expect("mkdir");
            init(&root);
        }
        dir.write("alpha/app.py", format!("T = \"{shared}\"\n"));
        create(&dir, &["alpha", "beta"]);
        let text = read(&dir, FILE);
        assert!(text.contains("\"repo\":\"alpha\""), "{text}");
        // The same secret in another repository is new debt there.
        dir.write("beta/app.py", format!("T = \"{shared}\"\n"));
        let (code, v, _) = scan(&dir, &["alpha", "beta"]);
        assert_eq!(code, 1);
        assert_eq!(v["findings"].as_array().expect("findings").len(), 1);
        assert_eq!(v["findings"][0]["location"]["repo"], "beta");
        assert_eq!(v["summary"]["baselined"], 1);
        let (_, sarif, _) = run_json(dir.command().args([
            "scan",
            "alpha",
            "beta",
            "--baseline",
            FILE,
            "--format",
            "sarif",
        ]));
        let baselined: Vec<&Value> = sarif["runs"]
            .as_array()
            .expect("runs")
            .iter()
            .map(|r| &r["properties"]["baselined"])
            .collect();
        assert_eq!(
            baselined,
            [&Value::from(1), &Value::from(0)],
            "per repository"
        );
    }
);

kttest!(
    a_baseline_made_under_another_fingerprint_key_is_exit_2,
    |dir, _cmd| {
        let mut s = Synth::new(1208);
        dir.write("app.py", format!("A = \"{}\"\n", s.github_pat()));
        let key = "KEYTRACE_FINGERPRINT_KEY";
        let (code, _, err) = run(dir
            .command()
            .env(key, "team-key-1")
            .args(["baseline", "create"]));
        assert_eq!(code, 0, "{err}");
        let text = read(&dir, FILE);
        assert!(
            text.lines()
                .next()
                .is_some_and(|l| l.contains("\"fingerprint_key\":")),
            "{text}"
        );
        assert!(text.contains("\"fingerprint\":\"hmac-sha256:"), "{text}");
        assert!(
            !text.contains("team-key-1"),
            "the key itself is never written"
        );
        let (code, out, err) = run(dir.command().env(key, "team-key-1").args([
            "scan",
            "--baseline",
            FILE,
            "--format",
            "json",
        ]));
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            serde_json::from_str::<Value>(&out).expect("json")["summary"]["baselined"],
            1
        );
        // Under another key, or none, nothing could match: an error, not a flood of findings.
        for other in [Some("team-key-2"), None] {
            let mut cmd = dir.command();
            if let Some(k) = other {
                cmd.env(key, k);
            }
            let (code, out, err) = run(cmd.args(["scan", "--baseline", FILE]));
            assert_eq!(code, 2, "{other:?}: {err}");
            assert!(out.is_empty());
            assert!(
                err.contains(&format!("{FILE}:1:")) && err.contains(key),
                "{err}"
            );
        }
    }
);
