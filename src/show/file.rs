//! The on-air file: the on-air text alone (empty when nothing is on air)
//! for title inputs and text sources that read a file. It is replaced
//! atomically, so a reader never sees half a question.

use crate::domain::OnAir;
use std::io::Write;
use std::path::{Path, PathBuf};
use tokio::sync::watch;

/// Writes `text` to a temporary file beside `path`, then renames it over
/// `path` (one directory, so the rename is atomic).
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "on-air".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Rewrites the file on every change of the on-air text.
pub(super) async fn follow(path: PathBuf, mut on_air: watch::Receiver<OnAir>) {
    let mut last = on_air.borrow_and_update().text().to_string();
    while on_air.changed().await.is_ok() {
        let text = on_air.borrow_and_update().text().to_string();
        if text == last {
            continue;
        }
        let p = path.clone();
        let t = text.clone();
        match tokio::task::spawn_blocking(move || write_atomically(&p, &t)).await {
            Ok(Ok(())) => last = text,
            Ok(Err(e)) => tracing::error!("on-air file {}: {e}", path.display()),
            Err(e) => tracing::error!("on-air file {}: {e}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::write_atomically;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("on-air.txt");
        write_atomically(&path, "first").unwrap();
        write_atomically(&path, "").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
