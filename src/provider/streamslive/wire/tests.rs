use super::*;
use crate::domain::ProviderError;
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
    let v = json!({"hash_id": "ab", "message": "x", "upvotes": 5, "downvotes": "2", "archived": 1});
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
