//! The PostoBox provider against the in-process fake (`support::postobox_fake`).
//! Every wait is bounded; timings are shortened through `Timing`.

use crate::support::postobox_fake::{
    ALL_SCOPES, ANSWERED, DEFAULT, FakeConfig, FakePostobox, NewQuestion, Plan, REJECTED, SELECTED,
};
use qadeck::domain::{
    Connection, Delivery, Feed, Moderator, MyVote, Op, Outcome, ProviderError, Question,
    SourceFeed, SourceId, Status,
};
use qadeck::provider::postobox::{PollPolicy, Postobox, Settings, Timing};
use qadeck::provider::{BuildCtx, FeedTx, Provider};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

const IDENTIFIER: &str = "qadeck-test-moderator";

fn fast_timing() -> Timing {
    Timing {
        liveness: Duration::from_millis(2000),
        reconnect_base: Duration::from_millis(50),
        reconnect_cap: Duration::from_millis(300),
        healthy_after: Duration::from_secs(60),
        failed_retry: Duration::from_millis(200),
        active_window: Duration::from_secs(60),
        poll: PollPolicy {
            active: Duration::from_millis(150),
            idle: Duration::from_millis(150),
            min: Duration::from_millis(50),
            ..PollPolicy::default()
        },
    }
}

fn settings(fake: &FakePostobox, event: Option<&str>) -> Settings {
    let mut s = Settings::new("keynote");
    s.api_key = Some(fake.api_key());
    s.base_url = fake.base_url();
    s.event = event.map(str::to_string);
    s
}

fn ctx() -> BuildCtx {
    BuildCtx {
        source: SourceId(0),
        moderator: Moderator {
            identifier: IDENTIFIER.into(),
            name: "Tess".into(),
        },
        event: None,
    }
}

fn provider(fake: &FakePostobox, event: &str) -> Arc<Postobox> {
    provider_with(settings(fake, Some(event)), fast_timing())
}

fn provider_with(s: Settings, timing: Timing) -> Arc<Postobox> {
    Arc::new(
        Postobox::new(&s, &ctx())
            .expect("builds")
            .with_timing(timing),
    )
}

/// Runs a feed and keeps a model of what the core would hold.
struct Harness {
    rx: mpsc::Receiver<SourceFeed>,
    task: tokio::task::JoinHandle<()>,
    log: Vec<Feed>,
    model: BTreeMap<String, Question>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Harness {
    fn start(p: Arc<Postobox>) -> Harness {
        let (tx, rx) = mpsc::channel(4096);
        let ftx = FeedTx::new(SourceId(0), tx);
        let task = tokio::spawn(async move { p.run_feed(ftx).await });
        Harness {
            rx,
            task,
            log: Vec::new(),
            model: BTreeMap::new(),
        }
    }

    fn apply(&mut self, feed: Feed) {
        match &feed {
            Feed::Snapshot(qs) => {
                let ids: HashSet<&str> = qs.iter().map(|q| q.id.as_str()).collect();
                assert_eq!(ids.len(), qs.len(), "duplicate ids in a snapshot");
                self.model = qs.iter().map(|q| (q.id.to_string(), q.clone())).collect();
            }
            Feed::Upsert(qs) => {
                let ids: HashSet<&str> = qs.iter().map(|q| q.id.as_str()).collect();
                assert_eq!(ids.len(), qs.len(), "duplicate ids in an upsert");
                for q in qs {
                    let stale = self
                        .model
                        .get(&*q.id)
                        .is_some_and(|old| old.updated > q.updated);
                    if !stale {
                        self.model.insert(q.id.to_string(), q.clone());
                    }
                }
            }
            Feed::Listed(ids) => self.model.retain(|id, _| ids.contains(id.as_str())),
            Feed::QuestionGone(id) => {
                self.model.remove(id);
            }
            _ => {}
        }
        self.log.push(feed);
    }

    /// Processes feed events until `pred` holds or `timeout` passes.
    async fn until(&mut self, timeout: Duration, pred: impl Fn(&Harness) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if pred(self) {
                return true;
            }
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(sf)) => self.apply(sf.feed),
                _ => return pred(self),
            }
        }
    }

    /// Processes feed events for `d`.
    async fn run_for(&mut self, d: Duration) {
        self.until(d, |_| false).await;
    }

    fn connections(&self) -> Vec<&Connection> {
        self.log
            .iter()
            .filter_map(|f| match f {
                Feed::Connection(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    fn last_connection(&self) -> Option<&Connection> {
        self.connections().last().copied()
    }

    fn is(&self, c: &Connection) -> bool {
        self.last_connection() == Some(c)
    }

    fn notices(&self) -> Vec<&str> {
        self.log
            .iter()
            .filter_map(|f| match f {
                Feed::Notice(n) => Some(n.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Complete listings handed over.
    fn snapshots(&self) -> usize {
        self.log
            .iter()
            .filter(|f| matches!(f, Feed::Snapshot(_) | Feed::Listed(_)))
            .count()
    }

    fn status_of(&self, id: &str) -> Option<Status> {
        self.model.get(id).map(|q| q.status)
    }
}

fn wire_status(s: Status) -> &'static str {
    match s {
        Status::Pending => DEFAULT,
        Status::Selected => SELECTED,
        Status::Answered => ANSWERED,
        Status::Rejected => REJECTED,
    }
}

/// The model holds exactly the server's questions, with their state.
fn matches_server(h: &Harness, fake: &FakePostobox, event: &str) -> bool {
    let server = fake.questions(event);
    h.model.len() == server.len()
        && server.iter().all(|s| {
            h.model.get(&s.id).is_some_and(|q| {
                wire_status(q.status) == s.status && q.votes == s.vote_count && q.text == s.text
            })
        })
}

/// Requests for listings of every state (snapshots and polls alike).
fn full_listings(fake: &FakePostobox) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.route == "/events/{id}/questions" && r.method == "GET")
        .filter(|r| !r.query.as_deref().unwrap_or("").contains("status="))
        .count()
}

/// Listing rounds the fake served: the first page of every question
/// listing. A change "seen within one interval" is seen before two more
/// rounds have passed (one may have been under way when it happened),
/// however slow the machine.
fn polls(fake: &FakePostobox) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.route == "/events/{id}/questions" && r.method == "GET")
        .filter(|r| {
            let q = r.query.as_deref().unwrap_or("");
            !q.split('&')
                .any(|kv| kv.starts_with("page=") && kv != "page=1")
        })
        .count()
}

/// Waits for `cond`, then checks it held within two listing rounds.
macro_rules! seen_within_a_poll {
    ($h:expr, $fake:expr, $what:expr, $cond:expr) => {{
        let before = polls(&$fake);
        assert!($h.until(WAIT, $cond).await, "{} never seen", $what);
        let rounds = polls(&$fake) - before;
        assert!(rounds <= 2, "{} took {rounds} listing rounds", $what);
    }};
}

/// The page numbers the question listings asked for.
fn listing_pages(fake: &FakePostobox) -> std::collections::BTreeSet<u64> {
    fake.requests()
        .iter()
        .filter(|r| r.route == "/events/{id}/questions" && r.method == "GET")
        .filter_map(|r| {
            r.query
                .as_deref()?
                .split('&')
                .find_map(|kv| kv.strip_prefix("page="))?
                .parse()
                .ok()
        })
        .collect()
}

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn list_events_reads_every_page() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    })
    .await;
    for i in 0..250 {
        fake.add_event(&format!("Event {i}"));
    }
    let p = provider_with(settings(&fake, None), fast_timing());
    let events = p.list_events().await.unwrap();
    assert_eq!(events.len(), 250);
    assert_eq!(
        events.iter().map(|e| &e.id).collect::<HashSet<_>>().len(),
        250
    );
    assert_eq!(fake.counters().route("GET /events"), 3);
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.query.as_deref().unwrap_or("").contains("limit=100"))
    );
    assert_eq!(events[0].active, Some(true));
}

