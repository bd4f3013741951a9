//! The core with rules and searches: what a rule decides for an arrival,
//! why it says so, `u` taking it back, and searches that parse or refuse.

use super::*;
use crate::domain::Marks;
use crate::triage::rules::{Matcher, Rule, RuleAction, Words};
use crate::triage::search::{SavedSearch, parse};

fn rule(name: &str, word: &str, action: RuleAction) -> Rule {
    Rule {
        name: name.into(),
        matcher: Matcher::Words(Words::new(&[word.to_string()]).unwrap()),
        action,
    }
}

fn asked(id: &str, text: &str) -> Question {
    Question {
        text: text.into(),
        author: Some("ana".into()),
        ..q(id, 10, 0)
    }
}

fn k(id: &str) -> QKey {
    QKey {
        source: SourceId(0),
        id: id.into(),
    }
}

fn with_rules(rules: Vec<Rule>) -> App {
    let mut app = one_source("keynote", caps_full());
    app.set_triage(rules, Vec::new());
    app
}

fn saves(cmds: &[Command]) -> Vec<(QKey, Marks)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::SaveMarks { key, marks } => Some((key.clone(), marks.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_hold_rule_marks_the_arrival_with_its_reason_and_u_releases_it() {
    let mut app = with_rules(vec![rule("profanity", "darn", RuleAction::Hold)]);
    let cmds = app.update(feed(Feed::Upsert(vec![
        asked("a", "Darn, why so late?"),
        asked("b", "Fine question"),
    ])));
    let saved = saves(&cmds);
    assert_eq!(saved.len(), 1, "{cmds:?}");
    assert_eq!(saved[0].0, k("a"));
    let hold = saved[0].1.held.clone().unwrap();
    assert_eq!(
        (hold.rule.as_str(), hold.matched.as_str()),
        ("profanity", "word 'darn'")
    );
    assert!(sent(&cmds).is_empty(), "a hold sends nothing");
    assert_eq!(status(&app, "a"), Status::Pending);
    assert_eq!(app.held_by(&k("a")), Some("profanity"));
    assert_eq!(
        app.decision_note(&k("a")).as_deref(),
        Some("held by rule profanity — matched word 'darn'")
    );
    assert_eq!(app.held_by(&k("b")), None);
    // `u` on the held question releases it.
    assert_eq!(cursor(&app), "a");
    let cmds = app.update(key('u'));
    assert_eq!(saves(&cmds), vec![(k("a"), reviewed())]);
    assert_eq!(app.held_by(&k("a")), None);
    assert!(
        app.marks[&k("a")].reviewed,
        "kept: the rules leave it alone"
    );
    assert_eq!(app.decision_note(&k("a")), None);
    // The same question seen again is not a new arrival.
    let cmds = app.update(feed(Feed::Upsert(vec![Question {
        updated: 20,
        ..asked("a", "Darn, why so late?")
    }])));
    assert!(saves(&cmds).is_empty());
}

/// The marks of a question whose hold the moderator released.
fn reviewed() -> Marks {
    Marks {
        reviewed: true,
        ..Marks::default()
    }
}

#[test]
fn a_released_hold_stays_released_after_a_restart() {
    let mut app = with_rules(vec![rule("profanity", "darn", RuleAction::Hold)]);
    app.update(Event::Restored {
        ops: Vec::new(),
        local: Vec::new(),
        marks: vec![(k("a"), reviewed())],
        roles: Vec::new(),
    });
    let cmds = app.update(feed(Feed::Upsert(vec![asked("a", "darn")])));
    assert!(saves(&cmds).is_empty());
    assert_eq!(app.held_by(&k("a")), None);
}

#[test]
fn a_held_question_decided_on_the_platform_is_held_no_more() {
    let mut app = with_rules(vec![rule("profanity", "darn", RuleAction::Hold)]);
    app.update(feed(Feed::Upsert(vec![asked("a", "darn")])));
    assert_eq!(app.held_by(&k("a")), Some("profanity"));
    let elsewhere = Question {
        status: Status::Selected,
        updated: 20,
        ..asked("a", "darn")
    };
    let cmds = app.update(feed(Feed::Upsert(vec![elsewhere])));
    assert_eq!(saves(&cmds), vec![(k("a"), reviewed())]);
    assert_eq!(app.held_by(&k("a")), None);
}

#[test]
fn approving_a_held_question_releases_its_hold() {
    let mut app = with_rules(vec![rule("profanity", "darn", RuleAction::Hold)]);
    app.update(feed(Feed::Upsert(vec![asked("a", "darn")])));
    let cmds = app.update(key('a'));
    assert_eq!(saves(&cmds), vec![(k("a"), reviewed())]);
    assert_eq!(sent(&cmds).len(), 1);
    assert_eq!(sent(&cmds)[0].actor, None, "the moderator's own action");
}

#[test]
fn a_reject_rule_rejects_once_as_the_rule_and_u_brings_it_back() {
    let mut app = with_rules(vec![rule("links", "spam", RuleAction::Reject)]);
    let cmds = app.update(feed(Feed::Snapshot(vec![
        asked("a", "buy SPAM now"),
        asked("b", "a real question"),
    ])));
    let ops = sent(&cmds);
    assert_eq!(ops.len(), 1, "{cmds:?}");
    assert_eq!(ops[0].actor.as_deref(), Some("rule:links"));
    assert_eq!(
        ops[0].op,
        Op::SetStatus {
            id: "a".into(),
            status: Status::Rejected
        }
    );
    assert_eq!(status(&app, "a"), Status::Rejected);
    assert!(
        app.decision_note(&k("a"))
            .unwrap()
            .starts_with("rejected by rule links — matched word 'spam'")
    );
    // A resync with the question still pending (the platform has not
    // applied it yet) decides nothing again.
    let cmds = app.update(feed(Feed::Snapshot(vec![
        asked("a", "buy SPAM now"),
        asked("b", "a real question"),
    ])));
    assert!(sent(&cmds).is_empty(), "{cmds:?}");
    confirm_all(&mut app);
    // In the rejected pane, `u` brings it back as the moderator.
    app.update(key('R'));
    while app.focus != PaneKind::Rejected {
        app.update(special(Key::Tab));
    }
    assert_eq!(cursor(&app), "a");
    let cmds = app.update(key('u'));
    let ops = sent(&cmds);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].actor, None);
    assert_eq!(
        ops[0].op,
        Op::SetStatus {
            id: "a".into(),
            status: Status::Pending
        }
    );
    assert_eq!(app.decision_note(&k("a")), None);
}

