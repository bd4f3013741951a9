//! The one event loop: it owns the [`App`], feeds it terminal input,
//! provider feeds, outbox reports and timer ticks, and carries out the
//! commands `update` returns. Network work always runs in spawned tasks, so
//! the loop never waits on the network; the store is local SQLite.

pub mod headless;
pub mod show;
pub mod terminal;
pub mod tui;

use crate::app::{App, Command, Event, KeyMap, QueuedOp, SessionEvent, SourceView};
use crate::config::SourceSettings;
use crate::domain::{
    Feed, LocalState, Moderator, OpReport, ProviderError, QKey, SourceFeed, SourceId,
};
use crate::outbox::{Timing, Worker};
use crate::provider::{BuildCtx, Provider, now_ms};
use crate::store::{NewOp, Store};
use std::sync::Arc;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

/// How a source enters a session.
pub enum SourceInput {
    /// From the config; built (secrets resolved) when the session starts.
    Settings(SourceSettings),
    /// Already built (the demo command).
    Built {
        name: String,
        event: String,
        provider: Arc<dyn Provider>,
    },
}

struct Slot {
    name: String,
    event: Option<String>,
    settings: Option<SourceSettings>,
    provider: Option<Arc<dyn Provider>>,
    tasks: Vec<JoinHandle<()>>,
    wake: Arc<Notify>,
}

/// The receiving ends the loop selects over, kept apart from the session so
/// a handler can borrow the session while the others wait.
pub struct Inbox {
    pub feed: mpsc::Receiver<SourceFeed>,
    pub reports: mpsc::Receiver<OpReport>,
    pub misc: mpsc::Receiver<Event>,
}

/// A running session: the core plus everything it talks to.
pub struct Session {
    pub app: App,
    slots: Vec<Slot>,
    store: Arc<Store>,
    moderator: Moderator,
    feed_tx: mpsc::Sender<SourceFeed>,
    report_tx: mpsc::Sender<OpReport>,
    misc_tx: mpsc::Sender<Event>,
    outbox_timing: Timing,
    show: show::Hub,
    /// Sources whose local states other consoles may change (`show.rs`).
    watched: show::Watched,
    /// Local states this session wrote, to tell its own from others'.
    local_writes: Arc<std::sync::atomic::AtomicU64>,
}

/// Feed events a provider may queue before it waits for the loop.
const FEED_QUEUE: usize = 1024;

impl Session {
    /// Builds every source (a bad one stops the start with its message: the
    /// program never runs half-configured) and the core.
    pub fn new(
        inputs: Vec<SourceInput>,
        store: Arc<Store>,
        keymap: KeyMap,
        moderator: Moderator,
    ) -> Result<(Session, Inbox), String> {
        let (feed_tx, feed) = mpsc::channel(FEED_QUEUE);
        let (report_tx, reports) = mpsc::channel(256);
        let (misc_tx, misc) = mpsc::channel(64);
        let mut slots = Vec::new();
        let mut views = Vec::new();
        for (i, input) in inputs.into_iter().enumerate() {
            let id = SourceId(i as u16);
            let slot = match input {
                SourceInput::Built {
                    name,
                    event,
                    provider,
                } => Slot {
                    name,
                    event: Some(event),
                    settings: None,
                    provider: Some(provider),
                    tasks: Vec::new(),
                    wake: Arc::new(Notify::new()),
                },
                SourceInput::Settings(settings) => {
                    let ctx = BuildCtx {
                        source: id,
                        moderator: moderator.clone(),
                        event: None,
                    };
                    let provider = settings
                        .build(&ctx)
                        .map_err(|e| format!("source `{}`: {e}", settings.name()))?;
                    Slot {
                        name: settings.name().to_string(),
                        event: settings.event().map(str::to_string),
                        settings: Some(settings),
                        provider: Some(provider),
                        tasks: Vec::new(),
                        wake: Arc::new(Notify::new()),
                    }
                }
            };
            let caps = slot
                .provider
                .as_ref()
                .map(|p| p.capabilities())
                .unwrap_or_else(crate::domain::Capabilities::none);
            views.push(SourceView::new(
                slot.name.clone(),
                caps,
                slot.event.is_some(),
            ));
            slots.push(slot);
        }
        let session_id = format!("{:x}{:04x}", now_ms(), rand::random::<u16>());
        let app = App::new(views, keymap, session_id, now_ms());
        let session = Session {
            app,
            slots,
            store,
            moderator,
            feed_tx,
            report_tx,
            misc_tx,
            outbox_timing: Timing::default(),
            show: show::Hub::default(),
            watched: show::Watched::default(),
            local_writes: Arc::default(),
        };
        Ok((
            session,
            Inbox {
                feed,
                reports,
                misc,
            },
        ))
    }

