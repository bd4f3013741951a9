//! STREAMBOXY (virtual event platform): sessions are events, session users
//! are participants. qadeck lists and creates sessions and lists, adds,
//! updates (promote/demote, rename), removes session users and renews their
//! participation links.
//!
//! Endpoints (relative to `base_url`, default `https://api.streamboxy.com`):
//! - `POST /tenant/{t}/oauth/token` — see [`auth`].
//! - `GET /tenant/{t}/Session`, `POST /tenant/{t}/Session`.
//! - `GET|POST /tenant/{t}/Session/{s}/SessionUser`,
//!   `GET|PATCH|DELETE .../SessionUser/{u}`,
//!   `POST .../SessionUser/{u}/RenewParticipantLink` (body `{}`).
//!
//! Choices where the document is silent or ambiguous (easy to change here):
//! - List answers may be a bare array or wrapped (`items`, `value`, ...);
//!   a `nextLink` / `@odata.nextLink` on the same host is followed (100 pages
//!   at most). Field names are matched without case ([`wire`]).
//! - `UpdateParticipant` PATCHes `{name, role, rowVersion}` with the version
//!   the moderator saw. A stale one is refused by the platform: HTTP 409 or
//!   412, or a 400 whose error mentions the row version or concurrency, all
//!   become [`ProviderError::Conflict`]; its message is the platform's
//!   `Message` plus the participant's current name and role, read right
//!   after the refusal. Nothing is retried with the newer version: the
//!   moderator decides. An update without any version (a command-line
//!   promote) reads the current version first.
//! - `DELETE` of a session user that is already gone (404) counts as done.
//! - Description: 1–500 characters counted as UTF-16 units (as .NET
//!   counts; never fewer than characters), checked before sending. Times are
//!   sent as UTC `yyyy-MM-ddTHH:mm:ssZ`; input may carry any offset or none
//!   (then UTC). `sessionType` defaults to `Lobby`; a content URL must start
//!   with `https://`.
//! - Role strings are `Participant` / `Moderator`; any other role the
//!   platform reports shows as participant. `link_lifetime_min` of a draft is
//!   not a STREAMBOXY feature and is ignored; `one_time_link` maps to
//!   `isOneTimeAccessKey`, `notify` to `sendMailNotification`.
//! - Rate limit: 300 calls a second per tenant. One pacer per
//!   (base URL, tenant) is shared by every call of every provider in the
//!   process, token calls included, and spaces calls evenly at 5 % under the
//!   limit. A 429 holds the pacer for `Retry-After` (1 s when absent) and the
//!   call returns [`ProviderError::RateLimited`]; callers (the outbox, the
//!   feed, the bulk import) retry after that wait.
//! - Errors: the moderator sees `Message`; `ErrorCode`, `OperationId` and
//!   `DetailedMessage` go to the log (tracing, warn level).

pub mod auth;
pub mod wire;

use super::http::{self, net_error};
use super::{BuildCtx, FeedTx, Provider, SourceSpec};
use crate::domain::{
    Capabilities, Delivery, EventDraft, EventInfo, Op, Outcome, Participant, ProviderError,
    ProviderResult, Question, SourceId,
};
use crate::secret::SecretSource;
use async_trait::async_trait;
use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;
use tokio::time::Instant;

pub const DEFAULT_BASE_URL: &str = "https://api.streamboxy.com";
/// The documented tenant-wide limit.
pub const DEFAULT_CALLS_PER_SEC: u32 = 300;
pub const DEFAULT_POLL_MS: u64 = 10_000;

/// `[[source]] provider = "streamboxy"` settings.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default = "default_name")]
    pub name: String,
    /// Tenant id (STREAMBOXY portal, Settings → API Access).
    pub tenant: String,
    pub client_id: String,
    /// The client secret written in the file (prefer `_env` or `_cmd`).
    pub client_secret: Option<String>,
    /// Environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// Command that prints the client secret.
    pub client_secret_cmd: Option<String>,
    /// Session id; `None` to pick one.
    pub event: Option<String>,
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Client-side ceiling on calls a second for the tenant.
    #[serde(default = "default_calls_per_sec")]
    pub calls_per_sec: u32,
    /// How often the participant list is polled.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
}