#[test]
fn approve_only_when_a_rule_says_so_and_decided_questions_are_left_alone() {
    let mut app = with_rules(vec![rule("vip", "keynote", RuleAction::Approve)]);
    let already = Question {
        status: Status::Answered,
        ..asked("old", "keynote recap")
    };
    let cmds = app.update(feed(Feed::Upsert(vec![
        asked("a", "Keynote question"),
        asked("b", "other"),
        already,
    ])));
    let ops = sent(&cmds);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].actor.as_deref(), Some("rule:vip"));
    assert_eq!(status(&app, "a"), Status::Selected);
    assert_eq!(status(&app, "b"), Status::Pending);
    assert_eq!(status(&app, "old"), Status::Answered);
}

#[test]
fn no_rules_decide_nothing() {
    let mut app = with_rules(Vec::new());
    let cmds = app.update(feed(Feed::Upsert(vec![asked("a", "darn")])));
    assert!(saves(&cmds).is_empty() && sent(&cmds).is_empty());
}

#[test]
fn a_search_that_does_not_parse_says_why_and_is_not_applied() {
    let mut app = app();
    app.update(key('/'));
    app.update(Event::Paste("question foo:bar".into()));
    let err = app.input.as_ref().and_then(|ib| ib.error.clone()).unwrap();
    assert!(err.starts_with("unknown term `foo:`"), "{err}");
    assert_eq!(app.filter, None);
    // Enter keeps the input open with the error.
    app.update(special(Key::Enter));
    assert!(app.input.is_some());
    app.update(special(Key::Esc));
    assert!(app.input.is_none() && app.query.is_none());
    // A good one filters.
    app.update(key('/'));
    app.update(Event::Paste("votes>=1 -\"question c\"".into()));
    app.update(special(Key::Enter));
    assert!(app.input.is_none());
    let shown: Vec<String> = app
        .queue
        .iter_from(Status::Pending, None)
        .filter(|e| app.matches(&e.view))
        .map(|e| e.view.id.to_string())
        .collect();
    assert_eq!(shown, ["b"]);
}

