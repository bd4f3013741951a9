//! Participants across providers: the bulk import (`people import FILE.csv`)
//! and the NDJSON shape of `people list --json`.
//!
//! `csv` reads the file into rows, `import` adds them to a platform one at a
//! time, `outcome` says what happened to each row, and `json` is the machine
//! shape of one participant.

mod csv;
mod import;
mod json;
mod outcome;

pub use self::csv::{CsvError, ImportRow, RowError, parse_csv};
pub use self::import::{Pace, import, import_with};
pub use self::json::participant_json;
pub use self::outcome::{RowOutcome, RowStatus, Summary};
