//! The real binary against the PostoBox fake: `events`, `watch` and
//! `moderate` as a script would run them (`--config FILE --store FILE` in a
//! temp dir, the key in an environment variable). Every child process and
//! every wait is bounded.

use crate::support::child_exit;
use crate::support::postobox_fake::{
    ALL_SCOPES, ANSWERED, DEFAULT, FakeConfig, FakePostobox, NewQuestion, Plan, REJECTED, SELECTED,
};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const KEY_ENV: &str = "QADECK_TEST_POSTOBOX_KEY";
const IDENTIFIER: &str = "qadeck-cli-test";
/// No child runs longer than this.
const CHILD_LIMIT: Duration = Duration::from_secs(40);

/// A temp dir with a config naming one PostoBox source `keynote`, a store
/// file and XDG dirs, so nothing touches the real home.
pub(crate) struct Setup {
    dir: tempfile::TempDir,
    key: String,
}

impl Setup {
    pub(crate) fn new(fake: &FakePostobox, event: Option<&str>) -> Setup {
        let s = Setup {
            dir: tempfile::tempdir().unwrap(),
            key: fake.api_key(),
        };
        s.set_event(fake, event);
        s
    }

    /// (Re)writes the config: the source on `event` (none: it names none),
    /// the store unchanged.
    pub(crate) fn set_event(&self, fake: &FakePostobox, event: Option<&str>) {
        let event = event
            .map(|e| format!("event = \"{e}\"\n"))
            .unwrap_or_default();
        self.write_config(&format!(
            "[moderator]\nname = \"tess\"\nidentifier = \"{IDENTIFIER}\"\n\n\
             [[source]]\nname = \"keynote\"\nprovider = \"postobox\"\n{event}\
             api_key_env = \"{KEY_ENV}\"\nbase_url = \"{}\"\n",
            fake.base_url()
        ));
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("qadeck.db")
    }

    /// The temp dir (config, store, files a test writes).
    pub(crate) fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    pub(crate) fn store_path(&self) -> PathBuf {
        self.store()
    }

    pub(crate) fn write_config(&self, text: &str) {
        std::fs::write(self.config(), text).unwrap();
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_qadeck"));
        let d = self.dir.path();
        c.arg("--config")
            .arg(self.config())
            .arg("--store")
            .arg(self.store())
            .args(args)
            .env(KEY_ENV, &self.key)
            .env("HOME", d)
            .env("XDG_CONFIG_HOME", d.join("xdg-config"))
            .env("XDG_DATA_HOME", d.join("xdg-data"))
            .env("QADECK_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// Runs to the end (bounded) with `stdin` as input.
    pub(crate) fn run_with(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut cmd = self.command(args);
        if stdin.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let started = Instant::now();
        let mut child = cmd.spawn().expect("qadeck starts");
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(text.as_bytes()).unwrap();
        }
        let out = drain(child.stdout.take().unwrap());
        let err = drain(child.stderr.take().unwrap());
        let code = wait_bounded(&mut child, CHILD_LIMIT);
        let run = Run {
            code,
            stdout: out.recv().unwrap(),
            stderr: err.recv().unwrap(),
            took: started.elapsed(),
        };
        eprintln!(
            "qadeck {} → {:?} in {:.2}s",
            args.join(" "),
            run.code,
            run.took.as_secs_f64()
        );
        run
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None)
    }
}

pub(crate) struct Run {
    code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    took: Duration,
}

impl Run {
    pub(crate) fn ok(&self) -> bool {
        self.code == Some(0)
    }

    pub(crate) fn code(&self) -> Option<i32> {
        self.code
    }

    /// Every stdout line as JSON.
    pub(crate) fn json(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    pub(crate) fn explain(&self) -> String {
        format!(
            "exit {:?}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Reads a pipe to the end on a thread.
fn drain(mut r: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
    });
    rx
}

/// Waits for the child; kills it (and fails the test) past `limit`.
fn wait_bounded(child: &mut Child, limit: Duration) -> Option<i32> {
    child_exit(child, limit)
        .unwrap_or_else(|| panic!("qadeck ran longer than {limit:?}"))
        .code()
}

/// Requests that change something on the server (not GET) since `from`.
pub(crate) fn writes_since(fake: &FakePostobox, from: usize) -> Vec<String> {
    fake.requests()[from..]
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {} → {}", r.method, r.path, r.status))
        .collect()
}

fn question_lines(lines: &[Value]) -> Vec<&Value> {
    lines.iter().filter(|v| v["type"] == "question").collect()
}

fn wire_status(s: &str) -> &'static str {
    match s {
        "pending" => DEFAULT,
        "selected" => SELECTED,
        "answered" => ANSWERED,
        "rejected" => REJECTED,
        other => panic!("unknown status {other}"),
    }
}

#[test]
fn events_lists_every_page_as_text_and_json() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    let ids: Vec<String> = (0..150)
        .map(|i| fake.add_event(&format!("Event {i:03}")))
        .collect();
    fake.set_event_active(&ids[7], false);
    let s = Setup::new(&fake, None);

