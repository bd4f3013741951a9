//! The real binary in tmux: `qadeck demo`, keys pressed, screen read.

use crate::support::tmux::{Tmux, count};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

fn key(t: &Tmux, k: &str) {
    t.keys(&[k]);
}

#[test]
fn demo_every_key_at_120x40() {
    let t = Tmux::start("demo --seed 7 --rate 4 --fail-rate 0", 120, 40, &[]);
    // Questions arrive within a second or two of the start.
    let s = t.wait_for("questions", T, |s| {
        count(s, "Pending").is_some_and(|n| n >= 3)
    });
    assert!(s.contains("● demo live"), "{s}");
    // Approve, then put on air.
    key(&t, "a");
    t.wait_for("an approval", T, |s| count(s, "Selected") == Some(1));
    t.wait_text("u undoes", T);
    key(&t, "a");
    t.wait_for("a second approval", T, |s| count(s, "Selected") == Some(2));
    key(&t, "Tab");
    key(&t, "o");
    t.wait_text("ON AIR", T);
    // n: on-air answered, next selected on air.
    key(&t, "n");
    t.wait_for("next", T, |s| {
        count(s, "Answered") == Some(1) && s.contains("ON AIR")
    });
    // u undoes it.
    key(&t, "u");
    t.wait_for("undo", T, |s| {
        count(s, "Answered") == Some(0) && s.contains("undone")
    });
    // Vote.
    key(&t, "v");
    t.wait_text("Vote up", T);
    // Reject (with enough pending questions that one is left to answer).
    t.wait_for("pending questions", T, |s| {
        count(s, "Pending").is_some_and(|n| n >= 3)
    });
    key(&t, "BTab");
    key(&t, "r");
    t.wait_text("Reject “", T);
    key(&t, "R");
    t.wait_text("Rejected (1)", T);
    // d on a pending one.
    key(&t, "d");
    t.wait_for("answered", T, |s| count(s, "Answered") == Some(1));
    // Freeze: arrivals counted, not shown.
    key(&t, "f");
    let frozen = t.wait_text("FROZEN", T);
    let held = count(&frozen, "Pending").unwrap();
    t.wait_for("arrivals while frozen", T, |s| {
        s.contains("FROZEN +") && !s.contains("FROZEN +0")
    });
    assert_eq!(
        count(&t.screen(), "Pending").unwrap(),
        held,
        "the list moved while frozen"
    );
    key(&t, "f");
    t.wait_text("resumed:", T);
    // Sort and filter.
    key(&t, "s");
    t.wait_text("sort: votes", T);
    key(&t, "/");
    t.text("zzzz-no-match");
    t.wait_text("no question matches the filter", T);
    key(&t, "Escape");
    t.wait_for("filter cleared", T, |s| !s.contains("filter:"));
    // Help, generated from the key map.
    key(&t, "?");
    let help = t.wait_text("freeze incoming", T);
    assert!(help.contains("put on air"), "{help}");
    key(&t, "x");
    // Compose a question from the floor microphone.
    key(&t, "c");
    t.wait_text("new question for demo", T);
    t.text("From the floor: what about accessibility?");
    key(&t, "Enter");
    t.wait_text("question submitted", T);
    // Quit (asks when actions are in flight, so answer y if asked).
    key(&t, "q");
    std::thread::sleep(Duration::from_millis(300));
    if !t.dead() {
        key(&t, "y");
    }
    t.wait_for("exit", T, |_| t.dead());
}

#[test]
fn demo_at_80x24_and_resizes() {
    let t = Tmux::start("demo --seed 1 --rate 5 --fail-rate 0", 80, 24, &[]);
    t.wait_for("questions", T, |s| {
        count(s, "Pending").is_some_and(|n| n >= 2)
    });
    key(&t, "a");
    t.wait_for("approval", T, |s| count(s, "Selected") == Some(1));
    let s = t.screen();
    assert!(s.lines().count() <= 24);
    assert!(
        s.lines().any(|l| l.trim_end().ends_with("? help  q quit")),
        "{s}"
    );
    t.resize(120, 40);
    t.wait_for("resize", T, |s| s.lines().any(|l| l.chars().count() > 100));
    t.resize(80, 24);
    t.wait_for("resize back", T, |s| {
        s.lines().all(|l| l.chars().count() <= 80)
    });
    key(&t, "q");
    std::thread::sleep(Duration::from_millis(300));
    if !t.dead() {
        key(&t, "y");
    }
    t.wait_for("exit", T, |_| t.dead());
}

#[test]
fn hostile_audience_leaves_the_terminal_intact() {
    let t = Tmux::start("demo --seed 5 --rate 30 --hostile", 80, 24, &[]);
    let out = t.record_output();
    let s = t.wait_text("␛", T);
    assert!(s.contains("Pending"), "{s}");
    std::thread::sleep(Duration::from_secs(2));
    // Titles set by OSC 0 from the audience never arrive.
    assert!(!t.pane_title().contains("pwned"));
    let bytes = std::fs::read(out).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains("\x1b]"),
        "an OSC sequence reached the terminal"
    );
    assert!(
        !text.contains("\x1bP"),
        "a DCS sequence reached the terminal"
    );
    assert!(!text.contains('\u{7}'), "a BEL reached the terminal");
    assert!(
        !text.contains("\x1b[2J\x1b[H"),
        "the audience's clear-screen reached the terminal"
    );
    key(&t, "q");
}

#[test]
fn idle_writes_nothing() {
    let t = Tmux::start("demo --rate 0", 100, 30, &[]);
    t.wait_text("waiting for questions", T);
    std::thread::sleep(Duration::from_millis(1500));
    let out = t.record_output();
    let size = || std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    // The header's clock (HH:MM) is the one thing that changes while idle:
    // a window in which it turned is measured again. Three windows of 4 s
    // hold at most one turn of the minute.
    let header = || t.screen().lines().next().unwrap_or_default().to_string();
    for _ in 0..3 {
        let clock = header();
        // Bytes of a turn already on the screen reach the file meanwhile.
        std::thread::sleep(Duration::from_millis(200));
        let before = size();
        std::thread::sleep(Duration::from_secs(4));
        let n = size() - before;
        if header() != clock {
            continue;
        }
        assert_eq!(n, 0, "an idle screen wrote {n} bytes");
        key(&t, "q");
        return;
    }
    panic!("the header changed in three windows of 4 s: {}", header());
}
