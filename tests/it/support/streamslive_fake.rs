//! A fake streams.live API server for tests: axum on `127.0.0.1:0`, in
//! process, written from `/work/shared/providers/streamslive-api.txt`.
//!
//! ```ignore
//! let fake = FakeStreamsLive::start(FakeConfig::default()).await;
//! let provider = StreamsLive::new(&fake.settings(), SourceId(0), None).unwrap();
//! fake.add_question("How much is shipping?", Some("Ana"));
//! assert_eq!(fake.counters().get("POST auth/login"), 1);
//! ```
//!
//! What it does, as documented:
//! - `POST api/v1/auth/login` (`email`, `password`) → `access_token`,
//!   `refresh_token`, `expires_in` (from [`FakeConfig::token_lifetime`]);
//!   wrong credentials → **HTTP 401 carrying `"code": 422`**.
//! - `POST auth/login/refresh` → a new pair; the old access token and the
//!   used refresh token are revoked (Passport behaviour). Can be made to fail
//!   with [`FakeStreamsLive::set_refresh_fails`] (401 / code 422, "The token
//!   is invalid.").
//! - `POST auth/logout` → 204, revokes the token.
//! - `GET events?page&status` → pages of 10, status 0 active / 1 past /
//!   2 deleted (no status: all but deleted); `GET events/{id}` and
//!   `PUT events/{id}` by id (`questionsEnabled` or `questions_enabled`,
//!   `chat_enabled`, `guest_chat_enabled`).
//! - `POST questions/read|create|vote|archive`; archived questions are no
//!   longer listed by `questions/read` ("delete question from channel").
//!   One vote per user and question; direction 1 down, 2 up.
//! - `GET profile` → the logged-in user (`id`, names); the answer is not
//!   documented, so it is the platform's user object as `events` shows it.
//! - `POST thread/read` (`threadSlug` = the channel's `thread_id` or slug,
//!   `userId` required) answers the newest [`FakeConfig::chat_window`]
//!   messages only, oldest first, like any bounded "recent messages" read, `POST messages` (`data` ≤ 300 characters, counted
//!   as Unicode scalar values like PHP's `mb_strlen`), `DELETE
//!   messages/delete` (`thread_slug` = channel slug or thread id; a message
//!   already deleted is not found: 500 carrying 404).
//! - `questions/archive` answers `{"id", "code"}`; archiving an archived
//!   question is not found (500 carrying 404).
//! - [`FakeStreamsLive::lose_answers`] commits the next calls of a route and
//!   then loses the answer (HTTP 502), as a proxy dropping it would.
//! - `POST stats/parse/download/questions|chat` → CSV bytes.
//! - Errors in the documented shape `{"error":{"code","title","message",
//!   "messages"}}`; unknown items answer **HTTP 500 carrying code 404** like
//!   every example in the document; validation errors 422 with `messages`
//!   as field → list of strings; missing or expired token → 401.
//!
//! Every route but login and refresh needs `Authorization: Bearer` with a
//! live access token or one of [`FakeConfig::personal_tokens`].
//!
//! Test hooks: [`FakeStreamsLive::counters`] (per route, e.g.
//! `"POST questions/read"`, per answer status, e.g. `"HTTP 401"`, and
//! `"UNMATCHED <METHOD> <path>"` for routes the fake does not serve),
//! [`FakeStreamsLive::inject`] (fail the next call of a route with any
//! status/code/body, `{token}` in the message is replaced by the caller's
//! bearer token to play a server that echoes secrets), audience mutators
//! (`add_question`, `audience_vote`, `add_message`, `remove_message`),
//! token mutators (`revoke_access_tokens`, `set_refresh_fails`,
//! `set_token_lifetime`) and views (`questions`, `messages`, `event`,
//! `requests`).

use super::{Serving, in_background, serve};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

/// The channel every fake starts with.
pub const EVENT_ID: &str = "gDqe1B0zJvx6yw9olAjmY8W3pKM47QZN";
pub const EVENT_SLUG: &str = "pK5A4WvhCO";
pub const EVENT_NAME: &str = "Test 07042023";
pub const THREAD_ID: u64 = 1;
/// The account that owns the channel (and the id login users get).
pub const OWNER_ID: u64 = 55;

/// How the fake starts.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    pub email: String,
    pub password: String,
    /// Access token lifetime; `expires_in` is its whole seconds (≥ 1).
    pub token_lifetime: Duration,
    /// Personal access tokens that are always accepted.
    pub personal_tokens: Vec<String>,
    /// Active channels besides the main one (for paging).
    pub extra_active_events: usize,
    pub past_events: usize,
    pub deleted_events: usize,
    pub questions_enabled: bool,
    pub chat_enabled: bool,
    pub guest_chat_enabled: bool,
    /// How many recent messages `thread/read` answers.
    pub chat_window: usize,
}

