//! Line and block formats: Jenkinsfiles, Dockerfiles, Terraform (HCL and state JSON),
//! env files, `.npmrc`, `.pypirc`, `.netrc`, `.git-credentials`, Maven settings,
//! Gradle and Spring properties, docker config JSON, and shell lines naming secrets.

use super::FileContext;

/// Extracts references and slots for the non-YAML kinds.
pub(super) fn analyze(_path: &str, _bytes: &[u8], _ctx: &mut FileContext) {}