fn default_name() -> String {
    "streamboxy".into()
}
fn default_base_url() -> String {
    DEFAULT_BASE_URL.into()
}
fn default_calls_per_sec() -> u32 {
    DEFAULT_CALLS_PER_SEC
}
fn default_poll_ms() -> u64 {
    DEFAULT_POLL_MS
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            name: default_name(),
            tenant: String::new(),
            client_id: String::new(),
            client_secret: None,
            client_secret_env: None,
            client_secret_cmd: None,
            event: None,
            base_url: default_base_url(),
            calls_per_sec: default_calls_per_sec(),
            poll_ms: default_poll_ms(),
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("streamboxy::Settings")
            .field("name", &self.name)
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("client_secret_env", &self.client_secret_env)
            .field("client_secret_cmd", &self.client_secret_cmd)
            .field("event", &self.event)
            .field("base_url", &self.base_url)
            .field("calls_per_sec", &self.calls_per_sec)
            .field("poll_ms", &self.poll_ms)
            .finish()
    }
}

impl Settings {
    fn secret_source(&self) -> Result<Option<SecretSource>, crate::secret::SecretError> {
        SecretSource::pick(
            "client_secret",
            self.client_secret.clone(),
            self.client_secret_env.clone(),
            self.client_secret_cmd.clone(),
        )
    }
}

impl SourceSpec for Settings {
    fn name(&self) -> &str {
        &self.name
    }
    fn event(&self) -> Option<&str> {
        self.event.as_deref()
    }
    fn has_literal_secret(&self) -> bool {
        self.client_secret.is_some()
    }
    fn build(&self, ctx: &BuildCtx) -> Result<Arc<dyn Provider>, String> {
        Ok(Arc::new(Streamboxy::new(self, ctx)?))
    }
}

/// Spaces calls to stay under a calls-a-second limit; a 429 holds it.
pub struct Pacer {
    interval: Duration,
    state: Mutex<PacerState>,
}

struct PacerState {
    next: Option<Instant>,
    held_until: Option<Instant>,
}

impl Pacer {
    /// Evenly spaced at 5 % under `per_sec`, so no one-second window (fixed
    /// or sliding) on the platform's side ever sees more than `per_sec`.
    pub fn new(per_sec: u32) -> Pacer {
        let per_sec = per_sec.max(1);
        Pacer {
            interval: Duration::from_secs_f64(1.05 / per_sec as f64),
            state: Mutex::new(PacerState {
                next: None,
                held_until: None,
            }),
        }
    }

    /// The pacer shared by every provider of one tenant on one host.
    pub fn shared(key: &str, per_sec: u32) -> Arc<Pacer> {
        static ALL: OnceLock<Mutex<HashMap<String, Weak<Pacer>>>> = OnceLock::new();
        let mut all = ALL
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        all.retain(|_, p| p.strong_count() > 0);
        let key = format!("{key}#{per_sec}");
        if let Some(p) = all.get(&key).and_then(Weak::upgrade) {
            return p;
        }
        let p = Arc::new(Pacer::new(per_sec));
        all.insert(key, Arc::downgrade(&p));
        p
    }

    /// Waits for this call's slot.
    pub async fn wait(&self) {
        let slot = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let mut at = st.next.map_or(now, |n| n.max(now));
            if let Some(h) = st.held_until {
                at = at.max(h);
            }
            st.next = Some(at + self.interval);
            at
        };
        tokio::time::sleep_until(slot).await;
    }

    /// No call starts before `d` from now (after a 429).
    pub fn hold(&self, d: Duration) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let until = Instant::now() + d;
        st.held_until = Some(st.held_until.map_or(until, |h| h.max(until)));
    }
}

/// A successful answer.
struct Reply {
    status: u16,
    body: Vec<u8>,
}

