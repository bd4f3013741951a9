//! The outbox end to end: a durable [`Store`], delivery [`Worker`]s and a
//! fake platform that can be down, rate limited, failing or panicking, and
//! that counts every action it applied.

use crate::support::wait_until_async;
use async_trait::async_trait;
use qadeck::domain::{
    Capabilities, EventInfo, Millis, MyVote, Op, OpReport, Outcome, ProviderError, ProviderResult,
    Question, RateBudget, Status,
};
use qadeck::outbox::{Clock, Timing, Worker};
use qadeck::provider::{FeedTx, Provider};
use qadeck::store::{Claim, JournalOutcome, NewOp, OpState, Store};
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

/// A platform in a test. Calls fail while `down`, then with the scripted
/// errors in order; a call that succeeds is recorded in `applied` when it
/// arrives and answered `latency` later (so a call cut off meanwhile has
/// reached the platform, and its answer is lost).
#[derive(Default)]
struct Fake {
    down: AtomicBool,
    script: Mutex<VecDeque<ProviderError>>,
    /// Panics when asked to act on this item.
    panic_on: Option<String>,
    /// Every n-th call answers 503 (0: never).
    fail_every: usize,
    /// These calls (numbered from 1) answer 429 with this `Retry-After`.
    rate_limited: Option<(std::ops::Range<usize>, u64)>,
    /// `perform_again` looks first, as the real providers do: an action the
    /// platform already applied is not applied again.
    converges: bool,
    /// When each call started, and how many were under way then (itself
    /// included).
    calls: Mutex<Vec<(Instant, Op)>>,
    starts: Mutex<Vec<(Instant, usize)>>,
    applied: Mutex<Vec<Op>>,
    /// Targets of the calls that came through `perform_again`.
    again: Mutex<Vec<String>>,
    /// How long an answer takes (on tokio's clock).
    latency: Duration,
    /// How long a call takes to reach the platform, by action (none when
    /// unset): uneven, so a later action could overtake an earlier one.
    travel: Option<fn(&Op) -> Duration>,
    active: AtomicUsize,
    max_active: AtomicUsize,
    /// The budget its headers would report: `remaining` counts down from
    /// this with every answer; the window resets at `budget_reset_s`.
    budget_from: Option<u32>,
    budget_reset_s: i64,
    answered: AtomicUsize,
}

/// Counts a call as under way until it ends, however it ends.
struct Busy<'a>(&'a Fake);

