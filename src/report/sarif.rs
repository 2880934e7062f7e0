//! SARIF 2.1.0, for code-scanning upload; built with `serde-sarif`.
//!
//! One run per repository scanned, with its provenance (remote, HEAD commit, branch) and its
//! root as the `SRCROOT` base of the results' relative URIs. One repository, one run.
//! Rules carry their remediation advice and results their credential linkage, and the log is
//! cut to fit GitHub code scanning's upload limits, highest severity first.

use super::options::RuleInfo;
use super::{Sink, Summary};
use crate::diag::{Code, Diagnostic};
use crate::types::{Finding, Location, RepositoryScope, Severity};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_sarif::sarif;
use sha2::{Digest, Sha256};
use std::cmp::Reverse;
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

/// Code scanning shows only the first 10 tags of a rule (and rejects more than 20).
const MAX_TAGS: usize = 10;

/// What code scanning accepts in one upload: more results in a run, or a bigger gzipped
/// file, and the whole upload is rejected.
#[derive(Debug, Clone, Copy)]
struct Limits {
    results_per_run: usize,
    gzipped_bytes: usize,
}

/// GitHub's limits: 25,000 results per run and 10 MB gzipped, taken as 10,000,000 bytes so
/// that a gzip a little worse than ours still fits.
const GITHUB: Limits = Limits {
    results_per_run: 25_000,
    gzipped_bytes: 10_000_000,
};

/// One result waiting for the log, with what ranks it when the log must be cut.
struct Pending {
    repo: String,
    severity: Severity,
    result: sarif::Result,
}

pub(super) struct Sarif<'w> {
    out: Box<dyn Write + 'w>,
    rules: Vec<RuleInfo>,
    /// Results in finding order (the index breaks severity ties when the log is cut).
    results: Vec<Pending>,
    limits: Limits,
    /// One warning per run that lost results to the limits.
    dropped: Vec<Diagnostic>,
}

