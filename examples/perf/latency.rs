//! `latency_p50_ms`, `latency_p99_ms`: a question pushed by the PostoBox
//! SSE stream of a local server → the TUI frame that shows it (qadeck's
//! own share, at 200x60 in a pty, read back with a terminal parser); and
//! `push_wait_*`: how long the question waited at the server for its push
//! (PostoBox pushes every 3 s; this server every 250 ms, so the run
//! gathers enough samples).

use crate::child::Sandbox;
use crate::fake::{Fake, Options};
use crate::figure::Sheet;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::time::{Duration, Instant};

const PUSH_PERIOD: Duration = Duration::from_millis(250);

fn percentile(v: &mut [f64], p: f64) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v.get(i).copied()
}

pub fn run(
    sheet: &mut Sheet,
    rt: &tokio::runtime::Runtime,
    bin: &Path,
    quick: bool,
) -> anyhow::Result<()> {
    let window = Duration::from_secs(if quick { 8 } else { 30 });
    let mut rng = SmallRng::seed_from_u64(99);
    let mut initial = crate::corpus::questions(200);
    for q in &mut initial {
        q["status"] = "DEFAULT".into();
    }
    let fake = rt.block_on(Fake::start(Options {
        questions: initial,
        write_delay: Duration::ZERO,
        per_minute: 5_000,
        stream: true,
    }))?;
    let sb = Sandbox::new(bin, &fake.source_toml("perf"))?;
    let mut tty = sb.tty(&[], 200, 60)?;
    let t0 = Instant::now();
    while fake.stats().listings == 0 && t0.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(1));
    // The Selected pane open, where a pushed question lands: collapsed, its
    // one row shows the question selected before until the platform has
    // answered where that one went (a request of its own).
    tty.keys("\t")?;
    anyhow::ensure!(
        tty.wait_for("▸ Selected", Duration::from_secs(5)),
        "Tab did not open the Selected pane"
    );
    tty.watch("LAT");
    let mut own = Vec::new();
    let mut waited = Vec::new();
    let mut missed = 0;
    let start = Instant::now();
    let mut k = 0;
    while start.elapsed() < window {
        // Asked at a random moment of a push period; pushed at its end.
        let tick = Instant::now() + PUSH_PERIOD;
        std::thread::sleep(PUSH_PERIOD.mul_f64(rng.random_range(0.0..1.0)));
        let created = Instant::now();
        let token = format!("LAT{k:04}Q");
        let mut q = crate::corpus::question(
            &mut rng,
            1_000_000 + k,
            chrono::Utc::now().timestamp_millis(),
        );
        q["id"] = format!("lat{k}").into();
        q["text"] = format!("{token} {}", q["text"].as_str().unwrap_or_default()).into();
        std::thread::sleep(tick.saturating_duration_since(Instant::now()));
        let sent = fake.push_selected(q);
        let end = sent + Duration::from_secs(2);
        let shown = loop {
            let seen = tty
                .screen
                .lock()
                .expect("screen")
                .seen
                .iter()
                .find(|(t, _)| *t == token)
                .map(|(_, at)| *at);
            if seen.is_some() || Instant::now() > end {
                break seen;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        match shown {
            Some(at) => {
                own.push(at.saturating_duration_since(sent).as_secs_f64() * 1e3);
                waited.push((sent - created).as_secs_f64() * 1e3);
            }
            None => missed += 1,
        }
        k += 1;
    }
    tty.stop();
    let n = own.len();
    let note = format!(
        "{n} questions pushed on the stream, {missed} not seen within 2 s; push period here {} ms (PostoBox: 3 s)",
        PUSH_PERIOD.as_millis()
    );
    sheet.set("latency_p50_ms", percentile(&mut own, 0.5), note.clone());
    sheet.set("latency_p99_ms", percentile(&mut own, 0.99), note);
    let wnote = format!(
        "server side: asked → pushed, uniform over the {} ms push period",
        PUSH_PERIOD.as_millis()
    );
    sheet.set(
        "push_wait_p50_ms",
        percentile(&mut waited, 0.5),
        wnote.clone(),
    );
    sheet.set("push_wait_p99_ms", percentile(&mut waited, 0.99), wnote);
    Ok(())
}
