//! The one interface between qadeck and a Q&A platform.
//!
//! A provider is built for one source (one event on one platform). It declares
//! what it can do through [`Capabilities`]; the UI and the core consult those
//! flags and never the provider's name. Live data flows *into* the event loop
//! as [`Feed`] events over a channel; actions flow *out* as [`Op`]s, which are
//! plain serde values so the durable outbox can store and replay them.

pub mod boomstream;
pub mod demo;
pub mod http;
pub mod postobox;
pub mod sse;
pub mod streamboxy;
pub mod streamslive;

use crate::domain::{
    EventInfo, Message, Millis, MyVote, Participant, Question, Role, SourceId, Status,
};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

/// How a provider votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VoteKind {
    None,
    /// One call toggles the moderator's vote on and off (PostoBox).
    Toggle,
    /// Separate up and down votes (streams.live).
    UpDown,
}

/// How new data reaches qadeck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    Stream,
    Polling,
    InProcess,
}

/// What a provider can do. The UI greys out and explains what is missing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Capabilities {
    pub questions: bool,
    /// Statuses the platform stores itself. Others the core keeps locally.
    pub server_statuses: Vec<Status>,
    /// Whether a question can be deleted on the platform.
    pub delete: bool,
    pub vote: VoteKind,
    pub submit_question: bool,
    pub chat: bool,
    pub participants: bool,
    pub delivery: Delivery,
    /// Can open and close the event for questions (and chat, where `chat`).
    pub open_close: bool,
    /// Longest chat message the platform accepts, in characters.
    pub message_limit: Option<usize>,
    /// Invitations can be one-time links (participants platforms).
    pub one_time_link: bool,
    /// Invitation links can be given a lifetime.
    pub link_lifetime: bool,
    /// A participant's link can be renewed.
    pub renew_link: bool,
    /// An invitation needs an e-mail address.
    pub invite_needs_email: bool,
}

impl Capabilities {
    /// A provider that can do nothing; providers start from this.
    pub fn none() -> Capabilities {
        Capabilities {
            questions: false,
            server_statuses: Vec::new(),
            delete: false,
            vote: VoteKind::None,
            submit_question: false,
            chat: false,
            participants: false,
            delivery: Delivery::Polling,
            open_close: false,
            message_limit: None,
            one_time_link: false,
            link_lifetime: false,
            renew_link: false,
            invite_needs_email: false,
        }
    }

    pub fn stores(&self, status: Status) -> bool {
        self.server_statuses.contains(&status)
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

/// An action sent to a platform. Serializable so the outbox can persist it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    SetStatus {
        id: String,
        status: Status,
    },
    Delete {
        id: String,
    },
    /// Bring the moderator's vote to `want`. Toggle providers check the
    /// outcome and re-toggle if needed, so a retry never flips twice.
    Vote {
        id: String,
        want: MyVote,
    },
    SubmitQuestion {
        text: String,
    },
    SetOpen {
        questions: Option<bool>,
        chat: Option<bool>,
        guest_chat: Option<bool>,
    },
    PostMessage {
        text: String,
        reply_to: Option<String>,
    },
    DeleteMessage {
        id: String,
    },
    AddParticipant {
        draft: ParticipantDraft,
    },
    /// Update with the version the moderator last saw; stale → `Conflict`.
    UpdateParticipant {
        id: String,
        role: Role,
        name: String,
        version: Option<String>,
    },
    RemoveParticipant {
        id: String,
    },
    RenewLink {
        id: String,
    },
}

impl Op {
    /// Short human name for toasts, the journal and the help bar.
    pub fn label(&self) -> String {
        match self {
            Op::SetStatus { status, .. } => match status {
                Status::Pending => "back to pending".into(),
                Status::Selected => "approve".into(),
                Status::Answered => "mark answered".into(),
                Status::Rejected => "reject".into(),
            },
            Op::Delete { .. } => "delete".into(),
            Op::Vote {
                want: MyVote::None, ..
            } => "unvote".into(),
            Op::Vote {
                want: MyVote::Up, ..
            } => "vote up".into(),
            Op::Vote {
                want: MyVote::Down, ..
            } => "vote down".into(),
            Op::SubmitQuestion { .. } => "submit question".into(),
            Op::SetOpen { .. } => "open/close".into(),
            Op::PostMessage { .. } => "post message".into(),
            Op::DeleteMessage { .. } => "delete message".into(),
            Op::AddParticipant { .. } => "invite participant".into(),
            Op::UpdateParticipant { .. } => "update participant".into(),
            Op::RemoveParticipant { .. } => "remove participant".into(),
            Op::RenewLink { .. } => "renew link".into(),
        }
    }

