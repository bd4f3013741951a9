//! The outbox: every moderation action is written here before it is sent.
//! Rows are never deleted: a finished row keeps its final state (`done`,
//! `failed`, `dropped`), which also makes enqueueing idempotent.
//!
//! Delivery is strictly FIFO per source, so "approve, then mark answered"
//! never reaches a platform in the other order. Cross-process safety comes
//! from leases taken inside `BEGIN IMMEDIATE` transactions: only one worker
//! holds the head of a source's queue at a time, and only the lease holder
//! may record its outcome.

use super::journal::{JournalOutcome, journal_retry, write_journal};
use super::{Result, Store, StoreError, bad_text, clean};
use crate::domain::{Millis, Op};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

const OUTBOX_COLS: &str =
    "op_id, source, event, op, actor, created, state, attempts, not_before, last_error";

/// An action to put into the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOp {
    /// Unique per action; enqueueing the same id again does nothing.
    pub op_id: String,
    /// The source's name from the config.
    pub source: String,
    pub event: String,
    pub op: Op,
    /// Who took the action (the moderator's name).
    pub actor: String,
    pub created: Millis,
}

/// Where an outbox row is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpState {
    /// Waiting for delivery (possibly in flight or backing off).
    Queued,
    /// Confirmed by the platform.
    Done,
    /// Refused permanently; waits for the moderator to retry or drop it.
    Failed,
    /// Dropped by the moderator after a failure.
    Dropped,
}

impl OpState {
    fn as_str(self) -> &'static str {
        match self {
            OpState::Queued => "queued",
            OpState::Done => "done",
            OpState::Failed => "failed",
            OpState::Dropped => "dropped",
        }
    }

    fn parse(s: &str) -> Option<OpState> {
        [
            OpState::Queued,
            OpState::Done,
            OpState::Failed,
            OpState::Dropped,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// One action in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub op_id: String,
    pub source: String,
    pub event: String,
    pub op: Op,
    pub actor: String,
    pub created: Millis,
    pub state: OpState,
    /// Failed attempts so far (reset when the moderator retries).
    pub attempts: u32,
    /// Not to be sent before this time (backoff, `Retry-After`).
    pub not_before: Millis,
    /// The last error, redacted; for a failed op, the reason shown.
    pub last_error: Option<String>,
}

/// What [`Store::claim_next`] found at the head of a source's queue.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The head action, now leased to the caller.
    Ready(Box<OutboxRow>),
    /// The head is backing off or leased by another worker until this time.
    Wait(Millis),
    /// Nothing queued for this source.
    Empty,
}

