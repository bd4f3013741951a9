//! The real binary in tmux against the PostoBox fake: a moderator's keys
//! reach the server exactly once, another moderator's changes show up,
//! votes and on-air behave, the event picker works, and each kind of
//! failure is one clear message while qadeck keeps running.

use crate::support::postobox_fake::{
    ALL_SCOPES, ANSWERED, FakeConfig, FakePostobox, NewQuestion, Plan, REJECTED, SELECTED,
};
use crate::support::tmux::{Tmux, count};
use crate::support::wait_until;
use std::path::Path;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(20);
const KEY_ENV: &str = "QADECK_E2E_POSTOBOX_KEY";
const IDENTIFIER: &str = "qadeck-e2e";

/// Writes a config with one PostoBox source `keynote` into `dir`.
fn write_config(dir: &Path, base_url: &str, event: Option<&str>) {
    let event = event
        .map(|e| format!("event = \"{e}\"\n"))
        .unwrap_or_default();
    let text = format!(
        "[moderator]\nname = \"tess\"\nidentifier = \"{IDENTIFIER}\"\n\n\
         [[source]]\nname = \"keynote\"\nprovider = \"postobox\"\n{event}\
         api_key_env = \"{KEY_ENV}\"\nbase_url = \"{base_url}\"\n"
    );
    std::fs::write(dir.join("config.toml"), text).unwrap();
}

/// Starts qadeck (the TUI) in `dir` on its config and store.
fn start(dir: tempfile::TempDir, key: &str) -> Tmux {
    let args = format!(
        "--config {c} --store {s}",
        c = dir.path().join("config.toml").display(),
        s = dir.path().join("qadeck.db").display()
    );
    Tmux::start_in(dir, &args, 120, 40, &[(KEY_ENV, key)])
}

fn key(t: &Tmux, k: &str) {
    t.keys(&[k]);
}

/// Quits (answering the question if actions are in flight) and checks the
/// exit status.
fn quit(t: &Tmux) {
    key(t, "q");
    wait_until(Duration::from_secs(1), || t.dead());
    if !t.dead() {
        key(t, "y");
    }
    t.wait_for("exit", T, |_| t.dead());
    assert_eq!(t.exit_status(), Some(0), "{}", t.screen());
}

/// Waits until the fake's state satisfies `pred`.
fn wait_server(what: &str, pred: impl Fn() -> bool) {
    assert!(wait_until(T, pred), "the server never saw {what}");
}

fn status_line(screen: &str) -> &str {
    screen.lines().rev().nth(1).unwrap_or_default()
}

#[test]
fn moderating_a_postobox_event_in_the_tui() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    let ev = fake.add_event("Keynote");
    let a = fake.add_question(&ev, "Alpha question");
    let b = fake.add_question(&ev, "Beta question");
    let c = fake.add_question(&ev, "Gamma question");
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake.base_url(), Some(&ev));
    let t = start(dir, &fake.api_key());

    let s = t.wait_for("the questions", T, |s| count(s, "Pending") == Some(3));
    assert!(
        s.contains("Alpha question") && s.contains("Gamma question"),
        "{s}"
    );
    let s = t.wait_text("keynote live", T);
    assert!(
        s.contains("req left"),
        "the budget is in the status bar: {s}"
    );

    // a, r, d on the pending pane: the cursor walks down the list.
    key(&t, "a");
    wait_server("the approval", || {
        fake.question(&ev, &a).unwrap().status == SELECTED
    });
    t.wait_for("the approval", T, |s| count(s, "Selected") == Some(1));
    key(&t, "r");
    wait_server("the rejection", || {
        fake.question(&ev, &b).unwrap().status == REJECTED
    });
    key(&t, "d");
    wait_server("the answer", || {
        fake.question(&ev, &c).unwrap().status == ANSWERED
    });
    t.wait_for("every action confirmed", T, |s| {
        count(s, "Pending") == Some(0)
            && count(s, "Answered") == Some(1)
            && !s.contains("in flight")
    });

    // Another moderator approves a question and the audience asks one.
    let t0 = Instant::now();
    let delta = fake.add_question_with(
        &ev,
        NewQuestion {
            status: SELECTED.into(),
            ..NewQuestion::new("Delta, approved elsewhere")
        },
    );
    // Selected is collapsed to its first row: its count shows Delta.
    t.wait_for("Delta, approved elsewhere", T, |s| {
        count(s, "Selected") == Some(2)
    });
    let streamed = t0.elapsed();
    fake.add_question(&ev, "Epsilon from the floor");
    t.wait_text("Epsilon from the floor", T);
    let polled = t0.elapsed();
    eprintln!(
        "another moderator's approval showed after {:.2}s (stream), a new question after {:.2}s (poll)",
        streamed.as_secs_f64(),
        polled.as_secs_f64()
    );

    // Vote on Alpha in the selected pane; a second press takes it back.
    key(&t, "Tab");
    t.wait_for("the selected pane", T, |s| s.contains("Alpha question"));
    key(&t, "v");
    t.wait_text("(you voted)", T);
    wait_server("the vote", || {
        fake.question(&ev, &a).unwrap().voters.contains(IDENTIFIER)
    });
    // In the detail, and as ▲ on the row.
    t.wait_for("the vote confirmed", T, |s| {
        s.contains("1 vote (you voted)") && s.contains('▲') && !s.contains("in flight")
    });
    key(&t, "v");
    wait_server("the unvote", || {
        fake.question(&ev, &a).unwrap().voters.is_empty()
    });
    t.wait_for("the unvote confirmed", T, |s| {
        !s.contains("(you voted)")
            && !s.contains('▲')
            && s.contains("0 votes")
            && !s.contains("in flight")
    });

    // On air, then quit.
    key(&t, "o");
    t.wait_text("ON AIR: Alpha question", T);
    t.wait_text("local to this machine: on-air", T);
    std::thread::sleep(Duration::from_millis(300));
    let counters = fake.counters();
    let patch = |id: &str| counters.path(&format!("PATCH /events/{ev}/questions/{id}"));
    assert_eq!(
        (patch(&a), patch(&b), patch(&c), patch(&delta)),
        (1, 1, 1, 0)
    );
    assert_eq!(
        counters.path(&format!("POST /events/{ev}/questions/{a}/vote")),
        2
    );
    // On-air is local: nothing was sent for it.
    let writes: usize = counters
        .by_route
        .iter()
        .filter(|(k, _)| !k.starts_with("GET "))
        .map(|(_, n)| *n as usize)
        .sum();
    assert_eq!(writes, 5, "{:?}", counters.by_route);
    quit(&t);

    // On-air survives a restart.
    let t = start(t.into_dir(), &fake.api_key());
    let s = t.wait_text("ON AIR: Alpha question", T);
    assert_eq!(count(&s, "Selected"), Some(2), "{s}");
    assert_eq!(
        fake.counters()
            .path(&format!("PATCH /events/{ev}/questions/{a}")),
        1
    );
    quit(&t);
}

