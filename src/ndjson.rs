//! qadeck's one machine format: NDJSON lines with a `type` field
//! (`question`, `message`, `participant`, `status`, `summary`, `waiting`).
//! Scripts and tests read it; field names are stable (fields are added,
//! never renamed; [`SCHEMA`] counts the changes). Times are RFC 3339. Text
//! fields are sanitized.

use crate::app::App;
use crate::domain::{Connection, Message, MyVote, Participant, QKey, Question, Status};
use serde_json::{Value, json};

/// The machine format's version, in every `summary` and in
/// `qadeck --version --json`. 2: journal `at` became RFC 3339; `summary`
/// gained `schema`, `source` and `at`. 3: `question` gained `group`,
/// `group_size`, `held_by`, `starred`, `labels` and `changed_elsewhere`
/// (a deleted one: `changed_elsewhere`). 4: `summary` gained `ungrouped`.
pub const SCHEMA: u32 = 4;

/// An RFC 3339 UTC time with milliseconds (null if out of range).
pub fn iso(ms: i64) -> Value {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)))
        .unwrap_or(Value::Null)
}

fn vote(v: MyVote) -> Value {
    match v {
        MyVote::None => Value::Null,
        MyVote::Up => "up".into(),
        MyVote::Down => "down".into(),
    }
}

/// `{"type":"waiting",…}`: actions queued for a source's event, delivered
/// the next time qadeck runs on that event (`qadeck journal`).
pub fn waiting(source: &str, event: &str, count: usize) -> Value {
    json!({
        "type": "waiting",
        "source": source,
        "event": event,
        "count": count,
    })
}

/// What the core knows of a question beyond its platform state: its group
/// of duplicates, a rule's hold, the moderator's star and labels, and a
/// change from elsewhere.
#[derive(Debug, Clone, PartialEq)]
pub struct Triage {
    /// The kept question of its group (`source/id`), on every member of a
    /// group of two or more.
    pub group: Option<String>,
    pub group_size: usize,
    pub held_by: Option<String>,
    pub starred: bool,
    pub labels: Vec<String>,
    pub changed_elsewhere: bool,
}

impl Default for Triage {
    /// A question alone, unmarked, unchanged.
    fn default() -> Triage {
        Triage {
            group: None,
            group_size: 1,
            held_by: None,
            starred: false,
            labels: Vec::new(),
            changed_elsewhere: false,
        }
    }
}

impl Triage {
    /// The question's triage as the core holds it.
    pub fn of(app: &App, key: &QKey) -> Triage {
        let group = app.group_of(key).filter(|g| g.size >= 2);
        let marks = app.marks_of(key);
        Triage {
            group: group
                .as_ref()
                .map(|g| format!("{}/{}", app.source_name(g.kept.source), g.kept.id)),
            group_size: group.map_or(1, |g| g.size),
            held_by: marks.and_then(|m| m.held.as_ref()).map(|h| h.rule.clone()),
            starred: marks.is_some_and(|m| m.starred),
            labels: marks.map(|m| m.labels.clone()).unwrap_or_default(),
            changed_elsewhere: app.changed_elsewhere(key).is_some(),
        }
    }
}

/// `{"type":"question",…}` for the effective state of a question.
pub fn question(source: &str, q: &Question, inflight: bool, t: &Triage) -> Value {
    json!({
        "type": "question",
        "source": source,
        "id": q.id,
        "status": q.status.as_str(),
        "on_air": q.on_air,
        "votes": q.votes,
        "my_vote": vote(q.my_vote),
        "author": q.author,
        "text": q.text,
        "created": iso(q.created),
        "updated": iso(q.updated),
        "in_flight": inflight,
        "group": t.group,
        "group_size": t.group_size,
        "held_by": t.held_by,
        "starred": t.starred,
        "labels": t.labels,
        "changed_elsewhere": t.changed_elsewhere,
    })
}

/// A question the platform deleted; `changed_elsewhere` when this console
/// did not delete it.
pub fn question_gone(source: &str, id: &str, changed_elsewhere: bool) -> Value {
    json!({
        "type": "question",
        "source": source,
        "id": id,
        "deleted": true,
        "changed_elsewhere": changed_elsewhere,
    })
}

/// The line for a question the core holds, or its deletion.
pub fn question_of(app: &App, source: &str, key: &QKey) -> Value {
    match app.queue.get(key) {
        Some(e) => question(
            source,
            &e.view,
            app.queue.inflight(key) > 0,
            &Triage::of(app, key),
        ),
        None => question_gone(source, &key.id, app.changed_elsewhere(key).is_some()),
    }
}

pub fn message(source: &str, m: &Message) -> Value {
    json!({
        "type": "message",
        "source": source,
        "id": m.id,
        "author": m.author,
        "text": m.text,
        "reply_to": m.reply_to,
        "created": iso(m.created),
    })
}

/// A chat message that was deleted (on the platform or through qadeck).
pub fn message_gone(source: &str, id: &str) -> Value {
    json!({ "type": "message", "source": source, "id": id, "deleted": true })
}

pub fn participant(source: &str, p: &Participant) -> Value {
    json!({
        "type": "participant",
        "source": source,
        "id": p.id,
        "name": p.name,
        "email": p.email,
        "role": p.role.name(),
        "link": p.link,
        "external_key": p.external_key,
    })
}

pub fn status(source: &str, c: &Connection, at: i64) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.insert("type".into(), "status".into());
        map.insert("source".into(), source.into());
        map.insert("text".into(), c.describe().into());
        map.insert("at".into(), iso(at));
    }
    v
}

/// The closing line: what the core holds, by status, at `at`. `source` is
/// the source's name when the run had one, else the names joined by `,`.
pub fn summary(app: &App, generated: Option<u64>, at: i64) -> Value {
    let by_status: serde_json::Map<String, Value> = Status::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), Value::from(app.queue.count(*s))))
        .collect();
    let source: Vec<&str> = app.sources.iter().map(|s| s.name.as_str()).collect();
    let mut v = json!({
        "type": "summary",
        "schema": SCHEMA,
        "source": source.join(","),
        "at": iso(at),
        "held": app.queue.len(),
        "by_status": by_status,
        "in_flight": app.inflight.len(),
        "failed": app.failed.len(),
        "ungrouped": app.groups.waiting(),
    });
    if let Some(g) = generated {
        v["generated"] = g.into();
    }
    v
}

/// `qadeck --version --json`.
pub fn version() -> Value {
    json!({
        "type": "version",
        "name": env!("CARGO_PKG_NAME"),
        "version": env!("CARGO_PKG_VERSION"),
        "schema": SCHEMA,
    })
}
