//! Snapshots of the rendered screen (text and styles) at 80x24, 100x30,
//! 120x40 and 60x20 with 0, 3 and 300 questions for each built-in theme,
//! plus properties every frame must hold.

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
        id: format!("q{id}").into(),
        text: sanitize(text).into(),
        author: author.map(|a| sanitize(a).into()),
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

/// A session with `n` questions: the first three approved (one on air)
/// when there are more than three, else all pending.
fn with_questions(n: u32) -> App {
    let mut app = App::new(
        vec![SourceView::new("keynote", caps(), true)],
        KeyMap::default(),
        "snap".into(),
        NOW,
    );
    app.sources[0].event = Some("All-hands Q&A".into());
    let texts = [
        "What is the roadmap for the next release?",
        "How do you test this against real traffic without risking production? I'm asking because our team tried something similar last year and it went badly.",
        "Great talk! 🎉 How do I get started? 👩🏽‍💻 Flags too: 🇩🇪 ❤️",
        "次のバージョンはいつリリースされますか？",
    ];
    let qs: Vec<Question> = (0..n)
        .map(|i| {
            q(
                i + 1,
                &format!("{} (#{})", texts[i as usize % texts.len()], i + 1),
                Some(["Ana", "Kwame", "Zoë", "佐藤"][i as usize % 4]),
                i64::from(i % 17),
                i64::from(n - i) * 20,
            )
        })
        .collect();
    app.update(Event::Feed(SourceFeed {
        source: SourceId(0),
        feed: Feed::Snapshot(qs),
    }));
    app.update(Event::Feed(SourceFeed {
        source: SourceId(0),
        feed: Feed::Connection(qadeck::domain::Connection::Live),
    }));
    app.update(Event::Tick { now: NOW });
    if n > 3 {
        for k in ['a', 'a', 'a'] {
            app.update(Event::Key(Input {
                key: Key::Char(k),
                ..Input::default()
            }));
        }
        app.update(Event::Key(Input {
            key: Key::Char('n'),
            ..Input::default()
        }));
    }
    app.toast = None;
    app
}

#[test]
fn main_screen_snapshots() {
    for (w, h) in [(80, 24), (100, 30), (120, 40), (60, 20)] {
        for n in [0, 3, 300] {
            let mut text = None;
            for theme_name in ui::theme::built_in_names() {
                let theme = Theme::builtin(theme_name);
                let mut app = with_questions(n);
                let term = render(&mut app, w, h, &theme);
                let screen = term.backend().to_string();
                // The text is the same in every theme; only styles differ.
                match &text {
                    None => {
                        insta::assert_snapshot!(format!("main_{w}x{h}_{n}q_text"), screen);
                        text = Some(screen);
                    }
                    Some(t) => assert_eq!(t, &screen, "{theme_name} {w}x{h} {n}"),
                }
                insta::assert_debug_snapshot!(
                    format!("main_{theme_name}_{w}x{h}_{n}q_styles"),
                    term.backend().buffer()
                );
            }
        }
    }
}

/// The rows of a screen as strings.
fn rows(term: &Terminal<TestBackend>) -> Vec<String> {
    let buf = term.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect()
}

#[test]
fn rows_go_to_the_focused_pane() {
    let theme = Theme::builtin("dark");
    for (w, h, at_least) in [(80, 24, 12), (120, 40, 28)] {
        let mut app = with_questions(33);
        let term = render(&mut app, w, h, &theme);
        let screen = rows(&term);
        let left = |l: &String| {
            l.chars()
                .take(usize::from(w) * 58 / 100)
                .collect::<String>()
        };
        let title = screen
            .iter()
            .position(|l| l.contains("▸ Pending (30)"))
            .unwrap();
        let pending = screen[title + 1..]
            .iter()
            .take_while(|l| !left(l).contains('─') && !left(l).contains('━'))
            .filter(|l| !left(l).trim().is_empty())
            .count();
        // 30 pending rows would fit on the taller screen; the detail is
        // beside them at 120 columns and below at 80.
        assert!(
            pending >= at_least,
            "{w}x{h}: {pending} rows\n{}",
            screen.join("\n")
        );
        let keybar = screen.last().unwrap().trim_end().to_string();
        assert!(keybar.ends_with("? help  q quit"), "{keybar}");
    }
}

