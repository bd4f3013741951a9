//! Error answers: parsing the platform's error body, classifying status
//! and body codes, and mapping them to [`ProviderError`].

use super::{as_int, as_text};
use crate::domain::ProviderError;
use crate::secret;
use crate::text::sanitize;
use serde_json::Value;

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
