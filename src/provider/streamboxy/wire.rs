//! STREAMBOXY JSON shapes, read leniently.
//!
//! The public document shows request bodies in camelCase (`title`,
//! `startDateTimeUtc`, `rowVersion`) and the error body in PascalCase
//! (`Message`, `ErrorCode`), and leaves most response bodies to a Swagger page
//! qadeck does not have. So every field is looked up by name *without regard
//! to case*, lists are accepted bare (`[...]`) or wrapped in a common envelope
//! (`items`, `value`, `data`, `results`, ...), and ids and row versions are
//! accepted as strings or numbers. Every string the platform sends passes
//! through [`sanitize`] here, before anything else sees it.

use crate::domain::{EventDraft, EventInfo, Participant, ParticipantDraft, Role, SourceId};
use crate::text::sanitize;
use serde_json::{Map, Value, json};

/// Longest description STREAMBOXY accepts (`VLD0025`: 1–500 characters).
pub const MAX_DESCRIPTION: usize = 500;

/// Field of an object by any of `names`, compared without case.
pub fn field<'a>(v: &'a Value, names: &[&str]) -> Option<&'a Value> {
    let obj = v.as_object()?;
    for name in names {
        if let Some(found) = obj.get(*name)
            && !found.is_null()
        {
            return Some(found);
        }
        if let Some((_, found)) = obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))
            && !found.is_null()
        {
            return Some(found);
        }
    }
    None
}

/// A scalar field as sanitized text (strings as is, numbers and booleans
/// printed); empty strings count as absent.
pub fn text(v: &Value, names: &[&str]) -> Option<String> {
    let raw = match field(v, names)? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    let s = sanitize(raw.trim());
    (!s.is_empty()).then_some(s)
}

/// The items of a list answer: a bare array or an object wrapping one.
pub fn items(v: &Value) -> Option<&Vec<Value>> {
    if let Some(a) = v.as_array() {
        return Some(a);
    }
    const ENVELOPES: &[&str] = &[
        "items",
        "value",
        "data",
        "results",
        "result",
        "records",
        "content",
        "entities",
        "sessions",
        "sessionUsers",
        "users",
    ];
    ENVELOPES
        .iter()
        .find_map(|name| field(v, &[name]).and_then(Value::as_array))
}

/// The link to the next page of a list, when the answer has one.
pub fn next_link(v: &Value) -> Option<String> {
    field(v, &["@odata.nextLink", "nextLink", "nextPageLink", "next"])
        .and_then(Value::as_str)
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

/// The documented error body `{Message, ErrorCode, OperationId, DetailedMessage}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiError {
    /// Safe to show to the moderator.
    pub message: Option<String>,
    pub code: Option<String>,
    pub operation_id: Option<String>,
    /// For the log only: "should not be displayed to end-users".
    pub detail: Option<String>,
}

impl ApiError {
    /// Reads an error body; anything unreadable gives an empty error.
    pub fn parse(body: &[u8]) -> ApiError {
        let Ok(v) = serde_json::from_slice::<Value>(body) else {
            return ApiError::default();
        };
        // Some gateways wrap it: {"error": {...}}.
        let v = match field(&v, &["error"]) {
            Some(inner) if inner.is_object() => inner.clone(),
            _ => v,
        };
        ApiError {
            message: text(&v, &["Message", "title"]),
            code: text(&v, &["ErrorCode", "code"]),
            operation_id: text(&v, &["OperationId", "traceId"]),
            detail: text(&v, &["DetailedMessage", "detail"]),
        }
    }

    /// Whether the platform says this is an optimistic-concurrency refusal.
    pub fn mentions_concurrency(&self) -> bool {
        [&self.message, &self.code, &self.detail]
            .into_iter()
            .flatten()
            .map(|s| s.to_ascii_lowercase())
            .any(|s| {
                [
                    "rowversion",
                    "row version",
                    "row_version",
                    "concurrency",
                    "concurrent",
                    "modified",
                    "changed by",
                    "stale",
                    "outdated",
                    "not the latest",
                    "conflict",
                ]
                .iter()
                .any(|k| s.contains(k))
            })
    }
}

