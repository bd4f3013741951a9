//! The interactive loop: terminal events, feeds, reports, ticks and
//! signals in one `select!`, a redraw after each batch (written only if
//! something changed). SIGTERM, SIGHUP, SIGINT and SIGQUIT end it like a
//! quit (terminal restored, providers shut down) and the process exits with
//! 128 + the signal; Ctrl-Z and SIGTSTP suspend with the terminal restored
//! and redraw in full on resume.

use super::screen::Screen;
use super::terminal;
use super::{Inbox, Session, batch};
use crate::app::Event;
use crate::app::groups::GROUP_STEP;
use crate::provider::now_ms;
use crate::ui::Theme;
use crossterm::event::{Event as TermEvent, KeyEventKind, MouseButton, MouseEventKind};
use futures::StreamExt;
use std::time::Duration;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// The loop ended on a signal: exit with [`Stopped::exit_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stopped by {name}")]
pub struct Stopped {
    pub signal: i32,
    pub name: &'static str,
}

impl Stopped {
    /// 128 + the signal, as a shell reports a process ended by it.
    pub fn exit_code(self) -> i32 {
        128 + self.signal
    }
}

/// `qadeck` needs a terminal on stdin and stdout for the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a terminal: the console needs one on stdin and stdout (for NDJSON output, add --headless)"
)]
pub struct NotATerminal;

/// The signals that end the console, with their numbers.
const ENDING: [(i32, &str); 4] = [
    (15, "SIGTERM"),
    (1, "SIGHUP"),
    (2, "SIGINT"),
    (3, "SIGQUIT"),
];
const SIGTSTP: i32 = 20;

/// Runs the TUI until the moderator quits or a signal ends it. The terminal
/// is restored on every way out.
pub async fn run(mut session: Session, mut inbox: Inbox, theme: Theme) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(NotATerminal.into());
    }
    let mut signals = Signals::new()?;
    let mut tstp = signal(SignalKind::from_raw(SIGTSTP))?;
    terminal::install_panic_hook(true);
    terminal::enter()?;
    let result = event_loop(&mut session, &mut inbox, &theme, &mut signals, &mut tstp).await;
    terminal::restore();
    // What the session holds is flushed and providers log out before exit.
    session.shutdown().await;
    match result {
        Ok(Some(stopped)) => Err(stopped.into()),
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The ending signals the loop selects over.
struct Signals {
    ending: Vec<(Signal, i32, &'static str)>,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        let mut ending = Vec::new();
        for (n, name) in ENDING {
            ending.push((signal(SignalKind::from_raw(n))?, n, name));
        }
        Ok(Signals { ending })
    }

    /// The next ending signal.
    async fn ending(&mut self) -> Stopped {
        let waits = self.ending.iter_mut().map(|(s, n, name)| {
            let (n, name) = (*n, *name);
            Box::pin(async move {
                s.recv().await;
                Stopped { signal: n, name }
            })
        });
        futures::future::select_all(waits).await.0
    }
}

/// Stops the process with the terminal given back to the shell; returns
/// once resumed (SIGCONT), with the terminal taken again.
fn suspend<W: std::io::Write>(term: &mut Screen<W>) -> anyhow::Result<()> {
    terminal::restore();
    nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP)?;
    terminal::enter()?;
    term.clear()?;
    Ok(())
}

async fn event_loop(
    session: &mut Session,
    inbox: &mut Inbox,
    theme: &Theme,
    signals: &mut Signals,
    tstp: &mut Signal,
) -> anyhow::Result<Option<Stopped>> {
    let mut term = Screen::new(std::io::stdout())?;
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
        term.draw(&session.app, theme)?;
        // Signals and keys come first; feed events are taken a bounded
        // batch at a time (`batch`), so a flood never delays a redraw or a key.
        let event = tokio::select! {
            biased;
            stopped = signals.ending() => return Ok(Some(stopped)),
            _ = tstp.recv() => {
                session.suspend = true;
                None
            }
            ev = input.next() => match ev {
                Some(Ok(e)) => convert(e),
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(None),
            },
            _ = tick.tick() => Some(Event::Tick { now: now_ms() }),
            Some(r) = inbox.reports.recv() => Some(Event::Op(r)),
            Some(m) = inbox.misc.recv() => Some(m),
            Some(f) = inbox.feed.recv() => Some(Event::Feed(f)),
            // The core's grouping steps wait behind keys and every event.
            _ = std::future::ready(()), if session.app.has_work() => None,
        };
        let arrived = event.is_some();
        if let Some(e) = event {
            session.handle(e);
        }
        let Ok(_) = batch::drain(inbox, |e| {
            session.handle(e);
            Ok::<(), std::convert::Infallible>(())
        });
        if arrived && session.app.groups.waiting() > GROUP_STEP {
            // A backlog (a first sync) shows before its grouping steps run;
            // a question or two is grouped first, so its row is drawn once
            // (not shown alone and then folded into its group).
            term.draw(&session.app, theme)?;
        }
        let Ok(_) = batch::work(session, |s, e| {
            s.handle(e);
            Ok::<(), std::convert::Infallible>(())
        });
        if std::mem::take(&mut session.suspend) {
            suspend(&mut term)?;
            let size = term.size()?;
            session.handle(Event::Resize {
                width: size.width,
                height: size.height,
            });
        }
        if session.app.quit {
            return Ok(None);
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