impl Default for FakeConfig {
    fn default() -> FakeConfig {
        FakeConfig {
            email: "moderator@example.com".into(),
            password: "s3cret-Passw0rd!".into(),
            token_lifetime: Duration::from_secs(30),
            personal_tokens: Vec::new(),
            extra_active_events: 0,
            past_events: 0,
            deleted_events: 0,
            questions_enabled: true,
            chat_enabled: true,
            guest_chat_enabled: false,
            chat_window: 100,
        }
    }
}

/// A channel as the fake stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeEvent {
    pub id: String,
    pub slug: String,
    pub name: String,
    /// 0 active, 1 past, 2 deleted.
    pub status: u8,
    pub thread_id: u64,
    pub questions_enabled: bool,
    pub chat_enabled: bool,
    pub guest_chat_enabled: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeQuestion {
    pub id: String,
    pub event_id: String,
    pub text: String,
    pub author: Option<String>,
    pub upvotes: i64,
    pub downvotes: i64,
    pub archived: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeMessage {
    pub id: u64,
    pub thread_id: u64,
    pub text: String,
    pub author: Option<String>,
    pub reply_for: Option<String>,
    pub deleted: bool,
    pub created_at: String,
}

/// One request as received (for assertions: what was sent, with which token).
#[derive(Debug, Clone)]
pub struct Recorded {
    pub route: String,
    pub query: String,
    pub body: Value,
    pub bearer: Option<String>,
}

/// A canned answer for the next call of one route.
#[derive(Debug, Clone)]
pub struct Injected {
    pub status: u16,
    /// The whole body; `None` → the documented error shape from the fields.
    pub raw_body: Option<String>,
    pub code: Option<u16>,
    pub title: String,
    pub message: String,
    pub messages: Value,
    pub retry_after: Option<u64>,
}

impl Injected {
    /// `{"error":{"code","title":"Error","message","messages":[]}}` with
    /// HTTP `status`.
    pub fn error(status: u16, code: u16, message: &str) -> Injected {
        Injected {
            status,
            raw_body: None,
            code: Some(code),
            title: "Error".into(),
            message: message.into(),
            messages: json!([]),
            retry_after: None,
        }
    }

    /// Any body, verbatim.
    pub fn raw(status: u16, body: &str) -> Injected {
        Injected {
            raw_body: Some(body.into()),
            ..Injected::error(status, status, "")
        }
    }

    pub fn with_messages(mut self, messages: Value) -> Injected {
        self.messages = messages;
        self
    }

    pub fn with_title(mut self, title: &str) -> Injected {
        self.title = title.into();
        self
    }

    pub fn retry_after(mut self, secs: u64) -> Injected {
        self.retry_after = Some(secs);
        self
    }

    fn response(&self, bearer: Option<&str>) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = match &self.raw_body {
            Some(b) => b.clone(),
            None => json!({"error": {
                "code": self.code,
                "title": self.title,
                "message": self.message,
                "messages": self.messages,
            }})
            .to_string(),
        };
        // Tokens are JSON-safe (letters, digits, dots), so a plain replace
        // keeps the body valid.
        let body = body.replace("{token}", bearer.unwrap_or(""));
        let mut resp = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, s.into());
        }
        resp
    }
}

/// Requests per route (`"POST questions/read"`) and answers per status
/// (`"HTTP 401"`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters(pub BTreeMap<String, u64>);

impl Counters {
    pub fn get(&self, key: &str) -> u64 {
        self.0.get(key).copied().unwrap_or(0)
    }

    /// Everything except the login/refresh/logout routes and statuses.
    pub fn api_calls(&self) -> u64 {
        self.0
            .iter()
            .filter(|(k, _)| !k.starts_with("HTTP ") && !k.contains(" auth/"))
            .map(|(_, v)| v)
            .sum()
    }
}

impl std::fmt::Display for Counters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (k, v) in &self.0 {
            writeln!(f, "{k}: {v}")?;
        }
        Ok(())
    }
}

struct Access {
    expires: Instant,
    user: u64,
}

struct World {
    cfg: FakeConfig,
    refresh_fails: bool,
    access: HashMap<String, Access>,
    /// refresh token → access token it was issued with.
    refresh: HashMap<String, String>,
    events: Vec<FakeEvent>,
    questions: Vec<FakeQuestion>,
    /// (user, question) → direction.
    votes: HashMap<(u64, String), u8>,
    messages: Vec<FakeMessage>,
    next_id: u64,
    /// At each refresh: ms the replaced access token still had to live
    /// (negative: it had expired).
    headroom_ms: Vec<i64>,
    counters: Counters,
    injected: HashMap<String, VecDeque<Injected>>,
    /// Route → how many more answers to lose after the call committed.
    lose: HashMap<String, u32>,
    log: Vec<Recorded>,
}

type Shared = Arc<Mutex<World>>;