    let run = s.run(&["events", "--source", "keynote", "--json"]);
    assert!(run.ok(), "{}", run.explain());
    let lines = run.json();
    assert_eq!(lines.len(), 150, "{}", run.explain());
    let got: Vec<&str> = lines.iter().map(|v| v["id"].as_str().unwrap()).collect();
    let want: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_eq!(got, want);
    for v in &lines {
        assert_eq!(v["type"], "event");
        assert_eq!(v["source"], "keynote");
    }
    assert_eq!(lines[7]["active"], false);
    assert_eq!(lines[8]["active"], true);
    assert_eq!(lines[42]["title"], "Event 042");
    // Two pages of 100.
    assert_eq!(fake.counters().route("GET /events"), 2);

    let text = s.run(&["events", "--source", "keynote"]);
    assert!(text.ok(), "{}", text.explain());
    let rows: Vec<&str> = text.stdout.lines().collect();
    assert_eq!(rows.len(), 150);
    assert!(rows[7].starts_with(&ids[7]) && rows[7].contains("inactive"));
    assert!(rows[149].contains("Event 149"));
}

#[test]
fn watch_prints_questions_status_and_a_summary_equal_to_the_server() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 4);
    fake.set_status(&ev, &ids[2], SELECTED);
    fake.set_status(&ev, &ids[3], ANSWERED);
    let voted = fake.add_question_with(
        &ev,
        NewQuestion {
            text: "From Ana: what about tests?".into(),
            author: Some("ana".into()),
            status: DEFAULT.into(),
            votes: 4,
        },
    );
    let s = Setup::new(&fake, Some(&ev));
    let mut child = s
        .command(&["watch", "--source", "keynote", "--duration", "11"])
        .spawn()
        .unwrap();
    let err = drain(child.stderr.take().unwrap());
    let (tx, rx) = mpsc::channel::<Value>();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let v: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            let _ = tx.send(v);
        }
    });
    let mut seen = Vec::new();
    fn wait_until(
        rx: &mpsc::Receiver<Value>,
        seen: &mut Vec<Value>,
        what: &str,
        pred: &dyn Fn(&[Value]) -> bool,
    ) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !pred(seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left.max(Duration::from_millis(1))) {
                Ok(v) => seen.push(v),
                Err(_) => panic!("no {what} within 15 s; saw {seen:#?}"),
            }
        }
    }
    // The initial listing: every question, and the stream is live.
    wait_until(&rx, &mut seen, "initial questions", &|seen| {
        question_lines(seen).len() >= 5 && seen.iter().any(|v| v["state"] == "live")
    });
    let by_id = |seen: &[Value], id: &str| -> Option<Value> {
        seen.iter()
            .rev()
            .find(|v| v["type"] == "question" && v["id"] == id)
            .cloned()
    };
    let first = by_id(&seen, &voted).unwrap();
    assert_eq!(first["votes"], 4);
    assert_eq!(first["author"], "ana");
    assert_eq!(first["status"], "pending");
    assert_eq!(by_id(&seen, &ids[2]).unwrap()["status"], "selected");

    // Another moderator approves one (the stream carries it) and rejects
    // another (the next poll notices); the audience asks a new one.
    let t0 = Instant::now();
    fake.set_status(&ev, &ids[0], SELECTED);
    wait_until(&rx, &mut seen, "the approval", &|seen| {
        by_id(seen, &ids[0]).is_some_and(|v| v["status"] == "selected")
    });
    eprintln!(
        "another moderator's approval appeared after {:.2}s",
        t0.elapsed().as_secs_f64()
    );
    // The stream is cut in the middle of the next event: the change it
    // carried still arrives (after a reconnect and resync), once.
    fake.drop_stream_mid_event();
    fake.set_status(&ev, &ids[2], ANSWERED);
    wait_until(&rx, &mut seen, "the change cut off mid-event", &|seen| {
        by_id(seen, &ids[2]).is_some_and(|v| v["status"] == "answered")
    });
    assert!(fake.counters().streams_opened >= 2, "no reconnect");
    fake.set_status(&ev, &ids[1], REJECTED);
    let fresh = fake.add_question(&ev, "New from the floor");
    wait_until(
        &rx,
        &mut seen,
        "the rejection and the new question",
        &|seen| {
            by_id(seen, &ids[1]).is_some_and(|v| v["status"] == "rejected")
                && by_id(seen, &fresh).is_some()
        },
    );
    eprintln!(
        "the poll carried the rejection and the new question after {:.2}s",
        t0.elapsed().as_secs_f64()
    );
    // The run ends by itself with a summary.
    let code = wait_bounded(&mut child, CHILD_LIMIT);
    reader.join().unwrap();
    seen.extend(rx.try_iter());
    let stderr = err.recv().unwrap();
    assert_eq!(code, Some(0), "stderr: {stderr}");
    let summary = seen.last().unwrap();
    assert_eq!(summary["type"], "summary", "{seen:#?}");
    let server = fake.questions(&ev);
    assert_eq!(summary["held"], server.len(), "{summary}");
    for status in ["pending", "selected", "answered", "rejected"] {
        let n = server
            .iter()
            .filter(|q| q.status == wire_status(status))
            .count();
        assert_eq!(summary["by_status"][status], n, "{status}: {summary}");
    }
    assert_eq!(summary["in_flight"], 0);
    assert_eq!(summary["failed"], 0);
    // Status lines carry the documented fields.
    let status = seen.iter().find(|v| v["type"] == "status").unwrap();
    assert_eq!(status["source"], "keynote");
    assert!(status["text"].is_string() && status["at"].is_string());
    // watch never writes.
    assert!(writes_since(&fake, 0).is_empty());
}

