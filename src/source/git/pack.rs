//! Reads objects straight from the repository's pack files, resolving each delta chain once.
//!
//! libgit2 keeps only the object at the bottom of a delta chain: reading the fifty versions of
//! a tree chained fifty deep inflates and applies some 1,250 deltas, which made tree walking and
//! blob reading spend a third of the scan in zlib and malloc. Here every object a delta was
//! applied to is kept (within a byte budget), so a chain costs about one inflate and one delta
//! application per object in it, in whatever order its objects are asked for.
//!
//! Anything this reader does not handle (loose objects, alternates, an index it does not know,
//! a damaged entry) is answered `None`: the caller then asks libgit2, whose errors the
//! warnings are made of, so a damaged repository reads exactly as before.

use git2::Oid;
use memmap2::Mmap;
use rayon::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

/// Decoded delta bases kept, across all shards (git's `core.deltaBaseCacheLimit` is 96 MiB).
const CACHE_BYTES: usize = 64 << 20;
const SHARDS: usize = 16;
/// Longer chains than git ever writes (`pack.depth` is capped at 4095) mean a damaged pack.
const MAX_CHAIN: usize = 4096;

const COMMIT: u8 = 1;
const OFS_DELTA: u8 = 6;
const REF_DELTA: u8 = 7;

/// The pack files of one repository.
pub(super) struct Packs {
    packs: Vec<Pack>,
    cache: Vec<Mutex<Shard>>,
}

/// Where an object lies: which pack, at which offset.
#[derive(Debug, Clone, Copy)]
struct Packed {
    pack: u32,
    offset: u64,
}

/// A decoded object, shared with the cache when other objects are deltas of it.
pub(super) type Object = Arc<Vec<u8>>;

/// An object read under a size limit.
pub(super) enum Limited {
    Object(Object),
    /// Larger than the limit, by this many bytes: not decoded.
    TooLarge(u64),
}

struct Pack {
    idx: Mmap,
    data: Mmap,
    count: usize,
    /// The entries some delta applies to, once [`Packs::survey`] ran.
    bases: OnceLock<Bases>,
}

/// The entries of a pack some delta applies to: their offsets, sorted, and how many deltas
/// apply to each.
struct Bases {
    offsets: Vec<u64>,
    deltas: Vec<u32>,
}

impl Bases {
    /// How often the entry at `offset` is used in a read of everything, if it is a base:
    /// once for each delta of it, and once read itself.
    fn uses(&self, offset: u64) -> Option<u32> {
        let i = self.offsets.binary_search(&offset).ok()?;
        Some(self.deltas[i].saturating_add(1))
    }
}

/// An object kept in the cache.
struct Kept {
    object: Object,
    /// The shard's tick when last used (least recently used entries go first).
    tick: u64,
    /// Uses still to come ([`Bases::uses`]); [`UNCOUNTED`] when not known.
    left: u32,
}

/// Uses left of an object whose uses are not known: it stays until the budget evicts it.
const UNCOUNTED: u32 = u32::MAX;

#[derive(Default)]
struct Shard {
    entries: HashMap<(u32, u64), Kept>,
    bytes: usize,
    tick: u64,
}

/// One pack entry's header.
struct Entry {
    /// Object type (1 commit, 2 tree, 3 blob, 4 tag) or delta kind.
    kind: u8,
    /// Inflated size of the entry's own data (for a delta, the delta's size).
    size: usize,
    /// Where the zlib stream starts.
    start: usize,
    /// The entry a delta applies to.
    base: Option<u64>,
}

/// Why a read is left to libgit2 (never shown: libgit2 says what is wrong).
struct Unhandled;

type Decoded<T> = Result<T, Unhandled>;

