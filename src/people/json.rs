//! The NDJSON shape of `people list --json`.

use crate::domain::Participant;
use serde_json::{Value, json};

/// One participant as a `people list --json` line.
pub fn participant_json(p: &Participant, source_name: &str) -> Value {
    json!({
        "type": "participant",
        "source": source_name,
        "id": p.id,
        "name": p.name,
        "email": p.email,
        "role": p.role.name(),
        "link": p.link,
        "version": p.version,
        "external_key": p.external_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    #[test]
    fn participant_json_shape() {
        let p = Participant {
            source: crate::domain::SourceId(0),
            id: "u1".into(),
            name: "Ada".into(),
            email: Some("a@b.c".into()),
            role: Role::Moderator,
            link: None,
            version: Some("v1".into()),
            external_key: None,
        };
        let v = participant_json(&p, "sbx");
        assert_eq!(v["type"], "participant");
        assert_eq!(v["source"], "sbx");
        assert_eq!(v["role"], "moderator");
        assert_eq!(v["version"], "v1");
    }
}
