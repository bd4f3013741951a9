//! The people pane: the list (search with `/`), promote/demote (`m`),
//! remove (`D`, asks first), renew a link (`L`), and what happens when a
//! platform refuses an update made with a stale version (STREAMBOXY
//! `rowVersion`): the stale action is dropped, the list is read again, the
//! refusal says what changed, and the same key retries the moderator's
//! change on the fresh version. Nothing is retried behind the moderator's
//! back, so another moderator's edit is never silently overwritten.
//!
//! Roles are the platform's: promoting a Speaker sends only the role, and
//! the Speaker role is remembered ([`App::earlier_roles`]) so demoting gives
//! it back. Renaming (`e`) lives in [`super::rename`].

use crate::app::layout::PaneKind;
use crate::app::queue::Patch;
use crate::app::{Action, App, Command, Failed, InputPurpose, Overlay, QueuedOp, contains_ci};
use crate::domain::{Capabilities, Op, Outcome, Participant, ProviderError, Role, SourceId};

/// A stale-version refusal the moderator has not acted on yet.
#[derive(Debug, Clone, PartialEq)]
pub struct PeopleConflict {
    pub source: SourceId,
    pub id: String,
    /// The participant's name when the change was made.
    pub name: String,
    /// The role the moderator wanted, when the change was one.
    pub role: Option<Role>,
    /// The name the moderator wanted, when the change was a rename.
    pub wanted_name: Option<String>,
    /// The version the refused change carried.
    pub stale_version: Option<String>,
    /// The platform's words, with what changed.
    pub message: String,
}

impl App {
    // ----- the list --------------------------------------------------------

    fn people_match(&self, p: &Participant) -> bool {
        match &self.people_filter {
            None => true,
            Some(f) => {
                contains_ci(&p.name, f) || p.email.as_deref().is_some_and(|e| contains_ci(e, f))
            }
        }
    }

    /// The participants the pane shows (the search applied), in order.
    pub fn visible_people(&self) -> impl Iterator<Item = &Participant> {
        self.people.iter().filter(|p| self.people_match(p))
    }

    /// Rows of the people pane.
    pub fn people_len(&self) -> usize {
        self.visible_people().count()
    }

    /// Puts the people cursor on a participant, when shown.
    pub fn select_participant(&mut self, source: SourceId, id: &str) {
        let at = self
            .visible_people()
            .position(|p| p.source == source && p.id == id);
        if let Some(i) = at {
            self.panes.entry(PaneKind::People).or_default().row = i;
        }
    }

    fn cursor_identity(&self) -> Option<(SourceId, String)> {
        self.current_participant().map(|p| (p.source, p.id.clone()))
    }

