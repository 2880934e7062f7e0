//! Named values: the `name = value` pairs of a window, whatever the file format, so a
//! rule can match a value by what it is called as well as by its shape.
//!
//! Many real credentials carry no prefix: only the key or variable name says what the
//! value is (`DD_API_KEY: <32 hex>`). Writing that name into every rule's regex once
//! per format (YAML, JSON, env, properties, HCL, Java/Go/Python/JS/C#/Ruby assignments,
//! Kubernetes `- name: X` / `value: Y` entries) made the regexes unreadable and still
//! missed formats. This module reads every format with one scanner instead: an
//! assignment operator (`=`, `:`, `:=`, `=>`) between a name and a value, the parents
//! of the name (indentation, TOML sections, `{` on the same line), and the sibling
//! `name` of a `value` entry. A rule with `names` then matches on the qualified name
//! and runs its regex on the value alone.

use crate::rules::model::Rule;
use regex::bytes::Regex;
use std::ops::Range;
use std::sync::LazyLock;

/// A named-value rule's `names` as one alternation, and its `near` pattern.
pub(crate) struct NameMatch {
    names: Regex,
    near: Option<Regex>,
}

/// Lines on either side of a value where a rule's `near` pattern may be: as far as an
/// identifier may sit from the secret it pairs with.
const NEAR_LINES: usize = 5;

impl NameMatch {
    /// `None` for a rule without `names`; an error when a pattern does not compile.
    pub(crate) fn new(
        rule: &Rule,
        build: fn(&str) -> Result<Regex, regex::Error>,
    ) -> Option<Result<NameMatch, regex::Error>> {
        if rule.names.is_empty() {
            return None;
        }
        let alternation: Vec<String> = rule.names.iter().map(|n| format!("(?:{n})")).collect();
        let compiled = build(&alternation.join("|")).and_then(|names| {
            let near = rule.near.as_deref().map(build).transpose()?;
            Ok(NameMatch { names, near })
        });
        Some(compiled)
    }

    /// Where the values sit, in `window`, whose bare or qualified name matches, with
    /// the rule's `near` pattern within [`NEAR_LINES`] lines of them.
    pub(crate) fn values(&self, bytes: &[u8], window: Range<usize>) -> Vec<Range<usize>> {
        pairs(bytes, window)
            .into_iter()
            .filter(|p| {
                self.names.is_match(p.name.as_bytes())
                    || self.names.is_match(p.qualified.as_bytes())
            })
            .filter(|p| {
                self.near
                    .as_ref()
                    .is_none_or(|near| near.is_match(&bytes[lines_around(bytes, &p.value)]))
            })
            .map(|p| p.value)
            .collect()
    }
}

/// The [`NEAR_LINES`] lines before and after the lines of `span`, and those lines.
fn lines_around(bytes: &[u8], span: &Range<usize>) -> Range<usize> {
    let mut start = span.start;
    for _ in 0..=NEAR_LINES {
        match memchr::memrchr(b'\n', &bytes[..start]) {
            Some(i) => start = i,
            None => {
                start = 0;
                break;
            }
        }
    }
    let mut end = span.end;
    for _ in 0..=NEAR_LINES {
        match memchr::memchr(b'\n', &bytes[end.min(bytes.len())..]) {
            Some(i) => end += i + 1,
            None => {
                end = bytes.len();
                break;
            }
        }
    }
    start..end.min(bytes.len())
}

/// One assignment: the name as qualified by its parents (`mailgun.api_key`), the bare
/// name as written (`api_key`), and where the value sits (without its quotes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pair {
    pub(crate) qualified: String,
    pub(crate) name: String,
    pub(crate) value: Range<usize>,
}

/// How far back a name's parents are looked for: a value rarely sits deeper under its
/// block than this, and the walk must stay cheap on long files.
const PARENT_REACH: usize = 4096;
/// Lines above a `value` entry where its sibling `name` may be.
const SIBLING_LINES: usize = 3;

