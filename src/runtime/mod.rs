//! The one event loop: it owns the [`App`], feeds it terminal input,
//! provider feeds, outbox reports and timer ticks, and carries out the
//! commands `update` returns. Network work always runs in spawned tasks and
//! store work on the store's own thread (`store_actor`), so the loop never
//! waits on the network or on SQLite.

pub mod answers;
mod batch;
pub mod headless;
pub mod screen;
pub mod show;
mod store_actor;
pub mod terminal;
pub mod tui;

use crate::app::{App, Command, Event, KeyMap, QueuedOp, SessionEvent, SourceView};
use crate::config::SourceSettings;
use crate::domain::{Feed, Moderator, OpReport, SourceFeed, SourceId};
use crate::outbox::{Timing, Worker};
use crate::provider::{BuildCtx, BuildError, Provider, now_ms};
use crate::store::{NewOp, Store};
use std::sync::Arc;
use store_actor::{Request, StoreActor};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

/// Why a session could not start.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// A source's provider could not be built (bad settings, a secret);
    /// the error names the source.
    #[error("{error}")]
    Build { name: String, error: BuildError },
    #[error("cannot start the store thread: {0}")]
    StoreThread(std::io::Error),
}

/// A provider built off the loop for a picked event, waiting for the loop
/// to install it.
struct Built {
    source: SourceId,
    event: String,
    provider: Result<Arc<dyn Provider>, BuildError>,
}

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
    /// Everything else: the store's answers, loaded lists, a picked
    /// event's provider being ready (unbounded: each is the answer to one
    /// request of the loop).
    pub misc: mpsc::UnboundedReceiver<Event>,
}

