//! A faithful in-process fake of the PostoBox API (`postobox-api.txt`), for
//! tests: axum on `127.0.0.1:0`, started from a test, gone when dropped.
//!
//! ```ignore
//! let fake = FakePostobox::start(FakeConfig { plan: Plan::Free, ..FakeConfig::fast() }).await;
//! let ev = fake.add_event("Keynote");
//! let q = fake.add_question(&ev, "What is next?");
//! // point the client at fake.base_url() with fake.api_key()
//! fake.set_status(&ev, &q, "SELECTED");          // another moderator acts
//! assert_eq!(fake.counters().route("PATCH /events/{id}/questions/{qid}"), 0);
//! ```
//!
//! What it implements, per the document:
//! - `Authorization: Bearer <key>` (401 otherwise) and per-key scopes (403
//!   `INSUFFICIENT_SCOPE` with `details.requiredScope`);
//! - per-plan limits (Free 60, Starter 300, Professional 1,000, Enterprise
//!   5,000 per window; the window is 60 s unless shortened), `X-RateLimit-Limit`,
//!   `-Remaining`, `-Reset` (Unix seconds, rounded up) on every authenticated
//!   answer, and 429 with `Retry-After` (whole seconds) past the limit. Fixed
//!   windows; refused requests do not count;
//! - events (list with `page`/`limit`/`active`, get, create with 409 on a
//!   taken slug, update, soft delete) and questions (list with `status`,
//!   `sortBy`, `sortOrder`, pages; get; submit; PATCH status; DELETE → 204;
//!   vote toggle per identifier) with every documented field incl. `updatedAt`;
//!   `limit` above 100 is clamped to 100;
//! - the SSE stream (Enterprise only, else 403 `PLAN_UPGRADE_REQUIRED`): the
//!   array of SELECTED questions as `data:` whenever it changed (checked every
//!   `sse_interval`, sent once at connect) and `:heartbeat N` comments every
//!   `heartbeat_interval`;
//! - `GET /organization` with plan, limits and usage.
//!
//! Knobs for fault injection: [`FakePostobox::drop_stream_mid_event`] (the
//! next `data:` line is cut in half and the connection aborted),
//! [`FakePostobox::kill_streams`], [`FakePostobox::stall_streams`] (open but
//! silent), [`FakePostobox::fail_next`] (canned errors on a route),
//! [`FakePostobox::hide_in_listings`] (a question briefly in no list),
//! [`FakePostobox::lose_answers`] (applied, then answered 500), partial
//! stream items, answers without `updatedAt`, CRLF framing, compact framing
//! (no blank lines, as the document's example reads). Counters of every
//! request by route pattern and by concrete path allow "exactly once" checks;
//! [`FakePostobox::requests`] is the full log (time, route, path, query,
//! status).
//!
//! [`FakePostobox::start`] serves in the calling runtime (fine for
//! `#[tokio::test]`); [`FakePostobox::start_background`] runs it on its own
//! thread for tests that block (tmux, child processes).
//!
//! Route keys are `"METHOD /pattern"` without the `/v1` prefix, e.g.
//! `"PATCH /events/{id}/questions/{qid}"`; path keys are concrete, e.g.
//! `"PATCH /events/ev1/questions/q3"`.

// Handlers return `Response` as their error type, the axum way.
#![allow(clippy::result_large_err)]

use super::{Serving, in_background, serve};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::SinkExt;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Question statuses on the wire.
pub const DEFAULT: &str = "DEFAULT";
pub const SELECTED: &str = "SELECTED";
pub const ANSWERED: &str = "ANSWERED";
pub const REJECTED: &str = "REJECTED";
const STATUSES: [&str; 4] = [DEFAULT, SELECTED, ANSWERED, REJECTED];

/// Every documented scope.
pub const ALL_SCOPES: [&str; 6] = [
    "events:read",
    "events:write",
    "questions:read",
    "questions:write",
    "questions:moderate",
    "organization:read",
];

/// An organization's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    Free,
    Starter,
    Professional,
    Enterprise,
}

impl Plan {
    /// Requests per minute, per the document.
    pub fn per_minute(self) -> u32 {
        match self {
            Plan::Free => 60,
            Plan::Starter => 300,
            Plan::Professional => 1_000,
            Plan::Enterprise => 5_000,
        }
    }

    pub fn wire_name(self) -> &'static str {
        match self {
            Plan::Free => "FREE",
            Plan::Starter => "STARTER",
            Plan::Professional => "PROFESSIONAL",
            Plan::Enterprise => "ENTERPRISE",
        }
    }
}

/// How the fake starts. `Default` follows the document (Professional plan,
/// so no stream; 60 s windows, data every 3 s, heartbeats every 15 s);
/// [`FakeConfig::fast`] suits tests.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    pub plan: Plan,
    pub api_key: String,
    pub scopes: Vec<String>,
    /// Length of a rate-limit window.
    pub rate_window: Duration,
    /// Requests per window; `None`: the plan's per-minute limit.
    pub rate_limit: Option<u32>,
    /// How often the stream checks for changes.
    pub sse_interval: Duration,
    pub heartbeat_interval: Duration,
    /// Stream items carry only id, voteCount, status and updatedAt.
    pub stream_partial_items: bool,
    /// Questions are sent without `updatedAt` (list, get and stream).
    pub omit_updated_at: bool,
    /// Frame the stream with CRLF instead of LF.
    pub crlf: bool,
    /// Omit the blank line after events and heartbeats, as the document's
    /// example literally reads (`data: [...]` then `:heartbeat 0`). Not valid
    /// SSE framing: a strict client only dispatches data at a blank line.
    pub compact_framing: bool,
    pub org_name: String,
    /// Every answer but the stream's comes this long after the request was
    /// applied (a venue's uplink: 100–200 ms).
    pub latency: Duration,
    /// Send the `X-RateLimit-*` headers (a proxy may strip them: then the
    /// client learns of the limit only from a 429's `Retry-After`).
    pub rate_headers: bool,
}

