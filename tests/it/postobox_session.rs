//! The whole runtime (core, durable outbox, PostoBox provider) in process
//! against the fake: the Free-plan budget over ten (time-scaled) minutes, a
//! 429 that keeps the action queued with a countdown, and capabilities that
//! follow what the provider learns. Every wait is bounded.

use crate::support::postobox_fake::{
    ANSWERED, DEFAULT, FakeConfig, FakePostobox, Plan, REJECTED, SELECTED,
};
use qadeck::app::{Event, KeyMap, ModAction};
use qadeck::domain::{Delivery, Moderator, QKey, SourceId, Status};
use qadeck::provider::postobox::{PollPolicy, Postobox, Settings, Timing};
use qadeck::provider::{BuildCtx, Provider, now_ms};
use qadeck::runtime::{Inbox, Session, SourceInput};
use qadeck::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const IDENTIFIER: &str = "qadeck-session-test";

fn moderator() -> Moderator {
    Moderator {
        identifier: IDENTIFIER.into(),
        name: "tess".into(),
    }
}

/// The production timing with every clock divided by `scale`: the same
/// policy (shares, reserve, 60 requests a window), only faster.
fn scaled_timing(scale: u32) -> Timing {
    let d = Timing::default();
    let p = PollPolicy::default();
    Timing {
        liveness: d.liveness / scale,
        reconnect_base: d.reconnect_base / scale,
        reconnect_cap: d.reconnect_cap / scale,
        healthy_after: d.healthy_after / scale,
        failed_retry: d.failed_retry / scale,
        active_window: d.active_window / scale,
        poll: PollPolicy {
            window: p.window / scale,
            active: p.active / scale,
            idle: p.idle / scale,
            min: p.min / scale,
            max: p.max / scale,
            ..p
        },
    }
}

fn provider(fake: &FakePostobox, event: &str, timing: Timing) -> Arc<dyn Provider> {
    let mut s = Settings::new("keynote");
    s.api_key = Some(fake.api_key());
    s.base_url = fake.base_url();
    s.event = Some(event.into());
    let ctx = BuildCtx {
        source: SourceId(0),
        moderator: moderator(),
        event: None,
    };
    Arc::new(Postobox::new(&s, &ctx).expect("builds").with_timing(timing))
}

fn session(provider: Arc<dyn Provider>, event: &str) -> (Session, Inbox) {
    let input = SourceInput::Built {
        name: "keynote".into(),
        event: event.into(),
        provider,
    };
    let store = Arc::new(Store::open_in_memory().unwrap());
    let (mut s, inbox) =
        Session::new(vec![input], store, KeyMap::default(), moderator()).expect("session");
    s.start(true);
    (s, inbox)
}

/// Runs the loop (as the TUI does: events plus a tick) until `deadline`.
async fn pump(s: &mut Session, inbox: &mut Inbox, deadline: Instant) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        let ev = tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return,
            Some(f) = inbox.feed.recv() => Event::Feed(f),
            Some(r) = inbox.reports.recv() => Event::Op(r),
            Some(m) = inbox.misc.recv() => m,
            _ = tick.tick() => Event::Tick { now: now_ms() },
        };
        s.handle(ev);
    }
}

/// Pumps until `pred` holds; false after `timeout`.
async fn pump_until(
    s: &mut Session,
    inbox: &mut Inbox,
    timeout: Duration,
    pred: impl Fn(&Session) -> bool,
) -> bool {
    let end = Instant::now() + timeout;
    while !pred(s) {
        if Instant::now() >= end {
            return false;
        }
        pump(
            s,
            inbox,
            (Instant::now() + Duration::from_millis(50)).min(end),
        )
        .await;
    }
    true
}

fn key(id: &str) -> QKey {
    QKey {
        source: SourceId(0),
        id: id.into(),
    }
}

fn act(s: &mut Session, id: &str, action: ModAction) {
    let cmds = s.app.moderate(key(id), action).expect("action accepted");
    s.execute(cmds);
}

fn status_of(s: &Session, id: &str) -> Option<Status> {
    s.app.queue.get(&key(id)).map(|e| e.view.status)
}