#[test]
fn the_detail_shows_three_lines_from_60x16_up() {
    let theme = Theme::builtin("dark");
    for (w, h) in [(60, 16), (60, 20), (80, 24), (99, 30), (120, 40)] {
        let mut app = with_questions(33);
        // The long question under the cursor.
        for _ in 0..2 {
            app.update(Event::Key(Input {
                key: Key::Char('j'),
                ..Input::default()
            }));
        }
        let term = render(&mut app, w, h, &theme);
        let screen = rows(&term).join("\n");
        for word in ["How", "production?", "similar"] {
            assert!(screen.contains(word), "{w}x{h}: {word}\n{screen}");
        }
    }
}

#[test]
fn a_tiny_window_says_how_big_it_must_be() {
    let mut app = with_questions(3);
    let term = render(&mut app, 30, 10, &Theme::builtin("dark"));
    let screen = term.backend().to_string();
    assert!(screen.contains("needs 40x12 (is 30x10)"), "{screen}");
}

/// Everything the help holds, scrolled through page by page.
fn whole_help(app: &mut App, w: u16, h: u16) -> String {
    let key = |app: &mut App, k: Key| {
        app.update(Event::Key(Input {
            key: k,
            ..Input::default()
        }));
    };
    key(app, Key::Char('?'));
    let mut seen = String::new();
    for _ in 0..60 {
        let term = render(app, w, h, &Theme::builtin("dark"));
        for l in rows(&term) {
            assert!(!l.contains('…'), "a cut line in the help at {w}x{h}: {l}");
            seen.push_str(l.trim());
            seen.push('\n');
        }
        key(app, Key::PageDown);
    }
    seen
}

#[test]
fn help_snapshots_and_every_description_whole() {
    let mut app = sample();
    app.update(Event::Key(Input {
        key: Key::Char('?'),
        ..Input::default()
    }));
    let term = render(&mut app, 120, 40, &Theme::builtin("dark"));
    insta::assert_snapshot!("help_120x40", term.backend().to_string());
    let term = render(&mut app, 80, 24, &Theme::builtin("dark"));
    insta::assert_snapshot!("help_80x24", term.backend().to_string());
    let term = render(&mut app, 60, 20, &Theme::builtin("dark"));
    insta::assert_snapshot!("help_60x20", term.backend().to_string());
    for (w, h) in [(80, 24), (60, 20)] {
        let mut app = sample();
        let seen = whole_help(&mut app, w, h);
        let words: String = seen.split_whitespace().collect::<Vec<_>>().join(" ");
        // Saved searches are described by the config's `[searches]`.
        let fixed = qadeck::app::ACTIONS
            .iter()
            .filter(|a| a.action.saved_search().is_none());
        for a in fixed {
            let what: String = a.help.split_whitespace().collect::<Vec<_>>().join(" ");
            // Wrapped lines join with a space in `words`.
            assert!(
                what.split(' ').all(|w| words.contains(w)),
                "{} missing from the help at {w}x{h}",
                a.help
            );
        }
    }
}

#[test]
fn help_shows_the_remapped_keys_and_marks_an_unbound_action() {
    let mut app = App::new(
        vec![SourceView::new("keynote", caps(), true)],
        KeyMap::with_overrides([("approve", vec!["x"]), ("reject", vec![])]).unwrap(),
        "snap".into(),
        NOW,
    );
    app.update(Event::Key(Input {
        key: Key::Char('?'),
        ..Input::default()
    }));
    for c in "/reject".chars() {
        app.update(Event::Key(Input {
            key: Key::Char(c),
            ..Input::default()
        }));
    }
    let term = render(&mut app, 80, 24, &Theme::builtin("dark"));
    let screen = term.backend().to_string();
    assert!(screen.contains("(no key)"), "{screen}");
    assert!(screen.contains("unbound: [keys] reject"), "{screen}");
    app.update(Event::Key(Input {
        key: Key::Esc,
        ..Input::default()
    }));
    app.update(Event::Key(Input {
        key: Key::Char('/'),
        ..Input::default()
    }));
    for c in "approve".chars() {
        app.update(Event::Key(Input {
            key: Key::Char(c),
            ..Input::default()
        }));
    }
    let term = render(&mut app, 80, 24, &Theme::builtin("dark"));
    let screen = term.backend().to_string();
    assert!(
        screen
            .lines()
            .any(|l| l.contains("x ") && l.contains("approve (select)")),
        "{screen}"
    );
}