/// Runs `moderate ID ACTION` and checks it changed the server exactly once
/// (one write request) and printed the resulting question.
fn moderate_once(fake: &FakePostobox, s: &Setup, id: &str, action: &str) -> Value {
    let from = fake.requests().len();
    let run = s.run(&["moderate", "--source", "keynote", id, action]);
    assert!(run.ok(), "{action}: {}", run.explain());
    let writes = writes_since(fake, from);
    assert_eq!(writes.len(), 1, "{action} on {id}: {writes:?}");
    let lines = run.json();
    assert_eq!(lines.len(), 1, "{}", run.explain());
    assert_eq!(lines[0]["type"], "question");
    assert_eq!(lines[0]["id"], id);
    lines[0].clone()
}

#[test]
fn moderate_changes_the_server_exactly_once_per_action() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 3);
    let s = Setup::new(&fake, Some(&ev));
    let (q1, q2, q3) = (&ids[0], &ids[1], &ids[2]);
    let patch = |id: &str| format!("PATCH /events/{ev}/questions/{id}");

    for (action, wire, shown) in [
        ("approve", SELECTED, "selected"),
        ("answered", ANSWERED, "answered"),
        ("pending", DEFAULT, "pending"),
        ("reject", REJECTED, "rejected"),
    ] {
        let before = fake.counters().path(&patch(q1));
        let line = moderate_once(&fake, &s, q1, action);
        assert_eq!(fake.counters().path(&patch(q1)), before + 1, "{action}");
        assert_eq!(fake.question(&ev, q1).unwrap().status, wire, "{action}");
        assert_eq!(line["status"], shown, "{line}");
        assert_eq!(line["in_flight"], false);
    }

    let vote = format!("POST /events/{ev}/questions/{q2}/vote");
    let line = moderate_once(&fake, &s, q2, "vote");
    assert_eq!(fake.counters().path(&vote), 1);
    let server = fake.question(&ev, q2).unwrap();
    assert!(server.voters.contains(IDENTIFIER), "{:?}", server.voters);
    assert_eq!(
        (line["my_vote"].as_str(), line["votes"].as_i64()),
        (Some("up"), Some(1))
    );
    let line = moderate_once(&fake, &s, q2, "unvote");
    assert_eq!(fake.counters().path(&vote), 2);
    let server = fake.question(&ev, q2).unwrap();
    assert!(server.voters.is_empty() && server.vote_count == 0);
    assert_eq!(
        (line["my_vote"].clone(), line["votes"].as_i64()),
        (Value::Null, Some(0))
    );

    let line = moderate_once(&fake, &s, q3, "delete");
    assert_eq!(
        fake.counters()
            .path(&format!("DELETE /events/{ev}/questions/{q3}")),
        1
    );
    assert!(fake.question(&ev, q3).is_none());
    assert_eq!(line["deleted"], true);

    // The journal names each action once.
    let journal = s.run(&["journal", "--json"]);
    assert!(journal.ok(), "{}", journal.explain());
    assert!(journal.stdout.lines().count() >= 7, "{}", journal.stdout);
}

