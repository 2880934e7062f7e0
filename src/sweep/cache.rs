//! The sweep cache (`sweep --cache DIR`): one file per repository recording which history
//! blobs were scanned under which settings, and what each yielded (fingerprints and
//! redactions only, never plaintext), so a re-sweep reads only new blobs; and the last whole
//! history walk (refs digest, counts, the origins of the blobs that yield something), so a
//! re-sweep of a repository whose refs did not move reads no history at all.
//!
//! A file is two JSON lines: the head (settings, the walk, the results of the blobs that
//! yield something, and the length and CRC-32 of line two) and the blobs that yield nothing.
//! A replay needs only the head, so line two is parsed only when the repository's ref files
//! differ from those the head was written under ([`ref_files_digest`]); it is always checked
//! against its length and CRC, so a torn or altered file is never trusted, whatever is read.
//!
//! A file is trusted only whole: written by rename (a crash leaves the old file or the new),
//! read back only when its format, repository, build and settings key all match. A file that
//! does not parse or is of another format is an error the caller reports, then ignores.
//! A sweep [`prune`]s the files of repositories it no longer finds (a sharded one only
//! those of its own shard), so the cache holds at most one file per repository swept.

use crate::scan::{BlobResult, MemoKept};
use crate::source::git::Walk;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bumped whenever what a cache file holds changes meaning. Files of earlier formats were
/// written by earlier builds, so they are void like any other build's (see [`BUILD`]).
const FORMAT: u32 = 2;

/// The code and embedded rules this keytrace was built from (see `build.rs`): a file
/// another build wrote may hold what that code found, so it is not reused, whatever the
/// crate version says.
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

/// What is read of a file before trusting its shape: another format's or build's file
/// is void whatever else it holds.
#[derive(Deserialize)]
struct Header {
    format: u32,
    #[serde(default)]
    build: String,
}

/// Line one of a cache file: everything a replay reads.
#[derive(Serialize, Deserialize)]
struct Head {
    format: u32,
    repo: String,
    /// The [`BUILD`] that wrote the file.
    build: String,
    /// Digest of every setting that changes what a blob yields ([`key`]).
    key: String,
    /// [`ref_files_digest`] of the repository before the scan that wrote the file: while it
    /// holds, the walk is likely replayed and line two is not needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ref_files: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    walk: Option<Walk>,
    /// The results of the blobs that yield candidates or warnings.
    found: BTreeMap<String, BlobResult>,
    /// How many blobs line two holds (the results of the blobs that yield nothing), and its
    /// byte length and CRC-32.
    rest_blobs: u64,
    rest_len: u64,
    rest_crc: u32,
}

/// Whether a blob's result holds something a replay hands over.
fn yields(r: &BlobResult) -> bool {
    !r.candidates.is_empty() || !r.warnings.is_empty()
}

/// The cache file of repository `repo` under `dir`: named by a stable hash of its path.
pub fn file_of(dir: &Path, repo: &str) -> PathBuf {
    dir.join(file_name(repo))
}

fn file_name(repo: &str) -> String {
    format!("{:016x}.json", super::path_hash(repo))
}

/// The path hash a cache file's name gives (16 hex digits, `.json`), if it is one.
fn hash_of_file_name(name: &str) -> Option<u64> {
    name.strip_suffix(".json")
        .filter(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|h| u64::from_str_radix(h, 16).ok())
}

