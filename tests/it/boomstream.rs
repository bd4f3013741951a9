//! Boomstream provider against the in-process fake: conferences (JSON and
//! the documented XML answers), clients, a wrong API key, and the key never
//! reaching a log line or an error message.

use crate::support::boomstream_fake::{BoomstreamFake, Config};
use crate::support::log_capture;
use qadeck::domain::{
    Connection, EventDraft, Feed, Moderator, Op, Outcome, ParticipantDraft, ProviderError, Role,
    SourceId,
};
use qadeck::provider::boomstream::{Boomstream, Settings};
use qadeck::provider::{BuildCtx, FeedTx, Provider, SourceSpec};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Keys used in this binary; none may ever appear in the captured log.
/// Characters that URL-encoding changes make the encoded form differ.
const KEY: &str = "bk_live/Zx9+Qa7=Tt41";
const WRONG_KEY: &str = "bk_wrong/Mm3+Pp8=Rr22";

/// Every error string the tests saw, searched at the end for the keys.
fn errors() -> &'static Mutex<Vec<String>> {
    static E: std::sync::OnceLock<Mutex<Vec<String>>> = std::sync::OnceLock::new();
    E.get_or_init(Default::default)
}

fn keep<T: std::fmt::Debug>(r: Result<T, ProviderError>) -> Result<T, ProviderError> {
    if let Err(e) = &r {
        errors().lock().unwrap().push(format!("{e} | {e:?}"));
    }
    r
}

async fn fake() -> BoomstreamFake {
    BoomstreamFake::start(Config {
        api_key: KEY.into(),
        ..Config::default()
    })
    .await
}

fn settings(fake: &BoomstreamFake, conference: Option<&str>) -> Settings {
    Settings {
        name: "boom".into(),
        event: conference.map(str::to_string),
        api_key: Some(KEY.into()),
        base_url: fake.base_url.clone(),
        poll_ms: 150,
        ..Settings::default()
    }
}

fn ctx() -> BuildCtx {
    log_capture::install();
    BuildCtx {
        source: SourceId(4),
        moderator: Moderator::default(),
        event: None,
    }
}

fn build(s: &Settings) -> Arc<dyn Provider> {
    s.build(&ctx()).expect("builds")
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
    match keep(p.perform(&op).await).expect("op succeeds") {
        Outcome::Participant(p) => p,
        other => panic!("unexpected outcome {other:?}"),
    }
}

#[tokio::test]
async fn conferences_listed_created_updated_deleted_json_and_xml() {
    let fake = fake().await;
    fake.add_conference("Existing");
    let p = build(&settings(&fake, None));
    let created = keep(
        p.create_event(&EventDraft {
            title: Some("Town hall".into()),
            description: Some("Q&A with the board".into()),
            ..EventDraft::default()
        })
        .await,
    )
    .unwrap();
    assert_eq!(created.title, "Town hall");
    let listed = keep(p.list_events().await).unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .any(|e| e.id == created.id && e.title == "Town hall")
    );
    assert_eq!(fake.conferences()[1].description, "Q&A with the board");

    // update answers in XML, as documented.
    let upd = EventDraft {
        title: Some("Konfa <1> & co".into()),
        ..EventDraft::default()
    };
    let updated = keep(p.update_event(&created.id, &upd).await).unwrap();
    assert_eq!(
        (updated.id.as_str(), updated.title.as_str()),
        (created.id.as_str(), "Konfa <1> & co")
    );
    assert_eq!(fake.conferences()[1].title, "Konfa <1> & co");
    assert!(matches!(
        p.update_event(&created.id, &EventDraft::default()).await,
        Err(ProviderError::Invalid(_))
    ));

    // info (Boomstream-specific call).
    let b = Boomstream::new(&settings(&fake, None), &ctx()).unwrap();
    assert_eq!(
        keep(b.conference_info(&created.id).await).unwrap().title,
        "Konfa <1> & co"
    );

    // delete answers in XML too; a second delete is the XML failure.
    keep(p.delete_event(&created.id).await).unwrap();
    assert_eq!(fake.conferences().len(), 1);
    let e = keep(p.delete_event(&created.id).await).unwrap_err();
    // HTTP 200 with `Failed` and no code: refused, with the platform's words.
    assert!(
        matches!(&e, ProviderError::Invalid(m) if m.contains("Conference not found")),
        "{e:?}"
    );
    // Version 1.0 "loads by default": no `ver` is sent for it.
    assert!(
        fake.counters().versions.is_empty(),
        "{:?}",
        fake.counters().versions
    );
}

