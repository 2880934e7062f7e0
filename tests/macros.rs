//! Test harness: each test gets a fresh temp dir and a `keytrace` command that runs the real binary in it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A temp dir for one test, removed when dropped.
pub struct TestDir {
    dir: tempfile::TempDir,
    /// keytrace's cache of inventory tables, outside the scanned dir and never ~/.cache.
    cache: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> Self {
        let temp = |prefix| {
            tempfile::Builder::new()
                .prefix(prefix)
                .tempdir()
                .expect("temp dir")
        };
        TestDir {
            dir: temp("keytrace-test-"),
            cache: temp("keytrace-cache-"),
        }
    }

    pub fn cache_dir(&self) -> &Path {
        self.cache.path()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` at `rel`, creating parent directories.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, contents).expect("write");
        path
    }

    /// Copies the fixture tree `fixtures/<from>` into this dir at `to` (`""` for the top),
    /// keeping relative paths.
    pub fn copy_fixture(&self, from: &str, to: &str) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(from);
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("read fixture dir") {
                let p = e.expect("entry").path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p.strip_prefix(&root).expect("under the fixture root");
                    let rel = rel.to_string_lossy().replace('\\', "/");
                    let at = if to.is_empty() {
                        rel
                    } else {
                        format!("{to}/{rel}")
                    };
                    self.write(&at, std::fs::read(&p).expect("read fixture"));
                }
            }
        }
    }

    /// A `keytrace` command running in this dir, with a clean environment for its own variables.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_keytrace"));
        cmd.current_dir(self.dir.path())
            .env_remove("KEYTRACE_FINGERPRINT_KEY")
            .env("KEYTRACE_CACHE_DIR", self.cache.path())
            .env("NO_COLOR", "1");
        cmd
    }
}

/// Runs a command and returns (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("run keytrace");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Starts `cmd` with `stdin` written to its piped standard input (then closed).
pub fn spawn_stdin(cmd: &mut Command, stdin: &str) -> std::process::Child {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child
}

/// Runs `cmd` with `stdin` piped in; returns (exit code, stdout, stderr).
pub fn run_stdin(cmd: &mut Command, stdin: &str) -> (i32, String, String) {
    let out = spawn_stdin(cmd, stdin).wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs a command that prints a JSON report and may exit 0 or 1 (findings), and
/// returns (exit code, parsed stdout, stderr); any other exit or bad JSON fails the test.
pub fn run_json(cmd: &mut Command) -> (i32, serde_json::Value, String) {
    let (code, stdout, stderr) = run(cmd);
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    let v = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    (code, v, stderr)
}

/// One expected `(rule, path, line)`, in the shape [`finding_places`] returns.
pub fn place(rule: &str, path: &str, line: u64) -> (String, String, u64) {
    (rule.to_string(), path.to_string(), line)
}

/// `(rule, path, line)` of every finding of a parsed JSON report.
pub fn finding_places(report: &serde_json::Value) -> Vec<(String, String, u64)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().expect("rule").to_string(),
                f["location"]["path"].as_str().expect("path").to_string(),
                f["location"]["line"].as_u64().expect("line"),
            )
        })
        .collect()
}

/// `kttest!(name, |dir, cmd| { … })`: a test with its own temp dir and a ready `keytrace` command.
macro_rules! kttest {
    ($name:ident, |$dir:ident, $cmd:ident| $body:block) => {
        #[test]
        fn $name() {
            let $dir = $crate::macros::TestDir::new();
            #[allow(unused_mut)]
            let mut $cmd = $dir.command();
            $body
        }
    };
}

/// The JSON Schema of keytrace's JSON report, as shipped in the repository.
pub const REPORT_SCHEMA: &str = include_str!("../schemas/report.schema.json");
/// The official SARIF 2.1.0 schema, bundled so the test runs offline.
pub const SARIF_SCHEMA: &str = include_str!("sarif-schema-2.1.0.json");
/// GitLab's published secret-detection report schema 15.2.4 (`dist/secret-detection-report-format.json`
/// of gitlab.com/gitlab-org/security-products/security-report-schemas, MIT licence), copied verbatim
/// from the vendored copy in github.com/draugr-dev/draugr `pkg/report/testdata/gitlab/`.
pub const GITLAB_SECRET_SCHEMA: &str =
    include_str!("gitlab-secret-detection-report-format-15.2.4.json");

/// Fails when any of `secrets` appears in `text`. Linear in `text` whatever the number of
/// secrets (a report of 25,000 results is checked against its 25,000 values): only runs of
/// the bytes the secrets are made of are looked at, through a set.
pub fn assert_no_plaintext(text: &str, secrets: &[String]) {
    let mut alphabet = [false; 256];
    for b in secrets.iter().flat_map(|s| s.bytes()) {
        alphabet[usize::from(b)] = true;
    }
    let set: std::collections::HashSet<&[u8]> = secrets.iter().map(|s| s.as_bytes()).collect();
    let lens: std::collections::BTreeSet<usize> = secrets.iter().map(String::len).collect();
    for run in text.as_bytes().split(|b| !alphabet[usize::from(*b)]) {
        for &len in lens.iter().filter(|&&l| l > 0 && l <= run.len()) {
            if let Some(w) = run.windows(len).find(|w| set.contains(w)) {
                let shown = String::from_utf8_lossy(&w[..w.len().min(8)]).into_owned();
                panic!("plaintext {shown}… in the report");
            }
        }
    }
}

/// Fails the test with every violation when `doc` does not validate against `schema`.
pub fn assert_schema_valid(schema: &str, doc: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(schema).expect("schema parses");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "does not validate against its schema:\n{}",
        errors.join("\n")
    );
}
