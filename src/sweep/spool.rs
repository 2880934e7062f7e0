//! Per-repository results on disk: a sweep (or a merge reading shard reports) appends each
//! result as one JSON line, and the report is written from the file in path order. The
//! path index and the estate views are sorted on disk ([`Sorter`]), and every list of the
//! report is streamed from there while it is written, so memory holds one repository's
//! result and a few fixed buffers whatever the size of the estate.

use super::model::{
    EstatePlace, RepoResult, Report, StaleEntry, SweepReport, Totals, ViewItem, ViewPart,
    REPORT_KIND,
};
use super::sorter::{Sorted, Sorter, RUN_ITEMS};
use crate::types::FindingKind;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{Error as _, SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// What went wrong with a spool or a report read into one.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path}: cannot read the sweep report: {message}")]
    Unreadable { path: String, message: String },
    #[error("{path}:{line}:{column}: not a keytrace sweep report: {message}")]
    Malformed {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: not a keytrace sweep report (\"report\" is \"{kind}\", expected \"keytrace-sweep\")")]
    OtherKind { path: String, kind: String },
    #[error(
        "{path}: {what} holds a value that is not redacted; refusing a report that may carry a plaintext secret"
    )]
    Unredacted { path: String, what: String },
}

pub(super) fn io(path: &Path, e: &std::io::Error) -> SpoolError {
    SpoolError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Results written to a file as they come, with an index of where each one starts.
pub struct Spool {
    dir: PathBuf,
    out: BufWriter<File>,
    at: u64,
    pushed: u64,
    /// `(path, push number, offset)` of every result.
    index: Sorter<(String, u64, u64)>,
    /// Items each sorter holds before it writes a run.
    run_items: usize,
}

impl Spool {
    /// A new spool in directory `dir` (replacing any left by a run that died), removed
    /// when the spool is dropped.
    pub fn create(dir: &Path) -> Result<Spool, SpoolError> {
        Self::with_run_items(dir, RUN_ITEMS)
    }

    fn with_run_items(dir: &Path, run_items: usize) -> Result<Spool, SpoolError> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(|e| io(dir, &e))?;
        let results = dir.join("results.jsonl");
        let file = File::create(&results).map_err(|e| io(&results, &e))?;
        Ok(Spool {
            dir: dir.to_path_buf(),
            out: BufWriter::new(file),
            at: 0,
            pushed: 0,
            index: Sorter::new(dir, "index", run_items),
            run_items,
        })
    }

    /// A spool in the system's temp directory, for a report read to be rendered.
    pub fn temporary() -> Result<Spool, SpoolError> {
        static MADE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("keytrace-spool-{}-{n}", std::process::id());
        Spool::create(&std::env::temp_dir().join(name))
    }

    /// Appends one repository's result.
    pub fn push(&mut self, r: &RepoResult) -> Result<(), SpoolError> {
        let mut line = serde_json::to_vec(r).map_err(|e| self.err(&e))?;
        line.push(b'\n');
        self.out.write_all(&line).map_err(|e| self.err(&e))?;
        self.index.push((r.path.clone(), self.pushed, self.at))?;
        self.pushed += 1;
        self.at += line.len() as u64;
        Ok(())
    }

    /// Appends the `repositories` of the sweep report at `report`, read one at a time.
    /// A report holding a secret value that is not redacted is refused.
    pub fn push_report(&mut self, report: &Path) -> Result<(), SpoolError> {
        let shown = report.display().to_string();
        let file = File::open(report).map_err(|e| SpoolError::Unreadable {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        let mut de = serde_json::Deserializer::from_reader(BufReader::new(file));
        let mut failed = None;
        let kind = PartSeed {
            spool: self,
            failed: &mut failed,
        }
        .deserialize(&mut de)
        .and_then(|kind| de.end().map(|()| kind));
        if let Some(mut e) = failed {
            if let SpoolError::Unredacted { path, .. } = &mut e {
                path.clone_from(&shown);
            }
            return Err(e);
        }
        let kind = kind.map_err(|e| {
            // A reader's error positions run one character past the fault: the cold path
            // parses the file again from memory for the place an editor shows.
            let e = std::fs::read(report)
                .ok()
                .and_then(|bytes| {
                    let mut scratch = Spool::temporary().ok()?;
                    let mut de = serde_json::Deserializer::from_slice(&bytes);
                    let mut failed = None;
                    PartSeed {
                        spool: &mut scratch,
                        failed: &mut failed,
                    }
                    .deserialize(&mut de)
                    .and_then(|_| de.end())
                    .err()
                })
                .unwrap_or(e);
            let message = e.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(head, _)| head)
                .to_string();
            SpoolError::Malformed {
                path: shown.clone(),
                line: e.line(),
                column: e.column(),
                message,
            }
        })?;
        match kind.as_deref() {
            Some(REPORT_KIND) => Ok(()),
            other => Err(SpoolError::OtherKind {
                path: shown,
                kind: other.unwrap_or("(none)").escape_debug().to_string(),
            }),
        }
    }

    /// Writes the estate report of every result pushed to `report`, atomically (see
    /// [`Spool::write_to`]), and removes the spool.
    pub fn write_report(self, report: &Path) -> Result<(), SpoolError> {
        crate::atomic_file::replace_with(report, crate::atomic_file::Durability::Synced, |f| {
            self.write_to(f).map_err(std::io::Error::other)
        })
        .map_err(|e| io(report, &e))
    }

    /// The estate report of every result pushed, held: the bytes [`Spool::write_report`]
    /// would write, read back.
    pub fn into_report(self) -> Result<SweepReport, SpoolError> {
        let path = self.dir.join("report.json");
        let mut bytes = Vec::new();
        self.write_to(&mut bytes)?;
        serde_json::from_slice(&bytes).map_err(|e| io(&path, &e.into()))
    }

    /// Writes the estate report of every result pushed (sorted by path; of two results
    /// for one path the first pushed wins) to `out`, as `serde_json` pretty-prints it.
    fn write_to(mut self, out: impl Write) -> Result<(), SpoolError> {
        self.out.flush().map_err(|e| self.err(&e))?;
        let results = self.dir.join("results.jsonl");
        let order_path = self.dir.join("order");
        let index = std::mem::replace(&mut self.index, Sorter::new(&self.dir, "index", 1));
        let mut reader = Reader::open(&results)?;
        let mut order = BufWriter::new(File::create(&order_path).map_err(|e| io(&order_path, &e))?);
        let mut views = Views::new(&self.dir, self.run_items);
        let mut last: Option<String> = None;
        for entry in index.finish(|_| {})? {
            let (path, _, offset) = entry?;
            if last.as_deref() == Some(path.as_str()) {
                continue;
            }
            order
                .write_all(&offset.to_le_bytes())
                .map_err(|e| io(&order_path, &e))?;
            views.add(&reader.at(offset)?)?;
            last = Some(path);
        }
        order.flush().map_err(|e| io(&order_path, &e))?;
        drop(order);
        let order = File::open(&order_path).map_err(|e| io(&order_path, &e))?;
        let (totals, credentials, unmanaged, stale) = views.finish()?;
        let report = Report {
            schema_version: 1,
            report: REPORT_KIND.to_string(),
            totals,
            credentials: Groups::new(credentials, false),
            unmanaged: Groups::new(unmanaged, true),
            stale: Stale(RefCell::new(Source::new(stale))),
            repositories: Entries {
                reader: RefCell::new(reader),
                order: RefCell::new(BufReader::new(order)),
            },
        };
        let mut out = BufWriter::new(out);
        serde_json::to_writer_pretty(&mut out, &report).map_err(|e| self.err(&e))?;
        out.write_all(b"\n").map_err(|e| self.err(&e))?;
        out.flush().map_err(|e| self.err(&e))
    }

    fn err(&self, e: &dyn std::fmt::Display) -> SpoolError {
        SpoolError::Io {
            path: self.dir.display().to_string(),
            message: e.to_string(),
        }
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Joins per-repository results, in any order, into the estate report, held: what tests
/// compare a report streamed from disk with (the CLI always streams).
#[cfg(test)]
pub fn build_report(
    results: impl IntoIterator<Item = RepoResult>,
) -> Result<SweepReport, SpoolError> {
    let mut spool = Spool::temporary()?;
    for r in results {
        spool.push(&r)?;
    }
    spool.into_report()
}

/// The estate views, added to one repository at a time in path order and sorted on disk.
struct Views {
    totals: Totals,
    credentials: Sorter<ViewItem>,
    unmanaged: Sorter<ViewItem>,
    /// Stale secrets in the order they were added.
    stale: Sorter<(u64, StaleEntry)>,
    stale_added: u64,
}

impl Views {
    fn new(dir: &Path, run_items: usize) -> Views {
        Views {
            totals: Totals::default(),
            credentials: Sorter::new(dir, "credentials", run_items),
            unmanaged: Sorter::new(dir, "unmanaged", run_items),
            stale: Sorter::new(dir, "stale", run_items),
            stale_added: 0,
        }
    }

    /// Adds repository `r` (the next in path order): its counts to the totals, then for
    /// each finding of an inventory credential its repository and places, for each of an
    /// unmanaged value the finding, its repository and places, and the stale secrets.
    fn add(&mut self, r: &RepoResult) -> Result<(), SpoolError> {
        let totals = &mut self.totals;
        totals.repositories += 1;
        totals.repositories_with_errors += u64::from(!r.errors.is_empty());
        totals.files_scanned += r.files_scanned;
        totals.blobs_scanned += r.blobs_scanned;
        totals.blobs_reused += r.blobs_reused;
        for (seq, f) in r.findings.iter().enumerate() {
            totals.findings += 1;
            *totals.findings_by_kind.entry(f.kind.clone()).or_insert(0) += 1;
            let (view, key) = match (&f.credential, &f.fingerprint) {
                (Some(id), _) => (Some(&mut self.credentials), id),
                (None, Some(fp)) => (Some(&mut self.unmanaged), fp),
                (None, None) => (None, &r.path),
            };
            if let Some(view) = view {
                let item = |part| ViewItem {
                    key: key.clone(),
                    part,
                };
                if f.credential.is_none() {
                    view.push(item(ViewPart::Finding {
                        repo: r.path.clone(),
                        seq,
                        rule: f.rule.clone(),
                        shown: f.shown.clone(),
                    }))?;
                }
                view.push(item(ViewPart::Repo(r.path.clone())))?;
                for p in &f.places {
                    view.push(item(ViewPart::Place(EstatePlace {
                        repo: r.path.clone(),
                        path: p.path.clone(),
                        line: p.line,
                        commit: p.commit.clone(),
                        kind: f.kind.clone(),
                    })))?;
                }
            }
            if f.kind == FindingKind::StaleSecret.as_str() {
                let entry = StaleEntry {
                    fingerprint: f.fingerprint.clone().unwrap_or_default(),
                    redacted: f.shown.clone(),
                    repo: r.path.clone(),
                    path: f.places.first().map(|p| p.path.clone()).unwrap_or_default(),
                    first_seen: f.first_seen.clone(),
                    age_days: f.age_days,
                };
                self.stale.push((self.stale_added, entry))?;
                self.stale_added += 1;
            }
        }
        Ok(())
    }

    /// The totals, counting the distinct credentials and unmanaged values, and the views.
    #[allow(clippy::type_complexity)]
    fn finish(
        self,
    ) -> Result<
        (
            Totals,
            Sorted<ViewItem>,
            Sorted<ViewItem>,
            Sorted<(u64, StaleEntry)>,
        ),
        SpoolError,
    > {
        let mut totals = self.totals;
        let (credentials, n) = finish_counting_keys(self.credentials)?;
        totals.credentials = n;
        let (unmanaged, n) = finish_counting_keys(self.unmanaged)?;
        totals.unmanaged_values = n;
        Ok((totals, credentials, unmanaged, self.stale.finish(|_| {})?))
    }
}

/// A view's items in order, and how many distinct keys they have.
fn finish_counting_keys(view: Sorter<ViewItem>) -> Result<(Sorted<ViewItem>, u64), SpoolError> {
    let mut keys = 0;
    let mut last: Option<String> = None;
    let sorted = view.finish(|item| {
        if last.as_deref() != Some(item.key.as_str()) {
            keys += 1;
            last = Some(item.key.clone());
        }
    })?;
    Ok((sorted, keys))
}

/// A sorted stream with one item of lookahead, which the serializers of one report list
/// read in turn.
struct Source<T> {
    items: Sorted<T>,
    next: Option<T>,
}

impl<T: Ord + serde::de::DeserializeOwned> Source<T> {
    fn new(items: Sorted<T>) -> Self {
        Source { items, next: None }
    }

    fn peek(&mut self) -> Result<Option<&T>, SpoolError> {
        if self.next.is_none() {
            self.next = self.items.next().transpose()?;
        }
        Ok(self.next.as_ref())
    }

    /// The next item, if there is one and `wanted` says so.
    fn next_if(&mut self, wanted: impl Fn(&T) -> bool) -> Result<Option<T>, SpoolError> {
        Ok(match self.peek()? {
            Some(item) if wanted(item) => self.next.take(),
            _ => None,
        })
    }
}

/// The report's `credentials` (or, when `unmanaged`, its `unmanaged`), one group per key,
/// each written as its items come: the fields of `CredentialSpread` or `UnmanagedGroup`.
struct Groups {
    items: RefCell<Source<ViewItem>>,
    unmanaged: bool,
}

impl Groups {
    fn new(items: Sorted<ViewItem>, unmanaged: bool) -> Self {
        Groups {
            items: RefCell::new(Source::new(items)),
            unmanaged,
        }
    }

    fn next_key(&self) -> Result<Option<String>, SpoolError> {
        let mut items = self.items.borrow_mut();
        Ok(items.peek()?.map(|i| i.key.clone()))
    }
}

impl Serialize for Groups {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        while let Some(key) = self.next_key().map_err(S::Error::custom)? {
            seq.serialize_element(&Group {
                key: &key,
                of: self,
            })?;
            // Nothing of the key is left unread, whatever its items were.
            let mut items = self.items.borrow_mut();
            while items
                .next_if(|i| i.key == key)
                .map_err(S::Error::custom)?
                .is_some()
            {}
        }
        seq.end()
    }
}

struct Group<'a> {
    key: &'a str,
    of: &'a Groups,
}

impl Serialize for Group<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let repositories = Parts {
            group: self,
            places: false,
        };
        let places = Parts {
            group: self,
            places: true,
        };
        if !self.of.unmanaged {
            let mut st = s.serialize_struct("CredentialSpread", 3)?;
            st.serialize_field("id", self.key)?;
            st.serialize_field("repositories", &repositories)?;
            st.serialize_field("places", &places)?;
            return st.end();
        }
        // The findings come first: the group's redacted value and rules.
        let mut redacted = String::new();
        let mut rules = BTreeSet::new();
        let mut items = self.of.items.borrow_mut();
        while let Some(item) = items
            .next_if(|i| i.key == self.key && matches!(i.part, ViewPart::Finding { .. }))
            .map_err(S::Error::custom)?
        {
            if let ViewPart::Finding { rule, shown, .. } = item.part {
                if redacted.is_empty() {
                    redacted = shown;
                }
                rules.insert(rule);
            }
        }
        drop(items);
        let mut st = s.serialize_struct("UnmanagedGroup", 5)?;
        st.serialize_field("fingerprint", self.key)?;
        st.serialize_field("redacted", &redacted)?;
        st.serialize_field("rules", &rules)?;
        st.serialize_field("repositories", &repositories)?;
        st.serialize_field("places", &places)?;
        st.end()
    }
}

