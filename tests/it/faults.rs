//! Fault injection end to end: a real [`Session`] (core, outbox, delivery
//! workers, PostoBox feeds) talks to the PostoBox fake through the fault
//! proxy (`support::fault_proxy`), which refuses connections, answers
//! 500/502/503/429, delays, drops answers after the server applied them,
//! truncates or corrupts JSON, sends enormous and endless bodies, and cuts
//! streams mid-event. After every scenario:
//!
//! - the client's state equals the server's: the same questions, statuses,
//!   votes, texts and the moderator's own vote, nothing in flight, nothing
//!   failed, and the source live again;
//! - every action reached the server exactly once: a request the proxy kept
//!   from the server is re-sent, never one that arrived, unless its answer
//!   was lost after the server applied it — then the re-sent request has no
//!   second effect (a status PATCH is idempotent; a vote toggle is checked
//!   and toggled back, so the vote counts once).
//!
//! Timings are shortened through `postobox::Timing` and
//! `Session::set_outbox_timing`; every wait is bounded.
//!
//! The last tests run the real binary (`qadeck moderate`, `watch` and the
//! TUI in tmux) as child processes: 1,000 actions taken while the platform
//! is down survive `kill -9` and land exactly once; enormous and endless
//! answers leave its peak memory bounded.

use crate::support::fault_proxy::{ENDLESS_CAP, Fault, FaultProxy};
use crate::support::postobox_fake::{
    ANSWERED, DEFAULT, FakeConfig, FakePostobox, NewQuestion, Plan, REJECTED, SELECTED,
};
use crate::support::wait_until;
use qadeck::app::{Event, KeyMap, ModAction};
use qadeck::domain::{Connection, Moderator, MyVote, Op, ProviderResult, QKey, SourceId, Status};
use qadeck::outbox::Timing as OutboxTiming;
use qadeck::provider::postobox::{PollPolicy, Postobox, Settings, Timing};
use qadeck::provider::sse::{SseItem, SseParser};
use qadeck::provider::{BuildCtx, Provider};
use qadeck::runtime::{Inbox, Session, SourceInput};
use qadeck::store::{JournalOutcome, Store};
use qadeck::text::MAX_TEXT_BYTES;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const IDENTIFIER: &str = "qadeck-faults-moderator";
/// Longest wait for anything; generous for a loaded 2-core machine.
const WAIT: Duration = Duration::from_secs(30);

fn feed_timing() -> Timing {
    Timing {
        liveness: Duration::from_millis(1500),
        reconnect_base: Duration::from_millis(20),
        reconnect_cap: Duration::from_millis(200),
        healthy_after: Duration::from_secs(60),
        failed_retry: Duration::from_millis(300),
        active_window: Duration::from_secs(60),
        poll: PollPolicy {
            active: Duration::from_millis(200),
            idle: Duration::from_millis(200),
            min: Duration::from_millis(50),
            ..PollPolicy::default()
        },
    }
}

fn outbox_timing() -> OutboxTiming {
    OutboxTiming {
        lease: Duration::from_millis(1500),
        backoff_base: Duration::from_millis(20),
        backoff_cap: Duration::from_millis(200),
        idle_recheck: Duration::from_millis(100),
    }
}

/// One platform: the fake, the proxy in front of it, one event.
struct Platform {
    fake: FakePostobox,
    proxy: FaultProxy,
    ev: String,
    ids: Vec<String>,
}

impl Platform {
    async fn start(questions: usize) -> Platform {
        Platform::start_with(
            FakeConfig {
                plan: Plan::Enterprise,
                ..FakeConfig::fast()
            },
            questions,
        )
        .await
    }

    async fn start_with(config: FakeConfig, questions: usize) -> Platform {
        let fake = FakePostobox::start(config).await;
        let proxy = FaultProxy::start(fake.addr()).await;
        let ev = fake.add_event("Keynote");
        let ids = fake.add_questions(&ev, questions);
        Platform {
            fake,
            proxy,
            ev,
            ids,
        }
    }

    fn path(&self, method: &str, id: &str) -> String {
        match method {
            "VOTE" => format!("POST /events/{}/questions/{id}/vote", self.ev),
            m => format!("{m} /events/{}/questions/{id}", self.ev),
        }
    }

    /// Requests the server received for `method` on question `id`
    /// (`"VOTE"` for the vote toggle).
    fn received(&self, method: &str, id: &str) -> u64 {
        self.fake.counters().path(&self.path(method, id))
    }

    fn provider(&self, source: u16, key: Option<&str>) -> Arc<Postobox> {
        let mut s = Settings::new(format!("s{source}"));
        s.api_key = Some(key.map_or_else(|| self.fake.api_key(), str::to_string));
        s.base_url = self.proxy.base_url();
        s.event = Some(self.ev.clone());
        let ctx = BuildCtx {
            source: SourceId(source),
            moderator: moderator(),
            event: None,
        };
        Arc::new(
            Postobox::new(&s, &ctx)
                .expect("provider builds")
                .with_timing(feed_timing()),
        )
    }
}

fn moderator() -> Moderator {
    Moderator {
        identifier: IDENTIFIER.into(),
        name: "Tess".into(),
    }
}

fn wire(s: Status) -> &'static str {
    match s {
        Status::Pending => DEFAULT,
        Status::Selected => SELECTED,
        Status::Answered => ANSWERED,
        Status::Rejected => REJECTED,
    }
}

/// A session over some platforms, driven like the event loop drives it.
struct Rig {
    session: Session,
    inbox: Inbox,
    platforms: Vec<Platform>,
    /// Fewest questions source 0 held since [`Rig::watch_floor`].
    floor: Option<usize>,
}

impl Rig {
    async fn start(platforms: Vec<Platform>) -> Rig {
        Rig::start_keys(platforms, &[]).await
    }

    /// `keys[i]`, when given, replaces source i's API key.
    async fn start_keys(platforms: Vec<Platform>, keys: &[Option<&str>]) -> Rig {
        let inputs = platforms
            .iter()
            .enumerate()
            .map(|(i, p)| SourceInput::Built {
                name: format!("s{i}"),
                event: p.ev.clone(),
                provider: p.provider(i as u16, keys.get(i).copied().flatten()),
            })
            .collect();
        let store = Arc::new(Store::open_in_memory().unwrap());
        let (mut session, inbox) =
            Session::new(inputs, store, KeyMap::default(), moderator()).unwrap();
        session.set_outbox_timing(outbox_timing());
        session.start(true);
        Rig {
            session,
            inbox,
            platforms,
            floor: None,
        }
    }

