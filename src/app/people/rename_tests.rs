//! Roles kept as the platform has them and renaming: a Speaker stays
//! Speaker through a rename and a moderator toggle and back.

use super::tests::{caps_sbx, confirm, current, go_to, people_app, person, sent, toast, typed};
use crate::app::tests::{feed, key, special};
use crate::app::*;
use crate::domain::{Capabilities, Feed, Outcome, ProviderError, Role};
use ratatui_textarea::Key;

fn speaker() -> Vec<Participant> {
    vec![
        person(
            "u1",
            "Grace Hopper",
            "grace@example.com",
            Role::Speaker,
            "v1",
        ),
        person(
            "u2",
            "Ada",
            "ada@example.com",
            Role::Other("Backstage".into()),
            "v1",
        ),
    ]
}

fn clear_input(app: &mut App) {
    for _ in 0..40 {
        app.update(special(Key::Backspace));
    }
}

#[test]
fn a_rename_sends_the_name_only_and_a_speaker_stays_speaker() {
    let mut app = people_app(caps_sbx(), speaker());
    go_to(&mut app, "Grace Hopper");
    assert!(app.update(key('e')).is_empty());
    let ib = app.input.as_ref().expect("the rename input is open");
    assert_eq!(ib.area.lines().join(""), "Grace Hopper", "prefilled");
    // The same name is refused in the input.
    assert!(sent(&app.update(special(Key::Enter))).is_empty());
    assert!(app.input.as_ref().unwrap().error.is_some());
    clear_input(&mut app);
    typed(&mut app, "Grace B. Hopper");
    let ops = sent(&app.update(special(Key::Enter)));
    assert_eq!(
        ops[0].op,
        Op::UpdateParticipant {
            id: "u1".into(),
            role: None,
            name: Some("Grace B. Hopper".into()),
            version: Some("v1".into()),
        }
    );
    assert!(app.input.is_none());
    assert_eq!(
        app.participant_inflight(SourceId(0), "u1").as_deref(),
        Some("renaming to “Grace B. Hopper”")
    );
    let now = person(
        "u1",
        "Grace B. Hopper",
        "grace@example.com",
        Role::Speaker,
        "v2",
    );
    confirm(&mut app, &ops[0].op_id, Outcome::Participant(now));
    let p = app.current_participant().unwrap();
    assert_eq!(
        (p.name.as_str(), &p.role),
        ("Grace B. Hopper", &Role::Speaker)
    );
    assert!(
        toast(&app).contains("renamed Grace Hopper to Grace B. Hopper"),
        "{}",
        toast(&app)
    );
    // An empty name is refused before anything is sent.
    app.update(key('e'));
    clear_input(&mut app);
    assert!(sent(&app.update(special(Key::Enter))).is_empty());
    assert!(
        app.input
            .as_ref()
            .unwrap()
            .error
            .as_deref()
            .unwrap()
            .contains("name is required")
    );
}

#[test]
fn a_moderator_toggle_on_a_speaker_and_back_gives_speaker_again() {
    let mut app = people_app(caps_sbx(), speaker());
    go_to(&mut app, "Grace Hopper");
    let ops = sent(&app.update(key('m')));
    assert_eq!(
        ops[0].op,
        Op::UpdateParticipant {
            id: "u1".into(),
            role: Some(Role::Moderator),
            name: None,
            version: Some("v1".into()),
        }
    );
    // A poll before the answer still shows Speaker: the memory stays.
    app.update(feed(Feed::Participants(speaker())));
    let now = person(
        "u1",
        "Grace Hopper",
        "grace@example.com",
        Role::Moderator,
        "v2",
    );
    confirm(&mut app, &ops[0].op_id, Outcome::Participant(now.clone()));
    let mut list = speaker();
    list[0] = now;
    app.update(feed(Feed::Participants(list)));
    let ops = sent(&app.update(key('m')));
    let Op::UpdateParticipant { role, name, .. } = &ops[0].op else {
        panic!()
    };
    assert_eq!((role.clone(), name.clone()), (Some(Role::Speaker), None));
    assert_eq!(
        app.participant_inflight(SourceId(0), "u1").as_deref(),
        Some("making speaker")
    );
    let back = person(
        "u1",
        "Grace Hopper",
        "grace@example.com",
        Role::Speaker,
        "v3",
    );
    confirm(&mut app, &ops[0].op_id, Outcome::Participant(back));
    assert_eq!(app.current_participant().unwrap().role, Role::Speaker);
    assert!(toast(&app).contains("is now speaker"), "{}", toast(&app));
    assert!(app.earlier_roles.is_empty());
}

#[test]
fn a_role_qadeck_has_no_name_for_is_kept_and_given_back() {
    let mut app = people_app(caps_sbx(), speaker());
    go_to(&mut app, "Ada");
    assert_eq!(app.current_participant().unwrap().role.name(), "Backstage");
    let ops = sent(&app.update(key('m')));
    let mut now = speaker()[1].clone();
    now.role = Role::Moderator;
    now.version = Some("v2".into());
    confirm(&mut app, &ops[0].op_id, Outcome::Participant(now));
    let ops = sent(&app.update(key('m')));
    let Op::UpdateParticipant { role, .. } = &ops[0].op else {
        panic!()
    };
    assert_eq!(role, &Some(Role::Other("Backstage".into())));
}

