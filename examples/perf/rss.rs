//! `rss_mb_100000`: peak resident memory (VmHWM) of `qadeck watch`
//! (headless, stdout to /dev/null) once it holds 100,000 questions synced
//! from a local PostoBox (Enterprise limit, no stream: it polls).

use crate::child::{self, Sandbox};
use crate::fake::{Fake, Options};
use crate::figure::Sheet;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

pub async fn run(sheet: &mut Sheet, bin: &Path, questions: Vec<Value>) -> anyhow::Result<()> {
    let n = questions.len();
    let fake = Fake::start(Options {
        questions,
        write_delay: Duration::ZERO,
        per_minute: 5_000,
        stream: false,
    })
    .await?;
    let sb = Sandbox::new(bin, &fake.source_toml("perf"))?;
    let mut child = sb.command(&["watch", "--source", "perf"]).spawn()?;
    let pid = child.id();
    let t0 = Instant::now();
    let result = async {
        while fake.stats().listings == 0 {
            anyhow::ensure!(
                t0.elapsed() < Duration::from_secs(120),
                "no full listing within 120 s ({} pages read)",
                fake.stats().pages
            );
            anyhow::ensure!(child.try_wait()?.is_none(), "qadeck watch exited");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let listed = t0.elapsed();
        // Holding them all: the snapshot is taken in and printed once the
        // process goes quiet (under 5 % of a core for half a second).
        let mut last = child::cpu_s(pid).unwrap_or(0.0);
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = child::cpu_s(pid).unwrap_or(0.0);
            if now - last < 0.025 || t0.elapsed() > Duration::from_secs(180) {
                break;
            }
            last = now;
        }
        let hwm = child::status_mb(pid, "VmHWM:");
        let rss = child::status_mb(pid, "VmRSS:").unwrap_or(0.0);
        let anon = child::status_mb(pid, "RssAnon:").unwrap_or(0.0);
        Ok((hwm, (rss, anon), listed))
    }
    .await;
    child::terminate(pid);
    let end = Instant::now() + Duration::from_secs(5);
    while child.try_wait()?.is_none() && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let (hwm, (rss, anon), listed) = result?;
    sheet.set(
        "rss_mb_100000",
        hwm,
        format!(
            "qadeck watch holding {n}: listed in {:.1} s ({} pages), VmRSS then {rss:.0} MB \
             ({anon:.0} MB of it anonymous, the rest code and files)",
            listed.as_secs_f64(),
            fake.stats().pages
        ),
    );
    Ok(())
}
