//! PostoBox answers mapped to what the moderator can do about them.

use super::wire::{self, ApiError};
use crate::domain::ProviderError;
use crate::provider::http;
use reqwest::header::HeaderMap;

/// The error `code` of a plan without the stream.
pub const PLAN_UPGRADE_REQUIRED: &str = "PLAN_UPGRADE_REQUIRED";

/// What a request was about: names the scope it needs and what a 404 means.
#[derive(Debug, Clone, Copy)]
pub enum Ctx<'a> {
    ListEvents,
    /// Reading an event or its questions (`events:read` / `questions:read`).
    Event {
        id: &'a str,
        scope: &'static str,
    },
    /// One question (read, moderate or vote, after `scope`).
    Question {
        event: &'a str,
        id: &'a str,
        scope: &'static str,
    },
    /// Changing an event (`events:write`).
    EventWrite {
        id: &'a str,
    },
    Organization,
}

impl Ctx<'_> {
    pub fn scope(&self) -> &'static str {
        match self {
            Ctx::ListEvents => "events:read",
            Ctx::Event { scope, .. } | Ctx::Question { scope, .. } => scope,
            Ctx::EventWrite { .. } => "events:write",
            Ctx::Organization => "organization:read",
        }
    }

    fn not_found(&self, api: &ApiError) -> String {
        let says_event = |api: &ApiError| {
            let text = format!(
                "{} {}",
                api.code.as_deref().unwrap_or(""),
                api.message.as_deref().unwrap_or("")
            )
            .to_ascii_lowercase();
            text.contains("event") && !text.contains("question")
        };
        match self {
            Ctx::ListEvents => "no events endpoint (check base_url)".into(),
            Ctx::Event { id, .. } | Ctx::EventWrite { id } => format!("event {id} not found"),
            Ctx::Question { event, .. } if says_event(api) => format!("event {event} not found"),
            Ctx::Question { id, event, .. } => format!("question {id} not found in event {event}"),
            Ctx::Organization => "organization not found".into(),
        }
    }
}

/// A failed call: the error for the moderator plus what the feed needs to
/// tell a plan without the stream from other refusals.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub err: ProviderError,
    pub status: Option<u16>,
    pub code: Option<String>,
    /// The refusal is about the plan: code `PLAN_UPGRADE_REQUIRED` (any
    /// status), or a 403 naming no scope whose code or message speaks of the
    /// plan, an upgrade or Enterprise.
    pub plan: bool,
}

impl Failure {
    pub fn plan_upgrade(&self) -> bool {
        self.plan
    }

    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
    }
}

impl From<ProviderError> for Failure {
    fn from(err: ProviderError) -> Failure {
        Failure {
            err,
            status: None,
            code: None,
            plan: false,
        }
    }
}

/// Transport failure, never with the URL (`http::net_error`).
pub fn network(e: reqwest::Error) -> Failure {
    http::net_error(e).into()
}

/// Server text made safe and short for a status line; secrets masked.
pub fn clean(s: &str) -> String {
    let one = crate::text::sanitize(s).replace('\n', " ");
    let short = crate::text::one_line(one.trim(), 200);
    crate::secret::redact(&short)
}

