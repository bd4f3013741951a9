//! Two qadeck instances (each a whole session: core, outbox, delivery,
//! feed) editing the same STREAMBOXY participant. The second save gets a
//! clear conflict, nothing is overwritten, and only the moderator's key
//! retries — on the fresh version.

use crate::support::streamboxy_fake::{Config, StreamboxyFake};
use qadeck::app::{App, Event, KeyMap, PaneKind};
use qadeck::config::SourceSettings;
use qadeck::domain::{Moderator, Role};
use qadeck::provider::streamboxy;
use qadeck::runtime::{Inbox, Session, SourceInput};
use qadeck::store::Store;
use ratatui_textarea::{Input, Key};
use std::sync::Arc;
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

struct Instance {
    session: Session,
    inbox: Inbox,
    store: Arc<Store>,
}

fn instance(fake: &StreamboxyFake, session: &str, name: &str) -> Instance {
    instance_on(
        fake,
        session,
        name,
        Arc::new(Store::open_in_memory().unwrap()),
    )
}

fn instance_on(fake: &StreamboxyFake, session: &str, name: &str, store: Arc<Store>) -> Instance {
    let cfg = fake.config();
    let settings = streamboxy::Settings {
        name: "sbx".into(),
        tenant: cfg.tenant,
        client_id: cfg.client_id,
        client_secret: Some(cfg.client_secret),
        event: Some(session.into()),
        base_url: fake.base_url.clone(),
        // One poll at the start: each instance keeps what it loaded.
        poll_ms: 600_000,
        ..streamboxy::Settings::default()
    };
    let moderator = Moderator {
        identifier: name.into(),
        name: name.into(),
    };
    let (mut session, inbox) = Session::new(
        vec![SourceInput::Settings(SourceSettings::Streamboxy(settings))],
        store.clone(),
        KeyMap::default(),
        moderator,
    )
    .unwrap();
    session.start(true);
    Instance {
        session,
        inbox,
        store,
    }
}

