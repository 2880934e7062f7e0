//! The blob index: each distinct blob reachable from the commits in scope, once, with the path
//! and oldest commit that introduced it and the number of commits whose tree holds it.
//!
//! Trees are walked with a seen-set, so a subtree unchanged across ten thousand commits is read
//! once. Commit counts are propagated through the tree DAG afterwards (parents before children,
//! in reverse post-order) instead of re-walking each commit's full tree.
//!
//! The commits are walked in consecutive ranges in parallel, each range with its own seen-set
//! (the cost: each range reads its first commit's whole tree), then merged. The merge gives
//! exactly what one walk over all commits gives: a blob (or tree) first met in commit `c` was
//! in no earlier commit, so no tree holding it was seen before `c` in either walk, and the
//! range holding `c` meets it at the same path; the earliest range that holds it therefore
//! has its path and oldest commit. Counts are sums over the ranges.

use super::pack::{Object, Packs};
use crate::diag::{Code, Diagnostic};
use git2::{Oid, Repository};
use rayon::prelude::*;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;
use std::time::Instant;

/// Object ids are already uniformly distributed: hash one by its first eight bytes.
#[derive(Default)]
pub(super) struct OidHasher(u64);

impl Hasher for OidHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(b);
        }
    }
}

/// A map by object id that compares ids as bytes: `Oid`'s own `==` is a call into libgit2,
/// which was a sixth of the tree walk.
pub(super) struct OidMap<V>(HashMap<[u8; 20], V, BuildHasherDefault<OidHasher>>);

pub(super) fn key(oid: &Oid) -> [u8; 20] {
    <[u8; 20]>::try_from(oid.as_bytes()).unwrap_or_default()
}

impl<V> Default for OidMap<V> {
    fn default() -> Self {
        OidMap(HashMap::default())
    }
}

impl<V: Send> rayon::iter::FromParallelIterator<(Oid, V)> for OidMap<V> {
    fn from_par_iter<I: IntoParallelIterator<Item = (Oid, V)>>(items: I) -> Self {
        OidMap(items.into_par_iter().map(|(k, v)| (key(&k), v)).collect())
    }
}

impl<V> OidMap<V> {
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }
    pub(super) fn get(&self, oid: &Oid) -> Option<&V> {
        self.0.get(&key(oid))
    }
    pub(super) fn remove(&mut self, oid: &Oid) -> Option<V> {
        self.0.remove(&key(oid))
    }
    fn get_raw(&self, id: &[u8; 20]) -> Option<&V> {
        self.0.get(id)
    }
    fn contains_key(&self, oid: &Oid) -> bool {
        self.0.contains_key(&key(oid))
    }
    pub(super) fn insert(&mut self, oid: Oid, value: V) -> Option<V> {
        self.0.insert(key(&oid), value)
    }
    fn entry(&mut self, oid: Oid) -> std::collections::hash_map::Entry<'_, [u8; 20], V> {
        self.0.entry(key(&oid))
    }
}

/// One commit in scope, with what attribution needs.
#[derive(Debug, Clone)]
pub(super) struct CommitInfo {
    pub id: Oid,
    pub tree: Oid,
    pub parents: Vec<Oid>,
    /// Committer time: the processing order.
    pub time: i64,
    pub author: String,
    pub author_time: i64,
    pub author_offset: i32,
}

/// A distinct blob to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BlobEntry {
    pub oid: Oid,
    pub path: String,
    /// Index into the commit list of the oldest commit whose tree holds it.
    pub commit: Option<u32>,
    /// Commits whose tree holds it.
    pub count: u64,
    /// The path in history is not UTF-8: `path` shows it with replacement characters.
    lossy: bool,
}

/// Where a walk starts, in the order the walk takes them.
pub(super) enum Root<'p> {
    /// The tree of commit number `commit` (`None`: a tree a ref names directly).
    Tree { tree: Oid, commit: Option<u32> },
    /// A blob a ref (`name`) names directly, reachable from no commit.
    Blob { oid: Oid, name: &'p str },
}