impl Packs {
    /// The packs under `objects/pack` of the git directory `common` (none when unreadable).
    pub(super) fn open(common: &Path) -> Packs {
        let mut packs = Vec::new();
        let mut names: Vec<_> = std::fs::read_dir(common.join("objects").join("pack"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "idx"))
            .collect();
        names.sort();
        for idx in names {
            if let Some(p) = Pack::open(&idx, &idx.with_extension("pack")) {
                packs.push(p);
            }
        }
        Packs {
            packs,
            cache: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// No packs: every read goes to libgit2 (a scope that reads a handful of objects).
    pub(super) fn none() -> Packs {
        Packs {
            packs: Vec::new(),
            cache: Vec::new(),
        }
    }

    /// One pass over every pack entry's header, on the current rayon pool: lists the entries
    /// some delta applies to, so that such an entry is kept when it is asked for itself, not
    /// only when met as a base (a whole-history read asks for most bases before their deltas,
    /// as a pack deltifies older versions against newer ones, and without this decoded each
    /// of them twice), and how many deltas apply to each, so that a base leaves the cache
    /// once all of them are applied and it was read (see [`Packs::cached`]); and returns the
    /// ids of the commits stored whole, for the caller to read ahead. Worth it for a read of
    /// everything, not for a read of a few objects.
    pub(super) fn survey(&self) -> Vec<Oid> {
        let mut commits = Vec::new();
        for pack in &self.packs {
            let (bases, mut whole) = pack.survey();
            pack.bases.get_or_init(|| bases);
            commits.append(&mut whole);
        }
        commits
    }

    /// The content of object `oid`: from the packs, else from libgit2's object database.
    pub(super) fn read_or(&self, odb: &git2::Odb<'_>, oid: Oid) -> Result<Object, git2::Error> {
        match self.read_packed(oid) {
            Some(object) => Ok(object),
            None => odb.read(oid).map(|o| Arc::new(o.data().to_vec())),
        }
    }

    /// The content of object `oid` when this reader can give it (`None`: ask libgit2).
    pub(super) fn read_packed(&self, oid: Oid) -> Option<Object> {
        self.find(oid).and_then(|at| self.read(at))
    }

    /// The content of object `oid` unless it is larger than `max` bytes: one lookup and,
    /// for a delta, one inflate of it (its header gives the size), where asking the size
    /// first and then the content takes two of each. Anything this reader does not handle
    /// is asked exactly that way, of [`Packs::size_or`] then [`Packs::read_or`].
    pub(super) fn read_within_or(
        &self,
        odb: &git2::Odb<'_>,
        oid: Oid,
        max: u64,
    ) -> Result<Limited, git2::Error> {
        let at = self.find(oid);
        if let Some(read) = at.and_then(|at| self.decode_within(at, max).ok()) {
            return Ok(read);
        }
        match self.size_or(odb, oid)? {
            size if size > max => Ok(Limited::TooLarge(size)),
            _ => self.read_or(odb, oid).map(Limited::Object),
        }
    }

    /// The raw content of commit `oid` when it lies whole in a pack (not as a delta, whose
    /// type would take its base to learn).
    pub(super) fn read_commit(&self, oid: Oid) -> Option<Vec<u8>> {
        let at = self.find(oid)?;
        let pack = &self.packs[at.pack as usize];
        let e = pack.entry(at.offset).ok().filter(|e| e.kind == COMMIT)?;
        inflate(&pack.data[e.start..], e.size).ok()
    }

    /// The size of object `oid`: from the packs, else from libgit2's object database.
    pub(super) fn size_or(&self, odb: &git2::Odb<'_>, oid: Oid) -> Result<u64, git2::Error> {
        match self.find(oid).and_then(|at| self.size(at)) {
            Some(size) => Ok(size),
            None => odb.read_header(oid).map(|(size, _)| size as u64),
        }
    }

    /// Where `oid` lies in a pack, if in one.
    fn find(&self, oid: Oid) -> Option<Packed> {
        self.packs.iter().enumerate().find_map(|(i, p)| {
            p.find(oid.as_bytes()).map(|offset| Packed {
                pack: i as u32,
                offset,
            })
        })
    }

    /// The inflated size of the object at `at` (read from the delta header for a delta).
    fn size(&self, at: Packed) -> Option<u64> {
        let pack = &self.packs[at.pack as usize];
        let e = pack.entry(at.offset).ok()?;
        if e.base.is_none() {
            return Some(e.size as u64);
        }
        delta_result_size(&pack.data[e.start..])
            .ok()
            .map(|s| s as u64)
    }

    /// [`Packs::read_within_or`] from the packs.
    fn decode_within(&self, at: Packed, max: u64) -> Decoded<Limited> {
        if let Some(hit) = self.cached(at.pack, at.offset, true) {
            return Ok(match hit.len() as u64 {
                size if size > max => Limited::TooLarge(size),
                _ => Limited::Object(hit),
            });
        }
        let pack = &self.packs[at.pack as usize];
        let e = pack.entry(at.offset)?;
        let input = &pack.data[e.start..];
        let Some(base_at) = e.base else {
            if e.size as u64 > max {
                return Ok(Limited::TooLarge(e.size as u64));
            }
            let object = Arc::new(inflate(input, e.size)?);
            return Ok(Limited::Object(
                self.kept_if_base(at.pack, at.offset, object, true),
            ));
        };
        // A delta larger than the limit is not inflated whole to learn that its result is.
        if e.size as u64 > max {
            let size = delta_result_size(input)? as u64;
            if size > max {
                return Ok(Limited::TooLarge(size));
            }
        }
        inflatable(input, e.size)?;
        let mut delta = SCRATCH.with_borrow_mut(|s| std::mem::take(&mut s.top));
        let read = SCRATCH.with_borrow_mut(|s| inflate_into(&mut s.z, input, &mut delta, e.size));
        let out = read.and_then(|()| {
            let mut pos = 0;
            varint(&delta, &mut pos)?;
            let size = varint(&delta, &mut pos)? as u64;
            if size > max {
                return Ok(Limited::TooLarge(size));
            }
            let base = self.decode(at.pack, base_at, true)?;
            if self.packs[at.pack as usize].bases.get().is_none() {
                self.keep(at.pack, base_at, &base, true);
            }
            let object = Arc::new(apply(&base, &delta)?);
            Ok(Limited::Object(
                self.kept_if_base(at.pack, at.offset, object, true),
            ))
        });
        if delta.capacity() <= 16 << 20 {
            SCRATCH.with_borrow_mut(|s| s.top = delta);
        }
        out
    }

    /// The content of the object at `at`.
    fn read(&self, at: Packed) -> Option<Object> {
        self.decode(at.pack, at.offset, false).ok()
    }

    fn decode(&self, pack_no: u32, offset: u64, counted: bool) -> Decoded<Object> {
        let pack = &self.packs[pack_no as usize];
        let mut deltas: Vec<(u64, Entry)> = Vec::new();
        let mut at = offset;
        let mut from_cache = false;
        let mut object = loop {
            if let Some(hit) = self.cached(pack_no, at, counted || !deltas.is_empty()) {
                if deltas.is_empty() {
                    return Ok(hit);
                }
                from_cache = true;
                break hit;
            }
            let e = pack.entry(at)?;
            match e.base {
                Some(base) => {
                    if deltas.len() == MAX_CHAIN {
                        return Err(Unhandled);
                    }
                    deltas.push((at, e));
                    at = base;
                }
                None => break Arc::new(inflate(&pack.data[e.start..], e.size)?),
            }
        };
        // Each object a delta applies to is kept (unless it came from the cache, which
        // counted this use); the one asked for only when it is a base.
        let mut base_at = at;
        for (at, e) in deltas.iter().rev() {
            if !std::mem::take(&mut from_cache) {
                self.keep(pack_no, base_at, &object, true);
            }
            object = Arc::new(undelta(&object, &pack.data[e.start..], e.size)?);
            base_at = *at;
        }
        Ok(self.kept_if_base(pack_no, offset, object, counted))
    }

    /// `object`, decoded from entry `offset`, after keeping it when some delta applies to it
    /// (known after [`Packs::survey`]; before, it is kept only when met as a base).
    fn kept_if_base(&self, pack_no: u32, offset: u64, object: Object, counted: bool) -> Object {
        let bases = self.packs[pack_no as usize].bases.get();
        if bases.is_some_and(|b| b.uses(offset).is_some()) {
            self.keep(pack_no, offset, &object, counted);
        }
        object
    }

    /// How often the entry at `offset` is used after the use it is decoded for (when that
    /// one is `counted`).
    fn uses_left(&self, pack_no: u32, offset: u64, counted: bool) -> u32 {
        let bases = self.packs[pack_no as usize].bases.get();
        bases
            .and_then(|b| b.uses(offset))
            .map_or(UNCOUNTED, |n| n - u32::from(counted))
    }

    fn shard(&self, offset: u64) -> &Mutex<Shard> {
        &self.cache[(offset as usize / 8) % SHARDS]
    }

    /// The object at `offset` if kept, counting this use of it when `counted`: after its
    /// last use (every delta of it applied, and it read itself as a blob) it leaves the
    /// cache, which then holds what is still to come instead of evicting it for what is done
    /// with (a whole-history read decoded a tenth of the objects of the bench repository
    /// twice, under the same budget). A tree's own reads are not counted: the ranges of a
    /// tree walk read the same trees again, and each miss decodes its whole chain again.
    fn cached(&self, pack: u32, offset: u64, counted: bool) -> Option<Object> {
        let mut shard = self.shard(offset).lock().expect("pack cache");
        shard.tick += 1;
        let tick = shard.tick;
        let kept = shard.entries.get_mut(&(pack, offset))?;
        kept.tick = tick;
        let object = kept.object.clone();
        match kept.left {
            _ if !counted => {}
            UNCOUNTED => {}
            0 | 1 => {
                shard.entries.remove(&(pack, offset));
                shard.bytes -= object.len();
            }
            _ => kept.left -= 1,
        }
        Some(object)
    }

    /// Keeps delta base `object`, just decoded for one use, while uses of it are to come;
    /// over budget, the least recently used half of the shard goes.
    fn keep(&self, pack_no: u32, offset: u64, object: &Object, counted: bool) {
        let left = self.uses_left(pack_no, offset, counted);
        if object.len() > CACHE_BYTES / SHARDS / 4 || left == 0 {
            return;
        }
        let mut shard = self.shard(offset).lock().expect("pack cache");
        shard.tick += 1;
        let tick = shard.tick;
        // Kept already (decoded by two threads at once): its count is left as it is.
        if !shard.entries.contains_key(&(pack_no, offset)) {
            let object = object.clone();
            shard.bytes += object.len();
            shard
                .entries
                .insert((pack_no, offset), Kept { object, tick, left });
        }
        if shard.bytes > CACHE_BYTES / SHARDS {
            let mut ticks: Vec<u64> = shard.entries.values().map(|k| k.tick).collect();
            let mid = ticks.len() / 2;
            let cutoff = *ticks.select_nth_unstable(mid).1;
            shard.entries.retain(|_, k| k.tick >= cutoff);
            shard.bytes = shard.entries.values().map(|k| k.object.len()).sum();
        }
    }
}

impl Pack {
    /// Opens a version 2 index and its pack; `None` for anything else, or a size mismatch.
    fn open(idx_path: &Path, pack_path: &Path) -> Option<Pack> {
        // SAFETY: git never rewrites a pack or its index in place (a repack writes new files
        // and unlinks the old, which leaves an existing mapping intact), and every read
        // through the mapping is bounds-checked.
        let idx = unsafe { Mmap::map(&std::fs::File::open(idx_path).ok()?) }.ok()?;
        let data = unsafe { Mmap::map(&std::fs::File::open(pack_path).ok()?) }.ok()?;
        if idx.get(..8)? != b"\xfftOc\0\0\0\x02" || data.get(..4)? != b"PACK" {
            return None;
        }
        let count = be32(&idx, 8 + 255 * 4)? as usize;
        // Ids, checksums and offsets, then the pack's and the index's own checksums.
        if idx.len() < offsets_at(count) + count * 4 + 40 {
            return None;
        }
        Some(Pack {
            idx,
            data,
            count,
            bases: OnceLock::new(),
        })
    }

    /// The entries some other entry is a delta of, with how many deltas each has, and
    /// the ids of the commits stored whole (a damaged entry is in neither: reading it is left
    /// to libgit2 anyway).
    fn survey(&self) -> (Bases, Vec<Oid>) {
        let none = || (Vec::new(), Vec::new());
        let (mut bases, commits): (Vec<u64>, Vec<Oid>) = (0..self.count)
            .into_par_iter()
            .with_min_len(4096)
            .fold(none, |(mut bases, mut commits), i| {
                match self.offset(i).and_then(|at| self.entry(at).ok()) {
                    Some(Entry { base: Some(b), .. }) => bases.push(b),
                    Some(Entry { kind: COMMIT, .. }) => {
                        commits.extend(Oid::from_bytes(self.oid(i)).ok());
                    }
                    _ => {}
                }
                (bases, commits)
            })
            .reduce(none, |(mut bases, mut commits), (b, c)| {
                bases.extend(b);
                commits.extend(c);
                (bases, commits)
            });
        bases.par_sort_unstable();
        let mut counted = Bases {
            offsets: Vec::new(),
            deltas: Vec::new(),
        };
        for run in bases.chunk_by(|a, b| a == b) {
            counted.offsets.push(run[0]);
            let deltas = u32::try_from(run.len()).unwrap_or(UNCOUNTED - 1);
            counted.deltas.push(deltas);
        }
        (counted, commits)
    }

    fn oid(&self, i: usize) -> &[u8] {
        &self.idx[8 + 256 * 4 + i * 20..][..20]
    }

    fn offset(&self, i: usize) -> Option<u64> {
        let o = be32(&self.idx, offsets_at(self.count) + i * 4)?;
        if o & 1 << 31 == 0 {
            return Some(u64::from(o));
        }
        let at = offsets_at(self.count) + self.count * 4 + (o & !(1 << 31)) as usize * 8;
        let b = self.idx.get(at..at + 8)?;
        Some(u64::from_be_bytes(b.try_into().ok()?))
    }

    fn find(&self, oid: &[u8]) -> Option<u64> {
        let first = oid[0] as usize;
        let lo = if first == 0 {
            0
        } else {
            be32(&self.idx, 8 + (first - 1) * 4)? as usize
        };
        let hi = (be32(&self.idx, 8 + first * 4)? as usize).min(self.count);
        let (mut lo, mut hi) = (lo.min(hi), hi);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.oid(mid).cmp(oid) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return self.offset(mid),
            }
        }
        None
    }

