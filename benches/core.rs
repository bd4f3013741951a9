//! Speed and memory figures of the core and the drawing code. Prints
//! numbers; asserts nothing (machines are shared and noisy).
//!
//! `cargo bench --bench core`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

use qadeck::app::{App, Event, KeyMap, SourceView};
use qadeck::domain::{
    Capabilities, Feed, MyVote, Question, SourceFeed, SourceId, Status, VoteKind,
};
use qadeck::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui_textarea::{Input, Key};
use std::time::Instant;

fn question(i: usize) -> Question {
    Question {
        source: SourceId(0),
        id: format!("q{i}").into(),
        text: format!(
            "Question number {i}: how do you handle backwards compatibility when the protocol changes?"
        )
        .into(),
        author: Some(format!("person {}", i % 97).into()),
        votes: (i % 13) as i64,
        my_vote: MyVote::None,
        status: Status::Pending,
        on_air: false,
        created: i as i64,
        updated: i as i64,
    }
}

fn app() -> App {
    let caps = Capabilities {
        questions: true,
        server_statuses: Status::ALL.to_vec(),
        vote: VoteKind::Toggle,
        ..Capabilities::none()
    };
    let mut app = App::new(
        vec![SourceView::new("bench", caps, true)],
        KeyMap::default(),
        "b".into(),
        0,
    );
    app.update(Event::Resize {
        width: 120,
        height: 40,
    });
    app
}

/// Resident set size in KiB (Linux), for a rough memory figure.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let theme = Theme::builtin("dark");
    for n in [1_000usize, 10_000, 100_000] {
        let mut app = app();
        let rss0 = rss_kib();
        let t = Instant::now();
        for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
            let qs = chunk.iter().map(|i| question(*i)).collect();
            app.update(Event::Feed(SourceFeed {
                source: SourceId(0),
                feed: Feed::Upsert(qs),
            }));
        }
        let ingest = t.elapsed();
        let rss1 = rss_kib();
        let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
        let frames = 200;
        let t = Instant::now();
        for _ in 0..frames {
            term.draw(|f| ui::draw(f, &app, &theme)).unwrap();
        }
        let frame = t.elapsed() / frames;
        let t = Instant::now();
        let keys = 2_000;
        for i in 0..keys {
            let k = if i % 2 == 0 { 'j' } else { 'v' };
            app.update(Event::Key(Input {
                key: Key::Char(k),
                ..Input::default()
            }));
        }
        let key = t.elapsed() / keys;
        let mem = match (rss0, rss1) {
            (Some(a), Some(b)) => format!(
                "{:.0} bytes/question",
                (b.saturating_sub(a) * 1024) as f64 / n as f64
            ),
            _ => "n/a".into(),
        };
        println!(
            "{n:>7} questions: ingest {:>8.0} questions/s · frame {:>6.0} µs · key {:>5.1} µs · memory ≈ {mem}",
            n as f64 / ingest.as_secs_f64(),
            frame.as_secs_f64() * 1e6,
            key.as_secs_f64() * 1e6,
        );
    }
}
