//! The TOML config file: theme, key bindings, the moderator's identity and the
//! sources. Lives in the platform config dir (so `XDG_CONFIG_HOME` is
//! honoured); `--config FILE` picks another. A missing file means defaults;
//! a broken one is an error naming the file and line, never half a config.

use crate::domain::{IN_FLIGHT_DEFAULT, IN_FLIGHT_MAX, Moderator};
mod sources;
mod triage;

use serde::Deserialize;
pub use sources::SourceSettings;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
pub use triage::RuleSettings;

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
    /// The line of each `[keys]` entry, for messages about it.
    #[serde(skip)]
    pub key_lines: BTreeMap<String, usize>,
    /// The live show outputs (`[show]`); off unless `listen` or
    /// `on_air_file` is set.
    #[serde(default)]
    pub show: ShowSettings,
    /// The `[[rule]]` tables as written; checked into `rules`.
    #[serde(default, rename = "rule")]
    rule_tables: Vec<RuleSettings>,
    /// The rules applied to every arriving question, in file order.
    #[serde(skip)]
    pub rules: Vec<crate::triage::rules::Rule>,
    /// The `[searches]` table as written; parsed into `searches`.
    #[serde(default, rename = "searches")]
    search_table: BTreeMap<String, toml::Spanned<String>>,
    /// Saved searches in file order, on the number keys.
    #[serde(skip)]
    pub searches: Vec<crate::triage::search::SavedSearch>,
    /// How queued actions are sent (`[delivery]`).
    #[serde(default)]
    pub delivery: DeliverySettings,
}

/// The `[delivery]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliverySettings {
    /// Actions each source may have on the wire at once (1 to
    /// [`IN_FLIGHT_MAX`]); actions on one item still go one after another.
    #[serde(deserialize_with = "in_flight")]
    pub in_flight: usize,
}

impl Default for DeliverySettings {
    fn default() -> DeliverySettings {
        DeliverySettings {
            in_flight: IN_FLIGHT_DEFAULT,
        }
    }
}

/// `in_flight`: a whole number from 1 to [`IN_FLIGHT_MAX`]. An error here
/// carries the value's position, so it names its line.
fn in_flight<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        Whole(i64),
        Other(toml::Value),
    }
    let given = Given::deserialize(d)?;
    let n = match &given {
        Given::Whole(n) => usize::try_from(*n).ok(),
        Given::Other(_) => None,
    };
    n.filter(|n| (1..=IN_FLIGHT_MAX).contains(n))
        .ok_or_else(|| {
            let shown = match given {
                Given::Whole(n) => n.to_string(),
                Given::Other(v) => v.to_string(),
            };
            serde::de::Error::custom(format!(
                "in_flight must be a whole number from 1 to {IN_FLIGHT_MAX} \
             (actions each source may have on the wire at once), not {shown}"
            ))
        })
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

/// The log file: in the state dir (`$XDG_STATE_HOME/qadeck/qadeck.log` on
/// Linux), or the data dir where the platform has no state dir.
pub fn log_path() -> PathBuf {
    dirs()
        .and_then(|d| d.state_dir().map(Path::to_path_buf))
        .unwrap_or_else(data_dir)
        .join("qadeck.log")
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parses config text; `path` is only used in messages.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let mut cfg: Config = toml::from_str(text).map_err(|e| {
        let start = e.span().map(|s| s.start);
        let in_source = start.is_some_and(|o| {
            text[..o.min(text.len())]
                .lines()
                .rfind(|l| l.trim_start().starts_with('['))
                .is_some_and(|h| h.trim().starts_with("[[source]]"))
                || text[o.min(text.len())..]
                    .trim_start()
                    .starts_with("[[source]]")
        });
        let (line, message) = in_source
            .then(|| source_error(text))
            .flatten()
            .unwrap_or_else(|| {
                (
                    start.map(|o| line_of(text, o)),
                    e.message().trim().to_string(),
                )
            });
        ConfigError {
            path: path.to_path_buf(),
            line,
            message,
        }
    })?;
    for (i, s) in cfg.sources.iter().enumerate() {
        if let Err(e) = s.validate() {
            let line = e
                .key()
                .and_then(|key| source_key_line(text, i, key))
                .or_else(|| find_line(text, &format!("\"{}\"", s.name())));
            return Err(ConfigError {
                path: path.to_path_buf(),
                line,
                message: format!("source `{}`: {e}", s.name()),
            });
        }
    }
    cfg.key_lines = key_lines(text);
    cfg.rules = triage::rules(&cfg.rule_tables, text, path)?;
    cfg.searches = triage::searches(&cfg.search_table, text, path)?;
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

/// The line of `key` inside the `index`-th `[[source]]` table.
fn source_key_line(text: &str, index: usize, key: &str) -> Option<usize> {
    let mut tables = 0usize;
    let mut current = None;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with('[') {
            let header: String = t.chars().filter(|c| !c.is_whitespace()).collect();
            current = header.starts_with("[[source]]").then_some(tables);
            tables += usize::from(current.is_some());
            continue;
        }
        let is_key = t
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='));
        if is_key && current == Some(index) {
            return Some(n + 1);
        }
    }
    None
}

