//! The people pane, one key at a time: search, the invite form, promote and
//! demote, remove, renew, and the stale-version conflict.

use crate::app::tests::{feed, key, one_source, special};
use crate::app::*;
use crate::domain::{Delivery, Feed, Outcome, ProviderError, Role};
use ratatui_textarea::Key;

/// STREAMBOXY-like: one-time links and renewal, e-mail required, rename.
pub(super) fn caps_sbx() -> Capabilities {
    Capabilities {
        participants: true,
        delivery: Delivery::Polling,
        one_time_link: true,
        renew_link: true,
        invite_needs_email: true,
        rename: true,
        ..Capabilities::none()
    }
}

/// Boomstream-like: link lifetime, e-mail required, no renewal.
fn caps_boom() -> Capabilities {
    Capabilities {
        participants: true,
        delivery: Delivery::Polling,
        link_lifetime: true,
        invite_needs_email: true,
        ..Capabilities::none()
    }
}

pub(super) fn person(id: &str, name: &str, email: &str, role: Role, version: &str) -> Participant {
    Participant {
        source: SourceId(0),
        id: id.into(),
        name: name.into(),
        email: Some(email.into()),
        role,
        link: Some(format!("https://join.example/{id}?key=k-{version}")),
        version: Some(version.into()),
        external_key: None,
    }
}

pub(super) fn people_app(caps: Capabilities, people: Vec<Participant>) -> App {
    let mut app = one_source("sbx", caps);
    app.update(feed(Feed::Participants(people)));
    app
}

fn three() -> Vec<Participant> {
    vec![
        person(
            "u1",
            "Grace Hopper",
            "grace@example.com",
            Role::Participant,
            "v1",
        ),
        person(
            "u2",
            "Ada Lovelace",
            "ada@example.com",
            Role::Moderator,
            "v1",
        ),
        person(
            "u3",
            "Linus",
            "linus@kernel.example",
            Role::Participant,
            "v1",
        ),
    ]
}

pub(super) fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(key(c));
    }
}

pub(super) fn sent(cmds: &[Command]) -> Vec<QueuedOp> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Send(q) => Some(q.clone()),
            _ => None,
        })
        .collect()
}

fn names(app: &App) -> Vec<String> {
    app.visible_people().map(|p| p.name.clone()).collect()
}

pub(super) fn current(app: &App) -> String {
    app.current_participant()
        .map(|p| p.name.clone())
        .unwrap_or_default()
}

