//! `frame_us_*`, `frame_bytes` and `key_us_100000`: the main screen at
//! 200x60 drawn by the TUI's own screen (`runtime::screen::Screen`: rows
//! kept in place between frames, the real sync-output backend) into a
//! byte counter, one screen per size, as the TUI keeps one.

use crate::clock::Clock;
use crate::figure::Sheet;
use crate::ingest;
use qadeck::app::{App, Command, Event};
use qadeck::domain::{Feed, Op, OpReport, Outcome, QKey, SourceFeed, SourceId};
use qadeck::runtime::screen::Screen;
use qadeck::ui::Theme;
use ratatui::layout::Rect;
use ratatui_textarea::{Input, Key};
use std::io::Write;
use std::time::{Duration, Instant};

const W: u16 = 200;
const H: u16 = 60;

/// Counts what reaches the "terminal".
#[derive(Default)]
pub struct Count(pub u64);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn terminal() -> Screen<Count> {
    Screen::fixed(Count::default(), Rect::new(0, 0, W, H))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// One visible row changes: the question under the cursor gains a vote.
fn change_one_row(app: &mut App) {
    let Some(mut q) = app.current().map(|e| e.view.clone()) else {
        return;
    };
    q.votes += 1;
    q.updated += 1;
    app.update(Event::Feed(SourceFeed {
        source: SourceId(0),
        feed: Feed::Upsert(vec![q]),
    }));
}

fn key(app: &mut App, c: char) -> Vec<Command> {
    app.update(Event::Key(Input {
        key: Key::Char(c),
        ..Input::default()
    }))
}

/// One size of the sheet: a core holding `n` and its terminal.
struct Bench {
    name: &'static str,
    held: usize,
    app: App,
    term: Screen<Count>,
    times: Vec<Duration>,
    walls: Vec<Duration>,
    bytes: Vec<u64>,
}

pub fn run(sheet: &mut Sheet, pages: &[Vec<u8>], quick: bool) {
    let theme = Theme::builtin("dark");
    let clock = Clock::new();
    let frames = if quick { 200 } else { 1000 };
    let mut benches: Vec<Bench> = [
        (10usize, "frame_us_10"),
        (1_000, "frame_us_1000"),
        (100_000, "frame_us_100000"),
    ]
    .into_iter()
    .map(|(n, name)| {
        let p = ingest::provider();
        let mut app = ingest::app(&p, W, H);
        let held = if n < 100 {
            let one = crate::corpus::page(&crate::corpus::questions(n), 1, 100, n);
            ingest::load(&p, &mut app, &[one])
        } else {
            ingest::load(&p, &mut app, &pages[..n / 100])
        };
        // Drawn as a session shows them: with every group formed.
        ingest::settle(&mut app);
        let mut term = terminal();
        for _ in 0..3 {
            term.draw(&app, &theme).expect("draw");
        }
        Bench {
            name,
            held,
            app,
            term,
            times: Vec::with_capacity(frames),
            walls: Vec::with_capacity(frames),
            bytes: Vec::with_capacity(frames),
        }
    })
    .collect();
    // Round robin, so a busy moment of a shared machine costs every size
    // alike.
    for _ in 0..frames {
        for b in &mut benches {
            change_one_row(&mut b.app);
            let before = b.term.writer().0;
            let (c, t) = (clock.now(), Instant::now());
            b.term.draw(&b.app, &theme).expect("draw");
            b.walls.push(t.elapsed());
            b.times.push(clock.now() - c);
            b.bytes.push(b.term.writer().0 - before);
        }
    }
    // The same screens redrawn unchanged: what the drawing alone costs.
    let mut steady: Vec<Vec<Duration>> = vec![Vec::new(); benches.len()];
    for _ in 0..frames / 3 {
        for (b, times) in benches.iter_mut().zip(&mut steady) {
            let c = clock.now();
            b.term.draw(&b.app, &theme).expect("draw");
            times.push(clock.now() - c);
        }
    }
    for (b, times) in benches.iter_mut().zip(steady) {
        sheet.set(
            b.name,
            Some(median(std::mem::take(&mut b.times)).as_secs_f64() * 1e6),
            format!(
                "{} held, median {} of {frames} frames with one row changed (wall {:.0} µs); unchanged frame {:.0} µs",
                b.held,
                clock.kind(),
                median(std::mem::take(&mut b.walls)).as_secs_f64() * 1e6,
                median(times).as_secs_f64() * 1e6
            ),
        );
    }
    let mut big = benches.pop().expect("three sizes");
    big.bytes.sort_unstable();
    sheet.set(
        "frame_bytes",
        Some(big.bytes[big.bytes.len() / 2] as f64),
        "bytes to the terminal for one changed row (a vote count), sync brackets included",
    );
    let pairs = if quick { 500 } else { 2000 };
    keys(sheet, &clock, &mut big, &theme, pairs);
}

/// The platform confirms an approve, as it would a moment later.
fn confirm(app: &mut App, cmds: Vec<Command>) {
    for cmd in cmds {
        let Command::Send(q) = cmd else { continue };
        let Op::SetStatus { id, status } = &q.op else {
            continue;
        };
        let key = QKey {
            source: q.source,
            id: id.as_str().into(),
        };
        let Some(mut view) = app.queue.get(&key).map(|e| e.view.clone()) else {
            continue;
        };
        view.status = *status;
        app.update(Event::Op(OpReport::Confirmed {
            op_id: q.op_id,
            outcome: Outcome::Question(view),
        }));
    }
}

/// Move down and approve, alternately, each followed by its redraw.
fn keys(sheet: &mut Sheet, clock: &Clock, b: &mut Bench, theme: &Theme, pairs: usize) {
    let Bench { app, term, .. } = b;
    let mut times = Vec::with_capacity(pairs * 2);
    let (mut core, mut wall) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..pairs {
        for c in ['j', 'a'] {
            let (t, w) = (clock.now(), Instant::now());
            let cmds = key(app, c);
            core += clock.now() - t;
            term.draw(app, theme).expect("draw");
            times.push(clock.now() - t);
            wall += w.elapsed();
            confirm(app, cmds);
        }
    }
    let wall_us = wall.as_secs_f64() * 1e6 / times.len().max(1) as f64;
    let core_us = core.as_secs_f64() * 1e6 / times.len().max(1) as f64;
    let mean = times.iter().sum::<Duration>() / times.len().max(1) as u32;
    times.sort();
    let p99 = times[times.len() * 99 / 100];
    sheet.set(
        "key_us_100000",
        Some(mean.as_secs_f64() * 1e6),
        format!(
            "mean {} of {} presses (j, a), core + draw, each approve confirmed after; core alone {core_us:.0} µs; p99 {:.0} µs; wall {wall_us:.0} µs",
            clock.kind(),
            pairs * 2,
            p99.as_secs_f64() * 1e6
        ),
    );
}
