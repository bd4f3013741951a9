//! `drain_per_s_rtt100`: a backlog of 1,000 queued actions (approve and
//! vote, alternately) delivered to a local PostoBox that answers every
//! write after 100 ms, on the Enterprise plan (5,000 requests a minute).
//! The backlog is queued with `qadeck moderate --stdin --no-wait`; a
//! `qadeck watch` run then delivers it, as after an outage. The rate is
//! counted at the server: writes answered over the time from the first
//! write's arrival to the last answer.

use crate::child::{self, Sandbox};
use crate::fake::{Fake, Options};
use crate::figure::Sheet;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const ACTIONS: usize = 1_000;

pub async fn run(sheet: &mut Sheet, bin: &Path, quick: bool) -> anyhow::Result<()> {
    let window = Duration::from_secs(if quick { 6 } else { 60 });
    let mut questions = crate::corpus::questions(ACTIONS);
    for q in &mut questions {
        q["status"] = "DEFAULT".into();
    }
    let fake = Fake::start(Options {
        questions,
        write_delay: Duration::from_millis(100),
        per_minute: 5_000,
        stream: false,
    })
    .await?;
    let sb = Sandbox::new(bin, &fake.source_toml("perf"))?;
    let lines: String = (0..ACTIONS)
        .map(|i| {
            let action = if i % 2 == 0 { "approve" } else { "vote" };
            format!("clq{i:07} {action}\n")
        })
        .collect();
    let t = Instant::now();
    let mut queue = sb
        .command(&["moderate", "--source", "perf", "--stdin", "--no-wait"])
        .stdin(Stdio::piped())
        .spawn()?;
    queue
        .stdin
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdin"))?
        .write_all(lines.as_bytes())?;
    let status = loop {
        if let Some(s) = queue.try_wait()? {
            break s;
        }
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(120),
            "queueing took over 120 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    anyhow::ensure!(
        status.success(),
        "qadeck moderate --no-wait failed: {status}"
    );
    let queued_in = t.elapsed();
    let mut child = sb.command(&["watch", "--source", "perf"]).spawn()?;
    let t0 = Instant::now();
    let mut first: Option<Instant> = None;
    loop {
        let st = fake.stats();
        if first.is_none() {
            first = st.writes.iter().map(|w| w.0).min();
        }
        let over = first.is_some_and(|f| f.elapsed() > window);
        if st.writes.len() >= ACTIONS || over || t0.elapsed() > window + Duration::from_secs(20) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child::terminate(child.id());
    let end = Instant::now() + Duration::from_secs(5);
    while child.try_wait()?.is_none() && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let st = fake.stats();
    let start = st.writes.iter().map(|w| w.0).min();
    let last = st.writes.iter().map(|w| w.1).max();
    let (rate, span) = match (start, last) {
        (Some(a), Some(b)) if b > a => {
            let span = (b - a).as_secs_f64();
            (Some(st.writes.len() as f64 / span), span)
        }
        _ => (None, 0.0),
    };
    sheet.set(
        "drain_per_s_rtt100",
        rate,
        format!(
            "{} of {ACTIONS} delivered in {span:.1} s{}; {} refused (429); queued in {:.1} s",
            st.writes.len(),
            if st.writes.len() < ACTIONS {
                " (window ended)"
            } else {
                ""
            },
            st.refused,
            queued_in.as_secs_f64()
        ),
    );
    Ok(())
}
