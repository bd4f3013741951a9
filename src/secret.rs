//! Secrets (API keys, tokens, passwords) from the config, the environment or
//! a command. Every resolved secret is registered so that [`redact`] can scrub
//! it from log lines, error messages, panics and the journal. A command's
//! answer is kept for the life of the process: building a source again (an
//! event picked in the TUI) must not run `pass`, a hardware token or a
//! password prompt a second time.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

const MASK: &str = "[redacted]";

fn registry() -> &'static Mutex<Vec<String>> {
    static REG: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(Vec::new()))
}

/// What each `*_cmd` printed, by command line; only successes are kept,
/// so a command fixed after a failure is run again.
fn resolved_commands() -> &'static Mutex<HashMap<String, Secret>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Secret>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// A secret value. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps and registers a value for redaction.
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        register(&value);
        Secret(value)
    }

    /// The raw value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(MASK)
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(MASK)
    }
}

/// Registers a value, and every form it takes on the wire, for redaction.
/// Very short values are ignored: masking "a" everywhere would garble
/// every message.
pub fn register(value: &str) {
    if value.len() < 4 {
        return;
    }
    let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
    for v in wire_forms(value) {
        if v.len() >= 4 && !reg.contains(&v) {
            reg.push(v);
        }
    }
    // Longest first, so a secret containing another is masked whole.
    reg.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Replaces every registered secret in `text`.
pub fn redact(text: &str) -> String {
    let reg = registry().lock().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for s in reg.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), MASK);
        }
    }
    out
}

/// The forms a secret takes in requests and answers: as is; percent-encoded
/// as RFC 3986 (unreserved kept; upper- and lower-case hex), as a URL path
/// segment, and as the form and query serializer does it (reqwest's
/// `.query()`/`.form()`: `*-._` kept, `~` as `%7E`, space as `+`); inside a
/// JSON string; and inside base64 (Basic auth), where it is masked at
/// whichever of the three alignments it has in the encoded whole.
fn wire_forms(value: &str) -> Vec<String> {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || b"-_.~".contains(&b);
    let form = |b: u8| b.is_ascii_alphanumeric() || b"*-._".contains(&b);
    let segment = |b: u8| b.is_ascii_graphic() && !b"\"#<>?`{}/%".contains(&b);
    let mut out = vec![
        value.to_string(),
        percent(value, unreserved, false),
        percent(value, unreserved, false).to_ascii_lowercase_hex(),
        percent(value, form, true),
        percent(value, segment, false),
    ];
    if let Ok(json) = serde_json::to_string(value) {
        out.push(json.trim_matches('"').to_string());
    }
    out.extend(base64_fragments(value.as_bytes()));
    out
}