#[tokio::test]
async fn clients_invited_listed_promoted_demoted_removed() {
    let fake = fake().await;
    let conf = fake.add_conference("Board");
    let p = build(&settings(&fake, Some(&conf)));
    let caps = p.capabilities();
    assert!(caps.participants && !caps.questions && !caps.chat);

    let mut d = draft("Nik", "n.kuznetsov+qa@example.com", Role::Participant);
    d.notify = true;
    d.link_lifetime_min = Some(60);
    let nik = participant(&*p, Op::AddParticipant { draft: d }).await;
    let on_fake = fake.live_clients(&conf);
    assert_eq!(on_fake.len(), 1);
    let c = &on_fake[0];
    assert_eq!(
        nik.id, c.code,
        "client code found though invite answers the conference code"
    );
    assert_eq!(
        c.email, "n.kuznetsov+qa@example.com",
        "'+' survives the query string"
    );
    assert_eq!(
        (c.timeout.as_deref(), c.notify.as_deref(), c.moderator),
        (Some("3600"), Some("yes"), false)
    );
    assert_eq!(nik.link.as_deref(), Some(c.invite_link.as_str()));

    // Avatar through the Boomstream-specific invite.
    let b = Boomstream::new(&settings(&fake, Some(&conf)), &ctx()).unwrap();
    let tan = keep(
        b.invite(
            &draft("Tany", "tany@example.com", Role::Moderator),
            Some("https://img.example/t.png"),
        )
        .await,
    )
    .unwrap();
    assert_eq!(tan.role, Role::Moderator);
    assert_eq!(
        fake.client(&tan.id).unwrap().avatar_url.as_deref(),
        Some("https://img.example/t.png")
    );

    // The link is remembered for later lists (client/list has none).
    let listed = keep(p.list_participants().await).unwrap();
    assert_eq!(listed.len(), 2);
    let again = listed.iter().find(|x| x.id == nik.id).unwrap();
    assert_eq!(again.link, nik.link);

    let promote = Op::UpdateParticipant {
        id: nik.id.clone(),
        role: Some(Role::Moderator),
        name: Some("Nikita".into()),
        version: None,
    };
    let promoted = participant(&*p, promote).await;
    assert_eq!(
        (promoted.role, promoted.name.as_str()),
        (Role::Moderator, "Nikita")
    );
    assert!(fake.client(&nik.id).unwrap().moderator);
    let demote = Op::UpdateParticipant {
        id: nik.id.clone(),
        role: Some(Role::Participant),
        name: None,
        version: None,
    };
    assert_eq!(participant(&*p, demote).await.role, Role::Participant);
    assert!(!fake.client(&nik.id).unwrap().moderator);

    let e = keep(p.perform(&Op::RenewLink { id: nik.id.clone() }).await).unwrap_err();
    assert!(matches!(e, ProviderError::Unsupported(_)));

    let gone = keep(
        p.perform(&Op::RemoveParticipant { id: nik.id.clone() })
            .await,
    )
    .unwrap();
    assert_eq!(gone, Outcome::ParticipantGone(nik.id.clone()));
    assert!(fake.client(&nik.id).unwrap().is_deleted);
    let listed = keep(p.list_participants().await).unwrap();
    assert_eq!(listed.len(), 1, "removed clients are left out");
    // A repeat delete ("Client is already deleted") is success.
    let again = keep(
        p.perform(&Op::RemoveParticipant { id: nik.id.clone() })
            .await,
    )
    .unwrap();
    assert_eq!(again, Outcome::ParticipantGone(nik.id.clone()));
    // Removing someone who never was is still an error.
    let e = keep(
        p.perform(&Op::RemoveParticipant {
            id: "nobody".into(),
        })
        .await,
    )
    .unwrap_err();
    assert!(e.to_string().contains("Client not found"), "{e:?}");
    // A rename sends the name only.
    let tan_before = fake.client(&tan.id).unwrap();
    let rename = Op::UpdateParticipant {
        id: tan.id.clone(),
        role: None,
        name: Some("Tatiana".into()),
        version: None,
    };
    let renamed = participant(&*p, rename).await;
    assert_eq!(
        (renamed.name.as_str(), &renamed.role),
        ("Tatiana", &Role::Moderator)
    );
    assert!(fake.client(&tan.id).unwrap().moderator && tan_before.moderator);
    assert!(
        fake.requests().iter().any(|l| l.contains("client/update")
            && l.contains("Tatiana")
            && !l.contains("moderator=")),
        "{:?}",
        fake.requests()
    );
    // Boomstream has no Speaker: refused before sending.
    let e = keep(
        p.perform(&Op::AddParticipant {
            draft: draft("S", "s@example.com", Role::Speaker),
        })
        .await,
    )
    .unwrap_err();
    assert!(matches!(e, ProviderError::Invalid(_)), "{e:?}");
    // Boomstream needs an e-mail to invite.
    let mut no_mail = draft("X", "", Role::Participant);
    no_mail.email = None;
    let e = keep(p.perform(&Op::AddParticipant { draft: no_mail }).await).unwrap_err();
    assert!(matches!(e, ProviderError::Invalid(_)));
}