impl Default for FakeConfig {
    fn default() -> FakeConfig {
        FakeConfig {
            // Most customers poll: the stream is Enterprise only.
            plan: Plan::Professional,
            api_key: "pk_live_fake_0123456789abcdef".into(),
            scopes: ALL_SCOPES.iter().map(|s| s.to_string()).collect(),
            rate_window: Duration::from_secs(60),
            rate_limit: None,
            sse_interval: Duration::from_secs(3),
            heartbeat_interval: Duration::from_secs(15),
            stream_partial_items: false,
            omit_updated_at: false,
            crlf: false,
            compact_framing: false,
            org_name: "Acme Corp".into(),
            latency: Duration::ZERO,
            rate_headers: true,
        }
    }
}

impl FakeConfig {
    /// The defaults with a fast stream (data every 50 ms, heartbeats every
    /// 200 ms) for tests.
    pub fn fast() -> FakeConfig {
        FakeConfig {
            sse_interval: Duration::from_millis(50),
            heartbeat_interval: Duration::from_millis(200),
            ..FakeConfig::default()
        }
    }
}

/// One event as the fake stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeEvent {
    pub id: String,
    pub title: String,
    pub slug: String,
    pub description: Option<String>,
    pub start_date: String,
    pub end_date: String,
    pub active: bool,
    pub need_moderation: bool,
    pub allow_anonymous: bool,
    pub created_at: i64,
    pub deleted: bool,
}

/// One question as the fake stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeQuestion {
    pub id: String,
    pub text: String,
    pub vote_count: i64,
    /// `DEFAULT`, `SELECTED`, `ANSWERED` or `REJECTED`.
    pub status: String,
    pub is_anonymous: bool,
    pub author_username: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Identifiers that voted.
    pub voters: HashSet<String>,
}

/// A question to seed.
#[derive(Debug, Clone)]
pub struct NewQuestion {
    pub text: String,
    pub author: Option<String>,
    pub status: String,
    pub votes: i64,
}

impl NewQuestion {
    pub fn new(text: impl Into<String>) -> NewQuestion {
        NewQuestion {
            text: text.into(),
            author: None,
            status: DEFAULT.into(),
            votes: 0,
        }
    }
}

/// One request as the fake saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
    /// Since the fake started.
    pub at: Duration,
    pub method: String,
    /// Route pattern without `/v1` (`/events/{id}/questions`).
    pub route: String,
    /// Concrete path without `/v1`.
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
}

/// Request counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    pub by_route: BTreeMap<String, u64>,
    pub by_path: BTreeMap<String, u64>,
    pub total: u64,
    /// Requests answered with 429.
    pub rate_limited: u64,
    /// Requests applied whose answer was then lost (see
    /// [`FakePostobox::lose_answers`]).
    pub lost_answers: u64,
    /// Streams that were opened (200).
    pub streams_opened: u64,
    /// The most requests (streams aside) under way at once.
    pub max_in_flight: u64,
}

impl Counters {
    /// By route key, e.g. `"GET /events/{id}/questions"`.
    pub fn route(&self, key: &str) -> u64 {
        self.by_route.get(key).copied().unwrap_or(0)
    }

    /// By concrete path key, e.g. `"PATCH /events/ev1/questions/q3"`.
    pub fn path(&self, key: &str) -> u64 {
        self.by_path.get(key).copied().unwrap_or(0)
    }
}

/// A canned failure for the next matching requests.
#[derive(Debug, Clone)]
struct Fault {
    route: String,
    status: u16,
    code: String,
    message: String,
    times: u32,
}

struct World {
    plan: Plan,
    api_key: String,
    scopes: HashSet<String>,
    rate_window: Duration,
    rate_limit: Option<u32>,
    sse_interval: Duration,
    heartbeat_interval: Duration,
    partial: bool,
    omit_updated_at: bool,
    crlf: bool,
    compact: bool,
    org_name: String,
    events: Vec<FakeEvent>,
    questions: HashMap<String, Vec<FakeQuestion>>,
    next_id: u64,
    clock_ms: i64,
    window_start: Instant,
    window_count: u32,
    counters: Counters,
    log: Vec<RequestRecord>,
    faults: Vec<Fault>,
    drop_armed: bool,
    kill_gen: u64,
    stall_gen: u64,
    stream_gen: u64,
    /// Question id → how many more listing requests leave it out.
    hidden: HashMap<String, u32>,
    /// Route key → how many more successful answers are lost after commit.
    lose: HashMap<String, u32>,
    latency: Duration,
    rate_headers: bool,
    /// Requests (streams aside) under way now.
    in_flight: u64,
}

