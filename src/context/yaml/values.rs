//! Configuration values: Helm values, docker-compose files, Spring `application.yml`.

use super::ci::variable_refs;
use super::{
    each_scalar, entries, get, items, k8s, slots, text, variables, Node, Out, Scheme, SlotRule,
};
use saphyr::YamlData;
use std::collections::HashSet;

/// Helm values: `existingSecret`-style keys and embedded pod-spec references as
/// `k8s-secret:`, credential-named literals as slots.
pub(super) fn helm(out: &mut Out, docs: &[Node]) {
    for doc in docs {
        k8s::embedded_refs(out, doc);
        existing_secrets(out, doc);
        let rule = SlotRule {
            env_maps: &["env", "extraEnv", "extraEnvVars"],
            expected: |_, _| "existingSecret (a Kubernetes Secret) or --set at deploy time".into(),
        };
        slots(out, doc, "", &rule);
    }
}

/// `existingSecret`, `existingSecretName`, `secretName`, `*ExistingSecret` at any depth,
/// with the key a sibling `existingSecret…Key` names (Bitnami charts' `existingSecretPasswordKey`).
fn existing_secrets(out: &mut Out, node: &Node) {
    let key_of_secret = entries(node)
        .find(|(k, _)| k.starts_with("existingSecret") && k.ends_with("Key"))
        .and_then(|(_, v)| text(v))
        .map(|k| format!("#{k}"));
    for (key, value) in entries(node) {
        let names_secret = matches!(key, "existingSecret" | "existingSecretName" | "secretName")
            || key.ends_with("ExistingSecret");
        match text(value) {
            Some(name) if names_secret && !name.contains("{{") => {
                let key = key_of_secret.as_deref().unwrap_or_default();
                out.reference(value, Scheme::K8sSecret, format!("{name}{key}"));
            }
            _ => existing_secrets(out, value),
        }
    }
    items(node).iter().for_each(|i| existing_secrets(out, i));
}

/// docker-compose: `${NAME}` / `$NAME` interpolation anywhere, `environment:` literals as
/// slots, `env_file:` and file-backed `secrets:` as includes, environment-backed
/// `secrets:` as `env:` references.
pub(super) fn compose(out: &mut Out, docs: &[Node]) {
    for doc in docs {
        variable_refs(out, doc, Scheme::Env, &HashSet::new(), &|_| false);
        for (_, service) in get(doc, "services").into_iter().flat_map(entries) {
            if let Some(env) = get(service, "environment") {
                passed_from_host(out, env);
            }
            let Some(env_file) = get(service, "env_file") else {
                continue;
            };
            let files: Vec<&Node> = match items(env_file) {
                [] => vec![env_file],
                all => all.iter().collect(),
            };
            for file in files {
                out.include(get(file, "path").unwrap_or(file));
            }
        }
        for (_, secret) in get(doc, "secrets").into_iter().flat_map(entries) {
            if let Some(file) = get(secret, "file") {
                out.include(file);
            }
            if let Some(var) = get(secret, "environment") {
                if let Some(name) = text(var) {
                    out.reference(var, Scheme::Env, name.to_string());
                }
            }
        }
        let rule = SlotRule {
            env_maps: &["environment"],
            expected: |_, key| format!("${{{key}}} or a compose secrets: entry"),
        };
        slots(out, doc, "", &rule);
    }
}

/// `environment:` entries without a value (`- NAME`, `NAME:`) take the host's variable.
fn passed_from_host(out: &mut Out, env: &Node) {
    if let YamlData::Mapping(map) = &env.data {
        for (key, value) in map {
            if let (Some(name), None) = (text(key), text(value)) {
                out.reference(key, Scheme::Env, name.to_string());
            }
        }
    }
    for item in items(env) {
        if let Some(name) = text(item).filter(|t| !t.contains('=')) {
            out.reference(item, Scheme::Env, name.trim().to_string());
        }
    }
}

/// Spring `application.yml`: `${NAME}` / `${NAME:default}` placeholders as `env:`,
/// credential-named literals as slots, expecting the variable Spring would bind.
pub(super) fn spring(out: &mut Out, docs: &[Node]) {
    for doc in docs {
        each_scalar(doc, &mut |n| {
            out.scan(n, |raw| {
                variables(raw, true)
                    .into_iter()
                    .map(|(at, name)| (at, Scheme::Env, name.to_string()))
                    .collect()
            });
        });
        let rule = SlotRule {
            env_maps: &[],
            expected: |path, _| format!("${{{}}}", relaxed_env_name(path)),
        };
        slots(out, doc, "", &rule);
    }
}

/// The environment variable Spring's relaxed binding maps to a property path:
/// `spring.datasource.password` → `SPRING_DATASOURCE_PASSWORD`.
fn relaxed_env_name(path: &str) -> String {
    path.chars()
        .filter(|c| *c != '-')
        .map(|c| match c {
            '.' | '[' | ']' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect::<String>()
        .replace("__", "_")
        .trim_matches('_')
        .to_string()
}
