//! Sweep progress on stderr, never stdout and never in the report: a bar on a terminal
//! (repositories done / total, blobs/s, the current repository), or one JSON object per
//! line for schedulers, or nothing.
//!
//! Safe to call from several repositories at once: counts are atomic and each JSON line
//! is written whole under one lock.

use crate::source::git::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// `sweep --progress` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ProgressMode {
    /// A progress bar when stderr is a terminal, nothing otherwise.
    #[default]
    Auto,
    /// One JSON object per line on stderr: event, repo, done, total, blobs, elapsed_ms.
    Json,
    /// No progress output.
    Off,
}

/// One `--progress json` line, fields in this order.
#[derive(serde::Serialize)]
struct Line<'a> {
    event: &'a str,
    repo: Option<&'a str>,
    done: u64,
    total: u64,
    blobs: u64,
    elapsed_ms: u64,
}

/// Counts repositories and blobs of one sweep and shows them as `mode` asks.
pub struct SweepProgress {
    json: bool,
    bar: Option<ProgressBar>,
    total: u64,
    done: AtomicU64,
    blobs: AtomicU64,
    start: Instant,
    current: Mutex<String>,
    lines: Mutex<()>,
}

impl SweepProgress {
    /// Starts the display for `total` repositories; `terminal` says whether stderr is one.
    pub fn new(mode: ProgressMode, total: u64, terminal: bool) -> Self {
        let bar = (mode == ProgressMode::Auto && terminal).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{pos}/{len} repos {bar:30} {elapsed} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        let p = SweepProgress {
            json: mode == ProgressMode::Json,
            bar,
            total,
            done: AtomicU64::new(0),
            blobs: AtomicU64::new(0),
            start: Instant::now(),
            current: Mutex::new(String::new()),
            lines: Mutex::new(()),
        };
        p.event("start", None);
        p
    }

    /// A repository is about to be swept.
    pub fn repo_start(&self, repo: &str) {
        if let Ok(mut c) = self.current.lock() {
            repo.clone_into(&mut c);
        }
        self.redraw();
        self.event("repo-start", Some(repo));
    }

    /// A repository is done (swept, or entered in the report as an error).
    pub fn repo_done(&self, repo: &str) {
        self.done.fetch_add(1, Ordering::Relaxed);
        if let Some(b) = &self.bar {
            b.inc(1);
        }
        self.event("repo-done", Some(repo));
    }

    /// The sweep is over: the bar is cleared, the JSON stream ends with `finish`.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        self.event("finish", None);
    }

    fn blobs_per_second(&self) -> f64 {
        let secs = self.start.elapsed().as_secs_f64().max(1e-3);
        self.blobs.load(Ordering::Relaxed) as f64 / secs
    }

    fn redraw(&self) {
        if let Some(b) = &self.bar {
            let current = self.current.lock().map(|c| c.clone()).unwrap_or_default();
            b.set_message(format!("{:.0} blobs/s  {current}", self.blobs_per_second()));
        }
    }

    fn event(&self, event: &str, repo: Option<&str>) {
        if !self.json {
            return;
        }
        let line = Line {
            event,
            repo,
            done: self.done.load(Ordering::Relaxed),
            total: self.total,
            blobs: self.blobs.load(Ordering::Relaxed),
            elapsed_ms: u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        let Ok(mut text) = serde_json::to_string(&line) else {
            return;
        };
        text.push('\n');
        let _held = self.lines.lock();
        // Progress is best effort: a closed stderr must not stop the sweep.
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// The history scan's per-blob hooks: blobs count toward blobs/s.
impl Progress for SweepProgress {
    fn begin(&self, _repo: &str, _blobs: u64) {}

    fn advance(&self, _bytes: u64) {
        let n = self.blobs.fetch_add(1, Ordering::Relaxed) + 1;
        if n % 256 == 0 {
            self.redraw();
        }
    }

    fn end(&self) {}
}