struct Shared {
    world: Mutex<World>,
    started: Instant,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Shared {
    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl World {
    /// A strictly increasing server time in ms.
    fn tick(&mut self) -> i64 {
        self.clock_ms = unix_ms().max(self.clock_ms + 1);
        self.clock_ms
    }

    fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:04}", self.next_id)
    }

    fn limit(&self) -> u32 {
        self.rate_limit.unwrap_or(self.plan.per_minute())
    }

    fn event(&self, id: &str) -> Option<&FakeEvent> {
        self.events.iter().find(|e| e.id == id && !e.deleted)
    }

    fn event_mut(&mut self, id: &str) -> Option<&mut FakeEvent> {
        self.events.iter_mut().find(|e| e.id == id && !e.deleted)
    }

    fn question_mut(&mut self, event: &str, id: &str) -> Option<&mut FakeQuestion> {
        self.questions
            .get_mut(event)?
            .iter_mut()
            .find(|q| q.id == id)
    }

    fn event_json(&self, e: &FakeEvent) -> Value {
        let count = self.questions.get(&e.id).map_or(0, Vec::len);
        json!({
            "id": e.id, "title": e.title, "slug": e.slug, "description": e.description,
            "startDate": e.start_date, "endDate": e.end_date, "active": e.active,
            "needModeration": e.need_moderation, "allowAnonymous": e.allow_anonymous,
            "questionCount": count, "createdAt": iso(e.created_at),
        })
    }

    fn question_json(&self, q: &FakeQuestion) -> Value {
        let mut v = json!({
            "id": q.id, "text": q.text, "voteCount": q.vote_count, "status": q.status,
            "isAnonymous": q.is_anonymous, "authorUsername": q.author_username,
            "createdAt": iso(q.created_at),
        });
        if !self.omit_updated_at {
            v["updatedAt"] = json!(iso(q.updated_at));
        }
        v
    }

    fn stream_item(&self, q: &FakeQuestion) -> Value {
        if self.partial {
            let mut v = json!({"id": q.id, "voteCount": q.vote_count, "status": q.status});
            if !self.omit_updated_at {
                v["updatedAt"] = json!(iso(q.updated_at));
            }
            v
        } else {
            self.question_json(q)
        }
    }

    fn selected_array(&self, event: &str) -> String {
        let items: Vec<Value> = self
            .questions
            .get(event)
            .map(|qs| {
                qs.iter()
                    .filter(|q| q.status == SELECTED)
                    .map(|q| self.stream_item(q))
                    .collect()
            })
            .unwrap_or_default();
        Value::Array(items).to_string()
    }

    fn insert_question(&mut self, event: &str, new: NewQuestion) -> Option<String> {
        self.event(event)?;
        let id = self.new_id("clq");
        let now = self.tick();
        let q = FakeQuestion {
            id: id.clone(),
            text: new.text,
            vote_count: new.votes,
            status: new.status,
            is_anonymous: new.author.is_none(),
            author_username: new.author,
            created_at: now,
            updated_at: now,
            voters: HashSet::new(),
        };
        self.questions.entry(event.to_string()).or_default().push(q);
        Some(id)
    }

    /// Toggles `identifier`'s vote; `(voted, count)`.
    fn toggle_vote(&mut self, event: &str, id: &str, identifier: &str) -> Option<(bool, i64)> {
        let now = self.tick();
        let q = self.question_mut(event, id)?;
        let voted = if q.voters.remove(identifier) {
            q.vote_count -= 1;
            false
        } else {
            q.voters.insert(identifier.to_string());
            q.vote_count += 1;
            true
        };
        q.updated_at = now;
        Some((voted, q.vote_count))
    }
}

fn error(status: StatusCode, code: &str, message: &str, details: Value) -> Response {
    let body = json!({"error": {"message": message, "status": status.as_u16(), "code": code, "details": details}});
    (status, axum::Json(body)).into_response()
}

fn not_found(what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        &format!("{what} not found"),
        Value::Null,
    )
}

fn bad_request(message: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
        message,
        Value::Null,
    )
}

fn data(status: StatusCode, v: Value) -> Response {
    (status, axum::Json(json!({ "data": v }))).into_response()
}

fn scope_for(method: &Method, route: &str) -> &'static str {
    match (method.as_str(), route) {
        ("GET", "/events") | ("GET", "/events/{id}") => "events:read",
        (_, "/events") | (_, "/events/{id}") => "events:write",
        ("GET", _) if route.starts_with("/events/") => "questions:read",
        ("POST", "/events/{id}/questions") | ("POST", "/events/{id}/questions/{qid}/vote") => {
            "questions:write"
        }
        (_, "/events/{id}/questions/{qid}") => "questions:moderate",
        (_, "/organization") => "organization:read",
        _ => "events:read",
    }
}

