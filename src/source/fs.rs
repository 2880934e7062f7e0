//! Parallel filesystem walk with `ignore`: hidden files included, no symlink followed, and of
//! `.git/` only its `config` (a remote URL with a token in it is a copy of that token).
//!
//! Each git repository met below a scanned path is walked as its own root, named after its
//! directory, so findings name the repository that holds the file and a path relative to it.

use super::{WalkOptions, WalkStats};
use crate::diag::{Code, Diagnostic};
use crate::types::{Chunk, Origin, RepositoryScope, TreeCounts};
use ignore::{WalkBuilder, WalkState};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Bytes sniffed for a NUL to call a file binary, as git does.
const BINARY_SNIFF: usize = 8 * 1024;

#[derive(Default)]
struct Counters {
    files: AtomicU64,
    bytes: AtomicU64,
    binary: AtomicU64,
    too_large: AtomicU64,
    symlinks: AtomicU64,
    archives: AtomicU64,
    unreadable: AtomicU64,
    warnings: Mutex<Vec<Diagnostic>>,
}

impl Counters {
    fn warn(&self, d: Diagnostic) {
        self.warnings.lock().expect("warnings lock").push(d);
    }

    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn into_counts(self) -> (TreeCounts, Vec<Diagnostic>) {
        let mut warnings = self.warnings.into_inner().expect("warnings lock");
        warnings.sort();
        let counts = TreeCounts {
            files_scanned: self.files.into_inner(),
            bytes_scanned: self.bytes.into_inner(),
            skipped_binary: self.binary.into_inner(),
            skipped_too_large: self.too_large.into_inner(),
            skipped_symlinks: self.symlinks.into_inner(),
            skipped_archives: self.archives.into_inner(),
            unreadable: self.unreadable.into_inner(),
        };
        (counts, warnings)
    }
}

/// A scan root: the repository (or directory) findings are relative to, and what its walk saw.
struct Root {
    /// Repository root (nearest ancestor with `.git`), or the scanned directory.
    base: PathBuf,
    scope: RepositoryScope,
    /// Whether some path of this root was walked (a bare repository has no working tree).
    walked: bool,
    counters: Counters,
}

/// Every root of one walk, found by base, and the paths already walked (each walked once).
struct Roots {
    all: Vec<Root>,
    by_base: HashMap<PathBuf, usize>,
    walked: HashSet<PathBuf>,
}

