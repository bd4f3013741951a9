//! Hostile input: whatever bytes the audience sends, the terminal receives
//! only the escape sequences qadeck itself writes (cursor moves, colors,
//! synchronized-output brackets) — never one that came from the text.

use proptest::prelude::*;
use qadeck::app::{App, Event, KeyMap, SourceView};
use qadeck::domain::{Capabilities, Feed, MyVote, Question, SourceFeed, SourceId, Status};
use qadeck::provider::demo::{Demo, Settings};
use qadeck::provider::{FeedTx, Provider};
use qadeck::runtime::terminal::SyncBackend;
use qadeck::text::{is_terminal_safe, sanitize, sanitize_bytes};
use qadeck::ui::{self, Theme};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

fn app_with(texts: Vec<String>) -> App {
    let caps = Capabilities {
        questions: true,
        server_statuses: Status::ALL.to_vec(),
        ..Capabilities::none()
    };
    let mut app = App::new(
        vec![SourceView::new("s", caps, true)],
        KeyMap::default(),
        "h".into(),
        0,
    );
    let qs = texts
        .into_iter()
        .enumerate()
        .map(|(i, t)| Question {
            source: SourceId(0),
            id: format!("q{i}").into(),
            text: sanitize(&t).into(),
            author: Some(sanitize(&t).into()),
            votes: i as i64,
            my_vote: MyVote::None,
            status: Status::Pending,
            on_air: false,
            created: i as i64,
            updated: i as i64,
        })
        .collect();
    app.update(Event::Feed(SourceFeed {
        source: SourceId(0),
        feed: Feed::Snapshot(qs),
    }));
    app
}

/// Renders through the program's own backend and returns the bytes written.
fn bytes_written(app: &mut App, w: u16, h: u16) -> Vec<u8> {
    app.update(Event::Resize {
        width: w,
        height: h,
    });
    let opts = TerminalOptions {
        viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
    };
    let mut term = Terminal::with_options(SyncBackend::new(Vec::new()), opts).unwrap();
    term.draw(|f| ui::draw(f, app, &Theme::builtin("dark")))
        .unwrap();
    term.backend().writer().clone()
}

/// Every ESC must start a CSI sequence of the kinds qadeck writes; no other
/// control character may appear at all.
fn assert_only_own_sequences(bytes: &[u8]) {
    let text = String::from_utf8(bytes.to_vec()).expect("output is UTF-8");
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\x1b' {
            assert_eq!(
                chars.get(i + 1),
                Some(&'['),
                "non-CSI escape at {i}: {:?}",
                &text[..]
            );
            let mut j = i + 2;
            while j < chars.len()
                && (chars[j].is_ascii_digit() || matches!(chars[j], ';' | '?' | ':'))
            {
                j += 1;
            }
            let fin = chars.get(j).copied();
            assert!(
                matches!(fin, Some('H' | 'm' | 'h' | 'l' | 'J' | 'K')),
                "unexpected CSI final {fin:?} at {i}"
            );
            i = j + 1;
            continue;
        }
        assert!(
            !(c.is_control()
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)),
            "raw control {c:?} in output"
        );
        i += 1;
    }
}

#[test]
fn demo_hostile_audience_never_escapes() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let demo = Demo::new(
        Settings {
            rate: 400.0,
            seed: Some(3),
            hostile: true,
            ..Settings::default()
        },
        SourceId(0),
    );
    let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
    let qs: Vec<Question> = rt.block_on(async {
        let feed = tokio::spawn(async move { demo.run_feed(FeedTx::new(SourceId(0), tx)).await });
        // Taken as it comes, as the loop does: the demo makes only what
        // the loop has room for.
        let mut all = Vec::new();
        let until = tokio::time::sleep(std::time::Duration::from_millis(500));
        tokio::pin!(until);
        loop {
            tokio::select! {
                _ = &mut until => break,
                Some(sf) = rx.recv() => {
                    if let Feed::Upsert(q) | Feed::Snapshot(q) = sf.feed {
                        all.extend(q);
                    }
                }
            }
        }
        feed.abort();
        all
    });
    assert!(qs.len() > 50, "the demo produced {}", qs.len());
    let mut app = app_with(Vec::new());
    app.update(Event::Feed(SourceFeed {
        source: SourceId(0),
        feed: Feed::Snapshot(qs),
    }));
    for (w, h) in [(80, 24), (120, 40)] {
        // Walk the list so long and short hostile texts reach the detail pane.
        for _ in 0..30 {
            let bytes = bytes_written(&mut app, w, h);
            assert_only_own_sequences(&bytes);
            app.update(Event::Key(ratatui_textarea::Input {
                key: ratatui_textarea::Key::Char('j'),
                ..Default::default()
            }));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn sanitized_text_is_always_safe(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let s = sanitize_bytes(&bytes);
        prop_assert!(is_terminal_safe(&s));
    }

    #[test]
    fn sanitized_unicode_is_always_safe(s in "\\PC*|[\\x00-\\x1f\\x7f-\\u{9f}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}a-z\\[\\]\\\\;]*") {
        prop_assert!(is_terminal_safe(&sanitize(&s)));
    }

    #[test]
    fn rendering_any_text_writes_only_own_sequences(
        texts in proptest::collection::vec("[\\x00-\\x1f\\x7f-\\u{9f}\\u{202a}-\\u{202e}a-zé次👩‍💻 \\[\\];]{0,60}", 1..6),
        w in 20u16..130,
        h in 6u16..45,
    ) {
        let mut app = app_with(texts);
        let bytes = bytes_written(&mut app, w, h);
        assert_only_own_sequences(&bytes);
    }
}
