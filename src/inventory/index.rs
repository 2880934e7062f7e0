//! Lookup tables over a loaded inventory: fingerprint → (credential, version)
//! and identifier → (credential, version), so linking a match costs one hash lookup.

use super::model::{check_key, Credential, Inventory, Status};
use super::view::{self, Text};
use super::{cache, InventoryError};
use crate::fingerprint::{digest_of_fingerprint, Fingerprinter, KnownValue, KnownValues};
use crate::types::CredentialRef;
use serde::Deserialize;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::context::{Reference, Scheme};

/// A fast non-cryptographic hasher (the Fx multiply-rotate) for fingerprint and
/// identifier keys. Keys come from the trusted inventory; scanned values only
/// look up, so bucket placement cannot be steered by a scanned repository.
/// SipHash was the largest single cost of loading a 100,000-credential inventory.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FxHasher`].
pub(crate) type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// An inventory ready for matching: the validated text, where each credential
/// starts in it, and hash tables over fingerprints and identifiers. A
/// credential is deserialized only when a lookup hits it, so loading a large
/// inventory costs one validating pass and the tables (see [`super::view`]),
/// or, while the file is unchanged, reading the tables back ([`super::cache`]).
pub struct Index {
    text: Body,
    tables: Tables,
    /// Whether `text` is the model's rewrite of the file rather than the file.
    normalized: bool,
    /// Reference key → every entry listing it, built on the first reference
    /// lookup so scans that never look up references never pay for it.
    by_reference: OnceLock<FxHashMap<(Scheme, String), Vec<ListedReference>>>,
    now: i64,
}

/// The lookup tables over one inventory text, as the cache keeps them.
#[derive(Default, Serialize, Deserialize)]
pub(super) struct Tables {
    fingerprint_key_id: Option<String>,
    /// Byte offset of each credential's object in the text, in file order.
    starts: Vec<u32>,
    /// First 64 bits of the digest → the version holding it and where its
    /// fingerprint is in the text (compared in full on a hit).
    by_fingerprint: FxHashMap<u64, Slot>,
    /// Fingerprints sharing their first 64 bits with another, or written with
    /// JSON escapes (practically never).
    collided: FxHashMap<String, (u32, u32)>,
    /// Identifier → credential and, when a version carries it, that version.
    by_identifier: FxHashMap<String, (u32, Option<u32>)>,
    /// Every `references` (false) and `retired_references` (true) entry, in file order.
    listed: Vec<(u32, bool, Span)>,
    /// Revoked versions' values, for the known-value pass, in file order.
    revoked: Vec<RevokedValue>,
    /// Revoked identifiers (see [`Index::by_identifier`]) with their credential, in file order.
    revoked_identifiers: Vec<(u32, String)>,
}

/// A revoked version's digest and recorded length, and its credential.
#[derive(Clone, Copy, Serialize, Deserialize)]
struct RevokedValue {
    credential: u32,
    digest: [u8; 32],
    length: Option<u32>,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
struct Slot {
    credential: u32,
    version: u32,
    at: u32,
}

/// A string of the inventory: a place in its text, or its unescaped value.
#[derive(Serialize, Deserialize)]
enum Span {
    At(u32, u32),
    Unescaped(Box<str>),
}

impl Span {
    fn new(text: &[u8], t: &Text<'_>) -> Option<Span> {
        match t.borrowed() {
            Some(b) => {
                let at = offset(text, b)?;
                Some(Span::At(at, u32::try_from(b.len()).ok()?))
            }
            None => Some(Span::Unescaped(t.0.as_ref().into())),
        }
    }

    fn get<'t>(&'t self, text: &'t [u8]) -> &'t str {
        match self {
            Span::At(at, len) => text
                .get(*at as usize..*at as usize + *len as usize)
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default(),
            Span::Unescaped(s) => s,
        }
    }
}

/// Byte offset of `part`, a slice of `text`, as u32 (inventories stay under 4 GiB).
fn offset(text: &[u8], part: &str) -> Option<u32> {
    let at = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    (at + part.len() <= text.len()).then_some(())?;
    u32::try_from(at).ok()
}

/// One `references` or `retired_references` entry of a credential.
struct ListedReference {
    credential: u32,
    retired: bool,
    reference: Reference,
}

/// An inventory file opened for a scan, holding its text or, while the file is
/// unchanged since it was last validated, its cached tables and the open file.
pub struct Opened {
    path: PathBuf,
    /// The cache directory and the file's stamp, when its tables may be cached.
    cache: Option<(PathBuf, cache::Stamp)>,
    source: Source,
}

enum Source {
    Text(Bytes),
    Cached { file: File, tables: Tables },
}

impl Opened {
    /// Whether the inventory lists any retired reference, known before it is
    /// indexed so a scan knows at once whether to extract references from files.
    pub fn may_retire_references(&self) -> bool {
        match &self.source {
            Source::Text(text) => super::store::may_retire_references(text),
            Source::Cached { tables, .. } => tables.listed.iter().any(|(_, retired, _)| *retired),
        }
    }