impl Roots {
    /// The root whose base is `base`, made (with its repository facts) on first use.
    fn get(&mut self, base: &Path) -> usize {
        if let Some(&i) = self.by_base.get(base) {
            return i;
        }
        let name = base.file_name().map_or_else(
            || base.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let scope = if is_repository(base) {
            super::git::describe(base, &name)
        } else {
            RepositoryScope::directory(&name, &base.to_string_lossy())
        };
        self.all.push(Root {
            base: base.to_path_buf(),
            scope,
            walked: false,
            counters: Counters::default(),
        });
        self.by_base.insert(base.to_path_buf(), self.all.len() - 1);
        self.all.len() - 1
    }
}

/// Whether `dir` is a working tree (holds `.git`) or a bare repository.
fn is_repository(dir: &Path) -> bool {
    dir.join(".git").exists() || looks_bare(dir)
}

/// A bare repository: `HEAD`, `objects/` and `refs/` at the top.
pub(super) fn looks_bare(dir: &Path) -> bool {
    dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("refs").is_dir()
}

/// Walks `paths` in parallel and calls `on_chunk` once per scanned file.
///
/// A directory below a root that is itself a repository is not entered by that root's walk:
/// it becomes a root of its own (a bare one is listed, not walked), walked in a later round.
pub fn walk<F>(paths: &[PathBuf], opts: &WalkOptions, on_chunk: F) -> WalkStats
where
    F: Fn(&Chunk<'_>) + Sync,
{
    let mut roots = Roots {
        all: Vec::new(),
        by_base: HashMap::new(),
        walked: HashSet::new(),
    };
    let mut warnings = Vec::new();
    let mut round: Vec<(PathBuf, usize)> = Vec::new();
    for path in paths {
        let Ok(canonical) = path.canonicalize() else {
            warnings.push(Diagnostic::new(
                Code::WalkError,
                path.display().to_string(),
                "path does not exist or cannot be resolved",
            ));
            continue;
        };
        let id = roots.get(&repository_root(&canonical));
        if canonical.is_dir() && looks_bare(&canonical) {
            continue;
        }
        round.push((canonical, id));
    }
    while !round.is_empty() {
        for (path, id) in &round {
            roots.all[*id].walked = true;
            roots.walked.insert(path.clone());
        }
        let nested = walk_round(&round, &roots.all, opts, &on_chunk);
        round = Vec::new();
        for dir in nested {
            let id = roots.get(&dir);
            if !looks_bare(&dir) && !roots.walked.contains(&dir) {
                round.push((dir, id));
            }
        }
    }
    finish(roots.all, warnings)
}

/// Sums the roots' counts into the aggregate and lists each root's scope, sorted.
fn finish(all: Vec<Root>, mut warnings: Vec<Diagnostic>) -> WalkStats {
    let mut stats = WalkStats::default();
    for root in all {
        let (counts, root_warnings) = root.counters.into_counts();
        let mut scope = root.scope;
        // A plain directory that only holds repositories is not a scan unit of its own.
        if !scope.git && counts == TreeCounts::default() && root_warnings.is_empty() {
            continue;
        }
        if root.walked {
            stats.counts.add(&counts);
            scope.tree = Some(counts);
        }
        warnings.extend(root_warnings.iter().cloned());
        scope.warnings.extend(root_warnings);
        stats.repositories.push(scope);
    }
    stats
        .repositories
        .sort_by(|a, b| (&a.name, &a.root).cmp(&(&b.name, &b.root)));
    warnings.sort();
    stats.warnings = warnings;
    stats
}

/// The repository root of a path (nearest ancestor holding `.git`), else the path's directory.
///
/// Findings are relative to it, and the config file and its globs hang off it.
pub fn repository_root(path: &Path) -> PathBuf {
    let dir = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(path)
    };
    dir.ancestors()
        .find(|a| a.join(".git").exists())
        .unwrap_or(dir)
        .to_path_buf()
}

/// Walks one round of roots in one parallel walk; returns the repositories met below them.
fn walk_round<F>(
    round: &[(PathBuf, usize)],
    all: &[Root],
    opts: &WalkOptions,
    on_chunk: &F,
) -> Vec<PathBuf>
where
    F: Fn(&Chunk<'_>) + Sync,
{
    let nested: Arc<Mutex<Vec<PathBuf>>> = Arc::default();
    let met = Arc::clone(&nested);
    // (`.git/config`, its depth below the walk path) of each working tree met.
    let git_configs: Arc<Mutex<Vec<(PathBuf, usize)>>> = Arc::default();
    let configs_met = Arc::clone(&git_configs);
    let mut builder = WalkBuilder::new(&round[0].0);
    for (path, _) in &round[1..] {
        builder.add(path);
    }
    builder
        .hidden(false)
        .follow_links(false)
        .require_git(false)
        .git_global(false)
        .threads(opts.threads)
        .filter_entry(move |e| {
            if e.file_name() == ".git" {
                if e.file_type().is_some_and(|t| t.is_dir()) {
                    configs_met
                        .lock()
                        .expect("git config lock")
                        .push((e.path().join("config"), e.depth() + 1));
                }
                return false;
            }
            let dir = e.depth() > 0 && e.file_type().is_some_and(|t| t.is_dir());
            if dir && is_repository(e.path()) {
                met.lock()
                    .expect("nested lock")
                    .push(e.path().to_path_buf());
                return false;
            }
            true
        });
    if opts.respect_ignore_files {
        builder.add_custom_ignore_filename(".keytraceignore");
    } else {
        builder.standard_filters(false).hidden(false);
    }
    // Which root an entry belongs to: its walk path is the ancestor `depth` levels up.
    let by_path: HashMap<&Path, &Root> = round
        .iter()
        .map(|(p, id)| (p.as_path(), &all[*id]))
        .collect();
    let single = (round.len() == 1).then(|| &all[round[0].1]);
    let root_of = |path: &Path, depth: usize| -> Option<&Root> {
        single.or_else(|| {
            path.ancestors()
                .nth(depth)
                .and_then(|p| by_path.get(p).copied())
        })
    };
    builder.build_parallel().run(|| {
        Box::new(|entry| {
            match entry {
                Ok(entry) => {
                    if let (Some(root), Some(file_type)) =
                        (root_of(entry.path(), entry.depth()), entry.file_type())
                    {
                        visit(entry.path(), file_type, root, opts, on_chunk);
                    }
                }
                Err(err) => report_walk_error(&err, round, all),
            }
            WalkState::Continue
        })
    });
    let mut configs = std::mem::take(&mut *git_configs.lock().expect("git config lock"));
    configs.sort();
    for (config, depth) in configs {
        if let (Some(root), Ok(meta)) = (root_of(&config, depth), config.symlink_metadata()) {
            visit(&config, meta.file_type(), root, opts, on_chunk);
        }
    }
    let mut nested = std::mem::take(&mut *nested.lock().expect("nested lock"));
    nested.sort();
    nested.dedup();
    nested
}

fn visit<F>(path: &Path, ft: std::fs::FileType, root: &Root, opts: &WalkOptions, on_chunk: &F)
where
    F: Fn(&Chunk<'_>) + Sync,
{
    let counters = &root.counters;
    if ft.is_symlink() {
        Counters::add(&counters.symlinks);
        return;
    }
    if !ft.is_file() {
        return;
    }
    let rel = relative(path, &root.base);
    READ_BUF.with_borrow_mut(|buf| {
        let read = match read_limited(path, opts.max_file_size, buf) {
            Ok(Some(read)) => read,
            Ok(None) => {
                Counters::add(&counters.too_large);
                let message = format!(
                    "larger than --max-file-size ({} bytes); skipped",
                    opts.max_file_size
                );
                counters.warn(Diagnostic::new(Code::FileTooLarge, rel, message));
                return;
            }
            Err(e) => {
                Counters::add(&counters.unreadable);
                counters.warn(Diagnostic::new(Code::UnreadableFile, rel, e.to_string()));
                return;
            }
        };
        let bytes = match classify(&buf[..read]) {
            Content::Text(bytes) => bytes,
            Content::Binary => {
                Counters::add(&counters.binary);
                return;
            }
            Content::Archive(format) => {
                Counters::add(&counters.archives);
                let message = format!("{format} archive: its content was not scanned");
                counters.warn(Diagnostic::new(Code::ArchiveSkipped, rel, message));
                return;
            }
        };
        if std::str::from_utf8(&bytes).is_err() {
            counters.warn(Diagnostic::new(
                Code::InvalidUtf8,
                rel.clone(),
                "not valid UTF-8; scanned as bytes",
            ));
        }
        Counters::add(&counters.files);
        counters
            .bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let origin = Origin {
            repo: root.scope.name.clone(),
            path: rel,
            ..Origin::default()
        };
        on_chunk(&Chunk {
            bytes: &bytes,
            origin: &origin,
        });
    });
}

/// Reads a file into the front of `buf` and returns its length, or `None` when it is
/// larger than `max` bytes.
///
/// `buf` keeps the length it grew to (its bytes past the file are stale), so it is
/// zeroed only when it grows. A read that returns as many bytes as the file's size is
/// taken as the whole file, without a second read to see the end: one `read` per file.
fn read_limited(path: &Path, max: u64, buf: &mut Vec<u8>) -> std::io::Result<Option<usize>> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len > max {
        return Ok(None);
    }
    let size = usize::try_from(len).unwrap_or(usize::MAX);
    if buf.len() <= size {
        buf.resize(size.saturating_add(1).max(BINARY_SNIFF), 0);
    }
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            buf.resize(buf.len().saturating_mul(2), 0);
        }
        match file.read(&mut buf[filled..]) {
            Ok(0) => return Ok(Some(filled)),
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        if filled as u64 > max {
            return Ok(None);
        }
        // A file of size 0 (as /proc reports) is read to its end.
        if filled == size && size > 0 {
            return Ok(Some(filled));
        }
    }
}

thread_local! {
    /// One read buffer per worker thread, reused across files.
    static READ_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What a file's or blob's bytes are: the one decision the tree walk and history share.
pub(super) enum Content<'a> {
    /// Text to scan (UTF-16 with a byte-order mark re-encoded as UTF-8).
    Text(Cow<'a, [u8]>),
    /// A NUL in the first 8 KiB, as git decides.
    Binary,
    /// A compressed archive, by its magic bytes: a hole in the scan, named in a warning.
    Archive(&'static str),
}

pub(super) fn classify(bytes: &[u8]) -> Content<'_> {
    if let Some(format) = archive_format(bytes) {
        return Content::Archive(format);
    }
    if let Some(utf8) = decode_utf16(bytes) {
        return Content::Text(Cow::Owned(utf8));
    }
    if memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF)]).is_some() {
        return Content::Binary;
    }
    Content::Text(Cow::Borrowed(bytes))
}

