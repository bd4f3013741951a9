//! The real binary in tmux on a streams.live source (the fake server on its
//! own thread): the chat pane, posting, the 300-character limit, live
//! updates while typing, promote, open/close, local states across a
//! restart, and short-lived tokens renewed without the moderator noticing.

use crate::support::streamslive_fake::{EVENT_SLUG, FakeConfig, FakeStreamsLive, Injected};
use crate::support::tmux::{Tmux, count};
use crate::support::wait_until;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(20);
const PASSWORD_ENV: &str = "QADECK_E2E_SL_PASSWORD";
const PASSWORD: &str = "e2e-pass-1234";

fn fake(token_lifetime: Duration) -> FakeStreamsLive {
    FakeStreamsLive::start_background(FakeConfig {
        password: PASSWORD.into(),
        token_lifetime,
        ..FakeConfig::default()
    })
}

/// A temp dir laid out like Tmux's (XDG config/data inside), with a
/// config naming the fake as source `sl`.
fn dir_with_config(fake: &FakeStreamsLive) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config").join("qadeck");
    std::fs::create_dir_all(&cfg).unwrap();
    let toml = fake
        .config_toml("sl", PASSWORD_ENV)
        .replace("poll_interval_ms = 500", "poll_interval_ms = 250");
    std::fs::write(cfg.join("config.toml"), toml).unwrap();
    dir
}

fn qadeck(dir: tempfile::TempDir) -> Tmux {
    Tmux::start_in(dir, "", 120, 40, &[(PASSWORD_ENV, PASSWORD)])
}

fn key(t: &Tmux, k: &str) {
    t.keys(&[k]);
}

/// Waits until `cond` holds, at most `limit`.
fn eventually(what: &str, limit: Duration, cond: impl Fn() -> bool) {
    assert!(wait_until(limit, cond), "timed out waiting for {what}");
}

/// Quits, answering the question asked while actions are in flight.
fn quit(t: &Tmux) {
    key(t, "q");
    let quit = wait_until(T, || {
        if t.screen().contains("quit?") {
            key(t, "y");
        }
        t.dead()
    });
    assert!(quit, "qadeck did not quit:\n{}", t.screen());
}

/// The header line (first row of the screen).
fn header(screen: &str) -> &str {
    screen.lines().next().unwrap_or("")
}

