//! The GitHub Action (`action.yml` → `scripts/action.sh`) run with bash in a fake `GITHUB_*`
//! environment: a developer repository pushes to a local bare `origin` (which, like GitHub,
//! serves reachable commits by id), and the workspace is a clone of it, full or `--depth 1` as
//! `actions/checkout` makes it. Every fixture commit adds its own secret, so the commits of the
//! findings are exactly the commits scanned.

use crate::git::{commit, git};
use crate::macros::{assert_schema_valid, run, TestDir, SARIF_SCHEMA};
use crate::synth::Synth;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A developer repository `dev`, its bare `origin.git` and the runner's directories.
struct Fixture {
    dir: TestDir,
    synth: Synth,
    /// Every secret written so far, to check that none is printed.
    secrets: Vec<String>,
    day: u32,
}

/// What one run of the action left behind.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    outputs: BTreeMap<String, String>,
    summary: String,
    /// keytrace's JSON report, when a scan ran.
    report: Option<Value>,
    sarif: Option<Value>,
}

impl Run {
    /// Commits named by the findings' history locations: the commits scanned.
    fn commits(&self) -> BTreeSet<String> {
        let report = self.report.as_ref().expect("a scan ran");
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .flat_map(|f| f["locations"].as_array().expect("locations").iter())
            .filter_map(|l| l["commit"].as_str().map(str::to_string))
            .collect()
    }

    fn history_commits(&self) -> u64 {
        let report = self.report.as_ref().expect("a scan ran");
        report["summary"]["history"]["commits"]
            .as_u64()
            .expect("history commits")
    }

    fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .unwrap_or_else(|| panic!("no output {name}: {:?}", self.outputs))
    }

    fn log(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}\n--- summary\n{}",
            self.code, self.stdout, self.stderr, self.summary
        )
    }
}

fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).clone()).collect()
}

impl Fixture {
    fn new(seed: u64) -> Self {
        let dir = TestDir::new();
        std::fs::create_dir(dir.path().join("dev")).expect("mkdir");
        git(&dir.path().join("dev"), &["init", "-q"]);
        git(dir.path(), &["init", "-q", "--bare", "origin.git"]);
        // GitHub serves any reachable commit by id; a plain local origin only its refs.
        git(
            &dir.path().join("origin.git"),
            &["config", "uploadpack.allowReachableSHA1InWant", "true"],
        );
        let dev = dir.path().join("dev");
        git(&dev, &["remote", "add", "origin", "../origin.git"]);
        Fixture {
            dir,
            synth: Synth::new(seed),
            secrets: Vec::new(),
            day: 0,
        }
    }

    fn dev(&self) -> PathBuf {
        self.dir.path().join("dev")
    }

    fn origin_url(&self) -> String {
        format!("file://{}", self.dir.path().join("origin.git").display())
    }

    /// Commits a new file holding a fresh synthetic token (or a harmless one when `secret` is
    /// false) in `dev`; returns the commit id.
    fn commit(&mut self, name: &str, secret: bool) -> String {
        let body = if secret {
            let token = self.synth.github_pat();
            self.secrets.push(token.clone());
            format!("DEPLOY_TOKEN=\"{token}\"\n")
        } else {
            "# nothing to see\n".to_string()
        };
        self.dir.write(&format!("dev/{name}"), body);
        self.day += 1;
        commit(&self.dev(), self.day, name)
    }

    fn dev_git(&self, args: &[&str]) -> String {
        git(&self.dev(), args)
    }

    /// Clones origin at `branch` into `ws` (`depth` 1 as actions/checkout does by default).
    fn checkout(&self, branch: &str, depth: Option<u32>) {
        let url = self.origin_url();
        let mut args = vec!["clone", "-q", "--branch", branch];
        let depth = depth.map(|d| d.to_string());
        if let Some(d) = &depth {
            args.extend(["--depth", d]);
        }
        args.extend([url.as_str(), "ws"]);
        git(self.dir.path(), &args);
    }