/// Counting, canned faults, auth, rate limit, scopes, headers and the log.
async fn gate(
    State(sh): State<Arc<Shared>>,
    matched: MatchedPath,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    let route = matched.as_str().trim_start_matches("/v1").to_string();
    let path = req.uri().path().trim_start_matches("/v1").to_string();
    let query = req.uri().query().map(str::to_string);
    let key = format!("{method} {route}");
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);

    let gauged = !route.ends_with("/stream");
    let latency = {
        let mut w = sh.world();
        if gauged {
            w.in_flight += 1;
            w.counters.max_in_flight = w.counters.max_in_flight.max(w.in_flight);
        }
        w.latency
    };
    let early: Result<Vec<(String, String)>, Response> = (|| {
        let mut w = sh.world();
        *w.counters.by_route.entry(key.clone()).or_default() += 1;
        *w.counters
            .by_path
            .entry(format!("{method} {path}"))
            .or_default() += 1;
        w.counters.total += 1;
        if let Some(i) = w.faults.iter().position(|f| f.route == key) {
            let f = w.faults[i].clone();
            if f.times <= 1 {
                w.faults.remove(i);
            } else {
                w.faults[i].times -= 1;
            }
            let status =
                StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Err(error(status, &f.code, &f.message, Value::Null));
        }
        if auth.as_deref() != Some(w.api_key.as_str()) {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                "Invalid or missing API key",
                Value::Null,
            ));
        }
        let now = Instant::now();
        let window = w.rate_window.max(Duration::from_millis(1));
        while now >= w.window_start + window {
            w.window_start += window;
            w.window_count = 0;
        }
        let left = (w.window_start + window).saturating_duration_since(now);
        let reset_unix_s = (unix_ms() + left.as_millis() as i64 + 999) / 1000;
        let limit = w.limit();
        if w.window_count >= limit {
            w.counters.rate_limited += 1;
            let mut resp = error(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMIT_EXCEEDED",
                "Rate limit exceeded",
                json!({ "limit": limit }),
            );
            let h = resp.headers_mut();
            let retry = left.as_millis().div_ceil(1000).max(1);
            h.insert("retry-after", HeaderValue::from(retry as u64));
            if w.rate_headers {
                h.insert("x-ratelimit-limit", HeaderValue::from(limit));
                h.insert("x-ratelimit-remaining", HeaderValue::from(0u32));
                h.insert("x-ratelimit-reset", HeaderValue::from(reset_unix_s));
            }
            return Err(resp);
        }
        w.window_count += 1;
        let mut headers = vec![
            ("x-ratelimit-limit".to_string(), limit.to_string()),
            (
                "x-ratelimit-remaining".to_string(),
                (limit - w.window_count).to_string(),
            ),
            ("x-ratelimit-reset".to_string(), reset_unix_s.to_string()),
        ];
        if !w.rate_headers {
            headers.clear();
        }
        let scope = scope_for(&method, &route);
        if !w.scopes.contains(scope) {
            let mut resp = error(
                StatusCode::FORBIDDEN,
                "INSUFFICIENT_SCOPE",
                &format!("Insufficient permissions: this requires the {scope} scope"),
                json!({ "requiredScope": scope }),
            );
            for (k, v) in &headers {
                if let Ok(v) = HeaderValue::from_str(v) {
                    resp.headers_mut()
                        .insert(k.as_str().parse::<axum::http::HeaderName>().unwrap(), v);
                }
            }
            return Err(resp);
        }
        Ok(headers)
    })();
    let resp = match early {
        Err(resp) => resp,
        Ok(headers) => {
            let mut resp = next.run(req).await;
            if resp.status().is_success() {
                let mut w = sh.world();
                if let Some(n) = w.lose.get_mut(&key).filter(|n| **n > 0) {
                    *n -= 1;
                    w.counters.lost_answers += 1;
                    resp = error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "INTERNAL_ERROR",
                        "answer lost after commit",
                        Value::Null,
                    );
                }
            }
            for (k, v) in headers {
                if let (Ok(k), Ok(v)) = (
                    k.parse::<axum::http::HeaderName>(),
                    HeaderValue::from_str(&v),
                ) {
                    resp.headers_mut().insert(k, v);
                }
            }
            resp
        }
    };
    if gauged {
        tokio::time::sleep(latency).await;
    }
    let mut w = sh.world();
    if gauged {
        w.in_flight -= 1;
    }
    if route.ends_with("/stream") && resp.status() == StatusCode::OK {
        w.counters.streams_opened += 1;
    }
    w.log.push(RequestRecord {
        at: sh.started.elapsed(),
        method: method.to_string(),
        route,
        path,
        query,
        status: resp.status().as_u16(),
    });
    resp
}

fn body_json(body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| bad_request("Request body must be a JSON object"))
}

type Params = Query<HashMap<String, String>>;

fn paging(q: &HashMap<String, String>) -> Result<(usize, usize), Response> {
    let page = match q.get("page") {
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| bad_request("Invalid page"))?,
        None => 1,
    };
    let limit = match q.get("limit") {
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| *l >= 1)
            .ok_or_else(|| bad_request("Invalid limit"))?,
        None => 20,
    };
    Ok((page, limit.min(100)))
}

fn paginate(items: Vec<Value>, page: usize, limit: usize) -> Response {
    let total = items.len();
    let pages = total.div_ceil(limit);
    let data: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * limit)
        .take(limit)
        .collect();
    axum::Json(json!({
        "data": data,
        "pagination": {"page": page, "limit": limit, "total": total, "totalPages": pages},
    }))
    .into_response()
}

