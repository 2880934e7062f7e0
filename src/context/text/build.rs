//! Build scripts: Jenkinsfiles (declarative and scripted pipelines) and Dockerfiles.
//! Both name credentials by id or variable and run shell lines that use them; a name
//! the file binds itself (a `withCredentials` variable, an `ARG`) is not a new reference.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::{is_credential_name, is_literal, unquote, Doc};
use crate::context::{FileContext, Scheme};

/// Variables Jenkins, the agent's shell and Docker set themselves: never a stored secret.
const BUILT_INS: &[&str] = &[
    "BUILD_NUMBER",
    "BUILD_ID",
    "BUILD_URL",
    "BUILD_TAG",
    "BUILD_DISPLAY_NAME",
    "JOB_NAME",
    "JOB_BASE_NAME",
    "JOB_URL",
    "WORKSPACE",
    "WORKSPACE_TMP",
    "BRANCH_NAME",
    "TAG_NAME",
    "CHANGE_ID",
    "CHANGE_URL",
    "CHANGE_BRANCH",
    "CHANGE_TARGET",
    "CHANGE_AUTHOR",
    "GIT_COMMIT",
    "GIT_BRANCH",
    "GIT_URL",
    "GIT_PREVIOUS_COMMIT",
    "NODE_NAME",
    "NODE_LABELS",
    "EXECUTOR_NUMBER",
    "JENKINS_HOME",
    "JENKINS_URL",
    "STAGE_NAME",
    "HOME",
    "PATH",
    "PWD",
    "USER",
    "SHELL",
    "HOSTNAME",
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "BUILDPLATFORM",
];

/// Shell variables in lower case are the script's own locals (`for f in …; do $f`).
fn is_local(name: &str) -> bool {
    name.bytes().any(|b| b.is_ascii_lowercase()) || BUILT_INS.contains(&name)
}

/// Names a shell script sets itself (`NAME=…`, `export NAME=…`, `for NAME in`,
/// `read NAME`): using them later is no reference to the environment.
fn script_sets(script: &str) -> HashSet<&str> {
    static SETS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:^|[\s;&|(])(?:(?:export|local|readonly)\s+)?([A-Za-z_][A-Za-z0-9_]*)=|\b(?:for|read(?:\s+-[a-z]+)*)\s+([A-Za-z_][A-Za-z0-9_]*)")
            .expect("assignment regex")
    });
    SETS.captures_iter(script)
        .filter_map(|c| c.get(1).or_else(|| c.get(2)).map(|m| m.as_str()))
        .collect()
}

