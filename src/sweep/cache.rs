//! The sweep cache (`sweep --cache DIR`): one file per repository recording which history
//! blobs were scanned under which settings, and what each yielded (fingerprints and
//! redactions only, never plaintext), so a re-sweep reads only new blobs; and the last whole
//! history walk (refs digest, counts, the origins of the blobs that yield something), so a
//! re-sweep of a repository whose refs did not move reads no history at all.
//!
//! A file is trusted only whole: written by rename (a crash leaves the old file or the new),
//! read back only when its format, repository, build and settings key all match. A file that
//! does not parse or is of another format is an error the caller reports, then ignores.
//! A full sweep [`prune`]s the files of repositories it no longer finds, so the cache holds
//! at most one file per repository of the last estate swept.

use crate::scan::{BlobResult, MemoKept};
use crate::source::git::Walk;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bumped whenever what a cache file holds changes meaning.
const FORMAT: u32 = 1;

/// The code this keytrace was built from (see `build.rs`): a file another build wrote may
/// hold what that code found, so it is not reused, whatever the crate version says.
const BUILD: &str = env!("KEYTRACE_BUILD_ID");

/// Why a cache file was not trusted.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("{path}: cannot read the cache file: {message}")]
    Unreadable { path: String, message: String },
    #[error("{path}: corrupt cache file ({message}); discarded")]
    Corrupt { path: String, message: String },
    #[error("{path}: cache file of format {found}, this keytrace writes {FORMAT}; discarded")]
    WrongFormat { path: String, found: u32 },
    #[error("{path}: cache file of another repository ({other}); discarded")]
    OtherRepository { path: String, other: String },
    #[error("{path}: cannot write the cache file: {message}")]
    Write { path: String, message: String },
}

#[derive(Deserialize)]
struct Header {
    format: u32,
}

#[derive(Serialize, Deserialize)]
struct File {
    format: u32,
    repo: String,
    /// The [`BUILD`] that wrote the file; absent (so void) in files of earlier builds.
    #[serde(default)]
    build: String,
    /// Digest of every setting that changes what a blob yields ([`key`]).
    key: String,
    blobs: BTreeMap<String, BlobResult>,
    /// Absent in files of keytrace versions before walks were kept: they still serve blobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    walk: Option<Walk>,
}

/// The cache file of repository `repo` under `dir`: named by a stable hash of its path.
pub fn file_of(dir: &Path, repo: &str) -> PathBuf {
    dir.join(file_name(repo))
}

fn file_name(repo: &str) -> String {
    format!("{:016x}.json", super::path_hash(repo))
}