/// Every `[[source]]` table: the line of its first key and its body (up to
/// the next table header).
fn source_tables(text: &str) -> Vec<(usize, &str)> {
    let mut tables = Vec::new();
    let mut open: Option<usize> = None;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with('[') {
            if let Some(start) = open.take() {
                tables.push((start, pos));
            }
            if line
                .split('#')
                .next()
                .is_some_and(|h| h.trim() == "[[source]]")
            {
                open = Some(pos + line.len());
            }
        }
        pos += line.len();
    }
    if let Some(start) = open {
        tables.push((start, text.len()));
    }
    tables
        .into_iter()
        .map(|(a, b)| (line_of(text, a), &text[a..b]))
        .collect()
}

/// Reads each `[[source]]` table as its provider's settings to find the
/// line and message of the first error inside one (serde, reading them
/// through the tagged enum, reports at the first table's header).
fn source_error(text: &str) -> Option<(Option<usize>, String)> {
    source_tables(text)
        .into_iter()
        .find_map(|(first_line, body)| {
            let table: toml::Table = toml::from_str(body).ok()?;
            let provider = table.get("provider")?.as_str()?.to_string();
            // Blank the `provider` line (the settings do not know that key)
            // but keep the line count.
            let blanked: String = body
                .split_inclusive('\n')
                .map(|l| {
                    let key = l.split('=').next().unwrap_or("").trim();
                    match (key == "provider", l.ends_with('\n')) {
                        (true, true) => "#\n".to_string(),
                        (true, false) => "#".to_string(),
                        (false, _) => l.to_string(),
                    }
                })
                .collect();
            let e = sources::probe(&provider, &blanked)?;
            let line = e
                .span()
                .map(|s| first_line + line_of(&blanked, s.start) - 1);
            Some((line, e.message().trim().to_string()))
        })
}