/// A role as STREAMBOXY spells it; a role qadeck has no name for goes back
/// exactly as the platform sent it.
pub fn role_str(role: &Role) -> &str {
    match role {
        Role::Participant => "Participant",
        Role::Moderator => "Moderator",
        Role::Speaker => "Speaker",
        Role::Other(s) => s,
    }
}

/// A row version as qadeck keeps it, and whether it came as a number.
pub fn row_version(v: &Value) -> Option<(String, bool)> {
    match field(v, &["rowVersion", "row_version", "version"])? {
        Value::String(s) if !s.is_empty() => Some((s.clone(), false)),
        Value::Number(n) => Some((n.to_string(), true)),
        _ => None,
    }
}

/// The same row version in the type the platform used.
pub fn row_version_value(version: &str, numeric: bool) -> Value {
    if numeric && let Ok(n) = version.parse::<i64>() {
        return Value::from(n);
    }
    Value::String(version.to_string())
}

/// One session user. Name and e-mail may sit on the user or on a nested
/// tenant user; the participation link may be named a few ways.
pub fn participant(v: &Value, source: SourceId) -> Option<(Participant, bool)> {
    let id = text(v, &["id", "sessionUserId"])?;
    let nested: Vec<&Value> = ["tenantUser", "user"]
        .iter()
        .filter_map(|n| field(v, &[n]))
        .filter(|n| n.is_object())
        .collect();
    let pick =
        |names: &[&str]| text(v, names).or_else(|| nested.iter().find_map(|n| text(n, names)));
    let name = pick(&["name", "displayName", "fullName"]).or_else(|| {
        let first = pick(&["firstName"]).unwrap_or_default();
        let last = pick(&["lastName"]).unwrap_or_default();
        let both = format!("{first} {last}").trim().to_string();
        (!both.is_empty()).then_some(both)
    });
    let (version, numeric) = match row_version(v) {
        Some((s, n)) => (Some(sanitize(&s)), n),
        None => (None, false),
    };
    let p = Participant {
        source,
        id,
        name: name.unwrap_or_default(),
        email: pick(&["email", "emailAddress", "mail"]),
        role: pick(&["role", "sessionRole", "userRole"])
            .map(|r| Role::parse(&r))
            .unwrap_or(Role::Participant),
        link: pick(&[
            "participantLink",
            "participationLink",
            "participantUrl",
            "link",
        ]),
        version,
        external_key: pick(&["externalKey", "external_key"]),
    };
    Some((p, numeric))
}

/// A new participant link from a `RenewParticipantLink` answer: a user
/// object, an object with only the link, a JSON string or a bare URL.
pub fn renewed_link(body: &[u8]) -> Option<String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::String(s)) => Some(sanitize(s.trim())).filter(|s| !s.is_empty()),
        Ok(v) => text(
            &v,
            &[
                "participantLink",
                "participationLink",
                "participantUrl",
                "link",
                "url",
            ],
        ),
        Err(_) => {
            let s = String::from_utf8_lossy(body).trim().to_string();
            (s.starts_with("http://") || s.starts_with("https://")).then(|| sanitize(&s))
        }
    }
}

/// One session as an event.
pub fn session(v: &Value) -> Option<EventInfo> {
    Some(EventInfo {
        id: text(v, &["id", "sessionId"])?,
        title: text(v, &["title", "name"]).unwrap_or_default(),
        active: field(v, &["isActive", "active"]).and_then(Value::as_bool),
        starts: text(v, &["startDateTimeUtc", "startDateTime", "start"]),
    })
}

/// Body of `POST .../SessionUser`, checked before sending: the documented
/// body names the participant and gives an e-mail address.
pub fn add_body(d: &ParticipantDraft) -> Result<Value, String> {
    if d.name.trim().is_empty() {
        return Err("a participant needs a name".into());
    }
    let email = d
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or("STREAMBOXY invites by e-mail: an address is required")?;
    let mut m = Map::new();
    m.insert("role".into(), json!(role_str(&d.role)));
    m.insert("email".into(), json!(email));
    m.insert("sendMailNotification".into(), json!(d.notify));
    m.insert("name".into(), json!(d.name));
    m.insert("authProvider".into(), json!("AccessKey"));
    m.insert("isOneTimeAccessKey".into(), json!(d.one_time_link));
    if let Some(key) = &d.external_key {
        m.insert("externalKey".into(), json!(key));
    }
    Ok(Value::Object(m))
}

