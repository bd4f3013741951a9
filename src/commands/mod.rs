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

pub use chat::{ChatOptions, chat};
pub use export::{ExportOptions, export};
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

/// What every verb needs: the config and where things live.
pub struct Context {
    pub config: Config,
    pub config_path: PathBuf,
    pub store_path: Option<PathBuf>,
    pub theme: Option<String>,
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

    pub fn keymap(&self) -> anyhow::Result<KeyMap> {
        KeyMap::with_overrides(self.config.keys.iter().map(|(k, v)| (k.as_str(), v.keys())))
            .map_err(|e| anyhow!("{}: {e}", self.config_path.display()))
    }

    pub fn theme(&self) -> anyhow::Result<Theme> {
        let name = self
            .theme
            .clone()
            .or_else(|| self.config.theme.clone())
            .unwrap_or_else(|| "dark".into());
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Ok(Theme::load(
            &name,
            &config::config_dir(&self.config_path),
            no_color,
        )?)
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
        settings
            .build(&ctx)
            .map_err(|e| anyhow!("source `{source}`: {e}"))
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
    .map_err(|e| anyhow!(e))?;
    session.start(true);
    start_show(&mut session, &ctx, true)?;
    runtime::tui::run(session, inbox, theme).await
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
pub async fn demo(ctx: Context, opts: DemoOptions) -> anyhow::Result<()> {
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
    let theme = if opts.headless {
        None
    } else {
        Some(ctx.theme()?)
    };
    let (mut session, inbox) = Session::new(
        vec![input],
        store,
        ctx.keymap()?,
        ctx.config.moderator.clone(),
    )
    .map_err(|e| anyhow!(e))?;
    session.start(true);
    start_show(&mut session, &ctx, shared_store)?;
    match theme {
        None => {
            let o = runtime::headless::Options {
                duration: opts.duration,
                status_lines: false,
                generated: Some(generated),
            };
            runtime::headless::run(session, inbox, o).await
        }
        Some(theme) => runtime::tui::run(session, inbox, theme).await,
    }
}

/// `qadeck watch`: one source as NDJSON.
pub async fn watch(ctx: Context, source: &str, duration: Option<Duration>) -> anyhow::Result<()> {
    let (mut session, inbox) = Session::new(
        ctx.source_inputs(Some(source))?,
        ctx.store()?,
        ctx.keymap()?,
        ctx.config.moderator.clone(),
    )
    .map_err(|e| anyhow!(e))?;
    if session.app.sources[0].has_event {
        session.start(true);
    } else {
        bail!(
            "source `{source}` names no event: set `event = ...` (list them with `qadeck events --source {source}`)"
        );
    }
    let o = runtime::headless::Options {
        duration,
        status_lines: true,
        generated: None,
    };
    runtime::headless::run(session, inbox, o).await
}

/// `qadeck events`: the events a source's credentials can see.
pub async fn events(ctx: Context, source: &str, json: bool) -> anyhow::Result<()> {
    let provider = ctx.provider(source)?;
    let list = provider
        .list_events()
        .await
        .map_err(|e| anyhow!("{source}: {e}"));
    provider.shutdown().await;
    let mut out = std::io::stdout().lock();
    for e in list? {
        events::print_event(&mut out, source, &e, json)?;
    }
    Ok(())
}

/// `qadeck journal`.
pub fn journal(ctx: Context, json: bool, limit: usize) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let mut out = std::io::stdout().lock();
    for e in store.journal(limit)? {
        if json {
            let mut v = serde_json::to_value(&e)?;
            v["type"] = "journal".into();
            writeln!(out, "{v}")?;
        } else {
            writeln!(out, "{e}")?;
        }
    }
    Ok(())
}

/// Options of `qadeck moderate`.
pub struct ModerateOptions {
    pub source: String,
    /// (question id, action) pairs, in order.
    pub actions: Vec<(String, ModAction)>,
    pub no_wait: bool,
    pub timeout: Duration,
}

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
pub async fn moderate(ctx: Context, opts: ModerateOptions) -> anyhow::Result<bool> {
    let (mut session, mut inbox) = Session::new(
        ctx.source_inputs(Some(&opts.source))?,
        ctx.store()?,
        ctx.keymap()?,
        ctx.config.moderator.clone(),
    )
    .map_err(|e| anyhow!(e))?;
    if !session.app.sources[0].has_event {
        bail!("source `{}` names no event: set `event = ...`", opts.source);
    }
    let provider = session
        .provider(SourceId(0))
        .ok_or_else(|| anyhow!("source has no provider"))?;
    // Decide with what this machine keeps (selected, on air, …) in view.
    session.restore_local();
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
        }
        let key = QKey {
            source: SourceId(0),
            id: id.clone(),
        };
        let cmds = session
            .app
            .moderate(key.clone(), *action)
            .map_err(|e| anyhow!("{id}: {e}"))?;
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
        mine.extend(sends.into_iter().map(|op| (op, key.clone())));
        session.execute(cmds);
    }
    if opts.no_wait {
        eprintln!(
            "{} action(s) queued for `{name}`; the next qadeck run for this source delivers them",
            mine.len()
        );
        return Ok(true);
    }
    session.start(false);
    let mut pending: std::collections::HashMap<String, QKey> = mine.into_iter().collect();
    let mut ok = true;
    let mut out = std::io::stdout().lock();
    for key in &local_only {
        if session.app.queue.get(key).is_some() {
            print_question(&mut out, &session, &name, key)?;
        } else {
            // Saved on this machine, but the platform did not send the
            // question: there is nothing true to print about it.
            eprintln!(
                "{}: kept on this machine; the question did not load, so it is not printed",
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
            OpReport::Failed { op_id, error } => (op_id.clone(), Some(error.to_string())),
            OpReport::Retrying {
                op_id,
                reason,
                in_ms,
                ..
            } => {
                if pending.contains_key(op_id) {
                    eprintln!("{op_id}: {reason}; retrying in {}s", in_ms.div_ceil(1000));
                }
                session.handle(Event::Op(report));
                continue;
            }
        };
        session.handle(Event::Op(report));
        let Some(key) = pending.remove(&op_id) else {
            continue;
        };
        match failure {
            Some(e) => {
                ok = false;
                eprintln!("error: {} {}: {e}", key.id, op_id);
            }
            None => {
                if session.app.queue.get(&key).is_none()
                    && let Ok(q) = provider.fetch_question(&key.id).await
                {
                    session.handle(Event::Feed(SourceFeed {
                        source: SourceId(0),
                        feed: Feed::Upsert(vec![q]),
                    }));
                }
                print_question(&mut out, &session, &name, &key)?;
            }
        }
    }
    if !pending.is_empty() {
        ok = false;
        eprintln!(
            "{} action(s) not confirmed within {}s; they stay queued and the next qadeck run for `{name}` delivers them",
            pending.len(),
            opts.timeout.as_secs()
        );
    }
    session.shutdown().await;
    Ok(ok)
}

fn print_question(
    out: &mut impl Write,
    session: &Session,
    name: &str,
    key: &QKey,
) -> anyhow::Result<()> {
    let line = match session.app.queue.get(key) {
        Some(e) => ndjson::question(name, &e.view, e.inflight > 0),
        None => ndjson::question_gone(name, &key.id),
    };
    writeln!(out, "{line}")?;
    Ok(())
}
