//! The outbox end to end: a durable [`Store`], delivery [`Worker`]s and a
//! fake platform that can be down, rate limited, failing or panicking, and
//! that counts every action it applied.

use crate::support::wait_until_async;
use async_trait::async_trait;
use qadeck::domain::{
    Capabilities, EventInfo, Millis, MyVote, Op, OpReport, Outcome, ProviderError, ProviderResult,
    Question, Status,
};
use qadeck::outbox::{Timing, Worker};
use qadeck::provider::{FeedTx, Provider};
use qadeck::store::{Claim, JournalOutcome, NewOp, OpState, Store};
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc};

/// A platform in a test. Calls fail while `down`, then with the scripted
/// errors in order; a call that succeeds is recorded in `applied`.
#[derive(Default)]
struct Fake {
    down: AtomicBool,
    script: Mutex<VecDeque<ProviderError>>,
    /// Panics when asked to act on this item.
    panic_on: Option<String>,
    /// Every n-th call answers 503 (0: never).
    fail_every: usize,
    calls: Mutex<Vec<(Instant, Op)>>,
    applied: Mutex<Vec<Op>>,
    /// Targets of the calls that came through `perform_again`.
    again: Mutex<Vec<String>>,
}

impl Fake {
    fn scripted(errors: impl IntoIterator<Item = ProviderError>) -> Arc<Fake> {
        Arc::new(Fake {
            script: Mutex::new(errors.into_iter().collect()),
            ..Fake::default()
        })
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
        self.perform(op).await
    }

    async fn perform(&self, op: &Op) -> ProviderResult<Outcome> {
        let call = {
            let mut calls = self.calls.lock().unwrap();
            calls.push((Instant::now(), op.clone()));
            calls.len()
        };
        // Give other workers a chance to run in the middle of a call.
        tokio::task::yield_now().await;
        if self.down.load(Ordering::SeqCst) {
            return Err(ProviderError::Network("connection refused".into()));
        }
        if let Some(error) = self.script.lock().unwrap().pop_front() {
            return Err(error);
        }
        if self.fail_every > 0 && call % self.fail_every == 0 {
            return Err(ProviderError::Server("503 unavailable".into()));
        }
        if op.target() == self.panic_on.as_deref() {
            panic!("fake provider bug");
        }
        self.applied.lock().unwrap().push(op.clone());
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
async fn delivers_in_order_per_source() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    for (n, source) in [(0, "a"), (0, "b"), (1, "a"), (2, "a")] {
        store.enqueue(&action(n, source)).unwrap();
    }
    let fake = Arc::new(Fake::default());
    let (worker, mut rx) = worker(&store, "a", &fake);
    worker.drain().await;
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
    for n in 0..N {
        stores[n % 2].enqueue(&action(n, "s")).unwrap();
    }
    // Every 7th call answers 503, so leases are also released and retaken.
    let fake = Arc::new(Fake {
        fail_every: 7,
        ..Fake::default()
    });
    let (a, _ra) = worker(&stores[0], "s", &fake);
    let (b, _rb) = worker(&stores[1], "s", &fake);
    tokio::join!(a.drain(), b.drain());
    assert_each_applied_once(&fake, "s", N);
    // Strict FIFO holds across the two processes.
    let expected: Vec<String> = (0..N).map(|n| format!("s-{n}")).collect();
    assert_eq!(fake.applied_targets(), expected);
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
            .claim_next("a", "ev", "dead", qadeck::provider::now_ms(), 1)
            .unwrap(),
        Claim::Ready(_)
    ));
    let (worker, _rx) = worker(&store, "a", &fake);
    worker.drain().await;
    assert_eq!(fake.applied_targets(), ["a-0", "a-2"]);
    assert_eq!(*fake.again.lock().unwrap(), ["a-0"]);
}
