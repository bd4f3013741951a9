//! Tracing to a log file (never to the screen, which belongs to the TUI or
//! to NDJSON), with every registered secret scrubbed from every line.

use std::io::Write;
use std::path::Path;
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

/// Logs to `path` at the level in `QADECK_LOG` (default `info`). A log file
/// that cannot be opened is reported on stderr and logging is skipped.
pub fn init(path: &Path) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let file = match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        Ok(f) => f,
        Err(e) => {
            #[allow(clippy::print_stderr, reason = "logging itself is what failed")]
            {
                eprintln!("warning: cannot open the log file {}: {e}", path.display());
            }
            return;
        }
    };
    let filter = EnvFilter::try_from_env("QADECK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Redacting::new(file))
        .try_init();
}
