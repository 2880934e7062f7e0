//! The known-value pass: finds the values of revoked inventory versions whatever
//! their shape, by hashing the canonical form of candidate tokens and looking the
//! digest up, and finds revoked identifiers literally.
//!
//! A custom password that no rule's regex recognises must not yield a false
//! COMPLETE (DESIGN §6). Candidate tokens cover how values sit in files: words
//! between whitespace, quotes, brackets, commas and semicolons; inside a word, the
//! pieces around `=`, `:`, `@`, `/`, `?`, `&`, `#` and spans of a few of them;
//! whole quoted strings; the rest of a line after `key:`/`key=` or `- `; PEM
//! and OpenSSH blocks; and the text of base64 tokens and of the matcher's decoded
//! views, tokenised again. Placeholder and entropy filters do not apply: a
//! fingerprint is exact. Targets with a recorded length are compared only with
//! tokens of that length, which keeps the pass to a length check per token.

use super::decode::{self, View};
use crate::fingerprint::{canonical, Fingerprinter, KnownValues};
use aho_corasick::{AhoCorasick, MatchKind};
use memchr::memmem;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// Pieces (around `=`, `:`, `@`, `/`, …) a sub-token of a word may span.
const MAX_SPAN: usize = 6;
/// Longest token compared when some target's length is unknown.
const UNBOUNDED_TOKEN: usize = 8 * 1024;
/// Longest PEM or OpenSSH block taken whole.
const MAX_PEM: usize = 64 * 1024;
/// Suffixes of a word (after its first `=`/`:` delimiters) tried as base64.
const BASE64_SUFFIXES: usize = 3;
/// Shortest base64 token decoded (6 bytes of text).
const MIN_BASE64: usize = 8;

/// What a candidate token is, which decides how it is put in canonical form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A word or a piece of one: no whitespace or quotes, so it is canonical
    /// as it is unless it holds `%` or `\`.
    Word,
    /// Text that may hold quotes, whitespace, escapes or a PEM block.
    Text,
    /// A word that may be base64: decoded and tokenised again.
    Base64,
}

/// A target found: where (byte offset in the chunk), the value as written and canonical.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    pub offset: usize,
    pub raw: String,
    pub canonical: String,
    pub decoding: Option<&'static str>,
    /// An identifier found literally, not a value found by digest.
    pub identifier: bool,
}

/// The digests are uniformly random: their first 8 bytes are a hash already.
#[derive(Default, Clone, Copy)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn write(&mut self, bytes: &[u8]) {
        for (i, b) in bytes.iter().take(8).enumerate() {
            self.0 ^= u64::from(*b) << (8 * i);
        }
    }

    fn write_usize(&mut self, _: usize) {}

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Which canonical lengths are worth hashing.
enum Lengths {
    /// Some target has no recorded length: every token.
    Any,
    /// Only these byte lengths (indexed by length).
    Only(Vec<bool>),
}

/// The compiled targets of the pass.
pub(crate) struct KnownPass {
    fingerprinter: Fingerprinter,
    digests: HashSet<[u8; 32], BuildHasherDefault<DigestHasher>>,
    lengths: Lengths,
    /// Shortest canonical length of a target (1 when some length is unknown).
    min_len: usize,
    /// Longest token compared.
    max_token: usize,
    identifiers: Option<(AhoCorasick, Vec<String>)>,
    /// Distinguishes this pass's entries in the per-thread miss cache from another's
    /// (another target set misses differently).
    id: u64,
}

