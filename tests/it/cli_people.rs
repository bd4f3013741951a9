//! The real binary's `people list|import` and `events --create|--update|
//! --delete|--show` against in-process fakes of STREAMBOXY and Boomstream.

use crate::support::boomstream_fake::{self, BoomstreamFake};
use crate::support::child_exit;
use crate::support::streamboxy_fake::{self, StreamboxyFake};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

const BOOM_KEY: &str = "bkCLI5e1f7a0c3d9b2e8f4a6c1";

fn background() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// A temp home with a config naming the fakes.
struct Home {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Home {
    fn new(config: &str) -> Home {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, config).unwrap();
        Home { dir, config: path }
    }

    /// Runs `qadeck --config … ARGS`, killed after 60 s.
    fn run(&self, args: &[&str]) -> Run {
        let out = self.dir.path().join("stdout");
        let err = self.dir.path().join("stderr");
        let mut child = Command::new(env!("CARGO_BIN_EXE_qadeck"))
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env("XDG_CONFIG_HOME", self.dir.path().join("cfg"))
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("XDG_STATE_HOME", self.dir.path().join("state"))
            .env("HOME", self.dir.path())
            .env("QADECK_CLI_BOOM", BOOM_KEY)
            .env("QADECK_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        let status = child_exit(&mut child, Duration::from_secs(60))
            .unwrap_or_else(|| panic!("qadeck {args:?} did not finish in 60 s"));
        Run {
            code: status.code().unwrap_or(-1),
            stdout: std::fs::read_to_string(out).unwrap(),
            stderr: std::fs::read_to_string(err).unwrap(),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("state/qadeck/qadeck.log")).unwrap_or_default()
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

fn sbx_config(fake: &StreamboxyFake, session: &str) -> String {
    let cfg = fake.config();
    format!(
        "[[source]]\nprovider = \"streamboxy\"\nname = \"sbx\"\ntenant = \"{}\"\nclient_id = \"{}\"\n\
         client_secret_cmd = \"printf %s '{}'\"\nevent = \"{session}\"\nbase_url = \"{}\"\n\n\
         [[source]]\nprovider = \"streamboxy\"\nname = \"sbx-all\"\ntenant = \"{}\"\nclient_id = \"{}\"\n\
         client_secret_cmd = \"printf %s '{}'\"\nbase_url = \"{}\"\n",
        cfg.tenant,
        cfg.client_id,
        cfg.client_secret,
        fake.base_url,
        cfg.tenant,
        cfg.client_id,
        cfg.client_secret,
        fake.base_url
    )
}

fn boom_config(fake: &BoomstreamFake, conference: &str) -> String {
    format!(
        "[[source]]\nprovider = \"boomstream\"\nname = \"boom\"\napi_key_env = \"QADECK_CLI_BOOM\"\n\
         event = \"{conference}\"\nbase_url = \"{}\"\n",
        fake.base_url
    )
}

fn json_lines(s: &str) -> Vec<serde_json::Value> {
    s.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn csv(n: usize) -> String {
    let mut s = String::from("name,email,role\n");
    for i in 0..n {
        let role = if i % 10 == 0 {
            "moderator"
        } else {
            "participant"
        };
        writeln!(s, "\"Person {i}, Jr.\",person{i:03}@example.com,{role}").unwrap();
    }
    s
}

#[test]
fn people_import_twice_adds_each_row_once_and_list_prints_ndjson() {
    let rt = background();
    let fake = rt.block_on(StreamboxyFake::start(streamboxy_fake::Config::default()));
    let session = fake.add_session("Workshop");
    let home = Home::new(&sbx_config(&fake, &session));
    let file = home.file("people.csv", &csv(30));
    let file = file.to_str().unwrap();

    let first = home.run(&["people", "import", "--source", "sbx", file]);
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert_eq!(
        first.stdout.matches(": added ").count(),
        30,
        "{}",
        first.stdout
    );
    assert!(
        first
            .stdout
            .contains("30 rows: 30 added, 0 already there, 0 repeated, 0 invalid, 0 failed"),
        "{}",
        first.stdout
    );
    assert_eq!(fake.users(&session).len(), 30);

    let again = home.run(&["people", "import", "--source", "sbx", "--json", file]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    let lines = json_lines(&again.stdout);
    assert_eq!(lines.len(), 31);
    assert!(
        lines[..30]
            .iter()
            .all(|l| l["type"] == "import_row" && l["status"] == "exists"),
        "{}",
        again.stdout
    );
    let summary = &lines[30];
    assert_eq!(summary["type"], "import_summary");
    assert_eq!(
        (summary["added"].as_u64(), summary["exists"].as_u64()),
        (Some(0), Some(30))
    );
    assert_eq!(fake.users(&session).len(), 30, "no duplicates");

    let list = home.run(&["people", "list", "--source", "sbx", "--json"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let people = json_lines(&list.stdout);
    assert_eq!(people.len(), 30);
    let p = people
        .iter()
        .find(|p| p["email"] == "person010@example.com")
        .unwrap();
    assert_eq!(p["type"], "participant");
    assert_eq!(p["source"], "sbx");
    assert_eq!(p["name"], "Person 10, Jr.");
    assert_eq!(p["role"], "moderator");
    assert!(p["link"].as_str().unwrap().starts_with("https://"));
    // The table form.
    let table = home.run(&["people", "list", "--source", "sbx"]);
    assert_eq!(table.stdout.lines().count(), 30);
    assert!(table.stdout.contains("moderator"), "{}", table.stdout);
}

#[test]
fn people_import_reports_bad_rows_and_fails() {
    let rt = background();
    let fake = rt.block_on(StreamboxyFake::start(streamboxy_fake::Config::default()));
    let session = fake.add_session("Workshop");
    let home = Home::new(&sbx_config(&fake, &session));
    let file = home.file(
        "bad.csv",
        "name,email,role\nAda,ada@example.com,moderator\nBob,not-an-address,\nEve,eve@example.com,admin\nAda again,ADA@example.com,\n",
    );
    let r = home.run(&[
        "people",
        "import",
        "--source",
        "sbx",
        file.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "a bad row fails the command: {}", r.stdout);
    assert!(
        r.stdout.contains("line 2: added ada@example.com"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("line 3: invalid: `not-an-address` is not an e-mail"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("line 4: invalid: role `admin`"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("line 5: ADA@example.com repeats line 2"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("4 rows: 1 added"), "{}", r.stdout);
    assert_eq!(fake.users(&session).len(), 1);
    // Unreadable file, no header, no event: clear errors, non-zero.
    let r = home.run(&["people", "import", "--source", "sbx", "/nonexistent.csv"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("reading /nonexistent.csv"),
        "{}",
        r.stderr
    );
    let nohead = home.file("nohead.csv", "Ada,ada@example.com\n");
    let r = home.run(&[
        "people",
        "import",
        "--source",
        "sbx",
        nohead.to_str().unwrap(),
    ]);
    assert!(r.code == 1 && r.stderr.contains("header"), "{}", r.stderr);
    let r = home.run(&["people", "list", "--source", "sbx-all"]);
    assert!(
        r.code == 1 && r.stderr.contains("names no event"),
        "{}",
        r.stderr
    );
}

#[test]
fn streamboxy_sessions_created_listed_and_unsupported_changes_fail_clearly() {
    let rt = background();
    let fake = rt.block_on(StreamboxyFake::start(streamboxy_fake::Config::default()));
    let session = fake.add_session("Seeded");
    let home = Home::new(&sbx_config(&fake, &session));
    let r = home.run(&[
        "events",
        "--source",
        "sbx-all",
        "--json",
        "--create",
        "--title",
        "Keynote",
        "--description",
        "Opening keynote",
        "--start",
        "2026-03-01T15:00:00+01:00",
        "--end",
        "2026-03-01T16:00:00Z",
        "--kind",
        "Stage",
        "--content-url",
        "https://video.example/keynote",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let created = &json_lines(&r.stdout)[0];
    assert_eq!(
        (created["type"].as_str(), created["title"].as_str()),
        (Some("event"), Some("Keynote"))
    );
    let id = created["id"].as_str().unwrap().to_string();
    let s = fake.sessions().into_iter().find(|s| s.id == id).unwrap();
    assert_eq!(
        s.start.as_deref(),
        Some("2026-03-01T14:00:00Z"),
        "sent as UTC"
    );
    assert_eq!(s.session_type.as_deref(), Some("Stage"));
    assert_eq!(
        s.content_url.as_deref(),
        Some("https://video.example/keynote")
    );
    // Listed, and shown.
    let r = home.run(&["events", "--source", "sbx-all"]);
    assert!(
        r.stdout.contains("Keynote") && r.stdout.contains("Seeded"),
        "{}",
        r.stdout
    );
    let r = home.run(&["events", "--source", "sbx-all", "--show", &id]);
    assert!(
        r.code == 0 && r.stdout.contains("Keynote"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    // Checked before sending: a description of 501 characters.
    let long = "x".repeat(501);
    let r = home.run(&[
        "events",
        "--source",
        "sbx-all",
        "--create",
        "--title",
        "T",
        "--description",
        &long,
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("between 1 and 500"), "{}", r.stderr);
    assert_eq!(fake.counters().session_creates, 1);
    // STREAMBOXY cannot delete or update sessions through its API.
    let r = home.run(&["events", "--source", "sbx-all", "--delete", &id]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("not supported by this platform: deleting events"),
        "{}",
        r.stderr
    );
    let r = home.run(&[
        "events", "--source", "sbx-all", "--update", &id, "--title", "New",
    ]);
    assert!(
        r.code == 1 && r.stderr.contains("updating events"),
        "{}",
        r.stderr
    );
    // Fields without a change to make.
    let r = home.run(&["events", "--source", "sbx-all", "--title", "T"]);
    assert!(
        r.code == 2 && r.stderr.contains("go with --create or --update"),
        "{}",
        r.stderr
    );
    let r = home.run(&["events", "--source", "sbx-all", "--create"]);
    assert!(r.code != 0 && r.stderr.contains("--title"), "{}", r.stderr);
}

#[test]
fn boomstream_conferences_created_shown_updated_deleted_key_kept_out() {
    let rt = background();
    let fake = rt.block_on(BoomstreamFake::start(boomstream_fake::Config {
        api_key: BOOM_KEY.into(),
        ..Default::default()
    }));
    let seeded = fake.add_conference("Town hall");
    fake.add_client(&seeded, "Grace Hopper", "grace@example.com", true);
    let home = Home::new(&boom_config(&fake, &seeded));
    let r = home.run(&[
        "events",
        "--source",
        "boom",
        "--create",
        "--title",
        "All hands",
        "--description",
        "Q3",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let code = r.stdout.split_whitespace().next().unwrap().to_string();
    assert!(
        fake.conferences()
            .iter()
            .any(|c| c.code == code && c.title == "All hands")
    );
    // Shown with the platform's own call (the answer echoes the key).
    let r = home.run(&["events", "--source", "boom", "--show", &code, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json_lines(&r.stdout)[0]["title"], "All hands");
    let r = home.run(&[
        "events",
        "--source",
        "boom",
        "--update",
        &code,
        "--title",
        "All hands (moved)",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("All hands (moved)"));
    assert_eq!(
        fake.conferences()
            .iter()
            .find(|c| c.code == code)
            .unwrap()
            .title,
        "All hands (moved)"
    );
    let r = home.run(&["events", "--source", "boom", "--delete", &code, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json_lines(&r.stdout)[0]["deleted"], true);
    assert!(!fake.conferences().iter().any(|c| c.code == code));
    // No start, end or type on Boomstream: refused, not half done.
    let r = home.run(&[
        "events",
        "--source",
        "boom",
        "--create",
        "--title",
        "X",
        "--start",
        "2026-03-01T15:00:00Z",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("Boomstream conferences have no start"),
        "{}",
        r.stderr
    );
    assert!(!fake.conferences().iter().any(|c| c.title == "X"));
    // Deleting it again: the platform's words, non-zero.
    let r = home.run(&["events", "--source", "boom", "--delete", &code]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Conference not found"), "{}", r.stderr);
    // People of the seeded conference.
    let r = home.run(&["people", "list", "--source", "boom", "--json"]);
    let people = json_lines(&r.stdout);
    assert_eq!(
        (people.len(), people[0]["role"].as_str()),
        (1, Some("moderator"))
    );
    for text in [r.stdout, r.stderr, home.log()] {
        assert!(!text.contains(BOOM_KEY), "the key leaked: {text}");
    }
    assert!(home.log().contains("boomstream"), "the log was written");
}
