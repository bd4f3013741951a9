//! streams.live wire formats and their mapping to the domain.
//!
//! The document shows full examples only for login/refresh and the channel
//! (event) object; the answers of `questions/*`, `thread/read` and `messages`
//! are not shown at all. So responses are read from `serde_json::Value` with
//! tolerant field pickers instead of strict derived structs: a field may come
//! as a string or a number, may be missing, may sit inside the usual
//! `{"data": …}` envelope, and may have one of several plausible names. Every
//! accepted spelling is listed next to its picker below, so changing a reading
//! is a one-line edit. Request bodies follow the document's field names
//! exactly and are derived with serde.
//!
//! Every audience-written string (question and message texts, author names)
//! and every server-written message shown to the moderator passes through
//! [`sanitize`] here, at ingest.

mod chat;
mod errors;
mod events;
mod questions;
mod requests;
mod tokens;

#[cfg(test)]
mod tests;

pub use chat::{WireMessage, messages};
pub use errors::{ApiError, classify, clean, to_error};
pub use events::{EventMeta, last_page};
pub use questions::{WireQuestion, questions, to_question};
pub use requests::{
    ArchiveBody, CreateQuestion, DIRECTION_DOWN, DIRECTION_UP, DeleteMessage, LoginBody,
    PostMessage, ReadQuestions, ReadThread, RefreshBody, ReportBody, UpdateEvent, VoteBody,
};
pub use tokens::TokenAnswer;

use crate::domain::Millis;
use crate::text::sanitize;
use serde_json::Value;

/// Unwraps the `{"data": …}` envelope (also nested twice) when present.
pub fn unwrap_data(v: &Value) -> &Value {
    let mut v = v;
    for _ in 0..3 {
        match v.get("data") {
            Some(inner) if inner.is_object() || inner.is_array() => v = inner,
            _ => break,
        }
    }
    v
}

/// The first present, non-null field among `names`.
fn field<'a>(v: &'a Value, names: &[&str]) -> Option<&'a Value> {
    names
        .iter()
        .filter_map(|n| v.get(*n))
        .find(|x| !x.is_null())
}

/// A string or a number, as a string.
pub fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An integer from a number (also a float) or a numeric string.
pub fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().map(|f| f as i64))
        }
        Value::Bool(b) => Some(*b as i64),
        _ => None,
    }
}

/// A boolean from `true`/`false`, 0/1 or their string forms.
pub fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|f| f != 0.0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Some(true),
            "0" | "false" | "no" | "off" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A time: RFC 3339, `Y-m-d H:i:s` (read as UTC, Laravel's default), a bare
/// date, or a Unix timestamp in seconds or milliseconds.
pub fn as_millis(v: &Value) -> Option<Millis> {
    match v {
        // Seconds below 1e11; a value whose milliseconds do not fit is no time.
        Value::Number(_) => as_int(v).and_then(|n| {
            if n < 100_000_000_000 {
                n.checked_mul(1000)
            } else {
                Some(n)
            }
        }),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
                return Some(t.timestamp_millis());
            }
            for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
                if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
                    return Some(t.and_utc().timestamp_millis());
                }
            }
            if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                return d
                    .and_hms_opt(0, 0, 0)
                    .map(|t| t.and_utc().timestamp_millis());
            }
            if s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() {
                return as_millis(&Value::from(s.parse::<i64>().ok()?));
            }
            None
        }
        _ => None,
    }
}

/// The list inside an answer: a bare array, or an array under `data`,
/// `questions`, `messages`, `items` or `results` (searched a few levels deep,
/// so `{"data": {"data": […]}}` and `{"data": {"messages": […]}}` work too).
pub fn items(v: &Value) -> Option<&Vec<Value>> {
    fn find(v: &Value, depth: u8) -> Option<&Vec<Value>> {
        if let Value::Array(a) = v {
            return Some(a);
        }
        if depth == 0 {
            return None;
        }
        for key in [
            "data",
            "questions",
            "messages",
            "items",
            "results",
            "thread",
        ] {
            if let Some(inner) = v.get(key)
                && let Some(a) = find(inner, depth - 1)
            {
                return Some(a);
            }
        }
        None
    }
    find(v, 3)
}

