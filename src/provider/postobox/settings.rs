//! The `[[source]] provider = "postobox"` settings, their validation and the
//! feed timing.

use super::Postobox;
use super::pacing::PollPolicy;
use crate::provider::BuildError;
use crate::provider::{BuildCtx, Provider, SourceSpec};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// The documented base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.postobox.app/v1";

/// `[[source]] provider = "postobox"` settings.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub name: String,
    /// Event id; without it the TUI offers a picker (`list_events`).
    pub event: Option<String>,
    /// The API key written in the config (prefer the two below).
    pub api_key: Option<String>,
    /// Environment variable holding the key.
    pub api_key_env: Option<String>,
    /// Command printing the key (e.g. `pass show postobox`).
    pub api_key_cmd: Option<String>,
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Voter/submitter identifier (default: `[moderator] identifier`).
    pub identifier: Option<String>,
}

pub(super) fn default_base_url() -> String {
    DEFAULT_BASE_URL.into()
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("name", &self.name)
            .field("event", &self.event)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("api_key_env", &self.api_key_env)
            .field("api_key_cmd", &self.api_key_cmd)
            .field("base_url", &self.base_url)
            .field("identifier", &self.identifier)
            .finish()
    }
}

impl Settings {
    /// Settings for `name` with a key source to fill in.
    pub fn new(name: impl Into<String>) -> Settings {
        Settings {
            name: name.into(),
            event: None,
            api_key: None,
            api_key_env: None,
            api_key_cmd: None,
            base_url: default_base_url(),
            identifier: None,
        }
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
        Ok(Arc::new(Postobox::new(self, ctx)?))
    }
}

/// Feed timing. The defaults are the live values; tests shorten them.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// No event and no comment for this long: the stream is dead.
    pub liveness: Duration,
    pub reconnect_base: Duration,
    pub reconnect_cap: Duration,
    /// Connected this long: the backoff starts over.
    pub healthy_after: Duration,
    /// Retry interval while `Failed` (bad key, missing event).
    pub failed_retry: Duration,
    /// A `perform` within this window makes the moderator "active".
    pub active_window: Duration,
    pub poll: PollPolicy,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            liveness: Duration::from_secs(45),
            reconnect_base: Duration::from_secs(1),
            reconnect_cap: Duration::from_secs(30),
            healthy_after: Duration::from_secs(60),
            failed_retry: Duration::from_secs(30),
            active_window: Duration::from_secs(60),
            poll: PollPolicy::default(),
        }
    }
}