    /// Runs the action for `event` with `payload` and the given `KEYTRACE_INPUT_*` values.
    fn run(&self, event: &str, payload: &Value, inputs: &[(&str, &str)]) -> Run {
        self.run_with(event, payload, inputs, &[])
    }

    /// `run`, with more environment (`KEYTRACE_BIN` empty: get keytrace as on a real runner).
    fn run_with(
        &self,
        event: &str,
        payload: &Value,
        inputs: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> Run {
        let root = self.dir.path();
        // A fresh runner temp dir per run, so a report is only ever this run's.
        let runner = root.join("runner");
        if runner.exists() {
            std::fs::remove_dir_all(&runner).expect("clear runner temp");
        }
        std::fs::create_dir(&runner).expect("mkdir");
        let event_path = root.join("event.json");
        std::fs::write(&event_path, payload.to_string()).expect("write event");
        let (out_file, summary_file) = (root.join("github-output"), root.join("step-summary"));
        for f in [&out_file, &summary_file] {
            std::fs::write(f, "").expect("truncate");
        }
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut cmd = Command::new("bash");
        cmd.arg(manifest.join("scripts/action.sh"))
            .current_dir(root);
        // Nothing of a real runner (these tests may themselves run in GitHub Actions) leaks in.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if ["GITHUB_", "RUNNER_", "KEYTRACE_", "INPUT_"]
                .iter()
                .any(|p| k.starts_with(p))
            {
                cmd.env_remove(k);
            }
        }
        cmd.env("GITHUB_EVENT_NAME", event)
            .env("GITHUB_EVENT_PATH", &event_path)
            .env("GITHUB_WORKSPACE", root.join("ws"))
            .env("GITHUB_OUTPUT", &out_file)
            .env("GITHUB_STEP_SUMMARY", &summary_file)
            .env("GITHUB_ACTION_PATH", manifest)
            .env("RUNNER_TEMP", &runner)
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("KEYTRACE_BIN", env!("CARGO_BIN_EXE_keytrace"))
            .env("KEYTRACE_CACHE_DIR", self.dir.cache_dir())
            .env("NO_COLOR", "1");
        for (k, v) in inputs {
            cmd.env(format!("KEYTRACE_INPUT_{k}"), v);
        }
        cmd.envs(env.iter().copied());
        let (code, stdout, stderr) = run(&mut cmd);
        let read = |p: &Path| std::fs::read_to_string(p).ok();
        let json = |p: PathBuf| read(&p).map(|s| serde_json::from_str(&s).expect("valid JSON"));
        let outputs = read(&out_file)
            .expect("outputs file")
            .lines()
            .map(|l| {
                let (k, v) = l.split_once('=').expect("name=value");
                (k.to_string(), v.to_string())
            })
            .collect::<BTreeMap<_, _>>();
        let sarif = outputs
            .get("sarif-file")
            .and_then(|p| json(PathBuf::from(p)));
        let run = Run {
            code,
            stdout,
            stderr,
            summary: read(&summary_file).expect("summary file"),
            report: json(runner.join("keytrace-report.json")),
            sarif,
            outputs,
        };
        self.assert_no_plaintext(&run);
        run
    }

    fn assert_no_plaintext(&self, run: &Run) {
        let sarif = run.sarif.as_ref().map(Value::to_string).unwrap_or_default();
        let everything = [&run.stdout, &run.stderr, &run.summary, &sarif];
        for secret in &self.secrets {
            for text in everything {
                assert!(
                    !text.contains(secret.as_str()),
                    "plaintext secret in {text}"
                );
            }
        }
    }
}

fn pr_payload(base: &str, head: &str) -> Value {
    json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "base": {"ref": "main", "sha": base},
            "head": {"ref": "feature", "sha": head},
        },
        "repository": {"default_branch": "main", "full_name": "acme/app"},
    })
}

