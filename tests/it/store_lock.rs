//! The store never freezes the keys: with another process holding
//! SQLite's write lock (here another connection in `BEGIN IMMEDIATE` on the
//! same file, for 3 s), key presses are answered at once. The check is an
//! order, not a stopwatch: the keys' effect is visible while the lock is
//! still held. The action reaches the platform once the lock is released.

use crate::support::postobox_fake::{FakeConfig, FakePostobox, Plan, SELECTED};
use crate::support::wait::wait_until_async as wait_until;
use qadeck::app::{Event, KeyMap};
use qadeck::domain::{Moderator, SourceId, Status};
use qadeck::provider::postobox::{Postobox, Settings};
use qadeck::provider::{BuildCtx, Provider, now_ms};
use qadeck::runtime::{Inbox, Session, SourceInput};
use qadeck::store::Store;
use ratatui_textarea::{Input, Key};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn moderator() -> Moderator {
    Moderator {
        identifier: "qadeck-lock-test".into(),
        name: "tess".into(),
    }
}

fn key(c: char) -> Event {
    Event::Key(Input {
        key: Key::Char(c),
        ..Input::default()
    })
}

/// Handles whatever the inbox holds now, without waiting.
fn drain(s: &mut Session, inbox: &mut Inbox) {
    while let Some(e) = inbox.try_next() {
        s.handle(e);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_answered_while_another_process_holds_the_write_lock() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    fake.add_question(&ev, "first");
    fake.add_question(&ev, "second");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qadeck.db");
    let store = Arc::new(Store::open(&path).unwrap());

    let mut settings = Settings::new("keynote");
    settings.api_key = Some(fake.api_key());
    settings.base_url = fake.base_url();
    settings.event = Some(ev.clone());
    let ctx = BuildCtx {
        source: SourceId(0),
        moderator: moderator(),
        event: None,
    };
    let provider: Arc<dyn Provider> = Arc::new(Postobox::new(&settings, &ctx).unwrap());
    let input = SourceInput::Built {
        name: "keynote".into(),
        event: ev.clone(),
        provider,
    };
    let (mut s, mut inbox) =
        Session::new(vec![input], store, KeyMap::default(), moderator()).unwrap();
    s.start(true);
    s.handle(Event::Resize {
        width: 80,
        height: 24,
    });
    let loaded = wait_until(Duration::from_secs(10), || {
        drain(&mut s, &mut inbox);
        s.app.queue.count(Status::Pending) == 2
    })
    .await;
    assert!(loaded, "the questions did not load");

    // Another process takes the write lock and keeps it for 3 s.
    let released = Arc::new(AtomicBool::new(false));
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel();
    let holder = {
        let released = released.clone();
        std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
            locked_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_secs(3));
            released.store(true, Ordering::SeqCst);
            conn.execute_batch("COMMIT").unwrap();
        })
    };
    locked_rx.await.unwrap();

    // Approve (a store write) and move on (a cursor move): both answered
    // before the lock is released.
    let first = s.app.current().map(|e| e.view.id.clone()).unwrap();
    s.handle(key('a'));
    s.handle(Event::Tick { now: now_ms() });
    let approved = s.app.queue.count(Status::Selected) == 1;
    let still_locked = !released.load(Ordering::SeqCst);
    assert!(approved, "the approval is not shown");
    assert!(
        still_locked,
        "a key press waited for the store's write lock"
    );
    let focus_before = s.app.focus;
    s.handle(key('l'));
    let moved = s.app.focus != focus_before;
    assert!(
        moved && !released.load(Ordering::SeqCst),
        "the second key waited for the store"
    );

    // Once the lock is gone the action is written and delivered, once.
    let delivered = wait_until(Duration::from_secs(15), || {
        drain(&mut s, &mut inbox);
        fake.question(&ev, &first)
            .is_some_and(|q| q.status == SELECTED)
            && s.app.inflight.is_empty()
    })
    .await;
    assert!(delivered, "not delivered after the lock was released");
    holder.join().unwrap();
    assert_eq!(
        fake.counters()
            .path(&format!("PATCH /events/{ev}/questions/{first}")),
        1
    );
    s.shutdown().await;
}
