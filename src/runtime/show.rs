//! The runtime's side of the live show: it publishes the core's on-air
//! state to the show server after every update that changed it, turns
//! control calls into `Event::Show` for the loop and answers them, and
//! follows the on-air state other consoles on this machine write to the
//! shared store (read in a blocking task, never on the loop's thread).

use super::Session;
use crate::app::{Event, SessionEvent};
use crate::domain::{LocalState, Millis, OnAir, QKey, ShowRefusal, SourceId, Str};
use crate::provider::now_ms;
use crate::show::{ControlRequest, Show, ShowConfig, ShowError};
use crate::store::Store;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// How often the store is read for another console's changes.
pub const SHARED_POLL: Duration = Duration::from_millis(400);

type Replies = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<(), ShowRefusal>>>>>;

/// The sources the shared-state poll reads: id, name and event.
pub(super) type Watched = Arc<Mutex<Vec<(SourceId, String, String)>>>;

/// What the session keeps of the show.
#[derive(Default)]
pub struct Hub {
    publish: Option<watch::Sender<OnAir>>,
    replies: Replies,
    /// The on-air question and since when, to date `since`.
    aired: Option<(String, Str, Millis)>,
    show: Option<Show>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Hub {
    /// Publishes the core's state if it changed.
    pub(super) fn publish(&mut self, app: &crate::app::App) {
        let Some(tx) = &self.publish else {
            return;
        };
        let mut state = app.on_air_snapshot();
        if let Some(q) = state.on_air.as_mut() {
            let since = match &self.aired {
                Some((s, id, at)) if *s == q.source && *id == q.id => *at,
                _ => now_ms(),
            };
            self.aired = Some((q.source.clone(), q.id.clone(), since));
            q.since = Some(since);
        } else {
            self.aired = None;
        }
        tx.send_if_modified(|old| {
            let changed = *old != state;
            if changed {
                *old = state;
            }
            changed
        });
    }

    /// Answers a control call the core has carried out.
    pub(super) fn answer(&mut self, request: u64, result: Result<(), ShowRefusal>) {
        let reply = self
            .replies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&request);
        if let Some(reply) = reply {
            let _ = reply.send(result);
        }
    }
}

impl Session {
    /// Starts the show outputs (`[show]`, `--show`, `--show-file`); returns
    /// the address the server listens on.
    pub fn start_show(
        &mut self,
        config: &ShowConfig,
    ) -> Result<Option<std::net::SocketAddr>, ShowError> {
        let (tx, rx) = watch::channel(OnAir::default());
        self.show.publish = Some(tx);
        self.show.publish(&self.app);
        let (control_tx, control_rx) = mpsc::channel(64);
        let show = crate::show::start(config, rx, control_tx)?;
        let addr = show.addr;
        self.show.show = Some(show);
        let forward = forward_control(control_rx, self.show.replies.clone(), self.misc_tx.clone());
        self.show.tasks.push(tokio::spawn(forward));
        Ok(addr)
    }

    /// Follows what other consoles on this machine write to the shared
    /// store: the last change wins, shown here within [`SHARED_POLL`].
    pub fn follow_shared_store(&mut self) {
        let poll = poll_shared(
            self.store.clone(),
            self.watched.clone(),
            self.local_writes.clone(),
            self.misc_tx.clone(),
        );
        self.show.tasks.push(tokio::spawn(poll));
    }
}

impl Session {
    pub(super) fn watch_source(&mut self, id: SourceId, name: &str, event: &str) {
        let mut list = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        list.retain(|(s, _, _)| *s != id);
        list.push((id, name.to_string(), event.to_string()));
    }
}

async fn forward_control(
    mut requests: mpsc::Receiver<ControlRequest>,
    replies: Replies,
    events: mpsc::UnboundedSender<Event>,
) {
    let mut next = 0u64;
    while let Some(ControlRequest { action, reply }) = requests.recv().await {
        next += 1;
        replies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(next, reply);
        let event = Event::Show {
            request: next,
            action,
        };
        if events.send(event).is_err() {
            return;
        }
    }
}

/// Whether an event is a copy of the store read before this console's last
/// write of a local state (it would undo that write until the next poll).
pub(super) fn is_stale(event: &Event, writes: &AtomicU64) -> bool {
    matches!(event, Event::Session(SessionEvent::SharedLocal { seen, .. })
        if *seen < writes.load(Ordering::SeqCst))
}

async fn poll_shared(
    store: Arc<Store>,
    watched: Watched,
    writes: Arc<AtomicU64>,
    events: mpsc::UnboundedSender<Event>,
) {
    let mut last: HashMap<SourceId, Vec<(QKey, LocalState)>> = HashMap::new();
    let mut tick = tokio::time::interval(SHARED_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let seen = writes.load(Ordering::SeqCst);
        let sources = watched.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let store = store.clone();
        let read = tokio::task::spawn_blocking(move || {
            sources
                .into_iter()
                .map(|(id, name, event)| {
                    let states = store.local_states(&name, &event).map(|map| {
                        let mut v: Vec<(QKey, LocalState)> = map
                            .into_iter()
                            .map(|(qid, l)| {
                                (
                                    QKey {
                                        source: id,
                                        id: qid.into(),
                                    },
                                    l,
                                )
                            })
                            .collect();
                        v.sort_by(|a, b| a.0.id.cmp(&b.0.id));
                        v
                    });
                    (id, states)
                })
                .collect::<Vec<_>>()
        })
        .await;
        let Ok(read) = read else { continue };
        for (source, states) in read {
            let Ok(states) = states else { continue };
            if last.get(&source) == Some(&states) {
                continue;
            }
            last.insert(source, states.clone());
            let news = SessionEvent::SharedLocal {
                source,
                states,
                seen,
            };
            if events.send(Event::Session(news)).is_err() {
                return;
            }
        }
    }
}