    fn entry(&self, offset: u64) -> Decoded<Entry> {
        let data = &self.data[..];
        let mut pos = usize::try_from(offset).map_err(|_| Unhandled)?;
        let byte = |pos: &mut usize| -> Decoded<u8> {
            let b = *data.get(*pos).ok_or(Unhandled)?;
            *pos += 1;
            Ok(b)
        };
        let mut c = byte(&mut pos)?;
        let kind = (c >> 4) & 7;
        let mut size = usize::from(c & 15);
        let mut shift = 4;
        while c & 0x80 != 0 {
            c = byte(&mut pos)?;
            if shift > 56 {
                return Err(Unhandled);
            }
            size |= usize::from(c & 0x7f) << shift;
            shift += 7;
        }
        let base = match kind {
            1..=4 => None,
            OFS_DELTA => {
                c = byte(&mut pos)?;
                let mut back = u64::from(c & 0x7f);
                while c & 0x80 != 0 {
                    c = byte(&mut pos)?;
                    // Checked: a damaged run of continuation bytes must not overflow.
                    let shifted = back.checked_add(1).and_then(|b| b.checked_mul(128));
                    back = shifted.ok_or(Unhandled)? | u64::from(c & 0x7f);
                }
                Some(
                    offset
                        .checked_sub(back)
                        .filter(|&b| b > 0)
                        .ok_or(Unhandled)?,
                )
            }
            REF_DELTA => {
                let id = data.get(pos..pos + 20).ok_or(Unhandled)?;
                pos += 20;
                Some(self.find(id).ok_or(Unhandled)?)
            }
            _ => return Err(Unhandled),
        };
        Ok(Entry {
            kind,
            size,
            start: pos,
            base,
        })
    }
}

