//! The live show in the core: the on-air snapshot the runtime publishes to
//! the show server, requests from show controllers (they run the same
//! handlers as the keys they mirror), the moderator's order of the selected
//! queue, and another console's on-air state arriving through the store.

use super::elsewhere::Origin;
use super::layout::PaneKind;
use super::{App, Command, Overlay};
use crate::domain::{
    LocalState, OnAir, QKey, Question, ShowAction, ShowItem, ShowRefusal, SourceId, Status,
};

impl App {
    /// What the show server serves now. `since` is left to the runtime,
    /// which sees when the on-air question changes.
    pub fn on_air_snapshot(&self) -> OnAir {
        let on_air = self.queue.on_air().map(|e| self.show_item(&e.view));
        let next = self.next_up().map(|q| self.show_item(q));
        let waiting = self.queue.count(Status::Selected);
        OnAir {
            queue_length: waiting - usize::from(on_air.is_some() && waiting > 0),
            on_air,
            next,
        }
    }

    /// The selected question `n` puts on air next.
    pub(super) fn next_up(&self) -> Option<&Question> {
        self.queue
            .iter_from(Status::Selected, None)
            .map(|e| &e.view)
            .find(|q| !q.on_air && self.matches(q))
    }

    fn show_item(&self, q: &Question) -> ShowItem {
        ShowItem {
            source: self.source_name(q.source).to_string(),
            id: q.id.clone(),
            text: q.text.clone(),
            author: q.author.clone(),
            votes: q.votes,
            since: None,
        }
    }

    /// A show controller's request, answered with `Command::ShowDone`.
    pub(super) fn on_show(&mut self, request: u64, action: ShowAction, cmds: &mut Vec<Command>) {
        let result = self.show_action(action, cmds);
        cmds.push(Command::ShowDone { request, result });
    }

    fn show_action(
        &mut self,
        action: ShowAction,
        cmds: &mut Vec<Command>,
    ) -> Result<(), ShowRefusal> {
        let on_air = self.queue.on_air().map(|e| e.view.key());
        match action {
            ShowAction::Next => {
                if on_air.is_none() && self.next_up().is_none() {
                    return Err(ShowRefusal::Nothing(
                        "nothing on air and no selected question to put on air".into(),
                    ));
                }
                self.next_on_air(cmds);
            }
            ShowAction::Clear => {
                if let Some(key) = on_air {
                    self.take_off_air(key, cmds);
                }
            }
            ShowAction::Answered => {
                let key =
                    on_air.ok_or_else(|| ShowRefusal::Nothing("nothing is on air".to_string()))?;
                self.set_status(key.clone(), Status::Answered, true, cmds);
                self.set_on_air(&key, false, cmds);
            }
            ShowAction::Air { source, id } => {
                let source = self
                    .sources
                    .iter()
                    .position(|s| s.name == source)
                    .ok_or_else(|| ShowRefusal::Unknown(format!("no source named `{source}`")))?;
                let key = QKey {
                    source: SourceId(source as u16),
                    id: id.into(),
                };
                if self.queue.get(&key).is_none() {
                    return Err(ShowRefusal::Unknown(format!(
                        "no question `{}` in `{}`",
                        key.id,
                        self.source_name(key.source)
                    )));
                }
                self.put_on_air(key, cmds);
            }
        }
        Ok(())
    }

    /// Off air, undoable, the question staying where it is.
    fn take_off_air(&mut self, key: QKey, cmds: &mut Vec<Command>) {
        let steps = self.snapshot(&key).into_iter().collect();
        self.set_on_air(&key, false, cmds);
        self.toast(format!(
            "Off air: “{}” — {} undoes",
            self.preview(&key),
            self.keymap.key_for(super::Action::Undo)
        ));
        self.push_undo(super::UndoEntry {
            label: "off air".into(),
            steps,
        });
    }

    /// Moves the selected question under the cursor up (negative) or down
    /// in the selected queue; the order is saved like any local state.
    pub(super) fn move_selected(&mut self, delta: i64, cmds: &mut Vec<Command>) {
        let key = match (self.focus, self.current()) {
            (PaneKind::Selected, Some(e)) => e.view.key(),
            _ => {
                self.toast("+/- order the selected queue: Tab to the selected pane");
                return;
            }
        };
        for (k, local) in self.queue.reorder_selected(&key, delta) {
            self.save_local(&k, local, cmds);
        }
        self.fix_scroll();
    }

    /// Another console's local states for one source, as the store holds
    /// them: the last change wins, so they replace this console's copy.
    pub(super) fn take_shared(&mut self, source: SourceId, states: Vec<(QKey, LocalState)>) {
        let mut stale: std::collections::HashMap<QKey, LocalState> =
            self.queue.locals_of(source).into_iter().collect();
        let origin = (!self.shared_seen.insert(source)).then_some(Origin::OtherConsole);
        for (key, local) in states {
            if stale.remove(&key) != Some(local) {
                let before = self.seen(&key);
                let m = self.queue.set_local(&key, local);
                if let Some(o) = origin {
                    self.judge(&key, before, o);
                }
                self.moved(m);
            }
        }
        for key in stale.into_keys() {
            let before = self.seen(&key);
            let m = self.queue.set_local(&key, LocalState::default());
            if let Some(o) = origin {
                self.judge(&key, before, o);
            }
            self.moved(m);
        }
    }

    /// Opens or closes the stage view.
    pub(super) fn toggle_stage(&mut self) {
        self.overlay = match self.overlay {
            Some(Overlay::Stage) => None,
            _ => Some(Overlay::Stage),
        };
    }
}