/// The author's display name: a `user`/`author`/`owner`/`sender` object
/// (plain or in a `data` envelope) with `nickname`, `username`, `name`,
/// `full_name`/`fullName` or `first_name`; or a plain string field. Empty
/// means anonymous.
fn author(v: &Value) -> Option<String> {
    const NAME_KEYS: [&str; 7] = [
        "nickname",
        "username",
        "name",
        "full_name",
        "fullName",
        "display_name",
        "first_name",
    ];
    let from_obj = |o: &Value| -> Option<String> {
        let o = unwrap_data(o);
        NAME_KEYS
            .iter()
            .filter_map(|k| o.get(*k).and_then(as_text))
            .find(|s| !s.trim().is_empty())
    };
    let name = ["user", "author", "owner", "sender"]
        .iter()
        .filter_map(|k| v.get(*k))
        .find_map(|x| match x {
            Value::Object(_) => from_obj(x),
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            _ => None,
        })
        .or_else(|| {
            [
                "author_name",
                "authorName",
                "user_name",
                "userName",
                "nickname",
                "username",
                "name",
            ]
            .iter()
            .filter_map(|k| v.get(*k).and_then(as_text))
            .find(|s| !s.trim().is_empty())
        })?;
    let clean = sanitize(name.trim());
    (!clean.is_empty()).then_some(clean)
}

/// The logged-in user from `GET profile` (its answer is not documented;
/// read like any user object): the id, and the name the platform puts on
/// that user's messages.
pub fn profile(v: &Value) -> (Option<String>, Vec<String>) {
    let p = unwrap_data(v);
    let id = id_of(p, &[]);
    let name = author(&serde_json::json!({ "user": p }));
    (id, name.into_iter().collect())
}

fn created_of(v: &Value) -> Option<Millis> {
    field(
        v,
        &[
            "created_at",
            "createdAt",
            "created",
            "date",
            "timestamp",
            "time",
        ],
    )
    .and_then(as_millis)
}

fn updated_of(v: &Value) -> Option<Millis> {
    field(
        v,
        &[
            "updated_at",
            "updatedAt",
            "updated",
            "last_update",
            "lastUpdate",
        ],
    )
    .and_then(as_millis)
}

fn id_of(v: &Value, extra: &[&str]) -> Option<String> {
    let mut names = vec!["id", "hash_id", "hashId"];
    names.extend_from_slice(extra);
    names.push("uuid");
    field(v, &names)
        .and_then(as_text)
        .filter(|s| !s.trim().is_empty())
}

/// True when an object says it is archived or deleted: `archived`,
/// `is_archived`, `isArchived`, `deleted`, `is_deleted` (truthy), a non-null
/// `archived_at`/`deleted_at`, or `status` "archived"/"deleted"/"rejected".
fn is_taken_down(v: &Value) -> bool {
    let flag = [
        "archived",
        "is_archived",
        "isArchived",
        "deleted",
        "is_deleted",
        "isDeleted",
    ]
    .iter()
    .filter_map(|k| v.get(*k))
    .any(|x| as_bool(x).unwrap_or(false));
    let stamped = ["archived_at", "archivedAt", "deleted_at", "deletedAt"]
        .iter()
        .any(|k| {
            v.get(*k)
                .is_some_and(|x| !x.is_null() && x != "" && x != &Value::Bool(false))
        });
    let status = v
        .get("status")
        .and_then(Value::as_str)
        .map(|s| {
            matches!(
                s.to_ascii_lowercase().as_str(),
                "archived" | "deleted" | "rejected"
            )
        })
        .unwrap_or(false);
    flag || stamped || status
}
