//! Runs the pipeline over paths: source → matcher → linker, collecting sorted findings.
//!
//! A scan yields [`Scanned`] candidates; [`Scanned::resolve`] links them to the
//! inventory, which the caller may load in parallel with the scan. Shared by `scan` and the later commands that scan (sweep, verify-reset). The same secret
//! (rule, fingerprint, repository, path) found in several places is one finding listing them all.

use crate::context;
use crate::diag::Diagnostic;
use crate::inventory::Index;
use crate::link::{Candidate, Linker};
use crate::matcher::Matcher;
use crate::source::git::{
    self, Discovery, HistoryOptions, HistoryStats, Progress, Reuse, Role, Walk,
};
use crate::source::{self, WalkOptions, WalkStats};
use crate::types::{Chunk, Finding, Location, Origin, RawMatch, RepositoryScope, StoredCandidate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// Findings in deterministic order and what the sources saw.
#[derive(Debug)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub stats: WalkStats,
    /// Present for history scans.
    pub history: Option<HistoryStats>,
    /// Each repository (or plain directory) scanned, sorted by name then root: the scope
    /// facts reset verification records, with the counts and warnings of each.
    pub repositories: Vec<RepositoryScope>,
}

/// What a scan saw, before the inventory is consulted.
#[derive(Debug)]
pub struct Scanned {
    candidates: Vec<Candidate>,
    pub stats: WalkStats,
    history: Option<HistoryStats>,
}

impl Scanned {
    /// Links the candidates to `inventory`, then merges and sorts them into findings.
    pub fn resolve(self, linker: &Linker<'_>, inventory: Option<&Index>) -> Outcome {
        let findings = linker.resolve(self.candidates, inventory);
        let mut findings = merge(findings);
        linker.apply_age(&mut findings);
        let mut stats = self.stats;
        let repositories = std::mem::take(&mut stats.repositories);
        Outcome {
            findings,
            stats,
            history: self.history,
            repositories,
        }
    }
}

/// Candidates of one chunk and the parse warnings of its file (with the file's repository).
#[derive(Default)]
struct ChunkResult {
    candidates: Vec<Candidate>,
    warnings: Vec<(String, Diagnostic)>,
}

/// Matches a chunk, then links each match with what its file says (kind, slots)
/// and, when references matter, links the references it uses: in every working-tree
/// file, and in the history blobs of CI config and manifests (a retired name that only
/// an old commit of a workflow holds is residue too).
///
/// The file is parsed only when something needs it: a match to place in a slot, or
/// references to link. A file with neither is classified by path and not parsed.
fn scan_chunk(matcher: &Matcher, linker: &Linker<'_>, chunk: &Chunk<'_>) -> ChunkResult {
    let mut raw: Vec<RawMatch> = Vec::new();
    matcher.scan(chunk, &mut raw);
    let references = linker.wants_references()
        && (chunk.origin.commit.is_none()
            || context::CI_AND_MANIFEST_KINDS
                .contains(&context::file_kind(&chunk.origin.path, chunk.bytes)));
    if raw.is_empty() && !references {
        return ChunkResult::default();
    }
    let file = context::analyze(&chunk.origin.path, chunk.bytes);
    let mut candidates: Vec<Candidate> = raw
        .into_iter()
        .filter_map(|m| linker.link(chunk, &file, m))
        .collect();
    if references {
        candidates.extend(
            file.references
                .iter()
                .map(|r| linker.link_reference(chunk, &file, r)),
        );
    }
    let repo = &chunk.origin.repo;
    ChunkResult {
        candidates,
        warnings: file
            .warnings
            .into_iter()
            .map(|w| (repo.clone(), w))
            .collect(),
    }
}

/// Where chunk results of parallel workers meet.
#[derive(Default)]
struct Collector {
    candidates: Mutex<Vec<Candidate>>,
    warnings: Mutex<Vec<(String, Diagnostic)>>,
}

impl Collector {
    fn add(&self, r: ChunkResult) {
        if !r.candidates.is_empty() {
            self.candidates
                .lock()
                .expect("candidates lock")
                .extend(r.candidates);
        }
        if !r.warnings.is_empty() {
            self.warnings
                .lock()
                .expect("warnings lock")
                .extend(r.warnings);
        }
    }

