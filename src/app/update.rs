//! `App::update`: one event in, state changed, commands out.

use super::layout::{PaneKind, inner_rows};
use super::queue::{Moved, Patch};
use super::{
    Action, App, Command, Event, Failed, Inflight, InputBox, InputPurpose, KeyChord, Overlay,
    QueuedOp, UndoEntry, trim_chat,
};
use crate::domain::{LocalState, MyVote, QKey, Question, SourceId, Status};
use crate::outbox::OpReport;
use crate::provider::{Connection, Feed, Op, Outcome, ProviderError, SourceFeed, VoteKind};
use ratatui_textarea::{Input, Key, TextArea};

fn pane_status(p: PaneKind) -> Option<Status> {
    match p {
        PaneKind::Pending => Some(Status::Pending),
        PaneKind::Selected => Some(Status::Selected),
        PaneKind::Answered => Some(Status::Answered),
        PaneKind::Rejected => Some(Status::Rejected),
        PaneKind::Chat | PaneKind::People => None,
    }
}

const QUESTION_PANES: [PaneKind; 4] = [
    PaneKind::Pending,
    PaneKind::Selected,
    PaneKind::Answered,
    PaneKind::Rejected,
];

impl App {
    /// Applies one event; returns what the runtime must do.
    pub fn update(&mut self, event: Event) -> Vec<Command> {
        let mut cmds = Vec::new();
        match event {
            Event::Key(input) => self.on_key(input, &mut cmds),
            Event::Paste(text) => {
                if self.form.is_some() {
                    self.paste_into_form(&text);
                } else if let Some(ib) = self.input.as_mut() {
                    ib.area
                        .insert_str(crate::text::sanitize(&text).replace('\n', " "));
                    ib.error = None;
                    let t = ib.area.lines().join(" ");
                    let t = (!t.trim().is_empty()).then(|| t.trim().to_string());
                    match ib.purpose {
                        InputPurpose::Filter => self.filter = t,
                        InputPurpose::PeopleSearch => self.people_filter = t,
                        _ => {}
                    }
                }
            }
            Event::Click { col, row } => self.on_click(col, row),
            Event::Scroll { down, col, row } => {
                self.on_click(col, row);
                for _ in 0..3 {
                    self.move_cursor(if down { 1 } else { -1 });
                }
            }
            Event::Resize { width, height } => self.size = (width, height),
            Event::Feed(feed) => self.on_feed(feed),
            Event::Op(report) => self.on_report(report, &mut cmds),
            Event::Tick { now } => {
                self.now = now;
                if self.toast.as_ref().is_some_and(|t| t.until <= now) {
                    self.toast = None;
                }
            }
            Event::Restored { ops, local } => {
                for (key, l) in local {
                    let m = self.queue.set_local(&key, l);
                    self.moved(m);
                }
                for q in ops {
                    self.track(q, None);
                }
            }
            Event::AccountInfo { source, rows } => {
                if let Some(Overlay::Info { rows: shown }) = &mut self.overlay {
                    let name = self.sources.get(source.0 as usize).map(|s| s.name.clone());
                    match rows {
                        Ok(r) => shown.extend(r.into_iter().map(|(k, v)| (format!("  {k}"), v))),
                        Err(e) => shown.push((format!("  {}", name.unwrap_or_default()), e)),
                    }
                }
            }
            Event::Events { source, events } => {
                if let Some(Overlay::Picker {
                    source: s,
                    events: slot,
                    ..
                }) = &mut self.overlay
                    && *s == source
                {
                    *slot = Some(events);
                }
            }
        }
        self.fix_scroll();
        cmds
    }

    // ----- keys -----------------------------------------------------------

    fn on_key(&mut self, input: Input, cmds: &mut Vec<Command>) {
        if self.form.is_some() {
            self.on_form_key(input, cmds);
            return;
        }
        if self.input.is_some() {
            self.on_input_key(input, cmds);
            return;
        }
        if let Some(overlay) = self.overlay.clone() {
            self.on_overlay_key(overlay, input, cmds);
            return;
        }
        let Some(action) = KeyChord::from_input(&input).and_then(|c| self.keymap.action(&c)) else {
            return;
        };
        self.on_action(action, cmds);
    }

    fn on_overlay_key(&mut self, overlay: Overlay, input: Input, cmds: &mut Vec<Command>) {
        let yes = matches!(input.key, Key::Char('y') | Key::Char('Y'));
        match overlay {
            Overlay::ConfirmQuit => {
                self.overlay = None;
                if yes {
                    self.quit = true;
                    cmds.push(Command::Quit);
                }
            }
            Overlay::ConfirmDelete { key, .. } => {
                self.overlay = None;
                if yes {
                    self.send(
                        key.source,
                        Op::Delete { id: key.id.clone() },
                        Some(key),
                        Patch::default(),
                        cmds,
                    );
                }
            }
            Overlay::ConfirmDeleteMessage { source, id, .. } => {
                self.overlay = None;
                if yes {
                    self.send(
                        source,
                        Op::DeleteMessage { id },
                        None,
                        Patch::default(),
                        cmds,
                    );
                }
            }
            Overlay::ConfirmRemoveParticipant { source, id, .. } => {
                self.overlay = None;
                if yes {
                    self.remove_participant(source, id, cmds);
                }
            }
            Overlay::Picker {
                source,
                events,
                row,
            } => {
                let n = events
                    .as_ref()
                    .and_then(|e| e.as_ref().ok())
                    .map_or(0, Vec::len);
                match input.key {
                    Key::Esc | Key::Char('q') => {
                        self.overlay = None;
                        // Say why nothing will arrive, where the moderator looks.
                        if let Some(s) = self.sources.get_mut(source.0 as usize)
                            && !s.has_event
                        {
                            s.connection = Connection::Failed {
                                reason: "no event picked: set `event` in the config, or restart to pick one".into(),
                            };
                        }
                    }
                    Key::Down | Key::Char('j') if n > 0 => {
                        self.overlay = Some(Overlay::Picker {
                            source,
                            events,
                            row: (row + 1).min(n - 1),
                        })
                    }
                    Key::Up | Key::Char('k') => {
                        self.overlay = Some(Overlay::Picker {
                            source,
                            events,
                            row: row.saturating_sub(1),
                        })
                    }
                    Key::Enter => {
                        if let Some(Ok(list)) = &events
                            && let Some(ev) = list.get(row)
                        {
                            cmds.push(Command::PickEvent {
                                source,
                                event: ev.id.clone(),
                            });
                            if let Some(s) = self.sources.get_mut(source.0 as usize) {
                                s.has_event = true;
                            }
                            self.overlay = None;
                        }
                    }
                    _ => {}
                }
            }
            Overlay::Help | Overlay::Info { .. } | Overlay::Link { .. } => self.overlay = None,
        }
    }

