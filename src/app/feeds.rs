//! What arrives: provider feeds and the outbox's reports.

use super::elsewhere::Origin;
use super::{
    Action, App, Command, EARLY_REPORTS, Failed, Inflight, InputPurpose, QueuedOp, trim_chat,
};
use crate::domain::{
    Connection, Feed, Op, OpReport, Outcome, ProviderError, QKey, Question, SourceFeed, SourceId,
    Status,
};

impl App {
    pub(super) fn on_report(&mut self, report: OpReport, cmds: &mut Vec<Command>) {
        match report {
            OpReport::Confirmed { op_id, outcome } => {
                let Some(done) = self.inflight.remove(&op_id) else {
                    self.keep_early(OpReport::Confirmed { op_id, outcome });
                    return;
                };
                self.note_settled(op_id.clone());
                if let Some(k) = &done.key {
                    let m = self.queue.drop_patch(k, &op_id);
                    self.moved(m);
                    self.note_ours(k.clone(), done.queued.op.clone());
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
                    self.keep_early(OpReport::Failed { op_id, error });
                    return;
                };
                self.note_settled(op_id);
                if let ProviderError::Invalid(reason) = &error
                    && self.reopen_form(&failed.queued, reason)
                {
                    return;
                }
                self.roll_back(&failed);
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

    /// Keeps a final report for an action the core does not know (yet).
    fn keep_early(&mut self, report: OpReport) {
        push_bounded(&mut self.early_reports, report);
    }

    fn note_settled(&mut self, op_id: String) {
        push_bounded(&mut self.settled, op_id);
    }

    /// Whether the action was answered lately (a restore read before the
    /// answer still lists it).
    pub(super) fn settled(&self, op_id: &str) -> bool {
        self.settled.iter().any(|s| s == op_id)
    }

    /// Applies the kept reports whose actions are now tracked.
    pub(super) fn apply_early_reports(&mut self, cmds: &mut Vec<Command>) {
        let (known, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.early_reports)
            .into_iter()
            .partition(|r| self.inflight.contains_key(r.op_id()));
        self.early_reports = rest.into();
        for r in known {
            self.on_report(r, cmds);
        }
    }

    /// Takes back an action's optimistic change (it failed, or the
    /// moderator dropped it).
    pub(super) fn roll_back(&mut self, gone: &Inflight) {
        let Some(k) = &gone.key else { return };
        let m = self.queue.drop_patch(k, &gone.queued.op_id);
        self.moved(m);
        // An approval that failed takes its on-air flag with it.
        if matches!(
            gone.queued.op,
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

    /// A chat message or question the platform refused as invalid goes
    /// back into the form that sent it, with the platform's words under it,
    /// so the moderator can fix and resend it (or Esc to give it up). Only
    /// when no other input or dialog is open: those are never taken over.
    /// The refused action stays in the journal as failed.
    pub(super) fn reopen_form(&mut self, queued: &QueuedOp, reason: &str) -> bool {
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
                let key = q.key();
                let new_text = self.new_text(&key, &q);
                let m = self.queue.confirm(q);
                let regroup = new_text && m.is_some();
                self.moved(m);
                if regroup {
                    self.group_text(&key);
                }
            }
            Outcome::Voted { id, my_vote, votes } => {
                let m = self.queue.confirm_vote(
                    &QKey {
                        source,
                        id: id.into(),
                    },
                    my_vote,
                    votes,
                );
                self.moved(m);
            }
            Outcome::QuestionGone(id) => {
                let m = self.queue.remove(&QKey {
                    source,
                    id: id.into(),
                });
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

    pub(super) fn on_feed(&mut self, sf: SourceFeed) {
        let holds_questions = matches!(
            sf.feed,
            Feed::Snapshot(_) | Feed::Upsert(_) | Feed::Listed(_) | Feed::QuestionGone(_)
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

    pub(super) fn apply_feed(&mut self, SourceFeed { source, feed }: SourceFeed) {
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
                let keep: std::collections::HashSet<crate::domain::Str> =
                    qs.iter().map(|q| q.id.clone()).collect();
                self.queue
                    .reserve(qs.len().saturating_sub(self.queue.len()));
                for q in qs {
                    self.upsert(source, q);
                }
                self.keep_only(source, &keep);
            }
            Feed::Listed(keep) => self.keep_only(source, &keep),
            Feed::Upsert(qs) => {
                for q in qs {
                    self.upsert(source, q);
                }
            }
            Feed::QuestionGone(id) => self.remove_gone(vec![QKey {
                source,
                id: id.into(),
            }]),
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
            Feed::Capabilities(caps) => {
                if let Some(s) = self.sources.get_mut(idx) {
                    s.caps = caps;
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

    pub(super) fn upsert(&mut self, source: SourceId, mut q: Question) {
        q.source = source;
        let key = q.key();
        let new_text = self.new_text(&key, &q);
        self.arrived(&q);
        let before = self.seen(&key);
        let m = self.queue.upsert(q);
        if m.is_some() {
            self.judge(&key, before, Origin::Platform);
        }
        let regroup = new_text && m.is_some();
        self.moved(m);
        if regroup {
            self.group_text(&key);
        }
    }

    /// Removes the source's questions a complete listing did not hold.
    fn keep_only(
        &mut self,
        source: SourceId,
        listed: &std::collections::HashSet<crate::domain::Str>,
    ) {
        // Only the few that go are collected, never every key.
        let gone = self
            .queue
            .all()
            .filter(|e| e.view.source == source && !listed.contains(&e.view.id))
            .map(|e| e.view.key())
            .collect();
        self.remove_gone(gone);
    }

    /// Whether the question's text is new or changed (duplicates are
    /// looked for again).
    fn new_text(&self, key: &QKey, q: &Question) -> bool {
        let held = self.queue.get(key);
        held.is_none_or(|e| *e.view.text != *q.text)
    }

    /// Questions the platform no longer has. One that this console did not
    /// delete is said in a toast (its row is gone, so no `✎` can show).
    fn remove_gone(&mut self, keys: Vec<QKey>) {
        let mut elsewhere = Vec::new();
        for key in keys {
            let before = self.seen(&key);
            if self.judge_gone(&key, before) {
                elsewhere.push(self.preview(&key));
            }
            let m = self.queue.remove(&key);
            self.moved(m);
        }
        match elsewhere.as_slice() {
            [] => {}
            [one] => self.toast(format!("deleted on the platform: “{one}”")),
            many => self.toast(format!("{} questions deleted on the platform", many.len())),
        }
    }

    pub(super) fn merge_messages(&mut self, msgs: Vec<crate::domain::Message>) {
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

    pub(super) fn toggle_freeze(&mut self) {
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
}

/// Appends to a list of the latest [`EARLY_REPORTS`], dropping the oldest.
fn push_bounded<T>(list: &mut std::collections::VecDeque<T>, value: T) {
    if list.len() == EARLY_REPORTS {
        list.pop_front();
    }
    list.push_back(value);
}
