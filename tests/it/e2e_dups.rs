//! Duplicate groups in the real binary: one row per group with its size
//! and votes, `z` shows the members, and `M` across two sources (the demo
//! and a PostoBox fake) keeps one and rejects the other on its platform
//! exactly once; `u` takes the rejection back. Headless, the NDJSON
//! names each member's group once the core's grouping steps have run.

use crate::postobox_cli::Setup;
use crate::support::postobox_fake::{DEFAULT, FakeConfig, FakePostobox, Plan, REJECTED};
use crate::support::tmux::{Tmux, count};
use crate::support::wait_until;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);
const KEY_ENV: &str = "QADECK_E2E_DUPS_KEY";

fn key(t: &Tmux, k: &str) {
    t.keys(&[k]);
}

/// Asks a question through the compose input (the demo takes it).
fn ask(t: &Tmux, text: &str) {
    key(t, "c");
    t.wait_text("new question for", T);
    t.text(text);
    key(t, "Enter");
}

#[test]
fn a_group_shows_once_and_z_expands_it_at_80x24() {
    let t = Tmux::start("demo --rate 0 --fail-rate 0", 80, 24, &[]);
    t.wait_text("waiting for questions", T);
    ask(&t, "What is the roadmap?");
    t.wait_for("the first question", T, |s| count(s, "Pending") == Some(1));
    ask(&t, "what's the road map");
    let s = t.wait_for("one group row", T, |s| {
        count(s, "Pending") == Some(2) && s.contains("×2 ▲0")
    });
    let rows = s.lines().filter(|l| l.contains("road")).count();
    // The group row and the detail's member lines; the member has no row.
    assert!(!s.contains("↳"), "{s}");
    assert!(rows >= 1, "{s}");
    key(&t, "z");
    let s = t.wait_text("↳", T);
    assert!(s.contains("×2 ▲0"), "{s}");
    key(&t, "z");
    t.wait_for("the group folded", T, |s| !s.contains("↳"));
    key(&t, "q");
}

#[test]
fn merging_across_the_demo_and_postobox_rejects_once() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    let ev = fake.add_event("Keynote");
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[moderator]\nname = \"tess\"\nidentifier = \"qadeck-e2e\"\n\n\
         [[source]]\nname = \"demo\"\nprovider = \"demo\"\nrate = 0.0\nfail_rate = 0.0\n\
         latency_ms = 5\nseed = 1\n\n\
         [[source]]\nname = \"keynote\"\nprovider = \"postobox\"\nevent = \"{ev}\"\n\
         api_key_env = \"{KEY_ENV}\"\nbase_url = \"{}\"\n",
        fake.base_url()
    );
    std::fs::write(dir.path().join("config.toml"), config).unwrap();
    let args = format!(
        "--config {} --store {}",
        dir.path().join("config.toml").display(),
        dir.path().join("qadeck.db").display()
    );
    let t = Tmux::start_in(dir, &args, 120, 40, &[(KEY_ENV, &fake.api_key())]);
    t.wait_text("keynote live", T);
    // The demo asks first (the older question is kept at equal votes).
    ask(&t, "What is the roadmap for the next release?");
    t.wait_for("the demo's question", T, |s| count(s, "Pending") == Some(1));
    let theirs = fake.add_question(&ev, "what's the road map for the next release");
    let s = t.wait_for("one group of two sources", T, |s| {
        count(s, "Pending") == Some(2) && s.contains("×2 ▲0")
    });
    assert!(s.contains("[demo]"), "the kept row is the demo's: {s}");
    key(&t, "M");
    t.wait_text("Merged 1 duplicate", T);
    let path = format!("PATCH /events/{ev}/questions/{theirs}");
    assert!(
        wait_until(T, || fake.question(&ev, &theirs).unwrap().status
            == REJECTED),
        "PostoBox never saw the rejection"
    );
    t.wait_for("the rejection confirmed", T, |s| {
        count(s, "Pending") == Some(1) && !s.contains("in flight")
    });
    assert_eq!(fake.counters().path(&path), 1, "one request for the merge");
    // u takes the rejection back on the platform.
    key(&t, "u");
    assert!(
        wait_until(T, || fake.question(&ev, &theirs).unwrap().status == DEFAULT),
        "the undo never reached PostoBox"
    );
    assert_eq!(fake.counters().path(&path), 2);
    key(&t, "q");
    wait_until(Duration::from_secs(1), || t.dead());
    if !t.dead() {
        key(&t, "y");
    }
}

#[test]
fn watch_names_each_members_group_after_the_grouping_steps() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    let ev = fake.add_event("Keynote");
    let first = fake.add_question(&ev, "What is the roadmap for the next release?");
    let second = fake.add_question(&ev, "what's the road map for the next release");
    let other = fake.add_question(&ev, "Is there a discount for students?");
    let s = Setup::new(&fake, Some(&ev));
    let run = s.run(&["watch", "--duration", "2"]);
    assert!(run.ok(), "{}", run.explain());
    let lines = run.json();
    // A question's last line says what the core knows of it by then.
    let last = |id: &str| {
        lines
            .iter()
            .rev()
            .find(|v| v["type"] == "question" && v["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no line for {id}: {}", run.explain()))
    };
    let kept = format!("keynote/{first}");
    for id in [&first, &second] {
        let q = last(id);
        assert_eq!(q["group"], kept.as_str(), "{q}");
        assert_eq!(q["group_size"], 2, "{q}");
    }
    let q = last(&other);
    assert_eq!(q["group"], serde_json::Value::Null, "{q}");
    assert_eq!(q["group_size"], 1, "{q}");
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["ungrouped"], 0, "{summary}");
    // An export syncs, then groups everything before it writes.
    let export = s.run(&["export", "--source", "keynote", "--local"]);
    assert!(export.ok(), "{}", export.explain());
    let rows = export.json();
    for id in [&first, &second] {
        let q = rows
            .iter()
            .find(|v| v["id"] == id.as_str())
            .unwrap_or_else(|| panic!("no {id}: {}", export.explain()));
        assert_eq!(q["group"], kept.as_str(), "{q}");
        assert_eq!(q["group_size"], 2, "{q}");
    }
}
