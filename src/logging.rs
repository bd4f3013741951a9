//! Tracing to a log file (never to the screen, which belongs to the TUI or
//! to NDJSON), with every registered secret scrubbed from every line. The
//! file is rotated by size: `qadeck.log` and one older `qadeck.log.1`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// A writer that redacts secrets before the bytes reach the file.
pub struct Redacting<W> {
    inner: Arc<Mutex<W>>,
}

impl<W> Clone for Redacting<W> {
    fn clone(&self) -> Self {
        Redacting {
            inner: self.inner.clone(),
        }
    }
}

impl<W: Write> Redacting<W> {
    pub fn new(inner: W) -> Redacting<W> {
        Redacting {
            inner: Arc::new(Mutex::new(inner)),
        }
    }
}

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = crate::secret::redact(&String::from_utf8_lossy(buf));
        let mut w = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        w.write_all(text.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

impl<'a, W: Write + 'a> MakeWriter<'a> for Redacting<W> {
    type Writer = Redacting<W>;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Bytes a log file may reach before it is rotated.
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;

/// A log file that moves itself to `<name>.1` when it would pass its limit.
pub struct Rotating {
    path: PathBuf,
    file: std::fs::File,
    written: u64,
    max: u64,
}

impl Rotating {
    /// Opens `path` for appending, rotating first if it is already full.
    pub fn open(path: &Path, max: u64) -> std::io::Result<Rotating> {
        let file = append(path)?;
        let written = file.metadata()?.len();
        let mut r = Rotating {
            path: path.to_path_buf(),
            file,
            written,
            max,
        };
        if r.written >= max {
            r.rotate()?;
        }
        Ok(r)
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let mut old = self.path.clone().into_os_string();
        old.push(".1");
        std::fs::rename(&self.path, old)?;
        self.file = append(&self.path)?;
        self.written = 0;
        Ok(())
    }
}

fn append(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

impl Write for Rotating {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.written > 0 && self.written + buf.len() as u64 > self.max {
            self.rotate()?;
        }
        self.file.write_all(buf)?;
        self.written += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// The filter: `--log-level` (a level for qadeck, or full directives such
/// as `debug,hyper=info`), else `-v` (`-v` qadeck at debug, `-vv` qadeck at
/// trace and other crates at debug), else `QADECK_LOG` (filter directives
/// as before: `QADECK_LOG=debug` asks every crate), else qadeck at `info`
/// and other crates at `warn`.
pub fn filter(verbose: u8, level: Option<&str>) -> EnvFilter {
    let fallback = || EnvFilter::new("warn,qadeck=info");
    if let Some(l) = level {
        let directives = if l.contains('=') || l.contains(',') {
            l.to_string()
        } else {
            format!("warn,qadeck={l}")
        };
        return EnvFilter::try_new(directives).unwrap_or_else(|_| fallback());
    }
    match verbose {
        0 => EnvFilter::try_from_env("QADECK_LOG").unwrap_or_else(|_| fallback()),
        1 => EnvFilter::new("warn,qadeck=debug"),
        _ => EnvFilter::new("debug,qadeck=trace"),
    }
}

/// Logs to `path` with [`filter`]. A log file that cannot be opened is
/// reported on stderr and logging is skipped.
pub fn init(path: &Path, filter: EnvFilter) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let file = match Rotating::open(path, MAX_BYTES) {
        Ok(f) => f,
        Err(e) => {
            #[allow(clippy::print_stderr, reason = "logging itself is what failed")]
            {
                eprintln!("warning: cannot open the log file {}: {e}", path.display());
            }
            return;
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Redacting::new(file))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_log_moves_aside_and_keeps_two_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qadeck.log");
        let mut log = Rotating::open(&path, 100).unwrap();
        for n in 0..30 {
            writeln!(log, "line {n:04}").unwrap();
        }
        let now = std::fs::metadata(&path).unwrap().len();
        let old = std::fs::metadata(dir.path().join("qadeck.log.1"))
            .unwrap()
            .len();
        assert!(now <= 100 && old <= 100, "{now} {old}");
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("line 0029")
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        // A file already full when opened is moved aside first.
        drop(log);
        std::fs::write(&path, vec![b'x'; 150]).unwrap();
        let _ = Rotating::open(&path, 100).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    }

    #[test]
    fn other_crates_stay_at_warn_unless_asked() {
        let parts = |f: EnvFilter| {
            let mut v: Vec<String> = f.to_string().split(',').map(str::to_string).collect();
            v.sort();
            v
        };
        assert_eq!(parts(filter(0, Some("debug"))), ["qadeck=debug", "warn"]);
        assert_eq!(parts(filter(2, None)), ["debug", "qadeck=trace"]);
        assert_eq!(
            parts(filter(0, Some("info,hyper=debug"))),
            ["hyper=debug", "info"]
        );
    }
}