fn wire(st: Status) -> &'static str {
    match st {
        Status::Pending => DEFAULT,
        Status::Selected => SELECTED,
        Status::Answered => ANSWERED,
        Status::Rejected => REJECTED,
    }
}

/// The core holds exactly the server's questions, in the server's states.
fn core_matches_server(s: &Session, fake: &FakePostobox, ev: &str) -> bool {
    let server = fake.questions(ev);
    s.app.queue.len() == server.len()
        && server
            .iter()
            .all(|q| status_of(s, &q.id).is_some_and(|st| wire(st) == q.status))
}

/// Issue 4: "A Free-plan key (60 requests a minute) runs for 10 minutes
/// without a 429." Time runs 30 times faster on both sides: the fake's
/// window is 2 s with the Free plan's 60 requests, and every client clock
/// is divided by 30. A moderator acts every 4 (scaled) seconds while the
/// audience asks a question every 10.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_plan_ten_scaled_minutes_without_a_429() {
    const SCALE: u32 = 30;
    let minute = Duration::from_secs(60) / SCALE;
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Free,
        rate_window: minute,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 30);
    let (mut s, mut inbox) = session(provider(&fake, &ev, scaled_timing(SCALE)), &ev);
    assert!(
        pump_until(&mut s, &mut inbox, Duration::from_secs(10), |s| s
            .app
            .queue
            .len()
            == 30)
        .await,
        "the first listing never arrived"
    );

    let started = Instant::now();
    let run_for = minute * 10;
    let mut next_action = started;
    let mut next_question = started;
    let mut actions = 0usize;
    let mut asked = 0usize;
    while started.elapsed() < run_for {
        let now = Instant::now();
        if now >= next_action {
            // Approve, vote, reject, unvote, send back: one request each.
            let id = ids[actions / 5 % ids.len()].clone();
            let action = [
                ModAction::Approve,
                ModAction::Vote,
                ModAction::Reject,
                ModAction::Unvote,
                ModAction::Pending,
            ][actions % 5];
            act(&mut s, &id, action);
            actions += 1;
            next_action += minute * 4 / 60;
        }
        if now >= next_question {
            fake.add_question(&ev, &format!("From the floor {asked}"));
            asked += 1;
            next_question += minute * 10 / 60;
        }
        let until = next_action.min(next_question).min(started + run_for);
        pump(&mut s, &mut inbox, until).await;
    }
    let elapsed = started.elapsed();
    // Let the last action and poll land.
    let settled = pump_until(&mut s, &mut inbox, minute * 3, |s| {
        s.app.inflight.is_empty() && core_matches_server(s, &fake, &ev)
    })
    .await;

    let c = fake.counters();
    let scaled_minutes = elapsed.as_secs_f64() / minute.as_secs_f64();
    let per_minute = c.total as f64 / (started.elapsed().as_secs_f64() / minute.as_secs_f64());
    let busiest = fake.max_requests_in(minute);
    let listings = c.route("GET /events/{id}/questions");
    println!(
        "Free plan, {scaled_minutes:.1} scaled minutes: {} requests ({per_minute:.1} per minute, \
         busiest window {busiest}/60), {} listings ({:.1} per minute), {actions} actions, \
         {asked} new questions, {} × 429",
        c.total,
        listings,
        listings as f64 / scaled_minutes,
        c.rate_limited
    );
    assert_eq!(
        c.rate_limited,
        0,
        "429s: {:?}",
        fake.requests()
            .iter()
            .filter(|r| r.status == 429)
            .map(|r| (r.at, &r.path))
            .collect::<Vec<_>>()
    );
    assert!(busiest <= 60, "{busiest} requests in one window");
    assert!(actions >= 140, "only {actions} actions");
    assert!(settled, "the core does not match the server at the end");
    assert!(s.app.failed.is_empty(), "{:?}", s.app.failed);
    // Polling stayed useful: several listings a minute.
    assert!(
        listings as f64 / scaled_minutes >= 8.0,
        "{listings} listings"
    );
    // No stream on the Free plan: the runtime took the provider's new
    // capabilities, and the budget reached the status bar.
    let view = &s.app.sources[0];
    assert_eq!(view.caps.delivery, Delivery::Polling);
    assert!(
        view.notice
            .as_deref()
            .is_some_and(|n| n.contains("Enterprise"))
    );
    assert_eq!(view.budget.map(|b| b.limit), Some(60));
    s.shutdown().await;
}