/// Lines of the entries of the `[keys]` table (also `keys.name = …`).
fn key_lines(text: &str) -> BTreeMap<String, usize> {
    let mut lines = BTreeMap::new();
    let mut in_keys = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            in_keys = t.trim_start_matches('[').trim_end_matches(']').trim() == "keys";
            continue;
        }
        let Some((name, _)) = t.split_once('=') else {
            continue;
        };
        let name = name.trim();
        let name = match name.strip_prefix("keys.") {
            Some(n) if !in_keys => n,
            _ if in_keys => name,
            _ => continue,
        };
        lines.insert(name.trim_matches('"').trim().to_string(), i + 1);
    }
    lines
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
    /// A `[keys]` error at the line of the entry it names.
    pub fn keys_error(&self, path: &Path, entry: Option<&str>, message: String) -> ConfigError {
        ConfigError {
            path: path.to_path_buf(),
            line: entry.and_then(|e| self.key_lines.get(e).copied()),
            message,
        }
    }

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
    fn a_typo_inside_a_source_table_names_its_own_line() {
        let text = "theme = \"dark\"\n\n[[source]]\nname = \"a\"\nprovider = \"demo\"\n\n[[source]]\nname = \"k\"\nprovider = \"postobox\"\nevent = \"e\"\napi_key_env = \"K\"\napi_kye = \"x\"\n\n[moderator]\nname = \"m\"\n";
        let e = parse(text, Path::new("c.toml")).unwrap_err();
        assert_eq!(e.line, Some(12), "{e}");
        assert!(e.message.contains("api_kye"), "{e}");
        let text = "[[source]]\nname = \"d\"\nprovider = \"demo\"\nrate = \"fast\"\n";
        let e = parse(text, Path::new("c.toml")).unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
    }

    #[test]
    fn key_entries_keep_their_lines() {
        let text = "theme = \"dark\"\n[keys]\napprove = \"x\"\n# note\n\"next\" = [\"j\"]\n[moderator]\nname = \"m\"\n";
        let cfg = parse(text, Path::new("c.toml")).unwrap();
        assert_eq!(cfg.key_lines.get("approve"), Some(&3));
        assert_eq!(cfg.key_lines.get("next"), Some(&5));
        assert_eq!(cfg.key_lines.get("name"), None);
    }

    #[test]
    fn keys_entries_have_lines() {
        let text = "theme = \"dark\"\n[keys]\napprove = \"r\"\nreject = [\"x\"]\n\n[moderator]\nname = \"M\"\n";
        let cfg = parse(text, Path::new("c.toml")).unwrap();
        assert_eq!(cfg.key_lines.get("approve"), Some(&3));
        assert_eq!(cfg.key_lines.get("reject"), Some(&4));
        assert_eq!(cfg.key_lines.len(), 2);
        let e = cfg.keys_error(Path::new("c.toml"), Some("reject"), "x".into());
        assert_eq!(e.to_string(), "c.toml:4: x");
    }

    #[test]
    fn delivery_in_flight_defaults_to_8_and_bad_values_name_their_line() {
        let cfg = parse("theme = \"dark\"\n", Path::new("c.toml")).unwrap();
        assert_eq!(cfg.delivery.in_flight, 8);
        let cfg = parse("[delivery]\n", Path::new("c.toml")).unwrap();
        assert_eq!(cfg.delivery.in_flight, 8);
        let cfg = parse("[delivery]\nin_flight = 1\n", Path::new("c.toml")).unwrap();
        assert_eq!(cfg.delivery.in_flight, 1);
        let cfg = parse("[delivery]\nin_flight = 64\n", Path::new("c.toml")).unwrap();
        assert_eq!(cfg.delivery.in_flight, 64);
        for (value, says) in [
            ("0", "from 1 to 64"),
            ("65", "not 65"),
            ("-3", "not -3"),
            ("\"8\"", "not \"8\""),
            ("2.5", "not 2.5"),
        ] {
            let text = format!("theme = \"dark\"\n\n[delivery]\nin_flight = {value}\n");
            let e = parse(&text, Path::new("/tmp/c.toml")).unwrap_err();
            let s = e.to_string();
            assert!(s.starts_with("/tmp/c.toml:4:"), "{value}: {s}");
            assert!(s.contains(says), "{value}: {s}");
        }
        let e = parse("[delivery]\nin_flite = 4\n", Path::new("c.toml")).unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.contains("in_flite"), "{e}");
    }

    #[test]
    fn wrong_type_names_line() {
        let text = "theme = 3\n";
        let e = parse(text, Path::new("c.toml")).unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
    }

    /// The keys a provider's table cannot do without.
    fn required(provider: &str) -> &'static str {
        match provider {
            "streamboxy" => "tenant = \"t\"\nclient_id = \"c\"\n",
            _ => "",
        }
    }

    #[test]
    fn plain_http_base_url_is_refused_with_its_line_for_every_provider() {
        for provider in ["postobox", "streamslive", "streamboxy", "boomstream"] {
            let more = required(provider);
            let text = format!(
                "[moderator]\nname = \"m\"\n\n[[source]]\nname = \"a\"\nprovider = \"{provider}\"\n{more}base_url = \"https://ok.example.org\"\n\n[[source]]\nname = \"b\"\nprovider = \"{provider}\"\n{more}\nbase_url = \"http://example.org\"\n"
            );
            let line = 1 + text.lines().position(|l| l.contains("http://")).unwrap();
            let e = parse(&text, Path::new("/tmp/c.toml")).unwrap_err();
            let s = e.to_string();
            let want = format!("/tmp/c.toml:{line}: source `b`: base_url");
            assert!(s.starts_with(&want), "{provider}: {s}");
            assert!(
                s.contains("http://example.org") && s.contains("https"),
                "{s}"
            );
        }
    }

    #[test]
    fn loopback_http_base_url_is_accepted() {
        for provider in ["postobox", "streamslive", "streamboxy", "boomstream"] {
            for url in [
                "http://127.0.0.1:9000",
                "http://localhost:1",
                "http://[::1]:2",
            ] {
                let more = required(provider);
                let text = format!(
                    "[[source]]\nname = \"a\"\nprovider = \"{provider}\"\n{more}base_url = \"{url}\"\n"
                );
                parse(&text, Path::new("c.toml")).unwrap();
            }
        }
    }
}
