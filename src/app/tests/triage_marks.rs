//! Stars, labels and changes from elsewhere, as the moderator meets them.

use super::*;
use crate::app::elsewhere::{CHANGED_MS, Origin};

fn k(id: &str) -> QKey {
    QKey {
        source: SourceId(0),
        id: id.into(),
    }
}

fn saved(cmds: &[Command]) -> Vec<(QKey, Marks)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::SaveMarks { key, marks } => Some((key.clone(), marks.clone())),
            _ => None,
        })
        .collect()
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(key(c));
    }
}

/// Types a label into the `#` input and sends it.
fn label(app: &mut App, text: &str) -> Vec<Command> {
    app.update(key('#'));
    type_text(app, text);
    app.update(special(Key::Enter))
}

#[test]
fn star_toggles_and_is_saved_each_time() {
    let mut app = app();
    let cmds = app.update(key('*'));
    let m = app.marks_of(&k("a")).unwrap();
    assert!(m.starred);
    assert_eq!(saved(&cmds), [(k("a"), m.clone())]);
    let cmds = app.update(key('*'));
    assert!(app.marks_of(&k("a")).is_none(), "nothing marked: no entry");
    assert_eq!(saved(&cmds), [(k("a"), Marks::default())]);
    assert!(sent(&cmds).is_empty(), "marks never reach the platform");
}

#[test]
fn a_label_is_added_then_removed_by_typing_it_again() {
    let mut app = app();
    let cmds = label(&mut app, "press");
    assert!(app.input.is_none());
    assert_eq!(app.marks_of(&k("a")).unwrap().labels, ["press"]);
    assert_eq!(saved(&cmds).len(), 1);
    label(&mut app, "#vip");
    assert_eq!(app.marks_of(&k("a")).unwrap().labels, ["press", "vip"]);
    // Case and accents do not make another label.
    label(&mut app, "PRESS");
    assert_eq!(app.marks_of(&k("a")).unwrap().labels, ["vip"]);
}

#[test]
fn a_bad_label_keeps_the_input_open_with_the_reason() {
    let mut app = app();
    let cmds = label(&mut app, "two words");
    assert!(saved(&cmds).is_empty());
    let ib = app.input.as_ref().expect("still open");
    assert!(ib.error.as_deref().unwrap().contains("one word"));
    app.update(special(Key::Esc));
    assert!(app.input.is_none() && app.marks_of(&k("a")).is_none());
}

#[test]
fn tab_completes_from_the_labels_in_use_and_cycles() {
    let mut app = app();
    label(&mut app, "press");
    app.update(key('j'));
    label(&mut app, "prize");
    app.update(key('j'));
    label(&mut app, "vip");
    assert_eq!(app.labels_in_use(), ["press", "prize", "vip"]);
    app.update(key('#'));
    type_text(&mut app, "pr");
    let text = |app: &App| app.input.as_ref().unwrap().area.lines().join("");
    app.update(special(Key::Tab));
    assert_eq!(text(&app), "press");
    let hint = app.input.as_ref().unwrap().hint.clone().unwrap();
    assert!(hint.contains("#press #prize"), "{hint}");
    app.update(special(Key::Tab));
    assert_eq!(text(&app), "prize");
    app.update(special(Key::Tab));
    assert_eq!(text(&app), "press", "cycles back");
    app.update(special(Key::Enter));
    assert_eq!(app.marks_of(&k("c")).unwrap().labels, ["vip", "press"]);
    // Nothing to complete: said under the input, the text stays.
    app.update(key('#'));
    type_text(&mut app, "zz");
    app.update(special(Key::Tab));
    assert_eq!(text(&app), "zz");
    assert!(
        app.input
            .as_ref()
            .unwrap()
            .hint
            .as_deref()
            .unwrap()
            .contains("zz")
    );
}

#[test]
fn restored_marks_show_but_never_undo_this_session() {
    let mut app = app();
    app.update(key('*'));
    let stored = Marks {
        labels: vec!["old".into()],
        ..Marks::default()
    };
    app.update(Event::Restored {
        ops: Vec::new(),
        local: Vec::new(),
        marks: vec![(k("a"), stored.clone()), (k("b"), stored.clone())],
        roles: Vec::new(),
    });
    assert!(app.marks_of(&k("a")).unwrap().starred, "ours stays");
    assert_eq!(app.marks_of(&k("b")), Some(&stored));
}