pub(super) fn toast(app: &App) -> String {
    app.toast
        .as_ref()
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

pub(super) fn confirm(app: &mut App, op_id: &str, outcome: Outcome) {
    app.update(Event::Op(OpReport::Confirmed {
        op_id: op_id.into(),
        outcome,
    }));
}

/// Moves the cursor onto a participant by name.
pub(super) fn go_to(app: &mut App, name: &str) {
    app.update(special(Key::Home));
    for _ in 0..app.people.len() {
        if current(app) == name {
            return;
        }
        app.update(key('j'));
    }
    assert_eq!(current(app), name);
}

#[test]
fn a_participants_only_session_starts_in_the_people_pane_sorted() {
    let app = people_app(caps_sbx(), three());
    assert_eq!(app.visible_panes(), vec![PaneKind::People]);
    assert_eq!(app.focus, PaneKind::People);
    assert_eq!(names(&app), ["Ada Lovelace", "Grace Hopper", "Linus"]);
    assert_eq!(current(&app), "Ada Lovelace");
}

#[test]
fn search_by_name_or_email_enter_keeps_esc_clears() {
    let mut app = people_app(caps_sbx(), three());
    app.update(key('/'));
    assert!(matches!(
        app.input.as_ref().map(|i| &i.purpose),
        Some(InputPurpose::PeopleSearch)
    ));
    typed(&mut app, "KERNEL");
    assert_eq!(names(&app), ["Linus"], "e-mail matches, any case");
    assert_eq!(app.filter, None, "the question filter is untouched");
    app.update(special(Key::Enter));
    assert!(app.input.is_none());
    assert_eq!(app.people_filter.as_deref(), Some("KERNEL"));
    assert_eq!(current(&app), "Linus", "the cursor is on a shown row");
    // `/` again edits the search; Esc clears it.
    app.update(key('/'));
    app.update(special(Key::Esc));
    assert_eq!(app.people_filter, None);
    assert_eq!(names(&app).len(), 3);
    // By name, and nothing matching.
    app.update(key('/'));
    typed(&mut app, "grace");
    assert_eq!(names(&app), ["Grace Hopper"]);
    typed(&mut app, "zzz");
    assert_eq!(app.people_len(), 0);
    assert!(app.current_participant().is_none());
}

#[test]
fn the_cursor_stays_on_the_same_person_when_the_list_changes() {
    let mut app = people_app(caps_sbx(), three());
    go_to(&mut app, "Grace Hopper");
    let mut list = three();
    list.push(person(
        "u0",
        "Aaron",
        "aaron@example.com",
        Role::Participant,
        "v1",
    ));
    list.push(person(
        "u9",
        "Barbara",
        "b@example.com",
        Role::Participant,
        "v1",
    ));
    app.update(feed(Feed::Participants(list)));
    assert_eq!(names(&app)[0], "Aaron");
    assert_eq!(current(&app), "Grace Hopper", "m or D still act on her");
}

#[test]
fn invite_form_validates_then_sends_through_the_outbox() {
    let mut app = people_app(caps_sbx(), three());
    assert!(app.update(key('c')).is_empty());
    let form = app.form.as_ref().expect("the form is open");
    assert_eq!(
        app.form_fields(form),
        [
            FormField::Name,
            FormField::Email,
            FormField::Role,
            FormField::Notify,
            FormField::OneTime
        ],
        "STREAMBOXY has one-time links, no lifetime"
    );
    // Enter on an empty form: the name is required, shown in the form.
    assert!(sent(&app.update(special(Key::Enter))).is_empty());
    let form = app.form.as_ref().unwrap();
    assert_eq!(form.field, FormField::Name);
    assert!(form.error.as_deref().unwrap().contains("name is required"));
    typed(&mut app, "Katherine Johnson");
    assert!(
        app.form.as_ref().unwrap().error.is_none(),
        "typing clears it"
    );
    app.update(special(Key::Tab));
    typed(&mut app, "katherine@nasa");
    assert!(sent(&app.update(special(Key::Enter))).is_empty());
    let form = app.form.as_ref().unwrap();
    assert_eq!(form.field, FormField::Email);
    assert!(
        form.error
            .as_deref()
            .unwrap()
            .contains("is not an e-mail address"),
        "{:?}",
        form.error
    );
    typed(&mut app, ".gov");
    // Role: Space switches to moderator; notify: y; one-time: Right.
    app.update(special(Key::Tab));
    app.update(key(' '));
    app.update(special(Key::Down));
    app.update(key('y'));
    app.update(special(Key::Down));
    app.update(special(Key::Right));
    let cmds = app.update(special(Key::Enter));
    let ops = sent(&cmds);
    assert_eq!(ops.len(), 1);
    let Op::AddParticipant { draft } = &ops[0].op else {
        panic!("{:?}", ops[0].op)
    };
    assert_eq!(draft.name, "Katherine Johnson");
    assert_eq!(draft.email.as_deref(), Some("katherine@nasa.gov"));
    assert_eq!(draft.role, Role::Moderator);
    assert!(draft.notify && draft.one_time_link);
    assert_eq!(draft.link_lifetime_min, None);
    assert!(app.form.is_none());
    assert_eq!(app.invitations_inflight(), ["Katherine Johnson"]);
    assert!(toast(&app).contains("inviting Katherine Johnson"));
    // The platform confirms: listed, selected, its link in the detail pane.
    let mut new = person(
        "u7",
        "Katherine Johnson",
        "katherine@nasa.gov",
        Role::Moderator,
        "v1",
    );
    new.link = Some("https://join.example/u7".into());
    confirm(&mut app, &ops[0].op_id, Outcome::Participant(new));
    assert!(app.inflight.is_empty());
    assert_eq!(current(&app), "Katherine Johnson");
    assert!(toast(&app).contains("invited Katherine Johnson"));
}

#[test]
fn invite_form_esc_cancels_and_paste_fills_the_field() {
    let mut app = people_app(caps_sbx(), three());
    app.update(key('c'));
    app.update(Event::Paste("Dorothy\nVaughan\x1b[2J".into()));
    let form = app.form.as_ref().unwrap();
    assert_eq!(form.text(FormField::Name), "Dorothy Vaughan␛[2J");
    assert!(app.update(special(Key::Esc)).is_empty());
    assert!(app.form.is_none());
    assert!(app.inflight.is_empty());
}

#[test]
fn invite_form_refuses_an_e_mail_already_invited() {
    let mut app = people_app(caps_sbx(), three());
    app.update(key('c'));
    typed(&mut app, "Ada again");
    app.update(special(Key::Tab));
    typed(&mut app, "ADA@example.com");
    assert!(sent(&app.update(special(Key::Enter))).is_empty());
    let e = app.form.as_ref().unwrap().error.clone().unwrap();
    assert!(e.contains("already invited (Ada Lovelace)"), "{e}");
}

#[test]
fn invite_form_follows_the_platform_lifetime_and_required_e_mail() {
    let mut app = people_app(caps_boom(), Vec::new());
    app.update(key('c'));
    let form = app.form.as_ref().unwrap();
    assert_eq!(
        app.form_fields(form),
        [
            FormField::Name,
            FormField::Email,
            FormField::Role,
            FormField::Notify,
            FormField::Lifetime
        ],
        "Boomstream has a link lifetime, no one-time links"
    );
    typed(&mut app, "Mary");
    app.update(special(Key::Enter));
    let e = app.form.as_ref().unwrap().error.clone().unwrap();
    assert!(e.contains("an address is required"), "{e}");
    typed(&mut app, "mary@example.com");
    // Down from e-mail: role, notify, lifetime.
    for _ in 0..3 {
        app.update(special(Key::Down));
    }
    assert_eq!(app.form.as_ref().unwrap().field, FormField::Lifetime);
    typed(&mut app, "9x0");
    let form = app.form.as_ref().unwrap();
    assert_eq!(form.text(FormField::Lifetime), "90", "digits only");
    app.update(special(Key::Backspace));
    app.update(special(Key::Backspace));
    typed(&mut app, "0");
    app.update(special(Key::Enter));
    let e = app.form.as_ref().unwrap().error.clone().unwrap();
    assert!(e.contains("lifetime is 1 to"), "{e}");
    app.update(special(Key::Backspace));
    typed(&mut app, "45");
    let ops = sent(&app.update(special(Key::Enter)));
    let Op::AddParticipant { draft } = &ops[0].op else {
        panic!()
    };
    assert_eq!(draft.link_lifetime_min, Some(45));
    assert!(!draft.one_time_link && !draft.notify);
    assert_eq!(draft.role, Role::Participant);
}

#[test]
fn promote_and_demote_send_the_version_seen_and_wait_for_the_platform() {
    let mut app = people_app(caps_sbx(), three());
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
    assert_eq!(
        app.participant_inflight(SourceId(0), "u1").as_deref(),
        Some("promoting to moderator")
    );
    assert_eq!(
        app.current_participant().unwrap().role,
        Role::Participant,
        "not changed before the platform says so"
    );
    // A second press while in flight would carry the same (soon stale)
    // version: refused with a word.
    assert!(sent(&app.update(key('m'))).is_empty());
    assert!(toast(&app).contains("still promoting"), "{}", toast(&app));
    let mut now = person(
        "u1",
        "Grace Hopper",
        "grace@example.com",
        Role::Moderator,
        "v2",
    );
    now.link = None;
    confirm(&mut app, &ops[0].op_id, Outcome::Participant(now));
    assert_eq!(app.current_participant().unwrap().role, Role::Moderator);
    assert!(toast(&app).contains("Grace Hopper is now moderator"));
    // Demote with the new version.
    let ops = sent(&app.update(key('m')));
    let Op::UpdateParticipant { role, version, .. } = &ops[0].op else {
        panic!()
    };
    assert_eq!(
        (role.clone(), version.as_deref()),
        (Some(Role::Participant), Some("v2"))
    );
}

#[test]
fn the_promote_key_is_remappable_and_explained_elsewhere() {
    let keymap = KeyMap::with_overrides([("toggle_moderator", vec!["T"])]).unwrap();
    let mut app = people_app(caps_sbx(), three());
    app.keymap = keymap;
    assert!(sent(&app.update(key('m'))).is_empty());
    assert_eq!(sent(&app.update(key('T'))).len(), 1);
    // In a question pane it says where it works.
    let mut q = App::new(
        vec![SourceView::new(
            "q",
            Capabilities {
                questions: true,
                ..Capabilities::none()
            },
            true,
        )],
        KeyMap::default(),
        "t".into(),
        0,
    );
    assert!(q.update(key('m')).is_empty());
    assert!(toast(&q).contains("people pane"), "{}", toast(&q));
}

#[test]
fn remove_asks_first() {
    let mut app = people_app(caps_sbx(), three());
    go_to(&mut app, "Linus");
    assert!(app.update(key('D')).is_empty());
    let Some(Overlay::ConfirmRemoveParticipant { id, who, .. }) = &app.overlay else {
        panic!("{:?}", app.overlay)
    };
    assert_eq!(id, "u3");
    assert!(who.contains("Linus <linus@kernel.example>"));
    // Any other key keeps them.
    assert!(app.update(key('n')).is_empty());
    assert!(app.overlay.is_none());
    app.update(key('D'));
    let ops = sent(&app.update(key('y')));
    assert_eq!(ops[0].op, Op::RemoveParticipant { id: "u3".into() });
    assert_eq!(
        app.participant_inflight(SourceId(0), "u3").as_deref(),
        Some("removing")
    );
    assert_eq!(app.people.len(), 3, "still listed until confirmed");
    confirm(
        &mut app,
        &ops[0].op_id,
        Outcome::ParticipantGone("u3".into()),
    );
    assert_eq!(names(&app), ["Ada Lovelace", "Grace Hopper"]);
    assert_eq!(toast(&app), "removed Linus");
    assert!(app.current_participant().is_some(), "the cursor moves on");
}

#[test]
fn renew_link_where_the_platform_has_it() {
    let mut app = people_app(caps_sbx(), three());
    let ops = sent(&app.update(key('L')));
    assert_eq!(ops[0].op, Op::RenewLink { id: "u2".into() });
    let mut renewed = three()[1].clone();
    renewed.link = Some("https://join.example/u2?key=NEW".into());
    confirm(&mut app, &ops[0].op_id, Outcome::Participant(renewed));
    assert!(toast(&app).contains("new link for Ada Lovelace"));
    assert_eq!(
        app.current_participant().unwrap().link.as_deref(),
        Some("https://join.example/u2?key=NEW")
    );
    // Boomstream has no renewal: a word, nothing sent.
    let mut boom = people_app(caps_boom(), three());
    assert!(boom.update(key('L')).is_empty());
    assert!(
        toast(&boom).contains("cannot renew links"),
        "{}",
        toast(&boom)
    );
}

#[test]
fn enter_shows_the_link_alone() {
    let mut app = people_app(caps_sbx(), three());
    app.update(special(Key::Enter));
    assert_eq!(
        app.overlay,
        Some(Overlay::Link {
            who: "Ada Lovelace".into(),
            link: "https://join.example/u2?key=k-v1".into()
        })
    );
    app.update(key('x'));
    assert!(app.overlay.is_none());
}

#[test]
fn a_failure_is_shown_with_the_name_and_can_be_retried() {
    let mut app = people_app(caps_sbx(), three());
    let ops = sent(&app.update(key('L')));
    app.update(Event::Op(OpReport::Failed {
        op_id: ops[0].op_id.clone(),
        error: ProviderError::Forbidden("missing scope".into()),
    }));
    let e = app.last_error.clone().unwrap();
    assert!(
        e.contains("renew the link of Ada Lovelace failed") && e.contains("missing scope"),
        "{e}"
    );
    assert_eq!(app.failed.len(), 1);
    let cmds = app.update(Event::Key(Input {
        key: Key::Char('r'),
        ctrl: true,
        ..Input::default()
    }));
    assert!(matches!(cmds[0], Command::RetryOp { .. }));
    assert!(app.participant_inflight(SourceId(0), "u2").is_some());
}

/// Two moderators, one participant: the other one promoted Grace (and
/// renamed her) after this app loaded her.
#[test]
fn a_stale_version_reloads_shows_what_changed_and_the_key_retries() {
    let mut app = people_app(caps_sbx(), three());
    go_to(&mut app, "Linus");
    let ops = sent(&app.update(key('m')));
    let message = "The session user was changed by someone else in the meantime. \
                   Reload it and try again.; changed meanwhile on STREAMBOXY, now: \
                   name “Linus T.”, role participant — reload and try again";
    let cmds = app.update(Event::Op(OpReport::Failed {
        op_id: ops[0].op_id.clone(),
        error: ProviderError::Conflict(message.into()),
    }));
    // The stale action is dropped, not kept for a blind retry; a reload.
    assert!(cmds.contains(&Command::DropOp {
        op_id: ops[0].op_id.clone()
    }));
    assert!(cmds.contains(&Command::LoadParticipants(SourceId(0))));
    assert!(
        app.failed.is_empty(),
        "ctrl-r must not resend the stale version"
    );
    let e = app.last_error.clone().unwrap();
    assert!(
        e.contains("promote Linus refused")
            && e.contains("now: name “Linus T.”")
            && e.contains("m retries"),
        "{e}"
    );
    let c = app.people_conflict.clone().unwrap();
    assert_eq!((c.id.as_str(), c.role), ("u3", Some(Role::Moderator)));
    // m before the reload arrives: nothing sent with the stale version.
    let cmds = app.update(key('m'));
    assert!(sent(&cmds).is_empty());
    assert!(cmds.contains(&Command::LoadParticipants(SourceId(0))));
    assert!(toast(&app).contains("still reloading"));
    // The reload: renamed by the other moderator, new version.
    let mut list = three();
    list[2] = person(
        "u3",
        "Linus T.",
        "linus@kernel.example",
        Role::Participant,
        "v2",
    );
    app.update(feed(Feed::Participants(list)));
    assert_eq!(current(&app), "Linus T.");
    // m retries the refused change on the fresh version, keeping the
    // other moderator's rename.
    let ops = sent(&app.update(key('m')));
    assert_eq!(
        ops[0].op,
        Op::UpdateParticipant {
            id: "u3".into(),
            role: Some(Role::Moderator),
            name: None,
            version: Some("v2".into()),
        }
    );
    assert!(app.people_conflict.is_none());
    assert!(app.last_error.is_none());
}

#[test]
fn after_a_conflict_nothing_is_retried_when_the_other_change_already_did_it() {
    let mut app = people_app(caps_sbx(), three());
    go_to(&mut app, "Grace Hopper");
    let ops = sent(&app.update(key('m')));
    app.update(Event::Op(OpReport::Failed {
        op_id: ops[0].op_id.clone(),
        error: ProviderError::Conflict("changed meanwhile, now: role moderator".into()),
    }));
    let mut list = three();
    list[0].role = Role::Moderator;
    list[0].version = Some("v9".into());
    app.update(feed(Feed::Participants(list)));
    assert!(sent(&app.update(key('m'))).is_empty());
    assert!(
        toast(&app).contains("already moderator — nothing to retry"),
        "{}",
        toast(&app)
    );
    // The next m is an ordinary toggle again (demote).
    let ops = sent(&app.update(key('m')));
    let Op::UpdateParticipant { role, .. } = &ops[0].op else {
        panic!()
    };
    assert_eq!(*role, Some(Role::Participant));
}

#[test]
fn a_conflict_about_someone_removed_meanwhile_is_forgotten_on_reload() {
    let mut app = people_app(caps_sbx(), three());
    let ops = sent(&app.update(key('m')));
    app.update(Event::Op(OpReport::Failed {
        op_id: ops[0].op_id.clone(),
        error: ProviderError::Conflict("the participant was removed meanwhile".into()),
    }));
    assert!(app.people_conflict.is_some());
    app.update(feed(Feed::Participants(three()[..1].to_vec())));
    assert!(app.people_conflict.is_none());
    assert_eq!(names(&app), ["Grace Hopper"]);
}

#[test]
fn participant_ids_and_links_are_sanitized_at_ingest() {
    let mut p = person(
        "su-\x1b[2J",
        "Eve",
        "eve@example.com",
        Role::Participant,
        "v1",
    );
    p.link = Some("https://x/\x1b]52;c;Zm9v\x07".into());
    let app = people_app(caps_sbx(), vec![p]);
    let got = &app.people[0];
    for s in [&got.id, got.link.as_ref().unwrap()] {
        assert!(crate::text::is_terminal_safe(s), "{s:?}");
    }
}

#[test]
fn form_keys_are_remappable_and_typing_still_reaches_text_fields() {
    let mut app = people_app(caps_sbx(), three());
    app.keymap =
        KeyMap::with_overrides([("form_next_field", vec!["ctrl-n"]), ("form_yes", vec!["+"])])
            .unwrap();
    app.update(key('c'));
    // `y`, `n` and `m` are switch keys, but a text field takes them as typing.
    typed(&mut app, "ymn");
    assert_eq!(app.form.as_ref().unwrap().text(FormField::Name), "ymn");
    // Tab no longer moves; ctrl-n does.
    app.update(special(Key::Tab));
    assert_eq!(app.form.as_ref().unwrap().field, FormField::Name);
    let ctrl_n = Event::Key(Input {
        key: Key::Char('n'),
        ctrl: true,
        ..Input::default()
    });
    app.update(ctrl_n.clone());
    app.update(ctrl_n.clone());
    app.update(ctrl_n);
    let form = app.form.as_ref().unwrap();
    assert_eq!(form.field, FormField::Notify);
    // `y` is no longer "on"; `+` is.
    app.update(key('y'));
    assert!(!app.form.as_ref().unwrap().notify);
    app.update(key('+'));
    assert!(app.form.as_ref().unwrap().notify);
}