/// Where the 4-byte offsets table of an index of `count` objects starts.
fn offsets_at(count: usize) -> usize {
    8 + 256 * 4 + count * 24
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Per-thread inflate state and delta buffers, reused instead of allocated for every entry.
struct Scratch {
    z: zlib_rs::Inflate,
    delta: Vec<u8>,
    /// The delta of the object asked for, held while its base is decoded.
    top: Vec<u8>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch {
        z: zlib_rs::Inflate::new(true, 15),
        delta: Vec::new(),
        top: Vec::new(),
    });
}

/// Sets `out` to the zlib stream at the start of `input`, which must give exactly `size`
/// bytes (checked by the caller with [`inflatable`]). The bytes are written into `out`'s
/// spare capacity, not over zeroes first: zeroing every object was a twentieth of inflating.
fn inflate_into(
    z: &mut zlib_rs::Inflate,
    input: &[u8],
    out: &mut Vec<u8>,
    size: usize,
) -> Decoded<()> {
    out.clear();
    out.reserve_exact(size);
    z.reset(true);
    let spare = &mut out.spare_capacity_mut()[..size];
    match z.decompress_uninit(input, spare, zlib_rs::InflateFlush::Finish) {
        Ok(zlib_rs::Status::StreamEnd) if z.total_out() == size as u64 => {
            // SAFETY: inflate wrote `total_out` bytes from the start of the spare capacity,
            // which is `size` bytes as just checked.
            unsafe { out.set_len(size) };
            Ok(())
        }
        _ => Err(Unhandled),
    }
}

