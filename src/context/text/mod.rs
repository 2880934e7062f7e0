//! Line and block formats: Jenkinsfiles, Dockerfiles, Terraform (HCL and state JSON),
//! env files, `.npmrc`, `.pypirc`, `.netrc`, `.git-credentials`, Maven settings,
//! Gradle and Spring properties, docker config JSON, and shell lines naming secrets.
//!
//! Every extractor works on a [`Doc`]: the file as text plus a line index, so that a
//! byte offset found by a parser or a regex becomes the line and column a reader sees.

mod build;
mod commands;
mod dotfiles;
mod hcl;
mod json;

use std::sync::LazyLock;

use regex::Regex;

use super::{FileContext, FoundReference, Reference, Scheme, Slot};

pub(super) use commands::commands;

/// Extracts references and slots for the non-YAML kinds; other kinds return at once.
pub(super) fn analyze(path: &str, bytes: &[u8], ctx: &mut FileContext) {
    let extract: fn(&str, &Doc, &mut FileContext) = match ctx.kind {
        "jenkinsfile" => build::jenkinsfile,
        "dockerfile" => build::dockerfile,
        "terraform" => hcl::terraform,
        "terraform-vars" => hcl::tfvars,
        "terraform-state" => json::terraform_state,
        "docker-config" => json::docker_config,
        "dotenv" => dotfiles::dotenv,
        "npmrc" => dotfiles::npmrc,
        "pypirc" => dotfiles::pypirc,
        "netrc" => dotfiles::netrc,
        "git-credentials" => dotfiles::git_credentials,
        "maven-settings" => dotfiles::maven_settings,
        "gradle-properties" => dotfiles::gradle_properties,
        // The YAML side of Spring belongs to the YAML extractor.
        "spring-config" if path.ends_with(".properties") => dotfiles::spring_properties,
        _ => return,
    };
    let doc = Doc::new(bytes);
    extract(path, &doc, ctx);
}

/// A file as text with its line starts. Invalid UTF-8 is replaced, not rejected: a
/// stray byte must not hide the rest of the file.
pub(super) struct Doc<'a> {
    text: std::borrow::Cow<'a, str>,
    starts: Vec<usize>,
}

impl<'a> Doc<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Doc<'a> {
        let text = String::from_utf8_lossy(bytes);
        let starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .collect();
        Doc { text, starts }
    }

    pub(super) fn text(&self) -> &str {
        &self.text
    }

    /// 1-based line and character column of a byte offset.
    pub(super) fn pos(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let column = self.text.as_bytes()[start..offset]
            .iter()
            .filter(|&&b| b & 0xC0 != 0x80)
            .count();
        (to_u32(line), to_u32(column + 1))
    }

    /// Each line with its 1-based number and the byte offset of its start.
    pub(super) fn lines(&self) -> impl Iterator<Item = (u32, usize, &str)> {
        self.text
            .split('\n')
            .scan(0usize, |at, line| {
                let start = *at;
                *at += line.len() + 1;
                Some((start, line.strip_suffix('\r').unwrap_or(line)))
            })
            .enumerate()
            .map(|(i, (start, line))| (to_u32(i + 1), start, line))
    }

    /// Records `scheme:name` used at byte `offset`.
    pub(super) fn reference(
        &self,
        ctx: &mut FileContext,
        offset: usize,
        scheme: Scheme,
        name: &str,
    ) {
        let (line, column) = self.pos(offset);
        ctx.references.push(FoundReference {
            line,
            column,
            reference: Reference::new(scheme, name),
        });
    }

    /// Records a literal at byte `offset` in a place meant for a reference.
    pub(super) fn slot(
        &self,
        ctx: &mut FileContext,
        offset: usize,
        name: impl Into<String>,
        expected: impl Into<String>,
    ) {
        ctx.slots.push(Slot {
            line: self.pos(offset).0,
            name: name.into(),
            expected: expected.into(),
        });
    }

    /// `$NAME`, `${NAME}` and `${NAME:default}` / `${NAME:-default}` in `value`, which
    /// starts at byte `at`, as `env:NAME`, unless `skip(NAME)`.
    pub(super) fn env_refs(
        &self,
        ctx: &mut FileContext,
        at: usize,
        value: &str,
        skip: &dyn Fn(&str) -> bool,
    ) {
        for (offset, name) in env_names(value) {
            if !skip(name) {
                self.reference(ctx, at + offset, Scheme::Env, name);
            }
        }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Byte offsets (of the `$`) and names of `$NAME`, `${NAME}`, `${NAME:default}` in `s`.
pub(super) fn env_names(s: &str) -> impl Iterator<Item = (usize, &str)> {
    static VAR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::-?[^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")
            .expect("variable regex")
    });
    let scan = s.contains('$');
    VAR.captures_iter(if scan { s } else { "" })
        .filter_map(|c| {
            let whole = c.get(0)?;
            // `$$NAME` is an escaped dollar in Compose, Make and Terraform alike.
            if s[..whole.start()].ends_with('$') {
                return None;
            }
            let name = c.get(1).or_else(|| c.get(2))?;
            Some((whole.start(), name.as_str()))
        })
}

/// Whether a key or variable name says it holds a credential.
pub(super) fn is_credential_name(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "password",
        "passwd",
        "passphrase",
        "pwd",
        "secret",
        "token",
        "apikey",
        "api_key",
        "api-key",
        "accesskey",
        "access_key",
        "access-key",
        "privatekey",
        "private_key",
        "private-key",
        "credential",
        "auth",
    ];
    // Names of a credential are not one: `secret_id`, `tokenName`, `PASSWORD_FILE`.
    const NAMING: &[&str] = &["id", "arn", "name", "path", "file", "ref"];
    let lower = name.to_ascii_lowercase();
    let names_one = NAMING.iter().any(|suffix| {
        lower.strip_suffix(suffix).is_some_and(|head| {
            head.ends_with(['_', '-', '.'])
                || name[head.len()..].starts_with(|c: char| c.is_ascii_uppercase())
        })
    });
    !names_one && WORDS.iter().any(|w| lower.contains(w))
}

/// Whether `value` is a literal worth a slot: not empty and not a variable or template.
pub(super) fn is_literal(value: &str) -> bool {
    let v = value.trim();
    !v.is_empty() && !v.contains("${") && !v.starts_with('$') && !v.contains("{{")
}

/// `value` without one pair of matching surrounding quotes, and the byte offset of its
/// first character within `value`.
pub(super) fn unquote(value: &str) -> (&str, usize) {
    for q in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(q)
            .and_then(|v| v.strip_suffix(q))
            .filter(|_| value.len() >= 2)
        {
            return (inner, 1);
        }
    }
    (value, 0)
}

#[cfg(test)]
mod tests;