/// The STREAMBOXY provider for one session.
pub struct Streamboxy {
    http: reqwest::Client,
    base: Url,
    tenant: String,
    session: Option<String>,
    source: SourceId,
    auth: auth::Auth,
    pacer: Arc<Pacer>,
    poll: Duration,
    /// The platform sent row versions as numbers: send them back as numbers.
    numeric_versions: AtomicBool,
}

impl Streamboxy {
    /// Checks the settings and resolves the client secret.
    pub fn new(settings: &Settings, ctx: &BuildCtx) -> Result<Streamboxy, String> {
        let tenant = settings.tenant.trim().to_string();
        if tenant.is_empty() {
            return Err("streamboxy: `tenant` is empty".into());
        }
        let client_id = settings.client_id.trim().to_string();
        if client_id.is_empty() {
            return Err("streamboxy: `client_id` is empty".into());
        }
        let secret = settings
            .secret_source()
            .map_err(|e| format!("streamboxy: {e}"))?
            .ok_or(
                "streamboxy: set `client_secret_env` or `client_secret_cmd` (or `client_secret`)",
            )?
            .resolve()
            .map_err(|e| format!("streamboxy: {e}"))?;
        let base = parse_base(&settings.base_url)?;
        let token_url = segments(&base, &["tenant", &tenant, "oauth", "token"]);
        let session = ctx
            .event
            .clone()
            .or_else(|| settings.event.clone())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        Ok(Streamboxy {
            http: http::client(),
            pacer: Pacer::shared(&format!("{base}|{tenant}"), settings.calls_per_sec),
            base,
            tenant,
            session,
            source: ctx.source,
            auth: auth::Auth::new(token_url, client_id, secret),
            poll: Duration::from_millis(settings.poll_ms.max(100)),
            numeric_versions: AtomicBool::new(false),
        })
    }

    /// Tokens fetched so far.
    pub fn tokens_fetched(&self) -> u64 {
        self.auth.tokens_fetched()
    }

    fn session(&self) -> ProviderResult<&str> {
        self.session.as_deref().ok_or_else(|| {
            ProviderError::Invalid(
                "no STREAMBOXY session chosen: set `event` to a session id".into(),
            )
        })
    }

    fn tenant_url(&self, rest: &[&str]) -> Url {
        let mut all = vec!["tenant", self.tenant.as_str()];
        all.extend_from_slice(rest);
        segments(&self.base, &all)
    }

    fn users_url(&self, rest: &[&str]) -> ProviderResult<Url> {
        let mut all = vec!["Session", self.session()?, "SessionUser"];
        all.extend_from_slice(rest);
        Ok(self.tenant_url(&all))
    }

