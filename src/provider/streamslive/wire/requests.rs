//! Request bodies, with the field names exactly as the platform documents
//! them.

use serde::Serialize;
use serde_json::Value;

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
/// `questionsEnabled` while the event object says
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