#[tokio::test]
async fn initial_snapshot_pages_through_250_questions_in_every_state() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 250);
    fake.set_status(&ev, &ids[0], SELECTED);
    fake.set_status(&ev, &ids[1], ANSWERED);
    fake.set_status(&ev, &ids[2], REJECTED);
    let mut h = Harness::start(provider(&fake, &ev));
    assert!(h.until(WAIT, |h| h.snapshots() == 1).await);
    let Some(Feed::Listed(listed)) = h.log.iter().find(|f| matches!(f, Feed::Listed(_))) else {
        unreachable!()
    };
    assert_eq!(listed.len(), 250);
    // Handed over a page at a time: no upsert holds more than one page.
    let upserts: Vec<usize> = h
        .log
        .iter()
        .filter_map(|f| match f {
            Feed::Upsert(qs) => Some(qs.len()),
            _ => None,
        })
        .collect();
    assert_eq!(upserts, [100, 100, 50], "one upsert a page");
    // Polls that follow list the same three pages again.
    assert_eq!(
        listing_pages(&fake),
        [1, 2, 3].into(),
        "250 questions at 100 a page"
    );
    assert!(matches_server(&h, &fake, &ev));
    assert_eq!(h.status_of(&ids[1]), Some(Status::Answered));
    assert!(h.until(WAIT, |h| h.is(&Connection::Live)).await);
}

#[tokio::test]
async fn heartbeats_keep_the_stream_live_and_silence_reconnects_with_resync() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Enterprise,
        heartbeat_interval: Duration::from_millis(100),
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    fake.add_questions(&ev, 3);
    let mut h = Harness::start(provider(&fake, &ev));
    assert!(h.until(WAIT, |h| h.is(&Connection::Live)).await);
    // Longer than the liveness timeout, heartbeats only: still the same stream.
    h.run_for(Duration::from_millis(2500)).await;
    assert_eq!(fake.counters().streams_opened, 1);
    assert!(
        h.connections()
            .iter()
            .all(|c| !matches!(c, Connection::Retrying { .. }))
    );
    assert_eq!(h.snapshots(), 1, "no resync while the stream lives");

    fake.stall_streams();
    let retried = h
        .until(WAIT, |h| {
            h.connections().iter().any(|c| matches!(c, Connection::Retrying { reason, .. } if reason.contains("heartbeat")))
        })
        .await;
    assert!(retried, "{:?}", h.connections());
    assert!(h.until(WAIT, |h| h.is(&Connection::Live)).await);
    assert_eq!(fake.counters().streams_opened, 2);
    assert_eq!(h.snapshots(), 2, "one full resync after the reconnect");
    assert!(matches_server(&h, &fake, &ev));
}

