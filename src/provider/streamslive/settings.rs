//! The `[[source]] provider = "streamslive"` settings: base URL, poll
//! interval and credentials, checked when the source is built.

use super::StreamsLive;
use super::auth::Credentials;
use crate::provider::BuildError;
use crate::provider::{BuildCtx, Provider, SourceSpec};
use crate::secret::SecretSource;
use crate::text::sanitize;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// Where streams.live lives when `base_url` is not set. The document only
/// gives paths (`/api/v1/…`); this is the platform's own host.
pub const DEFAULT_BASE_URL: &str = "https://streams.live/api/v1/";
/// Poll interval when the config does not set one.
pub const DEFAULT_POLL_MS: u64 = 3_000;
/// Shortest poll interval accepted (tests use fast polling; a live event
/// should stay at seconds).
pub const MIN_POLL_MS: u64 = 100;

/// The API root for a configured base URL: `http(s)://host[/prefix]`, with
/// `/api/v1/` appended unless the URL already ends with it.
pub fn api_base(base_url: &str) -> Result<String, BuildError> {
    let b = base_url.trim().trim_end_matches('/');
    if !(b.starts_with("http://") || b.starts_with("https://")) || b.len() <= "https://".len() {
        return Err(BuildError::invalid(
            "base_url",
            format!("base_url must be an http(s) URL, not `{}`", sanitize(b)),
        ));
    }
    if b.ends_with("/api/v1") {
        Ok(format!("{b}/"))
    } else {
        Ok(format!("{b}/api/v1/"))
    }
}

/// `[[source]] provider = "streamslive"` settings.
///
/// Credentials: `email` with one of `password_env` / `password_cmd` /
/// `password`, or a personal access token with one of `token_env` /
/// `token_cmd` / `token`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default = "default_name")]
    pub name: String,
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Channel slug (or id); `None` → the TUI offers `list_events`.
    pub event: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub password_env: Option<String>,
    pub password_cmd: Option<String>,
    pub token: Option<String>,
    pub token_env: Option<String>,
    pub token_cmd: Option<String>,
    pub poll_interval_ms: Option<u64>,
}

pub(super) fn default_name() -> String {
    "streamslive".into()
}

pub(super) fn default_base_url() -> String {
    DEFAULT_BASE_URL.into()
}

impl Settings {
    /// Settings for a base URL and e-mail/password (tests, the CLI).
    pub fn with_password(base_url: &str, email: &str, password: &str) -> Settings {
        Settings {
            name: default_name(),
            base_url: base_url.into(),
            event: None,
            email: Some(email.into()),
            password: Some(password.into()),
            password_env: None,
            password_cmd: None,
            token: None,
            token_env: None,
            token_cmd: None,
            poll_interval_ms: None,
        }
    }

    /// The poll interval, checked.
    pub fn poll_interval(&self) -> Result<Duration, BuildError> {
        let ms = self.poll_interval_ms.unwrap_or(DEFAULT_POLL_MS);
        if ms < MIN_POLL_MS {
            return Err(BuildError::invalid(
                "poll_interval_ms",
                format!("poll_interval_ms must be at least {MIN_POLL_MS}, not {ms}"),
            ));
        }
        Ok(Duration::from_millis(ms))
    }

    /// Resolves the configured credentials (runs `*_cmd`, reads `*_env`).
    pub fn credentials(&self) -> Result<Credentials, BuildError> {
        let pw = SecretSource::pick(
            "password",
            self.password.clone(),
            self.password_env.clone(),
            self.password_cmd.clone(),
        )
        .map_err(|e| BuildError::Secret(e.to_string()))?;
        let tok = SecretSource::pick(
            "token",
            self.token.clone(),
            self.token_env.clone(),
            self.token_cmd.clone(),
        )
        .map_err(|e| BuildError::Secret(e.to_string()))?;
        let email = self
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty());
        match (email, pw, tok) {
            (Some(email), Some(pw), None) => Ok(Credentials::Password {
                email: email.to_string(),
                password: pw
                    .resolve()
                    .map_err(|e| BuildError::Secret(e.to_string()))?,
            }),
            (None, None, Some(tok)) => Ok(Credentials::Token(
                tok.resolve()
                    .map_err(|e| BuildError::Secret(e.to_string()))?,
            )),
            (_, _, Some(_)) => Err(BuildError::invalid(
                "token",
                "set either `email` with a password or a personal access token (`token*`), not both",
            )),
            (Some(_), None, None) => Err(BuildError::MissingSecret {
                key: "password",
                literal_aside: false,
            }
            .within("`email` needs a password")),
            (None, Some(_), None) => Err(BuildError::invalid("email", "a password needs `email`")),
            (None, None, None) => Err(BuildError::invalid(
                "email",
                "streams.live needs `email` with `password_env` / \
                 `password_cmd` / `password`, or a token with `token_env` / `token_cmd` / `token`",
            )),
        }
    }
}

impl SourceSpec for Settings {
    fn name(&self) -> &str {
        &self.name
    }

    fn event(&self) -> Option<&str> {
        self.event.as_deref()
    }

    fn has_literal_secret(&self) -> bool {
        self.password.is_some() || self.token.is_some()
    }

    fn build(&self, ctx: &BuildCtx) -> Result<Arc<dyn Provider>, BuildError> {
        let event = ctx.event.clone().or_else(|| self.event.clone());
        Ok(Arc::new(StreamsLive::new(self, ctx.source, event)?))
    }
}
