//! streams.live against a document-faithful fake where the platform is
//! least convenient: a bounded chat window, answers lost after the call
//! committed, repeated archives and deletes, partial question lists.

use crate::support::streamslive_fake::{
    EVENT_SLUG, FakeConfig, FakeStreamsLive, Injected, OWNER_ID,
};
use qadeck::domain::{Feed, Op, Outcome, ProviderError, SourceFeed, SourceId, Status};
use qadeck::provider::streamslive::StreamsLive;
use qadeck::provider::{FeedTx, Provider, now_ms};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

fn provider(fake: &FakeStreamsLive, poll_ms: u64) -> Arc<StreamsLive> {
    let mut s = fake.settings();
    s.poll_interval_ms = Some(poll_ms);
    let event = s.event.clone();
    Arc::new(StreamsLive::new(&s, SourceId(3), event).expect("settings are valid"))
}

fn start_feed(p: &Arc<StreamsLive>) -> mpsc::Receiver<SourceFeed> {
    let (tx, rx) = mpsc::channel(4096);
    let p = p.clone();
    tokio::spawn(async move { p.run_feed(FeedTx::new(SourceId(3), tx)).await });
    rx
}

/// Every feed event until `done` holds for one (at most 20 s).
async fn until(
    rx: &mut mpsc::Receiver<SourceFeed>,
    mut done: impl FnMut(&Feed) -> bool,
) -> Vec<Feed> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, rx.recv()).await {
            Ok(Some(sf)) => {
                let hit = done(&sf.feed);
                seen.push(sf.feed);
                if hit {
                    return seen;
                }
            }
            other => panic!("not seen ({other:?}); saw {} events", seen.len()),
        }
    }
}