/// A name, optionally quoted or bracketed (`"x"`, `['x']`, `:x` Ruby symbols) or a
/// variable (`$x` in PHP and Perl, `$env:X` in PowerShell) or a C array (`x[]`), then an
/// assignment operator (Makefile `?=` too). `==` is matched so that comparisons can be
/// skipped.
static ASSIGN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?-u)(?:^|[^A-Za-z0-9_.\-])(?:\$env:|[\["'`:$]{0,2})([A-Za-z_][A-Za-z0-9_.\-]*)(?:\[[0-9]*\]|["'`\]]{0,2})[ \t]*(:=|=>|==|\?=|=|:)[ \t]*"#,
    )
    .expect("assignment regex")
});

/// Call arguments that pair a quoted name with a value: `setenv("X", "v")`,
/// `.put("X", "v")`, `withEnv("X", "v")`.
static ARGUMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?-u)\(\s*["']([A-Za-z_][A-Za-z0-9_.\-]*)["']\s*,\s*"#).expect("argument regex")
});

/// Typed declarations, the name before its type: Rust `const X: &str = "…"`, TS, Kotlin,
/// Swift and Python `apiKey: string = '…'`, and Go `var apiKey string = "…"`.
static TYPED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?-u)(?:(?:^|[^A-Za-z0-9_.])([A-Za-z_][A-Za-z0-9_]*)\??[ \t]*:[ \t]*&?(?:'static[ \t]+)?(?:mut[ \t]+)?[A-Za-z_][A-Za-z0-9_:.]*(?:<[A-Za-z0-9_:<>, &'\[\]]*>)?(?:\[\])?\??|\b(?:var|const)[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]+\*?(?:\[\])?[A-Za-z_][A-Za-z0-9_.]*)[ \t]*=[ \t]*"#,
    )
    .expect("typed declaration regex")
});

/// Every assignment on the lines of `window` (a range of whole lines of `bytes`).
pub(crate) fn pairs(bytes: &[u8], window: Range<usize>) -> Vec<Pair> {
    let mut out: Vec<Pair> = Vec::new();
    // (line start, bare names of `name`/`key` entries on it) of the last few lines.
    let mut siblings: Vec<(usize, String)> = Vec::new();
    let mut at = window.start;
    while at < window.end {
        let end = memchr::memchr(b'\n', &bytes[at..window.end]).map_or(window.end, |i| at + i);
        let line = &bytes[at..end];
        // Found on the line's first pair: most lines of a window assign nothing.
        let mut parents_of_line: Option<Vec<String>> = None;
        let mut stack: Vec<String> = Vec::new();
        let mut last = 0;
        for (name, op_end) in assignments(line) {
            // `}` between two pairs of one line closes the block the first opened.
            let closes = line[last..op_end].iter().filter(|&&b| b == b'}').count();
            stack.truncate(stack.len().saturating_sub(closes));
            last = op_end;
            let Some(value) = value_at(line, op_end) else {
                if line.get(op_end) == Some(&b'{') {
                    stack.push(name);
                }
                continue;
            };
            let value = at + value.start..at + value.end;
            // A `name`/`key` entry names its sibling `value`, and is a pair itself:
            // `key: key-…` under a `mailgun:` block is the key.
            if is_sibling_name(&name) {
                siblings.push((at, String::from_utf8_lossy(&bytes[value.clone()]).into()));
            }
            let bare = if is_value_key(&name) {
                siblings
                    .iter()
                    .rev()
                    .find(|(start, _)| lines_between(bytes, *start, at) <= SIBLING_LINES)
                    .map_or(name, |(_, n)| n.clone())
            } else {
                name
            };
            let mut qualified = parents_of_line
                .get_or_insert_with(|| parents(bytes, at))
                .clone();
            qualified.extend(stack.iter().cloned());
            qualified.push(bare.clone());
            out.push(Pair {
                qualified: qualified.join("."),
                name: bare,
                value,
            });
        }
        at = end + 1;
    }
    out
}