#[test]
fn saved_searches_are_on_the_number_keys_and_shown_by_name() {
    let mut app = app();
    let saved = |name: &str, text: &str| SavedSearch {
        name: name.into(),
        text: text.into(),
        query: parse(text).unwrap(),
    };
    app.set_triage(
        Vec::new(),
        vec![saved("popular", "votes>2"), saved("held", "is:held")],
    );
    app.update(key('1'));
    assert_eq!(app.search_name.as_deref(), Some("popular"));
    let shown: Vec<String> = app
        .queue
        .iter_from(Status::Pending, None)
        .filter(|e| app.matches(&e.view))
        .map(|e| e.view.id.to_string())
        .collect();
    assert_eq!(shown, ["b"]);
    app.update(key('2'));
    assert_eq!(app.search_name.as_deref(), Some("held"));
    assert!(
        app.queue
            .iter_from(Status::Pending, None)
            .all(|e| !app.matches(&e.view))
    );
    // Again: off.
    app.update(key('2'));
    assert_eq!(
        (app.search_name.as_deref(), app.query.is_none()),
        (None, true)
    );
    app.update(key('5'));
    assert!(
        app.toast
            .as_ref()
            .unwrap()
            .text
            .starts_with("no saved search 5")
    );
}

#[test]
fn a_rules_reject_is_stored_and_u_takes_it_back_after_a_restart() {
    let mut app = with_rules(vec![rule("links", "spam", RuleAction::Reject)]);
    let cmds = app.update(feed(Feed::Snapshot(vec![asked("a", "buy SPAM now")])));
    let saved = saves(&cmds);
    assert_eq!(saved.len(), 1, "{cmds:?}");
    let ruled = saved[0].1.ruled.clone().expect("the decision is stored");
    assert_eq!(
        (ruled.why.rule.as_str(), ruled.to),
        ("links", Status::Rejected)
    );

    // A new session: the store gives the decision back, the platform
    // lists the question as rejected.
    let mut app = with_rules(vec![rule("links", "spam", RuleAction::Reject)]);
    app.update(Event::Restored {
        ops: Vec::new(),
        local: Vec::new(),
        marks: vec![(k("a"), saved[0].1.clone())],
        roles: Vec::new(),
    });
    let rejected = Question {
        status: Status::Rejected,
        ..asked("a", "buy SPAM now")
    };
    let cmds = app.update(feed(Feed::Snapshot(vec![rejected])));
    assert!(sent(&cmds).is_empty(), "not decided again: {cmds:?}");
    assert!(
        app.decision_note(&k("a"))
            .is_some_and(|n| n.starts_with("rejected by rule links")),
        "{:?}",
        app.decision_note(&k("a"))
    );
    app.update(key('R'));
    for _ in 0..8 {
        if app.focus == PaneKind::Rejected {
            break;
        }
        app.update(special(Key::Tab));
    }
    assert_eq!(app.focus, PaneKind::Rejected);
    let cmds = app.update(key('u'));
    let ops = sent(&cmds);
    assert_eq!(ops.len(), 1, "{cmds:?}");
    assert_eq!(
        ops[0].op,
        Op::SetStatus {
            id: "a".into(),
            status: Status::Pending
        }
    );
    let after = saves(&cmds);
    assert_eq!(
        after.last().map(|(_, m)| (m.ruled.is_none(), m.reviewed)),
        Some((true, true))
    );
    // Back in pending after the platform confirms: the rule leaves it alone.
    confirm_all(&mut app);
    let pending = Question {
        status: Status::Pending,
        updated: 30,
        ..asked("a", "buy SPAM now")
    };
    assert!(sent(&app.update(feed(Feed::Snapshot(vec![pending])))).is_empty());
}