    fn key(source: usize, id: &str) -> QKey {
        QKey {
            source: SourceId(source as u16),
            id: id.into(),
        }
    }

    /// Takes an action the way `qadeck moderate` and the keys do.
    fn act(&mut self, source: usize, id: &str, action: ModAction) {
        let cmds = self
            .session
            .app
            .moderate(Rig::key(source, id), action)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        self.session.execute(cmds);
    }

    fn count(&self, source: usize) -> usize {
        self.session
            .app
            .queue
            .all()
            .filter(|e| e.view.source.0 as usize == source)
            .count()
    }

    /// From now on, remember the fewest questions source 0 shows.
    fn watch_floor(&mut self) {
        self.floor = Some(self.count(0));
    }

    fn handle(&mut self, event: Event) {
        self.session.handle(event);
        if let Some(f) = self.floor {
            self.floor = Some(f.min(self.count(0)));
        }
    }

    /// Runs the loop until `pred` holds (true) or `timeout` passes (false).
    async fn until(&mut self, timeout: Duration, pred: impl Fn(&Rig) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if pred(self) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            let event = tokio::select! {
                Some(f) = self.inbox.feed.recv() => Event::Feed(f),
                Some(r) = self.inbox.reports.recv() => Event::Op(r),
                Some(m) = self.inbox.misc.recv() => m,
                _ = tokio::time::sleep(Duration::from_millis(50)) => continue,
            };
            self.handle(event);
        }
    }

    async fn run_for(&mut self, d: Duration) {
        self.until(d, |_| false).await;
    }

    fn connection(&self, source: usize) -> &Connection {
        &self.session.app.sources[source].connection
    }

    /// Why source `i`'s state differs from its server's; `None` when equal.
    fn mismatch(&self, i: usize) -> Option<String> {
        let app = &self.session.app;
        let p = &self.platforms[i];
        let source = SourceId(i as u16);
        if let Some(f) = app.inflight.values().find(|f| f.queued.source == source) {
            return Some(format!("still in flight: {:?}", f.queued.op));
        }
        if let Some(f) = app.failed.iter().find(|f| f.queued.source == source) {
            return Some(format!("failed: {:?}: {}", f.queued.op, f.reason));
        }
        if *self.connection(i) != Connection::Live {
            return Some(format!("connection {:?}", self.connection(i)));
        }
        let server = p.fake.questions(&p.ev);
        if self.count(i) != server.len() {
            return Some(format!(
                "{} questions here, {} on the server",
                self.count(i),
                server.len()
            ));
        }
        for s in &server {
            let Some(e) = app.queue.get(&Rig::key(i, &s.id)) else {
                return Some(format!("{} missing", s.id));
            };
            let q = &e.view;
            let mine = if s.voters.contains(IDENTIFIER) {
                MyVote::Up
            } else {
                MyVote::None
            };
            let want = (
                s.status.as_str(),
                s.vote_count,
                mine,
                qadeck::text::sanitize(&s.text),
            );
            let got = (wire(q.status), q.votes, q.my_vote, q.text.to_string());
            if want != got {
                return Some(format!(
                    "{}: server {:?} here {:?}",
                    s.id,
                    (want.0, want.1, want.2),
                    (got.0, got.1, got.2)
                ));
            }
        }
        None
    }

    /// Waits until every source equals its server; panics with the
    /// difference otherwise.
    async fn converge(&mut self) {
        let n = self.platforms.len();
        let ok = self
            .until(WAIT, |r| (0..n).all(|i| r.mismatch(i).is_none()))
            .await;
        if !ok {
            let why: Vec<String> = (0..n).filter_map(|i| self.mismatch(i)).collect();
            panic!("client and server differ: {why:?}");
        }
    }

    fn journal_count(&self, outcome: JournalOutcome) -> usize {
        self.session
            .store()
            .journal(100_000)
            .unwrap()
            .iter()
            .filter(|e| e.outcome == outcome)
            .map(attempts)
            .sum()
    }
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_retried_until_each_action_lands_once() {
    let mut rig = Rig::start(vec![Platform::start(12).await]).await;
    rig.converge().await;
    let p = &rig.platforms[0];
    let (ev, ids) = (p.ev.clone(), p.ids.clone());
    let q = |i: usize| format!("/events/{ev}/questions/{}", ids[i]);
    p.proxy.rule("PATCH", &q(0), Fault::Status(500), 1);
    p.proxy.rule("PATCH", &q(0), Fault::Status(502), 1);
    p.proxy.rule(
        "POST",
        &format!("{}/vote", q(1)),
        Fault::RateLimited { retry_after_s: 1 },
        1,
    );
    p.proxy.rule("PATCH", &q(2), Fault::Status(503), 2);
    // The feed's listings fail too.
    p.proxy.rule("GET", "/questions?", Fault::Status(502), 2);
    rig.act(0, &ids[0], ModAction::Approve);
    rig.act(0, &ids[1], ModAction::Vote);
    rig.act(0, &ids[2], ModAction::Reject);
    rig.act(0, &ids[3], ModAction::Answered);
    rig.converge().await;

    let p = &rig.platforms[0];
    assert_eq!(p.proxy.rules_left(), 0, "every fault was hit");
    for (method, i) in [("PATCH", 0), ("VOTE", 1), ("PATCH", 2), ("PATCH", 3)] {
        assert_eq!(p.received(method, &ids[i]), 1, "{method} {}", ids[i]);
    }
    let q1 = p.fake.question(&ev, &ids[1]).unwrap();
    assert_eq!(q1.vote_count, 1);
    // 429 with Retry-After: 1 → the retry waited at least a second.
    let votes: Vec<Duration> = p
        .proxy
        .log()
        .iter()
        .filter(|s| s.key.ends_with(&format!("{}/vote", ids[1])))
        .map(|s| s.at)
        .collect();
    assert_eq!(votes.len(), 2, "{votes:?}");
    assert!(
        votes[1] - votes[0] >= Duration::from_millis(1000),
        "{votes:?}"
    );
    assert!(rig.journal_count(JournalOutcome::Retrying) >= 4);
    assert_eq!(rig.journal_count(JournalOutcome::Confirmed), 4);
}

