//! What this machine attaches to a question beyond the platform's state:
//! the moderator's star and labels, a rule's hold, and a rule's reject or
//! approve (so `u` can take it back after a restart too). Kept durable in
//! the store, keyed like local states (source, event, question id).

use super::Status;
use serde::{Deserialize, Serialize};

/// A question's marks. The default (nothing marked) is not stored.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Marks {
    #[serde(default)]
    pub starred: bool,
    /// Labels in the order they were added, each once.
    #[serde(default)]
    pub labels: Vec<String>,
    /// The rule that holds the question in Pending for review.
    #[serde(default)]
    pub held: Option<Hold>,
    /// The moderator took a rule's decision on it back (or released its
    /// hold): the rules leave it alone from then on, across restarts.
    #[serde(default)]
    pub reviewed: bool,
    /// A rule rejected or approved it, and no one has decided it since.
    #[serde(default)]
    pub ruled: Option<Ruled>,
}

/// A rule's reject or approve, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ruled {
    /// The rule's `name` and what matched, as for a hold.
    pub why: Hold,
    /// Where the rule sent it: rejected or selected.
    pub to: Status,
}

/// Why a rule held (or rejected) a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// The rule's `name`.
    pub rule: String,
    /// What matched, as shown in the detail view ("word: darn").
    pub matched: String,
}

impl Marks {
    pub fn is_empty(&self) -> bool {
        !self.starred
            && self.labels.is_empty()
            && self.held.is_none()
            && !self.reviewed
            && self.ruled.is_none()
    }
}
