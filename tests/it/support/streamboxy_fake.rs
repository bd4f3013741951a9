//! An in-process fake of the STREAMBOXY public API (axum on 127.0.0.1:0),
//! written from `streamboxy-api.txt`:
//!
//! - `POST /tenant/{t}/oauth/token` `{clientId, clientSecret}` → a JWT with a
//!   short, configurable `exp` (and `iat`), answered as
//!   `{"access_token", "token_type": "Bearer", "expires_in": 28800}` — the
//!   `expires_in` deliberately claims the documented eight hours, the JWT
//!   tells the truth. Expired, revoked or missing tokens get 401.
//! - `GET|POST /tenant/{t}/Session`, `GET|POST .../Session/{s}/SessionUser`,
//!   `GET|PATCH|DELETE .../SessionUser/{u}`,
//!   `POST .../SessionUser/{u}/RenewParticipantLink`.
//! - Every change of a session user bumps its `rowVersion` (a base64 SQL
//!   rowversion); a PATCH without it or with a stale one is refused with the
//!   documented error shape and status [`Config::conflict_status`].
//! - Session descriptions outside 1–500 characters → 400 `VLD0025`; a
//!   session without `startDateTimeUtc`, `endDateTimeUtc` or (for `Lobby`)
//!   a `contentUrl` → 400, as the documented body has them all.
//! - A session user without `email` or `name` → 400 (the documented body
//!   has both). Roles are `Participant`, `Moderator` and `Speaker`.
//! - [`Config::lose_create_answers`]: that many creates (session users and
//!   sessions) are committed and then answered with a 500, as when the
//!   answer is lost on its way back.
//! - [`Config::accept_adds_without_body`]: a session-user add is committed
//!   and answered `202 Accepted` with no body (the document lists 202
//!   "Command Accepted" among its common answers).
//! - Deleting a session user that is gone → 404 (a repeat delete).
//! - A per-second limit for the whole tenant (token calls included) → 429
//!   with `Retry-After`.
//! - Counters and a log of every request line.

use super::{Serving, serve};
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How the fake behaves.
#[derive(Debug, Clone)]
pub struct Config {
    pub tenant: String,
    pub client_id: String,
    pub client_secret: String,
    /// Token lifetime written into the JWT's `exp`.
    pub token_ttl_secs: u64,
    /// Put `exp`/`iat` into the JWT at all.
    pub token_has_exp: bool,
    /// Accepted calls a second for the tenant; `None`: unlimited.
    pub rate_per_sec: Option<u32>,
    pub retry_after_secs: u64,
    /// HTTP status of a stale-rowVersion refusal (409 by default).
    pub conflict_status: u16,
    /// Creates committed whose answer is then lost (a 500 instead).
    pub lose_create_answers: u32,
    /// Session-user adds answered "202 Accepted" with an empty body.
    pub accept_adds_without_body: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            tenant: "tenant-1".into(),
            client_id: "client-1".into(),
            client_secret: "sbx-secret-Zq8!".into(),
            token_ttl_secs: 3600,
            token_has_exp: true,
            rate_per_sec: None,
            retry_after_secs: 1,
            conflict_status: 409,
            lose_create_answers: 0,
            accept_adds_without_body: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: String,
    pub title: String,
    pub description: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub session_type: Option<String>,
    pub content_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub session: String,
    pub name: String,
    pub email: Option<String>,
    pub role: String,
    pub external_key: Option<String>,
    pub row_version: u64,
    pub link: String,
    pub one_time: bool,
    pub send_mail: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    pub requests: u64,
    pub token_requests: u64,
    pub unauthorized: u64,
    pub rate_limited: u64,
    pub user_creates: u64,
    pub patches: u64,
    pub conflicts: u64,
    pub session_creates: u64,
    pub user_deletes: u64,
    pub lost_answers: u64,
}

struct State {
    cfg: Config,
    sessions: Vec<Session>,
    users: Vec<User>,
    /// token → exp (unix seconds, `None` = no expiry).
    tokens: HashMap<String, Option<f64>>,
    counters: Counters,
    log: Vec<String>,
    window_start: Instant,
    window_count: u32,
    next_id: u64,
    row_version: u64,
}

/// A running fake; stops when dropped.
pub struct StreamboxyFake {
    pub base_url: String,
    state: Arc<Mutex<State>>,
    _serving: Serving,
}

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn row_version_str(v: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(v.to_be_bytes())
}

fn error(status: u16, op: u64, message: &str, code: &str, detail: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        axum::Json(json!({
            "Message": message,
            "ErrorCode": code,
            "OperationId": format!("op-{op:06}"),
            "DetailedMessage": detail,
        })),
    )
        .into_response()
}

fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "tenantUserId": format!("tu-{}", u.id),
        "sessionId": u.session,
        "name": u.name,
        "email": u.email,
        "role": u.role,
        "participantLink": u.link,
        "externalKey": u.external_key,
        "isOneTimeAccessKey": u.one_time,
        "sendMailNotification": u.send_mail,
        "authProvider": "AccessKey",
        "rowVersion": row_version_str(u.row_version),
    })
}

fn session_json(s: &Session) -> Value {
    json!({
        "id": s.id,
        "title": s.title,
        "description": s.description,
        "startDateTimeUtc": s.start,
        "endDateTimeUtc": s.end,
        "sessionType": s.session_type,
        "contentUrl": s.content_url,
    })
}

impl StreamboxyFake {
    pub async fn start(cfg: Config) -> StreamboxyFake {
        let state = Arc::new(Mutex::new(State {
            cfg,
            sessions: Vec::new(),
            users: Vec::new(),
            tokens: HashMap::new(),
            counters: Counters::default(),
            log: Vec::new(),
            window_start: Instant::now(),
            window_count: 0,
            next_id: 1,
            row_version: 0x7d0,
        }));
        let app = Router::new().fallback(handle).with_state(state.clone());
        let (addr, serving) = serve(app).await;
        StreamboxyFake {
            base_url: format!("http://{addr}"),
            state,
            _serving: serving,
        }
    }

    fn st(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn config(&self) -> Config {
        self.st().cfg.clone()
    }
    pub fn counters(&self) -> Counters {
        self.st().counters.clone()
    }
    /// Invalidates every token issued so far (the next call gets 401).
    pub fn revoke_tokens(&self) {
        self.st().tokens.clear();
    }
    pub fn add_session(&self, title: &str) -> String {
        let mut st = self.st();
        let id = st.new_id("s");
        st.sessions.push(Session {
            id: id.clone(),
            title: title.into(),
            description: "seeded".into(),
            start: None,
            end: None,
            session_type: Some("Lobby".into()),
            content_url: None,
        });
        id
    }
    pub fn sessions(&self) -> Vec<Session> {
        self.st().sessions.clone()
    }
    /// Adds a user directly (as another system would).
    pub fn add_user(&self, session: &str, name: &str, email: &str, role: &str) -> User {
        let mut st = self.st();
        let u = st.new_user(
            session,
            name,
            Some(email.to_string()),
            role,
            None,
            false,
            false,
        );
        st.users.push(u.clone());
        u
    }
    pub fn users(&self, session: &str) -> Vec<User> {
        self.st()
            .users
            .iter()
            .filter(|u| u.session == session)
            .cloned()
            .collect()
    }
    pub fn user(&self, id: &str) -> Option<User> {
        self.st().users.iter().find(|u| u.id == id).cloned()
    }
    /// Another client edits a user (bumps the row version).
    pub fn edit_user(&self, id: &str, name: Option<&str>, role: Option<&str>) {
        let mut st = self.st();
        let v = st.bump();
        if let Some(u) = st.users.iter_mut().find(|u| u.id == id) {
            if let Some(n) = name {
                u.name = n.into();
            }
            if let Some(r) = role {
                u.role = r.into();
            }
            u.row_version = v;
        }
    }
}

impl State {
    fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{:04}", self.next_id)
    }
    fn bump(&mut self) -> u64 {
        self.row_version += 1;
        self.row_version
    }
    /// After a create is committed: its answer, or a 500 while answers
    /// are to be lost.
    fn created(&mut self, op: u64, answer: Response) -> Response {
        if self.cfg.lose_create_answers == 0 {
            return answer;
        }
        self.cfg.lose_create_answers -= 1;
        self.counters.lost_answers += 1;
        error(
            500,
            op,
            "An internal server error occurred.",
            "INT0001",
            "answer lost after commit",
        )
    }
    fn op(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
    #[allow(clippy::too_many_arguments)]
    fn new_user(
        &mut self,
        session: &str,
        name: &str,
        email: Option<String>,
        role: &str,
        external_key: Option<String>,
        one_time: bool,
        send_mail: bool,
    ) -> User {
        let id = self.new_id("su");
        let v = self.bump();
        User {
            link: format!("https://join.streamboxy.example/{session}?key=k{v}"),
            id,
            session: session.into(),
            name: name.into(),
            email,
            role: role.into(),
            external_key,
            row_version: v,
            one_time,
            send_mail,
        }
    }

    fn token(&mut self) -> Value {
        let now = now_unix().floor();
        let jti = self.op();
        let mut payload = json!({"iss": "fake-streamboxy", "tid": self.cfg.tenant, "jti": jti});
        let exp = if self.cfg.token_has_exp {
            let exp = now + self.cfg.token_ttl_secs as f64;
            payload["iat"] = json!(now as i64);
            payload["exp"] = json!(exp as i64);
            Some(exp)
        } else {
            None
        };
        let header = json!({"alg": "HS256", "typ": "JWT"});
        let token = format!(
            "{}.{}.{}",
            b64(header.to_string().as_bytes()),
            b64(payload.to_string().as_bytes()),
            b64(format!("sig-{jti}").as_bytes())
        );
        self.tokens.insert(token.clone(), exp);
        json!({"access_token": token, "token_type": "Bearer", "expires_in": 28800})
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(token) = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return false;
        };
        match self.tokens.get(token) {
            Some(Some(exp)) => now_unix() < *exp,
            Some(None) => true,
            None => false,
        }
    }
}

