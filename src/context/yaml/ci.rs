//! CI pipelines: GitHub Actions, GitLab CI, CircleCI, Azure Pipelines, Bitbucket Pipelines.

use super::{
    each_scalar, entries, get, get_text, items, slots, text, variables, Node, Out, Scheme, SlotRule,
};
use regex::Regex;
use std::collections::HashSet;
use std::sync::LazyLock;

/// `${{ … }}` expressions, and the secrets named inside one.
static EXPR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)\$\{\{.*?\}\}").expect("expression regex"));
static SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\bsecrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\[\s*['"]([^'"]+)['"]\s*\])"#)
        .expect("secret regex")
});
/// Shell assignments at a line start, `for X in`, `read X`: names a script defines itself.
static ASSIGNED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*(?:export\s+|local\s+)?([A-Za-z_][A-Za-z0-9_]*)=|\bfor\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\b|\bread\s+(?:-\w+\s+)*([A-Za-z_][A-Za-z0-9_]*)")
        .expect("assignment regex")
});
/// Azure `$(NAME)` macros.
static MACRO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)").expect("macro regex"));

/// Variables every shell or runner defines: never a credential reference.
const SHELL: &[&str] = &[
    "CI", "HOME", "PATH", "PWD", "OLDPWD", "USER", "SHELL", "HOSTNAME", "IFS", "RANDOM", "TMPDIR",
    "LANG", "TERM", "UID", "EUID",
];

/// GitHub Actions workflows and composite actions: `secrets.NAME` in expressions,
/// `$NAME` in `run:` scripts when the file does not define it, literal `env:` entries
/// and credential-named `with:` inputs as slots.
pub(super) fn github(out: &mut Out, docs: &[Node]) {
    for doc in docs {
        each_scalar(doc, &mut |n| out.scan(n, github_secrets));
        let defined = defined_in(doc, &["env"]);
        let mut runs = Vec::new();
        each_entry(doc, &mut |key, value| {
            if key == "run" {
                runs.push(value);
            }
        });
        let predefined = |n: &str| n.starts_with("GITHUB_") || n.starts_with("RUNNER_");
        for run in runs {
            variable_refs(out, run, Scheme::Env, &defined, &predefined);
        }
        let rule = SlotRule {
            env_maps: &["env"],
            expected: |_, key| format!("${{{{ secrets.{} }}}}", secret_name(key)),
        };
        slots(out, doc, "", &rule);
    }
}

fn github_secrets(raw: &str) -> Vec<(usize, Scheme, String)> {
    if !raw.contains("secrets") {
        return Vec::new();
    }
    let mut found = Vec::new();
    for expr in EXPR.find_iter(raw) {
        for c in SECRET.captures_iter(expr.as_str()) {
            let Some(name) = c.get(1).or_else(|| c.get(2)) else {
                continue;
            };
            if !name.as_str().eq_ignore_ascii_case("GITHUB_TOKEN") {
                found.push((
                    expr.start(),
                    Scheme::GithubSecret,
                    name.as_str().to_string(),
                ));
            }
        }
    }
    found
}

/// The secret name a GitHub user would create for an input or env key.
fn secret_name(key: &str) -> String {
    key.to_ascii_uppercase().replace('-', "_")
}

/// GitLab CI: `$NAME` / `${NAME}` anywhere except predefined and file-defined variables,
/// `include:` entries, native Vault `secrets:`, credential-named literal variables as slots.
pub(super) fn gitlab(out: &mut Out, docs: &[Node]) {
    for doc in docs {
        let defined = defined_in(doc, &["variables"]);
        let predefined = |n: &str| {
            ["CI_", "GITLAB_", "CHAT_", "FF_"]
                .iter()
                .any(|p| n.starts_with(p))
                || matches!(n, "TRIGGER_PAYLOAD" | "KUBECONFIG")
        };
        variable_refs(out, doc, Scheme::GitlabVariable, &defined, &predefined);
        if let Some(include) = get(doc, "include") {
            gitlab_includes(out, include);
        }
        each_entry(doc, &mut |key, value| {
            if key == "secrets" {
                for (_, secret) in entries(value) {
                    gitlab_vault(out, secret);
                }
            }
        });
        let rule = SlotRule {
            env_maps: &[],
            expected: |_, key| format!("${key} from a masked CI/CD variable"),
        };
        slots(out, doc, "", &rule);
    }
}