/// `(name, offset after the operator)` of each assignment on one line, in order.
fn assignments(line: &[u8]) -> Vec<(String, usize)> {
    let mut out: Vec<(usize, String, usize)> = Vec::new();
    // Each pattern needs a byte that most lines lack (`=` or `:`; `(`; `=`): looking for
    // it first spares the regex a pass over the line (an empty one matches nothing).
    let has = |byte: u8| memchr::memchr(byte, line).is_some();
    let has_equals = has(b'=');
    let unless_lacking = |needed: bool| if needed { line } else { &[] };
    for caps in ASSIGN.captures_iter(unless_lacking(has_equals || has(b':'))) {
        let (Some(name), Some(op), Some(all)) = (caps.get(1), caps.get(2), caps.get(0)) else {
            continue;
        };
        // Comparisons and paths (`::`) assign nothing.
        if op.as_bytes() == b"==" || (op.as_bytes() == b":" && line.get(op.end()) == Some(&b':')) {
            continue;
        }
        let name = String::from_utf8_lossy(constant_name(env_variable(name.as_bytes())));
        out.push((op.start(), name.into_owned(), all.end()));
    }
    for caps in ARGUMENT
        .captures_iter(unless_lacking(has(b'(')))
        .chain(TYPED.captures_iter(unless_lacking(has_equals)))
    {
        let (Some(name), Some(all)) = (caps.get(1).or(caps.get(2)), caps.get(0)) else {
            continue;
        };
        // `x: T == y` compares.
        if matches!(line.get(all.end()), Some(b'=' | b'>')) {
            continue;
        }
        let name = String::from_utf8_lossy(constant_name(name.as_bytes()));
        out.push((all.start(), name.into_owned(), all.end()));
    }
    // In order of where their values start: a typed declaration begins before the
    // `name:` it extends but ends after it.
    out.sort_by_key(|(start, _, end)| (*end, *start));
    out.into_iter().map(|(_, n, end)| (n, end)).collect()
}

/// The variable of an environment write (`process.env.X`, `import.meta.env.X`, Jenkins
/// `env.X`, Ruby `ENV.X`): what the program calls it, not the object it is stored in.
fn env_variable(name: &[u8]) -> &[u8] {
    const OBJECTS: [&[u8]; 4] = [b"process.env.", b"import.meta.env.", b"env.", b"ENV."];
    OBJECTS
        .iter()
        .find_map(|object| name.strip_prefix(*object))
        .filter(|rest| !rest.is_empty())
        .unwrap_or(name)
}

/// A constant's name without the `k` that Objective-C, Swift and Google-style C++ put
/// before it (`kAlgoliaAdminKey`): rules name the credential, not the convention.
fn constant_name(name: &[u8]) -> &[u8] {
    match name {
        [b'k', second, _, ..] if second.is_ascii_uppercase() => &name[1..],
        _ => name,
    }
}

/// The value that starts at `at` on `line`, without its quotes; `None` when nothing is
/// assigned there (a block opens, the line ends, a list follows).
fn value_at(line: &[u8], at: usize) -> Option<Range<usize>> {
    let mut at = at;
    // String prefixes: Python `b"…"`/`r"…"`, C# `@"…"`.
    if line.get(at).is_some_and(|b| b"bBrRuUfF@".contains(b))
        && line.get(at + 1).is_some_and(|b| b"\"'".contains(b))
    {
        at += 1;
    }
    let first = *line.get(at)?;
    if matches!(first, b'"' | b'\'' | b'`') {
        let mut i = at + 1;
        while i < line.len() && line[i] != first {
            i += if line[i] == b'\\' { 2 } else { 1 };
        }
        return (i > at + 1 && i <= line.len()).then_some(at + 1..i.min(line.len()));
    }
    let end = line[at..]
        .iter()
        .position(|b| b.is_ascii_whitespace() || b"\"'`,;)}]#".contains(b))
        .map_or(line.len(), |i| at + i);
    let value = &line[at..end];
    (end > at && !matches!(value[0], b'{' | b'[' | b'(' | b'|' | b'>' | b'&' | b'*'))
        .then_some(at..end)
}

/// Keys whose value names the entry a sibling `value` belongs to (Kubernetes and ECS
/// `env` lists, HCL `env` blocks).
fn is_sibling_name(name: &str) -> bool {
    matches!(name, "name" | "Name" | "key" | "Key")
}

