//! STREAMBOXY provider against the in-process fake: tokens, row-version
//! conflicts, pacing, errors, the feed, and secrets kept out of logs.

use crate::support::log_capture;
use crate::support::streamboxy_fake::{Config, StreamboxyFake};
use qadeck::domain::{
    Connection, EventDraft, Feed, Moderator, Op, Outcome, ParticipantDraft, ProviderError, Role,
    SourceId,
};
use qadeck::provider::streamboxy::Settings;
use qadeck::provider::{BuildCtx, FeedTx, Provider, SourceSpec};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn settings(fake: &StreamboxyFake, session: Option<&str>) -> Settings {
    let cfg = fake.config();
    Settings {
        name: "sbx".into(),
        tenant: cfg.tenant,
        client_id: cfg.client_id,
        client_secret: Some(cfg.client_secret),
        event: session.map(str::to_string),
        base_url: fake.base_url.clone(),
        poll_ms: 150,
        ..Settings::default()
    }
}

fn build(s: &Settings) -> Arc<dyn Provider> {
    log_capture::install();
    s.build(&BuildCtx {
        source: SourceId(3),
        moderator: Moderator::default(),
        event: None,
    })
    .expect("builds")
}

fn draft(name: &str, email: &str, role: Role) -> ParticipantDraft {
    ParticipantDraft {
        name: name.into(),
        email: Some(email.into()),
        role,
        notify: false,
        one_time_link: false,
        link_lifetime_min: None,
        external_key: None,
    }
}

