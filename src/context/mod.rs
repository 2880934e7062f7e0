//! Context: what a file is (CI config, manifest, env file…), which credentials it
//! names by reference, and which of its slots hold a literal where a reference belongs.
//!
//! The matcher finds values; this stage finds names. [`analyze`] is the one entry:
//! it classifies the file and runs the extractor of its kind. Extractors parse with
//! real parsers (YAML, JSON, HCL) and report a parse failure as a warning; the file is
//! still scanned as text by the matcher, so a malformed file never hides a secret.

mod file;
mod kind;
mod reference;
mod text;
mod yaml;

pub use file::{FileContext, FoundReference, Include, Slot};
pub use kind::{file_kind, CI_AND_MANIFEST_KINDS, CONFIG_KINDS};
pub use reference::{Reference, Scheme};

/// Deepest nesting (flow brackets or indentation levels) handed to a recursive parser.
/// Real config stays far below; a hostile file nested deeper would overflow the stack.
const MAX_NESTING: usize = 200;

/// The 1-based line where `text` nests deeper than [`MAX_NESTING`], if it does. Counts
/// `[`/`{` against `]`/`}` (strings included: erring towards "too deep" only skips
/// parsing) and strictly increasing indentation levels, in one pass.
fn too_deep(text: &str) -> Option<u32> {
    let mut flow = 0usize;
    let mut indents: Vec<usize> = Vec::new();
    for (i, line) in text.as_bytes().split(|&b| b == b'\n').enumerate() {
        let indent = line
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        if line[indent..].iter().any(|b| !b.is_ascii_whitespace()) {
            while indents.last().is_some_and(|&level| level >= indent) {
                indents.pop();
            }
            indents.push(indent);
        }
        let mut deepest = flow;
        for &b in line {
            match b {
                b'[' | b'{' => {
                    flow += 1;
                    deepest = deepest.max(flow);
                }
                b']' | b'}' => flow = flow.saturating_sub(1),
                _ => {}
            }
        }
        if deepest > MAX_NESTING || indents.len() > MAX_NESTING {
            return Some(u32::try_from(i + 1).unwrap_or(u32::MAX));
        }
    }
    None
}

/// Records a `malformed-config` warning and returns `true` when `text` is too deeply
/// nested to hand to a recursive parser; the file is still scanned as text.
pub(crate) fn refuse_deep(path: &str, format: &str, text: &str, ctx: &mut FileContext) -> bool {
    match too_deep(text) {
        Some(line) => {
            ctx.malformed(
                path,
                format,
                Some(line),
                &format!("nested deeper than {MAX_NESTING} levels"),
            );
            true
        }
        None => false,
    }
}

/// Classifies `path` and extracts its references and slots. Must stay cheap for files
/// of no [`CONFIG_KINDS`] kind (every scanned file passes here): those get at most a
/// literal-gated line scan for `vault kv get`-style references and ARNs.
pub fn analyze(path: &str, bytes: &[u8]) -> FileContext {
    let kind = file_kind(path, bytes);
    let mut ctx = FileContext {
        kind,
        ..FileContext::default()
    };
    if !yaml::analyze(path, bytes, &mut ctx) {
        text::analyze(path, bytes, &mut ctx);
    }
    text::commands(bytes, &mut ctx);
    ctx.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_nesting_is_refused_not_parsed() {
        let flow = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(too_deep(&flow), Some(1));
        let block: String = (0..5_000)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        assert_eq!(
            too_deep(&block),
            Some(u32::try_from(MAX_NESTING + 1).unwrap())
        );
        let normal = "jobs:\n  build:\n    steps:\n      - run: echo [a] {b}\n";
        assert_eq!(too_deep(normal), None);
        for (path, text) in [
            (".github/workflows/deep.yml", flow),
            ("infra/deep.tf", format!("a = {}\n", "[".repeat(300))),
        ] {
            let ctx = analyze(path, text.as_bytes());
            assert_eq!(ctx.warnings.len(), 1, "{path}");
            assert!(
                ctx.warnings[0]
                    .message
                    .contains("nested deeper than 200 levels"),
                "{path}"
            );
        }
    }
}
