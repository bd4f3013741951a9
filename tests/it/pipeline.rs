//! Pipelined delivery with the real PostoBox provider against its fake:
//! several requests on the wire at once, each action once, and the pace of
//! the platform's `X-RateLimit-*` headers.

use crate::support::postobox_fake::{FakeConfig, FakePostobox, Plan};
use qadeck::domain::{Moderator, MyVote, Op, SourceId, Status};
use qadeck::outbox::{Timing, Worker};
use qadeck::provider::postobox::{Postobox, Settings};
use qadeck::provider::{BuildCtx, Provider};
use qadeck::store::{NewOp, OpState, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc};

const IDENTIFIER: &str = "qadeck-pipeline-test";

fn provider(fake: &FakePostobox, event: &str) -> Arc<dyn Provider> {
    let mut s = Settings::new("keynote");
    s.api_key = Some(fake.api_key());
    s.base_url = fake.base_url();
    s.event = Some(event.into());
    let ctx = BuildCtx {
        source: SourceId(0),
        moderator: Moderator {
            identifier: IDENTIFIER.into(),
            name: "Tess".into(),
        },
        event: None,
    };
    Arc::new(Postobox::new(&s, &ctx).expect("builds"))
}

/// An approve and a vote for each question, in that order.
fn approve_and_vote(store: &Store, event: &str, ids: &[String]) {
    for (i, id) in ids.iter().enumerate() {
        let ops = [
            Op::SetStatus {
                id: id.clone(),
                status: Status::Selected,
            },
            Op::Vote {
                id: id.clone(),
                want: MyVote::Up,
            },
        ];
        for (k, op) in ops.into_iter().enumerate() {
            store
                .enqueue(&NewOp {
                    op_id: format!("op-{i}-{k}"),
                    source: "keynote".into(),
                    event: event.into(),
                    op,
                    actor: "tess".into(),
                    created: qadeck::provider::now_ms(),
                    note: None,
                })
                .unwrap();
        }
    }
}

fn worker(store: &Arc<Store>, event: &str, provider: Arc<dyn Provider>) -> Worker {
    // Nobody reads the reports: a closed channel is ignored.
    let (tx, _) = mpsc::channel(1);
    Worker::new(
        store.clone(),
        "keynote",
        event,
        provider,
        Arc::new(Notify::new()),
        tx,
    )
    .with_timing(Timing {
        lease: Duration::from_secs(10),
        backoff_base: Duration::from_millis(20),
        backoff_cap: Duration::from_millis(200),
        idle_recheck: Duration::from_millis(100),
    })
}

/// Every question was approved once and voted once (a 429 applies
/// nothing), the vote after the approval, and nothing is left queued.
fn assert_each_once(fake: &FakePostobox, store: &Store, event: &str, ids: &[String]) {
    let applied: Vec<(String, String)> = fake
        .requests()
        .into_iter()
        .filter(|r| r.status == 200)
        .map(|r| (r.path, r.method))
        .collect();
    for id in ids {
        let mine: Vec<&str> = applied
            .iter()
            .filter(|(p, _)| p.split('/').nth(4) == Some(id.as_str()))
            .map(|(_, m)| m.as_str())
            .collect();
        assert_eq!(mine, ["PATCH", "POST"], "question {id}: approve, then vote");
        let q = fake.question(event, id).unwrap();
        assert_eq!(q.status, "SELECTED");
        assert!(q.voters.contains(IDENTIFIER));
    }
    assert!(store.pending(None).unwrap().is_empty());
    assert!(store.failed(None).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_go_out_in_flight_at_once_against_a_slow_server() {
    for (in_flight, want) in [(None, 8), (Some(3), 3)] {
        let fake = FakePostobox::start(FakeConfig {
            plan: Plan::Enterprise,
            latency: Duration::from_millis(150),
            ..FakeConfig::fast()
        })
        .await;
        let ev = fake.add_event("Keynote");
        let ids = fake.add_questions(&ev, 24);
        let store = Arc::new(Store::open_in_memory().unwrap());
        approve_and_vote(&store, &ev, &ids);
        let worker = worker(&store, &ev, provider(&fake, &ev));
        let worker = match in_flight {
            Some(n) => worker.with_in_flight(n),
            None => worker,
        };
        worker.drain().await;
        assert_eq!(
            fake.counters().max_in_flight,
            want,
            "in_flight {in_flight:?}"
        );
        assert_each_once(&fake, &store, &ev, &ids);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pace_follows_the_rate_limit_headers() {
    // 5 requests a second: only the first, blind batch can meet a 429;
    // after it the headers say how many remain and when the window resets.
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Enterprise,
        rate_limit: Some(5),
        rate_window: Duration::from_secs(1),
        latency: Duration::from_millis(20),
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 10);
    let store = Arc::new(Store::open_in_memory().unwrap());
    approve_and_vote(&store, &ev, &ids);
    worker(&store, &ev, provider(&fake, &ev)).drain().await;
    assert_each_once(&fake, &store, &ev, &ids);
    let counters = fake.counters();
    assert!(
        counters.rate_limited <= 3,
        "429s after the first batch: {counters:?}"
    );
    for n in 0..20 {
        let done = store.get(&format!("op-{}-{}", n / 2, n % 2)).unwrap();
        assert_eq!(done.unwrap().state, OpState::Done);
    }
}
