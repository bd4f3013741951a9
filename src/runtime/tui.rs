//! The interactive loop: terminal events, feeds, reports and ticks in one
//! `select!`, a redraw after each batch (written only if something changed).

use super::terminal::{self, SyncBackend};
use super::{Inbox, Session};
use crate::app::Event;
use crate::provider::now_ms;
use crate::ui::{self, Theme};
use crossterm::event::{Event as TermEvent, KeyEventKind, MouseButton, MouseEventKind};
use futures::StreamExt;
use ratatui::Terminal;
use std::time::Duration;

/// Events handled before a redraw at most, so input stays responsive under
/// a flood of feed events.
const BATCH: usize = 512;

/// Runs the TUI until the moderator quits. The terminal is restored on every
/// way out.
pub async fn run(mut session: Session, mut inbox: Inbox, theme: Theme) -> anyhow::Result<()> {
    terminal::install_panic_hook(true);
    terminal::enter()?;
    let result = event_loop(&mut session, &mut inbox, &theme).await;
    terminal::restore();
    session.shutdown().await;
    result
}

async fn event_loop(session: &mut Session, inbox: &mut Inbox, theme: &Theme) -> anyhow::Result<()> {
    let mut term = Terminal::new(SyncBackend::new(std::io::stdout()))?;
    let size = term.size()?;
    session.handle(Event::Resize {
        width: size.width,
        height: size.height,
    });
    session.handle(Event::Tick { now: now_ms() });
    let mut input = crossterm::event::EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        term.draw(|f| ui::draw(f, &session.app, theme))?;
        let event = tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(e)) => convert(e),
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            Some(f) = inbox.feed.recv() => Some(Event::Feed(f)),
            Some(r) = inbox.reports.recv() => Some(Event::Op(r)),
            Some(m) = inbox.misc.recv() => Some(m),
            _ = tick.tick() => Some(Event::Tick { now: now_ms() }),
        };
        if let Some(e) = event {
            session.handle(e);
        }
        for _ in 0..BATCH {
            match inbox.try_next() {
                Some(e) => session.handle(e),
                None => break,
            }
        }
        if session.app.quit {
            return Ok(());
        }
    }
}

/// Terminal events the core understands; the rest are ignored.
fn convert(e: TermEvent) -> Option<Event> {
    match e {
        TermEvent::Key(k) if k.kind != KeyEventKind::Release => Some(Event::Key(k.into())),
        TermEvent::Mouse(m) => match m.kind {
            MouseEventKind::Down(MouseButton::Left) => Some(Event::Click {
                col: m.column,
                row: m.row,
            }),
            MouseEventKind::ScrollDown => Some(Event::Scroll {
                down: true,
                col: m.column,
                row: m.row,
            }),
            MouseEventKind::ScrollUp => Some(Event::Scroll {
                down: false,
                col: m.column,
                row: m.row,
            }),
            _ => None,
        },
        TermEvent::Resize(width, height) => Some(Event::Resize { width, height }),
        TermEvent::Paste(text) => Some(Event::Paste(text)),
        _ => None,
    }
}