/// Jenkinsfile: `credentials('ID')`, `credentialsId: 'ID'`, `docker.withRegistry(url, 'ID')`
/// and `sshagent(['ID'])` are `jenkins-credential:ID`;
/// `$NAME`, `${NAME}`, `env.NAME` in `sh` steps are `env:NAME` unless the file binds NAME.
/// A literal in `environment { }` is a slot.
pub(super) fn jenkinsfile(_path: &str, doc: &Doc, ctx: &mut FileContext) {
    static CREDENTIAL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r#"\bcredentials\(\s*['"]([^'"$]+)['"]\s*\)"#,
            r#"|(?:\bcredentialsId\s*:|\bwithRegistry\(\s*['"][^'"]*['"]\s*,"#,
            r#"|\bsshagent\s*\(\s*(?:credentials\s*:\s*)?\[)\s*['"]([^'"$]+)['"]"#,
        ))
        .expect("credential regex")
    });
    static BINDING: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"\b(?:variable|usernameVariable|passwordVariable|keyFileVariable|passphraseVariable|tokenVariable)\s*:\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]"#)
            .expect("binding regex")
    });
    static ASSIGN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+?)\s*$"#).expect("assign regex")
    });
    static WITH_ENV: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"['"]([A-Za-z_][A-Za-z0-9_]*)="#).expect("withEnv regex"));
    let text = doc.text();
    let mut bound: HashSet<String> = HashSet::new();
    for c in CREDENTIAL.captures_iter(text) {
        let (Some(whole), Some(id)) = (c.get(0), c.get(1).or_else(|| c.get(2))) else {
            continue;
        };
        let at = if c.get(1).is_some() {
            whole.start()
        } else {
            id.start()
        };
        doc.reference(ctx, at, Scheme::JenkinsCredential, id.as_str());
    }
    bound.extend(
        BINDING
            .captures_iter(text)
            .filter_map(|c| c.get(1).map(|m| m.as_str().to_string())),
    );
    // `environment { NAME = … }` binds NAME (and NAME_USR / NAME_PSW for a
    // username-password credential); a literal there is a slot.
    let mut depth_in_env: Option<i32> = None;
    for (_, start, line) in doc.lines() {
        // A `//` comment starts the line or follows a space; `https://` is no comment.
        let code = line
            .match_indices("//")
            .find(|(i, _)| {
                line[..*i]
                    .chars()
                    .next_back()
                    .is_none_or(char::is_whitespace)
            })
            .map_or(line, |(i, _)| &line[..i]);
        if line.trim_start().starts_with("withEnv") {
            bound.extend(
                WITH_ENV
                    .captures_iter(line)
                    .filter_map(|c| c.get(1).map(|m| m.as_str().to_string())),
            );
        }
        if let Some(depth) = depth_in_env.as_mut() {
            if let Some(c) = ASSIGN.captures(code) {
                if let (Some(name), Some(value)) = (c.get(1), c.get(2)) {
                    let name = name.as_str();
                    bound.extend([
                        name.to_string(),
                        format!("{name}_USR"),
                        format!("{name}_PSW"),
                    ]);
                    let (literal, _) = unquote(value.as_str());
                    let quoted = value.as_str().starts_with(['\'', '"']);
                    if quoted && is_literal(literal) {
                        doc.slot(
                            ctx,
                            start + value.start(),
                            format!("environment {name}"),
                            "credentials('<credential id>')",
                        );
                    }
                }
            }
            *depth += braces(code);
            if *depth <= 0 {
                depth_in_env = None;
            }
        } else if let Some(rest) = code.trim_start().strip_prefix("environment") {
            if rest.trim_start().starts_with('{') {
                let depth = braces(code);
                depth_in_env = (depth > 0).then_some(depth);
            }
        }
    }
    for (at, script) in sh_scripts(text) {
        let sets = script_sets(script);
        doc.env_refs(ctx, at, script, &|name| {
            is_local(name) || bound.contains(name) || sets.contains(name)
        });
        static ENV_DOT: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"\benv\.([A-Za-z_][A-Za-z0-9_]*)").expect("env. regex"));
        for c in ENV_DOT.captures_iter(script) {
            if let (Some(whole), Some(name)) = (c.get(0), c.get(1)) {
                if !is_local(name.as_str()) && !bound.contains(name.as_str()) {
                    doc.reference(ctx, at + whole.start(), Scheme::Env, name.as_str());
                }
            }
        }
    }
}

/// `{` minus `}` on a line.
fn braces(code: &str) -> i32 {
    code.chars().fold(0, |n, c| match c {
        '{' => n + 1,
        '}' => n - 1,
        _ => n,
    })
}

/// The string bodies of `sh '…'`, `sh "…"`, `sh '''…'''`, `sh """…"""` and
/// `sh(script: …)` steps, with the byte offset of each body.
fn sh_scripts(text: &str) -> Vec<(usize, &str)> {
    static SH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r#"\b(?:sh|bat|powershell)\s*\(?\s*"#,
            r#"(?:label\s*:\s*(?:'[^']*'|"[^"]*")\s*,\s*)?(?:script\s*:\s*)?"#,
            r#"('''|"""|'|")"#,
        ))
        .expect("sh regex")
    });
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(c) = SH.captures_at(text, from) {
        let Some(open) = c.get(1) else { break };
        let body_start = open.end();
        let quote = open.as_str();
        let end = if quote.len() == 3 {
            text[body_start..].find(quote).map(|i| body_start + i)
        } else {
            closing_quote(&text[body_start..], quote).map(|i| body_start + i)
        };
        let end = end.unwrap_or(text.len());
        out.push((body_start, &text[body_start..end]));
        from = (end + quote.len()).min(text.len());
    }
    out
}

