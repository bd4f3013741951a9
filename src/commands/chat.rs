//! `qadeck chat`: one source's chat for producers' scripts. Reading prints
//! the thread as NDJSON (`{"type":"message",…}`); posting and deleting go
//! through the same core checks and the same durable outbox as the TUI's
//! `c`/`y` and `D`, and wait for the platform's answer like `moderate`.

use super::{Context, Usage};
use crate::app::{Command, Event};
use crate::domain::{Feed, Message, OpReport, Outcome, SourceId};
use crate::ndjson;
use crate::provider::now_ms;
use crate::runtime::{Inbox, Session};
use anyhow::{anyhow, bail};
use std::collections::HashSet;
use std::io::Write;
use std::time::Duration;

/// Options of `qadeck chat`.
pub struct ChatOptions {
    pub source: String,
    /// Post this message.
    pub post: Option<String>,
    /// …as a reply to this message id.
    pub reply_to: Option<String>,
    /// Delete this message id.
    pub delete: Option<String>,
    /// After the thread, print new messages as they arrive.
    pub follow: bool,
    /// End `--follow` after this long.
    pub duration: Option<Duration>,
    /// Give up waiting for the platform after this long.
    pub timeout: Duration,
}

/// Runs `qadeck chat`; `Ok(false)` is a non-zero exit with the reason
/// already on stderr.
pub async fn chat(ctx: Context, opts: ChatOptions) -> anyhow::Result<bool> {
    if opts.reply_to.is_some() && opts.post.is_none() {
        bail!("--reply-to goes with --post");
    }
    let (mut session, inbox) = Session::new(
        ctx.source_inputs(Some(&opts.source))?,
        ctx.store()?,
        ctx.keymap()?,
        ctx.config.moderator.clone(),
    )
    .map_err(|e| Usage(e.to_string()))?;
    session.set_in_flight(ctx.config.delivery.in_flight);
    let name = opts.source.clone();
    let view = &session.app.sources[0];
    if !view.has_event {
        bail!(
            "source `{name}` names no event: set `event = ...` (list them with `qadeck events --source {name}`)"
        );
    }
    if !view.caps.chat {
        bail!("source `{name}` has no chat");
    }
    // The core checks (and refuses) before anything is queued or sent.
    let queued = match (&opts.post, &opts.delete) {
        (Some(text), _) => Some(
            session
                .app
                .post_message(SourceId(0), text, opts.reply_to.clone())
                .map_err(|e| anyhow!("not sent: {e}"))?,
        ),
        (None, Some(id)) => Some(
            session
                .app
                .delete_message(SourceId(0), id)
                .map_err(|e| anyhow!("{e}"))?,
        ),
        (None, None) => None,
    };
    match queued {
        Some(cmds) => deliver(session, inbox, cmds, &name, opts.timeout).await,
        None if opts.follow => {
            follow(session, inbox, &name, opts.duration).await?;
            Ok(true)
        }
        None => {
            read(session, &name, opts.timeout).await?;
            Ok(true)
        }
    }
}

/// Queues the action durably, delivers it and prints what the platform
/// answered: the posted message, or the deleted one's id.
async fn deliver(
    mut session: Session,
    mut inbox: Inbox,
    cmds: Vec<Command>,
    name: &str,
    timeout: Duration,
) -> anyhow::Result<bool> {
    let mine = cmds
        .iter()
        .find_map(|c| match c {
            Command::Send(q) => Some(q.op_id.clone()),
            _ => None,
        })
        .ok_or_else(|| anyhow!("nothing to send"))?;
    session.execute(cmds);
    if !session.app.inflight.contains_key(&mine) {
        // Not even the outbox took it (the store said why).
        let reason = session
            .app
            .input
            .as_ref()
            .and_then(|i| i.error.clone())
            .or_else(|| session.app.last_error.clone())
            .unwrap_or_default();
        session.shutdown().await;
        bail!("not queued: {reason}");
    }
    session.start(false);
    let deadline = tokio::time::Instant::now() + timeout;
    let mut out = std::io::stdout().lock();
    let ok = loop {
        let report = tokio::select! {
            r = inbox.reports.recv() => r,
            _ = tokio::time::sleep_until(deadline) => None,
        };
        let Some(report) = report else {
            eprintln!(
                "not confirmed within {}s; the action stays queued and the next qadeck run for `{name}` delivers it",
                timeout.as_secs()
            );
            break false;
        };
        let done = match &report {
            OpReport::Confirmed { op_id, outcome } if *op_id == mine => {
                match outcome {
                    Outcome::Message(m) => writeln!(out, "{}", ndjson::message(name, m))?,
                    Outcome::MessageGone(id) => {
                        writeln!(out, "{}", ndjson::message_gone(name, id))?;
                    }
                    _ => eprintln!("done (the platform answered without the message)"),
                }
                Some(true)
            }
            OpReport::Failed { op_id, error } if *op_id == mine => {
                eprintln!("error: {error}");
                Some(false)
            }
            OpReport::Retrying {
                op_id,
                reason,
                in_ms,
                ..
            } if *op_id == mine => {
                eprintln!("{reason}; retrying in {}s", in_ms.div_ceil(1000));
                None
            }
            _ => None,
        };
        session.handle(Event::Op(report));
        if let Some(ok) = done {
            break ok;
        }
    };
    out.flush()?;
    session.shutdown().await;
    Ok(ok)
}

