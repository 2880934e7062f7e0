//! The blob index: each distinct blob reachable from the commits in scope, once, with the path
//! and oldest commit that introduced it and the number of commits whose tree holds it.
//!
//! Trees are walked with a seen-set, so a subtree unchanged across ten thousand commits is read
//! once. Commit counts are propagated through the tree DAG afterwards (parents before children,
//! in reverse post-order) instead of re-walking each commit's full tree.

use crate::diag::{Code, Diagnostic};
use git2::{ObjectType, Oid, Repository};
use std::collections::{BTreeMap, HashMap};

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
    trees: HashMap<Oid, TreeState>,
    /// Blob id → index in `blobs`, or `u32::MAX` for a base blob.
    blob_ids: HashMap<Oid, u32>,
    pub blobs: Vec<BlobEntry>,
    /// Children of each finished new tree (post-order index), tagged with `BLOB_BIT` for blobs.
    children: Vec<Vec<u32>>,
    /// Commits counted per finished tree index (root trees only, before propagation).
    root_counts: Vec<u64>,
    pub trees_read: u64,
    pub unreadable: u64,
    submodules: BTreeMap<String, Oid>,
    non_utf8: BTreeMap<String, ()>,
    pub warnings: Vec<Diagnostic>,
    repo_name: String,
}

struct Frame<'r> {
    oid: Oid,
    prefix: Vec<u8>,
    tree: Option<git2::Tree<'r>>,
    pos: usize,
    kids: Vec<u32>,
}

impl<'r> Index<'r> {
    pub(super) fn new(repo: &'r Repository, repo_name: &str) -> Self {
        Index {
            repo,
            trees: HashMap::new(),
            blob_ids: HashMap::new(),
            blobs: Vec::new(),
            children: Vec::new(),
            root_counts: Vec::new(),
            trees_read: 0,
            unreadable: 0,
            submodules: BTreeMap::new(),
            non_utf8: BTreeMap::new(),
            warnings: Vec::new(),
            repo_name: repo_name.to_string(),
        }
    }

    /// Whether a blob id is known (new or base).
    pub(super) fn is_new_blob(&self, oid: Oid) -> bool {
        self.blob_ids.get(&oid).is_some_and(|&i| i != u32::MAX)
    }

    /// Whether a blob id was seen at all (new or base).
    pub(super) fn is_known_blob(&self, oid: Oid) -> bool {
        self.blob_ids.contains_key(&oid)
    }

    /// Marks every tree and blob under `tree` as already present (the base of a limited scope).
    pub(super) fn preseed(&mut self, tree: Oid) {
        let mut stack = vec![tree];
        while let Some(oid) = stack.pop() {
            if self.trees.insert(oid, TreeState::Base).is_some() {
                continue;
            }
            let Some(t) = self.read_tree(oid, "") else {
                continue;
            };
            for e in t.iter() {
                match e.kind() {
                    Some(ObjectType::Tree) => stack.push(e.id()),
                    Some(ObjectType::Blob) => {
                        self.blob_ids.entry(e.id()).or_insert(u32::MAX);
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

    fn read_tree(&mut self, oid: Oid, path: &str) -> Option<git2::Tree<'r>> {
        self.trees_read += 1;
        match self.repo.find_tree(oid) {
            Ok(t) => Some(t),
            Err(e) => {
                self.unreadable += 1;
                self.warnings
                    .push(object_warning(&self.repo_name, oid, "tree", path, &e));
                None
            }
        }
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
        let tree = self.read_tree(root, "");
        let mut stack = vec![Frame {
            oid: root,
            prefix: Vec::new(),
            tree,
            pos: 0,
            kids: Vec::new(),
        }];
        let mut last = None;
        while let Some(top) = stack.last_mut() {
            let entry = top
                .tree
                .as_ref()
                .and_then(|t| t.get(top.pos))
                .map(|e| (e.kind(), e.id(), e.name_bytes().to_vec(), e.filemode()));
            top.pos += 1;
            let Some((kind, oid, name, mode)) = entry else {
                let done = stack.pop().expect("frame");
                let idx = self.children.len() as u32;
                let mut kids = done.kids;
                kids.sort_unstable();
                kids.dedup();
                self.children.push(kids);
                self.root_counts.push(0);
                self.trees.insert(done.oid, TreeState::Done(idx));
                if let Some(parent) = stack.last_mut() {
                    parent.kids.push(idx);
                }
                last = Some(idx);
                continue;
            };
            let mut path = top.prefix.clone();
            if !path.is_empty() {
                path.push(b'/');
            }
            path.extend_from_slice(&name);
            match kind {
                Some(ObjectType::Tree) => match self.trees.get(&oid) {
                    Some(TreeState::Done(i)) => top.kids.push(*i),
                    Some(_) => {}
                    None => {
                        self.trees.insert(oid, TreeState::Open);
                        let shown = String::from_utf8_lossy(&path).into_owned();
                        let tree = self.read_tree(oid, &shown);
                        stack.push(Frame {
                            oid,
                            prefix: path,
                            tree,
                            pos: 0,
                            kids: Vec::new(),
                        });
                    }
                },
                Some(ObjectType::Blob) if mode != 0o120_000 => {
                    if let Some(i) = self.blob(oid, &path, commit) {
                        top.kids.push(i | BLOB_BIT);
                    }
                }
                Some(ObjectType::Commit) => {
                    let shown = String::from_utf8_lossy(&path).into_owned();
                    self.submodules.entry(shown).or_insert(oid);
                }
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
        for t in (0..self.children.len()).rev() {
            let c = counts[t];
            if c == 0 {
                continue;
            }
            for &k in &self.children[t] {
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