/// Removes from `dir` the cache files of every repository but `estate` (all the
/// repositories a sweep covered, read or not), and returns how many went. Only files
/// named as cache files are touched; with `shard` (K of N, 1-based), only those of
/// repositories in that shard, since a file's name is the hash the shard is taken from:
/// the other shards' files are theirs to prune.
pub fn prune<'a>(
    dir: &Path,
    estate: impl IntoIterator<Item = &'a str>,
    shard: Option<(u32, u32)>,
) -> Result<u64, CacheError> {
    let fail = |path: &Path, e: &std::io::Error| CacheError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let keep: std::collections::HashSet<String> = estate.into_iter().map(file_name).collect();
    let ours = |hash: u64| shard.is_none_or(|(k, n)| super::shard_of_hash(hash, n) + 1 == k);
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
        if hash_of_file_name(name).is_some_and(ours) && !keep.contains(name) {
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

/// What [`load`] found for a repository.
pub struct Loaded {
    pub kept: MemoKept,
    /// Whether the file was written under the ref files given to [`load`]; if not (and
    /// they are known), it is worth rewriting even when its blobs are unchanged.
    pub ref_files_held: bool,
    /// How many blobs the file holds results of, read or not.
    pub held: u64,
}

/// The blob results and walk cached for `repo` under `key`: empty when there is no file or
/// it was written by another build or under other settings (the repository is then scanned
/// in full, as it must be). When `ref_files` is what the file was written under and it holds
/// a walk, only the blobs the walk hands over are returned: the walk is to be replayed.
pub fn load(
    dir: &Path,
    repo: &str,
    key: &str,
    ref_files: Option<&str>,
) -> Result<Loaded, CacheError> {
    let none = || Loaded {
        kept: MemoKept {
            blobs: BTreeMap::new(),
            walk: None,
        },
        ref_files_held: false,
        held: 0,
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
    let corrupt = |message: String| CacheError::Corrupt {
        path: shown.clone(),
        message,
    };
    let (line, rest) = match memchr::memchr(b'\n', &bytes) {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (&bytes[..], &[][..]),
    };
    let header: Header = serde_json::from_slice(line).map_err(|e| corrupt(e.to_string()))?;
    if header.format < FORMAT || (header.format == FORMAT && header.build != BUILD) {
        return Ok(none());
    }
    if header.format != FORMAT {
        return Err(CacheError::WrongFormat {
            path: shown,
            found: header.format,
        });
    }
    let head: Head = serde_json::from_slice(line).map_err(|e| corrupt(e.to_string()))?;
    if head.repo != repo {
        return Err(CacheError::OtherRepository {
            path: shown,
            other: head.repo,
        });
    }
    if rest.len() as u64 != head.rest_len || crc32fast::hash(rest) != head.rest_crc {
        return Err(corrupt(
            "the second line does not match its recorded length and CRC".to_string(),
        ));
    }
    if head.key != key {
        return Ok(none());
    }
    let held = head.found.len() as u64 + head.rest_blobs;
    let mut blobs = head.found;
    let ref_files_held = ref_files.is_some() && head.ref_files.as_deref() == ref_files;
    if !(ref_files_held && head.walk.is_some()) {
        let others: BTreeMap<String, BlobResult> =
            serde_json::from_slice(rest).map_err(|e| corrupt(e.to_string()))?;
        blobs.extend(others);
    }
    Ok(Loaded {
        kept: MemoKept {
            blobs,
            walk: head.walk,
        },
        ref_files_held,
        held,
    })
}

/// Replaces the cache file of `repo` with `kept`, noting `ref_files` (the
/// [`ref_files_digest`] taken before the scan), by rename. Not synced: a file a power cut
/// leaves torn fails its checks and is discarded, never trusted.
pub fn store(
    dir: &Path,
    repo: &str,
    key: &str,
    ref_files: Option<String>,
    kept: MemoKept,
) -> Result<(), CacheError> {
    let path = file_of(dir, repo);
    let fail = |message: String| CacheError::Write {
        path: path.display().to_string(),
        message,
    };
    let (found, others): (BTreeMap<_, _>, BTreeMap<_, _>) =
        kept.blobs.into_iter().partition(|(_, r)| yields(r));
    let rest = serde_json::to_vec(&others).map_err(|e| fail(e.to_string()))?;
    let head = Head {
        format: FORMAT,
        repo: repo.to_string(),
        build: BUILD.to_string(),
        key: key.to_string(),
        ref_files,
        walk: kept.walk,
        found,
        rest_blobs: others.len() as u64,
        rest_len: rest.len() as u64,
        rest_crc: crc32fast::hash(&rest),
    };
    let mut bytes = serde_json::to_vec(&head).map_err(|e| fail(e.to_string()))?;
    bytes.push(b'\n');
    bytes.extend_from_slice(&rest);
    std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    crate::atomic_file::replace(&path, &bytes, crate::atomic_file::Durability::Unsynced)
        .map_err(|e| fail(e.to_string()))
}

/// `sha256:` over the files git keeps a repository's refs in (`HEAD`, `packed-refs`,
/// everything under `refs/` and `reftable/`, the stash reflog, `shallow`), read as bytes
/// without opening the repository: a cheap sign that the refs did not move. Only a hint
/// for which part of a cache file to read; the history read checks the refs themselves
/// before replaying. `None` for a git directory that is not a plain directory.
pub fn ref_files_digest(git_dir: &Path) -> Option<String> {
    use sha2::{Digest, Sha256};
    if !git_dir.is_dir() || git_dir.join("commondir").exists() {
        return None;
    }
    let mut h = Sha256::new();
    let mut add = |name: &str, path: &Path| {
        h.update(name.as_bytes());
        match std::fs::read(path) {
            Ok(bytes) => {
                h.update(format!(" {}\n", bytes.len()).as_bytes());
                h.update(&bytes);
            }
            Err(_) => h.update(b" -\n"),
        }
    };
    for name in ["HEAD", "packed-refs", "logs/refs/stash", "shallow"] {
        add(name, &git_dir.join(name));
    }
    for top in ["refs", "reftable"] {
        let mut files = Vec::new();
        super::for_each_file_under(&git_dir.join(top), |e, _| {
            files.push(e.path());
            std::ops::ControlFlow::Continue(())
        });
        files.sort();
        for f in files {
            let name = f
                .strip_prefix(git_dir)
                .unwrap_or(&f)
                .to_string_lossy()
                .into_owned();
            add(&name, &f);
        }
    }
    Some(format!("sha256:{}", crate::fingerprint::hex(&h.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Code, Diagnostic};

    /// One blob that yields nothing, and (with `found`) one that yields a warning.
    fn blobs(found: bool) -> BTreeMap<String, BlobResult> {
        let r = |path: &str, warnings| BlobResult {
            path: path.into(),
            loose: false,
            candidates: Vec::new(),
            warnings,
        };
        let mut out = BTreeMap::from([("ab".repeat(20), r("a.env", Vec::new()))]);
        if found {
            let w = Diagnostic::new(Code::CacheDiscarded, "r", "a warning");
            out.insert("cd".repeat(20), r("b.yaml", vec![w]));
        }
        out
    }

    fn kept(walk: bool) -> MemoKept {
        MemoKept {
            blobs: blobs(true),
            walk: walk.then(|| Walk {
                refs: "sha256:refs".into(),
                counts: Default::default(),
                shallow: false,
                warnings: Vec::new(),
                blobs: Vec::new(),
            }),
        }
    }

    fn load_blobs(dir: &Path, repo: &str, k: &str) -> BTreeMap<String, BlobResult> {
        load(dir, repo, k, None).expect("load").kept.blobs
    }

    #[test]
    fn round_trips_and_distrusts_what_does_not_match() {
        let dir = tempfile::tempdir().expect("tmp");
        let k = key(&[("rules", "sha256:1".into())]);
        store(dir.path(), "/r", &k, Some("h".into()), kept(false)).expect("store");
        assert_eq!(load_blobs(dir.path(), "/r", &k), blobs(true));
        // Other settings: nothing to reuse, and no complaint.
        let other = key(&[("rules", "sha256:2".into())]);
        assert!(load_blobs(dir.path(), "/r", &other).is_empty());
        // No file yet.
        assert!(load_blobs(dir.path(), "/s", &k).is_empty());
        let path = file_of(dir.path(), "/r");
        let whole = std::fs::read(&path).expect("read");
        std::fs::write(&path, &whole[..40]).expect("tear the head");
        assert!(matches!(
            load(dir.path(), "/r", &k, None),
            Err(CacheError::Corrupt { .. })
        ));
        std::fs::write(&path, &whole[..whole.len() - 3]).expect("tear line two");
        assert!(matches!(
            load(dir.path(), "/r", &k, None),
            Err(CacheError::Corrupt { .. })
        ));
        std::fs::write(&path, b"{\"format\": 99, \"blobs\": 3}").expect("write");
        assert!(matches!(
            load(dir.path(), "/r", &k, None),
            Err(CacheError::WrongFormat { found: 99, .. })
        ));
        // A file of the format before this one is another build's: void, not corrupt.
        std::fs::write(&path, b"{\"format\": 1, \"blobs\": {}}").expect("write");
        assert!(load_blobs(dir.path(), "/r", &k).is_empty());
    }

    #[test]
    fn line_two_is_read_only_when_the_ref_files_moved_but_always_checked() {
        let dir = tempfile::tempdir().expect("tmp");
        let k = key(&[]);
        store(dir.path(), "/r", &k, Some("h".into()), kept(true)).expect("store");
        let held = load(dir.path(), "/r", &k, Some("h")).expect("load");
        assert!(held.ref_files_held && held.kept.walk.is_some());
        assert_eq!(held.held, 2);
        let found: Vec<&String> = held.kept.blobs.keys().collect();
        assert_eq!(
            found,
            [&"cd".repeat(20)],
            "only the blobs a replay hands over"
        );
        for moved in [Some("g"), None] {
            let all = load(dir.path(), "/r", &k, moved).expect("load");
            assert!(!all.ref_files_held);
            assert_eq!(all.kept.blobs, blobs(true));
        }
        // Line two altered: refused even when it would not be parsed.
        let path = file_of(dir.path(), "/r");
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, text.replace("a.env", "b.env")).expect("alter");
        assert!(matches!(
            load(dir.path(), "/r", &k, Some("h")),
            Err(CacheError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_file_of_another_build_is_void() {
        let dir = tempfile::tempdir().expect("tmp");
        let k = key(&[("rules", "sha256:1".into())]);
        store(dir.path(), "/r", &k, None, kept(false)).expect("store");
        let path = file_of(dir.path(), "/r");
        let text = std::fs::read_to_string(&path).expect("read");
        let ours = format!("\"build\":\"{BUILD}\"");
        assert!(text.contains(&ours), "{text}");
        std::fs::write(&path, text.replace(&ours, "\"build\":\"0123\"")).expect("write");
        assert!(load_blobs(dir.path(), "/r", &k).is_empty());
    }

    #[test]
    fn ref_files_digest_follows_every_ref_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let git = dir.path();
        std::fs::create_dir_all(git.join("refs/heads")).expect("mkdir");
        std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").expect("write");
        std::fs::write(git.join("refs/heads/main"), "1".repeat(40)).expect("write");
        let before = ref_files_digest(git).expect("digest");
        assert_eq!(ref_files_digest(git).as_ref(), Some(&before));
        std::fs::write(git.join("refs/heads/b"), "2".repeat(40)).expect("write");
        let branched = ref_files_digest(git).expect("digest");
        assert_ne!(branched, before);
        std::fs::write(git.join("packed-refs"), "x\n").expect("write");
        assert_ne!(ref_files_digest(git).expect("digest"), branched);
        std::fs::write(git.join("commondir"), "..").expect("write");
        assert_eq!(ref_files_digest(git), None, "a linked worktree's git dir");
    }

    #[test]
    fn prune_removes_only_cache_files_of_repositories_gone() {
        let dir = tempfile::tempdir().expect("tmp");
        let k = key(&[]);
        for repo in ["/a", "/b", "/c"] {
            store(dir.path(), repo, &k, None, kept(false)).expect("store");
        }
        std::fs::write(dir.path().join("notes.json"), "{}").expect("write");
        std::fs::write(dir.path().join("0123456789abcdef.txt"), "").expect("write");
        std::fs::write(dir.path().join("+123456789abcdef.json"), "").expect("write");
        assert_eq!(
            prune(dir.path(), ["/a", "/c", "/new"], None).expect("prune"),
            1
        );
        assert!(!file_of(dir.path(), "/b").exists());
        for kept in [file_of(dir.path(), "/a"), file_of(dir.path(), "/c")] {
            assert!(kept.exists());
        }
        for other in [
            "notes.json",
            "0123456789abcdef.txt",
            "+123456789abcdef.json",
        ] {
            assert!(dir.path().join(other).exists());
        }
        assert_eq!(
            prune(&dir.path().join("none"), ["/a"], None).expect("absent"),
            0
        );
    }

    #[test]
    fn a_sharded_prune_removes_only_files_of_its_shard() {
        let dir = tempfile::tempdir().expect("tmp");
        let k = key(&[]);
        let repos: Vec<String> = (0..12).map(|i| format!("/srv/r{i}")).collect();
        for r in &repos {
            store(dir.path(), r, &k, None, kept(false)).expect("store");
        }
        // Shard 2 of 3 sees none of its repositories any more: only its files go.
        let removed = prune(dir.path(), std::iter::empty(), Some((2, 3))).expect("prune");
        let in_shard = repos.iter().filter(|r| super::super::shard_of(r, 3) == 1);
        assert_eq!(removed, in_shard.count() as u64);
        assert!(removed > 0);
        for r in &repos {
            assert_eq!(
                file_of(dir.path(), r).exists(),
                super::super::shard_of(r, 3) != 1
            );
        }
    }
}