/// The running fake. Dropping it stops the server.
pub struct FakeStreamsLive {
    addr: std::net::SocketAddr,
    world: Shared,
    _serving: Serving,
}

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn lock(w: &Shared) -> MutexGuard<'_, World> {
    w.lock().unwrap_or_else(|e| e.into_inner())
}

impl FakeStreamsLive {
    /// Binds `127.0.0.1:0` and serves until dropped.
    pub async fn start(cfg: FakeConfig) -> FakeStreamsLive {
        let mut events = vec![FakeEvent {
            id: EVENT_ID.into(),
            slug: EVENT_SLUG.into(),
            name: EVENT_NAME.into(),
            status: 0,
            thread_id: THREAD_ID,
            questions_enabled: cfg.questions_enabled,
            chat_enabled: cfg.chat_enabled,
            guest_chat_enabled: cfg.guest_chat_enabled,
        }];
        let groups = [
            (0u8, cfg.extra_active_events),
            (1, cfg.past_events),
            (2, cfg.deleted_events),
        ];
        for (status, n) in groups {
            for i in 0..n {
                let k = events.len() as u64 + 1;
                events.push(FakeEvent {
                    id: format!("ev{k:030}"),
                    slug: format!("chan{status}x{i}"),
                    name: format!("Channel {k}"),
                    status,
                    thread_id: 100 + k,
                    questions_enabled: true,
                    chat_enabled: true,
                    guest_chat_enabled: false,
                });
            }
        }
        let world = Arc::new(Mutex::new(World {
            cfg,
            refresh_fails: false,
            access: HashMap::new(),
            refresh: HashMap::new(),
            events,
            questions: Vec::new(),
            votes: HashMap::new(),
            messages: Vec::new(),
            next_id: 1,
            headroom_ms: Vec::new(),
            counters: Counters::default(),
            injected: HashMap::new(),
            lose: HashMap::new(),
            log: Vec::new(),
        }));
        let app = Router::new()
            .route("/api/v1/auth/login", post(login))
            .route("/api/v1/auth/login/refresh", post(refresh))
            .route("/api/v1/auth/logout", post(logout))
            .route("/api/v1/events", get(list_events))
            .route("/api/v1/events/{id}", get(get_event).put(put_event))
            .route("/api/v1/questions/read", post(questions_read))
            .route("/api/v1/questions/create", post(questions_create))
            .route("/api/v1/questions/vote", post(questions_vote))
            .route("/api/v1/questions/archive", post(questions_archive))
            .route("/api/v1/thread/read", post(thread_read))
            .route("/api/v1/profile", get(profile))
            .route("/api/v1/messages", post(messages_post))
            .route("/api/v1/messages/delete", delete(messages_delete))
            .route(
                "/api/v1/stats/parse/download/questions",
                post(download_questions),
            )
            .route("/api/v1/stats/parse/download/chat", post(download_chat))
            .route_layer(middleware::from_fn_with_state(world.clone(), track))
            .fallback(unmatched)
            .with_state(world.clone());
        let (addr, serving) = serve(app).await;
        FakeStreamsLive {
            addr,
            world,
            _serving: serving,
        }
    }

    /// Starts the fake on a thread with its own runtime, for tests that
    /// block their thread (driving tmux, running the binary). Call it
    /// outside any async context. Dropping the handle stops the server and
    /// the thread.
    pub fn start_background(cfg: FakeConfig) -> FakeStreamsLive {
        in_background(
            "streamslive-fake",
            move || FakeStreamsLive::start(cfg),
            |fake: &FakeStreamsLive, serving| FakeStreamsLive {
                addr: fake.addr,
                world: fake.world.clone(),
                _serving: serving,
            },
        )
    }

    /// `http://127.0.0.1:PORT` (the provider appends `/api/v1/`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/api/v1/`.
    pub fn api_url(&self) -> String {
        format!("http://{}/api/v1/", self.addr)
    }

    /// Provider settings for this fake: the main channel, e-mail and
    /// password login, 200 ms polling.
    pub fn settings(&self) -> qadeck::provider::streamslive::Settings {
        let cfg = self.config();
        qadeck::provider::streamslive::Settings {
            event: Some(EVENT_SLUG.into()),
            poll_interval_ms: Some(200),
            ..qadeck::provider::streamslive::Settings::with_password(
                &self.base_url(),
                &cfg.email,
                &cfg.password,
            )
        }
    }

    /// A `[[source]]` table for a qadeck config file (end-to-end tests):
    /// the password is read from the environment variable `password_env`.
    pub fn config_toml(&self, name: &str, password_env: &str) -> String {
        format!(
            "[[source]]\nprovider = \"streamslive\"\nname = \"{name}\"\nbase_url = \"{}\"\n\
             event = \"{EVENT_SLUG}\"\nemail = \"{}\"\npassword_env = \"{password_env}\"\n\
             poll_interval_ms = 500\n",
            self.base_url(),
            self.config().email
        )
    }

