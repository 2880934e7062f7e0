//! The deployment examples under `examples/` (issue 13, point 4) are valid YAML with the
//! shape their platform needs, and every `keytrace` command line in them parses with the
//! real command-line parser: no flag a release does not have.

use clap::Parser as _;
use saphyr::{LoadableYamlNode as _, Scalar, Yaml};
use std::path::Path;

fn load(name: &str) -> Vec<Yaml<'static>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let text: &'static str = Box::leak(text.into_boxed_str());
    Yaml::load_from_str(text).unwrap_or_else(|e| panic!("{name}: not valid YAML: {e}"))
}

fn get<'a>(node: &'a Yaml<'static>, path: &[&str]) -> &'a Yaml<'static> {
    path.iter().fold(node, |n, key| {
        n.as_mapping_get(key)
            .unwrap_or_else(|| panic!("no `{key}` in {path:?}"))
    })
}

fn text(node: &Yaml<'_>) -> String {
    match node {
        Yaml::Value(Scalar::String(s)) => s.to_string(),
        Yaml::Value(Scalar::Integer(i)) => i.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// Every string scalar of a document, depth first.
fn strings(node: &Yaml<'_>, out: &mut Vec<String>) {
    match node {
        Yaml::Value(Scalar::String(s)) => out.push(s.to_string()),
        Yaml::Sequence(items) => items.iter().for_each(|i| strings(i, out)),
        Yaml::Mapping(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The shell scripts of a document: every string under a `run` (GitHub Actions) or `args`
/// (Kubernetes container) key.
fn scripts(node: &Yaml<'_>, out: &mut Vec<String>) {
    match node {
        Yaml::Sequence(items) => items.iter().for_each(|i| scripts(i, out)),
        Yaml::Mapping(map) => {
            for (k, v) in map {
                if matches!(k, Yaml::Value(Scalar::String(k)) if k == "run" || k == "args") {
                    strings(v, out);
                } else {
                    scripts(v, out);
                }
            }
        }
        _ => {}
    }
}

/// The `keytrace …` command lines of shell scripts (backslash continuations joined), as
/// argument vectors: quotes dropped, cut at the first shell operator, `${{ matrix.shard }}`
/// and `$shard` as 1, `$SHARDS` as `shards`, any other variable as a path.
fn keytrace_commands(scripts: &[String], shards: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for script in scripts {
        let joined = script.replace("\\\n", " ");
        for line in joined.lines().map(str::trim) {
            if !line.starts_with("keytrace ") {
                continue;
            }
            let line = line
                .replace("${{ matrix.shard }}", "1")
                .replace("${SHARDS}", shards)
                .replace("$SHARDS", shards)
                .replace("$shard", "1")
                .replace('"', "");
            let mut words = Vec::new();
            for w in line.split_whitespace() {
                if [">", ">>", "|", "&&", ";", "2>&1"].contains(&w) {
                    break;
                }
                let w = if w.starts_with('$') { "/var/x" } else { w };
                words.push(w.replace("$ESTATE", "/var/estate"));
            }
            out.push(words);
        }
    }
    out
}

/// Parses each command with keytrace's own parser; returns the subcommand words seen.
fn parse_all(name: &str, commands: &[Vec<String>]) -> Vec<String> {
    for words in commands {
        if let Err(e) = keytrace::Cli::try_parse_from(words) {
            panic!("{name}: `{}` does not parse:\n{e}", words.join(" "));
        }
    }
    let mut seen: Vec<String> = commands.iter().map(|w| w[1].clone()).collect();
    seen.sort();
    seen.dedup();
    seen
}

fn has_flag(commands: &[Vec<String>], sub: &str, flag: &str, value: &str) -> bool {
    commands
        .iter()
        .any(|w| w[1] == sub && w.windows(2).any(|p| p[0] == flag && p[1] == value))
}

#[test]
fn github_actions_sweep_is_a_sharded_workflow_with_a_merge_job() {
    let docs = load("github-actions-sweep.yml");
    let flow = &docs[0];
    assert!(
        get(flow, &["on", "schedule"]).is_sequence(),
        "runs on a schedule"
    );
    let shards = text(get(flow, &["env", "SHARDS"]));
    let matrix = get(flow, &["jobs", "sweep", "strategy", "matrix", "shard"]);
    let listed: Vec<String> = matrix
        .as_vec()
        .expect("shard list")
        .iter()
        .map(text)
        .collect();
    let n: usize = shards.parse().expect("SHARDS is a number");
    let want: Vec<String> = (1..=n).map(|k| k.to_string()).collect();
    assert_eq!(listed, want, "the matrix lists shards 1..=SHARDS");
    assert_eq!(text(get(flow, &["jobs", "merge", "needs"])), "sweep");
    let uses = |job: &str| -> Vec<String> {
        get(flow, &["jobs", job, "steps"])
            .as_vec()
            .expect("steps")
            .iter()
            .filter_map(|s| s.as_mapping_get("uses").map(text))
            .collect()
    };
    assert!(uses("sweep").contains(&"actions/upload-artifact@v4".to_string()));
    assert!(uses("merge").contains(&"actions/download-artifact@v4".to_string()));
    let mut shell = Vec::new();
    scripts(flow, &mut shell);
    assert!(shell
        .iter()
        .any(|s| s.contains("git clone --quiet --mirror")));
    let commands = keytrace_commands(&shell, &shards);
    assert_eq!(
        parse_all("github-actions-sweep.yml", &commands),
        ["merge", "report", "sweep"]
    );
    assert!(has_flag(
        &commands,
        "sweep",
        "--shard",
        &format!("1/{shards}")
    ));
    assert!(commands
        .iter()
        .any(|w| w[1] == "report" && w.contains(&"--html".to_string())));
}

#[test]
fn k8s_sweep_job_is_an_indexed_job_with_a_merge_job() {
    let docs = load("k8s-sweep-job.yaml");
    let kind = |d: &Yaml<'static>| text(get(d, &["kind"]));
    let name = |d: &Yaml<'static>| text(get(d, &["metadata", "name"]));
    assert!(docs.iter().any(|d| kind(d) == "PersistentVolumeClaim"));
    let sweep = docs
        .iter()
        .find(|d| kind(d) == "Job" && name(d) == "keytrace-sweep")
        .expect("the sweep Job");
    assert_eq!(text(get(sweep, &["spec", "completionMode"])), "Indexed");
    let n = text(get(sweep, &["spec", "completions"]));
    let merge = docs
        .iter()
        .find(|d| kind(d) == "Job" && name(d) == "keytrace-merge")
        .expect("the merge Job");
    let mut values = Vec::new();
    strings(sweep, &mut values);
    let shards = values
        .windows(2)
        .find(|p| p[0] == "SHARDS")
        .map(|p| p[1].clone())
        .expect("SHARDS env");
    assert_eq!(shards, n, "SHARDS matches completions");
    let mut shell = Vec::new();
    scripts(sweep, &mut shell);
    assert!(shell
        .iter()
        .any(|s| s.contains("$((JOB_COMPLETION_INDEX + 1))")));
    assert!(shell
        .iter()
        .any(|s| s.contains("git clone --quiet --mirror")));
    let mut waits = Vec::new();
    scripts(merge, &mut waits);
    assert!(
        waits.iter().any(|s| s.contains(&format!("-ge {n}"))),
        "the merge waits for {n} parts"
    );
    shell.extend(waits);
    let commands = keytrace_commands(&shell, &shards);
    assert_eq!(
        parse_all("k8s-sweep-job.yaml", &commands),
        ["merge", "report", "sweep"]
    );
    assert!(has_flag(&commands, "sweep", "--shard", &format!("1/{n}")));
}