#[test]
fn moderate_reads_several_actions_from_stdin() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 3);
    let s = Setup::new(&fake, Some(&ev));
    let input = format!(
        "# the morning session\n{} approve\n\n{} reject\n{} answered\n{} vote\n",
        ids[0], ids[1], ids[2], ids[0]
    );
    let run = s.run_with(
        &["moderate", "--source", "keynote", "--stdin"],
        Some(&input),
    );
    assert!(run.ok(), "{}", run.explain());
    let lines = run.json();
    let got: Vec<(&str, &str)> = lines
        .iter()
        .map(|v| (v["id"].as_str().unwrap(), v["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            (ids[0].as_str(), "selected"),
            (ids[1].as_str(), "rejected"),
            (ids[2].as_str(), "answered"),
            (ids[0].as_str(), "selected"),
        ]
    );
    assert_eq!(lines[3]["my_vote"], "up");
    let writes = writes_since(&fake, 0);
    assert_eq!(writes.len(), 4, "{writes:?}");
    let q = |i: usize| fake.question(&ev, &ids[i]).unwrap();
    assert_eq!(
        (
            q(0).status.as_str(),
            q(1).status.as_str(),
            q(2).status.as_str()
        ),
        (SELECTED, REJECTED, ANSWERED)
    );
    assert_eq!(q(0).vote_count, 1);

    // A bad line is refused before anything is queued or sent.
    let bad = s.run_with(
        &["moderate", "--source", "keynote", "--stdin"],
        Some(&format!("{} approve\n{} shout\n", ids[1], ids[2])),
    );
    assert!(!bad.ok());
    assert!(
        bad.stderr.contains("line 2") && bad.stderr.contains("shout"),
        "{}",
        bad.explain()
    );
    assert_eq!(writes_since(&fake, 0).len(), 4);
}

#[test]
fn moderate_with_a_key_lacking_the_moderate_scope_names_it() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        scopes: ALL_SCOPES
            .iter()
            .filter(|s| **s != "questions:moderate")
            .map(|s| s.to_string())
            .collect(),
        ..FakeConfig::fast()
    });
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 1);
    let s = Setup::new(&fake, Some(&ev));
    let run = s.run(&["moderate", "--source", "keynote", &ids[0], "approve"]);
    assert!(!run.ok(), "{}", run.explain());
    assert!(
        run.stderr.contains("questions:moderate"),
        "{}",
        run.explain()
    );
    assert!(
        !run.stderr.contains(&s.key),
        "the key leaked: {}",
        run.stderr
    );
    assert_eq!(fake.question(&ev, &ids[0]).unwrap().status, DEFAULT);
    // Refused once, not retried.
    assert_eq!(
        fake.counters()
            .path(&format!("PATCH /events/{ev}/questions/{}", ids[0])),
        1
    );
}

#[test]
fn no_wait_queues_and_a_later_run_delivers_exactly_once() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 4);
    let s = Setup::new(&fake, Some(&ev));
    let patch = |i: usize| {
        fake.counters()
            .path(&format!("PATCH /events/{ev}/questions/{}", ids[i]))
    };

    // Queued, nothing sent, and the command does not wait.
    let run = s.run_with(
        &["moderate", "--source", "keynote", "--stdin", "--no-wait"],
        Some(&format!("{} approve\n{} reject\n", ids[0], ids[1])),
    );
    assert!(run.ok(), "{}", run.explain());
    assert!(
        run.stderr.contains("2 action(s) queued"),
        "{}",
        run.explain()
    );
    assert_eq!(fake.counters().total, 0, "{:?}", fake.requests());

    // A later `moderate` for the same source and store sends them with its own.
    let run = s.run(&["moderate", "--source", "keynote", &ids[2], "answered"]);
    assert!(run.ok(), "{}", run.explain());
    assert_eq!((patch(0), patch(1), patch(2)), (1, 1, 1));
    let q = |i: usize| fake.question(&ev, &ids[i]).unwrap().status;
    assert_eq!(
        (q(0), q(1), q(2)),
        (SELECTED.into(), REJECTED.into(), ANSWERED.into())
    );

    // Queued again; a later `watch` delivers it.
    let run = s.run(&[
        "moderate",
        "--source",
        "keynote",
        "--no-wait",
        &ids[3],
        "approve",
    ]);
    assert!(run.ok(), "{}", run.explain());
    assert_eq!(patch(3), 0);
    let run = s.run(&["watch", "--source", "keynote", "--duration", "2"]);
    assert!(run.ok(), "{}", run.explain());
    assert_eq!(patch(3), 1);
    assert_eq!(q(3), SELECTED);
    let summary = run.json().pop().unwrap();
    assert_eq!(summary["by_status"]["selected"], 2, "{summary}");
    assert_eq!(summary["in_flight"], 0, "{summary}");

    // Nothing is ever sent twice.
    let run = s.run(&["watch", "--source", "keynote", "--duration", "1"]);
    assert!(run.ok(), "{}", run.explain());
    assert_eq!((patch(0), patch(1), patch(2), patch(3)), (1, 1, 1, 1));
    assert_eq!(writes_since(&fake, 0).len(), 4);
}