#[tokio::test]
async fn plan_without_stream_polls_with_a_single_notice() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Starter,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 3);
    let p = provider(&fake, &ev);
    assert_eq!(p.capabilities().delivery, Delivery::Stream);
    let mut h = Harness::start(p.clone());
    assert!(
        h.until(WAIT, |h| h.is(&Connection::Polling)).await,
        "{:?}",
        h.connections()
    );
    // Each poll reads the event too (open/closed), so it costs two requests
    // of the Starter budget: give the pacing the time for three of them.
    h.run_for(Duration::from_millis(3000)).await;
    assert_eq!(h.notices().len(), 1, "{:?}", h.notices());
    assert!(h.notices()[0].contains("polling"));
    assert_eq!(
        fake.counters().route("GET /events/{id}/questions/stream"),
        1,
        "asked once, not in a loop"
    );
    assert_eq!(p.capabilities().delivery, Delivery::Polling);
    assert!(
        h.connections()
            .iter()
            .all(|c| matches!(c, Connection::Connecting | Connection::Polling))
    );
    assert!(full_listings(&fake) >= 3, "polls all states");

    // Another moderator answers a question: seen within a poll interval.
    fake.set_status(&ev, &ids[0], ANSWERED);
    seen_within_a_poll!(h, fake, "an answer elsewhere", |h| h.status_of(&ids[0])
        == Some(Status::Answered));
    // And a deletion by someone else disappears.
    fake.delete_question(&ev, &ids[1]);
    assert!(h.until(WAIT, |h| !h.model.contains_key(&ids[1])).await);
    assert!(matches_server(&h, &fake, &ev));
}

#[tokio::test]
async fn rate_limit_headers_are_reported() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Starter,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let p = provider(&fake, &ev);
    p.list_events().await.unwrap();
    let b = p.budget().unwrap();
    assert_eq!((b.limit, b.remaining), (300, 299));
    let now = chrono::Utc::now().timestamp();
    let reset = b.reset.unwrap();
    assert!(reset >= now && reset <= now + 62, "reset {reset} now {now}");

    let mut h = Harness::start(p);
    assert!(
        h.until(WAIT, |h| h
            .log
            .iter()
            .any(|f| matches!(f, Feed::Budget(b) if b.limit == 300)))
            .await
    );
}

#[tokio::test]
async fn too_many_requests_gives_retry_after() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Enterprise,
        rate_limit: Some(3),
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let q = fake.add_question(&ev, "Why?");
    let p = provider(&fake, &ev);
    for _ in 0..3 {
        p.fetch_question(&q).await.unwrap();
    }
    let err = p.fetch_question(&q).await.unwrap_err();
    let ProviderError::RateLimited { retry_after_ms } = err else {
        panic!("{err:?}");
    };
    assert!(
        (1_000..=60_000).contains(&retry_after_ms),
        "{retry_after_ms}"
    );
    assert!(err.is_transient());
    assert_eq!(fake.counters().rate_limited, 1);
    assert_eq!(p.budget().unwrap().remaining, 0);
}

