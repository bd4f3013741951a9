//! `idle_cpu_pct`: CPU share of the TUI's running loop with nothing
//! arriving (`qadeck demo --rate 0` at 200x60 in a pty), from its
//! utime + stime in `/proc`; also what it wrote to the terminal meanwhile.

use crate::child::{self, Sandbox};
use crate::figure::Sheet;
use std::path::Path;
use std::time::Duration;

pub fn run(sheet: &mut Sheet, bin: &Path, quick: bool) -> anyhow::Result<()> {
    let window = Duration::from_secs(if quick { 10 } else { 30 });
    let sb = Sandbox::new(bin, "")?;
    let tty = sb.tty(&["demo", "--rate", "0"], 200, 60)?;
    // Started: the first frame is on the screen and the start-up is done.
    tty.wait_for("demo", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(2));
    let (cpu0, bytes0) = (child::cpu_s(tty.pid), tty.bytes());
    std::thread::sleep(window);
    let (cpu1, bytes1) = (child::cpu_s(tty.pid), tty.bytes());
    tty.stop();
    let pct = match (cpu0, cpu1) {
        (Some(a), Some(b)) => Some(100.0 * (b - a) / window.as_secs_f64()),
        _ => None,
    };
    sheet.set(
        "idle_cpu_pct",
        pct,
        format!(
            "demo --rate 0 in a 200x60 pty over {} s; {} bytes to the terminal meanwhile",
            window.as_secs(),
            bytes1 - bytes0
        ),
    );
    Ok(())
}