/// `include:` in its string, list and `local`/`project`+`file`/`remote`/`template`/`component` forms.
fn gitlab_includes(out: &mut Out, include: &Node) {
    if text(include).is_some() {
        return out.include(include);
    }
    let list: Vec<&Node> = match items(include) {
        [] => vec![include],
        all => all.iter().collect(),
    };
    for item in list {
        if text(item).is_some() {
            out.include(item);
            continue;
        }
        for key in ["local", "remote", "template", "component"] {
            if let Some(v) = get(item, key) {
                out.include(v);
            }
        }
        let (Some(project), Some(file)) = (get_text(item, "project"), get(item, "file")) else {
            continue;
        };
        let at = get_text(item, "ref")
            .map(|r| format!("@{r}"))
            .unwrap_or_default();
        let files: Vec<&Node> = match items(file) {
            [] => vec![file],
            all => all.iter().collect(),
        };
        for f in files {
            if let Some(name) = text(f) {
                out.ctx.includes.push(super::Include {
                    line: super::start(f).0,
                    target: format!("{project}:{name}{at}"),
                });
            }
        }
    }
}

/// A job secret read from Vault: `vault: path/field@mount` or `vault: {engine: {path}, path, field}`.
fn gitlab_vault(out: &mut Out, secret: &Node) {
    let Some(vault) = get(secret, "vault") else {
        return;
    };
    let name = match text(vault) {
        Some(short) => {
            let (path, mount) = short.split_once('@').unwrap_or((short, "kv-v2"));
            match path.rsplit_once('/') {
                Some((path, field)) => format!("{mount}/{path}#{field}"),
                None => format!("{mount}/{path}"),
            }
        }
        None => {
            let mount = get(vault, "engine").and_then(|e| get_text(e, "path"));
            let Some(path) = get_text(vault, "path") else {
                return;
            };
            let field = get_text(vault, "field").map(|f| format!("#{f}"));
            format!(
                "{}/{path}{}",
                mount.unwrap_or("kv-v2"),
                field.unwrap_or_default()
            )
        }
    };
    out.reference(vault, Scheme::Vault, name);
}

/// CircleCI: `$NAME` except `CIRCLE_*` and file-defined names; `environment:` literals as
/// slots; `context:` names (where project variables come from) as includes.
pub(super) fn circleci(out: &mut Out, docs: &[Node]) {
    let rule = SlotRule {
        env_maps: &["environment"],
        expected: |_, key| format!("${key} from a project or context environment variable"),
    };
    plain_ci(out, docs, &rule, "CIRCLE_", "context");
}

/// Bitbucket Pipelines: `$NAME` except `BITBUCKET_*` and file-defined names; pipe
/// `variables:` literals as slots.
pub(super) fn bitbucket(out: &mut Out, docs: &[Node]) {
    let rule = SlotRule {
        env_maps: &["variables", "environment"],
        expected: |_, key| format!("${key} from a secured repository or deployment variable"),
    };
    plain_ci(out, docs, &rule, "BITBUCKET_", "");
}

/// The shared shape of CircleCI and Bitbucket: `env:` references, slots, optional includes.
fn plain_ci(out: &mut Out, docs: &[Node], rule: &SlotRule, prefix: &str, include_key: &str) {
    for doc in docs {
        let defined = defined_in(doc, rule.env_maps);
        variable_refs(out, doc, Scheme::Env, &defined, &|n| n.starts_with(prefix));
        each_entry(doc, &mut |key, value| {
            if key == include_key {
                match items(value) {
                    [] => out.include(value),
                    all => all.iter().for_each(|v| out.include(v)),
                }
            }
        });
        slots(out, doc, "", rule);
    }
}