#[tokio::test]
async fn missing_scope_is_named() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let q = fake.add_question(&ev, "Why?");
    let without = |missing: &str| -> Vec<&str> {
        ALL_SCOPES
            .iter()
            .copied()
            .filter(|s| *s != missing)
            .collect()
    };
    fake.set_scopes(&without("questions:moderate"));
    let p = provider(&fake, &ev);
    for op in [
        Op::SetStatus {
            id: q.clone(),
            status: Status::Selected,
        },
        Op::Delete { id: q.clone() },
    ] {
        match p.perform(&op).await {
            Err(ProviderError::Forbidden(m)) => assert!(m.contains("questions:moderate"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
    fake.set_scopes(&without("questions:write"));
    match p
        .perform(&Op::Vote {
            id: q.clone(),
            want: MyVote::Up,
        })
        .await
    {
        Err(ProviderError::Forbidden(m)) => assert!(m.contains("questions:write"), "{m}"),
        other => panic!("{other:?}"),
    }
    fake.set_scopes(&without("organization:read"));
    let e = p.account_info().await.unwrap_err();
    assert!(e.to_string().contains("organization:read"), "{e}");
    // The feed says which scope it lacks, as a failure for the moderator.
    fake.set_scopes(&without("questions:read"));
    let mut h = Harness::start(p);
    let failed = h
        .until(WAIT, |h| {
            matches!(h.last_connection(), Some(Connection::Failed { reason }) if reason.contains("questions:read"))
        })
        .await;
    assert!(failed, "{:?}", h.connections());
    assert_eq!(fake.question(&ev, &q).unwrap().status, DEFAULT);
}

#[tokio::test]
async fn vote_toggle_converges_and_a_retry_never_flips_it() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let q = fake.add_question(&ev, "Vote me");
    let p = provider(&fake, &ev);
    let vote_path = format!("POST /events/{ev}/questions/{q}/vote");
    let up = Op::Vote {
        id: q.clone(),
        want: MyVote::Up,
    };

    let out = p.perform(&up).await.unwrap();
    assert_eq!(
        out,
        Outcome::Voted {
            id: q.clone(),
            my_vote: MyVote::Up,
            votes: 1
        }
    );
    assert!(fake.question(&ev, &q).unwrap().voters.contains(IDENTIFIER));
    assert_eq!(fake.counters().path(&vote_path), 1);

    // The same op retried (its answer was lost, say): still up, not flipped.
    let out = p.perform(&up).await.unwrap();
    assert_eq!(
        out,
        Outcome::Voted {
            id: q.clone(),
            my_vote: MyVote::Up,
            votes: 1
        }
    );
    let server = fake.question(&ev, &q).unwrap();
    assert!(server.voters.contains(IDENTIFIER));
    assert_eq!(server.vote_count, 1);
    assert_eq!(
        fake.counters().path(&vote_path),
        3,
        "toggled off, then on again"
    );

    // Someone else votes; then we take ours back, twice.
    fake.vote_as(&ev, &q, "someone-else");
    let none = Op::Vote {
        id: q.clone(),
        want: MyVote::None,
    };
    assert_eq!(
        p.perform(&none).await.unwrap(),
        Outcome::Voted {
            id: q.clone(),
            my_vote: MyVote::None,
            votes: 1
        }
    );
    assert_eq!(
        p.perform(&none).await.unwrap(),
        Outcome::Voted {
            id: q.clone(),
            my_vote: MyVote::None,
            votes: 1
        }
    );
    let server = fake.question(&ev, &q).unwrap();
    assert!(!server.voters.contains(IDENTIFIER) && server.vote_count == 1);

    let down = p
        .perform(&Op::Vote {
            id: q.clone(),
            want: MyVote::Down,
        })
        .await;
    assert!(
        matches!(down, Err(ProviderError::Unsupported(_))),
        "{down:?}"
    );
    // The fetched question carries the moderator's vote as the provider knows it.
    p.perform(&up).await.unwrap();
    assert_eq!(p.fetch_question(&q).await.unwrap().my_vote, MyVote::Up);
}

#[tokio::test]
async fn each_moderation_action_changes_the_server_exactly_once() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 5);
    let p = provider(&fake, &ev);
    let transitions = [
        Status::Selected,
        Status::Answered,
        Status::Rejected,
        Status::Pending,
    ];
    for (id, status) in ids.iter().zip(transitions) {
        if status == Status::Pending {
            fake.set_status(&ev, id, REJECTED);
        }
        let out = p
            .perform(&Op::SetStatus {
                id: id.clone(),
                status,
            })
            .await
            .unwrap();
        let Outcome::Question(q) = out else {
            panic!("{out:?}")
        };
        assert_eq!((q.id.as_str(), q.status), (id.as_str(), status));
        assert_eq!(fake.question(&ev, id).unwrap().status, wire_status(status));
        assert_eq!(
            fake.counters()
                .path(&format!("PATCH /events/{ev}/questions/{id}")),
            1
        );
    }
    assert_eq!(
        fake.counters().route("GET /events/{id}/questions/{qid}"),
        0,
        "the PATCH answer was complete"
    );

    let gone = &ids[4];
    let out = p.perform(&Op::Delete { id: gone.clone() }).await.unwrap();
    assert_eq!(out, Outcome::QuestionGone(gone.clone()));
    assert!(fake.question(&ev, gone).is_none());
    assert_eq!(
        fake.counters()
            .path(&format!("DELETE /events/{ev}/questions/{gone}")),
        1
    );
    // A retried delete finds it gone and counts as done.
    assert_eq!(
        p.perform(&Op::Delete { id: gone.clone() }).await.unwrap(),
        Outcome::QuestionGone(gone.clone())
    );

    let out = p
        .perform(&Op::SubmitQuestion {
            text: "From the floor: \u{1b}[2Jwhy?".into(),
        })
        .await
        .unwrap();
    let Outcome::Question(q) = out else {
        panic!("{out:?}")
    };
    assert_eq!(q.status, Status::Pending);
    assert_eq!(q.text, "From the floor: ␛[2Jwhy?", "sanitized at ingest");
    assert_eq!(fake.counters().route("POST /events/{id}/questions"), 1);
    assert_eq!(fake.questions(&ev).len(), 5);

    assert_eq!(
        p.perform(&Op::SetOpen {
            questions: Some(false),
            chat: None,
            guest_chat: None
        })
        .await
        .unwrap(),
        Outcome::Done
    );
    assert!(!fake.event(&ev).unwrap().active);
    assert_eq!(fake.counters().route("PATCH /events/{id}"), 1);
    let chat = Op::SetOpen {
        questions: None,
        chat: Some(true),
        guest_chat: None,
    };
    assert!(matches!(
        p.perform(&chat).await,
        Err(ProviderError::Unsupported(_))
    ));
    let post = Op::PostMessage {
        text: "hi".into(),
        reply_to: None,
    };
    assert!(matches!(
        p.perform(&post).await,
        Err(ProviderError::Unsupported(_))
    ));

    // Refusals keep the server's words (cleaned).
    fake.fail_next(
        "PATCH /events/{id}/questions/{qid}",
        409,
        "CONFLICT",
        "busy",
        1,
    );
    let e = p
        .perform(&Op::SetStatus {
            id: ids[0].clone(),
            status: Status::Answered,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProviderError::Conflict(ref m) if m.contains("busy")),
        "{e:?}"
    );
    let missing = p
        .perform(&Op::SetStatus {
            id: "nope".into(),
            status: Status::Answered,
        })
        .await
        .unwrap_err();
    assert_eq!(
        missing,
        ProviderError::NotFound(format!("question nope not found in event {ev}"))
    );
}