#[tokio::test]
async fn refused_connections_never_reach_the_server_and_are_sent_again() {
    let mut rig = Rig::start(vec![Platform::start(6).await]).await;
    rig.converge().await;
    let p = &rig.platforms[0];
    let ids = p.ids.clone();
    let q0 = format!("/questions/{}", ids[0]);
    let q1 = format!("/questions/{}/vote", ids[1]);
    p.proxy.rule("PATCH", &q0, Fault::Refuse, 3);
    p.proxy.rule("POST", &q1, Fault::Refuse, 2);
    rig.act(0, &ids[0], ModAction::Approve);
    rig.act(0, &ids[1], ModAction::Vote);
    rig.converge().await;
    let p = &rig.platforms[0];
    assert_eq!(p.proxy.counters().faulted_total(), 5);
    assert_eq!(p.received("PATCH", &ids[0]), 1);
    assert_eq!(p.received("VOTE", &ids[1]), 1);
}

#[tokio::test]
async fn answers_lost_after_the_server_applied_them_have_one_effect() {
    let mut rig = Rig::start(vec![Platform::start(8).await]).await;
    rig.converge().await;
    rig.watch_floor();
    let p = &rig.platforms[0];
    let (ev, ids) = (p.ev.clone(), p.ids.clone());
    let q = |i: usize| format!("/questions/{}", ids[i]);
    p.proxy.rule("PATCH", &q(0), Fault::DropResponse, 1);
    p.proxy
        .rule("POST", &format!("{}/vote", q(1)), Fault::DropResponse, 1);
    p.proxy.rule("DELETE", &q(2), Fault::DropResponse, 1);
    rig.act(0, &ids[0], ModAction::Approve);
    rig.act(0, &ids[1], ModAction::Vote);
    rig.act(0, &ids[2], ModAction::Delete);
    rig.converge().await;

    let p = &rig.platforms[0];
    // Applied, answer lost, sent again: the same status, no second effect.
    assert_eq!(p.received("PATCH", &ids[0]), 2);
    assert_eq!(p.fake.question(&ev, &ids[0]).unwrap().status, SELECTED);
    // The toggle landed, its answer was lost; the retry toggled it off and
    // saw `voted: false`, so it toggled once more: the vote counts once.
    assert_eq!(p.received("VOTE", &ids[1]), 3);
    let q1 = p.fake.question(&ev, &ids[1]).unwrap();
    assert_eq!(q1.vote_count, 1);
    assert!(q1.voters.contains(IDENTIFIER));
    // A delete sent again finds nothing to delete: done, not failed.
    assert_eq!(p.received("DELETE", &ids[2]), 2);
    assert!(p.fake.question(&ev, &ids[2]).is_none());
    assert_eq!(
        rig.floor,
        Some(7),
        "only the deleted question left the view"
    );
}

#[tokio::test]
async fn truncated_corrupted_and_wrong_json_is_never_taken_for_an_answer() {
    let mut rig = Rig::start(vec![Platform::start(10).await]).await;
    rig.converge().await;
    rig.watch_floor();
    let p = &rig.platforms[0];
    let (ev, ids) = (p.ev.clone(), p.ids.clone());
    let q = |i: usize| format!("/questions/{}", ids[i]);
    // Writes whose answers break: the PATCH falls back to reading the
    // question, the vote is retried and converges.
    p.proxy.rule("PATCH", &q(0), Fault::TruncateJson, 1);
    p.proxy
        .rule("POST", &format!("{}/vote", q(1)), Fault::CorruptJson, 1);
    p.proxy.rule("PATCH", &q(2), Fault::CorruptJson, 1);
    p.proxy.rule("GET", &q(2), Fault::TruncateJson, 1);
    // Reads of the feed: listings truncated, corrupted, or valid JSON that
    // is no listing at all (a 10 MB string, a 1 KB one) must not empty the
    // view. (`limit=100&sortBy` matches every question listing, polls and
    // resyncs alike; the proxy also cuts the stream so the feed reconnects
    // and lists everything.)
    let full = "limit=100&sortBy";
    p.proxy.rule("GET", full, Fault::TruncateJson, 1);
    p.proxy.rule("GET", full, Fault::CorruptJson, 1);
    p.proxy.rule("GET", full, Fault::Huge(10 * 1024 * 1024), 1);
    p.proxy.rule("GET", full, Fault::Huge(1024), 1);
    p.proxy.cut_all();
    rig.act(0, &ids[0], ModAction::Approve);
    rig.act(0, &ids[1], ModAction::Vote);
    rig.act(0, &ids[2], ModAction::Reject);
    let ok = rig
        .until(WAIT, |r| r.platforms[0].proxy.rules_left() == 0)
        .await;
    assert!(ok, "faults left: {}", rig.platforms[0].proxy.rules_left());
    rig.converge().await;

    let p = &rig.platforms[0];
    assert_eq!(p.received("PATCH", &ids[0]), 1);
    assert_eq!(p.received("VOTE", &ids[1]), 3);
    assert_eq!(p.fake.question(&ev, &ids[1]).unwrap().vote_count, 1);
    // The corrupted PATCH answer, then a truncated read of the question: the
    // PATCH is repeated (idempotent), the status is right.
    assert_eq!(p.received("PATCH", &ids[2]), 2);
    assert_eq!(p.fake.question(&ev, &ids[2]).unwrap().status, REJECTED);
    assert_eq!(rig.floor, Some(10), "a broken listing emptied the view");
}

#[tokio::test]
async fn slow_answers_longer_than_the_lease_are_sent_once() {
    let mut rig = Rig::start(vec![Platform::start(5).await]).await;
    rig.converge().await;
    let p = &rig.platforms[0];
    let ids = p.ids.clone();
    // Longer than the 1.5 s lease: renewal keeps the action with its sender.
    p.proxy.rule(
        "PATCH",
        &format!("/questions/{}", ids[0]),
        Fault::Delay(Duration::from_millis(3500)),
        1,
    );
    p.proxy.rule(
        "POST",
        &format!("/questions/{}/vote", ids[1]),
        Fault::Delay(Duration::from_millis(800)),
        1,
    );
    p.proxy.rule(
        "GET",
        "/questions?",
        Fault::Delay(Duration::from_millis(800)),
        2,
    );
    rig.act(0, &ids[0], ModAction::Approve);
    rig.act(0, &ids[1], ModAction::Vote);
    rig.converge().await;
    let p = &rig.platforms[0];
    assert_eq!(p.received("PATCH", &ids[0]), 1);
    assert_eq!(p.received("VOTE", &ids[1]), 1);
    assert_eq!(rig.journal_count(JournalOutcome::Retrying), 0);
}

