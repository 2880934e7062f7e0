//! Byte offsets to 1-based line and column numbers, and line-bounded windows.

use memchr::{memchr, memrchr};

/// Offsets of every line start in a buffer, for fast position lookups.
pub(crate) struct LineIndex<'a> {
    bytes: &'a [u8],
    starts: std::cell::OnceCell<Vec<usize>>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        LineIndex {
            bytes,
            starts: std::cell::OnceCell::new(),
        }
    }

    /// 1-based line and character column of a byte offset.
    pub(crate) fn position(&self, offset: usize) -> (u32, u32) {
        let starts = self.starts.get_or_init(|| {
            std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', self.bytes).map(|i| i + 1))
                .collect()
        });
        let line = starts.partition_point(|&s| s <= offset);
        let start = starts[line - 1];
        let column = self.bytes[start..offset.min(self.bytes.len())]
            .iter()
            .filter(|&&b| b & 0xC0 != 0x80)
            .count();
        (
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(column + 1).unwrap_or(u32::MAX),
        )
    }
}

/// Start of the line before the one holding `pos`, but not before `floor`.
pub(crate) fn start_of_previous_line(bytes: &[u8], pos: usize, floor: usize) -> usize {
    let line_start = memrchr(b'\n', &bytes[floor..pos]).map_or(floor, |i| floor + i + 1);
    if line_start <= floor {
        return floor;
    }
    memrchr(b'\n', &bytes[floor..line_start - 1]).map_or(floor, |i| floor + i + 1)
}

/// End of the line after the one holding `pos`, but not past `ceiling`.
pub(crate) fn end_of_next_line(bytes: &[u8], pos: usize, ceiling: usize) -> usize {
    let Some(first) = memchr(b'\n', &bytes[pos..ceiling]).map(|i| pos + i) else {
        return ceiling;
    };
    memchr(b'\n', &bytes[first + 1..ceiling]).map_or(ceiling, |i| first + 1 + i)
}

/// Moves `pos` forward past the rest of a run of non-space bytes, at most to `ceiling`,
/// so a window never ends inside a long token and captures it cut short.
pub(crate) fn end_of_token(bytes: &[u8], pos: usize, ceiling: usize) -> usize {
    let ceiling = ceiling.min(bytes.len());
    if pos >= ceiling {
        return pos.min(bytes.len());
    }
    bytes[pos..ceiling]
        .iter()
        .position(|b| b.is_ascii_whitespace())
        .map_or(ceiling, |i| pos + i)
}

/// Moves `pos` back to the start of the run of non-space bytes it sits in, at most to `floor`.
pub(crate) fn start_of_token(bytes: &[u8], pos: usize, floor: usize) -> usize {
    if pos <= floor {
        return pos;
    }
    bytes[floor..pos]
        .iter()
        .rposition(|b| b.is_ascii_whitespace())
        .map_or(floor, |i| floor + i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_windows() {
        let text = b"one\ntwo\nthree\nfour";
        let idx = LineIndex::new(text);
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(9), (3, 2));
        assert_eq!(start_of_previous_line(text, 9, 0), 4);
        assert_eq!(end_of_next_line(text, 9, text.len()), text.len());
        assert_eq!(end_of_next_line(text, 1, text.len()), 7);
    }
}
