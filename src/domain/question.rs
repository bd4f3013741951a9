//! Audience questions and their moderation state.

use super::{Millis, QKey, SourceId, Str};
use serde::{Deserialize, Serialize};

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

    /// The status in two bits, for the lean tables that pack it.
    pub fn bits(self) -> u32 {
        Status::ALL.iter().position(|s| *s == self).unwrap_or(0) as u32
    }

    /// The status of [`Status::bits`] (only the low two bits are read).
    pub fn of_bits(b: u32) -> Status {
        Status::ALL[(b & 3) as usize]
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

impl MyVote {
    /// The vote in two bits, for the lean tables that pack it.
    pub fn bits(self) -> u32 {
        match self {
            MyVote::None => 0,
            MyVote::Up => 1,
            MyVote::Down => 2,
        }
    }

    /// The vote of [`MyVote::bits`] (only the low two bits are read).
    pub fn of_bits(b: u32) -> MyVote {
        match b & 3 {
            1 => MyVote::Up,
            2 => MyVote::Down,
            _ => MyVote::None,
        }
    }
}

/// One audience question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub source: SourceId,
    pub id: Str,
    pub text: Str,
    /// `None` means anonymous.
    pub author: Option<Str>,
    pub votes: i64,
    pub my_vote: MyVote,
    pub status: Status,
    pub on_air: bool,
    pub created: Millis,
    pub updated: Millis,
}

/// A vote count in 32 bits, saturated at their bounds: what the lean tables
/// keep per question (no audience casts two billion votes).
pub fn votes32(votes: i64) -> i32 {
    votes.clamp(i32::MIN.into(), i32::MAX.into()) as i32
}

/// What qadeck keeps on this machine for a question because the platform
/// cannot store it (on-air everywhere; selected/answered on some platforms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LocalState {
    pub status: Option<Status>,
    pub on_air: bool,
    /// Place in the selected queue the moderator set (lower first); `None`
    /// keeps the display order.
    #[serde(default)]
    pub rank: Option<i64>,
}

impl LocalState {
    pub fn is_empty(&self) -> bool {
        self.status.is_none() && !self.on_air && self.rank.is_none()
    }
}

impl Question {
    pub fn key(&self) -> QKey {
        QKey {
            source: self.source,
            id: self.id.clone(),
        }
    }
}
