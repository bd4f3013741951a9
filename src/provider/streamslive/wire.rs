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

use crate::domain::{
    EventInfo, Message, Millis, MyVote, ProviderError, Question, SourceId, Status,
};
use crate::secret;
use crate::text::sanitize;
use serde::Serialize;
use serde_json::Value;

// ---------------------------------------------------------------------------
// Requests (field names exactly as documented)
// ---------------------------------------------------------------------------

/// `POST auth/login`.
#[derive(Serialize)]
pub struct LoginBody<'a> {
    pub email: &'a str,
    pub password: &'a str,
}

/// `POST auth/login/refresh`.
#[derive(Serialize)]
pub struct RefreshBody<'a> {
    pub refresh_token: &'a str,
}

/// `POST questions/read`: `eventId` or `eventSlug` (one is required without
/// the other; the document's own example sends both, and so do we when both
/// are known).
#[derive(Serialize)]
pub struct ReadQuestions<'a> {
    #[serde(rename = "eventId", skip_serializing_if = "Option::is_none")]
    pub event_id: Option<&'a str>,
    #[serde(rename = "eventSlug", skip_serializing_if = "Option::is_none")]
    pub event_slug: Option<&'a str>,
}

/// `POST questions/create`: `eventId` is documented as "the slug of the
/// channel".
#[derive(Serialize)]
pub struct CreateQuestion<'a> {
    pub question: &'a str,
    #[serde(rename = "eventId")]
    pub event_id: &'a str,
}

/// `POST questions/vote`: direction 1 = down, 2 = up.
#[derive(Serialize)]
pub struct VoteBody<'a> {
    #[serde(rename = "questionId")]
    pub question_id: &'a str,
    pub direction: u8,
}

pub const DIRECTION_DOWN: u8 = 1;
pub const DIRECTION_UP: u8 = 2;

/// `POST questions/archive`.
#[derive(Serialize)]
pub struct ArchiveBody<'a> {
    #[serde(rename = "eventSlug")]
    pub event_slug: &'a str,
    #[serde(rename = "questionId")]
    pub question_id: &'a str,
}

/// `POST thread/read`.
#[derive(Serialize)]
pub struct ReadThread<'a> {
    #[serde(rename = "threadSlug")]
    pub thread_slug: &'a str,
    #[serde(rename = "userId", skip_serializing_if = "Option::is_none")]
    pub user_id: Option<&'a str>,
}

/// `POST messages`: `thread_id` is documented as a number; it is sent as a
/// JSON number when the event gave a numeric id, as a string otherwise.
#[derive(Serialize)]
pub struct PostMessage<'a> {
    pub data: &'a str,
    pub thread_id: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_for: Option<&'a str>,
}

/// `DELETE messages/delete` (JSON body).
#[derive(Serialize)]
pub struct DeleteMessage<'a> {
    pub thread_slug: &'a str,
    pub message_id: &'a str,
}

/// `PUT events/{id}`. The document's request body names the questions flag
/// `questionsEnabled` while the event object (and the issue) says
/// `questions_enabled`; both spellings are sent so either reading works.
#[derive(Serialize, Default)]
pub struct UpdateEvent {
    #[serde(rename = "questionsEnabled", skip_serializing_if = "Option::is_none")]
    pub questions_enabled_camel: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub questions_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guest_chat_enabled: Option<bool>,
}

/// Body of the `stats/parse/download/*` calls. The document lists no
/// parameters for them; the sibling `stats/parse` takes `eventId`, so that is
/// what is sent.
#[derive(Serialize)]
pub struct ReportBody<'a> {
    #[serde(rename = "eventId")]
    pub event_id: &'a str,
}

// ---------------------------------------------------------------------------
// Tolerant value pickers
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Questions
// ---------------------------------------------------------------------------

/// One question as read from the wire, before the provider fills in what the
/// platform did not say (first-seen time, the moderator's own vote).
#[derive(Debug, Clone, PartialEq)]
pub struct WireQuestion {
    pub id: String,
    pub text: String,
    pub author: Option<String>,
    pub votes: i64,
    /// Whether the object carried any vote field (else `votes` is 0 by
    /// default and says nothing).
    pub votes_known: bool,
    pub my_vote: Option<MyVote>,
    pub archived: bool,
    pub created: Option<Millis>,
    pub updated: Option<Millis>,
}

