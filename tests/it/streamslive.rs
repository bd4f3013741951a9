//! The streams.live provider against the fake server
//! (`tests/support/streamslive_fake.rs`). Every wait is bounded.

use crate::support::streamslive_fake::{
    EVENT_ID, EVENT_SLUG, FakeConfig, FakeStreamsLive, Injected, OWNER_ID, THREAD_ID,
};
use qadeck::domain::{
    Connection, Feed, MyVote, Op, Outcome, ProviderError, ReportKind, SourceFeed, SourceId, Status,
};
use qadeck::provider::streamslive::{
    EventStatus, MAX_MESSAGE_CHARS, Settings, StreamsLive, check_message,
};
use qadeck::provider::{FeedTx, Provider};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

const STEP: Duration = Duration::from_secs(10);

fn provider_with(fake: &FakeStreamsLive, f: impl FnOnce(&mut Settings)) -> Arc<StreamsLive> {
    let mut s = fake.settings();
    f(&mut s);
    let event = s.event.clone();
    Arc::new(StreamsLive::new(&s, SourceId(3), event).expect("settings are valid"))
}

fn provider(fake: &FakeStreamsLive) -> Arc<StreamsLive> {
    provider_with(fake, |_| {})
}

/// Starts `run_feed` in a task; returns the receiving end.
fn start_feed(p: &Arc<StreamsLive>) -> (mpsc::Receiver<SourceFeed>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(256);
    let p = p.clone();
    let task = tokio::spawn(async move { p.run_feed(FeedTx::new(SourceId(3), tx)).await });
    (rx, task)
}

/// Receives feed events until `done` holds for one, at most `limit`.
async fn until(
    rx: &mut mpsc::Receiver<SourceFeed>,
    limit: Duration,
    mut done: impl FnMut(&Feed) -> bool,
) -> Vec<Feed> {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, rx.recv()).await {
            Ok(Some(sf)) => {
                assert_eq!(sf.source, SourceId(3));
                let hit = done(&sf.feed);
                seen.push(sf.feed);
                if hit {
                    return seen;
                }
            }
            Ok(None) => panic!("feed ended; saw {seen:#?}"),
            Err(_) => panic!("condition not met within {limit:?}; saw {seen:#?}"),
        }
    }
}

fn is_trouble(f: &Feed) -> bool {
    matches!(
        f,
        Feed::Connection(Connection::Retrying { .. } | Connection::Failed { .. }) | Feed::Notice(_)
    )
}

#[tokio::test]
async fn login_once_and_list_every_page_with_status_filter() {
    let fake = FakeStreamsLive::start(FakeConfig {
        extra_active_events: 14,
        past_events: 3,
        deleted_events: 2,
        ..FakeConfig::default()
    })
    .await;
    let p = provider(&fake);
    let active = p.list_events().await.unwrap();
    assert_eq!(active.len(), 15, "{active:#?}");
    assert_eq!(active[0].id, EVENT_SLUG, "the picker gets the slug");
    assert_eq!(active[0].active, Some(true));
    let c = fake.counters();
    assert_eq!(c.get("GET events"), 2, "two pages of 10\n{c}");
    assert_eq!(
        fake.last_request("GET events").unwrap().query,
        "page=2&status=0"
    );
    assert_eq!(
        p.list_events_with(Some(EventStatus::Past))
            .await
            .unwrap()
            .len(),
        3
    );
    let deleted = p
        .list_events_with(Some(EventStatus::Deleted))
        .await
        .unwrap();
    assert_eq!(deleted.len(), 2);
    assert_eq!(deleted[0].active, Some(false));
    let all = p.list_events_with(None).await.unwrap();
    assert_eq!(all.len(), 18);
    assert!(all.iter().all(|e| e.active.is_none()));
    let c = fake.counters();
    assert_eq!(c.get("POST auth/login"), 1, "one login for all calls\n{c}");
    assert_eq!(c.get("POST auth/login/refresh"), 0);
    let login = fake.last_request("POST auth/login").unwrap();
    assert_eq!(login.body["email"], "moderator@example.com");
    let listed = fake.last_request("GET events").unwrap();
    assert!(listed.bearer.is_some(), "API calls carry the bearer token");
}

