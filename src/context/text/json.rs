//! JSON formats: Terraform state and docker `config.json`. serde_json drops positions,
//! so each value found in the tree is located again in the text, searching forward
//! from the previous one so repeated values land on their own lines.

use serde_json::Value;

use super::commands::secret_id;
use super::{is_credential_name, is_literal, Doc};
use crate::context::{FileContext, Scheme};

/// Parses `doc`, or records a `malformed-config` warning at the error's line.
fn parse(path: &str, doc: &Doc, ctx: &mut FileContext) -> Option<Value> {
    match serde_json::from_str(doc.text()) {
        Ok(v) => Some(v),
        Err(e) => {
            let line = u32::try_from(e.line()).ok().filter(|&l| l > 0);
            ctx.malformed(path, "JSON", line, &e.to_string());
            None
        }
    }
}

/// Finds JSON string values in the text in tree order.
struct Cursor<'d> {
    text: &'d str,
    at: usize,
}

impl Cursor<'_> {
    /// Byte offset of the first character of the next `"value"` (optionally after
    /// `"key":`), from the cursor on; the cursor moves past it.
    fn find(&mut self, key: Option<&str>, value: &str) -> Option<usize> {
        let quoted = serde_json::to_string(value).ok()?;
        let mut from = self.at;
        loop {
            let i = from + self.text.get(from..)?.find(&quoted)?;
            let before = self.text[..i].trim_end();
            let keyed = match key {
                Some(k) => before
                    .strip_suffix(':')
                    .is_some_and(|b| b.trim_end().ends_with(&format!("\"{k}\""))),
                None => true,
            };
            if keyed {
                self.at = i + quoted.len();
                return Some(i + 1);
            }
            from = i + quoted.len();
        }
    }

    /// Moves the cursor past the next `"key"`.
    fn skip_key(&mut self, key: &str) {
        if let Ok(quoted) = serde_json::to_string(key) {
            if let Some(i) = self.text.get(self.at..).and_then(|t| t.find(&quoted)) {
                self.at += i + quoted.len();
            }
        }
    }
}

/// `terraform.tfstate`: names of Secrets Manager, SSM, Vault and Kubernetes secret
/// resources and data sources. Their plaintext values are the matcher's business.
pub(super) fn terraform_state(path: &str, doc: &Doc, ctx: &mut FileContext) {
    let Some(state) = parse(path, doc, ctx) else {
        return;
    };
    let mut cursor = Cursor {
        text: doc.text(),
        at: 0,
    };
    let resources = state.get("resources").and_then(Value::as_array);
    for resource in resources.into_iter().flatten() {
        let kind = resource.get("type").and_then(Value::as_str).unwrap_or("");
        let label = resource.get("name").and_then(Value::as_str).unwrap_or("");
        cursor.find(Some("type"), kind);
        let instances = resource.get("instances").and_then(Value::as_array);
        for attrs in instances
            .into_iter()
            .flatten()
            .filter_map(|i| i.get("attributes"))
        {
            state_slots(doc, ctx, cursor.at, &format!("{kind}.{label}"), attrs);
            let s = |key: &str| {
                attrs
                    .get(key)
                    .and_then(Value::as_str)
                    .filter(|v| !v.is_empty())
            };
            // The scheme, the attribute whose value the text shows, that value and the name.
            let (scheme, key, name) = match kind {
                "aws_secretsmanager_secret" => {
                    (Scheme::AwsSm, "name", s("name").map(str::to_string))
                }
                "aws_secretsmanager_secret_version" => (
                    Scheme::AwsSm,
                    "secret_id",
                    s("secret_id").and_then(secret_id),
                ),
                "aws_ssm_parameter" => (Scheme::AwsSsm, "name", s("name").map(str::to_string)),
                "vault_generic_secret" | "vault_kv_secret" => {
                    (Scheme::Vault, "path", s("path").map(str::to_string))
                }
                "vault_kv_secret_v2" => (
                    Scheme::Vault,
                    "name",
                    s("mount")
                        .zip(s("name"))
                        .map(|(m, n)| format!("{}/{}", m.trim_matches('/'), n.trim_matches('/'))),
                ),
                "kubernetes_secret" | "kubernetes_secret_v1" => {
                    (Scheme::K8sSecret, "name", k8s_name(attrs))
                }
                _ => continue,
            };
            let Some(name) = name else { continue };
            let raw = match scheme {
                Scheme::K8sSecret => name.rsplit('/').next().unwrap_or(&name),
                _ => s(key).unwrap_or(&name),
            };
            if let Some(at) = cursor.find(Some(key), raw) {
                doc.reference(ctx, at, scheme, &name);
            }
        }
    }
}

/// Slots for the plaintext a state file keeps of each resource: credential-named
/// string attributes, a parameter's `value`, a secret version's `secret_string`.
/// Searched from `from`, the resource's place in the text.
fn state_slots(doc: &Doc, ctx: &mut FileContext, from: usize, resource: &str, attrs: &Value) {
    let Some(attrs) = attrs.as_object() else {
        return;
    };
    for (key, value) in attrs {
        let Some(value) = value.as_str() else {
            continue;
        };
        let stored = matches!(key.as_str(), "value" | "secret_string");
        if !(stored || is_credential_name(key)) || !is_literal(value) {
            continue;
        }
        let mut cursor = Cursor {
            text: doc.text(),
            at: from,
        };
        if let Some(at) = cursor.find(Some(key), value) {
            doc.slot(
                ctx,
                at,
                format!("{resource} {key}"),
                "a remote state backend (state holds secrets in plaintext: keep it out of the repository)",
            );
        }
    }
}

/// `namespace/name` of a `kubernetes_secret`'s `metadata[0]`.
fn k8s_name(attrs: &Value) -> Option<String> {
    let meta = attrs.get("metadata")?.get(0)?;
    let name = meta.get("name")?.as_str().filter(|n| !n.is_empty())?;
    Some(match meta.get("namespace").and_then(Value::as_str) {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_string(),
    })
}

/// docker `config.json`: a literal `auths.<registry>.auth` or `identitytoken` is a slot.
pub(super) fn docker_config(path: &str, doc: &Doc, ctx: &mut FileContext) {
    let Some(config) = parse(path, doc, ctx) else {
        return;
    };
    let auths = config.get("auths").and_then(Value::as_object);
    for (registry, entry) in auths.into_iter().flatten() {
        for field in ["auth", "identitytoken"] {
            let Some(value) = entry.get(field).and_then(Value::as_str) else {
                continue;
            };
            // serde_json sorts keys: each registry is searched from the top again.
            let mut cursor = Cursor {
                text: doc.text(),
                at: 0,
            };
            cursor.skip_key("auths");
            cursor.skip_key(registry);
            if let Some(at) = cursor
                .find(Some(field), value)
                .filter(|_| is_literal(value))
            {
                doc.slot(
                    ctx,
                    at,
                    format!("{field} for {registry}"),
                    "a credential helper (credsStore)",
                );
            }
        }
    }
}