    fn on_input_key(&mut self, input: Input, cmds: &mut Vec<Command>) {
        let Some(mut ib) = self.input.take() else {
            return;
        };
        match input.key {
            Key::Esc => {
                match ib.purpose {
                    InputPurpose::Filter => self.filter = None,
                    InputPurpose::PeopleSearch => self.people_filter = None,
                    _ => {}
                }
                return;
            }
            Key::Enter if !input.shift && !input.alt => {
                let text = ib.area.lines().join("\n").trim().to_string();
                match self.submit_input(&ib.purpose, text, cmds) {
                    Ok(()) => return,
                    Err(e) => ib.error = Some(e),
                }
            }
            Key::Enter => ib.area.insert_newline(),
            _ => {
                ib.area.input(input);
                ib.error = None;
                let t = ib.area.lines().join(" ");
                let t = (!t.trim().is_empty()).then(|| t.trim().to_string());
                match ib.purpose {
                    InputPurpose::Filter => self.filter = t,
                    InputPurpose::PeopleSearch => self.people_filter = t,
                    _ => {}
                }
            }
        }
        self.input = Some(ib);
    }

    /// Submits a finished input; an error keeps the input open with it.
    fn submit_input(
        &mut self,
        purpose: &InputPurpose,
        text: String,
        cmds: &mut Vec<Command>,
    ) -> Result<(), String> {
        match purpose.clone() {
            InputPurpose::Filter => {
                self.filter = (!text.is_empty()).then_some(text);
                Ok(())
            }
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
    fn check_message(&self, source: SourceId, text: &str) -> Result<String, String> {
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
        });
    }

    fn on_action(&mut self, action: Action, cmds: &mut Vec<Command>) {
        if self.focus == PaneKind::People && self.on_people_action(action, cmds) {
            return;
        }
        match action {
            Action::Down => self.move_cursor(1),
            Action::Up => self.move_cursor(-1),
            Action::PageDown => self.move_cursor(self.page() as i64),
            Action::PageUp => self.move_cursor(-(self.page() as i64)),
            Action::Top => self.move_cursor(i64::MIN / 2),
            Action::Bottom => self.move_cursor(i64::MAX / 2),
            Action::NextPane => self.cycle_pane(1),
            Action::PrevPane => self.cycle_pane(-1),
            Action::Approve => self.on_current(
                |app, key, cmds| app.set_status(key, Status::Selected, true, cmds),
                cmds,
            ),
            Action::Reject => self.on_current(
                |app, key, cmds| app.set_status(key, Status::Rejected, true, cmds),
                cmds,
            ),
            Action::Answered => self.on_current(
                |app, key, cmds| app.set_status(key, Status::Answered, true, cmds),
                cmds,
            ),
            Action::Pending => self.on_current(
                |app, key, cmds| app.set_status(key, Status::Pending, true, cmds),
                cmds,
            ),
            Action::OnAir => self.on_current(|app, key, cmds| app.put_on_air(key, cmds), cmds),
            Action::Next => self.next_on_air(cmds),
            Action::Undo => self.undo_last(cmds),
            Action::Vote => self.on_current(|app, key, cmds| app.vote(key, MyVote::Up, cmds), cmds),
            Action::VoteDown => {
                self.on_current(|app, key, cmds| app.vote(key, MyVote::Down, cmds), cmds)
            }
            Action::Freeze => self.toggle_freeze(),
            Action::Filter => {
                let current = self.filter.clone().unwrap_or_default();
                self.open_input(InputPurpose::Filter, &current);
            }
            Action::Sort => {
                let next = match self.queue.sort() {
                    super::SortBy::Time => super::SortBy::Votes,
                    super::SortBy::Votes => super::SortBy::Time,
                };
                self.queue.set_sort(next);
                for p in QUESTION_PANES {
                    if let Some(ps) = self.panes.get_mut(&p) {
                        ps.top = None;
                    }
                }
                self.toast(match next {
                    super::SortBy::Time => "sorted by time (oldest first)",
                    super::SortBy::Votes => "sorted by votes",
                });
            }
            Action::ToggleRejected => {
                self.show_rejected = !self.show_rejected;
                if !self.show_rejected && self.focus == PaneKind::Rejected {
                    self.focus = PaneKind::Pending;
                }
            }
            Action::Delete => self.ask_delete(),
            Action::Compose => self.compose(None),
            Action::Reply => {
                let reply = self.current_message().map(|m| (m.source, m.id.clone()));
                match reply {
                    Some((s, id)) if self.focus == PaneKind::Chat => self.open_input(
                        InputPurpose::Chat {
                            source: s,
                            reply_to: Some(id),
                        },
                        "",
                    ),
                    _ => self.toast("reply works on a chat message (Tab to the chat pane)"),
                }
            }
            Action::Promote => self.promote_message(cmds),
            Action::ToggleModerator | Action::RenewLink | Action::ShowLink => self.toast(format!(
                "{} works on a participant (Tab to the people pane)",
                self.keymap.key_for(action)
            )),
            Action::ToggleOpen => self.toggle_open(cmds),
            Action::Info => {
                self.overlay = Some(Overlay::Info {
                    rows: self.info_rows(),
                });
                for (i, s) in self.sources.iter().enumerate() {
                    if s.has_event {
                        cmds.push(Command::LoadAccountInfo(SourceId(i as u16)));
                    }
                }
            }
            Action::Retry => match self.failed.pop() {
                Some(f) => {
                    if self.failed.is_empty() {
                        self.last_error = None;
                    }
                    self.toast(format!("retrying: {}", f.queued.op.label()));
                    cmds.push(Command::RetryOp {
                        op_id: f.queued.op_id.clone(),
                    });
                    self.track(f.queued, None);
                }
                None => self.toast("no failed action to retry"),
            },
            Action::Drop => match self.failed.pop() {
                Some(f) => {
                    if self.failed.is_empty() {
                        self.last_error = None;
                    }
                    self.toast(format!("dropped: {}", f.queued.op.label()));
                    cmds.push(Command::DropOp {
                        op_id: f.queued.op_id,
                    });
                }
                None => self.toast("no failed action to drop"),
            },
            Action::DetailDown => self.detail_scroll = self.detail_scroll.saturating_add(3),
            Action::DetailUp => self.detail_scroll = self.detail_scroll.saturating_sub(3),
            Action::Help => self.overlay = Some(Overlay::Help),
            Action::Quit => {
                if self.inflight.is_empty() {
                    self.quit = true;
                    cmds.push(Command::Quit);
                } else {
                    self.overlay = Some(Overlay::ConfirmQuit);
                }
            }
        }
    }

