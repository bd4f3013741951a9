//! Everything a provider's feed reports: data, connection health, budget.

use super::{Capabilities, Message, Participant, Question, SourceId, Str};
use serde::Serialize;
use std::collections::HashSet;

/// Connection state of one source, shown in the status bar.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Connection {
    Connecting,
    /// Live over a stream.
    Live,
    /// Healthy, data by polling.
    Polling,
    /// Lost; retrying in `in_ms`.
    Retrying {
        in_ms: u64,
        reason: String,
    },
    /// Will not recover without the moderator (bad key, unknown event).
    Failed {
        reason: String,
    },
}

impl Connection {
    /// One phrase for the status bar and the headless `status` line.
    pub fn describe(&self) -> String {
        match self {
            Connection::Connecting => "connecting…".into(),
            Connection::Live => "live".into(),
            Connection::Polling => "polling".into(),
            Connection::Retrying { in_ms, reason } => {
                format!("retrying in {}s: {reason}", in_ms.div_ceil(1000))
            }
            Connection::Failed { reason } => format!("failed: {reason}"),
        }
    }
}

/// Rate-limit budget a provider reports (from response headers).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateBudget {
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds when the window resets.
    pub reset: Option<i64>,
}

/// Everything a provider's feed sends into the event loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Feed {
    Connection(Connection),
    /// A complete view of every question of the event: anything the core holds
    /// for this source and not listed here was deleted on the platform.
    Snapshot(Vec<Question>),
    /// Changed or new questions, merged by id; a stale `updated` loses.
    Upsert(Vec<Question>),
    /// A complete listing just ended, its questions sent before as
    /// [`Feed::Upsert`]s page by page (so no one holds a whole listing):
    /// anything the core holds for this source whose id is not here was
    /// deleted on the platform.
    Listed(HashSet<Str>),
    QuestionGone(String),
    /// Complete chat thread as currently known (replaces).
    ChatSnapshot(Vec<Message>),
    Messages(Vec<Message>),
    MessageGone(String),
    Participants(Vec<Participant>),
    Budget(RateBudget),
    /// A one-off notice for the status bar (e.g. "no stream on this plan: polling").
    Notice(String),
    /// What the provider can do changed (PostoBox: no stream on this plan).
    Capabilities(Capabilities),
    /// Whether the event currently accepts questions / chat.
    OpenState {
        questions: Option<bool>,
        chat: Option<bool>,
    },
}

/// A feed event tagged with its source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFeed {
    pub source: SourceId,
    pub feed: Feed,
}
