//! What part of history a scan covers: every ref (optionally since a date), a revision range,
//! or the index. Resolves refs and commits; a range that cannot be trusted is an error.

use super::index::{key, object_warning, CommitInfo, OidMap};
use super::pack::Packs;
use super::GitError;
use crate::diag::{Code, Diagnostic};
use git2::{ObjectType, Oid, Repository};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

/// The commits in scope, oldest first, and the trees whose content counts as already present.
#[derive(Debug, Default)]
pub(super) struct Plan {
    pub commits: Vec<CommitInfo>,
    /// Trees of the commits just outside a limited scope (their blobs are not new).
    pub base_trees: Vec<Oid>,
    /// Refs that point straight at a tree or blob: (ref name, object, kind).
    pub loose: Vec<(String, Oid, ObjectType)>,
    /// Parent commit id → its tree, for commits in scope and at its edge (a limited scope
    /// only: what finds the base version of a changed file).
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
    if let Some(log) = stash_reflog(repo) {
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

/// `sha256:` over the files of bare repository `gitdir` that everything a history read
/// starts from and reports is read from: HEAD, the loose and packed refs, the config (the
/// remotes), the stash reflog, the shallow boundary, grafts and alternates, each by name
/// and content. While it holds, so does [`refs_state`] and every fact the repository's
/// scope reports, so a sweep may replay the repository without opening it with libgit2,
/// whose open, ref iteration and config parse were most of what replaying one cost.
///
/// None when the files cannot say that alone: a read error other than absence, the
/// reftable ref format, or a config that includes other files.
pub(super) fn files_state(gitdir: &Path) -> Option<String> {
    use sha2::{Digest, Sha256};
    const FILES: [&str; 8] = [
        "HEAD",
        "config",
        "packed-refs",
        "shallow",
        "commondir",
        "info/grafts",
        "logs/refs/stash",
        "objects/info/alternates",
    ];
    if gitdir.join("reftable").exists() {
        return None;
    }
    let mut h = Sha256::new();
    for name in FILES {
        let bytes = read_if_present(&gitdir.join(name))?;
        if name == "config" && bytes.as_deref().is_some_and(includes_other_files) {
            return None;
        }
        hash_entry(&mut h, name, bytes.as_deref());
    }
    let mut refs = Vec::new();
    loose_ref_files(&gitdir.join("refs"), "refs", &mut refs)?;
    refs.sort();
    for (name, bytes) in &refs {
        hash_entry(&mut h, name, Some(bytes));
    }
    Some(format!("sha256:{}", crate::fingerprint::hex(&h.finalize())))
}

/// A file's bytes, None for a file that is not there, or nothing for one that cannot be read.
fn read_if_present(path: &Path) -> Option<Option<Vec<u8>>> {
    match read_small(path) {
        Ok(bytes) => Some(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(None),
        Err(_) => None,
    }
}

/// A small file's bytes, read without asking its size first (`std::fs::read` does): ref
/// files are a few dozen bytes, and a replay reads one or two per repository.
fn read_small(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(64);
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Whether a git config has an `[include]` or `[includeIf …]` section.
fn includes_other_files(config: &[u8]) -> bool {
    config
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii_start())
        .any(|l| l.len() >= 8 && l[..8].eq_ignore_ascii_case(b"[include"))
}

/// One named entry of a digest, its absence distinct from an empty file.
fn hash_entry(h: &mut sha2::Sha256, name: &str, bytes: Option<&[u8]>) {
    use sha2::Digest;
    h.update(name.as_bytes());
    match bytes {
        Some(b) => {
            h.update(b"\0+");
            h.update((b.len() as u64).to_le_bytes());
            h.update(b);
        }
        None => h.update(b"\0-"),
    }
}

/// Every file under the loose-ref directory `dir` (named `name` from the git directory),
/// with its content; nothing when one cannot be read.
fn loose_ref_files(dir: &Path, name: &str, out: &mut Vec<(String, Vec<u8>)>) -> Option<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(()),
        Err(_) => return None,
    };
    for entry in entries {
        let entry = entry.ok()?;
        let child = format!("{name}/{}", entry.file_name().to_str()?);
        if entry.file_type().ok()?.is_dir() {
            loose_ref_files(&entry.path(), &child, out)?;
        } else {
            out.push((child, read_small(&entry.path()).ok()?));
        }
    }
    Some(())
}

/// The stash reflog, if the repository has one. Its file is looked for first: libgit2
/// creates an empty reflog file when asked for one that is missing, so reading it blindly
/// wrote `logs/refs/stash` into every repository scanned (and moved the sweep cache's
/// ref-files digest between a first sweep and the next).
fn stash_reflog(repo: &Repository) -> Option<git2::Reflog> {
    if !repo.commondir().join("logs/refs/stash").is_file() {
        return None;
    }
    repo.reflog("refs/stash").ok()
}

/// What a ref points at, as stored: an object id, or `-> NAME` for a symbolic ref.
fn target_of(r: &git2::Reference<'_>) -> String {
    match (r.target(), r.symbolic_target_bytes()) {
        (Some(id), _) => id.to_string(),
        (None, Some(name)) => format!("-> {}", String::from_utf8_lossy(name)),
        (None, None) => "?".to_string(),
    }
}

/// Reads commits: straight from the packs when whole there and in the plain form git
/// writes, else through libgit2 (also for every commit of a shallow or grafted repository,
/// whose parents libgit2 rewrites).
struct Commits<'a> {
    repo: &'a Repository,
    packs: Option<&'a Packs>,
    /// Commits already read from the packs ([`read_packed_commits`]), each taken out when
    /// asked for (the walk over parents asks for each commit once).
    parsed: OidMap<CommitInfo>,
}

