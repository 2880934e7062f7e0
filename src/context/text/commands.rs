//! References any file may hold in a command line or an identifier: `vault kv get`,
//! `vault read`, `aws secretsmanager get-secret-value`, `aws ssm get-parameter(s)`,
//! and Secrets Manager / SSM ARNs. Runs on every scanned file, so it returns after a
//! few `memmem` probes unless one of its literals is present.

use std::sync::LazyLock;

use memchr::memmem;
use regex::Regex;

use super::Doc;
use crate::context::{FileContext, Scheme};

static GATES: LazyLock<[memmem::Finder<'static>; 4]> = LazyLock::new(|| {
    [
        memmem::Finder::new(b"vault "),
        memmem::Finder::new(b"arn:aws"),
        memmem::Finder::new(b"secretsmanager"),
        memmem::Finder::new(b"ssm "),
    ]
});

static VAULT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\bvault[ \t]+(?:kv[ \t]+get|read)((?:[ \t]+-(?:(?:mount|field|format|version|namespace|ns|address)[ \t]+[^\s-]\S*|[A-Za-z-]+(?:=\S+)?))*)[ \t]+["']?([^\s"'|;&>)`]+)"#)
        .expect("vault regex")
});
static SM_CLI: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\baws[ \t]+secretsmanager[ \t]+(?:get-secret-value|describe-secret)\b[^\n]*?--secret-id(?:=|[ \t]+)["']?([^\s"'|;&)`]+)"#)
        .expect("secretsmanager regex")
});
static SSM_CLI: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\baws[ \t]+ssm[ \t]+get-parameters?\b[^\n]*?--names?(?:=|[ \t]+)((?:["']?[^\s"'|;&)`-][^\s"'|;&)`]*["']?[ \t]*)+)"#)
        .expect("ssm regex")
});
static ARN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"arn:aws[a-z-]*:(secretsmanager|ssm):[a-z0-9-]*:[0-9]*:(?:secret:|parameter)([A-Za-z0-9/_+=.@-]+)")
        .expect("arn regex")
});

/// References in commands and ARNs of any file, gated on literals.
pub(crate) fn commands(bytes: &[u8], ctx: &mut FileContext) {
    if !GATES.iter().any(|g| g.find(bytes).is_some()) {
        return;
    }
    let doc = Doc::new(bytes);
    let text = doc.text();
    for c in VAULT.captures_iter(text) {
        let (Some(whole), Some(path)) = (c.get(0), c.get(2)) else {
            continue;
        };
        if let Some(name) = vault_name(c.get(1).map_or("", |f| f.as_str()), path.as_str()) {
            doc.reference(ctx, whole.start(), Scheme::Vault, &name);
        }
    }
    for c in SM_CLI.captures_iter(text) {
        if let (Some(whole), Some(id)) = (c.get(0), c.get(1)) {
            if let Some(name) = secret_id(id.as_str()) {
                doc.reference(ctx, whole.start(), Scheme::AwsSm, &name);
            }
        }
    }
    for c in SSM_CLI.captures_iter(text) {
        let (Some(whole), Some(names)) = (c.get(0), c.get(1)) else {
            continue;
        };
        for name in names.as_str().split_whitespace() {
            let name = name.trim_matches(['"', '\'']);
            if !name.is_empty() && !name.contains('$') {
                doc.reference(ctx, whole.start(), Scheme::AwsSsm, name);
            }
        }
    }
    for c in ARN.captures_iter(text) {
        let (Some(whole), Some(service), Some(name)) = (c.get(0), c.get(1), c.get(2)) else {
            continue;
        };
        // `…:secret:prod/*` in an IAM policy or `…:secret:${var}` names no one secret.
        if matches!(text[whole.end()..].chars().next(), Some('*' | '$' | '{')) {
            continue;
        }
        if service.as_str() == "secretsmanager" {
            doc.reference(
                ctx,
                whole.start(),
                Scheme::AwsSm,
                strip_suffix(name.as_str()),
            );
        } else if name.as_str().starts_with('/') {
            doc.reference(ctx, whole.start(), Scheme::AwsSsm, name.as_str());
        }
    }
}

/// `vault:PATH[#FIELD]` from the flags and path of `vault kv get` / `vault read`.
fn vault_name(flags: &str, path: &str) -> Option<String> {
    if path.contains('$') || path.starts_with('-') {
        return None;
    }
    // `-mount=secret` and `-mount secret` alike.
    let tokens: Vec<&str> = flags.split_whitespace().collect();
    let flag = |name: &str| {
        tokens.iter().enumerate().find_map(|(i, t)| {
            let value = match t.strip_prefix(name)?.strip_prefix('=') {
                Some(v) => v,
                None if t.len() == name.len() => tokens.get(i + 1)?,
                None => return None,
            };
            Some(value.trim_matches(['"', '\'']))
        })
    };
    let mut name = match flag("-mount") {
        Some(m) if m.contains('$') => return None,
        Some(m) => format!(
            "{}/{}",
            m.trim_end_matches('/'),
            path.trim_start_matches('/')
        ),
        None => path.trim_start_matches('/').to_string(),
    };
    if let Some(field) = flag("-field").filter(|f| !f.contains('$')) {
        name.push('#');
        name.push_str(field);
    }
    Some(name)
}

/// The secret name a Secrets Manager `secret_id` / `--secret-id` holds: a name as is, an
/// ARN without AWS's random suffix; `None` for a variable.
pub(crate) fn secret_id(id: &str) -> Option<String> {
    if id.is_empty() || id.contains('$') {
        return None;
    }
    match ARN.captures(id) {
        Some(c) => c.get(2).map(|n| strip_suffix(n.as_str()).to_string()),
        None if id.starts_with("arn:") => None,
        None => Some(id.to_string()),
    }
}

/// A Secrets Manager name without the `-XXXXXX` AWS appends in a full ARN.
fn strip_suffix(name: &str) -> &str {
    match name.rsplit_once('-') {
        Some((base, tail))
            if !base.is_empty()
                && tail.len() == 6
                && tail.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            base
        }
        _ => name,
    }
}
