//! Renaming a participant (`e` in the people pane): an input prefilled with
//! the name; the update carries the new name only, so the platform keeps
//! the role (a STREAMBOXY Speaker stays Speaker). After a stale-version
//! refusal, `e` offers the refused name again on the fresh version.

use crate::app::queue::Patch;
use crate::app::{App, Command, InputPurpose};
use crate::domain::{Op, SourceId};

/// Longest name the rename takes, in characters.
pub const MAX_NAME: usize = 200;

impl App {
    /// `e`: opens the rename input, where the platform renames.
    pub(in crate::app) fn ask_rename(&mut self) {
        let Some(p) = self.current_participant().cloned() else {
            self.toast("no participant selected");
            return;
        };
        if !self.caps_of(p.source).rename {
            self.toast(format!(
                "{} cannot rename participants",
                self.source_name(p.source)
            ));
            return;
        }
        if self.busy_toast(&p) {
            return;
        }
        let retry = self
            .people_conflict
            .take_if(|c| c.source == p.source && c.id == p.id && c.wanted_name.is_some())
            .and_then(|c| c.wanted_name);
        if retry.is_some() {
            self.last_error = None;
        }
        let initial = retry.unwrap_or_else(|| p.name.clone());
        self.open_input(
            InputPurpose::RenameParticipant {
                source: p.source,
                id: p.id,
            },
            &initial,
        );
    }

    /// The rename input's Enter: checks the name, then sends it with the
    /// version the moderator saw.
    pub(in crate::app) fn submit_rename(
        &mut self,
        source: SourceId,
        id: &str,
        text: &str,
        cmds: &mut Vec<Command>,
    ) -> Result<(), String> {
        let Some(p) = self.participant(source, id).cloned() else {
            return Err("the participant was removed meanwhile (Esc closes)".into());
        };
        let name = crate::text::sanitize(&text.replace('\n', " "))
            .trim()
            .to_string();
        if name.is_empty() {
            return Err("a name is required (Esc cancels)".into());
        }
        if name.chars().count() > MAX_NAME {
            return Err(format!("a name is at most {MAX_NAME} characters"));
        }
        if name == p.name {
            return Err("that is the name already (Esc cancels)".into());
        }
        if self.participant_inflight(source, id).is_some() {
            return Err(format!("{} is still being changed — wait", p.name));
        }
        let op = Op::UpdateParticipant {
            id: p.id.clone(),
            role: None,
            name: Some(name),
            version: p.version,
        };
        let text = self.people_op_text(source, &op);
        self.send(source, op, None, Patch::default(), cmds);
        self.toast(format!("{text} — waiting for the platform"));
        Ok(())
    }
}
