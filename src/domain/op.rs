//! Actions sent to a platform and what it answered. An [`Op`] is a plain
//! serde value, so the durable outbox can store and replay it.

use super::{Message, MyVote, Participant, ParticipantDraft, Question, Role, Status};
use serde::{Deserialize, Serialize};

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
    /// Only what changes is set (a rename carries no role), so the platform
    /// keeps every field the moderator did not touch.
    UpdateParticipant {
        id: String,
        #[serde(default)]
        role: Option<Role>,
        #[serde(default)]
        name: Option<String>,
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
            Op::UpdateParticipant {
                role: None,
                name: Some(_),
                ..
            } => "rename participant".into(),
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

    /// The chain of actions this op belongs to: actions of one chain reach
    /// the platform in the order they were taken (an approve and then a
    /// reject of one question never swap), actions of different chains may
    /// be in flight side by side. One chain per question, message and
    /// participant is not enough where an op names no item yet or a retry
    /// looks the op up by its content: submissions form one chain (a
    /// repeated submit looks for its own text), all chat ops one (messages
    /// appear in the order written), all participant ops one (a removal and
    /// a new invitation of the same person never swap), open/close one.
    pub fn order_key(&self) -> String {
        match self {
            Op::SetStatus { id, .. } | Op::Delete { id } | Op::Vote { id, .. } => {
                format!("question:{id}")
            }
            Op::SubmitQuestion { .. } => "question:new".into(),
            Op::SetOpen { .. } => "event".into(),
            Op::PostMessage { .. } | Op::DeleteMessage { .. } => "chat".into(),
            Op::AddParticipant { .. }
            | Op::UpdateParticipant { .. }
            | Op::RemoveParticipant { .. }
            | Op::RenewLink { .. } => "participants".into(),
        }
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
