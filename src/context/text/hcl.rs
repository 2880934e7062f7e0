//! Terraform HCL (`.tf`, `.tfvars`), parsed with hcl-edit, which keeps byte spans.
//! Data sources and resources that name a secret store entry become references;
//! credential-named attributes and variable defaults holding literals become slots.

use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{Block, Body};
use hcl_edit::Span;

use super::commands::secret_id;
use super::{is_credential_name, is_literal, Doc};
use crate::context::{FileContext, Scheme};

/// Parses `doc`, or records a `malformed-config` warning at the error's line.
fn parse(path: &str, doc: &Doc, ctx: &mut FileContext) -> Option<Body> {
    if crate::context::refuse_deep(path, "HCL", doc.text(), ctx) {
        return None;
    }
    match hcl_edit::parser::parse_body(doc.text()) {
        Ok(body) => Some(body),
        Err(e) => {
            let line = u32::try_from(e.location().line()).ok();
            ctx.malformed(path, "HCL", line, e.message());
            None
        }
    }
}

/// The literal string of `expr` and the byte offset of its first character; `None`
/// for anything computed (`"${var.x}"`, `var.x`, function calls…).
fn literal(expr: &Expression) -> Option<(&str, usize)> {
    let value = expr.as_str()?;
    let span = expr.span()?;
    Some((value, span.start + 1))
}

/// `.tf`: references from secret-store data sources and resources, slots for literals.
pub(super) fn terraform(path: &str, doc: &Doc, ctx: &mut FileContext) {
    let Some(body) = parse(path, doc, ctx) else {
        return;
    };
    for block in body.blocks() {
        let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
        match (block.ident.as_str(), labels.as_slice()) {
            ("data" | "resource", [kind, name, ..]) => {
                store_reference(doc, ctx, kind, &block.body);
                let place = format!("{} \"{kind}\" \"{name}\"", block.ident.as_str());
                literal_slots(doc, ctx, &place, kind, &block.body);
            }
            ("variable", [name, ..]) => variable_default(doc, ctx, name, block),
            (ident, labels) => {
                let place = std::iter::once(ident.to_string())
                    .chain(labels.iter().map(|l| format!("\"{l}\"")))
                    .collect::<Vec<_>>()
                    .join(" ");
                literal_slots(doc, ctx, &place, "", &block.body);
            }
        }
    }
}

/// `aws-sm:`, `aws-ssm:`, `vault:` or `k8s-secret:` of a data source or resource of `kind`.
fn store_reference(doc: &Doc, ctx: &mut FileContext, kind: &str, body: &Body) {
    let attr = |key: &str| body.get_attribute(key).and_then(|a| literal(&a.value));
    match kind {
        "aws_secretsmanager_secret" => {
            if let Some((v, at)) = attr("name").or_else(|| attr("arn")) {
                if let Some(name) = secret_id(v) {
                    doc.reference(ctx, at, Scheme::AwsSm, &name);
                }
            }
        }
        "aws_secretsmanager_secret_version" => {
            if let Some((v, at)) = attr("secret_id") {
                if let Some(name) = secret_id(v) {
                    doc.reference(ctx, at, Scheme::AwsSm, &name);
                }
            }
        }
        "aws_ssm_parameter" => {
            if let Some((v, at)) = attr("name") {
                doc.reference(ctx, at, Scheme::AwsSsm, v);
            }
        }
        "vault_generic_secret" | "vault_kv_secret" => {
            if let Some((v, at)) = attr("path") {
                doc.reference(ctx, at, Scheme::Vault, v);
            }
        }
        "vault_kv_secret_v2" => {
            if let (Some((mount, _)), Some((name, at))) = (attr("mount"), attr("name")) {
                let path = format!("{}/{}", mount.trim_matches('/'), name.trim_matches('/'));
                doc.reference(ctx, at, Scheme::Vault, &path);
            }
        }
        "kubernetes_secret" | "kubernetes_secret_v1" => {
            let Some(meta) = body.get_blocks("metadata").next() else {
                return;
            };
            let field = |key: &str| meta.body.get_attribute(key).and_then(|a| literal(&a.value));
            if let Some((name, at)) = field("name") {
                let name = match field("namespace") {
                    Some((ns, _)) => format!("{ns}/{name}"),
                    None => name.to_string(),
                };
                doc.reference(ctx, at, Scheme::K8sSecret, &name);
            }
        }
        _ => {}
    }
}

