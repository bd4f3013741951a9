//! The `[[source]] provider = "streamboxy"` settings and their checks.

use super::Streamboxy;
use crate::provider::BuildError;
use crate::provider::https::check_base_url;
use crate::provider::{BuildCtx, Provider, SourceSpec};
use crate::secret::SecretSource;
use reqwest::Url;
use serde::Deserialize;
use std::sync::Arc;

pub const DEFAULT_BASE_URL: &str = "https://api.streamboxy.com";
/// The documented tenant-wide limit.
pub const DEFAULT_CALLS_PER_SEC: u32 = 300;
pub const DEFAULT_POLL_MS: u64 = 10_000;

/// `[[source]] provider = "streamboxy"` settings.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default = "default_name")]
    pub name: String,
    /// Tenant id (STREAMBOXY portal, Settings → API Access).
    pub tenant: String,
    pub client_id: String,
    /// The client secret written in the file (prefer `_env` or `_cmd`).
    pub client_secret: Option<String>,
    /// Environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// Command that prints the client secret.
    pub client_secret_cmd: Option<String>,
    /// Session id; `None` to pick one.
    pub event: Option<String>,
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Client-side ceiling on calls a second for the tenant.
    #[serde(default = "default_calls_per_sec")]
    pub calls_per_sec: u32,
    /// How often the participant list is polled.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
}

pub(super) fn default_name() -> String {
    "streamboxy".into()
}
pub(super) fn default_base_url() -> String {
    DEFAULT_BASE_URL.into()
}
pub(super) fn default_calls_per_sec() -> u32 {
    DEFAULT_CALLS_PER_SEC
}
pub(super) fn default_poll_ms() -> u64 {
    DEFAULT_POLL_MS
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            name: default_name(),
            tenant: String::new(),
            client_id: String::new(),
            client_secret: None,
            client_secret_env: None,
            client_secret_cmd: None,
            event: None,
            base_url: default_base_url(),
            calls_per_sec: default_calls_per_sec(),
            poll_ms: default_poll_ms(),
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("streamboxy::Settings")
            .field("name", &self.name)
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("client_secret_env", &self.client_secret_env)
            .field("client_secret_cmd", &self.client_secret_cmd)
            .field("event", &self.event)
            .field("base_url", &self.base_url)
            .field("calls_per_sec", &self.calls_per_sec)
            .field("poll_ms", &self.poll_ms)
            .finish()
    }
}

impl Settings {
    pub(super) fn secret_source(&self) -> Result<Option<SecretSource>, crate::secret::SecretError> {
        SecretSource::pick(
            "client_secret",
            self.client_secret.clone(),
            self.client_secret_env.clone(),
            self.client_secret_cmd.clone(),
        )
    }
}

impl SourceSpec for Settings {
    fn name(&self) -> &str {
        &self.name
    }
    fn base_url(&self) -> Option<&str> {
        Some(&self.base_url)
    }
    fn event(&self) -> Option<&str> {
        self.event.as_deref()
    }
    fn has_literal_secret(&self) -> bool {
        self.client_secret.is_some()
    }
    fn build(&self, ctx: &BuildCtx) -> Result<Arc<dyn Provider>, BuildError> {
        Ok(Arc::new(Streamboxy::new(self, ctx)?))
    }
}

/// The configured `base_url` under the https policy ([`check_base_url`]).
pub(super) fn parse_base(s: &str) -> Result<Url, BuildError> {
    check_base_url(s).map_err(|e| e.within("streamboxy"))
}