#[tokio::test]
async fn a_stream_cut_mid_event_loses_and_duplicates_nothing() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 30);
    for id in &ids[..5] {
        fake.set_status(&ev, id, SELECTED);
    }
    let mut h = Harness::start(provider(&fake, &ev));
    assert!(h.until(WAIT, |h| h.is(&Connection::Live)).await);
    assert!(h.until(WAIT, |h| matches_server(h, &fake, &ev)).await);

    fake.drop_stream_mid_event();
    // Changes that the cut event would have carried, and more while reconnecting.
    fake.set_status(&ev, &ids[10], SELECTED);
    fake.vote_as(&ev, &ids[0], "audience-1");
    fake.set_status(&ev, &ids[1], ANSWERED);
    let new = fake.add_question(&ev, "Asked during the outage");
    fake.delete_question(&ev, &ids[20]);

    let ok = h
        .until(WAIT, |h| {
            fake.counters().streams_opened >= 2 && matches_server(h, &fake, &ev)
        })
        .await;
    assert!(
        ok,
        "model {:?}",
        h.model
            .values()
            .map(|q| (&q.id, q.status, q.votes))
            .collect::<Vec<_>>()
    );
    assert!(h.until(WAIT, |h| h.is(&Connection::Live)).await);
    assert!(
        h.connections()
            .iter()
            .any(|c| matches!(c, Connection::Retrying { .. }))
    );
    assert!(h.snapshots() >= 2, "resynced after the reconnect");
    assert_eq!(h.status_of(&ids[10]), Some(Status::Selected));
    assert!(h.model.contains_key(&new));
    assert!(!h.model.contains_key(&ids[20]));
    assert!(h.is(&Connection::Live));
}

#[tokio::test]
async fn server_changes_reach_the_feed_within_one_interval() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 4);
    fake.set_status(&ev, &ids[3], SELECTED);
    let mut h = Harness::start(provider(&fake, &ev));
    assert!(
        h.until(WAIT, |h| h.is(&Connection::Live) && h.model.len() == 4)
            .await
    );
    // Each change is seen before two more listing rounds (the stream may
    // bring it sooner), never only at the next full resync.
    fake.set_status(&ev, &ids[0], SELECTED);
    seen_within_a_poll!(h, fake, "approval", |h| h.status_of(&ids[0])
        == Some(Status::Selected));

    fake.vote_as(&ev, &ids[0], "audience-1");
    seen_within_a_poll!(h, fake, "vote", |h| h
        .model
        .get(&ids[0])
        .is_some_and(|q| q.votes == 1));

    let asked = fake.add_question(&ev, "New from the audience");
    seen_within_a_poll!(h, fake, "new question", |h| h.model.contains_key(&asked));

    // Another moderator answers a selected question: it leaves the stream's
    // array and is fetched once, unless the poll saw it answered first.
    let gets = |f: &FakePostobox| {
        f.counters()
            .path(&format!("GET /events/{ev}/questions/{}", ids[3]))
    };
    assert_eq!(gets(&fake), 0);
    fake.set_status(&ev, &ids[3], ANSWERED);
    seen_within_a_poll!(h, fake, "answer", |h| h.status_of(&ids[3])
        == Some(Status::Answered));
    assert!(gets(&fake) <= 1, "fetched {} times", gets(&fake));

    // A pending question rejected elsewhere: the next poll lists it.
    fake.set_status(&ev, &ids[1], REJECTED);
    assert!(
        h.until(WAIT, |h| h.status_of(&ids[1]) == Some(Status::Rejected))
            .await
    );
    // Deleted elsewhere while pending: gone.
    fake.delete_question(&ev, &ids[2]);
    assert!(h.until(WAIT, |h| !h.model.contains_key(&ids[2])).await);
    assert!(matches_server(&h, &fake, &ev));
    assert_eq!(h.snapshots(), 1, "no resync needed");
}

