//! The store's own thread. The event loop hands it every read and write of
//! the durable store and never waits for the answer: another qadeck process
//! may hold SQLite's write lock for seconds (`busy_timeout`), and the screen
//! and the keys must not freeze meanwhile. Answers come back as core
//! [`Event`]s through the inbox; the core's optimistic state already shows
//! the moderator's decision, so the wait is invisible.
//!
//! Requests are carried out in the order they were sent: an action is in
//! the store before a later retry or drop of it is looked at, and a worker
//! is woken only after its action is written (it reads the store, so the
//! platform never hears of an action that is not durably queued).

use crate::app::{Event, QueuedOp, SessionEvent};
use crate::domain::{LocalState, Marks, OpReport, ProviderError, QKey, Role, SourceId};
use crate::provider::now_ms;
use crate::store::{NewOp, Store};
use std::sync::Arc;
use tokio::sync::{Notify, mpsc, oneshot};

/// One thing for the store to do.
pub(super) enum Request {
    /// Queue an action, then wake the worker that delivers it.
    Enqueue {
        new: NewOp,
        wake: Arc<Notify>,
    },
    SaveLocal {
        source: String,
        event: String,
        id: String,
        local: LocalState,
    },
    SaveMarks {
        source: String,
        event: String,
        id: String,
        marks: Marks,
    },
    SaveEarlierRole {
        source: String,
        event: String,
        participant: String,
        role: Option<Role>,
    },
    /// Retry an action now, then wake the workers.
    Retry {
        op_id: String,
        actor: String,
        wake: Vec<Arc<Notify>>,
    },
    Drop {
        op_id: String,
        actor: String,
    },
    /// What the store holds for a source's event (local states, marks,
    /// actions still queued) and what waits for its other events; with no event
    /// (not picked yet), only what waits.
    Restore {
        id: SourceId,
        source: String,
        event: Option<String>,
    },
    /// Answers once every earlier request is done.
    Flush(oneshot::Sender<()>),
}

/// The handle the session keeps; the thread ends when it is dropped.
pub(super) struct StoreActor {
    tx: std::sync::mpsc::Sender<Request>,
}

impl StoreActor {
    /// Starts the thread. Its answers go to `answers` (unbounded: they are
    /// as many as the loop's own requests, and the thread must never wait
    /// for the loop that may be waiting for it at shutdown).
    pub(super) fn spawn(
        store: Arc<Store>,
        answers: mpsc::UnboundedSender<Event>,
    ) -> std::io::Result<StoreActor> {
        let (tx, rx) = std::sync::mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("qadeck-store".into())
            .spawn(move || {
                while let Ok(req) = rx.recv() {
                    serve(&store, &answers, req);
                }
            })?;
        Ok(StoreActor { tx })
    }

    pub(super) fn send(&self, req: Request) {
        if self.tx.send(req).is_err() {
            tracing::error!("the store thread is gone; a store request was not carried out");
        }
    }

    /// Waits until every request sent so far is carried out.
    pub(super) async fn flush(&self) {
        let _ = self.done_so_far().await;
    }

    /// Resolves once every request sent before this call is carried out
    /// (and its answers are in the loop's inbox); asked for now, awaited
    /// wherever the wait belongs.
    pub(super) fn done_so_far(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        self.send(Request::Flush(tx));
        rx
    }
}

fn store_failed(answers: &mpsc::UnboundedSender<Event>, message: String) {
    tracing::error!("{message}");
    let _ = answers.send(Event::Session(SessionEvent::StoreFailed(message)));
}

