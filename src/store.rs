//! The local durable store: one SQLite file (WAL) shared by every provider and
//! every qadeck process of the user. It holds
//!
//! - the **outbox**: every moderation action is written here before it is
//!   sent, so nothing is lost to a crash, a `kill -9` or a dead network. Rows
//!   are never deleted: a finished row keeps its final state (`done`,
//!   `failed`, `dropped`), which also makes enqueueing idempotent;
//! - the **journal**: who did what to which item, when, and how it ended;
//! - **local question state** that a platform does not store itself
//!   (on-air everywhere, selected/answered on streams.live).
//!
//! Delivery is strictly FIFO per source, so "approve, then mark answered"
//! never reaches a platform in the other order. Cross-process safety comes
//! from leases taken inside `BEGIN IMMEDIATE` transactions: only one worker
//! holds the head of a source's queue at a time, and only the lease holder
//! may record its outcome. A panic cannot corrupt anything: every change is
//! one transaction, rolled back if it does not commit.

use crate::domain::{Millis, Op, Status};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Schema migrations; entry `n` brings `user_version` from `n` to `n + 1`.
/// Append only: a shipped entry never changes.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE outbox (
        op_id       TEXT PRIMARY KEY,
        -- Delivery order; a retried op gets a new one (it is a new intent).
        seq         INTEGER NOT NULL UNIQUE,
        source      TEXT NOT NULL,
        event       TEXT NOT NULL,
        op          TEXT NOT NULL,
        action      TEXT NOT NULL,
        target      TEXT,
        actor       TEXT NOT NULL,
        created     INTEGER NOT NULL,
        state       TEXT NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        not_before  INTEGER NOT NULL,
        lease_owner TEXT,
        lease_until INTEGER,
        last_error  TEXT
    );
    CREATE INDEX outbox_head ON outbox (source, state, seq);
    CREATE TABLE journal (
        id      INTEGER PRIMARY KEY,
        at      INTEGER NOT NULL,
        actor   TEXT NOT NULL,
        source  TEXT NOT NULL,
        event   TEXT NOT NULL,
        op_id   TEXT NOT NULL,
        action  TEXT NOT NULL,
        target  TEXT,
        outcome TEXT NOT NULL,
        detail  TEXT NOT NULL
    );
    CREATE TABLE local_state (
        source      TEXT NOT NULL,
        event       TEXT NOT NULL,
        question_id TEXT NOT NULL,
        status      TEXT,
        on_air      INTEGER NOT NULL,
        PRIMARY KEY (source, event, question_id)
    ) WITHOUT ROWID;
"];