/// The ids of every `QuestionGone` the feed sent, in order.
fn gone_ids(h: &Harness) -> Vec<&str> {
    h.log
        .iter()
        .filter_map(|f| match f {
            Feed::QuestionGone(id) => Some(id.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn answered_and_rejected_changes_elsewhere_show_within_one_poll_while_streaming() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 10);
    for id in &ids[..4] {
        fake.set_status(&ev, id, ANSWERED);
    }
    for id in &ids[4..6] {
        fake.set_status(&ev, id, REJECTED);
    }
    fake.set_status(&ev, &ids[6], SELECTED);
    let mut h = Harness::start(provider(&fake, &ev));
    assert!(h.until(WAIT, |h| h.is(&Connection::Live)).await);
    assert!(h.until(WAIT, |h| matches_server(h, &fake, &ev)).await);
    let gets = |f: &FakePostobox, id: &str| {
        f.counters()
            .path(&format!("GET /events/{ev}/questions/{id}"))
    };
    // Each change shows within two listing rounds, not at the next full
    // listing minutes later.

    // A question in no list for three listings in a row (it moved between
    // states as the pages were read) is fetched each time, and stays.
    fake.hide_in_listings(&ids[3], 3);
    assert!(
        h.until(WAIT, |_| gets(&fake, &ids[3]) >= 3).await,
        "confirmed by id {} times",
        gets(&fake, &ids[3])
    );
    assert_eq!(h.status_of(&ids[3]), Some(Status::Answered));

    // Another moderator rejects an answered question...
    fake.set_status(&ev, &ids[0], REJECTED);
    seen_within_a_poll!(h, fake, "answered → rejected", |h| h.status_of(&ids[0])
        == Some(Status::Rejected));
    // ...answers a rejected one...
    fake.set_status(&ev, &ids[4], ANSWERED);
    seen_within_a_poll!(h, fake, "rejected → answered", |h| h.status_of(&ids[4])
        == Some(Status::Answered));
    // ...and deletes an answered one: gone once a fetch by id confirmed it.
    fake.delete_question(&ev, &ids[1]);
    seen_within_a_poll!(h, fake, "deletion", |h| !h.model.contains_key(&ids[1]));
    assert_eq!(gets(&fake, &ids[1]), 1, "confirmed by id, once");
    // The audience's vote on an answered question shows too.
    fake.vote_as(&ev, &ids[2], "audience-1");
    seen_within_a_poll!(h, fake, "vote", |h| h
        .model
        .get(&ids[2])
        .is_some_and(|q| q.votes == 1));

    // A few more polls: nothing else leaves.
    h.run_for(Duration::from_millis(500)).await;
    assert_eq!(gone_ids(&h), [ids[1].as_str()], "no false QuestionGone");
    assert!(matches_server(&h, &fake, &ev));
    assert_eq!(h.snapshots(), 1, "no resync needed");
    assert!(h.is(&Connection::Live));
    assert_eq!(fake.counters().rate_limited, 0);
}

#[tokio::test]
async fn polling_confirms_a_question_missing_from_a_listing_before_removing_it() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Starter,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 4);
    fake.set_status(&ev, &ids[0], ANSWERED);
    let mut h = Harness::start(provider(&fake, &ev));
    assert!(h.until(WAIT, |h| h.is(&Connection::Polling)).await);
    assert!(h.until(WAIT, |h| matches_server(h, &fake, &ev)).await);
    let gets = |f: &FakePostobox, id: &str| {
        f.counters()
            .path(&format!("GET /events/{ev}/questions/{id}"))
    };
    fake.hide_in_listings(&ids[0], 2);
    assert!(h.until(WAIT, |_| gets(&fake, &ids[0]) >= 2).await);
    fake.delete_question(&ev, &ids[2]);
    assert!(h.until(WAIT, |h| !h.model.contains_key(&ids[2])).await);
    assert_eq!(gone_ids(&h), [ids[2].as_str()], "no false QuestionGone");
    assert_eq!(h.status_of(&ids[0]), Some(Status::Answered));
    assert!(matches_server(&h, &fake, &ev));
    assert_eq!(fake.counters().rate_limited, 0);
}

#[tokio::test]
async fn partial_stream_items_without_updated_at_merge_over_known_copies() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Enterprise,
        stream_partial_items: true,
        omit_updated_at: true,
        crlf: true,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 2);
    fake.set_status(&ev, &ids[0], SELECTED);
    let mut h = Harness::start(provider(&fake, &ev));
    assert!(
        h.until(WAIT, |h| h.is(&Connection::Live) && h.model.len() == 2)
            .await
    );

    fake.vote_as(&ev, &ids[0], "a");
    fake.vote_as(&ev, &ids[0], "b");
    assert!(
        h.until(WAIT, |h| h.model.get(&ids[0]).is_some_and(|q| q.votes == 2))
            .await
    );
    assert_eq!(
        h.model[&ids[0]].text, "Question 1",
        "text kept from the known copy"
    );

    // Selected from the start and never seen: the partial item is fetched.
    let unseen = fake.add_question_with(
        &ev,
        NewQuestion {
            author: Some("Zoë".into()),
            status: SELECTED.into(),
            ..NewQuestion::new("Straight to the stage")
        },
    );
    assert!(h.until(WAIT, |h| h.model.contains_key(&unseen)).await);
    let q = &h.model[&unseen];
    assert_eq!(
        (q.text.as_str(), q.author.as_deref(), q.status),
        ("Straight to the stage", Some("Zoë"), Status::Selected)
    );
    assert!(matches_server(&h, &fake, &ev));
}

