//! The TOML config file: theme, key bindings, the moderator's identity and the
//! sources. Lives in the platform config dir (so `XDG_CONFIG_HOME` is
//! honoured); `--config FILE` picks another. A missing file means defaults;
//! a broken one is an error naming the file and line, never half a config.

use crate::domain::Moderator;
mod sources;

use serde::Deserialize;
pub use sources::SourceSettings;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Theme name (built in, or a file of that name in `<config dir>/themes/`).
    pub theme: Option<String>,
    /// Key overrides: action name → key or list of keys (`"ctrl-n"`, `"x"`).
    #[serde(default)]
    pub keys: BTreeMap<String, KeySpec>,
    #[serde(default)]
    pub moderator: Moderator,
    /// Where the durable store lives (default: the data dir).
    pub store: Option<PathBuf>,
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceSettings>,
    /// The live show outputs (`[show]`); off unless `listen` or
    /// `on_air_file` is set.
    #[serde(default)]
    pub show: ShowSettings,
}

/// The `[show]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowSettings {
    /// `host:port` of the show server, e.g. `127.0.0.1:7077`.
    pub listen: Option<String>,
    /// The environment variable holding the control token (default
    /// `QADECK_SHOW_TOKEN`).
    pub token_env: Option<String>,
    /// A text file replaced atomically with the on-air text.
    pub on_air_file: Option<PathBuf>,
}

/// One key or several for an action.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum KeySpec {
    One(String),
    Many(Vec<String>),
}

impl KeySpec {
    pub fn keys(&self) -> Vec<&str> {
        match self {
            KeySpec::One(k) => vec![k.as_str()],
            KeySpec::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// `--source NAME` names no `[[source]]` table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no source named `{name}`{}",
    if known.is_empty() {
        ": the config has no [[source]] tables".to_string()
    } else {
        format!(" (known: {})", known.join(", "))
    }
)]
pub struct UnknownSource {
    pub name: String,
    pub known: Vec<String>,
}

/// A config error that names the file and, where known, the line.
#[derive(Debug, thiserror::Error)]
#[error("{path}{line}: {message}", line = line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

/// The platform directories (config, data, logs).
pub fn dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "qadeck")
}

/// Default config file path.
pub fn default_path() -> PathBuf {
    dirs()
        .map(|d| d.config_dir().join("config.toml"))
        .unwrap_or_else(|| PathBuf::from("qadeck.toml"))
}

/// Directory that holds user themes and the config.
pub fn config_dir(config_path: &Path) -> PathBuf {
    config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Default data dir (store, log).
pub fn data_dir() -> PathBuf {
    dirs()
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parses config text; `path` is only used in messages.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let cfg: Config = toml::from_str(text).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    let mut seen = std::collections::HashSet::new();
    for s in &cfg.sources {
        if !seen.insert(s.name().to_string()) {
            return Err(ConfigError {
                path: path.to_path_buf(),
                line: find_line(text, &format!("\"{}\"", s.name())),
                message: format!("two sources are named `{}`", s.name()),
            });
        }
    }
    Ok(cfg)
}

fn find_line(text: &str, needle: &str) -> Option<usize> {
    text.rfind(needle).map(|o| line_of(text, o))
}

/// Loads the config; a missing file at the default place means defaults, a
/// missing file named with `--config` is an error.
pub fn load(path: &Path, explicit: bool) -> Result<Config, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let cfg = parse(&text, path)?;
            warn_if_readable_secrets(path, &cfg);
            Ok(cfg)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => Ok(Config::default()),
        Err(e) => Err(ConfigError {
            path: path.to_path_buf(),
            line: None,
            message: e.to_string(),
        }),
    }
}

/// A key written in the file is only as safe as the file's permissions.
fn warn_if_readable_secrets(path: &Path, cfg: &Config) {
    if !cfg.sources.iter().any(SourceSettings::has_literal_secret) {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            let msg = format!(
                "warning: {} holds a secret and is readable by others; run: chmod 600 {}",
                path.display(),
                path.display()
            );
            #[allow(
                clippy::print_stderr,
                reason = "shown before the terminal is taken over"
            )]
            {
                eprintln!("{msg}");
            }
            tracing::warn!("{msg}");
        }
    }
}

impl Config {
    pub fn source(&self, name: &str) -> Result<&SourceSettings, UnknownSource> {
        self.sources
            .iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| UnknownSource {
                name: name.to_string(),
                known: self.sources.iter().map(|s| s.name().to_string()).collect(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_source_table_selects_postobox() {
        let text = "[[source]]\nname = \"keynote\"\nprovider = \"postobox\"\nevent = \"clx1\"\napi_key_cmd = \"echo k\"\n";
        let cfg = parse(text, Path::new("c.toml")).unwrap();
        assert_eq!(cfg.sources[0].name(), "keynote");
        assert_eq!(cfg.sources[0].event(), Some("clx1"));
    }

    #[test]
    fn missing_default_file_means_defaults() {
        let cfg = load(Path::new("/nonexistent/qadeck/config.toml"), false).unwrap();
        assert!(cfg.sources.is_empty());
        assert!(load(Path::new("/nonexistent/qadeck/config.toml"), true).is_err());
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let text = "theme = \"dark\"\n\n[moderator]\nidentifer = \"x\"\n";
        let e = parse(text, Path::new("/tmp/c.toml")).unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("/tmp/c.toml:4:"), "{s}");
        assert!(s.contains("identifer"), "{s}");
    }

    #[test]
    fn wrong_type_names_line() {
        let text = "theme = 3\n";
        let e = parse(text, Path::new("c.toml")).unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
    }
}
