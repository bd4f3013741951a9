//! The audit journal: one line per transition of an action (queued, first
//! retry, confirmed, failed, dropped), written in the same transaction as
//! the outbox change it records. Retries after the first are counted on the
//! retry line rather than logged each, so an outage cannot fill the journal.

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
    /// Serialized as RFC 3339 (UTC, milliseconds).
    #[serde(serialize_with = "rfc3339")]
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
    /// On a `retrying` line: the retries after the first, with `detail` the
    /// latest reason; on a final line: the failed attempts before it.
    pub retries: u32,
}

fn rfc3339<S: serde::Serializer>(at: &Millis, s: S) -> std::result::Result<S::Ok, S::Error> {
    match chrono::DateTime::from_timestamp_millis(*at) {
        Some(t) => s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        None => s.serialize_none(),
    }
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
        match (self.outcome, self.retries) {
            (_, 0) => {}
            (JournalOutcome::Retrying, n) => write!(f, "  [{n} more retries]")?,
            (_, n) => write!(f, "  [after {n} failed attempts]")?,
        }
        Ok(())
    }
}

impl Store {
    /// The newest `limit` journal lines, oldest first.
    pub fn journal(&self, limit: usize) -> Result<Vec<JournalEntry>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT at, actor, source, event, op_id, action, target, outcome, detail, retries FROM
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
                retries: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl Store {
    /// The confirmed actions on one source's event, by target (question
    /// id), oldest first: a question's history as this machine took part
    /// in it (exports).
    pub fn confirmed_by_target(
        &self,
        source: &str,
        event: &str,
    ) -> Result<std::collections::HashMap<String, Vec<JournalEntry>>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT at, actor, source, event, op_id, action, target, detail, retries FROM journal
             WHERE source = ?1 AND event = ?2 AND outcome = 'confirmed' AND target IS NOT NULL
             ORDER BY id",
        )?;
        let rows = stmt.query_map(params![source, event], |r| {
            Ok(JournalEntry {
                at: r.get(0)?,
                actor: r.get(1)?,
                source: r.get(2)?,
                event: r.get(3)?,
                op_id: r.get(4)?,
                action: r.get(5)?,
                target: r.get(6)?,
                outcome: JournalOutcome::Confirmed,
                detail: r.get(7)?,
                retries: r.get(8)?,
            })
        })?;
        let mut out: std::collections::HashMap<String, Vec<JournalEntry>> = Default::default();
        for e in rows {
            let e = e?;
            if let Some(t) = e.target.clone() {
                out.entry(t).or_default().push(e);
            }
        }
        Ok(out)
    }
}

/// Writes one journal line for an outbox row; `actor` overrides the row's
/// actor (whoever retried or dropped it). A final line carries the row's
/// failed attempts.
pub(super) fn write_journal(
    tx: &Transaction<'_>,
    op_id: &str,
    at: Millis,
    actor: Option<&str>,
    outcome: JournalOutcome,
    detail: &str,
) -> Result<()> {
    let final_line = matches!(outcome, JournalOutcome::Confirmed | JournalOutcome::Failed);
    tx.execute(
        "INSERT INTO journal (at, actor, source, event, op_id, action, target, outcome, detail, retries)
         SELECT ?2, COALESCE(?3, actor), source, event, op_id, action, target, ?4, ?5,
                CASE WHEN ?6 THEN attempts ELSE 0 END
         FROM outbox WHERE op_id = ?1",
        params![op_id, at, actor, outcome.as_str(), clean(detail), final_line],
    )?;
    Ok(())
}

/// Journals a transient failure: the first since the action was queued gets
/// its own line; later ones bump that line's count and latest reason.
pub(super) fn journal_retry(
    tx: &Transaction<'_>,
    op_id: &str,
    at: Millis,
    detail: &str,
) -> Result<()> {
    let bumped = tx.execute(
        "UPDATE journal SET retries = retries + 1, detail = ?2
         WHERE id = (SELECT MAX(id) FROM journal WHERE op_id = ?1)
           AND outcome = 'retrying'",
        params![op_id, clean(detail)],
    )?;
    if bumped == 0 {
        write_journal(tx, op_id, at, None, JournalOutcome::Retrying, detail)?;
    }
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
        ready(store.claim("a", "ev", "w", || 0, 1000, 1).unwrap());
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
        assert_eq!(json["at"], "1970-01-01T00:00:00.001Z");
    }
}

#[cfg(test)]
mod retry_tests {
    use super::super::tests::{new_op, ready};
    use super::*;

    #[test]
    fn an_outage_is_one_retry_line_with_a_count() {
        let store = Store::open_in_memory().unwrap();
        store.enqueue(&new_op("a1", "a", 0)).unwrap();
        for n in 0..50 {
            ready(store.claim("a", "ev", "w", || n * 10, 5, 1).unwrap());
            let reason = format!("network error #{n}");
            store
                .retry_later("a1", "w", n * 10 + 10, &reason, n * 10)
                .unwrap();
        }
        ready(store.claim("a", "ev", "w", || 1000, 5, 1).unwrap());
        store.complete("a1", "w", "approved", 1001).unwrap();
        let journal = store.journal(200).unwrap();
        let outcomes: Vec<_> = journal.iter().map(|e| (e.outcome, e.retries)).collect();
        assert_eq!(outcomes, [(Queued, 0), (Retrying, 49), (Confirmed, 50)]);
        let history = store.confirmed_by_target("a", "ev").unwrap();
        let lines: Vec<_> = history["q-a1"].iter().map(|e| e.action.as_str()).collect();
        assert_eq!(lines, ["approve"]);
        assert!(store.confirmed_by_target("a", "other").unwrap().is_empty());
        assert_eq!(journal[1].detail, "network error #49");
        assert_eq!(
            journal[1].at, 0,
            "the line keeps the time of the first retry"
        );
        assert!(
            journal[1].to_string().ends_with("[49 more retries]"),
            "{}",
            journal[1]
        );
        // After a failure and the moderator's retry, a new count starts.
        store.enqueue(&new_op("b1", "b", 0)).unwrap();
        ready(store.claim("b", "ev", "w", || 0, 5, 1).unwrap());
        store.retry_later("b1", "w", 1, "down", 0).unwrap();
        ready(store.claim("b", "ev", "w", || 1, 5, 1).unwrap());
        store.fail("b1", "w", "forbidden", 2).unwrap();
        store.requeue("b1", "bob", 3).unwrap();
        ready(store.claim("b", "ev", "w", || 3, 5, 1).unwrap());
        store.retry_later("b1", "w", 4, "down again", 3).unwrap();
        let b: Vec<_> = store
            .journal(200)
            .unwrap()
            .into_iter()
            .filter(|e| e.op_id == "b1")
            .map(|e| (e.outcome, e.retries))
            .collect();
        use JournalOutcome::*;
        assert_eq!(
            b,
            [
                (Queued, 0),
                (Retrying, 0),
                (Failed, 2),
                (Queued, 0),
                (Retrying, 0)
            ]
        );
    }
}
