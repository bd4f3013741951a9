//! The `[[source]] provider = "boomstream"` settings and the API root they
//! name.

use super::Boomstream;
use crate::provider::BuildError;
use crate::provider::https::check_base_url;
use crate::provider::{BuildCtx, Provider, SourceSpec};
use reqwest::Url;
use serde::Deserialize;
use std::sync::Arc;

pub const DEFAULT_BASE_URL: &str = "https://boomstream.com/api/conference";
/// The version that "loads by default" and that every documented example
/// answers with (`"Version": "1.0"`).
pub const DEFAULT_VER: &str = "1.0";
pub const DEFAULT_POLL_MS: u64 = 10_000;

/// `[[source]] provider = "boomstream"` settings.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default = "default_name")]
    pub name: String,
    /// Conference code; `None` to pick one.
    pub event: Option<String>,
    /// The project API key written in the file (prefer `_env` or `_cmd`).
    pub api_key: Option<String>,
    pub api_key_env: Option<String>,
    pub api_key_cmd: Option<String>,
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// API version (1.0, 1.1, 1.2 documented); anything but 1.0 is sent as `ver=`.
    #[serde(default = "default_ver")]
    pub ver: String,
    /// Folder for conferences qadeck creates (`folderCode`).
    pub folder_code: Option<String>,
    /// How often the client list is polled.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
}

pub(super) fn default_name() -> String {
    "boomstream".into()
}
pub(super) fn default_base_url() -> String {
    DEFAULT_BASE_URL.into()
}
pub(super) fn default_ver() -> String {
    DEFAULT_VER.into()
}
pub(super) fn default_poll_ms() -> u64 {
    DEFAULT_POLL_MS
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            name: default_name(),
            event: None,
            api_key: None,
            api_key_env: None,
            api_key_cmd: None,
            base_url: default_base_url(),
            ver: default_ver(),
            folder_code: None,
            poll_ms: default_poll_ms(),
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("boomstream::Settings")
            .field("name", &self.name)
            .field("event", &self.event)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("api_key_env", &self.api_key_env)
            .field("api_key_cmd", &self.api_key_cmd)
            .field("base_url", &self.base_url)
            .field("ver", &self.ver)
            .field("folder_code", &self.folder_code)
            .field("poll_ms", &self.poll_ms)
            .finish()
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
        self.api_key.is_some()
    }
    fn build(&self, ctx: &BuildCtx) -> Result<Arc<dyn Provider>, BuildError> {
        Ok(Arc::new(Boomstream::new(self, ctx)?))
    }
}

/// The API root: `…/api/conference` as given, or appended to a bare host;
/// the URL follows the https policy ([`check_base_url`]).
pub(super) fn api_base(s: &str) -> Result<Url, BuildError> {
    let mut url = check_base_url(s).map_err(|e| e.within("boomstream"))?;
    let path = url.path().trim_end_matches('/').to_string();
    if !path.ends_with("/api/conference")
        && let Ok(mut p) = url.path_segments_mut()
    {
        p.pop_if_empty();
        p.extend(["api", "conference"]);
    }
    Ok(url)
}
