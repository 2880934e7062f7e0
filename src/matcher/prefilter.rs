//! The keyword prefilter: one Aho-Corasick DFA over every rule's keywords,
//! run as [`LANES`] interleaved lanes over a chunk so the CPU overlaps their
//! table lookups (each lane alone is a chain of dependent loads).
//!
//! The table is what a scan reads for every byte, so it is laid out for the
//! cache: states in breadth-first order (the shallow states that text keeps
//! returning to sit together), only as many byte classes as the keywords tell
//! apart, and match states numbered last, from a power of two, so that one
//! comparison per byte finds them in any lane. It is stored a column per byte
//! class, and each byte maps straight to its column's address: a step is two
//! loads, and only the second waits on the previous state. On its own (files
//! already in memory) it scans in about half the time per byte of the
//! `aho-corasick` crate's DFA for the same keywords.

use std::collections::VecDeque;

/// Case-insensitive multi-keyword finder reporting every (overlapping) hit.
pub(crate) struct Prefilter {
    /// `trans[class * height + state]` is the next state: one column of `height`
    /// entries per byte class. Never changed after `new`: `columns` points into it.
    trans: Vec<u32>,
    /// Byte → the start of its class's column in `trans` (bytes that no keyword holds,
    /// in either case, share class 0).
    columns: [*const u32; 256],
    /// The state a search starts in.
    start: u32,
    /// The first match state, a power of two: every state from it on ends at least one
    /// keyword, and the states below it are below it in all their bits, so states or-ed
    /// together reach it exactly when one of them does.
    first_match: u32,
    /// Per match state, from `first_match` on: (keyword index, keyword length) it ends.
    matches: Vec<Vec<(usize, usize)>>,
    /// Length of the longest keyword: how far lanes overlap.
    max_len: usize,
}

// SAFETY: `columns` points into `trans`, which the prefilter owns and never changes after
// `new` (its heap buffer stays where it is when the prefilter moves), and which is only read.
unsafe impl Send for Prefilter {}
unsafe impl Sync for Prefilter {}

/// Lanes a chunk is cut into. Five states, five words and the loop's own values fill the
/// registers; on the bench corpus five lanes take about 8% less time than four, six
/// (registers spill) no less than five.
const LANES: usize = 5;

/// Below this size a chunk is scanned in one lane.
const MIN_LANED: usize = 1024;

/// A keyword set too large for the table's 32-bit state ids.
#[derive(Debug, thiserror::Error)]
#[error("{0} keyword states do not fit the prefilter's 32-bit table")]
pub(crate) struct TooManyStates(usize);

impl Prefilter {
    pub(crate) fn new(keywords: &[String]) -> Result<Prefilter, TooManyStates> {
        let (classes, stride) = byte_classes(keywords);
        // The trie: `child[state * stride + class]`, 0 = none (the root is never a child).
        let mut child: Vec<u32> = vec![0; stride];
        let mut ends: Vec<Vec<(usize, usize)>> = vec![Vec::new()];
        for (index, keyword) in keywords.iter().enumerate() {
            let mut state = 0usize;
            for b in keyword.bytes() {
                let at = state * stride + usize::from(classes[usize::from(b)]);
                if child[at] == 0 {
                    child[at] = state_id(ends.len())?;
                    child.resize(child.len() + stride, 0);
                    ends.push(Vec::new());
                }
                state = child[at] as usize;
            }
            ends[state].push((index, keyword.len()));
        }
        let states = ends.len();
        // Breadth-first: each state's failure link is already final when its row is
        // filled, so a missing child is the failure state's transition (the DFA of the
        // automaton), and its matches take those of its failure state too.
        let mut next: Vec<u32> = vec![0; states * stride];
        let mut fail = vec![0usize; states];
        let mut order = Vec::with_capacity(states);
        let mut queue = VecDeque::from([0usize]);
        while let Some(state) = queue.pop_front() {
            order.push(state);
            if state != 0 {
                let inherited = ends[fail[state]].clone();
                ends[state].extend(inherited);
            }
            for class in 0..stride {
                let to = child[state * stride + class] as usize;
                if to == 0 {
                    next[state * stride + class] = if state == 0 {
                        0
                    } else {
                        next[fail[state] * stride + class]
                    };
                } else {
                    fail[to] = if state == 0 {
                        0
                    } else {
                        next[fail[state] * stride + class] as usize
                    };
                    next[state * stride + class] = to as u32;
                    queue.push_back(to);
                }
            }
        }
        // Renumber: non-matching states first (in breadth-first order), then match states
        // from the next power of two on; the ids between are never reached.
        let (plain, matching): (Vec<usize>, Vec<usize>) =
            order.iter().copied().partition(|&s| ends[s].is_empty());
        let first_match = plain.len().next_power_of_two();
        let mut renumbered = vec![0u32; states];
        for (new, &old) in plain.iter().enumerate() {
            renumbered[old] = state_id(new)?;
        }
        for (new, &old) in matching.iter().enumerate() {
            renumbered[old] = state_id(first_match + new)?;
        }
        let height = first_match + matching.len();
        let mut trans = vec![0u32; stride * height];
        for old in 0..states {
            let id = renumbered[old] as usize;
            for class in 0..stride {
                trans[class * height + id] = renumbered[next[old * stride + class] as usize];
            }
        }
        // What `step` relies on: every entry is a state id within a column.
        assert!(trans.iter().all(|&t| (t as usize) < height));
        let columns = classes.map(|class| {
            let at = usize::from(class) * height;
            assert!(at + height <= trans.len());
            // SAFETY: `at` is in bounds (asserted): the start of one column.
            unsafe { trans.as_ptr().add(at) }
        });
        let mut matches: Vec<Vec<(usize, usize)>> = matching
            .iter()
            .map(|&s| std::mem::take(&mut ends[s]))
            .collect();
        for m in &mut matches {
            m.sort_unstable();
        }
        Ok(Prefilter {
            trans,
            columns,
            start: renumbered[0],
            first_match: state_id(first_match)?,
            matches,
            max_len: keywords.iter().map(String::len).max().unwrap_or(0),
        })
    }