    /// The candidates, and the warnings added to `stats` in order and to the scope entry of
    /// the repository each concerns.
    fn finish(self, stats: &mut WalkStats) -> Vec<Candidate> {
        for (repo, w) in self.warnings.into_inner().expect("warnings lock") {
            if let Some(scope) = stats.repositories.iter_mut().find(|s| s.name == repo) {
                scope.warnings.push(w.clone());
            }
            stats.warnings.push(w);
        }
        stats.warnings.sort();
        stats.warnings.dedup();
        for scope in &mut stats.repositories {
            scope.warnings.sort();
            scope.warnings.dedup();
        }
        self.candidates.into_inner().expect("candidates lock")
    }
}

/// What one history blob yielded, as a cache keeps it: the path it was read at (its file
/// kind and slots follow from the path), candidates without plaintext, and its parse warnings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobResult {
    pub path: String,
    /// Read as a blob a ref names directly (no commit): references are then extracted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub loose: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<StoredCandidate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Diagnostic>,
}

/// Prior blob results parsed only when first asked for (see [`BlobMemo::deferring`]).
type Deferred = Box<dyn FnOnce() -> Result<BTreeMap<String, BlobResult>, String> + Send>;

/// The blob results a history scan of one repository may reuse (from a cache), and those it
/// keeps for next time: every blob of this walk, reused or read, so the cache follows the
/// history. With the repository's last whole [`Walk`], an unchanged repository is replayed.
#[derive(Default)]
pub struct BlobMemo {
    prior: HashMap<String, BlobResult>,
    /// More prior results, parsed on the first look-up `prior` cannot answer (a replay
    /// makes none), and how many there are.
    deferred: Mutex<Option<Deferred>>,
    deferred_blobs: u64,
    /// The deferred results once parsed, and why they could not be, if they could not
    /// (their blobs are then read again).
    later: OnceLock<(HashMap<String, BlobResult>, Option<String>)>,
    walk: Option<Walk>,
    kept: Mutex<BTreeMap<String, BlobResult>>,
    recorded: Mutex<Option<Walk>>,
    replayed: AtomicBool,
    reused: AtomicU64,
    read: AtomicU64,
}

/// What a memo holds for the next scan: every blob's results, and the whole walk if any.
pub struct MemoKept {
    pub blobs: BTreeMap<String, BlobResult>,
    pub walk: Option<Walk>,
}

impl BlobMemo {
    /// A memo that may reuse `prior` (blob id to result) and replay `walk`.
    pub fn new(prior: impl IntoIterator<Item = (String, BlobResult)>, walk: Option<Walk>) -> Self {
        BlobMemo {
            prior: prior.into_iter().collect(),
            walk,
            ..BlobMemo::default()
        }
    }

    /// Adds `blobs` prior results that `parse` yields, parsed only if the scan asks for a blob
    /// the others do not hold: a replayed walk never does, so an unchanged repository's cache
    /// is read no further than what the replay hands over.
    pub fn deferring(
        mut self,
        blobs: u64,
        parse: impl FnOnce() -> Result<BTreeMap<String, BlobResult>, String> + Send + 'static,
    ) -> Self {
        self.deferred = Mutex::new(Some(Box::new(parse)));
        self.deferred_blobs = blobs;
        self
    }

    /// How many prior results the memo was given, deferred ones included.
    pub fn held(&self) -> u64 {
        self.prior.len() as u64 + self.deferred_blobs
    }

    /// Why the deferred prior results did not parse, if they were asked for and did not.
    pub fn deferred_error(&self) -> Option<String> {
        self.later.get().and_then(|(_, error)| error.clone())
    }

    /// The deferred prior results, parsed on the first call.
    fn later(&self) -> &HashMap<String, BlobResult> {
        &self
            .later
            .get_or_init(|| {
                let parse = self.deferred.lock().expect("memo lock").take();
                match parse.map(|parse| parse()) {
                    Some(Ok(blobs)) => (blobs.into_iter().collect(), None),
                    Some(Err(e)) => (HashMap::new(), Some(e)),
                    None => (HashMap::new(), None),
                }
            })
            .0
    }

    /// Blobs whose results came from `prior` instead of a read (all of them on a replay).
    pub fn reused(&self) -> u64 {
        self.reused.load(Ordering::Relaxed)
    }

    /// Whether a cache written from [`BlobMemo::into_kept`] would hold just what was given to
    /// [`BlobMemo::new`]: the walk was replayed, or every prior blob reused, none read and
    /// the same walk recorded. Then there is nothing to write back.
    pub fn unchanged(&self) -> bool {
        if self.replayed.load(Ordering::Relaxed) {
            // Unless the walk replayed was described anew.
            return self.recorded.lock().expect("memo lock").is_none();
        }
        let kept = self.kept.lock().expect("memo lock").len();
        let recorded = self.recorded.lock().expect("memo lock");
        (self.held() > 0 || self.walk.is_some())
            && self.read.load(Ordering::Relaxed) == 0
            && kept as u64 == self.held()
            && self.reused() == self.held()
            && *recorded == self.walk
    }

