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
pub use kind::{file_kind, CONFIG_KINDS};
pub use reference::{Reference, Scheme};

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
