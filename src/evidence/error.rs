//! Typed evidence-log errors: each names the log and, for content, the record.

use std::path::PathBuf;

/// Why an evidence log could not be read, trusted or extended.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("{path}: cannot read evidence log: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The first record (1-based line) that breaks the chain, and how.
    #[error("{path}: record {record}: {reason}")]
    Broken {
        path: PathBuf,
        record: u64,
        reason: String,
    },
    #[error("{path}: directory {dir} does not exist; create it before the first record")]
    NoDirectory { path: PathBuf, dir: PathBuf },
    #[error("{path}: cannot lock evidence log ({lock}): {source}")]
    Lock {
        path: PathBuf,
        lock: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: cannot write evidence log: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: the record body may not set \"{key}\"; the log writes it")]
    ReservedKey { path: PathBuf, key: String },
}