fn is_value_key(name: &str) -> bool {
    matches!(name, "value" | "Value")
}

fn lines_between(bytes: &[u8], from: usize, to: usize) -> usize {
    memchr::memchr_iter(b'\n', &bytes[from.min(to)..to]).count()
}

/// Names of the blocks enclosing the line that starts at `start`, outermost first:
/// lines above it with less indentation that open a block (`mailgun:`, `"mailgun": {`,
/// `provider "datadog" {`, `MAILGUN = {`), up to a TOML/INI `[section]`.
fn parents(bytes: &[u8], start: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let Some(mut indent) = indent_of(&bytes[start..]) else {
        return out;
    };
    let floor = start.saturating_sub(PARENT_REACH);
    let mut end = start;
    while end > floor {
        let line_start =
            memchr::memrchr(b'\n', &bytes[floor..end - 1]).map_or(floor, |i| floor + i + 1);
        let line = &bytes[line_start..end - 1];
        end = line_start;
        let Some(level) = indent_of(line) else {
            continue;
        };
        let text = line.trim_ascii();
        if level == 0 && text.starts_with(b"[") && text.ends_with(b"]") {
            let section: Vec<u8> = text
                .iter()
                .copied()
                .filter(|b| !b"[]".contains(b))
                .collect();
            out.push(String::from_utf8_lossy(section.trim_ascii()).into_owned());
            break;
        }
        if level >= indent {
            continue;
        }
        indent = level;
        if let Some(name) = block_name(text) {
            out.push(name);
        }
        if level == 0 {
            break;
        }
    }
    out.reverse();
    out
}

/// The name a block-opening line gives its block, if it opens one.
fn block_name(text: &[u8]) -> Option<String> {
    let text = match text.strip_prefix(b"- ") {
        Some(rest) => rest.trim_ascii(),
        None => text,
    };
    let last = *text.last()?;
    if !matches!(last, b':' | b'{' | b'[' | b'(') {
        return None;
    }
    if let Some((name, op_end)) = assignments(text).pop() {
        if value_at(text, op_end).is_none() {
            return Some(name);
        }
    }
    // HCL blocks and calls taking a block: `provider "datadog" {`,
    // `contentful.createClient({`.
    let head = text
        .iter()
        .rposition(|b| !b" \t{([".contains(b))
        .map_or(&text[..0], |i| &text[..=i]);
    let word_start = head
        .iter()
        .rposition(|b| !(b.is_ascii_alphanumeric() || b"_.-\"'".contains(b)))
        .map_or(0, |i| i + 1);
    let word: Vec<u8> = head[word_start..]
        .iter()
        .copied()
        .filter(|b| !b"\"'".contains(b))
        .collect();
    (!word.is_empty()).then(|| String::from_utf8_lossy(&word).into_owned())
}