fn push_payload(git_ref: &str, before: &str, after: &str, forced: bool) -> Value {
    json!({
        "ref": git_ref,
        "before": before,
        "after": after,
        "created": before.chars().all(|c| c == '0'),
        "deleted": after.chars().all(|c| c == '0'),
        "forced": forced,
        "repository": {"default_branch": "main", "full_name": "acme/app"},
    })
}

const ZERO: &str = "0000000000000000000000000000000000000000";

/// Main with old debt, and a feature branch whose head commit adds a secret, both pushed.
fn pr_fixture(seed: u64, head_secret: bool) -> (Fixture, String, String) {
    let mut fx = Fixture::new(seed);
    fx.commit("old.env", true);
    let base = fx.commit("README.md", false);
    fx.dev_git(&["push", "-q", "origin", "main"]);
    fx.dev_git(&["checkout", "-q", "-b", "feature"]);
    let head = fx.commit("app/settings.env", head_secret);
    fx.dev_git(&["push", "-q", "origin", "feature"]);
    (fx, base, head)
}

#[test]
fn action_pull_request_reports_only_the_head_commits_secret() {
    let (fx, base, head) = pr_fixture(120, true);
    fx.checkout("main", Some(1));
    let r = fx.run("pull_request", &pr_payload(&base, &head), &[]);
    assert_eq!(r.code, 1, "a leak fails the step\n{}", r.log());
    assert_eq!(r.commits(), set(&[&head]), "{}", r.log());
    assert_eq!(r.history_commits(), 1);
    assert_eq!(r.output("findings"), "1");
    assert_eq!(r.output("exit-code"), "1");
    assert!(r
        .stdout
        .contains("::error file=app/settings.env,line=1,col="));
    assert!(!r.stdout.contains("old.env"), "{}", r.log());
    // The summary: verdict, scope and one row naming the place, never the value.
    assert!(
        r.summary
            .starts_with("### keytrace: 1 finding(s), gate failed\n"),
        "{}",
        r.summary
    );
    assert!(r.summary.contains(&format!(
        "Scanned pull request commits {base}..{head}, 1 commit(s)."
    )));
    let row = format!(
        "| high | unmanaged-secret | `github-pat-classic` | `app/settings.env:1` | {} |",
        &head[..12]
    );
    assert!(r.summary.contains(&row), "{}", r.summary);
    // SARIF at the output path, valid, with the one result relative to the repository root.
    let sarif = r.sarif.as_ref().expect("SARIF written");
    assert_eq!(
        Path::new(r.output("sarif-file")),
        fx.dir.path().join("runner/keytrace.sarif")
    );
    assert_schema_valid(SARIF_SCHEMA, sarif);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1);
    let place = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(place["artifactLocation"]["uri"], "app/settings.env");
    assert_eq!(place["region"]["startLine"], 1);
}

