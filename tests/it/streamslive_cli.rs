//! The real binary's headless verbs (`chat`, `moderate`, `watch`, `export`)
//! on a streams.live source, against the fake server on its own thread.
//! Each run has its own config, store and data dir in a temp dir; every
//! wait is bounded.

use crate::support::child_exit;
use crate::support::streamslive_fake::{FakeConfig, FakeStreamsLive, Injected};
use crate::support::wait_until;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const PASSWORD_ENV: &str = "QADECK_TEST_SL_PASSWORD";
/// Longest any one run may take.
const RUN_LIMIT: Duration = Duration::from_secs(30);

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// The NDJSON lines of stdout.
    fn lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

struct Env {
    fake: FakeStreamsLive,
    dir: tempfile::TempDir,
    n: std::cell::Cell<u32>,
}

impl Env {
    fn new() -> Env {
        Env::with(FakeConfig::default())
    }

    fn with(cfg: FakeConfig) -> Env {
        let fake = FakeStreamsLive::start_background(cfg);
        let dir = tempfile::tempdir().unwrap();
        let toml = fake
            .config_toml("sl", PASSWORD_ENV)
            .replace("poll_interval_ms = 500", "poll_interval_ms = 200");
        std::fs::write(dir.path().join("config.toml"), toml).unwrap();
        Env {
            fake,
            dir,
            n: std::cell::Cell::new(0),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts `qadeck --config … --store … ARGS`, output into files.
    fn spawn(&self, args: &[&str]) -> (Child, PathBuf, PathBuf) {
        let n = self.n.get();
        self.n.set(n + 1);
        let (out, err) = (
            self.path(&format!("out-{n}.txt")),
            self.path(&format!("err-{n}.txt")),
        );
        let child = Command::new(env!("CARGO_BIN_EXE_qadeck"))
            .arg("--config")
            .arg(self.path("config.toml"))
            .arg("--store")
            .arg(self.path("qadeck.db"))
            .args(args)
            .env(PASSWORD_ENV, self.fake.config().password)
            .env("XDG_DATA_HOME", self.path("data"))
            .env("XDG_CONFIG_HOME", self.path("xdg-config"))
            .env("HOME", self.dir.path())
            .env("QADECK_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .expect("the binary starts");
        (child, out, err)
    }

    fn finish(child: &mut Child, out: &PathBuf, err: &PathBuf) -> Run {
        let status = child_exit(child, RUN_LIMIT).unwrap_or_else(|| {
            panic!(
                "qadeck ran longer than {RUN_LIMIT:?}; stdout:\n{}\nstderr:\n{}",
                std::fs::read_to_string(out).unwrap_or_default(),
                std::fs::read_to_string(err).unwrap_or_default()
            )
        });
        Run {
            code: status.code(),
            stdout: std::fs::read_to_string(out).unwrap(),
            stderr: std::fs::read_to_string(err).unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        let (mut child, out, err) = self.spawn(args);
        Env::finish(&mut child, &out, &err)
    }
}

fn of_type<'a>(lines: &'a [Value], t: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["type"] == t).collect()
}

/// The last line about question `id`.
fn last_question<'a>(lines: &'a [Value], id: &str) -> Option<&'a Value> {
    lines
        .iter()
        .rev()
        .find(|l| l["type"] == "question" && l["id"] == id)
}