async fn handle(
    axum::extract::State(state): axum::extract::State<Arc<Mutex<State>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
    st.log.push(format!("{method} {uri}"));
    st.counters.requests += 1;
    if let Some(limit) = st.cfg.rate_per_sec {
        let elapsed = st.window_start.elapsed();
        if elapsed >= Duration::from_secs(1) {
            st.window_start += Duration::from_secs(elapsed.as_secs());
            st.window_count = 0;
        }
        if st.window_count >= limit {
            st.counters.rate_limited += 1;
            let op = st.op();
            let mut resp = error(
                429,
                op,
                "Too many requests. Please try again later.",
                "RTL0001",
                &format!("Tenant limit of {limit} calls per second exceeded."),
            );
            let secs = st.cfg.retry_after_secs.to_string();
            resp.headers_mut()
                .insert("retry-after", secs.parse().expect("header"));
            return resp;
        }
        st.window_count += 1;
    }
    let segs: Vec<String> = uri
        .path()
        .trim_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let op = st.op();
    if segs.len() < 2 || segs[0] != "tenant" || segs[1] != st.cfg.tenant {
        return error(404, op, "Tenant not found.", "NTF0001", "No such tenant.");
    }
    let rest = &segs[2..];
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => return error(400, op, "Invalid request body.", "VLD0001", &e.to_string()),
        }
    };
    if rest == ["oauth", "token"] && method == Method::POST {
        st.counters.token_requests += 1;
        let ok = body["clientId"] == json!(st.cfg.client_id)
            && body["clientSecret"] == json!(st.cfg.client_secret);
        if !ok {
            return error(
                401,
                op,
                "Invalid client credentials.",
                "AUT0002",
                "The client id or secret is wrong or expired.",
            );
        }
        return (StatusCode::OK, axum::Json(st.token())).into_response();
    }
    if !st.authorized(&headers) {
        st.counters.unauthorized += 1;
        return (
            StatusCode::UNAUTHORIZED,
            [("www-authenticate", "Bearer error=\"invalid_token\"")],
        )
            .into_response();
    }
    match (method, rest) {
        (Method::GET, ["Session"]) => {
            let all: Vec<Value> = st.sessions.iter().map(session_json).collect();
            axum::Json(Value::Array(all)).into_response()
        }
        (Method::POST, ["Session"]) => {
            let title = body["title"].as_str().unwrap_or("").to_string();
            let description = body["description"].as_str().unwrap_or("").to_string();
            let len = description.chars().count();
            if !(1..=500).contains(&len) {
                return error(
                    400,
                    op,
                    "Description length should be between 1 and 500 characters.",
                    "VLD0025",
                    &format!(
                        "Description length should be between 1 and 500 characters. The actual length was {len}"
                    ),
                );
            }
            if title.is_empty() {
                return error(400, op, "Title is required.", "VLD0001", "title missing");
            }
            let given = |k: &str| body[k].as_str().is_some_and(|v| !v.trim().is_empty());
            for (k, what) in [("startDateTimeUtc", "Start"), ("endDateTimeUtc", "End")] {
                if !given(k) {
                    return error(400, op, &format!("{what} date is required."), "VLD0040", k);
                }
            }
            let lobby = body["sessionType"]
                .as_str()
                .is_none_or(|t| t.eq_ignore_ascii_case("lobby"));
            if lobby && !given("contentUrl") {
                return error(
                    400,
                    op,
                    "A Lobby session needs a content URL.",
                    "VLD0041",
                    "contentUrl missing",
                );
            }
            st.counters.session_creates += 1;
            let id = st.new_id("s");
            st.sessions.push(Session {
                id: id.clone(),
                title,
                description,
                start: body["startDateTimeUtc"].as_str().map(str::to_string),
                end: body["endDateTimeUtc"].as_str().map(str::to_string),
                session_type: body["sessionType"].as_str().map(str::to_string),
                content_url: body["contentUrl"].as_str().map(str::to_string),
            });
            let answer = (StatusCode::CREATED, axum::Json(json!({"id": id}))).into_response();
            st.created(op, answer)
        }
        (m, ["Session", sid, rest @ ..]) => {
            let sid = sid.to_string();
            if !st.sessions.iter().any(|s| s.id == sid) {
                return error(
                    404,
                    op,
                    "Session not found.",
                    "NTF0010",
                    &format!("session {sid}"),
                );
            }
            users(&mut st, m, &sid, rest, &body, op)
        }
        _ => error(404, op, "Not found.", "NTF0000", "no such endpoint"),
    }
}