impl KnownPass {
    /// Compiles `targets`, whose digests `fingerprinter` computes.
    pub(crate) fn new(targets: KnownValues, fingerprinter: Fingerprinter) -> KnownPass {
        let mut digests = HashSet::default();
        let mut known_lengths = Vec::new();
        let mut any = false;
        for v in &targets.values {
            digests.insert(v.digest);
            match v.length.filter(|&n| n > 0) {
                Some(n) => known_lengths.push(n as usize),
                None => any = true,
            }
        }
        let (lengths, min_len, max_token) = if any {
            (Lengths::Any, 1, UNBOUNDED_TOKEN)
        } else {
            let max = known_lengths.iter().copied().max().unwrap_or(0);
            let mut set = vec![false; max + 1];
            for &n in &known_lengths {
                set[n] = true;
            }
            let min = known_lengths.iter().copied().min().unwrap_or(usize::MAX);
            // Raw text is never shorter than its canonical form, and escapes or
            // quotes rarely make it more than a few times longer.
            (Lengths::Only(set), min, (max * 6).max(64))
        };
        let mut ids: Vec<String> = targets
            .identifiers
            .into_iter()
            .filter(|i| !i.is_empty())
            .collect();
        ids.sort();
        ids.dedup();
        let identifiers = (!ids.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&ids)
                    .ok()
                    .map(|ac| (ac, ids))
            })
            .flatten();
        KnownPass {
            fingerprinter,
            digests,
            lengths,
            min_len,
            max_token,
            identifiers,
            id: {
                static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            },
        }
    }

    /// Every target in `bytes` and in its decoded `views`, in no particular order
    /// (the matcher sorts and deduplicates).
    pub(crate) fn scan(&self, bytes: &[u8], views: &[View]) -> Vec<Hit> {
        let mut hits = Vec::new();
        if !self.digests.is_empty() {
            misses::with(|misses| self.scan_text(bytes, views, misses, &mut hits));
        }
        if let Some((ac, ids)) = &self.identifiers {
            for m in ac.find_iter(bytes) {
                let before = m.start().checked_sub(1).map(|i| bytes[i]);
                let after = bytes.get(m.end()).copied();
                if before.is_some_and(is_word_byte) || after.is_some_and(is_word_byte) {
                    continue;
                }
                let id = &ids[m.pattern().as_usize()];
                hits.push(Hit {
                    offset: m.start(),
                    raw: id.clone(),
                    canonical: id.clone(),
                    decoding: None,
                    identifier: true,
                });
            }
        }
        hits
    }

    /// The value targets of `bytes` and its `views`, with this thread's miss cache.
    fn scan_text(
        &self,
        bytes: &[u8],
        views: &[View],
        misses: &mut misses::Misses,
        hits: &mut Vec<Hit>,
    ) {
        // Validated once: it decides the tokenising, the lines shared with the last chunk
        // and whether this chunk may be the next one's reference.
        let valid = std::str::from_utf8(bytes).ok();
        let same = match valid {
            Some(_) => misses.shared_with_last(self.id, bytes),
            None => Same::NONE,
        };
        let mut pass = Pass {
            known: self,
            hits,
            misses,
            seen: HashSet::new(),
            matched: 0,
            bytes,
            view: None,
        };
        match valid {
            Some(text) => pass.text(text, Place::Offset(0), None, true, same),
            None => {
                for run in bytes.utf8_chunks() {
                    let text = run.valid();
                    let base = text.as_ptr() as usize - bytes.as_ptr() as usize;
                    pass.text(text, Place::Offset(base), None, true, Same::NONE);
                }
            }
        }
        let clean = pass.matched == 0 && valid.is_some();
        for view in views {
            if let Ok(text) = std::str::from_utf8(&view.text) {
                // Offsets in the view's text, mapped to the chunk as the rule pass maps them.
                pass.view = Some(view);
                let place = Place::Offset(0);
                pass.consider(text, Shape::Text, place, Some(view.decoding), false);
                pass.text(text, place, Some(view.decoding), false, Same::NONE);
            }
        }
        pass.misses.set_last(self.id, bytes, clean);
    }

    fn wants_length(&self, len: usize) -> bool {
        match &self.lengths {
            Lengths::Any => true,
            Lengths::Only(set) => set.get(len).copied().unwrap_or(false),
        }
    }
}

/// Where the tokens of a text are reported: at their own offset plus a base (the
/// chunk's text, or a decoded view's, which [`decode::source_offset`] maps back to the
/// chunk), or all at one place (base64 decoded here, at the encoded word).
#[derive(Debug, Clone, Copy)]
enum Place {
    Offset(usize),
    Fixed(usize),
}

impl Place {
    fn at(self, offset: usize) -> usize {
        match self {
            Place::Offset(base) => base + offset,
            Place::Fixed(at) => at,
        }
    }
}

/// One chunk's run of the pass: the hits so far and what was already found where.
struct Pass<'k, 'h, 'b> {
    known: &'k KnownPass,
    hits: &'h mut Vec<Hit>,
    /// This thread's miss cache, borrowed for the chunk.
    misses: &'h mut misses::Misses,
    seen: HashSet<(usize, [u8; 32])>,
    /// Tokens whose digest was a target, reported or not (a line with one is never a miss).
    matched: usize,
    /// The chunk's bytes.
    bytes: &'b [u8],
    /// The decoded view being tokenised (offsets are in its text), if any.
    view: Option<&'b View>,
}

