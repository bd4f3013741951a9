//! Channels (events) on the wire: what qadeck needs of one, and paging.

use super::{as_bool, as_int, as_text, field, id_of, unwrap_data};
use crate::domain::EventInfo;
use crate::text::sanitize;
use serde_json::Value;

/// What qadeck needs of a channel.
#[derive(Debug, Clone, PartialEq)]
pub struct EventMeta {
    pub id: String,
    pub slug: Option<String>,
    pub title: String,
    /// `thread_id` as the platform gave it (number or string).
    pub thread_id: Option<Value>,
    /// The owner's user id, sent as `userId` to `thread/read`.
    pub owner_id: Option<String>,
    pub questions_enabled: Option<bool>,
    pub chat_enabled: Option<bool>,
    pub guest_chat_enabled: Option<bool>,
    pub starts: Option<String>,
}

impl EventMeta {
    /// Reads a channel object (as in `GET events`, `GET events/{id}` and the
    /// `PUT events/{id}` answer). Flags are read as documented
    /// (`questions_enabled`, `chat_enabled`, `guest_chat_enabled`) and in
    /// camelCase.
    pub fn from_value(v: &Value) -> Option<EventMeta> {
        let v = unwrap_data(v);
        let id = id_of(v, &["event_id", "eventId"])?;
        let slug = v.get("slug").and_then(as_text).filter(|s| !s.is_empty());
        let title = field(v, &["name", "title"])
            .and_then(as_text)
            .map(|s| sanitize(&s))
            .unwrap_or_else(|| slug.clone().unwrap_or_else(|| id.clone()));
        let owner_id = v.get("owner").and_then(|o| {
            let o = unwrap_data(o);
            field(o, &["id", "hash_id"]).and_then(as_text)
        });
        let flag = |names: &[&str]| field(v, names).and_then(as_bool);
        Some(EventMeta {
            id,
            slug,
            title,
            thread_id: field(v, &["thread_id", "threadId", "thread_slug", "threadSlug"])
                .filter(|t| as_text(t).is_some_and(|s| !s.is_empty()))
                .cloned(),
            owner_id,
            questions_enabled: flag(&["questions_enabled", "questionsEnabled"]),
            chat_enabled: flag(&["chat_enabled", "chatEnabled"]),
            guest_chat_enabled: flag(&["guest_chat_enabled", "guestChatEnabled"]),
            starts: field(v, &["starts_at", "startsAt"])
                .and_then(as_text)
                .map(|s| sanitize(&s)),
        })
    }

    pub fn thread_text(&self) -> Option<String> {
        self.thread_id.as_ref().and_then(as_text)
    }

    /// The event's key for the picker and the config: the slug where known.
    pub fn key(&self) -> &str {
        self.slug.as_deref().unwrap_or(&self.id)
    }

    pub fn info(&self, active: Option<bool>) -> EventInfo {
        EventInfo {
            id: self.key().to_string(),
            title: self.title.clone(),
            active,
            starts: self.starts.clone(),
        }
    }
}

/// Pagination facts of a `GET events` page, when the answer carries them
/// (`meta.pagination.total_pages`/`current_page`, Laravel's `last_page`).
pub fn last_page(v: &Value) -> Option<i64> {
    let meta = v.get("meta").unwrap_or(&Value::Null);
    let pag = meta.get("pagination").unwrap_or(meta);
    field(pag, &["total_pages", "totalPages", "last_page", "lastPage"])
        .or_else(|| field(v, &["last_page", "lastPage", "total_pages"]))
        .and_then(as_int)
}
