//! Sources: walk the paths to scan and hand each file's bytes, with provenance, to a callback.
//!
//! The filesystem walk uses the `ignore` crate in parallel. Sources know
//! nothing of rules: they produce [`Chunk`]s and count what they skipped.

mod fs;
pub mod git;

pub use fs::{repository_root, walk};

use crate::diag::Diagnostic;
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
    /// Directories not to enter unless given as a root (nested and bare repositories).
    pub skip_dirs: Vec<std::path::PathBuf>,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            max_file_size: 25 * 1024 * 1024,
            respect_ignore_files: true,
            threads: 0,
            skip_dirs: Vec::new(),
        }
    }
}

/// What a walk read and what it skipped, with the warnings it raised.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WalkStats {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub skipped_binary: u64,
    pub skipped_too_large: u64,
    pub skipped_symlinks: u64,
    pub unreadable: u64,
    #[serde(skip)]
    pub warnings: Vec<Diagnostic>,
}