    /// Validates and indexes the inventory (or takes the cached tables) and
    /// checks the fingerprint key against it; `now` decides `overdue_days`.
    pub fn index(self, fp: &Fingerprinter, now: i64) -> Result<Index, InventoryError> {
        self.index_then(fp, now, |_| {})
    }

    /// [`Opened::index`], calling `ready` with the index as soon as it can answer,
    /// before its tables are saved to the cache: a scan waiting for the revoked
    /// values need not wait for the cache write.
    pub fn index_then(
        self,
        fp: &Fingerprinter,
        now: i64,
        ready: impl FnOnce(&Index),
    ) -> Result<Index, InventoryError> {
        let path = &self.path;
        match self.source {
            Source::Cached { file, tables } => {
                let body = Body::File {
                    file,
                    whole: OnceLock::new(),
                };
                let index = Index::with(body, tables, now);
                index.check_key(path, fp)?;
                ready(&index);
                Ok(index)
            }
            Source::Text(text) => {
                let mut index = Index::load(path, text, fp, now)?;
                ready(&index);
                if let Some((dir, stamp)) = self.cache.as_ref().filter(|_| !index.normalized) {
                    let tables = std::mem::take(&mut index.tables);
                    index.tables = cache::store(dir, path, stamp, tables);
                }
                Ok(index)
            }
        }
    }
}

/// What the inventory says about a reference a file uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceStatus {
    /// A credential lists it among its current references.
    Known(CredentialRef),
    /// A credential lists it among its retired references: the use is residue of a reset.
    Retired {
        credential: CredentialRef,
        /// The credential's current references, of the same scheme when it has any.
        replaced_by: Vec<String>,
    },
    /// No credential lists it.
    Unknown,
}

/// What the inventory says about a value it knows.
#[derive(Debug, Clone)]
pub struct Known {
    pub credential: CredentialRef,
    pub revoked: bool,
}

impl Index {
    /// Opens the inventory at `path` for a scan: a missing or unreadable file
    /// fails here, at once; the work of indexing is left to [`Opened::index`].
    pub fn open(path: &Path) -> Result<Opened, InventoryError> {
        Index::open_cached_in(path, cache::dir())
    }

    /// [`Index::open`] with tables cached in `cache` (`None`: no cache).
    fn open_cached_in(path: &Path, cache: Option<PathBuf>) -> Result<Opened, InventoryError> {
        let read_error = |source| InventoryError::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(read_error)?;
        // The stamp comes from the open file, so it describes the text read from it.
        let stamp = cache
            .as_ref()
            .and_then(|_| file.metadata().ok())
            .and_then(|m| cache::Stamp::of(&m));
        let cached = cache.as_deref().zip(stamp.as_ref());
        let source = match cached.and_then(|(dir, s)| cache::lookup(dir, path, s)) {
            Some(tables) => Source::Cached { file, tables },
            None => Source::Text(Bytes::of(&file).map_err(read_error)?),
        };
        Ok(Opened {
            path: path.to_path_buf(),
            cache: cache.zip(stamp),
            source,
        })
    }

    /// Validates the inventory `text` read from `path`, checks the fingerprint
    /// key against it, and indexes it; `now` decides `overdue_days`.
    fn load(
        path: &Path,
        text: Bytes,
        fp: &Fingerprinter,
        now: i64,
    ) -> Result<Index, InventoryError> {
        let index = match Index::build(text, now) {
            Ok(index) => index,
            Err(text) => {
                // The one-pass view could not vouch for the file: the model says
                // what is wrong with it, or accepts it and writes it in the form
                // the view reads (a credential array instead of objects, say).
                let utf8 = std::str::from_utf8(&text)
                    .map_err(|e| super::store::not_utf8(path, &text, e.valid_up_to()))?;
                let inv = Inventory::parse(path, utf8)?;
                let pretty = Bytes::Owned(inv.to_pretty().into_bytes());
                let mut index = Index::build(pretty, now).map_err(|_| InventoryError::Invalid {
                    path: path.to_path_buf(),
                    line: 1,
                    column: 1,
                    message: "keytrace could not index this valid inventory; please report it"
                        .into(),
                })?;
                index.normalized = true;
                index
            }
        };
        index.check_key(path, fp)?;
        Ok(index)
    }

    /// The tables over `text`, or `text` back when the view cannot vouch for it.
    fn build(text: Bytes, now: i64) -> Result<Index, Bytes> {
        let tables = view::read(&text).and_then(|summary| Tables::new(&text, summary));
        match tables {
            Some(tables) => Ok(Index::with(Body::Whole(text), tables, now)),
            None => Err(text),
        }
    }

    fn with(text: Body, tables: Tables, now: i64) -> Index {
        Index {
            text,
            tables,
            normalized: false,
            by_reference: OnceLock::new(),
            now,
        }
    }

    fn check_key(&self, path: &Path, fp: &Fingerprinter) -> Result<(), InventoryError> {
        let t = &self.tables;
        let has_fingerprints = !(t.by_fingerprint.is_empty() && t.collided.is_empty());
        check_key(path, t.fingerprint_key_id.as_deref(), has_fingerprints, fp)
    }

