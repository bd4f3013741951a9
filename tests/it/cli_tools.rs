//! The command line as a new user meets it: completions, the man page,
//! `config init` / `config check`, exit codes, the log file's place, the
//! machine format's versions and times, and the verbs that must not
//! overwrite or send (`export --force`, `--dry-run`). The real binary, each
//! run bounded.

use crate::support::child_exit;
use crate::support::postobox_fake::{FakeConfig, FakePostobox};
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(40);

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// A temp home: XDG config, data and state dirs inside it.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn config(&self) -> PathBuf {
        self.path().join("config/qadeck/config.toml")
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_qadeck"));
        let d = self.path();
        c.args(args)
            .env("HOME", d)
            .env("XDG_CONFIG_HOME", d.join("config"))
            .env("XDG_DATA_HOME", d.join("data"))
            .env("XDG_STATE_HOME", d.join("state"))
            .env_remove("QADECK_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    fn run_with(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
        let mut cmd = self.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        if stdin.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(text.as_bytes()).unwrap();
        }
        let mut out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let o = std::thread::spawn(move || {
            let mut s = String::new();
            out.read_to_string(&mut s).unwrap();
            s
        });
        let e = std::thread::spawn(move || {
            let mut s = String::new();
            err.read_to_string(&mut s).unwrap();
            s
        });
        let status = child_exit(&mut child, LIMIT);
        let run = Run {
            code: status.and_then(|s| s.code()),
            stdout: o.join().unwrap(),
            stderr: e.join().unwrap(),
        };
        eprintln!("qadeck {} → {:?}\n{}", args.join(" "), run.code, run.stderr);
        run
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[], None)
    }
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn unreachable_config(home: &Home) -> PathBuf {
    home.write(
        "down.toml",
        &format!(
            "[[source]]\nname = \"keynote\"\nprovider = \"postobox\"\nevent = \"e1\"\n\
             api_key_cmd = \"echo pk_test_down\"\nbase_url = \"http://127.0.0.1:{}\"\n",
            closed_port()
        ),
    )
}

#[test]
fn bash_completion_sources_and_completes_moderate() {
    let home = Home::new();
    let run = home.run(&["completions", "bash"]);
    assert_eq!(run.code, Some(0));
    let script = home.write("qadeck.bash", &run.stdout);
    let probe = format!(
        "set -e; source {}; COMP_WORDS=(qadeck mod); COMP_CWORD=1; COMP_LINE='qadeck mod'; \
         COMP_POINT=${{#COMP_LINE}}; _qadeck qadeck mod qadeck; echo \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &probe])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.is_empty(), "sourcing printed: {err}");
    let words = String::from_utf8_lossy(&out.stdout);
    assert_eq!(words.trim(), "moderate", "{words}");
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let run = home.run(&["completions", shell]);
        assert_eq!(run.code, Some(0), "{shell}");
        assert!(run.stdout.contains("moderate"), "{shell}");
    }
}

#[test]
fn the_man_page_lists_the_verbs_and_exit_codes() {
    let run = Home::new().run(&["man"]);
    assert_eq!(run.code, Some(0));
    assert!(run.stdout.starts_with(".ie") || run.stdout.contains(".TH qadeck"));
    for word in ["moderate", "completions", "128+n"] {
        assert!(run.stdout.contains(word), "{word}");
    }
    let help = Home::new().run(&["--help"]);
    assert!(help.stdout.contains("Exit status:") && help.stdout.contains("128+n"));
}

