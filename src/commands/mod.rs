//! The CLI verbs, behind the thin `main.rs`. Each builds a [`Session`] (or a
//! provider) from the config and runs it; errors come back as messages for
//! stderr, and nothing runs half-configured.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the CLI layer writes to the terminal"
)]

mod chat;
mod export;
mod export_format;
pub mod setup;

pub use chat::{ChatOptions, chat};
pub use export::{ExportOptions, Which, export};
pub use export_format::Format;
pub mod events;
pub mod people;
pub mod stage;

use crate::app::{Event, KeyMap, ModAction};
use crate::config::{self, Config};
use crate::domain::{Feed, OpReport, QKey, SourceFeed, SourceId};
use crate::ndjson;
use crate::provider::demo::{Demo, Settings as DemoSettings};
use crate::provider::{BuildCtx, Provider};
use crate::runtime::{self, Session, SourceInput};
use crate::show::ShowConfig;
use crate::store::Store;
use crate::ui::Theme;
use anyhow::{Context as _, anyhow, bail};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Exit statuses (the README's "Exit codes"; 128+n on signal n).
pub mod exit {
    pub const OK: u8 = 0;
    /// An action or a source failed.
    pub const FAILED: u8 = 1;
    /// A usage or config error.
    pub const USAGE: u8 = 2;
    /// A platform could not be reached.
    pub const UNREACHABLE: u8 = 3;
}

/// A usage mistake on the command line (exit status 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// The exit status for an error that stopped a verb: 2 for usage and config
/// mistakes, 3 when a platform could not be reached, else 1.
pub fn exit_status(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if cause.is::<Usage>()
            || cause.is::<config::ConfigError>()
            || cause.is::<config::UnknownSource>()
            || cause.is::<crate::provider::BuildError>()
            || cause.is::<crate::ui::theme::ThemeError>()
        {
            return exit::USAGE;
        }
        if let Some(crate::domain::ProviderError::Network(_)) = cause.downcast_ref() {
            return exit::UNREACHABLE;
        }
    }
    exit::FAILED
}

/// What every verb needs: the config and where things live.
pub struct Context {
    pub config: Config,
    pub config_path: PathBuf,
    pub store_path: Option<PathBuf>,
    pub theme: Option<String>,
    /// Where this run logs (shown by `config check`).
    pub log_path: Option<PathBuf>,
    /// `--show ADDR`: overrides `[show] listen`.
    pub show_listen: Option<String>,
    /// `--show-file PATH`: overrides `[show] on_air_file`.
    pub show_file: Option<PathBuf>,
}

impl Context {
    /// Loads the config (`--config` given → it must exist).
    pub fn load(
        config_path: Option<PathBuf>,
        store_path: Option<PathBuf>,
        theme: Option<String>,
    ) -> anyhow::Result<Context> {
        let explicit = config_path.is_some();
        let path = config_path.unwrap_or_else(config::default_path);
        let config = config::load(&path, explicit)?;
        Ok(Context {
            config,
            config_path: path,
            store_path,
            theme,
            log_path: None,
            show_listen: None,
            show_file: None,
        })
    }

    /// The show outputs asked for by `[show]` and the command line, with
    /// the token from its environment variable; `None` when none is.
    pub fn show_config(&self) -> anyhow::Result<Option<ShowConfig>> {
        let cfg = &self.config.show;
        let listen = self.show_listen.as_ref().or(cfg.listen.as_ref());
        let on_air_file = self.show_file.clone().or_else(|| cfg.on_air_file.clone());
        if listen.is_none() && on_air_file.is_none() {
            return Ok(None);
        }
        let listen = listen
            .map(|l| {
                l.parse::<std::net::SocketAddr>().map_err(|_| {
                    anyhow!("show server: `{l}` is not an address with a port, like 127.0.0.1:7077")
                })
            })
            .transpose()?;
        let token_env = cfg
            .token_env
            .clone()
            .unwrap_or_else(|| "QADECK_SHOW_TOKEN".into());
        let token = std::env::var(&token_env)
            .ok()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        Ok(Some(ShowConfig {
            listen,
            token,
            token_env,
            on_air_file,
        }))
    }