#[tokio::test]
async fn platform_down_then_back_every_action_once_and_nothing_lost() {
    let mut rig = Rig::start(vec![Platform::start(40).await]).await;
    rig.converge().await;
    let p = &rig.platforms[0];
    let (ev, ids) = (p.ev.clone(), p.ids.clone());
    p.proxy.set_down(true);
    p.proxy.cut_all();
    let down = rig
        .until(WAIT, |r| {
            matches!(r.connection(0), Connection::Retrying { .. })
        })
        .await;
    assert!(down, "the outage shows: {:?}", rig.connection(0));
    for id in &ids[..15] {
        rig.act(0, id, ModAction::Approve);
    }
    for id in &ids[15..30] {
        rig.act(0, id, ModAction::Vote);
    }
    for id in &ids[30..35] {
        rig.act(0, id, ModAction::Reject);
    }
    // The audience and another moderator carry on meanwhile.
    let p = &rig.platforms[0];
    let new: Vec<String> = (0..5)
        .map(|i| {
            p.fake
                .add_question(&ev, &format!("asked during the outage {i}"))
        })
        .collect();
    p.fake.set_status(&ev, &ids[36], ANSWERED);
    p.fake.delete_question(&ev, &ids[37]);
    p.fake.vote_as(&ev, &ids[38], "audience-1");
    rig.run_for(Duration::from_millis(1500)).await;
    assert_eq!(rig.session.app.inflight.len(), 35, "all held, in flight");
    assert!(
        matches!(
            rig.connection(0),
            Connection::Retrying { .. } | Connection::Connecting
        ),
        "{:?}",
        rig.connection(0)
    );
    let p = &rig.platforms[0];
    assert_eq!(
        p.fake
            .counters()
            .by_route
            .get("PATCH /events/{id}/questions/{qid}"),
        None
    );

    p.proxy.set_down(false);
    rig.converge().await;
    let p = &rig.platforms[0];
    for id in &ids[..15] {
        assert_eq!(p.received("PATCH", id), 1, "{id}");
    }
    for id in &ids[15..30] {
        assert_eq!(p.received("VOTE", id), 1, "{id}");
        assert_eq!(p.fake.question(&ev, id).unwrap().vote_count, 1);
    }
    for id in &ids[30..35] {
        assert_eq!(p.received("PATCH", id), 1, "{id}");
    }
    for id in &new {
        assert!(rig.session.app.queue.get(&Rig::key(0, id)).is_some());
    }
    assert!(p.proxy.counters().refused_down > 0);
}

/// Streams cut by the proxy after a random number of bytes (often in the
/// middle of an event), a hundred times, while the server keeps changing.
#[tokio::test]
async fn a_hundred_stream_drops_lose_and_duplicate_nothing() {
    const DROPS: u32 = 100;
    let mut rig = Rig::start(vec![Platform::start(30).await]).await;
    rig.converge().await;
    rig.watch_floor();
    let p = &rig.platforms[0];
    let (ev, ids) = (p.ev.clone(), p.ids.clone());
    for id in &ids[..5] {
        p.fake.set_status(&ev, id, SELECTED);
    }
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    // Each of the next 100 streams is cut after 1..500 body bytes: inside
    // the chunk header, the `data:` line or the JSON of its first event.
    for _ in 0..DROPS {
        let cut = 1 + next(500) as usize;
        rig.platforms[0]
            .proxy
            .rule("GET", "/questions/stream", Fault::CutAfter(cut), 1);
    }
    let start = Instant::now();
    rig.platforms[0].proxy.cut_all();
    let mut added = Vec::new();
    for round in 0..DROPS {
        let used = rig
            .until(WAIT, |r| r.platforms[0].proxy.rules_left() < DROPS - round)
            .await;
        assert!(used, "round {round}: the stream never came back");
        // The server changes while streams come and go.
        let p = &rig.platforms[0];
        let i = next(30) as usize;
        match round % 5 {
            0 => p.fake.set_status(&ev, &ids[i], SELECTED),
            1 => p.fake.set_status(&ev, &ids[i], DEFAULT),
            2 => {
                p.fake.vote_as(&ev, &ids[i], &format!("audience-{round}"));
            }
            3 => added.push(p.fake.add_question(&ev, &format!("new {round}"))),
            _ => p.fake.set_text(&ev, &ids[i], &format!("edited {round}")),
        }
    }
    rig.converge().await;
    let elapsed = start.elapsed();

    // The gaps between a cut stream and the next one opened are reported,
    // not bounded: a slow machine stretches them, the backoff does not.
    let log = rig.platforms[0].proxy.log();
    let opens: Vec<Duration> = log
        .iter()
        .filter(|s| s.key.contains("/questions/stream"))
        .map(|s| s.at)
        .collect();
    assert!(opens.len() as u32 > DROPS, "{} stream opens", opens.len());
    let worst = opens.windows(2).map(|w| w[1] - w[0]).max().unwrap();
    let p = &rig.platforms[0];
    assert_eq!(rig.count(0), 30 + added.len());
    assert_eq!(rig.floor, Some(30), "a question left the view");
    assert!(p.fake.counters().streams_opened > DROPS as u64);
    eprintln!("{DROPS} drops in {elapsed:?}, slowest reconnect {worst:?}");
}

