//! The figure sheet of issue 15: every speed and memory figure of qadeck,
//! each measured for real, with its target and pass/fail.
//!
//! ```text
//! cargo build --release --bin qadeck       # the child-process figures run it
//! cargo run --release --example perf -- [--quick] [--json]
//! ```
//!
//! In process: `ingest` (provider parsing + core), `frame` (drawing through
//! the real sync-output backend; key presses). As children of this program,
//! against local fakes: `rss` (`qadeck watch` holding 100,000), `idle` and
//! `tty` (the TUI in a pty), `latency` (the TUI following a PostoBox
//! stream), `drain` (a backlog of 1,000 actions), `overload` (`demo
//! --headless` at a million a second). In process too: `dup` (the
//! duplicate index's cost per arrival).
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark program that prints its figures"
)]

mod child;
mod clock;
mod corpus;
mod drain;
mod dup;
mod fake;
mod figure;
mod frame;
mod idle;
mod ingest;
mod latency;
mod overload;
mod rss;
mod tty;

use figure::Sheet;
use std::time::Instant;

/// The allocator qadeck runs with (`src/main.rs`), so the in-process
/// figures time what the program does.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const USAGE: &str = "usage: cargo run --release --example perf -- [--quick] [--json] [--only PARTS]
  --quick        shorter windows (under 90 s on two cores)
  --json         one JSON object on stdout instead of the table
  --only PARTS   some parts, comma-separated: ingest, frame, dup, rss, idle, latency, tty, drain, overload";

const PARTS: [&str; 9] = [
    "ingest", "frame", "dup", "rss", "idle", "latency", "tty", "drain", "overload",
];

/// Runs one part's measurement unless `--only` leaves it out; a failure
/// becomes its figures' note.
fn attempt(
    sheet: &mut Sheet,
    only: &Option<Vec<String>>,
    part: &str,
    names: &[&'static str],
    what: &str,
    run: impl FnOnce(&mut Sheet) -> anyhow::Result<()>,
) {
    if only.as_ref().is_some_and(|o| !o.iter().any(|p| p == part)) {
        return;
    }
    let t = Instant::now();
    eprintln!("perf: {what} …");
    if let Err(e) = run(sheet) {
        for name in names {
            sheet.set(name, None, format!("failed: {e:#}"));
        }
    }
    eprintln!("perf: {what} done in {:.1} s", t.elapsed().as_secs_f64());
}

fn main() -> anyhow::Result<()> {
    let (mut quick, mut json, mut only) = (false, false, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--json" => json = true,
            "--only" => {
                let parts: Vec<String> = args
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(|p| p.trim().to_string())
                    .collect();
                if let Some(bad) = parts.iter().find(|p| !PARTS.contains(&p.as_str())) {
                    anyhow::bail!("unknown part `{bad}` for --only\n{USAGE}");
                }
                only = Some(parts);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument `{other}`\n{USAGE}"),
        }
    }
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut sheet = Sheet::default();
    let questions = corpus::questions(100_000);
    let pages = corpus::pages(&questions);

    attempt(&mut sheet, &only, "ingest", &[], "ingest", |s| {
        ingest::run(s, &pages, quick);
        Ok(())
    });
    attempt(&mut sheet, &only, "frame", &[], "frames and keys", |s| {
        frame::run(s, &pages, quick);
        Ok(())
    });
    drop(pages);
    attempt(&mut sheet, &only, "dup", &[], "duplicate grouping", |s| {
        dup::run(s);
        Ok(())
    });

    let bin = child::binary();
    match &bin {
        Ok(bin) => {
            eprintln!("perf: running {}", bin.display());
            attempt(
                &mut sheet,
                &only,
                "rss",
                &["rss_mb_100000"],
                "memory at 100,000",
                |s| rt.block_on(rss::run(s, bin, questions)),
            );
            attempt(&mut sheet, &only, "idle", &["idle_cpu_pct"], "idle", |s| {
                idle::run(s, bin, quick)
            });
            attempt(
                &mut sheet,
                &only,
                "latency",
                &[
                    "latency_p50_ms",
                    "latency_p99_ms",
                    "push_wait_p50_ms",
                    "push_wait_p99_ms",
                ],
                "arrival latency",
                |s| latency::run(s, &rt, bin, quick),
            );
            attempt(
                &mut sheet,
                &only,
                "tty",
                &["tty_bytes_per_s"],
                "terminal bytes",
                |s| tty::run(s, bin, quick),
            );
            attempt(
                &mut sheet,
                &only,
                "drain",
                &["drain_per_s_rtt100"],
                "backlog drain",
                |s| rt.block_on(drain::run(s, bin, quick)),
            );
            attempt(
                &mut sheet,
                &only,
                "overload",
                &["overload_wall_s", "overload_rss_mb"],
                "overload",
                |s| overload::run(s, bin, quick),
            );
        }
        Err(why) => {
            eprintln!("perf: {why}; the figures that run the binary are n/a");
            for (name, _, _) in figure::FIGURES {
                if sheet.get(name).is_none() && !name.starts_with("dup_") {
                    sheet.set(name, None, why.clone());
                }
            }
        }
    }
    eprintln!(
        "perf: all figures in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    if json {
        println!("{}", sheet.json(quick));
    } else {
        print!("{}", sheet.table(quick));
    }
    Ok(())
}
