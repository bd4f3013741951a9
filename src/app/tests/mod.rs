//! Behaviour of `update`, one action at a time, in microseconds.

use super::*;
use crate::domain::{Delivery, Feed, Outcome, ProviderError, Question, Status, VoteKind};
use ratatui_textarea::Key;

fn caps_full() -> Capabilities {
    Capabilities {
        questions: true,
        server_statuses: Status::ALL.to_vec(),
        delete: true,
        vote: VoteKind::Toggle,
        submit_question: true,
        delivery: Delivery::Stream,
        open_close: true,
        ..Capabilities::none()
    }
}

fn q(id: &str, created: i64, votes: i64) -> Question {
    Question {
        source: SourceId(0),
        id: id.into(),
        text: format!("question {id}").into(),
        author: None,
        votes,
        my_vote: MyVote::None,
        status: Status::Pending,
        on_air: false,
        created,
        updated: created,
    }
}

/// One source with an event, on a 120x40 screen.
pub(super) fn one_source(name: &str, caps: Capabilities) -> App {
    let mut app = App::new(
        vec![SourceView::new(name, caps, true)],
        KeyMap::default(),
        "t".into(),
        0,
    );
    app.update(Event::Resize {
        width: 120,
        height: 40,
    });
    app
}

fn app_with(caps: Capabilities, questions: Vec<Question>) -> App {
    let mut app = one_source("src", caps);
    app.update(feed(Feed::Snapshot(questions)));
    app
}

fn app() -> App {
    app_with(caps_full(), vec![q("a", 1, 0), q("b", 2, 5), q("c", 3, 1)])
}

pub(super) fn feed(f: Feed) -> Event {
    Event::Feed(SourceFeed {
        source: SourceId(0),
        feed: f,
    })
}

pub(super) fn key(c: char) -> Event {
    Event::Key(Input {
        key: Key::Char(c),
        ..Input::default()
    })
}

pub(super) fn special(k: Key) -> Event {
    Event::Key(Input {
        key: k,
        ..Input::default()
    })
}

fn status(app: &App, id: &str) -> Status {
    app.queue
        .get(&QKey {
            source: SourceId(0),
            id: id.into(),
        })
        .unwrap()
        .view
        .status
}

fn view(app: &App, id: &str) -> Question {
    app.queue
        .get(&QKey {
            source: SourceId(0),
            id: id.into(),
        })
        .unwrap()
        .view
        .clone()
}

fn sent(cmds: &[Command]) -> Vec<QueuedOp> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Send(q) => Some(q.clone()),
            _ => None,
        })
        .collect()
}

fn cursor(app: &App) -> String {
    app.current()
        .map(|e| e.view.id.to_string())
        .unwrap_or_default()
}

/// Confirms every action in flight the way a platform would.
fn confirm_all(app: &mut App) {
    let ids: Vec<(String, Option<QKey>, Op)> = app
        .inflight
        .iter()
        .map(|(k, f)| (k.clone(), f.key.clone(), f.queued.op.clone()))
        .collect();
    for (op_id, key, op) in ids {
        let outcome = match (&op, key) {
            (Op::SetStatus { status, .. }, Some(k)) => {
                let mut server = app.queue.get(&k).unwrap().server();
                server.status = *status;
                server.updated += 1;
                Outcome::Question(server)
            }
            (Op::Vote { want, id }, Some(k)) => {
                let e = app.queue.get(&k).unwrap();
                let votes = i64::from(e.said().votes) + if *want == MyVote::Up { 1 } else { -1 };
                Outcome::Voted {
                    id: id.clone(),
                    my_vote: *want,
                    votes,
                }
            }
            _ => Outcome::Done,
        };
        app.update(Event::Op(OpReport::Confirmed { op_id, outcome }));
    }
}

#[test]
fn approve_is_in_flight_until_confirmed() {
    let mut app = app();
    assert_eq!(cursor(&app), "a");
    let cmds = app.update(key('a'));
    let ops = sent(&cmds);
    assert_eq!(ops.len(), 1);
    assert_eq!(
        ops[0].op,
        Op::SetStatus {
            id: "a".into(),
            status: Status::Selected
        }
    );
    assert_eq!(status(&app, "a"), Status::Selected);
    assert_eq!(app.inflight.len(), 1);
    assert!(app.toast.as_ref().unwrap().text.contains("u undoes"));
    // The cursor stays in the pending pane, on the neighbour.
    assert_eq!(cursor(&app), "b");
    confirm_all(&mut app);
    assert!(app.inflight.is_empty());
    assert_eq!(status(&app, "a"), Status::Selected);
}

