//! YAML formats: CI pipelines, Kubernetes manifests, Helm values, Kustomize, compose,
//! Spring config. Parsed with saphyr, keeping line markers.

use super::FileContext;

/// Extracts references and slots when `ctx.kind` is a YAML kind; `false` when it is not one.
pub(super) fn analyze(_path: &str, _bytes: &[u8], _ctx: &mut FileContext) -> bool {
    false
}
