//! Running the release `qadeck` binary as a child: where it is, a sandbox
//! (config, store and data dirs of its own), `/proc` readings, and a pty
//! (`script`) for the TUI with a terminal parser (`vt100`) reading the
//! screen it draws.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `target/release/qadeck`, beside this example's own directory.
pub fn binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("qadeck"))
        .ok_or("cannot place target/release")?;
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "{} is missing: build it first with `cargo build --release --bin qadeck`",
            bin.display()
        ))
    }
}

/// A config file, a store and data/state dirs of the child's own.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub bin: PathBuf,
}

impl Sandbox {
    pub fn new(bin: &Path, config: &str) -> anyhow::Result<Sandbox> {
        let dir = tempfile::tempdir()?;
        let full = format!("[moderator]\nname = \"perf\"\nidentifier = \"perf-desk\"\n\n{config}");
        std::fs::write(dir.path().join("config.toml"), full)?;
        Ok(Sandbox {
            dir,
            bin: bin.to_path_buf(),
        })
    }

    /// The global options and the environment every run gets.
    fn prefix(&self) -> Vec<String> {
        let d = self.dir.path();
        vec![
            "--config".into(),
            d.join("config.toml").display().to_string(),
            "--store".into(),
            d.join("store.db").display().to_string(),
        ]
    }

    fn env(&self, cmd: &mut Command) {
        let d = self.dir.path();
        for var in [
            "XDG_CONFIG_HOME",
            "XDG_DATA_HOME",
            "XDG_STATE_HOME",
            "XDG_CACHE_HOME",
            "HOME",
        ] {
            cmd.env(var, d);
        }
        cmd.env_remove("QADECK_LOG");
    }

    /// `qadeck <args>` with stdout to /dev/null.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(self.prefix()).args(args);
        self.env(&mut cmd);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    }

    /// `qadeck <args>` in a `cols`x`rows` pty.
    pub fn tty(&self, args: &[&str], cols: u16, rows: u16) -> anyhow::Result<Tty> {
        let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
        let mut line = format!(
            "stty rows {rows} cols {cols} && exec {}",
            quote(&self.bin.display().to_string())
        );
        for a in self
            .prefix()
            .iter()
            .map(String::as_str)
            .chain(args.iter().copied())
        {
            line.push(' ');
            line.push_str(&quote(a));
        }
        let mut cmd = Command::new("script");
        cmd.args(["-q", "-f", "-e", "-c", &line, "/dev/null"]);
        self.env(&mut cmd);
        cmd.env("TERM", "xterm-256color");
        let mut script = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot run `script` (util-linux) for a pty: {e}"))?;
        let size =
            |n: u16| std::num::NonZeroU16::new(n).ok_or_else(|| anyhow::anyhow!("an empty pty"));
        let screen = Arc::new(Mutex::new(Screen {
            parser: vt100::Parser::new(size(rows)?, size(cols)?, 0),
            bytes: 0,
            chunks: Vec::new(),
            watch: None,
            seen: Vec::new(),
        }));
        let mut out = script
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no pty output"))?;
        let reader = screen.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 16];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let at = Instant::now();
                let mut s = reader.lock().expect("screen");
                s.take(at, &buf[..n]);
            }
        });
        let pid = script.id();
        let deadline = Instant::now() + Duration::from_secs(5);
        let child = loop {
            if let Some(c) = children(pid).first() {
                break *c;
            }
            anyhow::ensure!(Instant::now() < deadline, "the pty started no qadeck");
            std::thread::sleep(Duration::from_millis(20));
        };
        Ok(Tty {
            script,
            pid: child,
            screen,
        })
    }
}

/// What a pty reader saw.
pub struct Screen {
    parser: vt100::Parser,
    pub bytes: u64,
    /// When each chunk of output arrived, and its size.
    pub chunks: Vec<(Instant, usize)>,
    /// A token prefix to look for on the screen after every chunk.
    watch: Option<String>,
    /// Tokens seen, with the time of the chunk that first showed them.
    pub seen: Vec<(String, Instant)>,
}

impl Screen {
    fn take(&mut self, at: Instant, bytes: &[u8]) {
        self.bytes += bytes.len() as u64;
        self.chunks.push((at, bytes.len()));
        self.parser.process(bytes);
        let Some(prefix) = self.watch.clone() else {
            return;
        };
        let text = self.parser.screen().contents();
        let mut rest = text.as_str();
        while let Some(i) = rest.find(&prefix) {
            let token: String = rest[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            rest = &rest[i + prefix.len()..];
            if !self.seen.iter().any(|(t, _)| *t == token) {
                self.seen.push((token, at));
            }
        }
    }

    pub fn contents(&self) -> String {
        self.parser.screen().contents()
    }
}

/// The TUI running in a pty.
pub struct Tty {
    script: Child,
    /// qadeck's own pid (the child of `script`).
    pub pid: u32,
    pub screen: Arc<Mutex<Screen>>,
}

impl Tty {
    pub fn watch(&self, prefix: &str) {
        self.screen.lock().expect("screen").watch = Some(prefix.to_string());
    }

    /// Waits until the screen shows `text`.
    pub fn wait_for(&self, text: &str, within: Duration) -> bool {
        let end = Instant::now() + within;
        while Instant::now() < end {
            if self
                .screen
                .lock()
                .expect("screen")
                .contents()
                .contains(text)
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Types `keys` into the pty.
    pub fn keys(&mut self, keys: &str) -> anyhow::Result<()> {
        use std::io::Write;
        let stdin = self
            .script
            .stdin
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("no pty input"))?;
        stdin.write_all(keys.as_bytes())?;
        stdin.flush()?;
        Ok(())
    }

    pub fn bytes(&self) -> u64 {
        self.screen.lock().expect("screen").bytes
    }

    /// SIGTERM to qadeck (it restores the terminal and exits), then the pty.
    pub fn stop(mut self) {
        terminate(self.pid);
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.script.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.script.kill();
        let _ = self.script.wait();
    }
}

pub fn terminate(pid: u32) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
}

/// The children of `pid`.
pub fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// A `VmHWM:`/`VmRSS:` line of `/proc/<pid>/status`, in MB.
pub fn status_mb(pid: u32, key: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// User + system CPU time of `pid`, in seconds.
pub fn cpu_s(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may hold spaces: ") S ppid ...".
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / clock_ticks())
}

fn clock_ticks() -> f64 {
    static HZ: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *HZ.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}