/// An action restored from the store can be delivered before the store's
/// answer is handled: its report waits for it instead of leaving the
/// action in flight for ever.
#[test]
fn a_report_before_the_restore_settles_the_restored_action() {
    let mut app = app();
    let restored = |op_id: &str, status| QueuedOp {
        op_id: op_id.into(),
        source: SourceId(0),
        op: Op::SetStatus {
            id: "a".into(),
            status,
        },
        note: None,
        actor: None,
    };
    let mut server = app
        .queue
        .get(&QKey {
            source: SourceId(0),
            id: "a".into(),
        })
        .unwrap()
        .server();
    server.status = Status::Selected;
    server.updated += 1;
    app.update(Event::Op(OpReport::Confirmed {
        op_id: "x1".into(),
        outcome: Outcome::Question(server),
    }));
    app.update(Event::Op(OpReport::Failed {
        op_id: "x2".into(),
        error: ProviderError::Invalid("no".into()),
    }));
    assert!(app.inflight.is_empty());
    app.update(Event::Restored {
        ops: vec![
            restored("x1", Status::Selected),
            restored("x2", Status::Rejected),
            restored("x3", Status::Answered),
        ],
        local: Vec::new(),
        marks: Vec::new(),
        roles: Vec::new(),
    });
    assert_eq!(app.inflight.keys().collect::<Vec<_>>(), ["x3"]);
    assert_eq!(app.failed.len(), 1, "the failure is shown");
    assert_eq!(app.failed[0].queued.op_id, "x2");
    confirm_all(&mut app);
    assert!(app.inflight.is_empty());
    assert_eq!(status(&app, "a"), Status::Answered);
}

/// An action this session queued and saw answered is done, even when a
/// restore read before the answer lists it again.
#[test]
fn a_restore_read_before_an_answer_does_not_bring_the_action_back() {
    let mut app = app();
    let queued = sent(&app.update(key('a')))[0].clone();
    confirm_all(&mut app);
    assert!(app.inflight.is_empty());
    app.update(Event::Restored {
        ops: vec![queued],
        local: Vec::new(),
        marks: Vec::new(),
        roles: Vec::new(),
    });
    assert!(app.inflight.is_empty());
    assert!(!app.awaiting_answers());
}

#[test]
fn failure_rolls_back_with_reason() {
    let mut app = app();
    let op_id = sent(&app.update(key('r')))[0].op_id.clone();
    assert_eq!(status(&app, "a"), Status::Rejected);
    let error = ProviderError::Forbidden("missing scope questions:moderate".into());
    app.update(Event::Op(OpReport::Failed { op_id, error }));
    assert_eq!(status(&app, "a"), Status::Pending);
    let err = app.last_error.clone().unwrap();
    assert!(
        err.contains("questions:moderate") && err.contains("reject"),
        "{err}"
    );
    assert_eq!(app.failed.len(), 1);
    // ctrl-r retries it.
    let cmds = app.update(Event::Key(Input {
        key: Key::Char('r'),
        ctrl: true,
        ..Input::default()
    }));
    assert!(matches!(cmds[0], Command::RetryOp { .. }));
    assert_eq!(status(&app, "a"), Status::Rejected);
    // The error it answered is gone from the status bar.
    assert_eq!(app.last_error, None);
}

#[test]
fn a_rate_limited_action_counts_down_and_stays_queued() {
    let mut app = app();
    app.update(Event::Tick { now: 10_000 });
    let op_id = sent(&app.update(key('a')))[0].op_id.clone();
    assert_eq!(app.retry_note(), None);
    app.update(Event::Op(OpReport::Retrying {
        op_id,
        attempt: 1,
        in_ms: 12_000,
        reason: ProviderError::RateLimited {
            retry_after_ms: 12_000,
        }
        .to_string(),
    }));
    let note = app.retry_note().unwrap();
    assert!(note.starts_with("approve: rate limited"), "{note}");
    assert!(
        note.contains("HTTP 429") && note.contains("in 12s"),
        "{note}"
    );
    assert!(note.contains("kept queued"), "{note}");
    // Still in flight, still shown as approved; no error.
    assert_eq!(status(&app, "a"), Status::Selected);
    assert_eq!(app.inflight.len(), 1);
    assert_eq!(app.last_error, None);
    // Each tick counts down.
    app.update(Event::Tick { now: 11_000 });
    assert!(app.retry_note().unwrap().contains("in 11s"));
    app.update(Event::Tick { now: 21_500 });
    assert!(app.retry_note().unwrap().contains("in 1s"));
    app.update(Event::Tick { now: 22_000 });
    assert!(app.retry_note().unwrap().contains("retrying now"));
    // Delivered: the note goes.
    confirm_all(&mut app);
    assert_eq!(app.retry_note(), None);
    assert_eq!(status(&app, "a"), Status::Selected);
}

