//! Warnings and notes: each has a stable kebab-case code, the place it concerns and what to do.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Every diagnostic code keytrace emits. Listed in docs/diagnostics.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    UnreadableFile,
    UnreadableDirectory,
    InvalidUtf8,
    FileTooLarge,
    SymlinkLoop,
    WalkError,
    UnusedAllowlistEntry,
    UnknownRuleId,
    NothingScanned,
    UnreadableRepository,
    ShallowClone,
    EmptyRepository,
    BrokenRef,
    MissingGitObject,
    CorruptGitObject,
    GitSubmodule,
    BlobTooLarge,
    LfsPointer,
    NonUtf8Path,
    NothingStaged,
    MalformedConfig,
    ArchiveSkipped,
    CacheDiscarded,
    StaleBaselineEntry,
    SarifResultsDropped,
}

impl Code {
    /// Every code, for docs and the uniqueness test.
    pub const ALL: &'static [Code] = &[
        Code::UnreadableFile,
        Code::UnreadableDirectory,
        Code::InvalidUtf8,
        Code::FileTooLarge,
        Code::SymlinkLoop,
        Code::WalkError,
        Code::UnusedAllowlistEntry,
        Code::UnknownRuleId,
        Code::NothingScanned,
        Code::UnreadableRepository,
        Code::ShallowClone,
        Code::EmptyRepository,
        Code::BrokenRef,
        Code::MissingGitObject,
        Code::CorruptGitObject,
        Code::GitSubmodule,
        Code::BlobTooLarge,
        Code::LfsPointer,
        Code::NonUtf8Path,
        Code::NothingStaged,
        Code::MalformedConfig,
        Code::ArchiveSkipped,
        Code::CacheDiscarded,
        Code::StaleBaselineEntry,
        Code::SarifResultsDropped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::UnreadableFile => "unreadable-file",
            Code::UnreadableDirectory => "unreadable-directory",
            Code::InvalidUtf8 => "invalid-utf8",
            Code::FileTooLarge => "file-too-large",
            Code::SymlinkLoop => "symlink-loop",
            Code::WalkError => "walk-error",
            Code::UnusedAllowlistEntry => "unused-allowlist-entry",
            Code::UnknownRuleId => "unknown-rule-id",
            Code::NothingScanned => "nothing-scanned",
            Code::UnreadableRepository => "unreadable-repository",
            Code::ShallowClone => "shallow-clone",
            Code::EmptyRepository => "empty-repository",
            Code::BrokenRef => "broken-ref",
            Code::MissingGitObject => "missing-git-object",
            Code::CorruptGitObject => "corrupt-git-object",
            Code::GitSubmodule => "git-submodule",
            Code::BlobTooLarge => "blob-too-large",
            Code::LfsPointer => "lfs-pointer",
            Code::NonUtf8Path => "non-utf8-path",
            Code::NothingStaged => "nothing-staged",
            Code::MalformedConfig => "malformed-config",
            Code::ArchiveSkipped => "archive-skipped",
            Code::CacheDiscarded => "cache-discarded",
            Code::StaleBaselineEntry => "stale-baseline-entry",
            Code::SarifResultsDropped => "sarif-results-dropped",
        }
    }

    /// One line: what happened and what keytrace did about it.
    pub fn description(self) -> &'static str {
        match self {
            Code::UnreadableFile => {
                "a file could not be read (permissions, I/O error); it was skipped and counted"
            }
            Code::UnreadableDirectory => {
                "a directory could not be listed; its contents were skipped"
            }
            Code::InvalidUtf8 => "a file is not valid UTF-8; it was scanned as bytes",
            Code::FileTooLarge => {
                "a file is larger than --max-file-size; it was skipped and counted"
            }
            Code::SymlinkLoop => "a symbolic link loops back on itself; it was not followed",
            Code::WalkError => {
                "the directory walk reported an error for this path; the rest was scanned"
            }
            Code::UnusedAllowlistEntry => {
                "an allow-list entry in the config matched no finding; remove it or fix it"
            }
            Code::UnknownRuleId => "the config names a rule id that does not exist",
            Code::NothingScanned => "a path given on the command line held no file to scan",
            Code::UnreadableRepository => {
                "a directory that looks like a git repository could not be opened; its history was not scanned"
            }
            Code::ShallowClone => {
                "the repository is a shallow clone: history beyond its boundary is not there and was not scanned"
            }
            Code::EmptyRepository => {
                "the repository has no commit on any ref (empty, or unborn HEAD): only its working tree was scanned"
            }
            Code::BrokenRef => {
                "a ref could not be resolved to an object; it was skipped and the other refs were scanned"
            }
            Code::MissingGitObject => {
                "a commit, tree or blob referenced in history is missing from the object store; it was skipped and counted"
            }
            Code::CorruptGitObject => {
                "a git object could not be read or decompressed; it was skipped and counted"
            }
            Code::GitSubmodule => {
                "a submodule (gitlink) was found; its repository is not followed, scan it on its own"
            }
            Code::BlobTooLarge => {
                "a blob in history is larger than --max-file-size; it was skipped and counted"
            }
            Code::LfsPointer => {
                "Git LFS pointer files are in history; the pointers were scanned, the LFS content was not fetched"
            }
            Code::NonUtf8Path => {
                "a path in history is not valid UTF-8; it is shown with replacement characters"
            }
            Code::NothingStaged => {
                "--staged found no staged change that adds content; nothing was scanned"
            }
            Code::MalformedConfig => {
                "a CI config, manifest or other structured file does not parse; its references were not extracted, and it was scanned line by line as plain text"
            }
            Code::ArchiveSkipped => {
                "a file or blob is a compressed archive (zip, jar, gzip, bzip2, xz, zstd, 7z, tar); its content was not scanned and is a hole in the scope"
            }
            Code::CacheDiscarded => {
                "a sweep cache file is corrupt or of another format version; it was not trusted, and the repository was scanned in full"
            }
            Code::StaleBaselineEntry => {
                "baseline entries matched no finding of a whole scan (the debt was removed); `keytrace baseline prune` drops them"
            }
            Code::SarifResultsDropped => {
                "the SARIF report would exceed GitHub code scanning's upload limits (25,000 results per run, 10 MB gzipped); the lowest-severity results were left out and counted in the run's `dropped` property"
            }
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A warning with its code, the place (path, optional line) and a message.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Diagnostic {
    pub code: Code,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub message: String,
}

impl Diagnostic {
    pub fn new(code: Code, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            path: path.into(),
            line: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(
                f,
                "warning[{}]: {}:{}: {}",
                self.code, self.path, line, self.message
            ),
            None => write!(f, "warning[{}]: {}: {}", self.code, self.path, self.message),
        }
    }
}

/// The Markdown listing of every code, as committed in docs/diagnostics.md.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Diagnostics\n\nEvery warning keytrace prints has a stable code. Generated from `src/diag.rs`; `cargo test` fails when this file is stale.\n\n| code | meaning |\n| --- | --- |\n",
    );
    for code in Code::ALL {
        out.push_str(&format!(
            "| `{}` | {} |\n",
            code.as_str(),
            code.description()
        ));
    }
    out
}
