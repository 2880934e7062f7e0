//! Decoded views of encoded text: JSON strings with escapes and base64 values
//! (Kubernetes Secret `data:`, `data:` URLs), scanned like plain text and
//! reported at the encoded place.

use super::validate::decode_std;
use memchr::memmem;
use regex::bytes::Regex;
use std::ops::Range;

/// Text to scan again, and the byte offset in the original it stands for.
pub(crate) struct View {
    pub text: Vec<u8>,
    pub origin: usize,
    pub decoding: &'static str,
}

pub(crate) struct Decoders {
    k8s_secret_kind: Regex,
    yaml_value: Regex,
    data_url: Regex,
    /// Cheap literal tests that gate each decoder, built once rather than per chunk.
    secret_word: memmem::Finder<'static>,
    notebook_cell: memmem::Finder<'static>,
    base64_url: memmem::Finder<'static>,
}

/// How far from a keyword hit the enclosing JSON string may begin or end.
const JSON_STRING_REACH: usize = 16 * 1024;

impl Decoders {
    pub(crate) fn new() -> Self {
        Decoders {
            k8s_secret_kind: Regex::new(r#"(?m)^[ \t]*"?kind"?[ \t]*:[ \t]*["']?Secret["']?[ \t]*,?[ \t]*\r?$"#)
                .expect("static regex"),
            yaml_value: Regex::new(
                r#"(?m)^[ \t]*["']?([\w.-]+)["']?[ \t]*:[ \t]*["']?([A-Za-z0-9+/]{8,}={0,2})["']?[ \t]*,?[ \t]*\r?$"#,
            )
            .expect("static regex"),
            data_url: Regex::new(r"data:[\w/+.-]*;base64,([A-Za-z0-9+/]{8,}={0,2})").expect("static regex"),
            secret_word: memmem::Finder::new(b"Secret"),
            notebook_cell: memmem::Finder::new(b"\"cell_type\""),
            base64_url: memmem::Finder::new(b";base64,"),
        }
    }

    /// Every decoded view worth scanning in `bytes`, given the raw keyword hits.
    pub(crate) fn views(&self, bytes: &[u8], hits: &[(usize, Range<usize>)]) -> Vec<View> {
        let mut views = json_string_views(bytes, hits);
        if self.secret_word.find(bytes).is_some() && self.k8s_secret_kind.is_match(bytes) {
            for caps in self.yaml_value.captures_iter(bytes) {
                let (key, value) = (caps.get(1).expect("group"), caps.get(2).expect("group"));
                if let Some(text) = decode_text(value.as_bytes()) {
                    let mut view = key.as_bytes().to_vec();
                    view.extend_from_slice(b": ");
                    view.extend_from_slice(&text);
                    views.push(View {
                        text: view,
                        origin: value.start(),
                        decoding: "base64",
                    });
                }
            }
        }
        if self.notebook_cell.find(bytes).is_some() {
            views.extend(notebook_views(bytes));
        }
        if self.base64_url.find(bytes).is_some() {
            for caps in self.data_url.captures_iter(bytes) {
                let value = caps.get(1).expect("group");
                if let Some(text) = decode_text(value.as_bytes()) {
                    views.push(View {
                        text,
                        origin: value.start(),
                        decoding: "base64",
                    });
                }
            }
        }
        views
    }
}

/// Jupyter notebooks keep a cell's text as a JSON array of lines: join each
/// `"source"` / `"text"` array so a key split across lines reads as one.
fn notebook_views(bytes: &[u8]) -> Vec<View> {
    use serde::Deserialize as _;
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
            let mut de = serde_json::Deserializer::from_slice(&bytes[start..]);
            if let Ok(lines) = Vec::<String>::deserialize(&mut de) {
                if lines.len() > 1 {
                    views.push(View {
                        text: lines.concat().into_bytes(),
                        origin: start,
                        decoding: "notebook-cell",
                    });
                }
            }
        }
    }
    views
}

/// Base64 that decodes to text (UTF-8, no control bytes other than whitespace).
fn decode_text(value: &[u8]) -> Option<Vec<u8>> {
    let decoded = decode_std(std::str::from_utf8(value).ok()?)?;
    let text = std::str::from_utf8(&decoded).ok()?;
    let printable = text.chars().all(|c| !c.is_control() || c.is_whitespace());
    (printable && !text.trim().is_empty()).then_some(decoded)
}

/// JSON string literals that hold a keyword hit and backslash escapes, unescaped.
fn json_string_views(bytes: &[u8], hits: &[(usize, Range<usize>)]) -> Vec<View> {
    let mut done: Vec<Range<usize>> = Vec::new();
    let mut views = Vec::new();
    for (_, hit) in hits {
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
                decoding: "json-string",
            });
        }
    }
    views
}

/// The contents of the double-quoted string on the hit's line that contains the hit.
fn enclosing_string(bytes: &[u8], hit: &Range<usize>) -> Option<Range<usize>> {
    let floor = hit.start.saturating_sub(JSON_STRING_REACH);
    let mut open = None;
    let mut i = hit.start;
    while i > floor {
        i -= 1;
        match bytes[i] {
            b'\n' => break,
            b'"' if !escaped(bytes, i) => {
                open = Some(i + 1);
                break;
            }
            _ => {}
        }
    }
    let open = open?;
    let ceiling = (hit.end + JSON_STRING_REACH).min(bytes.len());
    let mut j = hit.end;
    while j < ceiling {
        match bytes[j] {
            b'\n' => return None,
            b'"' if !escaped(bytes, j) => return Some(open..j),
            _ => {}
        }
        j += 1;
    }
    None
}

/// Whether the quote at `i` is preceded by an odd number of backslashes.
fn escaped(bytes: &[u8], i: usize) -> bool {
    bytes[..i].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
}