#[test]
fn a_reconnect_counts_down() {
    let mut app = app();
    app.update(Event::Tick { now: 5_000 });
    app.update(feed(Feed::Connection(Connection::Retrying {
        in_ms: 4_000,
        reason: "network error: cannot reach the server".into(),
    })));
    assert_eq!(
        app.sources[0].describe_connection(app.now),
        "retrying in 4s: network error: cannot reach the server"
    );
    app.update(Event::Tick { now: 7_200 });
    assert!(
        app.sources[0]
            .describe_connection(app.now)
            .starts_with("retrying in 2s:")
    );
    app.update(feed(Feed::Connection(Connection::Live)));
    assert_eq!(app.sources[0].retry_at, None);
    assert_eq!(app.sources[0].describe_connection(app.now), "live");
}

#[test]
fn answered_and_pending() {
    let mut app = app();
    app.update(key('d'));
    assert_eq!(status(&app, "a"), Status::Answered);
    confirm_all(&mut app);
    app.update(special(Key::Tab));
    app.update(special(Key::Tab));
    assert_eq!(app.focus, PaneKind::Answered);
    app.update(key('p'));
    assert_eq!(status(&app, "a"), Status::Pending);
}

#[test]
fn on_air_is_one_at_a_time_and_local() {
    let mut app = app();
    let cmds = app.update(key('o'));
    // Pending → approve on the platform, on-air saved locally.
    assert_eq!(sent(&cmds).len(), 1);
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::SaveLocal { local, .. } if local.on_air))
    );
    assert!(view(&app, "a").on_air);
    app.update(key('o'));
    assert!(view(&app, "b").on_air);
    assert!(!view(&app, "a").on_air, "only one question is on air");
}

#[test]
fn next_answers_on_air_and_airs_top_selected() {
    let mut app = app();
    app.update(key('o')); // a on air
    app.update(key('a')); // b selected
    confirm_all(&mut app);
    app.update(key('n'));
    assert_eq!(status(&app, "a"), Status::Answered);
    assert!(!view(&app, "a").on_air);
    assert!(view(&app, "b").on_air);
    // Undo brings both back.
    app.update(key('u'));
    assert_eq!(status(&app, "a"), Status::Selected);
    assert!(view(&app, "a").on_air);
    assert!(!view(&app, "b").on_air);
}

#[test]
fn undo_reverts_last_action() {
    let mut app = app();
    app.update(key('r'));
    confirm_all(&mut app);
    assert_eq!(status(&app, "a"), Status::Rejected);
    let cmds = app.update(key('u'));
    assert_eq!(
        sent(&cmds)[0].op,
        Op::SetStatus {
            id: "a".into(),
            status: Status::Pending
        }
    );
    assert_eq!(status(&app, "a"), Status::Pending);
    assert!(app.toast.as_ref().unwrap().text.starts_with("undone"));
}

#[test]
fn vote_toggles_and_shows_mine() {
    let mut app = app();
    let cmds = app.update(key('v'));
    assert_eq!(
        sent(&cmds)[0].op,
        Op::Vote {
            id: "a".into(),
            want: MyVote::Up
        }
    );
    assert_eq!(
        (view(&app, "a").votes, view(&app, "a").my_vote),
        (1, MyVote::Up)
    );
    confirm_all(&mut app);
    let cmds = app.update(key('v'));
    assert_eq!(
        sent(&cmds)[0].op,
        Op::Vote {
            id: "a".into(),
            want: MyVote::None
        }
    );
    confirm_all(&mut app);
    assert_eq!(
        (view(&app, "a").votes, view(&app, "a").my_vote),
        (0, MyVote::None)
    );
    // A later feed copy (which cannot know whose votes they are) keeps ours.
    app.update(key('v'));
    confirm_all(&mut app);
    let mut later = q("a", 1, 7);
    later.updated = 100;
    app.update(feed(Feed::Upsert(vec![later])));
    assert_eq!(view(&app, "a").my_vote, MyVote::Up);
}

