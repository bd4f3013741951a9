//! The streams.live provider: channel questions and chat, polled.
//!
//! Contract: `/work/shared/providers/streamslive-api.txt`. What it gives a
//! moderator, and how qadeck uses it:
//!
//! | qadeck | streams.live |
//! |---|---|
//! | log in / renew / log out | `POST auth/login`, `auth/login/refresh`, `auth/logout` (see [`auth`]) |
//! | event picker | `GET events?page=N&status=S` (10 a page; 0 active, 1 past, 2 deleted) |
//! | questions | `POST questions/read` (`eventId` + `eventSlug`), polled |
//! | submit | `POST questions/create` (`question`, `eventId` = the channel slug, as documented) |
//! | vote up / down | `POST questions/vote` (`questionId`, `direction` 2 / 1) |
//! | reject | `POST questions/archive` (`eventSlug`, `questionId`) |
//! | chat | `POST thread/read`, `POST messages`, `DELETE messages/delete` |
//! | open / close | `PUT events/{id}` |
//! | reports | `POST stats/parse/download/questions` and `…/chat` |
//!
//! Readings of the document where it is silent or ambiguous (each kept in
//! one place so it is easy to change):
//! - **Base URL.** The document gives paths only (`/api/v1/…`), no host.
//!   `base_url` defaults to [`DEFAULT_BASE_URL`]; a configured URL may end
//!   with or without `/api/v1` (it is appended when missing).
//! - **Auth header.** Examples show none; tokens are sent as
//!   `Authorization: Bearer`. A personal access token (`token*` keys) is sent
//!   the same way and never renewed.
//! - **Response shapes.** Only channels and tokens have documented success
//!   examples. Questions and messages are read tolerantly (see [`wire`]):
//!   string-or-number fields, optional fields, `data` envelopes.
//! - **Statuses.** The platform stores only "not archived" (pending) and
//!   "archived" (rejected): `server_statuses = [Pending, Rejected]`.
//!   Selected, answered and on-air have no API; the core keeps them, and
//!   `perform(SetStatus{Selected|Answered})` is `Unsupported`. There is no
//!   un-archive, so `SetStatus{Pending}` of an archived question is
//!   `Unsupported` too (of a pending one it just confirms). Archiving may
//!   drop the question from `questions/read`; questions archived in this
//!   session stay in every snapshot as `Rejected` so they do not vanish from
//!   the moderator's list.
//! - **Votes.** Directions 2 (up) and 1 (down); there is no documented way
//!   to take a vote back, so `MyVote::None` is `Unsupported`. The platform
//!   does not say whose vote a question carries, so the moderator's own vote
//!   is remembered in memory (and a repeated intent is not sent twice).
//! - **Questions have no `updated` time** in the document: when a question's
//!   content or votes change between polls, `updated` is raised to the time
//!   the change was seen, so the core never takes the new state for stale.
//! - **Chat thread.** `thread/read` takes `threadSlug` ("the token of the
//!   user" — a documentation slip) and `userId`. qadeck sends the channel's
//!   `thread_id` (the reading), falling back to the channel slug and
//!   then the channel id if the platform does not know the thread; `userId` is the channel
//!   owner's id when the channel names one. `messages/delete` takes
//!   `thread_slug`, documented as "the slug of the channel": the slug is
//!   sent, with the thread id as the fallback. Whichever works is kept.
//! - **Chat deletions.** A message missing from a later `thread/read`, or
//!   flagged deleted, is reported as [`Feed::MessageGone`].
//! - **Message length.** `data` "must not be greater than 300 characters";
//!   the server is Laravel, whose `max` counts characters with `mb_strlen`,
//!   i.e. Unicode scalar values, which is what [`check_message`] counts.
//! - **Open/close.** The `PUT events/{id}` body documents `questionsEnabled`
//!   while the event object has `questions_enabled`: both are sent.
//!   [`Feed::OpenState`] is reported at start, after every change made
//!   through qadeck, and re-read about every 30 s.
//! - **Reports.** The download endpoints document no parameters; `eventId`
//!   is sent (as `stats/parse` takes it) and the body is returned as is.
//! - **Errors.** `{"error":{"code","title","message","messages"}}` with a
//!   body `code` that may differ from the HTTP status: see
//!   [`wire::classify`].
//! - **`list_events`** lists the active channels (status 0), all pages;
//!   [`StreamsLive::list_events_with`] takes any status or none.

pub mod auth;
pub mod wire;

use super::http::{self, Backoff};
use super::{BuildCtx, FeedTx, Provider, SourceSpec};
use crate::domain::{
    Capabilities, Connection, Delivery, EventInfo, Feed, Message, Millis, MyVote, Op, Outcome,
    ProviderError, ProviderResult, Question, ReportKind, SourceId, Status, VoteKind,
};
use crate::secret::SecretSource;
use crate::text::sanitize;
use async_trait::async_trait;
use auth::{Auth, AuthStats, Credentials};
use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wire::{EventMeta, WireMessage, WireQuestion};