fn serve(store: &Store, answers: &mpsc::UnboundedSender<Event>, req: Request) {
    match req {
        Request::Enqueue { new, wake } => match store.enqueue(&new) {
            Ok(()) => {
                tracing::info!(source = %new.source, op_id = %new.op_id, action = new.op.label(), "outbox: queued");
                wake.notify_one();
            }
            Err(e) => {
                // The core rolls the optimistic change back.
                tracing::error!("outbox: {e}");
                let error = ProviderError::Invalid(format!("could not write the outbox: {e}"));
                let _ = answers.send(Event::Op(OpReport::Failed {
                    op_id: new.op_id,
                    error,
                }));
            }
        },
        Request::SaveLocal {
            source,
            event,
            id,
            local,
        } => {
            if let Err(e) = store.set_local(&source, &event, &id, &local) {
                store_failed(answers, format!("could not save on-air/local state: {e}"));
            }
        }
        Request::SaveMarks {
            source,
            event,
            id,
            marks,
        } => {
            if let Err(e) = store.set_marks(&source, &event, &id, &marks) {
                store_failed(answers, format!("could not save stars/labels: {e}"));
            }
        }
        Request::SaveEarlierRole {
            source,
            event,
            participant,
            role,
        } => {
            if let Err(e) = store.set_earlier_role(&source, &event, &participant, role.as_ref()) {
                store_failed(answers, format!("could not save an earlier role: {e}"));
            }
        }
        Request::Retry { op_id, actor, wake } => {
            if let Err(e) = store.requeue(&op_id, &actor, now_ms()) {
                store_failed(answers, format!("store: {e}"));
            }
            for w in wake {
                w.notify_one();
            }
        }
        Request::Drop { op_id, actor } => {
            if let Err(e) = store.discard(&op_id, &actor, now_ms()) {
                store_failed(answers, format!("store: {e}"));
            }
        }
        Request::Restore { id, source, event } => {
            restore(store, answers, id, &source, event.as_deref());
        }
        Request::Flush(done) => {
            let _ = done.send(());
        }
    }
}

fn restore(
    store: &Store,
    answers: &mpsc::UnboundedSender<Event>,
    id: SourceId,
    source: &str,
    event: Option<&str>,
) {
    let key = |qid: String| QKey {
        source: id,
        id: qid.as_str().into(),
    };
    let local = match event.map(|e| store.local_states(source, e)) {
        None => Vec::new(),
        Some(Ok(map)) => map.into_iter().map(|(qid, l)| (key(qid), l)).collect(),
        Some(Err(e)) => {
            store_failed(answers, format!("store: {e}"));
            Vec::new()
        }
    };
    let marks = match event.map(|e| store.marks(source, e)) {
        None => Vec::new(),
        Some(Ok(map)) => map.into_iter().map(|(qid, m)| (key(qid), m)).collect(),
        Some(Err(e)) => {
            store_failed(answers, format!("store: {e}"));
            Vec::new()
        }
    };
    let roles = match event.map(|e| store.earlier_roles(source, e)) {
        None => Vec::new(),
        Some(Ok(map)) => map.into_iter().map(|(p, r)| ((id, p), r)).collect(),
        Some(Err(e)) => {
            store_failed(answers, format!("store: {e}"));
            Vec::new()
        }
    };
    let (mut ops, mut waiting) = (Vec::new(), Vec::<(String, usize)>::new());
    match store.pending(Some(source)) {
        Ok(rows) => {
            for r in rows {
                if Some(r.event.as_str()) == event {
                    ops.push(QueuedOp {
                        op_id: r.op_id,
                        source: id,
                        op: r.op,
                        note: None,
                        actor: None,
                    });
                } else {
                    match waiting.iter_mut().find(|(e, _)| *e == r.event) {
                        Some((_, n)) => *n += 1,
                        None => waiting.push((r.event, 1)),
                    }
                }
            }
        }
        Err(e) => store_failed(answers, format!("store: {e}")),
    }
    if event.is_some() {
        let _ = answers.send(Event::Restored {
            ops,
            local,
            marks,
            roles,
        });
    }
    let _ = answers.send(Event::Session(SessionEvent::Waiting {
        source: id,
        waiting,
    }));
}
