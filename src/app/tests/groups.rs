//! Duplicate groups in the core: one row per pane, totals, `z`, `M`, undo,
//! and the headless output following membership.

use super::*;
use crate::app::groups::{GROUP_STEP, GroupRow};

fn asked(id: &str, created: i64, votes: i64, text: &str) -> Question {
    Question {
        text: text.into(),
        ..q(id, created, votes)
    }
}

fn k(id: &str) -> QKey {
    QKey {
        source: SourceId(0),
        id: id.into(),
    }
}

/// Ids shown in the pending pane, in order.
fn shown(app: &App) -> Vec<String> {
    app.queue
        .iter_from(Status::Pending, None)
        .filter(|e| app.matches(&e.view))
        .map(|e| e.view.id.to_string())
        .collect()
}

/// Hands the core work steps until its grouping is done; how many.
fn settle(app: &mut App) -> usize {
    let mut steps = 0;
    while app.has_work() {
        app.update(Event::Work);
        steps += 1;
    }
    steps
}

fn roadmap_app() -> App {
    let mut app = app_with(
        caps_full(),
        vec![
            asked("a", 1, 2, "What is the roadmap?"),
            asked("b", 2, 0, "What is the price?"),
            asked("c", 3, 5, "what's the road map"),
            asked("d", 4, 1, "roadmap - what is it?"),
        ],
    );
    settle(&mut app);
    app
}

#[test]
fn a_group_shows_once_with_its_size_and_votes() {
    let app = roadmap_app();
    let info = app.group_of(&k("a")).expect("a group");
    assert_eq!((info.kept.id.as_str(), info.size, info.votes), ("c", 3, 8));
    assert_eq!(app.group_of(&k("d")), Some(info));
    assert_eq!(app.group_of(&k("b")), None);
    // The kept one is the group's row; the others fold into it.
    assert_eq!(shown(&app), ["b", "c"]);
    assert_eq!(
        app.group_row(&k("c")),
        Some(GroupRow::Head { size: 3, votes: 8 })
    );
}

#[test]
fn z_expands_and_folds_the_group_under_the_cursor() {
    let mut app = roadmap_app();
    app.panes.entry(PaneKind::Pending).or_default().cursor = Some(k("c"));
    app.update(key('z'));
    assert_eq!(shown(&app), ["a", "b", "c", "d"]);
    assert_eq!(app.group_row(&k("a")), Some(GroupRow::Member));
    app.panes.entry(PaneKind::Pending).or_default().cursor = Some(k("d"));
    app.update(key('z'));
    assert_eq!(shown(&app), ["b", "c"]);
    assert_eq!(cursor(&app), "c", "the cursor goes to the group's row");
}