impl WireQuestion {
    /// Reads one question object. Accepted: id in `id`/`hash_id`/
    /// `question_id`/`questionId`/`uuid`; text in `question`/`message`/
    /// `text`/`body`/`content`/`data`; votes in `votes` (a number, or an
    /// object with `up`/`down`), `votes_count`/`votesCount`/`vote_count`/
    /// `score`, or up minus down (`upvotes`/`up_votes`/`upVotes`/`votes_up`/
    /// `likes` and the `down`/`dislikes` forms); the moderator's vote in `my_vote`/
    /// `myVote`/`user_vote`/`userVote`/`voted` as 2/"up" or 1/"down".
    pub fn from_value(v: &Value) -> Option<WireQuestion> {
        let v = unwrap_data(v);
        if !v.is_object() {
            return None;
        }
        let id = id_of(v, &["question_id", "questionId"])?;
        let text = field(
            v,
            &["question", "message", "text", "body", "content", "data"],
        )
        .and_then(as_text)
        .unwrap_or_default();
        let votes = votes_of(v);
        Some(WireQuestion {
            id,
            text: sanitize(&text),
            author: author(v),
            votes: votes.unwrap_or(0),
            votes_known: votes.is_some(),
            my_vote: field(v, &["my_vote", "myVote", "user_vote", "userVote", "voted"])
                .and_then(vote_of),
            archived: is_taken_down(v),
            created: created_of(v),
            updated: updated_of(v),
        })
    }
}

fn votes_of(v: &Value) -> Option<i64> {
    const UP: [&str; 7] = [
        "upvotes", "up_votes", "upVotes", "votes_up", "votesUp", "up", "likes",
    ];
    const DOWN: [&str; 7] = [
        "downvotes",
        "down_votes",
        "downVotes",
        "votes_down",
        "votesDown",
        "down",
        "dislikes",
    ];
    let up_down = |o: &Value| -> Option<i64> {
        let up = field(o, &UP).and_then(as_int);
        let down = field(o, &DOWN).and_then(as_int);
        (up.is_some() || down.is_some()).then(|| up.unwrap_or(0).saturating_sub(down.unwrap_or(0)))
    };
    if let Some(votes) = v.get("votes") {
        if let Some(n) = as_int(votes).filter(|_| !votes.is_boolean()) {
            return Some(n);
        }
        if votes.is_object()
            && let Some(n) = up_down(votes)
        {
            return Some(n);
        }
        if let Value::Array(a) = votes {
            return Some(a.len() as i64);
        }
    }
    field(v, &["votes_count", "votesCount", "vote_count", "score"])
        .and_then(as_int)
        .or_else(|| up_down(v))
}

fn vote_of(v: &Value) -> Option<MyVote> {
    match v {
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "up" | "2" => Some(MyVote::Up),
            "down" | "1" => Some(MyVote::Down),
            "" | "0" | "none" => Some(MyVote::None),
            _ => None,
        },
        Value::Number(_) => match as_int(v)? {
            2 => Some(MyVote::Up),
            1 => Some(MyVote::Down),
            0 => Some(MyVote::None),
            _ => None,
        },
        _ => None,
    }
}

/// All questions of a `questions/read` answer (entries without an id are
/// skipped and logged).
pub fn questions(v: &Value) -> Result<Vec<WireQuestion>, ProviderError> {
    let list = items(v).ok_or_else(|| {
        ProviderError::Protocol("questions/read did not answer with a list".into())
    })?;
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        match WireQuestion::from_value(item) {
            Some(q) => out.push(q),
            None => tracing::debug!("streams.live: skipped a question without an id"),
        }
    }
    Ok(out)
}

/// Builds the domain question.
pub fn to_question(
    w: &WireQuestion,
    source: SourceId,
    status: Status,
    my_vote: MyVote,
    created: Millis,
    updated: Millis,
) -> Question {
    Question {
        source,
        id: w.id.clone(),
        text: w.text.clone(),
        author: w.author.clone(),
        votes: w.votes,
        my_vote,
        status,
        on_air: false,
        created,
        updated,
    }
}

// ---------------------------------------------------------------------------
// Chat
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Events (channels)
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------

/// The answer of `auth/login` and `auth/login/refresh`.
#[derive(Debug, Clone)]
pub struct TokenAnswer {
    pub access_token: secret::Secret,
    pub refresh_token: Option<secret::Secret>,
    /// Seconds; `None` when the server did not say (then only a 401 renews).
    pub expires_in: Option<f64>,
}