    /// Number of fingerprints indexed.
    pub fn len(&self) -> usize {
        self.tables.by_fingerprint.len() + self.tables.collided.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0 && self.tables.by_identifier.is_empty()
    }

    /// Every current reference the inventory lists, as written.
    pub fn current_references(&self) -> impl Iterator<Item = &str> {
        self.tables
            .listed
            .iter()
            .filter(|(_, retired, _)| !retired)
            .map(|(_, _, r)| r.get(self.text.whole()))
    }

    /// What the known-value pass looks for: the values and identifiers of the revoked
    /// versions of `credential` (its id), or of every credential.
    pub fn revoked_values(&self, credential: Option<&str>) -> KnownValues {
        let t = &self.tables;
        let wanted: Option<Vec<u32>> = credential.map(|id| self.credentials_with_id(id));
        let takes = |ci: u32| wanted.as_ref().is_none_or(|w| w.contains(&ci));
        KnownValues {
            values: t
                .revoked
                .iter()
                .filter(|r| takes(r.credential))
                .map(|r| KnownValue {
                    digest: r.digest,
                    length: r.length,
                })
                .collect(),
            identifiers: t
                .revoked_identifiers
                .iter()
                .filter(|(ci, _)| takes(*ci))
                .map(|(_, id)| id.clone())
                .collect(),
        }
    }

    /// The credentials among those with revoked values or identifiers whose id is `id`
    /// (ids are unique; only these are read from the text).
    fn credentials_with_id(&self, id: &str) -> Vec<u32> {
        #[derive(Deserialize)]
        struct Id {
            id: String,
        }
        let t = &self.tables;
        let mut candidates: Vec<u32> = t
            .revoked
            .iter()
            .map(|r| r.credential)
            .chain(t.revoked_identifiers.iter().map(|(ci, _)| *ci))
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .filter(|&ci| {
                let at = t.starts.get(ci as usize);
                at.and_then(|&at| self.text.value_at::<Id>(at))
                    .is_some_and(|c| c.id == id)
            })
            .collect()
    }

    /// Credential `ci`, deserialized from its place in the text.
    fn credential(&self, ci: u32) -> Option<Credential> {
        self.text.value_at(*self.tables.starts.get(ci as usize)?)
    }

    /// The credential version whose value has this fingerprint.
    pub fn by_fingerprint(&self, fingerprint: &str) -> Option<Known> {
        let hit = self
            .tables
            .by_fingerprint
            .get(&digest_prefix(fingerprint))
            .filter(|slot| self.text.holds_fingerprint(slot.at, fingerprint))
            .map(|slot| (slot.credential, slot.version));
        let (ci, vi) = hit.or_else(|| self.tables.collided.get(fingerprint).copied())?;
        let c = self.credential(ci)?;
        Some(self.known(&c, vi as usize))
    }

    /// The credential an identifier (e.g. an AWS access key id) names.
    ///
    /// A credential-level identifier counts as revoked when no version is active.
    pub fn by_identifier(&self, identifier: &str) -> Option<Known> {
        let &(ci, vi) = self.tables.by_identifier.get(identifier)?;
        let c = self.credential(ci)?;
        let vi = match vi {
            Some(vi) => vi as usize,
            None => match c.active() {
                Some((n, _)) => n - 1,
                None => c.versions.len().checked_sub(1)?,
            },
        };
        Some(self.known(&c, vi))
    }

    /// What the inventory says about `found`, used in repository `repo`. A retired
    /// listing wins over a current one: the contract is that any use of a retired
    /// name is residue. Entries of credentials scoped by `repos` apply only there.
    pub fn reference_status(&self, found: &Reference, repo: &str) -> ReferenceStatus {
        let table = self.by_reference.get_or_init(|| self.reference_table());
        let Some(listed) = table.get(&found.key()) else {
            return ReferenceStatus::Unknown;
        };
        let applying = |retired: bool| {
            listed
                .iter()
                .filter(move |l| l.retired == retired && l.reference.covers(found))
                .filter_map(|l| self.credential(l.credential))
                .find(|c| applies_to(c, repo))
        };
        if let Some(c) = applying(true) {
            let same: Vec<String> = c
                .references
                .iter()
                .map(|r| r.parsed())
                .filter(|r| r.scheme == found.scheme)
                .map(|r| r.to_string())
                .collect();
            let replaced_by = if same.is_empty() {
                c.references
                    .iter()
                    .map(|r| r.as_str().to_string())
                    .collect()
            } else {
                same
            };
            // The reset that retired the name is the latest revoked version's.
            let vi = c
                .versions
                .iter()
                .rposition(|v| v.status == Status::Revoked)
                .unwrap_or(c.versions.len().saturating_sub(1));
            return ReferenceStatus::Retired {
                credential: self.credential_ref(&c, vi),
                replaced_by,
            };
        }
        match applying(false) {
            Some(c) => {
                let vi = c
                    .active()
                    .map_or(c.versions.len().saturating_sub(1), |(n, _)| n - 1);
                ReferenceStatus::Known(self.credential_ref(&c, vi))
            }
            None => ReferenceStatus::Unknown,
        }
    }

