//! `people import`: idempotent, paced bulk adds against both fakes and a
//! scripted provider.

use crate::support::boomstream_fake::{self, BoomstreamFake};
use crate::support::streamboxy_fake::{self, StreamboxyFake};
use async_trait::async_trait;
use qadeck::domain::{
    Capabilities, EventInfo, Moderator, Op, Outcome, Participant, ProviderError, ProviderResult,
    Question, Role, SourceId,
};
use qadeck::people::{self, Pace, RowStatus, Summary};
use qadeck::provider::{BuildCtx, FeedTx, Provider, SourceSpec};
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn ctx() -> BuildCtx {
    BuildCtx {
        source: SourceId(1),
        moderator: Moderator::default(),
        event: None,
    }
}

fn streamboxy(fake: &StreamboxyFake, session: &str, calls_per_sec: u32) -> Arc<dyn Provider> {
    let cfg = fake.config();
    qadeck::provider::streamboxy::Settings {
        tenant: cfg.tenant,
        client_id: cfg.client_id,
        client_secret: Some(cfg.client_secret),
        event: Some(session.into()),
        base_url: fake.base_url.clone(),
        calls_per_sec,
        ..Default::default()
    }
    .build(&ctx())
    .unwrap()
}

/// `n` people, a few moderators, an extra column, plus three bad rows and
/// one repeated row.
fn csv(n: usize, upper: bool) -> String {
    let mut s = String::from("name,email,role,company\n");
    for i in 0..n {
        let email = format!("person{i:04}@example.com");
        let email = if upper { email.to_uppercase() } else { email };
        let role = if i % 50 == 0 {
            "moderator"
        } else if i % 3 == 0 {
            ""
        } else {
            "Participant"
        };
        writeln!(s, "\"Person {i}, Jr.\",{email},{role},ACME").unwrap();
    }
    s.push_str("No Mail,,participant,x\n");
    s.push_str("Bad Role,bad@example.com,admin,x\n");
    s.push_str("Broken,not-an-address,,x\n");
    s.push_str("Person 0 again,PERSON0000@example.com,,x\n");
    s
}

fn check_outcomes(out: &[people::RowOutcome], n: usize) {
    assert_eq!(out.len(), n + 4, "one outcome per data line, nothing lost");
    let lines: Vec<u64> = out.iter().map(|o| o.line).collect();
    assert_eq!(lines, (2..(n as u64 + 6)).collect::<Vec<_>>());
    let tail: Vec<&str> = out[n..].iter().map(|o| o.status.kind()).collect();
    assert_eq!(tail, ["invalid", "invalid", "invalid", "duplicate"]);
    assert!(matches!(
        out[n + 3].status,
        RowStatus::Duplicate { line: 2 }
    ));
}

#[tokio::test]
async fn five_hundred_rows_twice_is_five_hundred_participants_with_429s_recovered() {
    let fake = StreamboxyFake::start(streamboxy_fake::Config {
        rate_per_sec: Some(120),
        ..Default::default()
    })
    .await;
    let session = fake.add_session("Summit");
    // The client believes in a higher limit than the fake enforces, so the
    // fake answers 429 and the import has to wait and retry.
    let p = streamboxy(&fake, &session, 400);
    let rows = people::parse_csv(csv(500, false).as_bytes()).unwrap();
    let t0 = Instant::now();
    let mut seen = 0;
    let out = people::import_with(&*p, &rows, &Pace::default(), &mut |_| seen += 1).await;
    let first = t0.elapsed();
    assert_eq!(seen, out.len());
    check_outcomes(&out, 500);
    let s = Summary::of(&out);
    assert_eq!(
        (s.added, s.exists, s.invalid, s.duplicate, s.failed),
        (500, 0, 3, 1, 0),
        "{s}"
    );
    let c = fake.counters();
    assert!(c.rate_limited > 0, "the fake limit mattered");
    assert!(
        out.iter().any(|o| o.retries > 0),
        "rows were retried after 429"
    );
    assert_eq!(c.user_creates, 500, "a 429 never created anything");
    assert_eq!(fake.users(&session).len(), 500);
    let mods = fake
        .users(&session)
        .iter()
        .filter(|u| u.role == "Moderator")
        .count();
    assert_eq!(mods, 10);

    // Again, with the e-mails in capitals: nothing new.
    let rows = people::parse_csv(csv(500, true).as_bytes()).unwrap();
    let out = people::import(&*p, &rows, &Pace::default()).await;
    let s = Summary::of(&out);
    assert_eq!(
        (s.added, s.exists, s.invalid, s.duplicate),
        (0, 500, 3, 1),
        "{s}"
    );
    assert_eq!(
        fake.users(&session).len(),
        500,
        "500 participants, not 1,000"
    );
    eprintln!("first import {first:?}, 429s {}", c.rate_limited);
}

