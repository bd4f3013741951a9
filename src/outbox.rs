//! Delivery of queued actions from the durable store to providers.
//!
//! One [`Worker`] per source and event takes the head of that queue (a lease
//! in the [`Store`]), performs it, and records the result before it looks at
//! the next one. A worker is bound to the event its provider was built for,
//! so an action taken on event A is never sent to event B: it waits until a
//! worker for A runs. The same [`Op`](crate::domain::Op) value is sent on every attempt, so a retry can
//! never turn into a different intent; providers make each op converge (a
//! vote toggle checks the current vote first). Any number of workers, in any
//! number of processes, may run for one source: leases make sure one action
//! is sent by one of them at a time.

use crate::domain::{Millis, MyVote, OpReport, Outcome, ProviderError, ProviderResult};
use crate::provider::http::Backoff;
use crate::provider::{Provider, now_ms};
use crate::store::{Claim, OutboxRow, Store, StoreError};
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc};

/// The worker's clocks. Tests shrink them; the defaults suit real platforms.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// How long a claim stays valid without renewal. After a crash, the
    /// next process waits at most this long to take the action over.
    pub lease: Duration,
    /// Retry backoff (full jitter) for network errors, 5xx and 429.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// How often an idle worker looks for actions queued by another qadeck
    /// process (`moderate --no-wait`), which cannot wake it directly.
    pub idle_recheck: Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            lease: Duration::from_secs(15),
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(30),
            idle_recheck: Duration::from_secs(5),
        }
    }
}

/// What the worker does after one step.
enum Next {
    /// Look again at once (an action was just handled).
    Now,
    /// Nothing can be done before this time.
    At(Millis),
    /// The source's queue is empty.
    Empty,
}

/// Delivers one source's outbox for one event to its provider.
pub struct Worker {
    store: Arc<Store>,
    source: String,
    event: String,
    provider: Arc<dyn Provider>,
    /// Unique per worker (pid + random), so a lease names exactly one sender.
    owner: String,
    wake: Arc<Notify>,
    reports: mpsc::Sender<OpReport>,
    timing: Timing,
}

impl Worker {
    /// A worker for `source`'s actions on `event`, delivered through
    /// `provider` (built for that event). Call `wake.notify_one()` after each
    /// enqueue. Read `reports` or drop its receiver: a full channel pauses
    /// delivery (backpressure), a closed one is ignored.
    pub fn new(
        store: Arc<Store>,
        source: impl Into<String>,
        event: impl Into<String>,
        provider: Arc<dyn Provider>,
        wake: Arc<Notify>,
        reports: mpsc::Sender<OpReport>,
    ) -> Worker {
        Worker {
            store,
            source: source.into(),
            event: event.into(),
            provider,
            owner: format!("{}-{:016x}", std::process::id(), rand::random::<u64>()),
            wake,
            reports,
            timing: Timing::default(),
        }
    }

    pub fn with_timing(mut self, timing: Timing) -> Worker {
        self.timing = timing;
        self
    }

    /// Delivers forever: the task for a running session. Idle, it sleeps
    /// until woken, until the head action is due, or for `idle_recheck`.
    pub async fn run(self) {
        let mut backoff = self.backoff();
        loop {
            let until = match self.step(&mut backoff).await {
                Next::Now => continue,
                Next::At(at) => at,
                Next::Empty => now_ms().saturating_add(millis(self.timing.idle_recheck)),
            };
            self.sleep_until(until).await;
        }
    }

    /// Delivers until nothing is queued for the source's event (every action
    /// confirmed or failed), including actions other processes are
    /// sending. For `qadeck moderate` without `--no-wait`; read each
    /// action's final state with [`Store::get`] afterwards.
    pub async fn drain(&self) {
        let mut backoff = self.backoff();
        loop {
            match self.step(&mut backoff).await {
                Next::Now => {}
                Next::At(at) => self.sleep_until(at).await,
                Next::Empty => return,
            }
        }
    }

    fn backoff(&self) -> Backoff {
        Backoff::new(self.timing.backoff_base, self.timing.backoff_cap)
    }

