//! Test harness: each test gets a fresh temp dir and a `keytrace` command that runs the real binary in it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temp dir for one test, removed when dropped.
pub struct TestDir {
    dir: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> Self {
        TestDir {
            dir: tempfile::Builder::new()
                .prefix("keytrace-test-")
                .tempdir()
                .expect("temp dir"),
        }
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

    /// A `keytrace` command running in this dir, with a clean environment for its own variables.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_keytrace"));
        cmd.current_dir(self.dir.path())
            .env_remove("KEYTRACE_FINGERPRINT_KEY")
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
