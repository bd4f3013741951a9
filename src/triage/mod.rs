//! Triage: the pure engines behind duplicate groups, rules and search.
//! They take text and facts in and give decisions out; no state of the
//! core, no clock, no IO. The core (`app`) and the config (`config`, to
//! check rules with file and line) use them.

pub mod dup;
pub mod fold;
pub mod rules;
pub mod search;