/// Reads trees from the packs, else through libgit2: the planning repository, or one
/// opened on first need (a walk of a fully packed repository on a worker opens none).
pub(super) struct Trees<'a> {
    packs: &'a Packs,
    repo: Fallback<'a>,
}

enum Fallback<'a> {
    Shared(&'a Repository),
    Unopened(&'a Path),
    Opened(Repository),
}

impl<'a> Trees<'a> {
    /// Falls back on `repo`.
    pub(super) fn shared(packs: &'a Packs, repo: &'a Repository) -> Self {
        Trees {
            packs,
            repo: Fallback::Shared(repo),
        }
    }

    /// Falls back on the repository at `open_path`, opened when first needed.
    pub(super) fn lazy(packs: &'a Packs, open_path: &'a Path) -> Self {
        Trees {
            packs,
            repo: Fallback::Unopened(open_path),
        }
    }

    fn read(&mut self, oid: Oid) -> Result<Object, git2::Error> {
        if let Some(object) = self.packs.read_packed(oid) {
            return Ok(object);
        }
        if let Fallback::Unopened(path) = self.repo {
            self.repo = Fallback::Opened(Repository::open(path)?);
        }
        let odb = match &self.repo {
            Fallback::Shared(r) => r.odb()?,
            Fallback::Opened(r) => r.odb()?,
            Fallback::Unopened(_) => unreachable!("opened above"),
        };
        self.packs.read_or(&odb, oid)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TreeState {
    Open,
    /// Finished tree with its post-order index.
    Done(u32),
}

const BLOB_BIT: u32 = 1 << 31;

/// Blob index value of a blob of the base of a limited scope (present before it: not new).
const BASE_BLOB: u32 = u32::MAX;

/// The blob index of one repository.
pub(super) struct Index {
    /// Trees seen while pre-seeding the base of a limited scope: they hold nothing new.
    base_trees: OidMap<()>,
    /// Blob id → index in `blobs`, or [`BASE_BLOB`].
    blob_ids: OidMap<u32>,
    pub blobs: Vec<BlobEntry>,
    pub trees_read: u64,
    pub unreadable: u64,
    pub warnings: Vec<Diagnostic>,
    repo_name: String,
}

/// One range of roots walked on its own: what [`Index::walk`] merges.
struct Part<'a> {
    base: &'a Index,
    trees: OidMap<TreeState>,
    /// Blob id → index in `blobs`.
    blob_ids: OidMap<u32>,
    blobs: Vec<BlobEntry>,
    /// Children of each finished tree (post-order index), tagged with `BLOB_BIT` for blobs:
    /// tree `t`'s are `children[child_end[t - 1]..child_end[t]]` (one buffer, not one per tree).
    children: Vec<u32>,
    child_end: Vec<usize>,
    /// Emptied child lists to reuse for the next trees walked.
    spare_kids: Vec<Vec<u32>>,
    /// Commits counted per finished tree index (root trees only, before propagation).
    root_counts: Vec<u64>,
    /// Every tree read, in order, with the warning when it could not be read.
    read: TreeReads,
    /// Submodule entries met: (tree holding it, path, commit it pins).
    gitlinks: Gitlinks,
}

/// Every tree a range read, in order, with the warning when it could not be read.
type TreeReads = Vec<(Oid, Option<Diagnostic>)>;

/// Submodule entries a range met: (tree holding it, path, commit it pins).
type Gitlinks = Vec<(Oid, String, Oid)>;

/// What a range's walk found, for [`Index::merge`].
struct Found {
    blobs: Vec<BlobEntry>,
    read: TreeReads,
    gitlinks: Gitlinks,
}

struct Frame {
    oid: Oid,
    /// Length of this tree's path in the shared path buffer.
    prefix: usize,
    /// Raw tree object: `<mode> <name>\0<20-byte id>` entries.
    data: Object,
    pos: usize,
    kids: Vec<u32>,
}

/// One raw tree entry: (mode, name, id).
fn next_entry<'d>(
    data: &'d [u8],
    pos: &mut usize,
) -> Option<(u32, std::ops::Range<usize>, &'d [u8; 20])> {
    let rest = data.get(*pos..)?;
    let sp = memchr::memchr(b' ', rest)?;
    let nul = sp + memchr::memchr(0, &rest[sp..])?;
    let id = rest.get(nul + 1..nul + 21)?.try_into().ok()?;
    let mode = rest[..sp].iter().try_fold(0u32, |m, &b| {
        (b'0'..=b'7')
            .contains(&b)
            .then(|| m * 8 + u32::from(b - b'0'))
    })?;
    let name = *pos + sp + 1..*pos + nul;
    *pos += nul + 21;
    Some((mode, name, id))
}

fn oid(id: &[u8; 20]) -> Oid {
    Oid::from_bytes(id).unwrap_or_else(|_| Oid::zero())
}

/// Sets `path` to the path of entry `name` of the tree whose own path is `path[..prefix]`.
fn entry_path(path: &mut Vec<u8>, prefix: usize, name: &[u8]) {
    path.truncate(prefix);
    if !path.is_empty() {
        path.push(b'/');
    }
    path.extend_from_slice(name);
}

impl Index {
    pub(super) fn new(repo_name: &str) -> Self {
        Index {
            base_trees: OidMap::default(),
            blob_ids: OidMap::default(),
            blobs: Vec::new(),
            trees_read: 0,
            unreadable: 0,
            warnings: Vec::new(),
            repo_name: repo_name.to_string(),
        }
    }

    /// Whether a blob id was seen at all (new or base).
    pub(super) fn is_known_blob(&self, oid: Oid) -> bool {
        self.blob_ids.contains_key(&oid)
    }

    /// Whether a blob id is new in this scope.
    pub(super) fn is_new_blob(&self, oid: Oid) -> bool {
        self.blob_ids.get(&oid).is_some_and(|&i| i != BASE_BLOB)
    }

    /// Marks every tree and blob under `tree` as already present (the base of a limited scope).
    pub(super) fn preseed(&mut self, reader: &mut Trees<'_>, tree: Oid) {
        let mut stack = vec![tree];
        while let Some(oid) = stack.pop() {
            if self.base_trees.insert(oid, ()).is_some() {
                continue;
            }
            self.trees_read += 1;
            let data = match read_tree(reader, &self.repo_name, oid, b"") {
                Ok(data) => data,
                Err(w) => {
                    self.unreadable += 1;
                    self.warnings.push(w);
                    continue;
                }
            };
            let mut pos = 0;
            while let Some((mode, _, id)) = next_entry(&data, &mut pos) {
                match mode & 0o170_000 {
                    0o040_000 => stack.push(self::oid(id)),
                    0o100_000 => {
                        self.blob_ids.0.entry(*id).or_insert(BASE_BLOB);
                    }
                    _ => {}
                }
            }
        }
    }

    /// Walks `roots` in order (after any [`Index::preseed`]; once), recording new blobs: in
    /// up to `parts` ranges on `pool`, each reading trees through its own `reader()` and
    /// each a task of its own (rayon would otherwise walk neighbouring ranges as one).
    pub(super) fn walk<'a>(
        &mut self,
        pool: &rayon::ThreadPool,
        roots: &[Root<'_>],
        parts: usize,
        reader: impl Fn() -> Trees<'a> + Sync,
        deadline: Option<Instant>,
    ) {
        let per_part = roots.len().div_ceil(parts.max(1)).max(1);
        let found: Vec<Found> = {
            let base = &*self;
            pool.install(|| {
                roots
                    .par_chunks(per_part)
                    .with_max_len(1)
                    .map(|range| Part::new(base).walk(&mut reader(), range, deadline))
                    .collect()
            })
        };
        self.merge(pool, found);
    }

    /// Joins the ranges' walks, earliest first: the first range to meet a blob or tree
    /// gives its path, commit and warnings, and every range adds its commit counts. The
    /// trees and the blobs, which do not depend on each other, are joined at once on `pool`.
    fn merge(&mut self, pool: &rayon::ThreadPool, parts: Vec<Found>) {
        let (trees, blobs): (Vec<_>, Vec<_>) = parts
            .into_iter()
            .map(|p| ((p.read, p.gitlinks), p.blobs))
            .unzip();
        let (ids, all) = (&mut self.blob_ids, &mut self.blobs);
        let (trees, non_utf8) =
            pool.install(|| rayon::join(|| join_trees(trees), || join_blobs(ids, all, blobs)));
        self.trees_read += trees.read;
        self.unreadable += trees.failures.len() as u64;
        self.warnings.extend(trees.failures);
        let submodules = trees.submodules;
        for (path, oid) in submodules {
            self.warnings.push(Diagnostic::new(
                Code::GitSubmodule,
                format!("{}:{path}", self.repo_name),
                format!("submodule (commit {oid}) is not followed; scan its repository on its own"),
            ));
        }
        for path in non_utf8 {
            self.warnings.push(Diagnostic::new(
                Code::NonUtf8Path,
                format!("{}:{path}", self.repo_name),
                "path in history is not valid UTF-8; shown with U+FFFD replacement characters",
            ));
        }
    }
}

/// The tree reads of a walk's ranges, joined ([`join_trees`]).
struct TreesJoined {
    /// Distinct trees read.
    read: u64,
    /// Why each tree that could not be read could not, as first met.
    failures: Vec<Diagnostic>,
    /// Submodule path → the commit it pins, as first met.
    submodules: BTreeMap<String, Oid>,
}

/// Each range's trees read and submodule entries met, joined earliest range first: the
/// first range to read a tree gives its warning and the submodules it holds.
fn join_trees(parts: Vec<(TreeReads, Gitlinks)>) -> TreesJoined {
    let mut first_read: OidMap<usize> = OidMap::default();
    first_read
        .0
        .reserve(parts.iter().map(|(read, _)| read.len()).sum());
    let mut joined = TreesJoined {
        read: 0,
        failures: Vec::new(),
        submodules: BTreeMap::new(),
    };
    for (p, (read, gitlinks)) in parts.into_iter().enumerate() {
        for (oid, failure) in read {
            if let Entry::Vacant(v) = first_read.entry(oid) {
                v.insert(p);
                joined.read += 1;
                joined.failures.extend(failure);
            }
        }
        for (tree, path, link) in gitlinks {
            if first_read.get(&tree) == Some(&p) {
                joined.submodules.entry(path).or_insert(link);
            }
        }
    }
    joined
}

/// Each range's blobs added to `ids` and `blobs`, earliest range first: the first range to
/// meet a blob gives its path and commit, and every range adds its commit count. Returns
/// the paths that are not UTF-8.
fn join_blobs(
    ids: &mut OidMap<u32>,
    blobs: &mut Vec<BlobEntry>,
    parts: Vec<Vec<BlobEntry>>,
) -> BTreeSet<String> {
    let met: usize = parts.iter().map(Vec::len).sum();
    ids.0.reserve(met);
    blobs.reserve(met);
    let mut non_utf8 = BTreeSet::new();
    for b in parts.into_iter().flatten() {
        match ids.entry(b.oid) {
            Entry::Occupied(i) => blobs[*i.get() as usize].count += b.count,
            Entry::Vacant(v) => {
                v.insert(blobs.len() as u32);
                if b.lossy {
                    non_utf8.insert(b.path.clone());
                }
                blobs.push(b);
            }
        }
    }
    non_utf8
}

/// The raw bytes of a tree, or the warning saying why it cannot be read.
fn read_tree(
    reader: &mut Trees<'_>,
    repo_name: &str,
    oid: Oid,
    path: &[u8],
) -> Result<Object, Diagnostic> {
    reader.read(oid).map_err(|e| {
        let shown = String::from_utf8_lossy(path);
        object_warning(repo_name, oid, "tree", &shown, &e)
    })
}

impl<'a> Part<'a> {
    fn new(base: &'a Index) -> Self {
        Part {
            base,
            trees: OidMap::default(),
            blob_ids: OidMap::default(),
            blobs: Vec::new(),
            children: Vec::new(),
            child_end: Vec::new(),
            spare_kids: Vec::new(),
            root_counts: Vec::new(),
            read: Vec::new(),
            gitlinks: Vec::new(),
        }
    }

    /// Walks `roots` in order, then propagates the commit counts to the blobs.
    fn walk(
        mut self,
        reader: &mut Trees<'_>,
        roots: &[Root<'_>],
        deadline: Option<Instant>,
    ) -> Found {
        for (i, root) in roots.iter().enumerate() {
            if i % 256 == 0 && super::past(deadline) {
                break;
            }
            match *root {
                Root::Tree { tree, commit } => self.add_root(reader, tree, commit),
                Root::Blob { oid, name } => self.add_loose_blob(oid, name),
            }
        }
        self.count();
        Found {
            blobs: self.blobs,
            read: self.read,
            gitlinks: self.gitlinks,
        }
    }

    /// Records a blob reachable from no commit (a tag pointing straight at it).
    fn add_loose_blob(&mut self, oid: Oid, path: &str) {
        if self.base.blob_ids.contains_key(&oid) || self.blob_ids.contains_key(&oid) {
            return;
        }
        self.blob_ids.insert(oid, self.blobs.len() as u32);
        self.blobs.push(BlobEntry {
            oid,
            path: path.to_string(),
            commit: None,
            count: 0,
            lossy: false,
        });
    }

    /// The raw bytes of a tree (empty, with a warning kept, when it cannot be read).
    fn read_tree(&mut self, reader: &mut Trees<'_>, oid: Oid, path: &[u8]) -> Object {
        let read = read_tree(reader, &self.base.repo_name, oid, path);
        let (data, failure) = match read {
            Ok(data) => (data, None),
            Err(w) => (Object::default(), Some(w)),
        };
        self.read.push((oid, failure));
        data
    }

    /// Walks the tree of commit number `commit` (`None`: a tree tagged directly).
    fn add_root(&mut self, reader: &mut Trees<'_>, tree: Oid, commit: Option<u32>) {
        if self.base.base_trees.contains_key(&tree) {
            return;
        }
        let root = match self.trees.get(&tree) {
            Some(TreeState::Done(i)) => Some(*i),
            Some(TreeState::Open) => None,
            None => self.walk_tree(reader, tree, commit),
        };
        if let (Some(i), Some(_)) = (root, commit) {
            self.root_counts[i as usize] += 1;
        }
    }

    fn walk_tree(&mut self, reader: &mut Trees<'_>, root: Oid, commit: Option<u32>) -> Option<u32> {
        self.trees.insert(root, TreeState::Open);
        let mut path: Vec<u8> = Vec::new();
        let data = self.read_tree(reader, root, b"");
        let mut stack = vec![Frame {
            oid: root,
            prefix: 0,
            data,
            pos: 0,
            kids: self.spare_kids.pop().unwrap_or_default(),
        }];
        let mut last = None;
        while let Some(top) = stack.last_mut() {
            let Some((mode, name, id)) = next_entry(&top.data, &mut top.pos) else {
                let done = stack.pop().expect("frame");
                let idx = self.finish_tree(done.oid, done.kids);
                if let Some(parent) = stack.last_mut() {
                    parent.kids.push(idx);
                }
                last = Some(idx);
                continue;
            };
            // The path is built only for what is new: most entries are known subtrees.
            match mode & 0o170_000 {
                0o040_000 => match self.trees.get_raw(id) {
                    Some(TreeState::Done(i)) => top.kids.push(*i),
                    Some(TreeState::Open) => {}
                    None if self.base.base_trees.get_raw(id).is_some() => {}
                    None => {
                        let oid = oid(id);
                        entry_path(&mut path, top.prefix, &top.data[name]);
                        self.trees.insert(oid, TreeState::Open);
                        let data = self.read_tree(reader, oid, &path);
                        stack.push(Frame {
                            oid,
                            prefix: path.len(),
                            data,
                            pos: 0,
                            kids: self.spare_kids.pop().unwrap_or_default(),
                        });
                    }
                },
                0o100_000 => {
                    let known = match self.blob_ids.get_raw(id) {
                        Some(&i) => Some(i),
                        None => self.base.blob_ids.get_raw(id).copied(),
                    };
                    let i = match known {
                        Some(BASE_BLOB) => continue,
                        Some(i) => i,
                        None => {
                            entry_path(&mut path, top.prefix, &top.data[name]);
                            self.new_blob(oid(id), &path, commit)
                        }
                    };
                    top.kids.push(i | BLOB_BIT);
                }
                0o160_000 => {
                    entry_path(&mut path, top.prefix, &top.data[name]);
                    let shown = String::from_utf8_lossy(&path).into_owned();
                    self.gitlinks.push((top.oid, shown, oid(id)));
                }
                // Symbolic links (0o120000) hold a path, not content: skipped as in the tree walk.
                _ => {}
            }
        }
        last
    }

    /// Files a walked tree's children under its post-order index, which it returns.
    fn finish_tree(&mut self, oid: Oid, mut kids: Vec<u32>) -> u32 {
        let idx = self.child_end.len() as u32;
        kids.sort_unstable();
        kids.dedup();
        self.children.extend_from_slice(&kids);
        self.child_end.push(self.children.len());
        kids.clear();
        self.spare_kids.push(kids);
        self.root_counts.push(0);
        self.trees.insert(oid, TreeState::Done(idx));
        idx
    }

    fn new_blob(&mut self, oid: Oid, path: &[u8], commit: Option<u32>) -> u32 {
        let (path, lossy) = match std::str::from_utf8(path) {
            Ok(p) => (p.to_string(), false),
            Err(_) => (String::from_utf8_lossy(path).into_owned(), true),
        };
        let i = self.blobs.len() as u32;
        self.blob_ids.insert(oid, i);
        self.blobs.push(BlobEntry {
            oid,
            path,
            commit,
            count: 0,
            lossy,
        });
        i
    }

    /// Propagates commit counts from root trees to blobs.
    fn count(&mut self) {
        let mut counts = std::mem::take(&mut self.root_counts);
        for t in (0..self.child_end.len()).rev() {
            let c = counts[t];
            if c == 0 {
                continue;
            }
            let start = if t == 0 { 0 } else { self.child_end[t - 1] };
            for &k in &self.children[start..self.child_end[t]] {
                if k & BLOB_BIT != 0 {
                    self.blobs[(k & !BLOB_BIT) as usize].count += c;
                } else {
                    counts[k as usize] += c;
                }
            }
        }
    }
}

/// A warning for an object that could not be read: missing or corrupt.
pub(super) fn object_warning(
    repo: &str,
    oid: Oid,
    what: &str,
    path: &str,
    e: &git2::Error,
) -> Diagnostic {
    let code = if e.code() == git2::ErrorCode::NotFound {
        Code::MissingGitObject
    } else {
        Code::CorruptGitObject
    };
    let place = if path.is_empty() {
        repo.to_string()
    } else {
        format!("{repo}:{path}")
    };
    Diagnostic::new(
        code,
        place,
        format!("{what} {oid}: {}; skipped", e.message()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;
    use std::process::{Command, Stdio};

    /// A history with what could tell a split walk from one walk: content moving between
    /// paths and coming back, a directory copied whole, a merged side branch, submodules,
    /// a non-UTF-8 path, and refs naming a tree and a blob directly.
    fn tangled_repo(dir: &Path) {
        let mut s = String::new();
        let mut time = 1_600_000_000u64;
        let mut commit = |s: &mut String,
                          branch: &str,
                          mark: u32,
                          ops: &str,
                          merge: Option<u32>| {
            time += 60;
            let _ = write!(
                s,
                "commit refs/heads/{branch}\nmark :{mark}\ncommitter Dev <dev@example.org> {time} +0000\ndata 2\nc\n"
            );
            if let Some(m) = merge {
                let _ = writeln!(s, "merge :{m}");
            }
            s.push_str(ops);
        };
        let file = |path: &str, body: &str| {
            format!("M 100644 inline {path}\ndata {}\n{body}\n", body.len())
        };
        for i in 1..=60u32 {
            let mut ops = file(
                &format!("d{}/f{}.txt", i % 5, i % 7),
                &format!("v{}", i % 9),
            );
            ops += &file(&format!("d{}/sub/g.txt", i % 3), &format!("w{}", i % 4));
            if i % 11 == 0 {
                ops += &format!("C d{} copy{}\n", i % 5, i % 2);
            }
            if i % 13 == 0 {
                ops += &format!("D d{}\n", (i + 1) % 5);
            }
            if i % 17 == 0 {
                let link = format!("{:040x}", u64::from(i % 2) + 0xabc);
                ops += &format!("M 160000 {link} mods/m{}\n", i % 3);
            }
            if i % 19 == 0 {
                ops += &format!("C mods mods{i}\n");
            }
            if i == 23 {
                ops += &file("\"odd\\377name.txt\"", "odd");
            }
            let side = i % 10 == 5;
            let merge = (i % 10 == 7).then(|| i - 2);
            commit(&mut s, if side { "side" } else { "main" }, i, &ops, merge);
            if side {
                let _ = writeln!(s, "reset refs/heads/side\nfrom :{i}");
            }
        }
        let run = |args: &[&str], input: Option<&str>| {
            let mut child = Command::new("git")
                .args(args)
                .current_dir(dir)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("git");
            if let Some(text) = input {
                use std::io::Write as _;
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(text.as_bytes())
                    .expect("write");
            }
            drop(child.stdin.take());
            let out = child.wait_with_output().expect("git");
            assert!(out.status.success(), "git {args:?}");
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        run(&["init", "-q", "--bare", "."], None);
        run(&["fast-import", "--quiet"], Some(&s));
        let tree = run(&["rev-parse", "main~3^{tree}"], None);
        run(&["update-ref", "refs/tags/a-tree", &tree], None);
        let blob = run(&["hash-object", "-w", "--stdin"], Some("only on a tag"));
        run(&["update-ref", "refs/tags/a-blob", &blob], None);
        run(&["repack", "-adq"], None);
    }

    #[test]
    fn a_walk_split_in_ranges_gives_what_one_walk_gives() {
        let dir = tempfile::tempdir().expect("tempdir");
        tangled_repo(dir.path());
        let repo = Repository::open(dir.path()).expect("repo");
        let packs = Packs::open(repo.commondir());
        let scope =
            |parsed| super::super::scope::all(&repo, &packs, "r", None, &mut Vec::new(), parsed);
        let plan = scope(super::super::scope::read_packed_commits(&packs));
        // Commits read ahead from the packs are those the walk over parents reads itself.
        let plain = scope(OidMap::default());
        assert_eq!(
            format!("{:?}", plan.commits),
            format!("{:?}", plain.commits)
        );
        assert!(plan.commits.len() > 50 && plan.loose.len() == 2);
        let roots = super::super::roots(&plan);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .expect("pool");
        let walk = |parts: usize| {
            let mut idx = Index::new("r");
            idx.walk(
                &pool,
                &roots,
                parts,
                || Trees::lazy(&packs, dir.path()),
                None,
            );
            idx.blobs.sort_by_key(|b| b.oid);
            idx.warnings.sort();
            (idx.blobs, idx.trees_read, idx.unreadable, idx.warnings)
        };
        let one = walk(1);
        assert!(one.3.iter().any(|w| w.code == Code::GitSubmodule));
        assert!(one.3.iter().any(|w| w.code == Code::NonUtf8Path));
        assert!(one.0.iter().any(|b| b.commit.is_none()));
        assert!(one.0.iter().any(|b| b.count > 1));
        for parts in 2..=9 {
            assert_eq!(walk(parts), one, "{parts} ranges");
        }
    }
}
