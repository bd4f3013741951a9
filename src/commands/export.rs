//! `qadeck export`: a source's (or every source's) questions or chat to a
//! file or stdout. The platform's own report (e.g. streams.live's CSV
//! download) where the platform has one and answers; otherwise — or with
//! `--local`, `--format` or `--what answered|unanswered` — a local export
//! from a headless sync, with this machine's states (selected, answered, on
//! air), marks and journal included, in NDJSON, JSON, CSV or Markdown
//! (`export_format`).

use super::export_format::{self as format, Format, Meta, Row, Step};
use super::{Context, Usage};
use crate::app::Event;
use crate::domain::{Connection, Feed, ProviderError, ReportKind, SourceId, Status};
use crate::ndjson::{self, Triage};
use crate::runtime::{Inbox, Session, SourceInput};
use anyhow::{Context as _, anyhow, bail};
use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// Which questions `--what` exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    All,
    Answered,
    /// Neither answered nor rejected: pending and selected.
    Unanswered,
}

impl Which {
    fn name(self) -> &'static str {
        match self {
            Which::All => "all",
            Which::Answered => "answered",
            Which::Unanswered => "unanswered",
        }
    }

    fn keeps(self, status: Status) -> bool {
        match self {
            Which::All => true,
            Which::Answered => status == Status::Answered,
            Which::Unanswered => matches!(status, Status::Pending | Status::Selected),
        }
    }
}