    /// The key map with the `[keys]` overrides; a bad entry is a config
    /// error at its line.
    pub fn keymap(&self) -> anyhow::Result<KeyMap> {
        use crate::app::KeyError;
        KeyMap::with_overrides(self.config.keys.iter().map(|(k, v)| (k.as_str(), v.keys())))
            .map_err(|e| {
                let entry = e.entry().map(str::to_string);
                let message = match &e {
                    KeyError::UnknownAction(_) => format!(
                        "{e} (the actions are listed in the README's Keys section and under `?`)"
                    ),
                    _ => e.to_string(),
                };
                anyhow::Error::new(self.config.keys_error(
                    &self.config_path,
                    entry.as_deref(),
                    message,
                ))
            })
    }

    pub fn theme(&self) -> anyhow::Result<Theme> {
        let name = self
            .theme
            .clone()
            .or_else(|| self.config.theme.clone())
            .unwrap_or_else(|| "dark".into());
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Ok(
            Theme::load(&name, &config::config_dir(&self.config_path), no_color)?
                .with_depth(crate::ui::theme::ColorDepth::from_env()),
        )
    }

    /// Gives the session the config's rules and saved searches.
    pub fn triage(&self, session: &mut Session) {
        session
            .app
            .set_triage(self.config.rules.clone(), self.config.searches.clone());
    }

    pub fn store(&self) -> anyhow::Result<Arc<Store>> {
        let path = self
            .store_path
            .clone()
            .or_else(|| self.config.store.clone())
            .unwrap_or_else(|| Store::default_path(&config::data_dir()));
        Ok(Arc::new(Store::open(&path).with_context(|| {
            format!("opening the store {}", path.display())
        })?))
    }

    /// Builds one source's provider outside a session (one-shot verbs).
    pub fn provider(&self, source: &str) -> anyhow::Result<Arc<dyn Provider>> {
        let settings = self.config.source(source)?;
        let ctx = BuildCtx {
            source: SourceId(0),
            moderator: self.config.moderator.clone(),
            event: None,
        };
        Ok(settings.build(&ctx)?)
    }

    fn source_inputs(&self, only: Option<&str>) -> anyhow::Result<Vec<SourceInput>> {
        let list: Vec<_> = match only {
            Some(name) => vec![self.config.source(name)?.clone()],
            None => self.config.sources.clone(),
        };
        Ok(list.into_iter().map(SourceInput::Settings).collect())
    }
}

/// Options of `qadeck demo`.
pub struct DemoOptions {
    pub settings: DemoSettings,
    pub headless: bool,
    pub duration: Option<Duration>,
}

/// `qadeck` with no verb: the TUI over the configured sources.
pub async fn tui(ctx: Context) -> anyhow::Result<()> {
    if ctx.config.sources.is_empty() {
        bail!(
            "no sources configured in {}.\nTry `qadeck demo`, or add a [[source]] table (see the README).",
            ctx.config_path.display()
        );
    }
    let theme = ctx.theme()?;
    let (mut session, inbox) = Session::new(
        ctx.source_inputs(None)?,
        ctx.store()?,
        ctx.keymap()?,
        ctx.config.moderator.clone(),
    )
    .map_err(|e| Usage(e.to_string()))?;
    ctx.triage(&mut session);
    session.set_in_flight(ctx.config.delivery.in_flight);
    if let Some(log) = &ctx.log_path {
        session.app.set_log_file(log.display().to_string());
    }
    session.start(true);
    start_show(&mut session, &ctx, true)?;
    runtime::tui::run(session, inbox, theme).await
}

/// The exit status of a headless run that ended on a signal (128 + n).
fn signal_status(ended: runtime::headless::Ended) -> Option<u8> {
    ended.signal.map(|n| 128 + n as u8)
}

/// Starts the show outputs the context asks for, and (for a store other
/// processes may share) follows other consoles' on-air state.
fn start_show(session: &mut Session, ctx: &Context, shared_store: bool) -> anyhow::Result<()> {
    if let Some(show) = ctx.show_config()? {
        if let Some(addr) = session.start_show(&show)? {
            tracing::info!("show server on http://{addr}/ (overlay: /overlay, stage: /stage)");
        }
        if show.listen.is_some() && show.token.is_none() {
            tracing::warn!(
                "show server: no token in {}: control calls answer 403",
                show.token_env
            );
        }
    }
    if shared_store {
        session.follow_shared_store();
    }
    Ok(())
}