    /// The results of every blob this scan covered, by blob id, and the walk it recorded.
    pub fn into_kept(self) -> MemoKept {
        if self.replayed.load(Ordering::Relaxed) {
            self.later();
            let (later, _) = self.later.into_inner().unwrap_or_default();
            let redescribed = self.recorded.into_inner().expect("memo lock");
            return MemoKept {
                blobs: self.prior.into_iter().chain(later).collect(),
                walk: redescribed.or(self.walk),
            };
        }
        MemoKept {
            blobs: self.kept.into_inner().expect("memo lock"),
            walk: self.recorded.into_inner().expect("memo lock"),
        }
    }

    fn keep(&self, blob: &str, origin: &Origin, r: &ChunkResult) {
        let kept = BlobResult {
            path: origin.path.clone(),
            loose: origin.commit.is_none(),
            candidates: r.candidates.iter().map(Candidate::stored).collect(),
            warnings: r.warnings.iter().map(|(_, w)| w.clone()).collect(),
        };
        self.read.fetch_add(1, Ordering::Relaxed);
        self.kept
            .lock()
            .expect("memo lock")
            .insert(blob.to_string(), kept);
    }

    /// The prior result of `oid` if it was read as new content at `origin`'s path and kind.
    fn prior_at(&self, oid: &str, origin: &Origin) -> Option<&BlobResult> {
        self.prior
            .get(oid)
            .or_else(|| self.later().get(oid))
            .filter(|p| p.path == origin.path && p.loose == origin.commit.is_none())
    }
}

/// The history read's reuse hook over a memo: a known blob at the same path yields its
/// stored candidates, placed at this walk's origin, as if it had been read.
struct Reusing<'a, 'l> {
    memo: &'a BlobMemo,
    linker: &'a Linker<'l>,
    collected: &'a Collector,
}

impl Reusing<'_, '_> {
    /// Hands over `prior`'s candidates and warnings as read at `origin`.
    fn hand_over(&self, prior: &BlobResult, origin: &Origin) {
        self.collected.add(ChunkResult {
            candidates: prior
                .candidates
                .iter()
                .map(|c| self.linker.relocate(c, origin))
                .collect(),
            warnings: prior
                .warnings
                .iter()
                .map(|w| (origin.repo.clone(), w.clone()))
                .collect(),
        });
    }
}

impl Reuse for Reusing<'_, '_> {
    fn reuse(&self, oid: &str, origin: &Origin) -> bool {
        let Some(prior) = self.memo.prior_at(oid, origin) else {
            return false;
        };
        self.hand_over(prior, origin);
        self.memo
            .kept
            .lock()
            .expect("memo lock")
            .insert(oid.to_string(), prior.clone());
        self.memo.reused.fetch_add(1, Ordering::Relaxed);
        true
    }

    fn replay(&self, repo: &str, refs: &str) -> Option<Walk> {
        self.replay_if(repo, |w| w.refs == refs)
    }

    fn replay_unopened(&self, repo: &str, files: &str) -> Option<Walk> {
        self.replay_if(repo, |w| {
            w.scope.is_some() && w.files.as_deref() == Some(files)
        })
    }

    /// Keeps of the walk only the blobs that yield something: the rest add nothing to a
    /// replay, and the walk's counts already say how many there were.
    fn record(&self, mut walk: Walk) {
        let kept = self.memo.kept.lock().expect("memo lock");
        walk.blobs.retain(|b| {
            kept.get(&b.oid).is_some_and(|r| {
                r.path == b.path() && (!r.candidates.is_empty() || !r.warnings.is_empty())
            })
        });
        *self.memo.recorded.lock().expect("memo lock") = Some(walk);
    }

    fn redescribe(&self, walk: Walk) {
        *self.memo.recorded.lock().expect("memo lock") = Some(walk);
    }
}

