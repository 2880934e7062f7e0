//! Kubernetes objects (any workload, Secret, ServiceAccount, ExternalSecret and its
//! stores, SealedSecret) and Kustomize.

use super::{entries, get, get_text, is_literal, items, text, Node, Out, Scheme};

/// Every object of every document (and of `kind: List` items).
pub(super) fn manifests(out: &mut Out, docs: &[Node]) {
    let objects: Vec<&Node> = docs
        .iter()
        .flat_map(|d| match get_text(d, "kind") {
            Some("List") => get(d, "items").map(items).unwrap_or(&[]).iter().collect(),
            _ => vec![d],
        })
        .collect();
    let stores: Vec<(&str, Scheme)> = objects
        .iter()
        .filter(|o| {
            matches!(
                get_text(o, "kind"),
                Some("SecretStore" | "ClusterSecretStore")
            )
        })
        .filter_map(|o| Some((get_text(get(o, "metadata")?, "name")?, store_scheme(o)?)))
        .collect();
    for object in objects {
        let object = Object::new(object);
        object.refs(out, object.node);
        match object.kind {
            "Secret" => object.secret_name(out, get(object.node, "metadata")),
            "SealedSecret" => {
                object.secret_name(out, get(object.node, "metadata"));
                let template = get(object.node, "spec").and_then(|s| get(s, "template"));
                object.secret_name(out, template.and_then(|t| get(t, "metadata")));
            }
            "ExternalSecret" => object.external_secret(out, get(object.node, "spec"), &stores),
            "ClusterExternalSecret" => {
                let spec = get(object.node, "spec").and_then(|s| get(s, "externalSecretSpec"));
                object.external_secret(out, spec, &stores);
            }
            _ => {}
        }
    }
}

/// One Kubernetes object: what names its references and slots.
struct Object<'n, 'a> {
    node: &'n Node<'a>,
    kind: &'n str,
    name: &'n str,
    namespace: Option<&'n str>,
}

impl<'n, 'a> Object<'n, 'a> {
    fn new(node: &'n Node<'a>) -> Self {
        let meta = get(node, "metadata");
        Object {
            node,
            kind: get_text(node, "kind").unwrap_or(""),
            name: meta.and_then(|m| get_text(m, "name")).unwrap_or(""),
            namespace: meta.and_then(|m| get_text(m, "namespace")),
        }
    }

    /// `[namespace/]name[#key]` of a Secret this object uses.
    fn secret(&self, namespace: Option<&str>, name: &str, key: Option<&str>) -> String {
        let ns = namespace
            .or(self.namespace)
            .map(|n| format!("{n}/"))
            .unwrap_or_default();
        let key = key.map(|k| format!("#{k}")).unwrap_or_default();
        format!("{ns}{name}{key}")
    }

    /// References at any depth, recognised by the keys the Kubernetes API (and the
    /// operators that follow it) use: `secretKeyRef`, `secretRef`, `*SecretRef`,
    /// secret volumes, `imagePullSecrets`, Vault agent annotations; container env slots.
    fn refs(&self, out: &mut Out, node: &Node) {
        for (key, value) in entries(node) {
            match key {
                "secretKeyRef" | "secretRef" | "secret" => self.secret_ref(out, value, "name"),
                k if k.ends_with("SecretRef") => self.secret_ref(out, value, "name"),
                "secrets" if self.kind == "ServiceAccount" => {
                    for item in items(value) {
                        self.secret_ref(out, item, "name");
                    }
                }
                "imagePullSecrets" => {
                    for item in items(value) {
                        self.secret_ref(out, item, "name");
                    }
                }
                "annotations" => vault_annotations(out, value),
                "containers" | "initContainers" | "ephemeralContainers" => {
                    items(value)
                        .iter()
                        .for_each(|c| self.container_slots(out, c));
                }
                "encryptedData" | "data" | "stringData" => continue,
                _ => {}
            }
            if key == "secret" {
                self.secret_ref(out, value, "secretName");
            }
            self.refs(out, value);
        }
        for item in items(node) {
            self.refs(out, item);
        }
    }

    /// A `{name, key?, namespace?}` reference to a Secret.
    fn secret_ref(&self, out: &mut Out, value: &Node, name_key: &str) {
        let Some(name_node) = get(value, name_key) else {
            return;
        };
        let Some(name) = text(name_node).filter(|n| !n.contains("{{")) else {
            return;
        };
        let full = self.secret(get_text(value, "namespace"), name, get_text(value, "key"));
        out.reference(name_node, Scheme::K8sSecret, full);
    }

    /// A literal `env[].value` of a container is a slot.
    fn container_slots(&self, out: &mut Out, container: &Node) {
        let cname = get_text(container, "name").unwrap_or("?");
        for env in get(container, "env").map(items).unwrap_or(&[]) {
            let (Some(var), Some(value)) = (get_text(env, "name"), get(env, "value")) else {
                continue;
            };
            if text(value).is_some_and(is_literal) {
                let object = match self.kind {
                    "" => String::new(),
                    kind => format!("{kind} {} / ", self.name),
                };
                let name = format!("{object}container {cname} / env {var}");
                out.slot(value, name, "valueFrom.secretKeyRef".to_string());
            }
        }
    }

    /// The object's own name as a Secret (a Secret, a SealedSecret and its template).
    fn secret_name(&self, out: &mut Out, meta: Option<&Node>) {
        let Some(meta) = meta else { return };
        if let Some(node) = get(meta, "name") {
            if let Some(name) = text(node) {
                let full = self.secret(get_text(meta, "namespace"), name, None);
                out.reference(node, Scheme::K8sSecret, full);
            }
        }
    }

