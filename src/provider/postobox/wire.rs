//! PostoBox JSON as it travels, and its mapping to the domain.
//!
//! Everything is read field by field (from a [`serde_json::Value`], or a
//! listing page straight from its bytes: `listing`), so a missing, extra or
//! mistyped field never fails a whole page and no input can panic. Audience-written strings (question text, author names) and anything
//! else shown to the moderator pass through [`sanitize`] here, at ingest.

use crate::domain::{EventInfo, Millis, MyVote, Question, SourceId, Status, Str};
use crate::text::{is_terminal_safe, sanitize, sanitized};
use serde_json::{Number, Value};
use std::borrow::Cow;

mod listing;
pub use listing::{ListPage, question_page};

/// Longest id accepted from the server (ids go into URLs and onto the screen).
const MAX_ID_LEN: usize = 256;

/// Parses a body as JSON; `None` for anything that is not.
pub fn json(body: &[u8]) -> Option<Value> {
    serde_json::from_slice(body).ok()
}

/// The payload inside a `{"data": ...}` envelope, or the value itself.
pub fn data(v: &Value) -> &Value {
    match v.get("data") {
        Some(inner) if !inner.is_null() => inner,
        _ => v,
    }
}

/// The wire name of a status.
pub fn status_to_wire(s: Status) -> &'static str {
    match s {
        Status::Pending => "DEFAULT",
        Status::Selected => "SELECTED",
        Status::Answered => "ANSWERED",
        Status::Rejected => "REJECTED",
    }
}

/// A status from the wire (case-insensitive); `None` when unknown.
pub fn status_from_wire(s: &str) -> Option<Status> {
    let s = s.trim();
    [
        ("DEFAULT", Status::Pending),
        ("PENDING", Status::Pending),
        ("SELECTED", Status::Selected),
        ("ANSWERED", Status::Answered),
        ("REJECTED", Status::Rejected),
    ]
    .into_iter()
    .find_map(|(name, status)| s.eq_ignore_ascii_case(name).then_some(status))
}

/// An ISO 8601 / RFC 3339 time (or epoch seconds/ms as a number) in ms.
pub fn parse_time(v: &Value) -> Option<Millis> {
    Field::of(v).time()
}

fn int(v: &Value) -> Option<i64> {
    Field::of(v).int()
}

fn boolean(v: &Value) -> Option<bool> {
    Field::of(v).boolean()
}

/// A server id, if it is one qadeck can safely use and show.
pub fn id_of(v: &Value) -> Option<String> {
    Field::of(v.get("id")?).id()
}

/// One field's value as read: strings borrowed (from a `Value`, or from
/// the body when it holds no escapes), anything else by kind.
#[derive(Debug, Clone, PartialEq)]
enum Field<'a> {
    Str(Cow<'a, str>),
    Num(Number),
    Bool(bool),
    Null,
    Other,
}