impl<'a> Busy<'a> {
    fn enter(fake: &'a Fake) -> Busy<'a> {
        let now = fake.active.fetch_add(1, Ordering::SeqCst) + 1;
        fake.max_active.fetch_max(now, Ordering::SeqCst);
        fake.starts.lock().unwrap().push((Instant::now(), now));
        Busy(fake)
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Fake {
    fn scripted(errors: impl IntoIterator<Item = ProviderError>) -> Arc<Fake> {
        Arc::new(Fake {
            script: Mutex::new(errors.into_iter().collect()),
            ..Fake::default()
        })
    }

    fn slow(latency: Duration) -> Arc<Fake> {
        Arc::new(Fake {
            latency,
            ..Fake::default()
        })
    }

    fn max_active(&self) -> usize {
        self.max_active.load(Ordering::SeqCst)
    }

    /// What was applied to each item, in the order it was applied.
    fn applied_per_item(&self) -> HashMap<String, Vec<Op>> {
        let mut per: HashMap<String, Vec<Op>> = HashMap::new();
        for op in self.applied.lock().unwrap().iter() {
            per.entry(op.target().unwrap().to_string())
                .or_default()
                .push(op.clone());
        }
        per
    }

    fn applied_targets(&self) -> Vec<String> {
        let applied = self.applied.lock().unwrap();
        applied
            .iter()
            .map(|op| op.target().unwrap().to_string())
            .collect()
    }
}

#[async_trait]
impl Provider for Fake {
    fn capabilities(&self) -> Capabilities {
        Capabilities::none()
    }

    async fn run_feed(&self, _tx: FeedTx) {}

    async fn list_events(&self) -> ProviderResult<Vec<EventInfo>> {
        Ok(Vec::new())
    }

    async fn perform_again(&self, op: &Op, _queued_at: Millis) -> ProviderResult<Outcome> {
        let target = op.target().unwrap_or_default().to_string();
        self.again.lock().unwrap().push(target);
        if self.converges && self.applied.lock().unwrap().contains(op) {
            return Ok(Outcome::Done);
        }
        self.perform(op).await
    }

    fn budget(&self) -> Option<RateBudget> {
        let from = self.budget_from?;
        let answered = self.answered.load(Ordering::SeqCst) as u32;
        Some(RateBudget {
            limit: 600,
            remaining: from.saturating_sub(answered),
            reset: Some(self.budget_reset_s),
        })
    }

    async fn perform(&self, op: &Op) -> ProviderResult<Outcome> {
        let call = {
            let mut calls = self.calls.lock().unwrap();
            calls.push((Instant::now(), op.clone()));
            calls.len()
        };
        let _busy = Busy::enter(self);
        // Give other workers a chance to run in the middle of a call.
        tokio::task::yield_now().await;
        if let Some(travel) = self.travel {
            tokio::time::sleep(travel(op)).await;
        }
        if self.down.load(Ordering::SeqCst) {
            return Err(ProviderError::Network("connection refused".into()));
        }
        if let Some(error) = self.script.lock().unwrap().pop_front() {
            return Err(error);
        }
        if let Some((calls, retry_after_ms)) = &self.rate_limited
            && calls.contains(&call)
        {
            return Err(ProviderError::RateLimited {
                retry_after_ms: *retry_after_ms,
            });
        }
        if self.fail_every > 0 && call % self.fail_every == 0 {
            return Err(ProviderError::Server("503 unavailable".into()));
        }
        if op.target() == self.panic_on.as_deref() {
            panic!("fake provider bug");
        }
        self.applied.lock().unwrap().push(op.clone());
        tokio::time::sleep(self.latency).await;
        self.answered.fetch_add(1, Ordering::SeqCst);
        Ok(Outcome::Done)
    }

    async fn fetch_question(&self, id: &str) -> ProviderResult<Question> {
        Err(ProviderError::NotFound(id.into()))
    }
}

fn fast() -> Timing {
    Timing {
        lease: Duration::from_millis(300),
        backoff_base: Duration::from_millis(5),
        backoff_cap: Duration::from_millis(40),
        idle_recheck: Duration::from_millis(50),
    }
}

fn worker(
    store: &Arc<Store>,
    source: &str,
    fake: &Arc<Fake>,
) -> (Worker, mpsc::Receiver<OpReport>) {
    let (tx, rx) = mpsc::channel(2048);
    let worker = Worker::new(
        store.clone(),
        source,
        "ev",
        fake.clone(),
        Arc::new(Notify::new()),
        tx,
    );
    (worker.with_timing(fast()), rx)
}

/// Approvals for even `n`, vote toggles for odd `n`; the target is unique.
fn action(n: usize, source: &str) -> NewOp {
    let id = format!("{source}-{n}");
    let op = if n.is_multiple_of(2) {
        Op::SetStatus {
            id: id.clone(),
            status: Status::Selected,
        }
    } else {
        Op::Vote {
            id: id.clone(),
            want: MyVote::Up,
        }
    };
    NewOp {
        op_id: format!("op-{id}"),
        source: source.into(),
        event: "ev".into(),
        op,
        actor: "alice".into(),
        created: qadeck::provider::now_ms(),
        note: None,
    }
}

/// Action `n` of a backlog where each question has four in a row: approve,
/// vote up, mark answered, unvote (question `n / 4`).
fn chained(n: usize, source: &str) -> NewOp {
    let id = format!("{source}-q{}", n / 4);
    let op = match n % 4 {
        0 => Op::SetStatus {
            id,
            status: Status::Selected,
        },
        1 => Op::Vote {
            id,
            want: MyVote::Up,
        },
        2 => Op::SetStatus {
            id,
            status: Status::Answered,
        },
        _ => Op::Vote {
            id,
            want: MyVote::None,
        },
    };
    NewOp {
        op_id: format!("op-{source}-{n}"),
        source: source.into(),
        event: "ev".into(),
        op,
        actor: "alice".into(),
        created: qadeck::provider::now_ms(),
        note: None,
    }
}

/// Every question of a [`chained`] backlog of `n` got its four actions
/// once each, in the order they were taken.
fn assert_chains_in_order(fake: &Fake, source: &str, n: usize) {
    let per = fake.applied_per_item();
    assert_eq!(per.len(), n.div_ceil(4), "questions reached");
    for q in 0..n.div_ceil(4) {
        let want: Vec<Op> = (4 * q..(4 * q + 4).min(n))
            .map(|i| chained(i, source).op)
            .collect();
        assert_eq!(per[&format!("{source}-q{q}")], want, "question {q}");
    }
}

/// A clock for the worker that follows tokio's (paused) one from now,
/// when it reads `wall`.
fn paused_clock_from(wall: Millis) -> Clock {
    let start = Instant::now();
    Arc::new(move || wall + start.elapsed().as_millis() as Millis)
}

fn paused_clock() -> Clock {
    paused_clock_from(qadeck::provider::now_ms())
}

/// A worker on the paused clock, with a lease no jump of that clock can
/// outrun while a store call runs on a blocking thread.
fn paused_worker(store: &Arc<Store>, fake: &Arc<Fake>) -> (Worker, mpsc::Receiver<OpReport>) {
    let (worker, rx) = worker(store, "s", fake);
    let timing = Timing {
        lease: Duration::from_secs(600),
        idle_recheck: Duration::from_secs(600),
        ..fast()
    };
    (worker.with_timing(timing).with_clock(paused_clock()), rx)
}

fn drain_reports(rx: &mut mpsc::Receiver<OpReport>) -> Vec<OpReport> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

fn assert_each_applied_once(fake: &Fake, source: &str, n: usize) {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for target in fake.applied_targets() {
        *counts.entry(target).or_default() += 1;
    }
    assert_eq!(counts.len(), n, "distinct actions applied");
    for i in 0..n {
        assert_eq!(counts.get(&format!("{source}-{i}")), Some(&1), "action {i}");
    }
}

#[tokio::test]
async fn one_in_flight_delivers_in_queue_order_per_source() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    for (n, source) in [(0, "a"), (0, "b"), (1, "a"), (2, "a")] {
        store.enqueue(&action(n, source)).unwrap();
    }
    let fake = Arc::new(Fake::default());
    let (worker, mut rx) = worker(&store, "a", &fake);
    worker.with_in_flight(1).drain().await;
    assert_eq!(fake.applied_targets(), ["a-0", "a-1", "a-2"]);
    assert_eq!(
        store.pending(Some("b")).unwrap().len(),
        1,
        "other sources wait for their own worker"
    );
    let confirmed: Vec<String> = drain_reports(&mut rx)
        .into_iter()
        .map(|r| match r {
            OpReport::Confirmed {
                op_id,
                outcome: Outcome::Done,
            } => op_id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(confirmed, ["op-a-0", "op-a-1", "op-a-2"]);
    assert_eq!(store.get("op-a-1").unwrap().unwrap().state, OpState::Done);
}

#[tokio::test]
async fn transient_errors_back_off_then_succeed_once() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    store.enqueue(&action(0, "a")).unwrap();
    let fake = Fake::scripted([
        ProviderError::Network("reset".into()),
        ProviderError::Server("502 bad gateway".into()),
    ]);
    let (worker, mut rx) = worker(&store, "a", &fake);
    worker.drain().await;
    assert_eq!(fake.applied_targets(), ["a-0"]);
    let reports = drain_reports(&mut rx);
    // Full jitter: each wait is at most base * 2^attempt (5 ms, then 10 ms).
    assert!(
        matches!(&reports[..], [
            OpReport::Retrying { attempt: 1, in_ms: 0..=5, .. },
            OpReport::Retrying { attempt: 2, in_ms: 0..=10, reason, .. },
            OpReport::Confirmed { .. },
        ] if reason == "server error: 502 bad gateway"),
        "{reports:?}"
    );
    // Two retries: one journal line counting the second; the final line
    // says how many attempts failed before it.
    let outcomes: Vec<(JournalOutcome, u32)> = store
        .journal(10)
        .unwrap()
        .into_iter()
        .map(|e| (e.outcome, e.retries))
        .collect();
    use JournalOutcome::*;
    assert_eq!(outcomes, [(Queued, 0), (Retrying, 1), (Confirmed, 2)]);
}

#[tokio::test]
async fn rate_limit_waits_at_least_retry_after() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    store.enqueue(&action(0, "a")).unwrap();
    let fake = Fake::scripted([ProviderError::RateLimited {
        retry_after_ms: 300,
    }]);
    let (worker, mut rx) = worker(&store, "a", &fake);
    worker.drain().await;
    let calls = fake.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2);
    assert!(
        calls[1].0 - calls[0].0 >= Duration::from_millis(300),
        "{:?}",
        calls[1].0 - calls[0].0
    );
    assert!(matches!(
        drain_reports(&mut rx)[0],
        OpReport::Retrying { in_ms: 300, .. }
    ));
}

#[tokio::test]
async fn permanent_failure_is_kept_for_retry_or_drop() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    for n in 0..3 {
        store.enqueue(&action(n, "a")).unwrap();
    }
    let fake = Fake::scripted([ProviderError::NotFound("question a-0".into())]);
    let (worker, mut rx) = worker(&store, "a", &fake);
    // One at a time: the scripted refusal meets a-0, the first call.
    let worker = worker.with_in_flight(1);
    worker.drain().await;
    // The failure does not block the rest, and is not silently gone.
    assert_eq!(fake.applied_targets(), ["a-1", "a-2"]);
    let failed = store.failed(Some("a")).unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].last_error.as_deref(),
        Some("not found: question a-0")
    );
    assert!(matches!(
        &drain_reports(&mut rx)[0],
        OpReport::Failed { op_id, error: ProviderError::NotFound(_) } if op_id == "op-a-0"
    ));

    // The moderator retries it: it is delivered.
    store.requeue("op-a-0", "bob", 1).unwrap();
    worker.drain().await;
    assert_eq!(fake.applied_targets(), ["a-1", "a-2", "a-0"]);

    // Another one fails and is dropped: never sent, kept on record.
    store.enqueue(&action(3, "a")).unwrap();
    fake.script
        .lock()
        .unwrap()
        .push_back(ProviderError::Forbidden("missing scope".into()));
    worker.drain().await;
    store.discard("op-a-3", "bob", 2).unwrap();
    worker.drain().await;
    assert_eq!(fake.applied_targets().len(), 3);
    assert!(store.failed(None).unwrap().is_empty());
    let last = store.journal(1).unwrap().remove(0);
    assert_eq!(
        (last.outcome, last.actor.as_str()),
        (JournalOutcome::Dropped, "bob")
    );
}

