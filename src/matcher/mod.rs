//! Matcher: finds secrets in a chunk of bytes with a keyword prefilter, regex confirmation around each hit, then entropy, validators and placeholder rejection.
//!
//! It knows nothing of files or git: it sees a [`Chunk`] and reports
//! [`RawMatch`]es to a [`MatchSink`].

mod decode;
mod filters;
mod known;
mod lines;
mod named;
mod prefilter;
pub mod selftest;
mod validate;

use crate::fingerprint::{canonical, Fingerprinter, KnownValues};
use crate::rules::model::{Rule, RuleKind, RuleOrigin};
use crate::rules::RuleSet;
use crate::types::{BuiltinCheck, Chunk, Confidence, RawMatch, KNOWN_IDENTIFIER, KNOWN_VALUE};
use regex::bytes::{Regex, RegexBuilder};
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::OnceLock;

/// Receives confirmed matches; the one thing the matcher needs from its caller.
pub trait MatchSink {
    fn on_match(&mut self, chunk: &Chunk<'_>, m: RawMatch);
}

impl MatchSink for Vec<RawMatch> {
    fn on_match(&mut self, _chunk: &Chunk<'_>, m: RawMatch) {
        self.push(m);
    }
}

/// A rule set compiled for scanning.
pub struct Matcher {
    rules: Vec<CompiledRule>,
    prefilter: prefilter::Prefilter,
    /// Keyword pattern index → rules that use it.
    keyword_rules: Vec<Vec<usize>>,
    /// Per keyword, the decoder gate word it stands for, if any.
    keyword_gates: Vec<Option<usize>>,
    known_test_keys: HashSet<String>,
    /// The prefilter's literals (lowercased rule keywords and decoder gate words).
    keywords: Vec<String>,
    decoders: decode::Decoders,
    /// The known-value pass and the indices of its value and identifier pseudo-rules.
    known: Option<(known::KnownPass, usize, usize)>,
}

/// A rule that cannot be compiled.
#[derive(Debug, thiserror::Error)]
pub enum MatcherError {
    #[error("{file}:{line}: rule `{id}`: regex does not compile: {message}")]
    Regex {
        file: String,
        line: usize,
        id: String,
        message: String,
    },
    #[error("cannot build keyword prefilter: {0}")]
    Prefilter(String),
}

struct CompiledRule {
    rule: Rule,
    /// Compiled on first use: most rules never see a keyword hit in a given run.
    regex: OnceLock<Option<Regex>>,
    /// Ids (as indices) of the secret rules an identifier pairs with.
    pairs_with: Vec<usize>,
    /// A named-value rule's `names` (and `near`), compiled on first use.
    names: OnceLock<Option<named::NameMatch>>,
}

impl CompiledRule {
    /// The rule's regex, compiled on first use (`None` if it exceeds the size limit).
    fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| build_regex(&self.rule.regex).ok())
            .as_ref()
    }

    /// The rule's `names` and `near` compiled (`None` for a rule without names).
    fn names(&self) -> Option<&named::NameMatch> {
        self.names
            .get_or_init(|| named::NameMatch::new(&self.rule, build_regex).and_then(Result::ok))
            .as_ref()
    }
}

fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    // ASCII classes: secrets are ASCII, and Unicode `\w`/`\s` make automata
    // many times larger and slower to build.
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(64 << 20)
        .dfa_size_limit(LAZY_DFA_CACHE)
        .build()
}

/// Bytes of lazy-DFA states a rule's regex may keep per thread (the crate's default is
/// 2 MiB). The broad rules (`generic-token`, run around every `token` keyword) fill 2 MiB
/// on a large tree, and each time the cache is full it is cleared and its states are
/// built again. On the bench corpus 16 MiB cuts lazy-DFA building by about 6% (most
/// states are new ones, not rebuilt ones). A cache grows only as far as its regex
/// needs, so the narrow rules use no more memory than before.
const LAZY_DFA_CACHE: usize = 16 << 20;

/// Bytes on either side of a keyword hit that a rule's regex may look at.
const WINDOW_SIDE: usize = 1024;
/// How far a window may grow so that it does not cut a long token in two.
const TOKEN_REACH: usize = 64 * 1024;
/// Lines between an identifier and the secret it pairs with.
const PAIR_DISTANCE: u32 = 5;

