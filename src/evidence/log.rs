//! The hash-chained log: one JSON object a line, `{"seq":N,"prev":"sha256:…",<body>,"digest":"sha256:…"}`.
//!
//! `prev` is the SHA-256 of the previous line's exact bytes (without its
//! newline; 64 zeros for the first record) and `digest` that of the line's own
//! bytes up to the digest, closed with `}`. Verification reads the exact bytes
//! and never re-serialises, so any changed byte is caught. Appends take the
//! log's lock, verify what is there, and replace the whole file atomically.

use super::EvidenceError;
use crate::atomic_file::{self, Durability, Lock};
use crate::fingerprint::hex;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::Path;

/// `prev` of the first record, and the head of an empty log: an anchor taken before the first record.
pub const ZERO_DIGEST: &str =
    "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// Keys the log writes itself; a body may not set them.
const CHAIN_KEYS: [&str; 3] = ["seq", "prev", "digest"];

/// Where a new record landed: its `seq` and `digest` (the log's new head).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub seq: u64,
    pub digest: String,
}

/// An intact chain: how many records, the head digest, and every digest for anchors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub records: u64,
    /// Digest of the last record ([`ZERO_DIGEST`] for an empty log).
    pub head: String,
    digests: Vec<String>,
}

impl Verified {
    /// How many records follow `anchor`, a head digest kept outside the log (0: it is still
    /// the head). `None` when no record has that digest: records were cut from the end, or
    /// this is another log. Tail truncation is invisible to the chain alone; this sees it.
    pub fn records_after(&self, anchor: &str) -> Option<u64> {
        if anchor == ZERO_DIGEST {
            return Some(self.records);
        }
        let at = self.digests.iter().rposition(|d| d == anchor)?;
        Some(self.records - at as u64 - 1)
    }

    /// `FILE: N records, chain intact, head sha256:…`, as `audit verify` and `audit show` say it.
    pub fn summary(&self, path: &Path) -> String {
        format!(
            "{}: {}, chain intact, head {}",
            path.display(),
            record_count(self.records),
            self.head
        )
    }
}

/// "1 record", "3 records".
pub fn record_count(n: u64) -> String {
    format!("{n} record{}", if n == 1 { "" } else { "s" })
}

/// A verified log's records, in order, each with its `seq`, `prev` and `digest`.
#[derive(Debug, Clone)]
pub struct Log {
    pub verified: Verified,
    pub records: Vec<Map<String, Value>>,
}