    fn on_current(
        &mut self,
        f: impl FnOnce(&mut App, QKey, &mut Vec<Command>),
        cmds: &mut Vec<Command>,
    ) {
        match self.current().map(|e| e.view.key()) {
            Some(key) => f(self, key, cmds),
            None if pane_status(self.focus).is_none() => {
                self.toast("that key works on questions (Tab to a question pane)")
            }
            None => self.toast("nothing selected"),
        }
    }

    // ----- moderation ------------------------------------------------------

    /// Headless moderation (`qadeck moderate`): the decisions the keys make,
    /// for a question that may not be loaded (the platform may be down).
    pub fn moderate(&mut self, key: QKey, action: ModAction) -> Result<Vec<Command>, String> {
        let mut cmds = Vec::new();
        let caps = self
            .source(key.source)
            .map(|s| s.caps.clone())
            .ok_or("unknown source")?;
        if !caps.questions {
            return Err("this source has no questions".into());
        }
        let status = match action {
            ModAction::Approve => Some(Status::Selected),
            ModAction::Reject => Some(Status::Rejected),
            ModAction::Answered => Some(Status::Answered),
            ModAction::Pending => Some(Status::Pending),
            _ => None,
        };
        let loaded = self.queue.get(&key).is_some();
        match (action, status) {
            (_, Some(target)) if loaded => self.set_status(key, target, true, &mut cmds),
            (_, Some(target)) => {
                if caps.stores(target) {
                    let op = Op::SetStatus {
                        id: key.id.clone(),
                        status: target,
                    };
                    self.send(key.source, op, None, Patch::default(), &mut cmds);
                } else {
                    let mut local = self.queue.local(&key);
                    local.status = Some(target);
                    self.save_local(&key, local, &mut cmds);
                }
            }
            (ModAction::OnAir, _) if loaded => self.put_on_air(key, &mut cmds),
            (ModAction::OnAir, _) => return Err(format!("question {} is not loaded", key.id)),
            (ModAction::Delete, _) => {
                if !caps.delete {
                    return Err("this platform cannot delete questions".into());
                }
                self.send(
                    key.source,
                    Op::Delete { id: key.id.clone() },
                    Some(key),
                    Patch::default(),
                    &mut cmds,
                );
            }
            (ModAction::Vote | ModAction::Unvote | ModAction::VoteDown, _) => {
                let want = match action {
                    ModAction::Vote => MyVote::Up,
                    ModAction::VoteDown => MyVote::Down,
                    _ => MyVote::None,
                };
                match (caps.vote, want) {
                    (VoteKind::None, _) => return Err("this platform has no votes".into()),
                    (VoteKind::Toggle, MyVote::Down) => {
                        return Err("this platform has no down-votes".into());
                    }
                    (VoteKind::UpDown, MyVote::None) => {
                        return Err("this platform cannot take a vote back".into());
                    }
                    _ => {}
                }
                let patch = loaded.then(|| {
                    (
                        key.clone(),
                        Patch {
                            my_vote: Some(want),
                            ..Patch::default()
                        },
                    )
                });
                let op = Op::Vote {
                    id: key.id.clone(),
                    want,
                };
                let queued = QueuedOp {
                    op_id: self.new_op_id(),
                    source: key.source,
                    op,
                };
                cmds.push(Command::Send(queued.clone()));
                self.track(queued, patch);
            }
            _ => {}
        }
        Ok(cmds)
    }

    fn snapshot(&self, key: &QKey) -> Option<(QKey, Status, bool, MyVote)> {
        self.queue
            .get(key)
            .map(|e| (key.clone(), e.view.status, e.view.on_air, e.view.my_vote))
    }