impl<'a> Field<'a> {
    fn of(v: &'a Value) -> Field<'a> {
        match v {
            Value::String(s) => Field::Str(Cow::Borrowed(s)),
            Value::Number(n) => Field::Num(n.clone()),
            Value::Bool(b) => Field::Bool(*b),
            Value::Null => Field::Null,
            _ => Field::Other,
        }
    }

    fn int(&self) -> Option<i64> {
        match self {
            Field::Num(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
            Field::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn boolean(&self) -> Option<bool> {
        match self {
            Field::Bool(b) => Some(*b),
            Field::Str(s) => match s.trim() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    fn time(&self) -> Option<Millis> {
        match self {
            Field::Str(s) => {
                let s = s.trim();
                if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
                    return Some(t.timestamp_millis());
                }
                chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                    .ok()
                    .map(|t| t.and_utc().timestamp_millis())
            }
            Field::Num(n) => {
                let f = n.as_f64()?;
                if !f.is_finite() || f < 0.0 {
                    return None;
                }
                // Epoch seconds are below 1e11 until the year 5138.
                Some(if f < 1e11 {
                    (f * 1000.0) as i64
                } else {
                    f as i64
                })
            }
            _ => None,
        }
    }

    fn id(self) -> Option<String> {
        self.checked_id().map(Cow::into_owned)
    }

    /// The id, if usable (borrowed when it is a string).
    fn checked_id(&self) -> Option<Cow<'_, str>> {
        let id = match self {
            Field::Str(s) => Cow::Borrowed(s.as_ref()),
            Field::Num(n) => Cow::Owned(n.to_string()),
            _ => return None,
        };
        (!id.is_empty() && id.len() <= MAX_ID_LEN && is_terminal_safe(&id) && !id.contains('\n'))
            .then_some(id)
    }

    /// A string field, sanitized: one allocation, the shared string's.
    fn clean(&self) -> Option<Str> {
        match self {
            Field::Str(s) => Some(sanitized(s).as_ref().into()),
            _ => None,
        }
    }
}

/// The fields of one question as read, before they mean anything.
#[derive(Debug, Default)]
struct Fields<'a> {
    id: Option<Field<'a>>,
    text: Option<Field<'a>>,
    vote_count: Option<Field<'a>>,
    status: Option<Field<'a>>,
    is_anonymous: Option<Field<'a>>,
    author_username: Option<Field<'a>>,
    created_at: Option<Field<'a>>,
    updated_at: Option<Field<'a>>,
}

impl Fields<'_> {
    /// The question they make; `None` without a usable id.
    fn question(self) -> Option<WireQuestion> {
        let id = self.id?.checked_id()?.as_ref().into();
        let author_username = match self.author_username {
            Some(Field::Str(s)) => {
                let name = s.trim();
                Some((!name.is_empty()).then(|| sanitized(name).as_ref().into()))
            }
            Some(Field::Null) => Some(None),
            _ => None,
        };
        let status = match &self.status {
            Some(Field::Str(s)) => status_from_wire(s),
            _ => None,
        };
        Some(WireQuestion {
            id,
            text: self.text.as_ref().and_then(Field::clean),
            vote_count: self.vote_count.as_ref().and_then(Field::int),
            status,
            is_anonymous: self.is_anonymous.as_ref().and_then(Field::boolean),
            author_username,
            created_at: self.created_at.as_ref().and_then(Field::time),
            updated_at: self.updated_at.as_ref().and_then(Field::time),
        })
    }
}

/// A question as sent, every field optional (stream items may be partial).
/// Its strings are sanitized as they are read.
#[derive(Debug, Clone, PartialEq)]
pub struct WireQuestion {
    pub id: Str,
    pub text: Option<Str>,
    pub vote_count: Option<i64>,
    pub status: Option<Status>,
    pub is_anonymous: Option<bool>,
    /// The author's name, trimmed; `Some(None)`: explicitly null or blank.
    pub author_username: Option<Option<Str>>,
    pub created_at: Option<Millis>,
    pub updated_at: Option<Millis>,
}

impl WireQuestion {
    /// Reads one question; `None` without a usable id.
    pub fn from_value(v: &Value) -> Option<WireQuestion> {
        if !v.is_object() {
            return None;
        }
        let f = |k: &str| v.get(k).map(Field::of);
        Fields {
            id: f("id"),
            text: f("text"),
            vote_count: f("voteCount"),
            status: f("status"),
            is_anonymous: f("isAnonymous"),
            author_username: f("authorUsername"),
            created_at: f("createdAt"),
            updated_at: f("updatedAt"),
        }
        .question()
    }

    /// True when this copy says it is older than `known`: it loses.
    pub fn is_stale(&self, known: &Question) -> bool {
        self.updated_at.is_some_and(|u| u < known.updated)
    }

    /// The domain question: this copy merged over the last known one. `None`
    /// when the text is missing and nothing is known (fetch it instead).
    /// Without `updatedAt` the time falls back to `createdAt`, but never goes
    /// below the known copy's, so the change is not taken for a stale one.
    pub fn merge(
        &self,
        source: SourceId,
        prev: Option<&Question>,
        default_status: Status,
    ) -> Option<Question> {
        // An unchanged text keeps the copy already held (and shared).
        let text = match (&self.text, prev) {
            (Some(t), Some(p)) if *p.text == **t => p.text.clone(),
            (Some(t), _) => t.clone(),
            (None, Some(p)) => p.text.clone(),
            (None, None) => return None,
        };
        let author = match (self.is_anonymous, &self.author_username) {
            (Some(true), _) => None,
            (_, Some(name)) => name.clone(),
            (_, None) => prev.and_then(|p| p.author.clone()),
        };
        let created = self
            .created_at
            .or(prev.map(|p| p.created))
            .or(self.updated_at)
            .unwrap_or(0);
        let updated = match self.updated_at {
            Some(u) => u,
            None => {
                let fallback = self.created_at.unwrap_or(created);
                prev.map_or(fallback, |p| p.updated.max(fallback))
            }
        };
        Some(Question {
            source,
            id: match prev {
                Some(p) => p.id.clone(),
                None => self.id.clone(),
            },
            text,
            author,
            votes: self.vote_count.or(prev.map(|p| p.votes)).unwrap_or(0),
            my_vote: prev.map_or(MyVote::None, |p| p.my_vote),
            status: self
                .status
                .or(prev.map(|p| p.status))
                .unwrap_or(default_status),
            on_air: prev.is_some_and(|p| p.on_air),
            created,
            updated,
        })
    }
}

/// Parses the items of an array (or of `{"data": [...]}`), skipping
/// anything that is not a question with a usable id.
pub fn questions(v: &Value) -> Vec<WireQuestion> {
    match data(v) {
        Value::Array(items) => items.iter().filter_map(WireQuestion::from_value).collect(),
        _ => Vec::new(),
    }
}

/// One page of a paginated listing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub items: Vec<Value>,
    pub total: Option<u64>,
    pub total_pages: Option<u64>,
    pub limit: Option<u64>,
}

/// Reads `{"data": [...], "pagination": {...}}` (a bare array also works).
pub fn page(v: &Value) -> Page {
    let items = match data(v) {
        Value::Array(items) => items.clone(),
        _ => Vec::new(),
    };
    let pag = v.get("pagination");
    let num = |k: &str| {
        pag.and_then(|p| p.get(k))
            .and_then(int)
            .and_then(|n| u64::try_from(n).ok())
    };
    Page {
        items,
        total: num("total"),
        total_pages: num("totalPages"),
        limit: num("limit"),
    }
}

/// A page of events, as [`question_page`] reads one of questions.
pub fn event_page(body: &[u8]) -> Option<ListPage<EventInfo>> {
    let v = json(body)?;
    if !data(&v).is_array() {
        return None;
    }
    let p = page(&v);
    Some(ListPage {
        len: p.items.len(),
        items: p.items.iter().filter_map(event_info).collect(),
        total: p.total,
        total_pages: p.total_pages,
        limit: p.limit,
    })
}

/// An event for the picker.
pub fn event_info(v: &Value) -> Option<EventInfo> {
    let id = id_of(v)?;
    let title = v
        .get("title")
        .and_then(Value::as_str)
        .map(sanitize)
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| id.clone());
    Some(EventInfo {
        id,
        title,
        active: v.get("active").and_then(boolean),
        starts: v.get("startDate").and_then(Value::as_str).map(sanitize),
    })
}

