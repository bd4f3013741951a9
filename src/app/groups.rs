//! Duplicate groups as the core shows them.

use super::App;
use crate::domain::QKey;

/// A question's group of duplicates (two or more members).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// The question the group keeps (best-voted, or the moderator's pick).
    pub kept: QKey,
    pub size: usize,
    /// Votes of all members together.
    pub votes: i64,
}

impl App {
    /// The group `key` belongs to, if it has duplicates.
    pub fn group_of(&self, _key: &QKey) -> Option<GroupInfo> {
        // SCAFFOLD(#14): the duplicates work fills this in.
        None
    }
}