/// Maps a non-2xx answer.
pub fn from_status(status: u16, headers: &HeaderMap, body: &[u8], ctx: &Ctx<'_>) -> Failure {
    let api = wire::api_error(body);
    let msg = api.message.as_deref().map(clean).filter(|m| !m.is_empty());
    let code = api.code.as_deref().map(clean);
    let with_msg = |base: String| match &msg {
        Some(m) if !base.contains(m.as_str()) => format!("{base} ({m})"),
        _ => base,
    };
    let plan = api.code.as_deref() == Some(PLAN_UPGRADE_REQUIRED)
        || (status == 403 && wire::scopes_named(&api).is_empty() && {
            let text = format!(
                "{} {}",
                api.code.as_deref().unwrap_or(""),
                api.message.as_deref().unwrap_or("")
            )
            .to_ascii_lowercase();
            ["plan", "upgrade", "enterprise"]
                .iter()
                .any(|w| text.contains(w))
        });
    let err = match status {
        401 => ProviderError::Auth("API key rejected".into()),
        403 if plan => ProviderError::Forbidden(with_msg(
            "this needs a higher PostoBox plan (PLAN_UPGRADE_REQUIRED)".into(),
        )),
        403 => {
            let named = wire::scopes_named(&api);
            let scopes = if named.is_empty() {
                ctx.scope().to_string()
            } else {
                named.join(", ")
            };
            ProviderError::Forbidden(format!("the API key lacks the scope {scopes}"))
        }
        404 => ProviderError::NotFound(ctx.not_found(&api)),
        409 => ProviderError::Conflict(msg.clone().unwrap_or_else(|| "conflict".into())),
        429 => {
            let default = super::client::reset_in_ms(headers).unwrap_or(1_000).max(1);
            ProviderError::RateLimited {
                retry_after_ms: http::retry_after_ms(headers, default),
            }
        }
        400 | 405 | 406 | 413 | 415 | 422 => {
            ProviderError::Invalid(with_msg(format!("HTTP {status}")))
        }
        500..=599 => ProviderError::Server(with_msg(format!("HTTP {status}"))),
        _ => ProviderError::Protocol(with_msg(format!("unexpected HTTP {status}"))),
    };
    Failure {
        err,
        status: Some(status),
        code,
        plan,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(status: u16, body: &str, ctx: Ctx<'_>) -> Failure {
        from_status(status, &HeaderMap::new(), body.as_bytes(), &ctx)
    }

    const MODERATE: Ctx<'static> = Ctx::Question {
        event: "ev1",
        id: "q1",
        scope: "questions:moderate",
    };

    #[test]
    fn statuses_map_to_actions() {
        assert_eq!(
            map(401, "", MODERATE).err,
            ProviderError::Auth("API key rejected".into())
        );
        let f = map(
            403,
            r#"{"error":{"message":"Insufficient permissions","code":"FORBIDDEN"}}"#,
            MODERATE,
        );
        assert_eq!(
            f.err,
            ProviderError::Forbidden("the API key lacks the scope questions:moderate".into())
        );
        let f = map(
            403,
            r#"{"error":{"details":{"required":"questions:write"}}}"#,
            MODERATE,
        );
        assert!(f.err.to_string().contains("questions:write"), "{}", f.err);
        let ev = Ctx::Event {
            id: "ev9",
            scope: "questions:read",
        };
        assert_eq!(
            map(404, "", ev).err,
            ProviderError::NotFound("event ev9 not found".into())
        );
        assert_eq!(
            map(404, r#"{"error":{"message":"Event not found"}}"#, MODERATE).err,
            ProviderError::NotFound("event ev1 not found".into())
        );
        assert_eq!(
            map(404, "{}", MODERATE).err,
            ProviderError::NotFound("question q1 not found in event ev1".into())
        );
        assert!(matches!(
            map(409, "", MODERATE).err,
            ProviderError::Conflict(_)
        ));
        assert!(matches!(
            map(502, "<html>", MODERATE).err,
            ProviderError::Server(_)
        ));
        assert!(matches!(
            map(400, "", MODERATE).err,
            ProviderError::Invalid(_)
        ));
        assert!(matches!(
            map(418, "", MODERATE).err,
            ProviderError::Protocol(_)
        ));
    }

    #[test]
    fn plan_upgrade_is_recognized() {
        let f = map(
            403,
            r#"{"error":{"message":"Enterprise only","status":403,"code":"PLAN_UPGRADE_REQUIRED"}}"#,
            MODERATE,
        );
        assert!(f.plan_upgrade());
        assert!(matches!(f.err, ProviderError::Forbidden(_)));
        // Other statuses with the code, and a 403 that only says so in words.
        assert!(
            map(
                402,
                r#"{"error":{"code":"PLAN_UPGRADE_REQUIRED"}}"#,
                MODERATE
            )
            .plan_upgrade()
        );
        assert!(
            map(
                403,
                r#"{"error":{"message":"Streaming requires the Enterprise plan"}}"#,
                MODERATE
            )
            .plan_upgrade()
        );
        assert!(
            !map(
                403,
                r#"{"error":{"message":"Insufficient permissions"}}"#,
                MODERATE
            )
            .plan_upgrade()
        );
        assert!(
            !map(
                403,
                r#"{"error":{"message":"upgrade your key: questions:read"}}"#,
                MODERATE
            )
            .plan_upgrade()
        );
    }

    #[test]
    fn retry_after_is_read() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "12".parse().unwrap());
        let f = from_status(429, &h, b"", &MODERATE);
        assert_eq!(
            f.err,
            ProviderError::RateLimited {
                retry_after_ms: 12_000
            }
        );
    }

    #[test]
    fn server_text_is_cleaned_and_redacted() {
        crate::secret::register("pk_live_wire_test_secret");
        let f = map(
            500,
            "{\"error\":{\"message\":\"bad key pk_live_wire_test_secret \\u001b[2J\"}}",
            MODERATE,
        );
        let s = f.err.to_string();
        assert!(
            !s.contains("pk_live_wire_test_secret") && !s.contains('\u{1b}'),
            "{s}"
        );
    }
}