/// A `watch` that reaches its end while an action is on its way waits for
/// the answer (a moment), so its summary and journal say it landed.
#[test]
fn watch_at_its_end_waits_for_the_answer_to_an_action_on_its_way() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        latency: Duration::from_millis(1_200),
        ..FakeConfig::fast()
    });
    let ev = fake.add_event("Keynote");
    let ids = fake.add_questions(&ev, 1);
    let s = Setup::new(&fake, Some(&ev));
    let run = s.run(&[
        "moderate",
        "--source",
        "keynote",
        "--no-wait",
        &ids[0],
        "approve",
    ]);
    assert!(run.ok(), "{}", run.explain());
    // Every answer takes 1.2 s, the first listing's too: the run ends
    // before the source is live (exit 3), with the approve on its way.
    let run = s.run(&["watch", "--source", "keynote", "--duration", "1"]);
    assert_eq!(run.code(), Some(3), "{}", run.explain());
    let patch = fake
        .counters()
        .path(&format!("PATCH /events/{ev}/questions/{}", ids[0]));
    assert_eq!(patch, 1);
    let summary = run.json().pop().unwrap();
    assert_eq!(summary["in_flight"], 0, "{summary}");
    assert_eq!(summary["by_status"]["selected"], 1, "{summary}");
    let journal = s.run(&["journal", "--json"]);
    assert!(
        journal.stdout.contains(r#""outcome":"confirmed""#),
        "{}",
        journal.explain()
    );
}

#[test]
fn a_key_written_in_a_config_others_can_read_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    fake.add_event("Keynote");
    let s = Setup::new(&fake, None);
    s.write_config(&format!(
        "[[source]]\nname = \"keynote\"\nprovider = \"postobox\"\napi_key = \"{}\"\nbase_url = \"{}\"\n",
        fake.api_key(),
        fake.base_url()
    ));
    let chmod =
        |mode| std::fs::set_permissions(s.config(), std::fs::Permissions::from_mode(mode)).unwrap();

    chmod(0o644);
    let run = s.run(&["events", "--source", "keynote"]);
    assert!(run.ok(), "{}", run.explain());
    let warning = run.stderr.trim();
    assert!(
        warning.contains("readable by others") && warning.contains("chmod 600"),
        "{}",
        run.explain()
    );
    assert!(
        warning.contains(&*s.config().to_string_lossy()),
        "{warning}"
    );
    assert!(
        !warning.contains(&fake.api_key()),
        "the key leaked: {warning}"
    );
    assert_eq!(warning.lines().count(), 1, "one warning: {warning}");

    chmod(0o600);
    let run = s.run(&["events", "--source", "keynote"]);
    assert!(run.ok(), "{}", run.explain());
    assert!(!run.stderr.contains("readable"), "{}", run.explain());

    // A key from the environment is never warned about, whatever the mode.
    let s2 = Setup::new(&fake, None);
    std::fs::set_permissions(s2.config(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = s2.run(&["events", "--source", "keynote"]);
    assert!(
        run.ok() && !run.stderr.contains("readable"),
        "{}",
        run.explain()
    );
}

#[test]
fn events_and_moderate_failures_are_one_clear_line() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    let ev = fake.add_event("Keynote");
    // A wrong key.
    let mut s = Setup::new(&fake, Some(&ev));
    s.key = "pk_live_wrong_key_0000".into();
    let run = s.run(&["events", "--source", "keynote"]);
    assert_eq!(run.code, Some(1), "{}", run.explain());
    assert_eq!(
        run.stderr.trim(),
        "error: keynote: authentication failed: API key rejected"
    );
    // An unreachable server.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut s = Setup::new(&fake, Some(&ev));
    s.write_config(&format!(
        "[[source]]\nname = \"keynote\"\nprovider = \"postobox\"\nevent = \"{ev}\"\n\
         api_key_env = \"{KEY_ENV}\"\nbase_url = \"http://127.0.0.1:{port}/v1\"\n"
    ));
    s.key = fake.api_key();
    let run = s.run(&["events", "--source", "keynote"]);
    assert_eq!(run.code, Some(3), "unreachable: {}", run.explain());
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.explain());
    assert!(
        run.stderr
            .starts_with("error: keynote: network error: cannot reach the server"),
        "{}",
        run.explain()
    );
    // A question that does not exist.
    let s = Setup::new(&fake, Some(&ev));
    let run = s.run(&["moderate", "--source", "keynote", "clq-nope", "approve"]);
    assert_eq!(run.code, Some(1), "{}", run.explain());
    assert!(
        run.stderr
            .contains("not found: question clq-nope not found"),
        "{}",
        run.explain()
    );
    // A missing key variable is named before anything is sent.
    let mut s = Setup::new(&fake, Some(&ev));
    s.key = String::new();
    let run = s.run(&["watch", "--source", "keynote", "--duration", "1"]);
    assert_eq!(run.code, Some(2), "a config error: {}", run.explain());
    assert!(run.stderr.contains(KEY_ENV), "{}", run.explain());
}

