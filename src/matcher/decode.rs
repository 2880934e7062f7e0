//! Decoded views of encoded text: JSON strings with escapes, base64 values
//! (Kubernetes Secret `data:`, Helm values, `data:` URLs), Docker config `auth`
//! entries (base64 of `user:password`), scanned like plain text and reported at
//! the encoded place. A view that itself holds a Docker config is decoded once
//! more, and the finding names both steps (`base64+base64`).
//!
//! Every decoder is gated on a cheap literal test or the path, so files without
//! the encoding pay nothing.

use super::validate::decode_std;
use memchr::memmem;
use regex::bytes::Regex;
use std::ops::Range;
use std::sync::LazyLock;

/// Text to scan again, and the byte offset in the original it stands for.
pub(crate) struct View {
    pub text: Vec<u8>,
    pub origin: usize,
    pub decoding: &'static str,
}

/// Words whose presence in a chunk opens a decoder, matched case-sensitively.
/// The keyword prefilter finds them in the pass it makes anyway, so a chunk
/// with none of them pays nothing for the decoders.
pub(crate) const GATE_WORDS: [&str; 4] = ["Secret", "\"cell_type\"", ";base64,", "\"auths\""];
const SECRET: usize = 0;
const NOTEBOOK_CELL: usize = 1;
const BASE64_URL: usize = 2;
const AUTHS: usize = 3;

/// Which of [`GATE_WORDS`] a chunk contains.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Gates(u8);

impl Gates {
    pub(crate) fn open(&mut self, word: usize) {
        self.0 |= 1 << word;
    }

    pub(crate) fn is_open(self, word: usize) -> bool {
        self.0 & (1 << word) != 0
    }
}

/// The decoders' regexes compile on first use, not in [`Decoders::new`]: with Unicode
/// classes they take longer to build than all the rules' keyword automaton, and most runs
/// (a pre-commit of a few source files) never meet a Kubernetes Secret, a `data:` URL or a
/// Docker config, yet every run would pay for them at start-up.
pub(crate) struct Decoders {
    k8s_secret_kind: LazyLock<Regex>,
    yaml_value: LazyLock<Regex>,
    yaml_block: LazyLock<Regex>,
    data_url: LazyLock<Regex>,
    docker_auth: LazyLock<Regex>,
    /// The docker-config gate for decoded views (a chunk's gates come from the prefilter).
    auths: memmem::Finder<'static>,
}

/// Names of the decodings a finding may carry in `context.decoding`.
const BASE64: &str = "base64";
const JSON_STRING: &str = "json-string";
const URL_ENCODING: &str = "url-encoding";

/// The decoding named when a view inside a view is decoded again: both steps, outer first.
fn nested(outer: &'static str, inner: &'static str) -> &'static str {
    match (outer, inner) {
        (BASE64, BASE64) => "base64+base64",
        (JSON_STRING, BASE64) => "json-string+base64",
        _ => inner,
    }
}

/// The decoding the canonical form applied to a value matched in plain text, if any.
pub(crate) fn inline_decoding(raw: &str) -> Option<&'static str> {
    crate::fingerprint::undoes_url_encoding(raw).then_some(URL_ENCODING)
}

/// Helm values files (`values.yaml`, `values-prod.yml`…), where charts keep
/// base64 values that become Secret data: known by path, as Helm knows them.
fn is_helm_values(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).as_bytes();
    let stem_ok = name.len() > 6 && name[..6].eq_ignore_ascii_case(b"values");
    let ext_ok = [&b".yaml"[..], &b".yml"[..]].iter().any(|ext| {
        name.len() > ext.len() && name[name.len() - ext.len()..].eq_ignore_ascii_case(ext)
    });
    stem_ok && ext_ok
}

/// How far from a keyword hit the enclosing JSON string may begin or end.
const JSON_STRING_REACH: usize = 16 * 1024;