#[tokio::test]
async fn feed_picks_up_questions_chat_and_deletions() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    let first = fake.add_question("Is shipping free?", Some("Ana"));
    let hello = fake.add_message("hello everyone", Some("Björn"));
    let p = provider(&fake);
    let (mut rx, task) = start_feed(&p);

    let seen = until(&mut rx, STEP, |f| {
        matches!(f, Feed::Connection(Connection::Polling))
    })
    .await;
    assert_eq!(seen[0], Feed::Connection(Connection::Connecting));
    assert!(
        seen.contains(&Feed::OpenState {
            questions: Some(true),
            chat: Some(true)
        }),
        "{seen:#?}"
    );
    let snap = seen.iter().find_map(|f| match f {
        Feed::Snapshot(qs) => Some(qs.clone()),
        _ => None,
    });
    let snap = snap.expect("a snapshot before Polling");
    assert_eq!(snap.len(), 1);
    assert_eq!(snap[0].id, first);
    assert_eq!(snap[0].author.as_deref(), Some("Ana"));
    assert_eq!(snap[0].status, Status::Pending);
    assert_eq!(snap[0].source, SourceId(3));
    let chat = seen.iter().find_map(|f| match f {
        Feed::ChatSnapshot(m) => Some(m.clone()),
        _ => None,
    });
    assert_eq!(chat.expect("chat snapshot")[0].id, hello);

    // The audience writes, hostile bytes included; the next polls show it.
    let evil = fake.add_question(
        "\x1b]52;c;cm0gLXJmIH4vKgo=\x07copy \u{202e}this",
        Some("Eve\x1b[8m"),
    );
    let msg = fake.add_message("new \x1b[2Jmessage", None);
    let mut got_q = false;
    let mut got_m = false;
    let seen = until(&mut rx, STEP, |f| {
        match f {
            Feed::Snapshot(qs) => got_q |= qs.iter().any(|q| q.id == evil),
            Feed::Messages(ms) => got_m |= ms.iter().any(|m| m.id == msg),
            _ => {}
        }
        got_q && got_m
    })
    .await;
    assert!(!seen.iter().any(is_trouble), "{seen:#?}");
    let q = seen
        .iter()
        .rev()
        .find_map(|f| match f {
            Feed::Snapshot(qs) => qs.iter().find(|q| q.id == evil).cloned(),
            _ => None,
        })
        .unwrap();
    assert!(qadeck::text::is_terminal_safe(&q.text), "{:?}", q.text);
    assert!(qadeck::text::is_terminal_safe(q.author.as_deref().unwrap()));
    let m = seen
        .iter()
        .find_map(|f| match f {
            Feed::Messages(ms) => ms.iter().find(|m| m.id == msg).cloned(),
            _ => None,
        })
        .unwrap();
    assert!(qadeck::text::is_terminal_safe(&m.text));
    assert_eq!(m.author, None);

    // Someone deletes a message elsewhere → MessageGone.
    fake.remove_message(&hello);
    until(&mut rx, STEP, |f| *f == Feed::MessageGone(hello.clone())).await;

    // Another moderator closes the Q&A: reported within the channel re-read
    // (here forced by a change through qadeck, which re-reads at once).
    p.perform(&Op::SetOpen {
        questions: Some(false),
        chat: None,
        guest_chat: None,
    })
    .await
    .unwrap();
    until(&mut rx, STEP, |f| {
        *f == Feed::OpenState {
            questions: Some(false),
            chat: Some(true),
        }
    })
    .await;

    let c = fake.counters();
    assert!(c.get("POST thread/read") >= 3, "{c}");
    assert!(!c.0.keys().any(|k| k.starts_with("UNMATCHED")), "{c}");
    let read = fake.last_request("POST thread/read").unwrap();
    // The documented `threadSlug` (a slug) and the logged-in user's id.
    assert_eq!(read.body["threadSlug"], EVENT_SLUG);
    assert_eq!(read.body["userId"], OWNER_ID.to_string());
    let qread = fake.last_request("POST questions/read").unwrap();
    assert_eq!(
        qread.body,
        json!({"eventId": EVENT_ID, "eventSlug": EVENT_SLUG})
    );
    task.abort();
}

#[tokio::test(start_paused = true)]
async fn many_refresh_cycles_surface_no_error() {
    let fake = FakeStreamsLive::start(FakeConfig {
        token_lifetime: Duration::from_secs(2),
        ..FakeConfig::default()
    })
    .await;
    fake.add_question("q", None);
    let p = provider_with(&fake, |s| s.poll_interval_ms = Some(150));
    let (mut rx, task) = start_feed(&p);
    let started = Instant::now();
    let mut seen = Vec::new();
    // About 3.5 lifetimes of polling.
    while started.elapsed() < Duration::from_millis(7_000) {
        if let Ok(Some(sf)) = timeout(Duration::from_millis(500), rx.recv()).await {
            seen.push(sf.feed);
        }
    }
    task.abort();
    assert!(!seen.iter().any(is_trouble), "{seen:#?}");
    let snapshots = seen
        .iter()
        .filter(|f| matches!(f, Feed::Snapshot(_)))
        .count();
    assert!(snapshots >= 20, "polled {snapshots} times");
    let c = fake.counters();
    assert_eq!(c.get("POST auth/login"), 1, "{c}");
    assert!(c.get("POST auth/login/refresh") >= 3, "{c}");
    assert_eq!(
        c.get("HTTP 401"),
        0,
        "renewed before expiry, never after\n{c}"
    );
    // Proactive: each refresh came while the old token was still alive
    // (margin 400 ms; a client renewing only at expiry gives <= 0 here).
    let headroom = fake.refresh_headroom_ms();
    assert!(
        headroom.len() >= 3 && headroom.iter().all(|ms| *ms > 0),
        "{headroom:?}"
    );
    let stats = p.auth_stats();
    assert_eq!((stats.logins, stats.failed_refreshes), (1, 0));
    assert!(stats.refreshes >= 3);
}

