//! Every provider's wire parsing, fed arbitrary JSON values and arbitrary
//! bytes, never panics; whatever it makes of them goes through the core and
//! the renderer without a panic either (votes at the edges of `i64`, times
//! far before 1970 or after 9999, empty and hostile strings, deep nesting).
//!
//! The values are biased towards the field names and shapes the parsers
//! look for, so the interesting paths are reached, not only "not an object".
//! Runs in the normal `cargo test`; the case counts keep it to seconds.

use proptest::prelude::*;
use qadeck::app::{App, Event, KeyMap, SourceView};
use qadeck::domain::{
    Capabilities, Feed, Message, MyVote, Participant, Question, SourceFeed, SourceId, Status,
    VoteKind,
};
use qadeck::provider::boomstream::wire as boom;
use qadeck::provider::postobox::wire as pb;
use qadeck::provider::streamboxy::wire as sb;
use qadeck::provider::streamslive::wire as sl;
use qadeck::runtime::terminal::SyncBackend;
use qadeck::ui::{self, Theme};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use serde_json::Value;

/// Field names the four parsers read.
const KEYS: &[&str] = &[
    "data",
    "id",
    "text",
    "voteCount",
    "status",
    "isAnonymous",
    "authorUsername",
    "createdAt",
    "updatedAt",
    "pagination",
    "total",
    "totalPages",
    "limit",
    "page",
    "error",
    "message",
    "code",
    "details",
    "requiredScope",
    "voted",
    "questionId",
    "title",
    "active",
    "startDate",
    "name",
    "plan",
    "usage",
    "limits",
    "hash_id",
    "question_id",
    "uuid",
    "question",
    "body",
    "content",
    "votes",
    "votes_count",
    "score",
    "up",
    "down",
    "upvotes",
    "downvotes",
    "likes",
    "dislikes",
    "my_vote",
    "myVote",
    "user_vote",
    "archived",
    "created_at",
    "updated_at",
    "reply_for",
    "reply_to",
    "parent_id",
    "messages",
    "questions",
    "items",
    "results",
    "thread",
    "thread_id",
    "event_id",
    "slug",
    "questions_enabled",
    "chat_enabled",
    "guest_chat_enabled",
    "last_page",
    "meta",
    "access_token",
    "refresh_token",
    "expires_in",
    "errors",
    "value",
    "@odata.nextLink",
    "nextLink",
    "rowVersion",
    "RowVersion",
    "email",
    "role",
    "link",
    "externalKey",
    "displayName",
    "sessionId",
    "start",
    "end",
    "status_code",
    "result",
    "clients",
    "client",
    "conferences",
    "conference",
    "code",
    "accessLink",
    "error_message",
];