/// Where streams.live lives when `base_url` is not set. The document only
/// gives paths (`/api/v1/…`); this is the platform's own host.
pub const DEFAULT_BASE_URL: &str = "https://streams.live/api/v1/";
/// The longest chat message the platform takes (`messages.data`).
pub const MAX_MESSAGE_CHARS: usize = 300;
/// Poll interval when the config does not set one.
pub const DEFAULT_POLL_MS: u64 = 3_000;
/// Shortest poll interval accepted (tests use fast polling; a live event
/// should stay at seconds).
pub const MIN_POLL_MS: u64 = 100;
/// `GET events` page size (documented: "10 items per page").
pub const PAGE_SIZE: usize = 10;
/// Upper bound of pages read, so a server ignoring `page` cannot loop us.
const MAX_PAGES: u32 = 500;
/// How often the channel itself (open state, thread) is re-read.
const EVENT_REFRESH: Duration = Duration::from_secs(30);
/// Wait after an error the moderator has to fix (bad password, unknown
/// channel) before trying again.
const PERMANENT_WAIT: Duration = Duration::from_secs(60);

/// Checks a chat message before it is sent: not empty, at most
/// [`MAX_MESSAGE_CHARS`] Unicode scalar values. The message says why.
pub fn check_message(text: &str) -> Result<(), String> {
    let n = text.chars().count();
    if text.trim().is_empty() {
        Err("a chat message cannot be empty".into())
    } else if n > MAX_MESSAGE_CHARS {
        Err(format!(
            "a chat message holds at most {MAX_MESSAGE_CHARS} characters; this one has {n}"
        ))
    } else {
        Ok(())
    }
}

/// The API root for a configured base URL: `http(s)://host[/prefix]`, with
/// `/api/v1/` appended unless the URL already ends with it.
pub fn api_base(base_url: &str) -> Result<String, String> {
    let b = base_url.trim().trim_end_matches('/');
    if !(b.starts_with("http://") || b.starts_with("https://")) || b.len() <= "https://".len() {
        return Err(format!(
            "base_url must be an http(s) URL, not `{}`",
            sanitize(b)
        ));
    }
    if b.ends_with("/api/v1") {
        Ok(format!("{b}/"))
    } else {
        Ok(format!("{b}/api/v1/"))
    }
}

/// The `status` filter of `GET events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    Active,
    Past,
    Deleted,
}

impl EventStatus {
    /// The documented numbers: 0 active, 1 past, 2 deleted.
    pub fn code(self) -> u8 {
        match self {
            EventStatus::Active => 0,
            EventStatus::Past => 1,
            EventStatus::Deleted => 2,
        }
    }
}

/// `[[source]] provider = "streamslive"` settings.
///
/// Credentials: `email` with one of `password_env` / `password_cmd` /
/// `password`, or a personal access token with one of `token_env` /
/// `token_cmd` / `token`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default = "default_name")]
    pub name: String,
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Channel slug (or id); `None` → the TUI offers `list_events`.
    pub event: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub password_env: Option<String>,
    pub password_cmd: Option<String>,
    pub token: Option<String>,
    pub token_env: Option<String>,
    pub token_cmd: Option<String>,
    pub poll_interval_ms: Option<u64>,
}

fn default_name() -> String {
    "streamslive".into()
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.into()
}

impl Settings {
    /// Settings for a base URL and e-mail/password (tests, the CLI).
    pub fn with_password(base_url: &str, email: &str, password: &str) -> Settings {
        Settings {
            name: default_name(),
            base_url: base_url.into(),
            event: None,
            email: Some(email.into()),
            password: Some(password.into()),
            password_env: None,
            password_cmd: None,
            token: None,
            token_env: None,
            token_cmd: None,
            poll_interval_ms: None,
        }
    }

    /// The poll interval, checked.
    pub fn poll_interval(&self) -> Result<Duration, String> {
        let ms = self.poll_interval_ms.unwrap_or(DEFAULT_POLL_MS);
        if ms < MIN_POLL_MS {
            return Err(format!(
                "poll_interval_ms must be at least {MIN_POLL_MS}, not {ms}"
            ));
        }
        Ok(Duration::from_millis(ms))
    }

    /// Resolves the configured credentials (runs `*_cmd`, reads `*_env`).
    pub fn credentials(&self) -> Result<Credentials, String> {
        let pw = SecretSource::pick(
            "password",
            self.password.clone(),
            self.password_env.clone(),
            self.password_cmd.clone(),
        )?;
        let tok = SecretSource::pick(
            "token",
            self.token.clone(),
            self.token_env.clone(),
            self.token_cmd.clone(),
        )?;
        let email = self
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty());
        match (email, pw, tok) {
            (Some(email), Some(pw), None) => Ok(Credentials::Password {
                email: email.to_string(),
                password: pw.resolve()?,
            }),
            (None, None, Some(tok)) => Ok(Credentials::Token(tok.resolve()?)),
            (_, _, Some(_)) => Err(
                "set either `email` with a password or a personal access token (`token*`), not both"
                    .into(),
            ),
            (Some(_), None, None) => {
                Err("`email` needs a password: set `password_env`, `password_cmd` or `password`".into())
            }
            (None, Some(_), None) => Err("a password needs `email`".into()),
            (None, None, None) => Err("streams.live needs `email` with `password_env` / \
                 `password_cmd` / `password`, or a token with `token_env` / `token_cmd` / `token`"
                .into()),
        }
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
        self.password.is_some() || self.token.is_some()
    }

    fn build(&self, ctx: &BuildCtx) -> Result<Arc<dyn Provider>, String> {
        let event = ctx.event.clone().or_else(|| self.event.clone());
        Ok(Arc::new(StreamsLive::new(self, ctx.source, event)?))
    }
}