#[tokio::test]
async fn a_panicking_provider_leaves_the_action_failed_not_lost() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    store.enqueue(&action(0, "a")).unwrap();
    store.enqueue(&action(1, "a")).unwrap();
    let fake = Arc::new(Fake {
        panic_on: Some("a-0".into()),
        ..Fake::default()
    });
    let (worker, _rx) = worker(&store, "a", &fake);
    worker.drain().await;
    assert_eq!(fake.applied_targets(), ["a-1"]);
    let failed = store.failed(None).unwrap();
    assert_eq!(failed[0].op_id, "op-a-0");
}

#[tokio::test]
async fn a_vote_queued_once_is_sent_as_the_same_intent_and_applied_once() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    let vote = action(1, "a");
    store.enqueue(&vote).unwrap();
    store.enqueue(&vote).unwrap();
    let fake = Fake::scripted([ProviderError::Server("500".into())]);
    let (worker, _rx) = worker(&store, "a", &fake);
    worker.drain().await;
    let calls: Vec<Op> = fake
        .calls
        .lock()
        .unwrap()
        .iter()
        .map(|(_, op)| op.clone())
        .collect();
    assert_eq!(calls, [vote.op.clone(), vote.op.clone()]);
    assert_eq!(*fake.applied.lock().unwrap(), [vote.op]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_file_deliver_each_action_exactly_once() {
    const N: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qadeck.db");
    let stores = [
        Arc::new(Store::open(&path).unwrap()),
        Arc::new(Store::open(&path).unwrap()),
    ];
    // Four actions a question, queued by the two processes in turn.
    for n in 0..N {
        stores[n % 2].enqueue(&chained(n, "s")).unwrap();
    }
    // Every 7th call answers 503, so leases are also released and retaken.
    let fake = Arc::new(Fake {
        fail_every: 7,
        ..Fake::default()
    });
    // Leases that outlast a store shared by 16 senders (each commit an
    // fsync): this is about leases keeping each action with one sender,
    // not about their running out (`a_worker_killed_mid_flight_…`).
    let timing = Timing {
        lease: Duration::from_secs(5),
        ..fast()
    };
    let (a, _ra) = worker(&stores[0], "s", &fake);
    let (b, _rb) = worker(&stores[1], "s", &fake);
    let (a, b) = (a.with_timing(timing.clone()), b.with_timing(timing));
    tokio::join!(a.drain(), b.drain());
    assert_eq!(fake.applied.lock().unwrap().len(), N, "each action once");
    // Each question's actions in the order taken, across the two processes.
    assert_chains_in_order(&fake, "s", N);
    assert!(fake.max_active() > 1, "the pipelines overlapped");
    assert!(stores[0].pending(None).unwrap().is_empty());
}

/// The child half of the kill -9 test: takes 1,000 actions while the platform
/// is down, delivering (and failing) all the time, until it is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by kill_9_while_down_then_restart_delivers_everything_once"]
async fn kill_9_child() {
    let Ok(path) = std::env::var("QADECK_KILL9_STORE") else {
        return;
    };
    let store = Arc::new(Store::open(Path::new(&path)).unwrap());
    let fake = Arc::new(Fake::default());
    fake.down.store(true, Ordering::SeqCst);
    let wake = Arc::new(Notify::new());
    // Nobody reads reports here: drop the receiver so sends never block.
    let (tx, _) = mpsc::channel(1);
    let worker =
        Worker::new(store.clone(), "s", "ev", fake.clone(), wake.clone(), tx).with_timing(fast());
    tokio::spawn(worker.run());
    for n in 0..1000 {
        store.enqueue(&action(n, "s")).unwrap();
        wake.notify_one();
    }
    std::future::pending::<()>().await;
}

/// Never leaves the child running when the test fails.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn kill_9_while_down_then_restart_delivers_everything_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qadeck.db");
    let store = Arc::new(Store::open(&path).unwrap());
    let mut child = KillOnDrop(
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "outbox::kill_9_child", "--ignored", "--quiet"])
            .env("QADECK_KILL9_STORE", &path)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Wait until all 1,000 are queued and delivery has been failing a while.
    let queued = wait_until_async(Duration::from_secs(60), || {
        let retries = store
            .journal(5000)
            .unwrap()
            .iter()
            .filter(|e| e.outcome == JournalOutcome::Retrying)
            .map(|e| 1 + e.retries as usize)
            .sum::<usize>();
        store.pending(None).unwrap().len() == 1000 && retries >= 3
    })
    .await;
    assert!(queued, "child never queued 1,000 actions");
    child.0.kill().unwrap(); // SIGKILL on Unix
    child.0.wait().unwrap();

    // "Restart": a fresh handle, as a new process would open it.
    drop(store);
    let store = Arc::new(Store::open(&path).unwrap());
    let fake = Arc::new(Fake::default());
    let (worker, _rx) = worker(&store, "s", &fake);
    worker.drain().await;
    assert_each_applied_once(&fake, "s", 1000);
    let confirmed = store
        .journal(10_000)
        .unwrap()
        .iter()
        .filter(|e| e.outcome == JournalOutcome::Confirmed)
        .count();
    assert_eq!(confirmed, 1000);
}

