//! Local question state that a platform does not store itself: on-air
//! everywhere, selected/answered on streams.live, the moderator's order of
//! the selected queue. A question in the default state has no row.

use super::{Result, Store, bad_text};
use crate::domain::{LocalState, Status};
use rusqlite::params;
use std::collections::HashMap;

impl Store {
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
                "INSERT INTO local_state (source, event, question_id, status, on_air, rank)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (source, event, question_id)
                 DO UPDATE SET status = excluded.status, on_air = excluded.on_air,
                               rank = excluded.rank",
                params![
                    source,
                    event,
                    question_id,
                    state.status.map(Status::as_str),
                    state.on_air,
                    state.rank
                ],
            )?;
        }
        Ok(())
    }

    /// Every question's local state for one source and event, by question id.
    pub fn local_states(&self, source: &str, event: &str) -> Result<HashMap<String, LocalState>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT question_id, status, on_air, rank FROM local_state
             WHERE source = ?1 AND event = ?2",
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
                    rank: r.get(3)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_state_round_trips_and_default_clears() {
        let store = Store::open_in_memory().unwrap();
        let on_air = LocalState {
            status: Some(Status::Selected),
            on_air: true,
            rank: Some(2),
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
                    rank: None,
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
}
