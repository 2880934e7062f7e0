//! Bringing credentials into the inventory from elsewhere: `aws iam
//! list-access-keys` JSON, the AWS IAM credential report CSV, and the
//! unmanaged findings of a keytrace JSON report (`adopt`).

use super::model::{Credential, Fingerprint, Inventory, Reference, Status, Timestamp, Version};
use super::InventoryError;
use crate::fingerprint::hint;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// What an import changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Imported {
    pub credentials_added: usize,
    pub versions_added: usize,
    pub versions_updated: usize,
}

/// The inventory id of an IAM user's access keys.
fn aws_credential_id(user: &str) -> String {
    let user = if user == "<root_account>" {
        "root"
    } else {
        user
    };
    let clean: String = user
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("aws-iam-{clean}")
}

fn aws_credential<'a>(
    inv: &'a mut Inventory,
    user: &str,
    out: &mut Imported,
) -> &'a mut Credential {
    let id = aws_credential_id(user);
    if inv.get(&id).is_none() {
        inv.credentials.push(Credential {
            id: id.clone(),
            kind: "aws-access-key".into(),
            owner: String::new(),
            rotation_days: None,
            references: Vec::new(),
            retired_references: Vec::new(),
            identifiers: Vec::new(),
            repos: Vec::new(),
            versions: Vec::new(),
        });
        out.credentials_added += 1;
    }
    inv.get_mut(&id).expect("just added")
}