/// Azure Pipelines: `$(NAME)` macros and `$NAME` in scripts (except predefined and
/// file-defined variables), `variables:` literals as slots, variable groups and
/// variable templates as includes.
pub(super) fn azure(out: &mut Out, docs: &[Node]) {
    const PREDEFINED: &[&str] = &[
        "build.",
        "system.",
        "agent.",
        "pipeline.",
        "release.",
        "environment.",
        "resources.",
        "strategy.",
        "tf_build",
        "build_",
        "system_",
        "agent_",
    ];
    let predefined = |n: &str| {
        let n = n.to_ascii_lowercase();
        PREDEFINED.iter().any(|p| n.starts_with(p))
    };
    for doc in docs {
        let defined = defined_in(doc, &["variables", "env"]);
        let skip = |n: &str| defined.contains(n) || predefined(n);
        each_scalar(doc, &mut |n| {
            out.scan(n, |raw| {
                MACRO
                    .captures_iter(raw)
                    .filter_map(|c| Some((c.get(0)?.start(), c.get(1)?.as_str())))
                    .filter(|(_, name)| !skip(name))
                    .map(|(at, name)| (at, Scheme::Env, name.to_string()))
                    .collect()
            });
        });
        variable_refs(out, doc, Scheme::Env, &defined, &predefined);
        each_entry(doc, &mut |key, value| {
            if key == "variables" {
                for item in items(value) {
                    for k in ["group", "template"] {
                        if let Some(v) = get(item, k) {
                            out.include(v);
                        }
                    }
                }
            }
        });
        let rule = SlotRule {
            env_maps: &["variables", "env"],
            expected: |_, key| format!("$({key}) from a secret variable or variable group"),
        };
        slots(out, doc, "", &rule);
    }
}

/// Calls `f` on every mapping entry under `node`, at any depth.
fn each_entry<'n, 'a>(node: &'n Node<'a>, f: &mut dyn FnMut(&'n str, &'n Node<'a>)) {
    for (key, value) in entries(node) {
        f(key, value);
        each_entry(value, f);
    }
    for item in items(node) {
        each_entry(item, f);
    }
}

/// Names the file defines itself: keys of its env-like maps (and `{name, value}` lists)
/// unless they only pass the same name on, and names its scripts assign.
fn defined_in(doc: &Node, env_maps: &[&str]) -> HashSet<String> {
    let mut defined: HashSet<String> = SHELL.iter().map(|s| s.to_string()).collect();
    each_entry(doc, &mut |key, value| {
        if env_maps.contains(&key) {
            let listed = items(value)
                .iter()
                .filter_map(|i| Some((get_text(i, "name")?, get(i, "value")?)));
            for (name, v) in entries(value).chain(listed) {
                if !passes_through(name, v) {
                    defined.insert(name.to_string());
                }
            }
        }
    });
    each_scalar(doc, &mut |n| {
        if let Some(t) = text(n) {
            for c in ASSIGNED.captures_iter(t) {
                if let Some(m) = c.get(1).or_else(|| c.get(2)).or_else(|| c.get(3)) {
                    defined.insert(m.as_str().to_string());
                }
            }
        }
    });
    defined
}

/// `NAME: $NAME`: the entry hands on a variable from outside rather than defining it.
fn passes_through(name: &str, value: &Node) -> bool {
    text(value).is_some_and(|v| variables(v, false).iter().any(|(_, n)| *n == name))
}

/// `$NAME` / `${NAME}` uses under `node` as `scheme` references, except defined or predefined names.
pub(super) fn variable_refs(
    out: &mut Out,
    node: &Node,
    scheme: Scheme,
    defined: &HashSet<String>,
    predefined: &dyn Fn(&str) -> bool,
) {
    each_scalar(node, &mut |n| {
        out.scan(n, |raw| {
            variables(raw, false)
                .into_iter()
                .filter(|(_, name)| !defined.contains(*name) && !predefined(name))
                .map(|(at, name)| (at, scheme, name.to_string()))
                .collect()
        });
    });
}