    /// The state after reading `byte` in `state`.
    #[inline(always)]
    fn step(&self, state: u32, byte: u8) -> u32 {
        // SAFETY: `state` is `start` or an entry of `trans`, each below the height of a
        // column (asserted in `new`), and every column pointer starts a whole column of
        // `trans` (asserted in `new`), so the read is in bounds. This is the one
        // dependent load per byte of the whole scan; a bounds check here costs about
        // 15% of its time, and the table of column addresses (rather than offsets to
        // add) about 8%.
        let column = self.columns[usize::from(byte)];
        debug_assert!(self
            .trans
            .as_ptr_range()
            .contains(&column.wrapping_add(state as usize)));
        unsafe { *column.add(state as usize) }
    }

    /// Calls `hit(keyword index, start, end)` for every keyword occurrence, in no particular order.
    pub(crate) fn for_each_hit(&self, hay: &[u8], mut hit: impl FnMut(usize, usize, usize)) {
        if hay.len() < MIN_LANED {
            self.single_lane(hay, 0, 0, self.start, &mut hit);
            return;
        }
        // Lane k owns matches ending in (floor[k], end[k]] and starts early enough to see them.
        let overlap = self.max_len.saturating_sub(1);
        let seg = hay.len() / LANES;
        let floor: [usize; LANES] = std::array::from_fn(|k| k * seg);
        let from = floor.map(|f| f.saturating_sub(overlap));
        let end: [usize; LANES] = std::array::from_fn(|k| {
            if k + 1 == LANES {
                hay.len()
            } else {
                floor[k] + seg
            }
        });
        let common = (0..LANES).map(|k| end[k] - from[k]).min().unwrap_or(0);
        let lanes = from.map(|f| &hay[f..f + common]);
        let mut sid = [self.start; LANES];
        let mut at = 0;
        while at < common {
            (at, sid) = self.run_lanes(lanes, at, sid);
            for k in 0..LANES {
                self.report(sid[k], from[k] + at, floor[k], &mut hit);
            }
        }
        for k in 0..LANES {
            let at = from[k] + common;
            self.single_lane(&hay[..end[k]], at, floor[k], sid[k], &mut hit);
        }
    }

    /// Steps the equally long lanes from `at` until one of them is in a match state, and
    /// returns the position after that byte (or the lanes' end) and their states.
    ///
    /// Kept apart from reporting, which calls out: with nothing else live in the loop
    /// the compiler keeps every state in a register. Reporting inline made it keep
    /// two on the stack, a store and a load in each step's chain of dependent loads.
    #[inline(never)]
    fn run_lanes(
        &self,
        lanes: [&[u8]; LANES],
        mut at: usize,
        mut sid: [u32; LANES],
    ) -> (usize, [u32; LANES]) {
        let len = lanes[0].len();
        let lanes = lanes.map(|lane| &lane[..len]);
        let first_match = self.first_match;
        let any_match = |sid: &[u32; LANES]| sid.iter().fold(0, |all, &s| all | s) >= first_match;
        // Eight bytes per lane are read at once: the step's loads of a byte, its class and
        // the next state are what bounds this loop, and the byte loads go from eight to one.
        while at + 8 <= len {
            let mut words = [0u64; LANES];
            for (word, lane) in words.iter_mut().zip(lanes) {
                *word = u64::from_le_bytes(lane[at..at + 8].try_into().expect("8 bytes"));
            }
            for j in 0..8 {
                for k in 0..LANES {
                    sid[k] = self.step(sid[k], (words[k] >> (8 * j)) as u8);
                }
                if any_match(&sid) {
                    return (at + j + 1, sid);
                }
            }
            at += 8;
        }
        while at < len {
            for k in 0..LANES {
                sid[k] = self.step(sid[k], lanes[k][at]);
            }
            at += 1;
            if any_match(&sid) {
                break;
            }
        }
        (at, sid)
    }

