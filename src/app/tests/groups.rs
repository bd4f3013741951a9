//! Duplicate groups in the core: one row per pane, totals, `z`, `M`, undo,
//! and the headless output following membership.

use super::*;
use crate::app::groups::GroupRow;

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

fn roadmap_app() -> App {
    app_with(
        caps_full(),
        vec![
            asked("a", 1, 2, "What is the roadmap?"),
            asked("b", 2, 0, "What is the price?"),
            asked("c", 3, 5, "what's the road map"),
            asked("d", 4, 1, "roadmap - what is it?"),
        ],
    )
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
    assert_eq!(app.group_of(&k("a")), None);
    assert_eq!(shown(&app), ["a", "b", "d"]);
    assert!(app.take_changes().contains(&k("a")));
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