    /// One call: paced, with the bearer token, renewing it once on a 401.
    async fn call(&self, method: Method, url: Url, body: Option<&Value>) -> ProviderResult<Reply> {
        let what = format!("{method} {}", url.path());
        for attempt in 0..2 {
            let token = self.auth.bearer(&self.http, &self.pacer).await?;
            self.pacer.wait().await;
            let started = Instant::now();
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.expose())
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await.map_err(net_error)?;
            let status = resp.status().as_u16();
            tracing::debug!(
                call = %what,
                status,
                ms = started.elapsed().as_millis() as u64,
                "streamboxy"
            );
            if status == 401 && attempt == 0 {
                self.auth.invalidate(&token).await;
                continue;
            }
            if status == 429 {
                let ms = http::retry_after_ms(resp.headers(), 1000);
                self.pacer.hold(Duration::from_millis(ms));
                tracing::info!(call = %what, retry_after_ms = ms, "streamboxy rate limit hit");
                return Err(ProviderError::RateLimited { retry_after_ms: ms });
            }
            let bytes = http::read_body(resp).await?;
            if (200..300).contains(&status) {
                return Ok(Reply {
                    status,
                    body: bytes,
                });
            }
            return Err(self.error(&what, status, &bytes));
        }
        Err(ProviderError::Auth(
            "STREAMBOXY refused a freshly issued token (401)".into(),
        ))
    }

    /// Maps an error answer: `Message` for the moderator, the rest logged.
    fn error(&self, what: &str, status: u16, body: &[u8]) -> ProviderError {
        let e = wire::ApiError::parse(body);
        let redact = crate::secret::redact;
        tracing::warn!(
            call = %what,
            status,
            error_code = e.code.as_deref().unwrap_or(""),
            operation_id = e.operation_id.as_deref().unwrap_or(""),
            detail = %redact(e.detail.as_deref().unwrap_or("")),
            message = %redact(e.message.as_deref().unwrap_or("")),
            "streamboxy call failed"
        );
        let msg = redact(e.message.as_deref().unwrap_or(match status {
            400 => "the platform refused the request",
            401 => "not authorized",
            402 => "this feature needs a paid plan",
            403 => "not allowed",
            404 => "not found",
            409 => "conflict",
            _ => "the platform failed",
        }));
        match status {
            409 | 412 => ProviderError::Conflict(msg),
            400 | 422 if e.mentions_concurrency() => ProviderError::Conflict(msg),
            400 | 422 => ProviderError::Invalid(msg),
            401 => ProviderError::Auth(msg),
            402 => ProviderError::Forbidden(format!("payment required: {msg}")),
            403 => ProviderError::Forbidden(msg),
            404 | 410 => ProviderError::NotFound(msg),
            s if s >= 500 => ProviderError::Server(format!("HTTP {s}: {msg}")),
            s => ProviderError::Protocol(format!("HTTP {s}: {msg}")),
        }
    }

    fn json(reply: &Reply) -> ProviderResult<Value> {
        serde_json::from_slice(&reply.body).map_err(|_| {
            ProviderError::Protocol(format!(
                "STREAMBOXY answered HTTP {} without JSON",
                reply.status
            ))
        })
    }

    /// Every item of a list, following same-host next links.
    async fn get_all(&self, url: Url) -> ProviderResult<Vec<Value>> {
        let mut out = Vec::new();
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            let reply = self.call(Method::GET, url.clone(), None).await?;
            // 204 or an empty body: an empty list.
            if reply.body.iter().all(u8::is_ascii_whitespace) {
                break;
            }
            let v = Self::json(&reply)?;
            let items = wire::items(&v).ok_or_else(|| {
                ProviderError::Protocol("STREAMBOXY list answer holds no list".into())
            })?;
            out.extend(items.iter().cloned());
            if pages < 100
                && let Some(link) = wire::next_link(&v)
                && let Ok(n) = url.join(&link)
                && n.origin() == self.base.origin()
                && n != url
            {
                next = Some(n);
            }
        }
        Ok(out)
    }

    fn to_participant(&self, v: &Value) -> Option<Participant> {
        let (p, numeric) = wire::participant(v, self.source)?;
        if numeric {
            self.numeric_versions.store(true, Ordering::Relaxed);
        }
        Some(p)
    }

    /// One session user, by the single-user endpoint or else from the list.
    pub async fn fetch_participant(&self, id: &str) -> ProviderResult<Participant> {
        match self.call(Method::GET, self.users_url(&[id])?, None).await {
            Ok(r) => {
                if let Some(p) = Self::json(&r).ok().and_then(|v| self.to_participant(&v)) {
                    return Ok(p);
                }
            }
            Err(e @ (ProviderError::Auth(_) | ProviderError::RateLimited { .. })) => return Err(e),
            Err(_) => {}
        }
        self.list_participants()
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| ProviderError::NotFound(format!("session user {id}")))
    }

    async fn add(&self, d: &crate::domain::ParticipantDraft) -> ProviderResult<Participant> {
        if d.name.trim().is_empty() {
            return Err(ProviderError::Invalid("a participant needs a name".into()));
        }
        if d.link_lifetime_min.is_some() {
            tracing::debug!("streamboxy has no link lifetime; ignored");
        }
        let reply = self
            .call(Method::POST, self.users_url(&[])?, Some(&wire::add_body(d)))
            .await?;
        let v = Self::json(&reply)?;
        let mut p = self.to_participant(&v).ok_or_else(|| {
            ProviderError::Protocol("STREAMBOXY did not return the new session user's id".into())
        })?;
        // The documented answer is abridged ("..."): fill what it left out.
        if p.name.is_empty() {
            p.name = crate::text::sanitize(&d.name);
        }
        if p.email.is_none() {
            p.email = d.email.as_deref().map(crate::text::sanitize);
        }
        if p.external_key.is_none() {
            p.external_key = d.external_key.as_deref().map(crate::text::sanitize);
        }
        if wire::field(&v, &["role"]).is_none() {
            p.role = d.role;
        }
        Ok(p)
    }

    async fn update(
        &self,
        id: &str,
        role: crate::domain::Role,
        name: &str,
        version: Option<&str>,
    ) -> ProviderResult<Participant> {
        let version = match version {
            Some(v) => v.to_string(),
            None => self.fetch_participant(id).await?.version.ok_or_else(|| {
                ProviderError::Protocol("STREAMBOXY gave no rowVersion for this user".into())
            })?,
        };
        let numeric = self.numeric_versions.load(Ordering::Relaxed);
        let body = wire::patch_body(name, role, wire::row_version_value(&version, numeric));
        match self
            .call(Method::PATCH, self.users_url(&[id])?, Some(&body))
            .await
        {
            Ok(reply) => {
                if let Some(p) = Self::json(&reply)
                    .ok()
                    .and_then(|v| self.to_participant(&v))
                    && p.version.is_some()
                {
                    return Ok(p);
                }
                // No body (204) or an abridged one: read the new state.
                self.fetch_participant(id).await
            }
            Err(ProviderError::Conflict(msg)) => {
                let now = match self.fetch_participant(id).await {
                    Ok(p) => format!(
                        "; changed meanwhile on STREAMBOXY, now: name “{}”, role {}",
                        p.name,
                        match p.role {
                            crate::domain::Role::Moderator => "moderator",
                            crate::domain::Role::Participant => "participant",
                        }
                    ),
                    Err(ProviderError::NotFound(_)) => {
                        "; the participant was removed meanwhile".into()
                    }
                    Err(_) => String::new(),
                };
                Err(ProviderError::Conflict(format!(
                    "{msg}{now} — reload and try again"
                )))
            }
            Err(e) => Err(e),
        }
    }

    async fn renew(&self, id: &str) -> ProviderResult<Participant> {
        let reply = self
            .call(
                Method::POST,
                self.users_url(&[id, "RenewParticipantLink"])?,
                Some(&Value::Object(Default::default())),
            )
            .await?;
        let link = wire::renewed_link(&reply.body);
        if let Some(p) = Self::json(&reply)
            .ok()
            .and_then(|v| self.to_participant(&v))
            && p.link.is_some()
            && !p.name.is_empty()
        {
            return Ok(p);
        }
        let mut p = self.fetch_participant(id).await?;
        if link.is_some() {
            p.link = link;
        }
        Ok(p)
    }
}