impl Pass<'_, '_, '_> {
    /// Tokenises `text` and considers every token; `decode` allows one level of base64.
    /// Lines that `same` says the last chunk held (and missed) are skipped.
    fn text(
        &mut self,
        text: &str,
        place: Place,
        decoding: Option<&'static str>,
        decode: bool,
        same: Same,
    ) {
        let bounds = Bounds {
            min: self.known.min_len,
            max: self.known.max_token,
        };
        // A line is a pure function of its bytes: one that held no target before holds
        // none now (history blobs repeat most lines of their earlier versions).
        let id = self.known.id;
        let matched = std::cell::Cell::new(self.matched);
        // The tag of the line being tokenised, hashed once for the lookup and the record.
        let line_tag = std::cell::Cell::new(0);
        let this = std::cell::RefCell::new(self);
        for_each_token_of_lines(
            text,
            bounds,
            |start, line| {
                if same.holds(start, line.len()) {
                    return false;
                }
                let pass = this.borrow();
                let tag = pass.misses.line_tag(id, decode, line);
                line_tag.set(tag);
                !pass.misses.contains(tag)
            },
            |_| {
                let mut pass = this.borrow_mut();
                let now = pass.matched;
                if now == matched.replace(now) {
                    pass.misses.remember(line_tag.get());
                }
            },
            &mut |at, token, shape| {
                if shape == Shape::Base64 && !decode {
                    return;
                }
                let place = place.offset_by(at);
                this.borrow_mut()
                    .consider(token, shape, place, decoding, decode);
            },
        );
    }

    fn consider(
        &mut self,
        token: &str,
        shape: Shape,
        place: Place,
        decoding: Option<&'static str>,
        decode: bool,
    ) {
        if shape == Shape::Base64 {
            if decode {
                self.base64(token, place);
            }
            return;
        }
        let known = self.known;
        if token.len() < known.min_len {
            return;
        }
        let canon = match quick_canonical(token, shape) {
            Some(c) => std::borrow::Cow::Borrowed(c),
            None => std::borrow::Cow::Owned(canonical(token)),
        };
        if canon.is_empty() || !known.wants_length(canon.len()) {
            return;
        }
        let Some(digest) = self.misses.digest_unless_seen(known.id, &canon, |c| {
            let digest = known.fingerprinter.digest_of_canonical(c);
            known.digests.contains(&digest).then_some(digest)
        }) else {
            return;
        };
        self.matched += 1;
        let offset = match self.view {
            Some(view) => decode::source_offset(self.bytes, view, place.at(0)),
            None => place.at(0),
        };
        if !self.seen.insert((offset, digest)) {
            return;
        }
        let decoding = decoding.or_else(|| decode::inline_decoding(token));
        self.hits.push(Hit {
            offset,
            raw: token.to_string(),
            canonical: canon.into_owned(),
            decoding,
            identifier: false,
        });
    }

    /// A word that may be base64: its decoded text, whole and tokenised, reported at the word.
    fn base64(&mut self, token: &str, place: Place) {
        // Decoded text is at most 3/4 as long: too short to hold any target.
        if token.len() < MIN_BASE64
            || token.len() % 4 == 1
            || token.len() * 3 / 4 < self.known.min_len
        {
            return;
        }
        let body = token.trim_end_matches('=');
        if !body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        {
            return;
        }
        let Some(decoded) = super::validate::decode_std(token) else {
            return;
        };
        let Ok(text) = String::from_utf8(decoded) else {
            return;
        };
        if text
            .bytes()
            .any(|b| b.is_ascii_control() && !matches!(b, b'\n' | b'\r' | b'\t'))
        {
            return;
        }
        let fixed = Place::Fixed(place.at(0));
        self.consider(&text, Shape::Text, fixed, Some("base64"), false);
        self.text(&text, fixed, Some("base64"), false, Same::NONE);
    }
}

/// The lines a chunk shares with the last chunk its thread tokenised whole and found no
/// target in: the bytes before `prefix` and from `suffix` on are the same as the last
/// chunk's start and end. A line is a pure function of its bytes (PEM blocks, which span
/// lines, are taken apart from lines), so a line held whole in either part, with its
/// newline, holds no target. History blobs are read sorted by path and time, so the last
/// chunk is mostly the previous version of the file, and most of its lines are shared: they
/// cost a comparison, not a hash each.
#[derive(Debug, Clone, Copy)]
struct Same {
    prefix: usize,
    suffix: usize,
}

impl Same {
    const NONE: Same = Same {
        prefix: 0,
        suffix: usize::MAX,
    };

    /// Whether the line at `start` (`len` bytes, then a newline or the end) is shared.
    fn holds(self, start: usize, len: usize) -> bool {
        start + len < self.prefix || start > self.suffix
    }
}