impl Instance {
    /// Runs the loop until `done` holds (bounded).
    async fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = tokio::time::Instant::now() + T;
        while !done(&self.session.app) {
            let event = tokio::select! {
                Some(f) = self.inbox.feed.recv() => Event::Feed(f),
                Some(r) = self.inbox.reports.recv() => Event::Op(r),
                Some(m) = self.inbox.misc.recv() => m,
                _ = tokio::time::sleep_until(deadline) => {
                    panic!("timed out waiting for {what}; error: {:?}", self.session.app.last_error)
                }
            };
            self.session.handle(event);
        }
    }

    fn key(&mut self, c: char) {
        self.session.handle(Event::Key(Input {
            key: Key::Char(c),
            ..Input::default()
        }));
    }

    fn grace(&self) -> qadeck::domain::Participant {
        self.session.app.current_participant().unwrap().clone()
    }

    fn toast(&self) -> String {
        let t = self.session.app.toast.as_ref();
        t.map(|t| t.text.clone()).unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_save_gets_a_clear_conflict_nothing_overwritten_key_retries() {
    let fake = StreamboxyFake::start(Config::default()).await;
    let s = fake.add_session("Panel");
    let u = fake.add_user(&s, "Grace", "grace@example.com", "Participant");
    let mut a = instance(&fake, &s, "alex");
    let mut b = instance(&fake, &s, "bo");
    for i in [&mut a, &mut b] {
        i.until("the list", |app| !app.people.is_empty()).await;
        assert_eq!(i.session.app.focus, PaneKind::People);
    }
    let seen = b.grace().version.clone();
    assert_eq!(a.grace().version, seen);

    // A promotes Grace, then demotes her again: two saves, version moved on.
    a.key('m');
    a.until("A's promote", |app| app.inflight.is_empty()).await;
    a.key('m');
    a.until("A's demote", |app| app.inflight.is_empty()).await;
    assert_eq!(a.grace().role, Role::Participant);
    assert!(a.session.app.last_error.is_none());
    let on_platform = fake.user(&u.id).unwrap();
    assert_eq!(on_platform.role, "Participant");

    // B still has the first version: its promote is refused, clearly.
    b.key('m');
    b.until("B's conflict", |app| app.people_conflict.is_some())
        .await;
    let e = b.session.app.last_error.clone().unwrap();
    assert!(e.contains("promote Grace refused"), "{e}");
    assert!(
        e.contains("changed by someone else"),
        "the platform's words: {e}"
    );
    assert!(
        e.contains("now: name “Grace”, role participant"),
        "what changed: {e}"
    );
    assert!(e.contains("m retries on the fresh version"), "{e}");
    assert!(b.session.app.failed.is_empty(), "no blind ctrl-r retry");
    // Nothing was overwritten, and nothing was tried again.
    let c = fake.counters();
    assert_eq!((c.patches, c.conflicts), (3, 1));
    assert_eq!(
        fake.user(&u.id).unwrap().row_version,
        on_platform.row_version
    );
    // B reloaded by itself.
    b.until("B's reload", |app| {
        app.current_participant().unwrap().version != seen
    })
    .await;
    // The stale action is dropped in B's outbox (journalled), not failed.
    let journal = b.store.journal(100).unwrap();
    let text: Vec<String> = journal.iter().map(|j| j.to_string()).collect();
    assert!(
        text.iter().any(|l| l.contains("dropped")),
        "journal: {text:#?}"
    );

    // The moderator presses m again: the promote, on the fresh version.
    b.key('m');
    b.until("B's retry", |app| app.inflight.is_empty()).await;
    assert!(
        b.toast().contains("Grace is now moderator"),
        "{}",
        b.toast()
    );
    assert_eq!(fake.user(&u.id).unwrap().role, "Moderator");
    assert_eq!(fake.counters().conflicts, 1);
    a.session.shutdown().await;
    b.session.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_conflict_an_already_made_change_is_not_sent_again() {
    let fake = StreamboxyFake::start(Config::default()).await;
    let s = fake.add_session("Panel");
    let u = fake.add_user(&s, "Grace", "grace@example.com", "Participant");
    let mut a = instance(&fake, &s, "alex");
    let mut b = instance(&fake, &s, "bo");
    for i in [&mut a, &mut b] {
        i.until("the list", |app| !app.people.is_empty()).await;
    }
    a.key('m');
    a.until("A's promote", |app| app.inflight.is_empty()).await;
    b.key('m');
    b.until("B's conflict", |app| app.people_conflict.is_some())
        .await;
    assert!(
        b.session
            .app
            .last_error
            .as_deref()
            .unwrap()
            .contains("role moderator")
    );
    b.until("B's reload", |app| {
        app.current_participant().unwrap().role == Role::Moderator
    })
    .await;
    b.key('m');
    assert!(b.session.app.inflight.is_empty(), "nothing sent");
    assert!(
        b.toast().contains("already moderator — nothing to retry"),
        "{}",
        b.toast()
    );
    assert_eq!(fake.counters().patches, 2);
    assert_eq!(fake.user(&u.id).unwrap().role, "Moderator");
    a.session.shutdown().await;
    b.session.shutdown().await;
}

/// qadeck promotes a Speaker, the console restarts, and demoting her gives
/// her the Speaker role back: the earlier role is kept in the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promoted_speaker_is_demoted_to_speaker_after_a_restart() {
    let fake = StreamboxyFake::start(Config::default()).await;
    let s = fake.add_session("Panel");
    let u = fake.add_user(&s, "Grace", "grace@example.com", "Speaker");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qadeck.db");
    let mut a = instance_on(&fake, &s, "alex", Arc::new(Store::open(&path).unwrap()));
    a.until("the list", |app| !app.people.is_empty()).await;
    a.key('m');
    a.until("the promote", |app| app.inflight.is_empty()).await;
    assert_eq!(fake.user(&u.id).unwrap().role, "Moderator");
    a.session.flush().await;
    a.session.shutdown().await;
    drop(a);

    let mut b = instance_on(&fake, &s, "alex", Arc::new(Store::open(&path).unwrap()));
    b.until("the list and the stored role", |app| {
        !app.people.is_empty() && !app.earlier_roles.is_empty()
    })
    .await;
    assert_eq!(b.grace().role, Role::Moderator);
    b.key('m');
    b.until("the demote", |app| {
        app.inflight.is_empty()
            && app
                .current_participant()
                .is_some_and(|p| p.role == Role::Speaker)
    })
    .await;
    assert_eq!(fake.user(&u.id).unwrap().role, "Speaker");
    b.session.shutdown().await;
}
