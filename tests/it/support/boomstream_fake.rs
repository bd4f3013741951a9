//! An in-process fake of the Boomstream conference API (axum on
//! 127.0.0.1:0), written from `boomstream-conference-api.txt`:
//!
//! - `GET /api/conference/{info,list,create,update,invite,client/list,
//!   client/info,client/update,client/delete,delete}` with `apikey`.
//! - JSON answers with `"Status": "Success"` when `format=json`; `update` and
//!   `delete` answer in XML as the document shows, whatever the format; no
//!   `format` at all gets XML everywhere.
//! - A wrong API key → `{"Status":"Failed","Message":"Invalid apikey",
//!   "RequestURI": …}` with HTTP [`Config::wrong_key_status`]; the
//!   `RequestURI` echoes the key, as the documented `info` answer does, so a
//!   client that prints answers verbatim leaks it.
//! - `invite` answers with the conference code (not the client's), like the
//!   example; removed clients stay in `client/list` with `is_deleted: yes`.
//! - Optional per-second limit → 429 with `Retry-After`.
//! - `ver`: absent means 1.0 ("loads by default"); 1.0, 1.1 and 1.2 are
//!   accepted and answered as `"Version"`; any other is refused.
//! - `client/delete` of a client already removed answers `Failed` with
//!   "Client is already deleted" (a repeat delete).
//! - [`Config::lose_invite_answers`]: that many invites are committed and
//!   then answered with a 500, as when the answer is lost on its way back.
//! - Counters and a log of every request line (which holds the key: that is
//!   the fake's side, not qadeck's).

