//! The domain model every provider maps into: questions, chat messages and
//! participants, each tagged with the source (one event on one provider) it
//! came from. Text fields hold *sanitized* text only (see `text.rs`).

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch. The core never reads a clock; times
/// arrive inside events.
pub type Millis = i64;

/// Index of a source in the session's source list (stable for a session).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceId(pub u16);

/// Moderation state of a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Selected,
    Answered,
    Rejected,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Pending,
        Status::Selected,
        Status::Answered,
        Status::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Selected => "selected",
            Status::Answered => "answered",
            Status::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// The moderator's own vote on a question, as far as qadeck knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MyVote {
    #[default]
    None,
    Up,
    Down,
}

/// One audience question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub source: SourceId,
    pub id: String,
    pub text: String,
    /// `None` means anonymous.
    pub author: Option<String>,
    pub votes: i64,
    pub my_vote: MyVote,
    pub status: Status,
    pub on_air: bool,
    pub created: Millis,
    pub updated: Millis,
}

/// What qadeck keeps on this machine for a question because the platform
/// cannot store it (on-air everywhere; selected/answered on some platforms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LocalState {
    pub status: Option<Status>,
    pub on_air: bool,
}

impl LocalState {
    pub fn is_empty(&self) -> bool {
        self.status.is_none() && !self.on_air
    }
}

/// A question's identity across sources.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QKey {
    pub source: SourceId,
    pub id: String,
}

impl Question {
    pub fn key(&self) -> QKey {
        QKey {
            source: self.source,
            id: self.id.clone(),
        }
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub source: SourceId,
    pub id: String,
    pub author: Option<String>,
    pub text: String,
    pub reply_to: Option<String>,
    pub created: Millis,
}

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