/// Prints the thread once, oldest first.
async fn read(mut session: Session, name: &str, timeout: Duration) -> anyhow::Result<()> {
    let provider = session
        .provider(SourceId(0))
        .ok_or_else(|| anyhow!("source has no provider"))?;
    let result = tokio::time::timeout(timeout, provider.read_chat()).await;
    session.shutdown().await;
    let mut msgs = match result {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => bail!("{name}: {e}"),
        Err(_) => bail!("{name}: no answer within {}s", timeout.as_secs()),
    };
    msgs.sort_by_key(|m| m.created);
    print_all(name, &msgs)
}

fn print_all(name: &str, msgs: &[Message]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for m in msgs {
        if let Err(e) = writeln!(out, "{}", ndjson::message(name, m)) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(e.into());
        }
    }
    out.flush().or_else(ignore_broken_pipe)?;
    Ok(())
}

fn ignore_broken_pipe(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(e)
    }
}

/// The thread, then every change as it arrives (new messages, deletions as
/// `"deleted": true`, connection changes as `status` lines), until the
/// duration, SIGINT or SIGTERM. A closed stdout ends it quietly.
async fn follow(
    mut session: Session,
    mut inbox: Inbox,
    name: &str,
    duration: Option<Duration>,
) -> anyhow::Result<()> {
    session.start(true);
    let result = follow_loop(&mut session, &mut inbox, name, duration).await;
    session.shutdown().await;
    match result {
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}

async fn follow_loop(
    session: &mut Session,
    inbox: &mut Inbox,
    name: &str,
    duration: Option<Duration>,
) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let deadline = async {
        match duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let mut term = crate::runtime::headless::signal_term()?;
    let mut shown: HashSet<String> = HashSet::new();
    loop {
        let event = tokio::select! {
            _ = &mut deadline => break,
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            Some(f) = inbox.feed.recv() => Event::Feed(f),
            Some(r) = inbox.reports.recv() => Event::Op(r),
            Some(m) = inbox.misc.recv() => m,
        };
        let mut next = Some(event);
        while let Some(event) = next {
            if let Event::Feed(sf) = &event {
                print_feed(&mut out, name, &sf.feed, &mut shown)?;
            }
            session.handle(event);
            next = inbox.try_next();
        }
        out.flush()?;
    }
    Ok(())
}

fn print_feed(
    out: &mut impl Write,
    name: &str,
    feed: &Feed,
    shown: &mut HashSet<String>,
) -> anyhow::Result<()> {
    match feed {
        Feed::ChatSnapshot(msgs) => {
            let now: HashSet<&str> = msgs.iter().map(|m| m.id.as_str()).collect();
            let mut gone: Vec<String> = shown
                .iter()
                .filter(|id| !now.contains(id.as_str()))
                .cloned()
                .collect();
            gone.sort();
            for id in gone {
                shown.remove(&id);
                writeln!(out, "{}", ndjson::message_gone(name, &id))?;
            }
            let mut fresh: Vec<&Message> = msgs.iter().filter(|m| !shown.contains(&m.id)).collect();
            fresh.sort_by_key(|m| m.created);
            for m in fresh {
                shown.insert(m.id.clone());
                writeln!(out, "{}", ndjson::message(name, m))?;
            }
        }
        Feed::Messages(msgs) => {
            for m in msgs {
                if shown.insert(m.id.clone()) {
                    writeln!(out, "{}", ndjson::message(name, m))?;
                }
            }
        }
        Feed::MessageGone(id) if shown.remove(id) => {
            writeln!(out, "{}", ndjson::message_gone(name, id))?;
        }
        Feed::Connection(c) => writeln!(out, "{}", ndjson::status(name, c, now_ms()))?,
        Feed::Notice(text) => eprintln!("{name}: {text}"),
        _ => {}
    }
    Ok(())
}