/// Length of the common prefix of `a` and `b`, compared eight bytes at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let words = a
        .chunks_exact(8)
        .zip(b.chunks_exact(8))
        .take_while(|(x, y)| x == y)
        .count();
    let i = words * 8;
    i + a[i..]
        .iter()
        .zip(&b[i..])
        .take_while(|(x, y)| x == y)
        .count()
}

/// Length of the common suffix of `a` and `b`, compared eight bytes at a time.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    let words = a
        .rchunks_exact(8)
        .zip(b.rchunks_exact(8))
        .take_while(|(x, y)| x == y)
        .count();
    let i = words * 8;
    i + a[..a.len() - i]
        .iter()
        .rev()
        .zip(b[..b.len() - i].iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// Tokens already hashed and found to be no target, per worker thread: the blobs of a
/// history are mostly earlier versions of each other, so most tokens recur, and a keyed
/// aHash (AES rounds, several times faster than SipHash on whole lines) under a per-thread
/// random key costs a fraction of SHA-256. The key is random so that a
/// scanned repository cannot craft a token whose entry would hide a target; an accidental
/// collision (a 64-bit tag) is about one in 10^12 over a full cache.
///
/// The cache is direct-mapped (one slot per tag, a newer tag evicts an older one): one
/// memory access per lookup, in a table small enough to stay in the core's cache. History blobs
/// are read sorted by path and time, so the lines a blob repeats were seen a blob or two
/// before, and a table this size keeps them; an evicted entry only costs tokenising again.
mod misses {
    use ahash::RandomState;
    use std::cell::RefCell;

    /// Slots per thread (a power of two): 128 KB of tags, which stay in cache beside the
    /// blob being read (a 1 MB table missed on most lookups). A blob's lines and tokens are
    /// a few thousand entries at most.
    const SLOTS: usize = 1 << 14;

    pub(super) struct Misses {
        key: RandomState,
        /// Tags by their low bits; 0 is an empty slot (no tag is 0, see [`tag`]).
        tags: Vec<u64>,
        /// The last chunk tokenised whole, when it held no target, and the pass that did.
        last: Vec<u8>,
        last_pass: Option<u64>,
    }

    impl Misses {
        /// Whether the line or token of `tag` was seen on this thread and held no target.
        pub(super) fn contains(&self, tag: u64) -> bool {
            self.tags.get(slot(tag)) == Some(&tag)
        }

        /// Remembers that the line or token of `tag` held no target.
        pub(super) fn remember(&mut self, tag: u64) {
            if self.tags.is_empty() {
                self.tags = vec![0; SLOTS];
            }
            self.tags[slot(tag)] = tag;
        }
    }

    #[allow(clippy::cast_possible_truncation)] // the low bits pick the slot
    fn slot(tag: u64) -> usize {
        tag as usize & (SLOTS - 1)
    }

    /// A hash that is never 0, the empty slot's mark.
    fn tag(hash: u64) -> u64 {
        hash.max(1)
    }

    thread_local! {
        static MISSES: RefCell<Misses> = RefCell::new(Misses {
            key: RandomState::new(),
            tags: Vec::new(),
            last: Vec::new(),
            last_pass: None,
        });
    }

    /// Runs `f` with this thread's cache (borrowed once per chunk, not per token).
    pub(super) fn with<R>(f: impl FnOnce(&mut Misses) -> R) -> R {
        MISSES.with_borrow_mut(f)
    }

    impl Misses {
        /// What `bytes` shares with the last chunk `pass` tokenised whole on this thread
        /// and found no target in (nothing, when there is no such chunk).
        pub(super) fn shared_with_last(&self, pass: u64, bytes: &[u8]) -> super::Same {
            if self.last_pass != Some(pass) {
                return super::Same::NONE;
            }
            let prefix = super::common_prefix(bytes, &self.last);
            // The two parts must not overlap in `last` either.
            let room = bytes.len().min(self.last.len()) - prefix;
            let suffix = super::common_suffix(bytes, &self.last).min(room);
            super::Same {
                prefix,
                suffix: bytes.len() - suffix,
            }
        }

        /// Records `bytes` as the last chunk `pass` tokenised whole, if it held no target.
        pub(super) fn set_last(&mut self, pass: u64, bytes: &[u8], clean: bool) {
            self.last.clear();
            self.last_pass = None;
            if clean {
                self.last.extend_from_slice(bytes);
                self.last_pass = Some(pass);
            }
        }

        /// The tag of `line` tokenised by `pass` with `decode`, under this thread's key.
        pub(super) fn line_tag(&self, pass: u64, decode: bool, line: &[u8]) -> u64 {
            tag(self.key.hash_one((pass, decode, line)))
        }

        /// `hash(canon)` unless `canon` already missed on this thread; a miss is remembered.
        pub(super) fn digest_unless_seen(
            &mut self,
            pass: u64,
            canon: &str,
            hash: impl FnOnce(&str) -> Option<[u8; 32]>,
        ) -> Option<[u8; 32]> {
            let tag = tag(self.key.hash_one((pass, canon)));
            if self.contains(tag) {
                return None;
            }
            let found = hash(canon);
            if found.is_none() {
                self.remember(tag);
            }
            found
        }
    }
}

/// The canonical form of `token` without allocating, when it is `token` trimmed:
/// no escapes, no URL-encoding, no surrounding quotes, no PEM armour.
fn quick_canonical(token: &str, shape: Shape) -> Option<&str> {
    if memchr::memchr2(b'%', b'\\', token.as_bytes()).is_some() {
        return None;
    }
    if shape == Shape::Word {
        return Some(token);
    }
    let trimmed = token.trim();
    let quoted = trimmed.len() >= 2
        && matches!(trimmed.as_bytes()[0], b'"' | b'\'' | b'`')
        && trimmed.as_bytes()[trimmed.len() - 1] == trimmed.as_bytes()[0];
    (!quoted && memmem::find(token.as_bytes(), b"-----BEGIN ").is_none()).then_some(trimmed)
}

impl Place {
    fn offset_by(self, at: usize) -> Place {
        match self {
            Place::Offset(base) => Place::Offset(base + at),
            fixed => fixed,
        }
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Byte classes of the tokeniser, looked up once per byte.
const SEPARATOR: u8 = 1;
const DELIMITER: u8 = 2;
const QUOTE: u8 = 4;
const CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let separators = b" \t\n\r\x0b\x0c\"'`()[]{}<>,;";
    let mut i = 0;
    while i < separators.len() {
        t[separators[i] as usize] |= SEPARATOR;
        i += 1;
    }
    let delimiters = b"=:@/?&#";
    let mut i = 0;
    while i < delimiters.len() {
        t[delimiters[i] as usize] |= DELIMITER;
        i += 1;
    }
    t[b'"' as usize] |= QUOTE;
    t[b'\'' as usize] |= QUOTE;
    t[b'`' as usize] |= QUOTE;
    t
};

fn class(b: u8) -> u8 {
    CLASSES[b as usize]
}

/// Which tokens are worth emitting: canonical forms are never longer than the
/// text they come from, so nothing shorter than `min` bytes can be a target.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub min: usize,
    pub max: usize,
}

impl Bounds {
    fn fits(self, len: usize) -> bool {
        len >= self.min && len <= self.max
    }
}

/// Calls `f(offset, token, shape)` for every candidate token of `text` within
/// `bounds` (PEM blocks up to [`MAX_PEM`]). Tokens may repeat.
/// Every candidate token of `text`, asking `wanted(offset, line)` first: a line it declines is not tokenised
/// (PEM blocks, which span lines, always are); `done(line)` follows each line tokenised.
fn for_each_token_of_lines(
    text: &str,
    bounds: Bounds,
    mut wanted: impl FnMut(usize, &[u8]) -> bool,
    mut done: impl FnMut(&[u8]),
    f: &mut impl FnMut(usize, &str, Shape),
) {
    let bytes = text.as_bytes();
    for begin in memmem::find_iter(bytes, b"-----BEGIN ") {
        if let Some(end) = pem_end(bytes, begin) {
            f(begin, &text[begin..end], Shape::Text);
        }
    }
    let mut delimiters: Vec<usize> = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |n| start + n);
        let line = &bytes[start..end];
        if line.len() >= bounds.min && wanted(start, line) {
            line_tokens(text, start, end, bounds, &mut delimiters, f);
            done(line);
        }
        start = end + 1;
    }
}