    /// Remote keys by the store's provider, and the Secret the operator writes.
    fn external_secret(&self, out: &mut Out, spec: Option<&Node>, stores: &[(&str, Scheme)]) {
        let Some(spec) = spec else { return };
        let store = get(spec, "secretStoreRef").and_then(|s| get_text(s, "name"));
        let scheme = store.map_or(Scheme::Vault, |s| {
            stores
                .iter()
                .find(|(n, _)| *n == s)
                .map_or_else(|| scheme_by_name(s), |(_, scheme)| *scheme)
        });
        for item in get(spec, "data").map(items).unwrap_or(&[]) {
            let Some(remote) = get(item, "remoteRef") else {
                continue;
            };
            if let (Some(node), Some(key)) = (get(remote, "key"), get_text(remote, "key")) {
                let property = get_text(remote, "property").map(|p| format!("#{p}"));
                out.reference(
                    node,
                    scheme,
                    format!("{key}{}", property.unwrap_or_default()),
                );
            }
        }
        for item in get(spec, "dataFrom").map(items).unwrap_or(&[]) {
            let extract = get(item, "extract").and_then(|e| get(e, "key"));
            let find = get(item, "find").and_then(|f| get(f, "path"));
            for node in extract.into_iter().chain(find) {
                if let Some(key) = text(node) {
                    out.reference(node, scheme, key.to_string());
                }
            }
        }
        let target = get(spec, "target").and_then(|t| get(t, "name"));
        let meta_name = get(self.node, "metadata").and_then(|m| get(m, "name"));
        if let Some(node) = target.or(meta_name) {
            if let Some(name) = text(node) {
                out.reference(node, Scheme::K8sSecret, self.secret(None, name, None));
            }
        }
    }
}

/// Secret references of pod specs embedded in other files (Helm values mirror them).
pub(super) fn embedded_refs(out: &mut Out, node: &Node) {
    Object {
        node,
        kind: "",
        name: "",
        namespace: None,
    }
    .refs(out, node);
}

/// `vault.hashicorp.com/agent-inject-secret-<file>: <path>` annotations.
fn vault_annotations(out: &mut Out, annotations: &Node) {
    for (key, value) in entries(annotations) {
        if key.starts_with("vault.hashicorp.com/agent-inject-secret-") {
            if let Some(path) = text(value) {
                out.reference(value, Scheme::Vault, path.trim().to_string());
            }
        }
    }
}

/// The scheme of a store's provider, when it is one a reference can name.
fn store_scheme(store: &Node) -> Option<Scheme> {
    let provider = get(store, "spec").and_then(|s| get(s, "provider"))?;
    if get(provider, "vault").is_some() {
        return Some(Scheme::Vault);
    }
    match get(provider, "aws").and_then(|a| get_text(a, "service")) {
        Some("SecretsManager") => Some(Scheme::AwsSm),
        Some("ParameterStore") => Some(Scheme::AwsSsm),
        _ => None,
    }
}

/// A guess from the store's name when its definition is elsewhere.
fn scheme_by_name(store: &str) -> Scheme {
    let s = store.to_ascii_lowercase();
    if s.contains("vault") {
        Scheme::Vault
    } else if s.contains("ssm") || s.contains("parameter") {
        Scheme::AwsSsm
    } else if s.contains("aws") || s.contains("secretsmanager") || s.contains("secrets-manager") {
        Scheme::AwsSm
    } else {
        Scheme::Vault
    }
}

/// Kustomize: generated Secrets as references, their `literals` as slots, and every
/// file or directory it pulls in as an include.
pub(super) fn kustomize(out: &mut Out, docs: &[Node]) {
    for doc in docs {
        let ns = get_text(doc, "namespace").map(|n| format!("{n}/"));
        let ns = ns.as_deref().unwrap_or("");
        for key in ["resources", "bases", "components", "patchesStrategicMerge"] {
            get(doc, key)
                .map(items)
                .unwrap_or(&[])
                .iter()
                .for_each(|i| out.include(i));
        }
        for patch in get(doc, "patches").map(items).unwrap_or(&[]) {
            if let Some(path) = get(patch, "path") {
                out.include(path);
            }
        }
        for generator in get(doc, "secretGenerator").map(items).unwrap_or(&[]) {
            let name = get(generator, "name");
            let gname = name.and_then(text).unwrap_or("?");
            if let Some(node) = name {
                out.reference(node, Scheme::K8sSecret, format!("{ns}{gname}"));
            }
            for key in ["envs", "files", "env"] {
                let files = get(generator, key);
                for file in files.map(items).unwrap_or(&[]).iter().chain(files) {
                    if let Some(f) = text(file) {
                        let path = f.split_once('=').map_or(f, |(_, p)| p);
                        out.ctx.includes.push(super::Include {
                            line: super::start(file).0,
                            target: path.to_string(),
                        });
                    }
                }
            }
            for literal in get(generator, "literals").map(items).unwrap_or(&[]) {
                let Some((key, value)) = text(literal).and_then(|l| l.split_once('=')) else {
                    continue;
                };
                if is_literal(value) {
                    out.slot(
                        literal,
                        format!("secretGenerator {gname} / literal {key}"),
                        "envs: or files: kept out of the repository".to_string(),
                    );
                }
            }
        }
    }
}