#[test]
fn merge_keeps_one_rejects_the_others_and_undo_takes_it_back() {
    let mut app = roadmap_app();
    app.panes.entry(PaneKind::Pending).or_default().cursor = Some(k("c"));
    let cmds = app.update(key('M'));
    let rejected: Vec<String> = sent(&cmds)
        .into_iter()
        .filter_map(|q| match q.op {
            Op::SetStatus {
                id,
                status: Status::Rejected,
            } => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(rejected, ["a", "d"]);
    assert!(
        sent(&cmds)
            .iter()
            .all(|q| q.note.as_deref() == Some("merge: kept src/c")),
        "journaled as a merge"
    );
    assert_eq!(status(&app, "c"), Status::Pending);
    assert_eq!(status(&app, "a"), Status::Rejected);
    confirm_all(&mut app);
    // The kept one stays kept once the others are rejected.
    assert_eq!(app.group_of(&k("a")).unwrap().kept, k("c"));
    app.update(key('u'));
    assert_eq!(status(&app, "a"), Status::Pending);
    assert_eq!(status(&app, "d"), Status::Pending);
}

#[test]
fn in_an_expanded_group_the_cursor_picks_the_kept_one() {
    let mut app = roadmap_app();
    app.panes.entry(PaneKind::Pending).or_default().cursor = Some(k("c"));
    app.update(key('z'));
    app.panes.entry(PaneKind::Pending).or_default().cursor = Some(k("a"));
    let cmds = app.update(key('M'));
    assert_eq!(sent(&cmds).len(), 2);
    assert_eq!(status(&app, "a"), Status::Pending);
    assert_eq!(status(&app, "c"), Status::Rejected);
    assert_eq!(app.group_of(&k("d")).unwrap().kept, k("a"));
}

#[test]
fn a_platform_that_cannot_reject_deletes() {
    let caps = Capabilities {
        server_statuses: vec![Status::Pending, Status::Selected, Status::Answered],
        ..caps_full()
    };
    let mut app = app_with(
        caps,
        vec![
            asked("a", 1, 3, "Can you share the slides?"),
            asked("b", 2, 0, "Will the slides be shared?"),
        ],
    );
    settle(&mut app);
    app.panes.entry(PaneKind::Pending).or_default().cursor = Some(k("a"));
    let cmds = app.update(key('M'));
    let ops: Vec<Op> = sent(&cmds).into_iter().map(|q| q.op).collect();
    assert_eq!(ops, [Op::Delete { id: "b".into() }]);
}

#[test]
fn a_deleted_or_reworded_member_leaves_and_the_output_hears_it() {
    let mut app = roadmap_app();
    app.track_changes();
    app.update(feed(Feed::QuestionGone("c".into())));
    let changed = app.take_changes();
    assert_eq!(changed.len(), 3, "each once: {changed:?}");
    for id in ["a", "c", "d"] {
        assert!(changed.contains(&k(id)), "{id} in {changed:?}");
    }
    assert_eq!(app.group_of(&k("a")).unwrap().kept, k("a"));
    assert_eq!(app.group_of(&k("a")).unwrap().size, 2);
    let mut d = asked("d", 4, 1, "Is there a discount for students?");
    d.updated = 10;
    app.update(feed(Feed::Upsert(vec![d])));
    // Until the step, the new text waits in the old text's group.
    assert_eq!(app.group_of(&k("a")).unwrap().size, 2);
    assert!(app.take_changes().contains(&k("d")), "its own line at once");
    settle(&mut app);
    assert_eq!(app.group_of(&k("a")), None);
    assert_eq!(shown(&app), ["a", "b", "d"]);
    assert!(app.take_changes().contains(&k("a")));
}

/// Groups name questions by the queue's slots: an arrival that takes a
/// gone member's slot starts with no group of the gone one's.
#[test]
fn an_arrival_in_a_gone_members_slot_is_grouped_by_its_own_text() {
    let mut app = roadmap_app();
    app.update(feed(Feed::QuestionGone("d".into())));
    app.update(feed(Feed::Upsert(vec![asked(
        "e",
        5,
        0,
        "Where is the coffee?",
    )])));
    assert_eq!(app.group_of(&k("e")), None, "before its step");
    settle(&mut app);
    assert_eq!(app.group_of(&k("e")), None);
    assert_eq!(app.group_of(&k("a")).unwrap().size, 2);
    app.update(feed(Feed::QuestionGone("e".into())));
    app.update(feed(Feed::Upsert(vec![asked(
        "f",
        6,
        4,
        "the roadmap: what is it?",
    )])));
    settle(&mut app);
    let info = app.group_of(&k("f")).expect("joins the roadmap group");
    assert_eq!((info.kept.id.as_str(), info.size, info.votes), ("c", 3, 11));
    assert_eq!(shown(&app), ["b", "c"]);
}

/// Three made-up words of their own for each topic.
fn topic_words(topic: usize) -> String {
    let mut x = (topic as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut words = Vec::new();
    for _ in 0..3 {
        let w: String = (0..7)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b'a' + (x % 26) as u8)
            })
            .collect();
        words.push(w);
    }
    words.join(" ")
}

/// `n` questions, every second one a rewording of the one before.
fn pairs(n: usize) -> Vec<Question> {
    (0..n)
        .map(|i| {
            let words = topic_words(i / 2);
            let text = if i % 2 == 0 {
                format!("When does the {words} start?")
            } else {
                format!("when does {words} start")
            };
            asked(&format!("q{i}"), i as i64, 0, &text)
        })
        .collect()
}

#[test]
fn arrivals_show_at_once_and_group_in_bounded_steps() {
    let mut app = one_source("src", caps_full());
    app.track_changes();
    app.update(feed(Feed::Upsert(pairs(200))));
    // Every arrival is held, counted and said at once.
    assert_eq!(app.queue.count(Status::Pending), 200);
    assert_eq!(app.take_changes().len(), 200);
    assert!(app.has_work());
    assert_eq!(app.groups.waiting(), 200);
    assert_eq!(app.group_of(&k("q1")), None, "not grouped yet");
    app.update(Event::Work);
    assert_eq!(app.groups.waiting(), 200 - GROUP_STEP);
    assert_eq!(app.group_of(&k("q1")).map(|g| g.size), Some(2));
    let steps = 1 + settle(&mut app);
    assert_eq!(steps, 200usize.div_ceil(GROUP_STEP));
    for i in (0..200).step_by(2) {
        let g = app
            .group_of(&k(&format!("q{i}")))
            .expect("each pair a group");
        assert_eq!((g.kept, g.size), (k(&format!("q{i}")), 2));
    }
    // The group lines follow the steps: each member's line again.
    let changed = app.take_changes();
    assert_eq!(changed.len(), 200, "{}", changed.len());
    assert!(!app.has_work());
    assert_eq!(shown(&app).len(), 100, "one row a group");
}

#[test]
fn a_question_gone_or_reworded_while_waiting_is_grouped_as_it_is_then() {
    let mut app = one_source("src", caps_full());
    app.update(feed(Feed::Upsert(pairs(4))));
    app.update(feed(Feed::QuestionGone("q1".into())));
    let mut q3 = asked("q3", 3, 0, "Is there a discount for students?");
    q3.updated = 10;
    app.update(feed(Feed::Upsert(vec![q3.clone()])));
    q3.text = format!("when does {} start", topic_words(0)).into();
    q3.updated = 11;
    app.update(feed(Feed::Upsert(vec![q3])));
    assert_eq!(app.groups.waiting(), 3, "q3 waits once");
    assert_eq!(settle(&mut app), 1);
    assert_eq!(app.group_of(&k("q1")), None);
    let g = app.group_of(&k("q0")).expect("q3's last text joins q0");
    assert_eq!((g.kept, g.size), (k("q0"), 2));
    assert_eq!(app.group_of(&k("q2")), None);
}