    pub fn source_name(&self, id: SourceId) -> &str {
        self.slots
            .get(id.0 as usize)
            .map_or("?", |s| s.name.as_str())
    }

    pub fn provider(&self, id: SourceId) -> Option<Arc<dyn Provider>> {
        self.slots
            .get(id.0 as usize)
            .and_then(|s| s.provider.clone())
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Replaces the delivery workers' clocks (lease, retry backoff) for
    /// sources started after this call; the defaults suit real platforms,
    /// tests shorten them.
    pub fn set_outbox_timing(&mut self, timing: Timing) {
        self.outbox_timing = timing;
    }

    /// Starts feeds and delivery for every source that has an event, and
    /// restores what the store holds. Sources without an event ask for one.
    pub fn start(&mut self, with_feeds: bool) {
        for i in 0..self.slots.len() {
            if self.slots[i].event.is_some() {
                self.start_source(SourceId(i as u16), with_feeds);
            }
        }
        if self.app.overlay.is_none() {
            let cmds = self.app.ask_for_event(None);
            self.execute(cmds);
        }
    }

    fn start_source(&mut self, id: SourceId, with_feed: bool) {
        let idx = id.0 as usize;
        let (name, event) = (
            self.slots[idx].name.clone(),
            self.slots[idx].event.clone().unwrap_or_default(),
        );
        let Some(provider) = self.slots[idx].provider.clone() else {
            return;
        };
        // What this machine remembers: local states and undelivered actions.
        let local = self.local_states(id);
        let ops = match self.store.pending(Some(&name)) {
            Ok(rows) => rows
                .into_iter()
                .filter(|r| r.event == event)
                .map(|r| QueuedOp {
                    op_id: r.op_id,
                    source: id,
                    op: r.op,
                })
                .collect(),
            Err(e) => {
                self.app
                    .update(Event::Session(SessionEvent::StoreFailed(format!(
                        "store: {e}"
                    ))));
                Vec::new()
            }
        };
        self.app.update(Event::Restored { ops, local });
        self.watch_source(id, &name, &event);
        let slot = &mut self.slots[idx];
        if with_feed {
            let tx = crate::provider::FeedTx::new(id, self.feed_tx.clone());
            slot.tasks
                .push(tokio::spawn(supervise_feed(provider.clone(), tx)));
        }
        let worker = Worker::new(
            self.store.clone(),
            name,
            provider,
            slot.wake.clone(),
            self.report_tx.clone(),
        )
        .with_timing(self.outbox_timing.clone());
        slot.tasks.push(tokio::spawn(worker.run()));
    }

    /// This machine's states (selected, answered, on air where the platform
    /// has none) of one source's questions, from the store.
    fn local_states(&mut self, id: SourceId) -> Vec<(QKey, LocalState)> {
        let Some(slot) = self.slots.get(id.0 as usize) else {
            return Vec::new();
        };
        let event = slot.event.clone().unwrap_or_default();
        match self.store.local_states(&slot.name, &event) {
            Ok(map) => map
                .into_iter()
                .map(|(qid, l)| {
                    (
                        QKey {
                            source: id,
                            id: qid,
                        },
                        l,
                    )
                })
                .collect(),
            Err(e) => {
                self.app
                    .update(Event::Session(SessionEvent::StoreFailed(format!(
                        "store: {e}"
                    ))));
                Vec::new()
            }
        }
    }

    /// Gives the core this machine's local states without starting
    /// anything, so decisions made before [`Session::start`] (headless
    /// `moderate`) see them. `start` restores them again, harmlessly.
    pub fn restore_local(&mut self) {
        for i in 0..self.slots.len() {
            let id = SourceId(i as u16);
            if self.slots[i].event.is_some() {
                let local = self.local_states(id);
                self.app.update(Event::Restored {
                    ops: Vec::new(),
                    local,
                });
            }
        }
    }

    /// Feeds one event to the core and carries out its commands.
    ///
    /// A retry report or a connection change may start a countdown (a
    /// retry after a 429, a reconnect), so the core hears the time first. A
    /// provider that learns what it can do on the way (PostoBox: no stream
    /// on this plan → polling) says so with `Feed::Capabilities`.
    pub fn handle(&mut self, event: Event) {
        if let Event::Key(k) = &event {
            tracing::debug!(key = ?k.key, ctrl = k.ctrl, alt = k.alt, "key");
        }
        let starts_countdown = match &event {
            Event::Op(OpReport::Retrying { .. }) => true,
            Event::Feed(sf) => matches!(sf.feed, Feed::Connection(_)),
            _ => false,
        };
        if starts_countdown {
            self.app.update(Event::Tick { now: now_ms() });
        }
        if show::is_stale(&event, &self.local_writes) {
            return;
        }
        let cmds = self.app.update(event);
        self.execute(cmds);
        self.show.publish(&self.app);
    }

    pub fn execute(&mut self, cmds: Vec<Command>) {
        for cmd in cmds {
            match cmd {
                Command::Send(q) => self.enqueue(q),
                Command::SaveLocal { key, local } => {
                    let Some(slot) = self.slots.get(key.source.0 as usize) else {
                        continue;
                    };
                    let event = slot.event.clone().unwrap_or_default();
                    self.local_writes
                        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if let Err(e) = self.store.set_local(&slot.name, &event, &key.id, &local) {
                        tracing::error!("store: {e}");
                        self.app
                            .update(Event::Session(SessionEvent::StoreFailed(format!(
                                "could not save on-air/local state: {e}"
                            ))));
                    }
                }
                Command::RetryOp { op_id } => {
                    if let Err(e) = self.store.requeue(&op_id, &self.moderator.name, now_ms()) {
                        self.app
                            .update(Event::Session(SessionEvent::StoreFailed(format!(
                                "store: {e}"
                            ))));
                    }
                    self.wake_all();
                }
                Command::DropOp { op_id } => {
                    if let Err(e) = self.store.discard(&op_id, &self.moderator.name, now_ms()) {
                        self.app
                            .update(Event::Session(SessionEvent::StoreFailed(format!(
                                "store: {e}"
                            ))));
                    }
                }
                Command::LoadAccountInfo(id) => {
                    let (Some(p), tx) = (self.provider(id), self.misc_tx.clone()) else {
                        continue;
                    };
                    tokio::spawn(async move {
                        let rows = p.account_info().await.map_err(|e| e.to_string());
                        let _ = tx.send(Event::AccountInfo { source: id, rows }).await;
                    });
                }
                Command::LoadEvents(id) => {
                    let (Some(p), tx) = (self.provider(id), self.misc_tx.clone()) else {
                        continue;
                    };
                    tokio::spawn(async move {
                        let events = p.list_events().await.map_err(|e| e.to_string());
                        let _ = tx.send(Event::Events { source: id, events }).await;
                    });
                }
                Command::LoadParticipants(id) => {
                    let (Some(p), tx) = (self.provider(id), self.feed_tx.clone()) else {
                        continue;
                    };
                    tokio::spawn(async move {
                        let feed = match p.list_participants().await {
                            Ok(list) => Feed::Participants(list),
                            Err(e) => {
                                Feed::Notice(format!("reloading the participants failed: {e}"))
                            }
                        };
                        let _ = tx.send(SourceFeed { source: id, feed }).await;
                    });
                }
                Command::PickEvent { source, event } => self.pick_event(source, event),
                Command::ShowDone { request, result } => {
                    self.show.publish(&self.app);
                    self.show.answer(request, result);
                }
                Command::Quit => {}
            }
        }
    }

    /// Writes the action to the outbox before anything is sent; if even
    /// that fails, the core hears it as a failure and rolls back.
    fn enqueue(&mut self, q: QueuedOp) {
        let Some(slot) = self.slots.get(q.source.0 as usize) else {
            return;
        };
        let new = NewOp {
            op_id: q.op_id.clone(),
            source: slot.name.clone(),
            event: slot.event.clone().unwrap_or_default(),
            op: q.op,
            actor: self.moderator.name.clone(),
            created: now_ms(),
        };
        match self.store.enqueue(&new) {
            Ok(()) => slot.wake.notify_one(),
            Err(e) => {
                tracing::error!("outbox: {e}");
                let error = ProviderError::Invalid(format!("could not write the outbox: {e}"));
                self.app.update(Event::Op(OpReport::Failed {
                    op_id: q.op_id,
                    error,
                }));
            }
        }
    }

    fn wake_all(&self) {
        for s in &self.slots {
            s.wake.notify_one();
        }
    }

    fn pick_event(&mut self, id: SourceId, event: String) {
        let idx = id.0 as usize;
        let Some(settings) = self.slots.get(idx).and_then(|s| s.settings.clone()) else {
            return;
        };
        let ctx = BuildCtx {
            source: id,
            moderator: self.moderator.clone(),
            event: Some(event.clone()),
        };
        match settings.build(&ctx) {
            Ok(p) => {
                let slot = &mut self.slots[idx];
                slot.provider = Some(p.clone());
                slot.event = Some(event);
                self.app.update(Event::Session(SessionEvent::EventPicked {
                    source: id,
                    caps: p.capabilities(),
                }));
                self.start_source(id, true);
            }
            Err(e) => {
                self.app.update(Event::Session(SessionEvent::PickFailed {
                    source: id,
                    reason: e.to_string(),
                }));
            }
        }
    }

    /// Stops feeds and workers (waiting until they are gone, so nothing more
    /// arrives) and lets providers log out.
    pub async fn shutdown(&mut self) {
        for slot in &mut self.slots {
            for t in slot.tasks.drain(..) {
                t.abort();
                let _ = t.await;
            }
        }
        for slot in &self.slots {
            if let Some(p) = &slot.provider {
                let _ = tokio::time::timeout(std::time::Duration::from_secs(3), p.shutdown()).await;
            }
        }
    }
}

/// Pause before a panicked feed starts over.
const FEED_RESTART: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs one source's feed. A panic in it (a bug in a platform adapter) must
/// neither stop the other sources nor leave this one looking healthy: it
/// shows as a failed connection, and the feed starts over after a pause
/// (every start resynchronizes in full, so nothing is lost meanwhile).
async fn supervise_feed(provider: Arc<dyn Provider>, tx: crate::provider::FeedTx) {
    use futures::FutureExt;
    loop {
        let run = std::panic::AssertUnwindSafe(provider.run_feed(tx.clone()))
            .catch_unwind()
            .await;
        if run.is_ok() {
            return;
        }
        tracing::error!(
            source = tx.source().0,
            "the feed panicked; starting it over"
        );
        let failed = Feed::Connection(crate::domain::Connection::Failed {
            reason: "internal error in the platform adapter; reconnecting".into(),
        });
        if !tx.send(failed).await {
            return;
        }
        tokio::time::sleep(FEED_RESTART).await;
    }
}

impl Inbox {
    /// Takes whatever is already waiting, without blocking: many feed events
    /// become one redraw.
    pub fn try_next(&mut self) -> Option<Event> {
        if let Ok(r) = self.reports.try_recv() {
            return Some(Event::Op(r));
        }
        if let Ok(f) = self.feed.try_recv() {
            return Some(Event::Feed(f));
        }
        self.misc.try_recv().ok()
    }
}
