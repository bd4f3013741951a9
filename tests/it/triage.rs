//! Stars, labels, other moderators' changes, every source at once and the
//! export formats (#14), against the PostoBox fake: in-process for the
//! store, the real binary for `watch` and `export`, tmux for the rows.

use crate::postobox_cli::Setup;
use crate::support::postobox_fake::{
    ANSWERED, DEFAULT, FakeConfig, FakePostobox, NewQuestion, Plan, SELECTED,
};
use crate::support::tmux::{Tmux, count};
use crate::support::wait::wait_until_async;
use qadeck::app::{Event, KeyMap};
use qadeck::domain::{Marks, Moderator, SourceId, Status};
use qadeck::provider::postobox::{Postobox, Settings};
use qadeck::provider::{BuildCtx, Provider};
use qadeck::runtime::{Inbox, Session, SourceInput};
use qadeck::store::Store;
use ratatui_textarea::{Input, Key};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const KEY_ENV: &str = "QADECK_TEST_POSTOBOX_KEY";

fn moderator() -> Moderator {
    Moderator {
        identifier: "qadeck-triage-test".into(),
        name: "tess".into(),
    }
}

fn press(s: &mut Session, k: Key) {
    s.handle(Event::Key(Input {
        key: k,
        ..Input::default()
    }));
}

fn drain(s: &mut Session, inbox: &mut Inbox) {
    while let Some(e) = inbox.try_next() {
        s.handle(e);
    }
}

fn session(fake: &FakePostobox, ev: &str, path: &Path) -> (Session, Inbox) {
    let mut settings = Settings::new("keynote");
    settings.api_key = Some(fake.api_key());
    settings.base_url = fake.base_url();
    settings.event = Some(ev.to_string());
    let ctx = BuildCtx {
        source: SourceId(0),
        moderator: moderator(),
        event: None,
    };
    let provider: Arc<dyn Provider> = Arc::new(Postobox::new(&settings, &ctx).unwrap());
    let input = SourceInput::Built {
        name: "keynote".into(),
        event: ev.to_string(),
        provider,
    };
    let store = Arc::new(Store::open(path).unwrap());
    let (mut s, inbox) = Session::new(vec![input], store, KeyMap::default(), moderator()).unwrap();
    s.start(true);
    (s, inbox)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stars_and_labels_survive_a_restart() {
    let fake = FakePostobox::start(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    })
    .await;
    let ev = fake.add_event("Keynote");
    let first = fake.add_question(&ev, "first");
    let second = fake.add_question(&ev, "second");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qadeck.db");

    let (mut s, mut inbox) = session(&fake, &ev, &path);
    let loaded = wait_until_async(Duration::from_secs(10), || {
        drain(&mut s, &mut inbox);
        s.app.queue.count(Status::Pending) == 2
    })
    .await;
    assert!(loaded, "the questions did not load");
    let on = s.app.current().unwrap().view.key();
    assert_eq!(on.id, first);
    press(&mut s, Key::Char('*'));
    press(&mut s, Key::Char('#'));
    for c in "press".chars() {
        press(&mut s, Key::Char(c));
    }
    press(&mut s, Key::Enter);
    press(&mut s, Key::Char('j'));
    press(&mut s, Key::Char('#'));
    for c in "pr".chars() {
        press(&mut s, Key::Char(c));
    }
    press(&mut s, Key::Tab);
    press(&mut s, Key::Enter);
    s.shutdown().await;
    drop(s);

    let want_first = Marks {
        starred: true,
        labels: vec!["press".into()],
        held: None,
        reviewed: false,
        ruled: None,
    };
    let want_second = Marks {
        labels: vec!["press".into()],
        ..Marks::default()
    };
    let stored = Store::open(&path).unwrap().marks("keynote", &ev).unwrap();
    assert_eq!(stored.get(&first), Some(&want_first));
    assert_eq!(stored.get(&second), Some(&want_second), "Tab completed it");

    // A new session shows them again, from the store.
    let (mut s, mut inbox) = session(&fake, &ev, &path);
    let restored = wait_until_async(Duration::from_secs(10), || {
        drain(&mut s, &mut inbox);
        s.app.marks.len() == 2 && s.app.queue.count(Status::Pending) == 2
    })
    .await;
    assert!(restored, "marks not restored: {:?}", s.app.marks);
    assert_eq!(s.app.marks_of(&on), Some(&want_first));
    assert_eq!(s.app.labels_in_use(), ["press"]);
    s.shutdown().await;
}