#[test]
fn freeze_holds_arrivals_and_counts_them() {
    let mut app = app();
    app.update(key('f'));
    app.update(feed(Feed::Upsert(vec![q("d", 4, 0), q("e", 5, 0)])));
    assert_eq!(app.queue.len(), 3);
    assert_eq!(app.frozen_new.len(), 2);
    app.update(key('f'));
    assert_eq!(app.queue.len(), 5);
    assert!(app.frozen.is_none());
}

#[test]
fn arrivals_never_move_the_cursor() {
    let mut app = app();
    app.update(key('j'));
    assert_eq!(cursor(&app), "b");
    app.update(key('s')); // by votes: b(5) c(1) a(0)
    assert_eq!(cursor(&app), "b");
    let mut early = q("z", 0, 50);
    early.created = 0;
    app.update(feed(Feed::Upsert(vec![early, q("y", 9, 3)])));
    assert_eq!(cursor(&app), "b");
}

#[test]
fn filter_narrows_lists() {
    let mut app = app_with(caps_full(), vec![q("a", 1, 0), q("b", 2, 0)]);
    app.update(key('/'));
    for c in "question b".chars() {
        app.update(key(c));
    }
    assert_eq!(app.filter.as_deref(), Some("question b"));
    assert_eq!(cursor(&app), "b");
    app.update(special(Key::Enter));
    assert!(app.input.is_none());
    assert_eq!(app.filter.as_deref(), Some("question b"));
    app.update(key('/'));
    app.update(special(Key::Esc));
    assert!(app.filter.is_none());
}

#[test]
fn quit_asks_while_actions_are_in_flight() {
    let mut app = app();
    app.update(key('a'));
    assert!(app.update(key('q')).is_empty());
    assert_eq!(app.overlay, Some(Overlay::ConfirmQuit));
    app.update(key('n'));
    assert!(!app.quit);
    confirm_all(&mut app);
    assert_eq!(app.update(key('q')), vec![Command::Quit]);
}

#[test]
fn statuses_the_platform_lacks_are_kept_locally() {
    let caps = Capabilities {
        server_statuses: vec![Status::Pending, Status::Rejected],
        ..caps_full()
    };
    let mut app = app_with(caps, vec![q("a", 1, 0)]);
    let cmds = app.update(key('a'));
    assert!(sent(&cmds).is_empty(), "selected is local: nothing is sent");
    assert!(
        matches!(&cmds[0], Command::SaveLocal { local, .. } if local.status == Some(Status::Selected))
    );
    assert_eq!(status(&app, "a"), Status::Selected);
    // Back to pending clears the local state, again without a call.
    app.update(special(Key::Tab));
    let cmds = app.update(key('p'));
    assert!(sent(&cmds).is_empty());
    assert_eq!(status(&app, "a"), Status::Pending);
    // Reject is the platform's.
    app.focus = PaneKind::Pending;
    let cmds = app.update(key('r'));
    assert_eq!(sent(&cmds).len(), 1);
}

#[test]
fn restored_actions_show_in_flight_before_the_first_sync() {
    let mut app = App::new(
        vec![SourceView::new("src", caps_full(), true)],
        KeyMap::default(),
        "t".into(),
        0,
    );
    let op = QueuedOp {
        op_id: "old-1".into(),
        source: SourceId(0),
        op: Op::SetStatus {
            id: "a".into(),
            status: Status::Answered,
        },
        note: None,
        actor: None,
    };
    app.update(Event::Restored {
        marks: Vec::new(),
        ops: vec![op],
        local: vec![],
        roles: Vec::new(),
    });
    app.update(feed(Feed::Snapshot(vec![q("a", 1, 0)])));
    assert_eq!(status(&app, "a"), Status::Answered);
    assert_eq!(
        app.queue.inflight(&QKey {
            source: SourceId(0),
            id: "a".into()
        }),
        1
    );
}

#[test]
fn snapshot_removes_what_the_platform_deleted() {
    let mut app = app();
    app.update(feed(Feed::Snapshot(vec![q("a", 1, 0)])));
    assert_eq!(app.queue.len(), 1);
}

