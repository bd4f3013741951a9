//! What a moderator can ask for. Actions are named in the config's `[keys]`
//! table (`approve = "a"`), so their serde names are part of the config format.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
    NextPane,
    PrevPane,
    Approve,
    Reject,
    Answered,
    OnAir,
    Next,
    Pending,
    Undo,
    Vote,
    VoteDown,
    Freeze,
    Filter,
    Sort,
    ToggleRejected,
    Delete,
    Compose,
    Reply,
    Promote,
    /// People pane: promote a participant to moderator, or demote one.
    ToggleModerator,
    /// People pane: renew the participant's invitation link.
    RenewLink,
    /// People pane: the invitation link alone on a full-width line, to copy.
    ShowLink,
    ToggleOpen,
    Info,
    Retry,
    Drop,
    DetailDown,
    DetailUp,
    Help,
    Quit,
}

impl Action {
    /// Every action, in the order the help overlay lists them.
    pub const ALL: [Action; 36] = [
        Action::Down,
        Action::Up,
        Action::PageDown,
        Action::PageUp,
        Action::Top,
        Action::Bottom,
        Action::NextPane,
        Action::PrevPane,
        Action::Approve,
        Action::Reject,
        Action::Answered,
        Action::OnAir,
        Action::Next,
        Action::Pending,
        Action::Undo,
        Action::Vote,
        Action::VoteDown,
        Action::Freeze,
        Action::Filter,
        Action::Sort,
        Action::ToggleRejected,
        Action::Delete,
        Action::Compose,
        Action::Reply,
        Action::Promote,
        Action::ToggleModerator,
        Action::RenewLink,
        Action::ShowLink,
        Action::ToggleOpen,
        Action::Info,
        Action::Retry,
        Action::Drop,
        Action::DetailDown,
        Action::DetailUp,
        Action::Help,
        Action::Quit,
    ];

    /// One line for the help overlay.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Down => "move down",
            Action::Up => "move up",
            Action::PageDown => "page down",
            Action::PageUp => "page up",
            Action::Top => "first item",
            Action::Bottom => "last item",
            Action::NextPane => "next pane",
            Action::PrevPane => "previous pane",
            Action::Approve => "approve (select)",
            Action::Reject => "reject",
            Action::Answered => "mark answered",
            Action::OnAir => "put on air (one at a time)",
            Action::Next => "next: answer the on-air one, air the top selected",
            Action::Pending => "back to pending",
            Action::Undo => "undo the last action",
            Action::Vote => "vote / unvote (up)",
            Action::VoteDown => "vote down (where the platform has it)",
            Action::Freeze => "freeze incoming (count what arrives)",
            Action::Filter => "filter by text (search in the people pane)",
            Action::Sort => "sort by time / votes",
            Action::ToggleRejected => "show / hide rejected",
            Action::Delete => "delete / remove a participant (asks first)",
            Action::Compose => "type a question or chat message; invite in people",
            Action::Reply => "reply to the chat message",
            Action::Promote => "chat message → question queue",
            Action::ToggleModerator => "people: promote / demote moderator",
            Action::RenewLink => "people: renew the invitation link",
            Action::ShowLink => "people: show the link full width, to copy",
            Action::ToggleOpen => "open / close the event for questions",
            Action::Info => "source and account info",
            Action::Retry => "retry a failed action",
            Action::Drop => "drop a failed action",
            Action::DetailDown => "scroll detail down",
            Action::DetailUp => "scroll detail up",
            Action::Help => "this help",
            Action::Quit => "quit",
        }
    }

    /// Short label for the one-line key bar.
    pub fn short(self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Answered => "answered",
            Action::OnAir => "on air",
            Action::Next => "next",
            Action::Undo => "undo",
            Action::Vote => "vote",
            Action::Freeze => "freeze",
            Action::Filter => "filter",
            Action::Help => "help",
            Action::Quit => "quit",
            Action::Compose => "write",
            Action::Delete => "delete",
            Action::Pending => "pending",
            Action::Sort => "sort",
            _ => "",
        }
    }
}