#[test]
fn chat_reads_posts_replies_deletes_and_refuses_over_the_limit() {
    let env = Env::new();
    let first = env.fake.add_message("Welcome, everyone!", Some("Host"));
    let second = env.fake.add_message("Is the stream lagging?", Some("Ana"));

    // The thread, oldest first, in the machine format.
    let r = env.run(&["chat", "--source", "sl"]);
    assert!(r.ok(), "{r}");
    let lines = r.lines();
    assert_eq!(lines.len(), 2, "{r}");
    assert_eq!(lines[0]["type"], "message");
    assert_eq!(lines[0]["source"], "sl");
    assert_eq!(lines[0]["id"], first.as_str());
    assert_eq!(lines[0]["text"], "Welcome, everyone!");
    assert_eq!(lines[1]["author"], "Ana");

    // A reply goes out once, with `reply_for`, and is printed.
    let r = env.run(&[
        "chat",
        "--source",
        "sl",
        "--post",
        "No, it is fine on our side.",
        "--reply-to",
        &second,
    ]);
    assert!(r.ok(), "{r}");
    let posted = r.lines();
    assert_eq!(posted.len(), 1, "{r}");
    assert_eq!(posted[0]["text"], "No, it is fine on our side.");
    assert_eq!(posted[0]["reply_to"], second.as_str());
    assert_eq!(env.fake.counters().get("POST messages"), 1);
    let sent = env.fake.last_request("POST messages").unwrap();
    assert_eq!(sent.body["reply_for"].as_str(), Some(second.as_str()));

    // 301 characters: refused with a clear error and a non-zero exit;
    // nothing at all reaches the platform (not even a login).
    let before = env.fake.counters();
    let long = "x".repeat(301);
    let r = env.run(&["chat", "--source", "sl", "--post", &long]);
    assert!(!r.ok(), "{r}");
    assert!(r.stderr.contains("301") && r.stderr.contains("300"), "{r}");
    assert!(r.stdout.is_empty(), "{r}");
    assert_eq!(env.fake.counters(), before, "a request went out");
    // 300 (of a two-byte letter) is fine.
    let r = env.run(&["chat", "--source", "sl", "--post", &"é".repeat(300)]);
    assert!(r.ok(), "{r}");
    assert_eq!(env.fake.counters().get("POST messages"), 2);

    // Delete one; the thread no longer has it.
    let r = env.run(&["chat", "--source", "sl", "--delete", &first]);
    assert!(r.ok(), "{r}");
    assert_eq!(r.lines()[0]["deleted"], true, "{r}");
    assert!(
        env.fake
            .messages()
            .iter()
            .any(|m| m.id.to_string() == first && m.deleted)
    );
    let r = env.run(&["chat", "--source", "sl"]);
    let ids: Vec<String> = r
        .lines()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 3, "{r}");
    assert!(!ids.contains(&first), "{r}");

    // Nothing stays queued or failed in the outbox.
    let j = env.run(&["journal", "--json"]);
    assert!(j.ok(), "{j}");
    assert!(!j.stdout.contains("\"failed\""), "{j}");

    // A platform refusal is an error and a non-zero exit.
    env.fake.inject(
        "POST messages",
        Injected::error(422, 422, "The given data was invalid.")
            .with_messages(serde_json::json!({"data": ["The data may not contain links."]})),
    );
    let r = env.run(&["chat", "--source", "sl", "--post", "see spam.example"]);
    assert!(!r.ok(), "{r}");
    assert!(r.stderr.contains("may not contain links"), "{r}");
}

#[test]
fn chat_follow_prints_new_and_deleted_messages() {
    let env = Env::new();
    let old = env.fake.add_message("Before the start", None);
    let (mut child, out, err) =
        env.spawn(&["chat", "--source", "sl", "--follow", "--duration", "4"]);
    let printed = wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(&out)
            .unwrap_or_default()
            .contains("Before the start")
    });
    assert!(printed, "no thread printed");
    env.fake.add_message("Fresh from the audience", Some("Bo"));
    env.fake.remove_message(&old);
    let r = Env::finish(&mut child, &out, &err);
    assert!(r.ok(), "{r}");
    let lines = r.lines();
    let msgs = of_type(&lines, "message");
    assert_eq!(msgs[0]["text"], "Before the start", "{r}");
    assert!(
        msgs.iter().any(|m| m["text"] == "Fresh from the audience"),
        "{r}"
    );
    assert!(
        msgs.iter()
            .any(|m| m["id"] == old.as_str() && m["deleted"] == true),
        "{r}"
    );
    assert!(
        of_type(&lines, "status")
            .iter()
            .all(|s| s["state"] == "connecting" || s["state"] == "polling"),
        "{r}"
    );
}