#[tokio::test(start_paused = true)]
async fn actions_racing_the_feed_across_refreshes_never_fail() {
    let fake = FakeStreamsLive::start(FakeConfig {
        token_lifetime: Duration::from_secs(2),
        ..FakeConfig::default()
    })
    .await;
    let qid = fake.add_question("q", None);
    let p = provider_with(&fake, |s| s.poll_interval_ms = Some(100));
    let (mut rx, task) = start_feed(&p);
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < Duration::from_millis(4_500) {
        let (a, b) = tokio::join!(p.fetch_question(&qid), p.read_chat());
        a.unwrap();
        b.unwrap();
        n += 1;
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    task.abort();
    let mut trouble = Vec::new();
    while let Ok(sf) = rx.try_recv() {
        if is_trouble(&sf.feed) {
            trouble.push(sf.feed);
        }
    }
    assert!(trouble.is_empty(), "{trouble:#?}");
    assert!(n > 20);
    let c = fake.counters();
    assert_eq!(c.get("POST auth/login"), 1, "{c}");
    assert!(c.get("POST auth/login/refresh") >= 2, "{c}");
}

#[tokio::test(start_paused = true)]
async fn refused_refresh_logs_in_again() {
    let fake = FakeStreamsLive::start(FakeConfig {
        token_lifetime: Duration::from_secs(2),
        ..FakeConfig::default()
    })
    .await;
    let qid = fake.add_question("q", None);
    let p = provider(&fake);
    p.fetch_question(&qid).await.unwrap();
    fake.set_refresh_fails(true);
    // Past the renewal point (1.6 s of 2 s), before expiry.
    tokio::time::sleep(Duration::from_millis(1_750)).await;
    p.fetch_question(&qid).await.unwrap();
    let c = fake.counters();
    assert_eq!(c.get("POST auth/login/refresh"), 1, "{c}");
    assert_eq!(c.get("POST auth/login"), 2, "{c}");
    let stats = p.auth_stats();
    assert_eq!(
        (stats.logins, stats.refreshes, stats.failed_refreshes),
        (2, 0, 1)
    );

    // Expired outright while refresh is still refused: same path.
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    p.fetch_question(&qid).await.unwrap();
    assert_eq!(fake.counters().get("POST auth/login"), 3);

    // A refresh endpoint answering 500 after a 401: log in again too.
    fake.set_refresh_fails(false);
    fake.inject(
        "POST auth/login/refresh",
        Injected::error(500, 500, "Server Error"),
    );
    fake.revoke_access_tokens();
    p.fetch_question(&qid).await.unwrap();
    let c = fake.counters();
    assert_eq!(c.get("POST auth/login"), 4, "{c}");
}

#[tokio::test]
async fn a_401_renews_once_and_retries() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    let qid = fake.add_question("q", None);
    let p = provider(&fake);
    p.fetch_question(&qid).await.unwrap();
    fake.revoke_access_tokens();
    let q = p.fetch_question(&qid).await.unwrap();
    assert_eq!(q.id, qid);
    let c = fake.counters();
    assert_eq!(c.get("HTTP 401"), 1, "{c}");
    assert_eq!(c.get("POST auth/login/refresh"), 1, "{c}");
    assert_eq!(c.get("POST auth/login"), 1, "{c}");

    // A 401 that persists after the renewal is an auth error, not a loop.
    fake.inject(
        "POST questions/read",
        Injected::error(401, 401, "Unauthenticated."),
    );
    fake.inject(
        "POST questions/read",
        Injected::error(401, 401, "Unauthenticated."),
    );
    let e = p.fetch_question(&qid).await.unwrap_err();
    assert!(matches!(e, ProviderError::Auth(_)), "{e:?}");
    // 1 + (401, retry) + (401, retry after renewal): no third attempt.
    assert_eq!(fake.counters().get("POST questions/read"), 5);
}

#[tokio::test]
async fn vote_directions_and_no_unvote() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    let qid = fake.add_question("q", None);
    fake.audience_vote(&qid, 7, 2);
    fake.audience_vote(&qid, 8, 2);
    let p = provider(&fake);
    assert_eq!(p.capabilities().vote, qadeck::domain::VoteKind::UpDown);

    let out = p
        .perform(&Op::Vote {
            id: qid.clone(),
            want: MyVote::Up,
        })
        .await
        .unwrap();
    assert_eq!(
        out,
        Outcome::Voted {
            id: qid.clone(),
            my_vote: MyVote::Up,
            votes: 3
        }
    );
    let sent = fake.last_request("POST questions/vote").unwrap();
    assert_eq!(sent.body, json!({"questionId": qid, "direction": 2}));
    // The same intent again (an outbox retry) is not sent twice.
    p.perform(&Op::Vote {
        id: qid.clone(),
        want: MyVote::Up,
    })
    .await
    .unwrap();
    assert_eq!(fake.counters().get("POST questions/vote"), 1);

    let out = p
        .perform(&Op::Vote {
            id: qid.clone(),
            want: MyVote::Down,
        })
        .await
        .unwrap();
    assert_eq!(
        out,
        Outcome::Voted {
            id: qid.clone(),
            my_vote: MyVote::Down,
            votes: 1
        }
    );
    assert_eq!(
        fake.last_request("POST questions/vote").unwrap().body["direction"],
        1
    );
    let q = fake.question(&qid).unwrap();
    assert_eq!((q.upvotes, q.downvotes), (2, 1));
    // The feed's view carries the moderator's vote.
    assert_eq!(p.fetch_question(&qid).await.unwrap().my_vote, MyVote::Down);

    // An answer that only echoes the vote is not read as "0 votes": the
    // count is read back from the questions.
    let other = fake.add_question("other", None);
    fake.audience_vote(&other, 7, 2);
    fake.audience_vote(&other, 8, 2);
    fake.inject(
        "POST questions/vote",
        Injected::raw(
            200,
            &format!(r#"{{"data":{{"questionId":"{other}","direction":2}}}}"#),
        ),
    );
    let out = p
        .perform(&Op::Vote {
            id: other.clone(),
            want: MyVote::Up,
        })
        .await
        .unwrap();
    assert_eq!(
        out,
        Outcome::Voted {
            id: other,
            my_vote: MyVote::Up,
            votes: 2
        }
    );

    let before = fake.counters().api_calls();
    let e = p
        .perform(&Op::Vote {
            id: qid.clone(),
            want: MyVote::None,
        })
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::Unsupported(_)), "{e:?}");
    assert_eq!(fake.counters().api_calls(), before, "nothing sent");
}