/// Whether `name` is the name [`file_of`] gives a cache file (16 hex digits, `.json`).
fn is_cache_file_name(name: &str) -> bool {
    name.strip_suffix(".json")
        .is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Removes from `dir` the cache files of every repository but `estate` (all the
/// repositories of a full sweep, read or not), and returns how many went. Only files
/// named as cache files are touched. A sharded sweep must not prune: the other shards'
/// files are not in its estate.
pub fn prune<'a>(dir: &Path, estate: impl IntoIterator<Item = &'a str>) -> Result<u64, CacheError> {
    let fail = |path: &Path, e: &std::io::Error| CacheError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let keep: std::collections::HashSet<String> = estate.into_iter().map(file_name).collect();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(fail(dir, &e)),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(|e| fail(dir, &e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if is_cache_file_name(name) && !keep.contains(name) {
            std::fs::remove_file(entry.path()).map_err(|e| fail(&entry.path(), &e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// `sha256:` over the settings a cache entry is valid for, one `name value` line each
/// (keytrace's version, the rule-set digest, the inventory's digest, scan options).
pub fn key(settings: &[(&str, String)]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (name, value) in settings {
        h.update(format!("{name} {value}\n").as_bytes());
    }
    format!("sha256:{}", crate::fingerprint::hex(&h.finalize()))
}

/// The blob results and walk cached for `repo` under `key`: empty when there is no file or
/// it was written by another build or under other settings (the repository is then scanned
/// in full, as it must be).
pub fn load(dir: &Path, repo: &str, key: &str) -> Result<MemoKept, CacheError> {
    let none = || MemoKept {
        blobs: BTreeMap::new(),
        walk: None,
    };
    let path = file_of(dir, repo);
    let shown = path.display().to_string();
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(none()),
        Err(e) => {
            return Err(CacheError::Unreadable {
                path: shown,
                message: e.to_string(),
            })
        }
    };
    let corrupt = |e: serde_json::Error| CacheError::Corrupt {
        path: shown.clone(),
        message: e.to_string(),
    };
    let header: Header = serde_json::from_slice(&bytes).map_err(corrupt)?;
    if header.format != FORMAT {
        return Err(CacheError::WrongFormat {
            path: shown,
            found: header.format,
        });
    }
    let file: File = serde_json::from_slice(&bytes).map_err(corrupt)?;
    if file.repo != repo {
        return Err(CacheError::OtherRepository {
            path: shown,
            other: file.repo,
        });
    }
    if file.build != BUILD || file.key != key {
        return Ok(none());
    }
    Ok(MemoKept {
        blobs: file.blobs,
        walk: file.walk,
    })
}

/// Replaces the cache file of `repo` with `kept` by rename. Not synced: a file a power cut
/// leaves torn fails to parse and is discarded, never trusted.
pub fn store(dir: &Path, repo: &str, key: &str, kept: MemoKept) -> Result<(), CacheError> {
    let path = file_of(dir, repo);
    let fail = |message: String| CacheError::Write {
        path: path.display().to_string(),
        message,
    };
    let file = File {
        format: FORMAT,
        repo: repo.to_string(),
        build: BUILD.to_string(),
        key: key.to_string(),
        blobs: kept.blobs,
        walk: kept.walk,
    };
    let bytes = serde_json::to_vec(&file).map_err(|e| fail(e.to_string()))?;
    std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    crate::atomic_file::replace(&path, &bytes, crate::atomic_file::Durability::Unsynced)
        .map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept() -> MemoKept {
        MemoKept {
            blobs: blob(),
            walk: None,
        }
    }

    fn blob() -> BTreeMap<String, BlobResult> {
        let r = BlobResult {
            path: "a.env".into(),
            loose: false,
            candidates: Vec::new(),
            warnings: Vec::new(),
        };
        BTreeMap::from([("ab".repeat(20), r)])
    }

    #[test]
    fn round_trips_and_distrusts_what_does_not_match() {
        let dir = tempfile::tempdir().expect("tmp");
        let k = key(&[("rules", "sha256:1".into())]);
        store(dir.path(), "/r", &k, kept()).expect("store");
        assert_eq!(load(dir.path(), "/r", &k).expect("load").blobs, blob());
        // Other settings: nothing to reuse, and no complaint.
        let other = key(&[("rules", "sha256:2".into())]);
        assert!(load(dir.path(), "/r", &other)
            .expect("load")
            .blobs
            .is_empty());
        // No file yet.
        assert!(load(dir.path(), "/s", &k).expect("load").blobs.is_empty());
        let path = file_of(dir.path(), "/r");
        std::fs::write(&path, b"{\"format\": 1, \"repo\": \"/r\", \"key").expect("tear");
        assert!(matches!(
            load(dir.path(), "/r", &k),
            Err(CacheError::Corrupt { .. })
        ));
        std::fs::write(&path, b"{\"format\": 99, \"blobs\": 3}").expect("write");
        assert!(matches!(
            load(dir.path(), "/r", &k),
            Err(CacheError::WrongFormat { found: 99, .. })
        ));
    }

    #[test]
    fn a_file_of_another_build_is_void() {
        let dir = tempfile::tempdir().expect("tmp");
        let k = key(&[("rules", "sha256:1".into())]);
        store(dir.path(), "/r", &k, kept()).expect("store");
        let path = file_of(dir.path(), "/r");
        let text = std::fs::read_to_string(&path).expect("read");
        let ours = format!("\"build\":\"{BUILD}\"");
        assert!(text.contains(&ours), "{text}");
        std::fs::write(&path, text.replace(&ours, "\"build\":\"0123\"")).expect("write");
        assert!(load(dir.path(), "/r", &k).expect("load").blobs.is_empty());
        // A file of a build before the field existed.
        std::fs::write(&path, text.replace(&format!("{ours},"), "")).expect("write");
        assert!(load(dir.path(), "/r", &k).expect("load").blobs.is_empty());
    }

    #[test]
    fn prune_removes_only_cache_files_of_repositories_gone() {
        let dir = tempfile::tempdir().expect("tmp");
        let k = key(&[]);
        for repo in ["/a", "/b", "/c"] {
            store(dir.path(), repo, &k, kept()).expect("store");
        }
        std::fs::write(dir.path().join("notes.json"), "{}").expect("write");
        std::fs::write(dir.path().join("0123456789abcdef.txt"), "").expect("write");
        assert_eq!(prune(dir.path(), ["/a", "/c", "/new"]).expect("prune"), 1);
        assert!(!file_of(dir.path(), "/b").exists());
        for kept in [file_of(dir.path(), "/a"), file_of(dir.path(), "/c")] {
            assert!(kept.exists());
        }
        assert!(dir.path().join("notes.json").exists());
        assert!(dir.path().join("0123456789abcdef.txt").exists());
        assert_eq!(prune(&dir.path().join("none"), ["/a"]).expect("absent"), 0);
    }
}
