//! `dup_us_1000`, `dup_us_100000`: what duplicate grouping costs per
//! arriving question with 1,000 and 100,000 held.
//!
//! The grouping engine (`qadeck::triage::dup`, issue 14) has no index to
//! feed arrivals to on this branch, so both figures print "n/a" rather than
//! a number that measures something else. To wire it: build the engine's
//! index over `crate::corpus::questions(n)` texts, then time adding one
//! more question (a fresh text from `corpus::question`) to it, median of a
//! few hundred arrivals, and `sheet.set` each figure with that time in µs.

use crate::figure::Sheet;

pub fn run(sheet: &mut Sheet) {
    for name in ["dup_us_1000", "dup_us_100000"] {
        sheet.set(
            name,
            None,
            "no grouping index in qadeck::triage::dup on this branch yet",
        );
    }
}