impl TokenAnswer {
    /// Reads `access_token`, `refresh_token`, `expires_in` (number or string),
    /// also inside a `data` envelope. Both tokens are registered for
    /// redaction as soon as they are read.
    pub fn from_value(v: &Value) -> Option<TokenAnswer> {
        let v = unwrap_data(v);
        let access = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())?;
        let refresh = v
            .get("refresh_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(secret::Secret::new);
        let expires_in = v.get("expires_in").and_then(|e| match e {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        });
        Some(TokenAnswer {
            access_token: secret::Secret::new(access),
            refresh_token: refresh,
            expires_in,
        })
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// The platform's error body `{"error":{"code","title","message","messages"}}`.
/// Also read: Laravel's plain `{"message", "errors"}` and a top-level
/// `{"code","message"}`. `messages` may be a list of strings, an object of
/// field → list of strings, or one string.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiError {
    pub code: Option<u16>,
    pub title: Option<String>,
    pub message: Option<String>,
    pub messages: Vec<String>,
}

impl ApiError {
    /// Reads an error body; `None` when the bytes are not an error object.
    pub fn parse(body: &[u8]) -> Option<ApiError> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let e = match v.get("error") {
            Some(e @ Value::Object(_)) => e,
            Some(Value::String(s)) => {
                return Some(ApiError {
                    message: Some(s.clone()),
                    ..ApiError::default()
                });
            }
            _ if v.get("message").is_some() || v.get("errors").is_some() => &v,
            _ => return None,
        };
        let mut messages = Vec::new();
        if let Some(m) = e.get("messages").or_else(|| e.get("errors")) {
            flatten_messages(m, &mut messages);
        }
        Some(ApiError {
            code: e
                .get("code")
                .or_else(|| e.get("status"))
                .and_then(as_int)
                .and_then(|c| u16::try_from(c).ok()),
            title: e.get("title").and_then(as_text),
            message: e.get("message").and_then(as_text),
            messages,
        })
    }
}

fn flatten_messages(v: &Value, out: &mut Vec<String>) {
    if out.len() >= 20 {
        return;
    }
    match v {
        Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
        Value::Array(a) => a.iter().for_each(|x| flatten_messages(x, out)),
        Value::Object(o) => o.values().for_each(|x| flatten_messages(x, out)),
        _ => {}
    }
}

/// Which family an answer falls into, from the HTTP status and the body's
/// `code`. The rules (both numbers can disagree; the document shows a 401
/// carrying 422 and 500s carrying 404):
/// - 429 in either → rate limited;
/// - HTTP 401, or a body code 401 → authentication (the caller refreshes and
///   retries once first);
/// - HTTP 403 or body 403 → forbidden;
/// - a 5xx status carrying a 4xx body code → the body code wins (the server
///   knew the cause, its framework picked the status);
/// - a 2xx status with an error body → the body code, else a protocol error;
/// - otherwise the HTTP status decides.
pub fn classify(http: u16, code: Option<u16>) -> u16 {
    let code4 = code.filter(|c| (400..500).contains(c));
    if http == 429 || code == Some(429) {
        return 429;
    }
    if http == 401 || code == Some(401) {
        return 401;
    }
    if http == 403 || code == Some(403) {
        return 403;
    }
    if http >= 500 {
        return code4.unwrap_or(http);
    }
    if (200..300).contains(&http) {
        return code.filter(|c| *c >= 400).unwrap_or(502);
    }
    http
}

/// Maps an error answer to a [`ProviderError`]. The text shown is the
/// body's `message` (sanitized, secrets redacted); validation `messages` are
/// joined into it. `title` and the raw codes go to the log only.
pub fn to_error(http: u16, retry_after_ms: u64, body: &[u8], what: &str) -> ProviderError {
    let err = ApiError::parse(body).unwrap_or_default();
    let class = classify(http, err.code);
    let title = err.title.as_deref().map(clean);
    let shown = err.message.as_deref().map(clean);
    let all: Vec<String> = err.messages.iter().map(|m| clean(m)).collect();
    // 401 (renewed and retried) and 404 (e.g. a slug tried as an id) are
    // routine; the rest is worth a warning in the log.
    if matches!(class, 401 | 404) {
        tracing::debug!(http, code = ?err.code, ?title, message = ?shown, messages = ?all, "streams.live: {what} failed");
    } else {
        tracing::warn!(http, code = ?err.code, ?title, message = ?shown, messages = ?all, "streams.live: {what} failed");
    }
    let message = err
        .message
        .as_deref()
        .map(clean)
        .filter(|m| !m.trim().is_empty());
    let details = err
        .messages
        .iter()
        .map(|m| clean(m))
        .collect::<Vec<_>>()
        .join("; ");
    let text = |fallback: &str| -> String {
        match (&message, details.is_empty()) {
            (Some(m), true) => format!("{what}: {m}"),
            (Some(m), false) if m.contains(&details) => format!("{what}: {m}"),
            (Some(m), false) => format!("{what}: {m}: {details}"),
            (None, false) => format!("{what}: {details}"),
            (None, true) => format!("{what}: {fallback}"),
        }
    };
    match class {
        429 => ProviderError::RateLimited { retry_after_ms },
        401 => ProviderError::Auth(text("the platform refused the credentials")),
        403 => ProviderError::Forbidden(text("this account may not do that")),
        404 | 410 => ProviderError::NotFound(text("no such item on the platform")),
        409 => ProviderError::Conflict(text("conflict")),
        400 | 422 => ProviderError::Invalid(text("the platform refused the request")),
        c if c >= 500 => ProviderError::Server(text(&format!("HTTP {http}"))),
        c if (400..500).contains(&c) => {
            ProviderError::Invalid(text(&format!("the platform answered {c}")))
        }
        _ => ProviderError::Protocol(text(&format!("unexpected answer (HTTP {http})"))),
    }
}

