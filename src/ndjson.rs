//! qadeck's one machine format: NDJSON lines with a `type` field
//! (`question`, `message`, `participant`, `status`, `summary`, `waiting`).
//! Scripts and tests read it; field names are stable (fields are added,
//! never renamed; [`SCHEMA`] counts the changes). Times are RFC 3339. Text
//! fields are sanitized.

use crate::app::App;
use crate::domain::{Connection, Message, MyVote, Participant, Question, Status};
use serde_json::{Value, json};

/// The machine format's version, in every `summary` and in
/// `qadeck --version --json`. 2: journal `at` became RFC 3339; `summary`
/// gained `schema`, `source` and `at`.
pub const SCHEMA: u32 = 2;

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

/// `{"type":"question",…}` for the effective state of a question.
pub fn question(source: &str, q: &Question, inflight: bool) -> Value {
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
    })
}

/// A question the platform deleted.
pub fn question_gone(source: &str, id: &str) -> Value {
    json!({ "type": "question", "source": source, "id": id, "deleted": true })
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