#[tokio::test]
async fn paced_import_stays_under_the_limit() {
    let fake = StreamboxyFake::start(streamboxy_fake::Config {
        rate_per_sec: Some(40),
        ..Default::default()
    })
    .await;
    let session = fake.add_session("S");
    let p = streamboxy(&fake, &session, 40);
    let rows = people::parse_csv(csv(60, false).as_bytes()).unwrap();
    let out = people::import(&*p, &rows, &Pace::default()).await;
    assert_eq!(Summary::of(&out).added, 60);
    assert_eq!(
        fake.counters().rate_limited,
        0,
        "the pacer alone kept under the limit"
    );
}

#[tokio::test]
async fn existing_by_external_key_and_rows_per_sec() {
    let fake = StreamboxyFake::start(streamboxy_fake::Config::default()).await;
    let session = fake.add_session("S");
    let p = streamboxy(&fake, &session, 300);
    let first = "name,email,external_key\nAda,ada@example.com,crm-1\n";
    let out = people::import(
        &*p,
        &people::parse_csv(first.as_bytes()).unwrap(),
        &Pace::default(),
    )
    .await;
    assert!(matches!(out[0].status, RowStatus::Added { .. }));
    assert_eq!(
        fake.users(&session)[0].external_key.as_deref(),
        Some("crm-1")
    );
    // Same key, new address: the same person, not a new one.
    let second = "name,email,external_key\nAda,ada@newjob.example,crm-1\nBob,bob@example.com,crm-2\nCy,cy@example.com,crm-3\n";
    let pace = Pace {
        rows_per_sec: Some(10.0),
        ..Pace::default()
    };
    let t0 = Instant::now();
    let out = people::import(&*p, &people::parse_csv(second.as_bytes()).unwrap(), &pace).await;
    assert!(
        t0.elapsed() >= Duration::from_millis(95),
        "two adds 100 ms apart"
    );
    let kinds: Vec<&str> = out.iter().map(|o| o.status.kind()).collect();
    assert_eq!(kinds, ["exists", "added", "added"]);
    assert_eq!(fake.users(&session).len(), 3);
    let j = out[0].json();
    assert_eq!(
        (j["type"].as_str(), j["status"].as_str(), j["line"].as_u64()),
        (Some("import_row"), Some("exists"), Some(2))
    );
}

#[tokio::test]
async fn boomstream_import_is_idempotent_and_recovers_from_429() {
    let fake = BoomstreamFake::start(boomstream_fake::Config {
        api_key: "bk-import-key-77".into(),
        rate_per_sec: Some(40),
        ..Default::default()
    })
    .await;
    let conf = fake.add_conference("C");
    let p = qadeck::provider::boomstream::Settings {
        event: Some(conf.clone()),
        api_key: Some("bk-import-key-77".into()),
        base_url: fake.base_url.clone(),
        ..Default::default()
    }
    .build(&ctx())
    .unwrap();
    let rows = people::parse_csv(csv(40, false).as_bytes()).unwrap();
    let out = people::import(&*p, &rows, &Pace::default()).await;
    check_outcomes(&out, 40);
    assert_eq!(Summary::of(&out).added, 40, "{}", Summary::of(&out));
    assert!(fake.counters().rate_limited > 0);
    let out = people::import(&*p, &rows, &Pace::default()).await;
    assert_eq!(Summary::of(&out).exists, 40);
    assert_eq!(fake.live_clients(&conf).len(), 40);
    assert_eq!(fake.counters().invites, 40);
    let json = people::participant_json(&p.list_participants().await.unwrap()[0], "boom");
    assert_eq!(json["type"], "participant");
    assert_eq!(json["source"], "boom");
}