/// The tokens of the line `text[start..end]`.
fn line_tokens(
    text: &str,
    start: usize,
    end: usize,
    bounds: Bounds,
    delimiters: &mut Vec<usize>,
    f: &mut impl FnMut(usize, &str, Shape),
) {
    let bytes = text.as_bytes();
    // Words shorter than `min` hold no target: probe the byte `min - 1` ahead, and
    // when it ends a word, no word long enough starts before it (so most short
    // words cost one look). Invariant: `i` is the line start or follows a separator.
    let min = bounds.min.max(1);
    let is_separator = |b: u8| class(b) & SEPARATOR != 0;
    let mut i = start;
    while i + min <= end {
        let probe = i + min - 1;
        if is_separator(bytes[probe]) {
            i = probe + 1;
            continue;
        }
        let mut word_start = probe;
        while word_start > i && !is_separator(bytes[word_start - 1]) {
            word_start -= 1;
        }
        let word_end = bytes[probe..end]
            .iter()
            .position(|&b| is_separator(b))
            .map_or(end, |n| probe + n);
        if word_end - word_start >= min {
            word_tokens(text, word_start, word_end, bounds, delimiters, f);
        }
        i = word_end + 1;
    }
    let line = &bytes[start..end];
    if let Some(q) = memchr::memchr3(b'"', b'\'', b'`', line) {
        quoted_tokens(text, start + q, end, bounds, f);
    }
    let list_item = line_is_list_item(line);
    let key_end = memchr::memchr2(b'=', b':', line);
    if !list_item && key_end.is_none() {
        return;
    }
    // The rest of a line after `key:`/`key=`, and of a YAML list item.
    let indent = line
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    let rests = [key_end.map(|k| k + 1), list_item.then_some(indent + 2)];
    for rest in rests.into_iter().flatten() {
        let mut lo = start + rest;
        let mut hi = end;
        while hi > lo && matches!(bytes[hi - 1], b'\r' | b' ' | b'\t' | b';' | b',') {
            hi -= 1;
        }
        while lo < hi && matches!(bytes[lo], b' ' | b'\t') {
            lo += 1;
        }
        if bounds.fits(hi - lo) {
            f(lo, &text[lo..hi], Shape::Text);
        }
    }
}

