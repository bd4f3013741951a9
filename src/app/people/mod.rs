//! The people pane and its invite form: participants of every source with
//! the participants capability. The pane ([`pane`]) lists them and acts on
//! one (promote/demote, rename, remove, renew); the form ([`form`]) checks
//! an invitation before anything is sent.
//! Like the rest of the core, nothing here touches the network: sends are
//! `Command::Send` through the outbox, reloads `Command::LoadParticipants`.

mod form;
mod pane;
mod rename;
#[cfg(test)]
mod rename_tests;
#[cfg(test)]
mod tests;

use crate::domain::Role;
pub use form::{FormField, InviteForm, MAX_LIFETIME_MIN};
pub use pane::PeopleConflict;

/// The invite form's other role: moderator, or back to participant.
fn flip(r: &Role) -> Role {
    if r.is_moderator() {
        Role::Participant
    } else {
        Role::Moderator
    }
}