fn gone(feeds: &[Feed]) -> Vec<String> {
    feeds
        .iter()
        .filter_map(|f| match f {
            Feed::MessageGone(id) => Some(id.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_busy_chat_through_a_bounded_window_shows_no_deletion() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    for i in 0..150 {
        fake.add_message(&format!("before {i}"), Some("Ana"));
    }
    let p = provider(&fake, 100);
    let mut rx = start_feed(&p);
    until(
        &mut rx,
        |f| matches!(f, Feed::ChatSnapshot(m) if m.len() == 100),
    )
    .await;
    // 1,000 messages at 20 per 100 ms poll (as 20 a second against a 1 s
    // poll would be, or 60 a poll at the default 3 s), through 100.
    let mut seen = Vec::new();
    for i in 0..1000 {
        fake.add_message(&format!("busy {i}"), Some("Bo"));
        if i % 4 == 3 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        while let Ok(sf) = rx.try_recv() {
            seen.push(sf.feed);
        }
    }
    let last = fake.add_message("the last one", Some("Bo"));
    seen.extend(
        until(
            &mut rx,
            |f| matches!(f, Feed::Messages(m) if m.iter().any(|m| m.id == last)),
        )
        .await,
    );
    assert_eq!(gone(&seen), Vec::<String>::new(), "nothing was deleted");
    // A real deletion inside the window shows within one poll.
    let messages = fake.messages();
    let victim = messages[messages.len() - 50].id.to_string();
    fake.remove_message(&victim);
    let polls_before = fake.counters().get("POST thread/read");
    let after = until(&mut rx, |f| matches!(f, Feed::MessageGone(_))).await;
    assert_eq!(gone(&after), vec![victim]);
    assert!(fake.counters().get("POST thread/read") <= polls_before + 2);
}

#[tokio::test]
async fn an_empty_chat_answer_deletes_nothing_and_a_flagged_message_is_gone() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    let a = fake.add_message("one", Some("Ana"));
    let b = fake.add_message("two", Some("Ana"));
    let p = provider(&fake, 100);
    let mut rx = start_feed(&p);
    until(
        &mut rx,
        |f| matches!(f, Feed::ChatSnapshot(m) if m.len() == 2),
    )
    .await;
    fake.inject("POST thread/read", Injected::raw(200, r#"{"data": []}"#));
    let flagged = json!({"data": [
        {"id": a, "message": "one", "deleted": true},
        {"id": b, "message": "two"},
    ]})
    .to_string();
    fake.inject("POST thread/read", Injected::raw(200, &flagged));
    let seen = until(&mut rx, |f| matches!(f, Feed::MessageGone(_))).await;
    assert_eq!(gone(&seen), vec![a]);
}

#[tokio::test]
async fn the_oldest_message_deleted_from_a_short_thread_goes_after_one_confirmation() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    let a = fake.add_message("one", Some("Ana"));
    fake.add_message("two", Some("Ana"));
    let p = provider(&fake, 100);
    let mut rx = start_feed(&p);
    until(
        &mut rx,
        |f| matches!(f, Feed::ChatSnapshot(m) if m.len() == 2),
    )
    .await;
    let polls = fake.counters().get("POST thread/read");
    fake.remove_message(&a);
    let seen = until(&mut rx, |f| matches!(f, Feed::MessageGone(_))).await;
    assert_eq!(gone(&seen), vec![a]);
    assert!(fake.counters().get("POST thread/read") <= polls + 3);
}

#[tokio::test]
async fn a_question_missing_from_one_answer_stays_until_confirmed() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    let q = fake.add_question("Is it recorded?", Some("Ana"));
    let p = provider(&fake, 100);
    let mut rx = start_feed(&p);
    until(&mut rx, |f| matches!(f, Feed::Snapshot(s) if s.len() == 1)).await;
    fake.inject("POST questions/read", Injected::raw(200, r#"{"data": []}"#));
    let seen = until(&mut rx, |f| matches!(f, Feed::Snapshot(_))).await;
    let Some(Feed::Snapshot(s)) = seen.last() else {
        unreachable!()
    };
    assert_eq!(
        s.iter().map(|q| q.id.as_str()).collect::<Vec<_>>(),
        vec![q.as_str()]
    );
    // Really gone (archived elsewhere): two answers without it remove it.
    fake.inject("POST questions/read", Injected::raw(200, r#"{"data": []}"#));
    fake.inject("POST questions/read", Injected::raw(200, r#"{"data": []}"#));
    until(&mut rx, |f| matches!(f, Feed::Snapshot(s) if s.is_empty())).await;
}

#[tokio::test]
async fn every_create_with_its_answer_lost_lands_once() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    let p = provider(&fake, 1_000);
    let queued = now_ms();
    // Question submit.
    let op = Op::SubmitQuestion {
        text: "Will slides be shared?".into(),
    };
    fake.lose_answers("POST questions/create", 1);
    let e = p.perform(&op).await.unwrap_err();
    assert!(e.is_transient(), "{e:?}");
    let out = p.perform_again(&op, queued).await.unwrap();
    assert!(
        matches!(out, Outcome::Question(ref q) if q.text == "Will slides be shared?"),
        "{out:?}"
    );
    let copies = fake
        .questions()
        .iter()
        .filter(|q| q.text == "Will slides be shared?")
        .count();
    assert_eq!(copies, 1);
    // Chat post, also as a reply.
    let parent = fake.add_message("Where is the link?", Some("Ana"));
    for reply_to in [None, Some(parent.clone())] {
        let op = Op::PostMessage {
            text: "In the description".into(),
            reply_to: reply_to.clone(),
        };
        fake.lose_answers("POST messages", 1);
        assert!(p.perform(&op).await.unwrap_err().is_transient());
        let out = p.perform_again(&op, queued).await.unwrap();
        assert!(
            matches!(out, Outcome::Message(ref m) if m.reply_to == reply_to),
            "{out:?}"
        );
        let copies = fake
            .messages()
            .iter()
            .filter(|m| m.text == "In the description" && m.reply_for == reply_to)
            .count();
        assert_eq!(copies, 1, "{reply_to:?}");
    }
    // Nothing landed: the retry sends it.
    let op = Op::PostMessage {
        text: "Fresh one".into(),
        reply_to: None,
    };
    fake.inject("POST messages", Injected::error(500, 500, "down"));
    assert!(p.perform(&op).await.is_err());
    assert!(matches!(
        p.perform_again(&op, queued).await.unwrap(),
        Outcome::Message(_)
    ));
    assert_eq!(
        fake.messages()
            .iter()
            .filter(|m| m.text == "Fresh one")
            .count(),
        1
    );
}

#[tokio::test]
async fn repeated_archive_and_delete_after_a_lost_answer_are_done() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    let q = fake.add_question("Spam", Some("Eve"));
    let m = fake.add_message("spam", Some("Eve"));
    let p = provider(&fake, 1_000);
    let archive = Op::SetStatus {
        id: q.clone(),
        status: Status::Rejected,
    };
    fake.lose_answers("POST questions/archive", 1);
    assert!(p.perform(&archive).await.unwrap_err().is_transient());
    assert!(fake.question(&q).unwrap().archived);
    // A plain repeat is refused as the document shows (500 carrying 404) …
    let e = p.perform(&archive).await.unwrap_err();
    assert!(matches!(e, ProviderError::NotFound(_)), "{e:?}");
    // … and on a retry that is success.
    let out = p.perform_again(&archive, now_ms()).await.unwrap();
    assert!(
        matches!(out, Outcome::Question(ref x) if x.status == Status::Rejected)
            || out == Outcome::Done,
        "{out:?}"
    );

    let delete = Op::DeleteMessage { id: m.clone() };
    fake.lose_answers("DELETE messages/delete", 1);
    assert!(p.perform(&delete).await.unwrap_err().is_transient());
    assert_eq!(
        p.perform_again(&delete, now_ms()).await.unwrap(),
        Outcome::MessageGone(m)
    );
}

#[tokio::test]
async fn thread_read_sends_the_slug_and_the_logged_in_user() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    let p = provider(&fake, 1_000);
    p.read_chat().await.unwrap();
    let sent = fake.last_request("POST thread/read").unwrap();
    assert_eq!(
        sent.body,
        json!({"threadSlug": EVENT_SLUG, "userId": OWNER_ID.to_string()})
    );
    assert_eq!(fake.counters().get("GET profile"), 1);
    p.read_chat().await.unwrap();
    assert_eq!(fake.counters().get("GET profile"), 1, "read once");
}