    /// Moves a question to `target`, on the platform where it stores that
    /// state, locally where it does not.
    fn set_status(&mut self, key: QKey, target: Status, record: bool, cmds: &mut Vec<Command>) {
        let Some(entry) = self.queue.get(&key) else {
            return;
        };
        let (current, server_status, mut local) =
            (entry.view.status, entry.server.status, entry.local);
        let caps = self.source(key.source).map(|s| s.caps.clone());
        let Some(caps) = caps.filter(|c| c.questions) else {
            self.toast("this source has no questions to moderate");
            return;
        };
        if current == target {
            self.toast(format!("already {}", target.as_str()));
            return;
        }
        let before = self.snapshot(&key);
        let op = Op::SetStatus {
            id: key.id.clone(),
            status: target,
        };
        if local.status.is_some() && target == server_status {
            local.status = None;
        } else if caps.stores(target) {
            local.status = None;
            let patch = Patch {
                status: Some(target),
                ..Patch::default()
            };
            self.send(key.source, op.clone(), Some(key.clone()), patch, cmds);
        } else {
            local.status = Some(target);
        }
        if target != Status::Selected {
            local.on_air = false;
        }
        self.save_local(&key, local, cmds);
        if record && let Some(b) = before {
            let label = op.label();
            self.toast(format!(
                "{} “{}” — {} undoes",
                capitalize(&label),
                self.preview(&key),
                self.keymap.key_for(Action::Undo)
            ));
            self.push_undo(UndoEntry {
                label,
                steps: vec![b],
            });
        }
    }

    fn save_local(&mut self, key: &QKey, local: LocalState, cmds: &mut Vec<Command>) {
        if self.queue.local(key) != local {
            let m = self.queue.set_local(key, local);
            self.moved(m);
            cmds.push(Command::SaveLocal {
                key: key.clone(),
                local,
            });
        }
    }

    fn set_on_air(&mut self, key: &QKey, on: bool, cmds: &mut Vec<Command>) {
        let mut local = self.queue.local(key);
        local.on_air = on;
        self.save_local(key, local, cmds);
    }

    fn put_on_air(&mut self, key: QKey, cmds: &mut Vec<Command>) {
        let mut steps = Vec::new();
        // One at a time, also when the one on air is not loaded.
        for other in self.queue.on_air_unloaded() {
            if other != key {
                self.set_on_air(&other, false, cmds);
            }
        }
        if let Some(prev) = self.queue.on_air().map(|e| e.view.key()) {
            if prev == key {
                self.toast("already on air");
                return;
            }
            steps.extend(self.snapshot(&prev));
            self.set_on_air(&prev, false, cmds);
        }
        steps.extend(self.snapshot(&key));
        if self
            .queue
            .get(&key)
            .is_some_and(|e| e.view.status != Status::Selected)
        {
            self.set_status(key.clone(), Status::Selected, false, cmds);
        }
        self.set_on_air(&key, true, cmds);
        self.toast(format!(
            "On air: “{}” — {} undoes",
            self.preview(&key),
            self.keymap.key_for(Action::Undo)
        ));
        self.push_undo(UndoEntry {
            label: "on air".into(),
            steps,
        });
    }

    /// The key pressed most: the on-air question is answered, the top
    /// selected one goes on air.
    fn next_on_air(&mut self, cmds: &mut Vec<Command>) {
        let current = self.queue.on_air().map(|e| e.view.key());
        let next = self
            .queue
            .iter_from(Status::Selected, None)
            .find(|e| !e.view.on_air && self.matches(&e.view))
            .map(|e| e.view.key());
        if current.is_none() && next.is_none() {
            self.toast("nothing on air and no selected question to put on air");
            return;
        }
        let mut steps = Vec::new();
        if let Some(cur) = &current {
            steps.extend(self.snapshot(cur));
            self.set_status(cur.clone(), Status::Answered, false, cmds);
        }
        if let Some(n) = &next {
            steps.extend(self.snapshot(n));
            self.set_on_air(n, true, cmds);
            if let Some(ps) = self.panes.get_mut(&PaneKind::Selected)
                && self.focus == PaneKind::Selected
            {
                ps.cursor = Some(n.clone());
            }
        }
        let text = match &next {
            Some(n) => format!(
                "Next on air: “{}” — {} undoes",
                self.preview(n),
                self.keymap.key_for(Action::Undo)
            ),
            None => format!(
                "Answered; no selected question left — {} undoes",
                self.keymap.key_for(Action::Undo)
            ),
        };
        self.toast(text);
        self.push_undo(UndoEntry {
            label: "next".into(),
            steps,
        });
    }

    fn vote(&mut self, key: QKey, direction: MyVote, cmds: &mut Vec<Command>) {
        let Some(kind) = self.source(key.source).map(|s| s.caps.vote) else {
            return;
        };
        let Some(current) = self.queue.get(&key).map(|e| e.view.my_vote) else {
            return;
        };
        let want = match (kind, direction) {
            (VoteKind::None, _) => {
                self.toast("this platform has no votes");
                return;
            }
            (VoteKind::Toggle, MyVote::Down) => {
                self.toast("this platform only has up-votes (v toggles yours)");
                return;
            }
            (VoteKind::Toggle, _) if current == MyVote::Up => MyVote::None,
            (VoteKind::UpDown, d) if current == d => {
                self.toast("you already voted that way");
                return;
            }
            (_, d) => d,
        };
        let before = self.snapshot(&key);
        let patch = Patch {
            my_vote: Some(want),
            ..Patch::default()
        };
        let op = Op::Vote {
            id: key.id.clone(),
            want,
        };
        let label = op.label();
        self.send(key.source, op, Some(key.clone()), patch, cmds);
        self.toast(format!(
            "{} “{}” — {} undoes",
            capitalize(&label),
            self.preview(&key),
            self.keymap.key_for(Action::Undo)
        ));
        if let Some(b) = before {
            self.push_undo(UndoEntry {
                label,
                steps: vec![b],
            });
        }
    }