async fn wrong_key_case(status: u16) {
    let fake = BoomstreamFake::start(Config {
        api_key: KEY.into(),
        wrong_key_status: status,
        ..Config::default()
    })
    .await;
    let conf = fake.add_conference("C");
    let mut s = settings(&fake, Some(&conf));
    s.api_key = Some(WRONG_KEY.into());
    let p = build(&s);
    // By the status (403), or refused (HTTP 200 `Failed`): never by words.
    let expected = |e: &ProviderError| match status {
        403 => matches!(e, ProviderError::Auth(_)),
        _ => matches!(e, ProviderError::Invalid(_)),
    };
    let e = keep(p.list_events().await).unwrap_err();
    assert!(expected(&e), "{e:?}");
    assert!(e.to_string().contains("Invalid apikey"), "{e}");
    let e = keep(p.list_participants().await).unwrap_err();
    assert!(expected(&e), "{e:?}");
    // The fake echoed the key back (RequestURI); qadeck's message has none of it.
    assert!(
        fake.requests()
            .iter()
            .any(|l| l.contains("bk_wrong%2FMm3%2BPp8%3DRr22"))
    );
    assert_eq!(fake.counters().wrong_key, 2);
    // The feed reports it as a failure that needs the moderator.
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let feed = tokio::spawn({
        let p = p.clone();
        async move { p.run_feed(FeedTx::new(SourceId(4), tx)).await }
    });
    assert_eq!(
        rx.recv().await.unwrap().feed,
        Feed::Connection(Connection::Connecting)
    );
    let Feed::Connection(Connection::Failed { reason }) = rx.recv().await.unwrap().feed else {
        panic!("expected Failed")
    };
    errors().lock().unwrap().push(reason);
    drop(rx);
    feed.abort();
}

#[tokio::test]
async fn wrong_api_key_http_200_failed_is_refused_with_its_message() {
    wrong_key_case(200).await;
}

#[tokio::test]
async fn wrong_api_key_is_an_auth_error_http_403() {
    wrong_key_case(403).await;
}

#[tokio::test]
async fn feed_polls_clients_and_base_url_may_be_the_host() {
    let fake = fake().await;
    let conf = fake.add_conference("C");
    fake.add_client(&conf, "A", "a@example.com", false);
    let mut s = settings(&fake, Some(&conf));
    s.base_url = fake.root_url.clone();
    s.ver = "1.0".into();
    let p = build(&s);
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let feed = tokio::spawn({
        let p = p.clone();
        async move { p.run_feed(FeedTx::new(SourceId(4), tx)).await }
    });
    let mut added = false;
    let mut done = false;
    for _ in 0..40 {
        let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await else {
            break;
        };
        if let Feed::Participants(list) = ev.feed {
            if !added {
                assert_eq!(list.len(), 1);
                fake.add_client(&conf, "B", "b@example.com", true);
                added = true;
            } else if list.len() == 2 {
                assert!(list.iter().any(|p| p.role == Role::Moderator));
                done = true;
                break;
            }
        }
    }
    assert!(done, "second client seen by polling");
    drop(rx);
    tokio::time::timeout(Duration::from_secs(3), feed)
        .await
        .expect("feed ends")
        .unwrap();
    assert!(fake.counters().versions.iter().all(|v| v == "1.0"));
}

