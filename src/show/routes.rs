//! The show server's routes: reads (`/on-air.json`, `/on-air.txt`,
//! `/events`, the `/overlay` and `/stage` pages) and control calls (`POST
//! /next`, `/clear`, `/air/{source}/{id}`, `/answered`), with the bearer
//! token checks and JSON errors.

use super::ControlRequest;
use super::pages;
use crate::domain::{OnAir, ShowAction, ShowRefusal};
use axum::Router;
use axum::extract::{Path, Request, State as Extract};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// How long a control call waits for the loop before answering 503.
const CONTROL_WAIT: Duration = Duration::from_secs(5);
/// The SSE heartbeat comment's period.
pub(super) const HEARTBEAT: Duration = Duration::from_secs(15);
/// The longest source name or question id a control call takes.
const MAX_ID: usize = 512;

#[derive(Clone)]
pub(super) struct State {
    pub on_air: watch::Receiver<OnAir>,
    pub control: mpsc::Sender<ControlRequest>,
    pub token: Option<String>,
    pub token_env: String,
    /// Reads need no token (the server listens on loopback only).
    pub open_reads: bool,
}

pub(super) fn router(state: State) -> Router {
    let reads = Router::new()
        .route("/on-air.json", get(on_air_json))
        .route("/on-air.txt", get(on_air_txt))
        .route("/events", get(events))
        .route("/overlay", get(|| async { page(pages::OVERLAY) }))
        .route("/stage", get(|| async { page(pages::STAGE) }))
        .route_layer(middleware::from_fn_with_state(state.clone(), read_auth));
    let control = Router::new()
        .route("/next", post(|s| control(s, ShowAction::Next)))
        .route("/clear", post(|s| control(s, ShowAction::Clear)))
        .route("/answered", post(|s| control(s, ShowAction::Answered)))
        .route("/air/{source}/{id}", post(air))
        .route_layer(middleware::from_fn_with_state(state.clone(), control_auth));
    reads
        .merge(control)
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "wrong method: reads are GET, control calls are POST",
            )
        })
        .with_state(state)
}

/// A JSON error body: `{"error": "…"}`.
fn error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// JSON with `<`, `>` and `&` escaped, so no text can read as markup even
/// where a client pastes it into a page.
fn json_text(on_air: &OnAir) -> String {
    serde_json::to_string(on_air)
        .unwrap_or_else(|_| "{\"on_air\":null}".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

fn json(on_air: &OnAir) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        json_text(on_air),
    )
        .into_response()
}

fn page(html: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn unauthorized() -> Response {
    let mut r = error(StatusCode::UNAUTHORIZED, "wrong or missing bearer token");
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

async fn control_auth(Extract(s): Extract<State>, req: Request, next: Next) -> Response {
    let Some(token) = &s.token else {
        let msg = format!("control calls are off: set {} to a token", s.token_env);
        return error(StatusCode::FORBIDDEN, &msg);
    };
    match bearer(req.headers()) {
        Some(given) if same(given, token) => next.run(req).await,
        _ => unauthorized(),
    }
}

/// Reads are open on loopback; elsewhere they take the token in the
/// header or, for pages and `EventSource`, as `?token=`.
async fn read_auth(Extract(s): Extract<State>, req: Request, next: Next) -> Response {
    if s.open_reads {
        return next.run(req).await;
    }
    let Some(token) = &s.token else {
        return error(StatusCode::FORBIDDEN, "reads need a token here");
    };
    let in_query = req.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("token="))
            .map(str::to_string)
    });
    let ok = bearer(req.headers()).is_some_and(|g| same(g, token))
        || in_query.is_some_and(|g| same(&g, token));
    if ok {
        next.run(req).await
    } else {
        unauthorized()
    }
}

async fn on_air_json(Extract(s): Extract<State>) -> Response {
    json(&s.on_air.borrow())
}

async fn on_air_txt(Extract(s): Extract<State>) -> Response {
    let text = s.on_air.borrow().text().to_string();
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response()
}

/// The current state at once, then every change; a heartbeat comment
/// every [`HEARTBEAT`]. Only the newest state waits for a slow reader.
async fn events(Extract(s): Extract<State>) -> impl IntoResponse {
    let mut rx = s.on_air;
    rx.mark_changed();
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.changed().await.ok()?;
        let data = json_text(&rx.borrow_and_update());
        let event = Event::default().event("on_air").data(data);
        Some((Ok::<_, Infallible>(event), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat"))
}

async fn air(Extract(s): Extract<State>, Path((source, id)): Path<(String, String)>) -> Response {
    if source.len() > MAX_ID || id.len() > MAX_ID {
        return error(StatusCode::BAD_REQUEST, "source or id too long");
    }
    let clean = |t: &str| crate::text::sanitize(t).trim().to_string();
    let (source, id) = (clean(&source), clean(&id));
    if source.is_empty() || id.is_empty() {
        return error(StatusCode::BAD_REQUEST, "source and id must not be empty");
    }
    control(Extract(s), ShowAction::Air { source, id }).await
}

/// Hands the request to the loop and answers the state it left.
async fn control(Extract(s): Extract<State>, action: ShowAction) -> Response {
    let (reply, answer) = oneshot::channel();
    let request = ControlRequest { action, reply };
    let sent = tokio::time::timeout(CONTROL_WAIT, s.control.send(request)).await;
    if !matches!(sent, Ok(Ok(()))) {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the console is busy or closing",
        );
    }
    match tokio::time::timeout(CONTROL_WAIT, answer).await {
        Ok(Ok(Ok(()))) => json(&s.on_air.borrow()),
        Ok(Ok(Err(refusal))) => {
            let status = match refusal {
                ShowRefusal::Unknown(_) => StatusCode::NOT_FOUND,
                ShowRefusal::Nothing(_) => StatusCode::CONFLICT,
            };
            error(status, &refusal.to_string())
        }
        _ => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the console did not answer in time",
        ),
    }
}
