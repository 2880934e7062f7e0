//! Dotfiles and property files: `.env`, `.npmrc`, `.pypirc`, `.netrc`,
//! `.git-credentials`, Maven `settings.xml`, `gradle.properties` and Spring
//! `application*.properties`. All are `key=value` lines or close to it, read by one
//! entry scanner; Maven settings get a small element scan.

use std::sync::LazyLock;

use regex::Regex;

use super::{env_names, is_credential_name, is_literal, unquote, Doc};
use crate::context::{FileContext, Scheme};

/// One `key = value` line of an INI-like file.
struct Entry<'d> {
    /// The `[section]` above it, empty before the first one.
    section: &'d str,
    key: &'d str,
    /// The value as written (trimmed, quotes kept).
    value: &'d str,
    /// Byte offset of `value` in the file.
    at: usize,
}

/// The `key<sep>value` lines of `doc`, skipping blank and comment lines. The first of
/// `seps` on a line splits it; `[section]` lines set the section.
fn entries<'d>(doc: &'d Doc, seps: &[char], comments: &[char]) -> Vec<Entry<'d>> {
    let mut out = Vec::new();
    let mut section = "";
    for (_, start, line) in doc.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with(comments) {
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|s| s.split_once(']')) {
            section = name.0.trim();
            continue;
        }
        let Some(i) = line.find(seps) else { continue };
        let raw = &line[i + 1..];
        let value = raw.trim();
        out.push(Entry {
            section,
            key: line[..i].trim(),
            value,
            at: start + i + 1 + (raw.len() - raw.trim_start().len()),
        });
    }
    out
}

/// `.env`: `KEY=${OTHER}` is a reference, `KEY=literal` a slot.
pub(super) fn dotenv(_path: &str, doc: &Doc, ctx: &mut FileContext) {
    for e in entries(doc, &['='], &['#']) {
        let key = e.key.strip_prefix("export ").unwrap_or(e.key).trim();
        let (value, inner) = match e.value.chars().next() {
            Some('"' | '\'') => unquote(e.value),
            // An unquoted value ends at ` #`, where dotenv comments start.
            _ => (e.value.split(" #").next().unwrap_or("").trim_end(), 0),
        };
        if key.is_empty() || key.contains(char::is_whitespace) {
            continue;
        }
        // Single quotes keep `$` literal in dotenv as in the shell.
        if !e.value.starts_with('\'') && env_names(value).next().is_some() {
            doc.env_refs(ctx, e.at + inner, value, &|_| false);
        } else if is_literal(value) {
            doc.slot(
                ctx,
                e.at,
                key,
                "a CI variable or secret store (keep .env files out of the repository)",
            );
        }
    }
}

/// `.npmrc`: `//registry/:_authToken=${NPM_TOKEN}` is a reference, a literal token a slot.
pub(super) fn npmrc(_path: &str, doc: &Doc, ctx: &mut FileContext) {
    for e in entries(doc, &['='], &['#', ';']) {
        let (scope, field) = match e.key.rsplit_once(':') {
            Some((scope, field)) if scope.starts_with("//") => (scope, field),
            _ => ("", e.key),
        };
        let (value, inner) = unquote(e.value);
        if env_names(value).next().is_some() {
            doc.env_refs(ctx, e.at + inner, value, &|_| false);
        } else if matches!(field, "_authToken" | "_auth" | "_password") && is_literal(value) {
            let registry = if scope.is_empty() {
                "the default registry".to_string()
            } else {
                scope.to_string()
            };
            doc.slot(ctx, e.at, format!("{field} for {registry}"), "${NPM_TOKEN}");
        }
    }
}

/// `.pypirc`: a literal `password` under `[pypi]` is a slot.
pub(super) fn pypirc(_path: &str, doc: &Doc, ctx: &mut FileContext) {
    for e in entries(doc, &['=', ':'], &['#', ';']) {
        if env_names(e.value).next().is_some() {
            doc.env_refs(ctx, e.at, e.value, &|_| false);
        } else if e.key == "password" && is_literal(e.value) {
            doc.slot(
                ctx,
                e.at,
                format!("password for [{}]", e.section),
                "a keyring or TWINE_PASSWORD",
            );
        }
    }
}

/// `gradle.properties`: credential-named keys with literal values are slots; Gradle
/// reads the same property from `ORG_GRADLE_PROJECT_<key>`.
pub(super) fn gradle_properties(_path: &str, doc: &Doc, ctx: &mut FileContext) {
    properties(doc, ctx, &|key| {
        format!("ORG_GRADLE_PROJECT_{key} in the environment, or ~/.gradle/gradle.properties")
    });
}

/// Spring `application*.properties`: `${NAME}` / `${NAME:default}` are references,
/// credential-named keys with literal values are slots.
pub(super) fn spring_properties(_path: &str, doc: &Doc, ctx: &mut FileContext) {
    properties(doc, ctx, &|key| format!("${{{}}}", env_style(key)));
}