const STRINGS: &[&str] = &[
    "",
    " ",
    "SELECTED",
    "DEFAULT",
    "ANSWERED",
    "REJECTED",
    "pending",
    "true",
    "false",
    "1",
    "2",
    "0",
    "-1",
    "up",
    "down",
    "moderator",
    "Moderator",
    "participant",
    "2024-06-01T09:00:00.000Z",
    "2024-06-01 09:00:00",
    "2024-06-01",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "99999999999",
    "100000000000",
    "9223372036854775807",
    "-9223372036854775808",
    "1e308",
    "NaN",
    "\u{1b}[2J\u{1b}]52;c;aGk=\u{7}",
    "\u{202e}evil\u{2066}",
    "questions:moderate",
    "PLAN_UPGRADE_REQUIRED",
    "https://example.invalid/x?token=abc",
    "<xml>",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(vec![
            i64::MIN,
            i64::MIN + 1,
            i64::MAX,
            -1,
            0,
            1,
            2,
            99_999_999_999,
            100_000_000_000,
            -9_300_000_000_000_000,
            9_300_000_000_000_000,
            i64::MIN / 1000,
            i64::MAX / 1000,
        ])
        .prop_map(Value::from),
        prop::sample::select(vec![
            1e300, -1e300, 1e11, 1.5, -0.5, 9.3e18, -9.3e18, 1e-300
        ])
        .prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        prop::sample::select(STRINGS).prop_map(Value::from),
        "\\PC{0,24}".prop_map(Value::String),
        "-?[0-9]{1,24}".prop_map(Value::String),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(KEYS).prop_map(str::to_string),
        1 => "[a-zA-Z_]{0,8}",
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..10)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Every value-level parser of every provider; returns what a core would
/// receive from them.
fn parse_everything(v: &Value) -> (Vec<Question>, Vec<Message>, Vec<Participant>) {
    let src = SourceId(0);
    let mut questions = Vec::new();
    let mut messages = Vec::new();
    let mut people = Vec::new();

    // PostoBox.
    let _ = pb::data(v);
    let page = pb::page(v);
    let _ = pb::event_info(v);
    let _ = pb::event_active(v);
    let _ = pb::vote_answer(v);
    let err = pb::api_error_value(v);
    let _ = pb::scopes_named(&err);
    let _ = pb::organization_rows(v);
    let _ = pb::parse_time(v);
    let _ = pb::id_of(v);
    let mut prev: Option<Question> = None;
    for item in page.items.iter().chain(std::iter::once(v)) {
        if let Some(w) = pb::WireQuestion::from_value(item) {
            if let Some(p) = &prev {
                let _ = w.is_stale(p);
            }
            for base in [None, prev.as_ref()] {
                if let Some(q) = w.merge(src, base, Status::Pending) {
                    questions.push(q);
                }
            }
            prev = questions.last().cloned();
        }
    }
    questions.extend(
        pb::questions(v)
            .iter()
            .filter_map(|w| w.merge(src, None, Status::Selected)),
    );

    // streams.live.
    let _ = sl::unwrap_data(v);
    let _ = (
        sl::as_text(v),
        sl::as_int(v),
        sl::as_bool(v),
        sl::as_millis(v),
    );
    if let Ok(ws) = sl::questions(v) {
        for w in ws {
            let created = w.created.unwrap_or(0);
            let updated = w.updated.unwrap_or(created).max(created);
            let mine = w.my_vote.unwrap_or(MyVote::None);
            questions.push(sl::to_question(
                &w,
                src,
                Status::Pending,
                mine,
                created,
                updated,
            ));
        }
    }
    if let Ok(ms) = sl::messages(v) {
        messages.extend(ms.iter().map(|m| m.to_message(src, m.created.unwrap_or(0))));
    }
    if let Some(w) = sl::WireMessage::from_value(v) {
        messages.push(w.to_message(src, 0));
    }
    if let Some(meta) = sl::EventMeta::from_value(v) {
        let _ = (meta.thread_text(), meta.key(), meta.info(Some(true)));
    }
    let _ = sl::last_page(v);
    let _ = sl::TokenAnswer::from_value(v);
    if let Some(items) = sl::items(v) {
        for item in items {
            let _ = sl::WireQuestion::from_value(item);
            let _ = sl::as_millis(item);
        }
    }

    // STREAMBOXY.
    let _ = sb::items(v);
    let _ = sb::next_link(v);
    let _ = sb::row_version(v);
    let _ = sb::session(v);
    let _ = sb::text(v, &["name", "title", "id"]);
    if let Some((p, _)) = sb::participant(v, src) {
        people.push(p);
    }
    for item in sb::items(v).into_iter().flatten() {
        if let Some((p, _)) = sb::participant(item, src) {
            people.push(p);
        }
        let _ = sb::session(item);
    }
    if let Some(Value::String(s)) = v.get("start") {
        let _ = sb::utc(s);
    }

    // Boomstream.
    let _ = boom::check_status(v);
    let _ = boom::conference(v);
    let _ = boom::client_info(v);
    let _ = boom::flag(v, &["active", "status"]);
    let _ = boom::text(v, &["title", "name"]);
    for item in boom::list(v, &["clients", "client", "conferences", "items", "data"]) {
        if let Some((p, _)) = boom::client(item, src) {
            people.push(p);
        }
        let _ = boom::conference(item);
    }
    if let Some((p, _)) = boom::client(v, src) {
        people.push(p);
    }
    (questions, messages, people)
}

/// Every byte-level parser.
fn parse_bytes(bytes: &[u8]) {
    let _ = pb::json(bytes);
    let _ = pb::api_error(bytes);
    let _ = sl::ApiError::parse(bytes);
    for status in [200, 401, 404, 422, 429, 500, 503] {
        let _ = sl::to_error(status, 1000, bytes, "questions");
    }
    let _ = sl::clean(&String::from_utf8_lossy(bytes));
    let e = sb::ApiError::parse(bytes);
    let _ = e.mentions_concurrency();
    let _ = sb::renewed_link(bytes);
    let _ = boom::parse_answer(bytes);
    let _ = boom::xml_to_value(&String::from_utf8_lossy(bytes));
}

