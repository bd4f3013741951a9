//! Events (channels, sessions, conferences) as providers list and edit them.

use serde::{Deserialize, Serialize};

/// An event (channel, session, conference) as listed by a provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventInfo {
    pub id: String,
    pub title: String,
    pub active: Option<bool>,
    pub starts: Option<String>,
}

impl EventInfo {
    /// Every text field made safe for the terminal: the picker and
    /// `qadeck events` show ids as well as titles.
    pub fn sanitized(mut self) -> EventInfo {
        use crate::text::sanitize;
        self.id = sanitize(&self.id);
        self.title = sanitize(&self.title);
        self.starts = self.starts.as_deref().map(sanitize);
        self
    }
}

/// Fields for creating or updating an event; providers use what they know.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventDraft {
    pub title: Option<String>,
    pub description: Option<String>,
    /// UTC, RFC 3339.
    pub start: Option<String>,
    pub end: Option<String>,
    /// Platform-specific kind (STREAMBOXY session type).
    pub kind: Option<String>,
    pub content_url: Option<String>,
}

/// Which platform report to download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    Questions,
    Chat,
}
