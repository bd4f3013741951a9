//! Text inputs: the filter, a question typed by the moderator, chat
//! messages — and their checks before anything is queued.

use super::queue::Patch;
use super::{Action, App, Command, InputBox, InputPurpose, Scope};
use crate::domain::{Op, SourceId};
use ratatui_textarea::{Input, Key, TextArea};

impl App {
    pub(super) fn on_input_key(&mut self, input: Input, cmds: &mut Vec<Command>) {
        let Some(mut ib) = self.input.take() else {
            return;
        };
        // Shift- or Alt-Enter is a new line, whatever Enter is bound to.
        let newline = input.key == Key::Enter && (input.shift || input.alt);
        let action = (!newline)
            .then(|| self.keymap.resolve(Scope::Input, &input))
            .flatten();
        match action {
            Some(Action::InputCancel) => {
                match ib.purpose {
                    InputPurpose::Filter => self.clear_search(),
                    InputPurpose::PeopleSearch => self.people_filter = None,
                    _ => {}
                }
                return;
            }
            Some(Action::InputComplete) => self.complete_label_in(&mut ib),
            Some(Action::InputSend) => {
                let text = ib.area.lines().join("\n").trim().to_string();
                match self.submit_input(&ib.purpose, text, cmds) {
                    Ok(()) => return,
                    Err(e) => ib.error = Some(e),
                }
            }
            _ if newline => ib.area.insert_newline(),
            _ => {
                ib.area.input(input);
                ib.error = None;
                if let InputPurpose::Label { typed, .. } = &mut ib.purpose {
                    *typed = None;
                }
                let t = ib.area.lines().join(" ");
                match ib.purpose {
                    // A search that does not parse says why under the
                    // input; the last one that did stays applied.
                    InputPurpose::Filter => ib.error = self.set_search(&t, None).err(),
                    InputPurpose::PeopleSearch => {
                        self.people_filter = (!t.trim().is_empty()).then(|| t.trim().to_string());
                    }
                    _ => {}
                }
            }
        }
        self.input = Some(ib);
    }

    /// Submits a finished input; an error keeps the input open with it.
    pub(super) fn submit_input(
        &mut self,
        purpose: &InputPurpose,
        text: String,
        cmds: &mut Vec<Command>,
    ) -> Result<(), String> {
        match purpose.clone() {
            InputPurpose::Filter => self.set_search(&text, None),
            InputPurpose::PeopleSearch => {
                self.people_filter = (!text.is_empty()).then_some(text);
                Ok(())
            }
            InputPurpose::Question { source } => {
                if text.is_empty() {
                    return Err("type a question first (Esc cancels)".into());
                }
                let text = crate::text::sanitize(&text);
                self.send(
                    source,
                    Op::SubmitQuestion { text },
                    None,
                    Patch::default(),
                    cmds,
                );
                self.toast("question submitted");
                Ok(())
            }
            InputPurpose::RenameParticipant { source, id } => {
                self.submit_rename(source, &id, &text, cmds)
            }
            InputPurpose::Label { key, .. } => self.toggle_label(key, &text, cmds),
            InputPurpose::Chat { source, reply_to } => {
                let text = self.check_message(source, &text)?;
                self.send(
                    source,
                    Op::PostMessage { text, reply_to },
                    None,
                    Patch::default(),
                    cmds,
                );
                Ok(())
            }
        }
    }

    /// Checks a chat message before anything is queued: the source has chat,
    /// the text is not empty and within the platform's limit (counted as
    /// characters, after sanitizing: what would be sent). Returns the text
    /// to send.
    pub(super) fn check_message(&self, source: SourceId, text: &str) -> Result<String, String> {
        let view = self.source(source).ok_or("unknown source")?;
        if !view.caps.chat {
            return Err(format!("{} has no chat", view.name));
        }
        if text.trim().is_empty() {
            return Err("type a message first (Esc cancels)".into());
        }
        let text = crate::text::sanitize(text);
        if let Some(limit) = view.caps.message_limit {
            let n = text.chars().count();
            if n > limit {
                return Err(format!(
                    "{n} characters: the platform takes at most {limit}"
                ));
            }
        }
        Ok(text)
    }

    /// Headless chat (`qadeck chat --post`): the checks and the queueing the
    /// chat input does. An error means nothing was queued.
    pub fn post_message(
        &mut self,
        source: SourceId,
        text: &str,
        reply_to: Option<String>,
    ) -> Result<Vec<Command>, String> {
        let text = self.check_message(source, text)?;
        let mut cmds = Vec::new();
        self.send(
            source,
            Op::PostMessage { text, reply_to },
            None,
            Patch::default(),
            &mut cmds,
        );
        Ok(cmds)
    }

    /// Headless chat (`qadeck chat --delete`): what `D` then `y` queues.
    pub fn delete_message(&mut self, source: SourceId, id: &str) -> Result<Vec<Command>, String> {
        let view = self.source(source).ok_or("unknown source")?;
        if !view.caps.chat {
            return Err(format!("{} has no chat", view.name));
        }
        if id.trim().is_empty() {
            return Err("which message? give its id".into());
        }
        let mut cmds = Vec::new();
        self.send(
            source,
            Op::DeleteMessage { id: id.to_string() },
            None,
            Patch::default(),
            &mut cmds,
        );
        Ok(cmds)
    }

    pub(super) fn open_input(&mut self, purpose: InputPurpose, initial: &str) {
        let mut area = TextArea::new(initial.split('\n').map(str::to_string).collect());
        area.move_cursor(ratatui_textarea::CursorMove::Bottom);
        area.move_cursor(ratatui_textarea::CursorMove::End);
        self.input = Some(InputBox {
            purpose,
            area,
            error: None,
            hint: None,
        });
    }
}
