//! `dup_us_1000`, `dup_us_100000`: what duplicate grouping costs per
//! arriving question with 1,000 and 100,000 held — the engine's own index
//! (`qadeck::triage::dup::Index`), fed the sheet's realistic texts.

use crate::clock::Clock;
use crate::corpus;
use crate::figure::Sheet;
use qadeck::triage::dup::Index;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Arrivals timed on top of the held questions (the median is reported).
const ARRIVALS: usize = 400;

pub fn run(sheet: &mut Sheet) {
    for (name, held) in [("dup_us_1000", 1_000), ("dup_us_100000", 100_000)] {
        let (median, bytes) = per_arrival(held);
        sheet.set(
            name,
            Some(median),
            format!(
                "median of {ARRIVALS} arrivals into an index of {held} ({} B a question)",
                bytes / held.max(1)
            ),
        );
    }
}

/// The median cost of one arrival (µs) with `held` questions indexed, and
/// the index's heap bytes.
fn per_arrival(held: usize) -> (f64, usize) {
    let mut index = Index::new();
    let texts = corpus::questions(held + ARRIVALS);
    let text = |i: usize| texts[i]["text"].as_str().unwrap_or_default().to_string();
    for i in 0..held {
        index.insert(i as u32, &text(i));
    }
    let bytes = index.heap_bytes();
    let clock = Clock::new();
    let mut rng = SmallRng::seed_from_u64(14);
    let mut times: Vec<f64> = (held..held + ARRIVALS)
        .map(|i| {
            // Some arrivals repeat a held question in other words.
            let t = if rng.random_bool(0.2) {
                format!("{}?", text(i - held).to_uppercase())
            } else {
                text(i)
            };
            let start = clock.now();
            index.insert(i as u32, &t);
            (clock.now() - start).as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], bytes)
}
