//! Snapshots of the rendered screen (text and styles) at 80x24 and 120x40
//! for each built-in theme, plus properties every frame must hold.

use qadeck::app::{App, Event, KeyMap, SourceView};
use qadeck::domain::{
    Capabilities, Delivery, Feed, MyVote, Question, SourceFeed, SourceId, Status, VoteKind,
};
use qadeck::text::sanitize;
use qadeck::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui_textarea::{Input, Key};

const NOW: i64 = 1_764_000_000_000;

fn caps() -> Capabilities {
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

fn q(id: u32, text: &str, author: Option<&str>, votes: i64, age_s: i64) -> Question {
    Question {
        source: SourceId(0),
        id: format!("q{id}"),
        text: sanitize(text),
        author: author.map(sanitize),
        votes,
        my_vote: MyVote::None,
        status: Status::Pending,
        on_air: false,
        created: NOW - age_s * 1000,
        updated: NOW - age_s * 1000,
    }
}

fn sample() -> App {
    let mut app = App::new(
        vec![SourceView::new("keynote", caps(), true)],
        KeyMap::default(),
        "snap".into(),
        NOW,
    );
    let qs = vec![
        q(
            1,
            "What is the roadmap for the next release?",
            Some("Ana"),
            12,
            300,
        ),
        q(
            2,
            "次のバージョンはいつリリースされますか？",
            Some("佐藤"),
            4,
            200,
        ),
        q(3, "متى سيتم دعم اللغة العربية بالكامل؟", None, 7, 150),
        q(
            4,
            "Great talk! 🎉 How do I get started as a beginner? 👩‍💻",
            Some("Zoë"),
            2,
            90,
        ),
        q(
            5,
            "How do you test this against real traffic without risking production? I'm asking because our team tried something similar last year.",
            Some("Kwame"),
            0,
            30,
        ),
        q(
            6,
            "\x1b[2J\x1b]52;c;cm0gLXJmIH4vKgo=\x07 clipboard \u{202e}evil",
            Some("Mallory\x1b[8m"),
            1,
            10,
        ),
    ];
    app.update(Event::Feed(SourceFeed {
        source: SourceId(0),
        feed: Feed::Snapshot(qs),
    }));
    app.update(Event::Feed(SourceFeed {
        source: SourceId(0),
        feed: Feed::Connection(qadeck::domain::Connection::Live),
    }));
    app.update(Event::Tick { now: NOW });
    // Approve two, put one on air, answer one: every pane has something.
    for k in ['a', 'a', 'j', 'd'] {
        app.update(Event::Key(Input {
            key: Key::Char(k),
            ..Input::default()
        }));
    }
    app.toast = None;
    app
}

fn render(app: &mut App, w: u16, h: u16, theme: &Theme) -> Terminal<TestBackend> {
    app.update(Event::Resize {
        width: w,
        height: h,
    });
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ui::draw(f, app, theme)).unwrap();
    term
}

#[test]
fn main_screen_snapshots() {
    for theme_name in ui::theme::built_in_names() {
        let theme = Theme::builtin(theme_name);
        for (w, h) in [(80, 24), (120, 40)] {
            let mut app = sample();
            let term = render(&mut app, w, h, &theme);
            insta::assert_snapshot!(
                format!("main_{theme_name}_{w}x{h}_text"),
                term.backend().to_string()
            );
            insta::assert_debug_snapshot!(
                format!("main_{theme_name}_{w}x{h}_styles"),
                term.backend().buffer()
            );
        }
    }
}

#[test]
fn help_overlay_snapshot() {
    let mut app = sample();
    app.update(Event::Key(Input {
        key: Key::Char('?'),
        ..Input::default()
    }));
    let term = render(&mut app, 120, 40, &Theme::builtin("dark"));
    insta::assert_snapshot!("help_120x40", term.backend().to_string());
    // At 80x24 every action is still listed (in columns).
    let term = render(&mut app, 80, 24, &Theme::builtin("dark"));
    insta::assert_snapshot!("help_80x24", term.backend().to_string());
    let screen = term.backend().to_string();
    for a in qadeck::app::in_scope(qadeck::app::Scope::Main) {
        let what = a.help;
        let head: String = what.chars().take(8).collect();
        assert!(
            screen.contains(&head),
            "{what} missing from the help at 80x24:\n{screen}"
        );
    }
}