async fn list_events(State(sh): State<Arc<Shared>>, Query(q): Params) -> Response {
    let (page, limit) = match paging(&q) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let active = match q.get("active").map(String::as_str) {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return bad_request("Invalid active filter"),
    };
    let w = sh.world();
    let items = w
        .events
        .iter()
        .filter(|e| !e.deleted && active.is_none_or(|a| e.active == a))
        .map(|e| w.event_json(e))
        .collect();
    paginate(items, page, limit)
}

async fn create_event(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let (Some(title), Some(slug), Some(start), Some(end)) =
        (s("title"), s("slug"), s("startDate"), s("endDate"))
    else {
        return bad_request("title, slug, startDate and endDate are required");
    };
    if !(2..=200).contains(&title.chars().count()) {
        return bad_request("title must be 2-200 characters");
    }
    if slug.is_empty()
        || !slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return bad_request("slug must be lowercase with hyphens only");
    }
    let mut w = sh.world();
    if w.events.iter().any(|e| e.slug == slug && !e.deleted) {
        return error(
            StatusCode::CONFLICT,
            "CONFLICT",
            "An event with this slug already exists",
            Value::Null,
        );
    }
    let id = w.new_id("clx");
    let now = w.tick();
    let e = FakeEvent {
        id,
        title,
        slug,
        description: s("description"),
        start_date: start,
        end_date: end,
        active: v.get("active").and_then(Value::as_bool).unwrap_or(false),
        need_moderation: v
            .get("needModeration")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        allow_anonymous: v
            .get("allowAnonymous")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        created_at: now,
        deleted: false,
    };
    let out = w.event_json(&e);
    w.events.push(e);
    data(StatusCode::CREATED, out)
}

async fn get_event(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let w = sh.world();
    match w.event(&id) {
        Some(e) => data(StatusCode::OK, w.event_json(e)),
        None => not_found("Event"),
    }
}

async fn patch_event(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut w = sh.world();
    let Some(e) = w.event_mut(&id) else {
        return not_found("Event");
    };
    for (k, val) in v.as_object().into_iter().flatten() {
        match (k.as_str(), val) {
            ("active", Value::Bool(b)) => e.active = *b,
            ("needModeration", Value::Bool(b)) => e.need_moderation = *b,
            ("allowAnonymous", Value::Bool(b)) => e.allow_anonymous = *b,
            ("title", Value::String(s)) => e.title = s.clone(),
            ("description", Value::String(s)) => e.description = Some(s.clone()),
            ("startDate", Value::String(s)) => e.start_date = s.clone(),
            ("endDate", Value::String(s)) => e.end_date = s.clone(),
            ("slug", Value::String(s)) => e.slug = s.clone(),
            ("subtitle" | "maxQuestionLength", _) => {}
            _ => return bad_request(&format!("Invalid field {k}")),
        }
    }
    let e = e.clone();
    data(StatusCode::OK, w.event_json(&e))
}

async fn delete_event(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let mut w = sh.world();
    match w.event_mut(&id) {
        Some(e) => {
            e.deleted = true;
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found("Event"),
    }
}

async fn list_questions(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(q): Params,
) -> Response {
    let (page, limit) = match paging(&q) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let status = q.get("status").cloned();
    if let Some(s) = &status
        && !STATUSES.contains(&s.as_str())
    {
        return bad_request("Invalid status");
    }
    let sort_by = q.get("sortBy").map_or("createdAt", String::as_str);
    let desc = match q.get("sortOrder").map_or("desc", String::as_str) {
        "asc" => false,
        "desc" => true,
        _ => return bad_request("Invalid sortOrder"),
    };
    let mut w = sh.world();
    if w.event(&id).is_none() {
        return not_found("Event");
    }
    // Questions hidden from this listing (see `hide_in_listings`).
    let mut hidden = HashSet::new();
    w.hidden.retain(|qid, times| {
        hidden.insert(qid.clone());
        *times -= 1;
        *times > 0
    });
    let mut qs: Vec<&FakeQuestion> = w
        .questions
        .get(&id)
        .map(|qs| {
            qs.iter()
                .filter(|x| status.as_deref().is_none_or(|s| x.status == s))
                .filter(|x| !hidden.contains(&x.id))
                .collect()
        })
        .unwrap_or_default();
    match sort_by {
        // Ties broken by id, so pages are stable.
        "createdAt" => qs.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id))),
        "voteCount" => qs.sort_by(|a, b| (a.vote_count, &a.id).cmp(&(b.vote_count, &b.id))),
        _ => return bad_request("Invalid sortBy"),
    }
    if desc {
        qs.reverse();
    }
    let items = qs.into_iter().map(|x| w.question_json(x)).collect();
    paginate(items, page, limit)
}

async fn submit_question(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(text) = v
        .get("text")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
    else {
        return bad_request("text is required");
    };
    if text.chars().count() > 1200 {
        return bad_request("text is longer than maxQuestionLength");
    }
    let mut w = sh.world();
    let Some(e) = w.event(&id) else {
        return not_found("Event");
    };
    let status = if e.need_moderation { DEFAULT } else { SELECTED };
    let new = NewQuestion {
        text: text.to_string(),
        author: None,
        status: status.into(),
        votes: 0,
    };
    let qid = w.insert_question(&id, new).unwrap_or_default();
    let q = w.questions[&id].iter().find(|q| q.id == qid).cloned();
    match q {
        Some(q) => data(StatusCode::CREATED, w.question_json(&q)),
        None => not_found("Event"),
    }
}

