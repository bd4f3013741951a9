//! `qadeck export`: a source's questions or chat to a file or stdout. The
//! platform's own report (e.g. streams.live's CSV download) where the
//! platform has one and answers; otherwise — or with `--local` — a local
//! export in the machine format (NDJSON) from a headless sync, with this
//! machine's states (selected, answered, on air) included.

use super::{Context, Usage};
use crate::app::Event;
use crate::domain::{Connection, Feed, ProviderError, ReportKind, SourceId};
use crate::ndjson;
use crate::runtime::{Inbox, Session};
use anyhow::{Context as _, anyhow, bail};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// Options of `qadeck export`.
pub struct ExportOptions {
    pub source: String,
    pub what: ReportKind,
    /// `None`: stdout.
    pub out: Option<PathBuf>,
    /// Skip the platform report: always the local NDJSON export.
    pub local: bool,
    /// Give up waiting for the platform after this long.
    pub timeout: Duration,
    /// Replace an existing `out` file.
    pub force: bool,
}

fn what_name(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::Questions => "questions",
        ReportKind::Chat => "chat",
    }
}

pub async fn export(ctx: Context, opts: ExportOptions) -> anyhow::Result<()> {
    // Refused before anything is fetched, so nothing is lost either way.
    if let Some(path) = opts.out.as_ref().filter(|p| p.exists() && !opts.force) {
        bail!(Usage(format!(
            "{} already exists; add --force to replace it, or choose another --out",
            path.display()
        )));
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
    let what = what_name(opts.what);
    let view = &session.app.sources[0];
    if !view.has_event {
        bail!("source `{name}` names no event: set `event = ...`");
    }
    let has = match opts.what {
        ReportKind::Questions => view.caps.questions,
        ReportKind::Chat => view.caps.chat,
    };
    if !has {
        bail!("source `{name}` has no {what}");
    }
    if !opts.local {
        let provider = session
            .provider(SourceId(0))
            .ok_or_else(|| anyhow!("source has no provider"))?;
        match tokio::time::timeout(opts.timeout, provider.download_report(opts.what)).await {
            Ok(Ok(bytes)) => {
                session.shutdown().await;
                write_out(opts.out.as_ref(), &bytes)?;
                note(
                    opts.out.as_ref(),
                    &format!("{name}: the platform's {what} report"),
                );
                return Ok(());
            }
            Ok(Err(ProviderError::Unsupported(_))) => {
                eprintln!("{name}: the platform has no {what} report; exporting locally (NDJSON)");
            }
            Ok(Err(e)) => {
                eprintln!(
                    "{name}: the platform's {what} report failed ({e}); exporting locally (NDJSON)"
                );
            }
            Err(_) => eprintln!(
                "{name}: the platform's {what} report did not come within {}s; exporting locally (NDJSON)",
                opts.timeout.as_secs()
            ),
        }
    }
    // This machine's states (selected, answered where the platform keeps
    // none) before the listing, so the export carries them.
    session.restore_local().await;
    let synced = sync(&mut session, inbox, opts.what, opts.timeout).await;
    session.shutdown().await;
    synced?;
    let mut lines = Vec::new();
    match opts.what {
        ReportKind::Questions => {
            let mut all: Vec<_> = session.app.queue.all().collect();
            all.sort_by(|a, b| (a.view.created, &a.view.id).cmp(&(b.view.created, &b.view.id)));
            for e in all {
                lines.push(ndjson::question(&name, &e.view, e.inflight > 0).to_string());
            }
        }
        ReportKind::Chat => {
            for m in &session.app.chat {
                lines.push(ndjson::message(&name, m).to_string());
            }
        }
    }
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    write_out(opts.out.as_ref(), text.as_bytes())?;
    note(
        opts.out.as_ref(),
        &format!("{name}: {} {what} line(s), local export", lines.len()),
    );
    Ok(())
}

/// Runs the source's feed until the core holds a complete view of `what`:
/// the questions' snapshot, or the chat's (or, for a chat the platform
/// would not read, the first healthy poll after the questions).
async fn sync(
    session: &mut Session,
    mut inbox: Inbox,
    what: ReportKind,
    timeout: Duration,
) -> anyhow::Result<()> {
    session.start(true);
    let deadline = tokio::time::Instant::now() + timeout;
    let mut questions_seen = false;
    loop {
        let event = tokio::select! {
            Some(f) = inbox.feed.recv() => Event::Feed(f),
            Some(r) = inbox.reports.recv() => Event::Op(r),
            Some(m) = inbox.misc.recv() => m,
            _ = tokio::time::sleep_until(deadline) => {
                bail!("no complete answer from the platform within {}s", timeout.as_secs())
            }
        };
        let mut done = false;
        if let Event::Feed(sf) = &event {
            match (&sf.feed, what) {
                (Feed::Snapshot(_), ReportKind::Questions) => done = true,
                (Feed::Snapshot(_), ReportKind::Chat) => questions_seen = true,
                (Feed::ChatSnapshot(_), ReportKind::Chat) => done = true,
                (Feed::Connection(Connection::Live | Connection::Polling), ReportKind::Chat) => {
                    done = questions_seen;
                }
                (Feed::Connection(Connection::Failed { reason }), _) => bail!("{reason}"),
                (Feed::Notice(text), _) => eprintln!("{text}"),
                _ => {}
            }
        }
        session.handle(event);
        if done {
            return Ok(());
        }
    }
}

fn write_out(out: Option<&PathBuf>, bytes: &[u8]) -> anyhow::Result<()> {
    match out {
        Some(path) => {
            std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
        }
        None => {
            let mut o = std::io::stdout().lock();
            match o.write_all(bytes).and_then(|()| o.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(()),
            }
        }
    }
}

fn note(out: Option<&PathBuf>, what: &str) {
    if let Some(p) = out {
        eprintln!("{what} written to {}", p.display());
    }
}