/// Whether `size` bytes can come out of `input`: deflate expands at most 1032 to 1, so a
/// larger size is a damaged header, refused before it is allocated.
fn inflatable(input: &[u8], size: usize) -> Decoded<()> {
    if size > input.len().saturating_mul(1032).saturating_add(64) {
        return Err(Unhandled);
    }
    Ok(())
}

/// Inflates an entry that is no delta: `size` bytes.
fn inflate(input: &[u8], size: usize) -> Decoded<Vec<u8>> {
    inflatable(input, size)?;
    let mut out = Vec::new();
    SCRATCH.with_borrow_mut(|s| inflate_into(&mut s.z, input, &mut out, size))?;
    Ok(out)
}

/// Inflates a delta entry of `size` bytes and applies it to `base`.
fn undelta(base: &[u8], input: &[u8], size: usize) -> Decoded<Vec<u8>> {
    inflatable(input, size)?;
    SCRATCH.with_borrow_mut(|s| {
        inflate_into(&mut s.z, input, &mut s.delta, size)?;
        let out = apply(base, &s.delta);
        if s.delta.capacity() > 16 << 20 {
            s.delta = Vec::new();
        }
        out
    })
}

/// Inflates the first bytes of the zlib stream at the start of `input` into `out`.
fn inflate_prefix(input: &[u8], out: &mut [u8]) -> Decoded<usize> {
    SCRATCH.with_borrow_mut(|s| {
        s.z.reset(true);
        match s.z.decompress(input, out, zlib_rs::InflateFlush::NoFlush) {
            Ok(_) => Ok(s.z.total_out() as usize),
            Err(_) => Err(Unhandled),
        }
    })
}

