//! Issue 14's rules through the whole runtime (core, durable outbox,
//! PostoBox provider) against the fake, and the search in tmux at 80x24:
//! a `hold` rule's match arrives marked with the rule and the reason and
//! `u` releases it; a `reject` rule's match is rejected on the platform
//! exactly once, journaled with the rule as actor; an unknown search term
//! says so under the input.

use crate::support::postobox_fake::{DEFAULT, FakeConfig, FakePostobox, REJECTED};
use crate::support::tmux::{Tmux, count};
use qadeck::app::{Event, KeyMap};
use qadeck::domain::{Moderator, QKey, SourceId, Status};
use qadeck::provider::postobox::{Postobox, Settings};
use qadeck::provider::{BuildCtx, Provider, now_ms};
use qadeck::runtime::{Inbox, Session, SourceInput};
use qadeck::store::Store;
use ratatui_textarea::{Input, Key};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const RULES: &str = r#"
[[rule]]
name = "profanity"
words = ["darn"]
action = "hold"

[[rule]]
name = "links"
regex = "https?://"
action = "reject"
"#;

fn moderator() -> Moderator {
    Moderator {
        identifier: "qadeck-rules-test".into(),
        name: "tess".into(),
    }
}

fn session(fake: &FakePostobox, event: &str) -> (Session, Inbox) {
    let mut s = Settings::new("keynote");
    s.api_key = Some(fake.api_key());
    s.base_url = fake.base_url();
    s.event = Some(event.into());
    let ctx = BuildCtx {
        source: SourceId(0),
        moderator: moderator(),
        event: None,
    };
    let provider: Arc<dyn Provider> = Arc::new(Postobox::new(&s, &ctx).expect("builds"));
    let input = SourceInput::Built {
        name: "keynote".into(),
        event: event.into(),
        provider,
    };
    let store = Arc::new(Store::open_in_memory().unwrap());
    let (mut session, inbox) =
        Session::new(vec![input], store, KeyMap::default(), moderator()).expect("session");
    let cfg = qadeck::config::parse(RULES, Path::new("rules.toml")).expect("the rules parse");
    session.app.set_triage(cfg.rules, cfg.searches);
    session.start(true);
    (session, inbox)
}

/// Runs the loop (events plus a tick) until `pred` holds; false after
/// `timeout`.
async fn pump_until(
    s: &mut Session,
    inbox: &mut Inbox,
    timeout: Duration,
    pred: impl Fn(&Session) -> bool,
) -> bool {
    let end = Instant::now() + timeout;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    while !pred(s) {
        let ev = tokio::select! {
            _ = tokio::time::sleep_until(end) => return pred(s),
            Some(f) = inbox.feed.recv() => Event::Feed(f),
            Some(r) = inbox.reports.recv() => Event::Op(r),
            Some(m) = inbox.misc.recv() => m,
            _ = tick.tick() => Event::Tick { now: now_ms() },
        };
        s.handle(ev);
    }
    true
}

fn key(id: &str) -> QKey {
    QKey {
        source: SourceId(0),
        id: id.into(),
    }
}

