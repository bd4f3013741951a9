//! Marks this machine attaches to questions: the moderator's star and
//! labels, and a rule's hold. Keyed like local states (source, event,
//! question id); a question without marks has no row.

use super::{Result, Store};
use crate::domain::{Hold, Marks};
use rusqlite::params;
use std::collections::HashMap;

impl Store {
    /// Sets one question's marks; empty marks remove the row.
    pub fn set_marks(
        &self,
        source: &str,
        event: &str,
        question_id: &str,
        marks: &Marks,
    ) -> Result<()> {
        let conn = self.conn();
        if marks.is_empty() {
            conn.execute(
                "DELETE FROM marks WHERE source = ?1 AND event = ?2 AND question_id = ?3",
                params![source, event, question_id],
            )?;
            return Ok(());
        }
        let labels = serde_json::to_string(&marks.labels)?;
        let (rule, matched) = match &marks.held {
            Some(h) => (Some(h.rule.as_str()), Some(h.matched.as_str())),
            None => (None, None),
        };
        let ruled = marks
            .ruled
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?;
        conn.execute(
            "INSERT INTO marks (source, event, question_id, starred, labels, held_rule, held_match,
                                reviewed, ruled)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (source, event, question_id)
             DO UPDATE SET starred = excluded.starred, labels = excluded.labels,
                           held_rule = excluded.held_rule, held_match = excluded.held_match,
                           reviewed = excluded.reviewed, ruled = excluded.ruled",
            params![
                source,
                event,
                question_id,
                marks.starred,
                labels,
                rule,
                matched,
                marks.reviewed,
                ruled
            ],
        )?;
        Ok(())
    }

    /// Every marked question of one source and event, by question id.
    pub fn marks(&self, source: &str, event: &str) -> Result<HashMap<String, Marks>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT question_id, starred, labels, held_rule, held_match, reviewed, ruled
             FROM marks WHERE source = ?1 AND event = ?2",
        )?;
        let rows = stmt.query_map(params![source, event], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (id, starred, labels, rule, matched, reviewed, ruled) = row?;
            let held = rule.map(|rule| Hold {
                rule,
                matched: matched.unwrap_or_default(),
            });
            let marks = Marks {
                starred,
                labels: serde_json::from_str(&labels)?,
                held,
                reviewed,
                ruled: ruled.as_deref().map(serde_json::from_str).transpose()?,
            };
            out.insert(id, marks);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Ruled;

    #[test]
    fn marks_round_trip_and_empty_clears() {
        let store = Store::open_in_memory().unwrap();
        let press = Marks {
            starred: true,
            labels: vec!["press".into(), "vip".into()],
            held: Some(Hold {
                rule: "links".into(),
                matched: "regex: https://".into(),
            }),
            reviewed: true,
            ruled: None,
        };
        store.set_marks("s", "ev", "q1", &press).unwrap();
        let rejected = Marks {
            ruled: Some(Ruled {
                why: Hold {
                    rule: "spam".into(),
                    matched: "word: casino".into(),
                },
                to: crate::domain::Status::Rejected,
            }),
            ..Marks::default()
        };
        store.set_marks("s", "ev", "q4", &rejected).unwrap();
        store
            .set_marks(
                "s",
                "ev",
                "q2",
                &Marks {
                    starred: true,
                    ..Marks::default()
                },
            )
            .unwrap();
        store.set_marks("s", "other", "q1", &press).unwrap();
        store.set_marks("s", "ev", "q2", &Marks::default()).unwrap();
        let starred_only = Marks {
            labels: vec!["later".into()],
            ..Marks::default()
        };
        store.set_marks("s", "ev", "q3", &starred_only).unwrap();
        let got = store.marks("s", "ev").unwrap();
        assert_eq!(
            got,
            HashMap::from([
                ("q1".to_string(), press),
                ("q3".to_string(), starred_only),
                ("q4".to_string(), rejected)
            ])
        );
    }
}