#[tokio::test]
async fn reject_archives_and_local_statuses_are_unsupported() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    let qid = fake.add_question("to be rejected", Some("Troll"));
    let keep = fake.add_question("fine", None);
    let p = provider(&fake);
    let caps = p.capabilities();
    assert_eq!(
        caps.server_statuses,
        vec![Status::Pending, Status::Rejected]
    );
    assert!(!caps.delete && caps.chat && caps.open_close && caps.submit_question);

    for status in [Status::Selected, Status::Answered] {
        let e = p
            .perform(&Op::SetStatus {
                id: qid.clone(),
                status,
            })
            .await
            .unwrap_err();
        assert!(matches!(e, ProviderError::Unsupported(_)), "{e:?}");
    }
    assert_eq!(fake.counters().api_calls(), 0, "refused before any request");

    let out = p
        .perform(&Op::SetStatus {
            id: qid.clone(),
            status: Status::Rejected,
        })
        .await
        .unwrap();
    match out {
        Outcome::Question(q) => {
            assert_eq!((q.id.as_str(), q.status), (qid.as_str(), Status::Rejected));
            assert_eq!(q.text, "to be rejected");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        fake.last_request("POST questions/archive").unwrap().body,
        json!({"eventSlug": EVENT_SLUG, "questionId": qid})
    );
    assert!(fake.question(&qid).unwrap().archived);
    // The platform no longer lists it; qadeck still shows it as rejected.
    let q = p.fetch_question(&qid).await.unwrap();
    assert_eq!(q.status, Status::Rejected);
    let (mut rx, task) = start_feed(&p);
    let seen = until(&mut rx, STEP, |f| matches!(f, Feed::Snapshot(_))).await;
    let Some(Feed::Snapshot(qs)) = seen.last() else {
        unreachable!()
    };
    assert_eq!(qs.len(), 2);
    assert!(
        qs.iter()
            .any(|q| q.id == qid && q.status == Status::Rejected)
    );
    assert!(
        qs.iter()
            .any(|q| q.id == keep && q.status == Status::Pending)
    );
    task.abort();

    // No un-archive on this platform.
    let e = p
        .perform(&Op::SetStatus {
            id: qid.clone(),
            status: Status::Pending,
        })
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::Unsupported(_)), "{e:?}");
    // Pending for a pending one just confirms.
    let out = p
        .perform(&Op::SetStatus {
            id: keep.clone(),
            status: Status::Pending,
        })
        .await
        .unwrap();
    assert!(matches!(out, Outcome::Question(q) if q.status == Status::Pending));
    let e = p.perform(&Op::Delete { id: keep }).await.unwrap_err();
    assert!(matches!(e, ProviderError::Unsupported(_)));
}

#[tokio::test]
async fn submit_question_and_open_close() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    let p = provider(&fake);
    let out = p
        .perform(&Op::SubmitQuestion {
            text: "From the stage: any discounts?".into(),
        })
        .await
        .unwrap();
    let Outcome::Question(q) = out else {
        panic!("{out:?}")
    };
    assert_eq!(q.text, "From the stage: any discounts?");
    assert_eq!(
        fake.last_request("POST questions/create").unwrap().body,
        json!({"question": "From the stage: any discounts?", "eventId": EVENT_SLUG})
    );
    assert_eq!(fake.questions().len(), 1);

    p.perform(&Op::SetOpen {
        questions: Some(false),
        chat: Some(false),
        guest_chat: Some(true),
    })
    .await
    .unwrap();
    let put = fake.last_request("PUT events/{id}").unwrap();
    assert_eq!(
        put.body,
        json!({"questionsEnabled": false, "questions_enabled": false,
               "chat_enabled": false, "guest_chat_enabled": true})
    );
    let e = fake.event(EVENT_SLUG).unwrap();
    assert_eq!(
        (e.questions_enabled, e.chat_enabled, e.guest_chat_enabled),
        (false, false, true)
    );
    p.perform(&Op::SetOpen {
        questions: Some(true),
        chat: None,
        guest_chat: None,
    })
    .await
    .unwrap();
    assert_eq!(
        fake.last_request("PUT events/{id}").unwrap().body,
        json!({"questionsEnabled": true, "questions_enabled": true})
    );
    let e = fake.event(EVENT_SLUG).unwrap();
    assert_eq!((e.questions_enabled, e.chat_enabled), (true, false));
}

