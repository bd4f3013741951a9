//! What happened to each row of a `people import`: one [`RowOutcome`] per
//! CSV line (printed as it is known, or as an NDJSON `import_row` line) and
//! the [`Summary`] counts at the end.

use serde_json::{Value, json};

/// What happened to one row.
#[derive(Debug, Clone, PartialEq)]
pub enum RowStatus {
    /// Added; the platform's id.
    Added { id: String },
    /// Already on the platform (same e-mail or external key).
    Exists { id: String },
    /// Repeats an earlier line of the same file.
    Duplicate { line: u64 },
    /// The row itself is wrong (reported, not sent).
    Invalid { reason: String },
    /// The platform refused it or could not be reached.
    Failed { error: String },
    /// Not attempted because the import stopped earlier.
    Skipped { reason: String },
}

impl RowStatus {
    pub fn kind(&self) -> &'static str {
        match self {
            RowStatus::Added { .. } => "added",
            RowStatus::Exists { .. } => "exists",
            RowStatus::Duplicate { .. } => "duplicate",
            RowStatus::Invalid { .. } => "invalid",
            RowStatus::Failed { .. } => "failed",
            RowStatus::Skipped { .. } => "skipped",
        }
    }
}

/// The outcome of one CSV line.
#[derive(Debug, Clone, PartialEq)]
pub struct RowOutcome {
    pub line: u64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub status: RowStatus,
    /// Calls made for this row beyond the first (429s and retries).
    pub retries: u32,
}

impl RowOutcome {
    /// `{"type":"import_row", "line", "status", ...}` for `--json`.
    pub fn json(&self) -> Value {
        let mut v = json!({
            "type": "import_row",
            "line": self.line,
            "status": self.status.kind(),
            "name": self.name,
            "email": self.email,
            "retries": self.retries,
        });
        let extra = match &self.status {
            RowStatus::Added { id } | RowStatus::Exists { id } => ("id", json!(id)),
            RowStatus::Duplicate { line } => ("first_line", json!(line)),
            RowStatus::Invalid { reason } | RowStatus::Skipped { reason } => {
                ("reason", json!(reason))
            }
            RowStatus::Failed { error } => ("error", json!(error)),
        };
        v[extra.0] = extra.1;
        v
    }
}

impl std::fmt::Display for RowOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = self.email.as_deref().or(self.name.as_deref()).unwrap_or("");
        write!(f, "line {}: ", self.line)?;
        match &self.status {
            RowStatus::Added { id } => write!(f, "added {who} ({id})"),
            RowStatus::Exists { id } => write!(f, "{who} already there ({id}), skipped"),
            RowStatus::Duplicate { line } => write!(f, "{who} repeats line {line}, skipped"),
            RowStatus::Invalid { reason } => write!(f, "invalid: {reason}"),
            RowStatus::Failed { error } => write!(f, "{who} failed: {error}"),
            RowStatus::Skipped { reason } => write!(f, "{who} not attempted: {reason}"),
        }
    }
}

/// Counts by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub added: usize,
    pub exists: usize,
    pub duplicate: usize,
    pub invalid: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Summary {
    pub fn of(outcomes: &[RowOutcome]) -> Summary {
        let mut s = Summary::default();
        for o in outcomes {
            match o.status {
                RowStatus::Added { .. } => s.added += 1,
                RowStatus::Exists { .. } => s.exists += 1,
                RowStatus::Duplicate { .. } => s.duplicate += 1,
                RowStatus::Invalid { .. } => s.invalid += 1,
                RowStatus::Failed { .. } => s.failed += 1,
                RowStatus::Skipped { .. } => s.skipped += 1,
            }
        }
        s
    }

    /// Whether every row is on the platform or was a duplicate line.
    pub fn all_ok(&self) -> bool {
        self.invalid + self.failed + self.skipped == 0
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} added, {} already there, {} repeated, {} invalid, {} failed, {} not attempted",
            self.added, self.exists, self.duplicate, self.invalid, self.failed, self.skipped
        )
    }
}
