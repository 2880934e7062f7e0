//! The sweep cache (`sweep --cache DIR`): one file per repository recording which history
//! blobs were scanned under which settings, and what each yielded (fingerprints and
//! redactions only, never plaintext), so a re-sweep reads only new blobs; and the last whole
//! history walk (refs digest, counts, the origins of the blobs that yield something), so a
//! re-sweep of a repository whose refs did not move reads no history at all.
//!
//! A file is two JSON lines: the head (settings, the walk, the results of the blobs that
//! yield something, and the length and CRC-32 of line two) and the blobs that yield nothing.
//! A replay needs only the head, so line two is parsed only when the history read asks for
//! a blob it may hold ([`Rest`]); it is always checked against its length and CRC first, so a
//! torn or altered file is never trusted, whatever is read.
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
    /// The walk, and the results of the blobs that yield something (all a replay needs).
    pub kept: MemoKept,
    /// The results of the blobs that yield nothing, not parsed yet.
    pub rest: Rest,
    /// The size of the file these came from (0 when none is reused).
    pub bytes: u64,
}

/// Line two of a cache file, checked against its recorded length and CRC but not parsed:
/// only a history read that is not replayed needs it.
pub struct Rest {
    bytes: Vec<u8>,
    /// How many blob results it holds.
    pub blobs: u64,
    /// The cache file, for the error of a line that does not parse.
    file: String,
}

impl Rest {
    /// The blob results of the line; an error names the file as corrupt.
    pub fn parse(self) -> Result<BTreeMap<String, BlobResult>, CacheError> {
        if self.blobs == 0 && self.bytes.is_empty() {
            return Ok(BTreeMap::new());
        }
        serde_json::from_slice(&self.bytes).map_err(|e| CacheError::Corrupt {
            path: self.file,
            message: e.to_string(),
        })
    }
}

/// The blob results and walk cached for `repo` under `key`: empty when there is no file or
/// it was written by another build or under other settings (the repository is then scanned
/// in full, as it must be). Line two is checked here and parsed only when asked ([`Rest`]).
pub fn load(dir: &Path, repo: &str, key: &str) -> Result<Loaded, CacheError> {
    let path = file_of(dir, repo);
    let shown = path.display().to_string();
    let none = || Loaded {
        kept: MemoKept {
            blobs: BTreeMap::new(),
            walk: None,
        },
        rest: Rest {
            bytes: Vec::new(),
            blobs: 0,
            file: shown.clone(),
        },
        bytes: 0,
    };
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
    // Line one is read as this build's head; only a line that is not one is read again for
    // its format and build alone, which tell another build's file (void) from a corrupt one.
    let head = match serde_json::from_slice::<Head>(line) {
        Ok(head) if head.format == FORMAT && head.build == BUILD => head,
        not_ours => {
            let header: Header =
                serde_json::from_slice(line).map_err(|e| corrupt(e.to_string()))?;
            if header.format < FORMAT || (header.format == FORMAT && header.build != BUILD) {
                return Ok(none());
            }
            if header.format != FORMAT {
                return Err(CacheError::WrongFormat {
                    path: shown,
                    found: header.format,
                });
            }
            return Err(corrupt(
                not_ours.err().map(|e| e.to_string()).unwrap_or_default(),
            ));
        }
    };
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
    Ok(Loaded {
        kept: MemoKept {
            blobs: head.found,
            walk: head.walk,
        },
        rest: Rest {
            bytes: rest.to_vec(),
            blobs: head.rest_blobs,
            file: shown,
        },
        bytes: bytes.len() as u64,
    })
}