/// "429 (wait Retry-After, show a countdown, keep the action queued)".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_keeps_actions_queued_with_a_countdown_and_delivers_each_once() {
    let window = Duration::from_secs(4);
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Free,
        rate_window: window,
        rate_limit: Some(8),
        // Blind to the budget, the outbox meets the limit as a 429 (with
        // the headers it keeps within it: `pipeline::the_pace_…`).
        rate_headers: false,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 10);
    // The feed polls slowly, so the budget is the moderator's.
    let mut timing = Timing::default();
    timing.poll.window = window;
    let (mut s, mut inbox) = session(provider(&fake, &ev, timing), &ev);
    assert!(
        pump_until(&mut s, &mut inbox, Duration::from_secs(10), |s| s
            .app
            .queue
            .len()
            == 10)
        .await
    );
    // A burst of approvals: more than the window allows.
    for id in &ids {
        act(&mut s, id, ModAction::Approve);
    }
    assert!(
        pump_until(&mut s, &mut inbox, Duration::from_secs(10), |s| s
            .app
            .retry_note()
            .is_some())
        .await,
        "no 429 was met"
    );
    let first = s.app.retry_note().unwrap();
    println!("status bar: {first}");
    assert!(
        first.contains("HTTP 429") && first.contains("kept queued"),
        "{first}"
    );
    let secs = |note: &str| -> Option<u64> {
        let rest = note.split(" in ").nth(1)?;
        rest.split('s').next()?.parse().ok()
    };
    let n0 = secs(&first).expect("a countdown in seconds");
    assert!((1..=5).contains(&n0), "{first}");
    // Every approval is still shown (in flight), none failed.
    assert!(
        ids.iter()
            .all(|id| status_of(&s, id) == Some(Status::Selected))
    );
    assert!(s.app.failed.is_empty());
    // The countdown runs with the clock.
    if n0 >= 2 {
        let went_down = pump_until(&mut s, &mut inbox, Duration::from_secs(3), |s| {
            s.app
                .retry_note()
                .and_then(|n| secs(&n))
                .is_some_and(|n| n < n0)
        })
        .await;
        assert!(
            went_down,
            "the countdown did not move: {:?}",
            s.app.retry_note()
        );
    }
    // Everything is delivered in the end, each change exactly once.
    assert!(
        pump_until(&mut s, &mut inbox, Duration::from_secs(30), |s| s
            .app
            .inflight
            .is_empty())
        .await,
        "still in flight: {:?}",
        s.app.retry_note()
    );
    assert!(s.app.failed.is_empty(), "{:?}", s.app.failed);
    assert_eq!(s.app.retry_note(), None);
    let log = fake.requests();
    for id in &ids {
        let path = format!("/events/{ev}/questions/{id}");
        let ok = log
            .iter()
            .filter(|r| r.method == "PATCH" && r.path == path && r.status == 200)
            .count();
        assert_eq!(ok, 1, "{id} changed {ok} times");
        assert_eq!(fake.question(&ev, id).unwrap().status, SELECTED);
    }
    // And the outbox waited as told: a refused action is not sent again
    // before the window resets (Retry-After). The fake's fixed windows
    // start with it, as its log's clock does.
    let refused: Vec<_> = log
        .iter()
        .filter(|r| r.status == 429 && r.method == "PATCH")
        .collect();
    println!("{} action request(s) answered 429", refused.len());
    assert!(!refused.is_empty());
    for r in refused {
        let boundary = window * (r.at.as_millis() / window.as_millis() + 1) as u32;
        let again = log
            .iter()
            .find(|x| x.path == r.path && x.method == "PATCH" && x.at > r.at)
            .expect("retried");
        assert!(
            again.at + Duration::from_millis(50) >= boundary,
            "{} retried at {:?}, before the reset at {boundary:?}",
            r.path,
            again.at
        );
    }
    s.shutdown().await;
}