fn press(s: &mut Session, c: char) {
    s.handle(Event::Key(Input {
        key: Key::Char(c),
        ..Input::default()
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_question_is_marked_with_its_reason_and_a_rejected_one_lands_once() {
    let fake = FakePostobox::start(FakeConfig::fast()).await;
    let ev = fake.add_event("Keynote");
    let held = fake.add_question(&ev, "Darn, will the slides be online?");
    let spam = fake.add_question(&ev, "Cheap tickets at https://spam.example");
    let fine = fake.add_question(&ev, "What is the roadmap?");
    let (mut s, mut inbox) = session(&fake, &ev);
    let landed = pump_until(&mut s, &mut inbox, Duration::from_secs(20), |s| {
        s.app.queue.len() == 3
            && s.app.inflight.is_empty()
            && fake
                .question(&ev, &spam)
                .is_some_and(|q| q.status == REJECTED)
    })
    .await;
    assert!(landed, "the reject rule's action never landed");
    // Rejected on the platform once, and kept rejected by later listings.
    let patch = format!("PATCH /events/{ev}/questions/{spam}");
    assert_eq!(fake.counters().path(&patch), 1);
    let settled = pump_until(&mut s, &mut inbox, Duration::from_secs(20), |_| {
        fake.counters().route("GET /events/{id}/questions") >= 2
    })
    .await;
    assert!(settled, "no second listing");
    assert_eq!(fake.counters().path(&patch), 1, "rejected twice");
    assert_eq!(
        s.app.queue.get(&key(&spam)).map(|e| e.view.status),
        Some(Status::Rejected)
    );
    let journal = s.store().journal(50).unwrap();
    let by_rule: Vec<_> = journal
        .iter()
        .filter(|j| j.target.as_deref() == Some(spam.as_str()))
        .collect();
    assert!(!by_rule.is_empty(), "{journal:?}");
    assert!(
        by_rule.iter().all(|j| j.actor == "rule:links"),
        "{by_rule:?}"
    );
    // The held one stays pending on the platform, marked here with why.
    assert_eq!(fake.question(&ev, &held).unwrap().status, DEFAULT);
    assert_eq!(s.app.held_by(&key(&held)), Some("profanity"));
    assert_eq!(
        s.app.decision_note(&key(&held)).as_deref(),
        Some("held by rule profanity — matched word 'darn'")
    );
    assert_eq!(s.app.held_by(&key(&fine)), None);
    // `u` on it releases the hold; nothing goes to the platform.
    for _ in 0..3 {
        if s.app.current().map(|e| e.view.id.to_string()) == Some(held.clone()) {
            break;
        }
        press(&mut s, 'j');
    }
    assert_eq!(
        s.app.current().map(|e| e.view.id.to_string()),
        Some(held.clone())
    );
    let before = fake.counters().total;
    press(&mut s, 'u');
    assert_eq!(s.app.held_by(&key(&held)), None);
    assert!(s.app.inflight.is_empty());
    assert!(
        fake.counters()
            .path(&format!("PATCH /events/{ev}/questions/{held}"))
            == 0
    );
    assert!(fake.counters().total - before < 3, "no action was sent");
}

/// The demo in tmux at 80x24 with a hold rule and a saved search: held
/// rows carry `⚑ rule`, an unknown search term is named under the input
/// and not applied, and a number key applies a saved search by name.
#[test]
fn search_with_an_unknown_term_at_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config/qadeck");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("config.toml"),
        "[[rule]]\nname = \"review\"\nwords = [\"the\"]\naction = \"hold\"\n\n[searches]\nheld = \"is:held\"\n",
    )
    .unwrap();
    let t = Tmux::start_in(dir, "demo --seed 7 --rate 4 --fail-rate 0", 80, 24, &[]);
    let wait = Duration::from_secs(20);
    t.wait_for("questions", wait, |s| {
        count(s, "Pending").is_some_and(|n| n >= 3)
    });
    t.wait_text("⚑ review", wait);
    t.keys(&["/"]);
    t.text("the foo:bar");
    let s = t.wait_text("unknown term `foo:`", wait);
    // The last search that parsed stays applied while typing, never this.
    assert!(s.contains("filter: the foo │"), "{s}");
    t.keys(&["Enter"]);
    t.wait_text("unknown term `foo:`", wait);
    t.keys(&["Escape"]);
    t.wait_for("the input closed", wait, |s| !s.contains("unknown term"));
    t.keys(&["1"]);
    t.wait_text("search: held", wait);
}

/// Every fixture in `fixtures/config/` is a config with one mistake in its
/// rules or saved searches; its first line says where and what
/// (`# expect: LINE: message`). `qadeck config check` must name the file,
/// that line and the message, and fail.
#[test]
fn config_check_names_the_file_and_line_of_each_rule_mistake() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/config");
    let mut seen = 0;
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} has no `# expect:` line", path.display()));
        let home = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_qadeck"))
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_STATE_HOME", home.path().join("data"))
            .args(["--config", path.to_str().unwrap(), "config", "check"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{}: {stderr}", path.display());
        let want = format!("{}:{expect}", path.display());
        assert!(stderr.contains(&want), "want {want}\ngot {stderr}");
        seen += 1;
    }
    assert!(seen >= 6, "fixtures missing: {seen}");
}