const OUTBOX_COLS: &str =
    "op_id, source, event, op, actor, created, state, attempts, not_before, last_error";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("store: cannot create {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store: unreadable stored value: {0}")]
    Json(#[from] serde_json::Error),
    #[error("store: written by a newer qadeck (schema {found}; this build knows up to {known})")]
    TooNew { found: i64, known: i64 },
    /// The caller's lease was taken over (it expired) or the op moved on.
    #[error("action {0} is not leased by this worker")]
    NotLeased(String),
    /// Retry and drop apply to failed actions only.
    #[error("action {0} has not failed")]
    NotFailed(String),
    /// A store call did not finish (the thread running it panicked).
    #[error("store call interrupted: {0}")]
    Interrupted(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

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

pub use crate::domain::LocalState;

/// The store. One connection behind a mutex: SQLite serializes writers
/// anyway, and this keeps `Store` `Send + Sync` for sharing in an `Arc`.
pub struct Store {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// Makes text from a platform or an error safe for the journal: no control
/// characters, no secrets, one line.
fn clean(text: &str) -> String {
    crate::secret::redact(&crate::text::sanitize(text)).replace('\n', " ")
}

impl Store {
    /// `qadeck.db` in the data directory.
    pub fn default_path() -> PathBuf {
        crate::config::data_dir().join("qadeck.db")
    }

    /// Opens (creating as needed) the store file and brings its schema up to
    /// date.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        Store::init(Connection::open(path)?)
    }

    /// A throwaway store that lives as long as this handle (tests).
    pub fn open_in_memory() -> Result<Store> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Store> {
        // Other qadeck processes share the file; wait for their short
        // transactions rather than failing.
        conn.busy_timeout(Duration::from_secs(5))?;
        // WAL: readers never block the writer, and a killed process leaves a
        // consistent file. (An in-memory database answers "memory".)
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if mode != "wal" && mode != "memory" {
            tracing::warn!(
                "store runs in {mode} journal mode (WAL unavailable on this file system)"
            );
        }
        // FULL: a committed action survives a power cut, not just a crash;
        // "queued" must mean queued.
        conn.pragma_update(None, "synchronous", "FULL")?;
        migrate(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    /// The connection. A panic while it was held cannot have left a
    /// half-done change (transactions roll back on drop), so a poisoned
    /// lock is safe to take over.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

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
        write_journal(&tx, op_id, now, None, outcome, detail)?;
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

    /// Sets one question's local state; the default state removes the row.
    pub fn set_local(
        &self,
        source: &str,
        event: &str,
        question_id: &str,
        state: &LocalState,
    ) -> Result<()> {
        let conn = self.conn();
        if *state == LocalState::default() {
            conn.execute(
                "DELETE FROM local_state WHERE source = ?1 AND event = ?2 AND question_id = ?3",
                params![source, event, question_id],
            )?;
        } else {
            conn.execute(
                "INSERT INTO local_state (source, event, question_id, status, on_air)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (source, event, question_id)
                 DO UPDATE SET status = excluded.status, on_air = excluded.on_air",
                params![
                    source,
                    event,
                    question_id,
                    state.status.map(Status::as_str),
                    state.on_air
                ],
            )?;
        }
        Ok(())
    }

    /// Every question's local state for one source and event, by question id.
    pub fn local_states(&self, source: &str, event: &str) -> Result<HashMap<String, LocalState>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT question_id, status, on_air FROM local_state WHERE source = ?1 AND event = ?2",
        )?;
        let rows = stmt.query_map(params![source, event], |r| {
            let status = r
                .get::<_, Option<String>>(1)?
                .map(|s| Status::parse(&s).ok_or_else(|| bad_text(1, &s)))
                .transpose()?;
            Ok((
                r.get(0)?,
                LocalState {
                    status,
                    on_air: r.get(2)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Brings the schema to the newest version. Runs under `BEGIN IMMEDIATE` so
/// two processes opening a new file at once cannot both create it.
fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::TooNew {
            found: version,
            known,
        });
    }
    for sql in &MIGRATIONS[version as usize..] {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", known)?;
    tx.commit()?;
    Ok(())
}

/// Writes one journal line for an outbox row; `actor` overrides the row's
/// actor (whoever retried or dropped it).
fn write_journal(
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

fn bad_text(column: usize, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        format!("unknown value {value:?}").into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::MyVote;

    fn new_op(op_id: &str, source: &str, created: Millis) -> NewOp {
        NewOp {
            op_id: op_id.into(),
            source: source.into(),
            event: "ev".into(),
            op: Op::SetStatus {
                id: format!("q-{op_id}"),
                status: Status::Selected,
            },
            actor: "alice".into(),
            created,
        }
    }

    fn ready(claim: Claim) -> OutboxRow {
        match claim {
            Claim::Ready(row) => *row,
            other => panic!("expected a claim, got {other:?}"),
        }
    }

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

    #[test]
    fn journal_is_redacted_sanitized_and_limited() {
        crate::secret::register("sk_store_test_secret");
        let store = Store::open_in_memory().unwrap();
        store.enqueue(&new_op("a1", "a", 0)).unwrap();
        ready(store.claim_next("a", "w", 0, 1000).unwrap());
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

    #[test]
    fn local_state_round_trips_and_default_clears() {
        let store = Store::open_in_memory().unwrap();
        let on_air = LocalState {
            status: Some(Status::Selected),
            on_air: true,
        };
        store.set_local("s", "ev", "q1", &on_air).unwrap();
        store
            .set_local(
                "s",
                "ev",
                "q2",
                &LocalState {
                    status: Some(Status::Answered),
                    on_air: false,
                },
            )
            .unwrap();
        store.set_local("s", "other", "q1", &on_air).unwrap();
        store
            .set_local("s", "ev", "q2", &LocalState::default())
            .unwrap();
        let states = store.local_states("s", "ev").unwrap();
        assert_eq!(states, HashMap::from([("q1".to_string(), on_air)]));
    }

    #[test]
    fn file_store_survives_reopen_without_close() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/qadeck.db");
        let store = Store::open(&path).unwrap();
        let vote = NewOp {
            op: Op::Vote {
                id: "q9".into(),
                want: MyVote::Up,
            },
            ..new_op("v", "s", 1)
        };
        store.enqueue(&vote).unwrap();
        store
            .set_local(
                "s",
                "ev",
                "q9",
                &LocalState {
                    status: None,
                    on_air: true,
                },
            )
            .unwrap();
        // Like kill -9: the connection is never closed, the claim never settled.
        ready(store.claim_next("s", "dead", 1, 100).unwrap());
        std::mem::forget(store);
        let store = Store::open(&path).unwrap();
        let version: i64 = store
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        let mode: String = store
            .conn()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(
            store.claim_next("s", "new", 50, 100).unwrap(),
            Claim::Wait(101)
        );
        assert_eq!(
            ready(store.claim_next("s", "new", 101, 100).unwrap()).op,
            vote.op
        );
        assert!(store.local_states("s", "ev").unwrap()["q9"].on_air);
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qadeck.db");
        Store::open(&path)
            .unwrap()
            .conn()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        assert!(matches!(
            Store::open(&path),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }
}