/// A group's repositories (or places), each once.
struct Parts<'a> {
    group: &'a Group<'a>,
    places: bool,
}

impl Serialize for Parts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        let mut last: Option<ViewPart> = None;
        loop {
            let wanted = |i: &ViewItem| {
                i.key == self.group.key
                    && match i.part {
                        ViewPart::Repo(_) => !self.places,
                        ViewPart::Place(_) => self.places,
                        ViewPart::Finding { .. } => false,
                    }
            };
            let next = self.group.of.items.borrow_mut().next_if(wanted);
            let Some(item) = next.map_err(S::Error::custom)? else {
                break;
            };
            if last.as_ref() == Some(&item.part) {
                continue;
            }
            match &item.part {
                ViewPart::Repo(repo) => seq.serialize_element(repo)?,
                ViewPart::Place(place) => seq.serialize_element(place)?,
                ViewPart::Finding { .. } => {}
            }
            last = Some(item.part);
        }
        seq.end()
    }
}

/// The report's `stale` list, in the order the secrets were added.
struct Stale(RefCell<Source<(u64, StaleEntry)>>);

impl Serialize for Stale {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        loop {
            let next = self.0.borrow_mut().next_if(|_| true);
            let Some((_, entry)) = next.map_err(S::Error::custom)? else {
                break;
            };
            seq.serialize_element(&entry)?;
        }
        seq.end()
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

/// The report's `repositories`, read back from the spool in path order (the offsets in
/// the `order` file) while they are written.
struct Entries {
    reader: RefCell<Reader>,
    order: RefCell<BufReader<File>>,
}

impl Serialize for Entries {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        let mut reader = self.reader.borrow_mut();
        let mut order = self.order.borrow_mut();
        let mut offset = [0u8; 8];
        loop {
            match order.read_exact(&mut offset) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(S::Error::custom(e)),
            }
            let r = reader
                .at(u64::from_le_bytes(offset))
                .map_err(S::Error::custom)?;
            seq.serialize_element(&r)?;
        }
        seq.end()
    }
}