/// `qadeck demo`: the embedded platform, in the TUI or headless.
pub async fn demo(ctx: Context, opts: DemoOptions) -> anyhow::Result<u8> {
    let demo = Arc::new(Demo::new(opts.settings.clone(), SourceId(0)));
    let generated = demo.generated();
    let input = SourceInput::Built {
        name: opts.settings.name.clone(),
        event: "demo-live".into(),
        provider: demo,
    };
    // The demo's world lives in this process, so its outbox does too, unless
    // `--store` asks otherwise.
    let shared_store = ctx.store_path.is_some();
    let store = match &ctx.store_path {
        Some(_) => ctx.store()?,
        None => Arc::new(Store::open_in_memory()?),
    };
    // Checked headless too: a wrong name is a mistake either way.
    let theme = ctx.theme()?;
    let theme = (!opts.headless).then_some(theme);
    let (mut session, inbox) = Session::new(
        vec![input],
        store,
        ctx.keymap()?,
        ctx.config.moderator.clone(),
    )
    .map_err(|e| Usage(e.to_string()))?;
    ctx.triage(&mut session);
    session.set_in_flight(ctx.config.delivery.in_flight);
    session.start(true);
    start_show(&mut session, &ctx, shared_store)?;
    match theme {
        None => {
            let o = runtime::headless::Options {
                duration: opts.duration,
                status_lines: false,
                generated: Some(generated),
            };
            let ended = runtime::headless::run(session, inbox, o).await?;
            Ok(signal_status(ended).unwrap_or(exit::OK))
        }
        Some(theme) => {
            if let Some(log) = &ctx.log_path {
                session.app.set_log_file(log.display().to_string());
            }
            runtime::tui::run(session, inbox, theme).await?;
            Ok(exit::OK)
        }
    }
}

/// `qadeck watch`: one source as NDJSON, or (`source` `None`) every
/// configured source that names an event in one stream, each line naming
/// its `source`. Exit status 1 when a source ended failed (bad key, unknown
/// event), 3 when one was never live or polling during the run.
pub async fn watch(
    ctx: Context,
    source: Option<&str>,
    duration: Option<Duration>,
) -> anyhow::Result<u8> {
    let inputs = match source {
        Some(name) => {
            if ctx.config.source(name)?.event().is_none() {
                bail!(
                    "source `{name}` names no event: set `event = ...` (list them with `qadeck events --source {name}`)"
                );
            }
            ctx.source_inputs(Some(name))?
        }
        None => {
            let mut list = Vec::new();
            for s in &ctx.config.sources {
                match s.event() {
                    Some(_) => list.push(SourceInput::Settings(s.clone())),
                    None => eprintln!(
                        "not watching `{}`: it names no event (set `event = ...`; `qadeck events --source {}` lists them)",
                        s.name(),
                        s.name()
                    ),
                }
            }
            if list.is_empty() {
                bail!(Usage(format!(
                    "no configured source names an event in {} (add a [[source]] with `event = ...`, or give --source)",
                    ctx.config_path.display()
                )));
            }
            list
        }
    };
    let (mut session, inbox) = Session::new(
        inputs,
        ctx.store()?,
        ctx.keymap()?,
        ctx.config.moderator.clone(),
    )
    .map_err(|e| Usage(e.to_string()))?;
    ctx.triage(&mut session);
    session.set_in_flight(ctx.config.delivery.in_flight);
    session.start(true);
    let o = runtime::headless::Options {
        duration,
        status_lines: true,
        generated: None,
    };
    let names: Vec<String> = session.app.sources.iter().map(|s| s.name.clone()).collect();
    let ended = runtime::headless::run(session, inbox, o).await?;
    if let Some(status) = signal_status(ended) {
        return Ok(status);
    }
    let which = match names.as_slice() {
        [one] => format!("source `{one}`"),
        _ => "a source".to_string(),
    };
    if ended.any_failed {
        eprintln!("{which} failed and needs the moderator (the last `status` line says why)");
        return Ok(exit::FAILED);
    }
    if !ended.all_reached {
        eprintln!("{which} was never live or polling during the run (the `status` lines say why)");
        return Ok(exit::UNREACHABLE);
    }
    Ok(exit::OK)
}