fn percent(value: &str, keep: impl Fn(u8) -> bool, space_as_plus: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if keep(b) {
            out.push(b as char);
        } else if space_as_plus && b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

trait LowerHex {
    fn to_ascii_lowercase_hex(&self) -> String;
}

impl LowerHex for String {
    /// `%2F` → `%2f`, the rest unchanged.
    fn to_ascii_lowercase_hex(&self) -> String {
        let mut out = String::with_capacity(self.len());
        let mut hex = 0;
        for c in self.chars() {
            if c == '%' {
                hex = 2;
                out.push(c);
            } else if hex > 0 {
                hex -= 1;
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }
}

/// The base64 characters that depend on `secret` alone, for each of the
/// three byte alignments it can have inside a longer encoded value.
fn base64_fragments(secret: &[u8]) -> Vec<String> {
    use base64::Engine;
    let mut out = Vec::new();
    for k in 0..3usize {
        let mut data = vec![0u8; k];
        data.extend_from_slice(secret);
        let encoded = base64::engine::general_purpose::STANDARD.encode(&data);
        let first = (8 * k).div_ceil(6);
        let end = 8 * (k + secret.len()) / 6;
        if let Some(part) = encoded.get(first..end) {
            out.push(part.to_string());
        }
    }
    out
}

/// Why a secret could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// More than one of `<what>`, `<what>_env` and `<what>_cmd` is set.
    #[error("set only one of `{what}`, `{what}_env` and `{what}_cmd`")]
    Ambiguous { what: String },
    #[error("environment variable {0} is not set")]
    EnvUnset(String),
    #[error("cannot run `{cmd}`: {error}")]
    Spawn { cmd: String, error: std::io::Error },
    #[error("`{cmd}` failed ({status})")]
    Failed {
        cmd: String,
        status: std::process::ExitStatus,
    },
    #[error("`{cmd}` printed nothing")]
    Empty { cmd: String },
}

/// The providers' settings checks still speak `String`.
/// Where a secret comes from, as written in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Literal(String),
    Env(String),
    Command(String),
}

impl SecretSource {
    /// Picks the one source among the three config keys `<what>`, `<what>_env`
    /// and `<what>_cmd`; `None` when none is set.
    pub fn pick(
        what: &str,
        literal: Option<String>,
        env: Option<String>,
        cmd: Option<String>,
    ) -> Result<Option<SecretSource>, SecretError> {
        let set: Vec<SecretSource> = [
            literal.map(SecretSource::Literal),
            env.map(SecretSource::Env),
            cmd.map(SecretSource::Command),
        ]
        .into_iter()
        .flatten()
        .collect();
        match set.len() {
            0 => Ok(None),
            1 => Ok(set.into_iter().next()),
            _ => Err(SecretError::Ambiguous {
                what: what.to_string(),
            }),
        }
    }

    /// Resolves the value. A command runs through `sh -c` once per process;
    /// later calls reuse its answer.
    pub fn resolve(&self) -> Result<Secret, SecretError> {
        let SecretSource::Command(cmd) = self else {
            return self.resolve_now();
        };
        let cache = resolved_commands();
        if let Some(s) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(cmd) {
            return Ok(s.clone());
        }
        let secret = self.resolve_now()?;
        cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(cmd.clone(), secret.clone());
        Ok(secret)
    }

    fn resolve_now(&self) -> Result<Secret, SecretError> {
        match self {
            SecretSource::Literal(v) => Ok(Secret::new(v.clone())),
            SecretSource::Env(var) => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim().to_string())),
                _ => Err(SecretError::EnvUnset(var.clone())),
            },
            SecretSource::Command(cmd) => {
                let out = std::process::Command::new("sh")
                    .arg("-c")
                    .arg(cmd)
                    .output()
                    .map_err(|error| SecretError::Spawn {
                        cmd: cmd.clone(),
                        error,
                    })?;
                if !out.status.success() {
                    return Err(SecretError::Failed {
                        cmd: cmd.clone(),
                        status: out.status,
                    });
                }
                // The first line, as `pass show` puts the password there and
                // notes (user name, URL) on the lines after it.
                let v = String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string();
                if v.is_empty() {
                    return Err(SecretError::Empty { cmd: cmd.clone() });
                }
                Ok(Secret::new(v))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secret_is_masked_plain_and_encoded() {
        let s = Secret::new("pk_live_abc/def+ghi");
        assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
        let msg = "key pk_live_abc/def+ghi and url ?apikey=pk_live_abc%2Fdef%2Bghi";
        let r = redact(msg);
        assert!(!r.contains("pk_live_abc"), "{r}");
    }

    #[test]
    fn every_wire_encoding_is_masked() {
        use base64::Engine;
        let raw = "sk~a*b+c/d=e%f g h";
        let _s = Secret::new(raw);
        // What reqwest itself puts on the wire.
        let client = reqwest::Client::new();
        let query = client
            .get("https://x.test/p")
            .query(&[("key", raw)])
            .build()
            .unwrap()
            .url()
            .clone();
        let form = client
            .post("https://x.test/p")
            .form(&[("key", raw)])
            .build()
            .unwrap();
        let form = String::from_utf8(form.body().unwrap().as_bytes().unwrap().to_vec()).unwrap();
        let mut path = reqwest::Url::parse("https://x.test/").unwrap();
        path.path_segments_mut().unwrap().push(raw);
        let json = serde_json::json!({ "password": raw }).to_string();
        let strict: String = raw
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02x}")
                }
            })
            .collect();
        assert!(query.as_str().contains("%7E") && query.as_str().contains('+'));
        let mut wire = vec![query.to_string(), form, path.to_string(), json, strict];
        for user in ["", "u", "us", "user", "client-id"] {
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{raw}"));
            wire.push(format!("Authorization: Basic {basic}"));
        }
        for w in wire {
            let r = redact(&w);
            assert!(r.contains("[redacted]"), "{w} -> {r}");
            for piece in ["sk~a", "sk%7E", "sk%7e", "c%2Fd", "e%25f", "f+g", "f%20g"] {
                assert!(!r.contains(piece), "{w} -> {r}");
            }
        }
    }

    #[test]
    fn base64_fragments_cover_every_alignment() {
        use base64::Engine;
        let secret = b"zq~+/= %*9";
        let frags = base64_fragments(secret);
        for pre in 0..6 {
            let mut data = vec![b'x'; pre];
            data.extend_from_slice(secret);
            data.extend_from_slice(b"tail");
            let enc = base64::engine::general_purpose::STANDARD.encode(&data);
            assert!(frags.iter().any(|f| enc.contains(f.as_str())), "{pre}");
        }
    }

    #[test]
    fn a_command_gives_its_first_line() {
        let s = SecretSource::Command("printf 'hunter2-secret\\nuser: alex\\n'".into());
        assert_eq!(s.resolve().unwrap().expose(), "hunter2-secret");
        let empty = SecretSource::Command("printf '\\nsecond'".into());
        assert!(empty.resolve().is_err());
    }

    #[test]
    fn a_command_runs_once_per_process() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("runs");
        let cmd = format!("echo run >> '{}'; echo once-only-secret", log.display());
        let s = SecretSource::Command(cmd);
        assert_eq!(s.resolve().unwrap().expose(), "once-only-secret");
        assert_eq!(s.resolve().unwrap().expose(), "once-only-secret");
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "run\n");
    }

    #[test]
    fn pick_refuses_two_sources() {
        assert!(SecretSource::pick("api_key", Some("a".into()), Some("B".into()), None).is_err());
        assert!(matches!(
            SecretSource::pick("api_key", None, None, None),
            Ok(None)
        ));
    }
}