#[tokio::test]
async fn chat_read_post_reply_and_delete() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    let first = fake.add_message("Where is the link?", Some("Ana"));
    let p = provider(&fake);
    let chat = p.read_chat().await.unwrap();
    assert_eq!(chat.len(), 1);
    assert_eq!(
        (chat[0].id.as_str(), chat[0].author.as_deref()),
        (first.as_str(), Some("Ana"))
    );

    let out = p
        .perform(&Op::PostMessage {
            text: "In the description 👇".into(),
            reply_to: Some(first.clone()),
        })
        .await
        .unwrap();
    let Outcome::Message(m) = out else {
        panic!("{out:?}")
    };
    assert_eq!(m.text, "In the description 👇");
    assert_eq!(m.reply_to.as_deref(), Some(first.as_str()));
    let sent = fake.last_request("POST messages").unwrap();
    assert_eq!(
        sent.body,
        json!({"data": "In the description 👇", "thread_id": THREAD_ID, "reply_for": first})
    );

    let out = p
        .perform(&Op::DeleteMessage { id: m.id.clone() })
        .await
        .unwrap();
    assert_eq!(out, Outcome::MessageGone(m.id.clone()));
    assert_eq!(
        fake.last_request("DELETE messages/delete").unwrap().body,
        json!({"thread_slug": EVENT_SLUG, "message_id": m.id})
    );
    assert!(
        fake.messages()
            .iter()
            .any(|x| x.id.to_string() == m.id && x.deleted)
    );
    assert_eq!(p.read_chat().await.unwrap().len(), 1);
    // Deleting it again: the platform does not know it any more.
    let e = p
        .perform(&Op::DeleteMessage { id: m.id })
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::NotFound(_)), "{e:?}");
}

#[tokio::test]
async fn message_limit_is_checked_before_any_request() {
    assert_eq!(MAX_MESSAGE_CHARS, 300);
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    let p = provider(&fake);

    let long = "x".repeat(301);
    assert!(check_message(&long).is_err());
    let e = p
        .perform(&Op::PostMessage {
            text: long,
            reply_to: None,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ProviderError::Invalid(m) if m.contains("300")),
        "{e:?}"
    );
    let c = fake.counters();
    assert_eq!(c.get("POST messages"), 0, "{c}");
    assert_eq!(c.0.values().sum::<u64>(), 0, "not even a login\n{c}");

    // 300 characters of two-byte and four-byte text are fine (characters,
    // not bytes), and the platform accepts them.
    for text in ["é".repeat(300), "🎉".repeat(300)] {
        assert!(check_message(&text).is_ok());
        let out = p
            .perform(&Op::PostMessage {
                text,
                reply_to: None,
            })
            .await
            .unwrap();
        assert!(matches!(out, Outcome::Message(_)));
    }
    assert_eq!(fake.counters().get("POST messages"), 2);

    // The fake enforces the limit too, in the documented error shape.
    let token = fake.last_request("POST messages").unwrap().bearer.unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}messages", fake.api_url()))
        .bearer_auth(token)
        .json(&json!({"data": "y".repeat(301), "thread_id": THREAD_ID}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], 422);
    assert!(
        body["error"]["messages"]["data"][0]
            .as_str()
            .unwrap()
            .contains("300")
    );
}

#[tokio::test]
async fn error_shapes_map_on_status_and_code() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    let qid = fake.add_question("q", None);
    let p = provider(&fake);
    p.fetch_question(&qid).await.unwrap();

    // HTTP 500 carrying code 404, as in every example of the document.
    let e = p
        .perform(&Op::Vote {
            id: "nope".into(),
            want: MyVote::Up,
        })
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::NotFound(_)), "{e:?}");

    // Validation with messages: joined into the text the form shows.
    fake.inject(
        "POST questions/create",
        Injected::error(422, 422, "The given data was invalid.").with_messages(
            json!({"question": ["The question is too rude."], "eventId": ["Closed."]}),
        ),
    );
    let e = p
        .perform(&Op::SubmitQuestion { text: "x".into() })
        .await
        .unwrap_err();
    let ProviderError::Invalid(text) = &e else {
        panic!("{e:?}")
    };
    assert!(text.contains("The given data was invalid."), "{text}");
    assert!(
        text.contains("The question is too rude.") && text.contains("Closed."),
        "{text}"
    );

    // A 400 status carrying code 422, and a 500 whose code says 409.
    fake.inject(
        "POST questions/create",
        Injected::error(400, 422, "Bad input"),
    );
    let e = p
        .perform(&Op::SubmitQuestion { text: "x".into() })
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::Invalid(_)), "{e:?}");
    fake.inject(
        "POST questions/create",
        Injected::error(500, 409, "Duplicate question"),
    );
    let e = p
        .perform(&Op::SubmitQuestion { text: "x".into() })
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ProviderError::Conflict(m) if m.contains("Duplicate")),
        "{e:?}"
    );

    // Forbidden by code even with a 4xx status of another kind.
    fake.inject(
        "POST questions/archive",
        Injected::error(400, 403, "Not your channel"),
    );
    let e = p
        .perform(&Op::SetStatus {
            id: qid.clone(),
            status: Status::Rejected,
        })
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::Forbidden(_)), "{e:?}");

    // A real server error and a proxy's HTML page.
    fake.inject(
        "POST questions/read",
        Injected::error(500, 500, "Server Error"),
    );
    let e = p.fetch_question(&qid).await.unwrap_err();
    assert!(
        matches!(e, ProviderError::Server(_)) && e.is_transient(),
        "{e:?}"
    );
    fake.inject(
        "POST questions/read",
        Injected::raw(502, "<html>Bad gateway</html>"),
    );
    let e = p.fetch_question(&qid).await.unwrap_err();
    assert!(matches!(e, ProviderError::Server(_)), "{e:?}");

    // 429 with Retry-After.
    fake.inject(
        "POST questions/read",
        Injected::error(429, 429, "Too Many Attempts.").retry_after(7),
    );
    let e = p.fetch_question(&qid).await.unwrap_err();
    assert_eq!(
        e,
        ProviderError::RateLimited {
            retry_after_ms: 7_000
        }
    );

    // A 2xx carrying an error object is an error.
    fake.inject(
        "POST questions/read",
        Injected::raw(
            200,
            r#"{"error":{"code":404,"title":"Error","message":"","messages":[]}}"#,
        ),
    );
    assert!(matches!(
        p.fetch_question(&qid).await,
        Err(ProviderError::NotFound(_))
    ));

    // Hostile server text is sanitized.
    fake.inject(
        "POST questions/create",
        Injected::error(422, 422, "bad \x1b[2J\x1b]0;pwned\x07 input"),
    );
    let e = p
        .perform(&Op::SubmitQuestion { text: "x".into() })
        .await
        .unwrap_err();
    assert!(qadeck::text::is_terminal_safe(&e.to_string()), "{e}");

    // Wrong password: HTTP 401 carrying code 422 → authentication error
    // with the platform's message.
    let bad = provider_with(&fake, |s| s.password = Some("wrong-password-123".into()));
    let e = bad.list_events().await.unwrap_err();
    assert!(
        matches!(&e, ProviderError::Auth(m) if m.contains("The user credentials were incorrect.")),
        "{e:?}"
    );
}

