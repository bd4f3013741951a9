//! What a platform can do: the flags the core and the UI consult instead of
//! a provider's name.

use super::Status;
use serde::Serialize;

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
    /// A participant can be renamed.
    pub rename: bool,
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
            rename: false,
        }
    }

    pub fn stores(&self, status: Status) -> bool {
        self.server_statuses.contains(&status)
    }
}
