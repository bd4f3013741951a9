//! The console at 80x24 and beyond, in tmux with `qadeck demo --seed 3`:
//! rows where they count, the key bar's exits, the help scrolled through,
//! a terminal given back on SIGTERM, SIGHUP and Ctrl-Z, and key-map
//! conflicts refused with file and line.

use crate::support::tmux::{Tmux, count};
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

/// A demo with 30 pending and 3 selected questions, arrivals frozen.
fn thirty_and_three(w: u16, h: u16) -> Tmux {
    let t = Tmux::start("demo --seed 3 --rate 25 --fail-rate 0", w, h, &[]);
    t.wait_for("33 questions", T, |s| {
        count(s, "Pending").is_some_and(|n| n >= 33)
    });
    t.keys(&["f"]);
    t.wait_text("FROZEN", T);
    for _ in 0..3 {
        t.keys(&["a"]);
    }
    t.wait_for("3 selected", T, |s| count(s, "Selected") == Some(3));
    t
}

/// Rows of the pending pane: from its title to the next rule in the list
/// column (empty ones too: the demo's duplicates fold into one row each,
/// so fewer rows than questions may be drawn).
fn pending_rows(screen: &str, w: usize) -> usize {
    let left = |l: &str| l.chars().take(w * 58 / 100).collect::<String>();
    let lines: Vec<&str> = screen.lines().collect();
    let Some(title) = lines.iter().position(|l| l.contains("Pending (")) else {
        return 0;
    };
    lines[title + 1..]
        .iter()
        .take_while(|l| !left(l).contains('─') && !left(l).contains('━'))
        .count()
}

fn quit(t: &Tmux) {
    t.keys(&["q"]);
    std::thread::sleep(Duration::from_millis(300));
    if !t.dead() {
        t.keys(&["y"]);
    }
    t.wait_for("exit", T, |_| t.dead());
}

#[test]
fn rows_go_to_pending_at_80x24_and_120x40() {
    for (w, h, at_least) in [(80, 24, 12), (120, 40, 28)] {
        let t = thirty_and_three(w, h);
        let s = t.screen();
        let n = pending_rows(&s, usize::from(w));
        assert!(n >= at_least, "{w}x{h}: {n} pending rows\n{s}");
        let last = s.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
        assert!(last.trim_end().ends_with("? help  q quit"), "{w}x{h}:\n{s}");
        // The detail: its head line, then 3+ lines of the question.
        let lines: Vec<&str> = s.lines().collect();
        let head = lines
            .iter()
            .position(|l| l.contains("pending ·") && l.contains("votes"))
            .unwrap_or_else(|| panic!("no detail head\n{s}"));
        // Rows under the head line, above the status and key bars.
        let room = lines.len().saturating_sub(2).saturating_sub(head + 1);
        assert!(room >= 3, "{w}x{h}: room for {room} lines of detail\n{s}");
        quit(&t);
    }
}

#[test]
fn help_shows_every_description_by_scrolling_at_80x24_and_60x20() {
    for (w, h) in [(80, 24), (60, 20)] {
        let t = Tmux::start("demo --seed 3 --rate 2 --fail-rate 0", w, h, &[]);
        t.wait_for("questions", T, |s| {
            count(s, "Pending").is_some_and(|n| n >= 1)
        });
        t.keys(&["?"]);
        let mut seen = String::new();
        let mut last = String::new();
        for _ in 0..20 {
            let s = t.wait_text("scroll", T);
            for l in s.lines() {
                assert!(!l.contains('…'), "{w}x{h}: a cut help line: {l}\n{s}");
            }
            seen.push_str(&s.replace('│', " "));
            if s == last {
                break;
            }
            last = s;
            t.keys(&["PageDown"]);
            std::thread::sleep(Duration::from_millis(150));
        }
        let words: String = seen.split_whitespace().collect::<Vec<_>>().join(" ");
        // Saved searches are described by the config's `[searches]`; with
        // none, one line says where they come from.
        let fixed = qadeck::app::ACTIONS
            .iter()
            .filter(|a| a.action.saved_search().is_none());
        for a in fixed {
            for word in a.help.split_whitespace() {
                assert!(words.contains(word), "{w}x{h}: `{}` is not whole", a.help);
            }
        }
        assert!(words.contains("[searches] in the config puts them on 1–9"));
        t.keys(&["Escape"]);
        t.wait_for("help closed", T, |s| !s.contains("search ·"));
        quit(&t);
    }
}