    /// Whether the op manages participants (the people pane's actions).
    pub fn is_participant_op(&self) -> bool {
        matches!(
            self,
            Op::AddParticipant { .. }
                | Op::UpdateParticipant { .. }
                | Op::RemoveParticipant { .. }
                | Op::RenewLink { .. }
        )
    }

    /// The item the op targets, if any.
    pub fn target(&self) -> Option<&str> {
        match self {
            Op::SetStatus { id, .. }
            | Op::Delete { id }
            | Op::Vote { id, .. }
            | Op::DeleteMessage { id }
            | Op::UpdateParticipant { id, .. }
            | Op::RemoveParticipant { id }
            | Op::RenewLink { id } => Some(id),
            _ => None,
        }
    }
}

/// What a platform answered to an [`Op`].
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Question(Question),
    /// The question is gone (deleted).
    QuestionGone(String),
    Voted {
        id: String,
        my_vote: MyVote,
        votes: i64,
    },
    Message(Message),
    MessageGone(String),
    Participant(Participant),
    ParticipantGone(String),
    Done,
}

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
    QuestionGone(String),
    /// Complete chat thread as currently known (replaces).
    ChatSnapshot(Vec<Message>),
    Messages(Vec<Message>),
    MessageGone(String),
    Participants(Vec<Participant>),
    Budget(RateBudget),
    /// A one-off notice for the status bar (e.g. "no stream on this plan: polling").
    Notice(String),
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

/// Sender half that a provider's feed task writes into.
#[derive(Clone, Debug)]
pub struct FeedTx {
    source: SourceId,
    tx: mpsc::Sender<SourceFeed>,
}

impl FeedTx {
    pub fn new(source: SourceId, tx: mpsc::Sender<SourceFeed>) -> FeedTx {
        FeedTx { source, tx }
    }

    pub fn source(&self) -> SourceId {
        self.source
    }

    /// Sends one event; returns false once the loop is gone (time to stop).
    pub async fn send(&self, feed: Feed) -> bool {
        self.tx
            .send(SourceFeed {
                source: self.source,
                feed,
            })
            .await
            .is_ok()
    }
}

/// Why a provider call failed, in terms of what the moderator can do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    #[error("not supported by this platform: {0}")]
    Unsupported(String),
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("permission denied: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("rate limited (HTTP 429)")]
    RateLimited { retry_after_ms: u64 },
    #[error("server error: {0}")]
    Server(String),
    #[error("network error: {0}")]
    Network(String),
    #[error("unexpected answer: {0}")]
    Protocol(String),
}

impl ProviderError {
    /// Worth retrying automatically (network, 5xx, 429); the rest need the
    /// moderator.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ProviderError::RateLimited { .. }
                | ProviderError::Server(_)
                | ProviderError::Network(_)
        )
    }

    /// Minimum wait before a retry, when the platform said so.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            ProviderError::RateLimited { retry_after_ms } => Some(*retry_after_ms),
            _ => None,
        }
    }
}

pub type ProviderResult<T> = Result<T, ProviderError>;

/// One platform, bound to one source. Implementations live in sibling modules.
#[async_trait]
pub trait Provider: Send + Sync {
    fn capabilities(&self) -> Capabilities;

    /// Runs the live feed until the receiver is dropped: initial sync, then
    /// stream or polling, reconnecting and resyncing after any gap. Never
    /// returns early on errors; it reports them as `Feed::Connection`.
    async fn run_feed(&self, tx: FeedTx);

    /// Lists the events (all pages) the credentials can see.
    async fn list_events(&self) -> ProviderResult<Vec<EventInfo>>;

    /// Performs one action and returns what the platform answered.
    async fn perform(&self, op: &Op) -> ProviderResult<Outcome>;

