//! Delivery of queued actions from the durable store to providers.
//!
//! One [`Worker`] per source and event keeps up to `in_flight` actions on
//! the wire (default [`IN_FLIGHT_DEFAULT`]): it leases the heads of that
//! queue's chains in the [`Store`] (one chain per question, one for chat,
//! …; see [`Op::order_key`](crate::domain::Op::order_key)), performs each
//! in its own task, and records each result as it comes. Actions on one
//! item keep their order (an approve and then a reject of one question
//! never swap); actions on different items overlap, so a backlog drains at
//! the platform's pace rather than one round trip at a time. The pace
//! follows the platform ([`pace`]): fewer in flight when its rate budget
//! runs low, and a 429 pauses the whole pipeline. A worker is bound to the
//! event its provider was built for, so an action taken on event A is
//! never sent to event B: it waits until a worker for A runs. The same
//! [`Op`](crate::domain::Op) value is sent on every attempt, so a retry can
//! never turn into a different intent; providers make each op converge (a
//! vote toggle checks the current vote first). Any number of workers, in
//! any number of processes, may run for one source: leases make sure one
//! action is sent by one of them at a time.

mod pace;

use crate::domain::{
    IN_FLIGHT_DEFAULT, Millis, MyVote, OpReport, Outcome, ProviderError, ProviderResult,
};
use crate::provider::http::Backoff;
use crate::provider::{Provider, now_ms};
use crate::store::{Claim, OutboxRow, Store, StoreError};
use futures::FutureExt;
use pace::{Allow, Pace};
use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;

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

/// Where the worker reads the time for leases, backoff and pauses, in Unix
/// ms. The wall clock by default: leases are compared across processes.
pub type Clock = Arc<dyn Fn() -> Millis + Send + Sync>;

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
    in_flight: usize,
    clock: Clock,
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
            in_flight: IN_FLIGHT_DEFAULT,
            clock: Arc::new(now_ms),
        }
    }

    pub fn with_timing(mut self, timing: Timing) -> Worker {
        self.timing = timing;
        self
    }

    /// At most `n` actions on the wire at once (at least one; `[delivery]
    /// in_flight`). One sends strictly in queue order.
    pub fn with_in_flight(mut self, n: usize) -> Worker {
        self.in_flight = n.max(1);
        self
    }

    /// Replaces the clock (tests on tokio's paused clock pass one that
    /// follows it).
    pub fn with_clock(mut self, clock: Clock) -> Worker {
        self.clock = clock;
        self
    }

    /// Delivers forever: the task for a running session. Idle, it sleeps
    /// until woken, until the next action is due, or for `idle_recheck`.
    pub async fn run(self) {
        self.deliver(true).await;
    }

    /// Delivers until nothing is queued for the source's event (every action
    /// confirmed or failed), including actions other processes are
    /// sending. For `qadeck moderate` without `--no-wait`; read each
    /// action's final state with [`Store::get`] afterwards.
    pub async fn drain(&self) {
        self.deliver(false).await;
    }

    /// The pipeline: keeps it as full as the pace allows. An answer frees
    /// its slot at once and steers the pace before anything else is sent;
    /// its result is written by a task of its own, so the next call does
    /// not wait for the store. Returns (draining) when nothing is queued,
    /// on the wire or being recorded.
    async fn deliver(&self, forever: bool) {
        let crew = Arc::new(Crew {
            store: self.store.clone(),
            source: self.source.clone(),
            provider: self.provider.clone(),
            owner: self.owner.clone(),
            reports: self.reports.clone(),
            timing: self.timing.clone(),
            clock: self.clock.clone(),
            health: Mutex::new(Health {
                pace: Pace::new(self.in_flight),
                backoff: Backoff::new(self.timing.backoff_base, self.timing.backoff_cap),
            }),
        });
        // Dropped with the worker (a session ending): the calls on the wire
        // and the results being written are abandoned like in a crash, and
        // their leases run out.
        let mut calls: JoinSet<Answered> = JoinSet::new();
        let mut records: JoinSet<String> = JoinSet::new();
        // The actions on the wire or being recorded: one whose lease ran out
        // during a stall comes back from a claim, and must not be sent a
        // second time.
        let mut flying: HashSet<String> = HashSet::new();
        loop {
            let now = crew.now();
            let mut look_again = None;
            let mut empty = false;
            let budget = self.provider.budget();
            let (allow, epoch) = {
                let health = crew.health();
                (health.pace.allow(now, budget), health.pace.epoch())
            };
            match allow {
                Allow::At(at) => look_again = Some(at),
                Allow::Up(cap) if calls.len() < cap => match self.claim(cap - calls.len()).await {
                    Ok(Claim::Ready(rows)) => {
                        for row in rows {
                            if flying.insert(row.op_id.clone()) {
                                calls.spawn(crew.clone().call(row, epoch));
                            }
                        }
                    }
                    Ok(Claim::Wait(at)) => look_again = Some(at),
                    Ok(Claim::Empty) => empty = true,
                    Err(e) => {
                        tracing::warn!(source = %self.source, "outbox claim failed: {e}");
                        look_again = Some(now.saturating_add(millis(self.timing.backoff_base)));
                    }
                },
                Allow::Up(_) => {}
            }
            if empty && flying.is_empty() && !forever {
                return;
            }
            let until =
                look_again.unwrap_or_else(|| now.saturating_add(millis(self.timing.idle_recheck)));
            let sleep = Duration::from_millis(until.saturating_sub(now).max(0) as u64);
            // The tasks end with their ids: a provider's panic is caught in
            // the call, and only dropping the worker aborts them.
            tokio::select! {
                Some(Ok(answered)) = calls.join_next() => {
                    let (op_id, verdict) = crew.judge(answered);
                    records.spawn(crew.clone().finish(op_id, verdict));
                }
                Some(Ok(op_id)) = records.join_next() => {
                    flying.remove(&op_id);
                }
                _ = tokio::time::sleep(sleep) => {}
                _ = self.wake.notified() => {}
            }
        }
    }

    async fn claim(&self, max: usize) -> Result<Claim, StoreError> {
        let (source, event, owner) = (self.source.clone(), self.event.clone(), self.owner.clone());
        let (lease_ms, clock) = (millis(self.timing.lease), self.clock.clone());
        db(&self.store, move |s| {
            s.claim(&source, &event, &owner, &*clock, lease_ms, max)
        })
        .await
    }
}