/// The qadeck process under the pane's shell.
fn qadeck_pid(t: &Tmux) -> String {
    let sh = t.pane_pid().expect("pane pid");
    let out = Command::new("pgrep")
        .args(["-P", &sh.to_string()])
        .output()
        .unwrap();
    let pid = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    assert!(!pid.is_empty(), "no qadeck under the pane's shell");
    pid
}

fn pane_flag(t: &Tmux, format: &str) -> String {
    let out = crate::support::tmux::tmux(&["display-message", "-p", "-t", &t.name, format]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn term_hup_int_quit_restore_the_terminal_and_exit_128_plus_signal() {
    for (signal, status) in [("TERM", 143), ("HUP", 129), ("INT", 130), ("QUIT", 131)] {
        let t = Tmux::start("demo --seed 3 --rate 2 --fail-rate 0", 80, 24, &[]);
        t.wait_for("questions", T, |s| {
            count(s, "Pending").is_some_and(|n| n >= 1)
        });
        assert_eq!(pane_flag(&t, "#{alternate_on}"), "1");
        assert_eq!(pane_flag(&t, "#{mouse_any_flag}"), "1");
        assert_eq!(
            pane_flag(&t, "#{mouse_all_flag}"),
            "0",
            "no all-motion tracking"
        );
        let pid = qadeck_pid(&t);
        Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert_eq!(
            t.exit_status(),
            Some(status),
            "SIG{signal}:\n{}",
            t.screen()
        );
        assert_eq!(
            pane_flag(&t, "#{alternate_on}"),
            "0",
            "SIG{signal}: normal screen"
        );
        assert_eq!(
            pane_flag(&t, "#{mouse_any_flag}"),
            "0",
            "SIG{signal}: mouse off"
        );
    }
}

#[test]
fn ctrl_z_suspends_with_the_terminal_restored_and_redraws_on_resume() {
    let t = Tmux::start("demo --seed 3 --rate 2 --fail-rate 0", 80, 24, &[]);
    t.wait_for("questions", T, |s| {
        count(s, "Pending").is_some_and(|n| n >= 1)
    });
    let pid = qadeck_pid(&t);
    t.keys(&["C-z"]);
    assert!(
        crate::support::wait_until(T, || pane_flag(&t, "#{alternate_on}") == "0"),
        "suspended on the normal screen"
    );
    assert_eq!(pane_flag(&t, "#{mouse_any_flag}"), "0");
    Command::new("kill").args(["-CONT", &pid]).status().unwrap();
    assert!(
        crate::support::wait_until(T, || pane_flag(&t, "#{alternate_on}") == "1"),
        "back on the alternate screen"
    );
    t.wait_for("redrawn", T, |s| {
        s.contains("Pending (") && s.contains("q quit")
    });
    quit(&t);
}

#[test]
fn a_key_bound_to_two_actions_is_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "theme = \"dark\"\n\n[keys]\nundo = \"U\"\napprove = \"r\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_qadeck"))
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .args(["--config", cfg.to_str().unwrap(), "demo", "--headless"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:5:", cfg.display())),
        "file and line: {err}"
    );
    assert!(
        err.contains("`r` is bound to both approve and reject in the main view"),
        "{err}"
    );
}

#[test]
fn demo_without_a_terminal_says_so_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_qadeck"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .args(["demo"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("not a terminal") && err.contains("--headless"),
        "{err}"
    );
}
