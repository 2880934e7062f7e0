//! Reading and writing the inventory file: an exclusive lock file for
//! read-modify-write, and atomic replacement (temp file in the same directory,
//! fsync, rename, fsync of the directory), so a crash leaves the old file whole.

use super::{Inventory, InventoryError};
use crate::atomic_file::{self, Durability, Lock};
use crate::fingerprint::Fingerprinter;
use std::path::{Path, PathBuf};

/// Reads and validates an inventory and checks the fingerprint key against it.
/// A missing file is an error: callers that accept absence check first.
pub fn load(path: &Path, fp: &Fingerprinter) -> Result<Inventory, InventoryError> {
    let bytes = std::fs::read(path).map_err(|source| InventoryError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|e| not_utf8(path, e.as_bytes(), e.utf8_error().valid_up_to()))?;
    let inv = Inventory::parse(path, &text)?;
    inv.check_key(path, fp)?;
    Ok(inv)
}

/// The error for text that stops being UTF-8 at byte `valid_up_to`, by line and column.
pub(super) fn not_utf8(path: &Path, text: &[u8], valid_up_to: usize) -> InventoryError {
    let good = &text[..valid_up_to.min(text.len())];
    let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    InventoryError::Invalid {
        path: path.to_path_buf(),
        line: good.iter().filter(|&&b| b == b'\n').count() + 1,
        column: good.len() - line_start + 1,
        message: "not UTF-8 text".into(),
    }
}

/// Whether the inventory `text` may list retired references, decided before it is
/// parsed so a scan knows at once whether to extract references from files. Errs on
/// the side of yes: any JSON escape could spell the key another way.
pub(super) fn may_retire_references(text: &[u8]) -> bool {
    if memchr::memmem::find(text, b"\\u").is_some() {
        return true;
    }
    let key = b"\"retired_references\"";
    memchr::memmem::find_iter(text, key).any(|at| {
        let rest = text[at + key.len()..].trim_ascii_start();
        let Some(rest) = rest.strip_prefix(b":") else {
            return true;
        };
        match rest.trim_ascii_start().strip_prefix(b"[") {
            Some(list) => !list.trim_ascii_start().starts_with(b"]"),
            None => true,
        }
    })
}

/// An inventory file held under its lock for one read-modify-write.
pub struct Store {
    path: PathBuf,
    _lock: Lock,
}

impl Store {
    /// Takes the exclusive lock (`FILE.lock`, waiting for other writers).
    pub fn lock(path: &Path) -> Result<Store, InventoryError> {
        let lock = Lock::acquire(path).map_err(|(lock, source)| InventoryError::Lock {
            path: path.to_path_buf(),
            lock,
            source,
        })?;
        Ok(Store {
            path: path.to_path_buf(),
            _lock: lock,
        })
    }

    /// The inventory as it is on disk now, or an empty one when the file does not exist.
    pub fn load(&self, fp: &Fingerprinter) -> Result<Inventory, InventoryError> {
        if !self.path.exists() {
            return Ok(Inventory::default());
        }
        load(&self.path, fp)
    }

    /// Replaces the file atomically and durably with `inv` in its stable pretty form.
    pub fn save(&self, inv: &Inventory) -> Result<(), InventoryError> {
        atomic_file::replace(&self.path, inv.to_pretty().as_bytes(), Durability::Synced).map_err(
            |source| InventoryError::Write {
                path: self.path.clone(),
                source,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_before_rename_leaves_old_file_intact() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("inv.json");
        let store = Store::lock(&path).expect("lock");
        let fp = Fingerprinter::sha256();
        let mut inv = store.load(&fp).expect("empty");
        store.save(&inv).expect("save");
        let before = std::fs::read_to_string(&path).expect("read");
        inv.fingerprint_key_id = Some("abc".into());
        // A crash after the temp file is written but before the rename:
        let tmp = atomic_file::write_temp(&path, b"{ half a file", true).expect("temp");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), before);
        assert!(store.load(&fp).is_ok());
        std::fs::remove_file(tmp).expect("rm");
    }

    #[test]
    fn retired_references_are_seen_before_parsing() {
        let may = |text: &str| may_retire_references(text.as_bytes());
        assert!(!may(r#"{"credentials": []}"#));
        assert!(!may(r#"{"retired_references": [ ]}"#));
        assert!(!may("{\"retired_references\" :\n  []}"));
        assert!(may(r#"{"retired_references": ["env:OLD"]}"#));
        assert!(may(r#"{"retired_references":
              [ "env:OLD" ]}"#));
        // An escaped key spelling is still a key: err on the side of extracting.
        assert!(may(r#"{"retired\u005freferences": ["env:OLD"]}"#));
    }
}