/// A call that came back: the action, what the platform said, and the
/// pace's epoch when it was claimed.
type Answered = (OutboxRow, ProviderResult<Outcome>, u64);

/// What to write for an answer, and what to report.
struct Verdict {
    write: Write,
    report: OpReport,
}

enum Write {
    Complete(String),
    Retry { not_before: Millis, detail: String },
    Fail(String),
}

/// The pace and the backoff, shared by a worker's actions in flight.
struct Health {
    pace: Pace,
    backoff: Backoff,
}

/// What the tasks of one worker's actions share.
struct Crew {
    store: Arc<Store>,
    source: String,
    provider: Arc<dyn Provider>,
    owner: String,
    reports: mpsc::Sender<OpReport>,
    timing: Timing,
    clock: Clock,
    health: Mutex<Health>,
}

impl Crew {
    fn now(&self) -> Millis {
        (self.clock)()
    }

    /// Never held across an await; a panic cannot leave it half-changed.
    fn health(&self) -> MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One action's call: performed while its lease is kept alive.
    /// `epoch` is the pace's when the action was claimed.
    async fn call(self: Arc<Crew>, row: OutboxRow, epoch: u64) -> Answered {
        let result = self.perform(&row).await;
        (row, result, epoch)
    }

    /// Performs the op while keeping its lease alive. An action handed out
    /// before (a failed attempt, but also a lease that expired mid-send or a
    /// process that died before recording the answer) may already have
    /// reached the platform, so it goes through `perform_again`, which looks
    /// before it sends. A panicking provider becomes a permanent failure:
    /// the action is kept for the moderator and the worker goes on.
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
        let until = self.now().saturating_add(millis(self.timing.lease));
        match db(&self.store, move |s| s.renew(&id, &owner, until)).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(op_id, "outbox lease lost during a slow call"),
            Err(e) => tracing::warn!(op_id, "outbox lease renewal failed: {e}"),
        }
    }

    /// Lets one answer steer the pace (at once: a 429 or a failing
    /// platform pauses the pipeline before anything else goes out) and
    /// says what to record and report.
    fn judge(&self, (row, result, epoch): Answered) -> (String, Verdict) {
        let op_id = row.op_id.as_str();
        let (source, action) = (self.source.as_str(), row.op.label());
        let verdict = match result {
            Ok(outcome) => {
                tracing::info!(
                    source,
                    op_id,
                    action,
                    attempts = row.attempts + 1,
                    "outbox: confirmed"
                );
                self.answered(epoch);
                Verdict {
                    write: Write::Complete(summary(&outcome)),
                    report: OpReport::Confirmed {
                        op_id: row.op_id.clone(),
                        outcome,
                    },
                }
            }
            Err(error) if error.is_transient() => {
                let retry_after = Duration::from_millis(error.retry_after_ms().unwrap_or(0));
                // One more millisecond: the store's clock is whole
                // milliseconds, and a retry must never come early.
                let (wait, not_before) = {
                    let mut health = self.health();
                    let now = self.now();
                    // A call already on the wire when an earlier failure
                    // paused the source belongs to that round: it waits
                    // with it, and the backoff grows once per round.
                    let round = if epoch == health.pace.epoch() {
                        health.backoff.next_delay()
                    } else {
                        Duration::from_millis(
                            health.pace.resume_at().saturating_sub(now).max(0) as u64
                        )
                    };
                    let wait = round.max(retry_after);
                    let not_before = now.saturating_add(millis(wait)).saturating_add(1);
                    health.pace.pause(not_before);
                    (wait, not_before)
                };
                let reason = error.to_string();
                if let ProviderError::RateLimited { retry_after_ms } = &error {
                    tracing::info!(
                        source,
                        op_id,
                        retry_after_ms,
                        "outbox: rate limited (HTTP 429); the source pauses"
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
                Verdict {
                    write: Write::Retry {
                        not_before,
                        detail: format!("{reason}; next try in {} ms", wait.as_millis()),
                    },
                    report: OpReport::Retrying {
                        op_id: row.op_id.clone(),
                        attempt: row.attempts + 1,
                        in_ms: wait.as_millis() as u64,
                        reason: crate::secret::redact(&reason),
                    },
                }
            }
            Err(error) => {
                self.answered(epoch);
                let reason = error.to_string();
                tracing::info!(source, op_id, action, "outbox: failed: {reason}");
                Verdict {
                    write: Write::Fail(reason),
                    report: OpReport::Failed {
                        op_id: row.op_id.clone(),
                        error,
                    },
                }
            }
        };
        (row.op_id, verdict)
    }

    /// Records an answer (the action's lease still holds) and reports it.
    /// Returns the action's id.
    async fn finish(self: Arc<Crew>, op_id: String, verdict: Verdict) -> String {
        let id = op_id.clone();
        match verdict.write {
            Write::Complete(summary) => {
                self.record(move |s, owner, now| s.complete(&id, owner, &summary, now))
                    .await;
            }
            Write::Retry { not_before, detail } => {
                self.record(move |s, owner, now| {
                    s.retry_later(&id, owner, not_before, &detail, now)
                })
                .await;
            }
            Write::Fail(reason) => {
                self.record(move |s, owner, now| s.fail(&id, owner, &reason, now))
                    .await;
            }
        }
        // A closed channel only means nobody is listening (headless, or the
        // UI is shutting down); the store holds the truth either way.
        let _ = self.reports.send(verdict.report).await;
        op_id
    }

    /// The platform answered at all: the backoff starts over.
    fn answered(&self, epoch: u64) {
        let mut health = self.health();
        health.backoff.reset();
        health.pace.answered(epoch);
    }

    /// Records an outcome, retrying store errors: the platform has answered,
    /// and dropping its answer would send the action again later. Gives up
    /// only when the lease is gone (another worker owns the action now).
    async fn record(
        &self,
        f: impl Fn(&Store, &str, Millis) -> Result<(), StoreError> + Send + Sync + 'static,
    ) {
        let f = Arc::new(f);
        loop {
            let (f, owner, clock) = (f.clone(), self.owner.clone(), self.clock.clone());
            match db(&self.store, move |s| f(s, &owner, clock())).await {
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
}

/// Runs a store call off the async threads: with other processes on the
/// file, a transaction may wait for the lock (up to the busy timeout).
async fn db<T: Send + 'static>(
    store: &Arc<Store>,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .unwrap_or_else(|e| Err(StoreError::Interrupted(e.to_string())))
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
