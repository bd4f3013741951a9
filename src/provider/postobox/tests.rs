use super::client::{reset_at_ms, reset_in_ms};
use super::feed::unlisted;
use super::*;
use crate::domain::{Moderator, MyVote, SourceId, Str};
use crate::provider::{BuildCtx, SourceSpec};
use reqwest::header::HeaderMap;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::Instant;

fn ctx() -> BuildCtx {
    BuildCtx {
        source: SourceId(3),
        moderator: Moderator {
            identifier: "mod-7".into(),
            name: "Mo".into(),
        },
        event: None,
    }
}

#[test]
fn settings_parse_and_reject_unknown_keys() {
    let s: Settings =
        toml::from_str("name = \"keynote\"\nevent = \"ev1\"\napi_key_env = \"PB_KEY\"").unwrap();
    assert_eq!(
        (s.name.as_str(), s.event.as_deref()),
        ("keynote", Some("ev1"))
    );
    assert_eq!(s.base_url, DEFAULT_BASE_URL);
    assert!(!s.has_literal_secret());
    let e = toml::from_str::<Settings>("name = \"k\"\napi_kee = \"x\"").unwrap_err();
    assert!(e.to_string().contains("api_kee"), "{e}");
    let lit: Settings = toml::from_str("name = \"k\"\napi_key = \"pk_live_debug_secret\"").unwrap();
    assert!(lit.has_literal_secret());
    assert!(!format!("{lit:?}").contains("pk_live_debug_secret"));
}

#[test]
fn build_checks_key_url_and_identifier() {
    let mut s = Settings::new("k");
    assert!(
        Postobox::new(&s, &ctx())
            .unwrap_err()
            .to_string()
            .contains("api_key")
    );
    s.api_key = Some("pk_test_build_0001".into());
    let p = Postobox::new(&s, &ctx()).unwrap();
    assert_eq!(p.identifier, "mod-7");
    assert_eq!(
        p.url(&["events", "a/b", "questions"]).as_str(),
        "https://api.postobox.app/v1/events/a%2Fb/questions"
    );
    s.base_url = "http://api.postobox.app/v1".into();
    assert!(
        Postobox::new(&s, &ctx())
            .unwrap_err()
            .to_string()
            .contains("https")
    );
    s.base_url = "http://127.0.0.1:9/v1/".into();
    let p = Postobox::new(&s, &ctx()).unwrap();
    assert_eq!(
        p.url(&["organization"]).as_str(),
        "http://127.0.0.1:9/v1/organization"
    );
    s.identifier = Some(" ".into());
    assert!(Postobox::new(&s, &ctx()).is_err());
    s.api_key_env = Some("X".into());
    assert!(
        Postobox::new(&s, &ctx())
            .unwrap_err()
            .to_string()
            .contains("only one")
    );
}

#[test]
fn capabilities_follow_the_stream_flag() {
    let mut s = Settings::new("k");
    s.api_key = Some("pk_test_caps_0001".into());
    let p = Postobox::new(&s, &ctx()).unwrap();
    let c = p.capabilities();
    assert_eq!(
        (c.vote, c.delivery, c.delete, c.open_close),
        (VoteKind::Toggle, Delivery::Stream, true, true)
    );
    assert_eq!(c.server_statuses, Status::ALL.to_vec());
    p.no_stream.store(true, Ordering::Relaxed);
    assert_eq!(p.capabilities().delivery, Delivery::Polling);
}

fn q(id: &str, status: Status) -> Question {
    Question {
        source: SourceId(3),
        id: id.into(),
        text: format!("Question {id}").into(),
        author: None,
        votes: 0,
        my_vote: MyVote::None,
        status,
        on_air: false,
        created: 1,
        updated: 1,
    }
}

#[test]
fn unlisted_names_known_questions_of_every_state_the_listing_lacks() {
    let known: HashMap<Str, Question> = [
        ("a", Status::Pending),
        ("b", Status::Selected),
        ("c", Status::Answered),
        ("d", Status::Rejected),
        ("e", Status::Answered),
    ]
    .into_iter()
    .map(|(id, st)| (id.into(), q(id, st)))
    .collect();
    let listed: HashSet<Str> = ["a", "e"].into_iter().map(Str::from).collect();
    let t0 = Instant::now();
    let started = t0 + Duration::from_secs(10);
    // Selected, answered and rejected alike: one listing covers them all.
    assert_eq!(
        unlisted(known.keys(), &HashMap::new(), &listed, started),
        ["b", "c", "d"]
    );
    // Our own action before the listing began does not excuse a question;
    // one after it does (the listing may predate it).
    let touched: HashMap<Str, Instant> = [
        ("c".into(), t0),
        ("d".into(), started + Duration::from_millis(1)),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        unlisted(known.keys(), &touched, &listed, started),
        ["b", "c"]
    );
    // Ids listed but unknown (new ones) are not missing.
    let all: HashSet<Str> = ["a", "b", "c", "d", "e", "new"]
        .into_iter()
        .map(Str::from)
        .collect();
    assert!(unlisted(known.keys(), &HashMap::new(), &all, started).is_empty());
}

#[test]
fn reset_header_readings() {
    let mut h = HeaderMap::new();
    let now_s = super::super::now_ms() / 1000;
    h.insert(
        "x-ratelimit-reset",
        (now_s + 30).to_string().parse().unwrap(),
    );
    let ms = reset_in_ms(&h).unwrap();
    assert!((28_000..=31_000).contains(&ms), "{ms}");
    // Unix seconds name one instant whenever the answer is read: every
    // answer of a window agrees on its reset, even one read after it.
    let at = reset_at_ms(&h, 0);
    assert_eq!(at, Some((now_s + 30) * 1000));
    assert_eq!(reset_at_ms(&h, (now_s + 40) * 1000), at);
    h.insert("x-ratelimit-reset", "12".parse().unwrap());
    assert_eq!(reset_in_ms(&h), Some(12_000));
    h.insert(
        "x-ratelimit-reset",
        ((now_s + 5) * 1000).to_string().parse().unwrap(),
    );
    assert!((3_000..=6_000).contains(&reset_in_ms(&h).unwrap()));
    h.insert("x-ratelimit-reset", "soon".parse().unwrap());
    assert_eq!(reset_in_ms(&h), None);
}