/// Whether a line is a YAML list item (`- value`).
fn line_is_list_item(line: &[u8]) -> bool {
    let indent = line
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    line[indent..].starts_with(b"- ")
}

/// Whole quoted strings of a line, which may hold spaces or escaped quotes.
fn quoted_tokens(
    text: &str,
    start: usize,
    end: usize,
    bounds: Bounds,
    f: &mut impl FnMut(usize, &str, Shape),
) {
    let bytes = text.as_bytes();
    let mut i = start;
    while i < end {
        let q = bytes[i];
        if class(q) & QUOTE == 0 {
            i += 1;
            continue;
        }
        let Some(j) = closing_quote(&bytes[..end], i + 1, q) else {
            break;
        };
        if bounds.fits(j - i - 1) {
            f(i + 1, &text[i + 1..j], Shape::Text);
        }
        i = j + 1;
    }
}

/// The position of the quote `q` that closes a string opened before `from`
/// (a `"` string skips backslash escapes).
fn closing_quote(bytes: &[u8], mut from: usize, q: u8) -> Option<usize> {
    loop {
        let rest = bytes.get(from..)?;
        let n = if q == b'"' {
            memchr::memchr2(q, b'\\', rest)?
        } else {
            memchr::memchr(q, rest)?
        };
        if rest[n] == q {
            return Some(from + n);
        }
        from += n + 2;
    }
}

/// A word, its pieces around delimiters and spans of up to [`MAX_SPAN`] of them,
/// and the word and its suffixes after `=`/`:` as base64 candidates.
fn word_tokens(
    text: &str,
    start: usize,
    end: usize,
    bounds: Bounds,
    delimiters: &mut Vec<usize>,
    f: &mut impl FnMut(usize, &str, Shape),
) {
    let bytes = text.as_bytes();
    if end - start <= bounds.max {
        f(start, &text[start..end], Shape::Word);
        f(start, &text[start..end], Shape::Base64);
    }
    delimiters.clear();
    delimiters.extend((start..end).filter(|&i| class(bytes[i]) & DELIMITER != 0));
    if delimiters.is_empty() {
        return;
    }
    let mut b64 = 0;
    for &d in delimiters.iter() {
        if b64 < BASE64_SUFFIXES && matches!(bytes[d], b'=' | b':') && d + 1 < end {
            if bounds.fits(end - d - 1) {
                f(d + 1, &text[d + 1..end], Shape::Base64);
            }
            b64 += 1;
        }
    }
    // Piece k runs from piece_start(k) to piece_end(k).
    let n = delimiters.len() + 1;
    let piece_start = |k: usize| if k == 0 { start } else { delimiters[k - 1] + 1 };
    let piece_end = |k: usize| if k == n - 1 { end } else { delimiters[k] };
    for i in 0..n {
        let s = piece_start(i);
        if end - s < bounds.min {
            break;
        }
        for j in i..n.min(i + MAX_SPAN) {
            if i == 0 && j == n - 1 {
                continue;
            }
            let e = piece_end(j);
            if e - s > bounds.max {
                break;
            }
            if e - s >= bounds.min.max(1) && text.is_char_boundary(s) && text.is_char_boundary(e) {
                f(s, &text[s..e], Shape::Word);
            }
        }
    }
}