    /// Runs one lane from `at` to the end of `hay`, reporting matches that end after `floor`.
    fn single_lane(
        &self,
        hay: &[u8],
        at: usize,
        floor: usize,
        mut sid: u32,
        hit: &mut impl FnMut(usize, usize, usize),
    ) {
        for (i, &b) in hay[at..].iter().enumerate() {
            sid = self.step(sid, b);
            if sid >= self.first_match {
                self.report(sid, at + i + 1, floor, hit);
            }
        }
    }

    /// Reports the keywords that state `sid` ends at `end`, unless `end` is not past `floor`.
    fn report(
        &self,
        sid: u32,
        end: usize,
        floor: usize,
        hit: &mut impl FnMut(usize, usize, usize),
    ) {
        if end <= floor || sid < self.first_match {
            return;
        }
        for &(keyword, len) in &self.matches[(sid - self.first_match) as usize] {
            hit(keyword, end - len, end);
        }
    }
}

/// Byte classes for an ASCII-case-insensitive automaton over `keywords`: one per
/// byte some keyword holds (a letter and its other case together), and class 0
/// for every other byte, which no state tells apart. Returns the table and the count.
fn byte_classes(keywords: &[String]) -> ([u8; 256], usize) {
    let mut classes = [0u8; 256];
    let mut count = 1usize;
    for b in keywords.iter().flat_map(|k| k.bytes()) {
        let b = b.to_ascii_lowercase();
        if classes[usize::from(b)] == 0 {
            // Folded, at most 256 - 26 bytes: a class always fits a byte.
            let class = u8::try_from(count).expect("at most 231 byte classes");
            classes[usize::from(b)] = class;
            classes[usize::from(b.to_ascii_uppercase())] = class;
            count += 1;
        }
    }
    (classes, count)
}

/// A premultiplied state id as the table stores it.
fn state_id(premultiplied: usize) -> Result<u32, TooManyStates> {
    u32::try_from(premultiplied).map_err(|_| TooManyStates(premultiplied))
}

#[cfg(test)]
mod tests {
    use super::Prefilter;

    type Hits = Vec<(usize, usize, usize)>;

    /// The prefilter's hits in `hay` and those of the aho-corasick crate's overlapping search
    /// over the same keywords (ASCII case-insensitive), each sorted, to compare.
    fn hits_and_reference(pf: &Prefilter, keywords: &[String], hay: &[u8]) -> (Hits, Hits) {
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(keywords)
            .expect("build");
        let mut got = Vec::new();
        pf.for_each_hit(hay, |p, s, e| got.push((p, s, e)));
        got.sort_unstable();
        let mut want: Vec<_> = ac
            .find_overlapping_iter(hay)
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect();
        want.sort_unstable();
        (got, want)
    }

    #[test]
    fn lanes_find_exactly_what_one_pass_finds() {
        let keywords: Vec<String> = ["ghp_", "token", "ken", "password", "xoxb-", "a3-", "Sk_"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let pf = Prefilter::new(&keywords).expect("build");
        let mut hay = Vec::new();
        for i in 0..3000 {
            hay.extend_from_slice(
                format!("line {i} TOKEN=ghp_x Password: xoxb-1 tok A3-sK_\u{e9}").as_bytes(),
            );
            hay.push(if i % 7 == 0 { b'\n' } else { b' ' });
        }
        for len in [
            0,
            3,
            100,
            1023,
            1024,
            1025,
            4095,
            4096,
            4097,
            10_000,
            hay.len(),
        ] {
            let (got, want) = hits_and_reference(&pf, &keywords, &hay[..len]);
            assert_eq!(got, want, "length {len}");
        }
    }

    #[test]
    fn the_embedded_keywords_are_found_as_aho_corasick_finds_them() {
        let set = crate::rules::RuleSet::embedded().expect("rules");
        let keywords = crate::matcher::Matcher::new(&set)
            .expect("matcher")
            .keywords();
        let pf = Prefilter::new(&keywords).expect("build");
        // Every keyword, in turn lower, upper and cut short, run together and between words.
        let mut hay = String::new();
        for (i, k) in keywords.iter().enumerate() {
            let shown = match i % 3 {
                0 => k.clone(),
                1 => k.to_ascii_uppercase(),
                _ => k[..k.len() - 1].to_string(),
            };
            hay.push_str(&shown);
            hay.push_str(if i % 5 == 0 { "\n" } else { "x=" });
        }
        let (got, want) = hits_and_reference(&pf, &keywords, hay.as_bytes());
        assert!(want.len() > keywords.len() / 2);
        assert_eq!(got, want);
    }
}