async fn participant(p: &dyn Provider, op: Op) -> qadeck::domain::Participant {
    match p.perform(&op).await.expect("op succeeds") {
        Outcome::Participant(p) => p,
        other => panic!("unexpected outcome {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn token_renewed_from_jwt_exp_not_eight_hours_and_on_401() {
    let fake = StreamboxyFake::start(Config {
        token_ttl_secs: 2,
        ..Config::default()
    })
    .await;
    let s = fake.add_session("Keynote");
    let p = build(&settings(&fake, Some(&s)));
    p.list_participants().await.unwrap();
    p.list_participants().await.unwrap();
    assert_eq!(fake.counters().token_requests, 1, "one token reused");
    // The answer claims expires_in = 28800 (8 h); the JWT's exp says 2 s.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    p.list_participants().await.unwrap();
    let c = fake.counters();
    assert_eq!(c.token_requests, 2, "renewed before use, from exp");
    assert_eq!(c.unauthorized, 0, "renewed proactively, no 401 needed");
    // Revoked on the server: one 401, one renewal, the call still succeeds.
    fake.revoke_tokens();
    p.list_participants().await.unwrap();
    let c = fake.counters();
    assert_eq!((c.unauthorized, c.token_requests), (1, 3));
}

#[tokio::test]
async fn token_without_exp_is_used_until_401() {
    let fake = StreamboxyFake::start(Config {
        token_has_exp: false,
        ..Config::default()
    })
    .await;
    let s = fake.add_session("S");
    let p = build(&settings(&fake, Some(&s)));
    for _ in 0..3 {
        p.list_participants().await.unwrap();
    }
    assert_eq!(fake.counters().token_requests, 1);
    fake.revoke_tokens();
    p.list_participants().await.unwrap();
    assert_eq!(fake.counters().token_requests, 2);
}

#[tokio::test]
async fn wrong_client_secret_is_an_auth_error() {
    let fake = StreamboxyFake::start(Config::default()).await;
    let mut st = settings(&fake, Some("s-1"));
    st.client_secret = Some("not-the-secret-9f8e".into());
    let p = build(&st);
    let e = p.list_participants().await.unwrap_err();
    assert!(matches!(e, ProviderError::Auth(_)), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("Invalid client credentials"), "{msg}");
    assert!(!msg.contains("not-the-secret-9f8e"), "{msg}");
    // Credentials refused: no endless retry loop.
    assert_eq!(fake.counters().token_requests, 1);
}

#[tokio::test]
async fn participants_add_list_update_renew_remove() {
    let fake = StreamboxyFake::start(Config::default()).await;
    let s = fake.add_session("Workshop");
    let p = build(&settings(&fake, Some(&s)));
    assert!(p.capabilities().participants && !p.capabilities().questions);

    let mut d = draft("Ada Lovelace", "ada@example.com", Role::Moderator);
    d.one_time_link = true;
    d.notify = true;
    d.external_key = Some("crm-42".into());
    let added = participant(&*p, Op::AddParticipant { draft: d }).await;
    let on_fake = fake.user(&added.id).expect("created on the platform");
    assert_eq!(on_fake.role, "Moderator");
    assert!(on_fake.one_time && on_fake.send_mail);
    assert_eq!(on_fake.external_key.as_deref(), Some("crm-42"));
    assert_eq!(added.link.as_deref(), Some(on_fake.link.as_str()));
    assert_eq!(added.external_key.as_deref(), Some("crm-42"));

    let listed = p.list_participants().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].email.as_deref(), Some("ada@example.com"));
    let v0 = listed[0].version.clone().expect("rowVersion kept");

    // Demote with the latest version.
    let op = Op::UpdateParticipant {
        id: added.id.clone(),
        role: Some(Role::Participant),
        name: Some("Ada L.".into()),
        version: Some(v0.clone()),
    };
    let updated = participant(&*p, op).await;
    assert_eq!(
        (updated.role.clone(), updated.name.as_str()),
        (Role::Participant, "Ada L.")
    );
    assert_ne!(
        updated.version.as_deref(),
        Some(v0.as_str()),
        "version bumped"
    );
    assert_eq!(fake.user(&added.id).unwrap().role, "Participant");

    // Promote without a version (command line): the current one is read first.
    let op = Op::UpdateParticipant {
        id: added.id.clone(),
        role: Some(Role::Moderator),
        name: None,
        version: None,
    };
    assert_eq!(participant(&*p, op).await.role, Role::Moderator);

    let renewed = participant(
        &*p,
        Op::RenewLink {
            id: added.id.clone(),
        },
    )
    .await;
    assert_ne!(renewed.link, added.link);
    assert_eq!(
        renewed.link.as_deref(),
        Some(fake.user(&added.id).unwrap().link.as_str())
    );

    let gone = p
        .perform(&Op::RemoveParticipant {
            id: added.id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(gone, Outcome::ParticipantGone(added.id.clone()));
    assert!(fake.users(&s).is_empty());
    // Removing again is not an error (an outbox replay).
    let again = p
        .perform(&Op::RemoveParticipant {
            id: added.id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(again, Outcome::ParticipantGone(added.id));
    // Questions are not a STREAMBOXY thing.
    let e = p.perform(&Op::Delete { id: "q".into() }).await.unwrap_err();
    assert!(matches!(e, ProviderError::Unsupported(_)));
}

async fn conflict_case(conflict_status: u16) {
    let fake = StreamboxyFake::start(Config {
        conflict_status,
        ..Config::default()
    })
    .await;
    let s = fake.add_session("Panel");
    let u = fake.add_user(&s, "Grace", "grace@example.com", "Participant");
    // Two moderators, two qadeck instances, the same participant on screen.
    let a = build(&settings(&fake, Some(&s)));
    let b = build(&settings(&fake, Some(&s)));
    let seen_a = a.list_participants().await.unwrap()[0].clone();
    let seen_b = b.list_participants().await.unwrap()[0].clone();
    assert_eq!(seen_a.version, seen_b.version);

    let op_a = Op::UpdateParticipant {
        id: u.id.clone(),
        role: Some(Role::Moderator),
        name: None,
        version: seen_a.version.clone(),
    };
    participant(&*a, op_a).await;
    let op_b = Op::UpdateParticipant {
        id: u.id.clone(),
        role: Some(Role::Participant),
        name: Some("Grace Hopper".into()),
        version: seen_b.version.clone(),
    };
    let e = b.perform(&op_b).await.unwrap_err();
    let ProviderError::Conflict(msg) = &e else {
        panic!("expected a conflict, got {e:?}")
    };
    assert!(
        msg.contains("changed by someone else"),
        "platform Message shown: {msg}"
    );
    assert!(
        msg.contains("now: name “Grace”, role moderator"),
        "what changed: {msg}"
    );
    assert!(
        !msg.contains("is not the latest"),
        "DetailedMessage is for the log: {msg}"
    );
    // Nothing silently overwritten.
    let on_fake = fake.user(&u.id).unwrap();
    assert_eq!(
        (on_fake.name.as_str(), on_fake.role.as_str()),
        ("Grace", "Moderator")
    );
    // B reloads and retries deliberately.
    let fresh = b.list_participants().await.unwrap()[0].clone();
    let retry = Op::UpdateParticipant {
        id: u.id.clone(),
        role: Some(Role::Participant),
        name: Some("Grace Hopper".into()),
        version: fresh.version,
    };
    assert_eq!(participant(&*b, retry).await.name, "Grace Hopper");
    assert_eq!(fake.counters().conflicts, 1);
}

#[tokio::test]
async fn stale_row_version_is_a_clear_conflict_409() {
    conflict_case(409).await;
}

#[tokio::test]
async fn stale_row_version_is_a_clear_conflict_when_sent_as_400() {
    conflict_case(400).await;
}

#[tokio::test]
async fn sessions_created_after_validation_and_listed() {
    let fake = StreamboxyFake::start(Config::default()).await;
    let p = build(&settings(&fake, None));
    let mut d = EventDraft {
        title: Some("Launch".into()),
        description: Some(String::new()),
        start: Some("2025-03-01T15:00:00+01:00".into()),
        end: Some("2025-03-01T16:30:00+01:00".into()),
        kind: None,
        content_url: Some("https://example.com/stage".into()),
    };
    // Checked before sending: no request at all.
    let before = fake.counters().requests;
    let e = p.create_event(&d).await.unwrap_err();
    assert!(matches!(e, ProviderError::Invalid(_)), "{e:?}");
    d.description = Some("é".repeat(501));
    assert!(p.create_event(&d).await.is_err());
    // Start, end and (for a Lobby) the content URL are required.
    d.description = Some("é".repeat(500));
    for missing in ["start", "end", "content"] {
        let mut partial = d.clone();
        match missing {
            "start" => partial.start = None,
            "end" => partial.end = None,
            _ => partial.content_url = None,
        }
        let e = p.create_event(&partial).await.unwrap_err();
        assert!(
            matches!(&e, ProviderError::Invalid(m) if m.contains(missing)),
            "{missing}: {e:?}"
        );
    }
    assert_eq!(fake.counters().requests, before, "nothing sent");
    d.description = Some("é".repeat(500));
    let ev = p.create_event(&d).await.unwrap();
    let created = &fake.sessions()[0];
    assert_eq!(ev.id, created.id);
    assert_eq!(created.start.as_deref(), Some("2025-03-01T14:00:00Z"));
    assert_eq!(created.end.as_deref(), Some("2025-03-01T15:30:00Z"));
    assert_eq!(created.session_type.as_deref(), Some("Lobby"));
    assert_eq!(
        created.content_url.as_deref(),
        Some("https://example.com/stage")
    );
    let listed = p.list_events().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].title, "Launch");
    // Participants need a session.
    let e = p.list_participants().await.unwrap_err();
    assert!(matches!(e, ProviderError::Invalid(_)), "{e:?}");
}

#[tokio::test]
async fn errors_show_message_and_log_operation_id() {
    let fake = StreamboxyFake::start(Config::default()).await;
    let s = fake.add_session("S");
    let p = build(&settings(&fake, Some(&s)));
    let op = Op::UpdateParticipant {
        id: "su-missing".into(),
        role: Some(Role::Moderator),
        name: None,
        version: Some("AAAAAAAAB9E=".into()),
    };
    let e = p.perform(&op).await.unwrap_err();
    assert!(matches!(e, ProviderError::NotFound(_)), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("Session user not found."), "{msg}");
    assert!(
        !msg.contains("NTF0020") && !msg.contains("op-"),
        "codes stay out: {msg}"
    );
    let log = log_capture::text();
    assert!(
        log.lines()
            .any(|l| l.contains("NTF0020") && l.contains("operation_id=\"op-")),
        "ErrorCode and OperationId logged"
    );
}

#[tokio::test]
async fn pacer_keeps_under_the_limit_and_429_is_reported_with_retry_after() {
    let fake = StreamboxyFake::start(Config {
        rate_per_sec: Some(20),
        ..Config::default()
    })
    .await;
    let s = fake.add_session("S");
    let mut st = settings(&fake, Some(&s));
    st.calls_per_sec = 20;
    let paced = build(&st);
    let t0 = Instant::now();
    for _ in 0..30 {
        paced.list_participants().await.unwrap();
    }
    assert_eq!(fake.counters().rate_limited, 0, "paced: never a 429");
    assert!(
        t0.elapsed() >= Duration::from_millis(1400),
        "{:?}",
        t0.elapsed()
    );

    // A second source of the same tenant that believes in a higher limit
    // shares the pacer at the stricter value: still never a 429.
    st.calls_per_sec = 1000;
    let eager = build(&st);
    let t1 = Instant::now();
    for i in 0..30 {
        let p = if i % 2 == 0 { &eager } else { &paced };
        p.list_participants().await.unwrap();
    }
    assert_eq!(fake.counters().rate_limited, 0, "one pacer for the tenant");
    assert!(
        t1.elapsed() >= Duration::from_millis(1400),
        "{:?}",
        t1.elapsed()
    );
}

#[tokio::test]
async fn a_429_is_reported_with_retry_after_and_holds_the_pacer() {
    // The platform allows fewer calls than even the documented limit.
    let fake = StreamboxyFake::start(Config {
        rate_per_sec: Some(10),
        ..Config::default()
    })
    .await;
    let s = fake.add_session("S");
    let eager = build(&settings(&fake, Some(&s)));
    let t1 = Instant::now();
    let (mut ok, mut limited) = (0, 0);
    while ok < 30 && t1.elapsed() < Duration::from_secs(20) {
        match eager.list_participants().await {
            Ok(_) => ok += 1,
            Err(ProviderError::RateLimited { retry_after_ms }) => {
                assert_eq!(retry_after_ms, 1000);
                limited += 1;
                // The provider itself holds every call until Retry-After.
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(ok, 30);
    assert!(limited >= 1 && fake.counters().rate_limited >= 1);
    assert!(
        limited <= 5,
        "held after each 429, not hammering: {limited}"
    );
}

#[tokio::test]
async fn feed_polls_participants_until_dropped() {
    let fake = StreamboxyFake::start(Config::default()).await;
    let s = fake.add_session("S");
    fake.add_user(&s, "First", "first@example.com", "Participant");
    let p = build(&settings(&fake, Some(&s)));
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let feed = {
        let p = p.clone();
        tokio::spawn(async move { p.run_feed(FeedTx::new(SourceId(3), tx)).await })
    };
    let mut got = Vec::new();
    let mut seeded = false;
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await else {
            break;
        };
        let len = match &ev.feed {
            Feed::Participants(list) => Some(list.len()),
            _ => None,
        };
        got.push(ev.feed);
        match len {
            Some(1) if !seeded => {
                seeded = true;
                fake.add_user(&s, "Second", "second@example.com", "Moderator");
            }
            Some(2) => break,
            _ => {}
        }
    }
    assert_eq!(got[0], Feed::Connection(Connection::Connecting));
    assert_eq!(got[1], Feed::Connection(Connection::Polling));
    assert!(
        matches!(got.last(), Some(Feed::Participants(l)) if l.len() == 2),
        "{got:?}"
    );
    drop(rx);
    tokio::time::timeout(Duration::from_secs(3), feed)
        .await
        .expect("feed ends")
        .unwrap();
}

#[tokio::test]
async fn hostile_platform_text_is_sanitized() {
    let fake = StreamboxyFake::start(Config::default()).await;
    let s = fake.add_session("S");
    fake.add_user(
        &s,
        "\u{1b}]52;c;cm0gLXJm\u{7}Eve\u{202e}\u{1b}[2J",
        "eve@example.com",
        "Participant",
    );
    let p = build(&settings(&fake, Some(&s)));
    let list = p.list_participants().await.unwrap();
    assert!(
        qadeck::text::is_terminal_safe(&list[0].name),
        "{:?}",
        list[0].name
    );
    assert!(list[0].name.contains("Eve"));
}

#[tokio::test]
async fn config_file_builds_the_source_and_secret_stays_out_of_logs() {
    let fake = StreamboxyFake::start(Config::default()).await;
    let s = fake.add_session("S");
    let cfg = fake.config();
    let text = format!(
        "[[source]]\nprovider = \"streamboxy\"\nname = \"sbx\"\ntenant = \"{}\"\nclient_id = \"{}\"\n\
         client_secret_cmd = \"printf %s '{}'\"\nevent = \"{s}\"\nbase_url = \"{}\"\n",
        cfg.tenant, cfg.client_id, cfg.client_secret, fake.base_url
    );
    let parsed = qadeck::config::parse(&text, std::path::Path::new("t.toml")).unwrap();
    let src = parsed.source("sbx").unwrap();
    assert_eq!(src.event(), Some(s.as_str()));
    assert!(!src.has_literal_secret());
    log_capture::install();
    let p = src
        .build(&BuildCtx {
            source: SourceId(0),
            moderator: Moderator::default(),
            event: None,
        })
        .unwrap();
    participant(
        &*p,
        Op::AddParticipant {
            draft: draft("Lin", "lin@example.com", Role::Participant),
        },
    )
    .await;
    let bad = "[[source]]\nprovider = \"streamboxy\"\ntenant = \"t\"\nclient_id = \"c\"\nclient_secrt = \"x\"\n";
    let e = qadeck::config::parse(bad, std::path::Path::new("t.toml")).unwrap_err();
    assert!(e.to_string().contains("client_secrt"), "{e}");
    let log = log_capture::text();
    assert!(log.contains("streamboxy"), "our lines are captured");
    assert!(
        !log.contains(&cfg.client_secret),
        "client secret never logged"
    );
    assert!(!log.contains("Bearer ey"), "token never logged");
}

#[tokio::test]
async fn a_speaker_stays_speaker_through_a_rename_and_a_moderator_round_trip() {
    let fake = StreamboxyFake::start(Config::default()).await;
    let s = fake.add_session("Panel");
    let u = fake.add_user(&s, "Grace", "grace@example.com", "Speaker");
    let p = build(&settings(&fake, Some(&s)));
    let seen = p.list_participants().await.unwrap()[0].clone();
    assert_eq!(seen.role, Role::Speaker);
    let rename = Op::UpdateParticipant {
        id: u.id.clone(),
        role: None,
        name: Some("Grace Hopper".into()),
        version: seen.version.clone(),
    };
    let renamed = participant(&*p, rename).await;
    assert_eq!(
        (renamed.name.as_str(), &renamed.role),
        ("Grace Hopper", &Role::Speaker)
    );
    assert_eq!(fake.user(&u.id).unwrap().role, "Speaker", "no role sent");
    let promote = Op::UpdateParticipant {
        id: u.id.clone(),
        role: Some(Role::Moderator),
        name: None,
        version: renamed.version.clone(),
    };
    let promoted = participant(&*p, promote).await;
    assert_eq!(promoted.role, Role::Moderator);
    let back = Op::UpdateParticipant {
        id: u.id.clone(),
        role: Some(Role::Speaker),
        name: None,
        version: promoted.version.clone(),
    };
    assert_eq!(participant(&*p, back).await.role, Role::Speaker);
    let on_fake = fake.user(&u.id).unwrap();
    assert_eq!(
        (on_fake.name.as_str(), on_fake.role.as_str()),
        ("Grace Hopper", "Speaker")
    );
}

#[tokio::test]
async fn an_add_whose_answer_was_lost_lands_once_and_needs_an_email() {
    let fake = StreamboxyFake::start(Config {
        lose_create_answers: 1,
        ..Config::default()
    })
    .await;
    let s = fake.add_session("Panel");
    let p = build(&settings(&fake, Some(&s)));
    // No e-mail: refused before sending (the documented body has one).
    let mut no_mail = draft("X", "", Role::Participant);
    no_mail.email = None;
    let before = fake.counters().requests;
    let e = p
        .perform(&Op::AddParticipant { draft: no_mail })
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ProviderError::Invalid(m) if m.contains("e-mail")),
        "{e:?}"
    );
    assert_eq!(fake.counters().requests, before);

    let mut d = draft("Ada", "ada@example.com", Role::Speaker);
    d.external_key = Some("crm-7".into());
    let op = Op::AddParticipant { draft: d };
    let e = p.perform(&op).await.unwrap_err();
    assert!(matches!(e, ProviderError::Server(_)), "{e:?}");
    let Outcome::Participant(ada) = p.perform_again(&op, 0).await.unwrap() else {
        panic!()
    };
    let users = fake.users(&s);
    assert_eq!(users.len(), 1, "exactly one on the platform");
    assert_eq!(
        (ada.id.as_str(), &ada.role),
        (users[0].id.as_str(), &Role::Speaker)
    );
    assert_eq!(fake.counters().user_creates, 1);
    // A repeat delete after a lost answer is success.
    let rm = Op::RemoveParticipant { id: ada.id.clone() };
    p.perform(&rm).await.unwrap();
    assert_eq!(
        p.perform_again(&rm, 0).await.unwrap(),
        Outcome::ParticipantGone(ada.id)
    );
}

#[tokio::test]
async fn an_add_answered_202_without_a_body_is_read_back_once() {
    let fake = StreamboxyFake::start(Config {
        accept_adds_without_body: true,
        ..Config::default()
    })
    .await;
    let s = fake.add_session("Panel");
    let p = build(&settings(&fake, Some(&s)));
    let op = Op::AddParticipant {
        draft: draft("Ada", "ada@example.com", Role::Speaker),
    };
    let Outcome::Participant(ada) = p.perform(&op).await.unwrap() else {
        panic!("not a participant")
    };
    let users = fake.users(&s);
    assert_eq!(users.len(), 1, "exactly one on the platform");
    assert_eq!(ada.id, users[0].id);
    assert_eq!(ada.email.as_deref(), Some("ada@example.com"));
    assert_eq!(ada.role, Role::Speaker);
}