#[tokio::test]
async fn an_action_claimed_before_goes_through_perform_again() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    let fake = Arc::new(Fake::default());
    store.enqueue(&action(0, "a")).unwrap();
    store.enqueue(&action(2, "a")).unwrap();
    // A process took a-0 and died before it recorded anything: no failed
    // attempt on record, yet the platform may have it.
    assert!(matches!(
        store
            .claim("a", "ev", "dead", qadeck::provider::now_ms, 1, 1)
            .unwrap(),
        Claim::Ready(_)
    ));
    let (worker, _rx) = worker(&store, "a", &fake);
    worker.drain().await;
    let mut applied = fake.applied_targets();
    applied.sort();
    assert_eq!(applied, ["a-0", "a-2"]);
    assert_eq!(*fake.again.lock().unwrap(), ["a-0"]);
}

/// Distinct questions: approvals and votes that may all overlap.
fn backlog(store: &Store, n: usize) {
    for i in 0..n {
        store.enqueue(&action(i, "s")).unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn n_actions_are_in_flight_at_once_against_a_slow_platform() {
    for (in_flight, want) in [(None, 8), (Some(3), 3), (Some(1), 1)] {
        let store = Arc::new(Store::open_in_memory().unwrap());
        backlog(&store, 40);
        let fake = Fake::slow(Duration::from_millis(100));
        let (worker, _rx) = paused_worker(&store, &fake);
        let worker = match in_flight {
            Some(n) => worker.with_in_flight(n),
            None => worker,
        };
        let start = Instant::now();
        worker.drain().await;
        assert_eq!(fake.max_active(), want, "in_flight {in_flight:?}");
        assert_each_applied_once(&fake, "s", 40);
        // 40 calls of 100 ms, `want` at a time (on the paused clock).
        let rounds = 40u32.div_ceil(want as u32);
        assert!(
            start.elapsed() < Duration::from_millis(100) * (rounds + 2),
            "in_flight {in_flight:?}: {:?}",
            start.elapsed()
        );
    }
}

#[tokio::test(start_paused = true)]
async fn each_items_actions_keep_their_order_under_concurrency() {
    /// Approvals travel slowly, votes fast, varied by question: without
    /// ordering, a question's vote would reach the platform before its
    /// approve.
    fn uneven(op: &Op) -> Duration {
        let q: u64 = op
            .target()
            .unwrap()
            .trim_start_matches("s-q")
            .parse()
            .unwrap();
        Duration::from_millis(match op {
            Op::SetStatus { .. } => 150 + 37 * (q % 5),
            _ => 10 + 13 * (q % 3),
        })
    }
    const N: usize = 120;
    let store = Arc::new(Store::open_in_memory().unwrap());
    for n in 0..N {
        store.enqueue(&chained(n, "s")).unwrap();
    }
    let fake = Arc::new(Fake {
        travel: Some(uneven),
        ..Fake::default()
    });
    let (worker, _rx) = paused_worker(&store, &fake);
    worker.drain().await;
    assert_chains_in_order(&fake, "s", N);
    assert_eq!(fake.max_active(), 8, "different questions overlapped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_flight_is_taken_over_and_each_action_lands_once() {
    const N: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qadeck.db");
    // Two handles on one file: two processes.
    let (first, second) = (
        Arc::new(Store::open(&path).unwrap()),
        Arc::new(Store::open(&path).unwrap()),
    );
    for n in 0..N {
        first.enqueue(&chained(n, "s")).unwrap();
    }
    // The platform applies each call as it arrives and answers 2 s later:
    // the first worker dies with 8 applied and none answered.
    let fake = Arc::new(Fake {
        latency: Duration::from_secs(2),
        converges: true,
        ..Fake::default()
    });
    let (doomed, _ra) = worker(&first, "s", &fake);
    let task = tokio::spawn(doomed.run());
    let full = wait_until_async(Duration::from_secs(10), || {
        fake.applied.lock().unwrap().len() == 8
    })
    .await;
    assert!(full, "the first worker never had 8 on the wire");
    task.abort();
    let _ = task.await;
    let cut_off = wait_until_async(Duration::from_secs(10), || {
        fake.active.load(Ordering::SeqCst) == 0
    })
    .await;
    assert!(cut_off, "its calls go with it");
    let on_the_wire: Vec<Op> = fake.applied.lock().unwrap().clone();
    assert_eq!(on_the_wire.len(), 8);
    // Nothing was recorded: all of them are still queued, and leased.
    assert_eq!(first.pending(None).unwrap().len(), N);

    // Another worker takes over: after the leases, the 8 go through
    // `perform_again` (which finds them applied), the rest through `perform`.
    let fake_now = Fake {
        latency: Duration::from_millis(20),
        converges: true,
        ..Fake::default()
    };
    *fake_now.applied.lock().unwrap() = on_the_wire.clone();
    let fake_now = Arc::new(fake_now);
    let (taker, _rb) = worker(&second, "s", &fake_now);
    taker.drain().await;
    assert_eq!(
        fake_now.applied.lock().unwrap().len(),
        N,
        "each action once"
    );
    assert_chains_in_order(&fake_now, "s", N);
    let mut again = fake_now.again.lock().unwrap().clone();
    let mut wire: Vec<String> = on_the_wire
        .iter()
        .map(|op| op.target().unwrap().to_string())
        .collect();
    again.sort();
    wire.sort();
    assert_eq!(
        again, wire,
        "exactly the actions on the wire were looked up"
    );
    assert!(second.pending(None).unwrap().is_empty());
    let confirmed = second
        .journal(1000)
        .unwrap()
        .iter()
        .filter(|e| e.outcome == JournalOutcome::Confirmed)
        .count();
    assert_eq!(confirmed, N);
}

#[tokio::test(start_paused = true)]
async fn a_429_pauses_the_whole_pipeline_then_one_probes() {
    const N: usize = 40;
    let store = Arc::new(Store::open_in_memory().unwrap());
    backlog(&store, N);
    let fake = Arc::new(Fake {
        latency: Duration::from_millis(100),
        rate_limited: Some((12..13, 2_000)),
        ..Fake::default()
    });
    let (worker, mut rx) = paused_worker(&store, &fake);
    worker.drain().await;
    assert_each_applied_once(&fake, "s", N);
    let starts = fake.starts.lock().unwrap().clone();
    let limited_at = starts[11].0;
    let after: Vec<(Instant, usize)> = starts
        .iter()
        .copied()
        .filter(|(at, _)| *at > limited_at)
        .collect();
    // The calls already on the wire with it finish, but nothing new starts
    // for the source until `Retry-After` has passed...
    let first_after = after.first().unwrap().0;
    assert!(
        first_after >= limited_at + Duration::from_millis(2_000),
        "a call {:?} after the 429",
        first_after - limited_at
    );
    // ...then one goes alone, and once it is answered all 8 again.
    assert_eq!(after[0].1, 1, "the probe flies alone");
    assert!(after[1].0 >= after[0].0 + Duration::from_millis(100));
    assert_eq!(after.iter().map(|(_, n)| *n).max(), Some(8));
    let reports = drain_reports(&mut rx);
    assert!(
        reports
            .iter()
            .any(|r| matches!(r, OpReport::Retrying { in_ms: 2_000.., .. })),
        "{reports:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_low_budget_means_fewer_in_flight_and_none_when_spent() {
    const N: usize = 60;
    let store = Arc::new(Store::open_in_memory().unwrap());
    backlog(&store, N);
    let wall = qadeck::provider::now_ms();
    // 40 requests left of 600 until the window resets in about 10 s.
    let reset_s = wall / 1000 + 10;
    let reset_in = Duration::from_millis((reset_s * 1000 - wall) as u64);
    let fake = Arc::new(Fake {
        latency: Duration::from_millis(100),
        budget_from: Some(40),
        budget_reset_s: reset_s,
        ..Fake::default()
    });
    let (worker, _rx) = paused_worker(&store, &fake);
    let start = Instant::now();
    worker.with_clock(paused_clock_from(wall)).drain().await;
    assert_each_applied_once(&fake, "s", N);
    let starts = fake.starts.lock().unwrap().clone();
    let (before, after): (Vec<_>, Vec<_>) =
        starts.iter().partition(|(at, _)| *at < start + reset_in);
    // Never more requests than remain, and fewer at once as they run out
    // (a tenth of the limit is 60: 40 left allows 6, not 8).
    assert_eq!(before.len(), 40, "as many as the budget had");
    assert_eq!(before.iter().map(|(_, n)| *n).max(), Some(6));
    let last_few = &before[34..];
    assert!(last_few.iter().all(|(_, n)| *n <= 2), "{last_few:?}");
    // A new window: the whole pipeline again.
    assert_eq!(after.iter().map(|(_, n)| *n).max(), Some(8));
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_429s_is_one_round_of_the_backoff() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    backlog(&store, 24);
    // The whole second batch meets a 429; the backoff is the real one (1 s
    // doubling to 30 s), so counting each answer as a round would pause
    // the source for many seconds.
    let fake = Arc::new(Fake {
        latency: Duration::from_millis(100),
        rate_limited: Some((9..17, 2_000)),
        ..Fake::default()
    });
    let (worker, _rx) = paused_worker(&store, &fake);
    let worker = worker.with_timing(Timing {
        lease: Duration::from_secs(600),
        idle_recheck: Duration::from_secs(600),
        ..Timing::default()
    });
    worker.drain().await;
    assert_each_applied_once(&fake, "s", 24);
    let starts = fake.starts.lock().unwrap().clone();
    let limited_at = starts[15].0;
    let next = starts[16].0;
    assert!(
        next >= limited_at + Duration::from_millis(2_000)
            && next <= limited_at + Duration::from_millis(2_100),
        "the source paused {:?}",
        next - limited_at
    );
}
