//! YAML formats: CI pipelines, Kubernetes manifests, Helm values, Kustomize, compose,
//! Spring config. Parsed with saphyr, keeping line markers: references are placed where
//! they are written (scanned in the node's raw source text), slots on the literal's lines.

mod ci;
mod k8s;
mod values;

use super::{FileContext, FoundReference, Include, Reference, Scheme, Slot};
use regex::Regex;
use saphyr::{MarkedYaml, YamlData, YamlLoader};
use saphyr_parser::Parser;
use std::sync::LazyLock;

type Node<'a> = MarkedYaml<'a>;

/// Extracts references and slots when `ctx.kind` is a YAML kind; `false` when it is not one.
/// Helm templates are Go templates, not YAML, and are left to the text pass.
pub(super) fn analyze(path: &str, bytes: &[u8], ctx: &mut FileContext) -> bool {
    let extract: fn(&mut Out, &[Node]) = match ctx.kind {
        "github-actions" | "github-action" => ci::github,
        "gitlab-ci" => ci::gitlab,
        "circleci" => ci::circleci,
        "azure-pipelines" => ci::azure,
        "bitbucket-pipelines" => ci::bitbucket,
        "k8s-manifest" | "external-secret" | "sealed-secret" => k8s::manifests,
        "kustomize" => k8s::kustomize,
        "helm-values" => values::helm,
        "docker-compose" => values::compose,
        "spring-config" => values::spring,
        _ => return false,
    };
    let lower = path.to_ascii_lowercase();
    if ctx.kind == "spring-config" && !lower.ends_with(".yml") && !lower.ends_with(".yaml") {
        return false; // `.properties`: the text pass
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let line = memchr::memchr_iter(b'\n', &bytes[..e.valid_up_to()]).count() + 1;
            ctx.malformed(path, "YAML", Some(to_u32(line)), "not UTF-8");
            return true;
        }
    };
    if super::refuse_deep(path, "YAML", text, ctx) {
        return true;
    }
    let docs = match parse(text) {
        Ok(docs) => docs,
        Err((line, error)) => {
            ctx.malformed(path, "YAML", Some(line), &error);
            return true;
        }
    };
    let src = Src::new(text);
    extract(&mut Out { src: &src, ctx }, &docs);
    true
}

/// Every document of the stream, scalars kept as written (no early typing, so a
/// value is its text); or the 1-based line and message of the parse error.
fn parse(text: &str) -> Result<Vec<Node<'_>>, (u32, String)> {
    let mut parser = Parser::new_from_str(text);
    let mut loader: YamlLoader<Node> = YamlLoader::default();
    loader.early_parse(false);
    match parser.load(&mut loader, true) {
        Ok(()) => Ok(loader.into_documents()),
        Err(e) => Err((to_u32(e.marker().line()).max(1), e.info().to_string())),
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The source text, to map saphyr's character markers to lines, columns and raw text.
struct Src<'a> {
    text: &'a str,
    /// Byte offset of each line start.
    lines: Vec<usize>,
    /// Byte offset of each character, only when the text is not ASCII.
    chars: Option<Vec<usize>>,
}

impl<'a> Src<'a> {
    fn new(text: &'a str) -> Src<'a> {
        let lines = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .collect();
        let chars = (!text.is_ascii()).then(|| {
            let mut v: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            v.push(text.len());
            v
        });
        Src { text, lines, chars }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.chars {
            Some(v) => v.get(char_index).copied().unwrap_or(self.text.len()),
            None => char_index.min(self.text.len()),
        }
    }

    /// 1-based (line, character column) of a byte offset.
    fn pos(&self, byte: usize) -> (u32, u32) {
        let i = self.lines.partition_point(|&s| s <= byte).max(1) - 1;
        let start = self.lines[i];
        let col = self.text.get(start..byte).map_or(0, |s| s.chars().count());
        (to_u32(i + 1), to_u32(col + 1))
    }

    /// The node as written (quotes, block indentation and all) and its byte offset.
    fn raw(&self, node: &Node) -> (usize, &'a str) {
        let start = self.byte(node.span.start.index());
        let end = self.byte(node.span.end.index()).max(start);
        (start, self.text.get(start..end).unwrap_or(""))
    }
}

/// Where extractors put what they find.
struct Out<'s, 'c> {
    src: &'s Src<'s>,
    ctx: &'c mut FileContext,
}

impl Out<'_, '_> {
    /// A reference whose name is the value of `node`, placed at the value.
    fn reference(&mut self, node: &Node, scheme: Scheme, name: String) {
        let (line, column) = start(node);
        self.push(line, column, scheme, name);
    }