    pub fn config(&self) -> FakeConfig {
        lock(&self.world).cfg.clone()
    }

    pub fn counters(&self) -> Counters {
        lock(&self.world).counters.clone()
    }

    pub fn reset_counters(&self) {
        lock(&self.world).counters = Counters::default();
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.world).log.clone()
    }

    /// The last request of a route (`"POST messages"`).
    pub fn last_request(&self, route: &str) -> Option<Recorded> {
        lock(&self.world)
            .log
            .iter()
            .rev()
            .find(|r| r.route == route)
            .cloned()
    }

    /// Answers the next call of `route` (`"POST questions/read"`) with `inj`.
    pub fn inject(&self, route: &str, inj: Injected) {
        lock(&self.world)
            .injected
            .entry(route.to_string())
            .or_default()
            .push_back(inj);
    }

    /// Lets the next `n` calls of `route` (`"POST messages"`) do their work
    /// and then answers them with HTTP 502 instead (the answer was lost).
    pub fn lose_answers(&self, route: &str, n: u32) {
        *lock(&self.world).lose.entry(route.to_string()).or_default() += n;
    }

    pub fn set_refresh_fails(&self, fails: bool) {
        lock(&self.world).refresh_fails = fails;
    }

    /// Revokes every access token (the next call with one gets 401).
    /// Refresh tokens stay valid.
    pub fn revoke_access_tokens(&self) {
        lock(&self.world).access.clear();
    }

    /// For each refresh whose access token was still known (not revoked):
    /// how many ms it had left to live; negative when it had expired.
    pub fn refresh_headroom_ms(&self) -> Vec<i64> {
        lock(&self.world).headroom_ms.clone()
    }

    /// Access tokens currently valid.
    pub fn live_tokens(&self) -> usize {
        let now = Instant::now();
        lock(&self.world)
            .access
            .values()
            .filter(|a| a.expires > now)
            .count()
    }

    /// An audience question on the main channel; returns its id.
    pub fn add_question(&self, text: &str, author: Option<&str>) -> String {
        self.add_question_to(EVENT_SLUG, text, author)
    }

    pub fn add_question_to(&self, slug: &str, text: &str, author: Option<&str>) -> String {
        let mut w = lock(&self.world);
        let event_id = w
            .events
            .iter()
            .find(|e| e.slug == slug)
            .expect("known slug")
            .id
            .clone();
        w.new_question(&event_id, text, author)
    }

    /// An audience member votes (direction 2 up, 1 down).
    pub fn audience_vote(&self, question: &str, user: u64, direction: u8) {
        let mut w = lock(&self.world);
        w.votes.insert((user, question.to_string()), direction);
        w.recount(question);
    }

    /// An audience chat message on the main channel; returns its id.
    pub fn add_message(&self, text: &str, author: Option<&str>) -> String {
        let mut w = lock(&self.world);
        w.new_message(THREAD_ID, text, author, None).to_string()
    }

    /// Someone else deletes a message.
    pub fn remove_message(&self, id: &str) {
        let mut w = lock(&self.world);
        for m in w.messages.iter_mut().filter(|m| m.id.to_string() == id) {
            m.deleted = true;
        }
    }

    pub fn questions(&self) -> Vec<FakeQuestion> {
        lock(&self.world).questions.clone()
    }

    pub fn question(&self, id: &str) -> Option<FakeQuestion> {
        lock(&self.world)
            .questions
            .iter()
            .find(|q| q.id == id)
            .cloned()
    }

    pub fn messages(&self) -> Vec<FakeMessage> {
        lock(&self.world).messages.clone()
    }

    pub fn event(&self, slug: &str) -> Option<FakeEvent> {
        lock(&self.world)
            .events
            .iter()
            .find(|e| e.slug == slug)
            .cloned()
    }
}

// ----- middleware: counters, injection, request log -------------------------

async fn track(State(w): State<Shared>, req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().trim_start_matches("/api/v1/").to_string())
        .unwrap_or_else(|| "?".into());
    let route = format!("{} {path}", req.method());
    let bearer = bearer(req.headers());
    let query = req.uri().query().unwrap_or("").to_string();
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 4 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let injected = {
        let mut w = lock(&w);
        *w.counters.0.entry(route.clone()).or_default() += 1;
        if w.log.len() < 20_000 {
            w.log.push(Recorded {
                route: route.clone(),
                query,
                body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                bearer: bearer.clone(),
            });
        }
        w.injected.get_mut(&route).and_then(VecDeque::pop_front)
    };
    let mut resp = match injected {
        Some(inj) => inj.response(bearer.as_deref()),
        None => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    };
    if resp.status().is_success() {
        let mut w = lock(&w);
        if let Some(n) = w.lose.get_mut(&route).filter(|n| **n > 0) {
            *n -= 1;
            resp = (StatusCode::BAD_GATEWAY, "upstream answer lost").into_response();
        }
    }
    *lock(&w)
        .counters
        .0
        .entry(format!("HTTP {}", resp.status().as_u16()))
        .or_default() += 1;
    resp
}