#[test]
fn moderate_keeps_local_states_and_watch_shows_them() {
    let env = Env::new();
    let q1 = env
        .fake
        .add_question("What about the roadmap?", Some("Ana"));
    let q2 = env.fake.add_question("Will slides be shared?", None);
    let q3 = env.fake.add_question("Buy cheap watches", None);

    // Selected has no API on streams.live: kept on this machine, printed.
    let r = env.run(&["moderate", "--source", "sl", &q1, "approve"]);
    assert!(r.ok(), "{r}");
    let l = r.lines();
    let q = last_question(&l, &q1).unwrap();
    assert_eq!(q["status"], "selected", "{r}");
    assert_eq!(q["on_air"], false);
    assert_eq!(q["in_flight"], false);
    // On air (approves it too), also local.
    let r = env.run(&["moderate", "--source", "sl", &q2, "on-air"]);
    assert!(r.ok(), "{r}");
    let q = last_question(&r.lines(), &q2).unwrap().clone();
    assert_eq!(
        (q["status"].as_str(), q["on_air"].as_bool()),
        (Some("selected"), Some(true))
    );
    // Reject archives on the platform.
    let r = env.run(&["moderate", "--source", "sl", &q3, "reject"]);
    assert!(r.ok(), "{r}");
    assert_eq!(
        last_question(&r.lines(), &q3).unwrap()["status"],
        "rejected"
    );
    assert!(env.fake.question(&q3).unwrap().archived);
    // Nothing about selected or on air was sent: no such route exists, and
    // nothing unknown was called.
    assert!(
        !env.fake
            .counters()
            .0
            .keys()
            .any(|k| k.starts_with("UNMATCHED")),
        "{}",
        env.fake.counters()
    );

    // On air is one at a time, also across runs that load one question.
    let r = env.run(&["moderate", "--source", "sl", &q1, "on-air"]);
    assert_eq!(
        last_question(&r.lines(), &q1).unwrap()["on_air"],
        true,
        "{r}"
    );

    // A later `watch` (a new process) shows the local states.
    let r = env.run(&["watch", "--source", "sl", "--duration", "1.5"]);
    assert!(r.ok(), "{r}");
    let l = r.lines();
    let a = last_question(&l, &q1).expect("q1 watched");
    assert_eq!(
        (a["status"].as_str(), a["on_air"].as_bool()),
        (Some("selected"), Some(true)),
        "{r}"
    );
    let b = last_question(&l, &q2).expect("q2 watched");
    assert_eq!(
        (b["status"].as_str(), b["on_air"].as_bool()),
        (Some("selected"), Some(false)),
        "{r}"
    );
    let summary = of_type(&l, "summary")[0];
    assert_eq!(summary["by_status"]["selected"], 2, "{r}");
    assert_eq!(summary["failed"], 0, "{r}");

    // Answered, then back to pending: local too, and persisted.
    let r = env.run(&["moderate", "--source", "sl", &q1, "answered"]);
    let q = last_question(&r.lines(), &q1).unwrap().clone();
    assert_eq!(
        (q["status"].as_str(), q["on_air"].as_bool()),
        (Some("answered"), Some(false)),
        "{r}"
    );
    let r = env.run(&["moderate", "--source", "sl", &q2, "pending"]);
    assert_eq!(
        last_question(&r.lines(), &q2).unwrap()["status"],
        "pending",
        "{r}"
    );
    let r = env.run(&["export", "--source", "sl", "--local"]);
    assert!(r.ok(), "{r}");
    let l = r.lines();
    assert_eq!(last_question(&l, &q1).unwrap()["status"], "answered", "{r}");
    assert_eq!(last_question(&l, &q2).unwrap()["status"], "pending", "{r}");
}

#[test]
fn export_uses_the_platform_report_or_falls_back_to_ndjson() {
    let env = Env::new();
    let q = env
        .fake
        .add_question("Where is the \"venue\"?", Some("Ana"));
    env.fake.add_message("Hello from row 3", Some("Bo"));
    let r = env.run(&["moderate", "--source", "sl", &q, "approve"]);
    assert!(r.ok(), "{r}");

    // The platform's CSV, to a file.
    let file = env.path("questions.csv");
    let r = env.run(&[
        "export",
        "--source",
        "sl",
        "--what",
        "questions",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(r.ok(), "{r}");
    let csv = std::fs::read_to_string(&file).unwrap();
    assert!(
        csv.starts_with("id,question,author,votes,archived\n"),
        "{csv}"
    );
    assert!(csv.contains("\"Where is the \"\"venue\"\"?\""), "{csv}");
    assert_eq!(
        env.fake
            .counters()
            .get("POST stats/parse/download/questions"),
        1
    );
    // Chat, to stdout.
    let r = env.run(&["export", "--source", "sl", "--what", "chat"]);
    assert!(r.ok(), "{r}");
    assert!(r.stdout.contains("Hello from row 3"), "{r}");

    // When the report fails: a local export, with this machine's states.
    env.fake.inject(
        "POST stats/parse/download/questions",
        Injected::error(500, 404, ""),
    );
    let r = env.run(&["export", "--source", "sl"]);
    assert!(r.ok(), "{r}");
    assert!(r.stderr.contains("exporting locally"), "{r}");
    let l = r.lines();
    assert_eq!(l.len(), 1, "{r}");
    assert_eq!(l[0]["status"], "selected");
    assert_eq!(l[0]["text"], "Where is the \"venue\"?");
    env.fake.inject(
        "POST stats/parse/download/chat",
        Injected::error(500, 404, ""),
    );
    let r = env.run(&["export", "--source", "sl", "--what", "chat"]);
    assert!(r.ok(), "{r}");
    let l = r.lines();
    assert_eq!(l[0]["type"], "message", "{r}");
    assert_eq!(l[0]["text"], "Hello from row 3", "{r}");
}