    /// Fetches the current state of one question (used to confirm headless
    /// actions and to check before re-sending a toggle).
    async fn fetch_question(&self, id: &str) -> ProviderResult<Question>;

    /// Lists participants (for providers with the capability).
    async fn list_participants(&self) -> ProviderResult<Vec<Participant>> {
        Err(ProviderError::Unsupported("participants".into()))
    }

    /// Reads the chat thread (for providers with the capability).
    async fn read_chat(&self) -> ProviderResult<Vec<Message>> {
        Err(ProviderError::Unsupported("chat".into()))
    }

    /// Account facts for the info view (plan, usage, limits), as label/value.
    async fn account_info(&self) -> ProviderResult<Vec<(String, String)>> {
        Err(ProviderError::Unsupported("account information".into()))
    }

    /// One event by id. By default looked up in [`Provider::list_events`];
    /// platforms with a single-event call override it.
    async fn event_info(&self, id: &str) -> ProviderResult<EventInfo> {
        self.list_events()
            .await?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| ProviderError::NotFound(format!("event {}", crate::text::sanitize(id))))
    }

    /// Creates an event (session, conference) where the platform allows it.
    async fn create_event(&self, _draft: &EventDraft) -> ProviderResult<EventInfo> {
        Err(ProviderError::Unsupported("creating events".into()))
    }

    /// Updates an event's title/description where the platform allows it.
    async fn update_event(&self, _id: &str, _draft: &EventDraft) -> ProviderResult<EventInfo> {
        Err(ProviderError::Unsupported("updating events".into()))
    }

    /// Deletes an event where the platform allows it.
    async fn delete_event(&self, _id: &str) -> ProviderResult<()> {
        Err(ProviderError::Unsupported("deleting events".into()))
    }

    /// The platform's own export of questions or chat (e.g. CSV bytes).
    async fn download_report(&self, _kind: ReportKind) -> ProviderResult<Vec<u8>> {
        Err(ProviderError::Unsupported("platform reports".into()))
    }

    /// Called once on exit (log out where qadeck logged in).
    async fn shutdown(&self) {}
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

/// Current time in ms; only the runtime and providers read the clock.
pub fn now_ms() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

/// What every provider's `[[source]]` settings struct offers the core.
pub trait SourceSpec {
    fn name(&self) -> &str;
    /// The event (id, slug, session, conference code) or `None` to pick one.
    fn event(&self) -> Option<&str>;
    /// Whether a secret is written literally in the config file.
    fn has_literal_secret(&self) -> bool;
    /// Builds the provider (resolving secrets); the message says what is wrong.
    fn build(&self, ctx: &BuildCtx) -> Result<std::sync::Arc<dyn Provider>, String>;
}

/// What a provider needs from the session when it is built.
#[derive(Debug, Clone)]
pub struct BuildCtx {
    pub source: SourceId,
    pub moderator: crate::config::Moderator,
    /// Overrides the event named in the config (from the event picker).
    pub event: Option<String>,
}

/// One `[[source]]` table of the config, chosen by its `provider` key. Each
/// variant's settings reject unknown keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "provider", rename_all = "lowercase")]
pub enum SourceSettings {
    Demo(demo::Settings),
    Streamboxy(streamboxy::Settings),
    Boomstream(boomstream::Settings),
    Streamslive(streamslive::Settings),
    Postobox(postobox::Settings),
}

impl SourceSettings {
    fn spec(&self) -> &dyn SourceSpec {
        match self {
            SourceSettings::Demo(s) => s,
            SourceSettings::Streamboxy(s) => s,
            SourceSettings::Boomstream(s) => s,
            SourceSettings::Streamslive(s) => s,
            SourceSettings::Postobox(s) => s,
        }
    }

    pub fn name(&self) -> &str {
        self.spec().name()
    }

    pub fn event(&self) -> Option<&str> {
        self.spec().event()
    }

    pub fn has_literal_secret(&self) -> bool {
        self.spec().has_literal_secret()
    }

    pub fn build(&self, ctx: &BuildCtx) -> Result<std::sync::Arc<dyn Provider>, String> {
        self.spec().build(ctx)
    }
}