/// A place where a rule recognised a value it rejects; rules below `above` may not report it.
#[derive(Debug, Clone)]
struct Veto {
    span: Range<usize>,
    above: Confidence,
}

/// A match before line numbers are known: span in the scanned view.
#[derive(Debug, Clone)]
struct Candidate {
    rule: usize,
    span: Range<usize>,
    raw: String,
    canonical: String,
}

impl Matcher {
    /// Compiles every rule and the shared keyword automaton.
    pub fn new(set: &RuleSet) -> Result<Matcher, MatcherError> {
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        // Keyword → its index in `keywords`, so the set is built in one pass.
        let mut keyword_index: HashMap<String, usize> = HashMap::new();
        let rule_index: HashMap<&str, usize> = set
            .rules
            .iter()
            .enumerate()
            .rev()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        let mut rules = Vec::with_capacity(set.rules.len());
        for (idx, rule) in set.rules.iter().enumerate() {
            for kw in &rule.keywords {
                let kw = kw.to_ascii_lowercase();
                match keyword_index.get(&kw) {
                    Some(&p) => keyword_rules[p].push(idx),
                    None => {
                        keyword_index.insert(kw.clone(), keywords.len());
                        keywords.push(kw);
                        keyword_rules.push(vec![idx]);
                    }
                }
            }
            let pairs_with = rule
                .pairs_with
                .iter()
                .filter_map(|id| rule_index.get(id.as_str()).copied())
                .collect();
            rules.push(CompiledRule {
                rule: rule.clone(),
                regex: OnceLock::new(),
                pairs_with,
                names: OnceLock::new(),
            });
        }
        let mut keyword_gates = vec![None; keywords.len()];
        for (word, gate) in decode::GATE_WORDS.iter().enumerate() {
            let kw = gate.to_ascii_lowercase();
            match keyword_index.get(&kw) {
                Some(&p) => keyword_gates[p] = Some(word),
                None => {
                    keyword_index.insert(kw.clone(), keywords.len());
                    keywords.push(kw);
                    keyword_rules.push(Vec::new());
                    keyword_gates.push(Some(word));
                }
            }
        }
        let prefilter = prefilter::Prefilter::new(&keywords)
            .map_err(|e| MatcherError::Prefilter(e.to_string()))?;
        Ok(Matcher {
            rules,
            prefilter,
            keyword_rules,
            keyword_gates,
            known_test_keys: set.known_test_keys.clone(),
            keywords,
            decoders: decode::Decoders::new(),
            known: None,
        })
    }

    /// Also finds `targets` whatever their shape: every candidate token whose canonical
    /// form has a target's digest (under `fingerprinter`) is a match of the built-in
    /// `known-value` rule, and every target identifier found literally one of
    /// `known-identifier`. Called before linking starts, since matches name these rules.
    /// No targets leave the matcher as it is: no pass to run, no pseudo-rules to list.
    pub fn with_known_values(mut self, targets: KnownValues, fingerprinter: Fingerprinter) -> Self {
        if targets.is_empty() {
            return self;
        }
        let (value_rule, identifier_rule) = match &self.known {
            Some((_, v, i)) => (*v, *i),
            None => {
                let value_rule = self.rules.len();
                let secrets: Vec<usize> = (0..self.rules.len())
                    .filter(|&r| self.rules[r].rule.kind == RuleKind::Secret)
                    .chain([value_rule])
                    .collect();
                self.rules
                    .push(builtin_rule(&KNOWN_VALUE, RuleKind::Secret, Vec::new()));
                self.rules.push(builtin_rule(
                    &KNOWN_IDENTIFIER,
                    RuleKind::Identifier,
                    secrets,
                ));
                (value_rule, value_rule + 1)
            }
        };
        let pass = known::KnownPass::new(targets, fingerprinter);
        self.known = Some((pass, value_rule, identifier_rule));
        self
    }

