//! The people pane: participants of every source with the participants
//! capability. Search (`/`), the invite form (`c`), promote/demote (`m`),
//! remove (`D`, asks first), renew a link (`L`), and what happens when a
//! platform refuses an update made with a stale version (STREAMBOXY
//! `rowVersion`): the stale action is dropped, the list is read again, the
//! refusal says what changed, and the same key retries the moderator's
//! change on the fresh version. Nothing is retried behind the moderator's
//! back, so another moderator's edit is never silently overwritten.
//!
//! Like the rest of the core, nothing here touches the network: sends are
//! `Command::Send` through the outbox, the reload is
//! `Command::LoadParticipants`.

use super::layout::PaneKind;
use super::queue::Patch;
use super::{Action, App, Command, Failed, InputPurpose, Overlay, QueuedOp, contains_ci};
use crate::domain::{
    Capabilities, Op, Outcome, Participant, ParticipantDraft, ProviderError, Role, SourceId,
};
use ratatui_textarea::{CursorMove, Input, Key, TextArea};

/// Longest link lifetime the form takes: a year.
pub const MAX_LIFETIME_MIN: u32 = 525_600;

/// One row of the invite form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormField {
    /// Which source the invitation goes to (shown with several).
    Source,
    Name,
    Email,
    Role,
    /// Send the platform's invitation e-mail.
    Notify,
    /// One-time link (where the platform has them).
    OneTime,
    /// Link lifetime in minutes (where the platform has it).
    Lifetime,
}

impl FormField {
    pub fn label(self) -> &'static str {
        match self {
            FormField::Source => "source",
            FormField::Name => "name",
            FormField::Email => "e-mail",
            FormField::Role => "role",
            FormField::Notify => "send the platform's e-mail",
            FormField::OneTime => "one-time link",
            FormField::Lifetime => "link lifetime (minutes)",
        }
    }

    /// Typed into, rather than switched.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FormField::Name | FormField::Email | FormField::Lifetime
        )
    }
}

/// The invite form: a few fields, checked before anything is sent.
#[derive(Debug, Clone)]
pub struct InviteForm {
    pub source: SourceId,
    pub name: TextArea<'static>,
    pub email: TextArea<'static>,
    pub lifetime: TextArea<'static>,
    pub role: Role,
    pub notify: bool,
    pub one_time: bool,
    /// The focused field.
    pub field: FormField,
    /// Why the last submit was refused (shown in the form).
    pub error: Option<String>,
}

impl InviteForm {
    fn new(source: SourceId) -> InviteForm {
        InviteForm {
            source,
            name: TextArea::default(),
            email: TextArea::default(),
            lifetime: TextArea::default(),
            role: Role::Participant,
            notify: false,
            one_time: false,
            field: FormField::Name,
            error: None,
        }
    }

    /// The text of a text field, trimmed.
    pub fn text(&self, f: FormField) -> String {
        self.area(f)
            .map(|a| a.lines().join(" ").trim().to_string())
            .unwrap_or_default()
    }

    pub fn area(&self, f: FormField) -> Option<&TextArea<'static>> {
        match f {
            FormField::Name => Some(&self.name),
            FormField::Email => Some(&self.email),
            FormField::Lifetime => Some(&self.lifetime),
            _ => None,
        }
    }

    fn area_mut(&mut self, f: FormField) -> Option<&mut TextArea<'static>> {
        match f {
            FormField::Name => Some(&mut self.name),
            FormField::Email => Some(&mut self.email),
            FormField::Lifetime => Some(&mut self.lifetime),
            _ => None,
        }
    }
}

/// A stale-version refusal the moderator has not acted on yet.
#[derive(Debug, Clone, PartialEq)]
pub struct PeopleConflict {
    pub source: SourceId,
    pub id: String,
    /// The participant's name when the change was made.
    pub name: String,
    /// The role the moderator wanted.
    pub role: Role,
    /// The version the refused change carried.
    pub stale_version: Option<String>,
    /// The platform's words, with what changed.
    pub message: String,
}

pub fn role_name(r: Role) -> &'static str {
    match r {
        Role::Moderator => "moderator",
        Role::Participant => "participant",
    }
}