#[tokio::test]
async fn free_plan_polling_stays_within_a_shortened_window() {
    // A "Free plan" scaled down: 10 requests per 3 s window (the client is
    // told the same window), a moderator acting every 1.2 s.
    let window = Duration::from_secs(3);
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Free,
        rate_window: window,
        rate_limit: Some(10),
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 20);
    let mut timing = fast_timing();
    timing.poll = PollPolicy {
        window,
        active: Duration::from_millis(100),
        idle: Duration::from_millis(100),
        min: Duration::from_millis(50),
        ..PollPolicy::default()
    };
    let p = provider_with(settings(&fake, Some(&ev)), timing);
    let mut h = Harness::start(p.clone());
    let started = Instant::now();
    let mut acted = 0;
    let mut next_action = Instant::now();
    while started.elapsed() < Duration::from_secs(9) {
        h.run_for(Duration::from_millis(100)).await;
        if Instant::now() >= next_action {
            let want = if acted % 2 == 0 {
                MyVote::Up
            } else {
                MyVote::None
            };
            let out = p
                .perform(&Op::Vote {
                    id: ids[0].clone(),
                    want,
                })
                .await;
            assert!(out.is_ok(), "moderator action refused: {out:?}");
            acted += 1;
            next_action += Duration::from_millis(1200);
        }
    }
    let c = fake.counters();
    assert_eq!(
        c.rate_limited,
        0,
        "{:?}",
        fake.requests()
            .iter()
            .map(|r| (r.at, &r.route, r.status))
            .collect::<Vec<_>>()
    );
    assert!(acted >= 7);
    assert!(
        full_listings(&fake) >= 6,
        "kept polling: {}",
        full_listings(&fake)
    );
    assert!(h.is(&Connection::Polling), "{:?}", h.connections());
    assert!(
        h.log
            .iter()
            .any(|f| matches!(f, Feed::Budget(b) if b.limit == 10))
    );
}

#[tokio::test]
async fn the_api_key_never_appears_in_errors() {
    const KEY: &str = "pk_live_SECRET_never_show_9f8e7d6c";
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let q = fake.add_question(&ev, "Why?");
    let mut s = settings(&fake, Some(&ev));
    s.api_key = Some(KEY.into());
    assert!(!format!("{s:?}").contains(KEY));
    let p = provider_with(s.clone(), fast_timing());
    assert!(!format!("{p:?}").contains(KEY));
    let mut errors = Vec::new();

    // Rejected key.
    let e = p.fetch_question(&q).await.unwrap_err();
    assert_eq!(e, ProviderError::Auth("API key rejected".into()));
    errors.push(e.to_string());
    // A server that echoes the key back in its error message.
    fake.set_api_key(KEY);
    fake.fail_next(
        "GET /events/{id}/questions/{qid}",
        500,
        "INTERNAL",
        &format!("bad token {KEY}"),
        1,
    );
    let e = p.fetch_question(&q).await.unwrap_err();
    assert!(matches!(e, ProviderError::Server(_)), "{e:?}");
    errors.push(e.to_string());
    // Nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut dead = s.clone();
    dead.base_url = format!("http://127.0.0.1:{port}/v1");
    let e = provider_with(dead, fast_timing())
        .fetch_question(&q)
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::Network(_)), "{e:?}");
    errors.push(e.to_string());
    assert!(
        !e.to_string().contains(&port.to_string()),
        "the URL leaked: {e}"
    );
    // The feed's reasons while the key is wrong.
    fake.set_api_key("pk_live_other_key_000");
    let mut h = Harness::start(p);
    assert!(
        h.until(WAIT, |h| matches!(
            h.last_connection(),
            Some(Connection::Failed { .. })
        ))
        .await
    );
    for c in h.connections() {
        errors.push(format!("{c:?}"));
    }
    for e in &errors {
        assert!(
            !e.contains(KEY) && !e.contains("SECRET_never"),
            "key leaked: {e}"
        );
    }
}

#[tokio::test]
async fn failures_that_need_the_moderator_recover_once_fixed() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    fake.add_questions(&ev, 2);
    fake.delete_event(&ev);
    let mut h = Harness::start(provider(&fake, &ev));
    let want = Connection::Failed {
        reason: format!("not found: event {ev} not found"),
    };
    assert!(
        h.until(WAIT, |h| h.is(&want)).await,
        "{:?}",
        h.connections()
    );
    h.run_for(Duration::from_millis(700)).await;
    assert!(full_listings(&fake) == 0);
    assert!(
        fake.counters().route("GET /events/{id}") >= 2,
        "kept retrying slowly"
    );
    assert_eq!(
        h.connections()
            .iter()
            .filter(|c| matches!(c, Connection::Failed { .. }))
            .count(),
        1,
        "said once"
    );

    fake.restore_event(&ev);
    assert!(
        h.until(WAIT, |h| h.is(&Connection::Live)).await,
        "{:?}",
        h.connections()
    );
    assert!(matches_server(&h, &fake, &ev));

    // The key revoked, then restored.
    let key = fake.api_key();
    fake.set_api_key("pk_live_rotated_000");
    fake.kill_streams();
    let failed = Connection::Failed {
        reason: "authentication failed: API key rejected".into(),
    };
    assert!(
        h.until(WAIT, |h| h.is(&failed)).await,
        "{:?}",
        h.connections()
    );
    fake.set_api_key(&key);
    assert!(
        h.until(WAIT, |h| h.is(&Connection::Live)).await,
        "{:?}",
        h.connections()
    );
}

