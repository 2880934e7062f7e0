//! Per-repository results on disk: a sweep (or a merge reading shard reports) appends each
//! result as one JSON line, and the report is written from the file in path order, holding
//! only the estate views and an index of (path, offset), never every repository's findings.

use super::model::{RepoResult, Views};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::Error as _;
use serde::{Serialize, Serializer};
use std::cell::RefCell;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// What went wrong with a spool or a report read into one.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path}: not a sweep report: {message}")]
    NotAReport { path: String, message: String },
}

/// Results written to a file as they come, with where each one starts.
pub struct Spool {
    path: PathBuf,
    out: BufWriter<File>,
    at: u64,
    index: Vec<(String, u64)>,
}

impl Spool {
    /// A new spool file at `path` (replacing any left by a run that died).
    pub fn create(path: &Path) -> Result<Spool, SpoolError> {
        let file = File::create(path).map_err(|e| io(path, &e))?;
        Ok(Spool {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
            at: 0,
            index: Vec::new(),
        })
    }

    /// Appends one repository's result.
    pub fn push(&mut self, r: &RepoResult) -> Result<(), SpoolError> {
        let mut line = serde_json::to_vec(r).map_err(|e| self.err(&e))?;
        line.push(b'\n');
        self.out.write_all(&line).map_err(|e| self.err(&e))?;
        self.index.push((r.path.clone(), self.at));
        self.at += line.len() as u64;
        Ok(())
    }

    /// Appends the `repositories` of the sweep report at `report`, read one at a time.
    pub fn push_report(&mut self, report: &Path) -> Result<(), SpoolError> {
        let file = File::open(report).map_err(|e| io(report, &e))?;
        let mut de = serde_json::Deserializer::from_reader(BufReader::new(file));
        let kind = PartSeed { spool: self }
            .deserialize(&mut de)
            .and_then(|kind| de.end().map(|()| kind))
            .map_err(|e| SpoolError::NotAReport {
                path: report.display().to_string(),
                message: e.to_string(),
            })?;
        match kind.as_deref() {
            Some("keytrace-sweep") => Ok(()),
            other => Err(SpoolError::NotAReport {
                path: report.display().to_string(),
                message: format!("report = {}", other.unwrap_or("(none)")),
            }),
        }
    }

    /// Writes the estate report of every result pushed to `report`, atomically (see
    /// [`Spool::write_to`]), and removes the spool.
    pub fn write_report(self, report: &Path) -> Result<(), SpoolError> {
        let spool = self.path.clone();
        let written =
            crate::atomic_file::replace_with(report, crate::atomic_file::Durability::Synced, |f| {
                self.write_to(f).map_err(std::io::Error::other)
            });
        let _ = std::fs::remove_file(&spool);
        written.map_err(|e| io(report, &e))
    }

    /// Writes the estate report of every result pushed (sorted by path; of two results
    /// for one path the first pushed wins) to `out`, as `serde_json` pretty-prints it.
    fn write_to(mut self, out: impl Write) -> Result<(), SpoolError> {
        self.out.flush().map_err(|e| self.err(&e))?;
        let mut index = std::mem::take(&mut self.index);
        index.sort_by(|a, b| a.0.cmp(&b.0));
        index.dedup_by(|a, b| a.0 == b.0);
        let mut reader = Reader::open(&self.path)?;
        let mut views = Views::default();
        for (_, offset) in &index {
            views.add(&reader.at(*offset)?);
        }
        let entries = Entries {
            reader: RefCell::new(reader),
            index: &index,
        };
        let report = views.finish(&entries);
        let mut out = BufWriter::new(out);
        serde_json::to_writer_pretty(&mut out, &report).map_err(|e| self.err(&e))?;
        out.write_all(b"\n").map_err(|e| self.err(&e))?;
        out.flush().map_err(|e| self.err(&e))
    }

    fn err(&self, e: &dyn std::fmt::Display) -> SpoolError {
        SpoolError::Io {
            path: self.path.display().to_string(),
            message: e.to_string(),
        }
    }
}

