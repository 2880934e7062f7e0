//! The `.keytrace.toml` config: allow-listed paths, disabled rules, extra rule
//! directories and per-rule overrides. Validated before any file is read.

use crate::rules::RuleSet;
use crate::types::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The config file name looked up at the repository root.
pub const CONFIG_FILE: &str = ".keytrace.toml";

/// A parsed config, with the file it came from (for error messages and relative paths).
#[derive(Debug, Default)]
pub struct Config {
    pub file: Option<PathBuf>,
    text: String,
    body: ConfigBody,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigBody {
    #[serde(default)]
    allowlist: AllowlistSection,
    #[serde(default)]
    rules: RulesSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowlistSection {
    /// Globs relative to the repository root.
    #[serde(default)]
    paths: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesSection {
    #[serde(default)]
    disable: Vec<Spanned<String>>,
    /// Extra rule files or directories, relative to the config file.
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default, rename = "override")]
    overrides: BTreeMap<Spanned<String>, RuleOverride>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleOverride {
    severity: Option<Severity>,
}

/// A config that cannot be used, naming the file, line and problem.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read config: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: String,
        line: usize,
        message: String,
    },
}

impl Config {
    /// Loads `explicit`, else `.keytrace.toml` in `root` when present, else the empty config.
    pub fn load(explicit: Option<&Path>, root: &Path) -> Result<Config, ConfigError> {
        let file = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let candidate = root.join(CONFIG_FILE);
                if !candidate.is_file() {
                    return Ok(Config::default());
                }
                candidate
            }
        };
        let text = std::fs::read_to_string(&file).map_err(|e| ConfigError::Read {
            path: file.display().to_string(),
            source: e,
        })?;
        Config::parse(&file, text)
    }

    fn parse(file: &Path, text: String) -> Result<Config, ConfigError> {
        let body: ConfigBody = toml::from_str(&text).map_err(|e| ConfigError::Syntax {
            path: file.display().to_string(),
            message: crate::rules::describe_toml_error(&text, &e),
        })?;
        Ok(Config {
            file: Some(file.to_path_buf()),
            text,
            body,
        })
    }

    fn invalid(&self, span: std::ops::Range<usize>, message: String) -> ConfigError {
        let line = self.text[..span.start.min(self.text.len())]
            .matches('\n')
            .count()
            + 1;
        let path = self
            .file
            .as_ref()
            .map_or_else(String::new, |f| f.display().to_string());
        ConfigError::Invalid {
            path,
            line,
            message,
        }
    }

    /// Extra rule paths, resolved against the config file's directory.
    pub fn rule_paths(&self) -> Vec<PathBuf> {
        let dir = self
            .file
            .as_ref()
            .and_then(|f| f.parent())
            .unwrap_or(Path::new("."));
        self.body
            .rules
            .paths
            .iter()
            .map(|p| dir.join(p.get_ref()))
            .collect()
    }

    /// Allow-listed path globs.
    pub fn allowlist_paths(&self) -> Vec<String> {
        self.body
            .allowlist
            .paths
            .iter()
            .map(|p| p.get_ref().clone())
            .collect()
    }

    /// Checks every rule id the config names against the rule set and returns
    /// the set with disabled rules removed, plus severity overrides.
    pub fn apply(
        &self,
        mut set: RuleSet,
    ) -> Result<(RuleSet, BTreeMap<String, Severity>), ConfigError> {
        let known = |id: &str| set.rules.iter().any(|r| r.id == set.resolve_id(id));
        for id in &self.body.rules.disable {
            if !known(id.get_ref()) {
                return Err(self.invalid(
                    id.span(),
                    format!(
                        "[rules] disable names unknown rule `{}` (see `keytrace rules list`)",
                        id.get_ref()
                    ),
                ));
            }
        }
        let mut overrides = BTreeMap::new();
        for (id, o) in &self.body.rules.overrides {
            if !known(id.get_ref()) {
                return Err(self.invalid(
                    id.span(),
                    format!("[rules.override] names unknown rule `{}`", id.get_ref()),
                ));
            }
            if let Some(s) = o.severity {
                overrides.insert(set.resolve_id(id.get_ref()).to_string(), s);
            }
        }
        for glob in &self.body.allowlist.paths {
            if let Err(e) = globset::Glob::new(glob.get_ref()) {
                return Err(self.invalid(
                    glob.span(),
                    format!("[allowlist] paths: bad glob `{}`: {e}", glob.get_ref()),
                ));
            }
        }
        let disabled: Vec<String> = self
            .body
            .rules
            .disable
            .iter()
            .map(|d| set.resolve_id(d.get_ref()).to_string())
            .collect();
        set.rules.retain(|r| !disabled.contains(&r.id));
        Ok((set, overrides))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_an_error_with_line() {
        let err =
            Config::parse(Path::new("k.toml"), "[rules]\ndisabled = [\"x\"]\n".into()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("k.toml") && msg.contains("line 2"), "{msg}");
    }
}
