//! Sources: walk the paths to scan and hand each file's bytes, with provenance, to a callback.
//!
//! The filesystem walk uses the `ignore` crate in parallel. Sources know
//! nothing of rules: they produce [`Chunk`]s and count what they skipped, per repository.

mod fs;
pub mod git;

pub use fs::{repository_root, walk};

use crate::diag::Diagnostic;
use crate::types::{RepositoryScope, TreeCounts};
use serde::Serialize;

/// How a walk behaves; plain data built from CLI flags and config.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Files larger than this many bytes are skipped and counted.
    pub max_file_size: u64,
    /// Honour `.gitignore` / `.ignore` / `.keytraceignore` (off for reset verification).
    pub respect_ignore_files: bool,
    /// Worker threads (0: one per core).
    pub threads: usize,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            max_file_size: 25 * 1024 * 1024,
            respect_ignore_files: true,
            threads: 0,
        }
    }
}

/// What a walk read and what it skipped over all roots, with the warnings it raised.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WalkStats {
    #[serde(flatten)]
    pub counts: TreeCounts,
    #[serde(skip)]
    pub warnings: Vec<Diagnostic>,
    /// Each root walked (or met and not walked, as a bare repository), sorted by name then
    /// root, with its own counts and warnings; the counts above are their sum.
    #[serde(skip)]
    pub repositories: Vec<RepositoryScope>,
}