use super::{Serving, serve};
use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Config {
    pub api_key: String,
    /// Accepted calls a second; `None`: unlimited.
    pub rate_per_sec: Option<u32>,
    pub retry_after_secs: u64,
    /// HTTP status of the wrong-key answer (the body says `Failed` anyway).
    pub wrong_key_status: u16,
    /// Invites committed whose answer is then lost (a 500 instead).
    pub lose_invite_answers: u32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            api_key: "1453d715690dfc600031ecdd448d4cf4".into(),
            rate_per_sec: None,
            retry_after_secs: 1,
            wrong_key_status: 200,
            lose_invite_answers: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conference {
    pub code: String,
    pub title: String,
    pub description: String,
    pub folder_code: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub code: String,
    pub conference: String,
    pub email: String,
    pub name: String,
    pub moderator: bool,
    pub added: String,
    pub is_deleted: bool,
    pub invite_link: String,
    pub timeout: Option<String>,
    pub notify: Option<String>,
    pub avatar_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    pub requests: u64,
    pub wrong_key: u64,
    pub rate_limited: u64,
    pub invites: u64,
    pub client_updates: u64,
    pub client_deletes: u64,
    /// `ver` values seen.
    pub versions: Vec<String>,
    pub lost_answers: u64,
}

struct State {
    cfg: Config,
    conferences: Vec<Conference>,
    clients: Vec<Client>,
    counters: Counters,
    log: Vec<String>,
    window_start: Instant,
    window_count: u32,
    next: u64,
}

/// A running fake; stops when dropped.
pub struct BoomstreamFake {
    /// `http://127.0.0.1:PORT/api/conference`
    pub base_url: String,
    /// `http://127.0.0.1:PORT`
    pub root_url: String,
    state: Arc<Mutex<State>>,
    _serving: Serving,
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An answer in the asked format: JSON object or `<Response>` XML.
fn answer(status: u16, v: Value, xml: bool) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if !xml {
        return (code, axum::Json(v)).into_response();
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response>\n");
    if let Value::Object(m) = v {
        for (k, val) in m {
            let text = match val {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            out.push_str(&format!("<{k}>{}</{k}>\n", xml_escape(&text)));
        }
    }
    out.push_str("</Response>");
    (code, [("content-type", "application/xml")], out).into_response()
}

fn client_json(c: &Client) -> Value {
    json!({
        "email": c.email,
        "name": c.name,
        "code": c.code,
        "conferenceCode": c.conference,
        "moderator": if c.moderator { "yes" } else { "no" },
        "added": c.added,
        "is_deleted": if c.is_deleted { "yes" } else { "no" },
    })
}

impl BoomstreamFake {
    pub async fn start(cfg: Config) -> BoomstreamFake {
        let state = Arc::new(Mutex::new(State {
            cfg,
            conferences: Vec::new(),
            clients: Vec::new(),
            counters: Counters::default(),
            log: Vec::new(),
            window_start: Instant::now(),
            window_count: 0,
            next: 100,
        }));
        let app = Router::new().fallback(handle).with_state(state.clone());
        let (addr, serving) = serve(app).await;
        BoomstreamFake {
            base_url: format!("http://{addr}/api/conference"),
            root_url: format!("http://{addr}"),
            state,
            _serving: serving,
        }
    }

    fn st(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn counters(&self) -> Counters {
        self.st().counters.clone()
    }
    /// Every request line received: `GET /api/conference/...?apikey=...`.
    pub fn requests(&self) -> Vec<String> {
        self.st().log.clone()
    }
    pub fn add_conference(&self, title: &str) -> String {
        let mut st = self.st();
        let code = st.uuid();
        st.conferences.push(Conference {
            code: code.clone(),
            title: title.into(),
            description: String::new(),
            folder_code: "a8GESjhK".into(),
        });
        code
    }
    pub fn conferences(&self) -> Vec<Conference> {
        self.st().conferences.clone()
    }
    /// Clients of a conference, removed ones included.
    pub fn clients(&self, conference: &str) -> Vec<Client> {
        self.st()
            .clients
            .iter()
            .filter(|c| c.conference == conference)
            .cloned()
            .collect()
    }
    /// Clients not removed.
    pub fn live_clients(&self, conference: &str) -> Vec<Client> {
        self.clients(conference)
            .into_iter()
            .filter(|c| !c.is_deleted)
            .collect()
    }
    pub fn add_client(&self, conference: &str, name: &str, email: &str, moderator: bool) -> String {
        let mut st = self.st();
        let c = st.new_client(conference, name, email, moderator);
        let code = c.code.clone();
        st.clients.push(c);
        code
    }
    pub fn client(&self, code: &str) -> Option<Client> {
        self.st().clients.iter().find(|c| c.code == code).cloned()
    }
}

impl State {
    fn uuid(&mut self) -> String {
        self.next += 1;
        format!("0c5db8c0-c2ab-4833-bda8-{:012x}", self.next)
    }
    fn new_client(&mut self, conference: &str, name: &str, email: &str, moderator: bool) -> Client {
        self.next += 1;
        let n = self.next;
        Client {
            code: format!("jJY{n:05}"),
            conference: conference.into(),
            email: email.into(),
            name: name.into(),
            moderator,
            added: format!("2024-01-19 12:{:02}:{:02}", (n / 60) % 60, n % 60),
            is_deleted: false,
            invite_link: format!("https://hwd.boomstream.example/invite.html?jwt=eyJ.{n}.sig"),
            timeout: None,
            notify: None,
            avatar_url: None,
        }
    }
}

async fn handle(
    axum::extract::State(state): axum::extract::State<Arc<Mutex<State>>>,
    uri: Uri,
) -> Response {
    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
    st.log.push(format!("GET {uri}"));
    st.counters.requests += 1;
    let q: HashMap<String, String> = axum::extract::Query::try_from_uri(&uri)
        .map(|axum::extract::Query(q)| q)
        .unwrap_or_default();
    let xml_default = q.get("format").map(String::as_str) != Some("json");
    let ver = q.get("ver").cloned().unwrap_or_else(|| "1.0".into());
    if let Some(v) = q.get("ver") {
        st.counters.versions.push(v.clone());
    }
    if !["1.0", "1.1", "1.2"].contains(&ver.as_str()) {
        return answer(
            200,
            json!({"Status": "Failed", "Message": format!("Unknown API version {ver}")}),
            xml_default,
        );
    }
    if let Some(limit) = st.cfg.rate_per_sec {
        let elapsed = st.window_start.elapsed();
        if elapsed >= Duration::from_secs(1) {
            st.window_start += Duration::from_secs(elapsed.as_secs());
            st.window_count = 0;
        }
        if st.window_count >= limit {
            st.counters.rate_limited += 1;
            let mut r = answer(
                429,
                json!({"Status": "Failed", "Message": "Too many requests"}),
                xml_default,
            );
            let secs = st.cfg.retry_after_secs.to_string();
            r.headers_mut()
                .insert("retry-after", secs.parse().expect("header"));
            return r;
        }
        st.window_count += 1;
    }
    let request_uri = uri.to_string();
    if q.get("apikey") != Some(&st.cfg.api_key) {
        st.counters.wrong_key += 1;
        let status = st.cfg.wrong_key_status;
        return answer(
            status,
            json!({"Status": "Failed", "Message": "Invalid apikey", "RequestURI": request_uri}),
            xml_default,
        );
    }
    let method = uri
        .path()
        .trim_start_matches("/api/conference/")
        .trim_end_matches('/')
        .to_string();
    let get = |k: &str| q.get(k).cloned().filter(|v| !v.is_empty());
    let failed = |msg: &str| json!({"Status": "Failed", "Message": msg});
    let code = get("code");
    match method.as_str() {
        "list" => {
            let all: Vec<Value> = st
                .conferences
                .iter()
                .map(|c| json!({"title": c.title, "code": c.code, "description": c.description}))
                .collect();
            answer(
                200,
                json!({"conferences": all, "Status": "Success"}),
                xml_default,
            )
        }
        "info" => match st
            .conferences
            .iter()
            .find(|c| Some(&c.code) == code.as_ref())
        {
            Some(c) => answer(
                200,
                json!({
                    "title": c.title, "code": c.code, "description": c.description,
                    "Status": "Success", "Version": "1.0", "RequestURI": request_uri,
                }),
                xml_default,
            ),
            None => answer(200, failed("Conference not found"), xml_default),
        },
        "create" => {
            let Some(title) = get("title") else {
                return answer(200, failed("Title is required"), xml_default);
            };
            let c = st.uuid();
            st.conferences.push(Conference {
                code: c.clone(),
                title,
                description: get("description").unwrap_or_default(),
                folder_code: get("folderCode").unwrap_or_default(),
            });
            answer(200, json!({"Code": c, "Status": "Success"}), xml_default)
        }
        "update" => {
            let Some(c) = st
                .conferences
                .iter_mut()
                .find(|c| Some(&c.code) == code.as_ref())
            else {
                return answer(200, failed("Conference not found"), true);
            };
            if let Some(t) = get("title") {
                c.title = t;
            }
            if let Some(d) = get("description") {
                c.description = d;
            }
            if let Some(f) = get("folderCode") {
                c.folder_code = f;
            }
            let v = json!({
                "title": c.title, "code": c.code, "folderCode": c.folder_code,
                "description": c.description, "Status": "Success",
            });
            answer(200, v, true)
        }
        "delete" => {
            let before = st.conferences.len();
            st.conferences.retain(|c| Some(&c.code) != code.as_ref());
            if st.conferences.len() == before {
                return answer(200, failed("Conference not found"), true);
            }
            answer(
                200,
                json!({"message": "Client is deleted successful", "Status": "Success"}),
                true,
            )
        }
        "invite" => {
            let Some(conf) = code.filter(|c| st.conferences.iter().any(|x| &x.code == c)) else {
                return answer(200, failed("Conference not found"), xml_default);
            };
            let Some(email) = get("email") else {
                return answer(200, failed("Email is required"), xml_default);
            };
            for (k, allowed) in [("notifyEmail", true), ("moderator", true)] {
                if allowed
                    && let Some(v) = get(k)
                    && v != "yes"
                    && v != "no"
                {
                    return answer(200, failed(&format!("{k} must be yes or no")), xml_default);
                }
            }
            st.counters.invites += 1;
            let name = get("name").unwrap_or_default();
            let moderator = get("moderator").as_deref() == Some("yes");
            let mut c = st.new_client(&conf, &name, &email, moderator);
            c.timeout = get("timeout");
            c.notify = get("notifyEmail");
            c.avatar_url = get("avatarUrl");
            let v = json!({
                "name": c.name, "email": c.email, "codeConference": 198, "code": conf,
                "isModerator": c.moderator, "token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.x.y",
                "inviteLink": c.invite_link, "Status": "Success", "Version": ver,
            });
            st.clients.push(c);
            if st.cfg.lose_invite_answers > 0 {
                st.cfg.lose_invite_answers -= 1;
                st.counters.lost_answers += 1;
                return answer(500, failed("Internal error"), xml_default);
            }
            answer(200, v, xml_default)
        }
        "client/list" => {
            if !st
                .conferences
                .iter()
                .any(|c| Some(&c.code) == code.as_ref())
            {
                return answer(200, failed("Conference not found"), xml_default);
            }
            let all: Vec<Value> = st
                .clients
                .iter()
                .filter(|c| Some(&c.conference) == code.as_ref())
                .map(client_json)
                .collect();
            answer(
                200,
                json!({"Clients": all, "Status": "Success"}),
                xml_default,
            )
        }
        "client/info" => match st.clients.iter().find(|c| Some(&c.code) == code.as_ref()) {
            Some(c) => {
                let mut v = client_json(c);
                v["Status"] = json!("Success");
                answer(200, v, xml_default)
            }
            None => answer(200, failed("Client not found"), xml_default),
        },
        "client/update" => {
            let moderator = get("moderator");
            if let Some(m) = &moderator
                && m != "yes"
                && m != "no"
            {
                return answer(200, failed("moderator must be yes or no"), xml_default);
            }
            let (email, name) = (get("email"), get("name"));
            let Some(c) = st
                .clients
                .iter_mut()
                .find(|c| Some(&c.code) == code.as_ref() && !c.is_deleted)
            else {
                return answer(200, failed("Client not found"), xml_default);
            };
            if let Some(e) = email {
                c.email = e;
            }
            if let Some(n) = name {
                c.name = n;
            }
            if let Some(m) = moderator {
                c.moderator = m == "yes";
            }
            let cc = c.code.clone();
            st.counters.client_updates += 1;
            answer(
                200,
                json!({"message": "Client changed successfully", "clientCode": cc, "Status": "Success"}),
                xml_default,
            )
        }
        "client/delete" => {
            let Some(c) = st
                .clients
                .iter_mut()
                .find(|c| Some(&c.code) == code.as_ref())
            else {
                return answer(200, failed("Client not found"), xml_default);
            };
            if c.is_deleted {
                return answer(200, failed("Client is already deleted"), xml_default);
            }
            c.is_deleted = true;
            let cc = c.code.clone();
            st.counters.client_deletes += 1;
            answer(
                200,
                json!({"message": "Client is deleted successfully", "clientCode": cc, "Status": "Success"}),
                xml_default,
            )
        }
        _ => answer(404, failed("Unknown method"), xml_default),
    }
}
