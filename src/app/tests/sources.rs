//! The core and its sources: the event picker, platform ids, restores, the
//! info view, the show server's requests and other consoles' states.

use super::*;

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
        marks: Vec::new(),
        ops: Vec::new(),
        local: vec![(earlier.clone(), aired)],
        roles: Vec::new(),
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
        marks: Vec::new(),
        ops: Vec::new(),
        local: vec![(k.clone(), LocalState::default())],
        roles: Vec::new(),
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