#[tokio::test]
async fn account_info_and_event_picker() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Professional,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    fake.add_questions(&ev, 3);
    let p = provider_with(settings(&fake, None), fast_timing());
    let rows = p.account_info().await.unwrap();
    let get = |k: &str| rows.iter().find(|r| r.0 == k).map(|r| r.1.clone());
    assert_eq!(get("Organization").as_deref(), Some("Acme Corp"));
    assert_eq!(get("Plan").as_deref(), Some("PROFESSIONAL"));
    assert_eq!(get("Questions").as_deref(), Some("3 of 5000"));
    assert_eq!(
        get("Rate limit").as_deref(),
        Some("1000 requests/min, 999 left")
    );

    // No event chosen: the picker lists, actions and the feed say why not.
    let events = p.list_events().await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.title.as_str()).collect::<Vec<_>>(),
        vec!["Keynote"]
    );
    assert!(matches!(
        p.perform(&Op::Delete { id: "x".into() }).await,
        Err(ProviderError::Invalid(_))
    ));
    let mut h = Harness::start(p);
    assert!(
        h.until(WAIT, |h| matches!(
            h.last_connection(),
            Some(Connection::Failed { .. })
        ))
        .await
    );

    // Built through the config path with the picked event.
    let cfg = qadeck::config::parse(
        &format!(
            "[[source]]\nname = \"keynote\"\nprovider = \"postobox\"\napi_key = \"{}\"\nbase_url = \"{}\"\n",
            fake.api_key(),
            fake.base_url()
        ),
        std::path::Path::new("test.toml"),
    )
    .unwrap();
    assert!(cfg.sources[0].has_literal_secret());
    let built = cfg.sources[0]
        .build(&BuildCtx {
            event: Some(ev.clone()),
            ..ctx()
        })
        .unwrap();
    let mut h = Harness::start_dyn(built);
    // Professional has no stream: polling.
    let ok = h
        .until(WAIT, |h| h.is(&Connection::Polling) && h.model.len() == 3)
        .await;
    assert!(ok, "{:?} {:?}", h.log, fake.requests());
    assert!(h.log.iter().any(|f| matches!(
        f,
        Feed::OpenState {
            questions: Some(true),
            ..
        }
    )));
}

impl Harness {
    fn start_dyn(p: Arc<dyn Provider>) -> Harness {
        let (tx, rx) = mpsc::channel(4096);
        let ftx = FeedTx::new(SourceId(0), tx);
        let task = tokio::spawn(async move { p.run_feed(ftx).await });
        Harness {
            rx,
            task,
            log: Vec::new(),
            model: BTreeMap::new(),
        }
    }
}

#[tokio::test]
async fn compact_framing_without_blank_lines_still_delivers() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Enterprise,
        compact_framing: true,
        heartbeat_interval: Duration::from_millis(100),
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 3);
    let mut h = Harness::start(provider(&fake, &ev));
    assert!(
        h.until(WAIT, |h| h.is(&Connection::Live) && h.model.len() == 3)
            .await
    );
    fake.set_status(&ev, &ids[0], SELECTED);
    assert!(
        h.until(WAIT, |h| h.status_of(&ids[0]) == Some(Status::Selected))
            .await
    );
    fake.vote_as(&ev, &ids[0], "a");
    assert!(h.until(WAIT, |h| h.model[&ids[0]].votes == 1).await);
    assert!(matches_server(&h, &fake, &ev));
    assert_eq!(fake.counters().streams_opened, 1);
}

/// The fake on its own thread serves while the test's thread blocks.
#[test]
fn background_fake_serves_a_blocking_test() {
    use std::io::{Read, Write};
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    fake.add_event("Keynote");
    std::thread::sleep(Duration::from_millis(20));
    let addr = fake
        .base_url()
        .trim_start_matches("http://")
        .trim_end_matches("/v1")
        .to_string();
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        conn,
        "GET /v1/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        fake.api_key()
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("x-ratelimit-remaining: 4999"),
        "{answer}"
    );
    assert!(answer.contains("\"title\":\"Keynote\""), "{answer}");
    assert_eq!(fake.counters().route("GET /events"), 1);
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[tokio::test]
async fn a_submit_whose_answer_was_lost_after_commit_lands_once() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    fake.add_question(&ev, "Unrelated");
    let p = provider(&fake, &ev);
    let route = "POST /events/{id}/questions";
    let op = Op::SubmitQuestion {
        text: "Will slides be shared?".into(),
    };
    let queued = now_ms();
    fake.lose_answers(route, 1);
    let e = p.perform(&op).await.unwrap_err();
    assert!(e.is_transient(), "{e:?}");
    assert_eq!(fake.counters().lost_answers, 1);
    // The retry finds the question it already made instead of asking again.
    let out = p.perform_again(&op, queued).await.unwrap();
    assert!(
        matches!(out, Outcome::Question(ref q) if q.text == "Will slides be shared?"),
        "{out:?}"
    );
    let copies = |text: &str| {
        fake.questions(&ev)
            .iter()
            .filter(|q| q.text == text)
            .count()
    };
    assert_eq!(copies("Will slides be shared?"), 1);
    assert_eq!(fake.counters().route(route), 1);

    // Refused before anything was made: the retry sends it, once.
    let op = Op::SubmitQuestion {
        text: "And the recording?".into(),
    };
    fake.fail_next(route, 503, "UNAVAILABLE", "down", 1);
    assert!(p.perform(&op).await.unwrap_err().is_transient());
    assert!(matches!(
        p.perform_again(&op, now_ms()).await.unwrap(),
        Outcome::Question(_)
    ));
    assert_eq!(copies("And the recording?"), 1);

    // The same text asked before the action was queued is someone else's
    // question: the retry still sends ours.
    let op = Op::SubmitQuestion {
        text: "Unrelated".into(),
    };
    assert!(matches!(
        p.perform_again(&op, now_ms() + 120_000).await.unwrap(),
        Outcome::Question(_)
    ));
    assert_eq!(copies("Unrelated"), 2);
}