/// No cell of any frame holds a control character, whatever the audience wrote.
#[test]
fn hostile_text_never_reaches_cells_raw() {
    let mut app = sample();
    for (w, h) in [(80, 24), (120, 40), (40, 10)] {
        let term = render(&mut app, w, h, &Theme::builtin("dark"));
        for cell in term.backend().buffer().content() {
            let s = cell.symbol();
            assert!(qadeck::text::is_terminal_safe(s), "unsafe cell {s:?}");
        }
    }
}

/// Tiny and odd sizes never panic.
#[test]
fn any_size_renders() {
    let theme = Theme::builtin("dark");
    for (w, h) in [(1, 1), (10, 3), (20, 5), (80, 24), (200, 60), (33, 17)] {
        let mut app = sample();
        render(&mut app, w, h, &theme);
    }
}

/// A participants-only source: the people pane, a participant's detail with
/// the link, the invite form, the removal question and the link alone.
#[test]
fn people_pane_snapshots() {
    use qadeck::domain::{Participant, Role};
    let caps = Capabilities {
        participants: true,
        delivery: Delivery::Polling,
        one_time_link: true,
        renew_link: true,
        ..Capabilities::none()
    };
    let person = |id: &str, name: &str, email: Option<&str>, role: Role| Participant {
        source: SourceId(0),
        id: id.into(),
        name: sanitize(name),
        email: email.map(str::to_string),
        role,
        link: Some(format!(
            "https://join.streamboxy.example/s-0002?key=k{id}-0123456789abcdef"
        )),
        version: Some("AAAAAAAAB9E=".into()),
        external_key: None,
    };
    let people = vec![
        person(
            "su-1",
            "Grace Hopper",
            Some("grace@example.com"),
            Role::Participant,
        ),
        person(
            "su-2",
            "Ada Lovelace",
            Some("ada@example.com"),
            Role::Moderator,
        ),
        person("su-3", "佐藤 花子", None, Role::Participant),
        person(
            "su-4",
            "Mallory\x1b[8m",
            Some("m@example.com"),
            Role::Participant,
        ),
    ];
    let key = |c: char| {
        Event::Key(Input {
            key: Key::Char(c),
            ..Input::default()
        })
    };
    let theme = Theme::builtin("dark");
    for (w, h) in [(80, 24), (120, 40)] {
        let mut app = App::new(
            vec![SourceView::new("workshop", caps.clone(), true)],
            KeyMap::default(),
            "snap".into(),
            NOW,
        );
        app.update(Event::Feed(SourceFeed {
            source: SourceId(0),
            feed: Feed::Participants(people.clone()),
        }));
        app.update(Event::Feed(SourceFeed {
            source: SourceId(0),
            feed: Feed::Connection(qadeck::domain::Connection::Polling),
        }));
        let term = render(&mut app, w, h, &theme);
        insta::assert_snapshot!(format!("people_{w}x{h}"), term.backend().to_string());
        app.update(key('c'));
        for c in "Katherine Johnson".chars() {
            app.update(key(c));
        }
        app.update(Event::Key(Input {
            key: Key::Tab,
            ..Input::default()
        }));
        for c in "katherine@nasa".chars() {
            app.update(key(c));
        }
        app.update(Event::Key(Input {
            key: Key::Enter,
            ..Input::default()
        }));
        let term = render(&mut app, w, h, &theme);
        insta::assert_snapshot!(format!("people_form_{w}x{h}"), term.backend().to_string());
        app.update(Event::Key(Input {
            key: Key::Esc,
            ..Input::default()
        }));
        app.update(key('D'));
        let term = render(&mut app, w, h, &theme);
        insta::assert_snapshot!(format!("people_remove_{w}x{h}"), term.backend().to_string());
        app.update(key('n'));
        app.update(Event::Key(Input {
            key: Key::Enter,
            ..Input::default()
        }));
        let term = render(&mut app, w, h, &theme);
        let screen = term.backend().to_string();
        assert!(
            screen.contains("https://join.streamboxy.example/s-0002?key=ksu-2-0123456789abcdef"),
            "the link in one piece:\n{screen}"
        );
        for cell in term.backend().buffer().content() {
            assert!(qadeck::text::is_terminal_safe(cell.symbol()));
        }
    }
}