/// Routes the fake does not serve: counted as `"UNMATCHED <METHOD> <path>"`
/// and answered like the document's examples (500 carrying 404).
async fn unmatched(State(w): State<Shared>, req: Request) -> Response {
    let key = format!("UNMATCHED {} {}", req.method(), req.uri().path());
    *lock(&w).counters.0.entry(key).or_default() += 1;
    not_found()
}

fn bearer(h: &HeaderMap) -> Option<String> {
    h.get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
}

// ----- answers in the documented shapes --------------------------------------

fn error(status: u16, code: u16, title: &str, message: &str, messages: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body =
        json!({"error": {"code": code, "title": title, "message": message, "messages": messages}});
    (status, axum::Json(body)).into_response()
}

/// As every example in the document: HTTP 500 carrying code 404.
fn not_found() -> Response {
    error(500, 404, "Error", "", json!([]))
}

fn unauthenticated() -> Response {
    error(401, 401, "Unauthorized", "Unauthenticated.", json!([]))
}

fn invalid(field: &str, message: &str) -> Response {
    error(
        422,
        422,
        "Validation error",
        "The given data was invalid.",
        json!({ field: [message] }),
    )
}

fn ok(v: Value) -> Response {
    (StatusCode::OK, axum::Json(v)).into_response()
}

fn parse(bytes: &Bytes) -> Value {
    if bytes.is_empty() {
        return json!({});
    }
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn flag(v: &Value, keys: &[&str]) -> Result<Option<bool>, String> {
    for k in keys {
        match v.get(*k) {
            None | Some(Value::Null) => continue,
            Some(Value::Bool(b)) => return Ok(Some(*b)),
            Some(Value::Number(n)) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
                return Ok(Some(n.as_i64() == Some(1)));
            }
            Some(Value::String(s)) if s == "0" || s == "1" => return Ok(Some(s == "1")),
            Some(_) => return Err(k.to_string()),
        }
    }
    Ok(None)
}

impl World {
    /// The user behind a live bearer token (`None` → answer 401).
    fn user(&self, h: &HeaderMap) -> Option<u64> {
        let token = bearer(h)?;
        if self.cfg.personal_tokens.contains(&token) {
            return Some(OWNER_ID);
        }
        match self.access.get(&token) {
            Some(a) if a.expires > Instant::now() => Some(a.user),
            _ => None,
        }
    }

    fn issue(&mut self, user: u64) -> Value {
        let secs = self.cfg.token_lifetime.as_secs_f64().ceil().max(1.0) as u64;
        let access = format!(
            "eyJ0eXAiOiJKV1Qi.{:016x}{:016x}",
            rand::random::<u64>(),
            rand::random::<u64>()
        );
        let refresh = format!(
            "def50200{:016x}{:016x}",
            rand::random::<u64>(),
            rand::random::<u64>()
        );
        self.access.insert(
            access.clone(),
            Access {
                expires: Instant::now() + Duration::from_secs(secs),
                user,
            },
        );
        self.refresh.insert(refresh.clone(), access.clone());
        json!({"access_token": access, "refresh_token": refresh, "expires_in": secs})
    }

    fn event_by(&self, id: Option<&str>, slug: Option<&str>) -> Option<&FakeEvent> {
        self.events.iter().filter(|e| e.status != 2).find(|e| {
            id.is_some_and(|i| e.id == i || e.slug == i) || slug.is_some_and(|s| e.slug == s)
        })
    }

    fn event_json(&self, e: &FakeEvent) -> Value {
        let count = self
            .questions
            .iter()
            .filter(|q| q.event_id == e.id && !q.archived)
            .count();
        let chat = self
            .messages
            .iter()
            .filter(|m| m.thread_id == e.thread_id && !m.deleted)
            .count();
        json!({
            "id": e.id,
            "name": e.name,
            "slug": e.slug,
            "chat_enabled": e.chat_enabled,
            "guest_chat_enabled": e.guest_chat_enabled,
            "shop_enabled": true,
            "description": "This is a test channel for current sprint",
            "location": null,
            "privacy": 2,
            "questions_enabled": e.questions_enabled,
            "starts_at": null,
            "timezone": "UTC",
            "thread_id": e.thread_id,
            "last_update": "2023-04-07T10:12:36.000000Z",
            "owner": {"data": {
                "hash_id": "JnG2XDz46KOVl3dXJkA0ajRwLykvmoeW",
                "id": OWNER_ID,
                "username": "",
                "nickname": "Oveit Account"
            }},
            "stream": {"data": {"id": "VQYK62LW3o8aGv9L6bJnxBRelzkjg0qp", "is_live": false}},
            "products": {"data": []},
            "questionsCount": count,
            "chatCount": chat,
            "attributes": []
        })
    }

