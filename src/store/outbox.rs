//! The outbox: every moderation action is written here before it is sent.
//! Rows are never deleted: a finished row keeps its final state (`done`,
//! `failed`, `dropped`), which also makes enqueueing idempotent.
//!
//! Each source and event has its own queue, and an action is only ever
//! handed to a worker bound to the event it was taken on. Inside a queue,
//! each row belongs to a chain (`item`, from [`Op::order_key`]: one per
//! question, one for chat, …). A chain is delivered strictly in order, so
//! "approve, then mark answered" never reaches a platform the other way
//! round; only the head of each chain is ever handed out, and different
//! chains may be in flight side by side. Cross-process safety comes from
//! leases taken inside `BEGIN IMMEDIATE` transactions: a row is held by one
//! worker at a time, and only the lease holder may record its outcome.

use super::journal::{JournalOutcome, journal_retry, write_journal};
use super::{Result, Store, StoreError, bad_text, clean};
use crate::domain::{Millis, Op};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

const OUTBOX_COLS: &str =
    "op_id, source, event, op, actor, created, state, attempts, not_before, last_error, claims";

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
    /// Why, on the journal's queued line (a merge names the kept question).
    pub note: Option<String>,
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
    /// Dropped by the moderator (failed, or given up while waiting).
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
    /// Times a worker took the action before (for a claimed row: before
    /// this claim). Non-zero means an earlier attempt may have reached the
    /// platform, whatever it recorded: a lease can expire mid-send and a
    /// process can die before it writes the answer.
    pub claims: u32,
}

/// Queued actions of one source and event, for "N actions waiting for
/// event X".
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub source: String,
    pub event: String,
    pub count: usize,
}