    fn push(&mut self, line: u32, column: u32, scheme: Scheme, name: String) {
        if name.is_empty() {
            return;
        }
        self.ctx.references.push(FoundReference {
            line,
            column,
            reference: Reference::new(scheme, name),
        });
    }

    /// References found by `find` in the raw text of a scalar, each placed where written.
    fn scan(&mut self, node: &Node, find: impl Fn(&str) -> Vec<(usize, Scheme, String)>) {
        let (base, raw) = self.src.raw(node);
        for (offset, scheme, name) in find(raw) {
            let (line, column) = self.src.pos(base + offset);
            self.push(line, column, scheme, name);
        }
    }

    /// A slot on every line of the literal `value` (a block scalar spans several).
    fn slot(&mut self, value: &Node, name: String, expected: String) {
        let first = to_u32(value.span.start.line());
        let end = to_u32(value.span.end.line());
        let last = if value.span.end.col() == 0 && end > first {
            end - 1
        } else {
            end
        };
        for line in first..=last.max(first) {
            self.ctx.slots.push(Slot {
                line,
                name: name.clone(),
                expected: expected.clone(),
            });
        }
    }

    fn include(&mut self, node: &Node) {
        if let Some(target) = text(node) {
            self.ctx.includes.push(Include {
                line: start(node).0,
                target: target.to_string(),
            });
        }
    }
}

/// 1-based (line, column) where the node starts.
fn start(node: &Node) -> (u32, u32) {
    (
        to_u32(node.span.start.line()),
        to_u32(node.span.start.col() + 1),
    )
}

/// The value of a mapping entry.
fn get<'n, 'a>(node: &'n Node<'a>, key: &str) -> Option<&'n Node<'a>> {
    entries(node).find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// The entries of a mapping whose keys are scalars; nothing for other nodes.
fn entries<'n, 'a>(node: &'n Node<'a>) -> impl Iterator<Item = (&'n str, &'n Node<'a>)> {
    let map = match &node.data {
        YamlData::Mapping(m) => Some(m),
        _ => None,
    };
    map.into_iter()
        .flat_map(|m| m.iter())
        .filter_map(|(k, v)| Some((text(k)?, v)))
}

/// The items of a sequence; nothing for other nodes.
fn items<'n, 'a>(node: &'n Node<'a>) -> &'n [Node<'a>] {
    match &node.data {
        YamlData::Sequence(s) => s,
        _ => &[],
    }
}

/// A scalar's text; `None` for null, empty values and collections.
fn text<'n>(node: &'n Node) -> Option<&'n str> {
    let s = match &node.data {
        YamlData::Representation(s, style, _) => {
            let s: &str = s;
            if *style == saphyr::ScalarStyle::Plain && matches!(s, "~" | "null" | "Null" | "NULL") {
                return None;
            }
            s
        }
        YamlData::Value(v) => v.as_str()?,
        _ => return None,
    };
    (!s.trim().is_empty()).then_some(s)
}

/// `text` of `get`.
fn get_text<'n>(node: &'n Node, key: &str) -> Option<&'n str> {
    get(node, key).and_then(text)
}

/// Calls `f` on every scalar value (not keys) under `node`.
fn each_scalar<'n, 'a>(node: &'n Node<'a>, f: &mut dyn FnMut(&'n Node<'a>)) {
    match &node.data {
        YamlData::Mapping(m) => m.values().for_each(|v| each_scalar(v, f)),
        YamlData::Sequence(s) => s.iter().for_each(|v| each_scalar(v, f)),
        YamlData::Tagged(_, inner) => each_scalar(inner, f),
        _ => f(node),
    }
}

/// `$NAME`, `${NAME}` and `${NAME:-default}`-style uses; `$$` escapes are skipped.
static VAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:[:?+=#%/-][^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")
        .expect("variable regex")
});