    fn new_question(&mut self, event_id: &str, text: &str, author: Option<&str>) -> String {
        let id = format!("q{:04}x{:08x}", self.next_id, rand::random::<u32>());
        self.next_id += 1;
        let now = now_iso();
        self.questions.push(FakeQuestion {
            id: id.clone(),
            event_id: event_id.into(),
            text: text.into(),
            author: author.map(str::to_string),
            upvotes: 0,
            downvotes: 0,
            archived: false,
            created_at: now.clone(),
            updated_at: now,
        });
        id
    }

    fn recount(&mut self, qid: &str) {
        let up = self
            .votes
            .iter()
            .filter(|((_, q), d)| q == qid && **d == 2)
            .count() as i64;
        let down = self
            .votes
            .iter()
            .filter(|((_, q), d)| q == qid && **d == 1)
            .count() as i64;
        if let Some(q) = self.questions.iter_mut().find(|q| q.id == qid) {
            q.upvotes = up;
            q.downvotes = down;
            q.updated_at = now_iso();
        }
    }

    fn question_json(q: &FakeQuestion) -> Value {
        json!({
            "id": q.id,
            "question": q.text,
            "votes": q.upvotes - q.downvotes,
            "upvotes": q.upvotes,
            "downvotes": q.downvotes,
            "archived": q.archived,
            "user": q.author.as_ref().map(|a| json!({"data": {"id": 900, "nickname": a}})),
            "created_at": q.created_at,
            "updated_at": q.updated_at,
        })
    }

    fn new_message(
        &mut self,
        thread: u64,
        text: &str,
        author: Option<&str>,
        reply: Option<String>,
    ) -> u64 {
        let id = 1000 + self.next_id;
        self.next_id += 1;
        self.messages.push(FakeMessage {
            id,
            thread_id: thread,
            text: text.into(),
            author: author.map(str::to_string),
            reply_for: reply,
            deleted: false,
            created_at: now_iso(),
        });
        id
    }

    fn message_json(m: &FakeMessage) -> Value {
        json!({
            "id": m.id,
            "thread_id": m.thread_id,
            "message": m.text,
            "reply_for": m.reply_for,
            "user": m.author.as_ref().map(|a| json!({"data": {"id": 901, "nickname": a}})),
            "created_at": m.created_at,
        })
    }

    /// A thread named by `threadSlug`/`thread_slug`: the thread id or the
    /// channel slug.
    fn thread_of(&self, key: &str) -> Option<u64> {
        self.events
            .iter()
            .filter(|e| e.status != 2)
            .find(|e| e.thread_id.to_string() == key || e.slug == key)
            .map(|e| e.thread_id)
    }
}

// ----- handlers ----------------------------------------------------------------

async fn login(State(w): State<Shared>, body: Bytes) -> Response {
    let b = parse(&body);
    let (Some(email), Some(password)) = (text(&b, "email"), text(&b, "password")) else {
        return invalid("email", "The email field is required.");
    };
    let mut w = lock(&w);
    if email != w.cfg.email || password != w.cfg.password {
        // Exactly the document's example: HTTP 401 carrying code 422.
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(
                json!({"error": {"code": 422, "message": "The user credentials were incorrect."}}),
            ),
        )
            .into_response();
    }
    ok(w.issue(OWNER_ID))
}

async fn refresh(State(w): State<Shared>, body: Bytes) -> Response {
    let b = parse(&body);
    let mut w = lock(&w);
    let bad = || {
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": {"code": 422, "message": "The token is invalid."}})),
        )
            .into_response()
    };
    let Some(token) = text(&b, "refresh_token") else {
        return invalid("refresh_token", "The refresh token field is required.");
    };
    if w.refresh_fails {
        return bad();
    }
    let Some(old_access) = w.refresh.remove(&token) else {
        return bad();
    };
    let old = w.access.remove(&old_access);
    if let Some(a) = &old {
        let now = Instant::now();
        let ms = if a.expires >= now {
            (a.expires - now).as_millis() as i64
        } else {
            -((now - a.expires).as_millis() as i64)
        };
        w.headroom_ms.push(ms);
    }
    let user = old.map(|a| a.user).unwrap_or(OWNER_ID);
    ok(w.issue(user))
}

