//! Keys in dialogs, the picker and text inputs: they resolve in their own
//! scope, keep their defaults, and follow `[keys]`.

use super::tests::{key, one_source, special};
use super::*;
use crate::domain::{Capabilities, EventInfo};
use ratatui_textarea::Key;

fn chat_caps() -> Capabilities {
    Capabilities {
        questions: true,
        chat: true,
        ..Capabilities::none()
    }
}

fn with_mods(k: Key, ctrl: bool, alt: bool) -> Event {
    Event::Key(Input {
        key: k,
        ctrl,
        alt,
        ..Input::default()
    })
}

#[test]
fn the_quit_dialog_takes_y_and_nothing_else_by_default() {
    let mut app = one_source("src", chat_caps());
    for no in [key('n'), special(Key::Enter), special(Key::Esc), key('q')] {
        app.overlay = Some(Overlay::ConfirmQuit);
        assert!(app.update(no).is_empty());
        assert_eq!(app.overlay, None);
        assert!(!app.quit);
    }
    for yes in [key('y'), key('Y'), with_mods(Key::Char('y'), true, false)] {
        app.quit = false;
        app.overlay = Some(Overlay::ConfirmQuit);
        assert_eq!(app.update(yes), vec![Command::Quit]);
        assert!(app.quit);
    }
}

#[test]
fn a_remapped_confirm_key_confirms_and_y_no_longer_does() {
    let mut app = one_source("src", chat_caps());
    app.keymap = KeyMap::with_overrides([("confirm", vec!["x"])]).unwrap();
    app.overlay = Some(Overlay::ConfirmQuit);
    assert!(app.update(key('y')).is_empty());
    assert_eq!(app.overlay, None, "any other key says no");
    assert!(!app.quit);
    app.overlay = Some(Overlay::ConfirmQuit);
    assert_eq!(app.update(key('x')), vec![Command::Quit]);
    // In the main view `y` still means reply.
    assert_eq!(
        app.keymap
            .action(Scope::Main, &KeyChord::parse("y").unwrap()),
        Some(Action::Reply)
    );
}

#[test]
fn the_picker_follows_its_keys() {
    let mut app = App::new(
        vec![SourceView::new("src", chat_caps(), false)],
        KeyMap::with_overrides([
            ("picker_down", vec!["ctrl-n"]),
            ("picker_choose", vec!["p"]),
        ])
        .unwrap(),
        "t".into(),
        0,
    );
    let event = |id: &str| EventInfo {
        id: id.into(),
        title: id.into(),
        active: None,
        starts: None,
    };
    app.overlay = Some(Overlay::Picker {
        source: SourceId(0),
        events: Some(Ok(vec![event("e1"), event("e2")])),
        row: 0,
    });
    app.update(key('j'));
    app.update(special(Key::Enter));
    app.update(with_mods(Key::Char('n'), true, false));
    let cmds = app.update(key('p'));
    assert_eq!(
        cmds[0],
        Command::PickEvent {
            source: SourceId(0),
            event: "e2".into()
        }
    );
}

#[test]
fn an_input_takes_every_key_but_its_own() {
    let mut app = one_source("src", chat_caps());
    app.update(key('/'));
    for c in "yq/n".chars() {
        app.update(key(c));
    }
    assert_eq!(app.filter.as_deref(), Some("yq/n"));
    // Alt-Enter is a new line, Ctrl-Enter sends like Enter.
    app.update(with_mods(Key::Enter, false, true));
    assert_eq!(app.input.as_ref().map(|ib| ib.area.lines().len()), Some(2));
    app.update(with_mods(Key::Enter, true, false));
    assert!(app.input.is_none());
    assert_eq!(app.filter.as_deref(), Some("yq/n"));
}

#[test]
fn input_keys_are_remappable() {
    let mut app = one_source("src", chat_caps());
    app.keymap =
        KeyMap::with_overrides([("input_send", vec!["ctrl-s"]), ("input_cancel", vec!["F2"])])
            .unwrap();
    app.update(key('/'));
    app.update(key('a'));
    app.update(special(Key::Esc));
    assert!(app.input.is_some(), "Esc is no longer cancel");
    app.update(with_mods(Key::Char('s'), true, false));
    assert!(app.input.is_none());
    assert_eq!(app.filter.as_deref(), Some("a"));
    app.update(key('/'));
    app.update(special(Key::F(2)));
    assert!(app.input.is_none());
    assert_eq!(app.filter, None);
}
