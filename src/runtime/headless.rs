//! Headless runs (`demo --headless`, `watch`): the same session and core,
//! printing NDJSON instead of drawing. Ends on duration, SIGINT or SIGTERM
//! with a summary line, and says how it ended ([`Ended`]) for the exit code.

use super::{Inbox, Session, answers, batch};
use crate::app::Event;
use crate::domain::{Connection, Feed};
use crate::ndjson;
use crate::provider::now_ms;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub struct Options {
    pub duration: Option<Duration>,
    /// Print `status` lines on connection changes.
    pub status_lines: bool,
    /// The demo's count of questions it produced, for the summary.
    pub generated: Option<Arc<AtomicU64>>,
}

/// How a headless run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ended {
    /// The signal that stopped it (SIGINT 2, SIGTERM 15).
    pub signal: Option<i32>,
    /// Every source was live or polling at some point of the run.
    pub all_reached: bool,
    /// A source ended failed (it will not recover without the moderator).
    pub any_failed: bool,
}

/// Runs until done, printing to stdout. A closed stdout (`| head`) ends the
/// run quietly.
pub async fn run(session: Session, inbox: Inbox, opts: Options) -> anyhow::Result<Ended> {
    let stdout = std::io::stdout();
    run_to(session, inbox, opts, stdout.lock()).await
}

/// [`run`] with the NDJSON going to `out`.
pub async fn run_to(
    session: Session,
    inbox: Inbox,
    opts: Options,
    out: impl Write,
) -> anyhow::Result<Ended> {
    match run_inner(session, inbox, opts, out).await {
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(Ended {
                signal: None,
                all_reached: true,
                any_failed: false,
            })
        }
        other => other,
    }
}

async fn run_inner(
    mut session: Session,
    mut inbox: Inbox,
    opts: Options,
    out: impl Write,
) -> anyhow::Result<Ended> {
    session.app.track_changes();
    let mut out = std::io::BufWriter::new(out);
    let deadline = async {
        match opts.duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let mut term = signal_term()?;
    let mut reached = vec![false; session.app.sources.len()];
    // The core's clock: what holds for a while (a change from elsewhere,
    // `changed_elsewhere`) ends on time here too.
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let signal = loop {
        // The deadline and the signals come first: a flood of feed events
        // waits for the next batch.
        // The core's grouping steps come last: they wait behind every event.
        let event = tokio::select! {
            biased;
            _ = &mut deadline => break None,
            _ = tokio::signal::ctrl_c() => break Some(2),
            _ = term.recv() => break Some(15),
            _ = tick.tick() => Some(Event::Tick { now: now_ms() }),
            Some(r) = inbox.reports.recv() => Some(Event::Op(r)),
            Some(m) = inbox.misc.recv() => Some(m),
            Some(f) = inbox.feed.recv() => Some(Event::Feed(f)),
            _ = std::future::ready(()), if session.app.has_work() => None,
        };
        if let Some(event) = event {
            handle(&mut session, event, &opts, &mut out)?;
            note_reached(&session, &mut reached);
        }
        batch::drain(&mut inbox, |e| {
            handle(&mut session, e, &opts, &mut out)?;
            note_reached(&session, &mut reached);
            anyhow::Ok(())
        })?;
        // What arrived goes out before the grouping steps run.
        out.flush()?;
        batch::work(&mut session, |s, e| handle(s, e, &opts, &mut out))?;
        out.flush()?;
    };
    // A run that reached its end waits a moment for the answers to actions
    // already on their way.
    if signal.is_none() {
        let until = tokio::time::Instant::now() + answers::ANSWER_WAIT;
        answers::await_answers(&mut session, &mut inbox, until, |s, r| {
            handle(s, Event::Op(r), &opts, &mut out)
        })
        .await?;
    }
    // Stop the producers first, then take everything they sent: the summary
    // counts exactly what the core holds. What waits is bounded by the feed
    // queue (the demo only generates what fits in it). Grouping still
    // waiting stays undone (the run is over): the summary counts it.
    session.shutdown().await;
    while let Some(e) = inbox.try_next() {
        handle(&mut session, e, &opts, &mut out)?;
    }
    let generated = opts.generated.as_ref().map(|g| g.load(Ordering::SeqCst));
    writeln!(
        out,
        "{}",
        ndjson::summary(&session.app, generated, now_ms())
    )?;
    out.flush()?;
    let any_failed = session
        .app
        .sources
        .iter()
        .any(|s| matches!(s.connection, Connection::Failed { .. }));
    Ok(Ended {
        signal,
        all_reached: reached.iter().all(|r| *r),
        any_failed,
    })
}

fn note_reached(session: &Session, reached: &mut [bool]) {
    for (seen, s) in reached.iter_mut().zip(&session.app.sources) {
        *seen |= matches!(s.connection, Connection::Live | Connection::Polling);
    }
}

fn handle(
    session: &mut Session,
    event: Event,
    opts: &Options,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    // Connection changes and the platform's notices become `status` lines.
    let status: Option<(crate::domain::SourceId, Option<String>)> = match &event {
        Event::Feed(sf) => match &sf.feed {
            Feed::Connection(_) => Some((sf.source, None)),
            Feed::Notice(text) => Some((sf.source, Some(text.clone()))),
            _ => None,
        },
        _ => None,
    };
    session.handle(event);
    if opts.status_lines
        && let Some((source, notice)) = status
        && let Some(view) = session.app.source(source)
    {
        let mut line = ndjson::status(&view.name, &view.connection, now_ms());
        if let Some(n) = notice {
            line["notice"] = n.into();
        }
        writeln!(out, "{line}")?;
    }
    for key in session.app.take_changes() {
        let name = session.source_name(key.source).to_string();
        let line = ndjson::question_of(&session.app, &name, &key);
        writeln!(out, "{line}")?;
    }
    Ok(())
}

#[cfg(unix)]
pub(crate) fn signal_term() -> std::io::Result<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
}
