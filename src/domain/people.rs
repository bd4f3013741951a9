//! Attendees of conference and session platforms, and the form that
//! invites one.

use super::SourceId;
use serde::{Deserialize, Serialize};

/// Role of a participant on a conference/session platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Participant,
    Moderator,
}

/// One attendee of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    pub source: SourceId,
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    /// Invitation / join link, when the platform gives one.
    pub link: Option<String>,
    /// Opaque concurrency token (STREAMBOXY `rowVersion`), echoed on update.
    pub version: Option<String>,
    /// Caller-side key used to make bulk imports idempotent.
    pub external_key: Option<String>,
}

impl Participant {
    /// Every text field made safe for the terminal. Providers sanitize names
    /// at ingest; ids, links and versions also reach the screen (detail,
    /// toasts), so the core takes none of them raw.
    pub fn sanitized(mut self) -> Participant {
        use crate::text::sanitize;
        self.id = sanitize(&self.id);
        self.name = sanitize(&self.name);
        self.email = self.email.as_deref().map(sanitize);
        self.link = self.link.as_deref().map(sanitize);
        self.version = self.version.as_deref().map(sanitize);
        self.external_key = self.external_key.as_deref().map(sanitize);
        self
    }
}

/// Fields of a participant the moderator fills in a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantDraft {
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    /// Send the platform's invitation e-mail.
    pub notify: bool,
    /// One-time link (STREAMBOXY) where supported.
    pub one_time_link: bool,
    /// Link lifetime in minutes (Boomstream `timeout`) where supported.
    pub link_lifetime_min: Option<u32>,
    pub external_key: Option<String>,
}

/// A plausible e-mail address: one `@`, both sides present, a dot in the
/// domain, no spaces or controls.
pub fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
}
