//! SARIF 2.1.0, for code-scanning upload; built with `serde-sarif`.

use super::options::RuleInfo;
use super::{Sink, Summary};
use crate::types::{Finding, Location, Severity};
use serde_sarif::sarif;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{self, Write};

pub(super) struct Sarif<'w> {
    out: Box<dyn Write + 'w>,
    rules: Vec<RuleInfo>,
    results: Vec<sarif::Result>,
}

impl<'w> Sarif<'w> {
    pub(super) fn new(out: Box<dyn Write + 'w>, rules: &[RuleInfo]) -> Self {
        let mut rules = rules.to_vec();
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        Sarif {
            out,
            rules,
            results: Vec::new(),
        }
    }
}

fn level(s: Severity) -> sarif::ResultLevel {
    match s {
        Severity::Critical | Severity::High => sarif::ResultLevel::Error,
        Severity::Medium | Severity::Low => sarif::ResultLevel::Warning,
        Severity::Info => sarif::ResultLevel::Note,
    }
}

/// GitHub code scanning's numeric severity (0-10).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// A fingerprint that survives lines moving: rule, path and secret, not the line.
fn partial_fingerprint(f: &Finding) -> String {
    let digest = Sha256::digest(format!("{}\0{}\0{}", f.rule, f.location.path, f.subject()));
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn text(s: &str) -> sarif::MultiformatMessageString {
    sarif::MultiformatMessageString::builder()
        .text(s.to_string())
        .build()
}

impl Sarif<'_> {
    fn descriptor(r: &RuleInfo) -> sarif::ReportingDescriptor {
        let mut props = BTreeMap::new();
        props.insert(
            "security-severity".to_string(),
            serde_json::json!(security_severity(r.severity)),
        );
        let mut tags = vec!["security".to_string()];
        for t in &r.tags {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        let bag = sarif::PropertyBag::builder()
            .tags(tags)
            .additional_properties(props)
            .build();
        let config = sarif::ReportingConfiguration::builder()
            .level(serde_json::json!(level(r.severity).to_string()))
            .build();
        let base = sarif::ReportingDescriptor::builder()
            .id(r.id.clone())
            .name(r.name.clone())
            .short_description(text(&r.name))
            .full_description(text(r.description.trim()))
            .default_configuration(config)
            .properties(bag);
        match r.help_uri() {
            Some(uri) => base.help_uri(uri.to_string()).build(),
            None => base.build(),
        }
    }
}

impl Sink for Sarif<'_> {
    /// One result per location, all with the finding's partial fingerprint.
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        for l in &f.locations {
            self.result(f, l);
        }
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.write_log()
    }
}

impl Sarif<'_> {
    fn result(&mut self, f: &Finding, l: &Location) {
        let rule_index = self.rules.iter().position(|r| r.id == f.rule);
        let region = sarif::Region::builder()
            .start_line(i64::from(l.line))
            .start_column(i64::from(l.column))
            .build();
        let physical = sarif::PhysicalLocation::builder()
            .artifact_location(
                sarif::ArtifactLocation::builder()
                    .uri(l.path.clone())
                    .build(),
            )
            .region(region)
            .build();
        let location = sarif::Location::builder()
            .physical_location(physical)
            .build();
        let message = super::one_line(f);
        let mut fps = BTreeMap::new();
        fps.insert("keytrace/v1".to_string(), partial_fingerprint(f));
        let mut props = BTreeMap::new();
        props.insert("kind".to_string(), serde_json::json!(f.kind.as_str()));
        if let Some(secret) = &f.secret {
            props.insert(
                "fingerprint".to_string(),
                serde_json::json!(secret.fingerprint),
            );
        }
        if let Some(r) = &f.reference {
            props.insert("reference".to_string(), serde_json::json!(r.name));
        }
        props.insert(
            "confidence".to_string(),
            serde_json::json!(f.confidence.as_str()),
        );
        for (k, v) in [
            ("commit", &l.commit),
            ("author", &l.author),
            ("date", &l.date),
        ] {
            if let Some(v) = v {
                props.insert(k.to_string(), serde_json::json!(v));
            }
        }
        let builder = sarif::Result::builder()
            .rule_id(f.rule.clone())
            .level(level(f.severity))
            .message(sarif::Message::builder().text(message).build())
            .locations(vec![location])
            .partial_fingerprints(fps)
            .properties(
                sarif::PropertyBag::builder()
                    .additional_properties(props)
                    .build(),
            );
        let result = match rule_index {
            Some(i) => builder.rule_index(i64::try_from(i).unwrap_or(-1)).build(),
            None => builder.build(),
        };
        self.results.push(result);
    }

    fn write_log(&mut self) -> io::Result<()> {
        let driver = sarif::ToolComponent::builder()
            .name("keytrace".to_string())
            .version(env!("CARGO_PKG_VERSION").to_string())
            .information_uri("https://github.com/keytrace/keytrace".to_string())
            .rules(self.rules.iter().map(Sarif::descriptor).collect::<Vec<_>>())
            .build();
        let run = sarif::Run::builder()
            .tool(sarif::Tool::builder().driver(driver).build())
            .results(std::mem::take(&mut self.results))
            .column_kind(serde_json::json!("unicodeCodePoints"))
            .build();
        let log = sarif::Sarif::builder()
            .schema(sarif::SCHEMA_URL.to_string())
            .version(serde_json::json!("2.1.0"))
            .runs(vec![run])
            .build();
        serde_json::to_writer_pretty(&mut self.out, &log)?;
        writeln!(self.out)?;
        self.out.flush()
    }
}