#[tokio::test]
async fn api_key_never_in_logs_errors_or_debug() {
    let fake = fake().await;
    let conf = fake.add_conference("C");
    let s = settings(&fake, Some(&conf));
    let p = build(&s);
    // A mix of successes and failures, including ones whose answer echoes
    // the request URI with the key in it.
    let b = Boomstream::new(&s, &ctx()).unwrap();
    keep(b.conference_info(&conf).await).unwrap();
    keep(b.conference_info("no-such-conference").await).unwrap_err();
    keep(b.client_info("no-such-client").await).unwrap_err();
    keep(p.list_participants().await).unwrap();
    // A network error: nothing listens on this port any more.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut dead = s.clone();
    dead.base_url = format!("http://127.0.0.1:{port}/api/conference");
    let e = keep(build(&dead).list_events().await).unwrap_err();
    assert!(matches!(e, ProviderError::Network(_)), "{e:?}");
    // Settings and errors: Debug too.
    errors().lock().unwrap().push(format!("{s:?}"));
    // Run the other tests' kinds of failure here as well, so the check below
    // does not depend on test order.
    wrong_key_case(200).await;

    let log = log_capture::text();
    assert!(log.contains("boomstream"), "our lines are captured");
    let encoded = |k: &str| {
        k.replace('/', "%2F")
            .replace('+', "%2B")
            .replace('=', "%3D")
    };
    for key in [KEY, WRONG_KEY] {
        for form in [key.to_string(), encoded(key)] {
            assert!(!log.contains(&form), "key form {form} in the log");
            for e in errors().lock().unwrap().iter() {
                assert!(!e.contains(&form), "key form {form} in an error: {e}");
            }
        }
    }
    assert!(errors().lock().unwrap().len() >= 5);
}

#[tokio::test]
async fn an_invite_whose_answer_was_lost_lands_once() {
    let fake = BoomstreamFake::start(Config {
        api_key: KEY.into(),
        lose_invite_answers: 1,
        ..Config::default()
    })
    .await;
    let conf = fake.add_conference("Board");
    let p = build(&settings(&fake, Some(&conf)));
    let op = Op::AddParticipant {
        draft: draft("Nik", "Nik@Example.com", Role::Participant),
    };
    let e = keep(p.perform(&op).await).unwrap_err();
    assert!(matches!(e, ProviderError::Server(_)), "{e:?}");
    assert_eq!(fake.counters().lost_answers, 1);
    // The outbox's next attempt: the client is found by e-mail, no second
    // invite (and no second token).
    let Outcome::Participant(nik) = keep(p.perform_again(&op, 0).await).unwrap() else {
        panic!()
    };
    assert_eq!(fake.counters().invites, 1);
    let live = fake.live_clients(&conf);
    assert_eq!(live.len(), 1);
    assert_eq!(nik.id, live[0].code);
    // An invitation that never landed is sent on the next attempt.
    let other = Op::AddParticipant {
        draft: draft("Tany", "tany@example.com", Role::Moderator),
    };
    keep(p.perform_again(&other, 0).await).unwrap();
    assert_eq!(fake.live_clients(&conf).len(), 2);
}

#[tokio::test]
async fn another_api_version_is_asked_for_with_ver() {
    let fake = fake().await;
    let conf = fake.add_conference("C");
    let mut s = settings(&fake, Some(&conf));
    s.ver = "1.2".into();
    let p = build(&s);
    keep(p.list_participants().await).unwrap();
    assert_eq!(fake.counters().versions, ["1.2"]);
    s.ver = "9.9".into();
    let e = keep(build(&s).list_participants().await).unwrap_err();
    assert!(e.to_string().contains("Unknown API version"), "{e}");
}