fn app() -> App {
    let caps = Capabilities {
        questions: true,
        server_statuses: Status::ALL.to_vec(),
        delete: true,
        vote: VoteKind::UpDown,
        chat: true,
        participants: true,
        ..Capabilities::none()
    };
    App::new(
        vec![SourceView::new("s", caps, true)],
        KeyMap::default(),
        "fuzz".into(),
        1_700_000_000_000,
    )
}

fn key_event(c: char) -> Event {
    Event::Key(ratatui_textarea::Input {
        key: ratatui_textarea::Key::Char(c),
        ..Default::default()
    })
}

fn render(app: &mut App) {
    let opts = TerminalOptions {
        viewport: Viewport::Fixed(Rect::new(0, 0, 100, 30)),
    };
    let mut term = Terminal::with_options(SyncBackend::new(Vec::new()), opts).unwrap();
    term.draw(|f| ui::draw(f, app, &Theme::builtin("dark")))
        .unwrap();
}

/// The core takes the parsed items, renders them, and the moderator acts on
/// them (votes both ways, approves, sorts by votes), all without a panic.
fn through_the_core(questions: Vec<Question>, messages: Vec<Message>, people: Vec<Participant>) {
    let mut app = app();
    let feed = |f: Feed| {
        Event::Feed(SourceFeed {
            source: SourceId(0),
            feed: f,
        })
    };
    app.update(Event::Resize {
        width: 100,
        height: 30,
    });
    for q in &questions {
        let _ = qadeck::ndjson::question("s", q, false, &Default::default()).to_string();
    }
    for m in &messages {
        let _ = qadeck::ndjson::message("s", m).to_string();
    }
    for p in &people {
        let _ = qadeck::ndjson::participant("s", p).to_string();
    }
    app.update(feed(Feed::Snapshot(questions.clone())));
    app.update(feed(Feed::Upsert(questions)));
    app.update(feed(Feed::Messages(messages)));
    app.update(feed(Feed::Participants(people)));
    render(&mut app);
    for c in ['v', 'V', 'v', 'a', 's', 'j', 'V', 'u', '\t', 'j', '\t', 'j'] {
        app.update(key_event(c));
        app.update(Event::Tick {
            now: 1_700_000_001_000,
        });
    }
    render(&mut app);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn json_values_never_panic_a_parser_nor_the_core(v in json()) {
        let (q, m, p) = parse_everything(&v);
        parse_bytes(v.to_string().as_bytes());
        through_the_core(q, m, p);
    }

    #[test]
    fn enveloped_lists_never_panic(items in prop::collection::vec(json(), 0..6), key in key()) {
        let v = serde_json::json!({ "data": { key.clone(): items }, key: items });
        let (q, m, p) = parse_everything(&v);
        through_the_core(q, m, p);
    }

    #[test]
    fn arbitrary_bytes_never_panic_a_parser(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        parse_bytes(&bytes);
    }

    #[test]
    fn json_like_text_never_panics_a_parser(s in "[\\[\\]{}\":,0-9a-z<>/ \\-.eE\\\\]{0,200}") {
        parse_bytes(s.as_bytes());
    }
}

/// The edges a random search may not hit: votes and times at the limits
/// of `i64`, in every vote field shape.
#[test]
fn extreme_numbers_in_every_vote_and_time_field() {
    let extremes = [
        Value::from(i64::MIN),
        Value::from(i64::MAX),
        Value::from(u64::MAX),
        Value::from(-1e300),
        Value::from(1e300),
        Value::from(-9_300_000_000_000_000i64),
        Value::from(i64::MIN / 1000),
        Value::from(i64::MAX / 1000),
        Value::from("-9223372036854775808"),
        Value::from("9223372036854775807"),
    ];
    for x in &extremes {
        for y in &extremes {
            let v = serde_json::json!({"data": [{
                "id": "q1", "text": "t", "question": "t", "voteCount": x, "votes": {"up": x, "down": y},
                "upvotes": x, "downvotes": y, "createdAt": x, "updatedAt": y,
                "created_at": x, "updated_at": y,
            }, {
                "id": "q2", "text": "t", "question": "t", "votes": x, "voteCount": y,
                "my_vote": 2, "created_at": y,
            }]});
            let (q, m, p) = parse_everything(&v);
            through_the_core(q, m, p);
        }
    }
}