/// Appends one record with `body` (whose keys follow `seq` and `prev`, in the map's
/// order), creating the log if missing. Refuses a log whose chain is broken, naming the
/// first bad record, and leaves it unchanged. Serialised by `FILE.lock`, so concurrent
/// appenders all land; a crash at any point leaves the previous log whole.
pub fn append(path: &Path, body: &Map<String, Value>) -> Result<Appended, EvidenceError> {
    if let Some(key) = CHAIN_KEYS.iter().find(|k| body.contains_key(**k)) {
        return Err(EvidenceError::ReservedKey {
            path: path.to_path_buf(),
            key: (*key).to_string(),
        });
    }
    let dir = atomic_file::parent_dir(path);
    if !dir.is_dir() {
        return Err(EvidenceError::NoDirectory {
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
        });
    }
    let _lock = Lock::acquire(path).map_err(|(lock, source)| EvidenceError::Lock {
        path: path.to_path_buf(),
        lock,
        source,
    })?;
    // Under the lock no live writer owns a temp file: any left is a crashed writer's.
    atomic_file::remove_stray_temps(path);
    let mut bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            return Err(EvidenceError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let chain = walk(path, &bytes)?;
    let seq = chain.log.verified.records + 1;
    let (line, digest) = encode(seq, &chain.next_prev, body);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    atomic_file::replace(path, &bytes, Durability::Synced).map_err(|source| {
        EvidenceError::Write {
            path: path.to_path_buf(),
            source,
        }
    })?;
    Ok(Appended { seq, digest })
}

/// Checks the whole chain on the file's exact bytes; an empty file is an empty log.
pub fn verify(path: &Path) -> Result<Verified, EvidenceError> {
    read(path).map(|log| log.verified)
}

/// The records of a log whose chain is intact; a broken chain is an error naming its first bad record.
pub fn read(path: &Path) -> Result<Log, EvidenceError> {
    let bytes = std::fs::read(path).map_err(|source| EvidenceError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    walk(path, &bytes).map(|chain| chain.log)
}

/// A verified log and the `prev` its next record must carry.
struct Chain {
    log: Log,
    next_prev: String,
}

fn walk(path: &Path, bytes: &[u8]) -> Result<Chain, EvidenceError> {
    let mut records = Vec::new();
    let mut digests = Vec::new();
    let mut prev = ZERO_DIGEST.to_string();
    let mut rest = bytes;
    while !rest.is_empty() {
        let seq = records.len() as u64 + 1;
        let broken = |reason: String| EvidenceError::Broken {
            path: path.to_path_buf(),
            record: seq,
            reason,
        };
        let Some(end) = memchr::memchr(b'\n', rest) else {
            return Err(broken(
                "truncated: the last line has no newline (the file was cut mid-record)".into(),
            ));
        };
        let line = &rest[..end];
        rest = &rest[end + 1..];
        let (record, digest) = check_line(line, seq, &prev).map_err(broken)?;
        prev = line_hash(line);
        records.push(record);
        digests.push(digest);
    }
    let verified = Verified {
        records: records.len() as u64,
        head: digests
            .last()
            .cloned()
            .unwrap_or_else(|| ZERO_DIGEST.into()),
        digests,
    };
    Ok(Chain {
        log: Log { verified, records },
        next_prev: prev,
    })
}

/// Checks one line as record `seq` after a line hashing to `prev`; returns the record and its
/// digest, or why it is bad. Its own bytes are checked before its place in the chain, so an
/// edit is named as an edit and a move as a move.
fn check_line(line: &[u8], seq: u64, prev: &str) -> Result<(Map<String, Value>, String), String> {
    if line.is_empty() {
        return Err("empty line where a record should be".into());
    }
    let Ordered(entries) =
        serde_json::from_slice(line).map_err(|e| format!("not a JSON object ({e})"))?;
    let digest = signature(line, &entries)?;
    match entries[0].1.as_u64() {
        Some(n) if n == seq => {}
        Some(n) => {
            return Err(format!(
                "seq is {n} where {seq} was expected: a record was removed, inserted or moved"
            ))
        }
        None => return Err("seq is not a non-negative integer".into()),
    }
    if entries[1].1.as_str() != Some(prev) {
        return Err(if seq == 1 {
            "prev is not the zero digest that starts a log: records before it were removed".into()
        } else {
            format!(
                "prev does not match record {}: a record before it was changed, removed or moved",
                seq - 1
            )
        });
    }
    Ok((entries.into_iter().collect(), digest))
}

/// Checks that `entries` (the parsed `line`) open with `seq`, `prev` and end with a `digest`
/// written as the log writes it, each key once, and that the digest matches the line's bytes.
fn signature(line: &[u8], entries: &[(String, Value)]) -> Result<String, String> {
    let key = |i: usize| entries.get(i).map(|(k, _)| k.as_str());
    if key(0) != Some("seq") {
        return Err("\"seq\" is missing or not the first key".into());
    }
    if key(1) != Some("prev") {
        return Err("\"prev\" is missing or not the second key".into());
    }
    if entries.len() < 3 || key(entries.len() - 1) != Some("digest") {
        return Err("\"digest\" is missing or not the last key".into());
    }
    let mut seen = HashSet::new();
    if let Some((k, _)) = entries.iter().find(|(k, _)| !seen.insert(k.as_str())) {
        return Err(format!("key \"{k}\" appears twice"));
    }
    let digest = match &entries[entries.len() - 1].1 {
        Value::String(d) if is_digest(d) => d,
        _ => return Err("digest is not \"sha256:\" and 64 lowercase hex digits".into()),
    };
    let Some(unsigned) = line.strip_suffix(format!(",\"digest\":\"{digest}\"}}").as_bytes()) else {
        return Err("digest is not written as the log writes it, at the end of the line".into());
    };
    if digest_of(unsigned) != *digest {
        return Err("digest does not match the record's bytes: the record was edited".into());
    }
    Ok(digest.clone())
}

/// The record line for `body` as record `seq` after `prev`, and its digest.
fn encode(seq: u64, prev: &str, body: &Map<String, Value>) -> (String, String) {
    let mut line = format!("{{\"seq\":{seq},\"prev\":\"{prev}\"");
    for (key, value) in body {
        line.push(',');
        line.push_str(&Value::String(key.clone()).to_string());
        line.push(':');
        line.push_str(&value.to_string());
    }
    let digest = digest_of(line.as_bytes());
    line.push_str(&format!(",\"digest\":\"{digest}\"}}"));
    (line, digest)
}

/// Digest of a record whose line, up to its digest, is `unsigned` (then closed with `}`).
fn digest_of(unsigned: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(unsigned);
    hasher.update(b"}");
    format!("sha256:{}", hex(&hasher.finalize()))
}

/// `prev` of the record after `line`.
fn line_hash(line: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(line)))
}

fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// A JSON object's entries in file order, duplicates kept (`serde_json::Map` sorts and merges).
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    fn reason(line: &str, seq: u64, prev: &str) -> String {
        check_line(line.as_bytes(), seq, prev).expect_err("bad line")
    }

    #[test]
    fn a_line_splits_into_its_signed_bytes_and_digest() {
        let (line, digest) = encode(1, ZERO_DIGEST, &body(json!({"kind": "note", "n": 2})));
        let unsigned = format!("{{\"seq\":1,\"prev\":\"{ZERO_DIGEST}\",\"kind\":\"note\",\"n\":2");
        assert_eq!(line, format!("{unsigned},\"digest\":\"{digest}\"}}"));
        let hash = Sha256::digest(format!("{unsigned}}}").as_bytes());
        assert_eq!(digest, format!("sha256:{}", hex(&hash)));
        let (record, checked) = check_line(line.as_bytes(), 1, ZERO_DIGEST).expect("valid");
        assert_eq!(checked, digest);
        assert_eq!(record["kind"], "note");
        assert_eq!(record["digest"], digest.as_str());
    }

    #[test]
    fn an_empty_body_is_a_record() {
        let (line, digest) = encode(1, ZERO_DIGEST, &Map::new());
        assert_eq!(
            line,
            format!("{{\"seq\":1,\"prev\":\"{ZERO_DIGEST}\",\"digest\":\"{digest}\"}}")
        );
        assert!(check_line(line.as_bytes(), 1, ZERO_DIGEST).is_ok());
    }

    #[test]
    fn a_digest_lookalike_inside_the_body_is_not_the_digest() {
        let (good, _) = encode(1, ZERO_DIGEST, &Map::new());
        let fake = format!(",\"digest\":\"{ZERO_DIGEST}\"}}");
        let (line, _) = encode(1, ZERO_DIGEST, &body(json!({ "note": fake })));
        assert!(check_line(line.as_bytes(), 1, ZERO_DIGEST).is_ok());
        // A body key named like the digest, moved last, is a duplicate, never a second signature.
        let twice = good.replacen(
            "\"prev\"",
            &format!("\"digest\":\"{ZERO_DIGEST}\",\"prev\""),
            1,
        );
        assert!(reason(&twice, 1, ZERO_DIGEST).contains("not the second key"));
        let dup = good.replacen(",\"digest\"", ",\"seq\":1,\"digest\"", 1);
        assert!(reason(&dup, 1, ZERO_DIGEST).contains("\"seq\" appears twice"));
    }

    #[test]
    fn each_bad_line_is_named() {
        let (line, _) = encode(2, ZERO_DIGEST, &body(json!({"kind": "note"})));
        assert!(reason(&line.replace("note", "nose"), 2, ZERO_DIGEST).contains("edited"));
        assert!(reason(&line, 3, ZERO_DIGEST).contains("seq is 2 where 3"));
        assert!(reason(&line, 2, &line_hash(b"x")).contains("prev does not match record 1"));
        assert!(reason("[1]", 1, ZERO_DIGEST).contains("not a JSON object"));
        assert!(reason("{\"seq\":1", 1, ZERO_DIGEST).contains("not a JSON object"));
        assert!(reason("", 1, ZERO_DIGEST).contains("empty line"));
        let spaced = line.replace(",\"digest\":", ", \"digest\": ");
        assert!(reason(&spaced, 2, ZERO_DIGEST).contains("as the log writes it"));
        let no_digest = line[..line.find(",\"digest\"").expect("digest")].to_string() + "}";
        assert!(reason(&no_digest, 2, ZERO_DIGEST).contains("\"digest\" is missing"));
        let upper = line.replace("sha256:", "SHA256:");
        assert!(reason(&upper, 2, ZERO_DIGEST).contains("64 lowercase hex"));
    }

    #[test]
    fn appends_chain_and_anchors_count_what_follows() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("log.jsonl");
        let a = append(&path, &body(json!({"n": 1}))).expect("append");
        let b = append(&path, &body(json!({"n": 2}))).expect("append");
        assert_eq!((a.seq, b.seq), (1, 2));
        let v = verify(&path).expect("intact");
        assert_eq!((v.records, v.head.as_str()), (2, b.digest.as_str()));
        assert_eq!(v.records_after(&a.digest), Some(1));
        assert_eq!(v.records_after(&b.digest), Some(0));
        assert_eq!(v.records_after(ZERO_DIGEST), Some(2));
        assert_eq!(v.records_after(&line_hash(b"other")), None);
        let text = std::fs::read_to_string(&path).expect("read");
        let first = text.lines().next().expect("line");
        let second: Value = serde_json::from_str(text.lines().nth(1).expect("line")).expect("json");
        assert_eq!(second["prev"], line_hash(first.as_bytes()).as_str());
    }

    #[test]
    fn chain_keys_in_a_body_and_missing_directories_are_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("log.jsonl");
        for key in CHAIN_KEYS {
            let err = append(&path, &body(json!({ key: 1 }))).expect_err("reserved");
            assert!(matches!(err, EvidenceError::ReservedKey { .. }), "{err}");
        }
        let err = append(&dir.path().join("no/log.jsonl"), &Map::new()).expect_err("no dir");
        assert!(matches!(err, EvidenceError::NoDirectory { .. }), "{err}");
        assert!(!path.exists());
    }

    #[test]
    fn an_empty_file_is_an_empty_log_and_a_cut_line_is_truncation() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("log.jsonl");
        std::fs::write(&path, b"").expect("write");
        let v = verify(&path).expect("empty log");
        assert_eq!((v.records, v.head.as_str()), (0, ZERO_DIGEST));
        let (line, _) = encode(1, ZERO_DIGEST, &Map::new());
        std::fs::write(&path, line.as_bytes()).expect("write");
        match verify(&path) {
            Err(EvidenceError::Broken { record, reason, .. }) => {
                assert_eq!(record, 1);
                assert!(reason.contains("truncated"), "{reason}");
            }
            other => panic!("expected a broken chain, got {other:?}"),
        }
    }
}