#[test]
fn demoted_elsewhere_forgets_the_earlier_role() {
    let mut app = people_app(caps_sbx(), speaker());
    go_to(&mut app, "Grace Hopper");
    let ops = sent(&app.update(key('m')));
    let now = person(
        "u1",
        "Grace Hopper",
        "grace@example.com",
        Role::Moderator,
        "v2",
    );
    confirm(&mut app, &ops[0].op_id, Outcome::Participant(now));
    // Another moderator makes her a participant on the platform.
    let mut list = speaker();
    list[0] = person(
        "u1",
        "Grace Hopper",
        "grace@example.com",
        Role::Participant,
        "v3",
    );
    app.update(feed(Feed::Participants(list.clone())));
    assert!(app.earlier_roles.is_empty());
    // ... and later moderator again: demoting now gives participant.
    list[0] = person(
        "u1",
        "Grace Hopper",
        "grace@example.com",
        Role::Moderator,
        "v4",
    );
    app.update(feed(Feed::Participants(list)));
    let ops = sent(&app.update(key('m')));
    let Op::UpdateParticipant { role, .. } = &ops[0].op else {
        panic!()
    };
    assert_eq!(role, &Some(Role::Participant));
}

#[test]
fn a_stale_rename_is_offered_again_on_the_fresh_version() {
    let mut app = people_app(caps_sbx(), speaker());
    go_to(&mut app, "Grace Hopper");
    app.update(key('e'));
    clear_input(&mut app);
    typed(&mut app, "G. Hopper");
    let ops = sent(&app.update(special(Key::Enter)));
    app.update(Event::Op(OpReport::Failed {
        op_id: ops[0].op_id.clone(),
        error: ProviderError::Conflict("changed meanwhile".into()),
    }));
    let e = app.last_error.clone().unwrap();
    assert!(e.contains("e retries"), "{e}");
    let mut list = speaker();
    list[0].version = Some("v5".into());
    app.update(feed(Feed::Participants(list)));
    app.update(key('e'));
    assert_eq!(
        app.input.as_ref().unwrap().area.lines().join(""),
        "G. Hopper"
    );
    let ops = sent(&app.update(special(Key::Enter)));
    let Op::UpdateParticipant { name, version, .. } = &ops[0].op else {
        panic!()
    };
    assert_eq!(
        (name.as_deref(), version.as_deref()),
        (Some("G. Hopper"), Some("v5"))
    );
    assert_eq!(current(&app), "Grace Hopper");
}

#[test]
fn rename_where_the_platform_cannot_says_so() {
    let caps = Capabilities {
        rename: false,
        ..caps_sbx()
    };
    let mut app = people_app(caps, speaker());
    assert!(app.update(key('e')).is_empty());
    assert!(app.input.is_none());
    assert!(toast(&app).contains("cannot rename"), "{}", toast(&app));
}

fn saved_roles(cmds: &[Command]) -> Vec<(String, Option<Role>)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::SaveEarlierRole {
                participant, role, ..
            } => Some((participant.clone(), role.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn the_earlier_role_is_stored_and_given_back_after_a_restart() {
    let mut app = people_app(caps_sbx(), speaker());
    go_to(&mut app, "Grace Hopper");
    let cmds = app.update(key('m'));
    assert_eq!(
        saved_roles(&cmds),
        [("u1".to_string(), Some(Role::Speaker))]
    );
    // A new session: the platform lists her as moderator, the store
    // remembers she was a speaker.
    let moderator = person(
        "u1",
        "Grace Hopper",
        "grace@example.com",
        Role::Moderator,
        "v2",
    );
    let mut list = speaker();
    list[0] = moderator;
    let mut app = people_app(caps_sbx(), list);
    app.update(Event::Restored {
        ops: Vec::new(),
        local: Vec::new(),
        marks: Vec::new(),
        roles: vec![((SourceId(0), "u1".into()), Role::Speaker)],
    });
    go_to(&mut app, "Grace Hopper");
    let cmds = app.update(key('m'));
    let ops = sent(&cmds);
    let Op::UpdateParticipant { role, .. } = &ops[0].op else {
        panic!()
    };
    assert_eq!(role, &Some(Role::Speaker));
    let back = person(
        "u1",
        "Grace Hopper",
        "grace@example.com",
        Role::Speaker,
        "v3",
    );
    let cmds = app.update(Event::Op(OpReport::Confirmed {
        op_id: ops[0].op_id.clone(),
        outcome: Outcome::Participant(back),
    }));
    assert_eq!(
        saved_roles(&cmds),
        [("u1".to_string(), None)],
        "forgotten once given back"
    );
}