fn two_source_config(s: &Setup, fake: &FakePostobox, ev1: &str, ev2: &str) {
    s.write_config(&format!(
        "[moderator]\nname = \"tess\"\nidentifier = \"qadeck-cli-test\"\n\n\
         [[source]]\nname = \"keynote\"\nprovider = \"postobox\"\nevent = \"{ev1}\"\n\
         api_key_env = \"{KEY_ENV}\"\nbase_url = \"{url}\"\n\n\
         [[source]]\nname = \"panel\"\nprovider = \"postobox\"\nevent = \"{ev2}\"\n\
         api_key_env = \"{KEY_ENV}\"\nbase_url = \"{url}\"\n\n\
         [[source]]\nname = \"later\"\nprovider = \"postobox\"\n\
         api_key_env = \"{KEY_ENV}\"\nbase_url = \"{url}\"\n",
        url = fake.base_url()
    ));
}

#[test]
fn watch_without_a_source_follows_every_source_in_one_stream() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    let ev1 = fake.add_event("Keynote");
    let ev2 = fake.add_event("Panel");
    let k = fake.add_question(&ev1, "From the keynote");
    let p = fake.add_question(&ev2, "From the panel");
    let s = Setup::new(&fake, Some(&ev1));
    two_source_config(&s, &fake, &ev1, &ev2);
    let run = s.run(&["watch", "--duration", "3"]);
    assert!(run.ok(), "{}", run.explain());
    // A source that names no event: said, and left out.
    assert!(
        run.stderr.contains("not watching `later`"),
        "{}",
        run.explain()
    );
    let lines = run.json();
    let question = |source: &str, id: &str| {
        lines
            .iter()
            .find(|v| v["type"] == "question" && v["source"] == source && v["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no {source}/{id}: {}", run.explain()))
    };
    let kq = question("keynote", &k);
    let pq = question("panel", &p);
    assert_eq!(kq["text"], "From the keynote");
    assert_eq!(pq["text"], "From the panel");
    for q in [&kq, &pq] {
        assert_eq!(q["group"], Value::Null);
        assert_eq!(q["group_size"], 1);
        assert_eq!(q["held_by"], Value::Null);
        assert_eq!(q["starred"], false);
        assert_eq!(q["labels"], serde_json::json!([]));
        assert_eq!(q["changed_elsewhere"], false);
    }
    let live: Vec<&str> = lines
        .iter()
        .filter(|v| v["type"] == "status" && v["state"] == "live")
        .filter_map(|v| v["source"].as_str())
        .collect();
    assert!(
        live.contains(&"keynote") && live.contains(&"panel"),
        "{live:?}"
    );
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["source"], "keynote,panel");
    assert_eq!(summary["held"], 2);

    // `moderate` cannot take every source: it says why.
    let m = s.run(&["moderate", "--source", "all", &k, "approve"]);
    assert_eq!(m.code(), Some(2), "{}", m.explain());
    assert!(m.stderr.contains("one source"), "{}", m.explain());
}