/// Whether an event accepts questions (`active`).
pub fn event_active(v: &Value) -> Option<bool> {
    data(v).get("active").and_then(boolean)
}

/// The answer to `POST .../vote`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoteAnswer {
    pub voted: Option<bool>,
    pub vote_count: Option<i64>,
}

pub fn vote_answer(v: &Value) -> VoteAnswer {
    let d = data(v);
    VoteAnswer {
        voted: d.get("voted").and_then(boolean),
        vote_count: d.get("voteCount").and_then(int),
    }
}

/// The documented error envelope `{"error": {message, status, code, details}}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiError {
    /// Raw; clean it before showing it.
    pub message: Option<String>,
    pub code: Option<String>,
    pub details: Value,
}

pub fn api_error(body: &[u8]) -> ApiError {
    json(body).map(|v| api_error_value(&v)).unwrap_or_default()
}

/// [`api_error`] of a parsed value.
pub fn api_error_value(v: &Value) -> ApiError {
    let e = match v.get("error") {
        Some(e @ Value::Object(_)) => e,
        Some(Value::String(s)) => {
            return ApiError {
                message: Some(s.clone()),
                ..ApiError::default()
            };
        }
        _ => v,
    };
    let s = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
    ApiError {
        message: s("message"),
        code: s("code"),
        details: e.get("details").cloned().unwrap_or(Value::Null),
    }
}

/// The documented permission scopes.
pub const SCOPES: [&str; 6] = [
    "events:read",
    "events:write",
    "questions:read",
    "questions:write",
    "questions:moderate",
    "organization:read",
];