    fn undo_last(&mut self, cmds: &mut Vec<Command>) {
        let Some(entry) = self.undo.pop() else {
            self.toast("nothing to undo");
            return;
        };
        for (key, status, on_air, my_vote) in entry.steps.iter().rev() {
            let Some(now) = self.queue.get(key).map(|e| e.view.clone()) else {
                continue;
            };
            if now.status != *status {
                self.set_status(key.clone(), *status, false, cmds);
            }
            if now.my_vote != *my_vote {
                let op = Op::Vote {
                    id: key.id.clone(),
                    want: *my_vote,
                };
                let patch = Patch {
                    my_vote: Some(*my_vote),
                    ..Patch::default()
                };
                self.send(key.source, op, Some(key.clone()), patch, cmds);
            }
            if self.queue.local(key).on_air != *on_air {
                self.set_on_air(key, *on_air, cmds);
            }
        }
        self.toast(format!("undone: {}", entry.label));
    }

    fn ask_delete(&mut self) {
        if self.focus == PaneKind::Chat {
            if let Some(m) = self.current_message() {
                let preview = crate::text::one_line(&m.text, 50);
                self.overlay = Some(Overlay::ConfirmDeleteMessage {
                    source: m.source,
                    id: m.id.clone(),
                    preview,
                });
            }
            return;
        }
        let Some(e) = self.current() else {
            self.toast("nothing selected");
            return;
        };
        let key = e.view.key();
        if !self.source(key.source).is_some_and(|s| s.caps.delete) {
            self.toast("this platform cannot delete questions (reject hides it)");
            return;
        }
        let preview = crate::text::one_line(&e.view.text, 50);
        self.overlay = Some(Overlay::ConfirmDelete { key, preview });
    }

    fn compose(&mut self, _reply: Option<String>) {
        if self.focus == PaneKind::Chat {
            match self.chat_source() {
                Some(source) => self.open_input(
                    InputPurpose::Chat {
                        source,
                        reply_to: None,
                    },
                    "",
                ),
                None => self.toast("no source with chat"),
            }
            return;
        }
        let preferred = self.current().map(|e| e.view.source);
        let source = preferred
            .filter(|s| self.source(*s).is_some_and(|v| v.caps.submit_question))
            .or_else(|| {
                self.sources
                    .iter()
                    .position(|s| s.caps.submit_question && s.has_event)
                    .map(|i| SourceId(i as u16))
            });
        match source {
            Some(source) => self.open_input(InputPurpose::Question { source }, ""),
            None => self.toast("no source here accepts questions from the moderator"),
        }
    }

    fn promote_message(&mut self, cmds: &mut Vec<Command>) {
        if self.focus != PaneKind::Chat {
            self.toast("promote works on a chat message (Tab to the chat pane)");
            return;
        }
        let Some(m) = self.current_message().cloned() else {
            return;
        };
        if !self
            .source(m.source)
            .is_some_and(|s| s.caps.submit_question)
        {
            self.toast("this source does not accept questions from the moderator");
            return;
        }
        self.send(
            m.source,
            Op::SubmitQuestion {
                text: m.text.clone(),
            },
            None,
            Patch::default(),
            cmds,
        );
        self.toast(format!(
            "promoted to the question queue: “{}”",
            crate::text::one_line(&m.text, 40)
        ));
    }

    fn toggle_open(&mut self, cmds: &mut Vec<Command>) {
        let preferred = self.current().map(|e| e.view.source);
        let source = preferred
            .filter(|s| self.source(*s).is_some_and(|v| v.caps.open_close))
            .or_else(|| {
                self.sources
                    .iter()
                    .position(|s| s.caps.open_close)
                    .map(|i| SourceId(i as u16))
            });
        let Some(source) = source else {
            self.toast("no source here can be opened or closed");
            return;
        };
        let Some(view) = self.sources.get_mut(source.0 as usize) else {
            return;
        };
        let open = !view.questions_open.unwrap_or(true);
        view.questions_open = Some(open);
        let chat = view.caps.chat.then_some(open);
        let name = view.name.clone();
        self.send(
            source,
            Op::SetOpen {
                questions: Some(open),
                chat,
                guest_chat: None,
            },
            None,
            Patch::default(),
            cmds,
        );
        self.toast(format!(
            "{name}: {} for questions",
            if open { "opening" } else { "closing" }
        ));
    }

    /// Queues an action: in flight until the platform answers.
    pub(super) fn send(
        &mut self,
        source: SourceId,
        op: Op,
        key: Option<QKey>,
        patch: Patch,
        cmds: &mut Vec<Command>,
    ) {
        let queued = QueuedOp {
            op_id: self.new_op_id(),
            source,
            op,
        };
        cmds.push(Command::Send(queued.clone()));
        self.track(queued, key.map(|k| (k, patch)));
    }

    /// Shows an action as in flight (new, restored or retried).
    fn track(&mut self, queued: QueuedOp, patch: Option<(QKey, Patch)>) {
        let (key, patch) = match patch {
            Some((k, p)) => (Some(k), p),
            None => {
                let key = queued.op.target().map(|id| QKey {
                    source: queued.source,
                    id: id.to_string(),
                });
                (key, patch_of(&queued.op))
            }
        };
        if let Some(k) = &key
            && !matches!(
                queued.op,
                Op::DeleteMessage { .. }
                    | Op::RemoveParticipant { .. }
                    | Op::UpdateParticipant { .. }
                    | Op::RenewLink { .. }
            )
        {
            let m = self.queue.add_patch(k, &queued.op_id, patch);
            self.moved(m);
        }
        self.inflight.insert(
            queued.op_id.clone(),
            Inflight {
                queued,
                key,
                retry: None,
                retry_at: None,
            },
        );
    }

    // ----- reports from the outbox ------------------------------------------