#[test]
fn watch_reports_what_needs_the_moderator_as_a_status_line() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        ..FakeConfig::fast()
    });
    fake.add_event("Keynote");
    let read_only = FakePostobox::start_background(FakeConfig {
        plan: Plan::Enterprise,
        scopes: vec!["events:read".into()],
        ..FakeConfig::fast()
    });
    let ev2 = read_only.add_event("Keynote");
    let unknown = Setup::new(&fake, Some("clx-nope"));
    let no_scope = Setup::new(&read_only, Some(&ev2));
    let start = |s: &Setup| {
        let mut c = s
            .command(&["watch", "--source", "keynote", "--duration", "2"])
            .spawn()
            .unwrap();
        let out = drain(c.stdout.take().unwrap());
        let err = drain(c.stderr.take().unwrap());
        (c, out, err)
    };
    let runs = [start(&unknown), start(&no_scope)];
    let mut results = Vec::new();
    for (mut child, out, err) in runs {
        let code = wait_bounded(&mut child, CHILD_LIMIT);
        let run = Run {
            code,
            stdout: out.recv().unwrap(),
            stderr: err.recv().unwrap(),
            took: Duration::ZERO,
        };
        // The source failed: exit status 1, after the status lines.
        assert_eq!(run.code, Some(1), "{}", run.explain());
        results.push(run.json());
    }
    for (lines, reason) in results.iter().zip([
        "not found: event clx-nope not found",
        "permission denied: the API key lacks the scope questions:read",
    ]) {
        let failed: Vec<&Value> = lines.iter().filter(|v| v["state"] == "failed").collect();
        assert_eq!(failed.len(), 1, "one status line: {lines:#?}");
        assert_eq!(failed[0]["reason"], reason);
        assert_eq!(failed[0]["text"], format!("failed: {reason}"));
        let summary = lines.last().unwrap();
        assert_eq!(
            (summary["type"].as_str(), summary["held"].as_u64()),
            (Some("summary"), Some(0))
        );
    }
}

#[test]
fn watch_says_once_that_the_plan_has_no_stream() {
    let fake = FakePostobox::start_background(FakeConfig {
        plan: Plan::Starter,
        ..FakeConfig::fast()
    });
    let ev = fake.add_event("Keynote");
    fake.add_question(&ev, "Polled, not streamed?");
    let s = Setup::new(&fake, Some(&ev));
    let run = s.run(&["watch", "--source", "keynote", "--duration", "3"]);
    assert!(run.ok(), "{}", run.explain());
    let lines = run.json();
    let notices: Vec<&Value> = lines.iter().filter(|v| v.get("notice").is_some()).collect();
    assert_eq!(notices.len(), 1, "{lines:#?}");
    assert_eq!(notices[0]["type"], "status");
    assert!(
        notices[0]["notice"].as_str().unwrap().contains("polling"),
        "{:?}",
        notices[0]
    );
    assert_eq!(question_lines(&lines).len(), 1);
}