/// What the provider remembers between calls (memory only).
#[derive(Default)]
struct Local {
    /// Questions archived through qadeck this session, kept as Rejected.
    archived: HashMap<String, Question>,
    /// The moderator's own votes (the platform does not report them).
    my_votes: HashMap<String, MyVote>,
    /// First time an item without a timestamp was seen ("q:id" / "m:id").
    first_seen: HashMap<String, Millis>,
    /// Content fingerprint of each question and when it last changed.
    fingerprints: HashMap<String, (u64, Option<Millis>)>,
    /// The last view of every question (for outcomes and `fetch_question`).
    last: HashMap<String, Question>,
    /// Chat message ids the feed has reported and not yet reported gone.
    chat_known: HashSet<String>,
    /// Index into the thread key candidates that the platform accepted.
    thread_key: Option<usize>,
    delete_key: Option<usize>,
    /// The feed should re-read the channel (open state changed).
    event_dirty: bool,
}

/// The streams.live provider for one channel.
pub struct StreamsLive {
    source: SourceId,
    base: String,
    client: reqwest::Client,
    auth: Auth,
    event_key: Option<String>,
    poll: Duration,
    event: tokio::sync::Mutex<Option<EventMeta>>,
    local: Mutex<Local>,
}

impl StreamsLive {
    /// Builds the provider (resolving the credentials now, so a missing
    /// variable is reported at start).
    pub fn new(
        settings: &Settings,
        source: SourceId,
        event: Option<String>,
    ) -> Result<StreamsLive, String> {
        let base = api_base(&settings.base_url)?;
        let poll = settings.poll_interval()?;
        let creds = settings.credentials()?;
        let client = http::client();
        Ok(StreamsLive {
            source,
            auth: Auth::new(creds, base.clone(), client.clone()),
            base,
            client,
            event_key: event
                .map(|e| e.trim().to_string())
                .filter(|e| !e.is_empty()),
            poll,
            event: tokio::sync::Mutex::new(None),
            local: Mutex::new(Local::default()),
        })
    }

    /// What the token lifecycle did so far (logins, refreshes).
    pub fn auth_stats(&self) -> AuthStats {
        self.auth.stats()
    }

    fn local(&self) -> std::sync::MutexGuard<'_, Local> {
        self.local.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ----- HTTP --------------------------------------------------------------

