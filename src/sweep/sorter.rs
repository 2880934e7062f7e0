//! An external sort: items are held up to a fixed count, then sorted and written to a run
//! file; the runs are merged back in order. Memory stays the same whatever is pushed, so
//! the estate views of any number of repositories are grouped on disk, not in memory.

use super::spool::{io, SpoolError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Items held in memory before a run is written: a few megabytes of view items.
pub(super) const RUN_ITEMS: usize = 32 * 1024;

/// Runs merged at once; more are merged in passes, so open files stay few.
const FAN_IN: usize = 32;

/// Items pushed in any order, given back sorted.
pub(super) struct Sorter<T> {
    dir: PathBuf,
    name: &'static str,
    limit: usize,
    held: Vec<T>,
    runs: Vec<PathBuf>,
    written: usize,
}

impl<T: Ord + Serialize + DeserializeOwned> Sorter<T> {
    /// A sorter writing its runs as `dir/NAME.N.jsonl`, holding `limit` items at most.
    pub(super) fn new(dir: &Path, name: &'static str, limit: usize) -> Self {
        Sorter {
            dir: dir.to_path_buf(),
            name,
            limit: limit.max(1),
            held: Vec::new(),
            runs: Vec::new(),
            written: 0,
        }
    }

    pub(super) fn push(&mut self, item: T) -> Result<(), SpoolError> {
        self.held.push(item);
        if self.held.len() >= self.limit {
            let mut held = std::mem::take(&mut self.held);
            held.sort_unstable();
            let run = self.write_run(held.into_iter().map(Ok))?;
            self.runs.push(run);
        }
        Ok(())
    }

    /// Every item pushed, in order; `seen` is shown each one first (to count what the
    /// caller must know before it reads them), at the cost of one more pass on disk.
    pub(super) fn finish(mut self, mut seen: impl FnMut(&T)) -> Result<Sorted<T>, SpoolError> {
        let mut held = std::mem::take(&mut self.held);
        held.sort_unstable();
        if self.runs.is_empty() {
            held.iter().for_each(&mut seen);
            return Ok(Sorted::Held(held.into_iter()));
        }
        if !held.is_empty() {
            let run = self.write_run(held.into_iter().map(Ok))?;
            self.runs.push(run);
        }
        while self.runs.len() > FAN_IN {
            let rest = self.runs.split_off(FAN_IN);
            let merged = Merge::open(&std::mem::replace(&mut self.runs, rest))?;
            let run = self.write_run(merged)?;
            self.runs.push(run);
        }
        let merged = Merge::open(&self.runs)?;
        let last = self.write_run(merged.inspect(|item| {
            if let Ok(item) = item {
                seen(item);
            }
        }))?;
        Merge::open(&[last]).map(Sorted::Merged)
    }

    /// Writes `items` (in order) to a new run file, removing the runs they were read from
    /// once written.
    fn write_run(
        &mut self,
        items: impl Iterator<Item = Result<T, SpoolError>>,
    ) -> Result<PathBuf, SpoolError> {
        let path = self
            .dir
            .join(format!("{}.{}.jsonl", self.name, self.written));
        self.written += 1;
        let file = File::create(&path).map_err(|e| io(&path, &e))?;
        let mut out = BufWriter::new(file);
        for item in items {
            serde_json::to_writer(&mut out, &item?).map_err(|e| io(&path, &e.into()))?;
            out.write_all(b"\n").map_err(|e| io(&path, &e))?;
        }
        out.flush().map_err(|e| io(&path, &e))?;
        Ok(path)
    }
}

/// The sorted items of a [`Sorter`]: held when they never filled a run, else read back.
pub(super) enum Sorted<T> {
    Held(std::vec::IntoIter<T>),
    Merged(Merge<T>),
}

impl<T: Ord + DeserializeOwned> Iterator for Sorted<T> {
    type Item = Result<T, SpoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Sorted::Held(items) => items.next().map(Ok),
            Sorted::Merged(merge) => merge.next(),
        }
    }
}

type Run<T> = serde_json::StreamDeserializer<'static, serde_json::de::IoRead<BufReader<File>>, T>;

/// A k-way merge of sorted run files, each removed when it has been read to its end.
pub(super) struct Merge<T> {
    runs: Vec<(PathBuf, Run<T>)>,
    heads: BinaryHeap<Reverse<(T, usize)>>,
    failed: Option<SpoolError>,
}

impl<T: Ord + DeserializeOwned> Merge<T> {
    fn open(paths: &[PathBuf]) -> Result<Merge<T>, SpoolError> {
        let mut merge = Merge {
            runs: Vec::new(),
            heads: BinaryHeap::new(),
            failed: None,
        };
        for (i, path) in paths.iter().enumerate() {
            let file = File::open(path).map_err(|e| io(path, &e))?;
            let run = serde_json::Deserializer::from_reader(BufReader::new(file)).into_iter();
            merge.runs.push((path.clone(), run));
            merge.refill(i)?;
        }
        Ok(merge)
    }

    /// Reads run `i`'s next item into the heap, or removes the run at its end.
    fn refill(&mut self, i: usize) -> Result<(), SpoolError> {
        let (path, run) = &mut self.runs[i];
        match run.next() {
            Some(Ok(item)) => self.heads.push(Reverse((item, i))),
            Some(Err(e)) => return Err(io(path, &e.into())),
            None => {
                let _ = std::fs::remove_file(&*path);
            }
        }
        Ok(())
    }
}

impl<T: Ord + DeserializeOwned> Iterator for Merge<T> {
    type Item = Result<T, SpoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failed.take() {
            return Some(Err(e));
        }
        let Reverse((item, i)) = self.heads.pop()?;
        if let Err(e) = self.refill(i) {
            self.failed = Some(e);
        }
        Some(Ok(item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(limit: usize, items: &[u32]) -> (Vec<u32>, usize) {
        let dir = tempfile::tempdir().expect("tmp");
        let mut sorter = Sorter::new(dir.path(), "t", limit);
        for &i in items {
            sorter.push(i).expect("push");
        }
        let mut seen = 0;
        let out = sorter
            .finish(|_| seen += 1)
            .expect("finish")
            .collect::<Result<Vec<u32>, _>>()
            .expect("read");
        let left = std::fs::read_dir(dir.path()).expect("dir").count();
        assert_eq!(left, 0, "every run file is removed once read");
        (out, seen)
    }

    #[test]
    fn sorts_in_memory_in_runs_and_in_merge_passes() {
        // 1000 values in a scrambled order, with repeats.
        let items: Vec<u32> = (0..1000u32).map(|i| (i * 7919) % 613).collect();
        let mut expected = items.clone();
        expected.sort_unstable();
        // Held, a few runs, and more runs than one merge takes (1000 > FAN_IN).
        for limit in [RUN_ITEMS, 300, 1] {
            assert_eq!(sorted(limit, &items), (expected.clone(), 1000), "{limit}");
        }
        assert_eq!(sorted(1, &[]), (Vec::new(), 0));
    }
}