fn users(st: &mut State, m: Method, sid: &str, rest: &[&str], body: &Value, op: u64) -> Response {
    let valid_role = |r: &str| {
        ["Participant", "Moderator", "Speaker"]
            .iter()
            .any(|x| x.eq_ignore_ascii_case(r))
    };
    match (m, rest) {
        (Method::GET, ["SessionUser"]) => {
            let all: Vec<Value> = st
                .users
                .iter()
                .filter(|u| u.session == sid)
                .map(user_json)
                .collect();
            axum::Json(Value::Array(all)).into_response()
        }
        (Method::POST, ["SessionUser"]) => {
            let role = body["role"].as_str().unwrap_or("Participant").to_string();
            if !valid_role(&role) {
                return error(400, op, "Invalid role.", "VLD0031", &format!("role {role}"));
            }
            let name = body["name"].as_str().unwrap_or("").to_string();
            let Some(email) = body["email"].as_str().filter(|e| e.contains('@')) else {
                return error(400, op, "Email is required.", "VLD0032", "email missing");
            };
            if name.trim().is_empty() {
                return error(400, op, "Name is required.", "VLD0033", "name missing");
            }
            let email = email.to_string();
            st.counters.user_creates += 1;
            let u = st.new_user(
                sid,
                &name,
                Some(email),
                &role,
                body["externalKey"].as_str().map(str::to_string),
                body["isOneTimeAccessKey"].as_bool().unwrap_or(false),
                body["sendMailNotification"].as_bool().unwrap_or(false),
            );
            st.users.push(u.clone());
            if st.cfg.accept_adds_without_body {
                return StatusCode::ACCEPTED.into_response();
            }
            let answer = (StatusCode::CREATED, axum::Json(user_json(&u))).into_response();
            st.created(op, answer)
        }
        (m, ["SessionUser", uid, tail @ ..]) => {
            let Some(idx) = st
                .users
                .iter()
                .position(|u| u.id == *uid && u.session == sid)
            else {
                return error(
                    404,
                    op,
                    "Session user not found.",
                    "NTF0020",
                    &format!("user {uid}"),
                );
            };
            match (m, tail) {
                (Method::GET, []) => axum::Json(user_json(&st.users[idx])).into_response(),
                (Method::DELETE, []) => {
                    st.counters.user_deletes += 1;
                    st.users.remove(idx);
                    StatusCode::NO_CONTENT.into_response()
                }
                (Method::PATCH, []) => {
                    st.counters.patches += 1;
                    let current = row_version_str(st.users[idx].row_version);
                    let sent = body["rowVersion"].as_str().map(str::to_string);
                    if sent.as_deref() != Some(current.as_str()) {
                        st.counters.conflicts += 1;
                        let status = st.cfg.conflict_status;
                        return error(
                            status,
                            op,
                            "The session user was changed by someone else in the meantime. Reload it and try again.",
                            "CNC0001",
                            &format!(
                                "rowVersion '{}' is not the latest ('{current}').",
                                sent.unwrap_or_default()
                            ),
                        );
                    }
                    if let Some(r) = body["role"].as_str()
                        && !valid_role(r)
                    {
                        return error(400, op, "Invalid role.", "VLD0031", r);
                    }
                    let v = st.bump();
                    let u = &mut st.users[idx];
                    if let Some(r) = body["role"].as_str() {
                        u.role = r.into();
                    }
                    if let Some(n) = body["name"].as_str() {
                        u.name = n.into();
                    }
                    if let Some(e) = body["email"].as_str() {
                        u.email = Some(e.into());
                    }
                    u.row_version = v;
                    axum::Json(user_json(u)).into_response()
                }
                (Method::POST, ["RenewParticipantLink"]) => {
                    let v = st.bump();
                    let u = &mut st.users[idx];
                    u.row_version = v;
                    u.link = format!("https://join.streamboxy.example/{sid}?key=k{v}");
                    axum::Json(user_json(u)).into_response()
                }
                _ => error(
                    405,
                    op,
                    "Method not allowed.",
                    "NTF0000",
                    "no such endpoint",
                ),
            }
        }
        _ => error(404, op, "Not found.", "NTF0000", "no such endpoint"),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