/// Variable uses in raw text: (byte offset of `$`, name). `braced_only` keeps `${NAME}`
/// forms only (Spring placeholders).
fn variables(raw: &str, braced_only: bool) -> Vec<(usize, &str)> {
    if memchr::memchr(b'$', raw.as_bytes()).is_none() {
        return Vec::new();
    }
    VAR.captures_iter(raw)
        .filter_map(|c| {
            let m = c.get(0)?;
            if m.start() > 0 && raw.as_bytes()[m.start() - 1] == b'$' {
                return None;
            }
            let name = match (c.get(1), c.get(2)) {
                (Some(n), _) => n,
                (None, Some(n)) if !braced_only => n,
                _ => return None,
            };
            Some((m.start(), name.as_str()))
        })
        .collect()
}

/// Whether a value is written out rather than referenced or templated.
fn is_literal(value: &str) -> bool {
    !value.trim().is_empty()
        && !value.contains("${{")
        && !value.contains("{{")
        && !value.contains("$(")
        && variables(value, false).is_empty()
}

/// Whether a key's name says it holds a credential (`DB_PASSWORD`, `apiKey`, `auth-token`…).
fn names_credential(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "token",
        "passw",
        "pwd",
        "secret",
        "credential",
        "apikey",
        "api_key",
        "api-key",
        "private_key",
        "privatekey",
        "access_key",
        "accesskey",
        "auth",
    ];
    WORDS.iter().any(|w| k.contains(w)) || k.ends_with("key")
}

/// Keys whose value names a credential rather than holding one (`existingSecret`,
/// `secretName`, `passwordSecretRef`).
fn names_reference(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.starts_with("existingsecret") || k.ends_with("secretname") || k.ends_with("ref")
}

/// Where literal slots are, for the formats whose slots are entries of env-like maps
/// (every literal) and credential-named keys anywhere (`with: token:`, `db.password`).
struct SlotRule {
    /// Keys whose mapping (or `KEY=value` / `{name, value}` list) holds environment entries.
    env_maps: &'static [&'static str],
    /// What belongs in the slot, from the entry's dotted path and key.
    expected: fn(&str, &str) -> String,
}

/// Reports slots under `node`, naming each by its dotted path (`jobs.deploy.steps[1].env.X`).
fn slots(out: &mut Out, node: &Node, path: &str, rule: &SlotRule) {
    match &node.data {
        YamlData::Mapping(_) => {
            for (key, value) in entries(node) {
                let here = join(path, key);
                if rule.env_maps.contains(&key) {
                    env_entries(out, value, &here, rule);
                } else if let Some(literal) = credential_literal(key, value) {
                    let expected = (rule.expected)(&here, key);
                    out.slot(literal, here, expected);
                } else {
                    slots(out, value, &here, rule);
                }
            }
        }
        YamlData::Sequence(s) => {
            for (i, item) in s.iter().enumerate() {
                slots(out, item, &format!("{path}[{i}]"), rule);
            }
        }
        _ => {}
    }
}

/// The literal held by a credential-named key, written plainly or as GitLab's
/// `{value: …, description: …}` form.
fn credential_literal<'n, 'a>(key: &str, value: &'n Node<'a>) -> Option<&'n Node<'a>> {
    if !names_credential(key) || names_reference(key) {
        return None;
    }
    let value = get(value, "value").unwrap_or(value);
    text(value).is_some_and(is_literal).then_some(value)
}

/// Slots for each literal entry of an environment map or list.
fn env_entries(out: &mut Out, env: &Node, path: &str, rule: &SlotRule) {
    for (key, value) in entries(env) {
        if text(value).is_some_and(is_literal) {
            let here = join(path, key);
            let expected = (rule.expected)(&here, key);
            out.slot(value, here, expected);
        }
    }
    for item in items(env) {
        let (key, value) = match (text(item), get_text(item, "name")) {
            (Some(line), _) => match line.split_once('=') {
                Some((k, v)) => (k.trim().to_string(), v),
                None => continue,
            },
            (None, Some(name)) => match get_text(item, "value") {
                Some(v) => (name.to_string(), v),
                None => continue,
            },
            _ => continue,
        };
        if is_literal(value) {
            let node = get(item, "value").unwrap_or(item);
            let here = join(path, &key);
            let expected = (rule.expected)(&here, &key);
            out.slot(node, here, expected);
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests;