    fn on_report(&mut self, report: OpReport, cmds: &mut Vec<Command>) {
        match report {
            OpReport::Confirmed { op_id, outcome } => {
                let Some(done) = self.inflight.remove(&op_id) else {
                    return;
                };
                if let Some(k) = &done.key {
                    let m = self.queue.drop_patch(k, &op_id);
                    self.moved(m);
                }
                if done.queued.op.is_participant_op() {
                    self.participant_op_confirmed(&done.queued, outcome);
                    return;
                }
                self.apply_outcome(done.queued.source, outcome);
            }
            OpReport::Retrying {
                op_id,
                attempt,
                in_ms,
                reason,
            } => {
                // Shown with a live countdown (`App::retry_note`), not as an
                // error that would outlive the retry.
                if let Some(f) = self.inflight.get_mut(&op_id) {
                    f.retry = Some((attempt, reason));
                    f.retry_at = Some(self.now.saturating_add(in_ms.min(i64::MAX as u64) as i64));
                }
            }
            OpReport::Failed { op_id, error } => {
                let Some(failed) = self.inflight.remove(&op_id) else {
                    return;
                };
                if let ProviderError::Invalid(reason) = &error
                    && self.reopen_form(&failed.queued, reason)
                {
                    return;
                }
                if let Some(k) = &failed.key {
                    let m = self.queue.drop_patch(k, &op_id);
                    self.moved(m);
                    // An approval that failed takes its on-air flag with it.
                    if matches!(
                        failed.queued.op,
                        Op::SetStatus {
                            status: Status::Selected,
                            ..
                        }
                    ) && self.queue.local(k).on_air
                    {
                        let mut l = self.queue.local(k);
                        l.on_air = false;
                        let m = self.queue.set_local(k, l);
                        self.moved(m);
                    }
                }
                if self.participant_op_failed(&failed.queued, &error, cmds) {
                    return;
                }
                let label = failed.queued.op.label();
                let what = failed
                    .key
                    .as_ref()
                    .map(|k| format!(" “{}”", self.preview(k)))
                    .unwrap_or_default();
                self.last_error = Some(format!(
                    "{label}{what} failed: {error} — {} retry · {} drop",
                    self.keymap.key_for(Action::Retry),
                    self.keymap.key_for(Action::Drop)
                ));
                self.failed.push(Failed {
                    queued: failed.queued,
                    reason: error.to_string(),
                });
            }
        }
    }

    /// A chat message or question the platform refused as invalid goes
    /// back into the form that sent it, with the platform's words under it,
    /// so the moderator can fix and resend it (or Esc to give it up). Only
    /// when no other input or dialog is open: those are never taken over.
    /// The refused action stays in the journal as failed.
    fn reopen_form(&mut self, queued: &QueuedOp, reason: &str) -> bool {
        if self.input.is_some() || self.overlay.is_some() {
            return false;
        }
        let source = queued.source;
        let (purpose, text) = match &queued.op {
            Op::PostMessage { text, reply_to } => (
                InputPurpose::Chat {
                    source,
                    reply_to: reply_to.clone(),
                },
                text,
            ),
            Op::SubmitQuestion { text } => (InputPurpose::Question { source }, text),
            _ => return false,
        };
        self.open_input(purpose, text);
        if let Some(ib) = self.input.as_mut() {
            ib.error = Some(format!("refused: {reason}"));
        }
        true
    }

    pub(super) fn apply_outcome(&mut self, source: SourceId, outcome: Outcome) {
        match outcome {
            Outcome::Question(mut q) => {
                q.source = source;
                let m = self.queue.confirm(q);
                self.moved(m);
            }
            Outcome::Voted { id, my_vote, votes } => {
                let m = self
                    .queue
                    .confirm_vote(&QKey { source, id }, my_vote, votes);
                self.moved(m);
            }
            Outcome::QuestionGone(id) => {
                let m = self.queue.remove(&QKey { source, id });
                self.moved(m);
            }
            Outcome::Message(mut msg) => {
                msg.source = source;
                self.merge_messages(vec![msg]);
            }
            Outcome::MessageGone(id) => self.chat.retain(|m| !(m.source == source && m.id == id)),
            Outcome::Participant(p) => self.upsert_participant(source, p),
            Outcome::ParticipantGone(id) => self.forget_participant(source, &id),
            Outcome::Done => {}
        }
    }

    // ----- feeds ------------------------------------------------------------

    fn on_feed(&mut self, sf: SourceFeed) {
        let holds_questions = matches!(
            sf.feed,
            Feed::Snapshot(_) | Feed::Upsert(_) | Feed::QuestionGone(_)
        );
        if holds_questions && let Some(held) = self.frozen.as_mut() {
            if let Feed::Upsert(qs) | Feed::Snapshot(qs) = &sf.feed {
                for q in qs {
                    let key = QKey {
                        source: sf.source,
                        id: q.id.clone(),
                    };
                    if self.queue.get(&key).is_none() {
                        self.frozen_new.insert(key);
                    }
                }
            }
            held.push(sf);
            return;
        }
        self.apply_feed(sf);
    }

    fn apply_feed(&mut self, SourceFeed { source, feed }: SourceFeed) {
        let idx = source.0 as usize;
        match feed {
            Feed::Connection(c) => {
                let now = self.now;
                if let Some(s) = self.sources.get_mut(idx) {
                    s.retry_at = match &c {
                        Connection::Retrying { in_ms, .. } => {
                            Some(now.saturating_add((*in_ms).min(i64::MAX as u64) as i64))
                        }
                        _ => None,
                    };
                    s.connection = c;
                }
            }
            Feed::Snapshot(qs) => {
                let keep: std::collections::HashSet<String> =
                    qs.iter().map(|q| q.id.clone()).collect();
                for q in qs {
                    self.upsert(source, q);
                }
                for key in self.queue.keys_of(source) {
                    if !keep.contains(&key.id) {
                        let m = self.queue.remove(&key);
                        self.moved(m);
                    }
                }
            }
            Feed::Upsert(qs) => {
                for q in qs {
                    self.upsert(source, q);
                }
            }
            Feed::QuestionGone(id) => {
                let m = self.queue.remove(&QKey { source, id });
                self.moved(m);
            }
            Feed::ChatSnapshot(mut msgs) => {
                self.chat.retain(|m| m.source != source);
                for m in &mut msgs {
                    m.source = source;
                }
                self.merge_messages(msgs);
            }
            Feed::Messages(mut msgs) => {
                for m in &mut msgs {
                    m.source = source;
                }
                self.merge_messages(msgs);
            }
            Feed::MessageGone(id) => self.chat.retain(|m| !(m.source == source && m.id == id)),
            Feed::Participants(list) => self.set_participants(source, list),
            Feed::Budget(b) => {
                if let Some(s) = self.sources.get_mut(idx) {
                    s.budget = Some(b);
                }
            }
            Feed::Notice(text) => {
                let name = self.source_name(source).to_string();
                self.toast(format!("{name}: {text}"));
                if let Some(s) = self.sources.get_mut(idx) {
                    s.notice = Some(text);
                }
            }
            Feed::OpenState { questions, chat } => {
                if let Some(s) = self.sources.get_mut(idx) {
                    s.questions_open = questions.or(s.questions_open);
                    s.chat_open = chat.or(s.chat_open);
                }
            }
        }
    }