/// The commits stored whole in the packs, read and parsed in parallel on the current rayon
/// pool, ahead of the walk over parents, which then only looks them up: read one by one as
/// that walk met them, they were a third of the planning's work, all on one core. Also
/// lists the packs' delta bases ([`Packs::survey`]), in the same pass over their entries.
pub(super) fn read_packed_commits(packs: &Packs) -> OidMap<CommitInfo> {
    packs
        .survey()
        .into_par_iter()
        .filter_map(|id| parse_commit(id, &packs.read_commit(id)?))
        .map(|c| (c.id, c))
        .collect()
}

impl<'a> Commits<'a> {
    fn new(repo: &'a Repository, packs: &'a Packs, parsed: OidMap<CommitInfo>) -> Self {
        let grafted = ["shallow", "info/grafts"]
            .iter()
            .any(|f| repo.commondir().join(f).exists());
        Commits {
            repo,
            packs: (!grafted).then_some(packs),
            parsed,
        }
    }

    fn info(&mut self, id: Oid) -> Result<CommitInfo, git2::Error> {
        // Read from the packs as below, unless grafted.
        if let Some(c) = self.packs.and_then(|_| self.parsed.remove(&id)) {
            return Ok(c);
        }
        let raw = self.packs.and_then(|p| p.read_commit(id));
        if let Some(c) = raw.and_then(|raw| parse_commit(id, &raw)) {
            return Ok(c);
        }
        let c = self.repo.find_commit(id)?;
        let a = c.author();
        Ok(CommitInfo {
            id,
            tree: c.tree_id(),
            parents: c.parent_ids().collect(),
            time: c.time().seconds(),
            author: author(a.name_bytes(), a.email_bytes()),
            author_time: a.when().seconds(),
            author_offset: a.when().offset_minutes(),
        })
    }
}

/// How an author is shown: `NAME <EMAIL>`, or the name alone without an email.
fn author(name: &[u8], email: &[u8]) -> String {
    match (std::str::from_utf8(name), std::str::from_utf8(email)) {
        (Ok(n), Ok(e)) if !e.is_empty() => format!("{n} <{e}>"),
        (Ok(n), _) => n.to_string(),
        _ => String::from_utf8_lossy(name).into_owned(),
    }
}

/// A commit's fields from its raw bytes, when they are in the plain form (`tree`, `parent`s,
/// one `author`, then `committer`, each signature `NAME <EMAIL> SECONDS ±HHMM` with nothing
/// to trim), where this reading and libgit2's agree; `None` for anything else.
fn parse_commit(id: Oid, raw: &[u8]) -> Option<CommitInfo> {
    let mut lines = raw.split(|&b| b == b'\n');
    let tree = hex_id(lines.next()?.strip_prefix(b"tree ")?)?;
    let mut parents = Vec::new();
    let mut line = lines.next()?;
    while let Some(p) = line.strip_prefix(b"parent ") {
        parents.push(hex_id(p)?);
        line = lines.next()?;
    }
    let (name, email, author_time, author_offset) = signature(line.strip_prefix(b"author ")?)?;
    let (_, _, time, _) = signature(lines.next()?.strip_prefix(b"committer ")?)?;
    lines.next()?; // libgit2 wants the committer line ended
    Some(CommitInfo {
        id,
        tree,
        parents,
        time,
        author: author(name, email),
        author_time,
        author_offset,
    })
}