#[test]
fn chat_pane_limit_live_updates_and_local_states_across_a_restart() {
    let fake = fake(Duration::from_secs(30));
    fake.add_question("What is on the roadmap?", Some("Ana"));
    fake.add_question("Will the slides be shared?", Some("Bo"));
    fake.add_question("Any plans for an API?", None);
    fake.add_message("Welcome to the stream!", Some("Host"));
    let asked = fake.add_message("Is the sound okay?", Some("Cy"));

    let t = qadeck(dir_with_config(&fake));
    let s = t.wait_for("questions and chat", T, |s| {
        count(s, "Pending") == Some(3) && s.contains("Chat (2)")
    });
    assert!(s.contains("Is the sound okay?"), "{s}");
    assert!(s.contains("sl polling"), "{s}");

    // To the chat pane: the newest message is under the cursor.
    for _ in 0..3 {
        key(&t, "Tab");
    }
    t.wait_text(" c write", T);

    // Reply to it.
    key(&t, "y");
    t.wait_text("reply for sl 0/300", T);
    t.text("Yes, loud and clear.");
    t.wait_text("reply for sl 20/300", T);
    key(&t, "Enter");
    eventually("the reply on the platform", T, || {
        fake.messages()
            .iter()
            .any(|m| m.text == "Yes, loud and clear." && m.reply_for.as_deref() == Some(&asked))
    });
    t.wait_for("the reply in the chat pane", T, |s| {
        s.contains("Chat (3)") && s.contains("Yes, loud and clear.")
    });
    assert_eq!(fake.counters().get("POST messages"), 1);

    // 301 characters: the counter says so, Enter refuses, nothing is sent.
    key(&t, "c");
    t.wait_text("chat message for sl 0/300", T);
    t.text(&"x".repeat(301));
    t.wait_text("301/300", T);
    key(&t, "Enter");
    t.wait_text("301 characters: the platform takes at most 300", T);
    // While the moderator is in the input, questions and chat keep coming.
    fake.add_question("Arrived while typing?", Some("Di"));
    fake.add_message("Chat while typing", Some("Ed"));
    let s = t.wait_for("updates behind the open input", T, |s| {
        count(s, "Pending") == Some(4) && s.contains("Chat (4)") && s.contains("Chat while typing")
    });
    assert!(s.contains("301/300"), "the input closed:\n{s}");
    // Typing on: still the same input, now at the limit.
    key(&t, "BSpace");
    t.wait_text("300/300", T);
    key(&t, "Escape");
    t.wait_for("input closed", T, |s| !s.contains("300/300"));
    assert_eq!(
        fake.counters().get("POST messages"),
        1,
        "an over-long message was sent"
    );

    // A message the platform refuses comes back into its form with the
    // platform's words.
    fake.inject(
        "POST messages",
        Injected::error(422, 422, "The given data was invalid.")
            .with_messages(serde_json::json!({"data": ["The data may not contain links."]})),
    );
    key(&t, "c");
    t.wait_text("chat message for sl", T);
    t.text("visit spam.example");
    key(&t, "Enter");
    let s = t.wait_text("may not contain links", T);
    assert!(s.contains("visit spam.example"), "{s}");
    assert!(s.contains("chat message for sl 18/300"), "{s}");
    key(&t, "Escape");
    t.wait_for("input closed", T, |s| !s.contains("18/300"));

    // P promotes the message under the cursor (the newest) to a question.
    key(&t, "P");
    t.wait_text("promoted to the question queue", T);
    t.wait_for("the promoted question", T, |s| {
        count(s, "Pending") == Some(5)
    });
    assert!(
        fake.questions()
            .iter()
            .any(|q| q.text == "Chat while typing")
    );

    // O closes Q&A and chat on the channel, and opens them again.
    key(&t, "O");
    eventually("a closed channel", T, || {
        fake.event(EVENT_SLUG)
            .is_some_and(|e| !e.questions_enabled && !e.chat_enabled)
    });
    t.wait_text("Chat (4) closed", T);
    key(&t, "O");
    eventually("an open channel", T, || {
        fake.event(EVENT_SLUG)
            .is_some_and(|e| e.questions_enabled && e.chat_enabled)
    });
    t.wait_for("chat open", T, |s| !s.contains("closed"));

    // Back to the questions: approve one, put another on air (both local
    // to this machine on streams.live).
    key(&t, "Tab");
    t.wait_for("pending pane", T, |s| s.contains(" a approve"));
    key(&t, "a");
    t.wait_for("an approval", T, |s| count(s, "Selected") == Some(1));
    key(&t, "o");
    let s = t.wait_for("on air", T, |s| {
        count(s, "Selected") == Some(2) && header(s).contains("ON AIR")
    });
    let on_air = header(&s).to_string();
    assert!(on_air.contains("Will the slides be shared?"), "{s}");
    // The detail view says they are kept here.
    key(&t, "Tab");
    t.wait_text("local to this machine: selected, answered", T);
    quit(&t);

    // Start again in the same dirs: still selected and on air.
    let t = qadeck(t.into_dir());
    // The states come from this machine's store at once, the chat once
    // the channel answers.
    let s = t.wait_for("the restored states and the chat", T, |s| {
        count(s, "Selected") == Some(2) && count(s, "Pending") == Some(3) && s.contains("Chat (4)")
    });
    assert!(
        header(&s).contains("ON AIR: Will the slides be shared?"),
        "{s}"
    );
    quit(&t);
}

#[test]
fn short_tokens_are_renewed_without_the_moderator_noticing() {
    // A 3 s token against a poll every 250 ms: 30 s are about ten token
    // lifetimes, the acceptance's 5 minutes at 30 s tokens.
    let fake = fake(Duration::from_secs(3));
    fake.add_question("First question", None);
    let t = qadeck(dir_with_config(&fake));
    // The question shows as the first listing is taken in; the state says
    // polling once the listing is done.
    t.wait_for("the first poll", T, |s| {
        count(s, "Pending") == Some(1) && s.contains("sl polling")
    });
    let start = Instant::now();
    let mut added = 1;
    let mut next_add = Duration::from_secs(3);
    let trouble = [
        "retrying",
        "failed",
        "✕",
        "authentication",
        "error",
        "refused",
        "401",
    ];
    while start.elapsed() < Duration::from_secs(30) {
        let s = t.screen();
        let bad: Vec<&str> = trouble
            .iter()
            .copied()
            .filter(|w| s.to_lowercase().contains(w))
            .collect();
        assert!(bad.is_empty(), "the moderator saw {bad:?}:\n{s}");
        assert!(s.contains("sl polling"), "{s}");
        if start.elapsed() >= next_add {
            added += 1;
            fake.add_question(&format!("Question number {added}"), None);
            fake.add_message(&format!("Chat line {added}"), None);
            next_add += Duration::from_secs(3);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    // It kept working: everything added arrived.
    t.wait_for("every question", T, |s| count(s, "Pending") == Some(added));
    let c = fake.counters();
    assert_eq!(c.get("POST auth/login"), 1, "{c}");
    assert!(c.get("POST auth/login/refresh") >= 8, "{c}");
    quit(&t);
    // Not even between two looks at the screen: the log has no failed poll.
    let log = std::fs::read_to_string(t.data_dir().join("qadeck/qadeck.log")).unwrap();
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains(" WARN ")).collect();
    assert!(warnings.is_empty(), "{}", warnings.join("\n"));
}