#[test]
fn a_listing_drops_what_it_does_not_name_and_changes_nothing_else() {
    let mut app = app();
    app.track_changes();
    app.update(feed(Feed::Upsert(vec![q("a", 1, 7)])));
    assert_eq!(app.take_changes().len(), 1);
    app.update(feed(Feed::Listed(["a".into(), "b".into()].into())));
    let gone: Vec<QKey> = app.take_changes();
    assert_eq!(gone.len(), 1, "{gone:?}");
    assert_eq!(&*gone[0].id, "c");
    assert_eq!(app.queue.len(), 2);
}

#[test]
fn click_focuses_and_selects() {
    let mut app = app();
    app.update(key('a'));
    let screen = app.screen();
    let (_, rect) = screen
        .panes
        .iter()
        .find(|(k, _)| *k == PaneKind::Selected)
        .unwrap();
    app.update(Event::Click {
        col: rect.x + 3,
        row: rect.y + 1,
    });
    assert_eq!(app.focus, PaneKind::Selected);
    assert_eq!(cursor(&app), "a");
}

#[test]
fn delete_asks_first() {
    let mut app = app();
    assert!(app.update(key('D')).is_empty());
    assert!(matches!(app.overlay, Some(Overlay::ConfirmDelete { .. })));
    let cmds = app.update(key('y'));
    assert_eq!(sent(&cmds)[0].op, Op::Delete { id: "a".into() });
}

#[test]
fn paging_keeps_cursor_visible() {
    let many: Vec<Question> = (0..200).map(|i| q(&format!("q{i:03}"), i, 0)).collect();
    let mut app = app_with(caps_full(), many);
    app.update(special(Key::PageDown));
    app.update(special(Key::PageDown));
    let top = app.pane(PaneKind::Pending).top.unwrap();
    let cur = app
        .queue
        .order_of(&app.current().unwrap().view.key())
        .unwrap();
    assert!(top <= cur);
    app.update(special(Key::End));
    assert_eq!(cursor(&app), "q199");
    app.update(special(Key::Home));
    assert_eq!(cursor(&app), "q000");
    let top = app.pane(PaneKind::Pending).top.unwrap();
    assert_eq!(app.queue.at(&top).unwrap().view.id, "q000");
}

#[test]
fn help_overlay_opens_and_closes() {
    use crate::app::LineKind;
    let mut app = app();
    app.update(key('?'));
    assert!(matches!(app.overlay, Some(Overlay::Help(_))));
    app.update(key('j'));
    assert!(matches!(&app.overlay, Some(Overlay::Help(p)) if p.scroll == 1));
    app.update(key('/'));
    for c in "reject".chars() {
        app.update(key(c));
    }
    app.update(special(Key::Enter));
    let Some(o) = app.overlay.clone() else {
        panic!()
    };
    let lines = app.pager_lines(&o);
    assert!(
        lines.iter().all(|l| l.kind == LineKind::Heading
            || l.keys.contains('r')
            || l.text.contains("reject")
            || l.keys.is_empty()),
        "{lines:?}"
    );
    app.update(key('q'));
    assert!(app.overlay.is_none());
    app.update(key('?'));
    app.update(key('x'));
    assert!(
        app.overlay.is_none(),
        "a key the help has no use for closes it"
    );
}

#[test]
fn keys_in_sequence_keep_a_cursor() {
    let qs = (0..6).map(|i| q(&format!("q{i}"), i, 0)).collect();
    let mut app = app_with(caps_full(), qs);
    for e in [
        key('a'),
        key('a'),
        special(Key::Tab),
        key('o'),
        key('n'),
        key('u'),
        key('v'),
    ] {
        app.update(e);
        confirm_all(&mut app);
    }
    app.update(Event::Key(Input {
        key: Key::Tab,
        shift: true,
        ..Input::default()
    }));
    assert_eq!(app.focus, PaneKind::Pending);
    assert!(
        app.current().is_some(),
        "pending cursor lost: {:?}",
        app.pane(PaneKind::Pending)
    );
    app.update(key('r'));
    app.update(key('R'));
    assert!(app.current().is_some());
    app.update(key('d'));
    assert_eq!(app.queue.count(Status::Answered), 1);
}

fn caps_chat() -> Capabilities {
    Capabilities {
        questions: true,
        server_statuses: vec![Status::Pending, Status::Rejected],
        submit_question: true,
        chat: true,
        message_limit: Some(300),
        ..Capabilities::none()
    }
}

mod groups;
mod inputs;
mod sources;
mod triage;
mod triage_marks;