/// Slots for credential-named attributes holding literals, in `body` and its nested
/// blocks; `place` names the enclosing block as written.
fn literal_slots(doc: &Doc, ctx: &mut FileContext, place: &str, kind: &str, body: &Body) {
    for attr in body.attributes() {
        let key = attr.key.as_str();
        // The value of a stored parameter or secret version is the secret itself.
        let stored = matches!(
            (kind, key),
            ("aws_ssm_parameter", "value") | ("aws_secretsmanager_secret_version", "secret_string")
        );
        value_slots(
            doc,
            ctx,
            &format!("{place} {key}"),
            key,
            stored,
            &attr.value,
        );
    }
    for block in body.blocks() {
        let nested = format!("{place} {}", block.ident.as_str());
        literal_slots(doc, ctx, &nested, kind, &block.body);
    }
}

/// A slot when `value` is a literal under a credential name (or `stored`), and the
/// same for the entries of an object value (`data = { password = "…" }`) and the
/// arguments of a function call.
fn value_slots(
    doc: &Doc,
    ctx: &mut FileContext,
    place: &str,
    key: &str,
    stored: bool,
    value: &Expression,
) {
    match value {
        Expression::Object(object) => {
            for (k, v) in object.iter() {
                let k = match k {
                    ObjectKey::Ident(ident) => ident.as_str(),
                    ObjectKey::Expression(e) => e.as_str().unwrap_or(""),
                };
                value_slots(doc, ctx, &format!("{place}.{k}"), k, false, v.expr());
            }
            return;
        }
        // `secret_string = jsonencode({ password = "…" })`: the object is the secret.
        Expression::FuncCall(call) => {
            for arg in call.args.iter() {
                value_slots(doc, ctx, place, key, stored, arg);
            }
            return;
        }
        _ => {}
    }
    if !(stored || is_credential_name(key)) {
        return;
    }
    if let Some((_, at)) = literal(value).filter(|(v, _)| is_literal(v)) {
        doc.slot(
            ctx,
            at,
            place,
            format!("var.{key} (sensitive) or a data source"),
        );
    }
}

/// `variable "db_password" { default = "…" }`: a credential with a default in the code.
fn variable_default(doc: &Doc, ctx: &mut FileContext, name: &str, block: &Block) {
    let sensitive = block
        .body
        .get_attribute("sensitive")
        .is_some_and(|a| matches!(&a.value, Expression::Bool(b) if *b.value()));
    if !(sensitive || is_credential_name(name)) {
        return;
    }
    let default = block.body.get_attribute("default");
    if let Some((_, at)) = default
        .and_then(|a| literal(&a.value))
        .filter(|(v, _)| is_literal(v))
    {
        doc.slot(
            ctx,
            at,
            format!("variable \"{name}\" default"),
            "a sensitive variable without default, set from a secret store",
        );
    }
}

/// `.tfvars`: credential-named assignments holding literals.
pub(super) fn tfvars(path: &str, doc: &Doc, ctx: &mut FileContext) {
    let Some(body) = parse(path, doc, ctx) else {
        return;
    };
    for attr in body.attributes() {
        let key = attr.key.as_str();
        if !is_credential_name(key) {
            continue;
        }
        if let Some((_, at)) = literal(&attr.value).filter(|(v, _)| is_literal(v)) {
            doc.slot(
                ctx,
                at,
                key,
                format!("TF_VAR_{key} set from a secret store (keep secrets out of .tfvars)"),
            );
        }
    }
}