impl<'w> Sarif<'w> {
    pub(super) fn new(out: Box<dyn Write + 'w>, rules: &[RuleInfo]) -> Self {
        let mut rules = rules.to_vec();
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        Sarif {
            out,
            rules,
            results: Vec::new(),
            limits: GITHUB,
            dropped: Vec::new(),
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

fn help(r: &RuleInfo) -> sarif::MultiformatMessageString {
    sarif::MultiformatMessageString::builder()
        .text(r.help_text())
        .markdown(r.help_markdown())
        .build()
}

impl Sarif<'_> {
    /// What code scanning reads of a rule: names, descriptions, the remediation advice
    /// (`help`, `helpUri`), the default level, tags and `security-severity`.
    fn descriptor(r: &RuleInfo) -> sarif::ReportingDescriptor {
        let mut props = BTreeMap::new();
        props.insert(
            "security-severity".to_string(),
            serde_json::json!(security_severity(r.severity)),
        );
        let mut tags = vec!["security".to_string(), "secret".to_string()];
        for t in &r.tags {
            if !tags.contains(t) && tags.len() < MAX_TAGS {
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
            .help(help(r))
            .default_configuration(config)
            .properties(bag);
        match r.help_uri() {
            Some(uri) => base.help_uri(uri.to_string()).build(),
            None => base.build(),
        }
    }
}

/// A result's properties: the finding's kind, severity and confidence, its secret's
/// fingerprint or its reference, the credential it links to (id, version, status, owner, as
/// in the JSON report) and, for history, the commit. Never plaintext.
fn result_properties(f: &Finding, l: &Location) -> BTreeMap<String, serde_json::Value> {
    let mut props = BTreeMap::new();
    props.insert("kind".to_string(), serde_json::json!(f.kind.as_str()));
    props.insert("severity".to_string(), serde_json::json!(f.severity));
    props.insert(
        "confidence".to_string(),
        serde_json::json!(f.confidence.as_str()),
    );
    if let Some(secret) = &f.secret {
        props.insert(
            "fingerprint".to_string(),
            serde_json::json!(secret.fingerprint),
        );
    }
    if let Some(r) = &f.reference {
        props.insert("reference".to_string(), serde_json::json!(r.name));
    }
    props.insert("credential".to_string(), serde_json::json!(f.credential));
    for (k, v) in [
        ("commit", &l.commit),
        ("author", &l.author),
        ("date", &l.date),
        ("first_seen", &f.first_seen),
    ] {
        if let Some(v) = v {
            props.insert(k.to_string(), serde_json::json!(v));
        }
    }
    props
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

    fn diagnostics(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.dropped)
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
        let props = result_properties(f, l);
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
        self.results.push(Pending {
            repo: l.repo.clone(),
            severity: f.severity,
            result,
        });
    }

    /// Writes the log, cut to the limits: past `results_per_run` in a run, or past
    /// `gzipped_bytes` for the file, the lowest-severity results are left out (ties: the
    /// last in finding order), so the same findings always give the same log.
    fn write_log(&mut self, summary: &Summary) -> io::Result<()> {
        let mut keep = cap_per_run(&self.results, self.limits.results_per_run);
        loop {
            let bytes = self.render(summary, &keep)?;
            let kept = keep.iter().filter(|k| **k).count();
            // Gzip never shrinks a log below its uncompressed size by more than its header.
            let gzipped = if bytes.len() <= self.limits.gzipped_bytes {
                bytes.len()
            } else {
                gzipped_len(&bytes)?
            };
            if gzipped <= self.limits.gzipped_bytes || kept == 0 {
                self.dropped = dropped_warnings(&self.results, &keep);
                self.out.write_all(&bytes)?;
                return self.out.flush();
            }
            // Keep the share of results that fits, less a tenth for the rules and runs,
            // which do not shrink with the results; at least one fewer each round.
            let fits = kept * (self.limits.gzipped_bytes / 1024) * 9 / 10 / (gzipped / 1024).max(1);
            keep_top(&self.results, &mut keep, fits.min(kept - 1));
        }
    }

    /// One run per repository (in the summary's order), each with its kept results;
    /// results of a repository the summary does not list go to a run without provenance.
    /// With a baseline, each run's properties say how many of its results it left out
    /// (left out, not marked suppressed: code scanning ignores suppressions), and a run
    /// cut to the limits says how many it dropped.
    fn render(&self, summary: &Summary, keep: &[bool]) -> io::Result<Vec<u8>> {
        let mut baselined = summary
            .baseline
            .as_ref()
            .map(|b| b.by_repo.clone())
            .unwrap_or_default();
        let listed = |repo: &str| summary.repositories.iter().any(|s| s.name == repo);
        let pick = |of: &dyn Fn(&str) -> bool| {
            let (mut results, mut dropped) = (Vec::new(), 0);
            for (p, k) in self.results.iter().zip(keep) {
                match (of(&p.repo), k) {
                    (true, true) => results.push(p.result.clone()),
                    (true, false) => dropped += 1,
                    (false, _) => {}
                }
            }
            (results, dropped)
        };
        let mut runs: Vec<sarif::Run> = Vec::new();
        for scope in &summary.repositories {
            let (results, dropped) = pick(&|repo| repo == scope.name);
            let mut run = self.run(results, Some(scope));
            set_baselined(&mut run, summary, baselined.remove(&scope.name));
            set_dropped(&mut run, dropped);
            runs.push(run);
        }
        let (rest, dropped) = pick(&|repo| !listed(repo));
        let rest_baselined: usize = baselined.values().sum();
        if !rest.is_empty() || dropped > 0 || rest_baselined > 0 || runs.is_empty() {
            let mut run = self.run(rest, None);
            set_baselined(&mut run, summary, Some(rest_baselined));
            set_dropped(&mut run, dropped);
            runs.push(run);
        }
        let log = sarif::Sarif::builder()
            .schema(sarif::SCHEMA_URL.to_string())
            .version(serde_json::json!("2.1.0"))
            .runs(runs)
            .build();
        let mut bytes = serde_json::to_vec_pretty(&log)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

/// Indices of `results` best first: highest severity, then finding order.
fn ranked(results: &[Pending], among: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut order: Vec<usize> = among.collect();
    order.sort_by_key(|&i| (Reverse(results[i].severity), i));
    order
}

/// Which results to keep so that no run holds more than `max` of them.
fn cap_per_run(results: &[Pending], max: usize) -> Vec<bool> {
    let mut keep = vec![true; results.len()];
    let mut by_repo: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, p) in results.iter().enumerate() {
        by_repo.entry(&p.repo).or_default().push(i);
    }
    for indices in by_repo.into_values() {
        for i in ranked(results, indices.into_iter()).into_iter().skip(max) {
            keep[i] = false;
        }
    }
    keep
}

/// Keeps only the best `n` of the results still kept, across all runs.
fn keep_top(results: &[Pending], keep: &mut [bool], n: usize) {
    let kept = ranked(results, (0..results.len()).filter(|&i| keep[i]));
    for i in kept.into_iter().skip(n) {
        keep[i] = false;
    }
}

/// The size of `bytes` gzipped at the default level, as `upload-sarif` compresses it.
fn gzipped_len(bytes: &[u8]) -> io::Result<usize> {
    let mut gz = flate2::write::GzEncoder::new(Counter(0), flate2::Compression::default());
    gz.write_all(bytes)?;
    Ok(gz.finish()?.0)
}

/// A writer that only counts bytes.
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One `sarif-results-dropped` warning per repository that lost results to the limits.
fn dropped_warnings(results: &[Pending], keep: &[bool]) -> Vec<Diagnostic> {
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (p, k) in results.iter().zip(keep) {
        let c = counts.entry(&p.repo).or_default();
        c.0 += 1;
        if !k {
            c.1 += 1;
        }
    }
    counts
        .into_iter()
        .filter(|(_, (_, dropped))| *dropped > 0)
        .map(|(repo, (total, dropped))| {
            Diagnostic::new(
                Code::SarifResultsDropped,
                repo,
                format!(
                    "SARIF: {dropped} of {total} results left out to fit GitHub code scanning's upload limits ({} results per run, 10 MB gzipped); the {} of highest severity were kept",
                    GITHUB.results_per_run,
                    total - dropped
                ),
            )
        })
        .collect()
}

/// A run cut to the limits says so twice: a `dropped` count in its properties and a
/// warning notification that code scanning shows with the analysis.
fn set_dropped(run: &mut sarif::Run, dropped: usize) {
    if dropped == 0 {
        return;
    }
    let bag = run
        .properties
        .get_or_insert_with(|| sarif::PropertyBag::builder().build());
    bag.additional_properties
        .insert("dropped".to_string(), serde_json::json!(dropped));
    let kept = run.results.as_ref().map_or(0, Vec::len);
    let notification = sarif::Notification::builder()
        .descriptor(
            sarif::ReportingDescriptorReference::builder()
                .id(Code::SarifResultsDropped.as_str().to_string())
                .build(),
        )
        .level(serde_json::json!("warning"))
        .message(
            sarif::Message::builder()
                .text(format!(
                    "{dropped} results were left out to fit GitHub code scanning's upload limits; the {kept} of highest severity are listed. Scan with --format json for all of them."
                ))
                .build(),
        )
        .build();
    let invocation = sarif::Invocation::builder()
        .execution_successful(true)
        .tool_execution_notifications(vec![notification])
        .build();
    run.invocations = Some(vec![invocation]);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A result whose message gzip cannot shrink much (a digest), so size limits bite.
    fn pending(severity: Severity, n: usize) -> Pending {
        let digest = Sha256::digest(n.to_le_bytes());
        let text: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Pending {
            repo: "r".to_string(),
            severity,
            result: sarif::Result::builder()
                .level(level(severity))
                .message(sarif::Message::builder().text(text).build())
                .build(),
        }
    }

    fn summary() -> Summary {
        Summary {
            findings: 0,
            by_severity: BTreeMap::new(),
            stats: crate::source::WalkStats::default(),
            history: None,
            warnings: Vec::new(),
            repositories: Vec::new(),
            baselined: 0,
            baseline: None,
            started: 0,
        }
    }

    /// Writes a log of `n` results (every third one high, the rest low) under `limits`.
    fn write(n: usize, limits: Limits) -> (Vec<u8>, Vec<Diagnostic>) {
        let mut out = Vec::new();
        let dropped = {
            let mut sink = Sarif::new(Box::new(&mut out), &[]);
            sink.limits = limits;
            sink.results = (0..n)
                .map(|i| {
                    pending(
                        if i % 3 == 0 {
                            Severity::High
                        } else {
                            Severity::Low
                        },
                        i,
                    )
                })
                .collect();
            sink.write_log(&summary()).expect("written");
            sink.diagnostics()
        };
        (out, dropped)
    }

    #[test]
    fn a_log_over_the_gzipped_limit_keeps_the_highest_severity_results() {
        let limits = Limits {
            results_per_run: 25_000,
            gzipped_bytes: 80_000,
        };
        let (out, dropped) = write(3_000, limits);
        assert!(gzipped_len(&out).expect("gzip") <= limits.gzipped_bytes);
        let doc: serde_json::Value = serde_json::from_slice(&out).expect("json");
        let run = &doc["runs"][0];
        let kept = run["results"].as_array().expect("results");
        let lost = run["properties"]["dropped"]
            .as_u64()
            .expect("dropped count");
        assert!(lost > 0 && kept.len() + usize::try_from(lost).expect("fits") == 3_000);
        // Every high result (1,000) is kept before any low one; the low ones kept are
        // the first in finding order; the kept results stay in finding order.
        let text = |i: usize| {
            let sev = if i % 3 == 0 {
                Severity::High
            } else {
                Severity::Low
            };
            pending(sev, i).result.message.text.expect("text")
        };
        let highs = (0..3_000).filter(|i| i % 3 == 0);
        let lows = (0..3_000).filter(|i| i % 3 != 0).take(kept.len() - 1_000);
        let mut expected: Vec<usize> = highs.chain(lows).collect();
        expected.sort_unstable();
        let expected: Vec<String> = expected.into_iter().map(text).collect();
        let got: Vec<&str> = kept
            .iter()
            .filter_map(|r| r["message"]["text"].as_str())
            .collect();
        assert!(kept.len() > 1_000, "{}", kept.len());
        assert_eq!(got, expected.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].code, Code::SarifResultsDropped);
        assert!(dropped[0].message.contains(&format!("{lost} of 3000")));
        let note = &run["invocations"][0]["toolExecutionNotifications"][0];
        assert_eq!(note["descriptor"]["id"], "sarif-results-dropped");
        // The same findings always give the same bytes.
        assert_eq!(write(3_000, limits).0, out);
    }

    #[test]
    fn a_run_over_the_result_limit_keeps_the_best_in_finding_order() {
        let limits = Limits {
            results_per_run: 10,
            gzipped_bytes: 10_000_000,
        };
        let (out, dropped) = write(40, limits);
        let doc: serde_json::Value = serde_json::from_slice(&out).expect("json");
        let texts: Vec<String> = doc["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| r["message"]["text"].as_str().expect("text").to_string())
            .collect();
        let expected: Vec<String> = (0..40)
            .filter(|i| i % 3 == 0)
            .take(10)
            .map(|i| {
                pending(Severity::High, i)
                    .result
                    .message
                    .text
                    .expect("text")
            })
            .collect();
        assert_eq!(texts, expected);
        assert_eq!(doc["runs"][0]["properties"]["dropped"], 30);
        assert_eq!(dropped.len(), 1);
        // Under the limits nothing is dropped and nothing is said.
        let (out, dropped) = write(9, limits);
        let doc: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert!(dropped.is_empty() && doc["runs"][0]["properties"].is_null());
    }
}