/// The archive format named by the magic bytes at the start (tar: `ustar` at offset 257).
fn archive_format(bytes: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "zip"),
        (b"\x1f\x8b", "gzip"),
        (b"\xfd7zXZ\x00", "xz"),
        (b"\x28\xb5\x2f\xfd", "zstd"),
        (b"7z\xbc\xaf\x27\x1c", "7z"),
    ];
    if let Some((_, format)) = MAGIC.iter().find(|(m, _)| bytes.starts_with(m)) {
        return Some(format);
    }
    // bzip2: `BZh`, a block size digit, then a block or end-of-stream marker (not mere text).
    if let [b'B', b'Z', b'h', b'1'..=b'9', rest @ ..] = bytes {
        if rest.starts_with(b"\x31\x41\x59\x26\x53\x59")
            || rest.starts_with(b"\x17\x72\x45\x38\x50\x90")
        {
            return Some("bzip2");
        }
    }
    bytes
        .get(257..262)
        .filter(|m| *m == b"ustar")
        .map(|_| "tar")
}

/// UTF-16 text with a byte-order mark, re-encoded as UTF-8.
fn decode_utf16(bytes: &[u8]) -> Option<Vec<u8>> {
    let (le, body) = match bytes {
        [0xFF, 0xFE, rest @ ..] => (true, rest),
        [0xFE, 0xFF, rest @ ..] => (false, rest),
        _ => return None,
    };
    let units = body.chunks_exact(2).map(|c| {
        if le {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    let text: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or('\u{FFFD}'))
        .collect();
    Some(text.into_bytes())
}

/// Counts and warns about a walk error on the root whose walk path holds it (the first root
/// of the round when the error names no path).
fn report_walk_error(err: &ignore::Error, round: &[(PathBuf, usize)], all: &[Root]) {
    let path = error_path(err);
    let id = path
        .and_then(|p| {
            round
                .iter()
                .filter(|(w, _)| p.starts_with(w))
                .max_by_key(|(w, _)| w.as_os_str().len())
        })
        .map_or(round[0].1, |(_, id)| *id);
    let root = &all[id];
    let shown = path.map_or_else(|| root.scope.name.clone(), |p| relative(p, &root.base));
    let code = match err.io_error().map(std::io::Error::kind) {
        _ if is_loop(err) => Code::SymlinkLoop,
        Some(std::io::ErrorKind::PermissionDenied) => Code::UnreadableDirectory,
        _ => Code::WalkError,
    };
    if code == Code::UnreadableDirectory {
        Counters::add(&root.counters.unreadable);
    }
    root.counters
        .warn(Diagnostic::new(code, shown, innermost(err)));
}

fn is_loop(err: &ignore::Error) -> bool {
    match err {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => is_loop(err),
        _ => false,
    }
}

fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child),
        _ => None,
    }
}