    fn upsert(&mut self, source: SourceId, mut q: Question) {
        q.source = source;
        let m = self.queue.upsert(q);
        self.moved(m);
    }

    fn merge_messages(&mut self, msgs: Vec<crate::domain::Message>) {
        for m in msgs {
            match self
                .chat
                .iter_mut()
                .rev()
                .find(|x| x.source == m.source && x.id == m.id)
            {
                Some(x) => *x = m,
                None => self.chat.push(m),
            }
        }
        self.chat.sort_by_key(|m| m.created);
        trim_chat(&mut self.chat);
    }

    fn toggle_freeze(&mut self) {
        match self.frozen.take() {
            None => {
                self.frozen = Some(Vec::new());
                self.toast(format!(
                    "frozen: new questions wait — {} resumes",
                    self.keymap.key_for(Action::Freeze)
                ));
            }
            Some(held) => {
                let n = self.frozen_new.len();
                self.frozen_new.clear();
                for sf in held {
                    self.apply_feed(sf);
                }
                self.toast(format!(
                    "resumed: {n} new question{}",
                    if n == 1 { "" } else { "s" }
                ));
            }
        }
    }

    // ----- cursor and scrolling ----------------------------------------------

    /// Keeps cursors on a moved question's neighbours when it leaves a pane,
    /// and records the change for headless output.
    fn moved(&mut self, m: Option<Moved>) {
        let Some(m) = m else { return };
        self.changed(&m.key);
        let Some((from_status, from_order)) = m.from else {
            return;
        };
        if m.to == Some(from_status) {
            return;
        }
        let Some(kind) = QUESTION_PANES
            .into_iter()
            .find(|p| pane_status(*p) == Some(from_status))
        else {
            return;
        };
        if self.panes.get(&kind).and_then(|p| p.cursor.as_ref()) != Some(&m.key) {
            return;
        }
        let next = self
            .queue
            .iter_after(from_status, &from_order)
            .find(|e| self.matches(&e.view))
            .or_else(|| {
                self.queue
                    .iter_before(from_status, &from_order)
                    .find(|e| self.matches(&e.view))
            })
            .map(|e| e.view.key());
        if let Some(p) = self.panes.get_mut(&kind) {
            p.cursor = next;
        }
    }

    fn page(&self) -> usize {
        self.screen()
            .panes
            .iter()
            .find(|(k, _)| *k == self.focus)
            .map_or(10, |(_, r)| inner_rows(*r).max(1))
    }

    fn cycle_pane(&mut self, step: i64) {
        let panes = self.visible_panes();
        let at = panes.iter().position(|p| *p == self.focus).unwrap_or(0) as i64;
        let n = panes.len() as i64;
        self.focus = panes[((at + step).rem_euclid(n)) as usize];
        self.detail_scroll = 0;
    }

    fn move_cursor(&mut self, delta: i64) {
        self.detail_scroll = 0;
        let Some(status) = pane_status(self.focus) else {
            let len = match self.focus {
                PaneKind::Chat => self.chat.len(),
                _ => self.people_len(),
            };
            let p = self.panes.entry(self.focus).or_default();
            p.row = (p.row as i64 + delta).clamp(0, len.saturating_sub(1) as i64) as usize;
            return;
        };
        let cursor = self.pane(self.focus).cursor;
        let Some(order) = cursor
            .as_ref()
            .and_then(|k| self.queue.order_of(k))
            .cloned()
        else {
            return;
        };
        let mut target = cursor;
        if delta > 0 {
            for e in self
                .queue
                .iter_after(status, &order)
                .filter(|e| self.matches(&e.view))
                .take(delta as usize)
            {
                target = Some(e.view.key());
            }
        } else {
            for e in self
                .queue
                .iter_before(status, &order)
                .filter(|e| self.matches(&e.view))
                .take((-delta) as usize)
            {
                target = Some(e.view.key());
            }
        }
        self.panes.entry(self.focus).or_default().cursor = target;
    }

    fn on_click(&mut self, col: u16, row: u16) {
        let screen = self.screen();
        let hit = screen
            .panes
            .iter()
            .find(|(_, r)| col >= r.x && col < r.x + r.width && row >= r.y && row < r.y + r.height);
        let Some((kind, rect)) = hit.copied() else {
            return;
        };
        self.focus = kind;
        self.detail_scroll = 0;
        let Some(line) = row.checked_sub(rect.y + 1).map(usize::from) else {
            return;
        };
        if line >= inner_rows(rect) {
            return;
        }
        match pane_status(kind) {
            Some(status) => {
                let top = self.pane(kind).top;
                let hit = self
                    .queue
                    .iter_from(status, top.as_ref())
                    .filter(|e| self.matches(&e.view))
                    .nth(line)
                    .map(|e| e.view.key());
                if let Some(k) = hit {
                    self.panes.entry(kind).or_default().cursor = Some(k);
                }
            }
            None => {
                let len = if kind == PaneKind::Chat {
                    self.chat.len()
                } else {
                    self.people_len()
                };
                let p = self.panes.entry(kind).or_default();
                let r = p.top_row + line;
                if r < len {
                    p.row = r;
                }
            }
        }
    }