#[test]
fn the_error_list_holds_whole_messages_and_titles_count_the_filter() {
    let mut app = with_questions(51);
    let long = format!("cannot reach the platform: {}", "detail ".repeat(30));
    app.update(Event::Session(qadeck::app::SessionEvent::StoreFailed(
        long.clone(),
    )));
    let term = render(&mut app, 80, 24, &Theme::builtin("dark"));
    let screen = term.backend().to_string();
    assert!(
        screen.contains("cannot r") && screen.contains("(! whole)"),
        "{screen}"
    );
    app.update(Event::Key(Input {
        key: Key::Char('!'),
        ..Input::default()
    }));
    let term = render(&mut app, 80, 24, &Theme::builtin("dark"));
    let screen = rows(&term).join(" ").replace('│', " ");
    let words: String = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains(long.trim()), "{screen}");
    app.update(Event::Key(Input {
        key: Key::Esc,
        ..Input::default()
    }));
    app.update(Event::Key(Input {
        key: Key::Char('/'),
        ..Input::default()
    }));
    for c in "roadmap".chars() {
        app.update(Event::Key(Input {
            key: Key::Char(c),
            ..Input::default()
        }));
    }
    let term = render(&mut app, 80, 24, &Theme::builtin("dark"));
    let screen = term.backend().to_string();
    assert!(screen.contains("Pending (12/48)"), "{screen}");
}