    fn reference_table(&self) -> FxHashMap<(Scheme, String), Vec<ListedReference>> {
        let mut table: FxHashMap<(Scheme, String), Vec<ListedReference>> = FxHashMap::default();
        for (credential, retired, r) in &self.tables.listed {
            // Validated on load; a value that no longer parses is skipped, not a panic.
            let Ok(reference) = r.get(self.text.whole()).parse::<Reference>() else {
                continue;
            };
            table
                .entry(reference.key())
                .or_default()
                .push(ListedReference {
                    credential: *credential,
                    retired: *retired,
                    reference,
                });
        }
        table
    }

    fn known(&self, c: &Credential, vi: usize) -> Known {
        Known {
            credential: self.credential_ref(c, vi),
            revoked: c
                .versions
                .get(vi)
                .is_some_and(|v| v.status == Status::Revoked),
        }
    }

    fn credential_ref(&self, c: &Credential, vi: usize) -> CredentialRef {
        let v = c.versions.get(vi);
        CredentialRef {
            id: c.id.clone(),
            version: u32::try_from(vi + 1).unwrap_or(u32::MAX),
            status: v.map_or("unknown", |v| v.status.as_str()).to_string(),
            owner: c.owner.clone(),
            revoked: v
                .and_then(|v| v.revoked.as_ref())
                .map(|t| t.as_str().to_string()),
            reset: v.and_then(|v| v.reset.as_deref().cloned()),
            overdue_days: c.overdue_days(self.now),
        }
    }
}

impl Tables {
    /// The tables from one pass's summary; `None` for a duplicate
    /// fingerprint or a credential the pass could not locate.
    fn new(text: &[u8], s: view::Summary<'_>) -> Option<Tables> {
        let mut t = Tables {
            starts: Vec::with_capacity(s.first_keys.len()),
            ..Tables::default()
        };
        for key in &s.first_keys {
            let start = view::object_start(text, (*key)?)?;
            t.starts.push(u32::try_from(start).ok()?);
        }
        t.by_fingerprint.reserve(s.fingerprints.len());
        for (fp, credential, version) in &s.fingerprints {
            let (credential, version) = (*credential, *version);
            let at = fp.borrowed().and_then(|b| offset(text, b));
            let Some(at) = at else {
                t.collided
                    .insert(fp.0.to_string(), (credential, version))
                    .is_none()
                    .then_some(())?;
                continue;
            };
            let slot = Slot {
                credential,
                version,
                at,
            };
            match t.by_fingerprint.entry(digest_prefix(&fp.0)) {
                Entry::Vacant(e) => {
                    e.insert(slot);
                }
                Entry::Occupied(e) => {
                    let first = fingerprint_at(text, e.get().at, &fp.0);
                    (!first).then_some(())?;
                    t.collided
                        .insert(fp.0.to_string(), (credential, version))
                        .is_none()
                        .then_some(())?;
                }
            }
        }
        // An escaped fingerprint may repeat one stored by place.
        for fp in t.collided.keys() {
            if let Some(slot) = t.by_fingerprint.get(&digest_prefix(fp)) {
                if fingerprint_at(text, slot.at, fp) {
                    return None;
                }
            }
        }
        for (id, credential, version) in s.identifiers {
            t.by_identifier
                .insert(id.0.into_owned(), (credential, version));
        }
        t.listed = s
            .references
            .iter()
            .map(|(ci, retired, r)| Some((*ci, *retired, Span::new(text, r)?)))
            .collect::<Option<_>>()?;
        t.revoked = s
            .revoked
            .iter()
            .map(|(fp, credential, length)| {
                Some(RevokedValue {
                    credential: *credential,
                    digest: digest_of_fingerprint(&fp.0)?,
                    length: *length,
                })
            })
            .collect::<Option<_>>()?;
        t.revoked_identifiers = s
            .revoked_identifiers
            .into_iter()
            .map(|(id, ci)| (ci, id.0.into_owned()))
            .collect();
        t.fingerprint_key_id = s.fingerprint_key_id;
        Some(t)
    }
}

/// The inventory file's bytes: mapped from the file, so a 44 MB inventory is
/// neither copied nor zeroed page by page, or read into memory where it
/// cannot be mapped.
enum Bytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Bytes {
    /// The whole of `file`, wherever its cursor is.
    fn of(mut file: &File) -> std::io::Result<Bytes> {
        // SAFETY: the map is only ever read. keytrace's own writers never change
        // an inventory in place (they rename a new file over it), so the mapped
        // file stays as it was; another program truncating the file while a scan
        // runs could fault the read, the known cost of mapping (ripgrep makes the
        // same trade for the same gain).
        if let Ok(map) = unsafe { memmap2::Mmap::map(file) } {
            return Ok(Bytes::Mapped(map));
        }
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0))?;
        file.read_to_end(&mut bytes)?;
        Ok(Bytes::Owned(bytes))
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(map) => map,
            Bytes::Owned(bytes) => bytes,
        }
    }
}