/// Body of `PATCH .../SessionUser/{id}`: the row version and only the
/// fields that change ("PATCH … specific properties").
pub fn patch_body(name: Option<&str>, role: Option<&Role>, version: Value) -> Value {
    let mut m = Map::new();
    if let Some(n) = name {
        m.insert("name".into(), json!(n));
    }
    if let Some(r) = role {
        m.insert("role".into(), json!(role_str(r)));
    }
    m.insert("rowVersion".into(), version);
    Value::Object(m)
}

/// Length as the platform (.NET) counts it: UTF-16 code units, which is never
/// less than the number of characters, so qadeck never sends what the
/// platform would refuse.
pub fn platform_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// A time as STREAMBOXY wants it: UTC `yyyy-MM-ddTHH:mm:ssZ`. Accepts RFC 3339
/// with any offset, or a time without offset (taken as UTC).
pub fn utc(s: &str) -> Result<String, String> {
    use chrono::{DateTime, NaiveDateTime, Utc};
    let s = s.trim();
    let at = if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        t.with_timezone(&Utc)
    } else {
        [
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
        ]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|n| n.and_utc())
        .ok_or_else(|| format!("`{s}` is not a time like 2025-03-01T14:00:00Z"))?
    };
    Ok(at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// Body of `POST /tenant/{t}/Session`, checked before sending.
pub fn session_body(d: &EventDraft) -> Result<Value, String> {
    let title = d.title.as_deref().map(str::trim).unwrap_or("");
    if title.is_empty() {
        return Err("a session needs a title".into());
    }
    let description = d.description.as_deref().unwrap_or("");
    let len = platform_len(description);
    if len == 0 || len > MAX_DESCRIPTION {
        return Err(format!(
            "description length should be between 1 and {MAX_DESCRIPTION} characters (it is {len})"
        ));
    }
    let mut m = Map::new();
    m.insert("title".into(), json!(title));
    m.insert("description".into(), json!(description));
    fn given(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|t| !t.is_empty())
    }
    let start = utc(given(&d.start).ok_or("a session needs a start time (--start)")?)?;
    let end = utc(given(&d.end).ok_or("a session needs an end time (--end)")?)?;
    if end < start {
        return Err("the session ends before it starts".into());
    }
    m.insert("startDateTimeUtc".into(), json!(start));
    m.insert("endDateTimeUtc".into(), json!(end));
    let kind = given(&d.kind).unwrap_or("Lobby");
    m.insert("sessionType".into(), json!(kind));
    match given(&d.content_url) {
        Some(url) if !url.starts_with("https://") => {
            return Err("the content URL must start with https://".into());
        }
        Some(url) => {
            m.insert("contentUrl".into(), json!(url));
        }
        None if kind.eq_ignore_ascii_case("lobby") => {
            return Err(
                "a Lobby session needs a content URL starting with https:// (--content-url)".into(),
            );
        }
        None => {}
    }
    Ok(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_ignore_case_and_lists_unwrap() {
        let v = json!({"Message": "m", "errorcode": "VLD0025"});
        let e = ApiError::parse(v.to_string().as_bytes());
        assert_eq!(e.message.as_deref(), Some("m"));
        assert_eq!(e.code.as_deref(), Some("VLD0025"));
        assert_eq!(items(&json!([1])).map(Vec::len), Some(1));
        assert_eq!(items(&json!({"Items": [1, 2]})).map(Vec::len), Some(2));
        assert_eq!(items(&json!({"value": []})).map(Vec::len), Some(0));
        let stale = json!({"Message": "Update failed", "ErrorCode": "VLD0099",
            "DetailedMessage": "RowVersion is not the latest"});
        assert!(ApiError::parse(stale.to_string().as_bytes()).mentions_concurrency());
        let other =
            json!({"Message": "Description length should be between 1 and 500 characters."});
        assert!(!ApiError::parse(other.to_string().as_bytes()).mentions_concurrency());
    }

    #[test]
    fn participant_reads_nested_and_numeric_versions() {
        let v = json!({
            "id": 42, "tenantUser": {"email": "a@b.c", "firstName": "Ada", "lastName": "L"},
            "role": "moderator", "participantLink": "https://x/y", "rowVersion": 7,
            "externalKey": "crm-1"
        });
        let (p, numeric) = participant(&v, SourceId(0)).unwrap();
        assert_eq!(p.id, "42");
        assert_eq!(p.name, "Ada L");
        assert_eq!(p.email.as_deref(), Some("a@b.c"));
        assert_eq!(p.role, Role::Moderator);
        assert_eq!(p.version.as_deref(), Some("7"));
        assert!(numeric);
        assert_eq!(row_version_value("7", true), json!(7));
        assert_eq!(
            row_version_value("AAAAAAAAB9E=", false),
            json!("AAAAAAAAB9E=")
        );
    }

    #[test]
    fn hostile_names_are_sanitized() {
        let v = json!({"id": "u1", "name": "\u{1b}[2Jevil\u{202e}"});
        let (p, _) = participant(&v, SourceId(0)).unwrap();
        assert!(crate::text::is_terminal_safe(&p.name), "{}", p.name);
    }

    #[test]
    fn session_body_validates_before_sending() {
        let mut d = EventDraft {
            title: Some("Keynote".into()),
            description: Some(String::new()),
            start: Some("2025-03-01T15:00:00+01:00".into()),
            end: Some("2025-03-01 16:00".into()),
            ..EventDraft::default()
        };
        assert!(session_body(&d).unwrap_err().contains("between 1 and 500"));
        d.description = Some("x".repeat(501));
        assert!(session_body(&d).is_err());
        d.description = Some("x".repeat(500));
        assert!(session_body(&d).unwrap_err().contains("content URL"));
        d.content_url = Some("https://stage.example/live".into());
        let b = session_body(&d).unwrap();
        assert_eq!(b["startDateTimeUtc"], "2025-03-01T14:00:00Z");
        assert_eq!(b["endDateTimeUtc"], "2025-03-01T16:00:00Z");
        assert_eq!(b["sessionType"], "Lobby");
        d.content_url = Some("http://insecure".into());
        assert!(session_body(&d).is_err());
        d.content_url = None;
        d.kind = Some("Stage".into());
        assert!(session_body(&d).is_ok(), "only a Lobby needs a content URL");
        d.end = Some("2025-03-01T13:00:00Z".into());
        assert!(session_body(&d).unwrap_err().contains("ends before"));
        d.end = None;
        assert!(session_body(&d).unwrap_err().contains("end time"));
        d.start = Some(" ".into());
        assert!(session_body(&d).unwrap_err().contains("start time"));
    }

    #[test]
    fn bodies_carry_what_the_document_asks() {
        let mut d = ParticipantDraft {
            name: "Ada".into(),
            email: None,
            role: Role::Speaker,
            notify: false,
            one_time_link: false,
            link_lifetime_min: None,
            external_key: None,
        };
        assert!(add_body(&d).unwrap_err().contains("e-mail"));
        d.email = Some("ada@example.com".into());
        let b = add_body(&d).unwrap();
        assert_eq!(
            (b["role"].as_str(), b["email"].as_str()),
            (Some("Speaker"), Some("ada@example.com"))
        );
        let rename = patch_body(Some("Ada L."), None, json!("AAA="));
        assert_eq!(rename, json!({"name": "Ada L.", "rowVersion": "AAA="}));
        let other = Role::Other("Backstage".into());
        let promote = patch_body(None, Some(&other), json!(7));
        assert_eq!(promote, json!({"role": "Backstage", "rowVersion": 7}));
    }

    #[test]
    fn renewed_link_shapes() {
        assert_eq!(
            renewed_link(b"\"https://l/1\"").as_deref(),
            Some("https://l/1")
        );
        assert_eq!(renewed_link(b"https://l/2").as_deref(), Some("https://l/2"));
        let v = json!({"participantLink": "https://l/3"}).to_string();
        assert_eq!(renewed_link(v.as_bytes()).as_deref(), Some("https://l/3"));
        assert_eq!(renewed_link(b"{}"), None);
    }
}