fn parse_base(s: &str) -> Result<Url, String> {
    let url = Url::parse(s.trim()).map_err(|e| format!("streamboxy: bad `base_url`: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err("streamboxy: `base_url` must be an http(s) URL".into());
    }
    Ok(url)
}

/// `base` with path segments appended (each escaped).
fn segments(base: &Url, segs: &[&str]) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    if let Ok(mut p) = url.path_segments_mut() {
        p.pop_if_empty();
        p.extend(segs);
    }
    url
}

#[async_trait]
impl Provider for Streamboxy {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            participants: true,
            delivery: Delivery::Polling,
            one_time_link: true,
            renew_link: true,
            ..Capabilities::none()
        }
    }

    async fn run_feed(&self, tx: FeedTx) {
        super::poll::poll_participants(self, tx, self.poll).await;
    }

    async fn list_events(&self) -> ProviderResult<Vec<EventInfo>> {
        let all = self.get_all(self.tenant_url(&["Session"])).await?;
        Ok(all.iter().filter_map(wire::session).collect())
    }

    async fn create_event(&self, draft: &EventDraft) -> ProviderResult<EventInfo> {
        let body = wire::session_body(draft).map_err(ProviderError::Invalid)?;
        let reply = self
            .call(Method::POST, self.tenant_url(&["Session"]), Some(&body))
            .await?;
        let v = Self::json(&reply)?;
        let id = wire::text(&v, &["id", "sessionId"]).ok_or_else(|| {
            ProviderError::Protocol("STREAMBOXY did not return the new session's id".into())
        })?;
        Ok(EventInfo {
            id,
            title: wire::text(&v, &["title"])
                .unwrap_or_else(|| crate::text::sanitize(body["title"].as_str().unwrap_or(""))),
            active: None,
            starts: body["startDateTimeUtc"].as_str().map(str::to_string),
        })
    }

    async fn perform(&self, op: &Op) -> ProviderResult<Outcome> {
        match op {
            Op::AddParticipant { draft } => Ok(Outcome::Participant(self.add(draft).await?)),
            Op::UpdateParticipant {
                id,
                role,
                name,
                version,
            } => Ok(Outcome::Participant(
                self.update(id, *role, name, version.as_deref()).await?,
            )),
            Op::RemoveParticipant { id } => {
                match self
                    .call(Method::DELETE, self.users_url(&[id])?, None)
                    .await
                {
                    Ok(_) | Err(ProviderError::NotFound(_)) => {
                        Ok(Outcome::ParticipantGone(id.clone()))
                    }
                    Err(e) => Err(e),
                }
            }
            Op::RenewLink { id } => Ok(Outcome::Participant(self.renew(id).await?)),
            other => Err(ProviderError::Unsupported(format!(
                "{} (STREAMBOXY manages participants only)",
                other.label()
            ))),
        }
    }

    async fn fetch_question(&self, _id: &str) -> ProviderResult<Question> {
        Err(ProviderError::Unsupported(
            "questions (STREAMBOXY manages participants only)".into(),
        ))
    }

    async fn list_participants(&self) -> ProviderResult<Vec<Participant>> {
        let all = self.get_all(self.users_url(&[])?).await?;
        Ok(all.iter().filter_map(|v| self.to_participant(v)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_reject_unknown_keys_and_hide_secret() {
        let s: Settings = toml::from_str(
            "tenant = \"t1\"\nclient_id = \"c\"\nclient_secret = \"shh-very-secret\"\n",
        )
        .unwrap();
        assert_eq!(s.base_url, DEFAULT_BASE_URL);
        assert_eq!(s.calls_per_sec, 300);
        assert!(!format!("{s:?}").contains("shh-very-secret"));
        assert!(
            toml::from_str::<Settings>("tenant = \"t\"\nclient_id = \"c\"\nbogus = 1\n").is_err()
        );
    }

    #[test]
    fn urls_escape_segments() {
        let base = parse_base("http://127.0.0.1:9/").unwrap();
        let u = segments(&base, &["tenant", "a b/c", "Session"]);
        assert_eq!(u.as_str(), "http://127.0.0.1:9/tenant/a%20b%2Fc/Session");
        let base = parse_base("https://api.example/prefix").unwrap();
        assert_eq!(
            segments(&base, &["x"]).as_str(),
            "https://api.example/prefix/x"
        );
    }

    #[tokio::test]
    async fn pacer_spaces_calls_and_holds() {
        let p = Pacer::new(100);
        let t0 = Instant::now();
        for _ in 0..11 {
            p.wait().await;
        }
        // Ten intervals of 10.5 ms.
        assert!(t0.elapsed() >= Duration::from_millis(105));
        p.hold(Duration::from_millis(200));
        let t1 = Instant::now();
        p.wait().await;
        assert!(t1.elapsed() >= Duration::from_millis(200));
    }
}