/// The inventory's text: held whole, or, when the tables came from the cache,
/// read from the open file only where a lookup hits, so a warm scan does not
/// read 44 MB to link a few hundred findings.
enum Body {
    Whole(Bytes),
    File { file: File, whole: OnceLock<Bytes> },
}

impl Body {
    /// The whole text, read on first use from the file (reference lookups list
    /// every entry). A file that can no longer be read yields nothing, so lookups miss.
    fn whole(&self) -> &[u8] {
        match self {
            Body::Whole(bytes) => bytes,
            Body::File { file, whole } => {
                whole.get_or_init(|| Bytes::of(file).unwrap_or(Bytes::Owned(Vec::new())))
            }
        }
    }

    /// Up to `len` bytes from byte `at`.
    fn bytes_at(&self, at: usize, len: usize) -> Cow<'_, [u8]> {
        match self {
            Body::File { file, whole } if whole.get().is_none() => {
                let mut buf = vec![0; len];
                let n = read_at(file, &mut buf, at as u64);
                buf.truncate(n);
                Cow::Owned(buf)
            }
            _ => {
                let bytes = self.whole();
                Cow::Borrowed(bytes.get(at..).map_or(&[][..], |b| &b[..len.min(b.len())]))
            }
        }
    }

    /// Whether the fingerprint stored at byte `at` is `fingerprint`.
    fn holds_fingerprint(&self, at: u32, fingerprint: &str) -> bool {
        let stored = self.bytes_at(at as usize, fingerprint.len() + 1);
        stored.strip_suffix(b"\"") == Some(fingerprint.as_bytes())
    }

    /// The JSON value that starts at byte `at`, read in growing windows.
    fn value_at<T: serde::de::DeserializeOwned>(&self, at: u32) -> Option<T> {
        let mut window = 4096;
        loop {
            let bytes = self.bytes_at(at as usize, window);
            match T::deserialize(&mut serde_json::Deserializer::from_slice(&bytes)) {
                Ok(value) => return Some(value),
                Err(e) if e.is_eof() && bytes.len() == window => window *= 8,
                Err(_) => return None,
            }
        }
    }
}

/// Fills `buf` from byte `at` of `file` as far as the file goes; the count read.
fn read_at(file: &File, buf: &mut [u8], at: u64) -> usize {
    let mut done = 0;
    while done < buf.len() {
        match positioned_read(file, &mut buf[done..], at + done as u64) {
            Ok(0) | Err(_) => break,
            Ok(n) => done += n,
        }
    }
    done
}

#[cfg(unix)]
fn positioned_read(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, at)
}

#[cfg(not(unix))]
fn positioned_read(mut file: &File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    file.seek(SeekFrom::Start(at))?;
    file.read(buf)
}

/// Whether the fingerprint stored at byte `at` of `text` is `fingerprint`.
fn fingerprint_at(text: &[u8], at: u32, fingerprint: &str) -> bool {
    let at = at as usize;
    text.get(at..at + fingerprint.len()) == Some(fingerprint.as_bytes())
        && text.get(at + fingerprint.len()) == Some(&b'"')
}

/// The first 64 bits of a fingerprint's hex digest (0 when it has none).
fn digest_prefix(fingerprint: &str) -> u64 {
    let bytes = fingerprint.as_bytes();
    let hex = memchr::memchr(b':', bytes).map_or(&[][..], |colon| &bytes[colon + 1..]);
    let Some(hex) = hex.get(..16) else {
        return 0;
    };
    let mut prefix = 0u64;
    for &b in hex {
        let nibble = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return 0,
        };
        prefix = prefix << 4 | u64::from(nibble);
    }
    prefix
}

