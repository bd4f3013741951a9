//! The core with text inputs: chat, replies, questions typed in, their refusals.

use super::*;

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