fn io(path: &Path, e: &std::io::Error) -> SpoolError {
    SpoolError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Reads one result line at an offset.
struct Reader {
    path: PathBuf,
    file: BufReader<File>,
    line: Vec<u8>,
}

impl Reader {
    fn open(path: &Path) -> Result<Reader, SpoolError> {
        let file = File::open(path).map_err(|e| io(path, &e))?;
        Ok(Reader {
            path: path.to_path_buf(),
            file: BufReader::new(file),
            line: Vec::new(),
        })
    }

    fn at(&mut self, offset: u64) -> Result<RepoResult, SpoolError> {
        let fail = |m: String| SpoolError::Io {
            path: format!("{}@{offset}", self.path.display()),
            message: m,
        };
        self.file
            .seek(SeekFrom::Start(offset))
            .map_err(|e| fail(e.to_string()))?;
        self.line.clear();
        self.file
            .read_until(b'\n', &mut self.line)
            .map_err(|e| fail(e.to_string()))?;
        serde_json::from_slice(&self.line).map_err(|e| fail(e.to_string()))
    }
}

/// The report's `repositories`, read back from the spool while they are written.
struct Entries<'a> {
    reader: RefCell<Reader>,
    index: &'a [(String, u64)],
}

impl Serialize for &Entries<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.index.len()))?;
        let mut reader = self.reader.borrow_mut();
        for (_, offset) in self.index {
            let r = reader.at(*offset).map_err(S::Error::custom)?;
            seq.serialize_element(&r)?;
        }
        seq.end()
    }
}

/// A sweep report read as a stream: its `report` kind kept, each repository entry pushed
/// to the spool as it is parsed, everything else skipped (the views are rebuilt).
struct PartSeed<'s> {
    spool: &'s mut Spool,
}

impl<'de> DeserializeSeed<'de> for PartSeed<'_> {
    type Value = Option<String>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PartSeed<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a sweep report object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kind = None;
        let mut entries = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "report" => kind = Some(map.next_value::<String>()?),
                "repositories" => {
                    map.next_value_seed(EntriesSeed {
                        spool: &mut *self.spool,
                    })?;
                    entries = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !entries {
            return Err(de::Error::missing_field("repositories"));
        }
        Ok(kind)
    }
}

struct EntriesSeed<'s> {
    spool: &'s mut Spool,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of repository entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(r) = seq.next_element::<RepoResult>()? {
            self.spool.push(&r).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::build_report;

    fn result(path: &str, fingerprint: &str, files: u64) -> RepoResult {
        let mut r = RepoResult::with_unmanaged(path, "github-pat", fingerprint);
        r.files_scanned = files;
        r
    }

    #[test]
    fn streamed_report_has_the_bytes_of_the_held_one() {
        let dir = tempfile::tempdir().expect("tmp");
        // Out of order, one value in two repositories, and a path given twice.
        let results = vec![
            result("/b", "sha256:2", 1),
            result("/a", "sha256:1", 2),
            result("/c", "sha256:2", 3),
            result("/a", "sha256:9", 4),
        ];
        let mut spool = Spool::create(&dir.path().join("s.jsonl")).expect("spool");
        for r in &results {
            spool.push(r).expect("push");
        }
        let out = dir.path().join("report.json");
        spool.write_report(&out).expect("write");
        let mut held = serde_json::to_vec_pretty(&build_report(results)).expect("json");
        held.push(b'\n');
        assert_eq!(std::fs::read(&out).expect("read"), held);
        assert!(!dir.path().join("s.jsonl").exists(), "spool removed");

        // Read back as a shard report, it gives the same bytes again.
        let mut spool = Spool::create(&dir.path().join("t.jsonl")).expect("spool");
        spool.push_report(&out).expect("part");
        let again = dir.path().join("again.json");
        spool.write_report(&again).expect("write");
        assert_eq!(std::fs::read(&again).expect("read"), held);

        std::fs::write(
            dir.path().join("x.json"),
            r#"{"report": "keytrace-scan", "repositories": []}"#,
        )
        .expect("write");
        let mut spool = Spool::create(&dir.path().join("u.jsonl")).expect("spool");
        let e = spool
            .push_report(&dir.path().join("x.json"))
            .expect_err("not a sweep");
        assert!(e.to_string().contains("report = keytrace-scan"), "{e}");
    }
}