/// `qadeck events`: the events a source's credentials can see.
pub async fn events(ctx: Context, source: &str, json: bool) -> anyhow::Result<()> {
    let provider = ctx.provider(source)?;
    let list = provider
        .list_events()
        .await
        .map_err(|e| anyhow::Error::new(e).context(source.to_string()));
    provider.shutdown().await;
    let mut out = std::io::stdout().lock();
    for e in list? {
        events::print_event(&mut out, source, &e, json)?;
    }
    Ok(())
}

/// `qadeck journal`: the journal, then what still waits for delivery per
/// source and event (an action is only ever sent to the event it was taken
/// on, so actions for an event nobody opens wait until one does).
pub fn journal(ctx: Context, json: bool, limit: usize) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let mut out = std::io::stdout().lock();
    for e in store.journal(limit)? {
        if json {
            // `at` is RFC 3339 (see `JournalEntry`).
            let mut v = serde_json::to_value(&e)?;
            v["type"] = "journal".into();
            writeln!(out, "{v}")?;
        } else {
            writeln!(out, "{e}")?;
        }
    }
    for w in store.waiting()? {
        if json {
            writeln!(out, "{}", ndjson::waiting(&w.source, &w.event, w.count))?;
        } else {
            let noun = if w.count == 1 { "action" } else { "actions" };
            writeln!(
                out,
                "{} {noun} waiting for event {} of `{}` (delivered when qadeck runs on it; drop with `qadeck journal --drop-waiting {}`)",
                w.count, w.event, w.source, w.event
            )?;
        }
    }
    Ok(())
}

/// `qadeck journal --drop-waiting EVENT`: the moderator gives up what is
/// queued for an event; each action stays in the journal as dropped.
pub fn drop_waiting(ctx: Context, source: Option<&str>, event: &str) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let actor = &ctx.config.moderator.name;
    let n = store.discard_waiting(source, event, actor, crate::provider::now_ms())?;
    let noun = if n == 1 { "action" } else { "actions" };
    eprintln!("dropped {n} {noun} waiting for event {event}");
    Ok(())
}

/// Options of `qadeck moderate`.
pub struct ModerateOptions {
    pub source: String,
    /// (question id, action) pairs, in order.
    pub actions: Vec<(String, ModAction)>,
    pub no_wait: bool,
    pub timeout: Duration,
    /// Print what would be done; send and queue nothing.
    pub dry_run: bool,
}

/// The name an action is given on the command line.
fn action_name(a: ModAction) -> &'static str {
    match a {
        ModAction::Approve => "approve",
        ModAction::Reject => "reject",
        ModAction::Answered => "answered",
        ModAction::Pending => "pending",
        ModAction::Delete => "delete",
        ModAction::Vote => "vote",
        ModAction::Unvote => "unvote",
        ModAction::VoteDown => "downvote",
        ModAction::OnAir => "on-air",
    }
}

/// Why an id that `watch` lists is unknown to a `demo` source elsewhere.
const DEMO_HINT: &str = "a `demo` source's audience lives only in the process that runs it, so another qadeck run cannot act on its questions; moderate them in `qadeck demo` (or its console)";

/// Parses `ID ACTION` lines (for `--stdin`); blank lines and `#` comments are
/// skipped, a bad line is an error naming its number.
pub fn parse_action_lines(text: &str) -> anyhow::Result<Vec<(String, ModAction)>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next(), parts.next()) {
            (Some(id), Some(action), None) => {
                let a = ModAction::parse(action)
                    .ok_or_else(|| anyhow!("line {}: unknown action `{action}`", n + 1))?;
                out.push((id.to_string(), a));
            }
            _ => bail!("line {}: expected `ID ACTION`", n + 1),
        }
    }
    Ok(out)
}

