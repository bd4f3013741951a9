//! `App::update`: one event in, state changed, commands out. Keys and
//! actions are dispatched here; the work lives in the sibling modules.

use super::layout::PaneKind;
use super::queue::Patch;
use super::{Action, App, Command, Event, InputPurpose, Overlay, Scope};
use crate::domain::{Connection, EventInfo, MyVote, Op, QKey, SourceId, Status};
use ratatui_textarea::Input;

pub(super) fn pane_status(p: PaneKind) -> Option<Status> {
    match p {
        PaneKind::Pending => Some(Status::Pending),
        PaneKind::Selected => Some(Status::Selected),
        PaneKind::Answered => Some(Status::Answered),
        PaneKind::Rejected => Some(Status::Rejected),
        PaneKind::Chat | PaneKind::People => None,
    }
}

pub(super) const QUESTION_PANES: [PaneKind; 4] = [
    PaneKind::Pending,
    PaneKind::Selected,
    PaneKind::Answered,
    PaneKind::Rejected,
];

impl App {
    /// Applies one event; returns what the runtime must do.
    pub fn update(&mut self, event: Event) -> Vec<Command> {
        let mut cmds = Vec::new();
        let error_before = self.last_error.clone();
        match event {
            Event::Key(input) => self.on_key(input, &mut cmds),
            Event::Paste(text) => {
                if self.form.is_some() {
                    self.paste_into_form(&text);
                } else if let Some(mut ib) = self.input.take() {
                    ib.area
                        .insert_str(crate::text::sanitize(&text).replace('\n', " "));
                    ib.error = None;
                    let t = ib.area.lines().join(" ");
                    match ib.purpose {
                        InputPurpose::Filter => ib.error = self.set_search(&t, None).err(),
                        InputPurpose::PeopleSearch => {
                            self.people_filter =
                                (!t.trim().is_empty()).then(|| t.trim().to_string());
                        }
                        _ => {}
                    }
                    self.input = Some(ib);
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
            Event::Work => self.group_step(),
            Event::Tick { now } => {
                self.now = now;
                self.expire_elsewhere();
                if self.toast.as_ref().is_some_and(|t| t.until <= now) {
                    self.toast = None;
                }
            }
            Event::Restored {
                ops,
                local,
                marks,
                roles,
            } => {
                self.restore_marks(marks);
                // A role this session remembered already is newer than the store's.
                for (key, role) in roles {
                    self.earlier_roles.entry(key).or_insert(role);
                }
                for (key, l) in local {
                    if !self.saved_local.contains(&key) {
                        let m = self.queue.set_local(&key, l);
                        self.moved(m);
                    }
                }
                // An action this session queued itself is tracked already,
                // and one answered since the store was read is done.
                for q in ops {
                    if !self.inflight.contains_key(&q.op_id) && !self.settled(&q.op_id) {
                        self.track(q, None);
                    }
                }
                self.apply_early_reports(&mut cmds);
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
            Event::Session(news) => self.on_session(news),
            Event::Show { request, action } => self.on_show(request, action, &mut cmds),
            Event::Events { source, events } => {
                if let Some(Overlay::Picker {
                    source: s,
                    events: slot,
                    ..
                }) = &mut self.overlay
                    && *s == source
                {
                    *slot = Some(events.map(|l| l.into_iter().map(EventInfo::sanitized).collect()));
                }
            }
        }
        self.apply_rules(&mut cmds);
        self.save_roles(&mut cmds);
        if self.last_error != error_before
            && let Some(e) = self.last_error.clone()
        {
            self.record_error(None, &e);
        }
        self.fix_scroll();
        cmds
    }

    pub(super) fn on_key(&mut self, input: Input, cmds: &mut Vec<Command>) {
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
        let Some(action) = self.keymap.resolve(Scope::Main, &input) else {
            return;
        };
        self.on_action(action, cmds);
    }

    pub(super) fn on_overlay_key(
        &mut self,
        overlay: Overlay,
        input: Input,
        cmds: &mut Vec<Command>,
    ) {
        let yes = self.keymap.resolve(Scope::Confirm, &input) == Some(Action::Confirm);
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
                        Op::Delete {
                            id: key.id.to_string(),
                        },
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
                let action = self.keymap.resolve(Scope::Picker, &input);
                self.on_picker_action(action, source, events, row, cmds);
            }
            Overlay::Help(_) | Overlay::Errors(_) => self.on_pager_key(overlay, input, cmds),
            Overlay::Stage => {
                if self.keymap.resolve(Scope::Stage, &input) == Some(Action::StageBack) {
                    self.overlay = None;
                }
            }
            Overlay::Info { .. } | Overlay::Link { .. } => self.overlay = None,
        }
    }

    fn on_picker_action(
        &mut self,
        action: Option<Action>,
        source: SourceId,
        events: Option<Result<Vec<EventInfo>, String>>,
        row: usize,
        cmds: &mut Vec<Command>,
    ) {
        let n = events
            .as_ref()
            .and_then(|e| e.as_ref().ok())
            .map_or(0, Vec::len);
        match action {
            Some(Action::PickerLater) => {
                self.overlay = None;
                // Say why nothing will arrive, where the moderator looks.
                let key = self.keymap.key_for(Action::PickEvent);
                if let Some(s) = self.sources.get_mut(source.0 as usize)
                    && !s.has_event
                {
                    s.connection = Connection::Failed {
                        reason: format!("no event picked: {key} picks one"),
                    };
                }
                cmds.extend(self.ask_for_event(Some(source)));
            }
            Some(Action::PickerDown) if n > 0 => {
                self.overlay = Some(Overlay::Picker {
                    source,
                    events,
                    row: (row + 1).min(n - 1),
                });
            }
            Some(Action::PickerUp) => {
                self.overlay = Some(Overlay::Picker {
                    source,
                    events,
                    row: row.saturating_sub(1),
                });
            }
            Some(Action::PickerChoose) => {
                if let Some(Ok(list)) = &events
                    && let Some(ev) = list.get(row)
                {
                    cmds.push(Command::PickEvent {
                        source,
                        event: ev.id.clone(),
                    });
                    let title = ev.title.clone();
                    if let Some(s) = self.sources.get_mut(source.0 as usize) {
                        s.has_event = true;
                        s.event = Some(title);
                    }
                    self.overlay = None;
                    cmds.extend(self.ask_for_event(Some(source)));
                }
            }
            _ => {}
        }
    }

    /// Opens the event picker for the next source that names no event
    /// (after `after`, or the first one), and asks the runtime for its list.
    pub fn ask_for_event(&mut self, after: Option<SourceId>) -> Vec<Command> {
        let start = after.map_or(0, |s| s.0 as usize + 1);
        let Some(i) = (start..self.sources.len()).find(|i| !self.sources[*i].has_event) else {
            return Vec::new();
        };
        let source = SourceId(i as u16);
        self.overlay = Some(Overlay::Picker {
            source,
            events: None,
            row: 0,
        });
        vec![Command::LoadEvents(source)]
    }

    pub(super) fn on_action(&mut self, action: Action, cmds: &mut Vec<Command>) {
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
            Action::MoveUp => self.move_selected(-1, cmds),
            Action::MoveDown => self.move_selected(1, cmds),
            Action::Stage => self.toggle_stage(),
            Action::Undo => self.undo_last(cmds),
            Action::Vote => self.on_current(|app, key, cmds| app.vote(key, MyVote::Up, cmds), cmds),
            Action::VoteDown => {
                self.on_current(|app, key, cmds| app.vote(key, MyVote::Down, cmds), cmds);
            }
            Action::Freeze => self.toggle_freeze(),
            Action::Expand => self.toggle_group(),
            Action::Merge => self.merge_group(cmds),
            Action::Filter => {
                let current = self.filter.clone().unwrap_or_default();
                self.open_input(InputPurpose::Filter, &current);
            }
            Action::Search1
            | Action::Search2
            | Action::Search3
            | Action::Search4
            | Action::Search5
            | Action::Search6
            | Action::Search7
            | Action::Search8
            | Action::Search9 => {
                if let Some(n) = action.saved_search() {
                    self.saved_search(n);
                }
            }
            Action::Sort => {
                let next = match self.queue.sort() {
                    super::SortBy::Time => super::SortBy::Votes,
                    super::SortBy::Votes => super::SortBy::Time,
                };
                self.queue.set_sort(next);
                self.recount_groups();
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
            Action::Compose => self.compose(),
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
            Action::ToggleModerator | Action::Rename | Action::RenewLink | Action::ShowLink => {
                self.toast(format!(
                    "{} works on a participant (Tab to the people pane)",
                    self.keymap.key_for(action)
                ));
            }
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
            Action::Star => {
                self.on_current(|app, key, cmds| app.toggle_star(key, cmds), cmds);
            }
            Action::Label => self.on_current(|app, key, _| app.ask_label(key), cmds),
            Action::Retry => self.retry_now(cmds),
            Action::Drop => self.drop_waiting_action(cmds),
            Action::DetailDown => self.detail_scroll = self.detail_scroll.saturating_add(3),
            Action::DetailUp => self.detail_scroll = self.detail_scroll.saturating_sub(3),
            Action::PickEvent => {
                let first_missing = self.sources.iter().position(|s| !s.has_event);
                match first_missing {
                    Some(_) => cmds.extend(self.ask_for_event(None)),
                    None => self.toast("every source has its event"),
                }
            }
            Action::Help => self.overlay = Some(Overlay::Help(super::Pager::default())),
            Action::Errors => self.overlay = Some(Overlay::Errors(super::Pager::default())),
            Action::Suspend => cmds.push(Command::Suspend),
            Action::Quit => {
                if self.inflight.is_empty() {
                    self.quit = true;
                    cmds.push(Command::Quit);
                } else {
                    self.overlay = Some(Overlay::ConfirmQuit);
                }
            }
            // Bound only in dialogs, the picker, the form and inputs, which
            // handle their own keys.
            Action::Confirm
            | Action::PickerDown
            | Action::PickerUp
            | Action::PickerChoose
            | Action::PickerLater
            | Action::FormSend
            | Action::FormCancel
            | Action::FormNextField
            | Action::FormPrevField
            | Action::FormSwitch
            | Action::FormSwitchBack
            | Action::FormYes
            | Action::FormNo
            | Action::FormModerator
            | Action::FormParticipant
            | Action::StageBack
            | Action::InputSend
            | Action::InputCancel
            | Action::InputComplete
            | Action::PagerDown
            | Action::PagerUp
            | Action::PagerPageDown
            | Action::PagerPageUp
            | Action::PagerTop
            | Action::PagerBottom
            | Action::PagerSearch
            | Action::PagerClose => {}
        }
    }

    pub(super) fn on_current(
        &mut self,
        f: impl FnOnce(&mut App, QKey, &mut Vec<Command>),
        cmds: &mut Vec<Command>,
    ) {
        match self.current().map(|e| e.view.key()) {
            Some(key) => f(self, key, cmds),
            None if pane_status(self.focus).is_none() => {
                self.toast("that key works on questions (Tab to a question pane)");
            }
            None => self.toast("nothing selected"),
        }
    }

    /// The question's text on one line, cut short (toasts, dialogs).
    pub fn preview(&self, key: &QKey) -> String {
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

    pub(super) fn info_rows(&self) -> Vec<(String, String)> {
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
        if let Some(log) = &self.log_file {
            rows.push(("log".into(), log.clone()));
        }
        rows.push((String::new(), String::new()));
        rows
    }
}
