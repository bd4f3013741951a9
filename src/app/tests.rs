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
        text: format!("question {id}"),
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
    app.current().map(|e| e.view.id.clone()).unwrap_or_default()
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
                let mut server = app.queue.get(&k).unwrap().server.clone();
                server.status = *status;
                server.updated += 1;
                Outcome::Question(server)
            }
            (Op::Vote { want, id }, Some(k)) => {
                let e = app.queue.get(&k).unwrap();
                let votes = e.server.votes + if *want == MyVote::Up { 1 } else { -1 };
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
    };
    app.update(Event::Restored {
        ops: vec![op],
        local: vec![],
    });
    app.update(feed(Feed::Snapshot(vec![q("a", 1, 0)])));
    assert_eq!(status(&app, "a"), Status::Answered);
    assert_eq!(
        app.queue
            .get(&QKey {
                source: SourceId(0),
                id: "a".into()
            })
            .unwrap()
            .inflight,
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
        .unwrap()
        .clone();
    assert!(top <= cur);
    app.update(special(Key::End));
    assert_eq!(cursor(&app), "q199");
    app.update(special(Key::Home));
    assert_eq!(cursor(&app), "q000");
    assert_eq!(app.pane(PaneKind::Pending).top.unwrap().key().id, "q000");
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

fn msg(id: &str, created: i64) -> Message {
    Message {
        source: SourceId(0),
        id: id.into(),
        author: Some("guest".into()),
        text: format!("message {id}"),
        reply_to: None,
        created,
    }
}

fn type_text(app: &mut App, text: &str) {
    app.update(Event::Paste(text.into()));
}

fn input_text(app: &App) -> String {
    app.input
        .as_ref()
        .map(|ib| ib.area.lines().join("\n"))
        .unwrap_or_default()
}

fn chat_app() -> App {
    let mut app = app_with(caps_chat(), vec![q("a", 1, 0)]);
    app.update(feed(Feed::ChatSnapshot(vec![msg("m1", 1), msg("m2", 2)])));
    while app.focus != PaneKind::Chat {
        app.update(special(Key::Tab));
    }
    app
}

#[test]
fn chat_over_the_limit_is_refused_before_anything_is_queued() {
    let mut app = chat_app();
    app.update(key('c'));
    type_text(&mut app, &"x".repeat(301));
    let cmds = app.update(special(Key::Enter));
    assert!(sent(&cmds).is_empty(), "{cmds:?}");
    let err = app.input.as_ref().unwrap().error.clone().unwrap();
    assert!(err.contains("301") && err.contains("300"), "{err}");
    // One character less goes out.
    app.update(special(Key::Backspace));
    let ops = sent(&app.update(special(Key::Enter)));
    assert_eq!(ops.len(), 1);
    assert!(
        matches!(&ops[0].op, Op::PostMessage { text, reply_to: None } if text.chars().count() == 300)
    );
    assert!(app.input.is_none());
    // The headless path checks the same way.
    let e = app
        .post_message(SourceId(0), &"é".repeat(301), None)
        .unwrap_err();
    assert!(e.contains("300"), "{e}");
    assert!(app.post_message(SourceId(0), "  ", None).is_err());
    let ops = sent(
        &app.post_message(SourceId(0), "hi", Some("m1".into()))
            .unwrap(),
    );
    assert_eq!(
        ops[0].op,
        Op::PostMessage {
            text: "hi".into(),
            reply_to: Some("m1".into())
        }
    );
    let ops = sent(&app.delete_message(SourceId(0), "m2").unwrap());
    assert_eq!(ops[0].op, Op::DeleteMessage { id: "m2".into() });
}

#[test]
fn headless_chat_needs_a_chat_source() {
    let mut app = app();
    assert!(app.post_message(SourceId(0), "hi", None).is_err());
    assert!(app.delete_message(SourceId(0), "m1").is_err());
    assert!(app.inflight.is_empty());
}

#[test]
fn an_invalid_reply_comes_back_to_its_form_with_the_platform_words() {
    let mut app = chat_app();
    assert_eq!(app.current_message().unwrap().id, "m2");
    app.update(key('y'));
    type_text(&mut app, "see https://spam.example");
    let op_id = sent(&app.update(special(Key::Enter)))[0].op_id.clone();
    assert!(app.input.is_none());
    let error = ProviderError::Invalid("post message: The data may not contain links.".into());
    app.update(Event::Op(OpReport::Failed { op_id, error }));
    let ib = app.input.as_ref().expect("the form is open again");
    assert_eq!(
        ib.purpose,
        InputPurpose::Chat {
            source: SourceId(0),
            reply_to: Some("m2".into())
        }
    );
    assert_eq!(input_text(&app), "see https://spam.example");
    assert!(ib.error.as_ref().unwrap().contains("may not contain links"));
    assert!(app.failed.is_empty() && app.last_error.is_none());
    // Fixed and resent from the same form, still a reply.
    for _ in 0..24 {
        app.update(special(Key::Backspace));
    }
    type_text(&mut app, "see the pinned link");
    let ops = sent(&app.update(special(Key::Enter)));
    assert_eq!(
        ops[0].op,
        Op::PostMessage {
            text: "see the pinned link".into(),
            reply_to: Some("m2".into())
        }
    );
}

#[test]
fn an_invalid_question_reopens_the_question_form() {
    let mut app = app_with(caps_chat(), vec![q("a", 1, 0)]);
    app.update(key('c'));
    type_text(&mut app, "line one");
    app.update(Event::Key(Input {
        key: Key::Enter,
        shift: true,
        ..Input::default()
    }));
    type_text(&mut app, "line two");
    let op_id = sent(&app.update(special(Key::Enter)))[0].op_id.clone();
    let error = ProviderError::Invalid("submit question: too short".into());
    app.update(Event::Op(OpReport::Failed { op_id, error }));
    let ib = app.input.as_ref().unwrap();
    assert_eq!(
        ib.purpose,
        InputPurpose::Question {
            source: SourceId(0)
        }
    );
    assert_eq!(input_text(&app), "line one\nline two");
    assert!(ib.error.as_ref().unwrap().contains("too short"));
}

#[test]
fn other_failures_and_busy_forms_keep_the_status_line() {
    let mut app = chat_app();
    // Not a validation error: the usual failed action.
    let op_id = sent(&app.post_message(SourceId(0), "one", None).unwrap())[0]
        .op_id
        .clone();
    let error = ProviderError::Forbidden("chat is closed".into());
    app.update(Event::Op(OpReport::Failed { op_id, error }));
    assert!(app.input.is_none());
    assert_eq!(app.failed.len(), 1);
    // A validation error while the moderator types something else: the
    // open input is not taken over.
    let op_id = sent(&app.post_message(SourceId(0), "two", None).unwrap())[0]
        .op_id
        .clone();
    app.update(key('c'));
    type_text(&mut app, "typing");
    let error = ProviderError::Invalid("post message: nope".into());
    app.update(Event::Op(OpReport::Failed { op_id, error }));
    assert_eq!(input_text(&app), "typing");
    assert!(app.input.as_ref().unwrap().error.is_none());
    assert_eq!(app.failed.len(), 2);
    assert!(app.last_error.as_ref().unwrap().contains("nope"));
}

#[test]
fn chat_and_questions_update_while_the_input_is_open() {
    let mut app = chat_app();
    app.update(key('c'));
    type_text(&mut app, "half a thou");
    app.update(feed(Feed::Messages(vec![msg("m3", 3)])));
    app.update(feed(Feed::Upsert(vec![q("b", 2, 0)])));
    assert_eq!(app.chat.len(), 3);
    assert_eq!(app.queue.count(Status::Pending), 2);
    assert_eq!(input_text(&app), "half a thou");
    // The chat follows the newest message.
    assert_eq!(app.current_message().unwrap().id, "m3");
}

#[test]
fn on_air_moves_off_a_question_that_is_not_loaded() {
    // A headless run loads only the question it acts on; the one on air
    // from an earlier run is known by its local state alone.
    let mut app = app_with(caps_chat(), vec![q("a", 1, 0)]);
    let earlier = QKey {
        source: SourceId(0),
        id: "z".into(),
    };
    let aired = LocalState {
        status: Some(Status::Selected),
        on_air: true,
        rank: None,
    };
    app.update(Event::Restored {
        ops: Vec::new(),
        local: vec![(earlier.clone(), aired)],
    });
    let a = QKey {
        source: SourceId(0),
        id: "a".into(),
    };
    let cmds = app.moderate(a, ModAction::OnAir).unwrap();
    assert!(sent(&cmds).is_empty(), "selected and on air are local here");
    assert!(
        cmds.contains(&Command::SaveLocal {
            key: earlier.clone(),
            local: LocalState {
                status: Some(Status::Selected),
                on_air: false,
                rank: None,
            }
        }),
        "{cmds:?}"
    );
    assert!(view(&app, "a").on_air);
    assert_eq!(view(&app, "a").status, Status::Selected);
    assert!(!app.queue.local(&earlier).on_air);
}

#[test]
fn closing_the_picker_without_a_pick_says_why_nothing_arrives() {
    let mut app = App::new(
        vec![SourceView::new("src", caps_full(), false)],
        KeyMap::default(),
        "t".into(),
        0,
    );
    app.overlay = Some(Overlay::Picker {
        source: SourceId(0),
        events: None,
        row: 0,
    });
    app.update(special(Key::Esc));
    assert_eq!(app.overlay, None);
    let text = app.sources[0].describe_connection(app.now);
    assert!(text.starts_with("failed: no event picked"), "{text}");
    // The keys work on; q now quits.
    let cmds = app.update(key('q'));
    assert_eq!(cmds, vec![Command::Quit]);
}

#[test]
fn each_source_without_an_event_gets_the_picker_in_turn() {
    let mut app = App::new(
        vec![
            SourceView::new("one", caps_full(), false),
            SourceView::new("two", caps_full(), false),
        ],
        KeyMap::default(),
        "t".into(),
        0,
    );
    assert_eq!(
        app.ask_for_event(None),
        vec![Command::LoadEvents(SourceId(0))]
    );
    let events = vec![EventInfo {
        id: "ev1".into(),
        title: "Keynote".into(),
        active: Some(true),
        starts: None,
    }];
    app.update(Event::Events {
        source: SourceId(0),
        events: Ok(events),
    });
    let cmds = app.update(special(Key::Enter));
    assert_eq!(
        cmds,
        vec![
            Command::PickEvent {
                source: SourceId(0),
                event: "ev1".into()
            },
            Command::LoadEvents(SourceId(1)),
        ]
    );
    assert!(matches!(
        app.overlay,
        Some(Overlay::Picker {
            source: SourceId(1),
            ..
        })
    ));
    // Declined: said where the moderator looks, and E asks again.
    app.update(special(Key::Esc));
    assert!(app.overlay.is_none());
    assert!(
        app.sources[1]
            .describe_connection(app.now)
            .contains("E picks one")
    );
    assert_eq!(app.update(key('E')), vec![Command::LoadEvents(SourceId(1))]);
}

#[test]
fn platform_ids_and_titles_never_reach_the_screen_raw() {
    let mut app = App::new(
        vec![SourceView::new("src", caps_full(), false)],
        KeyMap::default(),
        "t".into(),
        0,
    );
    app.ask_for_event(None);
    let hostile = EventInfo {
        id: "ev\x1b]0;pwned\x07".into(),
        title: "Key\x1b[2Jnote".into(),
        active: None,
        starts: Some("\u{202e}soon".into()),
    };
    app.update(Event::Events {
        source: SourceId(0),
        events: Ok(vec![hostile]),
    });
    let Some(Overlay::Picker {
        events: Some(Ok(list)),
        ..
    }) = &app.overlay
    else {
        panic!("no picker: {:?}", app.overlay);
    };
    let e = &list[0];
    for s in [&e.id, &e.title, e.starts.as_ref().unwrap()] {
        assert!(crate::text::is_terminal_safe(s), "{s:?}");
    }
}

#[test]
fn a_late_restore_never_takes_back_what_the_moderator_just_did() {
    let mut app = app();
    let k = app.current().unwrap().view.key();
    app.update(key('o'));
    assert!(app.queue.local(&k).on_air);
    // The store's answer (read before the key press) arrives afterwards.
    app.update(Event::Restored {
        ops: Vec::new(),
        local: vec![(k.clone(), LocalState::default())],
    });
    assert!(app.queue.local(&k).on_air);
}

#[test]
fn the_info_view_names_the_log_file_it_was_given() {
    let mut a = app();
    a.update(key('i'));
    let Some(Overlay::Info { rows }) = &a.overlay else {
        panic!("no info overlay");
    };
    assert!(rows.iter().all(|(k, _)| k != "log"));
    a.update(key('i'));
    a.set_log_file("/state/qadeck/qadeck.log".into());
    a.update(key('i'));
    let Some(Overlay::Info { rows }) = &a.overlay else {
        panic!("no info overlay");
    };
    assert!(
        rows.iter()
            .any(|(k, v)| k == "log" && v == "/state/qadeck/qadeck.log"),
        "{rows:?}"
    );
}

#[test]
fn show_requests_run_the_key_handlers_and_answer() {
    use crate::domain::{ShowAction, ShowRefusal};
    let mut a = q("a", 1, 0);
    a.status = Status::Selected;
    let mut b = q("b", 2, 0);
    b.status = Status::Selected;
    let mut app = app_with(caps_chat(), vec![a, b]);
    assert_eq!(app.on_air_snapshot().next.map(|n| n.id), Some("a".into()));
    let cmds = app.update(Event::Show {
        request: 7,
        action: ShowAction::Next,
    });
    assert!(
        cmds.contains(&Command::ShowDone {
            request: 7,
            result: Ok(())
        }),
        "{cmds:?}"
    );
    let s = app.on_air_snapshot();
    assert_eq!(s.on_air.map(|q| q.id), Some("a".into()));
    assert_eq!(
        (s.next.map(|q| q.id), s.queue_length),
        (Some("b".into()), 1)
    );
    app.update(Event::Show {
        request: 8,
        action: ShowAction::Clear,
    });
    assert_eq!(app.on_air_snapshot().on_air, None);
    let cmds = app.update(Event::Show {
        request: 9,
        action: ShowAction::Air {
            source: "nope".into(),
            id: "a".into(),
        },
    });
    assert!(matches!(
        cmds.last(),
        Some(Command::ShowDone {
            request: 9,
            result: Err(ShowRefusal::Unknown(_))
        })
    ));
}

#[test]
fn another_consoles_on_air_state_replaces_ours() {
    let mut a = q("a", 1, 0);
    a.status = Status::Selected;
    let mut app = app_with(caps_chat(), vec![a]);
    let key = QKey {
        source: SourceId(0),
        id: "a".into(),
    };
    let aired = LocalState {
        status: None,
        on_air: true,
        rank: None,
    };
    app.update(Event::Session(SessionEvent::SharedLocal {
        source: SourceId(0),
        states: vec![(key, aired)],
        seen: 0,
    }));
    assert!(view(&app, "a").on_air);
    app.update(Event::Session(SessionEvent::SharedLocal {
        source: SourceId(0),
        states: Vec::new(),
        seen: 0,
    }));
    assert!(
        !view(&app, "a").on_air,
        "a row gone from the store is the default state"
    );
}