impl Reusing<'_, '_> {
    /// Replays the memo's walk of `repo` if `fits` it.
    fn replay_if(&self, repo: &str, fits: impl Fn(&Walk) -> bool) -> Option<Walk> {
        let walk = self.memo.walk.as_ref().filter(|w| fits(w))?;
        // Every recorded blob must be held as it was read, or nothing is replayed.
        let origins: Vec<Origin> = walk.blobs.iter().map(git::WalkBlob::origin).collect();
        let priors: Option<Vec<&BlobResult>> = walk
            .blobs
            .iter()
            .zip(&origins)
            .map(|(b, o)| self.memo.prior_at(&b.oid, o).filter(|_| b.is_of(repo)))
            .collect();
        for (prior, origin) in priors?.into_iter().zip(&origins) {
            self.hand_over(prior, origin);
        }
        self.memo.replayed.store(true, Ordering::Relaxed);
        self.memo.reused.store(self.memo.held(), Ordering::Relaxed);
        Some(walk.clone())
    }
}

/// Scans every path in parallel.
pub fn scan_paths(
    paths: &[PathBuf],
    opts: &WalkOptions,
    matcher: &Matcher,
    linker: &Linker<'_>,
) -> Scanned {
    let collected = Collector::default();
    let mut stats = source::walk(paths, opts, |chunk| {
        collected.add(scan_chunk(matcher, linker, chunk));
    });
    let candidates = collected.finish(&mut stats);
    Scanned {
        candidates,
        stats,
        history: None,
    }
}

/// Scans the working trees (unless `tree` is off) and the history of every repository found.
///
/// With a `memo`, history blobs it knows are not read again, and every blob's results are
/// kept in it. Working trees are always read: one version of each file, where history
/// holds all of them, and keying files by blob id would mean hashing every file anyway.
pub fn scan_git(
    found: &Discovery,
    tree: Option<&WalkOptions>,
    hist: &HistoryOptions,
    progress: &dyn Progress,
    matcher: &Matcher,
    linker: &Linker<'_>,
    memo: Option<&BlobMemo>,
) -> Result<Scanned, git::GitError> {
    let collected = Collector::default();
    let old: Mutex<HashSet<(String, String, String)>> = Mutex::new(HashSet::new());
    let mut stats = match tree {
        Some(opts) if !found.walk_roots.is_empty() => {
            source::walk(&found.walk_roots, opts, |chunk| {
                collected.add(scan_chunk(matcher, linker, chunk));
            })
        }
        _ => WalkStats::default(),
    };
    let scopes = &mut stats.repositories;
    let reusing = memo.map(|memo| Reusing {
        memo,
        linker,
        collected: &collected,
    });
    let reuse = reusing.as_ref().map(|r| r as &dyn Reuse);
    let history = git::scan_history(
        &found.repos,
        hist,
        progress,
        scopes,
        reuse,
        |chunk, role, blob| {
            let r = scan_chunk(matcher, linker, chunk);
            match role {
                Role::Scan => {
                    if let (Some(memo), Some(blob)) = (memo, blob) {
                        memo.keep(blob, chunk.origin, &r);
                    }
                    collected.add(r);
                }
                Role::Baseline => {
                    old.lock()
                        .expect("baseline lock")
                        .extend(r.candidates.iter().map(|c| {
                            let f = c.finding();
                            let subject = f.subject().to_string();
                            (f.location.repo.clone(), f.location.path.clone(), subject)
                        }))
                }
            }
        },
    )?;
    let old = old.into_inner().expect("baseline lock");
    stats.warnings.extend(found.warnings.iter().cloned());
    let mut candidates = collected.finish(&mut stats);
    if !old.is_empty() {
        candidates.retain(|c| {
            let f = c.finding();
            let key = (
                f.location.repo.clone(),
                f.location.path.clone(),
                f.subject().to_string(),
            );
            !old.contains(&key)
        });
    }
    Ok(Scanned {
        candidates,
        stats,
        history: Some(history),
    })
}

/// Joins findings of the same secret at the same path across history: each
/// working-tree occurrence stays its own finding (two lines, two places to
/// fix), and the history copies (blobs of old commits) are listed under the
/// first of them, or under the oldest commit when the tree no longer holds it.
pub fn merge(findings: Vec<Finding>) -> Vec<Finding> {
    let mut groups: BTreeMap<(String, String, String, String), Vec<Finding>> = BTreeMap::new();
    for f in findings {
        let key = (
            f.location.repo.clone(),
            f.location.path.clone(),
            f.rule.clone(),
            f.subject().to_string(),
        );
        groups.entry(key).or_default().push(f);
    }
    let mut out: Vec<Finding> = Vec::new();
    for mut group in groups.into_values() {
        group.sort_by(|a, b| a.location.order_key().cmp(&b.location.order_key()));
        let first_seen = group.iter().find_map(|f| f.location.date.clone());
        let tree = group
            .iter()
            .take_while(|f| f.location.commit.is_none())
            .count();
        let history: Vec<Finding> = group.split_off(tree.max(1));
        let mut history_locations: Vec<_> = history.iter().map(|f| f.location.clone()).collect();
        history_locations.dedup();
        for (i, mut f) in group.into_iter().enumerate() {
            f.locations = vec![f.location.clone()];
            if i == 0 {
                f.locations.extend(history_locations.iter().cloned());
                for h in &history {
                    for id in &h.identifiers {
                        if !f.identifiers.contains(id) {
                            f.identifiers.push(id.clone());
                        }
                    }
                }
            }
            f.locations.dedup();
            f.first_seen.clone_from(&first_seen);
            out.push(f);
        }
    }
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

/// A reference and every place that uses it, for `keytrace refs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsedReference {
    pub reference: context::Reference,
    /// Sorted places, each with the kind of file it is in.
    pub places: Vec<(Location, &'static str)>,
}

/// A file named by another (`include:`, `resources:`), for `keytrace refs`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NamedInclude {
    pub location: Location,
    pub target: String,
}