fn set_status(v: &mut Version, status: Status, now: i64) -> bool {
    if v.status == status {
        return false;
    }
    v.status = status;
    if status == Status::Revoked && v.revoked.is_none() {
        v.revoked = Some(Timestamp::at(now));
    }
    true
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListAccessKeys {
    access_key_metadata: Vec<AccessKeyMetadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AccessKeyMetadata {
    user_name: String,
    access_key_id: String,
    status: String,
    create_date: String,
}

/// Imports `aws iam list-access-keys` output: one credential per user, one version per key.
pub fn aws_access_keys(
    inv: &mut Inventory,
    path: &Path,
    text: &str,
    now: i64,
) -> Result<Imported, InventoryError> {
    let parsed: ListAccessKeys =
        serde_json::from_str(text).map_err(|e| InventoryError::Import {
            path: path.to_path_buf(),
            line: e.line(),
            message: format!("not the JSON of `aws iam list-access-keys`: {e}"),
        })?;
    let mut out = Imported::default();
    for k in parsed.access_key_metadata {
        let bad = |message: String| InventoryError::Import {
            path: path.to_path_buf(),
            line: 1,
            message,
        };
        let status = match k.status.as_str() {
            "Active" => Status::Active,
            "Inactive" => Status::Revoked,
            other => {
                return Err(bad(format!(
                    "access key {}: unknown Status `{other}`",
                    k.access_key_id
                )))
            }
        };
        let created = Timestamp::try_from(k.create_date.clone())
            .map_err(|m| bad(format!("access key {}: {m}", k.access_key_id)))?;
        let c = aws_credential(inv, &k.user_name, &mut out);
        if !c.identifiers.contains(&k.access_key_id) {
            c.identifiers.push(k.access_key_id.clone());
        }
        let existing = c.versions.iter_mut().find(|v| {
            v.identifier.as_deref() == Some(k.access_key_id.as_str())
                || (v.identifier.is_none()
                    && v.fingerprint.is_none()
                    && v.created.seconds() == created.seconds())
        });
        match existing {
            Some(v) => {
                v.identifier = Some(k.access_key_id.clone());
                v.hint = hint(&k.access_key_id, Some("AKIA"));
                if set_status(v, status, now) {
                    out.versions_updated += 1;
                }
            }
            None => {
                c.versions.push(imported_version(
                    hint(&k.access_key_id, Some("AKIA")),
                    Some(k.access_key_id.clone()),
                    created,
                    status,
                    now,
                ));
                out.versions_added += 1;
            }
        }
        c.versions.sort_by_key(|v| v.created.seconds());
    }
    Ok(out)
}

/// Imports the IAM credential report CSV: each user's key slots with their last-rotated dates.
pub fn aws_credential_report(
    inv: &mut Inventory,
    path: &Path,
    text: &str,
    now: i64,
) -> Result<Imported, InventoryError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let bad = |line: usize, message: String| InventoryError::Import {
        path: path.to_path_buf(),
        line,
        message,
    };
    let (_, header) = lines
        .next()
        .ok_or_else(|| bad(1, "empty credential report".into()))?;
    let columns: Vec<&str> = split_csv(header);
    let col = |name: &str| columns.iter().position(|c| *c == name);
    let user_col = col("user")
        .ok_or_else(|| bad(1, "not an IAM credential report: no `user` column".into()))?;
    let mut out = Imported::default();
    for (n, line) in lines {
        let fields = split_csv(line);
        let user = fields.get(user_col).copied().unwrap_or_default();
        for slot in 1..=2 {
            let (Some(a), Some(r)) = (
                col(&format!("access_key_{slot}_active")),
                col(&format!("access_key_{slot}_last_rotated")),
            ) else {
                return Err(bad(1, format!("not an IAM credential report: no access_key_{slot}_active / _last_rotated columns")));
            };
            let rotated = fields.get(r).copied().unwrap_or("N/A");
            if rotated == "N/A" || rotated.is_empty() {
                continue;
            }
            let created = Timestamp::try_from(rotated.to_string())
                .map_err(|m| bad(n + 1, format!("user {user}: {m}")))?;
            let status = if fields.get(a).copied() == Some("true") {
                Status::Active
            } else {
                Status::Revoked
            };
            let c = aws_credential(inv, user, &mut out);
            match c
                .versions
                .iter_mut()
                .find(|v| v.fingerprint.is_none() && v.created.seconds() == created.seconds())
            {
                Some(v) => {
                    if set_status(v, status, now) {
                        out.versions_updated += 1;
                    }
                }
                None => {
                    c.versions
                        .push(imported_version(String::new(), None, created, status, now));
                    out.versions_added += 1;
                }
            }
            c.versions.sort_by_key(|v| v.created.seconds());
        }
    }
    Ok(out)
}

/// A version an import creates: known by its key id (if any), never by a fingerprint.
fn imported_version(
    hint: String,
    identifier: Option<String>,
    created: Timestamp,
    status: Status,
    now: i64,
) -> Version {
    Version {
        fingerprint: None,
        hint,
        length: None,
        identifier,
        created,
        status,
        revoked: (status == Status::Revoked).then(|| Timestamp::at(now)),
        reset: None,
        revocation: None,
    }
}

fn split_csv(line: &str) -> Vec<&str> {
    line.trim_end_matches('\r')
        .split(',')
        .map(|f| f.trim().trim_matches('"'))
        .collect()
}

#[derive(Deserialize)]
struct Report {
    findings: Vec<ReportFinding>,
}

#[derive(Deserialize)]
struct ReportFinding {
    kind: String,
    rule: String,
    /// Null for reference findings, which adopt skips.
    secret: Option<ReportSecret>,
    location: ReportLocation,
    #[serde(default)]
    context: ReportContext,
    #[serde(default)]
    identifiers: Vec<String>,
    #[serde(default)]
    first_seen: Option<String>,
}

#[derive(Deserialize)]
struct ReportSecret {
    fingerprint: String,
    redacted: String,
}

#[derive(Deserialize)]
struct ReportLocation {
    path: String,
    line: usize,
    column: usize,
}

#[derive(Deserialize, Default)]
struct ReportContext {
    #[serde(default)]
    file_kind: String,
}

/// Turns each distinct unmanaged fingerprint of a JSON report into a credential.
///
/// The id is `<rule>-<first 8 hex digits>`, the owner is empty, and references
/// are inferred from the name the value is assigned to where it was found
/// (read from `root`/path when the file is there).
///
/// `keyed` says whether fingerprints are HMAC now (`KEYTRACE_FINGERPRINT_KEY`
/// set); a report made the other way is refused rather than adopted unmatched.
pub fn adopt(
    inv: &mut Inventory,
    path: &Path,
    text: &str,
    root: &Path,
    keyed: bool,
    now: i64,
) -> Result<Imported, InventoryError> {
    let report: Report = serde_json::from_str(text).map_err(|e| InventoryError::Import {
        path: path.to_path_buf(),
        line: e.line(),
        message: format!("not a keytrace JSON report: {e}"),
    })?;
    let mut groups: BTreeMap<String, Vec<ReportFinding>> = BTreeMap::new();
    for f in report.findings {
        let secret = f.secret.as_ref().map(|s| s.fingerprint.clone());
        if let (true, Some(fingerprint)) = (
            matches!(f.kind.as_str(), "unmanaged-secret" | "stale-secret"),
            secret,
        ) {
            groups.entry(fingerprint).or_default().push(f);
        }
    }
    let mut out = Imported::default();
    for (fingerprint, found) in groups {
        let fp =
            Fingerprint::try_from(fingerprint.clone()).map_err(|m| InventoryError::Import {
                path: path.to_path_buf(),
                line: 1,
                message: m,
            })?;
        if fp.is_hmac() != keyed {
            return Err(InventoryError::Usage(format!(
                "{}: the report's fingerprints are {}, but KEYTRACE_FINGERPRINT_KEY is {}; adopt with the key the report was made with",
                path.display(),
                fingerprint.split(':').next().unwrap_or_default(),
                if keyed { "set" } else { "not set" }
            )));
        }
        if inv.find_fingerprint(&fingerprint).is_some() {
            continue;
        }
        let first = &found[0];
        let hex = fingerprint.rsplit(':').next().unwrap_or_default();
        let id = format!("{}-{}", first.rule, &hex[..8.min(hex.len())]);
        let mut references: Vec<Reference> = found
            .iter()
            .filter_map(|f| infer_reference(root, f))
            .collect();
        references.sort();
        references.dedup();
        let mut identifiers: Vec<String> =
            found.iter().flat_map(|f| f.identifiers.clone()).collect();
        identifiers.sort();
        identifiers.dedup();
        let created = found
            .iter()
            .filter_map(|f| f.first_seen.clone())
            .filter_map(|s| Timestamp::try_from(s).ok())
            .min_by_key(Timestamp::seconds)
            .unwrap_or_else(|| Timestamp::at(now));
        let redacted = first.secret.as_ref().map_or("", |s| s.redacted.as_str());
        let hint = redacted.split('…').next().unwrap_or_default();
        inv.credentials.push(Credential {
            id,
            kind: first.rule.clone(),
            owner: String::new(),
            rotation_days: None,
            references,
            retired_references: Vec::new(),
            identifiers,
            repos: Vec::new(),
            versions: vec![Version {
                fingerprint: Some(fp),
                hint: hint.chars().take(6).collect(),
                // A report counts characters, not bytes: the length is not known.
                length: None,
                identifier: None,
                created,
                status: Status::Active,
                revoked: None,
                reset: None,
                revocation: None,
            }],
        });
        out.credentials_added += 1;
        out.versions_added += 1;
    }
    Ok(out)
}

/// `env:NAME`, `github-secret:NAME` or `gitlab-variable:NAME` from the name the value is assigned to.
fn infer_reference(root: &Path, f: &ReportFinding) -> Option<Reference> {
    let scheme = match f.context.file_kind.as_str() {
        "github-actions" | "github-action" => "github-secret",
        "gitlab-ci" => "gitlab-variable",
        _ => "env",
    };
    let text = std::fs::read_to_string(root.join(&f.location.path)).ok()?;
    let line = text.lines().nth(f.location.line.checked_sub(1)?)?;
    let before: String = line
        .chars()
        .take(f.location.column.saturating_sub(1))
        .collect();
    let name = assigned_name(&before)?;
    Reference::try_from(format!("{scheme}:{name}")).ok()
}

/// The identifier before the last `=` or `:` in `before` (`export API_KEY="` → `API_KEY`).
fn assigned_name(before: &str) -> Option<String> {
    let cut = before.rfind(['=', ':'])?;
    let lhs = before[..cut].trim_end().trim_end_matches(['"', '\'']);
    let name: String = lhs
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let name = name.to_ascii_uppercase().replace(['-', '.'], "_");
    (!name.is_empty() && name.chars().next().is_some_and(|c| !c.is_ascii_digit())).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::assigned_name;

    #[test]
    fn names_of_assignments() {
        assert_eq!(
            assigned_name("export API_KEY=\"").as_deref(),
            Some("API_KEY")
        );
        assert_eq!(
            assigned_name("      SLACK_TOKEN: ").as_deref(),
            Some("SLACK_TOKEN")
        );
        assert_eq!(
            assigned_name("  \"stripe_key\": \"").as_deref(),
            Some("STRIPE_KEY")
        );
        assert_eq!(assigned_name("no assignment here "), None);
    }
}