/// Whether a credential's references apply in `repo` (its `repos` globs, or everywhere).
fn applies_to(c: &Credential, repo: &str) -> bool {
    c.repos.is_empty()
        || c.repos
            .iter()
            .filter_map(|g| globset::Glob::new(g).ok())
            .any(|g| g.compile_matcher().is_match(repo))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sets `path`'s modification time a minute back, so its tables may be cached.
    fn settle(path: &Path) {
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(past))
            .expect("settle");
    }

    fn load(text: &str) -> Result<Index, InventoryError> {
        let bytes = Bytes::Owned(text.as_bytes().to_vec());
        Index::load(Path::new("i.json"), bytes, &Fingerprinter::sha256(), 0)
    }

    impl Index {
        /// Every credential, deserialized from its place, sorted by id.
        fn all_credentials(&self) -> Vec<Credential> {
            let mut all: Vec<Credential> = (0..self.tables.starts.len())
                .map(|ci| self.credential(ci as u32).expect("locates"))
                .collect();
            all.sort_by(|a, b| a.id.cmp(&b.id));
            all
        }
    }

    const FULL: &str = r#"{
  "version": 1,
  "credentials": [
    {
      "id": "deploy",
      "kind": "github-pat",
      "owner": "payments",
      "rotation_days": 90,
      "references": ["github-secret:DEPLOY_TOKEN"],
      "retired_references": ["k8s-secret:prod/db-creds-v1"],
      "identifiers": ["AKIAEXAMPLEEXAMPLE01"],
      "repos": ["billing-*"],
      "versions": [
        {
          "fingerprint": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
          "hint": "ghp_",
          "identifier": "AKIAEXAMPLEEXAMPLE02",
          "created": "2026-01-01T00:00:00Z",
          "status": "revoked",
          "revoked": "2026-11-01T00:00:00Z",
          "reset": {"by": "alice", "approved_by": "bob", "ticket": "SEC-42", "reason": "exposed"},
          "revocation": {"method": "api", "evidence": "200", "at": "2026-11-01T00:00:00Z"}
        },
        {
          "fingerprint": "sha256:2222222222222222222222222222222222222222222222222222222222222222",
          "created": "2026-11-01T00:00:00Z",
          "status": "active"
        }
      ]
    },
    {"id": "other", "kind": "password", "versions": []}
  ]
}
"#;

    /// Each variant of [`FULL`] must fare the same through the one-pass view
    /// (with its fallback) as through the model: same error text, or the same
    /// credentials when valid.
    #[test]
    fn view_and_model_agree() {
        let fp2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
        let edits: &[(&str, &str)] = &[
            ("", ""),
            ("\"version\": 1", "\"version\": 2"),
            ("\"version\": 1,", ""),
            ("\"owner\": \"payments\"", "\"owner\": null"),
            ("\"owner\": \"payments\"", "\"owner\": 7"),
            ("\"kind\": \"github-pat\",", ""),
            (
                "\"kind\": \"github-pat\",",
                "\"kind\": \"github-pat\", \"kind\": \"x\",",
            ),
            ("\"rotation_days\": 90", "\"rotation_days\": -1"),
            ("\"rotation_days\": 90", "\"rotation_days\": null"),
            ("\"references\": [", "\"references\": [\"nope:x\", "),
            (
                "\"retired_references\": [",
                "\"retired_references\": [\"noscheme\", ",
            ),
            (
                "\"references\": [\"github-secret:DEPLOY_TOKEN\"]",
                "\"references\": null",
            ),
            ("\"repos\": [\"billing-*\"]", "\"repos\": [\"billing-[\"]"),
            (
                "\"identifiers\": [\"AKIAEXAMPLEEXAMPLE01\"]",
                "\"identifiers\": [1]",
            ),
            ("\"hint\": \"ghp_\"", "\"hint\": null"),
            ("\"hint\": \"ghp_\"", "\"hint\": \"ghp_\", \"length\": 40"),
            ("\"hint\": \"ghp_\"", "\"hint\": \"ghp_\", \"length\": 0"),
            ("\"hint\": \"ghp_\"", "\"hint\": \"ghp_\", \"length\": -4"),
            (
                "\"hint\": \"ghp_\"",
                "\"hint\": \"ghp_\", \"length\": \"40\"",
            ),
            (
                "\"hint\": \"ghp_\"",
                "\"hint\": \"ghp_\", \"length\": 40, \"length\": 40",
            ),
            ("\"hint\": \"ghp_\"", "\"hint\": \"ghp_\", \"extra\": 1"),
            ("\"status\": \"active\"", "\"status\": \"expired\""),
            (
                "\"status\": \"active\"",
                "\"status\": \"active\", \"status\": \"active\"",
            ),
            ("\"created\": \"2026-11-01T00:00:00Z\",", ""),
            (
                "\"created\": \"2026-11-01T00:00:00Z\"",
                "\"created\": \"yesterday\"",
            ),
            (
                "\"revoked\": \"2026-11-01T00:00:00Z\"",
                "\"revoked\": \"2026-13-01\"",
            ),
            ("\"ticket\": \"SEC-42\", ", ""),
            (
                "\"reason\": \"exposed\"",
                "\"reason\": \"exposed\", \"note\": \"x\"",
            ),
            ("\"evidence\": \"200\", ", ""),
            ("\"method\": \"api\", ", ""),
            ("\"at\": \"2026-11-01T00:00:00Z\"", "\"at\": \"soon\""),
            ("sha256:1111", "sha256:111X"),
            ("sha256:1111", "sha1:1111"),
            (
                "sha256:1111111111111111111111111111111111111111111111111111111111111111",
                fp2,
            ),
            ("\"id\": \"other\"", "\"id\": \"deploy\""),
            ("\"id\": \"other\"", "\"id\": \"  \""),
            (
                "\"version\": 1,",
                "\"version\": 1, \"fingerprint_key_id\": \"abcd\",",
            ),
            ("\"version\": 1,", "\"version\": 1, \"surprise\": true,"),
            (
                "{\"id\": \"other\", \"kind\": \"password\", \"versions\": []}",
                "[\"other\", \"password\"]",
            ),
            ("{\"id\": \"other\"", "{\"\\u0069d\": \"other\""),
            ("\"id\": \"deploy\"", "\"id\": \"de\\u0070loy\""),
            (
                "github-secret:DEPLOY_TOKEN",
                "github-secret:DEPLOY\\u005fTOKEN",
            ),
            (
                fp2,
                "sha256:\\u00322222222222222222222222222222222222222222222222222222222222222",
            ),
            (
                fp2,
                "sha256:\\u00311111111111111111111111111111111111111111111111111111111111111",
            ),
            ("\"credentials\": [", "\"credentials\": {"),
            ("]\n}\n", "]\n}\n{}"),
            ("]\n}\n", "]\n"),
        ];
        // The plain file goes through the view itself, not the fallback.
        assert!(Index::build(Bytes::Owned(FULL.into()), 0).is_ok());
        for (from, to) in edits {
            assert!(FULL.contains(from), "{from}");
            let text = FULL.replacen(from, to, 1);
            let model = Inventory::parse(Path::new("i.json"), &text).map_err(|e| e.to_string());
            let index = load(&text).map_err(|e| e.to_string());
            match (model, index) {
                (Ok(mut inv), Ok(index)) => {
                    inv.credentials.sort_by(|a, b| a.id.cmp(&b.id));
                    assert_eq!(index.all_credentials(), inv.credentials, "{to}");
                }
                (Err(m), Err(i)) => assert_eq!(m, i, "{to}"),
                (m, i) => panic!("{from} -> {to}: model {:?}, index {:?}", m.err(), i.err()),
            }
        }
        // Bytes that are not UTF-8 are named by place, not just refused.
        let mut bytes = FULL.as_bytes().to_vec();
        let at = FULL.find("deploy").expect("id");
        bytes[at] = 0xff;
        let bad = Index::load(
            Path::new("i.json"),
            Bytes::Owned(bytes),
            &Fingerprinter::sha256(),
            0,
        );
        assert_eq!(
            bad.err().map(|e| e.to_string()).as_deref(),
            Some("i.json:5:14: not UTF-8 text")
        );
    }

    #[test]
    fn revoked_values_are_the_revoked_versions() {
        let text = FULL.replacen(
            "\"hint\": \"ghp_\"",
            "\"hint\": \"ghp_\", \"length\": 40",
            1,
        );
        let index = load(&text).expect("valid");
        let all = index.revoked_values(None);
        assert_eq!(
            all.values,
            vec![KnownValue {
                digest: [0x11; 32],
                length: Some(40)
            }]
        );
        // The credential-level identifier belongs to a credential with an active version.
        assert_eq!(all.identifiers, vec!["AKIAEXAMPLEEXAMPLE02".to_string()]);
        assert_eq!(index.revoked_values(Some("deploy")), all);
        assert!(index.revoked_values(Some("other")).is_empty());
        let retired = load(&FULL.replacen("\"status\": \"active\"", "\"status\": \"revoked\"", 1))
            .expect("valid");
        let ids = retired.revoked_values(Some("deploy")).identifiers;
        assert_eq!(ids, vec!["AKIAEXAMPLEEXAMPLE01", "AKIAEXAMPLEEXAMPLE02"]);
    }

    #[test]
    fn cached_tables_answer_like_fresh_ones() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (path, cache) = (dir.path().join("i.json"), dir.path().join("cache"));
        std::fs::write(&path, FULL).expect("write");
        let open = || Index::open_cached_in(&path, Some(cache.clone())).expect("opens");
        let index = |o: Opened| o.index(&Fingerprinter::sha256(), 0).expect("indexes");
        // Not settled: neither looked up nor stored.
        assert!(matches!(open().source, Source::Text(_)));
        index(open());
        assert!(!cache.exists());
        settle(&path);
        let fresh = index(open());
        let opened = open();
        assert!(matches!(opened.source, Source::Cached { .. }));
        assert!(opened.may_retire_references());
        let cached = index(opened);
        assert!(matches!(cached.text, Body::File { .. }));
        assert_eq!(cached.all_credentials(), fresh.all_credentials());
        let fp1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        let hit = |i: &Index| i.by_fingerprint(fp1).map(|k| (k.credential, k.revoked));
        assert_eq!(hit(&cached), hit(&fresh));
        assert!(hit(&cached).is_some_and(|(c, revoked)| c.id == "deploy" && revoked));
        let id = |i: &Index| {
            i.by_identifier("AKIAEXAMPLEEXAMPLE02")
                .map(|k| k.credential)
        };
        assert_eq!(id(&cached), id(&fresh));
        let retired = "k8s-secret:prod/db-creds-v1".parse().expect("reference");
        assert_eq!(
            cached.reference_status(&retired, "billing-api"),
            fresh.reference_status(&retired, "billing-api")
        );
        assert_eq!(
            cached.current_references().collect::<Vec<_>>(),
            vec!["github-secret:DEPLOY_TOKEN"]
        );
    }

    #[test]
    fn a_cache_that_lies_makes_lookups_miss_and_never_panic() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (path, cache) = (dir.path().join("i.json"), dir.path().join("cache"));
        std::fs::write(&path, FULL).expect("write");
        settle(&path);
        let stamp = cache::Stamp::of(&std::fs::metadata(&path).expect("meta")).expect("settled");
        let fp1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        let mut tables = Tables {
            starts: vec![u32::MAX, 3],
            listed: vec![
                (5, true, Span::At(u32::MAX, u32::MAX)),
                (0, false, Span::At(3, 10)),
            ],
            ..Tables::default()
        };
        let slot = Slot {
            credential: 7,
            version: 9,
            at: u32::MAX - 2,
        };
        tables.by_fingerprint.insert(digest_prefix(fp1), slot);
        tables.by_identifier.insert("AKIAX".into(), (0, Some(99)));
        cache::store(&cache, &path, &stamp, tables);
        let opened = Index::open_cached_in(&path, Some(cache)).expect("opens");
        assert!(matches!(opened.source, Source::Cached { .. }));
        let index = opened.index(&Fingerprinter::sha256(), 0).expect("indexes");
        assert!(index.by_fingerprint(fp1).is_none());
        assert!(index.by_identifier("AKIAX").is_none());
        let r = "env:X".parse().expect("reference");
        assert_eq!(index.reference_status(&r, "repo"), ReferenceStatus::Unknown);
        assert_eq!(index.current_references().count(), 1);
    }

    #[test]
    fn fingerprints_sharing_a_prefix_both_resolve() {
        let a = format!("sha256:{}{}", "ab".repeat(8), "1".repeat(48));
        let b = format!("sha256:{}{}", "ab".repeat(8), "2".repeat(48));
        let text = format!(
            r#"{{"version": 1, "credentials": [
              {{"id": "a", "kind": "k", "versions": [{{"fingerprint": "{a}", "created": "2026-01-01", "status": "active"}}]}},
              {{"id": "b", "kind": "k", "versions": [{{"fingerprint": "{b}", "created": "2026-01-01", "status": "revoked"}}]}}]}}"#
        );
        let index = load(&text).expect("valid");
        assert_eq!(index.len(), 2);
        assert_eq!(index.by_fingerprint(&a).expect("a").credential.id, "a");
        let b_hit = index.by_fingerprint(&b).expect("b");
        assert_eq!((b_hit.credential.id.as_str(), b_hit.revoked), ("b", true));
        let c = format!("sha256:{}{}", "ab".repeat(8), "3".repeat(48));
        assert!(index.by_fingerprint(&c).is_none());
    }

    #[test]
    fn references_resolve_to_known_retired_or_unknown() {
        let text = r#"{"version": 1, "credentials": [
          {"id": "deploy", "kind": "github-pat", "owner": "payments",
           "references": ["github-secret:DEPLOY_TOKEN", "vault:secret/payments/deploy"],
           "retired_references": ["github-secret:OLD_DEPLOY_TOKEN", "k8s-secret:prod/db-creds-v1"],
           "versions": [
             {"fingerprint": "sha256:1111111111111111111111111111111111111111111111111111111111111111", "created": "2026-01-01", "status": "revoked", "revoked": "2026-11-01",
              "reset": {"by": "alice", "approved_by": "bob", "ticket": "SEC-42", "reason": "exposed"}},
             {"fingerprint": "sha256:2222222222222222222222222222222222222222222222222222222222222222", "created": "2026-11-01", "status": "active"}]},
          {"id": "scoped", "kind": "password", "repos": ["billing-*"],
           "retired_references": ["env:DB_PASSWORD"],
           "versions": [{"fingerprint": "sha256:3333333333333333333333333333333333333333333333333333333333333333", "created": "2026-01-01", "status": "active"}]}]}"#;
        let index = load(text).expect("valid");
        let r = |s: &str| s.parse::<Reference>().expect("reference");
        match index.reference_status(&r("github-secret:old_deploy_token"), "api") {
            ReferenceStatus::Retired {
                credential,
                replaced_by,
            } => {
                assert_eq!((credential.id.as_str(), credential.version), ("deploy", 1));
                assert_eq!(credential.reset.expect("reset").ticket, "SEC-42");
                assert_eq!(replaced_by, vec!["github-secret:DEPLOY_TOKEN".to_string()]);
            }
            other => panic!("expected retired, got {other:?}"),
        }
        assert!(matches!(
            index.reference_status(&r("k8s-secret:prod/db-creds-v1#password"), "api"),
            ReferenceStatus::Retired { .. }
        ));
        assert!(matches!(
            index.reference_status(&r("vault:secret/data/payments/deploy"), "api"),
            ReferenceStatus::Known(c) if c.id == "deploy" && c.version == 2
        ));
        assert_eq!(
            index.reference_status(&r("env:DB_PASSWORD"), "api"),
            ReferenceStatus::Unknown
        );
        assert!(matches!(
            index.reference_status(&r("env:DB_PASSWORD"), "billing-api"),
            ReferenceStatus::Retired { .. }
        ));
    }
}