#[tokio::test]
async fn enormous_and_endless_answers_are_read_with_bounded_memory() {
    let mut rig = Rig::start(vec![Platform::start(0).await]).await;
    let p = &rig.platforms[0];
    let ev = p.ev.clone();
    // Ten 1 MB questions: every listing is a 10 MB body.
    let big: Vec<String> = (0..10)
        .map(|i| {
            let text = format!("{i}{}", "ж".repeat(512 * 1024));
            p.fake.add_question_with(&ev, NewQuestion::new(text))
        })
        .collect();
    rig.converge().await;
    for id in &big {
        let e = rig.session.app.queue.get(&Rig::key(0, id)).unwrap();
        assert!(
            e.view.text.len() <= MAX_TEXT_BYTES + 64,
            "{} bytes kept",
            e.view.text.len()
        );
        assert!(e.view.text.ends_with("more characters cut]"));
    }
    rig.watch_floor();
    // An endless listing answer: the client stops reading at its bound.
    let p = &rig.platforms[0];
    p.proxy.rule("GET", "/questions?", Fault::Endless, 1);
    let ok = rig
        .until(WAIT, |r| r.platforms[0].proxy.endless_abandoned() == 1)
        .await;
    assert!(ok, "the client kept reading an endless body");
    let read = rig.platforms[0].proxy.endless_bytes();
    let bound = (qadeck::provider::http::MAX_BODY + 16 * 1024 * 1024) as u64;
    assert!(read <= bound, "{read} bytes read of an endless body");
    rig.converge().await;
    assert_eq!(rig.floor, Some(10));
}

#[tokio::test]
async fn an_endless_stream_event_is_dropped_and_the_stream_comes_back() {
    let mut rig = Rig::start(vec![Platform::start(5).await]).await;
    rig.converge().await;
    rig.watch_floor();
    let p = &rig.platforms[0];
    let (ev, ids) = (p.ev.clone(), p.ids.clone());
    p.proxy
        .rule("GET", "/questions/stream", Fault::EndlessSseEvent, 1);
    p.proxy.cut_all();
    // The client reads more than its event bound of one endless `data:`
    // line (the parser drops it, holding at most the bound), until the
    // stream ends (the proxy's cap) or it gives up on it (no heartbeat
    // within the liveness timeout).
    let bound = qadeck::provider::http::MAX_BODY as u64;
    let ok = rig
        .until(WAIT, |r| {
            let proxy = &r.platforms[0].proxy;
            proxy.endless_abandoned() == 1 || proxy.endless_bytes() >= ENDLESS_CAP
        })
        .await;
    let read = rig.platforms[0].proxy.endless_bytes();
    assert!(ok && read > bound, "the endless event: {read} bytes read");
    rig.platforms[0].fake.set_status(&ev, &ids[2], SELECTED);
    // No heartbeat arrives inside an endless event: the stream is declared
    // dead after the liveness timeout and comes back with a resync.
    rig.converge().await;
    assert_eq!(rig.floor, Some(5));
}

#[test]
fn the_sse_parser_holds_a_bounded_amount_of_an_endless_event() {
    const MAX: usize = 1024 * 1024;
    let mut parser = SseParser::new(MAX);
    let mut items = parser.push(b"data: [1]\n\ndata: ");
    let block = vec![b'x'; 64 * 1024];
    let mut held = 0;
    // 256 MB of one data line, in 64 KB chunks.
    for _ in 0..4096 {
        items.extend(parser.push(&block));
        held = held.max(parser.buffered_bytes());
    }
    assert!(held <= MAX + block.len(), "{held} bytes held");
    items.extend(parser.push(b"\n\ndata: [2]\n\n"));
    let kinds: Vec<String> = items
        .iter()
        .map(|i| match i {
            SseItem::Event(e) => e.data.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["[1]", "Oversized", "[2]"]);
}

/// Three sources in one session: one whose platform is down, one whose key
/// is refused, one healthy. The healthy one keeps delivering, each shows its
/// own connection state, and the failing ones recover once fixed.
#[tokio::test]
async fn a_failing_source_does_not_stop_the_others() {
    let platforms = vec![
        Platform::start(6).await,
        Platform::start(6).await,
        Platform::start(6).await,
    ];
    platforms[0].proxy.set_down(true);
    let mut rig = Rig::start_keys(platforms, &[None, Some("pk_live_wrong_key_0000"), None]).await;
    let ok = rig
        .until(WAIT, |r| {
            matches!(r.connection(0), Connection::Retrying { .. })
                && matches!(r.connection(1), Connection::Failed { .. })
                && r.mismatch(2).is_none()
        })
        .await;
    assert!(
        ok,
        "states: {:?} {:?} {:?}",
        rig.connection(0),
        rig.connection(1),
        rig.mismatch(2)
    );
    let healthy = rig.platforms[2].ids.clone();
    let down = rig.platforms[0].ids.clone();
    // Actions on the down source wait; the healthy source takes actions and
    // new questions as usual.
    rig.act(0, &down[0], ModAction::Vote);
    rig.act(2, &healthy[0], ModAction::Approve);
    rig.act(2, &healthy[1], ModAction::Vote);
    let (ev2, fake2) = (rig.platforms[2].ev.clone(), &rig.platforms[2].fake);
    let late = fake2.add_question(&ev2, "a question while the others fail");
    fake2.set_status(&ev2, &late, SELECTED);
    let ok = rig
        .until(WAIT, |r| {
            r.mismatch(2).is_none() && r.session.app.queue.get(&Rig::key(2, &late)).is_some()
        })
        .await;
    assert!(ok, "healthy source: {:?}", rig.mismatch(2));
    assert!(matches!(rig.connection(0), Connection::Retrying { .. }));
    assert!(matches!(rig.connection(1), Connection::Failed { .. }));
    assert_eq!(rig.platforms[2].received("PATCH", &healthy[0]), 1);
    assert_eq!(rig.platforms[2].received("VOTE", &healthy[1]), 1);
    assert_eq!(rig.count(0), 0, "nothing from the down source yet");

    // The platform comes back, the key is fixed on the server side (as if
    // the moderator's key had been re-enabled): both recover.
    rig.platforms[0].proxy.set_down(false);
    rig.platforms[1].fake.set_api_key("pk_live_wrong_key_0000");
    rig.converge().await;
    assert_eq!(rig.platforms[0].received("VOTE", &down[0]), 1);
}

/// Every kind of fault, on approvals and on votes: each action lands with
/// one effect, and the journal says so.
#[tokio::test]
async fn every_fault_kind_on_writes_each_action_has_one_effect() {
    let mut rig = Rig::start(vec![Platform::start(30).await]).await;
    rig.converge().await;
    let p = &rig.platforms[0];
    let ids = p.ids.clone();
    let faults = [
        Fault::Refuse,
        Fault::Status(500),
        Fault::Status(502),
        Fault::RateLimited { retry_after_s: 0 },
        Fault::Delay(Duration::from_millis(300)),
        Fault::DropResponse,
        Fault::TruncateJson,
        Fault::CorruptJson,
    ];
    let mut lost = HashMap::new();
    for (i, id) in ids.iter().enumerate().take(24) {
        let fault = faults[(i / 2) % faults.len()].clone();
        let vote = i % 2 == 1;
        let needle = if vote {
            format!("/questions/{id}/vote")
        } else {
            format!("/questions/{id}")
        };
        let method = if vote { "POST" } else { "PATCH" };
        // Lost answers after the server applied them: a PATCH is sent once
        // more; a vote whose answer is unreadable is toggled twice more.
        let extra = match (&fault, vote) {
            (Fault::DropResponse, false) => 1,
            (Fault::DropResponse | Fault::TruncateJson | Fault::CorruptJson, true) => 2,
            _ => 0,
        };
        lost.insert(id.clone(), extra);
        p.proxy.rule(method, &needle, fault, 1);
    }
    for (i, id) in ids.iter().enumerate().take(24) {
        let action = if i % 2 == 1 {
            ModAction::Vote
        } else {
            ModAction::Approve
        };
        rig.act(0, id, action);
    }
    rig.converge().await;
    let p = &rig.platforms[0];
    for (i, id) in ids.iter().enumerate().take(24) {
        let method = if i % 2 == 1 { "VOTE" } else { "PATCH" };
        assert_eq!(
            p.received(method, id),
            1 + lost[id],
            "{id} ({:?})",
            faults[(i / 2) % faults.len()]
        );
    }
    assert_eq!(rig.journal_count(JournalOutcome::Confirmed), 24);
    assert_eq!(rig.journal_count(JournalOutcome::Failed), 0);
}

/// A platform adapter with a bug: its feed panics the first time it runs,
/// and so does its first action. Otherwise it is the PostoBox provider.
struct Buggy {
    inner: Arc<Postobox>,
    feed_panics: std::sync::atomic::AtomicBool,
    perform_panics: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl Provider for Buggy {
    fn capabilities(&self) -> qadeck::domain::Capabilities {
        self.inner.capabilities()
    }
    async fn run_feed(&self, tx: qadeck::provider::FeedTx) {
        if self
            .feed_panics
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            panic!("adapter bug in the feed");
        }
        self.inner.run_feed(tx).await;
    }
    async fn list_events(&self) -> ProviderResult<Vec<qadeck::domain::EventInfo>> {
        self.inner.list_events().await
    }
    async fn perform(&self, op: &Op) -> ProviderResult<qadeck::domain::Outcome> {
        if self
            .perform_panics
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            panic!("adapter bug performing {op:?}");
        }
        self.inner.perform(op).await
    }
    async fn fetch_question(&self, id: &str) -> ProviderResult<qadeck::domain::Question> {
        self.inner.fetch_question(id).await
    }
}