    /// Keeps every cursor on an item of its pane and inside the view.
    fn fix_scroll(&mut self) {
        let screen = self.screen();
        for (kind, rect) in screen.panes {
            let rows = inner_rows(rect).max(1);
            match pane_status(kind) {
                Some(status) => self.fix_question_pane(kind, status, rows),
                None => {
                    let len = if kind == PaneKind::Chat {
                        self.chat.len()
                    } else {
                        self.people_len()
                    };
                    let p = self.panes.entry(kind).or_default();
                    if kind == PaneKind::Chat && p.row + 1 >= len.saturating_sub(1) {
                        // Follow the newest message unless scrolled back.
                        p.row = len.saturating_sub(1);
                    }
                    p.row = p.row.min(len.saturating_sub(1));
                    if p.row < p.top_row {
                        p.top_row = p.row;
                    } else if p.row >= p.top_row + rows {
                        p.top_row = p.row + 1 - rows;
                    }
                }
            }
        }
    }

    fn fix_question_pane(&mut self, kind: PaneKind, status: Status, rows: usize) {
        let state = self.pane(kind);
        let valid = state
            .cursor
            .as_ref()
            .and_then(|k| self.queue.get(k))
            .filter(|e| e.view.status == status && self.matches(&e.view));
        let cursor = match valid {
            Some(e) => e.view.key(),
            None => match self
                .queue
                .iter_from(status, state.top.as_ref())
                .find(|e| self.matches(&e.view))
                .or_else(|| {
                    self.queue
                        .iter_from(status, None)
                        .find(|e| self.matches(&e.view))
                }) {
                Some(e) => e.view.key(),
                None => {
                    self.panes.insert(kind, super::PaneState::default());
                    return;
                }
            },
        };
        let Some(corder) = self.queue.order_of(&cursor).cloned() else {
            return;
        };
        let top_ok = state.top.as_ref().filter(|t| **t <= corder).and_then(|t| {
            // The cursor must be within `rows` matching items from the top.
            let mut seen = 0;
            for e in self.queue.iter_from(status, Some(t)) {
                if !self.matches(&e.view) {
                    continue;
                }
                if e.view.key() == cursor {
                    return Some(t.clone());
                }
                seen += 1;
                if seen >= rows {
                    return None;
                }
            }
            None
        });
        let top = match top_ok {
            Some(t) => t,
            // Scrolled up past the view: the cursor becomes the first row.
            None if state.top.as_ref().is_some_and(|old| *old > corder) => corder.clone(),
            // Otherwise the cursor sits on the last row the pane shows.
            None => self
                .queue
                .iter_before(status, &corder)
                .filter(|e| self.matches(&e.view))
                .take(rows - 1)
                .last()
                .and_then(|e| self.queue.order_of(&e.view.key()).cloned())
                .unwrap_or_else(|| corder.clone()),
        };
        let p = self.panes.entry(kind).or_default();
        p.cursor = Some(cursor);
        p.top = Some(top);
    }

    // ----- helpers ------------------------------------------------------------

    fn preview(&self, key: &QKey) -> String {
        self.queue
            .get(key)
            .map(|e| crate::text::one_line(&e.view.text, 32))
            .unwrap_or_default()
    }

    pub fn current_message(&self) -> Option<&crate::domain::Message> {
        self.chat.get(self.pane(PaneKind::Chat).row)
    }

    pub fn current_participant(&self) -> Option<&crate::domain::Participant> {
        self.visible_people().nth(self.pane(PaneKind::People).row)
    }

    fn info_rows(&self) -> Vec<(String, String)> {
        let mut rows = Vec::new();
        for s in &self.sources {
            rows.push((s.name.clone(), s.connection.describe()));
            let c = &s.caps;
            let mut can = Vec::new();
            if c.questions {
                can.push(format!(
                    "questions ({} on the platform)",
                    c.server_statuses
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join("/")
                ));
            }
            if c.chat {
                can.push("chat".into());
            }
            if c.participants {
                can.push("participants".into());
            }
            rows.push(("  can".into(), can.join(", ")));
            if let Some(b) = s.budget {
                rows.push((
                    "  rate budget".into(),
                    format!("{}/{} left", b.remaining, b.limit),
                ));
            }
            if let Some(n) = &s.notice {
                rows.push(("  note".into(), n.clone()));
            }
        }
        rows.push((String::new(), String::new()));
        rows
    }
}

/// What `qadeck moderate` can do to a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModAction {
    Approve,
    Reject,
    Answered,
    Pending,
    Delete,
    /// Make sure the moderator's up-vote is on.
    Vote,
    /// Make sure the moderator's vote is off.
    Unvote,
    VoteDown,
    OnAir,
}

impl ModAction {
    pub fn parse(s: &str) -> Option<ModAction> {
        Some(match s {
            "approve" | "select" | "selected" => ModAction::Approve,
            "reject" | "rejected" => ModAction::Reject,
            "answered" | "answer" => ModAction::Answered,
            "pending" => ModAction::Pending,
            "delete" => ModAction::Delete,
            "vote" | "upvote" => ModAction::Vote,
            "unvote" => ModAction::Unvote,
            "downvote" => ModAction::VoteDown,
            "on-air" | "onair" => ModAction::OnAir,
            _ => return None,
        })
    }
}

/// The optimistic view of a restored or retried action.
fn patch_of(op: &Op) -> Patch {
    match op {
        Op::SetStatus { status, .. } => Patch {
            status: Some(*status),
            ..Patch::default()
        },
        Op::Vote { want, .. } => Patch {
            my_vote: Some(*want),
            ..Patch::default()
        },
        _ => Patch::default(),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
