//! Retry and drop: the moderator's say over an action that waits, whether
//! the platform refused it (failed) or it is backing off (a long
//! `Retry-After`, a platform that is down). Failed actions come first, the
//! most recent one; then the action the status bar shows waiting longest.

use super::{App, Command};

impl App {
    /// Sends the waiting action again now.
    pub(super) fn retry_now(&mut self, cmds: &mut Vec<Command>) {
        if let Some(f) = self.failed.pop() {
            if self.failed.is_empty() {
                self.last_error = None;
            }
            self.toast(format!("retrying: {}", f.queued.op.label()));
            cmds.push(Command::RetryOp {
                op_id: f.queued.op_id.clone(),
            });
            self.track(f.queued, None);
            return;
        }
        let Some(op_id) = self.longest_retry().map(|f| f.queued.op_id.clone()) else {
            self.toast("no failed or waiting action to retry");
            return;
        };
        let now = self.now;
        if let Some(f) = self.inflight.get_mut(&op_id) {
            f.retry_at = Some(now);
            let label = f.queued.op.label();
            self.toast(format!("retrying now: {label}"));
        }
        cmds.push(Command::RetryOp { op_id });
    }

    /// Gives the waiting action up: it is never sent (if it is on its way
    /// right now, the platform's answer is not recorded) and its
    /// optimistic change is taken back.
    pub(super) fn drop_waiting_action(&mut self, cmds: &mut Vec<Command>) {
        if let Some(f) = self.failed.pop() {
            if self.failed.is_empty() {
                self.last_error = None;
            }
            self.toast(format!("dropped: {}", f.queued.op.label()));
            cmds.push(Command::DropOp {
                op_id: f.queued.op_id,
            });
            return;
        }
        let Some(op_id) = self.longest_retry().map(|f| f.queued.op_id.clone()) else {
            self.toast("no failed or waiting action to drop");
            return;
        };
        if let Some(gone) = self.inflight.remove(&op_id) {
            self.roll_back(&gone);
            self.toast(format!("dropped: {}", gone.queued.op.label()));
        }
        cmds.push(Command::DropOp { op_id });
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{feed, key, one_source, special};
    use super::super::*;
    use crate::domain::{Feed, Message, OpReport, Question, SourceFeed, Status};
    use ratatui_textarea::{Input, Key};

    fn ctrl_r() -> Event {
        Event::Key(Input {
            key: Key::Char('r'),
            ctrl: true,
            ..Input::default()
        })
    }

    fn question(id: &str) -> Question {
        Question {
            source: SourceId(0),
            id: id.into(),
            text: format!("question {id}").into(),
            author: None,
            votes: 0,
            my_vote: MyVote::None,
            status: Status::Pending,
            on_air: false,
            created: 1,
            updated: 1,
        }
    }

    /// One approval waiting behind a one-hour `Retry-After`.
    fn behind_retry_after() -> (App, String) {
        let caps = Capabilities {
            questions: true,
            server_statuses: Status::ALL.to_vec(),
            ..Capabilities::none()
        };
        let mut app = one_source("src", caps);
        app.update(feed(Feed::Snapshot(vec![question("a")])));
        let op_id = app
            .update(key('a'))
            .into_iter()
            .find_map(|c| match c {
                Command::Send(q) => Some(q.op_id),
                _ => None,
            })
            .unwrap();
        app.update(Event::Op(OpReport::Retrying {
            op_id: op_id.clone(),
            attempt: 1,
            in_ms: 3_600_000,
            reason: "rate limited (HTTP 429)".into(),
        }));
        (app, op_id)
    }

    fn status_of_a(app: &App) -> Status {
        let k = QKey {
            source: SourceId(0),
            id: "a".into(),
        };
        app.queue.get(&k).unwrap().view.status
    }

    #[test]
    fn a_long_wait_shows_its_way_out_and_can_be_retried_now() {
        let (mut app, op_id) = behind_retry_after();
        let note = app.retry_note().unwrap();
        assert!(note.contains("retry in 60m00s"), "{note}");
        assert!(note.contains("ctrl-r now · X drop"), "{note}");
        let cmds = app.update(ctrl_r());
        assert_eq!(cmds, [Command::RetryOp { op_id }]);
        assert!(app.retry_note().unwrap().contains("retrying now"));
        // Still on its way: still shown approved.
        assert_eq!(status_of_a(&app), Status::Selected);
    }

    #[test]
    fn a_waiting_action_can_be_dropped_and_its_change_taken_back() {
        let (mut app, op_id) = behind_retry_after();
        let cmds = app.update(key('X'));
        assert_eq!(
            cmds,
            [Command::DropOp {
                op_id: op_id.clone()
            }]
        );
        assert!(app.inflight.is_empty());
        assert_eq!(app.retry_note(), None);
        assert_eq!(status_of_a(&app), Status::Pending);
        // A late answer for it changes nothing.
        app.update(Event::Op(OpReport::Confirmed {
            op_id,
            outcome: crate::domain::Outcome::Done,
        }));
        assert_eq!(status_of_a(&app), Status::Pending);
        // Nothing left to act on.
        assert!(app.update(key('X')).is_empty());
        assert!(app.update(ctrl_r()).is_empty());
    }

    #[test]
    fn actions_for_other_events_are_shown_waiting() {
        let (mut app, _) = behind_retry_after();
        assert_eq!(app.waiting_note(), None);
        app.update(Event::Session(SessionEvent::Waiting {
            source: SourceId(0),
            waiting: vec![("ev-a".into(), 2), ("ev-c".into(), 1)],
        }));
        assert_eq!(
            app.waiting_note().as_deref(),
            Some("2 actions waiting for event ev-a (+1 more event)")
        );
    }

    #[test]
    fn a_chat_message_goes_to_the_selected_messages_source() {
        let caps = Capabilities {
            chat: true,
            ..Capabilities::none()
        };
        let mut app = App::new(
            vec![
                SourceView::new("one", caps.clone(), true),
                SourceView::new("two", caps, true),
            ],
            KeyMap::default(),
            "t".into(),
            0,
        );
        app.update(Event::Resize {
            width: 120,
            height: 40,
        });
        let msg = |source: u16, id: &str, created| Message {
            source: SourceId(source),
            id: id.into(),
            author: None,
            text: id.into(),
            reply_to: None,
            created,
        };
        for (s, id, at) in [(0, "m1", 1), (1, "m2", 2)] {
            app.update(Event::Feed(SourceFeed {
                source: SourceId(s),
                feed: Feed::Messages(vec![msg(s, id, at)]),
            }));
        }
        app.update(Event::Feed(SourceFeed {
            source: SourceId(1),
            feed: Feed::OpenState {
                questions: None,
                chat: Some(false),
            },
        }));
        while app.focus != PaneKind::Chat {
            app.update(special(Key::Tab));
        }
        assert_eq!(app.chat_states(), [("one", None), ("two", Some(false))]);
        let row_of = |app: &App, id: &str| app.chat.iter().position(|m| m.id == id).unwrap();
        while app.pane(PaneKind::Chat).row != row_of(&app, "m2") {
            let before = app.pane(PaneKind::Chat).row;
            app.update(key(if before < row_of(&app, "m2") {
                'j'
            } else {
                'k'
            }));
        }
        assert_eq!(app.chat_source(), Some(SourceId(1)));
        app.update(key('c'));
        assert!(matches!(
            app.input.as_ref().map(|i| &i.purpose),
            Some(InputPurpose::Chat {
                source: SourceId(1),
                ..
            })
        ));
    }
}
