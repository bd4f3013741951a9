//! The role each participant had before qadeck promoted it to moderator,
//! per source and event: the core's memory of it outlives a restart, so `m`
//! on that moderator still gives a Speaker back its Speaker role.

use super::{Result, Store};
use crate::domain::Role;
use rusqlite::params;
use std::collections::HashMap;

impl Store {
    /// Remembers `role` for a participant, or forgets it (`None`).
    pub fn set_earlier_role(
        &self,
        source: &str,
        event: &str,
        participant_id: &str,
        role: Option<&Role>,
    ) -> Result<()> {
        let conn = self.conn();
        match role {
            None => conn.execute(
                "DELETE FROM earlier_roles
                 WHERE source = ?1 AND event = ?2 AND participant_id = ?3",
                params![source, event, participant_id],
            )?,
            Some(r) => conn.execute(
                "INSERT INTO earlier_roles (source, event, participant_id, role)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (source, event, participant_id) DO UPDATE SET role = excluded.role",
                params![source, event, participant_id, String::from(r.clone())],
            )?,
        };
        Ok(())
    }

    /// Every remembered earlier role of one source and event, by participant.
    pub fn earlier_roles(&self, source: &str, event: &str) -> Result<HashMap<String, Role>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT participant_id, role FROM earlier_roles WHERE source = ?1 AND event = ?2",
        )?;
        let rows = stmt.query_map(params![source, event], |r| {
            Ok((r.get::<_, String>(0)?, Role::from(r.get::<_, String>(1)?)))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_role_survives_reopening_and_can_be_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        {
            let store = Store::open(&path).unwrap();
            store
                .set_earlier_role("sb", "ev", "p1", Some(&Role::Speaker))
                .unwrap();
            store
                .set_earlier_role("sb", "ev", "p2", Some(&Role::Other("Host".into())))
                .unwrap();
            store
                .set_earlier_role("sb", "other", "p1", Some(&Role::Speaker))
                .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let roles = store.earlier_roles("sb", "ev").unwrap();
        assert_eq!(roles.len(), 2);
        assert_eq!(roles["p1"], Role::Speaker);
        assert_eq!(roles["p2"], Role::Other("Host".into()));
        store.set_earlier_role("sb", "ev", "p1", None).unwrap();
        let roles = store.earlier_roles("sb", "ev").unwrap();
        assert_eq!(roles.len(), 1);
        assert!(!roles.contains_key("p1"));
        assert_eq!(store.earlier_roles("sb", "other").unwrap().len(), 1);
    }
}