    /// Compiles every rule's regex now, reporting the first that fails (used by `rules check`).
    pub fn compile_all(&self) -> Result<(), MatcherError> {
        for c in &self.rules {
            if let Err(e) = build_regex(&c.rule.regex) {
                return Err(MatcherError::Regex {
                    file: c.rule.origin.file.clone(),
                    line: c.rule.origin.line,
                    id: c.rule.id.clone(),
                    message: e.to_string(),
                });
            }
            if let Some(Err(e)) = named::NameMatch::new(&c.rule, build_regex) {
                return Err(MatcherError::Regex {
                    file: c.rule.origin.file.clone(),
                    line: c.rule.origin.line,
                    id: c.rule.id.clone(),
                    message: format!("in `names` or `near`: {e}"),
                });
            }
            let _ = c.regex();
        }
        Ok(())
    }

    /// The rule behind a match's `rule` index.
    pub fn rule(&self, idx: usize) -> &Rule {
        &self.rules[idx].rule
    }

    /// The literals the prefilter looks for, sorted and unique: a scan reads no
    /// rule's regex where none of them occurs, so finding them is the scan's floor.
    pub fn keywords(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .keywords
            .iter()
            .map(|k| k.to_ascii_lowercase())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Number of compiled rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the matcher has no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Scans one chunk and reports each confirmed match to `sink`, in order of position.
    pub fn scan<S: MatchSink>(&self, chunk: &Chunk<'_>, sink: &mut S) {
        let bytes = chunk.bytes;
        let mut found: Vec<RawMatch> = Vec::new();
        let (hits, gates) = self.keyword_hits(bytes);
        let line_index = lines::LineIndex::new(bytes);
        for c in self.confirm(bytes, &hits) {
            let (line, column) = line_index.position(c.span.start);
            let decoding = decode::inline_decoding(&c.raw);
            found.push(self.raw_match(c, line, column, decoding));
        }
        // Decoded views: JSON strings with escapes, base64 values of Kubernetes
        // Secrets and Helm values, Docker config `auth` entries.
        let views = self.decoders.views(&chunk.origin.path, bytes, &hits, gates);
        for view in &views {
            let (view_hits, _) = self.keyword_hits(&view.text);
            for c in self.confirm(&view.text, &view_hits) {
                let at = decode::source_offset(bytes, view, c.span.start);
                let (line, column) = line_index.position(at);
                found.push(self.raw_match(c, line, column, Some(view.decoding)));
            }
        }
        if let Some((pass, value_rule, identifier_rule)) = &self.known {
            for hit in pass.scan(bytes, &views) {
                let (line, column) = line_index.position(hit.offset);
                found.push(RawMatch {
                    rule: if hit.identifier {
                        *identifier_rule
                    } else {
                        *value_rule
                    },
                    secret: hit.raw,
                    canonical: hit.canonical,
                    line,
                    column,
                    decoding: hit.decoding,
                    identifiers: Vec::new(),
                });
            }
        }
        for m in self.pair_and_dedup(found) {
            sink.on_match(chunk, m);
        }
    }

    /// The keyword hits of `bytes`, each rule's together; and which decoder gate words
    /// the bytes contain.
    fn keyword_hits(&self, bytes: &[u8]) -> (KeywordHits, decode::Gates) {
        let mut found: Vec<(Range<usize>, usize)> = Vec::new();
        let mut gates = decode::Gates::default();
        self.prefilter.for_each_hit(bytes, |keyword, start, end| {
            if !self.keyword_rules[keyword].is_empty() {
                found.push((start..end, keyword));
            }
            if let Some(word) = self.keyword_gates[keyword] {
                if bytes[start..end] == *decode::GATE_WORDS[word].as_bytes() {
                    gates.open(word);
                }
            }
        });
        // A keyword occurs at most once at a place: the order is total.
        found.sort_unstable_by_key(|(span, keyword)| (span.start, *keyword));
        let mut by_rule = Vec::new();
        let occurrences = found
            .into_iter()
            .enumerate()
            .map(|(at, (span, keyword))| {
                by_rule.extend(self.keyword_rules[keyword].iter().map(|&rule| (rule, at)));
                // Found once per keyword occurrence, whatever the number of its rules.
                Occurrence::new(bytes, span)
            })
            .collect();
        by_rule.sort_unstable();
        let hits = KeywordHits {
            occurrences,
            by_rule,
        };
        (hits, gates)
    }

    /// Runs each hit rule's regex around its hits and keeps the captures that pass every check.
    fn confirm(&self, bytes: &[u8], hits: &KeywordHits) -> Vec<Candidate> {
        let mut out: Vec<Candidate> = Vec::new();
        let mut vetoes: Vec<Veto> = Vec::new();
        let by_rule = &hits.by_rule;
        let mut i = 0;
        while i < by_rule.len() {
            let rule_idx = by_rule[i].0;
            let end = by_rule[i..]
                .iter()
                .position(|(r, _)| *r != rule_idx)
                .map_or(by_rule.len(), |n| i + n);
            let compiled = &self.rules[rule_idx];
            let Some(regex) = compiled.regex() else {
                i = end;
                continue;
            };
            let mut seen_spans: HashSet<(usize, usize)> = HashSet::new();
            let occurrences = by_rule[i..end].iter().map(|&(_, at)| &hits.occurrences[at]);
            for window in windows(bytes, occurrences, compiled.rule.window) {
                for span in captures(compiled, regex, bytes, window) {
                    if !seen_spans.insert((span.start, span.end)) {
                        continue;
                    }
                    match self.accept(rule_idx, span, bytes) {
                        Ok(c) => out.push(c),
                        Err(Some(veto)) => vetoes.push(veto),
                        Err(None) => {}
                    }
                }
            }
            i = end;
        }
        if !vetoes.is_empty() {
            out.retain(|c| {
                let confidence = self.rules[c.rule].rule.confidence;
                !vetoes.iter().any(|v| {
                    v.span.start < c.span.end && c.span.start < v.span.end && confidence < v.above
                })
            });
        }
        out
    }

    /// Entropy, validator, placeholder and known-test-key checks on one capture.
    ///
    /// A value that a rule recognises by shape but rejects by checksum, or that
    /// is a published test key, vetoes weaker rules at the same place: a
    /// wrong-checksum token assigned to `token =` is still not a secret.
    fn accept(
        &self,
        rule_idx: usize,
        span: Range<usize>,
        bytes: &[u8],
    ) -> Result<Candidate, Option<Veto>> {
        let rule = &self.rules[rule_idx].rule;
        let raw = String::from_utf8_lossy(&bytes[span.clone()]).into_owned();
        let canonical = canonical(&raw);
        if canonical.is_empty() {
            return Err(None);
        }
        if let Some(min) = rule.entropy {
            if validate::shannon_entropy(&canonical) < min {
                return Err(None);
            }
        }
        if let Some(v) = rule.validate {
            if !validate::validate(v, &canonical, &raw) {
                // A public rule's check fails on the secret sibling of its format (a
                // Supabase service-role JWT is no anon key): that says nothing against it.
                return Err((!rule.public).then_some(Veto {
                    span,
                    above: rule.confidence,
                }));
            }
        }
        if filters::rejection(&canonical).is_some()
            || filters::follows_reference_scheme(&bytes[..span.start])
            || filters::in_sealed_ciphertext(bytes, span.start)
        {
            return Err(None);
        }
        if rule.confidence == Confidence::Low && filters::is_uuid(&canonical) {
            return Err(None);
        }
        if !self.known_test_keys.is_empty()
            && self
                .known_test_keys
                .contains(&Fingerprinter::sha256().of_canonical(&canonical))
        {
            return Err(Some(Veto {
                span,
                above: Confidence::High,
            }));
        }
        Ok(Candidate {
            rule: rule_idx,
            span,
            raw,
            canonical,
        })
    }

    fn raw_match(
        &self,
        c: Candidate,
        line: u32,
        column: u32,
        decoding: Option<&'static str>,
    ) -> RawMatch {
        RawMatch {
            rule: c.rule,
            secret: c.raw,
            canonical: c.canonical,
            line,
            column,
            decoding,
            identifiers: Vec::new(),
        }
    }

    /// Attaches identifiers to the secrets they pair with and drops overlapping weaker matches.
    ///
    /// A known-value match is dropped only for a match of the same value on its line
    /// (the rule's finding carries the same fingerprint), never for overlapping a
    /// different one: a URL rule capturing a whole URL must not hide the revoked
    /// password inside it.
    fn pair_and_dedup(&self, mut found: Vec<RawMatch>) -> Vec<RawMatch> {
        found.sort_by_key(|m| (m.line, m.column, m.rule));
        let value_rule = self.known.as_ref().map(|(_, v, _)| *v);
        let (values, found): (Vec<RawMatch>, Vec<RawMatch>) =
            found.into_iter().partition(|m| Some(m.rule) == value_rule);
        // Same line and same canonical value: keep the strongest rule only.
        let mut kept: Vec<RawMatch> = Vec::with_capacity(found.len());
        for m in found {
            let dup = kept
                .iter()
                .position(|k| k.line == m.line && (k.canonical == m.canonical || overlaps(k, &m)));
            match dup {
                Some(i) if self.rank(m.rule) > self.rank(kept[i].rule) => kept[i] = m,
                // The encoded text matched as it is written (base64 assigned to
                // `password:`) and its decoded value matched too: the decoded one is the secret.
                Some(i)
                    if self.rank(m.rule) == self.rank(kept[i].rule)
                        && kept[i].decoding.is_none()
                        && m.decoding.is_some()
                        && kept[i].canonical != m.canonical =>
                {
                    kept[i] = m;
                }
                Some(_) => {}
                None => kept.push(m),
            }
        }
        for m in values {
            if !kept
                .iter()
                .any(|k| k.line == m.line && k.canonical == m.canonical)
            {
                kept.push(m);
            }
        }
        let (identifiers, mut secrets): (Vec<RawMatch>, Vec<RawMatch>) = kept
            .into_iter()
            .partition(|m| self.rules[m.rule].rule.kind == RuleKind::Identifier);
        let mut lonely = Vec::new();
        for id in identifiers {
            let pairs = &self.rules[id.rule].pairs_with;
            let partner = secrets
                .iter_mut()
                .filter(|s| pairs.contains(&s.rule) && s.line.abs_diff(id.line) <= PAIR_DISTANCE)
                .min_by_key(|s| s.line.abs_diff(id.line));
            match partner {
                Some(s) => {
                    if !s.identifiers.contains(&id.secret) {
                        s.identifiers.push(id.secret);
                    }
                }
                None => lonely.push(id),
            }
        }
        secrets.extend(lonely);
        secrets.sort_by_key(|m| (m.line, m.column, m.rule));
        secrets
    }

    /// Strength of a rule when two matches compete for one value: a public-by-design
    /// rule wins over any other, so a generic or named-value rule never reports a
    /// browser client token that a public rule recognised.
    fn rank(&self, rule: usize) -> (bool, Confidence, std::cmp::Reverse<usize>) {
        let r = &self.rules[rule].rule;
        (r.public, r.confidence, std::cmp::Reverse(rule))
    }
}

/// The rule behind a built-in check: no keywords (it never runs a regex) and no samples.
fn builtin_rule(check: &BuiltinCheck, kind: RuleKind, pairs_with: Vec<usize>) -> CompiledRule {
    CompiledRule {
        rule: Rule {
            id: check.id.to_string(),
            name: check.name.to_string(),
            description: check.description.to_string(),
            regex: String::new(),
            names: Vec::new(),
            near: None,
            keywords: Vec::new(),
            prefix: None,
            validate: None,
            entropy: None,
            confidence: check.confidence,
            severity: check.severity,
            kind,
            public: false,
            pairs_with: Vec::new(),
            window: 0,
            tags: vec!["inventory".to_string()],
            examples: Vec::new(),
            negatives: Vec::new(),
            origin: RuleOrigin {
                file: "built-in".to_string(),
                line: 0,
            },
        },
        regex: OnceLock::new(),
        pairs_with,
        names: OnceLock::new(),
    }
}

/// Spans of the rule's capture group in `window`: anywhere for a plain rule; for a
/// named-value rule, inside the values whose (bare or qualified) name matches `names`.
fn captures(
    compiled: &CompiledRule,
    regex: &Regex,
    bytes: &[u8],
    window: Range<usize>,
) -> Vec<Range<usize>> {
    let capture = |at: usize, caps: regex::bytes::Captures<'_>| {
        caps.get(1).map(|g| at + g.start()..at + g.end())
    };
    if compiled.rule.names.is_empty() {
        let hay = &bytes[window.clone()];
        // Most windows hold no match: finding that out needs no capture slots, which
        // `captures_iter` allocates (and frees) for every window it is given.
        if !regex.is_match(hay) {
            return Vec::new();
        }
        return regex
            .captures_iter(hay)
            .filter_map(|caps| capture(window.start, caps))
            .collect();
    }
    // Names that do not compile match nothing (`rules check` reports them).
    let Some(names) = compiled.names() else {
        return Vec::new();
    };
    names
        .values(bytes, window)
        .into_iter()
        .filter_map(|value| {
            let caps = regex.captures(&bytes[value.clone()])?;
            capture(value.start, caps)
        })
        .collect()
}

