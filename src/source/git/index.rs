//! The blob index: each distinct blob reachable from the commits in scope, once, with the path
//! and oldest commit that introduced it and the number of commits whose tree holds it.
//!
//! Trees are walked with a seen-set, so a subtree unchanged across ten thousand commits is read
//! once. Commit counts are propagated through the tree DAG afterwards (parents before children,
//! in reverse post-order) instead of re-walking each commit's full tree.

use super::pack::{Object, Packs};
use crate::diag::{Code, Diagnostic};
use git2::{Oid, Repository};
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

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
struct OidMap<V>(HashMap<[u8; 20], V, BuildHasherDefault<OidHasher>>);

fn key(oid: &Oid) -> [u8; 20] {
    <[u8; 20]>::try_from(oid.as_bytes()).unwrap_or_default()
}

impl<V> Default for OidMap<V> {
    fn default() -> Self {
        OidMap(HashMap::default())
    }
}

impl<V> OidMap<V> {
    fn get(&self, oid: &Oid) -> Option<&V> {
        self.0.get(&key(oid))
    }
    fn contains_key(&self, oid: &Oid) -> bool {
        self.0.contains_key(&key(oid))
    }
    fn insert(&mut self, oid: Oid, value: V) -> Option<V> {
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
#[derive(Debug, Clone)]
pub(super) struct BlobEntry {
    pub oid: Oid,
    pub path: String,
    /// Index into the commit list of the oldest commit whose tree holds it.
    pub commit: Option<u32>,
    /// Commits whose tree holds it.
    pub count: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TreeState {
    /// Seen while pre-seeding the base of a limited scope: holds nothing new.
    Base,
    Open,
    /// Finished new tree with its post-order index.
    Done(u32),
}

const BLOB_BIT: u32 = 1 << 31;

/// Builds the blob index over one repository.
pub(super) struct Index<'r> {
    repo: &'r Repository,
    odb: Option<git2::Odb<'r>>,
    packs: &'r Packs,
    trees: OidMap<TreeState>,
    /// Blob id → index in `blobs`, or `u32::MAX` for a base blob.
    blob_ids: OidMap<u32>,
    pub blobs: Vec<BlobEntry>,
    /// Children of each finished new tree (post-order index), tagged with `BLOB_BIT` for blobs:
    /// tree `t`'s are `children[child_end[t - 1]..child_end[t]]` (one buffer, not one per tree).
    children: Vec<u32>,
    child_end: Vec<usize>,
    /// Emptied child lists to reuse for the next trees walked.
    spare_kids: Vec<Vec<u32>>,
    /// Commits counted per finished tree index (root trees only, before propagation).
    root_counts: Vec<u64>,
    pub trees_read: u64,
    pub unreadable: u64,
    submodules: BTreeMap<String, Oid>,
    non_utf8: BTreeMap<String, ()>,
    pub warnings: Vec<Diagnostic>,
    repo_name: String,
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
fn next_entry(data: &[u8], pos: &mut usize) -> Option<(u32, std::ops::Range<usize>, Oid)> {
    let rest = data.get(*pos..)?;
    let sp = memchr::memchr(b' ', rest)?;
    let nul = sp + memchr::memchr(0, &rest[sp..])?;
    let id = Oid::from_bytes(rest.get(nul + 1..nul + 21)?).ok()?;
    let mode = rest[..sp].iter().try_fold(0u32, |m, &b| {
        (b'0'..=b'7')
            .contains(&b)
            .then(|| m * 8 + u32::from(b - b'0'))
    })?;
    let name = *pos + sp + 1..*pos + nul;
    *pos += nul + 21;
    Some((mode, name, id))
}

impl<'r> Index<'r> {
    pub(super) fn new(repo: &'r Repository, packs: &'r Packs, repo_name: &str) -> Self {
        Index {
            odb: repo.odb().ok(),
            packs,
            repo,
            trees: OidMap::default(),
            blob_ids: OidMap::default(),
            blobs: Vec::new(),
            children: Vec::new(),
            child_end: Vec::new(),
            spare_kids: Vec::new(),
            root_counts: Vec::new(),
            trees_read: 0,
            unreadable: 0,
            submodules: BTreeMap::new(),
            non_utf8: BTreeMap::new(),
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
        self.blob_ids.get(&oid).is_some_and(|&i| i != u32::MAX)
    }

    /// Marks every tree and blob under `tree` as already present (the base of a limited scope).
    pub(super) fn preseed(&mut self, tree: Oid) {
        let mut stack = vec![tree];
        while let Some(oid) = stack.pop() {
            if self.trees.insert(oid, TreeState::Base).is_some() {
                continue;
            }
            let data = self.read_tree(oid, b"");
            let mut pos = 0;
            while let Some((mode, _, id)) = next_entry(&data, &mut pos) {
                match mode & 0o170_000 {
                    0o040_000 => stack.push(id),
                    0o100_000 => {
                        self.blob_ids.entry(id).or_insert(u32::MAX);
                    }
                    _ => {}
                }
            }
        }
    }

    /// Records a blob reachable from no commit (a tag pointing straight at it).
    pub(super) fn add_loose_blob(&mut self, oid: Oid, path: &str) {
        if !self.blob_ids.contains_key(&oid) {
            self.blob_ids.insert(oid, self.blobs.len() as u32);
            self.blobs.push(BlobEntry {
                oid,
                path: path.to_string(),
                commit: None,
                count: 0,
            });
        }
    }

    /// The raw bytes of a tree (empty, with a warning, when it cannot be read).
    fn read_tree(&mut self, oid: Oid, path: &[u8]) -> Object {
        self.trees_read += 1;
        let read = match &self.odb {
            Some(odb) => self.packs.read_or(odb, oid),
            None => self.repo.odb().map(|_| Object::default()),
        };
        read.unwrap_or_else(|e| {
            self.unreadable += 1;
            let shown = String::from_utf8_lossy(path);
            self.warnings
                .push(object_warning(&self.repo_name, oid, "tree", &shown, &e));
            Object::default()
        })
    }

    /// Walks the tree of commit number `commit` (`None`: a tree tagged directly), recording new blobs.
    pub(super) fn add_root(&mut self, tree: Oid, commit: Option<u32>) {
        let root = match self.trees.get(&tree) {
            Some(TreeState::Done(i)) => Some(*i),
            Some(_) => None,
            None => self.walk(tree, commit),
        };
        if let (Some(i), Some(_)) = (root, commit) {
            self.root_counts[i as usize] += 1;
        }
    }

    fn walk(&mut self, root: Oid, commit: Option<u32>) -> Option<u32> {
        self.trees.insert(root, TreeState::Open);
        let mut path: Vec<u8> = Vec::new();
        let data = self.read_tree(root, b"");
        let mut stack = vec![Frame {
            oid: root,
            prefix: 0,
            data,
            pos: 0,
            kids: self.spare_kids.pop().unwrap_or_default(),
        }];
        let mut last = None;
        while let Some(top) = stack.last_mut() {
            let Some((mode, name, oid)) = next_entry(&top.data, &mut top.pos) else {
                let done = stack.pop().expect("frame");
                let idx = self.child_end.len() as u32;
                let mut kids = done.kids;
                kids.sort_unstable();
                kids.dedup();
                self.children.extend_from_slice(&kids);
                self.child_end.push(self.children.len());
                kids.clear();
                self.spare_kids.push(kids);
                self.root_counts.push(0);
                self.trees.insert(done.oid, TreeState::Done(idx));
                if let Some(parent) = stack.last_mut() {
                    parent.kids.push(idx);
                }
                last = Some(idx);
                continue;
            };
            path.truncate(top.prefix);
            if !path.is_empty() {
                path.push(b'/');
            }
            path.extend_from_slice(&top.data[name]);
            match mode & 0o170_000 {
                0o040_000 => match self.trees.get(&oid) {
                    Some(TreeState::Done(i)) => top.kids.push(*i),
                    Some(_) => {}
                    None => {
                        self.trees.insert(oid, TreeState::Open);
                        let data = self.read_tree(oid, &path);
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
                    if let Some(i) = self.blob(oid, &path, commit) {
                        top.kids.push(i | BLOB_BIT);
                    }
                }
                0o160_000 => {
                    let shown = String::from_utf8_lossy(&path).into_owned();
                    self.submodules.entry(shown).or_insert(oid);
                }
                // Symbolic links (0o120000) hold a path, not content: skipped as in the tree walk.
                _ => {}
            }
        }
        last
    }

    fn blob(&mut self, oid: Oid, path: &[u8], commit: Option<u32>) -> Option<u32> {
        match self.blob_ids.get(&oid) {
            Some(&u32::MAX) => None,
            Some(&i) => Some(i),
            None => {
                let path = match std::str::from_utf8(path) {
                    Ok(p) => p.to_string(),
                    Err(_) => {
                        let lossy = String::from_utf8_lossy(path).into_owned();
                        self.non_utf8.insert(lossy.clone(), ());
                        lossy
                    }
                };
                let i = self.blobs.len() as u32;
                self.blob_ids.insert(oid, i);
                self.blobs.push(BlobEntry {
                    oid,
                    path,
                    commit,
                    count: 0,
                });
                Some(i)
            }
        }
    }

    /// Propagates commit counts from root trees to blobs and emits the per-repository warnings.
    pub(super) fn finish(&mut self) {
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
        for (path, oid) in std::mem::take(&mut self.submodules) {
            self.warnings.push(Diagnostic::new(
                Code::GitSubmodule,
                format!("{}:{path}", self.repo_name),
                format!("submodule (commit {oid}) is not followed; scan its repository on its own"),
            ));
        }
        for path in std::mem::take(&mut self.non_utf8).into_keys() {
            self.warnings.push(Diagnostic::new(
                Code::NonUtf8Path,
                format!("{}:{path}", self.repo_name),
                "path in history is not valid UTF-8; shown with U+FFFD replacement characters",
            ));
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
