//! Boomstream answers, JSON or XML, read into one shape.
//!
//! The document shows JSON for most methods and XML
//! (`<Response>…<Status>Success</Status></Response>`) for `update` and
//! `delete`, though every request asks for `format=json`. Any answer is
//! therefore parsed as JSON first and as XML second; XML becomes the same
//! [`Value`] tree (an element holding only text is a string, one with
//! children an object, repeated children an array), so the rest of the code
//! never knows which it got. Field names are matched without case (the
//! document itself writes `Title` in one place and `title` in the example).
//! Every string passes through [`sanitize`] here.

use crate::domain::{EventInfo, Participant, Role, SourceId};
use crate::text::sanitize;
use quick_xml::events::Event;
use serde_json::{Map, Value};

/// Field of an object by any of `names`, compared without case.
pub fn field<'a>(v: &'a Value, names: &[&str]) -> Option<&'a Value> {
    let obj = v.as_object()?;
    names.iter().find_map(|name| {
        obj.get(*name)
            .or_else(|| {
                obj.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            })
            .filter(|v| !v.is_null())
    })
}

/// A scalar field as sanitized text; empty counts as absent.
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

/// `yes` / `no` as the API spells flags.
pub fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// A flag that may come as `"yes"`, `"no"`, `true`, `1`, `"true"`.
pub fn flag(v: &Value, names: &[&str]) -> Option<bool> {
    match field(v, names)? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "yes" | "y" | "true" | "1" => Some(true),
            "no" | "n" | "false" | "0" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Parses an answer body: a JSON object, or an XML document whose root's
/// children become the object's fields.
pub fn parse_answer(body: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(body).ok()?;
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.starts_with('{') {
        return serde_json::from_str::<Value>(trimmed)
            .ok()
            .filter(Value::is_object);
    }
    if trimmed.starts_with('<') {
        return xml_to_value(trimmed);
    }
    None
}

/// An XML document as a JSON-like tree (the root element's content).
pub fn xml_to_value(xml: &str) -> Option<Value> {
    let mut reader = quick_xml::Reader::from_str(xml);
    // Stack of (element name, children, text).
    let mut stack: Vec<(String, Map<String, Value>, String)> = Vec::new();
    let mut root: Option<Value> = None;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                let name = {
                    let n = e.local_name();
                    let s: &str = n.as_ref();
                    s.to_string()
                };
                stack.push((name, Map::new(), String::new()));
                if stack.len() > 64 {
                    return None;
                }
            }
            Event::Empty(e) => {
                let name = {
                    let n = e.local_name();
                    let s: &str = n.as_ref();
                    s.to_string()
                };
                match stack.last_mut() {
                    Some((_, children, _)) => {
                        add_child(children, name, Value::String(String::new()));
                    }
                    None => root = Some(Value::Object(Map::new())),
                }
            }
            Event::Text(t) => {
                if let Some((_, _, text)) = stack.last_mut() {
                    text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some((_, _, text)) = stack.last_mut() {
                    text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, _, text)) = stack.last_mut() {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        text.push(c);
                    } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(&r) {
                        text.push_str(s);
                    }
                }
            }
            Event::End(_) => {
                let (name, children, text) = stack.pop()?;
                let value = if children.is_empty() {
                    Value::String(text.trim().to_string())
                } else {
                    Value::Object(children)
                };
                match stack.last_mut() {
                    Some((_, parent, _)) => add_child(parent, name, value),
                    None => {
                        root = Some(match value {
                            Value::String(s) if s.is_empty() => Value::Object(Map::new()),
                            Value::String(s) => {
                                let mut m = Map::new();
                                m.insert(name, Value::String(s));
                                Value::Object(m)
                            }
                            v => v,
                        });
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    root.filter(|_| stack.is_empty())
}

fn add_child(map: &mut Map<String, Value>, name: String, value: Value) {
    match map.get_mut(&name) {
        Some(Value::Array(a)) => a.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
        None => {
            map.insert(name, value);
        }
    }
}

/// `Ok` when `Status` is `Success`; otherwise the answer's message (raw:
/// the caller redacts and sanitizes).
pub fn check_status(v: &Value) -> Result<(), String> {
    let status = field(v, &["Status", "status"])
        .and_then(Value::as_str)
        .unwrap_or("");
    if status.trim().eq_ignore_ascii_case("success") {
        return Ok(());
    }
    let message = [
        "Message",
        "message",
        "Error",
        "error",
        "errorMessage",
        "Description",
        "Reason",
    ]
    .iter()
    .find_map(|n| match field(v, &[n])? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Object(o) => o.get("message").and_then(Value::as_str).map(str::to_string),
        _ => None,
    });
    Err(match (message, status.trim()) {
        (Some(m), _) => m,
        (None, "") => "the answer has no Status".into(),
        (None, s) => format!("Status {s}"),
    })
}

/// A numeric error code an error answer carries (`Code`, `ErrorCode`,
/// `status_code`), when it is an HTTP-like status. A conference or client
/// code (letters, a UUID) is not one.
pub fn error_code(v: &Value) -> Option<u16> {
    let n = match field(
        v,
        &[
            "ErrorCode",
            "errorCode",
            "status_code",
            "statusCode",
            "Code",
        ],
    )? {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse::<u64>().ok()?,
        _ => return None,
    };
    u16::try_from(n).ok().filter(|c| (400..600).contains(c))
}

/// The list of an answer (`conferences`, `Clients`), empty when absent.
pub fn list<'a>(v: &'a Value, names: &[&str]) -> Vec<&'a Value> {
    match field(v, names) {
        Some(Value::Array(a)) => a.iter().collect(),
        // XML: <Clients><Client>..</Client><Client>..</Client></Clients>.
        Some(Value::Object(o)) if o.len() == 1 => match o.values().next() {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(one @ Value::Object(_)) => vec![one],
            _ => Vec::new(),
        },
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

/// One conference as an event.
pub fn conference(v: &Value) -> Option<EventInfo> {
    Some(EventInfo {
        id: text(v, &["code", "Code"])?,
        title: text(v, &["title"]).unwrap_or_default(),
        active: None,
        starts: None,
    })
}

/// A conference client, and whether it is marked deleted.
pub fn client(v: &Value, source: SourceId) -> Option<(Participant, bool)> {
    let id = text(v, &["code", "clientCode", "userCode"])?;
    let moderator = flag(v, &["moderator", "isModerator"]).unwrap_or(false);
    let deleted = flag(v, &["is_deleted", "isDeleted", "deleted"]).unwrap_or(false);
    Some((
        Participant {
            source,
            id,
            name: text(v, &["name"]).unwrap_or_default(),
            email: text(v, &["email"]),
            role: if moderator {
                Role::Moderator
            } else {
                Role::Participant
            },
            link: text(v, &["inviteLink", "link"]),
            version: None,
            external_key: None,
        },
        deleted,
    ))
}

/// The client object of a `client/info` answer: the answer itself, or
/// wrapped (`Client`, `Clients[0]`, `data`).
pub fn client_info(v: &Value) -> Option<&Value> {
    if field(v, &["code"]).is_some() && field(v, &["email", "name"]).is_some() {
        return Some(v);
    }
    for name in ["Client", "data", "Clients"] {
        match field(v, &[name]) {
            Some(o @ Value::Object(_)) => return Some(o),
            Some(Value::Array(a)) => return a.first(),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documented_xml_answers_parse() {
        let update = "<Response>\n<title>Konfa</title>\n<code>03d71d2d</code>\n<folderCode>a8GESjhK</folderCode>\n<description>vottak</description>\n<Status>Success</Status>\n</Response>";
        let v = parse_answer(update.as_bytes()).unwrap();
        assert_eq!(check_status(&v), Ok(()));
        assert_eq!(text(&v, &["title"]).as_deref(), Some("Konfa"));
        let delete = "<?xml version=\"1.0\"?><Response>\n<message>Client is deleted successful</message>\n<Status>Success</Status>\n</Response>";
        let v = parse_answer(delete.as_bytes()).unwrap();
        assert_eq!(check_status(&v), Ok(()));
        let failed =
            "<Response><Status>Failed</Status><Message>Bad &amp; wrong &#x41;</Message></Response>";
        let v = parse_answer(failed.as_bytes()).unwrap();
        assert_eq!(check_status(&v), Err("Bad & wrong A".into()));
        assert!(parse_answer(b"<Response><a>").is_none());
    }

    #[test]
    fn json_status_and_lists() {
        let v = parse_answer(br#"{"Clients":[{"code":"c1","email":"a@b.c","name":"N","moderator":"yes","is_deleted":"no"}],"Status":"Success"}"#).unwrap();
        assert_eq!(check_status(&v), Ok(()));
        let items = list(&v, &["Clients"]);
        let (p, deleted) = client(items[0], SourceId(1)).unwrap();
        assert_eq!(
            (p.id.as_str(), p.role, deleted),
            ("c1", Role::Moderator, false)
        );
        assert_eq!(
            check_status(&json!({"Status": "Failed"})),
            Err("Status Failed".into())
        );
        assert_eq!(
            check_status(&json!({})),
            Err("the answer has no Status".into())
        );
        let xml = "<Response><Clients><Client><code>a</code></Client><Client><code>b</code></Client></Clients><Status>Success</Status></Response>";
        let v = parse_answer(xml.as_bytes()).unwrap();
        assert_eq!(list(&v, &["Clients"]).len(), 2);
    }

    #[test]
    fn error_codes_are_statuses_not_words() {
        assert_eq!(
            error_code(&json!({"Code": 403, "Status": "Failed"})),
            Some(403)
        );
        assert_eq!(error_code(&json!({"ErrorCode": "404"})), Some(404));
        assert_eq!(error_code(&json!({"code": "0c5db8c0-c2ab"})), None);
        assert_eq!(error_code(&json!({"Code": 198})), None);
        assert_eq!(error_code(&json!({"Message": "Invalid key format"})), None);
    }

    #[test]
    fn flags_and_info_shapes() {
        assert_eq!(flag(&json!({"m": true}), &["m"]), Some(true));
        assert_eq!(flag(&json!({"m": "no"}), &["m"]), Some(false));
        let wrapped = json!({"Client": {"code": "x", "email": "e@x.y"}, "Status": "Success"});
        assert_eq!(
            client_info(&wrapped)
                .and_then(|c| text(c, &["code"]))
                .as_deref(),
            Some("x")
        );
        let flat = json!({"code": "y", "name": "N", "Status": "Success"});
        assert_eq!(
            client_info(&flat)
                .and_then(|c| text(c, &["code"]))
                .as_deref(),
            Some("y")
        );
    }
}
