//! GitHub Actions workflow-command annotations (`::error file=…,line=…::message`).

use super::{Sink, Summary};
use crate::types::{Finding, Severity};
use std::io::{self, Write};

pub(super) struct Github<'w> {
    out: Box<dyn Write + 'w>,
}

impl<'w> Github<'w> {
    pub(super) fn new(out: Box<dyn Write + 'w>) -> Self {
        Github { out }
    }
}

/// Escapes a value for a workflow command property or message.
fn escape(s: &str, property: bool) -> String {
    let mut out = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

impl Sink for Github<'_> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        let level = match f.severity {
            Severity::Critical | Severity::High => "error",
            Severity::Medium | Severity::Low => "warning",
            Severity::Info => "notice",
        };
        let message = format!(
            "{} [{}] in repository {}",
            super::one_line(f),
            f.rule,
            f.location.repo
        );
        writeln!(
            self.out,
            "::{level} file={},line={},col={},title={}::{}",
            escape(&f.location.path, true),
            f.location.line,
            f.location.column,
            escape(&format!("keytrace {}", f.kind.as_str()), true),
            escape(&message, false)
        )
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        for w in &summary.warnings {
            writeln!(
                self.out,
                "::warning file={}::{}",
                escape(&w.path, true),
                escape(&format!("[{}] {}", w.code, w.message), false)
            )?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    /// GitHub's workflow-command rules: `%`, CR and LF in data and properties; `:` and `,`
    /// also in properties, where they would end the value. `%` goes first, or the escapes
    /// themselves would be escaped again.
    #[test]
    fn escapes_per_workflow_command_rules() {
        assert_eq!(escape("50%\r\nnext: a, b", false), "50%25%0D%0Anext: a, b");
        assert_eq!(
            escape("dir/50%,a:b\r\n.env", true),
            "dir/50%25%2Ca%3Ab%0D%0A.env"
        );
        assert_eq!(escape("%0A", false), "%250A");
    }
}
