//! The people pane and its invite form: participants of every source with
//! the participants capability. The pane ([`pane`]) lists them and acts on
//! one; the form ([`form`]) checks an invitation before anything is sent.
//! Like the rest of the core, nothing here touches the network: sends are
//! `Command::Send` through the outbox, reloads `Command::LoadParticipants`.

mod form;
mod pane;
#[cfg(test)]
mod tests;

use crate::domain::Role;
pub use form::{FormField, InviteForm, MAX_LIFETIME_MIN};
pub use pane::PeopleConflict;

/// A role in words.
pub fn role_name(r: Role) -> &'static str {
    match r {
        Role::Moderator => "moderator",
        Role::Participant => "participant",
    }
}

/// The other role.
fn flip(r: Role) -> Role {
    match r {
        Role::Moderator => Role::Participant,
        Role::Participant => Role::Moderator,
    }
}