/// Two matches at the same place whose values overlap (one inside the other).
fn overlaps(a: &RawMatch, b: &RawMatch) -> bool {
    a.column == b.column
        || a.canonical.contains(b.canonical.as_str())
        || b.canonical.contains(a.canonical.as_str())
}

/// A chunk's occurrences of the keywords that rules use, and the rules each one calls.
struct KeywordHits {
    /// In order of position.
    occurrences: Vec<Occurrence>,
    /// `(rule, index in occurrences)`, sorted: each rule's hits together, in order of position.
    by_rule: Vec<(usize, usize)>,
}

impl KeywordHits {
    /// Where the keywords are, each once per rule it calls, in the order of `by_rule`.
    fn spans(&self) -> impl Iterator<Item = &Range<usize>> {
        self.by_rule
            .iter()
            .map(|&(_, at)| &self.occurrences[at].keyword)
    }
}

/// One keyword occurrence and the lines around it, as every rule of the keyword sees
/// them: the line before to the line after, at most [`WINDOW_SIDE`] bytes either side
/// (grown so as not to cut a token in two).
struct Occurrence {
    keyword: Range<usize>,
    start: usize,
    /// End of the line after the keyword's, before any growing.
    lines_end: usize,
    /// `lines_end` grown to the end of the token it falls in.
    end: usize,
}

