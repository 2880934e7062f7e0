//! Parallel filesystem walk with `ignore`: hidden files included, `.git/` never, no symlink followed.

use super::{WalkOptions, WalkStats};
use crate::diag::{Code, Diagnostic};
use crate::types::{Chunk, Origin};
use ignore::{WalkBuilder, WalkState};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Bytes sniffed for a NUL to call a file binary, as git does.
pub(super) const BINARY_SNIFF: usize = 8 * 1024;

#[derive(Default)]
struct Counters {
    files: AtomicU64,
    bytes: AtomicU64,
    binary: AtomicU64,
    too_large: AtomicU64,
    symlinks: AtomicU64,
    unreadable: AtomicU64,
    warnings: Mutex<Vec<Diagnostic>>,
}

impl Counters {
    fn warn(&self, d: Diagnostic) {
        self.warnings.lock().expect("warnings lock").push(d);
    }
}

/// A scan root: the directory findings are relative to, and its display name.
#[derive(Debug, Clone)]
struct Root {
    /// Repository root (nearest ancestor with `.git`), or the scanned directory.
    base: PathBuf,
    name: String,
}

/// Walks `paths` in parallel and calls `on_chunk` once per scanned file.
pub fn walk<F>(paths: &[PathBuf], opts: &WalkOptions, on_chunk: F) -> WalkStats
where
    F: Fn(&Chunk<'_>) + Sync,
{
    let counters = Counters::default();
    for path in paths {
        let Ok(canonical) = path.canonicalize() else {
            counters.warn(Diagnostic::new(
                Code::WalkError,
                path.display().to_string(),
                "path does not exist or cannot be resolved",
            ));
            continue;
        };
        let root = find_root(&canonical);
        walk_one(&canonical, &root, opts, &counters, &on_chunk);
    }
    let mut warnings = counters.warnings.into_inner().expect("warnings lock");
    warnings.sort();
    WalkStats {
        files_scanned: counters.files.into_inner(),
        bytes_scanned: counters.bytes.into_inner(),
        skipped_binary: counters.binary.into_inner(),
        skipped_too_large: counters.too_large.into_inner(),
        skipped_symlinks: counters.symlinks.into_inner(),
        unreadable: counters.unreadable.into_inner(),
        warnings,
    }
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

fn find_root(path: &Path) -> Root {
    let base = repository_root(path);
    let name = base.file_name().map_or_else(
        || base.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Root { base, name }
}

fn walk_one<F>(path: &Path, root: &Root, opts: &WalkOptions, counters: &Counters, on_chunk: &F)
where
    F: Fn(&Chunk<'_>) + Sync,
{
    let skip = opts.skip_dirs.clone();
    let mut builder = WalkBuilder::new(path);
    builder
        .hidden(false)
        .follow_links(false)
        .require_git(false)
        .git_global(false)
        .threads(opts.threads)
        .filter_entry(move |e| {
            e.file_name() != ".git" && (e.depth() == 0 || !skip.iter().any(|d| d == e.path()))
        });
    if opts.respect_ignore_files {
        builder.add_custom_ignore_filename(".keytraceignore");
    } else {
        builder.standard_filters(false).hidden(false);
    }
    builder.build_parallel().run(|| {
        Box::new(|entry| {
            match entry {
                Ok(entry) => visit(&entry, root, opts, counters, on_chunk),
                Err(err) => report_walk_error(&err, root, counters),
            }
            WalkState::Continue
        })
    });
}

fn visit<F>(
    entry: &ignore::DirEntry,
    root: &Root,
    opts: &WalkOptions,
    counters: &Counters,
    on_chunk: &F,
) where
    F: Fn(&Chunk<'_>) + Sync,
{
    let Some(ft) = entry.file_type() else { return };
    if ft.is_symlink() {
        counters.symlinks.fetch_add(1, Ordering::Relaxed);
        return;
    }
    if !ft.is_file() {
        return;
    }
    let rel = relative(entry.path(), &root.base);
    READ_BUF.with_borrow_mut(|buf| {
        match read_limited(entry.path(), opts.max_file_size, buf) {
            Ok(true) => {}
            Ok(false) => {
                counters.too_large.fetch_add(1, Ordering::Relaxed);
                let message = format!(
                    "larger than --max-file-size ({} bytes); skipped",
                    opts.max_file_size
                );
                counters.warn(Diagnostic::new(Code::FileTooLarge, rel, message));
                return;
            }
            Err(e) => {
                counters.unreadable.fetch_add(1, Ordering::Relaxed);
                counters.warn(Diagnostic::new(Code::UnreadableFile, rel, e.to_string()));
                return;
            }
        }
        let utf16 = decode_utf16(buf);
        let bytes: &[u8] = match &utf16 {
            Some(utf8) => utf8,
            None if memchr::memchr(0, &buf[..buf.len().min(BINARY_SNIFF)]).is_some() => {
                counters.binary.fetch_add(1, Ordering::Relaxed);
                return;
            }
            None => buf,
        };
        if std::str::from_utf8(bytes).is_err() {
            counters.warn(Diagnostic::new(
                Code::InvalidUtf8,
                rel.clone(),
                "not valid UTF-8; scanned as bytes",
            ));
        }
        counters.files.fetch_add(1, Ordering::Relaxed);
        counters
            .bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let origin = Origin {
            repo: root.name.clone(),
            path: rel,
            ..Origin::default()
        };
        on_chunk(&Chunk {
            bytes,
            origin: &origin,
        });
    });
}

/// Reads a file into `buf` unless it is larger than `max` bytes (`Ok(false)`).
fn read_limited(path: &Path, max: u64, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len > max {
        return Ok(false);
    }
    buf.clear();
    buf.reserve(usize::try_from(len).unwrap_or(0) + 1);
    file.by_ref().take(max + 1).read_to_end(buf)?;
    Ok(buf.len() as u64 <= max)
}

thread_local! {
    /// One read buffer per worker thread, reused across files.
    static READ_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// UTF-16 text with a byte-order mark, re-encoded as UTF-8.
pub(super) fn decode_utf16(bytes: &[u8]) -> Option<Vec<u8>> {
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

fn report_walk_error(err: &ignore::Error, root: &Root, counters: &Counters) {
    let path = error_path(err).map_or_else(|| root.name.clone(), |p| relative(p, &root.base));
    let code = match err.io_error().map(std::io::Error::kind) {
        _ if is_loop(err) => Code::SymlinkLoop,
        Some(std::io::ErrorKind::PermissionDenied) => Code::UnreadableDirectory,
        _ => Code::WalkError,
    };
    if code == Code::UnreadableDirectory {
        counters.unreadable.fetch_add(1, Ordering::Relaxed);
    }
    counters.warn(Diagnostic::new(code, path, innermost(err)));
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
    let rel = path.strip_prefix(base).unwrap_or(path);
    let s: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if s.is_empty() {
        path.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    } else {
        s.join("/")
    }
}