impl Decoders {
    pub(crate) fn new() -> Self {
        Decoders {
            k8s_secret_kind: LazyLock::new(|| {
                Regex::new(r#"(?m)^[ \t]*"?kind"?[ \t]*:[ \t]*["']?Secret["']?[ \t]*,?[ \t]*\r?$"#)
                    .expect("static regex")
            }),
            yaml_value: LazyLock::new(|| {
                Regex::new(
                r#"(?m)^[ \t]*["']?([\w.-]+)["']?[ \t]*:[ \t]*["']?([A-Za-z0-9+/]{8,}={0,2})["']?[ \t]*,?[ \t]*\r?$"#,
            )
            .expect("static regex")
            }),
            // `key: |` followed by base64 wrapped over several more-indented lines:
            // Kubernetes ignores the line breaks when it decodes `data:`.
            yaml_block: LazyLock::new(|| {
                Regex::new(
                r#"(?m)^([ \t]*)["']?([\w.-]+)["']?[ \t]*:[ \t]*[|>][-+]?[ \t]*\r?\n((?:[ \t]+[A-Za-z0-9+/]+={0,2}[ \t]*\r?(?:\n|$))+)"#,
            )
            .expect("static regex")
            }),
            data_url: LazyLock::new(|| {
                Regex::new(r"data:[\w/+.-]*;base64,([A-Za-z0-9+/]{8,}={0,2})")
                    .expect("static regex")
            }),
            // A registry entry of a Docker config: `"<registry>": { … "auth": "<base64>" … }`.
            docker_auth: LazyLock::new(|| {
                Regex::new(
                r#""([^"\\\s]{1,253})"\s*:\s*\{[^{}]*?"auth"\s*:\s*"([A-Za-z0-9+/]{4,}={0,2})""#,
            )
            .expect("static regex")
            }),
            auths: memmem::Finder::new(GATE_WORDS[AUTHS].as_bytes()),
        }
    }

    /// Every decoded view worth scanning in `bytes` (read from `path`), given the raw keyword hits.
    pub(crate) fn views(
        &self,
        path: &str,
        bytes: &[u8],
        hits: &super::KeywordHits,
        gates: Gates,
    ) -> Vec<View> {
        let mut views = json_string_views(bytes, hits);
        let k8s_secret = gates.is_open(SECRET) && self.k8s_secret_kind.is_match(bytes);
        if k8s_secret || is_helm_values(path) {
            self.keyed_base64_views(bytes, &mut views);
        }
        if gates.is_open(NOTEBOOK_CELL) {
            views.extend(notebook_views(bytes));
        }
        if gates.is_open(BASE64_URL) {
            for caps in self.data_url.captures_iter(bytes) {
                let value = caps.get(1).expect("group");
                if let Some(text) = decode_text(value.as_bytes()) {
                    views.push(View {
                        text,
                        origin: value.start(),
                        decoding: BASE64,
                    });
                }
            }
        }
        if gates.is_open(AUTHS) {
            self.docker_auth_views(bytes, &mut views);
        }
        // Decoded text that is itself a Docker config (a Secret's `.dockerconfigjson`,
        // an escaped JSON string): its `auth` entries are decoded once more and
        // reported at the outer encoded place.
        let mut inner = Vec::new();
        for outer in &views {
            let start = inner.len();
            if self.auths.find(&outer.text).is_some() {
                self.docker_auth_views(&outer.text, &mut inner);
            }
            for view in &mut inner[start..] {
                view.origin = outer.origin;
                view.decoding = nested(outer.decoding, view.decoding);
            }
        }
        views.extend(inner);
        views
    }

    /// YAML `key: <base64>` lines (and block scalars of wrapped base64) decoded to
    /// text and re-keyed as `key: <text>`, so rules that need the key name see it.
    fn keyed_base64_views(&self, bytes: &[u8], views: &mut Vec<View>) {
        let mut push = |key: &[u8], text: Vec<u8>, origin: usize| {
            let mut view = key.to_vec();
            view.extend_from_slice(b": ");
            view.extend_from_slice(&text);
            views.push(View {
                text: view,
                origin,
                decoding: BASE64,
            });
        };
        for caps in self.yaml_value.captures_iter(bytes) {
            let (key, value) = (caps.get(1).expect("group"), caps.get(2).expect("group"));
            if let Some(text) = decode_text(value.as_bytes()) {
                push(key.as_bytes(), text, value.start());
            }
        }
        for caps in self.yaml_block.captures_iter(bytes) {
            let (indent, key, body) = (
                caps.get(1).expect("group"),
                caps.get(2).expect("group"),
                caps.get(3).expect("group"),
            );
            let lines: Vec<&[u8]> = body
                .as_bytes()
                .split(|&b| b == b'\n')
                .filter(|l| !l.trim_ascii().is_empty())
                .collect();
            // Only lines indented deeper than the key belong to its block.
            let inside = lines
                .iter()
                .take_while(|l| l.len() - l.trim_ascii_start().len() > indent.len())
                .count();
            let joined: Vec<u8> = lines[..inside]
                .iter()
                .flat_map(|l| l.trim_ascii())
                .copied()
                .collect();
            let origin =
                body.start() + (body.as_bytes().len() - body.as_bytes().trim_ascii_start().len());
            if let Some(text) = decode_text(&joined) {
                push(key.as_bytes(), text, origin);
            }
        }
    }

    /// Docker config `auths.<registry>.auth` (base64 of `user:password`) shown as
    /// the equivalent plain entry, so the `docker-registry-auth` rule fires on the
    /// password with the registry and user beside it.
    fn docker_auth_views(&self, bytes: &[u8], views: &mut Vec<View>) {
        for caps in self.docker_auth.captures_iter(bytes) {
            let (registry, value) = (caps.get(1).expect("group"), caps.get(2).expect("group"));
            let Some(decoded) = decode_text(value.as_bytes()) else {
                continue;
            };
            let Ok(decoded) = String::from_utf8(decoded) else {
                continue;
            };
            let Some((user, password)) = decoded.trim_end().split_once(':') else {
                continue;
            };
            if password.is_empty() {
                continue;
            }
            let quote = |s: &str| serde_json::to_string(s).expect("string serializes");
            let text = format!(
                "{{\"auths\": {{{}: {{\"username\": {}, \"password\": {}}}}}}}",
                quote(&String::from_utf8_lossy(registry.as_bytes())),
                quote(user),
                quote(password)
            );
            views.push(View {
                text: text.into_bytes(),
                origin: value.start(),
                decoding: BASE64,
            });
        }
    }
}

/// Jupyter notebooks keep a cell's text as a JSON array of lines: join each
/// `"source"` / `"text"` array so a key split across lines reads as one.
fn notebook_views(bytes: &[u8]) -> Vec<View> {
    let mut views = Vec::new();
    for key in [&b"\"source\""[..], &b"\"text\""[..]] {
        for pos in memmem::find_iter(bytes, key) {
            let rest = &bytes[pos + key.len()..];
            let Some(open) = rest.iter().position(|b| !b" \t\r\n:".contains(b)) else {
                continue;
            };
            if rest[open] != b'[' {
                continue;
            }
            let start = pos + key.len() + open;
            if let Some(lines) = notebook_lines(bytes, start) {
                if lines.len() > 1 {
                    views.push(View {
                        text: lines
                            .into_iter()
                            .map(|l| l.text)
                            .collect::<String>()
                            .into_bytes(),
                        origin: start,
                        decoding: NOTEBOOK_CELL_DECODING,
                    });
                }
            }
        }
    }
    views
}

const NOTEBOOK_CELL_DECODING: &str = "notebook-cell";

/// One string of a notebook cell's array: where its literal starts in the file, and its text.
struct CellLine {
    literal: usize,
    text: String,
}

/// The strings of the JSON array that opens at `open` (a `[`), or `None` if it holds
/// anything else or does not close.
fn notebook_lines(bytes: &[u8], open: usize) -> Option<Vec<CellLine>> {
    let skip_space = |mut i: usize| {
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        i
    };
    let mut lines = Vec::new();
    let mut i = skip_space(open + 1);
    if bytes.get(i) == Some(&b']') {
        return Some(lines);
    }
    loop {
        if bytes.get(i) != Some(&b'"') {
            return None;
        }
        let close = i
            + 1
            + memchr::memchr_iter(b'"', &bytes[i + 1..]).find(|&q| !escaped(bytes, i + 1 + q))?;
        let text: String = serde_json::from_slice(&bytes[i..=close]).ok()?;
        lines.push(CellLine { literal: i, text });
        i = skip_space(close + 1);
        match bytes.get(i) {
            Some(b',') => i = skip_space(i + 1),
            Some(b']') => return Some(lines),
            _ => return None,
        }
    }
}

/// Where in `bytes` the text at `offset` of `view` was written: in a notebook cell the
/// string literal holding it (at the same column when no escape precedes it), so a key
/// in a cell is reported once, at its own line; in any other view the place the
/// encoded value starts.
pub(crate) fn source_offset(bytes: &[u8], view: &View, offset: usize) -> usize {
    if view.decoding != NOTEBOOK_CELL_DECODING {
        return view.origin;
    }
    let Some(lines) = notebook_lines(bytes, view.origin) else {
        return view.origin;
    };
    let mut joined = 0;
    for line in &lines {
        if offset < joined + line.text.len() {
            return line.literal + 1 + (offset - joined);
        }
        joined += line.text.len();
    }
    lines.last().map_or(view.origin, |l| l.literal)
}

/// Base64 that decodes to text (UTF-8, no control bytes other than whitespace).
fn decode_text(value: &[u8]) -> Option<Vec<u8>> {
    let decoded = decode_std(std::str::from_utf8(value).ok()?)?;
    let text = std::str::from_utf8(&decoded).ok()?;
    let printable = text.chars().all(|c| !c.is_control() || c.is_whitespace());
    (printable && !text.trim().is_empty()).then_some(decoded)
}

/// JSON string literals that hold a keyword hit and backslash escapes, unescaped.
fn json_string_views(bytes: &[u8], hits: &super::KeywordHits) -> Vec<View> {
    let mut done: Vec<Range<usize>> = Vec::new();
    let mut views = Vec::new();
    // Without a backslash anywhere no string has an escape: one pass instead of one per hit.
    if hits.by_rule.is_empty() || memchr::memchr(b'\\', bytes).is_none() {
        return views;
    }
    for hit in hits.spans() {
        if done.iter().any(|r| r.contains(&hit.start)) {
            continue;
        }
        let Some(string) = enclosing_string(bytes, hit) else {
            continue;
        };
        let content = &bytes[string.clone()];
        if memchr::memchr(b'\\', content).is_none() {
            continue;
        }
        done.push(string.clone());
        let Ok(text) = std::str::from_utf8(content) else {
            continue;
        };
        let unescaped = crate::fingerprint::unescape_json(text);
        if unescaped != text {
            views.push(View {
                text: unescaped.into_bytes(),
                origin: string.start,
                decoding: JSON_STRING,
            });
        }
    }
    views
}

/// The contents of the double-quoted string on the hit's line that contains the hit.
fn enclosing_string(bytes: &[u8], hit: &Range<usize>) -> Option<Range<usize>> {
    let floor = hit.start.saturating_sub(JSON_STRING_REACH);
    let mut end = hit.start;
    let open = loop {
        let i = floor + memchr::memrchr2(b'\n', b'"', &bytes[floor..end])?;
        if bytes[i] == b'\n' {
            return None;
        }
        if !escaped(bytes, i) {
            break i + 1;
        }
        end = i;
    };
    let ceiling = (hit.end + JSON_STRING_REACH).min(bytes.len());
    let mut start = hit.end;
    loop {
        let j = start + memchr::memchr2(b'\n', b'"', &bytes[start..ceiling])?;
        if bytes[j] == b'\n' {
            return None;
        }
        if !escaped(bytes, j) {
            return Some(open..j);
        }
        start = j + 1;
    }
}

/// Whether the quote at `i` is preceded by an odd number of backslashes.
fn escaped(bytes: &[u8], i: usize) -> bool {
    bytes[..i].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;

    fn texts(views: &[View]) -> Vec<(String, &'static str)> {
        views
            .iter()
            .map(|v| (String::from_utf8_lossy(&v.text).into_owned(), v.decoding))
            .collect()
    }

    #[test]
    fn helm_values_are_known_by_path() {
        for path in [
            "values.yaml",
            "chart/values-prod.yml",
            "charts/api/Values.staging.YAML",
        ] {
            assert!(is_helm_values(path), "{path}");
        }
        for path in [
            "values",
            "values.json",
            "myvalues.yaml",
            "templates/secret.yaml",
        ] {
            assert!(!is_helm_values(path), "{path}");
        }
    }

    #[test]
    fn wrapped_base64_block_stops_at_its_indentation() {
        let body = STANDARD.encode("api_token: Zq3Vn8RkT2wLp5YsB7xHc4JmD9fGa1");
        let (a, b) = body.split_at(24);
        let yaml = format!("data:\n  token: |\n    {a}\n    {b}\n  next: c2Vjb25k\n");
        let mut views = Vec::new();
        Decoders::new().keyed_base64_views(yaml.as_bytes(), &mut views);
        assert_eq!(
            texts(&views),
            vec![
                ("next: second".to_string(), BASE64),
                (
                    "token: api_token: Zq3Vn8RkT2wLp5YsB7xHc4JmD9fGa1".to_string(),
                    BASE64
                ),
            ]
        );
        assert_eq!(views[1].origin, yaml.find(a).expect("first line"));
    }

    #[test]
    fn docker_auth_needs_user_and_password() {
        let entry = |auth: &str| format!(r#"{{"auths": {{"r.example": {{"auth": "{auth}"}}}}}}"#);
        let mut views = Vec::new();
        let d = Decoders::new();
        for auth in [
            STANDARD.encode("no-colon"),
            STANDARD.encode("user:"),
            STANDARD.encode([0xff, 0x3a, 0x01]),
        ] {
            d.docker_auth_views(entry(&auth).as_bytes(), &mut views);
        }
        assert!(views.is_empty());
        d.docker_auth_views(entry(&STANDARD.encode("ci:p\"w:1")).as_bytes(), &mut views);
        assert_eq!(
            texts(&views),
            vec![(
                r#"{"auths": {"r.example": {"username": "ci", "password": "p\"w:1"}}}"#.to_string(),
                BASE64
            )]
        );
    }

    #[test]
    fn nested_decodings_name_both_steps() {
        assert_eq!(nested(BASE64, BASE64), "base64+base64");
        assert_eq!(nested(JSON_STRING, BASE64), "json-string+base64");
        assert_eq!(inline_decoding("p%40ss%21w0rd"), Some(URL_ENCODING));
        assert_eq!(inline_decoding("Hv4%tQ9mZx!e"), None);
    }
}