#[tokio::test]
async fn shutdown_logs_out_only_when_qadeck_logged_in() {
    let fake = FakeStreamsLive::start(FakeConfig {
        personal_tokens: vec!["pat-0123456789abcdef".into()],
        ..FakeConfig::default()
    })
    .await;
    let p = provider(&fake);
    p.list_events().await.unwrap();
    assert_eq!(fake.live_tokens(), 1);
    p.shutdown().await;
    let c = fake.counters();
    assert_eq!(c.get("POST auth/logout"), 1, "{c}");
    assert_eq!(c.get("HTTP 204"), 1, "{c}");
    assert_eq!(fake.live_tokens(), 0, "the token is revoked");

    // A personal access token: no login, no refresh, no logout.
    fake.reset_counters();
    let pat = provider_with(&fake, |s| {
        s.email = None;
        s.password = None;
        s.token = Some("pat-0123456789abcdef".into());
    });
    assert_eq!(pat.list_events().await.unwrap().len(), 1);
    pat.shutdown().await;
    let c = fake.counters();
    assert_eq!(
        c.get("POST auth/login") + c.get("POST auth/logout"),
        0,
        "{c}"
    );
    assert_eq!(
        fake.last_request("GET events").unwrap().bearer.as_deref(),
        Some("pat-0123456789abcdef")
    );
    // A refused personal token is an auth error (it cannot be renewed).
    let bad = provider_with(&fake, |s| {
        s.email = None;
        s.password = None;
        s.token = Some("pat-revoked-000000".into());
    });
    assert!(matches!(
        bad.list_events().await,
        Err(ProviderError::Auth(_))
    ));
    assert_eq!(fake.counters().get("POST auth/login/refresh"), 0);
}

#[tokio::test]
async fn secrets_never_appear_in_errors_or_urls() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    let password = fake.config().password;
    let qid = fake.add_question("q", None);
    let p = provider(&fake);
    p.fetch_question(&qid).await.unwrap();
    let token = fake
        .last_request("POST questions/read")
        .unwrap()
        .bearer
        .unwrap();
    let refresh_token = {
        // Force a refresh so the refresh token has been seen in a body.
        fake.revoke_access_tokens();
        p.fetch_question(&qid).await.unwrap();
        fake.last_request("POST auth/login/refresh").unwrap().body["refresh_token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let token2 = fake
        .last_request("POST questions/read")
        .unwrap()
        .bearer
        .unwrap();
    let mut errors = Vec::new();

    // A server that echoes the caller's token and the password back.
    fake.inject(
        "POST questions/read",
        Injected::error(422, 422, "bad token {token}")
            .with_messages(json!([format!("password was {password}"), "and {token}"])),
    );
    errors.push(p.fetch_question(&qid).await.unwrap_err());
    fake.inject(
        "POST questions/read",
        Injected::error(500, 500, "{token}").with_title("{token}"),
    );
    errors.push(p.fetch_question(&qid).await.unwrap_err());

    // Wrong password.
    let bad = provider_with(&fake, |s| s.password = Some("Wr0ng-But-Secret-pw".into()));
    errors.push(bad.list_events().await.unwrap_err());

    // Network errors (server gone) carry no URL, token or password.
    let base = fake.base_url();
    drop(fake);
    tokio::time::sleep(Duration::from_millis(100)).await;
    errors.push(p.fetch_question(&qid).await.unwrap_err());
    let gone = provider_with(&FakeStreamsLive::start(FakeConfig::default()).await, |s| {
        s.base_url = base.clone();
    });
    errors.push(gone.list_events().await.unwrap_err());

    for e in &errors {
        for s in [e.to_string(), format!("{e:?}")] {
            for secret in [
                &password,
                &token,
                &token2,
                &refresh_token,
                &"Wr0ng-But-Secret-pw".to_string(),
            ] {
                assert!(!s.contains(secret.as_str()), "secret leaked in {s}");
            }
            assert!(!s.contains("127.0.0.1"), "URL leaked in {s}");
        }
    }
    assert!(
        matches!(errors[3], ProviderError::Network(_)),
        "{:?}",
        errors[3]
    );
}

#[tokio::test]
async fn secrets_stay_out_of_request_urls() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    let password = fake.config().password;
    let p = provider(&fake);
    p.list_events().await.unwrap();
    p.read_chat().await.unwrap();
    let token = fake.last_request("GET events").unwrap().bearer.unwrap();
    for r in fake.requests() {
        assert!(
            !r.query.contains(&password) && !r.query.contains(&token),
            "{r:?}"
        );
    }
    let login = fake.last_request("POST auth/login").unwrap();
    assert!(login.bearer.is_none(), "no token on login");
}