/// Indentation (spaces and tabs) of a line, `None` for a blank or comment line.
fn indent_of(line: &[u8]) -> Option<usize> {
    let n = line
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let rest = &line[n..];
    let blank = rest.iter().all(u8::is_ascii_whitespace);
    (!blank && !rest.starts_with(b"#") && !rest.starts_with(b"//")).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(String, String)> {
        pairs(text.as_bytes(), 0..text.len())
            .into_iter()
            .map(|p| (p.qualified, text[p.value].to_string()))
            .collect()
    }

    fn has(text: &str, name: &str, value: &str) {
        let all = found(text);
        assert!(
            all.iter().any(|(n, v)| n == name && v == value),
            "{name} = {value} not in {all:?} of {text:?}"
        );
    }

    #[test]
    fn one_scanner_reads_every_format() {
        has("DD_API_KEY=abc1\n", "DD_API_KEY", "abc1");
        has("export DD_API_KEY='abc1'\n", "DD_API_KEY", "abc1");
        has("datadog.api.key: abc1\n", "datadog.api.key", "abc1");
        has("{\"DD_API_KEY\": \"abc1\"}", "DD_API_KEY", "abc1");
        has(
            "  private static final String TWILIO_SECRET = \"abc1\";\n",
            "TWILIO_SECRET",
            "abc1",
        );
        has("const ddApiKey = `abc1`;\n", "ddApiKey", "abc1");
        has("DdApiKey := \"abc1\"\n", "DdApiKey", "abc1");
        has("config[:dd_api_key] = 'abc1'\n", "dd_api_key", "abc1");
        has("  :dd_api_key => 'abc1',\n", "dd_api_key", "abc1");
        has(
            "os.Setenv(\"DD_API_KEY\", \"abc1\")\n",
            "DD_API_KEY",
            "abc1",
        );
        has("KEY = b\"abc1\"\n", "KEY", "abc1");
        has(
            "pub const STORAGE_KEY: &str = \"abc1\";\n",
            "STORAGE_KEY",
            "abc1",
        );
        has("static K: &'static str = \"abc1\";\n", "K", "abc1");
        has("const apiKey: string = 'abc1';\n", "apiKey", "abc1");
        has("    val apiKey: String? = \"abc1\"\n", "apiKey", "abc1");
        has("var ddApiKey string = \"abc1\"\n", "ddApiKey", "abc1");
        has("mailgun:\n  key: key-1\n", "mailgun.key", "key-1");
        has("$ddApiKey = 'abc1';\n", "ddApiKey", "abc1");
        has("my $dd_api_key = 'abc1';\n", "dd_api_key", "abc1");
        has("process.env.DD_API_KEY = \"abc1\";\n", "DD_API_KEY", "abc1");
        has("    env.DD_API_KEY = 'abc1'\n", "DD_API_KEY", "abc1");
        has("$env:DD_API_KEY = \"abc1\"\n", "DD_API_KEY", "abc1");
        has("DD_API_KEY ?= abc1\n", "DD_API_KEY", "abc1");
        has("env: production\n", "env", "production");
        has(
            "NSString *const kAlgoliaAdminKey = @\"abc1\";\n",
            "AlgoliaAdminKey",
            "abc1",
        );
        has(
            "static const char THINGSPEAK_API_KEY[] = \"abc1\";\n",
            "THINGSPEAK_API_KEY",
            "abc1",
        );
        has("let kB = \"abc1\"\n", "kB", "abc1");
    }

    #[test]
    fn names_are_qualified_by_their_blocks() {
        has(
            "mailgun:\n  domain: x\n  api_key: key-1\n",
            "mailgun.api_key",
            "key-1",
        );
        has(
            "{\n  \"mailgun\": {\n    \"api_key\": \"k1\"\n  }\n}\n",
            "mailgun.api_key",
            "k1",
        );
        has("[mailgun]\napi_key = \"k1\"\n", "mailgun.api_key", "k1");
        has(
            "provider \"datadog\" {\n  app_key = \"k1\"\n}\n",
            "datadog.app_key",
            "k1",
        );
        has(
            "{\"mailgun\": {\"api_key\": \"k1\"}, \"x\": \"y\"}",
            "mailgun.api_key",
            "k1",
        );
        has(
            "{\"mailgun\": {\"a\": \"b\"}, \"api_key\": \"k1\"}",
            "api_key",
            "k1",
        );
    }

    #[test]
    fn a_value_entry_takes_its_siblings_name() {
        has(
            "env:\n  - name: DD_API_KEY\n    value: \"k1\"\n",
            "env.DD_API_KEY",
            "k1",
        );
        has(
            "[{\"name\": \"DD_API_KEY\", \"value\": \"k1\"}]",
            "DD_API_KEY",
            "k1",
        );
        has(
            "env {\n  name  = \"DD_API_KEY\"\n  value = \"k1\"\n}\n",
            "env.DD_API_KEY",
            "k1",
        );
    }

    #[test]
    fn comparisons_blocks_and_paths_are_no_values() {
        assert!(found("if key == \"abc\" {\n").is_empty());
        assert!(found("use std::io;\n").is_empty());
        assert!(found("mailgun:\n").is_empty());
        assert!(found("x = {\n").is_empty());
    }
}
