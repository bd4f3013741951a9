//! Driving the real binary in tmux, as a person would: send keys, read the
//! screen. Each session has its own name and its own config/data dirs.

use super::wait_until;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

pub struct Tmux {
    pub name: String,
    pub dir: tempfile::TempDir,
}

/// The tests' own tmux server, so that neither a moderator's sessions nor
/// a `tmux kill-server` on the default socket meets them.
const SOCKET: &str = "qadeck-tests";

/// Runs `tmux ARGS` against the tests' server.
pub fn tmux(args: &[&str]) -> std::process::Output {
    Command::new("tmux")
        .args(["-L", SOCKET])
        .args(args)
        .output()
        .expect("tmux runs (scripts/test installs it)")
}

impl Tmux {
    /// Starts `qadeck ARGS` in a detached session of the given size, with
    /// XDG dirs in a fresh temp dir. `env` adds variables.
    pub fn start(args: &str, width: u16, height: u16, env: &[(&str, &str)]) -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        Tmux::start_in(dir, args, width, height, env)
    }

    pub fn start_in(
        dir: tempfile::TempDir,
        args: &str,
        width: u16,
        height: u16,
        env: &[(&str, &str)],
    ) -> Tmux {
        assert!(
            Command::new("tmux").arg("-V").output().is_ok(),
            "tmux is not installed: run the tests through scripts/test, which installs it"
        );
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "qadeck-e2e-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        let bin = env!("CARGO_BIN_EXE_qadeck");
        let mut vars = format!(
            // The state dir (the log) is the data dir: one place to look.
            "XDG_CONFIG_HOME={c} XDG_DATA_HOME={d} XDG_STATE_HOME={d} HOME={h} TERM=xterm-256color QADECK_LOG=debug",
            c = dir.path().join("config").display(),
            d = dir.path().join("data").display(),
            h = dir.path().display()
        );
        for (k, v) in env {
            vars.push_str(&format!(" {k}={v}"));
        }
        // `remain-on-exit` keeps the pane after qadeck exits so tests can
        // read its last screen; the shell writes the exit status on it
        // (tmux's own `pane_dead_status` is not always there).
        assert!(!args.contains('\''), "no single quotes in args: {args}");
        // The pause lets tmux read the line before it sees the shell exit.
        let cmd =
            format!("env {vars} sh -c '{bin} {args}; echo \"[qadeck exited $?]\"; sleep 0.3'");
        let out = tmux(&[
            "new-session",
            "-d",
            "-s",
            &name,
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            &cmd,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux(&["set-option", "-t", &name, "remain-on-exit", "on"]);
        Tmux { name, dir }
    }

    /// Ends the session and hands back its temp dir (config, store, logs),
    /// so a second run can start in it with [`Tmux::start_in`].
    pub fn into_dir(mut self) -> tempfile::TempDir {
        tmux(&["kill-session", "-t", &self.name]);
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Sends keys in tmux's notation (`"a"`, `"Enter"`, `"Tab"`, `"C-c"`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.name];
        args.extend_from_slice(keys);
        tmux(&args);
    }

    /// Sends literal text.
    pub fn text(&self, text: &str) {
        tmux(&["send-keys", "-t", &self.name, "-l", text]);
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", &self.name]).stdout)
            .into_owned()
    }

    /// Waits until the screen satisfies `pred`; panics with the screen when
    /// it never does.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let mut s = String::new();
        if wait_until(timeout, || {
            s = self.screen();
            pred(&s)
        }) {
            return s;
        }
        let log =
            std::fs::read_to_string(self.data_dir().join("qadeck/qadeck.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        panic!(
            "timed out waiting for {what}; screen:\n{s}\nlog (newest first):\n{}",
            tail.join("\n")
        );
    }

    pub fn wait_text(&self, text: &str, timeout: Duration) -> String {
        self.wait_for(&format!("`{text}`"), timeout, |s| s.contains(text))
    }

    /// Whether the program has exited.
    pub fn dead(&self) -> bool {
        let out = tmux(&["display-message", "-p", "-t", &self.name, "#{pane_dead}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    /// qadeck's exit status once it ended: what the shell wrote after it,
    /// or tmux's "Pane is dead (status N, …)" line (tmux replaces one with
    /// the other when the shell exits), or `#{pane_dead_status}`. Polls for
    /// up to 3 s; `None` if none of them shows.
    pub fn exit_status(&self) -> Option<i32> {
        fn after(screen: &str, marker: &str, end: char) -> Option<i32> {
            let at = screen.rfind(marker)? + marker.len();
            let stop = screen[at..].find(end)? + at;
            screen[at..stop].trim().parse().ok()
        }
        let mut found = None;
        wait_until(Duration::from_secs(3), || {
            let screen = self.screen();
            let status = tmux(&[
                "display-message",
                "-p",
                "-t",
                &self.name,
                "#{pane_dead_status}",
            ]);
            found = after(&screen, "[qadeck exited ", ']')
                .or_else(|| after(&screen, "Pane is dead (status ", ','))
                .or_else(|| String::from_utf8_lossy(&status.stdout).trim().parse().ok());
            found.is_some()
        });
        found
    }

    pub fn pane_pid(&self) -> Option<u32> {
        let out = tmux(&["display-message", "-p", "-t", &self.name, "#{pane_pid}"]);
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    }

    pub fn pane_title(&self) -> String {
        let out = tmux(&["display-message", "-p", "-t", &self.name, "#{pane_title}"]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Records everything the program writes to the terminal into a file.
    pub fn record_output(&self) -> PathBuf {
        let file = self.dir.path().join("tty-output.bin");
        tmux(&[
            "pipe-pane",
            "-o",
            "-t",
            &self.name,
            &format!("cat >> {}", file.display()),
        ]);
        file
    }

    pub fn resize(&self, w: u16, h: u16) {
        tmux(&[
            "resize-window",
            "-t",
            &self.name,
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
        ]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        tmux(&["kill-session", "-t", &self.name]);
    }
}

/// The number in a pane title like `Pending (12)` (with a filter on,
/// `Pending (2/12)`: the number shown).
pub fn count(screen: &str, pane: &str) -> Option<usize> {
    let start = screen.find(&format!("{pane} ("))? + pane.len() + 2;
    let end = screen[start..].find([')', '/'])? + start;
    screen[start..end].parse().ok()
}
