//! The invite form (`c` in the people pane): a few fields, switched or
//! typed into, checked before anything is sent.

use super::flip;
use crate::app::queue::Patch;
use crate::app::{Action, App, Command, Scope};
use crate::domain::{Op, ParticipantDraft, Role, SourceId};
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

impl App {
    pub(in crate::app) fn open_invite_form(&mut self) {
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

    pub(in crate::app) fn on_form_key(&mut self, input: Input, cmds: &mut Vec<Command>) {
        let Some(mut form) = self.form.take() else {
            return;
        };
        let fields = self.form_fields(&form);
        let at = fields.iter().position(|f| *f == form.field).unwrap_or(0);
        let step = |d: isize| fields[(at as isize + d).rem_euclid(fields.len() as isize) as usize];
        let field = form.field;
        // Keys of the form first; a text field takes the rest as typing, a
        // switched field has its own keys.
        let action = self.keymap.resolve(Scope::Form, &input).or_else(|| {
            (!field.is_text())
                .then(|| self.keymap.resolve(Scope::FormSwitch, &input))
                .flatten()
        });
        match action {
            Some(Action::FormCancel) => {
                self.toast("invitation cancelled");
                return;
            }
            Some(Action::FormSend) => match self.validate_form(&form) {
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
            Some(Action::FormNextField) => form.field = step(1),
            Some(Action::FormPrevField) => form.field = step(-1),
            Some(Action::FormSwitch) => self.switch(&mut form, field, None, false),
            Some(Action::FormSwitchBack) => self.switch(&mut form, field, None, true),
            Some(Action::FormYes) => self.switch(&mut form, field, Some(true), false),
            Some(Action::FormNo) => self.switch(&mut form, field, Some(false), false),
            Some(Action::FormModerator) if field == FormField::Role => form.role = Role::Moderator,
            Some(Action::FormParticipant) if field == FormField::Role => {
                form.role = Role::Participant;
            }
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
            _ => {}
        }
        self.form = Some(form);
    }

    /// Changes a switch field: `set` for yes/no keys, else the next value.
    fn switch(&self, form: &mut InviteForm, field: FormField, set: Option<bool>, back: bool) {
        form.error = None;
        match field {
            FormField::Role if set.is_none() => form.role = flip(&form.role),
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

    pub(in crate::app) fn paste_into_form(&mut self, text: &str) {
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
            role: form.role.clone(),
            notify: form.notify,
            one_time_link: fields.contains(&FormField::OneTime) && form.one_time,
            link_lifetime_min: lifetime,
            external_key: None,
        })
    }
}
