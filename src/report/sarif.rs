//! SARIF 2.1.0, for code-scanning upload; built with `serde-sarif`.
//!
//! One run per repository scanned, with its provenance (remote, HEAD commit, branch) and its
//! root as the `SRCROOT` base of the results' relative URIs. One repository, one run.

use super::options::RuleInfo;
use super::{Sink, Summary};
use crate::types::{Finding, Location, RepositoryScope, Severity};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_sarif::sarif;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The base id of every result's artifact location: the root of its run's repository.
const SRCROOT: &str = "SRCROOT";

/// Bytes percent-encoded in a URI path: all but RFC 3986 unreserved characters and `/`.
const URI_PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

pub(super) struct Sarif<'w> {
    out: Box<dyn Write + 'w>,
    rules: Vec<RuleInfo>,
    /// Results by repository name, in finding order.
    results: BTreeMap<String, Vec<sarif::Result>>,
}

impl<'w> Sarif<'w> {
    pub(super) fn new(out: Box<dyn Write + 'w>, rules: &[RuleInfo]) -> Self {
        let mut rules = rules.to_vec();
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        Sarif {
            out,
            rules,
            results: BTreeMap::new(),
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

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.write_log(summary)
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
                    .uri(utf8_percent_encode(&l.path, URI_PATH).to_string())
                    .uri_base_id(SRCROOT)
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
        self.results.entry(l.repo.clone()).or_default().push(result);
    }

    /// One run per repository (in the summary's order), each with the results found in it;
    /// results of a repository the summary does not list go to a run without provenance.
    /// With a baseline, each run's properties say how many of its results it left out
    /// (left out, not marked suppressed: code scanning ignores suppressions).
    fn write_log(&mut self, summary: &Summary) -> io::Result<()> {
        let mut baselined = summary
            .baseline
            .as_ref()
            .map(|b| b.by_repo.clone())
            .unwrap_or_default();
        let mut runs: Vec<sarif::Run> = Vec::new();
        for scope in &summary.repositories {
            let results = self.results.remove(&scope.name).unwrap_or_default();
            let mut run = self.run(results, Some(scope));
            set_baselined(&mut run, summary, baselined.remove(&scope.name));
            runs.push(run);
        }
        let rest: Vec<sarif::Result> = std::mem::take(&mut self.results)
            .into_values()
            .flatten()
            .collect();
        let rest_baselined: usize = baselined.values().sum();
        if !rest.is_empty() || rest_baselined > 0 || runs.is_empty() {
            let mut run = self.run(rest, None);
            set_baselined(&mut run, summary, Some(rest_baselined));
            runs.push(run);
        }
        let log = sarif::Sarif::builder()
            .schema(sarif::SCHEMA_URL.to_string())
            .version(serde_json::json!("2.1.0"))
            .runs(runs)
            .build();
        serde_json::to_writer_pretty(&mut self.out, &log)?;
        writeln!(self.out)?;
        self.out.flush()
    }
}

impl Sarif<'_> {
    fn run(&self, results: Vec<sarif::Result>, scope: Option<&RepositoryScope>) -> sarif::Run {
        let driver = sarif::ToolComponent::builder()
            .name("keytrace".to_string())
            .version(env!("CARGO_PKG_VERSION").to_string())
            .information_uri("https://github.com/keytrace/keytrace".to_string())
            .rules(self.rules.iter().map(Sarif::descriptor).collect::<Vec<_>>())
            .build();
        let builder = sarif::Run::builder()
            .tool(sarif::Tool::builder().driver(driver).build())
            .results(results)
            .column_kind(serde_json::json!("unicodeCodePoints"));
        let Some(scope) = scope else {
            return builder.build();
        };
        let root_uri = file_uri(&scope.root);
        let mut bases = BTreeMap::new();
        bases.insert(
            SRCROOT.to_string(),
            sarif::ArtifactLocation::builder()
                .uri(root_uri.clone())
                .build(),
        );
        let builder = builder.original_uri_base_ids(bases);
        if !scope.git {
            return builder.build();
        }
        // A repository without an `origin` is named by where it lies.
        let vcs = sarif::VersionControlDetails {
            repository_uri: scope.remote_url.as_deref().map_or(root_uri, remote_uri),
            revision_id: scope.head.clone(),
            branch: scope.branch.clone(),
            as_of_time_utc: None,
            mapped_to: None,
            properties: None,
            revision_tag: None,
        };
        builder.version_control_provenance(vec![vcs]).build()
    }
}

/// With a baseline, the run's `baselined` property: how many of its findings were left out.
fn set_baselined(run: &mut sarif::Run, summary: &Summary, count: Option<usize>) {
    if summary.baseline.is_some() {
        let bag = run
            .properties
            .get_or_insert_with(|| sarif::PropertyBag::builder().build());
        bag.additional_properties.insert(
            "baselined".to_string(),
            serde_json::json!(count.unwrap_or(0)),
        );
    }
}

/// `file:///abs/root/`: a directory as an absolute URI, percent-encoded, ending in `/`.
fn file_uri(root: &str) -> String {
    let path = root.replace('\\', "/");
    let path = path.trim_end_matches('/');
    let lead = if path.starts_with('/') { "" } else { "/" };
    format!("file://{lead}{}/", utf8_percent_encode(path, URI_PATH))
}

/// A remote as an absolute URI: URLs as they are, `host:path` as `ssh://host/path`, and a
/// local path as a `file://` URI.
fn remote_uri(remote: &str) -> String {
    if remote.contains("://") {
        return remote.to_string();
    }
    match remote.split_once(':') {
        Some((host, path)) if !host.contains('/') && !host.is_empty() && host.len() > 1 => {
            format!("ssh://{host}/{}", path.trim_start_matches('/'))
        }
        _ => {
            let uri = file_uri(remote);
            uri.trim_end_matches('/').to_string()
        }
    }
}