#[tokio::test]
async fn reports_download_as_bytes() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    fake.add_question("Report me", None);
    fake.add_message("chat line", Some("Ana"));
    let p = provider(&fake);
    let q = p.download_report(ReportKind::Questions).await.unwrap();
    assert!(String::from_utf8_lossy(&q).contains("Report me"));
    let c = p.download_report(ReportKind::Chat).await.unwrap();
    assert!(String::from_utf8_lossy(&c).starts_with("id,author,message"));
    let c = fake.counters();
    assert!(!c.0.keys().any(|k| k.starts_with("UNMATCHED")), "{c}");
    assert_eq!(
        fake.last_request("POST stats/parse/download/chat")
            .unwrap()
            .body,
        json!({"eventId": EVENT_ID})
    );
}

#[tokio::test]
async fn channel_by_slug_id_or_missing() {
    let fake = FakeStreamsLive::start(FakeConfig {
        extra_active_events: 12,
        past_events: 2,
        ..FakeConfig::default()
    })
    .await;
    // By id: one GET events/{id}, no listing.
    let by_id = provider_with(&fake, |s| s.event = Some(EVENT_ID.into()));
    by_id.read_chat().await.unwrap();
    let c = fake.counters();
    assert_eq!(
        (c.get("GET events/{id}"), c.get("GET events")),
        (1, 0),
        "{c}"
    );
    // A past channel by slug: found by listing.
    fake.reset_counters();
    let past = provider_with(&fake, |s| s.event = Some("chan1x1".into()));
    assert!(past.read_chat().await.is_ok());
    // Unknown: a NotFound naming the slug.
    let none = provider_with(&fake, |s| s.event = Some("no-such-channel".into()));
    let e = none.read_chat().await.unwrap_err();
    assert!(
        matches!(&e, ProviderError::NotFound(m) if m.contains("no-such-channel")),
        "{e:?}"
    );
    // No channel chosen: actions say so, the feed reports Failed.
    let unset = provider_with(&fake, |s| s.event = None);
    let e = unset
        .perform(&Op::SubmitQuestion { text: "x".into() })
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::Invalid(_)), "{e:?}");
    let (mut rx, task) = start_feed(&unset);
    until(&mut rx, STEP, |f| {
        matches!(f, Feed::Connection(Connection::Failed { .. }))
    })
    .await;
    task.abort();
    // Listing still works without a channel (the picker).
    assert_eq!(unset.list_events().await.unwrap().len(), 13);
}

#[tokio::test]
async fn feed_backs_off_on_errors_and_recovers() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    fake.add_question("q", None);
    let p = provider_with(&fake, |s| s.poll_interval_ms = Some(100));
    let (mut rx, task) = start_feed(&p);
    until(&mut rx, STEP, |f| {
        matches!(f, Feed::Connection(Connection::Polling))
    })
    .await;
    fake.inject(
        "POST questions/read",
        Injected::error(503, 503, "Maintenance"),
    );
    let seen = until(&mut rx, STEP, |f| {
        matches!(f, Feed::Connection(Connection::Retrying { .. }))
    })
    .await;
    let Some(Feed::Connection(Connection::Retrying { in_ms, reason })) = seen.last() else {
        unreachable!()
    };
    assert!(*in_ms >= 200 && *in_ms <= 1_000, "{in_ms}");
    assert!(reason.contains("Maintenance"), "{reason}");
    until(&mut rx, STEP, |f| {
        matches!(f, Feed::Connection(Connection::Polling))
    })
    .await;
    // A 429 waits at least Retry-After.
    fake.inject(
        "POST questions/read",
        Injected::error(429, 429, "Slow down").retry_after(2),
    );
    let seen = until(&mut rx, STEP, |f| {
        matches!(f, Feed::Connection(Connection::Retrying { .. }))
    })
    .await;
    let Some(Feed::Connection(Connection::Retrying { in_ms, .. })) = seen.last() else {
        unreachable!()
    };
    assert!(*in_ms >= 2_000, "{in_ms}");
    task.abort();
}