async fn get_question(
    State(sh): State<Arc<Shared>>,
    Path((id, qid)): Path<(String, String)>,
) -> Response {
    let w = sh.world();
    if w.event(&id).is_none() {
        return not_found("Event");
    }
    match w
        .questions
        .get(&id)
        .and_then(|qs| qs.iter().find(|q| q.id == qid))
    {
        Some(q) => data(StatusCode::OK, w.question_json(q)),
        None => not_found("Question"),
    }
}

async fn patch_question(
    State(sh): State<Arc<Shared>>,
    Path((id, qid)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(status) = v
        .get("status")
        .and_then(Value::as_str)
        .filter(|s| STATUSES.contains(s))
    else {
        return bad_request("status must be one of DEFAULT, SELECTED, ANSWERED, REJECTED");
    };
    let mut w = sh.world();
    if w.event(&id).is_none() {
        return not_found("Event");
    }
    let now = w.tick();
    let Some(q) = w.question_mut(&id, &qid) else {
        return not_found("Question");
    };
    q.status = status.to_string();
    q.updated_at = now;
    let q = q.clone();
    data(StatusCode::OK, w.question_json(&q))
}

async fn delete_question(
    State(sh): State<Arc<Shared>>,
    Path((id, qid)): Path<(String, String)>,
) -> Response {
    let mut w = sh.world();
    if w.event(&id).is_none() {
        return not_found("Event");
    }
    let Some(qs) = w.questions.get_mut(&id) else {
        return not_found("Question");
    };
    let before = qs.len();
    qs.retain(|q| q.id != qid);
    if qs.len() == before {
        return not_found("Question");
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn vote(
    State(sh): State<Arc<Shared>>,
    Path((id, qid)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(identifier) = v
        .get("identifier")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return bad_request("identifier is required");
    };
    let mut w = sh.world();
    if w.event(&id).is_none() {
        return not_found("Event");
    }
    match w.toggle_vote(&id, &qid, identifier) {
        Some((voted, count)) => data(
            StatusCode::OK,
            json!({"questionId": qid, "voted": voted, "voteCount": count}),
        ),
        None => not_found("Question"),
    }
}

async fn organization(State(sh): State<Arc<Shared>>) -> Response {
    let w = sh.world();
    let events = w.events.iter().filter(|e| !e.deleted).count();
    let questions: usize = w.questions.values().map(Vec::len).sum();
    data(
        StatusCode::OK,
        json!({
            "id": "clo0001", "name": w.org_name, "subdomain": "acme", "slug": "acme-corp",
            "logo": null, "primaryColor": "#BE123C", "plan": w.plan.wire_name(),
            "limits": {"maxEvents": 50, "maxQuestions": 5000},
            "usage": {"eventCount": events, "questionCount": questions, "memberCount": 5},
            "isActive": true, "createdAt": "2024-01-15T10:00:00.000Z",
        }),
    )
}

async fn stream(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let gen_now = {
        let mut w = sh.world();
        if w.plan != Plan::Enterprise {
            return error(
                StatusCode::FORBIDDEN,
                "PLAN_UPGRADE_REQUIRED",
                "Real-time streaming is available on the Enterprise plan only",
                json!({ "plan": w.plan.wire_name(), "requiredPlan": "ENTERPRISE" }),
            );
        }
        if w.event(&id).is_none() {
            return not_found("Event");
        }
        w.stream_gen += 1;
        w.stream_gen
    };
    let (tx, rx) = futures::channel::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    let task = tokio::spawn(sse_task(sh.clone(), id, tx, gen_now));
    sh.tasks
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(task);
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(rx))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

enum Write {
    Nothing,
    Close,
    Send(String),
    CutAndAbort(String),
}

async fn sse_task(
    sh: Arc<Shared>,
    event: String,
    mut tx: futures::channel::mpsc::Sender<Result<Bytes, std::io::Error>>,
    my_gen: u64,
) {
    let (interval, heartbeat, crlf, compact) = {
        let w = sh.world();
        (w.sse_interval, w.heartbeat_interval, w.crlf, w.compact)
    };
    let nl = if crlf { "\r\n" } else { "\n" };
    // Events end with a blank line, unless the framing is compact.
    let end = if compact {
        nl.to_string()
    } else {
        format!("{nl}{nl}")
    };
    let mut data_tick = tokio::time::interval(interval.max(Duration::from_millis(1)));
    let hb = heartbeat.max(Duration::from_millis(1));
    let mut hb_tick = tokio::time::interval_at(tokio::time::Instant::now() + hb, hb);
    let mut last_sent: Option<String> = None;
    let mut beats = 0u64;
    loop {
        let write = tokio::select! {
            _ = data_tick.tick() => {
                let mut w = sh.world();
                if w.kill_gen >= my_gen || w.event(&event).is_none() {
                    Write::Close
                } else if w.stall_gen >= my_gen || tx.is_closed() {
                    if tx.is_closed() { Write::Close } else { Write::Nothing }
                } else {
                    let array = w.selected_array(&event);
                    if last_sent.as_deref() == Some(array.as_str()) {
                        Write::Nothing
                    } else if std::mem::take(&mut w.drop_armed) {
                        Write::CutAndAbort(format!("data: {array}"))
                    } else {
                        last_sent = Some(array.clone());
                        Write::Send(format!("data: {array}{end}"))
                    }
                }
            }
            _ = hb_tick.tick() => {
                let w = sh.world();
                if w.kill_gen >= my_gen {
                    Write::Close
                } else if w.stall_gen >= my_gen {
                    Write::Nothing
                } else {
                    beats += 1;
                    Write::Send(format!(":heartbeat {}{end}", beats - 1))
                }
            }
        };
        match write {
            Write::Nothing => {}
            Write::Close => return,
            Write::Send(s) => {
                if tx.send(Ok(Bytes::from(s))).await.is_err() {
                    return;
                }
            }
            Write::CutAndAbort(line) => {
                let half = line.len() / 2;
                let cut = (0..=half)
                    .rev()
                    .find(|i| line.is_char_boundary(*i))
                    .unwrap_or(0);
                let _ = tx.send(Ok(Bytes::from(line[..cut].to_string()))).await;
                let _ = tx.flush().await;
                tokio::time::sleep(Duration::from_millis(20)).await;
                let _ = tx
                    .send(Err(std::io::Error::other("connection dropped by the fake")))
                    .await;
                return;
            }
        }
    }
}

/// A running fake. Dropping it stops the server and its streams.
pub struct FakePostobox {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _serving: Serving,
}

impl Drop for FakePostobox {
    fn drop(&mut self) {
        for t in self
            .shared
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            t.abort();
        }
    }
}

impl FakePostobox {
    /// Binds `127.0.0.1:0` and serves in the current runtime.
    pub async fn start(config: FakeConfig) -> FakePostobox {
        let shared = Arc::new(Shared {
            world: Mutex::new(World {
                plan: config.plan,
                api_key: config.api_key,
                scopes: config.scopes.into_iter().collect(),
                rate_window: config.rate_window,
                rate_limit: config.rate_limit,
                sse_interval: config.sse_interval,
                heartbeat_interval: config.heartbeat_interval,
                partial: config.stream_partial_items,
                omit_updated_at: config.omit_updated_at,
                crlf: config.crlf,
                compact: config.compact_framing,
                org_name: config.org_name,
                events: Vec::new(),
                questions: HashMap::new(),
                next_id: 0,
                clock_ms: 0,
                window_start: Instant::now(),
                window_count: 0,
                counters: Counters::default(),
                log: Vec::new(),
                faults: Vec::new(),
                drop_armed: false,
                kill_gen: 0,
                stall_gen: 0,
                stream_gen: 0,
                hidden: HashMap::new(),
                lose: HashMap::new(),
                latency: config.latency,
                rate_headers: config.rate_headers,
                in_flight: 0,
            }),
            started: Instant::now(),
            tasks: Mutex::new(Vec::new()),
        });
        let v1 = Router::new()
            .route("/v1/events", get(list_events).post(create_event))
            .route(
                "/v1/events/{id}",
                get(get_event).patch(patch_event).delete(delete_event),
            )
            .route(
                "/v1/events/{id}/questions",
                get(list_questions).post(submit_question),
            )
            .route("/v1/events/{id}/questions/stream", get(stream))
            .route(
                "/v1/events/{id}/questions/{qid}",
                get(get_question)
                    .patch(patch_question)
                    .delete(delete_question),
            )
            .route(
                "/v1/events/{id}/questions/{qid}/vote",
                axum::routing::post(vote),
            )
            .route("/v1/organization", get(organization))
            .route_layer(middleware::from_fn_with_state(shared.clone(), gate))
            .with_state(shared.clone());
        let (addr, serving) = serve(v1).await;
        FakePostobox {
            shared,
            addr,
            _serving: serving,
        }
    }

    /// Starts the fake on a thread with its own runtime, for tests that block
    /// their thread (driving tmux, a child process, `std::thread::sleep`). A
    /// fake started with [`FakePostobox::start`] in a current-thread runtime
    /// stops serving while the test's thread is blocked. Call it outside any
    /// async context. Dropping the handle stops the server and the thread.
    pub fn start_background(config: FakeConfig) -> FakePostobox {
        in_background(
            "postobox-fake",
            move || FakePostobox::start(config),
            |fake: &FakePostobox, serving| FakePostobox {
                shared: fake.shared.clone(),
                addr: fake.addr,
                _serving: serving,
            },
        )
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.shared.world()
    }

    /// The address the fake listens on (for a proxy in front of it).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The key the fake accepts.
    pub fn api_key(&self) -> String {
        self.world().api_key.clone()
    }

    // ---- knobs -----------------------------------------------------------

    pub fn set_api_key(&self, key: &str) {
        self.world().api_key = key.to_string();
    }

    pub fn set_scopes(&self, scopes: &[&str]) {
        self.world().scopes = scopes.iter().map(|s| s.to_string()).collect();
    }

    /// The next `data:` line any stream writes is cut in half and the
    /// connection aborted (once).
    pub fn drop_stream_mid_event(&self) {
        self.world().drop_armed = true;
    }

    /// Closes every open stream (cleanly).
    pub fn kill_streams(&self) {
        let mut w = self.world();
        w.kill_gen = w.stream_gen;
    }

    /// Every open stream goes silent (no data, no heartbeat) but stays open;
    /// streams opened later behave.
    pub fn stall_streams(&self) {
        let mut w = self.world();
        w.stall_gen = w.stream_gen;
    }

    /// The next `times` requests to `route` (e.g. `"GET /events/{id}/questions"`)
    /// answer `status` with the documented error body, before auth and rate
    /// limit (nothing is counted against the budget).
    pub fn fail_next(&self, route: &str, status: u16, code: &str, message: &str, times: u32) {
        self.world().faults.push(Fault {
            route: route.to_string(),
            status,
            code: code.to_string(),
            message: message.to_string(),
            times,
        });
    }

    /// The next `n` successful answers on `route` (e.g.
    /// `"POST /events/{id}/questions"`) are lost after the request was
    /// applied: the change is made, the client gets a 500, as when a proxy
    /// drops the answer on its way back.
    pub fn lose_answers(&self, route: &str, n: u32) {
        *self.world().lose.entry(route.to_string()).or_default() += n;
    }

    /// The next `times` question listing requests (any event, any status
    /// filter) leave question `id` out, totals included, as if it were
    /// briefly in no list: what a client sees when the question moves from
    /// a list it has not read yet to one it has, or when a deletion shifts
    /// the pages under it. `GET` of the question still finds it.
    pub fn hide_in_listings(&self, id: &str, times: u32) {
        if times > 0 {
            self.world().hidden.insert(id.to_string(), times);
        }
    }

    // ---- state (another moderator, the audience) --------------------------

    /// Adds an active event that needs moderation; returns its id.
    pub fn add_event(&self, title: &str) -> String {
        let mut w = self.world();
        let id = w.new_id("clx");
        let now = w.tick();
        let slug = format!(
            "{}-{}",
            title
                .to_ascii_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
            id
        );
        w.events.push(FakeEvent {
            id: id.clone(),
            title: title.to_string(),
            slug,
            description: None,
            start_date: "2024-06-01T09:00:00.000Z".into(),
            end_date: "2024-06-01T18:00:00.000Z".into(),
            active: true,
            need_moderation: true,
            allow_anonymous: true,
            created_at: now,
            deleted: false,
        });
        id
    }

    pub fn event(&self, id: &str) -> Option<FakeEvent> {
        self.world().events.iter().find(|e| e.id == id).cloned()
    }

    pub fn set_event_active(&self, id: &str, active: bool) {
        if let Some(e) = self.world().event_mut(id) {
            e.active = active;
        }
    }

    /// Soft-deletes an event (404 from then on).
    pub fn delete_event(&self, id: &str) {
        if let Some(e) = self.world().event_mut(id) {
            e.deleted = true;
        }
    }

    pub fn restore_event(&self, id: &str) {
        if let Some(e) = self.world().events.iter_mut().find(|e| e.id == id) {
            e.deleted = false;
        }
    }

    /// An anonymous pending question; returns its id.
    pub fn add_question(&self, event: &str, text: &str) -> String {
        self.add_question_with(event, NewQuestion::new(text))
    }

    pub fn add_question_with(&self, event: &str, q: NewQuestion) -> String {
        self.world()
            .insert_question(event, q)
            .expect("add_question: no such event")
    }

    /// `n` pending questions `"Question 1"`...; returns their ids in order.
    pub fn add_questions(&self, event: &str, n: usize) -> Vec<String> {
        (1..=n)
            .map(|i| self.add_question(event, &format!("Question {i}")))
            .collect()
    }

    pub fn question(&self, event: &str, id: &str) -> Option<FakeQuestion> {
        self.world()
            .questions
            .get(event)?
            .iter()
            .find(|q| q.id == id)
            .cloned()
    }

    pub fn questions(&self, event: &str) -> Vec<FakeQuestion> {
        self.world()
            .questions
            .get(event)
            .cloned()
            .unwrap_or_default()
    }

    /// Changes a status as another moderator would.
    pub fn set_status(&self, event: &str, id: &str, status: &str) {
        assert!(STATUSES.contains(&status), "unknown status {status}");
        let mut w = self.world();
        let now = w.tick();
        if let Some(q) = w.question_mut(event, id) {
            q.status = status.to_string();
            q.updated_at = now;
        }
    }

    pub fn set_text(&self, event: &str, id: &str, text: &str) {
        let mut w = self.world();
        let now = w.tick();
        if let Some(q) = w.question_mut(event, id) {
            q.text = text.to_string();
            q.updated_at = now;
        }
    }

    /// Toggles a vote as `identifier` would; returns `voted`.
    pub fn vote_as(&self, event: &str, id: &str, identifier: &str) -> bool {
        self.world()
            .toggle_vote(event, id, identifier)
            .map(|(v, _)| v)
            .unwrap_or(false)
    }

    pub fn delete_question(&self, event: &str, id: &str) {
        if let Some(qs) = self.world().questions.get_mut(event) {
            qs.retain(|q| q.id != id);
        }
    }

    // ---- observation ------------------------------------------------------

    pub fn counters(&self) -> Counters {
        self.world().counters.clone()
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.world().log.clone()
    }

    /// The most requests that fell into any window of `window` length
    /// (sliding), over the log.
    pub fn max_requests_in(&self, window: Duration) -> usize {
        let log = self.requests();
        let mut best = 0;
        for (i, r) in log.iter().enumerate() {
            let n = log[i..].iter().take_while(|x| x.at < r.at + window).count();
            best = best.max(n);
        }
        best
    }
}
