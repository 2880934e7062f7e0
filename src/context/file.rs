//! What [`super::analyze`] learns of one file: references, slots, includes, parse warnings.

use super::Reference;
use crate::diag::{Code, Diagnostic};

/// What keytrace understood of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileContext {
    /// `context.file_kind` of findings in this file.
    pub kind: &'static str,
    /// References in file order (line, column), each place once.
    pub references: Vec<FoundReference>,
    /// Slots that should hold a reference but hold a literal value, in line order.
    pub slots: Vec<Slot>,
    /// Other files this one pulls in (GitLab `include:`, Kustomize `resources:`,
    /// compose `env_file:`), named as written and never fetched.
    pub includes: Vec<Include>,
    /// Parse failures (`malformed-config`): the file was still scanned as text.
    pub warnings: Vec<Diagnostic>,
}

/// A reference and the place that uses it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FoundReference {
    pub line: u32,
    pub column: u32,
    pub reference: Reference,
}

/// A file named by another (GitLab `include:`, Kustomize `resources:`…).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Include {
    pub line: u32,
    /// As written: a path, a `project:file@ref`, a URL or a template name.
    pub target: String,
}

/// A place meant for a reference that holds a literal value instead: a workflow
/// `env:` entry, a container `env[].value`, a compose `environment:` entry…
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    /// 1-based line of the literal value.
    pub line: u32,
    /// The slot as a reader finds it in the file, e.g. `jobs.deploy.env.DEPLOY_TOKEN`
    /// or `Deployment api, container app, env DB_PASSWORD`.
    pub name: String,
    /// What belongs there instead, e.g. `${{ secrets.DEPLOY_TOKEN }}` or a `secretKeyRef`.
    pub expected: String,
}

impl FileContext {
    /// The slot holding the literal on `line`, if any.
    pub fn slot_at(&self, line: u32) -> Option<&Slot> {
        let i = self.slots.partition_point(|s| s.line < line);
        self.slots.get(i).filter(|s| s.line == line)
    }

    /// Records a parse failure of `format` at `line` (1-based; `None` when unknown).
    #[allow(dead_code)] // the extractors call it
    pub(crate) fn malformed(&mut self, path: &str, format: &str, line: Option<u32>, error: &str) {
        let mut d = Diagnostic::new(
            Code::MalformedConfig,
            path,
            format!("{format} does not parse ({error}); scanned as plain text"),
        );
        d.line = line;
        self.warnings.push(d);
    }

    pub(super) fn finish(mut self) -> FileContext {
        self.references.sort();
        self.references.dedup();
        self.slots.sort();
        self.slots.dedup_by(|b, a| a.line == b.line);
        self.includes.sort();
        self.includes.dedup();
        self
    }
}