#[test]
fn export_formats_carry_votes_times_history_and_marks() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    let ev1 = fake.add_event("Keynote");
    let ev2 = fake.add_event("Panel");
    let formula = fake.add_question_with(
        &ev1,
        NewQuestion {
            text: "=HYPERLINK(\"http://evil\")".into(),
            author: Some("@mallory".into()),
            status: DEFAULT.into(),
            votes: 3,
        },
    );
    let piped = fake.add_question_with(
        &ev1,
        NewQuestion {
            text: "Tables | pipes\nand <b>tags</b>".into(),
            author: Some("ana".into()),
            status: DEFAULT.into(),
            votes: 7,
        },
    );
    let done = fake.add_question(&ev2, "Already answered on the panel");
    fake.set_status(&ev2, &done, ANSWERED);
    let s = Setup::new(&fake, Some(&ev1));
    // The moderator approves one (the journal's history) …
    let m = s.run(&["moderate", "--source", "keynote", &piped, "approve"]);
    assert!(m.ok(), "{}", m.explain());
    two_source_config(&s, &fake, &ev1, &ev2);
    // … and starred and labelled it earlier.
    Store::open(&s.store_path())
        .unwrap()
        .set_marks(
            "keynote",
            &ev1,
            &piped,
            &Marks {
                starred: true,
                labels: vec!["press".into(), "vip".into()],
                held: None,
                reviewed: false,
                ruled: None,
            },
        )
        .unwrap();
    let out = |name: &str| s.dir().join(name);

    let csv_out = out("q.csv");
    let r = s.run(&[
        "export",
        "--source",
        "all",
        "--format",
        "csv",
        "--bom",
        "--out",
        csv_out.to_str().unwrap(),
    ]);
    assert!(r.ok(), "{}", r.explain());
    let bytes = std::fs::read(out("q.csv")).unwrap();
    assert!(bytes.starts_with(b"\xef\xbb\xbf"), "no BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.starts_with("\"source\",\"id\",\"status\""), "{text}");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3, "{text}");
    let row = |id: &str| rows.iter().find(|r| &r[1] == id).unwrap().clone();
    let f = row(&formula);
    assert_eq!(&f[6], "'=HYPERLINK(\"http://evil\")", "a formula is text");
    assert_eq!(&f[5], "'@mallory");
    assert_eq!(&f[4], "3");
    let p = row(&piped);
    assert_eq!(
        (&p[0], &p[2], &p[9], &p[10]),
        ("keynote", "selected", "true", "press vip")
    );
    assert_eq!(&p[6], "Tables | pipes\nand <b>tags</b>");
    assert!(p[14].contains("approve (tess)"), "history: {}", &p[14]);
    assert!(p[7].ends_with('Z'), "RFC 3339 times: {}", &p[7]);
    assert_eq!(&row(&done)[0], "panel");

    let r = s.run(&[
        "export",
        "--source",
        "all",
        "--what",
        "unanswered",
        "--format",
        "md",
        "--out",
        out("q.md").to_str().unwrap(),
    ]);
    assert!(r.ok(), "{}", r.explain());
    let md = std::fs::read_to_string(out("q.md")).unwrap();
    assert!(md.starts_with("# Questions: keynote, panel"), "{md}");
    assert!(
        md.contains("Tables \\| pipes<br>and \\<b\\>tags\\</b\\>"),
        "{md}"
    );
    assert!(md.contains("| ★ | #press #vip |"), "{md}");
    assert!(!md.contains("Already answered"), "unanswered only: {md}");
    let table: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(table.len(), 2 + 2, "{md}");
    assert_eq!(table[1].matches('|').count(), 13, "{md}");
    for l in table.iter().filter(|l| !l.starts_with("|---")) {
        assert_eq!(l.matches(" | ").count(), 11, "one row, twelve cells: {l}");
    }

    let r = s.run(&[
        "export", "--source", "keynote", "--what", "answered", "--format", "json",
    ]);
    assert!(r.ok(), "{}", r.explain());
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["count"], 0, "nothing answered on the keynote");
    let r = s.run(&["export", "--source", "keynote", "--format", "json"]);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["what"], "all");
    let qs = doc["questions"].as_array().unwrap();
    let pj = qs.iter().find(|q| q["id"] == piped.as_str()).unwrap();
    assert_eq!(pj["votes"], 7);
    assert_eq!(pj["starred"], true);
    assert_eq!(pj["labels"], serde_json::json!(["press", "vip"]));
    assert_eq!(pj["history"][0]["action"], "approve");
    assert_eq!(pj["history"][0]["actor"], "tess");

    // Option mistakes are refused before anything is fetched.
    let r = s.run(&["export", "--source", "keynote", "--bom"]);
    assert_eq!(r.code(), Some(2), "{}", r.explain());
    let r = s.run(&[
        "export", "--source", "keynote", "--what", "chat", "--format", "csv",
    ]);
    assert_eq!(r.code(), Some(2), "{}", r.explain());
}

#[test]
fn tmux_rows_show_stars_labels_and_other_moderators_changes_at_80x24() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    let ev = fake.add_event("Keynote");
    fake.add_question(&ev, "Alpha question about the roadmap");
    let moved = fake.add_question(&ev, "Beta question chosen elsewhere");
    fake.set_status(&ev, &moved, SELECTED);
    let s = Setup::new(&fake, Some(&ev));
    let args = format!(
        "--config {} --store {}",
        s.dir().join("config.toml").display(),
        s.store_path().display()
    );
    let t = Tmux::start(&args, 80, 24, &[(KEY_ENV, &fake.api_key())]);
    let limit = Duration::from_secs(20);
    t.wait_for("the questions", limit, |s| count(s, "Pending") == Some(1));
    t.keys(&["*"]);
    t.keys(&["#"]);
    t.text("press");
    t.keys(&["Enter"]);
    let screen = t.wait_text("★ #press Alpha question", limit);
    assert!(!screen.contains('✎'), "{screen}");
    // Another moderator sends the selected one back to pending.
    fake.set_status(&ev, &moved, DEFAULT);
    let screen = t.wait_text("✎ Beta question chosen elsewhere", limit);
    assert!(screen.contains("★ #press Alpha question"), "{screen}");
    t.keys(&["j"]);
    t.wait_for("the detail's note", limit, |s| {
        s.contains("changed on the platform") && s.contains("selected → pending")
    });
    t.keys(&["q"]);
    t.wait_for("exit", limit, |_| t.dead());
}
