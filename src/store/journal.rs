//! The audit journal: one line per step of an action (queued, confirmed,
//! retrying, failed, dropped), written in the same transaction as the
//! outbox change it records.

use super::{Result, Store, bad_text, clean};
use crate::domain::Millis;
use rusqlite::{Transaction, params};
use serde::{Deserialize, Serialize};

/// How an action stood when a journal line was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JournalOutcome {
    Queued,
    Confirmed,
    Retrying,
    Failed,
    Dropped,
}

impl JournalOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            JournalOutcome::Queued => "queued",
            JournalOutcome::Confirmed => "confirmed",
            JournalOutcome::Retrying => "retrying",
            JournalOutcome::Failed => "failed",
            JournalOutcome::Dropped => "dropped",
        }
    }

    fn parse(s: &str) -> Option<JournalOutcome> {
        use JournalOutcome::*;
        [Queued, Confirmed, Retrying, Failed, Dropped]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// One line of the audit journal. Text fields are sanitized and redacted
/// when written, so they are safe to print and to hand to other tools.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalEntry {
    pub at: Millis,
    pub actor: String,
    pub source: String,
    pub event: String,
    pub op_id: String,
    /// [`Op::label`] of the action.
    pub action: String,
    /// [`Op::target`] of the action.
    pub target: Option<String>,
    pub outcome: JournalOutcome,
    pub detail: String,
}

impl std::fmt::Display for JournalEntry {
    /// One line for `qadeck journal`: UTC time, outcome, who, where, what.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = chrono::DateTime::from_timestamp_millis(self.at)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| self.at.to_string());
        write!(
            f,
            "{at}  {:<9}  {}  {}/{}  {}",
            self.outcome.as_str(),
            self.actor,
            self.source,
            self.event,
            self.action
        )?;
        if let Some(target) = &self.target {
            write!(f, " {target}")?;
        }
        if !self.detail.is_empty() {
            write!(f, "  ({})", self.detail)?;
        }
        Ok(())
    }
}

impl Store {
    /// The newest `limit` journal lines, oldest first.
    pub fn journal(&self, limit: usize) -> Result<Vec<JournalEntry>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT at, actor, source, event, op_id, action, target, outcome, detail FROM
                 (SELECT * FROM journal ORDER BY id DESC LIMIT ?1)
             ORDER BY id",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![limit], |r| {
            let outcome: String = r.get(7)?;
            Ok(JournalEntry {
                at: r.get(0)?,
                actor: r.get(1)?,
                source: r.get(2)?,
                event: r.get(3)?,
                op_id: r.get(4)?,
                action: r.get(5)?,
                target: r.get(6)?,
                outcome: JournalOutcome::parse(&outcome).ok_or_else(|| bad_text(7, &outcome))?,
                detail: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Writes one journal line for an outbox row; `actor` overrides the row's
/// actor (whoever retried or dropped it).
pub(super) fn write_journal(
    tx: &Transaction<'_>,
    op_id: &str,
    at: Millis,
    actor: Option<&str>,
    outcome: JournalOutcome,
    detail: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO journal (at, actor, source, event, op_id, action, target, outcome, detail)
         SELECT ?2, COALESCE(?3, actor), source, event, op_id, action, target, ?4, ?5
         FROM outbox WHERE op_id = ?1",
        params![op_id, at, actor, outcome.as_str(), clean(detail)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{new_op, ready};
    use super::*;

    #[test]
    fn journal_is_redacted_sanitized_and_limited() {
        crate::secret::register("sk_store_test_secret");
        let store = Store::open_in_memory().unwrap();
        store.enqueue(&new_op("a1", "a", 0)).unwrap();
        ready(store.claim_next("a", "ev", "w", 0, 1000).unwrap());
        let reason = "forbidden: key sk_store_test_secret\x1b[31m lacks scope\nline two";
        store.fail("a1", "w", reason, 1).unwrap();
        let entry = store.journal(1).unwrap().remove(0);
        assert_eq!(entry.outcome, JournalOutcome::Failed);
        assert!(
            !entry.detail.contains("sk_store_test_secret"),
            "{}",
            entry.detail
        );
        assert!(entry.detail.contains("[redacted]"));
        assert!(crate::text::is_terminal_safe(&entry.detail) && !entry.detail.contains('\n'));
        let kept = store.failed(None).unwrap().remove(0).last_error.unwrap();
        assert_eq!(kept, entry.detail);
        assert_eq!(store.journal(5).unwrap().len(), 2);
        let line = entry.to_string();
        assert!(
            line.starts_with(
                "1970-01-01T00:00:00Z  failed     alice  a/ev  approve q-a1  (forbidden"
            ),
            "{line}"
        );
        let json = serde_json::to_value(&entry).unwrap();
        assert_eq!(json["outcome"], "failed");
    }
}
