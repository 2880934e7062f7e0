//! What part of history a scan covers: every ref (optionally since a date), a revision range,
//! or the index. Resolves refs and commits; a range that cannot be trusted is an error.

use super::index::{object_warning, CommitInfo};
use super::GitError;
use crate::diag::{Code, Diagnostic};
use git2::{ObjectType, Oid, Repository};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The commits in scope, oldest first, and the trees whose content counts as already present.
#[derive(Debug, Default)]
pub(super) struct Plan {
    pub commits: Vec<CommitInfo>,
    /// Trees of the commits just outside a limited scope (their blobs are not new).
    pub base_trees: Vec<Oid>,
    /// Refs that point straight at a tree or blob: (ref name, object, kind).
    pub loose: Vec<(String, Oid, ObjectType)>,
    /// Parent commit id → its tree, for commits in scope and at its edge.
    pub trees_of: HashMap<Oid, Oid>,
    pub refs: u64,
    /// Whether findings already present in the base version of a file are dropped.
    pub limited: bool,
}

/// Commit ids of the shallow boundary (`.git/shallow`).
pub(super) fn shallow_roots(repo: &Repository) -> HashSet<Oid> {
    std::fs::read_to_string(repo.commondir().join("shallow"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| Oid::from_str(l.trim()).ok())
        .collect()
}

/// `sha256:` over everything [`all`] starts its walk from: each ref's name and direct
/// target (an id, or the ref a symbolic one names), HEAD, the stash reflog and the shallow
/// boundary. Objects never change under their ids, so while this digest holds, so does
/// every commit, tree and blob the walk would reach.
pub(super) fn refs_state(repo: &Repository) -> String {
    use sha2::{Digest, Sha256};
    let mut lines: Vec<String> = Vec::new();
    if let Ok(refs) = repo.references() {
        for r in refs.flatten() {
            let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
            lines.push(format!("ref {name} {}", target_of(&r)));
        }
    }
    lines.sort();
    if let Ok(head) = repo.find_reference("HEAD") {
        lines.push(format!("head {}", target_of(&head)));
    }
    if let Ok(log) = repo.reflog("refs/stash") {
        lines.extend(log.iter().map(|e| format!("stash {}", e.id_new())));
    }
    let mut shallow: Vec<String> = shallow_roots(repo).iter().map(Oid::to_string).collect();
    shallow.sort();
    lines.extend(shallow.into_iter().map(|s| format!("shallow {s}")));
    let mut h = Sha256::new();
    for l in &lines {
        h.update(l.as_bytes());
        h.update(b"\n");
    }
    format!("sha256:{}", crate::fingerprint::hex(&h.finalize()))
}

/// What a ref points at, as stored: an object id, or `-> NAME` for a symbolic ref.
fn target_of(r: &git2::Reference<'_>) -> String {
    match (r.target(), r.symbolic_target_bytes()) {
        (Some(id), _) => id.to_string(),
        (None, Some(name)) => format!("-> {}", String::from_utf8_lossy(name)),
        (None, None) => "?".to_string(),
    }
}

fn info(repo: &Repository, id: Oid) -> Result<CommitInfo, git2::Error> {
    let c = repo.find_commit(id)?;
    let a = c.author();
    let author = match (a.name(), a.email()) {
        (Some(n), Some(e)) if !e.is_empty() => format!("{n} <{e}>"),
        (Some(n), _) => n.to_string(),
        _ => String::from_utf8_lossy(a.name_bytes()).into_owned(),
    };
    Ok(CommitInfo {
        id,
        tree: c.tree_id(),
        parents: c.parent_ids().collect(),
        time: c.time().seconds(),
        author,
        author_time: a.when().seconds(),
        author_offset: a.when().offset_minutes(),
    })
}

/// Every ref tip (branches, tags, remotes, notes, stash and its reflog, HEAD).
fn tips(repo: &Repository, name: &str, plan: &mut Plan, warn: &mut Vec<Diagnostic>) -> Vec<Oid> {
    let mut out = BTreeSet::new();
    let mut names: Vec<String> = Vec::new();
    if let Ok(refs) = repo.references() {
        for r in refs.flatten() {
            names.push(String::from_utf8_lossy(r.name_bytes()).into_owned());
        }
    }
    names.sort();
    names.push("HEAD".to_string());
    for n in &names {
        let Ok(r) = repo.find_reference(n) else {
            continue;
        };
        let obj = match r.resolve().and_then(|r| r.peel(ObjectType::Any)) {
            Ok(o) => o,
            Err(e) if n == "HEAD" && e.code() == git2::ErrorCode::UnbornBranch => continue,
            Err(e) if n == "HEAD" && e.code() == git2::ErrorCode::NotFound => continue,
            Err(e) => {
                warn.push(Diagnostic::new(
                    Code::BrokenRef,
                    format!("{name}:{n}"),
                    format!("cannot resolve ref: {}; skipped", e.message()),
                ));
                continue;
            }
        };
        plan.refs += u64::from(n != "HEAD");
        match obj.kind() {
            Some(ObjectType::Commit) => {
                out.insert(obj.id());
            }
            Some(k @ (ObjectType::Tree | ObjectType::Blob)) => {
                plan.loose.push((n.clone(), obj.id(), k))
            }
            _ => {}
        }
    }
    if let Ok(log) = repo.reflog("refs/stash") {
        out.extend(log.iter().map(|e| e.id_new()));
    }
    out.into_iter().collect()
}

/// Every commit reachable from `tips`, with unreadable ones warned about and skipped.
fn reachable(
    repo: &Repository,
    tips: Vec<Oid>,
    name: &str,
    warn: &mut Vec<Diagnostic>,
) -> Vec<CommitInfo> {
    let mut seen: HashSet<Oid> = tips.iter().copied().collect();
    let mut stack = tips;
    let mut out = Vec::new();
    while let Some(id) = stack.pop() {
        match info(repo, id) {
            Ok(c) => {
                for p in &c.parents {
                    if seen.insert(*p) {
                        stack.push(*p);
                    }
                }
                out.push(c);
            }
            Err(e) => warn.push(object_warning(name, id, "commit", "", &e)),
        }
    }
    out
}

fn sort_oldest_first(commits: &mut [CommitInfo]) {
    commits.sort_by_key(|c| (c.time, c.id));
}

/// Commits in scope outside `kept`'s parents become the base whose trees are pre-seeded.
fn edge(repo: &Repository, plan: &mut Plan, name: &str, warn: &mut Vec<Diagnostic>) {
    let inside: HashSet<Oid> = plan.commits.iter().map(|c| c.id).collect();
    let mut base = BTreeSet::new();
    for c in &plan.commits {
        plan.trees_of.insert(c.id, c.tree);
        for p in &c.parents {
            if !inside.contains(p) {
                base.insert(*p);
            }
        }
    }
    for p in base {
        match repo.find_commit(p) {
            Ok(c) => {
                plan.trees_of.insert(p, c.tree_id());
                plan.base_trees.push(c.tree_id());
            }
            Err(e) => warn.push(object_warning(name, p, "commit", "", &e)),
        }
    }
}

/// Every ref's history, optionally only commits made at or after `since`.
pub(super) fn all(
    repo: &Repository,
    name: &str,
    since: Option<i64>,
    warn: &mut Vec<Diagnostic>,
) -> Plan {
    let mut plan = Plan::default();
    let tips = tips(repo, name, &mut plan, warn);
    plan.commits = reachable(repo, tips, name, warn);
    if let Some(since) = since {
        plan.commits.retain(|c| c.time >= since);
        plan.limited = true;
        edge(repo, &mut plan, name, warn);
    } else {
        for c in &plan.commits {
            plan.trees_of.insert(c.id, c.tree);
        }
    }
    sort_oldest_first(&mut plan.commits);
    plan
}

/// The commits of `A..B` (or `A...B`); errors when the range cannot be resolved or is cut by a shallow clone.
pub(super) fn range(
    repo: &Repository,
    name: &str,
    spec: &str,
    warn: &mut Vec<Diagnostic>,
) -> Result<Plan, GitError> {
    let bad = |message: String| GitError::Range {
        repo: name.to_string(),
        spec: spec.to_string(),
        message,
    };
    let rs = repo
        .revparse(spec)
        .map_err(|e| bad(e.message().to_string()))?;
    let (Some(from), Some(to)) = (rs.from(), rs.to()) else {
        return Err(bad(
            "expected a range A..B (e.g. origin/main..HEAD)".to_string()
        ));
    };
    let (from, to) = (
        from.peel_to_commit()
            .map_err(|e| bad(e.message().to_string()))?
            .id(),
        to.peel_to_commit()
            .map_err(|e| bad(e.message().to_string()))?
            .id(),
    );
    let mut walk = repo.revwalk().map_err(|e| bad(e.message().to_string()))?;
    walk.push(to).map_err(|e| bad(e.message().to_string()))?;
    if rs.mode().contains(git2::RevparseMode::MERGE_BASE) {
        walk.push(from).map_err(|e| bad(e.message().to_string()))?;
        let base = repo
            .merge_base(from, to)
            .map_err(|e| bad(e.message().to_string()))?;
        walk.hide(base).map_err(|e| bad(e.message().to_string()))?;
    } else {
        walk.hide(from).map_err(|e| bad(e.message().to_string()))?;
    }
    let shallow = shallow_roots(repo);
    let mut plan = Plan {
        limited: true,
        ..Plan::default()
    };
    for id in walk {
        let id = id.map_err(|e| bad(e.message().to_string()))?;
        if shallow.contains(&id) {
            return Err(GitError::ShallowBase {
                repo: name.to_string(),
                spec: spec.to_string(),
                commit: id.to_string(),
            });
        }
        match info(repo, id) {
            Ok(c) => plan.commits.push(c),
            Err(e) => warn.push(object_warning(name, id, "commit", "", &e)),
        }
    }
    if plan.commits.is_empty() {
        return Err(bad("the range holds no commit: nothing to scan".to_string()));
    }
    edge(repo, &mut plan, name, warn);
    sort_oldest_first(&mut plan.commits);
    Ok(plan)
}
