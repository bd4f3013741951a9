//! A local PostoBox (`shared/providers/postobox-api.txt`) for the figures
//! that run the real binary: one event, its question listing (pages of at
//! most 100, `sortBy=createdAt`, either order, `status` filter), a question
//! read, the status PATCH and the vote toggle (answered after a set delay:
//! the link's round trip), the SSE stream of selected questions (or 403
//! `PLAN_UPGRADE_REQUIRED` when off), and the plan's rate limit with the
//! documented `X-RateLimit-*` headers and 429 + `Retry-After` past it.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

pub const EVENT: &str = "ev-perf";
pub const KEY: &str = "pk_test_perf_fake";

pub struct Options {
    pub questions: Vec<Value>,
    /// Delay before a write (PATCH, vote) is answered.
    pub write_delay: Duration,
    /// Requests a minute (Enterprise: 5,000).
    pub per_minute: u32,
    /// The SSE stream exists (Enterprise).
    pub stream: bool,
}

#[derive(Default)]
struct World {
    questions: Vec<Value>,
    index: HashMap<String, usize>,
    /// Identifiers that voted, per question.
    votes: HashMap<String, HashSet<String>>,
}

/// What the server saw.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub pages: u64,
    /// Listings read to their last page.
    pub listings: u64,
    /// When each write arrived and was answered.
    pub writes: Vec<(Instant, Instant)>,
    pub refused: u64,
}

struct Inner {
    world: Mutex<World>,
    stats: Mutex<Stats>,
    window: Mutex<(Instant, u32)>,
    per_minute: u32,
    write_delay: Duration,
    stream: bool,
    push: broadcast::Sender<String>,
}

pub struct Fake {
    inner: Arc<Inner>,
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn now_iso() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

impl Fake {
    pub async fn start(opts: Options) -> anyhow::Result<Fake> {
        let mut world = World::default();
        for (i, q) in opts.questions.into_iter().enumerate() {
            world
                .index
                .insert(q["id"].as_str().unwrap_or_default().to_string(), i);
            world.questions.push(q);
        }
        let inner = Arc::new(Inner {
            world: Mutex::new(world),
            stats: Mutex::default(),
            window: Mutex::new((Instant::now(), 0)),
            per_minute: opts.per_minute,
            write_delay: opts.write_delay,
            stream: opts.stream,
            push: broadcast::channel(64).0,
        });
        let app = Router::new()
            .route("/v1/events/{id}", get(get_event))
            .route("/v1/events/{id}/questions", get(list))
            .route("/v1/events/{id}/questions/stream", get(stream))
            .route(
                "/v1/events/{id}/questions/{qid}",
                get(get_question).patch(patch_question),
            )
            .route("/v1/events/{id}/questions/{qid}/vote", post(vote))
            .layer(middleware::from_fn_with_state(inner.clone(), limit))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Fake { inner, addr, task })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The `[[source]]` table that points qadeck here.
    pub fn source_toml(&self, name: &str) -> String {
        format!(
            "[[source]]\nname = \"{name}\"\nprovider = \"postobox\"\nevent = \"{EVENT}\"\napi_key = \"{KEY}\"\nbase_url = \"{}\"\n",
            self.base_url()
        )
    }

    pub fn stats(&self) -> Stats {
        self.inner.stats.lock().expect("stats").clone()
    }

    /// Makes `q` the one selected question and pushes it on the stream (the
    /// one selected before is answered meanwhile, as on a stage). Returns
    /// when it was handed to the open streams.
    pub fn push_selected(&self, mut q: Value) -> Instant {
        let id = q["id"].as_str().unwrap_or_default().to_string();
        q["status"] = "SELECTED".into();
        q["updatedAt"] = now_iso().into();
        let data = {
            let mut w = self.inner.world.lock().expect("world");
            for other in &mut w.questions {
                if other["status"] == "SELECTED" {
                    other["status"] = "ANSWERED".into();
                    other["updatedAt"] = now_iso().into();
                }
            }
            let i = w.questions.len();
            w.questions.push(q.clone());
            w.index.insert(id, i);
            format!("data: {}\n\n", Value::Array(vec![q]))
        };
        let sent = Instant::now();
        let _ = self.inner.push.send(data);
        sent
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"error": {"message": message, "status": status.as_u16(), "code": code, "details": {}}});
    (status, axum::Json(body)).into_response()
}

fn data(v: Value) -> Response {
    axum::Json(json!({ "data": v })).into_response()
}

/// The plan's fixed one-minute window, its headers on every answer.
async fn limit(State(inner): State<Arc<Inner>>, req: Request, next: Next) -> Response {
    let (allowed, remaining, reset) = {
        let mut w = inner.window.lock().expect("window");
        if w.0.elapsed() >= Duration::from_secs(60) {
            *w = (Instant::now(), 0);
        }
        let allowed = w.1 < inner.per_minute;
        if allowed {
            w.1 += 1;
        }
        let left = Duration::from_secs(60).saturating_sub(w.0.elapsed());
        (allowed, inner.per_minute - w.1, left)
    };
    let mut resp = if allowed {
        next.run(req).await
    } else {
        inner.stats.lock().expect("stats").refused += 1;
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "Rate limit exceeded",
        );
        r.headers_mut()
            .insert("retry-after", HeaderValue::from(reset.as_secs().max(1)));
        r
    };
    let reset_at = chrono::Utc::now().timestamp() + reset.as_secs() as i64 + 1;
    let h = resp.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(inner.per_minute));
    h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(reset_at));
    resp
}