/// The platform's copy of `id` with another status.
fn platform(app: &App, id: &str, status: Status) -> Event {
    let mut server = app.queue.get(&k(id)).unwrap().server();
    server.status = status;
    server.updated += 10;
    feed(Feed::Upsert(vec![server]))
}

#[test]
fn another_moderators_status_change_is_marked_for_a_minute() {
    let mut app = app();
    app.update(Event::Tick { now: 1_000 });
    assert!(
        app.changed_elsewhere(&k("b")).is_none(),
        "first sync is no change"
    );
    app.update(platform(&app, "b", Status::Selected));
    let c = app.changed_elsewhere(&k("b")).unwrap().clone();
    assert_eq!((c.at, c.origin), (1_000, Origin::Platform));
    assert_eq!(c.what, "pending → selected");
    // Audience votes moving is not a change.
    let mut more = app.queue.get(&k("c")).unwrap().server();
    more.votes += 7;
    more.updated += 10;
    app.update(feed(Feed::Upsert(vec![more])));
    assert!(app.changed_elsewhere(&k("c")).is_none());
    app.update(Event::Tick {
        now: 1_000 + CHANGED_MS - 1,
    });
    assert!(app.changed_elsewhere(&k("b")).is_some());
    app.update(Event::Tick {
        now: 1_000 + CHANGED_MS,
    });
    assert!(app.changed_elsewhere(&k("b")).is_none());
    assert!(app.elsewhere.is_empty(), "expired changes are forgotten");
}

#[test]
fn our_own_actions_are_not_changes_from_elsewhere() {
    let mut app = app();
    // In flight: the platform's echo is ours.
    app.update(key('a'));
    app.update(platform(&app, "a", Status::Selected));
    assert!(app.changed_elsewhere(&k("a")).is_none());
    // Confirmed without the question: the feed that follows is ours too.
    let op_id = app.inflight.keys().next().unwrap().clone();
    app.update(Event::Op(OpReport::Confirmed {
        op_id,
        outcome: Outcome::Done,
    }));
    app.update(platform(&app, "a", Status::Selected));
    assert!(app.changed_elsewhere(&k("a")).is_none());
    // …but a different status soon after is someone else's.
    app.update(platform(&app, "a", Status::Answered));
    assert_eq!(
        app.changed_elsewhere(&k("a")).unwrap().what,
        "selected → answered"
    );
}

#[test]
fn the_accounts_vote_and_a_deletion_from_elsewhere_are_marked() {
    let mut app = app();
    let mut voted = app.queue.get(&k("b")).unwrap().server();
    voted.my_vote = MyVote::Up;
    voted.votes += 1;
    voted.updated += 10;
    app.update(feed(Feed::Upsert(vec![voted])));
    assert_eq!(
        app.changed_elsewhere(&k("b")).unwrap().what,
        "the account's vote: none → up"
    );
    app.update(feed(Feed::QuestionGone("c".into())));
    assert_eq!(app.changed_elsewhere(&k("c")).unwrap().what, "deleted");
    assert!(
        app.toast
            .as_ref()
            .unwrap()
            .text
            .contains("deleted on the platform")
    );
    // Our own deletion is not.
    app.update(key('D'));
    app.update(key('y'));
    confirm_all(&mut app);
    app.update(feed(Feed::QuestionGone("a".into())));
    assert!(app.changed_elsewhere(&k("a")).is_none());
}

#[test]
fn another_consoles_on_air_is_marked_as_such() {
    let mut app = app();
    let aired = LocalState {
        status: None,
        on_air: true,
        rank: None,
    };
    // The first read of the shared store is where this console starts.
    app.update(Event::Session(SessionEvent::SharedLocal {
        source: SourceId(0),
        states: vec![(k("a"), aired)],
        seen: 0,
    }));
    assert!(app.changed_elsewhere(&k("a")).is_none());
    app.update(Event::Session(SessionEvent::SharedLocal {
        source: SourceId(0),
        states: vec![(
            k("b"),
            LocalState {
                status: Some(Status::Selected),
                on_air: true,
                rank: None,
            },
        )],
        seen: 0,
    }));
    let c = app.changed_elsewhere(&k("b")).unwrap();
    assert_eq!(c.origin, Origin::OtherConsole);
    assert_eq!(c.what, "pending → selected, put on air");
}