/// `qadeck moderate`: actions through the same core and outbox as the TUI.
/// Each action is durably queued before the next is looked at; without
/// `--no-wait` the command delivers and prints each resulting question.
/// The exit status: 1 when an action was refused, 3 when the platform could
/// not be reached in time (the actions stay queued).
pub async fn moderate(ctx: Context, opts: ModerateOptions) -> anyhow::Result<u8> {
    if opts.source == "all" && ctx.config.source("all").is_err() {
        bail!(Usage(
            "moderate acts on one source's questions (an id means something only on its source): give --source NAME; `qadeck watch` names each question's `source`".into()
        ));
    }
    let is_demo = ctx.config.source(&opts.source)?.provider_name() == "demo";
    let hint = |failed: bool| {
        if failed && is_demo {
            eprintln!("hint: {DEMO_HINT}");
        }
    };
    if opts.dry_run {
        if ctx.config.source(&opts.source)?.event().is_none() {
            bail!("source `{}` names no event: set `event = ...`", opts.source);
        }
        let mut out = std::io::stdout().lock();
        for (id, action) in &opts.actions {
            writeln!(
                out,
                "would {} question `{id}` on `{}`",
                action_name(*action),
                opts.source
            )?;
        }
        eprintln!(
            "dry run: {} action(s), nothing sent or queued",
            opts.actions.len()
        );
        return Ok(exit::OK);
    }
    let (mut session, mut inbox) = Session::new(
        ctx.source_inputs(Some(&opts.source))?,
        ctx.store()?,
        ctx.keymap()?,
        ctx.config.moderator.clone(),
    )
    .map_err(|e| Usage(e.to_string()))?;
    session.set_in_flight(ctx.config.delivery.in_flight);
    if !session.app.sources[0].has_event {
        bail!("source `{}` names no event: set `event = ...`", opts.source);
    }
    let provider = session
        .provider(SourceId(0))
        .ok_or_else(|| anyhow!("source `{}` has no provider", opts.source))?;
    // Decide with what this machine keeps (selected, on air, …) in view.
    session.restore_local().await;
    let name = opts.source.clone();
    let mut mine = Vec::new();
    let mut local_only = Vec::new();
    for (id, action) in &opts.actions {
        // Load the question when the platform answers quickly; queue the
        // action either way (the platform may be down: that is the point).
        if !opts.no_wait
            && let Ok(Ok(q)) =
                tokio::time::timeout(Duration::from_secs(5), provider.fetch_question(id)).await
        {
            session.handle(Event::Feed(SourceFeed {
                source: SourceId(0),
                feed: Feed::Upsert(vec![q]),
            }));
            session.settle();
        }
        let key = QKey {
            source: SourceId(0),
            id: id.clone().into(),
        };
        let cmds = match session.app.moderate(key.clone(), *action) {
            Ok(cmds) => cmds,
            Err(e) => {
                hint(true);
                bail!("cannot {} question `{id}`: {e}", action_name(*action));
            }
        };
        let sends: Vec<String> = cmds
            .iter()
            .filter_map(|c| match c {
                crate::app::Command::Send(q) => Some(q.op_id.clone()),
                _ => None,
            })
            .collect();
        if sends.is_empty() {
            local_only.push(key.clone());
        }
        mine.extend(sends.into_iter().map(|op| (op, (key.clone(), *action))));
        session.execute(cmds);
        // Durably queued before the next action is looked at.
        session.flush().await;
    }
    let event = session.event(SourceId(0)).unwrap_or_default().to_string();
    if opts.no_wait {
        eprintln!(
            "{} action(s) queued for `{name}` on event {event}; the next qadeck run for this source on that event delivers them",
            mine.len()
        );
        return Ok(exit::OK);
    }
    session.start(false);
    // Answers come in any order (several actions are on the wire at once);
    // lines go out in the order of the actions, each with the question as
    // its own action left it.
    let order: Vec<String> = mine.iter().map(|(op_id, _)| op_id.clone()).collect();
    let mut answered: std::collections::HashMap<String, Option<serde_json::Value>> =
        Default::default();
    let mut printed = 0;
    let mut pending: std::collections::HashMap<String, (QKey, ModAction)> =
        mine.into_iter().collect();
    let mut ok = true;
    let mut out_of_reach = false;
    let mut out = std::io::stdout().lock();
    for key in &local_only {
        if session.app.queue.get(key).is_some() {
            print_question(&mut out, &session, &name, key)?;
        } else {
            // Saved on this machine, but the platform did not send the
            // question: there is nothing true to print about it.
            eprintln!(
                "question `{}`: kept on this machine; it did not load from the platform, so it is not printed",
                key.id
            );
        }
    }
    let deadline = tokio::time::Instant::now() + opts.timeout;
    while !pending.is_empty() {
        let report = tokio::select! {
            r = inbox.reports.recv() => r,
            _ = tokio::time::sleep_until(deadline) => None,
        };
        let Some(report) = report else { break };
        let (op_id, failure) = match &report {
            OpReport::Confirmed { op_id, .. } => (op_id.clone(), None),
            OpReport::Failed { op_id, error } => (op_id.clone(), Some(error.clone())),
            OpReport::Retrying {
                op_id,
                reason,
                in_ms,
                ..
            } => {
                if let Some((key, action)) = pending.get(op_id) {
                    out_of_reach = true;
                    eprintln!(
                        "{} question `{}`: {reason}; retrying in {}s",
                        action_name(*action),
                        key.id,
                        in_ms.div_ceil(1000)
                    );
                }
                session.handle(Event::Op(report));
                continue;
            }
        };
        session.handle(Event::Op(report));
        let Some((key, action)) = pending.remove(&op_id) else {
            continue;
        };
        match failure {
            Some(e) => {
                ok = false;
                eprintln!(
                    "error: {} question `{}` on `{name}` failed: {e}",
                    action_name(action),
                    key.id
                );
                // Any failure: this run's demo world is not the one `watch` showed.
                hint(true);
                answered.insert(op_id, None);
            }
            None => {
                if session.app.queue.get(&key).is_none()
                    && let Ok(q) = provider.fetch_question(&key.id).await
                {
                    session.handle(Event::Feed(SourceFeed {
                        source: SourceId(0),
                        feed: Feed::Upsert(vec![q]),
                    }));
                    session.settle();
                }
                answered.insert(op_id, Some(question_line(&session, &name, &key)));
            }
        }
        while let Some(line) = order.get(printed).and_then(|id| answered.remove(id)) {
            if let Some(line) = line {
                writeln!(out, "{line}")?;
            }
            printed += 1;
        }
    }
    // Behind an action that was not confirmed in time: the rest, in order.
    for id in &order[printed..] {
        if let Some(Some(line)) = answered.remove(id) {
            writeln!(out, "{line}")?;
        }
    }
    // The other actions this run sent (queued earlier, delivered with its
    // own) are recorded before it ends, or they would show as in flight
    // until their lease runs out. The core learns which they are from the
    // store's answer to the start, which is in once the store is flushed.
    session.flush().await;
    while let Ok(m) = inbox.misc.try_recv() {
        session.handle(m);
    }
    let until = deadline.min(tokio::time::Instant::now() + runtime::answers::ANSWER_WAIT);
    runtime::answers::await_answers(&mut session, &mut inbox, until, |s, r| {
        s.handle(Event::Op(r));
        anyhow::Ok(())
    })
    .await?;
    let unconfirmed = !pending.is_empty();
    if unconfirmed {
        eprintln!(
            "{} action(s) not confirmed within {}s; they stay queued and the next qadeck run for `{name}` on event {event} delivers them",
            pending.len(),
            opts.timeout.as_secs()
        );
    }
    session.shutdown().await;
    Ok(match (ok, unconfirmed) {
        (false, _) => exit::FAILED,
        (true, true) if out_of_reach => exit::UNREACHABLE,
        (true, true) => exit::FAILED,
        (true, false) => exit::OK,
    })
}

fn print_question(
    out: &mut impl Write,
    session: &Session,
    name: &str,
    key: &QKey,
) -> anyhow::Result<()> {
    writeln!(out, "{}", question_line(session, name, key))?;
    Ok(())
}

/// The NDJSON line of a question as the session holds it now.
fn question_line(session: &Session, name: &str, key: &QKey) -> serde_json::Value {
    ndjson::question_of(&session.app, name, key)
}
