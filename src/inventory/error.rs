//! Typed inventory errors: each names the file and, for content, the line and column.

use std::path::PathBuf;

/// Why an inventory could not be read, used or written.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("{path}: cannot read inventory: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: the inventory uses HMAC fingerprints (key id {key_id}); set KEYTRACE_FINGERPRINT_KEY to its key")]
    KeyMissing { path: PathBuf, key_id: String },
    #[error("{path}: KEYTRACE_FINGERPRINT_KEY has key id {given}, but the inventory's fingerprints were made with key id {expected}")]
    KeyMismatch {
        path: PathBuf,
        given: String,
        expected: String,
    },
    #[error("{path}: the inventory uses plain sha256 fingerprints but KEYTRACE_FINGERPRINT_KEY is set; unset it to use this inventory")]
    KeyUnexpected { path: PathBuf },
    #[error("{path}: cannot lock inventory ({lock}): {source}")]
    Lock {
        path: PathBuf,
        lock: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: cannot write inventory: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Import {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{0}")]
    Usage(String),
}