    /// Re-sorts after a change and keeps the cursor on the same person, so
    /// a poll that adds someone above never moves `m` or `D` to a neighbour.
    fn people_changed(&mut self, keep: Option<(SourceId, String)>) {
        self.people.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then_with(|| a.source.cmp(&b.source))
                .then_with(|| a.id.cmp(&b.id))
        });
        if let Some((s, id)) = keep {
            self.select_participant(s, &id);
        }
    }

    /// A complete list for one source (feed or reload).
    pub(in crate::app) fn set_participants(
        &mut self,
        source: SourceId,
        mut list: Vec<Participant>,
    ) {
        let keep = self.cursor_identity();
        list = list.into_iter().map(Participant::sanitized).collect();
        for p in &mut list {
            p.source = source;
        }
        self.people.retain(|p| p.source != source);
        self.people.extend(list);
        self.prune_earlier_roles(source);
        // A conflict about someone removed meanwhile has nothing to retry.
        if let Some(c) = &self.people_conflict
            && c.source == source
            && self.participant(source, &c.id).is_none()
        {
            self.people_conflict = None;
        }
        self.people_changed(keep);
    }

    /// One participant as the platform now has it.
    pub(in crate::app) fn upsert_participant(&mut self, source: SourceId, p: Participant) {
        let keep = self.cursor_identity();
        let mut p = p.sanitized();
        p.source = source;
        match self
            .people
            .iter_mut()
            .find(|x| x.source == source && x.id == p.id)
        {
            Some(x) => *x = p,
            None => self.people.push(p),
        }
        self.people_changed(keep);
    }

    /// Forgets a remembered earlier role once the platform shows the
    /// participant as no moderator (demoted elsewhere, or removed) while
    /// nothing of qadeck's is on its way.
    fn prune_earlier_roles(&mut self, source: SourceId) {
        let stale: Vec<(SourceId, String)> = self
            .earlier_roles
            .keys()
            .filter(|(s, id)| {
                *s == source
                    && !self
                        .participant(*s, id)
                        .is_some_and(|p| p.role.is_moderator())
                    && self.participant_inflight(*s, id).is_none()
            })
            .cloned()
            .collect();
        for k in stale {
            self.remember_role(k, None);
        }
    }

    pub(in crate::app) fn forget_participant(&mut self, source: SourceId, id: &str) {
        let keep = self
            .cursor_identity()
            .filter(|(s, i)| !(*s == source && i == id));
        self.people.retain(|p| !(p.source == source && p.id == id));
        if self
            .people_conflict
            .as_ref()
            .is_some_and(|c| c.source == source && c.id == id)
        {
            self.people_conflict = None;
        }
        self.people_changed(keep);
    }

    pub(in crate::app) fn participant(&self, source: SourceId, id: &str) -> Option<&Participant> {
        self.people
            .iter()
            .find(|p| p.source == source && p.id == id)
    }

    /// A participant's name, or the id when it is not listed.
    pub fn name_of(&self, source: SourceId, id: &str) -> String {
        self.participant(source, id)
            .map_or_else(|| id.to_string(), |p| p.name.clone())
    }

    /// Sources whose participants the pane manages, in order.
    pub fn people_sources(&self) -> Vec<SourceId> {
        self.sources
            .iter()
            .enumerate()
            .filter(|(_, s)| s.caps.participants && s.has_event)
            .map(|(i, _)| SourceId(i as u16))
            .collect()
    }

    pub(in crate::app) fn caps_of(&self, source: SourceId) -> Capabilities {
        self.source(source)
            .map(|s| s.caps.clone())
            .unwrap_or_else(Capabilities::none)
    }

    // ----- what is in flight --------------------------------------------------

    /// What the platform is still being asked about this participant.
    pub fn participant_inflight(&self, source: SourceId, id: &str) -> Option<String> {
        self.inflight
            .values()
            .filter(|f| f.queued.source == source && f.queued.op.target() == Some(id))
            .find_map(|f| match &f.queued.op {
                Op::UpdateParticipant { role: Some(r), .. } => Some(match r {
                    Role::Moderator => "promoting to moderator".to_string(),
                    Role::Participant => "demoting to participant".to_string(),
                    other => format!("making {other}"),
                }),
                Op::UpdateParticipant { name: Some(n), .. } => Some(format!("renaming to “{n}”")),
                Op::RemoveParticipant { .. } => Some("removing".into()),
                Op::RenewLink { .. } => Some("renewing the link".into()),
                _ => None,
            })
    }

    /// Names of invitations on their way.
    pub fn invitations_inflight(&self) -> Vec<String> {
        self.inflight
            .values()
            .filter_map(|f| match &f.queued.op {
                Op::AddParticipant { draft } => Some(draft.name.clone()),
                _ => None,
            })
            .collect()
    }

    /// The change under way or refused for a participant, in words.
    pub(in crate::app) fn people_op_text(&self, source: SourceId, op: &Op) -> String {
        match op {
            Op::AddParticipant { draft } => format!("invite {}", draft.name),
            Op::UpdateParticipant {
                id, role: Some(r), ..
            } => match r {
                Role::Moderator => format!("promote {}", self.name_of(source, id)),
                Role::Participant => format!("demote {}", self.name_of(source, id)),
                other => format!("make {} {other}", self.name_of(source, id)),
            },
            Op::UpdateParticipant {
                id, name: Some(n), ..
            } => format!("rename {} to “{n}”", self.name_of(source, id)),
            Op::RemoveParticipant { id } => format!("remove {}", self.name_of(source, id)),
            Op::RenewLink { id } => format!("renew the link of {}", self.name_of(source, id)),
            other => other.label(),
        }
    }

    // ----- keys ---------------------------------------------------------------

    /// Actions that mean something else in the people pane. Returns whether
    /// the action was handled here.
    pub(in crate::app) fn on_people_action(
        &mut self,
        action: Action,
        cmds: &mut Vec<Command>,
    ) -> bool {
        match action {
            Action::Filter => {
                let current = self.people_filter.clone().unwrap_or_default();
                self.open_input(InputPurpose::PeopleSearch, &current);
            }
            Action::Compose => self.open_invite_form(),
            Action::Delete => self.ask_remove(),
            Action::ToggleModerator => self.toggle_moderator(cmds),
            Action::Rename => self.ask_rename(),
            Action::RenewLink => self.renew_link(cmds),
            Action::ShowLink => self.show_link(),
            _ => return false,
        }
        true
    }

    pub(in crate::app) fn busy_toast(&mut self, p: &Participant) -> bool {
        match self.participant_inflight(p.source, &p.id) {
            Some(what) => {
                self.toast(format!("⋯ still {what} {} — wait for the platform", p.name));
                true
            }
            None => false,
        }
    }

    /// `m`: promote a participant or demote a moderator, with the version
    /// the moderator saw. After a conflict the same key retries the refused
    /// change on the reloaded participant.
    fn toggle_moderator(&mut self, cmds: &mut Vec<Command>) {
        let Some(p) = self.current_participant().cloned() else {
            self.toast("no participant selected");
            return;
        };
        if self.busy_toast(&p) {
            return;
        }
        let conflict = self
            .people_conflict
            .take_if(|c| c.source == p.source && c.id == p.id && c.role.is_some());
        let want = match conflict.and_then(|c| c.role.clone().map(|r| (c, r))) {
            Some((c, wanted)) => {
                if p.version.is_some() && p.version == c.stale_version {
                    self.toast(format!(
                        "still reloading {} after the conflict — try again in a moment",
                        p.name
                    ));
                    self.people_conflict = Some(c);
                    cmds.push(Command::LoadParticipants(p.source));
                    return;
                }
                self.last_error = None;
                if p.role == wanted {
                    self.toast(format!(
                        "{} is already {} — nothing to retry",
                        p.name, p.role
                    ));
                    return;
                }
                wanted
            }
            None => self.toggled_role(&p),
        };
        let key = (p.source, p.id.clone());
        if want.is_moderator() && p.role != Role::Participant {
            self.remember_role(key, Some(p.role.clone()));
        } else if want.is_moderator() {
            self.remember_role(key, None);
        }
        let op = Op::UpdateParticipant {
            id: p.id.clone(),
            role: Some(want),
            name: None,
            version: p.version.clone(),
        };
        let text = self.people_op_text(p.source, &op);
        self.send(p.source, op, None, Patch::default(), cmds);
        self.toast(format!("{text} — waiting for the platform"));
    }

    /// Changes a participant's remembered earlier role; the change is
    /// saved at the end of this update ([`App::save_roles`]).
    pub(in crate::app) fn remember_role(&mut self, key: (SourceId, String), role: Option<Role>) {
        let changed = match &role {
            Some(r) => self.earlier_roles.insert(key.clone(), r.clone()).as_ref() != Some(r),
            None => self.earlier_roles.remove(&key).is_some(),
        };
        if changed {
            self.roles_unsaved.insert(key);
        }
    }

    /// One save command per earlier role changed during this update.
    pub(in crate::app) fn save_roles(&mut self, cmds: &mut Vec<Command>) {
        for (source, participant) in std::mem::take(&mut self.roles_unsaved) {
            let role = self
                .earlier_roles
                .get(&(source, participant.clone()))
                .cloned();
            cmds.push(Command::SaveEarlierRole {
                source,
                participant,
                role,
            });
        }
    }

    /// The role `m` gives: moderator, or for a moderator the role it had
    /// before qadeck promoted it (participant when qadeck never did).
    fn toggled_role(&self, p: &Participant) -> Role {
        if p.role.is_moderator() {
            self.earlier_roles
                .get(&(p.source, p.id.clone()))
                .cloned()
                .unwrap_or(Role::Participant)
        } else {
            Role::Moderator
        }
    }

    /// `D`: asks before removing.
    fn ask_remove(&mut self) {
        let Some(p) = self.current_participant().cloned() else {
            self.toast("no participant selected");
            return;
        };
        if self.busy_toast(&p) {
            return;
        }
        let who = match &p.email {
            Some(e) => format!("{} <{}>", crate::text::one_line(&p.name, 40), e),
            None => crate::text::one_line(&p.name, 40),
        };
        self.overlay = Some(Overlay::ConfirmRemoveParticipant {
            source: p.source,
            id: p.id,
            who,
        });
    }

    /// After the confirmation.
    pub(in crate::app) fn remove_participant(
        &mut self,
        source: SourceId,
        id: String,
        cmds: &mut Vec<Command>,
    ) {
        let op = Op::RemoveParticipant { id };
        let text = self.people_op_text(source, &op);
        self.send(source, op, None, Patch::default(), cmds);
        self.toast(format!("{text} — waiting for the platform"));
    }

    /// `L`: a new link, where the platform renews them.
    fn renew_link(&mut self, cmds: &mut Vec<Command>) {
        let Some(p) = self.current_participant().cloned() else {
            self.toast("no participant selected");
            return;
        };
        if !self.caps_of(p.source).renew_link {
            self.toast(format!(
                "{} cannot renew links: remove the participant and invite again",
                self.source_name(p.source)
            ));
            return;
        }
        if self.busy_toast(&p) {
            return;
        }
        let op = Op::RenewLink { id: p.id.clone() };
        let text = self.people_op_text(p.source, &op);
        self.send(p.source, op, None, Patch::default(), cmds);
        self.toast(format!("{text} — waiting for the platform"));
    }

    /// Enter: the link alone on a full-width line, for selecting.
    fn show_link(&mut self) {
        let Some(p) = self.current_participant() else {
            self.toast("no participant selected");
            return;
        };
        match p.link.clone() {
            Some(link) => {
                self.overlay = Some(Overlay::Link {
                    who: p.name.clone(),
                    link,
                });
            }
            None => {
                let text = format!("{} has no link from the platform", p.name);
                self.toast(text);
            }
        }
    }

    // ----- answers from the platform ------------------------------------------------

    /// A participant action the platform confirmed.
    pub(in crate::app) fn participant_op_confirmed(&mut self, queued: &QueuedOp, outcome: Outcome) {
        let source = queued.source;
        let before = queued.op.target().map(|id| self.name_of(source, id));
        let id = match &outcome {
            Outcome::Participant(p) => Some(p.id.clone()),
            _ => None,
        };
        self.apply_outcome(source, outcome);
        let text = match (&queued.op, id) {
            (Op::AddParticipant { draft }, Some(id)) => {
                self.select_participant(source, &id);
                format!("invited {} — the link is in the detail pane", draft.name)
            }
            (Op::UpdateParticipant { id, role, name, .. }, _) => {
                if self
                    .people_conflict
                    .as_ref()
                    .is_some_and(|c| c.source == source && c.id == *id)
                {
                    self.people_conflict = None;
                }
                match (role, name) {
                    (Some(r), _) => {
                        if !r.is_moderator() {
                            self.remember_role((source, id.clone()), None);
                        }
                        format!("{} is now {r}", self.name_of(source, id))
                    }
                    (None, _) => format!(
                        "renamed {} to {}",
                        before.unwrap_or_else(|| id.clone()),
                        self.name_of(source, id)
                    ),
                }
            }
            (Op::RenewLink { id }, _) => format!(
                "new link for {} — in the detail pane",
                self.name_of(source, id)
            ),
            (Op::RemoveParticipant { id }, _) => {
                format!("removed {}", before.unwrap_or_else(|| id.clone()))
            }
            (op, _) => format!("done: {}", op.label()),
        };
        self.toast(text);
    }

    /// A participant action the platform refused for good. A stale version
    /// is not kept for a blind retry: the action is dropped, the list read
    /// again, and the key retries on the fresh version. Returns whether the
    /// failure was handled here.
    pub(in crate::app) fn participant_op_failed(
        &mut self,
        queued: &QueuedOp,
        error: &ProviderError,
        cmds: &mut Vec<Command>,
    ) -> bool {
        if !queued.op.is_participant_op() {
            return false;
        }
        let source = queued.source;
        let text = self.people_op_text(source, &queued.op);
        if let (
            ProviderError::Conflict(message),
            Op::UpdateParticipant {
                id,
                role,
                name: wanted_name,
                version,
            },
        ) = (error, &queued.op)
        {
            let name = self.name_of(source, id);
            let retry_key = if role.is_some() {
                Action::ToggleModerator
            } else {
                Action::Rename
            };
            cmds.push(Command::DropOp {
                op_id: queued.op_id.clone(),
            });
            cmds.push(Command::LoadParticipants(source));
            self.people_conflict = Some(PeopleConflict {
                source,
                id: id.clone(),
                name: name.clone(),
                role: role.clone(),
                wanted_name: wanted_name.clone(),
                stale_version: version.clone(),
                message: message.clone(),
            });
            self.last_error = Some(format!(
                "{text} refused: {name} was changed meanwhile — {message} — reloaded; {} retries on the fresh version",
                self.keymap.key_for(retry_key)
            ));
            self.select_participant(source, id);
            return true;
        }
        self.last_error = Some(format!(
            "{text} failed: {error} — {} retry · {} drop",
            self.keymap.key_for(Action::Retry),
            self.keymap.key_for(Action::Drop)
        ));
        self.failed.push(Failed {
            queued: queued.clone(),
            reason: error.to_string(),
        });
        true
    }
}