/// Replaces the cache file of `repo` with `kept`, by rename. Not synced: a file a power cut
/// leaves torn fails its checks and is discarded, never trusted.
pub fn store(dir: &Path, repo: &str, key: &str, kept: MemoKept) -> Result<(), CacheError> {
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
                files: None,
                scope: None,
                counts: Default::default(),
                shallow: false,
                warnings: Vec::new(),
                blobs: Vec::new(),
            }),
        }
    }

    /// Every blob result the file holds, line two included.
    fn load_blobs(dir: &Path, repo: &str, k: &str) -> BTreeMap<String, BlobResult> {
        let loaded = load(dir, repo, k).expect("load");
        let mut blobs = loaded.kept.blobs;
        blobs.extend(loaded.rest.parse().expect("line two"));
        blobs
    }

    #[test]
    fn round_trips_and_distrusts_what_does_not_match() {
        let dir = tempfile::tempdir().expect("tmp");
        let k = key(&[("rules", "sha256:1".into())]);
        store(dir.path(), "/r", &k, kept(false)).expect("store");
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
            load(dir.path(), "/r", &k),
            Err(CacheError::Corrupt { .. })
        ));
        std::fs::write(&path, &whole[..whole.len() - 3]).expect("tear line two");
        assert!(matches!(
            load(dir.path(), "/r", &k),
            Err(CacheError::Corrupt { .. })
        ));
        // This format and build, but not a head: corrupt, not void.
        std::fs::write(
            &path,
            format!("{{\"format\": {FORMAT}, \"build\": \"{BUILD}\"}}"),
        )
        .expect("write");
        assert!(matches!(
            load(dir.path(), "/r", &k),
            Err(CacheError::Corrupt { .. })
        ));
        std::fs::write(&path, b"{\"format\": 99, \"blobs\": 3}").expect("write");
        assert!(matches!(
            load(dir.path(), "/r", &k),
            Err(CacheError::WrongFormat { found: 99, .. })
        ));
        // A file of the format before this one is another build's: void, not corrupt.
        std::fs::write(&path, b"{\"format\": 1, \"blobs\": {}}").expect("write");
        assert!(load_blobs(dir.path(), "/r", &k).is_empty());
    }

    #[test]
    fn line_two_is_parsed_only_when_asked_but_always_checked() {
        let dir = tempfile::tempdir().expect("tmp");
        let k = key(&[]);
        store(dir.path(), "/r", &k, kept(true)).expect("store");
        let held = load(dir.path(), "/r", &k).expect("load");
        assert!(held.kept.walk.is_some());
        let found: Vec<&String> = held.kept.blobs.keys().collect();
        assert_eq!(
            found,
            [&"cd".repeat(20)],
            "the head holds only the blobs a replay hands over"
        );
        assert_eq!(held.rest.blobs, 1);
        let rest: Vec<String> = held.rest.parse().expect("parse").into_keys().collect();
        assert_eq!(rest, ["ab".repeat(20)]);
        // Line two altered: refused at load, before anything asks for it.
        let path = file_of(dir.path(), "/r");
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, text.replace("a.env", "b.env")).expect("alter");
        assert!(matches!(
            load(dir.path(), "/r", &k),
            Err(CacheError::Corrupt { .. })
        ));
        // A line two whose length and CRC hold but which does not parse: corrupt when asked.
        let (head, _) = text.split_once('\n').expect("two lines");
        let mut head: serde_json::Value = serde_json::from_str(head).expect("head");
        let junk = b"{not json";
        head["rest_len"] = junk.len().into();
        head["rest_crc"] = crc32fast::hash(junk).into();
        std::fs::write(&path, format!("{head}\n{}", "{not json")).expect("write");
        let loaded = load(dir.path(), "/r", &k).expect("the head is sound");
        assert!(matches!(
            loaded.rest.parse(),
            Err(CacheError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_file_of_another_build_is_void() {
        let dir = tempfile::tempdir().expect("tmp");
        let k = key(&[("rules", "sha256:1".into())]);
        store(dir.path(), "/r", &k, kept(false)).expect("store");
        let path = file_of(dir.path(), "/r");
        let text = std::fs::read_to_string(&path).expect("read");
        let ours = format!("\"build\":\"{BUILD}\"");
        assert!(text.contains(&ours), "{text}");
        std::fs::write(&path, text.replace(&ours, "\"build\":\"0123\"")).expect("write");
        assert!(load_blobs(dir.path(), "/r", &k).is_empty());
    }

    #[test]
    fn prune_removes_only_cache_files_of_repositories_gone() {
        let dir = tempfile::tempdir().expect("tmp");
        let k = key(&[]);
        for repo in ["/a", "/b", "/c"] {
            store(dir.path(), repo, &k, kept(false)).expect("store");
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
            store(dir.path(), r, &k, kept(false)).expect("store");
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
