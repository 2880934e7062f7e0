//! The keyword prefilter: one Aho-Corasick DFA over every rule's keywords,
//! run as four interleaved lanes over a chunk so the CPU overlaps their
//! table lookups (each lane alone is a chain of dependent loads).

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind};

/// Case-insensitive multi-keyword finder reporting every (overlapping) hit.
pub(crate) struct Prefilter {
    dfa: DFA,
}

/// Below this size a chunk is scanned in one lane.
const MIN_LANED: usize = 4096;

impl Prefilter {
    pub(crate) fn new(keywords: &[String]) -> Result<Prefilter, aho_corasick::BuildError> {
        let dfa = DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(keywords)?;
        Ok(Prefilter { dfa })
    }

    /// Calls `hit(keyword index, start, end)` for every keyword occurrence, in no particular order.
    pub(crate) fn for_each_hit(&self, hay: &[u8], mut hit: impl FnMut(usize, usize, usize)) {
        let start = self.dfa.start_state(Anchored::No).expect("unanchored DFA");
        if hay.len() < MIN_LANED {
            self.single_lane(hay, 0, 0, start, &mut hit);
            return;
        }
        // Lane k owns matches ending in (floor[k], end[k]] and starts early enough to see them.
        let overlap = self.dfa.max_pattern_len().saturating_sub(1);
        let seg = hay.len() / 4;
        let floor = [0, seg, 2 * seg, 3 * seg];
        let from = floor.map(|f| f.saturating_sub(overlap));
        let end = [seg, 2 * seg, 3 * seg, hay.len()];
        let common = (0..4).map(|k| end[k] - from[k]).min().unwrap_or(0);
        let lane = |k: usize| &hay[from[k]..from[k] + common];
        let mut sid = [start; 4];
        for (i, (((&b0, &b1), &b2), &b3)) in lane(0)
            .iter()
            .zip(lane(1))
            .zip(lane(2))
            .zip(lane(3))
            .enumerate()
        {
            sid[0] = self.dfa.next_state(Anchored::No, sid[0], b0);
            sid[1] = self.dfa.next_state(Anchored::No, sid[1], b1);
            sid[2] = self.dfa.next_state(Anchored::No, sid[2], b2);
            sid[3] = self.dfa.next_state(Anchored::No, sid[3], b3);
            if self.dfa.is_special(sid[0])
                | self.dfa.is_special(sid[1])
                | self.dfa.is_special(sid[2])
                | self.dfa.is_special(sid[3])
            {
                for k in 0..4 {
                    self.report(sid[k], from[k] + i + 1, floor[k], &mut hit);
                }
            }
        }
        for k in 0..4 {
            let at = from[k] + common;
            self.single_lane(&hay[..end[k]], at, floor[k], sid[k], &mut hit);
        }
    }

    /// Runs one lane from `at` to the end of `hay`, reporting matches that end after `floor`.
    fn single_lane(
        &self,
        hay: &[u8],
        at: usize,
        floor: usize,
        mut sid: StateID,
        hit: &mut impl FnMut(usize, usize, usize),
    ) {
        for (i, &b) in hay[at..].iter().enumerate() {
            sid = self.dfa.next_state(Anchored::No, sid, b);
            if self.dfa.is_special(sid) {
                self.report(sid, at + i + 1, floor, hit);
            }
        }
    }

    fn report(
        &self,
        sid: StateID,
        end: usize,
        floor: usize,
        hit: &mut impl FnMut(usize, usize, usize),
    ) {
        if end <= floor || !self.dfa.is_match(sid) {
            return;
        }
        for i in 0..self.dfa.match_len(sid) {
            let pid = self.dfa.match_pattern(sid, i);
            hit(pid.as_usize(), end - self.dfa.pattern_len(pid), end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Prefilter;

    #[test]
    fn lanes_find_exactly_what_one_pass_finds() {
        let keywords: Vec<String> = ["ghp_", "token", "ken", "password", "xoxb-"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let pf = Prefilter::new(&keywords).expect("build");
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&keywords)
            .expect("build");
        let mut hay = Vec::new();
        for i in 0..3000 {
            hay.extend_from_slice(format!("line {i} TOKEN=ghp_x Password: xoxb-1 tok").as_bytes());
            hay.push(if i % 7 == 0 { b'\n' } else { b' ' });
        }
        for len in [0, 3, 100, 4095, 4096, 4097, 10_000, hay.len()] {
            let hay = &hay[..len];
            let mut got = Vec::new();
            pf.for_each_hit(hay, |p, s, e| got.push((p, s, e)));
            got.sort_unstable();
            let mut want: Vec<_> = ac
                .find_overlapping_iter(hay)
                .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                .collect();
            want.sort_unstable();
            assert_eq!(got, want, "length {len}");
        }
    }
}