impl Occurrence {
    fn new(bytes: &[u8], keyword: Range<usize>) -> Occurrence {
        let lo = keyword.start.saturating_sub(WINDOW_SIDE);
        let mut start = lines::start_of_previous_line(bytes, keyword.start, lo);
        if start == lo && lo > 0 {
            start = lines::start_of_token(bytes, lo, lo.saturating_sub(TOKEN_REACH));
        }
        let hi = (keyword.end + WINDOW_SIDE).min(bytes.len());
        let lines_end = lines::end_of_next_line(bytes, keyword.end, hi);
        Occurrence {
            keyword,
            start,
            lines_end,
            end: whole_token_end(bytes, lines_end),
        }
    }
}

/// `end`, or past the rest of the token it falls in.
fn whole_token_end(bytes: &[u8], end: usize) -> usize {
    if end < bytes.len() && !bytes[end].is_ascii_whitespace() {
        lines::end_of_token(bytes, end, end + TOKEN_REACH)
    } else {
        end
    }
}

/// Merged byte ranges around a rule's keyword hits where its regex runs: the lines
/// around each hit, and at least `extra` bytes past its keyword.
fn windows<'a>(
    bytes: &[u8],
    hits: impl Iterator<Item = &'a Occurrence>,
    extra: usize,
) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for hit in hits {
        let reach = (hit.keyword.end + extra).min(bytes.len());
        let end = if extra > 0 && reach > hit.lines_end {
            whole_token_end(bytes, reach)
        } else {
            hit.end
        };
        let start = hit.start;
        match out.last_mut() {
            Some(last) if start <= last.end => last.end = last.end.max(end),
            _ => out.push(start..end),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoder_gates_open_on_their_exact_words_only() {
        let set = RuleSet::embedded().expect("rules");
        let matcher = Matcher::new(&set).expect("matcher");
        let gates = |text: &str| {
            let (_, gates) = matcher.keyword_hits(text.as_bytes());
            (0..decode::GATE_WORDS.len())
                .filter(|&w| gates.is_open(w))
                .collect::<Vec<_>>()
        };
        // Rule keywords such as `secret` overlap the gate words; case still counts.
        assert!(gates("kind: secret\nAUTHS cell_type data:x;BASE64,").is_empty());
        let all = "kind: Secret\n{\"auths\": {}, \"cell_type\": 1} data:x;base64,";
        assert_eq!(gates(all), vec![0, 1, 2, 3]);
        // Lanes of a long chunk find a word at any place, including their seams.
        let long = format!("{}Secret{}", "x".repeat(9_000), "y".repeat(9_000));
        assert_eq!(gates(&long), vec![0]);
    }
}