/// The scopes an error names, in its details (any shape) or its message.
pub fn scopes_named(err: &ApiError) -> Vec<&'static str> {
    fn walk(v: &Value, depth: usize, out: &mut Vec<&'static str>) {
        if depth > 6 {
            return;
        }
        match v {
            Value::String(s) => {
                for scope in SCOPES {
                    if s.contains(scope) && !out.contains(&scope) {
                        out.push(scope);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, depth + 1, out)),
            Value::Object(o) => o.values().for_each(|x| walk(x, depth + 1, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&err.details, 0, &mut out);
    if out.is_empty()
        && let Some(m) = &err.message
    {
        walk(&Value::String(m.clone()), 0, &mut out);
    }
    out
}

/// `GET /organization` as label/value rows.
pub fn organization_rows(v: &Value) -> Vec<(String, String)> {
    let d = data(v);
    let text = |v: Option<&Value>| -> Option<String> {
        match v? {
            Value::String(s) => Some(sanitize(s)),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(if *b { "yes".into() } else { "no".into() }),
            _ => None,
        }
    };
    let mut rows = Vec::new();
    if let Some(name) = text(d.get("name")) {
        rows.push(("Organization".to_string(), name));
    }
    if let Some(plan) = text(d.get("plan")) {
        rows.push(("Plan".to_string(), plan));
    }
    let usage = d.get("usage");
    let limits = d.get("limits");
    for (label, used, max) in [
        ("Events", "eventCount", "maxEvents"),
        ("Questions", "questionCount", "maxQuestions"),
    ] {
        let used = text(usage.and_then(|u| u.get(used)));
        let max = text(limits.and_then(|l| l.get(max)));
        match (used, max) {
            (Some(u), Some(m)) => rows.push((label.to_string(), format!("{u} of {m}"))),
            (Some(u), None) => rows.push((label.to_string(), u)),
            (None, Some(m)) => rows.push((format!("{label} (limit)"), m)),
            (None, None) => {}
        }
    }
    if let Some(members) = text(usage.and_then(|u| u.get("memberCount"))) {
        rows.push(("Members".to_string(), members));
    }
    if let Some(active) = text(d.get("isActive")) {
        rows.push(("Active".to_string(), active));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn known() -> Question {
        Question {
            source: SourceId(1),
            id: "q1".into(),
            text: "old text".into(),
            author: Some("Ana".into()),
            votes: 3,
            my_vote: MyVote::Up,
            status: Status::Selected,
            on_air: false,
            created: 1_000,
            updated: 5_000,
        }
    }

    #[test]
    fn documented_example_maps() {
        let v = json!({"id":"clq123","text":"What's the \u{1b}[2Jroadmap?","voteCount":15,
            "status":"SELECTED","isAnonymous":true,"authorUsername":null,
            "createdAt":"2024-06-01T10:30:00.000Z"});
        let w = WireQuestion::from_value(&v).unwrap();
        let q = w.merge(SourceId(2), None, Status::Pending).unwrap();
        assert_eq!(q.text, "What's the ␛[2Jroadmap?");
        assert_eq!(q.status, Status::Selected);
        assert_eq!(q.author, None);
        assert_eq!(q.votes, 15);
        assert_eq!(q.created, 1_717_237_800_000);
        assert_eq!(
            q.updated, q.created,
            "no updatedAt: falls back to createdAt"
        );
    }

    #[test]
    fn partial_item_merges_over_known_copy() {
        let w = WireQuestion::from_value(&json!({"id":"q1","voteCount":4})).unwrap();
        let q = w
            .merge(SourceId(1), Some(&known()), Status::Selected)
            .unwrap();
        assert_eq!(
            (q.text.as_str(), q.votes, q.author.as_deref()),
            ("old text", 4, Some("Ana"))
        );
        assert_eq!(q.my_vote, MyVote::Up);
        assert_eq!(q.updated, 5_000, "never older than the known copy");
        assert!(
            w.merge(SourceId(1), None, Status::Selected).is_none(),
            "unknown and partial"
        );
    }

    #[test]
    fn stale_copy_is_detected() {
        let old = WireQuestion::from_value(&json!({"id":"q1","updatedAt":"1970-01-01T00:00:04Z"}))
            .unwrap();
        assert!(old.is_stale(&known()));
        let new = WireQuestion::from_value(&json!({"id":"q1","updatedAt":"1970-01-01T00:00:06Z"}))
            .unwrap();
        assert!(!new.is_stale(&known()));
        let none = WireQuestion::from_value(&json!({"id":"q1"})).unwrap();
        assert!(!none.is_stale(&known()));
    }

    #[test]
    fn hostile_author_and_ids() {
        let v =
            json!({"id":"q9","text":"hi","isAnonymous":false,"authorUsername":"\u{202e}evil\u{7}"});
        let q = WireQuestion::from_value(&v)
            .unwrap()
            .merge(SourceId(0), None, Status::Pending)
            .unwrap();
        assert_eq!(q.author.as_deref(), Some("�evil␇"));
        for bad in [
            json!({"id":"a\u{1b}[2J"}),
            json!({"id":""}),
            json!({"id":null}),
            json!({"id":"x".repeat(300)}),
        ] {
            assert!(WireQuestion::from_value(&bad).is_none(), "{bad}");
        }
        assert_eq!(id_of(&json!({"id": 42})).as_deref(), Some("42"));
    }

    #[test]
    fn mistyped_fields_are_tolerated() {
        let v = json!({"id":"q1","text":7,"voteCount":"12","status":"weird","isAnonymous":"true",
            "createdAt":1700000000,"updatedAt":{"x":1},"extra":[1,2]});
        let w = WireQuestion::from_value(&v).unwrap();
        assert_eq!(w.vote_count, Some(12));
        assert_eq!(w.status, None);
        assert_eq!(w.is_anonymous, Some(true));
        assert_eq!(w.created_at, Some(1_700_000_000_000));
        assert_eq!(w.updated_at, None);
        assert_eq!(w.text, None);
    }

    #[test]
    fn pages_and_envelopes() {
        let v = json!({"data":[{"id":"a"},{"id":"b"}],"pagination":{"page":1,"limit":100,"total":250,"totalPages":3}});
        let p = page(&v);
        assert_eq!(
            (p.items.len(), p.total, p.total_pages, p.limit),
            (2, Some(250), Some(3), Some(100))
        );
        assert_eq!(
            questions(&json!([{"id":"a"}, 5, null, {"id":"b"}])).len(),
            2
        );
        assert_eq!(questions(&json!({"data":[{"id":"a"}]})).len(), 1);
        assert_eq!(page(&json!("nonsense")), Page::default());
    }

    #[test]
    fn errors_name_scopes_in_any_shape() {
        let e = api_error(br#"{"error":{"message":"Forbidden","status":403,"code":"INSUFFICIENT_SCOPE","details":{"requiredScopes":["questions:moderate"]}}}"#);
        assert_eq!(e.code.as_deref(), Some("INSUFFICIENT_SCOPE"));
        assert_eq!(scopes_named(&e), vec!["questions:moderate"]);
        let e = api_error(br#"{"error":{"message":"Missing scope questions:write"}}"#);
        assert_eq!(scopes_named(&e), vec!["questions:write"]);
        let e = api_error(br#"{"error":"nope"}"#);
        assert_eq!(e.message.as_deref(), Some("nope"));
        assert_eq!(api_error(b"<html>"), ApiError::default());
    }

    #[test]
    fn organization_rows_read_the_example() {
        let v = json!({"data":{"id":"clo123","name":"Acme Corp","plan":"PROFESSIONAL",
            "limits":{"maxEvents":50,"maxQuestions":5000},
            "usage":{"eventCount":12,"questionCount":847,"memberCount":5},"isActive":true}});
        let rows = organization_rows(&v);
        let get = |k: &str| rows.iter().find(|r| r.0 == k).map(|r| r.1.as_str());
        assert_eq!(get("Plan"), Some("PROFESSIONAL"));
        assert_eq!(get("Questions"), Some("847 of 5000"));
        assert_eq!(get("Members"), Some("5"));
        assert_eq!(get("Active"), Some("yes"));
    }

    #[test]
    fn random_json_never_panics() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let atoms = [
            json!(null),
            json!(1),
            json!(-1.5e300),
            json!("x"),
            json!("2024-06-01T10:30:00Z"),
            json!(true),
            json!([]),
            json!({}),
            json!(u64::MAX),
            json!("\u{1b}]52;c;x\u{7}"),
            json!("with \"quotes\" and é"),
            json!("12"),
            json!("SELECTED"),
            json!("true"),
            json!(1717237800.5),
        ];
        let keys = [
            "id",
            "text",
            "voteCount",
            "status",
            "isAnonymous",
            "authorUsername",
            "createdAt",
            "updatedAt",
            "data",
            "pagination",
            "total",
            "voted",
            "error",
            "details",
        ];
        fn build(
            rng: &mut rand::rngs::SmallRng,
            atoms: &[Value],
            keys: &[&str],
            depth: u32,
        ) -> Value {
            match rng.random_range(0..4) {
                0 if depth < 4 => Value::Array(
                    (0..rng.random_range(0..4))
                        .map(|_| build(rng, atoms, keys, depth + 1))
                        .collect(),
                ),
                1 if depth < 4 => Value::Object(
                    (0..rng.random_range(0..6))
                        .map(|_| {
                            (
                                keys[rng.random_range(0..keys.len())].to_string(),
                                build(rng, atoms, keys, depth + 1),
                            )
                        })
                        .collect(),
                ),
                _ => atoms[rng.random_range(0..atoms.len())].clone(),
            }
        }
        for _ in 0..2000 {
            let v = build(&mut rng, &atoms, &keys, 0);
            for w in questions(&v) {
                let _ = w.merge(SourceId(0), Some(&known()), Status::Pending);
            }
            let _ =
                WireQuestion::from_value(&v).map(|w| w.merge(SourceId(0), None, Status::Pending));
            let _ = (
                page(&v),
                event_info(&v),
                vote_answer(&v),
                organization_rows(&v),
                event_active(&v),
            );
            let bytes = serde_json::to_vec(&v).unwrap();
            let _ = scopes_named(&api_error(&bytes));
            assert_eq!(question_page(&bytes), by_value(&bytes), "{v}");
            // The same, shaped as a page: a list of objects.
            let items: Vec<Value> = (0..rng.random_range(0..5))
                .map(|_| match build(&mut rng, &atoms, &keys, 1) {
                    Value::Object(mut o) => {
                        o.insert("id".into(), atoms[rng.random_range(0..atoms.len())].clone());
                        Value::Object(o)
                    }
                    other => other,
                })
                .collect();
            let page = json!({"data": items, "pagination": build(&mut rng, &atoms, &keys, 1)});
            let bytes = serde_json::to_vec(&page).unwrap();
            assert_eq!(question_page(&bytes), by_value(&bytes), "{page}");
        }
    }

    /// A question page read through a `Value`, as before `question_page`.
    fn by_value(bytes: &[u8]) -> Option<ListPage<WireQuestion>> {
        let v = json(bytes)?;
        if !data(&v).is_array() {
            return None;
        }
        let p = page(&v);
        Some(ListPage {
            len: p.items.len(),
            items: p
                .items
                .iter()
                .filter_map(WireQuestion::from_value)
                .collect(),
            total: p.total,
            total_pages: p.total_pages,
            limit: p.limit,
        })
    }

    #[test]
    fn a_page_read_from_bytes_is_the_page_read_from_a_value() {
        let body = br#"{"data":[{"id":"a","text":"caf\u00e9 \"q\"","voteCount":"7",
            "status":"selected","isAnonymous":"false","authorUsername":"Ana",
            "createdAt":1717237800,"updatedAt":"2024-06-01T10:30:00.000Z","x":[1,{"y":2}]},
            {"id":12,"text":null,"authorUsername":null},[1],"s",{"id":""},{"id":"b","id":"c"}],
            "pagination":{"total":"5","totalPages":-1,"limit":100.0,"page":1},"data2":{}}"#;
        let p = question_page(body).expect("a page");
        assert_eq!(Some(&p), by_value(body).as_ref());
        let ids: Vec<&str> = p.items.iter().map(|w| w.id.as_str()).collect();
        assert_eq!(ids, ["a", "12", "c"]);
        assert_eq!(p.items[0].text.as_deref(), Some("café \"q\""));
        assert_eq!(
            (p.len, p.total, p.total_pages, p.limit),
            (6, Some(5), None, Some(100))
        );
        for not_a_list in [
            &b"{\"data\":{}}"[..],
            b"{\"data\":null}",
            b"7",
            b"[1] x",
            b"{",
        ] {
            assert_eq!(question_page(not_a_list), None);
        }
    }
}