/// End of the PEM or OpenSSH block that starts at `begin` (after its `-----END …-----`).
fn pem_end(bytes: &[u8], begin: usize) -> Option<usize> {
    let window = &bytes[begin..bytes.len().min(begin + MAX_PEM)];
    let end = memmem::find(window, b"-----END ")?;
    let close = memmem::find(&window[end + 9..], b"-----")? + end + 9 + 5;
    Some(begin + close)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::KnownValue;

    const VALUE: &str = "Zq7#tR!x9;Lp2@wK%e=V";

    fn pass_for(values: &[&str], with_length: bool) -> KnownPass {
        let fp = Fingerprinter::sha256();
        let targets = KnownValues {
            values: values
                .iter()
                .map(|v| KnownValue {
                    digest: fp.digest_of_canonical(&canonical(v)),
                    length: with_length.then(|| canonical(v).len() as u32),
                })
                .collect(),
            identifiers: vec!["AKIAQWERTYUIOPASDFGH".into()],
        };
        KnownPass::new(targets, fp)
    }

    fn found(pass: &KnownPass, text: &str) -> Vec<(usize, String, Option<&'static str>)> {
        let mut hits: Vec<_> = pass
            .scan(text.as_bytes(), &[])
            .into_iter()
            .filter(|h| !h.identifier)
            .map(|h| (h.offset, h.canonical, h.decoding))
            .collect();
        hits.sort();
        hits.dedup_by(|a, b| a.1 == b.1 && a.0 == b.0);
        hits
    }

    fn b64(s: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn finds_a_value_however_it_is_written() {
        let value = "Hv4tQ9mZx!e-2Rk#pL8s";
        let url_value = "p@ss/w0rd:Kx9=tQ";
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7\nAgEAAkEAq7BFUpkGp3+LQmlQ\n-----END PRIVATE KEY-----\n";
        let wrapped = b64(value);
        let files: Vec<(String, &str)> = vec![
            (format!("db.password={value}\n"), value),
            (format!("hosts:\n  - alpha\n  - {value}\n"), value),
            (
                format!("class C {{\n    private static final String X = \"{value}\";\n}}\n"),
                value,
            ),
            (format!("#!/bin/sh\nexport DB_PASS={value}\n"), value),
            (
                format!("curl -u deploy:{value} https://h.example/api\n"),
                value,
            ),
            (
                "{\"note\": \"a \\\"quoted\\\" pass phrase\", \"x\": 1}\n".to_string(),
                "a \"quoted\" pass phrase",
            ),
            (
                "DATABASE_URL=postgres://app:p%40ss%2Fw0rd%3AKx9%3DtQ@db.internal:5432/app\n"
                    .to_string(),
                url_value,
            ),
            (
                format!("apiVersion: v1\nkind: Secret\ndata:\n  password: {wrapped}\n"),
                value,
            ),
            (pem.to_string(), pem),
            (
                format!("{{\"private_key\": \"{}\"}}\n", pem.replace('\n', "\\n")),
                pem,
            ),
            (
                format!("kind: Secret\ndata:\n  tls.key: {}\n", b64(pem)),
                pem,
            ),
            (
                format!("password: my secret {value} phrase\n"),
                "my secret Hv4tQ9mZx!e-2Rk#pL8s phrase",
            ),
        ];
        for with_length in [true, false] {
            for (file, target) in &files {
                let pass = pass_for(&[target], with_length);
                let hits = found(&pass, file);
                assert!(
                    hits.iter().any(|(_, c, _)| *c == canonical(target)),
                    "not found in {file:?} (length known: {with_length})"
                );
            }
        }
    }

    #[test]
    fn reports_the_encoded_place_and_the_decoding() {
        let value = "Hv4tQ9mZx!e-2Rk#pL8s";
        let text = format!("kind: Secret\ndata:\n  password: {}\n", b64(value));
        let pass = pass_for(&[value], true);
        let hits = found(&pass, &text);
        let at = text.find("password: ").unwrap() + 10;
        assert_eq!(hits, vec![(at, value.to_string(), Some("base64"))]);
        let url = "u=postgres://app:p%40ss@db/app";
        let hits = found(&pass_for(&["p@ss"], true), url);
        assert_eq!(hits, vec![(17, "p@ss".to_string(), Some("url-encoding"))]);
    }

    #[test]
    fn wrapped_base64_in_a_decoded_view_is_found() {
        let value = "Hv4tQ9mZx!e-2Rk#pL8s-and-a-longer-tail-to-wrap";
        let encoded = b64(value);
        let (a, b) = encoded.split_at(24);
        let text = format!("kind: Secret\ndata:\n  key: |\n    {a}\n    {b}\n");
        let view = View {
            text: value.as_bytes().to_vec(),
            origin: 20,
            decoding: "base64",
        };
        let pass = pass_for(&[value], true);
        let hits = pass.scan(text.as_bytes(), std::slice::from_ref(&view));
        assert!(hits
            .iter()
            .any(|h| h.canonical == value && h.offset == 20 && h.decoding == Some("base64")));
    }

    #[test]
    fn the_miss_cache_never_hides_a_target() {
        let secret = "Zq7!vR2#kL9@pW4$";
        let text = format!("host = db1\npassword: {secret}\nport = 5432\n");
        let pass = pass_for(&[secret], true);
        // The same chunk again (as a later history blob): still found, lines already
        // seen and missed are skipped.
        assert_eq!(found(&pass, &text).len(), 1);
        assert_eq!(found(&pass, &text).len(), 1);
        // Lines another pass saw miss are not misses for a pass with other targets.
        let other = pass_for(&["Another-Value-123456"], true);
        assert!(found(&other, &text).is_empty());
        let again = pass_for(&[secret], true);
        assert_eq!(found(&again, &text).len(), 1);
    }

    #[test]
    fn lines_shared_with_the_last_clean_chunk_never_hide_a_target() {
        let secret = "Zq7!vR2#kL9@pW4$";
        let filler: String = (0..40)
            .map(|i| format!("    value_{i} = compute(request, {i})  # line {i}\n"))
            .collect();
        let pass = pass_for(&[secret], true);
        // A clean version, then the next version with the target in the middle, at the
        // start and at the end, and the same text again (the last chunk held a target).
        assert!(found(&pass, &filler).is_empty());
        let (head, tail) = filler.split_at(filler.len() / 2);
        for text in [
            format!("{head}password: {secret}\n{tail}"),
            format!("{head}password: {secret}\n{tail}"),
            format!("token={secret}\n{filler}"),
            format!("{filler}token={secret}"),
            format!("{filler}token={secret}\n"),
        ] {
            assert!(found(&pass, &filler).is_empty());
            assert_eq!(found(&pass, &text).len(), 1, "{text}");
        }
        // A line the last chunk held, but another pass (other targets) tokenised it.
        let text = format!("{head}password: {secret}\n{tail}");
        let other = pass_for(&["Another-Value-123456"], true);
        assert!(found(&other, &text).is_empty());
        assert_eq!(found(&pass, &text).len(), 1);
        // Shared parts: whole lines only, with their newline.
        let same = Same {
            prefix: 10,
            suffix: 20,
        };
        assert!(same.holds(0, 9) && !same.holds(0, 10));
        assert!(same.holds(21, 3) && !same.holds(20, 3) && !same.holds(0, 30));
        assert_eq!(
            common_prefix(b"abcdefghijklmnopq", b"abcdefghijklmnopX"),
            16
        );
        assert_eq!(
            common_suffix(b"Xbcdefghijklmnopq", b"abcdefghijklmnopq"),
            16
        );
        assert_eq!(common_suffix(b"q", b"abcdefghijklmnopq"), 1);
    }

    #[test]
    fn near_misses_are_not_matches() {
        let pass = pass_for(&[VALUE], true);
        let mut changed = VALUE.to_string();
        changed.replace_range(3..4, "$");
        let prefix = &VALUE[..VALUE.len() - 1];
        let suffix = &VALUE[1..];
        for text in [
            format!("key={changed}\n"),
            format!("key={prefix}\n"),
            format!("key={suffix}\n"),
            format!("key=\"{prefix}\"\n"),
            format!("key={VALUE}x\n"),
        ] {
            assert!(found(&pass, &text).is_empty(), "false match in {text:?}");
        }
        let unbounded = pass_for(&[VALUE], false);
        assert!(found(&unbounded, &format!("key={VALUE}x\n")).is_empty());
        assert_eq!(found(&unbounded, &format!("key={VALUE}\n")).len(), 1);
    }

    #[test]
    fn identifiers_are_found_whole_only() {
        let pass = pass_for(&[VALUE], true);
        let ids = |text: &str| {
            pass.scan(text.as_bytes(), &[])
                .into_iter()
                .filter(|h| h.identifier)
                .map(|h| h.offset)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids("\"AWS\": \"AKIAQWERTYUIOPASDFGH\""), vec![8]);
        assert!(ids("XAKIAQWERTYUIOPASDFGH").is_empty());
        assert!(ids("AKIAQWERTYUIOPASDFGH2").is_empty());
    }
}