impl Store {
    /// Puts an action into the outbox and journals it as queued, in one
    /// transaction. Enqueueing an `op_id` that is already known does nothing.
    pub fn enqueue(&self, new: &NewOp) -> Result<()> {
        let op_json = serde_json::to_string(&new.op)?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO outbox
                 (op_id, seq, source, event, op, action, target, actor, created, state, not_before)
             VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox),
                     ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', ?8)",
            params![
                new.op_id,
                new.source,
                new.event,
                op_json,
                new.op.label(),
                new.op.target().map(clean),
                clean(&new.actor),
                new.created,
            ],
        )?;
        if inserted == 1 {
            write_journal(
                &tx,
                &new.op_id,
                new.created,
                None,
                JournalOutcome::Queued,
                "",
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Leases the head of `source`'s queue to `owner` for `lease_ms`, if it
    /// is due and nobody else holds a valid lease on it. Only the head is
    /// ever handed out, so delivery stays in order even across processes;
    /// a valid lease blocks its own owner too, so one claim means one send.
    pub fn claim_next(
        &self,
        source: &str,
        owner: &str,
        now: Millis,
        lease_ms: i64,
    ) -> Result<Claim> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let head = tx
            .query_row(
                &format!(
                    "SELECT {OUTBOX_COLS}, lease_until FROM outbox
                     WHERE source = ?1 AND state = 'queued' ORDER BY seq LIMIT 1"
                ),
                params![source],
                |r| Ok((read_row(r)?, r.get::<_, Option<Millis>>(10)?)),
            )
            .optional()?;
        let Some((row, lease_until)) = head else {
            return Ok(Claim::Empty);
        };
        let blocked_until = lease_until.unwrap_or(Millis::MIN).max(row.not_before);
        if blocked_until > now {
            return Ok(Claim::Wait(blocked_until));
        }
        tx.execute(
            "UPDATE outbox SET lease_owner = ?2, lease_until = ?3 WHERE op_id = ?1",
            params![row.op_id, owner, now.saturating_add(lease_ms)],
        )?;
        tx.commit()?;
        Ok(Claim::Ready(Box::new(row)))
    }

    /// Extends `owner`'s lease while a slow call runs. `false` when the lease
    /// was lost (it expired and another worker took the action).
    pub fn renew(&self, op_id: &str, owner: &str, until: Millis) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE outbox SET lease_until = ?3
             WHERE op_id = ?1 AND state = 'queued' AND lease_owner = ?2",
            params![op_id, owner, until],
        )?;
        Ok(n == 1)
    }

    /// Records the platform's confirmation.
    pub fn complete(
        &self,
        op_id: &str,
        owner: &str,
        outcome_summary: &str,
        now: Millis,
    ) -> Result<()> {
        self.settle(
            op_id,
            "state = 'done'",
            params![op_id, owner],
            now,
            JournalOutcome::Confirmed,
            outcome_summary,
        )
    }

    /// Records a transient failure: the action stays at the head of its
    /// queue and is not tried again before `not_before`.
    pub fn retry_later(
        &self,
        op_id: &str,
        owner: &str,
        not_before: Millis,
        error: &str,
        now: Millis,
    ) -> Result<()> {
        let error = clean(error);
        self.settle(
            op_id,
            "attempts = attempts + 1, not_before = ?3, last_error = ?4",
            params![op_id, owner, not_before, error],
            now,
            JournalOutcome::Retrying,
            &error,
        )
    }

    /// Records a permanent failure; the action is kept for the moderator.
    pub fn fail(&self, op_id: &str, owner: &str, reason: &str, now: Millis) -> Result<()> {
        let reason = clean(reason);
        self.settle(
            op_id,
            "state = 'failed', attempts = attempts + 1, last_error = ?3",
            params![op_id, owner, reason],
            now,
            JournalOutcome::Failed,
            &reason,
        )
    }

    /// Applies a worker's result to the op it holds and journals it; the
    /// lease is released in the same statement. `set` may use `?3`, `?4`
    /// from `args` (after `?1` op_id and `?2` owner).
    fn settle(
        &self,
        op_id: &str,
        set: &str,
        args: impl rusqlite::Params,
        now: Millis,
        outcome: JournalOutcome,
        detail: &str,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            &format!(
                "UPDATE outbox SET {set}, lease_owner = NULL, lease_until = NULL
                 WHERE op_id = ?1 AND state = 'queued' AND lease_owner = ?2"
            ),
            args,
        )?;
        if n == 0 {
            return Err(StoreError::NotLeased(op_id.to_string()));
        }
        if outcome == JournalOutcome::Retrying {
            journal_retry(&tx, op_id, now, detail)?;
        } else {
            write_journal(&tx, op_id, now, None, outcome, detail)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The moderator retries a failed action. It goes to the back of its
    /// source's queue: it is a new decision, taken after what is queued.
    pub fn requeue(&self, op_id: &str, actor: &str, now: Millis) -> Result<()> {
        self.resolve(
            op_id,
            actor,
            now,
            "state = 'queued', attempts = 0, not_before = ?2,
             seq = (SELECT MAX(seq) + 1 FROM outbox)",
            params![op_id, now],
            JournalOutcome::Queued,
        )
    }

    /// The moderator drops a failed action; it stays on record as dropped.
    pub fn discard(&self, op_id: &str, actor: &str, now: Millis) -> Result<()> {
        let set = "state = 'dropped'";
        self.resolve(
            op_id,
            actor,
            now,
            set,
            params![op_id],
            JournalOutcome::Dropped,
        )
    }

    /// Applies the moderator's decision on a failed op and journals it under
    /// the moderator's name.
    /// `set` may use `?2` from `args` (after `?1` op_id).
    fn resolve(
        &self,
        op_id: &str,
        actor: &str,
        now: Millis,
        set: &str,
        args: impl rusqlite::Params,
        outcome: JournalOutcome,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            &format!("UPDATE outbox SET {set} WHERE op_id = ?1 AND state = 'failed'"),
            args,
        )?;
        if n == 0 {
            return Err(StoreError::NotFailed(op_id.to_string()));
        }
        write_journal(&tx, op_id, now, Some(&clean(actor)), outcome, "")?;
        tx.commit()?;
        Ok(())
    }

    /// One action by id, in whatever state it is (for waiting on a result).
    pub fn get(&self, op_id: &str) -> Result<Option<OutboxRow>> {
        self.conn()
            .query_row(
                &format!("SELECT {OUTBOX_COLS} FROM outbox WHERE op_id = ?1"),
                params![op_id],
                read_row,
            )
            .optional()
            .map_err(StoreError::from)
    }

    /// Queued actions in delivery order (to show them in flight at startup).
    pub fn pending(&self, source: Option<&str>) -> Result<Vec<OutboxRow>> {
        self.rows(OpState::Queued, source)
    }

    /// Failed actions awaiting the moderator, oldest first.
    pub fn failed(&self, source: Option<&str>) -> Result<Vec<OutboxRow>> {
        self.rows(OpState::Failed, source)
    }

    fn rows(&self, state: OpState, source: Option<&str>) -> Result<Vec<OutboxRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {OUTBOX_COLS} FROM outbox
             WHERE state = ?1 AND (?2 IS NULL OR source = ?2) ORDER BY seq"
        ))?;
        let rows = stmt.query_map(params![state.as_str(), source], read_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Reads the `OUTBOX_COLS` of a row. An unreadable op is a conversion
/// error of its column, like any other bad value.
fn read_row(r: &Row<'_>) -> rusqlite::Result<OutboxRow> {
    let op: String = r.get(3)?;
    let state: String = r.get(6)?;
    Ok(OutboxRow {
        op_id: r.get(0)?,
        source: r.get(1)?,
        event: r.get(2)?,
        op: serde_json::from_str(&op).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, e.into())
        })?,
        actor: r.get(4)?,
        created: r.get(5)?,
        state: OpState::parse(&state).ok_or_else(|| bad_text(6, &state))?,
        attempts: r.get(7)?,
        not_before: r.get(8)?,
        last_error: r.get(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{new_op, ready};
    use super::*;

    fn outcomes(store: &Store) -> Vec<(String, JournalOutcome)> {
        let journal = store.journal(100).unwrap();
        journal.into_iter().map(|e| (e.op_id, e.outcome)).collect()
    }

    #[test]
    fn enqueue_is_idempotent_and_journaled_once() {
        let store = Store::open_in_memory().unwrap();
        let op = new_op("a", "s", 10);
        store.enqueue(&op).unwrap();
        store.enqueue(&op).unwrap();
        let pending = store.pending(None).unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].op, op.op);
        assert_eq!(pending[0].state, OpState::Queued);
        assert_eq!(
            outcomes(&store),
            [("a".to_string(), JournalOutcome::Queued)]
        );
        let entry = &store.journal(1).unwrap()[0];
        assert_eq!(
            (entry.action.as_str(), entry.target.as_deref()),
            ("approve", Some("q-a"))
        );
        assert_eq!((entry.actor.as_str(), entry.at), ("alice", 10));
    }

    #[test]
    fn only_the_due_unleased_head_of_a_source_is_claimed() {
        let store = Store::open_in_memory().unwrap();
        for (id, source) in [("a1", "a"), ("b1", "b"), ("a2", "a")] {
            store.enqueue(&new_op(id, source, 0)).unwrap();
        }
        let head = ready(store.claim_next("a", "w1", 100, 50).unwrap());
        assert_eq!(head.op_id, "a1");
        // Leased: neither another worker nor the owner itself gets a second claim.
        assert_eq!(
            store.claim_next("a", "w2", 120, 50).unwrap(),
            Claim::Wait(150)
        );
        assert_eq!(
            store.claim_next("a", "w1", 120, 50).unwrap(),
            Claim::Wait(150)
        );
        // Other sources are independent.
        assert_eq!(
            ready(store.claim_next("b", "w2", 120, 50).unwrap()).op_id,
            "b1"
        );
        // The lease expired: another worker takes the head over, and the old
        // owner can no longer record a result.
        assert_eq!(
            ready(store.claim_next("a", "w2", 151, 50).unwrap()).op_id,
            "a1"
        );
        assert!(matches!(
            store.complete("a1", "w1", "done", 160),
            Err(StoreError::NotLeased(_))
        ));
        assert!(!store.renew("a1", "w1", 500).unwrap());
        assert!(store.renew("a1", "w2", 500).unwrap());
        store.complete("a1", "w2", "done", 160).unwrap();
        assert_eq!(
            ready(store.claim_next("a", "w1", 170, 50).unwrap()).op_id,
            "a2"
        );
        store.complete("a2", "w1", "done", 171).unwrap();
        assert_eq!(store.claim_next("a", "w1", 172, 50).unwrap(), Claim::Empty);
        assert_eq!(store.get("a1").unwrap().unwrap().state, OpState::Done);
    }

    #[test]
    fn retry_later_backs_off_the_head_and_blocks_the_queue() {
        let store = Store::open_in_memory().unwrap();
        store.enqueue(&new_op("a1", "a", 0)).unwrap();
        store.enqueue(&new_op("a2", "a", 0)).unwrap();
        ready(store.claim_next("a", "w", 0, 1000).unwrap());
        store
            .retry_later("a1", "w", 500, "network error: down", 10)
            .unwrap();
        // The lease is released, but a2 must not overtake a1.
        assert_eq!(
            store.claim_next("a", "w", 499, 1000).unwrap(),
            Claim::Wait(500)
        );
        let again = ready(store.claim_next("a", "w", 500, 1000).unwrap());
        assert_eq!((again.op_id.as_str(), again.attempts), ("a1", 1));
        assert_eq!(again.last_error.as_deref(), Some("network error: down"));
        let journal = store.journal(10).unwrap();
        assert_eq!(journal[2].outcome, JournalOutcome::Retrying);
        assert_eq!(journal[2].detail, "network error: down");
    }

    #[test]
    fn failed_ops_are_kept_until_retried_or_dropped() {
        let store = Store::open_in_memory().unwrap();
        for id in ["a1", "a2", "a3"] {
            store.enqueue(&new_op(id, "a", 0)).unwrap();
        }
        ready(store.claim_next("a", "w", 0, 1000).unwrap());
        store.fail("a1", "w", "not found: question", 5).unwrap();
        let failed = store.failed(Some("a")).unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].last_error.as_deref(), Some("not found: question"));
        assert!(store.failed(Some("b")).unwrap().is_empty());
        // A failure does not block the queue; a retried op goes to the back.
        store.requeue("a1", "bob", 6).unwrap();
        let order: Vec<String> = store
            .pending(Some("a"))
            .unwrap()
            .into_iter()
            .map(|r| r.op_id)
            .collect();
        assert_eq!(order, ["a2", "a3", "a1"]);
        assert_eq!(store.get("a1").unwrap().unwrap().attempts, 0);
        // Only failed ops can be retried or dropped.
        assert!(matches!(
            store.requeue("a1", "bob", 7),
            Err(StoreError::NotFailed(_))
        ));
        assert!(matches!(
            store.discard("a2", "bob", 7),
            Err(StoreError::NotFailed(_))
        ));
        ready(store.claim_next("a", "w", 7, 1000).unwrap());
        store.fail("a2", "w", "forbidden", 8).unwrap();
        store.discard("a2", "bob", 9).unwrap();
        assert!(store.failed(None).unwrap().is_empty());
        assert_eq!(store.get("a2").unwrap().unwrap().state, OpState::Dropped);
        let journal = store.journal(100).unwrap();
        let last = journal.last().unwrap();
        assert_eq!(
            (last.op_id.as_str(), last.outcome, last.actor.as_str()),
            ("a2", JournalOutcome::Dropped, "bob")
        );
        let requeued = journal
            .iter()
            .find(|e| e.op_id == "a1" && e.actor == "bob")
            .unwrap();
        assert_eq!(requeued.outcome, JournalOutcome::Queued);
        // Dropped ops stay dropped: enqueueing the same id again is a no-op.
        store.enqueue(&new_op("a2", "a", 10)).unwrap();
        assert_eq!(store.get("a2").unwrap().unwrap().state, OpState::Dropped);
    }
}