#[test]
fn config_init_then_check_passes_with_the_demo_and_never_overwrites() {
    let home = Home::new();
    let run = home.run(&["config", "init"]);
    assert_eq!(run.code, Some(0));
    let written = std::fs::read_to_string(home.config()).unwrap();
    assert!(written.contains("provider = \"demo\"") && written.contains("# "));
    let check = home.run(&["config", "check"]);
    assert_eq!(check.code, Some(0), "{}", check.stdout);
    let line = check.stdout.lines().next().unwrap();
    assert!(
        line.starts_with("demo  demo") && line.contains(" ok "),
        "{line}"
    );
    // Never over an existing file.
    std::fs::write(home.config(), "# mine\n").unwrap();
    let again = home.run(&["config", "init", "--provider", "postobox"]);
    assert_eq!(again.code, Some(2));
    assert!(again.stderr.contains("already exists"));
    assert_eq!(std::fs::read_to_string(home.config()).unwrap(), "# mine\n");
    // Every platform's starting table parses.
    let all = Home::new();
    let args = [
        "config",
        "init",
        "--provider",
        "postobox",
        "--provider",
        "streamslive",
        "--provider",
        "streamboxy",
        "--provider",
        "boomstream",
        "--provider",
        "demo",
    ];
    assert_eq!(all.run(&args).code, Some(0));
    let text = std::fs::read_to_string(all.config()).unwrap();
    qadeck::config::parse(&text, Path::new("c.toml")).unwrap();
}

#[test]
fn config_check_names_an_unset_key_variable_once() {
    let home = Home::new();
    let cfg = home.write(
        "c.toml",
        "[[source]]\nname = \"keynote\"\nprovider = \"postobox\"\nevent = \"e\"\n\
         api_key_env = \"QADECK_TEST_UNSET_KEY\"\n",
    );
    let run = home.run(&["--config", cfg.to_str().unwrap(), "config", "check"]);
    assert_ne!(run.code, Some(0));
    let all = format!("{}{}", run.stdout, run.stderr);
    assert_eq!(all.matches("QADECK_TEST_UNSET_KEY").count(), 1, "{all}");
    assert_eq!(all.matches("keynote").count(), 1, "{all}");
    // The same message elsewhere names the source once too.
    let watch = home.run(&[
        "--config",
        cfg.to_str().unwrap(),
        "watch",
        "--source",
        "keynote",
    ]);
    assert_eq!(watch.code, Some(2));
    assert_eq!(
        watch.stderr.matches("keynote").count(),
        1,
        "{}",
        watch.stderr
    );
}

#[test]
fn config_check_reaches_postobox_and_says_the_plan() {
    let fake = FakePostobox::start_background(FakeConfig::fast());
    let home = Home::new();
    let cfg = home.write(
        "c.toml",
        &format!(
            "[[source]]\nname = \"keynote\"\nprovider = \"postobox\"\nevent = \"e\"\n\
             api_key_env = \"QADECK_TEST_CHECK_KEY\"\nbase_url = \"{}\"\n",
            fake.base_url()
        ),
    );
    let key = fake.api_key();
    let run = home.run_with(
        &["--config", cfg.to_str().unwrap(), "config", "check"],
        &[("QADECK_TEST_CHECK_KEY", &key)],
        None,
    );
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(
        run.stdout.starts_with("keynote  postobox"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(" ok "), "{}", run.stdout);
    assert!(!run.stdout.contains(&key) && !run.stderr.contains(&key));
    // Unreachable: said as such, exit 3.
    let down = unreachable_config(&home);
    let run = home.run(&["--config", down.to_str().unwrap(), "config", "check"]);
    assert_eq!(run.code, Some(3), "{}", run.stdout);
    assert!(run.stdout.contains("unreachable"), "{}", run.stdout);
}

#[test]
fn watch_against_an_unreachable_base_url_exits_3() {
    let home = Home::new();
    let cfg = unreachable_config(&home);
    let run = home.run(&[
        "--config",
        cfg.to_str().unwrap(),
        "--store",
        home.path().join("q.db").to_str().unwrap(),
        "watch",
        "--source",
        "keynote",
        "--duration",
        "5",
    ]);
    assert_eq!(run.code, Some(3));
    let last: Value = serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["type"], "summary");
    assert!(
        run.stderr.contains("never live or polling"),
        "{}",
        run.stderr
    );
    // The log is in the state dir and holds qadeck's own lines.
    let log = std::fs::read_to_string(home.path().join("state/qadeck/qadeck.log")).unwrap();
    assert!(log.contains("connection: retrying"), "{log}");
    assert!(!log.contains("pk_test_down"));
    let path = home.run(&["config", "path"]);
    assert!(
        path.stderr.contains("state/qadeck/qadeck.log"),
        "{}",
        path.stderr
    );
}