async fn get_event(State(_): State<Arc<Inner>>, Path(id): Path<String>) -> Response {
    if id != EVENT {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "Event not found");
    }
    data(json!({"id": EVENT, "title": "Perf keynote", "active": true}))
}

async fn list(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if id != EVENT {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "Event not found");
    }
    let num = |k: &str, d: usize| q.get(k).and_then(|v| v.parse().ok()).unwrap_or(d);
    let (page, limit) = (num("page", 1).max(1), num("limit", 20).clamp(1, 100));
    let body = {
        let w = inner.world.lock().expect("world");
        let status = q.get("status");
        let mut items: Vec<&Value> = w
            .questions
            .iter()
            .filter(|v| status.is_none_or(|s| v["status"] == s.as_str()))
            .collect();
        if q.get("sortOrder").is_none_or(|o| o != "asc") {
            items.reverse();
        }
        let total = items.len();
        let start = (page - 1) * limit;
        let chunk: Vec<&Value> = items.iter().skip(start).take(limit).copied().collect();
        let pages = total.div_ceil(limit);
        let mut st = inner.stats.lock().expect("stats");
        st.pages += 1;
        if page >= pages {
            st.listings += 1;
        }
        json!({"data": chunk, "pagination": {"page": page, "limit": limit, "total": total, "totalPages": pages}})
    };
    axum::Json(body).into_response()
}

async fn get_question(
    State(inner): State<Arc<Inner>>,
    Path((_, qid)): Path<(String, String)>,
) -> Response {
    let w = inner.world.lock().expect("world");
    match w.index.get(&qid) {
        Some(i) => data(w.questions[*i].clone()),
        None => error(StatusCode::NOT_FOUND, "NOT_FOUND", "Question not found"),
    }
}

async fn patch_question(
    State(inner): State<Arc<Inner>>,
    Path((_, qid)): Path<(String, String)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let arrived = Instant::now();
    tokio::time::sleep(inner.write_delay).await;
    let answer = {
        let mut w = inner.world.lock().expect("world");
        let Some(i) = w.index.get(&qid).copied() else {
            return error(StatusCode::NOT_FOUND, "NOT_FOUND", "Question not found");
        };
        let q = &mut w.questions[i];
        q["status"] = body["status"].clone();
        q["updatedAt"] = now_iso().into();
        q.clone()
    };
    inner
        .stats
        .lock()
        .expect("stats")
        .writes
        .push((arrived, Instant::now()));
    data(answer)
}

async fn vote(
    State(inner): State<Arc<Inner>>,
    Path((_, qid)): Path<(String, String)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let arrived = Instant::now();
    tokio::time::sleep(inner.write_delay).await;
    let who = body["identifier"].as_str().unwrap_or_default().to_string();
    let answer = {
        let mut w = inner.world.lock().expect("world");
        let Some(i) = w.index.get(&qid).copied() else {
            return error(StatusCode::NOT_FOUND, "NOT_FOUND", "Question not found");
        };
        let set = w.votes.entry(qid.clone()).or_default();
        let voted = if set.remove(&who) {
            false
        } else {
            set.insert(who);
            true
        };
        let q = &mut w.questions[i];
        let count = q["voteCount"].as_i64().unwrap_or(0) + if voted { 1 } else { -1 };
        q["voteCount"] = count.into();
        json!({"questionId": qid, "voted": voted, "voteCount": count})
    };
    inner
        .stats
        .lock()
        .expect("stats")
        .writes
        .push((arrived, Instant::now()));
    data(answer)
}

/// The selected questions at connect, then every push, with a heartbeat
/// comment every 15 s.
async fn stream(State(inner): State<Arc<Inner>>) -> Response {
    if !inner.stream {
        return error(
            StatusCode::FORBIDDEN,
            "PLAN_UPGRADE_REQUIRED",
            "Streaming requires the Enterprise plan",
        );
    }
    let rx = inner.push.subscribe();
    let first = {
        let w = inner.world.lock().expect("world");
        let selected: Vec<&Value> = w
            .questions
            .iter()
            .filter(|v| v["status"] == "SELECTED")
            .collect();
        format!("data: {}\n\n", json!(selected))
    };
    let period = Duration::from_secs(15);
    let beat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let body = futures::stream::unfold(
        (Some(first), rx, beat, 0u64),
        |(first, mut rx, mut beat, n)| async move {
            if let Some(f) = first {
                return Some((Ok::<_, std::io::Error>(f), (None, rx, beat, n)));
            }
            tokio::select! {
                m = rx.recv() => match m {
                    Ok(m) => Some((Ok(m), (None, rx, beat, n))),
                    Err(broadcast::error::RecvError::Lagged(_)) => Some((Ok(String::new()), (None, rx, beat, n))),
                    Err(broadcast::error::RecvError::Closed) => None,
                },
                _ = beat.tick() => Some((Ok(format!(":heartbeat {n}\n\n")), (None, rx, beat, n + 1))),
            }
        },
    );
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