/// Offset of the quote closing a one-line Groovy string, skipping `\` escapes.
fn closing_quote(s: &str, quote: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '\n' => return Some(i),
            _ if !escaped && s[i..].starts_with(quote) => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

/// Dockerfile: `ARG NAME` and `$NAME` in `ENV` / `RUN` are `env:NAME` (a name the file
/// declares once, at its `ARG`); `RUN --mount=type=secret,id=X` is `env:X`. A
/// credential-named `ENV` or `ARG` default holding a literal is a slot.
pub(super) fn dockerfile(_path: &str, doc: &Doc, ctx: &mut FileContext) {
    static SECRET_MOUNT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"--mount=(?:[a-z]+=[^,\s]+,)*type=secret(?:,[a-z]+=[^,\s]+)*")
            .expect("mount regex")
    });
    let instructions = instructions(doc);
    let declared: HashSet<&str> = instructions
        .iter()
        .filter(|i| matches!(i.keyword.as_str(), "ARG" | "ENV"))
        .flat_map(|i| declarations(i.args).into_iter().map(|(_, name, _)| name))
        .collect();
    for ins in &instructions {
        match ins.keyword.as_str() {
            "ARG" | "ENV" => {
                for (offset, name, value) in declarations(ins.args) {
                    let at = ins.at + offset;
                    if ins.keyword == "ARG" && !BUILT_INS.contains(&name) {
                        doc.reference(ctx, at, Scheme::Env, name);
                    }
                    let (literal, _) = unquote(value);
                    if is_credential_name(name) && is_literal(literal) {
                        doc.slot(
                            ctx,
                            at,
                            format!("{} {name}", ins.keyword),
                            format!("a BuildKit secret (RUN --mount=type=secret,id={name})"),
                        );
                    }
                }
                if ins.keyword == "ENV" {
                    doc.env_refs(ctx, ins.at, ins.args, &|n| {
                        declared.contains(n) || BUILT_INS.contains(&n)
                    });
                }
            }
            "RUN" => {
                for m in SECRET_MOUNT.find_iter(ins.args) {
                    let id = m
                        .as_str()
                        .split([',', '='])
                        .skip_while(|p| *p != "id")
                        .nth(1);
                    if let Some(id) = id {
                        let offset = m.as_str().find(",id=").or(m.as_str().find("=id="));
                        let at = ins.at + m.start() + offset.map_or(0, |o| o + 4);
                        doc.reference(ctx, at, Scheme::Env, id);
                    }
                }
                let sets = script_sets(ins.args);
                doc.env_refs(ctx, ins.at, ins.args, &|n| {
                    declared.contains(n) || is_local(n) || sets.contains(n)
                });
            }
            _ => {}
        }
    }
}

/// One Dockerfile instruction: its keyword and its arguments (continuation lines
/// included, as written), starting at byte `at`.
struct Instruction<'d> {
    keyword: String,
    args: &'d str,
    at: usize,
}

fn instructions<'d>(doc: &'d Doc) -> Vec<Instruction<'d>> {
    let lines: Vec<(u32, usize, &str)> = doc.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let (_, start, line) = lines[i];
        // The instruction runs while lines end in `\`.
        let mut last = i;
        while last + 1 < lines.len() && lines[last].2.trim_end().ends_with('\\') {
            last += 1;
        }
        i = last + 1;
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let keyword_len = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        let at = start + (line.len() - trimmed.len()) + keyword_len;
        let end = lines[last].1 + lines[last].2.len();
        out.push(Instruction {
            keyword: trimmed[..keyword_len].to_ascii_uppercase(),
            args: &doc.text()[at..end.max(at)],
            at,
        });
    }
    out
}

/// `(offset, NAME, value)` of each declaration in `ARG NAME[=v] …` / `ENV NAME=v …` /
/// the legacy `ENV NAME value`.
fn declarations(args: &str) -> Vec<(usize, &str, &str)> {
    static PAIR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"([A-Za-z_][A-Za-z0-9_]*)(?:=("(?:[^"\\]|\\.)*"|'[^']*'|\S*))?"#)
            .expect("pair regex")
    });
    let trimmed = args.trim_start();
    let lead = args.len() - trimmed.len();
    let first_word = trimmed.split_whitespace().next().unwrap_or("");
    if !first_word.contains('=') {
        if let Some((name, value)) = trimmed.split_once(char::is_whitespace) {
            // `ENV NAME value`: the rest of the line is the value.
            return vec![(lead, name, value.trim())];
        }
    }
    PAIR.captures_iter(trimmed)
        .filter_map(|c| {
            let name = c.get(1)?;
            // Only whole words: a pair starts the arguments or follows a space.
            let before = trimmed[..name.start()].chars().next_back();
            if before.is_some_and(|b| !b.is_whitespace() && b != '\\') {
                return None;
            }
            Some((
                lead + name.start(),
                name.as_str(),
                c.get(2).map_or("", |v| v.as_str()),
            ))
        })
        .collect()
}