#[test]
fn config_source_parses_and_rejects_unknown_keys() {
    let text = r#"
[[source]]
provider = "streamslive"
name = "shop"
event = "pK5A4WvhCO"
email = "mod@example.com"
password_env = "QADECK_SL_PW"
poll_interval_ms = 2500
"#;
    let cfg = qadeck::config::parse(text, std::path::Path::new("c.toml")).unwrap();
    let s = cfg.source("shop").unwrap();
    assert_eq!(s.event(), Some("pK5A4WvhCO"));
    assert!(!s.has_literal_secret());
    let bad = text.replace("poll_interval_ms", "poll_intervall_ms");
    let e = qadeck::config::parse(&bad, std::path::Path::new("c.toml")).unwrap_err();
    assert!(e.to_string().contains("poll_intervall_ms"), "{e}");
    let literal = text.replace(
        "password_env = \"QADECK_SL_PW\"",
        "token = \"pat-xyz-123\"\nemail2 = 1",
    );
    assert!(qadeck::config::parse(&literal, std::path::Path::new("c.toml")).is_err());
    let literal = text
        .replace("password_env = \"QADECK_SL_PW\"", "token = \"pat-xyz-123\"")
        .replace("email = \"mod@example.com\"\n", "");
    let cfg = qadeck::config::parse(&literal, std::path::Path::new("c.toml")).unwrap();
    assert!(cfg.source("shop").unwrap().has_literal_secret());
    // Both a password and a token: refused when built.
    let both = text.replace("poll_interval_ms = 2500", "token = \"pat-xyz-123\"");
    let cfg = qadeck::config::parse(&both, std::path::Path::new("c.toml")).unwrap();
    let ctx = qadeck::provider::BuildCtx {
        source: SourceId(0),
        moderator: qadeck::domain::Moderator::default(),
        event: None,
    };
    let e = cfg.source("shop").unwrap().build(&ctx).err().unwrap();
    assert!(e.to_string().contains("not both"), "{e}");
}

#[tokio::test]
async fn tolerant_of_other_readings_of_the_document() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    let p = provider(&fake);
    // Questions: string numbers, other field names, Unix times, a nested
    // envelope, an archived flag as "1", an entry without an id (skipped).
    fake.inject(
        "POST questions/read",
        Injected::raw(
            200,
            r#"{"data":{"data":[
                {"id":17,"message":"Price?","likes":"4","dislikes":1,"user_name":"Zoë",
                 "created_at":1700000000},
                {"hash_id":"ab","text":"Gone","votes":{"up":1,"down":0},"is_archived":"1",
                 "user":{"name":"  "},"created_at":"2024-05-01 10:00:00"},
                {"question":"no id"}
            ]}}"#,
        ),
    );
    let (mut rx, task) = start_feed(&p);
    let seen = until(&mut rx, STEP, |f| matches!(f, Feed::ChatSnapshot(_))).await;
    // Stopped after the whole first poll, so no request of it is in flight.
    task.abort();
    let qs = seen
        .iter()
        .find_map(|f| match f {
            Feed::Snapshot(qs) => Some(qs.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(qs.len(), 2, "{qs:#?}");
    assert_eq!(
        (qs[0].id.as_str(), qs[0].text.as_str(), qs[0].votes),
        ("17", "Price?", 3)
    );
    assert_eq!(qs[0].author.as_deref(), Some("Zoë"));
    assert_eq!(qs[0].created, 1_700_000_000_000);
    assert_eq!(
        (qs[1].id.as_str(), qs[1].status, qs[1].author.as_deref()),
        ("ab", Status::Rejected, None)
    );
    assert_eq!(qs[1].created, 1_714_557_600_000);

    // Chat: text under `data`, numeric reply ids, a deleted flag.
    fake.inject(
        "POST thread/read",
        Injected::raw(
            200,
            r#"{"data":{"thread":{"messages":[
                {"id":"m1","data":"hi","reply_for":null,"author":"Ana"},
                {"id":"m2","body":"re","reply_for":7,"sender":{"data":{"username":"Bo"}}},
                {"id":"m3","message":"x","deleted_at":"2024-01-01 00:00:00"}
            ]}}}"#,
        ),
    );
    let chat = p.read_chat().await.unwrap();
    assert_eq!(chat.len(), 2, "{chat:#?}");
    assert_eq!(
        (chat[0].text.as_str(), chat[0].author.as_deref()),
        ("hi", Some("Ana"))
    );
    assert_eq!(
        (chat[1].reply_to.as_deref(), chat[1].author.as_deref()),
        (Some("7"), Some("Bo"))
    );

    // Channels: Laravel pagination meta is honoured.
    fake.reset_counters();
    fake.inject(
        "GET events",
        Injected::raw(
            200,
            r#"{"data":[{"id":1,"slug":"a","name":"A"},{"id":2,"name":"B","thread_id":"9"}],
                "meta":{"pagination":{"total_pages":1,"current_page":1}}}"#,
        ),
    );
    let evs = p.list_events_with(None).await.unwrap();
    assert_eq!(
        evs.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["a", "2"]
    );
    assert_eq!(fake.counters().get("GET events"), 1);
}