/// Options of `qadeck export`.
pub struct ExportOptions {
    /// A `[[source]]` name, or `all`.
    pub source: String,
    pub what: ReportKind,
    /// For questions: all, answered or unanswered.
    pub which: Which,
    /// `None`: the platform's report where it has one, else NDJSON.
    pub format: Option<Format>,
    /// CSV only: start with a UTF-8 byte order mark.
    pub bom: bool,
    /// `None`: stdout.
    pub out: Option<PathBuf>,
    /// Skip the platform report: always the local export.
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

/// Refuses option combinations that cannot mean anything, before anything
/// is fetched.
fn check(opts: &ExportOptions) -> anyhow::Result<()> {
    if let Some(path) = opts.out.as_ref().filter(|p| p.exists() && !opts.force) {
        bail!(Usage(format!(
            "{} already exists; add --force to replace it, or choose another --out",
            path.display()
        )));
    }
    if opts.bom && opts.format != Some(Format::Csv) {
        bail!(Usage("--bom is for --format csv".into()));
    }
    if opts.what == ReportKind::Chat {
        if matches!(opts.format, Some(Format::Csv | Format::Markdown)) {
            bail!(Usage(
                "chat exports as ndjson or json; --format csv and md are for questions".into()
            ));
        }
        if opts.which != Which::All {
            bail!(Usage(
                "--what answered / unanswered are for questions, not chat".into()
            ));
        }
    }
    Ok(())
}

/// The sources to export: one by name, or with `all` every configured
/// source that names an event (the others are skipped, with a note).
fn inputs(ctx: &Context, source: &str) -> anyhow::Result<Vec<SourceInput>> {
    if source != "all" {
        return ctx.source_inputs(Some(source));
    }
    let mut list = Vec::new();
    for s in &ctx.config.sources {
        match s.event() {
            Some(_) => list.push(SourceInput::Settings(s.clone())),
            None => eprintln!(
                "skipping `{}`: it names no event (set `event = ...`)",
                s.name()
            ),
        }
    }
    if list.is_empty() {
        bail!(Usage(format!(
            "no configured source names an event in {}",
            ctx.config_path.display()
        )));
    }
    Ok(list)
}

pub async fn export(ctx: Context, opts: ExportOptions) -> anyhow::Result<()> {
    // Refused before anything is fetched, so nothing is lost either way.
    check(&opts)?;
    let all = opts.source == "all";
    let (mut session, inbox) = Session::new(
        inputs(&ctx, &opts.source)?,
        ctx.store()?,
        ctx.keymap()?,
        ctx.config.moderator.clone(),
    )
    .map_err(|e| Usage(e.to_string()))?;
    session.set_in_flight(ctx.config.delivery.in_flight);
    let what = what_name(opts.what);
    let mut needed = HashSet::new();
    for (i, view) in session.app.sources.iter().enumerate() {
        let name = &view.name;
        if !view.has_event {
            bail!("source `{name}` names no event: set `event = ...`");
        }
        let has = match opts.what {
            ReportKind::Questions => view.caps.questions,
            ReportKind::Chat => view.caps.chat,
        };
        match (has, all) {
            (true, _) => {
                needed.insert(SourceId(i as u16));
            }
            (false, false) => bail!("source `{name}` has no {what}"),
            (false, true) => eprintln!("skipping `{name}`: it has no {what}"),
        }
    }
    if needed.is_empty() {
        bail!("no configured source has {what}");
    }
    let platform_report = !all && !opts.local && opts.format.is_none() && opts.which == Which::All;
    if platform_report && platform_report_done(&mut session, &opts).await? {
        return Ok(());
    }
    // This machine's states (selected, answered where the platform keeps
    // none) and marks before the listing, so the export carries them.
    session.restore_local().await;
    let synced = sync(&mut session, inbox, opts.what, opts.timeout, needed.clone()).await;
    session.shutdown().await;
    // The export names each question's group: every grouping done first.
    session.settle();
    synced?;
    // In the config's order.
    let mut order: Vec<SourceId> = needed.iter().copied().collect();
    order.sort();
    let names: Vec<String> = order
        .iter()
        .map(|id| session.source_name(*id).to_string())
        .collect();
    let meta = Meta {
        sources: &names,
        which: opts.which.name(),
        at: crate::provider::now_ms(),
    };
    let fmt = opts.format.unwrap_or(Format::Ndjson);
    let (bytes, count) = match opts.what {
        ReportKind::Questions => {
            let rows = rows(&session, opts.which)?;
            let bytes = match fmt {
                Format::Ndjson => format::ndjson_lines(&rows),
                Format::Json => format::json_doc(&meta, &rows),
                Format::Csv => format::csv(&rows, opts.bom)?,
                Format::Markdown => format::markdown(&meta, &rows),
            };
            (bytes, rows.len())
        }
        ReportKind::Chat => {
            let app = &session.app;
            let lines: Vec<_> = app
                .chat
                .iter()
                .map(|m| ndjson::message(app.source_name(m.source), m))
                .collect();
            let bytes = match fmt {
                Format::Json => {
                    let doc = serde_json::json!({
                        "schema": ndjson::SCHEMA,
                        "exported": ndjson::iso(meta.at),
                        "sources": names,
                        "what": "chat",
                        "count": lines.len(),
                        "messages": lines,
                    });
                    format!("{}\n", serde_json::to_string_pretty(&doc)?).into_bytes()
                }
                _ => lines
                    .iter()
                    .map(|l| format!("{l}\n"))
                    .collect::<String>()
                    .into_bytes(),
            };
            (bytes, lines.len())
        }
    };
    write_out(opts.out.as_ref(), &bytes)?;
    note(
        opts.out.as_ref(),
        &format!("{}: {count} {what} item(s), local export", names.join(", ")),
    );
    Ok(())
}

/// The platform's own report of the one source, written out; `false` when
/// it has none or it failed (said on stderr), so the local export follows.
async fn platform_report_done(session: &mut Session, opts: &ExportOptions) -> anyhow::Result<bool> {
    let (name, what) = (&opts.source, what_name(opts.what));
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
            return Ok(true);
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
    Ok(false)
}

/// The questions to export, oldest first, with their triage and the
/// history this machine's journal holds for them.
fn rows(session: &Session, which: Which) -> anyhow::Result<Vec<Row>> {
    let app = &session.app;
    let mut history = std::collections::HashMap::new();
    for (i, s) in app.sources.iter().enumerate() {
        let id = SourceId(i as u16);
        let event = session.event(id).unwrap_or_default();
        let by_target = session
            .store()
            .confirmed_by_target(&s.name, event)
            .context("reading the journal")?;
        history.insert(id, by_target);
    }
    let mut all: Vec<_> = app
        .queue
        .all()
        .filter(|e| which.keeps(e.view.status))
        .collect();
    all.sort_by(|a, b| {
        (a.view.created, a.view.source, &a.view.id).cmp(&(
            b.view.created,
            b.view.source,
            &b.view.id,
        ))
    });
    Ok(all
        .into_iter()
        .map(|e| {
            let key = e.view.key();
            let steps = history
                .get(&key.source)
                .and_then(|h| h.get(&*key.id))
                .map(|lines| {
                    lines
                        .iter()
                        .filter(|j| is_question_action(&j.action))
                        .map(|j| Step {
                            at: j.at,
                            action: j.action.clone(),
                            actor: j.actor.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            Row {
                source: app.source_name(key.source).to_string(),
                q: e.view.clone(),
                inflight: app.queue.inflight(&key) > 0,
                triage: Triage::of(app, &key),
                history: steps,
            }
        })
        .collect())
}

/// Journal actions that act on a question (not a chat message or a
/// participant, whose ids may look the same).
fn is_question_action(label: &str) -> bool {
    matches!(
        label,
        "approve"
            | "reject"
            | "mark answered"
            | "back to pending"
            | "delete"
            | "vote up"
            | "vote down"
            | "unvote"
    )
}

/// Runs the sources' feeds until the core holds a complete view of `what`
/// for every source in `needed`: its questions' snapshot, or its chat's
/// (or, for a chat the platform would not read, the first healthy poll
/// after the questions).
async fn sync(
    session: &mut Session,
    mut inbox: Inbox,
    what: ReportKind,
    timeout: Duration,
    mut needed: HashSet<SourceId>,
) -> anyhow::Result<()> {
    session.start(true);
    let deadline = tokio::time::Instant::now() + timeout;
    let mut questions_seen = HashSet::new();
    loop {
        let event = tokio::select! {
            Some(f) = inbox.feed.recv() => Event::Feed(f),
            Some(r) = inbox.reports.recv() => Event::Op(r),
            Some(m) = inbox.misc.recv() => m,
            _ = tokio::time::sleep_until(deadline) => {
                let waiting: Vec<&str> = needed.iter().map(|s| session.source_name(*s)).collect();
                bail!(
                    "no complete answer from {} within {}s",
                    waiting.join(", "),
                    timeout.as_secs()
                )
            }
        };
        if let Event::Feed(sf) = &event {
            let multi = session.app.sources.len() > 1;
            let name = session.source_name(sf.source).to_string();
            let done = match (&sf.feed, what) {
                (Feed::Snapshot(_) | Feed::Listed(_), ReportKind::Questions) => true,
                (Feed::Snapshot(_) | Feed::Listed(_), ReportKind::Chat) => {
                    questions_seen.insert(sf.source);
                    false
                }
                (Feed::ChatSnapshot(_), ReportKind::Chat) => true,
                (Feed::Connection(Connection::Live | Connection::Polling), ReportKind::Chat) => {
                    questions_seen.contains(&sf.source)
                }
                (Feed::Connection(Connection::Failed { reason }), _)
                    if needed.contains(&sf.source) =>
                {
                    match multi {
                        true => bail!("{name}: {reason}"),
                        false => bail!("{reason}"),
                    }
                }
                (Feed::Notice(text), _) if multi => {
                    eprintln!("{name}: {text}");
                    false
                }
                (Feed::Notice(text), _) => {
                    eprintln!("{text}");
                    false
                }
                _ => false,
            };
            if done {
                needed.remove(&sf.source);
            }
        }
        session.handle(event);
        if needed.is_empty() {
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