#[test]
fn a_source_without_an_event_offers_the_picker() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    fake.add_event("Morning keynote");
    let panel = fake.add_event("Afternoon panel");
    fake.add_event("Closing remarks");
    fake.add_question(&panel, "Panel question one");
    fake.add_question(&panel, "Panel question two");
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake.base_url(), None);
    let t = start(dir, &fake.api_key());

    let s = t.wait_text("keynote names no event: pick one", T);
    assert!(s.contains("pick an event"), "{s}");
    let s = t.wait_text("Closing remarks", T);
    assert!(s.contains("Morning keynote") && s.contains(&panel), "{s}");
    key(&t, "j");
    key(&t, "Enter");
    let s = t.wait_for("the panel's questions", T, |s| {
        count(s, "Pending") == Some(2)
    });
    assert!(s.contains("Panel question one"), "{s}");
    t.wait_text("keynote live", T);
    // The picked event is the one being watched.
    assert!(
        fake.counters()
            .path(&format!("GET /events/{panel}/questions"))
            >= 1
    );
    quit(&t);
}

/// Starts qadeck on a config and waits for `message` in the status bar;
/// returns the session.
fn failing(base_url: &str, event: &str, key: &str) -> Tmux {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), base_url, Some(event));
    start(dir, key)
}

fn check_failure(t: &Tmux, what: &str, message: &str, needs_moderator: bool) {
    let s = t.wait_for(what, T, |s| status_line(s).contains(message));
    // One message, once: in the status bar, nowhere else.
    assert_eq!(s.matches(message).count(), 1, "{what}:\n{s}");
    // The pending pane does not promise questions that cannot come.
    assert_eq!(
        s.contains("not connected: see the status bar"),
        needs_moderator,
        "{what}:\n{s}"
    );
    // The program keeps running: keys work, the help opens and closes.
    key(t, "?");
    t.wait_text("freeze incoming", T);
    key(t, "x");
    t.wait_for("help closed", T, |s| !s.contains("freeze incoming"));
    assert!(!t.dead());
    quit(t);
}

#[test]
fn each_failure_is_one_clear_message_and_qadeck_keeps_running() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    let ev = fake.add_event("Keynote");
    fake.add_question(&ev, "Never shown");
    let read_only = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        scopes: ALL_SCOPES
            .iter()
            .filter(|s| **s != "questions:read")
            .map(|s| s.to_string())
            .collect(),
        ..FakeConfig::fast()
    });
    let ev2 = read_only.add_event("Keynote");
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };

    // All four at once; then each is checked.
    let bad_key = failing(&fake.base_url(), &ev, "pk_live_wrong_key_000000");
    let no_scope = failing(&read_only.base_url(), &ev2, &read_only.api_key());
    let no_event = failing(&fake.base_url(), "clx-no-such-event", &fake.api_key());
    let unreachable = failing(
        &format!("http://127.0.0.1:{closed_port}/v1"),
        &ev,
        &fake.api_key(),
    );
    check_failure(
        &bad_key,
        "bad key",
        "failed: authentication failed: API key rejected",
        true,
    );
    check_failure(
        &no_scope,
        "missing scope",
        "failed: permission denied: the API key lacks the scope questions:read",
        true,
    );
    check_failure(
        &no_event,
        "unknown event",
        "failed: not found: event clx-no-such-event not found",
        true,
    );
    check_failure(
        &unreachable,
        "unreachable server",
        "network error: cannot reach the server",
        false,
    );
    // The wrong key never reached the screen or the log.
    let log =
        std::fs::read_to_string(bad_key.data_dir().join("qadeck/qadeck.log")).unwrap_or_default();
    assert!(!log.contains("pk_live_wrong_key_000000"));
}