/// A sweep report read as a stream: its `report` kind kept, each repository entry pushed
/// to the spool as it is parsed, everything else skipped (the views are rebuilt).
struct PartSeed<'s> {
    spool: &'s mut Spool,
    /// Why the read stopped, when not for the JSON: the spool, or an unredacted value.
    failed: &'s mut Option<SpoolError>,
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
                        failed: &mut *self.failed,
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
    failed: &'s mut Option<SpoolError>,
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
            let pushed = match r.unredacted() {
                Some(what) => Err(SpoolError::Unredacted {
                    path: String::new(),
                    what,
                }),
                None => self.spool.push(&r),
            };
            if let Err(e) = pushed {
                *self.failed = Some(e);
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(path: &str, fingerprint: &str, files: u64) -> RepoResult {
        let mut r = RepoResult::with_unmanaged(path, "github-pat", fingerprint);
        r.files_scanned = files;
        r
    }

    /// The report `spool` writes, as bytes.
    fn written(spool: Spool) -> Vec<u8> {
        let mut out = Vec::new();
        spool.write_to(&mut out).expect("write");
        out
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
        let mut spool = Spool::create(&dir.path().join("s")).expect("spool");
        for r in &results {
            spool.push(r).expect("push");
        }
        let out = dir.path().join("report.json");
        spool.write_report(&out).expect("write");
        let held = build_report(results).expect("held");
        assert_eq!(held.totals.repositories, 3);
        assert_eq!(
            held.repositories[0].files_scanned, 2,
            "the first /a pushed wins"
        );
        assert_eq!(held.unmanaged[1].repositories, ["/b", "/c"]);
        let mut bytes = serde_json::to_vec_pretty(&held).expect("json");
        bytes.push(b'\n');
        assert_eq!(std::fs::read(&out).expect("read"), bytes);
        assert!(!dir.path().join("s").exists(), "spool removed");

        // Read back as a shard report, it gives the same bytes again.
        let mut spool = Spool::create(&dir.path().join("t")).expect("spool");
        spool.push_report(&out).expect("part");
        let again = dir.path().join("again.json");
        spool.write_report(&again).expect("write");
        assert_eq!(std::fs::read(&again).expect("read"), bytes);

        std::fs::write(
            dir.path().join("x.json"),
            r#"{"report": "keytrace-scan", "repositories": []}"#,
        )
        .expect("write");
        let mut spool = Spool::create(&dir.path().join("u")).expect("spool");
        let e = spool
            .push_report(&dir.path().join("x.json"))
            .expect_err("not a sweep");
        assert!(
            e.to_string().contains("\"report\" is \"keytrace-scan\""),
            "{e}"
        );
    }

    /// An estate of `n` repositories whose values spread over several, with places, a
    /// credential, stale secrets and an entry given twice.
    fn estate(n: usize) -> Vec<RepoResult> {
        let mut out = Vec::new();
        for i in (0..n).rev() {
            let mut r = result(&format!("/srv/r{i:03}"), &format!("sha256:{}", i % 7), 1);
            let f = &mut r.findings[0];
            f.places = (0..i % 4)
                .map(|k| super::super::model::Place {
                    path: format!("p{}", k % 3),
                    line: u32::try_from(k).unwrap_or(0),
                    commit: (k % 2 == 1).then(|| format!("c{k}")),
                })
                .collect();
            let mut second = f.clone();
            if i % 3 == 0 {
                second.credential = Some(format!("cred-{}", i % 5));
            }
            if i % 4 == 0 {
                second.kind = FindingKind::StaleSecret.as_str().to_string();
                second.age_days = Some(u32::try_from(i).unwrap_or(0));
            }
            r.findings.push(second);
            out.push(r);
        }
        out.push(result("/srv/r001", "sha256:x", 9));
        out
    }

    #[test]
    fn views_sorted_in_runs_on_disk_give_the_bytes_of_views_held() {
        let dir = tempfile::tempdir().expect("tmp");
        let report = |run_items: usize| {
            let mut spool =
                Spool::with_run_items(&dir.path().join(format!("s{run_items}")), run_items)
                    .expect("spool");
            for r in estate(120) {
                spool.push(&r).expect("push");
            }
            written(spool)
        };
        let held = report(RUN_ITEMS);
        let text = String::from_utf8(held.clone()).expect("utf-8");
        assert!(text.contains("\"cred-4\""), "{text}");
        assert!(text.contains("\"stale\": [\n    {"), "{text}");
        // A handful of runs, and more runs than one merge pass takes.
        for run_items in [50, 1] {
            assert!(report(run_items) == held, "{run_items} items a run");
        }
    }
}