fn properties(doc: &Doc, ctx: &mut FileContext, expected: &dyn Fn(&str) -> String) {
    for e in entries(doc, &['=', ':'], &['#', '!']) {
        if env_names(e.value).next().is_some() {
            doc.env_refs(ctx, e.at, e.value, &|_| false);
        } else if is_credential_name(e.key) && is_literal(e.value) {
            doc.slot(ctx, e.at, e.key, expected(e.key));
        }
    }
}

/// `spring.datasource.password` → `SPRING_DATASOURCE_PASSWORD`, as Spring's relaxed
/// binding reads it from the environment.
fn env_style(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// `.netrc`: `machine H login L password P`, on one line or several; each literal
/// password is a slot.
pub(super) fn netrc(_path: &str, doc: &Doc, ctx: &mut FileContext) {
    let text = doc.text();
    let mut machine = String::from("default");
    let mut tokens = text
        .split_ascii_whitespace()
        .map(|t| (t.as_ptr() as usize - text.as_ptr() as usize, t))
        .peekable();
    while let Some((at, token)) = tokens.next() {
        match token {
            "machine" => {
                if let Some((_, host)) = tokens.next() {
                    machine = host.to_string();
                }
            }
            "default" => machine = "default".to_string(),
            "password" => {
                if let Some((at, value)) = tokens.next() {
                    if is_literal(value) {
                        doc.slot(
                            ctx,
                            at,
                            format!("password for machine {machine}"),
                            "a credential helper or a token from the CI's secret store",
                        );
                    }
                }
            }
            // A macro definition runs to the next blank line; its body is not tokens.
            "macdef" => {
                let end = text[at..].find("\n\n").map_or(text.len(), |i| at + i);
                while tokens.next_if(|(next, _)| *next < end).is_some() {}
            }
            _ => {}
        }
    }
}

/// `.git-credentials`: every `https://user:token@host` line is a slot.
pub(super) fn git_credentials(_path: &str, doc: &Doc, ctx: &mut FileContext) {
    for (_, start, line) in doc.lines() {
        let Some((_, rest)) = line.trim().split_once("://") else {
            continue;
        };
        let Some((userinfo, host)) = rest.split_once('@') else {
            continue;
        };
        let host = host.split(['/', ':']).next().unwrap_or(host);
        if userinfo.contains(':') && is_literal(userinfo) {
            doc.slot(
                ctx,
                start,
                format!("credential for {host}"),
                "a credential helper",
            );
        }
    }
}

/// Maven `settings.xml`: `<password>${env.NAME}</password>` is a reference; a literal
/// `<password>` or `<passphrase>` of `<server><id>X</id>` (or of a `<proxy>`) is a slot. Values in braces are
/// ciphertext of Maven's password encryption, not slots.
pub(super) fn maven_settings(path: &str, doc: &Doc, ctx: &mut FileContext) {
    static ELEMENT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"<(server|/server|proxy|/proxy|id|password|passphrase)>(?:([^<]*)</([a-z]+)>)?")
            .expect("element regex")
    });
    static ENV: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\$\{env\.([A-Za-z_][A-Za-z0-9_]*)\}").expect("env regex"));
    let text = doc.text();
    // The enclosing `<server>` or `<proxy>` and its `<id>`.
    let mut owner: (&str, Option<&str>) = ("server", None);
    for c in ELEMENT.captures_iter(text) {
        let Some(tag) = c.get(1) else { continue };
        // Text closed by another element's end tag (`<password>x</server>`) is not a value.
        let value = c
            .get(2)
            .filter(|_| c.get(3).is_some_and(|end| end.as_str() == tag.as_str()));
        match (tag.as_str(), value) {
            (open @ ("server" | "proxy"), _) => owner = (open, None),
            ("/server" | "/proxy", _) => owner.1 = None,
            ("id", Some(v)) => owner.1 = owner.1.or(Some(v.as_str().trim())),
            (field @ ("password" | "passphrase"), Some(v)) => {
                let raw = v.as_str().trim();
                let at = v.start() + (v.as_str().len() - v.as_str().trim_start().len());
                if raw.contains("${") {
                    for m in ENV.captures_iter(raw) {
                        if let (Some(all), Some(name)) = (m.get(0), m.get(1)) {
                            doc.reference(ctx, at + all.start(), Scheme::Env, name.as_str());
                        }
                    }
                } else if !(raw.starts_with('{') && raw.ends_with('}')) && is_literal(raw) {
                    let (container, id) = (owner.0, owner.1.unwrap_or("?"));
                    doc.slot(
                        ctx,
                        at,
                        format!("{container} {id} {field}"),
                        format!("${{env.{}_{}}}", env_style(id), env_style(field)),
                    );
                }
            }
            (field @ ("password" | "passphrase"), None) => {
                let line = doc.pos(tag.start()).0;
                let error = format!("`<{field}>` is not closed before the next element");
                ctx.malformed(path, "XML", Some(line), &error);
            }
            _ => {}
        }
    }
}
