//! JSON (one document) and JSONL (one finding per line) reports.

use super::{Sink, Summary};
use crate::types::{Finding, REPORT_SCHEMA_VERSION};
use serde::Serialize;
use std::io::{self, Write};

pub(super) struct Json<'w> {
    out: Box<dyn Write + 'w>,
    findings: Vec<Finding>,
}

impl<'w> Json<'w> {
    pub(super) fn new(out: Box<dyn Write + 'w>) -> Self {
        Json {
            out,
            findings: Vec::new(),
        }
    }
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

const TOOL: Tool = Tool {
    name: "keytrace",
    version: env!("CARGO_PKG_VERSION"),
};

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    findings: &'a [Finding],
    summary: &'a Summary,
}

impl Sink for Json<'_> {
    fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        self.findings.push(finding.clone());
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let doc = Document {
            schema_version: REPORT_SCHEMA_VERSION,
            tool: TOOL,
            findings: &self.findings,
            summary,
        };
        serde_json::to_writer_pretty(&mut self.out, &doc)?;
        writeln!(self.out)?;
        self.out.flush()
    }
}

pub(super) struct Jsonl<'w> {
    out: Box<dyn Write + 'w>,
}

impl<'w> Jsonl<'w> {
    pub(super) fn new(out: Box<dyn Write + 'w>) -> Self {
        Jsonl { out }
    }
}

#[derive(Serialize)]
struct Line<'a> {
    schema_version: u32,
    #[serde(flatten)]
    finding: &'a Finding,
}

impl Sink for Jsonl<'_> {
    fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        serde_json::to_writer(
            &mut self.out,
            &Line {
                schema_version: REPORT_SCHEMA_VERSION,
                finding,
            },
        )?;
        writeln!(self.out)
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}
