//! Moderation: statuses on the platform or on this machine, on air, next,
//! votes, undo, and queueing actions for the outbox.

use super::layout::PaneKind;
use super::queue::Patch;
use super::{Action, App, Command, Inflight, InputPurpose, Overlay, QueuedOp, UndoEntry};
use crate::domain::{LocalState, MyVote, Op, QKey, SourceId, Status, VoteKind};

/// Why a headless decision cannot be made for a question.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("unknown source")]
    UnknownSource,
    #[error("this source has no questions")]
    NoQuestions,
    #[error("question {0} is not loaded")]
    NotLoaded(String),
    #[error("this platform cannot delete questions")]
    NoDelete,
    #[error("this platform has no votes")]
    NoVotes,
    #[error("this platform has no down-votes")]
    NoDownVotes,
    #[error("this platform cannot take a vote back")]
    NoUnvote,
}

impl App {
    /// Headless moderation (`qadeck moderate`): the decisions the keys make,
    /// for a question that may not be loaded (the platform may be down).
    pub fn moderate(&mut self, key: QKey, action: ModAction) -> Result<Vec<Command>, Refusal> {
        let mut cmds = Vec::new();
        let caps = self
            .source(key.source)
            .map(|s| s.caps.clone())
            .ok_or(Refusal::UnknownSource)?;
        if !caps.questions {
            return Err(Refusal::NoQuestions);
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
                        id: key.id.to_string(),
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
            (ModAction::OnAir, _) => return Err(Refusal::NotLoaded(key.id.to_string())),
            (ModAction::Delete, _) => {
                if !caps.delete {
                    return Err(Refusal::NoDelete);
                }
                self.send(
                    key.source,
                    Op::Delete {
                        id: key.id.to_string(),
                    },
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
                    (VoteKind::None, _) => return Err(Refusal::NoVotes),
                    (VoteKind::Toggle, MyVote::Down) => {
                        return Err(Refusal::NoDownVotes);
                    }
                    (VoteKind::UpDown, MyVote::None) => {
                        return Err(Refusal::NoUnvote);
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
                    id: key.id.to_string(),
                    want,
                };
                let queued = QueuedOp {
                    op_id: self.new_op_id(),
                    source: key.source,
                    op,
                    note: None,
                    actor: None,
                };
                cmds.push(Command::Send(queued.clone()));
                self.track(queued, patch);
            }
            _ => {}
        }
        Ok(cmds)
    }

    pub(super) fn snapshot(&self, key: &QKey) -> Option<(QKey, Status, bool, MyVote)> {
        self.queue
            .get(key)
            .map(|e| (key.clone(), e.view.status, e.view.on_air, e.view.my_vote))
    }

    /// Moves a question to `target`, on the platform where it stores that
    /// state, locally where it does not.
    pub(super) fn set_status(
        &mut self,
        key: QKey,
        target: Status,
        record: bool,
        cmds: &mut Vec<Command>,
    ) {
        let Some(entry) = self.queue.get(&key) else {
            return;
        };
        let (current, server_status, mut local) = (
            entry.view.status,
            entry.said().status,
            self.queue.local(&key),
        );
        let caps = self.source(key.source).map(|s| s.caps.clone());
        let Some(caps) = caps.filter(|c| c.questions) else {
            self.refuse("this source has no questions to moderate");
            return;
        };
        if current == target {
            self.toast(format!("already {}", target.as_str()));
            return;
        }
        let before = self.snapshot(&key);
        let op = Op::SetStatus {
            id: key.id.to_string(),
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
        self.moderator_decided(&key, cmds);
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

    pub(super) fn save_local(&mut self, key: &QKey, local: LocalState, cmds: &mut Vec<Command>) {
        if self.queue.local(key) != local {
            let m = self.queue.set_local(key, local);
            self.moved(m);
            self.saved_local.insert(key.clone());
            cmds.push(Command::SaveLocal {
                key: key.clone(),
                local,
            });
        }
    }

    pub(super) fn set_on_air(&mut self, key: &QKey, on: bool, cmds: &mut Vec<Command>) {
        let mut local = self.queue.local(key);
        local.on_air = on;
        self.save_local(key, local, cmds);
    }

    pub(super) fn put_on_air(&mut self, key: QKey, cmds: &mut Vec<Command>) {
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
    pub(super) fn next_on_air(&mut self, cmds: &mut Vec<Command>) {
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

    pub(super) fn vote(&mut self, key: QKey, direction: MyVote, cmds: &mut Vec<Command>) {
        let Some(kind) = self.source(key.source).map(|s| s.caps.vote) else {
            return;
        };
        let Some(current) = self.queue.get(&key).map(|e| e.view.my_vote) else {
            return;
        };
        let want = match (kind, direction) {
            (VoteKind::None, _) => {
                self.refuse("this platform has no votes");
                return;
            }
            (VoteKind::Toggle, MyVote::Down) => {
                self.refuse("this platform only has up-votes (v toggles yours)");
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
            id: key.id.to_string(),
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

    pub(super) fn undo_last(&mut self, cmds: &mut Vec<Command>) {
        if self.undo_decision(cmds) {
            return;
        }
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
                    id: key.id.to_string(),
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

    pub(super) fn ask_delete(&mut self) {
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
            self.refuse("this platform cannot delete questions (reject hides it)");
            return;
        }
        let preview = crate::text::one_line(&e.view.text, 50);
        self.overlay = Some(Overlay::ConfirmDelete { key, preview });
    }

    pub(super) fn compose(&mut self) {
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
            None => self.refuse("no source here accepts questions from the moderator"),
        }
    }

    pub(super) fn promote_message(&mut self, cmds: &mut Vec<Command>) {
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
            self.refuse("this source does not accept questions from the moderator");
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

    pub(super) fn toggle_open(&mut self, cmds: &mut Vec<Command>) {
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
            self.refuse("no source here can be opened or closed");
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
        self.send_noted(source, op, key, patch, None, cmds);
    }

    /// [`App::send`] with a reason for the journal.
    pub(super) fn send_noted(
        &mut self,
        source: SourceId,
        op: Op,
        key: Option<QKey>,
        patch: Patch,
        note: Option<String>,
        cmds: &mut Vec<Command>,
    ) {
        let queued = QueuedOp {
            op_id: self.new_op_id(),
            source,
            op,
            note,
            actor: self.acting.clone(),
        };
        cmds.push(Command::Send(queued.clone()));
        self.track(queued, key.map(|k| (k, patch)));
    }

    /// Shows an action as in flight (new, restored or retried).
    pub(super) fn track(&mut self, queued: QueuedOp, patch: Option<(QKey, Patch)>) {
        let (key, patch) = match patch {
            Some((k, p)) => (Some(k), p),
            None => {
                let key = queued.op.target().map(|id| QKey {
                    source: queued.source,
                    id: id.into(),
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