#[test]
fn a_question_decided_while_waiting_joins_its_group_as_decided() {
    let mut app = one_source("src", caps_full());
    app.update(feed(Feed::Upsert(pairs(2))));
    app.panes.entry(PaneKind::Pending).or_default().cursor = Some(k("q0"));
    app.update(key('a'));
    let text = format!("when does {} start", topic_words(0));
    let mut q1 = asked("q1", 1, 7, &text);
    q1.updated = 5;
    app.update(feed(Feed::Upsert(vec![q1])));
    assert!(app.group_of(&k("q0")).is_none());
    settle(&mut app);
    let g = app.group_of(&k("q0")).expect("a group");
    assert_eq!((g.kept, g.size, g.votes), (k("q1"), 2, 7));
    assert_eq!(status(&app, "q0"), Status::Selected);
    // The selected one is a row of its own; the pending one heads Pending.
    assert_eq!(
        app.group_row(&k("q0")),
        Some(GroupRow::Head { size: 2, votes: 7 })
    );
    assert_eq!(shown(&app), ["q1"]);
}

#[test]
fn only_pending_folds_a_group_selected_members_each_show() {
    let mut app = roadmap_app();
    for id in ["a", "c", "d"] {
        app.panes.entry(PaneKind::Pending).or_default().cursor = Some(k(id));
        app.update(key('z'));
        app.panes.entry(PaneKind::Pending).or_default().cursor = Some(k(id));
        app.update(key('a'));
        app.groups.close();
    }
    let selected: Vec<String> = app
        .queue
        .iter_from(Status::Selected, None)
        .filter(|e| app.matches(&e.view))
        .map(|e| e.view.id.to_string())
        .collect();
    assert_eq!(selected.len(), 3, "{selected:?}");
    assert!(matches!(
        app.group_row(&k("a")),
        Some(GroupRow::Head { size: 3, .. })
    ));
}

#[test]
fn totals_and_the_kept_question_follow_votes_both_ways() {
    let mut app = roadmap_app();
    let mut a = asked("a", 1, 9, "What is the roadmap?");
    a.updated = 10;
    app.update(feed(Feed::Upsert(vec![a])));
    let info = app.group_of(&k("d")).expect("a group");
    assert_eq!((info.kept.id.as_str(), info.size, info.votes), ("a", 3, 15));
    assert_eq!(shown(&app), ["a", "b"]);
    // The kept one loses its votes: the next best is kept again.
    let mut a = asked("a", 1, 0, "What is the roadmap?");
    a.updated = 11;
    app.update(feed(Feed::Upsert(vec![a])));
    let info = app.group_of(&k("d")).expect("a group");
    assert_eq!((info.kept.id.as_str(), info.votes), ("c", 6));
    assert_eq!(shown(&app), ["b", "c"]);
}

#[test]
fn with_the_kept_one_decided_the_first_pending_member_is_the_row() {
    let mut app = roadmap_app();
    app.panes.entry(PaneKind::Pending).or_default().cursor = Some(k("c"));
    app.update(key('a'));
    assert_eq!(shown(&app), ["a", "b"]);
    assert_eq!(
        app.group_row(&k("a")),
        Some(GroupRow::Head { size: 3, votes: 8 })
    );
    assert!(matches!(
        app.group_row(&k("c")),
        Some(GroupRow::Head { .. })
    ));
    app.panes.entry(PaneKind::Pending).or_default().cursor = Some(k("a"));
    app.update(key('a'));
    assert_eq!(shown(&app), ["b", "d"]);
    // Back to pending: the kept one is the row again.
    app.update(key('u'));
    app.update(key('u'));
    assert_eq!(shown(&app), ["b", "c"]);
}

/// A search finds a group through any member: when the group's own row
/// does not match, its first matching pending member stands for it.
#[test]
fn a_search_shows_a_group_through_its_first_matching_member() {
    let mut app = roadmap_app();
    app.query = Some(crate::triage::search::parse("roadmap").unwrap());
    // "c" (kept) says "road map"; "a" and "d" say "roadmap".
    assert_eq!(shown(&app), ["a"]);
    assert_eq!(
        app.group_row(&k("a")),
        Some(GroupRow::Head { size: 3, votes: 8 })
    );
    assert_eq!(app.group_row(&k("d")), Some(GroupRow::Member));
    // The kept one matches: it is the row again.
    app.query = Some(crate::triage::search::parse("road").unwrap());
    assert_eq!(shown(&app), ["c"]);
    app.query = Some(crate::triage::search::parse("price").unwrap());
    assert_eq!(shown(&app), ["b"]);
    app.query = None;
    assert_eq!(shown(&app), ["b", "c"]);
}