/// Every reference and include in the files under `paths`, in order.
pub fn collect_references(
    paths: &[PathBuf],
    opts: &WalkOptions,
) -> (Vec<UsedReference>, Vec<NamedInclude>, WalkStats) {
    type Place = (Location, &'static str);
    let refs: Mutex<BTreeMap<context::Reference, Vec<Place>>> = Mutex::new(BTreeMap::new());
    let includes: Mutex<Vec<NamedInclude>> = Mutex::new(Vec::new());
    let warnings: Mutex<Vec<Diagnostic>> = Mutex::new(Vec::new());
    let mut stats = source::walk(paths, opts, |chunk| {
        let file = context::analyze(&chunk.origin.path, chunk.bytes);
        let at = |line, column| Location::at(chunk.origin, line, column);
        if !file.references.is_empty() {
            let mut refs = refs.lock().expect("references lock");
            for r in &file.references {
                refs.entry(r.reference.clone())
                    .or_default()
                    .push((at(r.line, r.column), file.kind));
            }
        }
        if !file.includes.is_empty() {
            includes
                .lock()
                .expect("includes lock")
                .extend(file.includes.iter().map(|i| NamedInclude {
                    location: at(i.line, 1),
                    target: i.target.clone(),
                }));
        }
        warnings
            .lock()
            .expect("warnings lock")
            .extend(file.warnings);
    });
    stats
        .warnings
        .extend(warnings.into_inner().expect("warnings lock"));
    stats.warnings.sort();
    let used = refs
        .into_inner()
        .expect("references lock")
        .into_iter()
        .map(|(reference, mut places)| {
            places.sort();
            UsedReference { reference, places }
        })
        .collect();
    let mut includes = includes.into_inner().expect("includes lock");
    includes.sort();
    (used, includes, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(path: &str) -> BlobResult {
        BlobResult {
            path: path.into(),
            loose: false,
            candidates: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn at(path: &str) -> Origin {
        Origin {
            path: path.into(),
            commit: Some("c".repeat(40)),
            ..Origin::default()
        }
    }

    #[test]
    fn deferred_prior_results_are_parsed_once_and_only_when_asked_for() {
        let parsed = std::sync::Arc::new(AtomicU64::new(0));
        let counted = parsed.clone();
        let memo = BlobMemo::new([("a".into(), result("a.env"))], None).deferring(1, move || {
            counted.fetch_add(1, Ordering::Relaxed);
            Ok(BTreeMap::from([("b".to_string(), result("b.py"))]))
        });
        assert_eq!(memo.held(), 2);
        assert!(memo.prior_at("a", &at("a.env")).is_some());
        assert_eq!(parsed.load(Ordering::Relaxed), 0, "held in the head");
        assert!(memo.prior_at("b", &at("b.py")).is_some());
        assert!(memo.prior_at("b", &at("elsewhere.py")).is_none());
        assert!(memo.prior_at("new", &at("b.py")).is_none());
        assert_eq!(parsed.load(Ordering::Relaxed), 1);
        assert_eq!(memo.deferred_error(), None);
    }

    #[test]
    fn deferred_prior_results_that_do_not_parse_are_read_again_and_say_why() {
        let memo = BlobMemo::new([("a".into(), result("a.env"))], None)
            .deferring(1, || Err("line two does not parse".to_string()));
        assert!(memo.prior_at("b", &at("b.py")).is_none());
        assert!(memo.prior_at("a", &at("a.env")).is_some());
        assert_eq!(
            memo.deferred_error().as_deref(),
            Some("line two does not parse")
        );
    }
}