/// A panic in one source's adapter: its feed shows as failed and starts
/// over; its action is kept as failed (not lost, not sent) until retried;
/// the other source never notices.
#[tokio::test]
async fn a_panicking_adapter_is_contained_to_its_source() {
    let platforms = vec![Platform::start(4).await, Platform::start(4).await];
    let buggy = Arc::new(Buggy {
        inner: platforms[0].provider(0, None),
        feed_panics: true.into(),
        perform_panics: true.into(),
    });
    let inputs = vec![
        SourceInput::Built {
            name: "s0".into(),
            event: platforms[0].ev.clone(),
            provider: buggy,
        },
        SourceInput::Built {
            name: "s1".into(),
            event: platforms[1].ev.clone(),
            provider: platforms[1].provider(1, None),
        },
    ];
    let store = Arc::new(Store::open_in_memory().unwrap());
    let (mut session, inbox) = Session::new(inputs, store, KeyMap::default(), moderator()).unwrap();
    session.set_outbox_timing(outbox_timing());
    session.start(true);
    let mut rig = Rig {
        session,
        inbox,
        platforms,
        floor: None,
    };
    let ok = rig
        .until(WAIT, |r| {
            matches!(r.connection(0), Connection::Failed { .. }) && r.mismatch(1).is_none()
        })
        .await;
    assert!(ok, "{:?} / {:?}", rig.connection(0), rig.mismatch(1));
    // The feed starts over by itself; the first action hits the bug.
    let ok = rig
        .until(WAIT, |r| *r.connection(0) == Connection::Live)
        .await;
    assert!(ok, "{:?}", rig.connection(0));
    let ids = rig.platforms[0].ids.clone();
    rig.act(0, &ids[0], ModAction::Approve);
    let ok = rig.until(WAIT, |r| !r.session.app.failed.is_empty()).await;
    assert!(ok, "the panicked action shows as failed");
    let op_id = rig.session.app.failed[0].queued.op_id.clone();
    assert!(rig.session.app.failed[0].reason.contains("internal error"));
    assert_eq!(rig.platforms[0].received("PATCH", &ids[0]), 0);
    assert_eq!(
        rig.session.store().failed(None).unwrap()[0].op_id,
        op_id,
        "kept in the outbox"
    );
    // ctrl-r: retried, delivered once.
    rig.handle(Event::Key(ratatui_textarea::Input {
        key: ratatui_textarea::Key::Char('r'),
        ctrl: true,
        ..Default::default()
    }));
    rig.converge().await;
    assert_eq!(rig.platforms[0].received("PATCH", &ids[0]), 1);
}

// ---------------------------------------------------------------------------
// The real binary: actions taken while the platform is down, `kill -9`,
// restart; an endless body and a 10 MB listing with bounded memory.
// ---------------------------------------------------------------------------

/// A qadeck installation in a temp dir: config, data dir (store, log).
struct Install {
    dir: tempfile::TempDir,
    key: String,
}