fn innermost(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => {
            innermost(err)
        }
        other => other.to_string(),
    }
}

/// `path` relative to `base`, with `/` separators.
fn relative(path: &Path, base: &Path) -> String {
    if let Some(rel) = plain_relative(path, base) {
        return rel.to_string();
    }
    let rel = path.strip_prefix(base).unwrap_or(path);
    let mut out = String::new();
    for c in rel.components() {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(&c.as_os_str().to_string_lossy());
    }
    if out.is_empty() {
        path.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    } else {
        out
    }
}

/// `path` below `base` as it is written, when that is already what the component walk in
/// [`relative`] gives (UTF-8, `/`-separated, no empty, `.` or `..` part): the walker's
/// paths are, and taking the text as it is saves parsing components twice per file.
fn plain_relative<'a>(path: &'a Path, base: &Path) -> Option<&'a str> {
    if std::path::MAIN_SEPARATOR != '/' {
        return None;
    }
    let base = base.to_str().filter(|b| !b.is_empty())?;
    let rest = path.to_str()?.strip_prefix(base)?;
    let rest = if base.ends_with('/') {
        rest
    } else {
        rest.strip_prefix('/')?
    };
    let plain = !rest.is_empty()
        && rest
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    plain.then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::{plain_relative, relative};
    use std::path::Path;

    #[test]
    fn relative_paths_are_the_components_joined_by_slashes_however_spelled() {
        let base = Path::new("/repo");
        for (path, want) in [
            ("/repo/a/b.txt", "a/b.txt"),
            ("/repo/.env", ".env"),
            ("/repo/./a//b.txt", "a/b.txt"),
            ("/repo/a/b/", "a/b"),
            ("/repo/a/../b", "a/../b"),
        ] {
            assert_eq!(relative(Path::new(path), base), want, "{path}");
        }
        assert_eq!(relative(Path::new("/a/b"), Path::new("/")), "a/b");
        // Only paths already in that shape take the text as it is.
        assert_eq!(plain_relative(Path::new("/repo/a/b"), base), Some("a/b"));
        for odd in [
            "/repo/./a",
            "/repo/a//b",
            "/repo/a/",
            "/repo/a/..",
            "/repo",
            "/repos/a",
        ] {
            assert_eq!(plain_relative(Path::new(odd), base), None, "{odd}");
        }
    }
}
