//! GitLab's secret-detection report (security report schema 15), so merge requests and the
//! vulnerability report show findings natively (`artifacts:reports:secret_detection`).
//!
//! One vulnerability per place a secret was found. `raw_source_code_extract` is left out:
//! GitLab shows it verbatim, and the line holds the secret.

use super::options::RuleInfo;
use super::{Sink, Summary};
use crate::types::{Finding, Location, Severity};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::{self, Write};

/// The schema version the report declares: the one tests/ bundles and validates against.
const SCHEMA_VERSION: &str = "15.2.4";

/// GitLab's own analyzer writes this commit for files scanned outside history.
const NO_COMMIT: &str = "0000000";

pub(super) struct Gitlab<'w> {
    out: Box<dyn Write + 'w>,
    rules: Vec<RuleInfo>,
    vulnerabilities: Vec<Value>,
}

impl<'w> Gitlab<'w> {
    pub(super) fn new(out: Box<dyn Write + 'w>, rules: &[RuleInfo]) -> Self {
        Gitlab {
            out,
            rules: rules.to_vec(),
            vulnerabilities: Vec::new(),
        }
    }
}

/// GitLab's severity enum.
fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

/// GitLab's scan time format: UTC `yyyy-mm-ddThh:mm:ss`, no zone suffix.
fn scan_time(t: i64) -> String {
    crate::time::format(t).trim_end_matches('Z').to_string()
}

/// A UUID-shaped id that is the same for the same rule, secret and place on every run.
fn vulnerability_id(f: &Finding, l: &Location) -> String {
    let key = format!(
        "{}\0{}\0{}\0{}\0{}\0{}\0{}",
        f.rule,
        f.subject(),
        l.repo,
        l.path,
        l.line,
        l.column,
        l.commit.as_deref().unwrap_or("")
    );
    let mut b: Vec<u8> = Sha256::digest(key).iter().take(16).copied().collect();
    // Version 5 (name-based) and the RFC 4122 variant, so UUID parsers accept it.
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

impl Gitlab<'_> {
    fn vulnerability(&self, f: &Finding, l: &Location) -> Value {
        let rule = self.rules.iter().find(|r| r.id == f.rule);
        let mut commit = json!({ "sha": l.commit.as_deref().unwrap_or(NO_COMMIT) });
        if let Some(a) = &l.author {
            commit["author"] = json!(a);
        }
        if let Some(d) = &l.date {
            commit["date"] = json!(d);
        }
        let mut identifier = json!({
            "type": "keytrace_rule_id",
            "name": format!("keytrace rule {}", f.rule),
            "value": f.rule,
        });
        if let Some(uri) = rule.and_then(RuleInfo::help_uri) {
            identifier["url"] = json!(uri);
        }
        let mut description = super::one_line(f);
        if !l.repo.is_empty() {
            description.push_str(&format!(" (repository {})", l.repo));
        }
        let mut v = json!({
            "id": vulnerability_id(f, l),
            "category": "secret_detection",
            "name": f.title,
            "description": description,
            "severity": severity(f.severity),
            "location": {
                "file": l.path,
                "start_line": l.line,
                "commit": commit,
            },
            "identifiers": [identifier],
        });
        if let Some(fix) = rule.and_then(RuleInfo::fix) {
            v["solution"] = json!(fix);
        }
        v
    }
}

impl Sink for Gitlab<'_> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        for l in &f.locations {
            let v = self.vulnerability(f, l);
            self.vulnerabilities.push(v);
        }
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let tool = |kind: &str| {
            json!({
                "id": "keytrace",
                "name": format!("keytrace {kind}"),
                "version": env!("CARGO_PKG_VERSION"),
                "vendor": { "name": "keytrace" },
            })
        };
        let mut scanner = tool("scanner");
        scanner["url"] = json!("https://github.com/keytrace/keytrace");
        let report = json!({
            "version": SCHEMA_VERSION,
            "scan": {
                "analyzer": tool("analyzer"),
                "scanner": scanner,
                "type": "secret_detection",
                "status": "success",
                "start_time": scan_time(summary.started),
                "end_time": scan_time(crate::time::now().max(summary.started)),
            },
            "vulnerabilities": std::mem::take(&mut self.vulnerabilities),
        });
        serde_json::to_writer_pretty(&mut self.out, &report)?;
        writeln!(self.out)?;
        self.out.flush()
    }
}