impl Install {
    fn new(base_url: &str, key: &str, ev: &str) -> Install {
        let dir = tempfile::tempdir().unwrap();
        let cfg = format!(
            "[moderator]\nname = \"Tess\"\nidentifier = \"{IDENTIFIER}\"\n\n\
             [[source]]\nname = \"keynote\"\nprovider = \"postobox\"\nevent = \"{ev}\"\n\
             api_key_env = \"QADECK_TEST_PB_KEY\"\nbase_url = \"{base_url}\"\n"
        );
        std::fs::write(dir.path().join("config.toml"), cfg).unwrap();
        Install {
            dir,
            key: key.to_string(),
        }
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data").join("qadeck")
    }

    fn store(&self) -> Store {
        Store::open(&self.data().join("qadeck.db")).unwrap()
    }

    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_qadeck"));
        c.arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .args(args)
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("HOME", self.dir.path())
            .env("QADECK_TEST_PB_KEY", &self.key)
            .env("QADECK_LOG", "debug")
            .stdin(std::process::Stdio::null());
        c
    }

    /// `qadeck watch` in the background, stdout to a file.
    fn watch(&self, out: &str) -> Child {
        let file = std::fs::File::create(self.dir.path().join(out)).unwrap();
        Child(
            self.cmd(&["watch", "--source", "keynote"])
                .stdout(file)
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        )
    }

    fn read(&self, out: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(out)).unwrap_or_default()
    }
}

/// Never leaves a child running when a test fails.
struct Child(std::process::Child);

impl Child {
    fn kill_9(&mut self) {
        self.0.kill().unwrap(); // SIGKILL
        self.0.wait().unwrap();
    }

    /// Peak resident memory (`VmHWM`) in bytes, from /proc.
    fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap()
            * 1024
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `pred` holds, at most `timeout`.
fn wait_for(what: &str, timeout: Duration, pred: impl FnMut() -> bool) {
    assert!(wait_until(timeout, pred), "timed out: {what}");
}

fn count_outcome(store: &Store, outcome: JournalOutcome) -> usize {
    store
        .journal(1_000_000)
        .unwrap()
        .iter()
        .filter(|e| e.outcome == outcome)
        .map(attempts)
        .sum()
}

/// Journal lines count once, except a retry line: it stands for its first
/// retry and the `retries` counted on it.
fn attempts(e: &qadeck::store::JournalEntry) -> usize {
    match e.outcome {
        JournalOutcome::Retrying => 1 + e.retries as usize,
        _ => 1,
    }
}

/// The acceptance test of the outbox: 1,000 actions (approvals and vote
/// toggles) taken while the platform is down, `kill -9` of qadeck while it
/// keeps failing to deliver them, restart with the platform back — then a
/// second `kill -9` in the middle of delivery and a second restart. Every
/// action reaches the server exactly once; no vote is toggled twice.
#[test]
fn a_thousand_actions_while_down_survive_kill_9_and_land_exactly_once() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        // A real round trip: with 8 on the wire, a local server without one
        // would see the backlog gone before the second kill.
        latency: Duration::from_millis(20),
        ..FakeConfig::fast()
    });
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 500);
    let proxy = FaultProxy::start_background(fake.addr());
    proxy.set_down(true);
    let inst = Install::new(&proxy.base_url(), &fake.api_key(), &ev);

    // 500 approvals, 400 votes, then 100 of those votes taken back.
    let mut lines = String::new();
    for (i, id) in ids.iter().enumerate() {
        lines.push_str(&format!("{id} approve\n"));
        if i < 400 {
            lines.push_str(&format!("{id} vote\n"));
        }
    }
    for id in &ids[..100] {
        lines.push_str(&format!("{id} unvote\n"));
    }
    let mut moderate = inst
        .cmd(&["moderate", "--source", "keynote", "--stdin", "--no-wait"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    moderate
        .stdin
        .take()
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();
    let out = moderate.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("1000 action(s) queued"), "{stderr}");
    assert_eq!(inst.store().pending(None).unwrap().len(), 1000);

    // qadeck runs, the platform is down: delivery keeps failing. kill -9.
    let mut child = inst.watch("watch-1.ndjson");
    wait_for("delivery attempts while down", WAIT, || {
        count_outcome(&inst.store(), JournalOutcome::Retrying) >= 2
    });
    child.kill_9();
    assert!(proxy.counters().refused_down > 0);
    assert_eq!(fake.counters().total, 0, "nothing reached the server");
    assert_eq!(inst.store().pending(None).unwrap().len(), 1000);

    // Restart with the platform back; kill -9 again half way through.
    proxy.set_down(false);
    let mut child = inst.watch("watch-2.ndjson");
    wait_for(
        "half the actions delivered",
        Duration::from_secs(120),
        || count_outcome(&inst.store(), JournalOutcome::Confirmed) >= 400,
    );
    child.kill_9();
    // The actions on the wire at the kill (up to 8 at once) may have
    // reached the server without their answers being recorded: they are
    // among the queued ones that were handed out before.
    let store = inst.store();
    let pending = store.pending(None).unwrap();
    assert!(!pending.is_empty(), "the kill came too late to be half way");
    let maybe_sent: Vec<Op> = pending
        .into_iter()
        .filter(|r| r.claims > 0)
        .map(|r| r.op)
        .collect();
    assert!(maybe_sent.len() <= 16, "{maybe_sent:?}");
    drop(store);

    // Restart: everything is delivered.
    let mut child = inst.watch("watch-3.ndjson");
    wait_for("every action delivered", Duration::from_secs(120), || {
        inst.store().pending(None).unwrap().is_empty()
    });
    child.kill_9();

    // Exactly once, per question, on the server's own counters.
    let store = inst.store();
    assert_eq!(count_outcome(&store, JournalOutcome::Confirmed), 1000);
    assert!(store.failed(None).unwrap().is_empty());
    let counters = fake.counters();
    for (i, id) in ids.iter().enumerate() {
        let q = fake.question(&ev, id).unwrap();
        assert_eq!(q.status, SELECTED, "{id}");
        let voted = (100..400).contains(&i);
        assert_eq!(q.voters.contains(IDENTIFIER), voted, "{id}");
        assert_eq!(q.vote_count, voted as i64, "{id}: the vote counts once");
        let patches = counters.path(&format!("PATCH /events/{ev}/questions/{id}"));
        let toggles = counters.path(&format!("POST /events/{ev}/questions/{id}/vote"));
        let (want_patches, want_toggles) =
            (1, [2, 1, 0][(i >= 100) as usize + (i >= 400) as usize]);
        // Only an action on the wire at the second kill may have been sent
        // twice: a PATCH (idempotent) once more, a toggle twice more (off
        // again, then on: it still counts once).
        let on_wire = |approve: bool| {
            maybe_sent
                .iter()
                .any(|op| op.target() == Some(id.as_str()) && (op.label() == "approve") == approve)
        };
        let ok_patches = patches == want_patches || (on_wire(true) && patches == 2);
        let ok_toggles = toggles == want_toggles || (on_wire(false) && toggles == want_toggles + 2);
        assert!(
            ok_patches && ok_toggles,
            "{id}: {patches} PATCH, {toggles} toggles (on the wire: {maybe_sent:?})"
        );
    }
    let total_patches = counters.route("PATCH /events/{id}/questions/{qid}");
    let total_toggles = counters.route("POST /events/{id}/questions/{qid}/vote");
    let approvals = maybe_sent
        .iter()
        .filter(|op| op.label() == "approve")
        .count() as u64;
    let votes = maybe_sent.len() as u64 - approvals;
    assert!(
        (500..=500 + approvals).contains(&total_patches),
        "{total_patches}"
    );
    assert!(
        (500..=500 + 2 * votes).contains(&total_toggles),
        "{total_toggles}"
    );
    eprintln!("{total_patches} PATCH and {total_toggles} toggles for 1,000 actions");
}