#[tokio::test]
async fn refused_credentials_add_nothing_and_lose_no_row() {
    let fake = StreamboxyFake::start(streamboxy_fake::Config::default()).await;
    let session = fake.add_session("S");
    let cfg = fake.config();
    let p = qadeck::provider::streamboxy::Settings {
        tenant: cfg.tenant,
        client_id: cfg.client_id,
        client_secret: Some("wrong-secret-xyz".into()),
        event: Some(session.clone()),
        base_url: fake.base_url.clone(),
        ..Default::default()
    }
    .build(&ctx())
    .unwrap();
    let rows = people::parse_csv(csv(5, false).as_bytes()).unwrap();
    let out = people::import(&*p, &rows, &Pace::default()).await;
    assert_eq!(out.len(), 9);
    let s = Summary::of(&out);
    assert_eq!((s.skipped, s.invalid), (6, 3), "{s}");
    assert!(out[0].to_string().contains("could not list"), "{}", out[0]);
    assert!(fake.users(&session).is_empty());
}

/// A provider whose answers are scripted, to reach the paths the fakes do
/// not: an add that happened although its answer was lost, and an
/// authentication failure in the middle of an import.
#[derive(Default)]
struct Scripted {
    people: Mutex<Vec<Participant>>,
    /// Per add call: `Some(err)` fails it; `lost` adds and still fails.
    script: Mutex<Vec<(Option<ProviderError>, bool)>>,
    adds: Mutex<u32>,
}

#[async_trait]
impl Provider for Scripted {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            participants: true,
            ..Capabilities::none()
        }
    }
    async fn run_feed(&self, _tx: FeedTx) {}
    async fn list_events(&self) -> ProviderResult<Vec<EventInfo>> {
        Ok(Vec::new())
    }
    async fn perform(&self, op: &Op) -> ProviderResult<Outcome> {
        let Op::AddParticipant { draft } = op else {
            unreachable!()
        };
        *self.adds.lock().unwrap() += 1;
        let (err, lost) = {
            let mut s = self.script.lock().unwrap();
            if s.is_empty() {
                (None, false)
            } else {
                s.remove(0)
            }
        };
        if let Some(e) = &err
            && !lost
        {
            return Err(e.clone());
        }
        let mut people = self.people.lock().unwrap();
        let p = Participant {
            source: SourceId(0),
            id: format!("p{}", people.len() + 1),
            name: draft.name.clone(),
            email: draft.email.clone(),
            role: draft.role.clone(),
            link: None,
            version: None,
            external_key: draft.external_key.clone(),
        };
        people.push(p.clone());
        match err {
            Some(e) => Err(e),
            None => Ok(Outcome::Participant(p)),
        }
    }
    async fn fetch_question(&self, _id: &str) -> ProviderResult<Question> {
        Err(ProviderError::Unsupported("questions".into()))
    }
    async fn list_participants(&self) -> ProviderResult<Vec<Participant>> {
        Ok(self.people.lock().unwrap().clone())
    }
}

#[tokio::test]
async fn lost_answer_is_not_added_twice_and_auth_failure_stops() {
    let p = Scripted::default();
    *p.script.lock().unwrap() = vec![
        (
            Some(ProviderError::Network("connection reset".into())),
            true,
        ),
        (None, false),
        (Some(ProviderError::Auth("key revoked".into())), false),
    ];
    let text = "name,email,role\nA,a@example.com,\nB,b@example.com,moderator\nC,c@example.com,\nD,d@example.com,\n";
    let rows = people::parse_csv(text.as_bytes()).unwrap();
    let out = people::import(&p, &rows, &Pace::default()).await;
    let kinds: Vec<&str> = out.iter().map(|o| o.status.kind()).collect();
    assert_eq!(kinds, ["added", "added", "failed", "skipped"]);
    assert_eq!(out[0].retries, 1);
    assert_eq!(p.people.lock().unwrap().len(), 2, "A once, B once");
    assert_eq!(
        *p.adds.lock().unwrap(),
        3,
        "A's lost add was found, not repeated; D not tried"
    );
    assert!(
        out[3].to_string().contains("stopped after line 4"),
        "{}",
        out[3]
    );
    assert_eq!(p.people.lock().unwrap()[1].role, Role::Moderator);
}