    async fn sleep_until(&self, at: Millis) {
        let ms = at.saturating_sub(now_ms()).max(0) as u64;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(ms)) => {}
            _ = self.wake.notified() => {}
        }
    }

    /// Claims the head action and delivers it. The backoff is the source's:
    /// it grows while the platform is unreachable and resets once the
    /// platform answers at all.
    async fn step(&self, backoff: &mut Backoff) -> Next {
        let (source, event) = (self.source.clone(), self.event.clone());
        let owner = self.owner.clone();
        let lease_ms = millis(self.timing.lease);
        let claim = self
            .db(move |s| s.claim_next(&source, &event, &owner, now_ms(), lease_ms))
            .await;
        let row = match claim {
            Ok(Claim::Ready(row)) => row,
            Ok(Claim::Wait(at)) => return Next::At(at),
            Ok(Claim::Empty) => return Next::Empty,
            Err(e) => {
                tracing::warn!(source = %self.source, "outbox claim failed: {e}");
                return Next::At(now_ms().saturating_add(millis(self.timing.backoff_base)));
            }
        };
        let result = self.perform(&row).await;
        let op_id = row.op_id.clone();
        let (source, action) = (self.source.as_str(), row.op.label());
        let report = match result {
            Ok(outcome) => {
                tracing::info!(
                    source,
                    op_id,
                    action,
                    attempts = row.attempts + 1,
                    "outbox: confirmed"
                );
                backoff.reset();
                let summary = summary(&outcome);
                self.record(move |s, owner| s.complete(&op_id, owner, &summary, now_ms()))
                    .await;
                OpReport::Confirmed {
                    op_id: row.op_id,
                    outcome,
                }
            }
            Err(error) if error.is_transient() => {
                let wait = backoff
                    .next_delay()
                    .max(Duration::from_millis(error.retry_after_ms().unwrap_or(0)));
                let reason = error.to_string();
                if let ProviderError::RateLimited { retry_after_ms } = &error {
                    tracing::info!(
                        source,
                        op_id,
                        retry_after_ms,
                        "outbox: rate limited (HTTP 429)"
                    );
                }
                tracing::info!(
                    source,
                    op_id,
                    action,
                    attempt = row.attempts + 1,
                    wait_ms = wait.as_millis() as u64,
                    "outbox: retrying: {reason}"
                );
                let detail = format!("{reason}; next try in {} ms", wait.as_millis());
                self.record(move |s, owner| {
                    let now = now_ms();
                    // One more millisecond: the store's clock is whole
                    // milliseconds, and a retry must never come early.
                    s.retry_later(
                        &op_id,
                        owner,
                        now.saturating_add(millis(wait)).saturating_add(1),
                        &detail,
                        now,
                    )
                })
                .await;
                OpReport::Retrying {
                    op_id: row.op_id,
                    attempt: row.attempts + 1,
                    in_ms: wait.as_millis() as u64,
                    reason: crate::secret::redact(&reason),
                }
            }
            Err(error) => {
                backoff.reset();
                let reason = error.to_string();
                tracing::info!(source, op_id, action, "outbox: failed: {reason}");
                self.record(move |s, owner| s.fail(&op_id, owner, &reason, now_ms()))
                    .await;
                OpReport::Failed {
                    op_id: row.op_id,
                    error,
                }
            }
        };
        // A closed channel only means nobody is listening (headless, or the
        // UI is shutting down); the store holds the truth either way.
        let _ = self.reports.send(report).await;
        Next::Now
    }

    /// Performs the op while keeping its lease alive. An action handed out
    /// before (a failed attempt, but also a lease that expired mid-send or a
    /// process that died before recording the answer) may already have
    /// reached the platform, so it goes through `perform_again`, which looks
    /// before it sends. A panicking provider becomes a permanent failure: the
    /// action is kept for the moderator and the worker goes on.
    async fn perform(&self, row: &OutboxRow) -> ProviderResult<Outcome> {
        let call = if row.claims > 0 || row.attempts > 0 {
            self.provider.perform_again(&row.op, row.created)
        } else {
            self.provider.perform(&row.op)
        };
        let call = AssertUnwindSafe(call).catch_unwind();
        tokio::pin!(call);
        // Renew well before expiry; a zero period would make `interval` panic.
        let every = (self.timing.lease / 3).max(Duration::from_millis(10));
        let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            tokio::select! {
                result = &mut call => {
                    return result.unwrap_or_else(|_| {
                        tracing::error!(op_id = %row.op_id, "provider panicked performing {}", row.op.label());
                        Err(ProviderError::Protocol("internal error in the platform adapter".into()))
                    });
                }
                _ = renew.tick() => self.renew(&row.op_id).await,
            }
        }
    }

    async fn renew(&self, op_id: &str) {
        let (id, owner) = (op_id.to_string(), self.owner.clone());
        let until = now_ms().saturating_add(millis(self.timing.lease));
        match self.db(move |s| s.renew(&id, &owner, until)).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(op_id, "outbox lease lost during a slow call"),
            Err(e) => tracing::warn!(op_id, "outbox lease renewal failed: {e}"),
        }
    }

    /// Records an outcome, retrying store errors: the platform has answered,
    /// and dropping its answer would send the action again later. Gives up
    /// only when the lease is gone (another worker owns the action now).
    async fn record(
        &self,
        f: impl Fn(&Store, &str) -> Result<(), StoreError> + Send + Sync + 'static,
    ) {
        let f = Arc::new(f);
        loop {
            let (f, owner) = (f.clone(), self.owner.clone());
            match self.db(move |s| f(s, &owner)).await {
                Ok(()) => return,
                Err(e @ StoreError::NotLeased(_)) => {
                    tracing::warn!(source = %self.source, "outbox result not recorded: {e}");
                    return;
                }
                Err(e) => {
                    tracing::warn!(source = %self.source, "outbox write failed, retrying: {e}");
                    tokio::time::sleep(self.timing.backoff_base).await;
                }
            }
        }
    }

    /// Runs a store call off the async threads: with other processes on
    /// the file, a transaction may wait for the lock (up to the busy timeout).
    async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .unwrap_or_else(|e| Err(StoreError::Interrupted(e.to_string())))
    }
}

/// A short description of what the platform answered, for the journal.
fn summary(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Question(q) => format!("question {} is {}", q.id, q.status.as_str()),
        Outcome::QuestionGone(id) => format!("question {id} deleted"),
        Outcome::Voted { id, my_vote, votes } => {
            let mine = match my_vote {
                MyVote::None => "none",
                MyVote::Up => "up",
                MyVote::Down => "down",
            };
            format!("question {id}: my vote {mine}, {votes} votes")
        }
        Outcome::Message(m) => format!("message {}", m.id),
        Outcome::MessageGone(id) => format!("message {id} deleted"),
        Outcome::Participant(p) => format!("participant {}", p.id),
        Outcome::ParticipantGone(id) => format!("participant {id} removed"),
        Outcome::Done => "done".into(),
    }
}

fn millis(d: Duration) -> Millis {
    Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
}