fn flip(r: Role) -> Role {
    match r {
        Role::Moderator => Role::Participant,
        Role::Participant => Role::Moderator,
    }
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
    pub(super) fn set_participants(&mut self, source: SourceId, mut list: Vec<Participant>) {
        let keep = self.cursor_identity();
        list = list.into_iter().map(Participant::sanitized).collect();
        for p in &mut list {
            p.source = source;
        }
        self.people.retain(|p| p.source != source);
        self.people.extend(list);
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
    pub(super) fn upsert_participant(&mut self, source: SourceId, p: Participant) {
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

    pub(super) fn forget_participant(&mut self, source: SourceId, id: &str) {
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

    fn participant(&self, source: SourceId, id: &str) -> Option<&Participant> {
        self.people
            .iter()
            .find(|p| p.source == source && p.id == id)
    }

    fn name_of(&self, source: SourceId, id: &str) -> String {
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

    fn caps_of(&self, source: SourceId) -> Capabilities {
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
                Op::UpdateParticipant { role, .. } => Some(match role {
                    Role::Moderator => "promoting to moderator".to_string(),
                    Role::Participant => "demoting to participant".to_string(),
                }),
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
    fn people_op_text(&self, source: SourceId, op: &Op) -> String {
        match op {
            Op::AddParticipant { draft } => format!("invite {}", draft.name),
            Op::UpdateParticipant { id, role, .. } => format!(
                "{} {}",
                match role {
                    Role::Moderator => "promote",
                    Role::Participant => "demote",
                },
                self.name_of(source, id)
            ),
            Op::RemoveParticipant { id } => format!("remove {}", self.name_of(source, id)),
            Op::RenewLink { id } => format!("renew the link of {}", self.name_of(source, id)),
            other => other.label(),
        }
    }

    // ----- keys ---------------------------------------------------------------

    /// Actions that mean something else in the people pane. Returns whether
    /// the action was handled here.
    pub(super) fn on_people_action(&mut self, action: Action, cmds: &mut Vec<Command>) -> bool {
        match action {
            Action::Filter => {
                let current = self.people_filter.clone().unwrap_or_default();
                self.open_input(InputPurpose::PeopleSearch, &current);
            }
            Action::Compose => self.open_invite_form(),
            Action::Delete => self.ask_remove(),
            Action::ToggleModerator => self.toggle_moderator(cmds),
            Action::RenewLink => self.renew_link(cmds),
            Action::ShowLink => self.show_link(),
            _ => return false,
        }
        true
    }

    fn busy_toast(&mut self, p: &Participant) -> bool {
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
            .take_if(|c| c.source == p.source && c.id == p.id);
        let want = match conflict {
            Some(c) => {
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
                if p.role == c.role {
                    self.toast(format!(
                        "{} is already {} — nothing to retry",
                        p.name,
                        role_name(p.role)
                    ));
                    return;
                }
                c.role
            }
            None => flip(p.role),
        };
        let op = Op::UpdateParticipant {
            id: p.id.clone(),
            role: want,
            name: p.name.clone(),
            version: p.version.clone(),
        };
        let text = self.people_op_text(p.source, &op);
        self.send(p.source, op, None, Patch::default(), cmds);
        self.toast(format!("{text} — waiting for the platform"));
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
    pub(super) fn remove_participant(
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

    // ----- the invite form -------------------------------------------------------

    fn open_invite_form(&mut self) {
        let sources = self.people_sources();
        let preferred = self.current_participant().map(|p| p.source);
        let source = preferred
            .filter(|s| sources.contains(s))
            .or_else(|| sources.first().copied());
        match source {
            Some(s) => self.form = Some(InviteForm::new(s)),
            None => self.toast("no source here manages participants"),
        }
    }

    /// The form's rows for its source, in order.
    pub fn form_fields(&self, form: &InviteForm) -> Vec<FormField> {
        let caps = self.caps_of(form.source);
        let mut v = Vec::new();
        if self.people_sources().len() > 1 {
            v.push(FormField::Source);
        }
        v.extend([
            FormField::Name,
            FormField::Email,
            FormField::Role,
            FormField::Notify,
        ]);
        if caps.one_time_link {
            v.push(FormField::OneTime);
        }
        if caps.link_lifetime {
            v.push(FormField::Lifetime);
        }
        v
    }

    pub(super) fn on_form_key(&mut self, input: Input, cmds: &mut Vec<Command>) {
        let Some(mut form) = self.form.take() else {
            return;
        };
        let fields = self.form_fields(&form);
        let at = fields.iter().position(|f| *f == form.field).unwrap_or(0);
        let step = |d: isize| fields[(at as isize + d).rem_euclid(fields.len() as isize) as usize];
        let field = form.field;
        match input.key {
            Key::Esc => {
                self.toast("invitation cancelled");
                return;
            }
            Key::Enter => match self.validate_form(&form) {
                Ok(draft) => {
                    let name = draft.name.clone();
                    let source = form.source;
                    self.send(
                        source,
                        Op::AddParticipant { draft },
                        None,
                        Patch::default(),
                        cmds,
                    );
                    self.toast(format!(
                        "inviting {name} to {} — waiting for the platform",
                        self.source_name(source)
                    ));
                    return;
                }
                Err((f, e)) => {
                    form.field = f;
                    form.error = Some(e);
                }
            },
            Key::Tab if input.shift => form.field = step(-1),
            Key::Tab | Key::Down => form.field = step(1),
            Key::Up => form.field = step(-1),
            _ if field.is_text() => {
                let digits_only = field == FormField::Lifetime;
                let refused = digits_only
                    && matches!(input.key, Key::Char(c) if !c.is_ascii_digit())
                    && !input.ctrl
                    && !input.alt;
                if refused {
                    form.error = Some("the lifetime is a whole number of minutes".into());
                } else if let Some(area) = form.area_mut(field) {
                    area.input(input);
                    form.error = None;
                }
            }
            Key::Char(' ') | Key::Left | Key::Right => {
                self.switch(&mut form, field, None, matches!(input.key, Key::Left));
            }
            Key::Char('y' | 'Y') => self.switch(&mut form, field, Some(true), false),
            Key::Char('n' | 'N') => self.switch(&mut form, field, Some(false), false),
            Key::Char('m' | 'M') if field == FormField::Role => form.role = Role::Moderator,
            Key::Char('p' | 'P') if field == FormField::Role => form.role = Role::Participant,
            _ => {}
        }
        self.form = Some(form);
    }

    /// Changes a switch field: `set` for yes/no keys, else the next value.
    fn switch(&self, form: &mut InviteForm, field: FormField, set: Option<bool>, back: bool) {
        form.error = None;
        match field {
            FormField::Role if set.is_none() => form.role = flip(form.role),
            FormField::Notify => form.notify = set.unwrap_or(!form.notify),
            FormField::OneTime => form.one_time = set.unwrap_or(!form.one_time),
            FormField::Source if set.is_none() => {
                let all = self.people_sources();
                if let Some(at) = all.iter().position(|s| *s == form.source) {
                    let d = if back { -1 } else { 1 };
                    form.source = all[(at as isize + d).rem_euclid(all.len() as isize) as usize];
                }
            }
            _ => {}
        }
    }

    pub(super) fn paste_into_form(&mut self, text: &str) {
        let Some(form) = self.form.as_mut() else {
            return;
        };
        let field = form.field;
        let clean = crate::text::sanitize(text).replace('\n', " ");
        if let Some(area) = form.area_mut(field) {
            area.insert_str(clean.trim());
            area.move_cursor(CursorMove::End);
            form.error = None;
        }
    }

    /// The draft, or the field to fix and why.
    pub fn validate_form(
        &self,
        form: &InviteForm,
    ) -> Result<ParticipantDraft, (FormField, String)> {
        let caps = self.caps_of(form.source);
        let fields = self.form_fields(form);
        let name = form.text(FormField::Name);
        if name.is_empty() {
            return Err((FormField::Name, "a name is required".into()));
        }
        if !crate::text::is_terminal_safe(&name) {
            return Err((
                FormField::Name,
                "the name contains control characters".into(),
            ));
        }
        let email = form.text(FormField::Email);
        if email.is_empty() {
            if caps.invite_needs_email {
                return Err((
                    FormField::Email,
                    format!(
                        "{} invites by e-mail: an address is required",
                        self.source_name(form.source)
                    ),
                ));
            }
            if form.notify {
                return Err((
                    FormField::Email,
                    "an address is needed to send the e-mail".into(),
                ));
            }
        } else if !crate::domain::valid_email(&email) {
            return Err((
                FormField::Email,
                format!(
                    "`{}` is not an e-mail address",
                    crate::text::sanitize(&email)
                ),
            ));
        } else if let Some(p) = self.people.iter().find(|p| {
            p.source == form.source
                && p.email
                    .as_deref()
                    .is_some_and(|e| e.trim().eq_ignore_ascii_case(&email))
        }) {
            return Err((
                FormField::Email,
                format!("{email} is already invited ({})", p.name),
            ));
        }
        let lifetime = if fields.contains(&FormField::Lifetime) {
            match form.text(FormField::Lifetime).as_str() {
                "" => None,
                t => match t.parse::<u32>() {
                    Ok(m) if (1..=MAX_LIFETIME_MIN).contains(&m) => Some(m),
                    _ => {
                        return Err((
                            FormField::Lifetime,
                            format!("the lifetime is 1 to {MAX_LIFETIME_MIN} minutes"),
                        ));
                    }
                },
            }
        } else {
            None
        };
        Ok(ParticipantDraft {
            name,
            email: (!email.is_empty()).then_some(email),
            role: form.role,
            notify: form.notify,
            one_time_link: fields.contains(&FormField::OneTime) && form.one_time,
            link_lifetime_min: lifetime,
            external_key: None,
        })
    }

    // ----- answers from the platform ------------------------------------------------

    /// A participant action the platform confirmed.
    pub(super) fn participant_op_confirmed(&mut self, queued: &QueuedOp, outcome: Outcome) {
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
            (Op::UpdateParticipant { id, role, .. }, _) => {
                if self
                    .people_conflict
                    .as_ref()
                    .is_some_and(|c| c.source == source && c.id == *id)
                {
                    self.people_conflict = None;
                }
                format!("{} is now {}", self.name_of(source, id), role_name(*role))
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
    pub(super) fn participant_op_failed(
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
                id, role, version, ..
            },
        ) = (error, &queued.op)
        {
            let name = self.name_of(source, id);
            cmds.push(Command::DropOp {
                op_id: queued.op_id.clone(),
            });
            cmds.push(Command::LoadParticipants(source));
            self.people_conflict = Some(PeopleConflict {
                source,
                id: id.clone(),
                name: name.clone(),
                role: *role,
                stale_version: version.clone(),
                message: message.clone(),
            });
            self.last_error = Some(format!(
                "{text} refused: {name} was changed meanwhile — {message} — reloaded; {} retries on the fresh version",
                self.keymap.key_for(Action::ToggleModerator)
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