#[test]
fn journal_json_has_rfc3339_times_and_one_line_per_transition() {
    let home = Home::new();
    let cfg = unreachable_config(&home);
    let store = home.path().join("q.db");
    let base = [
        "--config",
        cfg.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ];
    let mut args = base.to_vec();
    args.extend([
        "moderate",
        "--source",
        "keynote",
        "--timeout",
        "3",
        "q1",
        "approve",
    ]);
    let run = home.run(&args);
    assert_eq!(run.code, Some(3), "unreachable: {}", run.stderr);
    assert!(!run.stderr.contains("-1:"), "no op ids: {}", run.stderr);
    assert!(run.stderr.contains("question `q1`"), "{}", run.stderr);
    let mut args = base.to_vec();
    args.extend(["journal", "--json"]);
    let journal = home.run(&args);
    let all: Vec<Value> = journal
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // `waiting` lines follow the journal's (actions still queued per event).
    let lines: Vec<&Value> = all.iter().filter(|l| l["type"] == "journal").collect();
    assert!(
        all.iter()
            .all(|l| l["type"] == "journal" || l["type"] == "waiting"),
        "{all:?}"
    );
    let outcomes: Vec<&str> = lines
        .iter()
        .map(|l| l["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["queued", "retrying"], "{lines:?}");
    for l in &lines {
        assert_eq!(l["type"], "journal");
        chrono::DateTime::parse_from_rfc3339(l["at"].as_str().unwrap()).unwrap();
    }
    assert!(lines[1]["retries"].as_u64().is_some());
}

#[test]
fn summary_and_version_carry_the_schema() {
    let home = Home::new();
    let run = home.run(&["demo", "--headless", "--duration", "0.2", "--rate", "5"]);
    assert_eq!(run.code, Some(0));
    let summary: Value = serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["source"], "demo");
    assert!(summary["schema"].as_u64().is_some());
    chrono::DateTime::parse_from_rfc3339(summary["at"].as_str().unwrap()).unwrap();
    let version = home.run(&["--version", "--json"]);
    let v: Value = serde_json::from_str(version.stdout.trim()).unwrap();
    assert_eq!(v["type"], "version");
    assert_eq!(v["schema"], summary["schema"]);
    assert!(home.run(&["--version"]).stdout.starts_with("qadeck "));
}

#[test]
fn theme_is_offered_only_where_it_acts_and_always_checked() {
    let home = Home::new();
    for verb in [
        &["journal"][..],
        &["export", "--source", "x"],
        &["config", "path"],
    ] {
        let mut args = verb.to_vec();
        args.extend(["--theme", "dark"]);
        assert_eq!(home.run(&args).code, Some(2), "{verb:?}");
    }
    let run = home.run(&["demo", "--headless", "--duration", "0", "--theme", "neon"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("no theme named `neon`"));
    let help = home.run(&["watch", "--help"]);
    assert!(
        help.stdout.contains("The `[[source]]` to watch"),
        "{}",
        help.stdout
    );
    assert!(
        help.stdout.contains("Stop after this many seconds"),
        "{}",
        help.stdout
    );
    assert!(!help.stdout.contains("--theme"));
}

#[test]
fn config_mistakes_name_their_line() {
    let home = Home::new();
    let keys = home.write("k.toml", "[keys]\napprove = \"a\"\nbogus_action = \"z\"\n");
    let run = home.run(&[
        "--config",
        keys.to_str().unwrap(),
        "demo",
        "--headless",
        "--duration",
        "0",
    ]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("k.toml:3: unknown action `bogus_action`"),
        "{}",
        run.stderr
    );
    let typo = home.write(
        "s.toml",
        "[[source]]\nname = \"a\"\nprovider = \"demo\"\n\n[[source]]\nname = \"b\"\n\
         provider = \"postobox\"\nevent = \"e\"\napi_key_env = \"K\"\nbase_ulr = \"x\"\n",
    );
    let run = home.run(&["--config", typo.to_str().unwrap(), "journal"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("s.toml:10:") && run.stderr.contains("base_ulr"),
        "{}",
        run.stderr
    );
    for (value, says) in [("0", "not 0"), ("65", "not 65"), ("\"all\"", "not \"all\"")] {
        let pipe = home.write(
            "d.toml",
            &format!("[moderator]\nname = \"m\"\n\n[delivery]\nin_flight = {value}\n"),
        );
        let run = home.run(&["--config", pipe.to_str().unwrap(), "config", "check"]);
        assert_eq!(run.code, Some(2), "{value}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("d.toml:5: in_flight must be a whole number from 1 to 64")
                && run.stderr.contains(says),
            "{value}: {}",
            run.stderr
        );
    }
}

#[test]
fn export_refuses_to_overwrite_without_force() {
    let home = Home::new();
    home.run(&["config", "init"]);
    let out = home.write("out.ndjson", "keep me\n");
    let run = home.run(&[
        "export",
        "--source",
        "demo",
        "--local",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me\n");
}

#[test]
fn dry_runs_print_and_send_nothing() {
    let home = Home::new();
    let cfg = unreachable_config(&home);
    let store = home.path().join("q.db");
    let base = [
        "--config",
        cfg.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ];
    let mut args = base.to_vec();
    args.extend(["moderate", "--source", "keynote", "--stdin", "--dry-run"]);
    let run = home.run_with(&args, &[], Some("q1 approve\nq2 reject\n"));
    assert_eq!(run.code, Some(0));
    assert_eq!(
        run.stdout.lines().collect::<Vec<_>>(),
        [
            "would approve question `q1` on `keynote`",
            "would reject question `q2` on `keynote`"
        ]
    );
    let mut args = base.to_vec();
    args.extend(["journal"]);
    assert_eq!(home.run(&args).stdout, "", "nothing queued");
    // people import --dry-run: rows read and checked, the platform untouched.
    let boom = home.write(
        "b.toml",
        &format!(
            "[[source]]\nname = \"town\"\nprovider = \"boomstream\"\nevent = \"c1\"\n\
             api_key_cmd = \"echo k\"\nbase_url = \"http://127.0.0.1:{}\"\n",
            closed_port()
        ),
    );
    let csv = home.write(
        "p.csv",
        "name,email,role\nAda,ada@example.com,participant\n,bad,\n",
    );
    let run = home.run(&[
        "--config",
        boom.to_str().unwrap(),
        "people",
        "import",
        "--source",
        "town",
        csv.to_str().unwrap(),
        "--dry-run",
        "--json",
    ]);
    let rows: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{}", run.stdout);
    assert_eq!(rows[0]["status"], "would_add");
    assert_eq!(rows[1]["status"], "invalid");
    assert_eq!(run.code, Some(1), "an invalid row fails the dry run too");
}

#[test]
fn moderate_on_a_demo_source_says_why_it_cannot_work() {
    let home = Home::new();
    home.run(&["config", "init"]);
    let run = home.run(&[
        "moderate",
        "--source",
        "demo",
        "--timeout",
        "5",
        "q1",
        "approve",
    ]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("hint: a `demo` source"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("question `q1`"), "{}", run.stderr);
}

#[test]
fn every_flag_of_every_verb_has_help_text() {
    let home = Home::new();
    let verbs: [&[&str]; 15] = [
        &[],
        &["demo"],
        &["watch"],
        &["moderate"],
        &["chat"],
        &["export"],
        &["events"],
        &["people", "list"],
        &["people", "import"],
        &["journal"],
        &["config", "path"],
        &["config", "init"],
        &["config", "check"],
        &["completions"],
        &["man"],
    ];
    for verb in verbs {
        let mut args = verb.to_vec();
        args.push("--help");
        let run = home.run(&args);
        assert_eq!(run.code, Some(0), "{verb:?}");
        for line in run
            .stdout
            .lines()
            .filter(|l| l.trim_start().starts_with('-'))
        {
            let t = line.trim_start();
            // `--flag <VALUE>  Help`: the help follows two spaces.
            assert!(
                t.split_once("  ")
                    .is_some_and(|(_, help)| !help.trim().is_empty()),
                "{verb:?}: no help for `{t}`"
            );
        }
    }
}
