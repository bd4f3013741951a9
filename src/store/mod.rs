//! The local durable store: one SQLite file (WAL) shared by every provider and
//! every qadeck process of the user. It holds
//!
//! - the **outbox** (`outbox`): every moderation action is written here
//!   before it is sent, so nothing is lost to a crash, a `kill -9` or a dead
//!   network;
//! - the **journal** (`journal`): who did what to which item, when, and how
//!   it ended;
//! - **local question state** (`local`) that a platform does not store
//!   itself (on-air everywhere, selected/answered on streams.live, the
//!   moderator's order of the selected queue);
//! - **marks** (`marks`): stars, labels and rule holds per question.
//!
//! This module opens the file and brings its schema up to date. A panic
//! cannot corrupt anything: every change is one transaction, rolled back if
//! it does not commit.

mod journal;
mod local;
mod marks;
mod outbox;
mod roles;

pub use self::journal::{JournalEntry, JournalOutcome};
pub use self::outbox::{Claim, NewOp, OpState, OutboxRow, Waiting};
pub use crate::domain::LocalState;

use rusqlite::{Connection, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Schema migrations; entry `n` brings `user_version` from `n` to `n + 1`.
/// Append only: a shipped entry never changes.
const MIGRATIONS: &[&str] = &[
    "
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
",
    "
    -- Times the action was handed to a worker: a claim that never settled
    -- (a lease that expired mid-send, a crash) may have reached the platform.
    ALTER TABLE outbox ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
    -- Delivery is per source and event.
    CREATE INDEX outbox_event_head ON outbox (source, event, state, seq);
    -- Retries after the first are counted on its journal line, not logged.
    ALTER TABLE journal ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
    -- The moderator's order of the selected queue (lower first).
    ALTER TABLE local_state ADD COLUMN rank INTEGER;
",
    "
    -- The moderator's stars and labels and a rule's hold, per question
    -- (keyed like local_state); a question with no marks has no row.
    CREATE TABLE marks (
        source      TEXT NOT NULL,
        event       TEXT NOT NULL,
        question_id TEXT NOT NULL,
        starred     INTEGER NOT NULL,
        -- A JSON array of strings, in the order they were added.
        labels      TEXT NOT NULL,
        held_rule   TEXT,
        held_match  TEXT,
        -- 1 once the moderator took a rule's decision back.
        reviewed    INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (source, event, question_id)
    ) WITHOUT ROWID;
",
    "
    -- The chain an action belongs to (`Op::order_key`): a chain is delivered
    -- in order, different chains side by side. Rows queued before this
    -- column have none and are delivered alone, in strict order.
    ALTER TABLE outbox ADD COLUMN item TEXT;
    CREATE INDEX outbox_item_head ON outbox (source, event, state, item, seq);
",
    "
    -- The role a participant had before qadeck made it a moderator, so
    -- demoting it after a restart gives that role back (STREAMBOXY's
    -- Speaker); no row means participant.
    CREATE TABLE earlier_roles (
        source         TEXT NOT NULL,
        event          TEXT NOT NULL,
        participant_id TEXT NOT NULL,
        role           TEXT NOT NULL,
        PRIMARY KEY (source, event, participant_id)
    ) WITHOUT ROWID;
",
    "
    -- A rule's reject or approve no one has decided since, as JSON
    -- (`domain::Ruled`: the rule, what matched, where it sent the question).
    ALTER TABLE marks ADD COLUMN ruled TEXT;
",
];

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
    /// Retry and drop apply to actions not yet settled (queued or failed).
    #[error("action {0} is already settled (delivered or dropped)")]
    Settled(String),
    /// A store call did not finish (the thread running it panicked).
    #[error("store call interrupted: {0}")]
    Interrupted(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

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
    /// `qadeck.db` in the data directory `data_dir`.
    pub fn default_path(data_dir: &Path) -> PathBuf {
        data_dir.join("qadeck.db")
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

fn bad_text(column: usize, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        format!("unknown value {value:?}").into(),
    )
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::domain::{Millis, MyVote, Op, Status};

    pub(super) fn new_op(op_id: &str, source: &str, created: Millis) -> NewOp {
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
            note: None,
        }
    }

    /// The one row of a claim of at most one.
    pub(super) fn ready(claim: Claim) -> OutboxRow {
        match claim {
            Claim::Ready(mut rows) if rows.len() == 1 => rows.remove(0),
            other => panic!("expected a claim of one, got {other:?}"),
        }
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
                    rank: None,
                },
            )
            .unwrap();
        // Like kill -9: the connection is never closed, the claim never settled.
        ready(store.claim("s", "ev", "dead", || 1, 100, 1).unwrap());
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
            store.claim("s", "ev", "new", || 50, 100, 1).unwrap(),
            Claim::Wait(101)
        );
        assert_eq!(
            ready(store.claim("s", "ev", "new", || 101, 100, 1).unwrap()).op,
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