#[test]
fn a_source_down_says_so_in_the_pane() {
    let mut app = with_questions(0);
    app.update(Event::Feed(SourceFeed {
        source: SourceId(0),
        feed: Feed::Connection(qadeck::domain::Connection::Retrying {
            in_ms: 4_000,
            reason: "connection refused".into(),
        }),
    }));
    let term = render(&mut app, 80, 24, &Theme::builtin("dark"));
    let screen = term.backend().to_string();
    assert!(
        screen.contains("keynote unreachable — retrying in 4s"),
        "{screen}"
    );
    assert!(!screen.contains("waiting for questions"), "{screen}");
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

/// Marks on rows at 80x24: a star, labels cut to a third of the row, and
/// `✎` on a question another moderator moved (with the detail's note);
/// a minute later the `✎` is gone.
#[test]
fn rows_show_stars_labels_and_changes_from_elsewhere() {
    let theme = Theme::builtin("dark");
    let mut app = with_questions(3);
    let press = |app: &mut App, k: Key| {
        app.update(Event::Key(Input {
            key: k,
            ..Input::default()
        }));
    };
    press(&mut app, Key::Char('*'));
    for label in ["press", "follow-up-after-talk", "vip"] {
        press(&mut app, Key::Char('#'));
        for c in label.chars() {
            press(&mut app, Key::Char(c));
        }
        press(&mut app, Key::Enter);
    }
    // Another moderator approves the third question, then sends it back.
    let mut third = app
        .queue
        .iter_from(Status::Pending, None)
        .nth(2)
        .unwrap()
        .server();
    third.status = Status::Selected;
    third.updated += 1;
    app.update(Event::Feed(SourceFeed {
        source: SourceId(0),
        feed: Feed::Upsert(vec![third.clone()]),
    }));
    third.status = Status::Pending;
    third.updated += 1;
    app.update(Event::Feed(SourceFeed {
        source: SourceId(0),
        feed: Feed::Upsert(vec![third]),
    }));
    app.update(Event::Tick { now: NOW + 12_000 });
    press(&mut app, Key::Char('j'));
    press(&mut app, Key::Char('j'));
    app.toast = None;
    let term = render(&mut app, 80, 24, &theme);
    let screen = term.backend().to_string();
    insta::assert_snapshot!("marks_80x24", screen);
    assert!(screen.contains("★ #press #follow-up-"), "{screen}");
    assert!(
        !screen.contains("#vip What"),
        "labels are cut to a third of the row"
    );
    assert!(screen.contains("✎ changed on the platform 12 s ago: selected → pending"));
    app.update(Event::Tick { now: NOW + 60_000 });
    let later = render(&mut app, 80, 24, &theme).backend().to_string();
    assert!(!later.contains('✎'), "{later}");
    assert!(later.contains("★ #press"));
}

/// What a terminal shows after `bytes`, cell for cell, is `want`: text,
/// colours and the attributes the theme uses.
fn shows(vt: &vt100::Parser, want: &ratatui::buffer::Buffer, what: &str) {
    use ratatui::style::{Color, Modifier};
    let colour = |c: Color| match c {
        Color::Reset => vt100::Color::Default,
        Color::Indexed(i) => vt100::Color::Idx(i),
        Color::Rgb(r, g, b) => vt100::Color::Rgb(r, g, b),
        named => vt100::Color::Idx(
            [
                Color::Black,
                Color::Red,
                Color::Green,
                Color::Yellow,
                Color::Blue,
                Color::Magenta,
                Color::Cyan,
                Color::Gray,
                Color::DarkGray,
                Color::LightRed,
                Color::LightGreen,
                Color::LightYellow,
                Color::LightBlue,
                Color::LightMagenta,
                Color::LightCyan,
                Color::White,
            ]
            .iter()
            .position(|c| *c == named)
            .unwrap() as u8,
        ),
    };
    let screen = vt.screen();
    for y in 0..want.area.height {
        for x in 0..want.area.width {
            let w = &want[(x, y)];
            let got = screen.cell(y, x).unwrap();
            if got.is_wide_continuation() {
                continue;
            }
            let at = format!("cell {x},{y} after {what}");
            assert_eq!(
                got.contents().trim_end_matches(' '),
                w.symbol().trim_end_matches(' '),
                "{at}"
            );
            assert_eq!(got.bold(), w.modifier.contains(Modifier::BOLD), "{at}");
            assert_eq!(
                got.inverse(),
                w.modifier.contains(Modifier::REVERSED),
                "{at}"
            );
            assert_eq!(got.fgcolor(), colour(w.fg), "{at}");
            assert_eq!(got.bgcolor(), colour(w.bg), "{at}");
        }
    }
}

/// The screen that keeps rows in place between frames shows, after every
/// change, the frame drawn afresh (in its buffer and on a terminal fed its
/// bytes), and sends little for a change of one row: a vote on another
/// row, a vote, the cursor, a star, an approve, a duplicate joining a
/// group, a scroll, an overlay and an input opened and closed, a search,
/// the size and the theme.
#[test]
fn a_kept_screen_shows_the_frame_drawn_afresh() {
    use qadeck::runtime::screen::Screen;
    use ratatui::layout::Rect;
    let dark = Theme::builtin("dark");
    let mut app = with_questions(300);
    let n = |v: u16| std::num::NonZero::new(v).unwrap();
    let mut screen = Screen::fixed(Vec::new(), Rect::new(0, 0, 80, 24));
    let mut vt = vt100::Parser::new(n(24), n(80), 0);
    let mut last = ratatui::buffer::Buffer::default();
    let mut step = |app: &mut App, screen: &mut Screen<Vec<u8>>, theme: &Theme, what: &str| {
        let size = screen.size().unwrap();
        app.update(Event::Resize {
            width: size.width,
            height: size.height,
        });
        let before = screen.writer().len();
        screen.draw(app, theme).unwrap();
        let fresh = render(app, size.width, size.height, theme);
        let want = fresh.backend().buffer();
        assert_eq!(screen.shown(), want, "after {what}");
        vt.screen_mut().set_size(n(size.height), n(size.width));
        vt.process(&screen.writer()[before..]);
        shows(&vt, want, what);
        assert_ne!(want, &last, "{what} shows");
        last = want.clone();
        screen.writer().len() - before
    };
    let press = |app: &mut App, c: char| {
        app.update(Event::Key(Input {
            key: Key::Char(c),
            ..Input::default()
        }));
    };
    let special = |app: &mut App, key: Key| {
        app.update(Event::Key(Input {
            key,
            ..Input::default()
        }));
    };
    step(&mut app, &mut screen, &dark, "the first frame");
    // Another row's vote: the cursor's row stays as it was.
    let current = app.current().unwrap().view.id.clone();
    let mut other = app
        .queue
        .iter_from(Status::Pending, None)
        .nth(2)
        .filter(|e| e.view.id != current)
        .unwrap()
        .server();
    other.votes += 3;
    other.updated += 1;
    app.update(Event::Feed(SourceFeed {
        source: SourceId(0),
        feed: Feed::Upsert(vec![other]),
    }));
    let bytes = step(&mut app, &mut screen, &dark, "a vote on another row");
    assert!(bytes < 400, "{bytes} bytes for one row's vote");
    let mut first = app.current().unwrap().server();
    first.votes += 5;
    first.updated += 1;
    app.update(Event::Feed(SourceFeed {
        source: SourceId(0),
        feed: Feed::Upsert(vec![first]),
    }));
    step(&mut app, &mut screen, &dark, "a vote");
    press(&mut app, 'j');
    step(&mut app, &mut screen, &dark, "a cursor move");
    press(&mut app, '*');
    step(&mut app, &mut screen, &dark, "a star");
    press(&mut app, 'a');
    step(&mut app, &mut screen, &dark, "an approve");
    // The question under the cursor asked again (the grouping steps run).
    ask_again(&mut app);
    while app.has_work() {
        app.update(Event::Work);
    }
    step(&mut app, &mut screen, &dark, "a duplicate");
    special(&mut app, Key::PageDown);
    step(&mut app, &mut screen, &dark, "a page down");
    press(&mut app, 'j');
    step(&mut app, &mut screen, &dark, "a scroll by a row");
    press(&mut app, '?');
    step(&mut app, &mut screen, &dark, "the help open");
    special(&mut app, Key::Esc);
    step(&mut app, &mut screen, &dark, "the help closed");
    press(&mut app, '/');
    step(&mut app, &mut screen, &dark, "the search open");
    for c in "how".chars() {
        press(&mut app, c);
    }
    step(&mut app, &mut screen, &dark, "a search typed");
    special(&mut app, Key::Enter);
    step(&mut app, &mut screen, &dark, "a search");
    press(&mut app, 'j');
    step(&mut app, &mut screen, &dark, "a move in the search");
    press(&mut app, '/');
    special(&mut app, Key::Esc);
    step(&mut app, &mut screen, &dark, "the search left");
    screen.fix(Rect::new(0, 0, 120, 40));
    step(&mut app, &mut screen, &dark, "a wider window");
    press(&mut app, 'k');
    step(&mut app, &mut screen, &dark, "a move up");
    screen.fix(Rect::new(0, 0, 60, 20));
    step(&mut app, &mut screen, &dark, "a smaller window");
    step(
        &mut app,
        &mut screen,
        &Theme::builtin("light"),
        "another theme",
    );
    press(&mut app, 'j');
    step(
        &mut app,
        &mut screen,
        &Theme::builtin("light"),
        "a move in another theme",
    );
}

/// The question under the cursor asked again, as a new question "twin".
fn ask_again(app: &mut App) {
    let mut twin = app.current().unwrap().server();
    twin.id = "twin".into();
    twin.votes = 1;
    app.update(Event::Feed(SourceFeed {
        source: SourceId(0),
        feed: Feed::Upsert(vec![twin]),
    }));
}

/// A duplicate of the question under the cursor: once the grouping steps
/// have run, the kept screen shows its group row (`×2`) as a fresh draw does.
#[test]
fn a_kept_screen_shows_a_group_forming() {
    use qadeck::runtime::screen::Screen;
    use ratatui::layout::Rect;
    let dark = Theme::builtin("dark");
    let mut app = sample();
    app.update(Event::Resize {
        width: 80,
        height: 24,
    });
    let mut screen = Screen::fixed(Vec::new(), Rect::new(0, 0, 80, 24));
    screen.draw(&app, &dark).unwrap();
    ask_again(&mut app);
    assert!(app.has_work(), "the twin waits to be grouped");
    screen.draw(&app, &dark).unwrap();
    while app.has_work() {
        app.update(Event::Work);
    }
    screen.draw(&app, &dark).unwrap();
    let fresh = render(&mut app, 80, 24, &dark);
    assert_eq!(screen.shown(), fresh.backend().buffer());
    let shown = fresh.backend().to_string();
    assert!(shown.contains("×2"), "{shown}");
}