#[test]
fn a_429_shows_a_countdown_and_the_actions_stay_queued() {
    let window = Duration::from_secs(3);
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Free,
        rate_window: window,
        rate_limit: Some(5),
        // Blind to the budget, the outbox meets the limit as a 429 (with
        // the headers it keeps within it: `pipeline::the_pace_…`).
        rate_headers: false,
        ..FakeConfig::fast()
    });
    let ev = fake.add_event("Keynote");
    let ids: Vec<String> = (0..8)
        .map(|i| fake.add_question(&ev, &format!("Burst question {i}")))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake.base_url(), Some(&ev));
    let t = start(dir, &fake.api_key());
    t.wait_for("the questions", T, |s| count(s, "Pending") == Some(8));
    // Eight approvals at once: more than two windows allow with the
    // requests of the start.
    for _ in 0..8 {
        key(&t, "a");
    }
    // Both the 429 and the eighth approval: keys may still sit in the pty
    // when the first 429 shows.
    let s = t.wait_for("a 429 with all eight approved", T, |s| {
        status_line(s).contains("HTTP 429") && count(s, "Selected") == Some(8)
    });
    let line = status_line(&s).to_string();
    assert!(
        line.contains("approve: rate limited (HTTP 429) — retry in ")
            && line.contains("kept queued"),
        "{line}"
    );
    // Shown as approved while queued: nothing rolled back.
    assert_eq!(count(&s, "Selected"), Some(8), "{s}");
    assert!(line.contains("in flight"), "{line}");
    let secs =
        |l: &str| -> Option<u64> { l.split("retry in ").nth(1)?.split('s').next()?.parse().ok() };
    if let Some(n) = secs(&line).filter(|n| *n >= 2) {
        t.wait_for("the countdown", T, |s| {
            secs(status_line(s)).is_some_and(|m| m < n) || !s.contains("HTTP 429")
        });
    }
    // Delivered in the end, each exactly once.
    t.wait_for("every approval delivered", T, |s| {
        !s.contains("in flight") && !s.contains("HTTP 429") && count(s, "Selected") == Some(8)
    });
    let log = fake.requests();
    for id in &ids {
        assert_eq!(fake.question(&ev, id).unwrap().status, SELECTED);
        let path = format!("/events/{ev}/questions/{id}");
        let ok = log
            .iter()
            .filter(|r| r.method == "PATCH" && r.path == path && r.status == 200)
            .count();
        assert_eq!(ok, 1, "{id}");
    }
    assert!(fake.counters().rate_limited >= 1);
    quit(&t);
}

/// Two consoles on one machine share its store: what one puts on air, the
/// other shows within a moment, and either can move the show on.
#[test]
fn two_consoles_sharing_the_store_follow_each_others_on_air() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    let ev = fake.add_event("Keynote");
    for text in ["Alpha question", "Beta question"] {
        fake.add_question_with(
            &ev,
            NewQuestion {
                status: SELECTED.into(),
                ..NewQuestion::new(text)
            },
        );
    }
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake.base_url(), Some(&ev));
    let args = format!(
        "--config {c} --store {s}",
        c = dir.path().join("config.toml").display(),
        s = dir.path().join("qadeck.db").display()
    );
    let a = Tmux::start_in(dir, &args, 120, 40, &[(KEY_ENV, &fake.api_key())]);
    let b = Tmux::start(&args, 120, 40, &[(KEY_ENV, &fake.api_key())]);
    for t in [&a, &b] {
        t.wait_for("the selected questions", T, |s| {
            count(s, "Selected") == Some(2)
        });
    }
    key(&a, "Tab");
    a.wait_for("the selected pane", T, |s| s.contains("Alpha question"));
    key(&a, "o");
    a.wait_text("ON AIR: Alpha question", T);
    let s = b.wait_text("ON AIR: Alpha question", T);
    assert!(!s.contains("ON AIR: Beta question"), "{s}");

    // B moves the show on: A follows.
    key(&b, "Tab");
    b.wait_for("the selected pane", T, |s| s.contains("Beta question"));
    key(&b, "j");
    key(&b, "o");
    b.wait_text("ON AIR: Beta question", T);
    a.wait_text("ON AIR: Beta question", T);
    let s = a.screen();
    assert!(!s.contains("ON AIR: Alpha question"), "one on air: {s}");
    // On air is local to this machine: nothing of it reached the platform.
    let writes: usize = fake
        .counters()
        .by_route
        .iter()
        .filter(|(k, _)| !k.starts_with("GET "))
        .map(|(_, n)| *n as usize)
        .sum();
    assert_eq!(writes, 0, "{:?}", fake.counters().by_route);
    quit(&a);
    quit(&b);
}
