//! Chat messages on the wire and their mapping to domain messages.

use super::{as_text, author, created_of, field, id_of, is_taken_down, items, unwrap_data};
use crate::domain::{Message, Millis, ProviderError, SourceId};
use crate::text::sanitize;
use serde_json::Value;

/// One chat message from the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct WireMessage {
    pub id: String,
    pub text: String,
    pub author: Option<String>,
    pub reply_to: Option<String>,
    pub deleted: bool,
    pub created: Option<Millis>,
}

impl WireMessage {
    /// Reads one message. Accepted: id in `id`/`hash_id`/`message_id`/
    /// `messageId`/`uuid`; text in `data` (the name `messages` uses on the
    /// way in) /`message`/`text`/`body`/`content`; the parent in
    /// `reply_for`/`replyFor`/`reply_to`/`replyTo`/`parent_id`/`parentId`
    /// (an id, or an object with one).
    pub fn from_value(v: &Value) -> Option<WireMessage> {
        let v = unwrap_message(v);
        if !v.is_object() {
            return None;
        }
        let id = id_of(v, &["message_id", "messageId"])?;
        let text = field(v, &["data", "message", "text", "body", "content"])
            .and_then(as_text)
            .unwrap_or_default();
        let reply_to = field(
            v,
            &[
                "reply_for",
                "replyFor",
                "reply_to",
                "replyTo",
                "parent_id",
                "parentId",
            ],
        )
        .and_then(|r| match r {
            Value::Object(_) => id_of(unwrap_data(r), &[]),
            other => as_text(other),
        })
        .filter(|s| !s.trim().is_empty() && s != "0");
        Some(WireMessage {
            id,
            text: sanitize(&text),
            author: author(v),
            reply_to,
            deleted: is_taken_down(v),
            created: created_of(v),
        })
    }

    pub fn to_message(&self, source: SourceId, created: Millis) -> Message {
        Message {
            source,
            id: self.id.clone(),
            author: self.author.clone(),
            text: self.text.clone(),
            reply_to: self.reply_to.clone(),
            created,
        }
    }
}

/// A message object may sit in a `data` envelope, but its own text is also
/// called `data`: only unwrap when `data` holds an object with an id.
fn unwrap_message(v: &Value) -> &Value {
    let mut v = v;
    for _ in 0..3 {
        match v.get("data") {
            Some(inner) if inner.is_object() => v = inner,
            _ => break,
        }
    }
    v
}

/// All messages of a `thread/read` answer.
pub fn messages(v: &Value) -> Result<Vec<WireMessage>, ProviderError> {
    let list = items(v)
        .ok_or_else(|| ProviderError::Protocol("thread/read did not answer with a list".into()))?;
    Ok(list.iter().filter_map(WireMessage::from_value).collect())
}