async fn logout(State(w): State<Shared>, headers: HeaderMap) -> Response {
    let mut w = lock(&w);
    if w.user(&headers).is_none() {
        return unauthenticated();
    }
    if let Some(t) = bearer(&headers) {
        w.access.remove(&t);
        w.refresh.retain(|_, a| a != &t);
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn list_events(
    State(w): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let w = lock(&w);
    if w.user(&headers).is_none() {
        return unauthenticated();
    }
    let page = match q.get("page").map(|p| p.parse::<usize>()) {
        None => 1,
        Some(Ok(p)) if p >= 1 => p,
        Some(_) => return invalid("page", "The page must be an integer."),
    };
    let status = match q.get("status").map(|s| s.parse::<u8>()) {
        None => None,
        Some(Ok(s)) if s <= 2 => Some(s),
        Some(_) => return invalid("status", "The selected status is invalid."),
    };
    let list: Vec<Value> = w
        .events
        .iter()
        .filter(|e| match status {
            Some(s) => e.status == s,
            None => e.status != 2,
        })
        .skip((page - 1) * 10)
        .take(10)
        .map(|e| w.event_json(e))
        .collect();
    ok(json!({ "data": list }))
}

async fn get_event(
    State(w): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let w = lock(&w);
    if w.user(&headers).is_none() {
        return unauthenticated();
    }
    match w.events.iter().find(|e| e.id == id && e.status != 2) {
        Some(e) => ok(json!({"data": w.event_json(e)})),
        None => not_found(),
    }
}

async fn put_event(
    State(w): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let b = parse(&body);
    let mut w = lock(&w);
    if w.user(&headers).is_none() {
        return unauthenticated();
    }
    let q = flag(&b, &["questionsEnabled", "questions_enabled"]);
    let c = flag(&b, &["chat_enabled"]);
    let g = flag(&b, &["guest_chat_enabled"]);
    let (q, c, g) = match (q, c, g) {
        (Ok(q), Ok(c), Ok(g)) => (q, c, g),
        (Err(k), _, _) | (_, Err(k), _) | (_, _, Err(k)) => {
            return invalid(
                &k,
                &format!("The {} field must be true or false.", k.replace('_', " ")),
            );
        }
    };
    let Some(i) = w.events.iter().position(|e| e.id == id && e.status != 2) else {
        return not_found();
    };
    let e = &mut w.events[i];
    if let Some(q) = q {
        e.questions_enabled = q;
    }
    if let Some(c) = c {
        e.chat_enabled = c;
    }
    if let Some(g) = g {
        e.guest_chat_enabled = g;
    }
    let e = w.events[i].clone();
    ok(json!({"data": w.event_json(&e)}))
}

async fn questions_read(State(w): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let b = parse(&body);
    let w = lock(&w);
    if w.user(&headers).is_none() {
        return unauthenticated();
    }
    let (id, slug) = (text(&b, "eventId"), text(&b, "eventSlug"));
    if id.is_none() && slug.is_none() {
        return invalid(
            "eventId",
            "The event id field is required when event slug is not present.",
        );
    }
    let Some(e) = w.event_by(id.as_deref(), slug.as_deref()) else {
        return not_found();
    };
    let list: Vec<Value> = w
        .questions
        .iter()
        .filter(|q| q.event_id == e.id && !q.archived)
        .map(World::question_json)
        .collect();
    ok(json!({ "data": list }))
}

async fn questions_create(State(w): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let b = parse(&body);
    let mut w = lock(&w);
    if w.user(&headers).is_none() {
        return unauthenticated();
    }
    let Some(question) = text(&b, "question").filter(|q| !q.trim().is_empty()) else {
        return invalid("question", "The question field is required.");
    };
    let Some(key) = text(&b, "eventId") else {
        return invalid("eventId", "The event id field is required.");
    };
    let Some(event_id) = w.event_by(Some(&key), None).map(|e| e.id.clone()) else {
        return not_found();
    };
    let id = w.new_question(&event_id, &question, Some("Oveit Account"));
    let q = w.questions.iter().find(|q| q.id == id).cloned();
    ok(json!({"data": q.as_ref().map(World::question_json)}))
}

async fn questions_vote(State(w): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let b = parse(&body);
    let mut w = lock(&w);
    let Some(user) = w.user(&headers) else {
        return unauthenticated();
    };
    let Some(qid) = text(&b, "questionId") else {
        return invalid("questionId", "The question id field is required.");
    };
    let direction = match text(&b, "direction").as_deref() {
        Some("1") => 1,
        Some("2") => 2,
        _ => return invalid("direction", "The selected direction is invalid."),
    };
    if !w.questions.iter().any(|q| q.id == qid && !q.archived) {
        return not_found();
    }
    w.votes.insert((user, qid.clone()), direction);
    w.recount(&qid);
    let q = w
        .questions
        .iter()
        .find(|q| q.id == qid)
        .map(World::question_json);
    ok(json!({ "data": q }))
}

async fn questions_archive(State(w): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let b = parse(&body);
    let mut w = lock(&w);
    if w.user(&headers).is_none() {
        return unauthenticated();
    }
    let (Some(slug), Some(qid)) = (text(&b, "eventSlug"), text(&b, "questionId")) else {
        return invalid(
            "questionId",
            "The event slug and question id fields are required.",
        );
    };
    let Some(event_id) = w.event_by(None, Some(&slug)).map(|e| e.id.clone()) else {
        return not_found();
    };
    let Some(q) = w
        .questions
        .iter_mut()
        .find(|q| q.id == qid && q.event_id == event_id && !q.archived)
    else {
        return not_found();
    };
    q.archived = true;
    q.updated_at = now_iso();
    ok(json!({"id": qid, "code": 200}))
}

async fn thread_read(State(w): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let b = parse(&body);
    let w = lock(&w);
    if w.user(&headers).is_none() {
        return unauthenticated();
    }
    let Some(key) = text(&b, "threadSlug") else {
        return invalid("threadSlug", "The thread slug field is required.");
    };
    if text(&b, "userId").is_none() {
        return invalid("userId", "The user id field is required.");
    }
    let Some(thread) = w.thread_of(&key) else {
        return not_found();
    };
    let all: Vec<&FakeMessage> = w
        .messages
        .iter()
        .filter(|m| m.thread_id == thread && !m.deleted)
        .collect();
    let from = all.len().saturating_sub(w.cfg.chat_window);
    let list: Vec<Value> = all[from..].iter().map(|m| World::message_json(m)).collect();
    ok(json!({ "data": list }))
}

async fn profile(State(w): State<Shared>, headers: HeaderMap) -> Response {
    let w = lock(&w);
    let Some(user) = w.user(&headers) else {
        return unauthenticated();
    };
    ok(json!({"data": {
        "id": user,
        "first_name": "Oveit",
        "last_name": "Account",
        "full_name": "Oveit Account",
        "username": "",
        "nickname": "Oveit Account",
    }}))
}

async fn messages_post(State(w): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let b = parse(&body);
    let mut w = lock(&w);
    if w.user(&headers).is_none() {
        return unauthenticated();
    }
    let Some(data) = b
        .get("data")
        .and_then(Value::as_str)
        .filter(|d| !d.is_empty())
    else {
        return invalid("data", "The data field is required.");
    };
    if data.chars().count() > 300 {
        return invalid("data", "The data must not be greater than 300 characters.");
    }
    let Some(thread_key) = text(&b, "thread_id") else {
        return invalid("thread_id", "The thread id field is required.");
    };
    let Some(thread) = w.thread_of(&thread_key) else {
        return not_found();
    };
    let reply = text(&b, "reply_for");
    if let Some(r) = &reply
        && !w
            .messages
            .iter()
            .any(|m| &m.id.to_string() == r && m.thread_id == thread)
    {
        return invalid("reply_for", "The selected reply for is invalid.");
    }
    let data = data.to_string();
    let id = w.new_message(thread, &data, Some("Oveit Account"), reply);
    let m = w
        .messages
        .iter()
        .find(|m| m.id == id)
        .map(World::message_json);
    (StatusCode::CREATED, axum::Json(json!({ "data": m }))).into_response()
}

async fn messages_delete(State(w): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let b = parse(&body);
    let mut w = lock(&w);
    if w.user(&headers).is_none() {
        return unauthenticated();
    }
    let (Some(slug), Some(mid)) = (text(&b, "thread_slug"), text(&b, "message_id")) else {
        return invalid(
            "message_id",
            "The thread slug and message id fields are required.",
        );
    };
    let Some(thread) = w.thread_of(&slug) else {
        return not_found();
    };
    let Some(m) = w
        .messages
        .iter_mut()
        .find(|m| m.id.to_string() == mid && m.thread_id == thread && !m.deleted)
    else {
        return not_found();
    };
    m.deleted = true;
    ok(json!({"id": mid, "code": 200}))
}

fn csv_field(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

async fn download_questions(State(w): State<Shared>, headers: HeaderMap) -> Response {
    let w = lock(&w);
    if w.user(&headers).is_none() {
        return unauthenticated();
    }
    let mut out = String::from("id,question,author,votes,archived\n");
    for q in &w.questions {
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            q.id,
            csv_field(&q.text),
            csv_field(q.author.as_deref().unwrap_or("")),
            q.upvotes - q.downvotes,
            q.archived
        ));
    }
    ([(header::CONTENT_TYPE, "text/csv")], out).into_response()
}

async fn download_chat(State(w): State<Shared>, headers: HeaderMap) -> Response {
    let w = lock(&w);
    if w.user(&headers).is_none() {
        return unauthenticated();
    }
    let mut out = String::from("id,author,message,deleted\n");
    for m in &w.messages {
        out.push_str(&format!(
            "{},{},{},{}\n",
            m.id,
            csv_field(m.author.as_deref().unwrap_or("")),
            csv_field(&m.text),
            m.deleted
        ));
    }
    ([(header::CONTENT_TYPE, "text/csv")], out).into_response()
}