fn hex_id(hex: &[u8]) -> Option<Oid> {
    let plain = hex.len() == 40 && hex.iter().all(u8::is_ascii_hexdigit);
    plain.then(|| Oid::from_str(std::str::from_utf8(hex).ok()?).ok())?
}

/// `NAME <EMAIL> SECONDS ±HHMM`: (name, email, seconds, offset in minutes).
fn signature(sig: &[u8]) -> Option<(&[u8], &[u8], i64, i32)> {
    let lt = memchr::memchr(b'<', sig)?;
    let gt = memchr::memchr(b'>', sig)?;
    let single = |c| sig.iter().filter(|&&b| b == c).count() == 1;
    if gt < lt || !single(b'<') || !single(b'>') {
        return None;
    }
    let name = sig[..lt].strip_suffix(b" ")?;
    let email = &sig[lt + 1..gt];
    let untrimmed = |s: &[u8]| {
        s.first().is_none_or(|b| !b.is_ascii_whitespace())
            && s.last().is_none_or(|b| !b.is_ascii_whitespace())
    };
    if !untrimmed(name) || !untrimmed(email) || name.contains(&0x0b) || email.contains(&0x0b) {
        return None;
    }
    let rest = std::str::from_utf8(sig[gt + 1..].strip_prefix(b" ")?).ok()?;
    let (seconds, zone) = rest.split_once(' ')?;
    let digits = |s: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    let (sign, hhmm) = zone.split_at_checked(1)?;
    if !digits(seconds, 1..=18) || !digits(hhmm, 4..=4) || !matches!(sign, "+" | "-") {
        return None;
    }
    let (hours, minutes): (i32, i32) = (hhmm[..2].parse().ok()?, hhmm[2..].parse().ok()?);
    if hours > 14 || minutes > 59 {
        return None;
    }
    let offset = hours * 60 + minutes;
    let offset = if sign == "-" { -offset } else { offset };
    Some((name, email, seconds.parse().ok()?, offset))
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
    if let Some(log) = stash_reflog(repo) {
        out.extend(log.iter().map(|e| e.id_new()));
    }
    out.into_iter().collect()
}