/// The event picker keeps its cursor in view however many events there are.
#[test]
fn picker_scrolls_to_the_cursor() {
    use qadeck::app::Overlay;
    use qadeck::domain::EventInfo;
    let mut app = sample();
    let events = (0..150)
        .map(|i| EventInfo {
            id: format!("clx{i:04}"),
            title: format!("Event {i:03}"),
            active: Some(i % 2 == 0),
            starts: None,
        })
        .collect();
    app.overlay = Some(Overlay::Picker {
        source: SourceId(0),
        events: Some(Ok(events)),
        row: 0,
    });
    for _ in 0..120 {
        app.update(Event::Key(Input {
            key: Key::Char('j'),
            ..Input::default()
        }));
    }
    let term = render(&mut app, 80, 24, &Theme::builtin("dark"));
    let screen = term.backend().to_string();
    assert!(screen.contains("Event 120"), "{screen}");
    assert!(
        screen.contains("↑ ") && screen.contains("↓ 29 more"),
        "{screen}"
    );
    assert!(!screen.contains("Event 000"), "{screen}");
    // Enter picks the one under the cursor.
    let cmds = app.update(Event::Key(Input {
        key: Key::Enter,
        ..Input::default()
    }));
    assert!(
        matches!(&cmds[..], [qadeck::app::Command::PickEvent { event, .. }] if event == "clx0120"),
        "{cmds:?}"
    );
}

/// The status bar shows the rate budget and a 429's countdown.
#[test]
fn status_bar_shows_budget_and_retry_countdown() {
    let mut app = sample();
    app.update(Event::Feed(SourceFeed {
        source: SourceId(0),
        feed: Feed::Budget(qadeck::domain::RateBudget {
            limit: 60,
            remaining: 57,
            reset: None,
        }),
    }));
    let op_id = app.inflight.keys().next().cloned();
    let op_id = match op_id {
        Some(id) => id,
        None => {
            let cmds = app.update(Event::Key(Input {
                key: Key::Char('a'),
                ..Input::default()
            }));
            cmds.iter()
                .find_map(|c| match c {
                    qadeck::app::Command::Send(q) => Some(q.op_id.clone()),
                    _ => None,
                })
                .unwrap()
        }
    };
    app.update(Event::Op(qadeck::domain::OpReport::Retrying {
        op_id,
        attempt: 1,
        in_ms: 12_000,
        reason: "rate limited (HTTP 429)".into(),
    }));
    let term = render(&mut app, 120, 40, &Theme::builtin("dark"));
    let screen = term.backend().to_string();
    assert!(screen.contains("57/60 req left"), "{screen}");
    assert!(
        screen.contains("(HTTP 429) — retry in 12s, kept queued"),
        "{screen}"
    );
    app.update(Event::Tick { now: NOW + 5_000 });
    let term = render(&mut app, 120, 40, &Theme::builtin("dark"));
    assert!(term.backend().to_string().contains("retry in 7s"));
}

/// Actions queued for another event are named in the status bar, at 80x24.
#[test]
fn status_bar_names_actions_waiting_for_another_event() {
    let mut app = sample();
    app.update(Event::Session(qadeck::app::SessionEvent::Waiting {
        source: SourceId(0),
        waiting: vec![("ev-a".into(), 3)],
    }));
    let term = render(&mut app, 80, 24, &Theme::builtin("dark"));
    let screen = term.backend().to_string();
    assert!(
        screen.contains("⏸ 3 actions waiting for event ev-a"),
        "{screen}"
    );
}