/// Server text for the moderator: sanitized, secrets masked, bounded.
pub fn clean(s: &str) -> String {
    let s = secret::redact(&sanitize(s));
    if s.chars().count() > 500 {
        let mut cut: String = s.chars().take(500).collect();
        cut.push('…');
        cut
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn question_fields_as_strings_or_numbers() {
        let v = json!({"data": {"id": 12, "question": "Hi\u{1b}[2J", "votes": "3",
            "user": {"data": {"nickname": "Ana"}}, "created_at": "2024-05-01 10:00:00"}});
        let q = WireQuestion::from_value(&v).unwrap();
        assert_eq!(q.id, "12");
        assert_eq!(q.text, "Hi␛[2J");
        assert_eq!(q.votes, 3);
        assert_eq!(q.author.as_deref(), Some("Ana"));
        assert_eq!(q.created, Some(1_714_557_600_000));
        let v =
            json!({"hash_id": "ab", "message": "x", "upvotes": 5, "downvotes": "2", "archived": 1});
        let q = WireQuestion::from_value(&v).unwrap();
        assert_eq!((q.votes, q.archived, q.author), (3, true, None));
    }

    #[test]
    fn lists_in_envelopes() {
        assert_eq!(questions(&json!([{"id": "a"}])).unwrap().len(), 1);
        assert_eq!(
            questions(&json!({"data": {"data": [{"id": "a"}, {"x": 1}]}}))
                .unwrap()
                .len(),
            1
        );
        assert!(questions(&json!({"data": {"id": "a"}})).is_err());
        let m = messages(&json!({"data": [{"id": 3, "data": "hello", "reply_for": 2}]})).unwrap();
        assert_eq!(
            (m[0].text.as_str(), m[0].reply_to.as_deref()),
            ("hello", Some("2"))
        );
    }

    #[test]
    fn error_codes_disagreeing_with_status() {
        let body = br#"{"error":{"code":422,"message":"The user credentials were incorrect."}}"#;
        assert!(
            matches!(to_error(401, 0, body, "login"), ProviderError::Auth(m) if m.contains("incorrect"))
        );
        let body = br#"{"error":{"code":404,"title":"Error","message":"","messages":[]}}"#;
        assert!(matches!(
            to_error(500, 0, body, "read"),
            ProviderError::NotFound(_)
        ));
        let body = br#"{"error":{"code":500,"title":"Error","message":"boom","messages":[]}}"#;
        assert!(matches!(
            to_error(500, 0, body, "read"),
            ProviderError::Server(_)
        ));
        let body = br#"{"error":{"code":422,"title":"V","message":"Invalid.","messages":{"data":["Too long."]}}}"#;
        let e = to_error(422, 0, body, "post");
        assert_eq!(
            e,
            ProviderError::Invalid("post: Invalid.: Too long.".into())
        );
        assert!(matches!(
            to_error(429, 7000, b"", "x"),
            ProviderError::RateLimited {
                retry_after_ms: 7000
            }
        ));
        assert!(matches!(
            to_error(503, 0, b"<html>", "x"),
            ProviderError::Server(_)
        ));
    }

    #[test]
    fn event_meta() {
        let v = json!({"data": {"id": "gDq", "slug": "pK5", "name": "Test", "thread_id": 1,
            "questions_enabled": false, "chat_enabled": "1", "owner": {"data": {"id": 55}}}});
        let e = EventMeta::from_value(&v).unwrap();
        assert_eq!(e.key(), "pK5");
        assert_eq!(e.thread_text().as_deref(), Some("1"));
        assert_eq!(e.owner_id.as_deref(), Some("55"));
        assert_eq!(
            (e.questions_enabled, e.chat_enabled),
            (Some(false), Some(true))
        );
    }

    #[test]
    fn times() {
        assert_eq!(as_millis(&json!(1_700_000_000)), Some(1_700_000_000_000));
        assert_eq!(
            as_millis(&json!(1_700_000_000_123i64)),
            Some(1_700_000_000_123)
        );
        assert_eq!(
            as_millis(&json!("2023-04-07T10:12:36.000000Z")),
            Some(1_680_862_356_000)
        );
    }
}