/// A running session: the core plus everything it talks to.
pub struct Session {
    pub app: App,
    slots: Vec<Slot>,
    store: Arc<Store>,
    actor: StoreActor,
    moderator: Moderator,
    feed_tx: mpsc::Sender<SourceFeed>,
    report_tx: mpsc::Sender<OpReport>,
    misc_tx: mpsc::UnboundedSender<Event>,
    built_tx: std::sync::mpsc::Sender<Built>,
    built_rx: std::sync::mpsc::Receiver<Built>,
    /// Replaced providers logging out and their tasks ending.
    retiring: Vec<JoinHandle<()>>,
    outbox_timing: Timing,
    /// Actions each source's worker keeps on the wire (`[delivery]`).
    in_flight: usize,
    /// The moderator asked to suspend (Ctrl-Z); the TUI loop carries it out.
    pub suspend: bool,
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
    ) -> Result<(Session, Inbox), SessionError> {
        let (feed_tx, feed) = mpsc::channel(FEED_QUEUE);
        let (report_tx, reports) = mpsc::channel(256);
        let (misc_tx, misc) = mpsc::unbounded_channel();
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
                    let provider = settings.build(&ctx).map_err(|error| SessionError::Build {
                        name: settings.name().to_string(),
                        error,
                    })?;
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
            let mut view = SourceView::new(slot.name.clone(), caps, slot.event.is_some());
            view.event = slot.event.clone();
            views.push(view);
            slots.push(slot);
        }
        let session_id = format!("{:x}{:04x}", now_ms(), rand::random::<u16>());
        let app = App::new(views, keymap, session_id, now_ms());
        let actor =
            StoreActor::spawn(store.clone(), misc_tx.clone()).map_err(SessionError::StoreThread)?;
        let (built_tx, built_rx) = std::sync::mpsc::channel();
        let session = Session {
            app,
            slots,
            store,
            actor,
            moderator,
            feed_tx,
            report_tx,
            misc_tx,
            built_tx,
            built_rx,
            retiring: Vec::new(),
            outbox_timing: Timing::default(),
            in_flight: crate::domain::IN_FLIGHT_DEFAULT,
            suspend: false,
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

    /// The event a source is bound to, if any.
    pub fn event(&self, id: SourceId) -> Option<&str> {
        self.slots
            .get(id.0 as usize)
            .and_then(|s| s.event.as_deref())
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

    /// How many actions each source's delivery worker keeps on the wire
    /// (`[delivery] in_flight`), for sources started after this call.
    pub fn set_in_flight(&mut self, n: usize) {
        self.in_flight = n;
    }

    /// Starts feeds and delivery for every source that has an event, and
    /// restores what the store holds. Sources without an event ask for one.
    pub fn start(&mut self, with_feeds: bool) {
        for i in 0..self.slots.len() {
            if self.slots[i].event.is_some() {
                self.start_source(SourceId(i as u16), with_feeds);
            } else {
                // Nothing to deliver before an event is picked; say what
                // waits for one.
                self.actor.send(Request::Restore {
                    id: SourceId(i as u16),
                    source: self.slots[i].name.clone(),
                    event: None,
                });
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
        // What this machine remembers (local states, undelivered actions),
        // answered by the store thread as `Event::Restored`.
        self.actor.send(Request::Restore {
            id,
            source: name.clone(),
            event: Some(event.clone()),
        });
        // The feed starts once that answer is in the inbox, which the loop
        // reads before any feed event: the rules then know which questions
        // this machine already reviewed before the first listing arrives.
        let restored = self.actor.done_so_far();
        self.watch_source(id, &name, &event);
        let slot = &mut self.slots[idx];
        if with_feed {
            let tx = crate::provider::FeedTx::new(id, self.feed_tx.clone());
            let provider = provider.clone();
            slot.tasks.push(tokio::spawn(async move {
                let _ = restored.await;
                supervise_feed(provider, tx).await;
            }));
        }
        let worker = Worker::new(
            self.store.clone(),
            name,
            event,
            provider,
            slot.wake.clone(),
            self.report_tx.clone(),
        )
        .with_timing(self.outbox_timing.clone())
        .with_in_flight(self.in_flight);
        slot.tasks.push(tokio::spawn(worker.run()));
    }

    /// Gives the core this machine's local states, marks and earlier roles without
    /// starting anything, so decisions made before [`Session::start`]
    /// (headless `moderate`, `export`) see them. `start` restores them
    /// again, harmlessly.
    pub async fn restore_local(&mut self) {
        for i in 0..self.slots.len() {
            let id = SourceId(i as u16);
            let Some(event) = self.slots[i].event.clone() else {
                continue;
            };
            let (store, name) = (self.store.clone(), self.slots[i].name.clone());
            let read = tokio::task::spawn_blocking(move || {
                Ok::<_, crate::store::StoreError>((
                    store.local_states(&name, &event)?,
                    store.marks(&name, &event)?,
                    store.earlier_roles(&name, &event)?,
                ))
            })
            .await;
            let key = |qid: String| crate::domain::QKey {
                source: id,
                id: qid.as_str().into(),
            };
            match read {
                Ok(Ok((local, marks, roles))) => {
                    self.app.update(Event::Restored {
                        ops: Vec::new(),
                        local: local.into_iter().map(|(q, l)| (key(q), l)).collect(),
                        marks: marks.into_iter().map(|(q, m)| (key(q), m)).collect(),
                        roles: roles.into_iter().map(|(p, r)| ((id, p), r)).collect(),
                    });
                }
                Ok(Err(e)) => self.store_failed(format!("store: {e}")),
                Err(e) => self.store_failed(format!("store: {e}")),
            }
        }
    }

    fn store_failed(&mut self, message: String) {
        self.app
            .update(Event::Session(SessionEvent::StoreFailed(message)));
    }

    /// Waits until every store write asked for so far is done (headless
    /// commands, before they report an action as queued).
    pub async fn flush(&self) {
        self.actor.flush().await;
    }

    /// Feeds one event to the core and carries out its commands.
    ///
    /// A retry report or a connection change may start a countdown (a
    /// retry after a 429, a reconnect), so the core hears the time first. A
    /// provider that learns what it can do on the way (PostoBox: no stream
    /// on this plan → polling) says so with `Feed::Capabilities`.
    pub fn handle(&mut self, event: Event) {
        self.install_built();
        if let Event::Key(k) = &event {
            tracing::debug!(key = ?k.key, ctrl = k.ctrl, alt = k.alt, "key");
        }
        if let Event::Feed(SourceFeed {
            source,
            feed: Feed::Connection(c),
        }) = &event
        {
            tracing::info!(
                source = self.source_name(*source),
                "connection: {}",
                c.describe()
            );
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

    /// Works off all of the core's deferred work (duplicate grouping), for
    /// a command that writes what the core holds once, after its sync.
    pub fn settle(&mut self) {
        while self.app.has_work() {
            self.handle(Event::Work);
        }
    }

    pub fn execute(&mut self, cmds: Vec<Command>) {
        for cmd in cmds {
            match cmd {
                Command::Send(q) => self.enqueue(q),
                Command::SaveLocal { key, local } => {
                    let Some(slot) = self.slots.get(key.source.0 as usize) else {
                        continue;
                    };
                    self.local_writes
                        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    self.actor.send(Request::SaveLocal {
                        source: slot.name.clone(),
                        event: slot.event.clone().unwrap_or_default(),
                        id: key.id.to_string(),
                        local,
                    });
                }
                Command::SaveMarks { key, marks } => {
                    let Some(slot) = self.slots.get(key.source.0 as usize) else {
                        continue;
                    };
                    self.actor.send(Request::SaveMarks {
                        source: slot.name.clone(),
                        event: slot.event.clone().unwrap_or_default(),
                        id: key.id.to_string(),
                        marks,
                    });
                }
                Command::SaveEarlierRole {
                    source,
                    participant,
                    role,
                } => {
                    let Some(slot) = self.slots.get(source.0 as usize) else {
                        continue;
                    };
                    self.actor.send(Request::SaveEarlierRole {
                        source: slot.name.clone(),
                        event: slot.event.clone().unwrap_or_default(),
                        participant,
                        role,
                    });
                }
                Command::RetryOp { op_id } => self.actor.send(Request::Retry {
                    op_id,
                    actor: self.moderator.name.clone(),
                    wake: self.slots.iter().map(|s| s.wake.clone()).collect(),
                }),
                Command::DropOp { op_id } => self.actor.send(Request::Drop {
                    op_id,
                    actor: self.moderator.name.clone(),
                }),
                Command::LoadAccountInfo(id) => {
                    let (Some(p), tx) = (self.provider(id), self.misc_tx.clone()) else {
                        continue;
                    };
                    tokio::spawn(async move {
                        let rows = p.account_info().await.map_err(|e| e.to_string());
                        let _ = tx.send(Event::AccountInfo { source: id, rows });
                    });
                }
                Command::LoadEvents(id) => {
                    let (Some(p), tx) = (self.provider(id), self.misc_tx.clone()) else {
                        continue;
                    };
                    tokio::spawn(async move {
                        let events = p.list_events().await.map_err(|e| e.to_string());
                        let _ = tx.send(Event::Events { source: id, events });
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
                Command::Suspend => self.suspend = true,
                Command::ShowDone { request, result } => {
                    self.show.publish(&self.app);
                    self.show.answer(request, result);
                }
                Command::Quit => {}
            }
        }
    }

    /// Has the store thread write the action to the outbox; only then is the
    /// worker woken to send it. If even that write fails, the core hears it
    /// as a failure and rolls back.
    fn enqueue(&mut self, q: QueuedOp) {
        let Some(slot) = self.slots.get(q.source.0 as usize) else {
            return;
        };
        let new = NewOp {
            op_id: q.op_id,
            source: slot.name.clone(),
            event: slot.event.clone().unwrap_or_default(),
            op: q.op,
            actor: q.actor.unwrap_or_else(|| self.moderator.name.clone()),
            created: now_ms(),
            note: q.note,
        };
        self.actor.send(Request::Enqueue {
            new,
            wake: slot.wake.clone(),
        });
    }

    /// Builds the provider for the picked event on a blocking thread (a
    /// `*_cmd` secret may take a while; each runs once per process, see
    /// `secret`), and wakes the loop with a tick when it is ready.
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
        let (built, wake) = (self.built_tx.clone(), self.misc_tx.clone());
        tokio::task::spawn_blocking(move || {
            let provider = settings.build(&ctx);
            let _ = built.send(Built {
                source: id,
                event,
                provider,
            });
            let _ = wake.send(Event::Tick { now: now_ms() });
        });
    }

    /// Puts providers built for picked events in place: the replaced
    /// provider's feed and worker stop, and it shuts down (logs out) in the
    /// background; the new one starts on its event.
    fn install_built(&mut self) {
        while let Ok(Built {
            source,
            event,
            provider,
        }) = self.built_rx.try_recv()
        {
            let p = match provider {
                Ok(p) => p,
                Err(e) => {
                    self.app.update(Event::Session(SessionEvent::PickFailed {
                        source,
                        reason: e.to_string(),
                    }));
                    continue;
                }
            };
            let Some(slot) = self.slots.get_mut(source.0 as usize) else {
                continue;
            };
            let tasks: Vec<JoinHandle<()>> = slot.tasks.drain(..).collect();
            for t in &tasks {
                t.abort();
            }
            let old = slot.provider.replace(p.clone());
            slot.event = Some(event);
            self.retiring.retain(|t| !t.is_finished());
            self.retiring.push(tokio::spawn(async move {
                for t in tasks {
                    let _ = t.await;
                }
                if let Some(old) = old {
                    let _ = tokio::time::timeout(SHUTDOWN_WAIT, old.shutdown()).await;
                }
            }));
            self.app.update(Event::Session(SessionEvent::EventPicked {
                source,
                caps: p.capabilities(),
            }));
            self.start_source(source, true);
        }
    }

    /// Finishes the store's pending writes, stops feeds and workers
    /// (waiting until they are gone, so nothing more arrives) and lets
    /// providers log out, replaced ones included.
    pub async fn shutdown(&mut self) {
        // What the moderator did is written before anything stops.
        self.actor.flush().await;
        for t in self.retiring.drain(..) {
            let _ = t.await;
        }
        for slot in &mut self.slots {
            for t in slot.tasks.drain(..) {
                t.abort();
                let _ = t.await;
            }
        }
        for slot in &self.slots {
            if let Some(p) = &slot.provider {
                let _ = tokio::time::timeout(SHUTDOWN_WAIT, p.shutdown()).await;
            }
        }
    }
}

/// How long a provider may take to log out.
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

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
    /// become one redraw. Feeds come last: answers to the loop's own
    /// requests (reports, the store's) are few and never wait behind a flood.
    pub fn try_next(&mut self) -> Option<Event> {
        if let Ok(r) = self.reports.try_recv() {
            return Some(Event::Op(r));
        }
        if let Ok(m) = self.misc.try_recv() {
            return Some(m);
        }
        self.feed.try_recv().ok().map(Event::Feed)
    }
}