    /// One authenticated call; on a 401 the token is renewed and the call
    /// sent once more. Returns the body of a 2xx answer.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        what: &str,
    ) -> ProviderResult<Vec<u8>> {
        let mut token = self.auth.bearer().await?;
        let mut retried = false;
        loop {
            let mut req = self
                .client
                .request(method.clone(), format!("{}{path}", self.base))
                .header(reqwest::header::ACCEPT, "application/json")
                .bearer_auth(token.expose());
            if !query.is_empty() {
                req = req.query(query);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await.map_err(http::net_error)?;
            let status = resp.status().as_u16();
            let retry = http::retry_after_ms(resp.headers(), 5_000);
            let bytes = http::read_body(resp).await?;
            if (200..300).contains(&status) && !has_error_object(&bytes) {
                return Ok(bytes);
            }
            let err = wire::to_error(status, retry, &bytes, what);
            if matches!(err, ProviderError::Auth(_)) && !retried {
                retried = true;
                token = self.auth.rejected(&token).await?;
                continue;
            }
            return Err(err);
        }
    }

    async fn call_json(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        what: &str,
    ) -> ProviderResult<Value> {
        let bytes = self.call(method, path, query, body, what).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes)
            .map_err(|_| ProviderError::Protocol(format!("{what}: the answer is not JSON")))
    }

    // ----- channels ------------------------------------------------------------

    /// All channels with the given status (`None`: no filter), every page.
    pub async fn list_events_with(
        &self,
        status: Option<EventStatus>,
    ) -> ProviderResult<Vec<EventInfo>> {
        let active = status.map(|s| s == EventStatus::Active);
        Ok(self
            .event_pages(status)
            .await?
            .iter()
            .map(|e| e.info(active))
            .collect())
    }

    async fn event_pages(&self, status: Option<EventStatus>) -> ProviderResult<Vec<EventMeta>> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for page in 1..=MAX_PAGES {
            let mut query = vec![("page", page.to_string())];
            if let Some(s) = status {
                query.push(("status", s.code().to_string()));
            }
            let v = self
                .call_json(Method::GET, "events", &query, None, "list channels")
                .await?;
            let list = wire::items(&v).ok_or_else(|| {
                ProviderError::Protocol("list channels: the answer holds no list".into())
            })?;
            let mut new = 0;
            for item in list {
                if let Some(e) = EventMeta::from_value(item)
                    && seen.insert(e.id.clone())
                {
                    out.push(e);
                    new += 1;
                }
            }
            let last = wire::last_page(&v).is_some_and(|l| i64::from(page) >= l);
            if list.len() < PAGE_SIZE || new == 0 || last {
                break;
            }
        }
        Ok(out)
    }

    async fn fetch_event(&self, id: &str) -> ProviderResult<EventMeta> {
        let v = self
            .call_json(
                Method::GET,
                &format!("events/{}", seg(id)),
                &[],
                None,
                "read channel",
            )
            .await?;
        EventMeta::from_value(&v)
            .ok_or_else(|| ProviderError::Protocol("read channel: no channel in the answer".into()))
    }

    /// The channel, resolved once: `GET events/{key}` (the key may be the
    /// id), else a search of the active and past channels by slug or id.
    async fn event(&self) -> ProviderResult<EventMeta> {
        let mut slot = self.event.lock().await;
        if let Some(e) = slot.as_ref() {
            return Ok(e.clone());
        }
        let key = self.event_key.as_deref().ok_or_else(|| {
            ProviderError::Invalid(
                "no channel chosen: set `event` or pick one from the list".into(),
            )
        })?;
        let meta = match self.fetch_event(key).await {
            Ok(e) if e.id == key || e.slug.as_deref() == Some(key) => Some(e),
            Ok(_) => None,
            // Unreachable, rate limited or refused: listing would fail too.
            // Anything else (404, a 500 carrying 404, 422) means "not by
            // this key": search the lists.
            Err(
                e @ (ProviderError::Network(_)
                | ProviderError::RateLimited { .. }
                | ProviderError::Auth(_)
                | ProviderError::Forbidden(_)),
            ) => {
                return Err(e);
            }
            Err(_) => None,
        };
        let meta = match meta {
            Some(m) => m,
            None => {
                let mut found = None;
                for status in [EventStatus::Active, EventStatus::Past] {
                    found = self
                        .event_pages(Some(status))
                        .await?
                        .into_iter()
                        .find(|e| e.id == key || e.slug.as_deref() == Some(key));
                    if found.is_some() {
                        break;
                    }
                }
                found.ok_or_else(|| {
                    ProviderError::NotFound(format!(
                        "no channel with the slug or id `{}`",
                        sanitize(key)
                    ))
                })?
            }
        };
        *slot = Some(meta.clone());
        Ok(meta)
    }

    /// Re-reads the channel by id and keeps it (thread and flags may change).
    async fn refresh_event(&self, old: &EventMeta) -> ProviderResult<EventMeta> {
        let fresh = self.fetch_event(&old.id).await?;
        let merged = EventMeta {
            slug: fresh.slug.clone().or_else(|| old.slug.clone()),
            thread_id: fresh.thread_id.clone().or_else(|| old.thread_id.clone()),
            owner_id: fresh.owner_id.clone().or_else(|| old.owner_id.clone()),
            ..fresh
        };
        *self.event.lock().await = Some(merged.clone());
        Ok(merged)
    }

    // ----- questions -----------------------------------------------------------

    async fn read_questions(&self, ev: &EventMeta) -> ProviderResult<Vec<Question>> {
        let body = json(&wire::ReadQuestions {
            event_id: Some(&ev.id),
            event_slug: ev.slug.as_deref(),
        });
        let v = self
            .call_json(
                Method::POST,
                "questions/read",
                &[],
                Some(&body),
                "read questions",
            )
            .await?;
        let wires = wire::questions(&v)?;
        let now = super::now_ms();
        let mut l = self.local();
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(wires.len());
        for w in &wires {
            if seen.insert(w.id.clone()) {
                out.push(l.question(w, self.source, now));
            }
        }
        // Archived this session and no longer listed: still there, rejected.
        for (id, q) in &l.archived {
            if !seen.contains(id) {
                out.push(q.clone());
            }
        }
        l.last = out.iter().map(|q| (q.id.clone(), q.clone())).collect();
        Ok(out)
    }

    /// One question from an action's answer, when the answer is one: an id
    /// (the expected one, if given) and a text, and for votes a count. An
    /// answer that merely echoes the request is not mistaken for a question
    /// with no text and no votes.
    fn question_from(&self, v: &Value, id: Option<&str>, need_votes: bool) -> Option<Question> {
        let w = WireQuestion::from_value(v)?;
        if w.text.is_empty() || id.is_some_and(|id| w.id != id) || (need_votes && !w.votes_known) {
            return None;
        }
        let mut l = self.local();
        let q = l.question(&w, self.source, super::now_ms());
        l.last.insert(q.id.clone(), q.clone());
        Some(q)
    }

    async fn archive(&self, id: &str) -> ProviderResult<Outcome> {
        let ev = self.event().await?;
        let known = self.local().last.get(id).cloned();
        let known = match known {
            Some(q) => Some(q),
            None => self
                .read_questions(&ev)
                .await?
                .into_iter()
                .find(|q| q.id == id),
        };
        let body = json(&wire::ArchiveBody {
            event_slug: ev.key(),
            question_id: id,
        });
        let v = self
            .call_json(
                Method::POST,
                "questions/archive",
                &[],
                Some(&body),
                "reject (archive)",
            )
            .await?;
        let q = self.question_from(&v, Some(id), false).or(known);
        let Some(mut q) = q else {
            return Ok(Outcome::Done);
        };
        q.status = Status::Rejected;
        q.updated = q.updated.max(super::now_ms());
        let mut l = self.local();
        l.archived.insert(id.to_string(), q.clone());
        l.last.insert(id.to_string(), q.clone());
        Ok(Outcome::Question(q))
    }

    async fn vote(&self, id: &str, want: MyVote) -> ProviderResult<Outcome> {
        let direction = match want {
            MyVote::Up => wire::DIRECTION_UP,
            MyVote::Down => wire::DIRECTION_DOWN,
            MyVote::None => {
                return Err(ProviderError::Unsupported(
                    "taking a vote back (streams.live only votes up or down)".into(),
                ));
            }
        };
        let already = self.local().my_votes.get(id) == Some(&want);
        if !already {
            let body = json(&wire::VoteBody {
                question_id: id,
                direction,
            });
            let v = self
                .call_json(Method::POST, "questions/vote", &[], Some(&body), "vote")
                .await?;
            self.local().my_votes.insert(id.to_string(), want);
            if let Some(q) = self.question_from(&v, Some(id), true) {
                return Ok(Outcome::Voted {
                    id: id.into(),
                    my_vote: want,
                    votes: q.votes,
                });
            }
        }
        // The answer did not carry the count: read it.
        let q = self.fetch_question(id).await?;
        Ok(Outcome::Voted {
            id: id.into(),
            my_vote: want,
            votes: q.votes,
        })
    }

    async fn submit(&self, text: &str) -> ProviderResult<Outcome> {
        if text.trim().is_empty() {
            return Err(ProviderError::Invalid("a question cannot be empty".into()));
        }
        let ev = self.event().await?;
        let body = json(&wire::CreateQuestion {
            question: text,
            event_id: ev.key(),
        });
        let v = self
            .call_json(
                Method::POST,
                "questions/create",
                &[],
                Some(&body),
                "submit question",
            )
            .await?;
        if let Some(q) = self.question_from(&v, None, false) {
            return Ok(Outcome::Question(q));
        }
        let clean = sanitize(text);
        let found = self
            .read_questions(&ev)
            .await?
            .into_iter()
            .filter(|q| q.text == clean)
            .max_by_key(|q| q.created);
        Ok(found.map(Outcome::Question).unwrap_or(Outcome::Done))
    }

    async fn set_open(
        &self,
        questions: Option<bool>,
        chat: Option<bool>,
        guest: Option<bool>,
    ) -> ProviderResult<Outcome> {
        if questions.is_none() && chat.is_none() && guest.is_none() {
            return Ok(Outcome::Done);
        }
        let ev = self.event().await?;
        let body = json(&wire::UpdateEvent {
            questions_enabled_camel: questions,
            questions_enabled: questions,
            chat_enabled: chat,
            guest_chat_enabled: guest,
        });
        let v = self
            .call_json(
                Method::PUT,
                &format!("events/{}", seg(&ev.id)),
                &[],
                Some(&body),
                "open/close",
            )
            .await?;
        let answered = EventMeta::from_value(&v).filter(|e| e.id == ev.id);
        let updated = EventMeta {
            questions_enabled: questions
                .or(answered.as_ref().and_then(|a| a.questions_enabled))
                .or(ev.questions_enabled),
            chat_enabled: chat
                .or(answered.as_ref().and_then(|a| a.chat_enabled))
                .or(ev.chat_enabled),
            guest_chat_enabled: guest
                .or(answered.as_ref().and_then(|a| a.guest_chat_enabled))
                .or(ev.guest_chat_enabled),
            ..ev
        };
        *self.event.lock().await = Some(updated);
        self.local().event_dirty = true;
        Ok(Outcome::Done)
    }

    // ----- chat ----------------------------------------------------------------

    /// `threadSlug` candidates: the thread id, then the channel slug, then
    /// the channel id.
    fn thread_keys(ev: &EventMeta) -> Vec<String> {
        let mut keys: Vec<String> = ev.thread_text().into_iter().collect();
        for k in ev.slug.iter().chain(std::iter::once(&ev.id)) {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
        keys
    }

    /// Tries `f` with each key, the accepted one first; once a key worked,
    /// only that one is used.
    async fn with_keys<T, F, Fut>(
        &self,
        keys: &[String],
        pick: fn(&mut Local) -> &mut Option<usize>,
        f: F,
    ) -> ProviderResult<T>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = ProviderResult<T>>,
    {
        if keys.is_empty() {
            return Err(ProviderError::Unsupported(
                "chat: this channel has no chat thread".into(),
            ));
        }
        let chosen = *pick(&mut self.local());
        let order: Vec<usize> = match chosen {
            Some(i) if i < keys.len() => vec![i],
            _ => (0..keys.len()).collect(),
        };
        let mut first_err = None;
        for i in order {
            match f(keys[i].clone()).await {
                Ok(v) => {
                    *pick(&mut self.local()) = Some(i);
                    return Ok(v);
                }
                Err(e @ (ProviderError::NotFound(_) | ProviderError::Invalid(_)))
                    if chosen.is_none() =>
                {
                    first_err.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(first_err.unwrap_or_else(|| ProviderError::NotFound("chat thread".into())))
    }

    async fn read_thread(&self, ev: &EventMeta) -> ProviderResult<Vec<Message>> {
        let keys = Self::thread_keys(ev);
        let user = ev.owner_id.clone();
        let v = self
            .with_keys(
                &keys,
                |l| &mut l.thread_key,
                |key| {
                    let body = json(&wire::ReadThread {
                        thread_slug: &key,
                        user_id: user.as_deref(),
                    });
                    async move {
                        self.call_json(Method::POST, "thread/read", &[], Some(&body), "read chat")
                            .await
                    }
                },
            )
            .await?;
        let wires = wire::messages(&v)?;
        let now = super::now_ms();
        let mut l = self.local();
        let mut seen = HashSet::new();
        Ok(wires
            .iter()
            .filter(|w| !w.deleted && seen.insert(w.id.clone()))
            .map(|w| l.message(w, self.source, now))
            .collect())
    }

    async fn post_message(&self, text: &str, reply_to: Option<&str>) -> ProviderResult<Outcome> {
        check_message(text).map_err(ProviderError::Invalid)?;
        let ev = self.event().await?;
        let thread = ev.thread_id.clone().ok_or_else(|| {
            ProviderError::Unsupported("chat: this channel has no chat thread".into())
        })?;
        let thread = numeric(thread);
        let body = json(&wire::PostMessage {
            data: text,
            thread_id: &thread,
            reply_for: reply_to,
        });
        let v = self
            .call_json(Method::POST, "messages", &[], Some(&body), "post message")
            .await?;
        let posted = WireMessage::from_value(&v)
            .filter(|w| !w.id.is_empty())
            .map(|w| {
                let mut l = self.local();
                l.message(&w, self.source, super::now_ms())
            });
        let posted = match posted {
            Some(m) => Some(m),
            None => {
                let clean = sanitize(text);
                let known = self.local().chat_known.clone();
                self.read_thread(&ev)
                    .await?
                    .into_iter()
                    .rev()
                    .find(|m| m.text == clean && !known.contains(&m.id))
            }
        };
        match posted {
            Some(m) => {
                self.local().chat_known.insert(m.id.clone());
                Ok(Outcome::Message(m))
            }
            None => Ok(Outcome::Done),
        }
    }

    async fn delete_message(&self, id: &str) -> ProviderResult<Outcome> {
        let ev = self.event().await?;
        let mut keys: Vec<String> = ev.slug.iter().cloned().collect();
        if let Some(t) = ev.thread_text()
            && !keys.contains(&t)
        {
            keys.push(t);
        }
        self.with_keys(
            &keys,
            |l| &mut l.delete_key,
            |key| {
                let body = json(&wire::DeleteMessage {
                    thread_slug: &key,
                    message_id: id,
                });
                async move {
                    self.call(
                        Method::DELETE,
                        "messages/delete",
                        &[],
                        Some(&body),
                        "delete message",
                    )
                    .await
                }
            },
        )
        .await?;
        self.local().chat_known.remove(id);
        Ok(Outcome::MessageGone(id.to_string()))
    }

    // ----- feed ----------------------------------------------------------------

    /// One poll: channel (when due), questions, chat. `Ok(false)` when the
    /// event loop is gone.
    async fn poll_once(&self, tx: &FeedTx, st: &mut FeedState) -> ProviderResult<bool> {
        let mut ev = self.event().await?;
        let dirty = std::mem::take(&mut self.local().event_dirty);
        let due = st.event_read.is_none_or(|t| t.elapsed() >= EVENT_REFRESH);
        if due || dirty {
            match self.refresh_event(&ev).await {
                Ok(fresh) => ev = fresh,
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => tracing::warn!("streams.live: re-reading the channel failed: {e}"),
            }
            st.event_read = Some(tokio::time::Instant::now());
        }
        let open = (ev.questions_enabled, ev.chat_enabled);
        if st.open != Some(open) {
            if !tx
                .send(Feed::OpenState {
                    questions: open.0,
                    chat: open.1,
                })
                .await
            {
                return Ok(false);
            }
            st.open = Some(open);
        }

        let questions = self.read_questions(&ev).await?;
        if !tx.send(Feed::Snapshot(questions)).await {
            return Ok(false);
        }

        if st
            .chat_pause_until
            .is_some_and(|t| tokio::time::Instant::now() < t)
        {
            return Ok(true);
        }
        match self.read_thread(&ev).await {
            Ok(msgs) => {
                st.chat_pause_until = None;
                st.chat_noticed = false;
                for feed in self.chat_changes(st, msgs) {
                    if !tx.send(feed).await {
                        return Ok(false);
                    }
                }
            }
            Err(e) if e.is_transient() => return Err(e),
            Err(e) => {
                // Questions still work; retry the chat with the channel.
                st.chat_pause_until = Some(tokio::time::Instant::now() + EVENT_REFRESH);
                if !st.chat_noticed {
                    st.chat_noticed = true;
                    if !tx
                        .send(Feed::Notice(format!("streams.live chat unavailable: {e}")))
                        .await
                    {
                        return Ok(false);
                    }
                }
            }
        }
        Ok(true)
    }

    /// What changed in the chat since the last read.
    fn chat_changes(&self, st: &mut FeedState, msgs: Vec<Message>) -> Vec<Feed> {
        let mut l = self.local();
        let ids: HashSet<String> = msgs.iter().map(|m| m.id.clone()).collect();
        if !st.chat_started {
            st.chat_started = true;
            l.chat_known = ids;
            return vec![Feed::ChatSnapshot(msgs)];
        }
        let mut out = Vec::new();
        let gone: Vec<String> = l
            .chat_known
            .iter()
            .filter(|id| !ids.contains(*id))
            .cloned()
            .collect();
        let new: Vec<Message> = msgs
            .into_iter()
            .filter(|m| !l.chat_known.contains(&m.id))
            .collect();
        if !new.is_empty() {
            out.push(Feed::Messages(new));
        }
        out.extend(gone.into_iter().map(Feed::MessageGone));
        l.chat_known = ids;
        out
    }
}

/// Per-feed bookkeeping (one `run_feed` call).
#[derive(Default)]
struct FeedState {
    event_read: Option<tokio::time::Instant>,
    open: Option<(Option<bool>, Option<bool>)>,
    chat_started: bool,
    chat_noticed: bool,
    chat_pause_until: Option<tokio::time::Instant>,
}

impl Local {
    /// Builds the domain question, filling in what the platform leaves out.
    fn question(&mut self, w: &WireQuestion, source: SourceId, now: Millis) -> Question {
        let created = w
            .created
            .unwrap_or_else(|| *self.first_seen.entry(format!("q:{}", w.id)).or_insert(now));
        let status = if w.archived || self.archived.contains_key(&w.id) {
            Status::Rejected
        } else {
            Status::Pending
        };
        let my_vote = w
            .my_vote
            .or_else(|| self.my_votes.get(&w.id).copied())
            .unwrap_or(MyVote::None);
        let print = fingerprint(w, status, my_vote);
        let changed = match self.fingerprints.get(&w.id) {
            Some((old, at)) if *old == print => *at,
            Some(_) => Some(now),
            None => None,
        };
        self.fingerprints.insert(w.id.clone(), (print, changed));
        let updated = w
            .updated
            .unwrap_or(created)
            .max(changed.unwrap_or(Millis::MIN));
        let q = wire::to_question(w, source, status, my_vote, created, updated);
        if let Some(a) = self.archived.get_mut(&w.id) {
            *a = q.clone();
        }
        q
    }

    fn message(&mut self, w: &WireMessage, source: SourceId, now: Millis) -> Message {
        let created = w
            .created
            .unwrap_or_else(|| *self.first_seen.entry(format!("m:{}", w.id)).or_insert(now));
        w.to_message(source, created)
    }
}

fn fingerprint(w: &WireQuestion, status: Status, my_vote: MyVote) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (&w.text, &w.author, w.votes, status, my_vote as u8).hash(&mut h);
    h.finish()
}

/// True when a 2xx body still is `{"error": {…}}`.
fn has_error_object(bytes: &[u8]) -> bool {
    bytes.windows(7).any(|w| w == b"\"error\"")
        && serde_json::from_slice::<Value>(bytes)
            .ok()
            .is_some_and(|v| v.get("error").is_some_and(Value::is_object))
}

fn json<T: serde::Serialize>(body: &T) -> Value {
    serde_json::to_value(body).unwrap_or(Value::Null)
}

/// `thread_id` is documented as a number: digits go out as a number.
fn numeric(v: Value) -> Value {
    match &v {
        Value::String(s) => s.trim().parse::<i64>().map(Value::from).unwrap_or(v),
        _ => v,
    }
}

/// Percent-encodes one path segment.
fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn is_permanent(e: &ProviderError) -> bool {
    matches!(
        e,
        ProviderError::Auth(_)
            | ProviderError::Forbidden(_)
            | ProviderError::NotFound(_)
            | ProviderError::Invalid(_)
            | ProviderError::Unsupported(_)
    )
}

#[async_trait]
impl Provider for StreamsLive {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            questions: true,
            server_statuses: vec![Status::Pending, Status::Rejected],
            delete: false,
            vote: VoteKind::UpDown,
            submit_question: true,
            chat: true,
            participants: false,
            delivery: Delivery::Polling,
            open_close: true,
            message_limit: Some(MAX_MESSAGE_CHARS),
            ..Capabilities::none()
        }
    }

    async fn run_feed(&self, tx: FeedTx) {
        if !tx.send(Feed::Connection(Connection::Connecting)).await {
            return;
        }
        let mut backoff = Backoff::reconnect();
        let mut st = FeedState::default();
        let mut healthy = false;
        loop {
            let wait = match self.poll_once(&tx, &mut st).await {
                Ok(false) => return,
                Ok(true) => {
                    backoff.reset();
                    if !healthy {
                        healthy = true;
                        if !tx.send(Feed::Connection(Connection::Polling)).await {
                            return;
                        }
                    }
                    self.poll
                }
                Err(e) => {
                    healthy = false;
                    let reason = e.to_string();
                    tracing::warn!("streams.live: poll failed: {reason}");
                    let (state, wait) = if is_permanent(&e) {
                        (Connection::Failed { reason }, PERMANENT_WAIT)
                    } else {
                        let jitter = backoff.next_delay();
                        let floor = Duration::from_millis(e.retry_after_ms().unwrap_or(0))
                            .max(Duration::from_millis(200));
                        let wait = jitter.max(floor);
                        (
                            Connection::Retrying {
                                in_ms: wait.as_millis() as u64,
                                reason,
                            },
                            wait,
                        )
                    };
                    if !tx.send(Feed::Connection(state)).await {
                        return;
                    }
                    wait
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    async fn list_events(&self) -> ProviderResult<Vec<EventInfo>> {
        self.list_events_with(Some(EventStatus::Active)).await
    }

    async fn perform(&self, op: &Op) -> ProviderResult<Outcome> {
        match op {
            Op::SetStatus { id, status } => match status {
                Status::Rejected => self.archive(id).await,
                Status::Pending => {
                    if self.local().archived.contains_key(id) {
                        return Err(ProviderError::Unsupported(
                            "un-archiving a question (streams.live cannot bring it back)".into(),
                        ));
                    }
                    let q = self.fetch_question(id).await?;
                    if q.status == Status::Rejected {
                        return Err(ProviderError::Unsupported(
                            "un-archiving a question (streams.live cannot bring it back)".into(),
                        ));
                    }
                    Ok(Outcome::Question(q))
                }
                Status::Selected | Status::Answered => Err(ProviderError::Unsupported(format!(
                    "streams.live stores no '{}' state (qadeck keeps it locally)",
                    status.as_str()
                ))),
            },
            Op::Vote { id, want } => self.vote(id, *want).await,
            Op::SubmitQuestion { text } => self.submit(text).await,
            Op::SetOpen {
                questions,
                chat,
                guest_chat,
            } => self.set_open(*questions, *chat, *guest_chat).await,
            Op::PostMessage { text, reply_to } => {
                self.post_message(text, reply_to.as_deref()).await
            }
            Op::DeleteMessage { id } => self.delete_message(id).await,
            Op::Delete { .. } => Err(ProviderError::Unsupported(
                "deleting questions on streams.live (reject archives the question)".into(),
            )),
            other => Err(ProviderError::Unsupported(other.label())),
        }
    }

    async fn fetch_question(&self, id: &str) -> ProviderResult<Question> {
        let ev = self.event().await?;
        let found = self
            .read_questions(&ev)
            .await?
            .into_iter()
            .find(|q| q.id == id);
        found.ok_or_else(|| ProviderError::NotFound(format!("question {}", sanitize(id))))
    }

    async fn read_chat(&self) -> ProviderResult<Vec<Message>> {
        let ev = self.event().await?;
        self.read_thread(&ev).await
    }

    async fn download_report(&self, kind: ReportKind) -> ProviderResult<Vec<u8>> {
        let ev = self.event().await?;
        let path = match kind {
            ReportKind::Questions => "stats/parse/download/questions",
            ReportKind::Chat => "stats/parse/download/chat",
        };
        let body = json(&wire::ReportBody { event_id: &ev.id });
        self.call(Method::POST, path, &[], Some(&body), "download report")
            .await
    }

    async fn shutdown(&self) {
        self.auth.logout().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_limit_counts_scalar_values() {
        assert!(check_message(&"é".repeat(300)).is_ok());
        assert!(check_message(&"x".repeat(301)).is_err());
        assert!(check_message("  ").is_err());
        // A family emoji is 7 scalar values.
        assert!(check_message(&"👨‍👩‍👧‍👦".repeat(43)).is_err());
    }

    #[test]
    fn base_urls() {
        assert_eq!(
            api_base("http://127.0.0.1:9").unwrap(),
            "http://127.0.0.1:9/api/v1/"
        );
        assert_eq!(
            api_base("https://x.test/api/v1/").unwrap(),
            "https://x.test/api/v1/"
        );
        assert!(api_base("ftp://x").is_err());
        assert_eq!(api_base(DEFAULT_BASE_URL).unwrap(), DEFAULT_BASE_URL);
    }

    #[test]
    fn settings_reject_unknown_keys_and_mixed_credentials() {
        let r: Result<Settings, _> = toml::from_str("name = \"s\"\nevnt = \"x\"\n");
        assert!(r.is_err());
        let s: Settings =
            toml::from_str("email = \"a@b.c\"\npassword = \"pw-1234\"\ntoken = \"t-1234\"\n")
                .unwrap();
        assert!(s.credentials().is_err());
        let s: Settings = toml::from_str("email = \"a@b.c\"\n").unwrap();
        assert!(s.credentials().unwrap_err().contains("password"));
        let s: Settings = toml::from_str("token_env = \"QADECK_TEST_UNSET_SL_TOKEN\"\n").unwrap();
        assert!(
            s.credentials()
                .unwrap_err()
                .contains("QADECK_TEST_UNSET_SL_TOKEN")
        );
        assert!(!s.has_literal_secret());
    }
}