/// What [`Store::claim`] found at the heads of a source's chains.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// Heads now leased to the caller, in queue order (at least one).
    Ready(Vec<OutboxRow>),
    /// Every head is backing off or leased until at least this time.
    Wait(Millis),
    /// Nothing queued for this source and event.
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
                 (op_id, seq, source, event, op, action, target, actor, created, state, not_before,
                  item)
             VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox),
                     ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', ?8, ?9)",
            params![
                new.op_id,
                new.source,
                new.event,
                op_json,
                new.op.label(),
                new.op.target().map(clean),
                clean(&new.actor),
                new.created,
                new.op.order_key(),
            ],
        )?;
        if inserted == 1 {
            write_journal(
                &tx,
                &new.op_id,
                new.created,
                None,
                JournalOutcome::Queued,
                &clean(new.note.as_deref().unwrap_or_default()),
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Leases up to `max` chain heads of `source`'s queue for `event` to
    /// `owner` for `lease_ms`: heads that are due and that nobody holds a
    /// valid lease on, oldest first. A row waits while an earlier row of its
    /// chain is queued (in flight, backing off or due), so each chain stays
    /// in order even across processes; a row without a chain (queued before
    /// chains existed) waits for every earlier row and holds back every
    /// later one. A valid lease blocks its own owner too, so one claim means
    /// one send. Actions of the source's other events are never handed out
    /// here: they wait for a worker of their own event. The time is read
    /// once the write lock is held (`now`), so a claim that waited for
    /// another process never writes a lease that has already run out.
    pub fn claim(
        &self,
        source: &str,
        event: &str,
        owner: &str,
        now: impl Fn() -> Millis,
        lease_ms: i64,
        max: usize,
    ) -> Result<Claim> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = now();
        let mut ready = Vec::new();
        let mut wait: Option<Millis> = None;
        {
            // Three probes of `outbox_item_head` / `outbox_event_head` per
            // row, never a scan of what is queued before it.
            let mut heads = tx.prepare_cached(&format!(
                "SELECT {OUTBOX_COLS}, lease_until FROM outbox r
                 WHERE source = ?1 AND event = ?2 AND state = 'queued'
                   AND NOT EXISTS (SELECT 1 FROM outbox o
                       WHERE o.source = ?1 AND o.event = ?2 AND o.state = 'queued'
                         AND o.item = r.item AND o.seq < r.seq)
                   AND NOT EXISTS (SELECT 1 FROM outbox o
                       WHERE o.source = ?1 AND o.event = ?2 AND o.state = 'queued'
                         AND o.item IS NULL AND o.seq < r.seq)
                   AND (r.item IS NOT NULL OR NOT EXISTS (SELECT 1 FROM outbox o
                       WHERE o.source = ?1 AND o.event = ?2 AND o.state = 'queued'
                         AND o.seq < r.seq))
                 ORDER BY seq"
            ))?;
            let mut rows = heads.query(params![source, event])?;
            while ready.len() < max
                && let Some(r) = rows.next()?
            {
                let row = read_row(r)?;
                let lease_until: Option<Millis> = r.get(11)?;
                let blocked_until = lease_until.unwrap_or(Millis::MIN).max(row.not_before);
                if blocked_until > now {
                    wait = Some(wait.map_or(blocked_until, |w| w.min(blocked_until)));
                } else {
                    ready.push(row);
                }
            }
        }
        if ready.is_empty() {
            return Ok(wait.map_or(Claim::Empty, Claim::Wait));
        }
        for row in &ready {
            tx.execute(
                "UPDATE outbox SET lease_owner = ?2, lease_until = ?3, claims = claims + 1
                 WHERE op_id = ?1",
                params![row.op_id, owner, now.saturating_add(lease_ms)],
            )?;
        }
        tx.commit()?;
        Ok(Claim::Ready(ready))
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

    /// The moderator retries an action now. A failed one goes to the back
    /// of its queue: it is a new decision, taken after what is queued. A
    /// queued one (backing off, e.g. behind a long `Retry-After`) keeps its
    /// place and becomes due at once; if a worker is sending it right now,
    /// its lease stands, so it is not sent twice.
    pub fn requeue(&self, op_id: &str, actor: &str, now: Millis) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE outbox SET state = 'queued', attempts = 0, not_before = ?2,
                 seq = (SELECT MAX(seq) + 1 FROM outbox)
             WHERE op_id = ?1 AND state = 'failed'",
            params![op_id, now],
        )? + tx.execute(
            "UPDATE outbox SET not_before = MIN(not_before, ?2)
             WHERE op_id = ?1 AND state = 'queued'",
            params![op_id, now],
        )?;
        if n == 0 {
            return Err(StoreError::Settled(op_id.to_string()));
        }
        write_journal(
            &tx,
            op_id,
            now,
            Some(&clean(actor)),
            JournalOutcome::Queued,
            "",
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The moderator drops an action that is not settled yet (failed, or
    /// still queued); it stays on record as dropped. A worker sending it at
    /// this moment loses its lease: its result is not recorded, so the
    /// action stays dropped and is never sent again.
    pub fn discard(&self, op_id: &str, actor: &str, now: Millis) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE outbox SET state = 'dropped', lease_owner = NULL, lease_until = NULL
             WHERE op_id = ?1 AND state IN ('failed', 'queued')",
            params![op_id],
        )?;
        if n == 0 {
            return Err(StoreError::Settled(op_id.to_string()));
        }
        write_journal(
            &tx,
            op_id,
            now,
            Some(&clean(actor)),
            JournalOutcome::Dropped,
            "",
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Drops every action queued for `event` (of `source`, or of any
    /// source), for `qadeck journal --drop-waiting`; returns how many.
    pub fn discard_waiting(
        &self,
        source: Option<&str>,
        event: &str,
        actor: &str,
        now: Millis,
    ) -> Result<usize> {
        let ids: Vec<String> = self
            .pending(source)?
            .into_iter()
            .filter(|r| r.event == event)
            .map(|r| r.op_id)
            .collect();
        let mut dropped = 0;
        for id in ids {
            match self.discard(&id, actor, now) {
                Ok(()) => dropped += 1,
                // Delivered by a running qadeck meanwhile: nothing to drop.
                Err(StoreError::Settled(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(dropped)
    }

    /// Queued actions per source and event, in order of their oldest
    /// action.
    pub fn waiting(&self) -> Result<Vec<Waiting>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT source, event, COUNT(*) FROM outbox WHERE state = 'queued'
             GROUP BY source, event ORDER BY MIN(seq)",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Waiting {
                source: r.get(0)?,
                event: r.get(1)?,
                count: r.get::<_, i64>(2)? as usize,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
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
        claims: r.get(10)?,
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
    fn a_note_says_why_on_the_queued_line() {
        let store = Store::open_in_memory().unwrap();
        let op = NewOp {
            note: Some("merge: kept demo/q1".into()),
            ..new_op("a", "s", 10)
        };
        store.enqueue(&op).unwrap();
        let entry = &store.journal(1).unwrap()[0];
        assert_eq!(entry.detail, "merge: kept demo/q1");
        assert!(
            entry.to_string().ends_with("(merge: kept demo/q1)"),
            "{entry}"
        );
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

    /// `new_op` on question `q` (one chain per question).
    fn on(op_id: &str, source: &str, q: &str, status: crate::domain::Status) -> NewOp {
        NewOp {
            op: Op::SetStatus {
                id: q.into(),
                status,
            },
            ..new_op(op_id, source, 0)
        }
    }

    fn ids(claim: Claim) -> Vec<String> {
        match claim {
            Claim::Ready(rows) => rows.into_iter().map(|r| r.op_id).collect(),
            other => panic!("expected a claim, got {other:?}"),
        }
    }

    #[test]
    fn only_the_due_unleased_head_of_a_chain_is_claimed() {
        use crate::domain::Status::{Rejected, Selected};
        let store = Store::open_in_memory().unwrap();
        store.enqueue(&on("a1", "a", "q1", Selected)).unwrap();
        store.enqueue(&on("b1", "b", "q1", Selected)).unwrap();
        store.enqueue(&on("a2", "a", "q1", Rejected)).unwrap();
        let head = ready(store.claim("a", "ev", "w1", || 100, 50, 8).unwrap());
        assert_eq!(head.op_id, "a1");
        // Leased: neither another worker nor the owner itself gets a second
        // claim, and the reject of q1 waits behind its approve.
        assert_eq!(
            store.claim("a", "ev", "w2", || 120, 50, 8).unwrap(),
            Claim::Wait(150)
        );
        assert_eq!(
            store.claim("a", "ev", "w1", || 120, 50, 8).unwrap(),
            Claim::Wait(150)
        );
        // Other sources are independent.
        assert_eq!(
            ready(store.claim("b", "ev", "w2", || 120, 50, 8).unwrap()).op_id,
            "b1"
        );
        // The lease expired: another worker takes the head over, and the old
        // owner can no longer record a result.
        assert_eq!(
            ready(store.claim("a", "ev", "w2", || 151, 50, 8).unwrap()).op_id,
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
            ready(store.claim("a", "ev", "w1", || 170, 50, 8).unwrap()).op_id,
            "a2"
        );
        store.complete("a2", "w1", "done", 171).unwrap();
        assert_eq!(
            store.claim("a", "ev", "w1", || 172, 50, 8).unwrap(),
            Claim::Empty
        );
        assert_eq!(store.get("a1").unwrap().unwrap().state, OpState::Done);
    }

    #[test]
    fn heads_of_different_chains_are_claimed_together_in_queue_order() {
        use crate::domain::Status::{Answered, Rejected, Selected};
        let store = Store::open_in_memory().unwrap();
        for (id, q, status) in [
            ("1", "q1", Selected),
            ("2", "q2", Selected),
            ("3", "q1", Answered),
            ("4", "q3", Rejected),
            ("5", "q2", Rejected),
            ("6", "q4", Selected),
        ] {
            store.enqueue(&on(id, "s", q, status)).unwrap();
        }
        // At most `max`, oldest first, one per chain.
        assert_eq!(
            ids(store.claim("s", "ev", "w", || 0, 100, 2).unwrap()),
            ["1", "2"]
        );
        assert_eq!(
            ids(store.claim("s", "ev", "w", || 0, 100, 8).unwrap()),
            ["4", "6"]
        );
        // Everything claimable is in flight: the earliest lease says when
        // to look again.
        assert_eq!(
            store.claim("s", "ev", "w", || 1, 100, 8).unwrap(),
            Claim::Wait(100)
        );
        // q2's approve backs off: its reject still waits behind it; q1's
        // approve is done, so "mark answered" is its head now.
        store.retry_later("2", "w", 500, "503", 2).unwrap();
        store.complete("1", "w", "done", 2).unwrap();
        assert_eq!(
            ids(store.claim("s", "ev", "w", || 3, 100, 8).unwrap()),
            ["3"]
        );
        for id in ["3", "4", "6"] {
            store.complete(id, "w", "done", 4).unwrap();
        }
        assert_eq!(
            store.claim("s", "ev", "w", || 5, 100, 8).unwrap(),
            Claim::Wait(500)
        );
        assert_eq!(
            ids(store.claim("s", "ev", "w", || 500, 100, 8).unwrap()),
            ["2"]
        );
        // A refusal does not hold its chain: the reject goes out after it.
        store.fail("2", "w", "forbidden", 501).unwrap();
        assert_eq!(
            ids(store.claim("s", "ev", "w", || 502, 100, 8).unwrap()),
            ["5"]
        );
    }

    #[test]
    fn a_row_queued_before_chains_existed_is_delivered_alone_in_order() {
        use crate::domain::Status::Selected;
        let store = Store::open_in_memory().unwrap();
        for (id, q) in [("1", "q1"), ("2", "q2"), ("3", "q3"), ("4", "q4")] {
            store.enqueue(&on(id, "s", q, Selected)).unwrap();
        }
        // Row 2 as an older qadeck wrote it: no chain.
        store
            .conn()
            .execute("UPDATE outbox SET item = NULL WHERE op_id = '2'", [])
            .unwrap();
        // Row 1 goes alone; 2 waits for it, and 3 and 4 wait for 2.
        assert_eq!(
            ids(store.claim("s", "ev", "w", || 0, 100, 8).unwrap()),
            ["1"]
        );
        assert_eq!(
            store.claim("s", "ev", "w", || 1, 100, 8).unwrap(),
            Claim::Wait(100)
        );
        store.complete("1", "w", "done", 1).unwrap();
        assert_eq!(
            ids(store.claim("s", "ev", "w", || 2, 100, 8).unwrap()),
            ["2"]
        );
        store.complete("2", "w", "done", 3).unwrap();
        assert_eq!(
            ids(store.claim("s", "ev", "w", || 4, 100, 8).unwrap()),
            ["3", "4"]
        );
    }

    #[test]
    fn retry_later_backs_off_the_head_and_blocks_its_chain() {
        use crate::domain::Status::{Rejected, Selected};
        let store = Store::open_in_memory().unwrap();
        store.enqueue(&on("a1", "a", "q1", Selected)).unwrap();
        store.enqueue(&on("a2", "a", "q1", Rejected)).unwrap();
        ready(store.claim("a", "ev", "w", || 0, 1000, 8).unwrap());
        store
            .retry_later("a1", "w", 500, "network error: down", 10)
            .unwrap();
        // The lease is released, but a2 must not overtake a1.
        assert_eq!(
            store.claim("a", "ev", "w", || 499, 1000, 8).unwrap(),
            Claim::Wait(500)
        );
        let again = ready(store.claim("a", "ev", "w", || 500, 1000, 8).unwrap());
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
        ready(store.claim("a", "ev", "w", || 0, 1000, 1).unwrap());
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
        // Retrying a queued op again keeps its place.
        store.requeue("a1", "bob", 7).unwrap();
        assert_eq!(store.pending(Some("a")).unwrap()[2].op_id, "a1");
        ready(store.claim("a", "ev", "w", || 7, 1000, 1).unwrap());
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

    #[test]
    fn each_event_has_its_own_queue() {
        let store = Store::open_in_memory().unwrap();
        let on = |id: &str, event: &str| NewOp {
            event: event.into(),
            ..new_op(id, "s", 0)
        };
        store.enqueue(&on("a1", "A")).unwrap();
        store.enqueue(&on("b1", "B")).unwrap();
        store.enqueue(&on("a2", "A")).unwrap();
        // A worker on B never sees A's actions, and A's head does not block B.
        let b = ready(store.claim("s", "B", "wb", || 0, 100, 1).unwrap());
        assert_eq!(b.op_id, "b1");
        store.complete("b1", "wb", "done", 1).unwrap();
        assert_eq!(
            store.claim("s", "B", "wb", || 2, 100, 1).unwrap(),
            Claim::Empty
        );
        assert_eq!(
            store.waiting().unwrap(),
            [Waiting {
                source: "s".into(),
                event: "A".into(),
                count: 2
            }]
        );
        assert_eq!(
            ready(store.claim("s", "A", "wa", || 3, 100, 1).unwrap()).op_id,
            "a1"
        );
        // Dropping what waits for A leaves nothing for A.
        assert_eq!(store.discard_waiting(Some("s"), "A", "bob", 4).unwrap(), 2);
        assert!(store.waiting().unwrap().is_empty());
        assert_eq!(
            store.claim("s", "A", "wa", || 5, 100, 1).unwrap(),
            Claim::Empty
        );
    }

    #[test]
    fn claims_are_counted_even_when_nothing_was_recorded() {
        let store = Store::open_in_memory().unwrap();
        store.enqueue(&new_op("a1", "a", 0)).unwrap();
        assert_eq!(
            ready(store.claim("a", "ev", "w1", || 0, 10, 1).unwrap()).claims,
            0
        );
        // w1 died mid-send; w2 takes over after the lease and must know.
        let again = ready(store.claim("a", "ev", "w2", || 11, 10, 1).unwrap());
        assert_eq!((again.claims, again.attempts), (1, 0));
    }

    #[test]
    fn a_waiting_action_can_be_retried_now_or_dropped_even_in_flight() {
        let store = Store::open_in_memory().unwrap();
        store.enqueue(&new_op("a1", "a", 0)).unwrap();
        ready(store.claim("a", "ev", "w", || 0, 1000, 1).unwrap());
        // Behind an hour-long Retry-After.
        store
            .retry_later("a1", "w", 3_600_000, "rate limited", 1)
            .unwrap();
        assert_eq!(
            store.claim("a", "ev", "w", || 2, 1000, 1).unwrap(),
            Claim::Wait(3_600_000)
        );
        store.requeue("a1", "bob", 3).unwrap();
        let row = ready(store.claim("a", "ev", "w", || 3, 1000, 1).unwrap());
        assert_eq!((row.op_id.as_str(), row.claims), ("a1", 1));
        // Retry now while it is being sent: the lease stands (no second send).
        store.requeue("a1", "bob", 4).unwrap();
        assert_eq!(
            store.claim("a", "ev", "w2", || 5, 1000, 1).unwrap(),
            Claim::Wait(1003)
        );
        // Dropped while being sent: the sender's result does not bring it back.
        store.discard("a1", "bob", 6).unwrap();
        assert!(matches!(
            store.complete("a1", "w", "done", 7),
            Err(StoreError::NotLeased(_))
        ));
        assert_eq!(store.get("a1").unwrap().unwrap().state, OpState::Dropped);
        assert!(matches!(
            store.requeue("a1", "bob", 8),
            Err(StoreError::Settled(_))
        ));
        assert!(matches!(
            store.discard("a1", "bob", 8),
            Err(StoreError::Settled(_))
        ));
        assert_eq!(
            store.claim("a", "ev", "w", || 9, 1000, 1).unwrap(),
            Claim::Empty
        );
    }
}
