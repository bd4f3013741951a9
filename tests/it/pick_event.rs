//! Picking an event in a running session: the provider is built off the
//! loop, a `*_cmd` secret is not run again, and the replaced provider shuts
//! down (streams.live logs out).

use crate::support::streamslive_fake::{EVENT_SLUG, FakeConfig, FakeStreamsLive};
use crate::support::wait::wait_until_async as wait_until;
use qadeck::app::{Command, KeyMap};
use qadeck::config::SourceSettings;
use qadeck::domain::{Moderator, Op, SourceId, Status};
use qadeck::runtime::{Inbox, Session, SourceInput};
use qadeck::store::{NewOp, Store};
use std::sync::Arc;
use std::time::Duration;

fn drain(s: &mut Session, inbox: &mut Inbox) {
    while let Some(e) = inbox.try_next() {
        s.handle(e);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picked_event_replaces_the_provider_without_rerunning_secrets() {
    let fake = FakeStreamsLive::start(FakeConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let mut settings = fake.settings();
    settings.event = None;
    settings.password = None;
    settings.password_cmd = Some(format!(
        "echo run >> '{}'; echo '{}'",
        runs.display(),
        fake.config().password
    ));
    let input = SourceInput::Settings(SourceSettings::Streamslive(settings));
    let store = Arc::new(Store::open_in_memory().unwrap());
    // Left by an earlier run on another channel.
    store
        .enqueue(&NewOp {
            op_id: "earlier-1".into(),
            source: "streamslive".into(),
            event: "other-channel".into(),
            op: Op::SetStatus {
                id: "q1".into(),
                status: Status::Selected,
            },
            actor: "tess".into(),
            created: 1,
            note: None,
        })
        .unwrap();
    let moderator = Moderator {
        identifier: "qadeck-pick-test".into(),
        name: "tess".into(),
    };
    let (mut s, mut inbox) =
        Session::new(vec![input], store, KeyMap::default(), moderator).unwrap();
    s.start(true);
    assert!(!s.app.sources[0].has_event);
    let waits = vec![("other-channel".to_string(), 1)];
    let shown = wait_until(Duration::from_secs(10), || {
        drain(&mut s, &mut inbox);
        s.app.sources[0].waiting == waits
    })
    .await;
    assert!(shown, "{:?}", s.app.sources[0].waiting);
    let logged_in = || fake.counters().get("POST auth/login");

    let pick = |s: &mut Session| {
        s.execute(vec![Command::PickEvent {
            source: SourceId(0),
            event: EVENT_SLUG.into(),
        }]);
    };
    // The first provider (it listed the events for the picker) is replaced
    // and logs out.
    pick(&mut s);
    let started = wait_until(Duration::from_secs(10), || {
        drain(&mut s, &mut inbox);
        s.app.sources[0].has_event
            && fake.counters().api_calls() > 0
            && fake.counters().get("POST auth/logout") == 1
    })
    .await;
    assert!(
        started,
        "the picked event did not start: {:?}",
        fake.counters()
    );
    assert_eq!(s.event(SourceId(0)), Some(EVENT_SLUG));
    assert_eq!(s.app.sources[0].waiting, waits);

    // Picked again: the old provider logs out, the new one logs in, and the
    // password command ran once in all.
    let logins = logged_in();
    pick(&mut s);
    let replaced = wait_until(Duration::from_secs(10), || {
        drain(&mut s, &mut inbox);
        fake.counters().get("POST auth/logout") == 2 && logged_in() > logins
    })
    .await;
    assert!(replaced, "counters: {:?}", fake.counters());
    assert_eq!(std::fs::read_to_string(&runs).unwrap(), "run\n");
    s.shutdown().await;
    // Every provider logged out exactly once.
    assert_eq!(
        fake.counters().get("POST auth/logout"),
        fake.counters().get("POST auth/login")
    );
}