#[test]
fn action_pull_request_clean_passes() {
    let (fx, base, head) = pr_fixture(121, false);
    fx.checkout("main", Some(1));
    let sarif_at = fx.dir.path().join("ws/out/keytrace.sarif");
    let sarif_input = sarif_at.to_string_lossy().into_owned();
    let r = fx.run(
        "pull_request",
        &pr_payload(&base, &head),
        &[
            ("SARIF_FILE", &sarif_input),
            ("ARGS", "--min-confidence 'low'"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.log());
    assert_eq!(r.history_commits(), 1);
    assert_eq!(r.output("findings"), "0");
    assert_eq!(r.output("exit-code"), "0");
    assert_eq!(r.output("sarif-file"), sarif_input);
    assert!(r
        .summary
        .starts_with("### keytrace: 0 finding(s), gate passed\n"));
    assert!(!r.summary.contains("| severity |"));
    let sarif = r.sarif.as_ref().expect("SARIF written");
    assert_schema_valid(SARIF_SCHEMA, sarif);
    assert_eq!(sarif["runs"][0]["results"], json!([]));
    assert!(!r.stdout.contains("::error"), "{}", r.log());
}

#[test]
fn action_baseline_input_hides_accepted_debt_and_not_a_new_leak() {
    let (mut fx, base, head) = pr_fixture(123, true);
    // The team accepted the head commit's token as old debt: a baseline made from the
    // feature branch's tree, committed where the workflow points the `baseline` input.
    let baseline = fx.dir.path().join("accepted.jsonl");
    let mut create = Command::new(env!("CARGO_BIN_EXE_keytrace"));
    create
        .args(["baseline", "create", "-q", "--output"])
        .arg(&baseline)
        .arg(fx.dev());
    let (code, _, stderr) = run(&mut create);
    assert_eq!(code, 0, "{stderr}");
    let baseline = baseline.to_string_lossy().into_owned();
    fx.checkout("main", Some(1));
    let r = fx.run(
        "pull_request",
        &pr_payload(&base, &head),
        &[("BASELINE", &baseline)],
    );
    assert_eq!(
        r.code,
        0,
        "a baselined finding does not fail the step\n{}",
        r.log()
    );
    assert_eq!(r.output("findings"), "0");
    let report = r.report.as_ref().expect("a scan ran");
    assert_eq!(report["summary"]["baselined"], 1, "{}", r.log());
    // A secret the baseline does not hold still fails the pull request.
    fx.dev_git(&["checkout", "-q", "feature"]);
    let newer = fx.commit("app/more.env", true);
    fx.dev_git(&["push", "-q", "origin", "feature"]);
    let r = fx.run(
        "pull_request",
        &pr_payload(&base, &newer),
        &[("BASELINE", &baseline)],
    );
    assert_eq!(r.code, 1, "{}", r.log());
    assert_eq!(r.commits(), set(&[&newer]), "{}", r.log());
    assert_eq!(r.output("findings"), "1");
}

#[test]
fn action_gate_and_bad_args() {
    let (fx, base, head) = pr_fixture(122, true);
    fx.checkout("main", None);
    // A github-pat-classic finding is high: below a critical gate it is reported, not failed.
    let r = fx.run(
        "pull_request",
        &pr_payload(&base, &head),
        &[("FAIL_ON", "critical")],
    );
    assert_eq!((r.code, r.output("findings")), (0, "1"), "{}", r.log());
    assert!(r.summary.contains("gate passed"));
    // Unbalanced quotes and an unknown flag are exit 2, not a pass.
    let r = fx.run(
        "pull_request",
        &pr_payload(&base, &head),
        &[("ARGS", "--x 'y")],
    );
    assert_eq!((r.code, r.output("exit-code")), (2, "2"), "{}", r.log());
    assert!(r.stdout.contains("::error title=keytrace::cannot split"));
    let r = fx.run(
        "pull_request",
        &pr_payload(&base, &head),
        &[("ARGS", "--no-such-flag")],
    );
    assert_eq!((r.code, r.output("exit-code")), (2, "2"), "{}", r.log());
}

#[test]
fn action_push_scans_before_to_after_fetching_into_a_shallow_checkout() {
    let mut fx = Fixture::new(123);
    let before = fx.commit("a.env", true);
    fx.dev_git(&["push", "-q", "origin", "main"]);
    let c1 = fx.commit("b.env", true);
    let c2 = fx.commit("c.env", true);
    let after = fx.commit("d.env", true);
    fx.dev_git(&["push", "-q", "origin", "main"]);
    fx.checkout("main", Some(1));
    let r = fx.run_with(
        "push",
        &push_payload("refs/heads/main", &before, &after, false),
        &[],
        &[("KEYTRACE_SUMMARY_MAX_ROWS", "2")],
    );
    assert_eq!(r.code, 1, "{}", r.log());
    assert_eq!(r.commits(), set(&[&c1, &c2, &after]), "{}", r.log());
    assert_eq!(r.history_commits(), 3);
    assert!(r
        .summary
        .contains(&format!("{before}..{after}, 3 commit(s)")));
    // The summary's table stops at the row cap and says how many it left to the SARIF.
    assert_eq!(r.summary.matches("| high |").count(), 2, "{}", r.summary);
    assert!(r.summary.contains("… and 1 more, in the SARIF report."));
}

#[test]
fn action_push_of_a_new_branch_scans_what_the_default_branch_lacks() {
    let mut fx = Fixture::new(124);
    fx.commit("a.env", true);
    fx.dev_git(&["push", "-q", "origin", "main"]);
    fx.dev_git(&["checkout", "-q", "-b", "feature"]);
    let f1 = fx.commit("f1.env", true);
    let f2 = fx.commit("f2.env", true);
    fx.dev_git(&["push", "-q", "origin", "feature"]);
    // Main moves on after the branch was cut; its new commit is not the branch's.
    fx.dev_git(&["checkout", "-q", "main"]);
    fx.commit("m2.env", true);
    fx.dev_git(&["push", "-q", "origin", "main"]);
    fx.checkout("feature", Some(1));
    let r = fx.run(
        "push",
        &push_payload("refs/heads/feature", ZERO, &f2, false),
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.log());
    assert_eq!(r.commits(), set(&[&f1, &f2]), "{}", r.log());
    assert!(r
        .stdout
        .contains("::notice title=keytrace::a new ref: scanning the commits of"));
    // The same branch pushed with no commit of its own: zero commits, said so, exit 0.
    let main = fx.dev_git(&["rev-parse", "main"]);
    fx.dev_git(&["push", "-q", "origin", "main:refs/heads/empty"]);
    let r = fx.run(
        "push",
        &push_payload("refs/heads/empty", ZERO, &main, false),
        &[],
    );
    assert_eq!((r.code, r.output("findings")), (0, "0"), "{}", r.log());
    assert!(r
        .stdout
        .contains("::notice title=keytrace::nothing to scan:"));
    assert!(r.summary.contains("Scanned zero commits"), "{}", r.summary);
    assert!(r.report.is_none(), "keytrace did not run");
}

#[test]
fn action_force_push_with_an_unreachable_before_falls_back_to_the_default_branch() {
    let mut fx = Fixture::new(125);
    fx.commit("a.env", true);
    fx.dev_git(&["push", "-q", "origin", "main"]);
    fx.dev_git(&["checkout", "-q", "-b", "feature"]);
    let gone = fx.commit("old-try.env", true);
    fx.dev_git(&["push", "-q", "origin", "feature"]);
    // Rewrite the branch and force-push; origin forgets the old commit.
    fx.dev_git(&["reset", "-q", "--hard", "main"]);
    let new = fx.commit("new-try.env", true);
    fx.dev_git(&["push", "-q", "--force", "origin", "feature"]);
    let origin = fx.dir.path().join("origin.git");
    git(&origin, &["reflog", "expire", "--expire=now", "--all"]);
    git(&origin, &["gc", "-q", "--prune=now"]);
    fx.checkout("feature", Some(1));
    let r = fx.run(
        "push",
        &push_payload("refs/heads/feature", &gone, &new, true),
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.log());
    assert_eq!(r.commits(), set(&[&new]), "{}", r.log());
    assert!(r.stdout.contains(&format!(
        "::notice title=keytrace::the push's before commit {gone} is not reachable"
    )));
}

#[test]
fn action_base_equal_to_head_scans_nothing_and_says_so() {
    let mut fx = Fixture::new(126);
    let c = fx.commit("a.env", true);
    fx.dev_git(&["push", "-q", "origin", "main"]);
    fx.checkout("main", Some(1));
    let r = fx.run("push", &push_payload("refs/heads/main", &c, &c, false), &[]);
    assert_eq!((r.code, r.output("exit-code")), (0, "0"), "{}", r.log());
    assert_eq!(r.output("findings"), "0");
    assert!(r.stdout.contains(&format!(
        "::notice title=keytrace::nothing to scan: the base and head are the same commit {c}"
    )));
    assert!(r.summary.contains("Scanned zero commits"));
    assert!(r.report.is_none(), "keytrace did not run");
}

#[test]
fn action_base_that_cannot_be_fetched_is_exit_2() {
    let (fx, _base, head) = pr_fixture(127, true);
    fx.checkout("main", Some(1));
    let missing = "1234567890abcdef1234567890abcdef12345678";
    let r = fx.run("pull_request", &pr_payload(missing, &head), &[]);
    assert_eq!((r.code, r.output("exit-code")), (2, "2"), "{}", r.log());
    assert_eq!(r.output("findings"), "");
    assert!(r.stdout.contains(&format!(
        "::error title=keytrace::base commit {missing} is missing from this checkout"
    )));
    assert!(r.summary.contains("### keytrace: not scanned"));
    assert!(r.report.is_none(), "keytrace did not run");
    // A payload id that is not a commit id never reaches git as an argument.
    let r = fx.run(
        "pull_request",
        &pr_payload("--upload-pack=touch x", &head),
        &[],
    );
    assert_eq!((r.code, r.output("exit-code")), (2, "2"), "{}", r.log());
    assert!(r.stdout.contains("is not a commit id"), "{}", r.log());
}

#[test]
fn action_schedule_scans_the_whole_history() {
    let (fx, _base, _head) = pr_fixture(128, true);
    let first = fx.dev_git(&["rev-list", "--max-parents=0", "main"]);
    fx.checkout("main", Some(1));
    let r = fx.run("schedule", &json!({"schedule": "0 3 * * *"}), &[]);
    assert_eq!(r.code, 1, "{}", r.log());
    // The old debt of the first commit, which the depth-1 checkout did not have.
    assert_eq!(r.commits(), set(&[&first]), "{}", r.log());
    assert!(r
        .summary
        .contains("the whole repository with history (schedule)"));
    let shallow = git(
        &fx.dir.path().join("ws"),
        &["rev-parse", "--is-shallow-repository"],
    );
    assert_eq!(shallow, "false", "the checkout was deepened");
}

/// Annotations escape `%`, CR and LF in the message and also `:` and `,` in properties, so a
/// file or repository name cannot end the command early or forge another one.
#[test]
fn action_annotations_escape_workflow_command_characters() {
    let dir = TestDir::new();
    let token = Synth::new(129).github_pat();
    dir.write("r%1\r\nx/a,b:c%.env", format!("DEPLOY_TOKEN=\"{token}\"\n"));
    let (code, stdout, stderr) = run(dir
        .command()
        .args(["scan", "r%1\r\nx", "--format", "github"]));
    assert_eq!(code, 1, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one command, one line: {stdout}");
    assert!(
        lines[0].starts_with(
            "::error file=a%2Cb%3Ac%25.env,line=1,col=15,title=keytrace unmanaged-secret::"
        ),
        "{stdout}"
    );
    assert!(
        lines[0].ends_with(" in repository r%251%0D%0Ax"),
        "{stdout}"
    );
    assert!(!stdout.contains(&token));
}

/// Keys of a YAML mapping.
fn keys(y: &saphyr::Yaml) -> BTreeSet<String> {
    y.as_mapping()
        .expect("a mapping")
        .keys()
        .map(|k| k.as_str().expect("string key").to_string())
        .collect()
}

fn get<'a>(y: &'a saphyr::Yaml<'a>, key: &str) -> &'a saphyr::Yaml<'a> {
    y.as_mapping_get(key).unwrap_or_else(|| panic!("no {key}"))
}

/// action.yml declares the inputs and outputs of issue 12, hands every input to the script
/// under the name it reads, and the README's workflow uses only those inputs, with the
/// permissions and the SARIF upload code scanning needs.
#[test]
fn action_yml_wires_every_input_and_the_readme_workflow_uses_it() {
    use saphyr::LoadableYamlNode;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("action.yml")).expect("action.yml");
    let docs = saphyr::Yaml::load_from_str(&text).expect("action.yml parses");
    let action = &docs[0];
    let inputs = keys(get(action, "inputs"));
    let want = [
        "path",
        "inventory",
        "baseline",
        "fail-on",
        "args",
        "sarif-file",
        "version",
    ];
    assert_eq!(inputs, want.iter().map(|s| s.to_string()).collect());
    let outputs = get(action, "outputs");
    assert_eq!(
        keys(outputs),
        ["exit-code", "findings", "sarif-file"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    for name in keys(outputs) {
        let value = get(get(outputs, &name), "value").as_str().expect("value");
        assert_eq!(value, format!("${{{{ steps.scan.outputs.{name} }}}}"));
    }
    let runs = get(action, "runs");
    assert_eq!(get(runs, "using").as_str(), Some("composite"));
    let step = get(runs, "steps").as_sequence().expect("steps")[0].clone();
    let env = get(&step, "env");
    let script = std::fs::read_to_string(root.join("scripts/action.sh")).expect("script");
    for input in &inputs {
        let var = format!("KEYTRACE_INPUT_{}", input.to_uppercase().replace('-', "_"));
        assert_eq!(
            get(env, &var).as_str().map(str::to_string),
            Some(format!("${{{{ inputs.{input} }}}}"))
        );
        assert!(
            script.contains(&format!("${{{var}:-")),
            "the script reads {var}"
        );
    }
    // The README's workflow.
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let section = &readme[readme.find("\n## GitHub Action\n").expect("section")..];
    let start = section.find("```yaml\n").expect("workflow block") + 8;
    let block = &section[start..start + section[start..].find("```").expect("end")];
    let docs = saphyr::Yaml::load_from_str(block).expect("README workflow parses");
    let wf = &docs[0];
    let perms = get(wf, "permissions");
    assert_eq!(get(perms, "contents").as_str(), Some("read"));
    assert_eq!(get(perms, "security-events").as_str(), Some("write"));
    let job = get(get(wf, "jobs"), "keytrace");
    let steps = get(job, "steps").as_sequence().expect("steps");
    let uses = |s: &saphyr::Yaml| get(s, "uses").as_str().unwrap_or("").to_string();
    assert!(uses(&steps[0]).starts_with("actions/checkout@"));
    assert!(get(&steps[0], "with")
        .as_mapping_get("fetch-depth")
        .is_some());
    assert!(uses(&steps[1]).starts_with("keytrace/keytrace@"));
    assert!(keys(get(&steps[1], "with")).is_subset(&inputs));
    assert!(uses(&steps[2]).starts_with("github/codeql-action/upload-sarif@"));
    assert_eq!(
        get(get(&steps[2], "with"), "sarif_file").as_str(),
        Some("${{ steps.keytrace.outputs.sarif-file }}")
    );
    assert!(
        readme[..readme.find("\n## ").expect("a section")]
            .contains("[GitHub Action](#github-action)"),
        "linked from the first screen"
    );
}

/// Publishes a fake release under `dir/releases`: `v9.9.9/keytrace-v9.9.9-<target>.tar.gz`
/// holding a `keytrace` that runs the built binary, and its `.sha256` (`good` or not).
fn publish_release(dir: &Path, good: bool) -> String {
    use sha2::{Digest, Sha256};
    let stage = dir.join("stage");
    std::fs::create_dir_all(&stage).expect("mkdir");
    let wrapper = format!(
        "#!/bin/sh\nexec '{}' \"$@\"\n",
        env!("CARGO_BIN_EXE_keytrace")
    );
    std::fs::write(stage.join("keytrace"), wrapper).expect("write wrapper");
    let release = dir.join("releases/v9.9.9");
    std::fs::create_dir_all(&release).expect("mkdir");
    let asset = "keytrace-v9.9.9-x86_64-unknown-linux-musl.tar.gz";
    let tarball = release.join(asset);
    let out = Command::new("tar")
        .arg("-czf")
        .arg(&tarball)
        .arg("-C")
        .arg(&stage)
        .arg("keytrace")
        .output()
        .expect("tar runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut bytes = std::fs::read(&tarball).expect("read tarball");
    if !good {
        bytes.push(0);
    }
    let hex: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(
        release.join(format!("{asset}.sha256")),
        format!("{hex}  {asset}\n"),
    )
    .expect("write sha256");
    format!("file://{}", dir.join("releases").display())
}

/// Without KEYTRACE_BIN the action downloads the release for the runner and checks its
/// checksum; a checksum that does not match is exit 2, never a scan with an unknown binary.
#[test]
fn action_downloads_the_release_binary_and_checks_its_checksum() {
    let (fx, base, head) = pr_fixture(130, true);
    fx.checkout("main", Some(1));
    let url = publish_release(fx.dir.path(), true);
    let env = [
        ("KEYTRACE_BIN", ""),
        ("KEYTRACE_RELEASE_BASE_URL", url.as_str()),
    ];
    let payload = pr_payload(&base, &head);
    let r = fx.run_with("pull_request", &payload, &[("VERSION", "9.9.9")], &env);
    assert_eq!(r.code, 1, "{}", r.log());
    assert_eq!(r.commits(), set(&[&head]));
    assert!(!r.stdout.contains("cargo install"), "{}", r.log());
    let url = publish_release(fx.dir.path(), false);
    let env = [
        ("KEYTRACE_BIN", ""),
        ("KEYTRACE_RELEASE_BASE_URL", url.as_str()),
    ];
    let r = fx.run_with("pull_request", &payload, &[("VERSION", "9.9.9")], &env);
    assert_eq!((r.code, r.output("exit-code")), (2, "2"), "{}", r.log());
    assert!(
        r.stdout.contains("does not match its .sha256"),
        "{}",
        r.log()
    );
    assert!(r.report.is_none(), "nothing scanned");
}

/// The other events: a merge queue's group is a range like a pull request; a deleted ref has
/// nothing to scan; a manual run on a shallow checkout whose origin is gone cannot see the
/// history it was asked for, which is exit 2, not a scan of the tip alone.
#[test]
fn action_merge_group_deleted_ref_and_unfetchable_history() {
    let (fx, base, head) = pr_fixture(131, true);
    fx.checkout("main", Some(1));
    let group = json!({"merge_group": {"base_sha": base, "head_sha": head}});
    let r = fx.run("merge_group", &group, &[]);
    assert_eq!(r.code, 1, "{}", r.log());
    assert_eq!(r.commits(), set(&[&head]));
    let r = fx.run(
        "push",
        &push_payload("refs/heads/feature", &head, ZERO, false),
        &[],
    );
    assert_eq!((r.code, r.output("findings")), (0, "0"), "{}", r.log());
    assert!(r
        .stdout
        .contains("::notice title=keytrace::nothing to scan: a deleted ref has no commits"));
    // A fresh depth-1 checkout (the range above deepened this one), then origin goes away.
    std::fs::remove_dir_all(fx.dir.path().join("ws")).expect("remove checkout");
    fx.checkout("main", Some(1));
    std::fs::remove_dir_all(fx.dir.path().join("origin.git")).expect("remove origin");
    let r = fx.run("workflow_dispatch", &json!({"inputs": {}}), &[]);
    assert_eq!((r.code, r.output("exit-code")), (2, "2"), "{}", r.log());
    assert!(
        r.stdout
            .contains("this checkout is shallow and its history could not be fetched"),
        "{}",
        r.log()
    );
    assert!(r.report.is_none(), "keytrace did not run");
}
