//! `tty_bytes_per_s`: what the TUI writes to its terminal at 100 arrivals
//! a second (`qadeck demo --rate 100` at 200x60 in a pty).

use crate::child::Sandbox;
use crate::figure::Sheet;
use std::path::Path;
use std::time::{Duration, Instant};

pub fn run(sheet: &mut Sheet, bin: &Path, quick: bool) -> anyhow::Result<()> {
    let window = Duration::from_secs(if quick { 5 } else { 15 });
    let sb = Sandbox::new(bin, "")?;
    let tty = sb.tty(&["demo", "--rate", "100", "--fail-rate", "0"], 200, 60)?;
    tty.wait_for("demo", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(1));
    let (t0, b0) = (Instant::now(), tty.bytes());
    let c0 = tty.screen.lock().expect("screen").chunks.len();
    std::thread::sleep(window);
    let (secs, b1) = (t0.elapsed().as_secs_f64(), tty.bytes());
    let writes = tty.screen.lock().expect("screen").chunks.len() - c0;
    tty.stop();
    sheet.set(
        "tty_bytes_per_s",
        Some((b1 - b0) as f64 / secs),
        format!(
            "demo --rate 100 in a 200x60 pty over {} s; {:.0} reads of output a second",
            window.as_secs(),
            writes as f64 / secs
        ),
    );
    Ok(())
}
