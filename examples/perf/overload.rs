//! `overload_wall_s`, `overload_rss_mb`: `qadeck demo --headless --rate
//! 1000000 --duration 3` as a child, watched from `/proc` and stopped if it
//! outlives a timeout or grows past a memory cap (a shared machine).

use crate::child::{self, Sandbox};
use crate::figure::Sheet;
use std::path::Path;
use std::time::{Duration, Instant};

/// Past this the child is killed: the figure has failed by far anyway.
const RSS_CAP_MB: f64 = 2048.0;

pub fn run(sheet: &mut Sheet, bin: &Path, quick: bool) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(if quick { 6 } else { 20 });
    let sb = Sandbox::new(bin, "")?;
    let mut child = sb
        .command(&[
            "demo",
            "--headless",
            "--rate",
            "1000000",
            "--duration",
            "3",
            "--fail-rate",
            "0",
        ])
        .spawn()?;
    let t0 = Instant::now();
    let mut peak: f64 = 0.0;
    let ended = loop {
        if let Some(hwm) = child::status_mb(child.id(), "VmHWM:") {
            peak = peak.max(hwm);
        }
        if let Some(status) = child.try_wait()? {
            break Ok(status);
        }
        if t0.elapsed() > timeout {
            break Err(format!(
                "still running after {} s: killed",
                timeout.as_secs()
            ));
        }
        if peak > RSS_CAP_MB {
            break Err(format!(
                "passed {RSS_CAP_MB:.0} MB after {:.1} s: killed",
                t0.elapsed().as_secs_f64()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall = t0.elapsed().as_secs_f64();
    let note = match &ended {
        Ok(status) => format!("ended by itself ({status})"),
        Err(why) => {
            let _ = child.kill();
            let _ = child.wait();
            why.clone()
        }
    };
    sheet.set("overload_wall_s", Some(wall), note.clone());
    sheet.set(
        "overload_rss_mb",
        Some(peak),
        format!("peak VmHWM while it ran; {note}"),
    );
    Ok(())
}