/// The real binary against enormous answers: ten 1 MB questions (every
/// listing a 10 MB body), an endless listing answer and an endless stream
/// event. Its peak memory stays far below what keeping any of it would take,
/// and every question it prints is capped.
#[test]
fn enormous_answers_keep_the_binary_within_bounded_memory() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    let ev = fake.add_event("Keynote");
    for i in 0..10 {
        let text = format!("{i}{}", "ж".repeat(512 * 1024));
        fake.add_question_with(&ev, NewQuestion::new(text));
    }
    let proxy = FaultProxy::start_background(fake.addr());
    // The first full listing never ends; the second stream's one event
    // neither.
    proxy.rule("GET", "limit=100&sortBy", Fault::Endless, 1);
    proxy.rule("GET", "/questions/stream", Fault::Normal, 1);
    proxy.rule("GET", "/questions/stream", Fault::EndlessSseEvent, 1);
    let inst = Install::new(&proxy.base_url(), &fake.api_key(), &ev);
    let mut child = inst.watch("watch.ndjson");
    let printed = |inst: &Install| {
        inst.read("watch.ndjson")
            .lines()
            .filter(|l| l.contains("\"type\":\"question\""))
            .count()
    };
    wait_for("the endless listing given up", WAIT, || {
        proxy.endless_abandoned() >= 1
    });
    // (The feed reconnected: its new stream is the endless one.)
    wait_for("ten questions printed", WAIT, || printed(&inst) >= 10);
    // More than the whole bound below: a client keeping it could not stay
    // under it.
    let endless = 160 * 1024 * 1024;
    wait_for("160 MB of an endless stream event read", WAIT, || {
        proxy.endless_bytes() >= endless
    });
    let peak = child.peak_rss();
    child.kill_9();
    let out = inst.read("watch.ndjson");
    for line in out.lines() {
        assert!(
            line.len() < MAX_TEXT_BYTES + 4096,
            "a {} byte line",
            line.len()
        );
    }
    // Bounded: one body at most MAX_BODY (16 MB), one event at most as
    // much; everything read beyond that was dropped, not kept.
    let mb = peak / (1024 * 1024);
    eprintln!(
        "peak RSS {mb} MB after {} MB of endless answers",
        proxy.endless_bytes() >> 20
    );
    assert!(mb < 150, "peak resident memory {mb} MB");
}

/// The TUI, as a person uses it: questions on screen, the platform goes
/// down, the moderator approves three questions and votes on a fourth, and
/// qadeck is killed with `kill -9`. The store holds every action; the next
/// run, with the platform back, delivers each exactly once.
#[test]
fn tui_actions_queued_while_down_survive_kill_9() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    let ev = fake.add_event("Keynote");
    fake.add_questions(&ev, 6);
    let proxy = FaultProxy::start_background(fake.addr());
    let inst = Install::new(&proxy.base_url(), &fake.api_key(), &ev);
    let args = format!(
        "--config {} --store {}",
        inst.dir.path().join("config.toml").display(),
        inst.data().join("qadeck.db").display()
    );
    let key = fake.api_key();
    let t = crate::support::tmux::Tmux::start(&args, 120, 40, &[("QADECK_TEST_PB_KEY", &key)]);
    t.wait_for("six pending questions", WAIT, |s| {
        crate::support::tmux::count(s, "Pending") == Some(6)
    });
    proxy.set_down(true);
    proxy.cut_all();
    t.wait_text("retrying", WAIT);
    for k in ["a", "a", "a", "v"] {
        t.keys(&[k]);
        std::thread::sleep(Duration::from_millis(150));
    }
    t.wait_for("three approvals shown in flight", WAIT, |s| {
        crate::support::tmux::count(s, "Selected") == Some(3) && s.contains('⋯')
    });
    let pid = t.pane_pid().expect("qadeck's pid");
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    wait_for("qadeck gone", WAIT, || t.dead());
    assert_eq!(
        fake.counters().route("PATCH /events/{id}/questions/{qid}"),
        0
    );
    let queued = inst.store().pending(None).unwrap();
    let labels: Vec<String> = queued.iter().map(|r| r.op.label()).collect();
    assert_eq!(labels, ["approve", "approve", "approve", "vote up"]);

    proxy.set_down(false);
    let mut child = inst.watch("after.ndjson");
    wait_for("delivered after the restart", WAIT, || {
        inst.store().pending(None).unwrap().is_empty()
    });
    child.kill_9();
    let counters = fake.counters();
    for row in &queued {
        let id = row.op.target().unwrap();
        let path = if row.op.label() == "approve" {
            format!("PATCH /events/{ev}/questions/{id}")
        } else {
            format!("POST /events/{ev}/questions/{id}/vote")
        };
        assert_eq!(counters.path(&path), 1, "{path}");
    }
    assert_eq!(count_outcome(&inst.store(), JournalOutcome::Confirmed), 4);
}