/// Every commit reachable from `tips`, with unreadable ones warned about and skipped.
fn reachable(
    mut commits: Commits<'_>,
    tips: Vec<Oid>,
    name: &str,
    warn: &mut Vec<Diagnostic>,
) -> Vec<CommitInfo> {
    let mut seen: OidMap<()> = OidMap::default();
    for t in &tips {
        seen.insert(*t, ());
    }
    let mut stack = tips;
    let mut out = Vec::with_capacity(commits.parsed.len());
    while let Some(id) = stack.pop() {
        match commits.info(id) {
            Ok(c) => {
                for p in &c.parents {
                    if seen.insert(*p, ()).is_none() {
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

/// By commit time, then id (compared as bytes: `Oid`'s own order is a call into libgit2).
/// Ids are unique, so an unstable sort gives the one order.
fn sort_oldest_first(commits: &mut [CommitInfo]) {
    commits.sort_unstable_by_key(|c| (c.time, key(&c.id)));
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

/// Every ref's history, optionally only commits made at or after `since`; `parsed` holds
/// commits already read from the packs ([`read_packed_commits`]), or none.
pub(super) fn all(
    repo: &Repository,
    packs: &Packs,
    name: &str,
    since: Option<i64>,
    warn: &mut Vec<Diagnostic>,
    parsed: OidMap<CommitInfo>,
) -> Plan {
    let mut plan = Plan::default();
    let tips = tips(repo, name, &mut plan, warn);
    plan.commits = reachable(Commits::new(repo, packs, parsed), tips, name, warn);
    if let Some(since) = since {
        plan.commits.retain(|c| c.time >= since);
        plan.limited = true;
        edge(repo, &mut plan, name, warn);
    }
    sort_oldest_first(&mut plan.commits);
    plan
}

/// The commits of `A..B` (or `A...B`); errors when the range cannot be resolved or is cut by a shallow clone.
pub(super) fn range(
    repo: &Repository,
    packs: &Packs,
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
    let mut commits = Commits::new(repo, packs, OidMap::default());
    for id in walk {
        let id = id.map_err(|e| bad(e.message().to_string()))?;
        if shallow.contains(&id) {
            return Err(GitError::ShallowBase {
                repo: name.to_string(),
                spec: spec.to_string(),
                commit: id.to_string(),
            });
        }
        match commits.info(id) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest moves with every file a replay depends on, and is withheld where the
    /// files cannot vouch for the repository.
    #[test]
    fn the_files_digest_moves_with_each_file_and_is_withheld_when_it_cannot_vouch() {
        let dir = tempfile::tempdir().expect("tempdir");
        let git = dir.path();
        Repository::init_bare(git).expect("repo");
        let base = files_state(git).expect("a digest");
        assert_eq!(files_state(git).as_deref(), Some(base.as_str()), "stable");
        let mut seen = vec![base];
        let id = "0123456789abcdef0123456789abcdef01234567\n";
        for (path, bytes) in [
            ("refs/heads/main", id),
            ("refs/tags/v1", id),
            ("packed-refs", "# pack-refs with: peeled\n"),
            ("shallow", id),
            ("logs/refs/stash", "x\n"),
            ("HEAD", "ref: refs/heads/other\n"),
            (
                "config",
                "[remote \"origin\"]\n\turl = https://example.org/x\n",
            ),
        ] {
            let file = git.join(path);
            std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
            std::fs::write(&file, bytes).expect("write");
            let now = files_state(git).expect("a digest");
            assert!(!seen.contains(&now), "{path} did not move the digest");
            seen.push(now);
        }
        // An empty file is not an absent one.
        std::fs::write(git.join("info/grafts"), "").expect("write");
        assert!(!seen.contains(&files_state(git).expect("a digest")));

        std::fs::write(git.join("config"), "[core]\n\t[IncludeIf \"gitdir:x\"]\n").expect("write");
        assert_eq!(files_state(git), None, "a config that includes others");
        std::fs::write(git.join("config"), "[core]\n").expect("write");
        assert!(files_state(git).is_some());
        std::fs::create_dir(git.join("reftable")).expect("mkdir");
        assert_eq!(files_state(git), None, "reftable refs");
    }

    /// Commits as odd as a repository may hold: each is read as libgit2 reads it, or left to it.
    #[test]
    fn a_commit_read_from_its_bytes_is_what_libgit2_reads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init_bare(dir.path()).expect("repo");
        let odb = repo.odb().expect("odb");
        let tree = repo.treebuilder(None).expect("tree").write().expect("tree");
        let parent = "0123456789abcdef0123456789abcdef01234567";
        let signatures: [&[u8]; 18] = [
            b"Dev <dev@example.org> 1600000000 +0000",
            b"D\xc3\xa9v Eloppeur <d@e.example> 1600000000 -0530",
            b"Dev <> 1600000000 +0200",
            b"Dev <dev@example.org> 1600000000 +1460",
            b"Dev <dev@example.org> 1600000000 +1500",
            b"Dev <dev@example.org> 1600000000",
            b"Dev <dev@example.org>",
            b"Dev  <dev@example.org> 1600000000 +0000",
            b" Dev <dev@example.org> 1600000000 +0000",
            b"Dev < dev@example.org > 1600000000 +0000",
            b"<dev@example.org> 1600000000 +0000",
            b"Dev dev@example.org 1600000000 +0000",
            b"Dev <a<b@example.org> 1600000000 +0000",
            b"Dev <dev@example.org> x1600000000 +0000",
            b"Dev <dev@example.org> 1600000000 0000",
            b"Dev <dev@example.org> 99999999999999999999 +0000",
            b"D\xffv <dev@example.org> 1600000000 +0000",
            b"Dev <d\xffv@example.org> 1600000000 +0000",
        ];
        let mut fast = 0;
        for (i, sig) in signatures.iter().enumerate() {
            for parents in [0, 2] {
                for tail in ["\nmessage\n", "\n", ""] {
                    let mut raw = format!("tree {tree}\n").into_bytes();
                    for _ in 0..parents {
                        raw.extend_from_slice(format!("parent {parent}\n").as_bytes());
                    }
                    raw.extend_from_slice(b"author ");
                    raw.extend_from_slice(sig);
                    let committer =
                        format!("\ncommitter C <c@example.org> {} +0100", 1_600_000_000 + i);
                    raw.extend_from_slice(committer.as_bytes());
                    raw.extend_from_slice(tail.as_bytes());
                    let id = odb.write(git2::ObjectType::Commit, &raw).expect("write");
                    let theirs = Commits {
                        repo: &repo,
                        packs: None,
                        parsed: OidMap::default(),
                    }
                    .info(id);
                    let shown = String::from_utf8_lossy(sig);
                    if let Some(ours) = parse_commit(id, &raw) {
                        fast += 1;
                        let theirs = theirs.unwrap_or_else(|e| panic!("{shown}: libgit2: {e}"));
                        assert_eq!(format!("{ours:?}"), format!("{theirs:?}"), "{shown}");
                    }
                }
            }
        }
        assert!(fast >= 8, "the plain form is read: {fast}");
    }
}