/// The size of the object a delta entry (its zlib stream at the start of `input`) makes,
/// from the delta's header alone.
fn delta_result_size(input: &[u8]) -> Decoded<usize> {
    let mut head = [0u8; 24];
    let n = inflate_prefix(input, &mut head)?;
    let mut pos = 0;
    varint(&head[..n], &mut pos)?;
    varint(&head[..n], &mut pos)
}

/// A delta header's size: little-endian base-128.
fn varint(b: &[u8], pos: &mut usize) -> Decoded<usize> {
    let mut v = 0usize;
    let mut shift = 0;
    loop {
        let c = *b.get(*pos).ok_or(Unhandled)?;
        *pos += 1;
        if shift > 56 {
            return Err(Unhandled);
        }
        v |= usize::from(c & 0x7f) << shift;
        shift += 7;
        if c & 0x80 == 0 {
            return Ok(v);
        }
    }
}

/// Applies a git delta (copy and insert instructions) to `base`.
fn apply(base: &[u8], delta: &[u8]) -> Decoded<Vec<u8>> {
    let mut pos = 0;
    if varint(delta, &mut pos)? != base.len() {
        return Err(Unhandled);
    }
    let size = varint(delta, &mut pos)?;
    // A damaged header may claim any size: reserve no more than the copies could give at once.
    let mut out = Vec::with_capacity(size.min(base.len().saturating_add(delta.len())));
    while let Some(&op) = delta.get(pos) {
        pos += 1;
        if op & 0x80 != 0 {
            let mut field = |bits: u8, bytes: usize| -> Decoded<usize> {
                let mut v = 0usize;
                for i in 0..bytes {
                    if bits & (1 << i) != 0 {
                        v |= usize::from(*delta.get(pos).ok_or(Unhandled)?) << (8 * i);
                        pos += 1;
                    }
                }
                Ok(v)
            };
            let from = field(op, 4)?;
            let len = match field(op >> 4, 3)? {
                0 => 0x10000,
                n => n,
            };
            let copy = base.get(from..from.checked_add(len).ok_or(Unhandled)?);
            out.extend_from_slice(copy.ok_or(Unhandled)?);
        } else if op != 0 {
            let insert = delta.get(pos..pos + usize::from(op)).ok_or(Unhandled)?;
            out.extend_from_slice(insert);
            pos += usize::from(op);
        } else {
            return Err(Unhandled);
        }
        if out.len() > size {
            return Err(Unhandled);
        }
    }
    if out.len() != size {
        return Err(Unhandled);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_within_a_limit_gives_the_object_or_its_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .args(["-c", "user.name=T", "-c", "user.email=t@example.org"])
                .args(args)
                .current_dir(dir.path())
                .status()
                .expect("git")
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q", "."]);
        // Versions of one file deltify against each other; a second file stays whole.
        let mut text: String = (0..400)
            .map(|i| format!("line {i} of the file\n"))
            .collect();
        for round in 0..6 {
            text.push_str(&format!("round {round}\n"));
            std::fs::write(dir.path().join("a.txt"), &text).expect("write");
            std::fs::write(dir.path().join(format!("b{round}.txt")), "small\n").expect("write");
            git(&["add", "-A"]);
            git(&["commit", "-q", "-m", "c"]);
        }
        git(&["repack", "-adq"]);
        let repo = git2::Repository::open(dir.path()).expect("repo");
        let odb = repo.odb().expect("odb");
        let packs = Packs::open(repo.commondir());
        let mut blobs = Vec::new();
        odb.foreach(|id| {
            blobs.push(*id);
            true
        })
        .expect("objects");
        let mut deltas = 0;
        for id in blobs {
            let want = odb.read(id).expect("read");
            let at = packs.find(id).expect("packed");
            let entry = packs.packs[at.pack as usize]
                .entry(at.offset)
                .ok()
                .expect("entry");
            deltas += usize::from(entry.base.is_some());
            let size = want.data().len() as u64;
            match packs.read_within_or(&odb, id, size).expect("within") {
                Limited::Object(o) => assert_eq!(&o[..], want.data()),
                Limited::TooLarge(n) => panic!("{id}: {n} bytes is not over {size}"),
            }
            if size > 0 {
                match packs.read_within_or(&odb, id, size - 1).expect("within") {
                    Limited::TooLarge(n) => assert_eq!(n, size),
                    Limited::Object(_) => panic!("{id}: over the limit, read"),
                }
            }
        }
        assert!(deltas > 3, "the test repository holds deltas");
    }

    #[test]
    fn a_damaged_size_is_refused_before_it_is_allocated() {
        // A valid empty zlib stream, claimed to inflate to a petabyte.
        let empty = [0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01];
        assert!(inflate(&empty, 1 << 50).is_err());
        assert!(undelta(b"base", &empty, 1 << 50).is_err());
        assert_eq!(inflate(&empty, 0).ok(), Some(Vec::new()));
        // A delta whose header claims an absurd result size and copies past its base.
        let mut delta = vec![4];
        delta.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        delta.extend_from_slice(&[0x91, 0x00, 0xff]);
        assert!(apply(b"base", &delta).is_err());
    }
}
