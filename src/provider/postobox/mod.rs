//! PostoBox (`https://api.postobox.app/v1`): events, questions with a
//! moderation status, a vote toggle, an SSE stream of selected questions
//! (Enterprise plan only) and organization usage. The contract is
//! `postobox-api.txt`; this module follows it to the letter and records here
//! what it chose where the document is silent.
//!
//! # Feed
//! 1. Open the stream (unless the plan is known to lack it), *then* list every
//!    question of the event in every state (all pages, `limit=100`, oldest
//!    first) and `GET` the event (its `active` flag). Opening the stream
//!    before listing closes the gap between the two: what changes meanwhile
//!    waits in the stream. The listing is a [`Feed::Snapshot`].
//! 2. With the stream: each `data:` array of selected questions is merged by
//!    id and `updatedAt` over the last known copy (items may be partial) and
//!    only what changed goes out as [`Feed::Upsert`]. A question that was in
//!    the previous array and is missing from the new one changed status: it is
//!    fetched (`GET` question; a 404 means deleted → [`Feed::QuestionGone`]),
//!    or, with more than five missing, the event is listed again. Should a
//!    fetched one still be SELECTED, the server sends partial arrays, and from
//!    then on absence is not taken as a change.
//! 3. Polls, with or without the stream: every poll lists every question in
//!    every state (all pages, `limit=100`, oldest first) at a pace within the
//!    rate-limit budget ([`pacing`]; the cost of a poll is its pages plus the
//!    requests the last one spent confirming), so any change by another
//!    moderator (a new question, answered ↔ rejected, a vote on an answered
//!    one, a deletion in any state) shows within one poll; the stream only
//!    brings selected questions sooner. What changed goes out as
//!    [`Feed::Upsert`]. A known question the listing lacks is fetched by id
//!    before anything is said (it may have changed status while the pages
//!    were read, or a deletion shifted the pages under the listing): only a
//!    404 sends [`Feed::QuestionGone`]; with more than five missing, a second
//!    listing decides. The event is read again every five minutes (open or
//!    closed).
//! 4. Without the stream (any status with code `PLAN_UPGRADE_REQUIRED`, a
//!    403 naming no scope whose message speaks of the plan or Enterprise, or a
//!    404 on the stream route of an event that exists) polls alone keep the
//!    view; one [`Feed::Notice`] says so, once,
//!    and [`Capabilities::delivery`] turns to `Polling`. The plan is not probed
//!    again during the session.
//! 5. Liveness: any event or comment (`:heartbeat N`) proves the stream alive;
//!    45 s of neither is a dead stream. An event still incomplete when the
//!    stream breaks is dropped (never half-applied). Reconnects wait with
//!    exponential backoff and full jitter, 1 s to 30 s (a server `retry:` is a
//!    floor), the backoff resets after a minute of health, and every reconnect
//!    resyncs with a full snapshot.
//! 6. 401/403/404 (and 400) on the feed are `Connection::Failed` (the
//!    moderator must fix the key, scope or event) but are retried every 30 s
//!    anyway, so a fixed key or a restored event recovers.
//!
//! # Choices where the document is silent
//! - `X-RateLimit-Reset` is read as Unix seconds; values below 1e9 are taken
//!   as seconds from now and values above 1e12 as Unix milliseconds.
//! - A stream item without `updatedAt` falls back to `createdAt`, never below
//!   the known copy's time (so a real change is not taken for a stale one); an
//!   explicit `updatedAt` older than the known copy loses.
//! - A listing whose `pagination.total` changes while paging, or whose ids do
//!   not add up to it, is used as an upsert only: a question is never declared
//!   deleted from an inconsistent listing (the snapshot listing is retried
//!   up to 3 times first; the second listing of a poll that missed more than
//!   five leaves deletions to the next poll). A poll's own listing only
//!   nominates questions to fetch by id, consistent or not.
//! - While streaming, polls list every state at once rather than `DEFAULT`,
//!   `ANSWERED` and `REJECTED` apart: one request instead of three for an
//!   event under a hundred questions, at most the selected questions' pages
//!   more in any case, and, sorted by `createdAt` ascending, pages that only
//!   shift on a deletion (a status change moves a question between filtered
//!   lists, shifting their pages, and can hide it from all three).
//! - PostoBox does not say whether the moderator voted in question listings:
//!   the provider remembers the `voted` answers of its own vote calls.
//! - `Vote { want: Down }` is unsupported (the toggle only adds an up vote).
//!   A vote answer without `voted` is a protocol error rather than a guess, so
//!   the outbox does not retry (and flip) it blindly.
//! - A 2xx answer that is not JSON at all (cut short or garbled on the way)
//!   is a transient error: reads are repeated, and writes converge when
//!   repeated (a status PATCH is idempotent, a retried vote checks `voted`).
//!   A submitted question is done once the POST succeeded, whatever its
//!   answer held (a retry would submit it twice).
//! - A listing answer without a list (`data` array or bare array) is a
//!   protocol error, never "no questions": that would delete them all.
//! - `DELETE` answering 404 counts as done: the question is gone either way
//!   (a retried delete must not fail).
//! - `SetOpen` with `chat`/`guest_chat` is unsupported; `questions` maps to
//!   `PATCH /events/{id} {"active": …}`.
//! - `base_url` must be https, except for loopback hosts (tests, local fakes):
//!   the API key is never sent in clear over a network.
//! - Server ids that hold control characters or exceed 256 bytes are skipped.
//! - Error messages from the server are sanitized, cut to 200 characters and
//!   run through [`crate::secret::redact`].

pub mod pacing;
pub mod wire;

mod errors;

pub use errors::PLAN_UPGRADE_REQUIRED;
pub use pacing::{BudgetView, PollPolicy, poll_interval};

use self::errors::{Ctx, Failure};
use self::wire::WireQuestion;
use super::sse::{SseItem, SseParser};
use super::{BuildCtx, FeedTx, Provider, SourceSpec, http};
use crate::domain::{
    Capabilities, Connection, Delivery, EventInfo, Feed, MyVote, Op, Outcome, ProviderError,
    ProviderResult, Question, RateBudget, SourceId, Status, VoteKind,
};
use crate::secret::{Secret, SecretSource};
use async_trait::async_trait;
use futures::StreamExt;
use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, HeaderMap};
use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// The documented base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.postobox.app/v1";
/// Items per page (the documented maximum).
const PAGE_LIMIT: u64 = 100;
/// A broken server cannot keep a listing going forever.
const MAX_PAGES: u64 = 1000;
/// More vanished questions than this: list again instead of fetching each.
const MAX_FETCH_MISSING: usize = 5;
/// Tries for a consistent listing before a snapshot.
const LISTING_TRIES: usize = 3;
/// How often a pending wait re-reads the pace (activity, budget).
const RECHECK: Duration = Duration::from_millis(500);

/// Whether stream data is whole: one or more complete JSON values.
fn complete_json(data: &str) -> bool {
    let mut values = serde_json::Deserializer::from_str(data).into_iter::<serde::de::IgnoredAny>();
    let mut any = false;
    for v in values.by_ref() {
        if v.is_err() {
            return false;
        }
        any = true;
    }
    any
}

/// `[[source]] provider = "postobox"` settings.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub name: String,
    /// Event id; without it the TUI offers a picker (`list_events`).
    pub event: Option<String>,
    /// The API key written in the config (prefer the two below).
    pub api_key: Option<String>,
    /// Environment variable holding the key.
    pub api_key_env: Option<String>,
    /// Command printing the key (e.g. `pass show postobox`).
    pub api_key_cmd: Option<String>,
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Voter/submitter identifier (default: `[moderator] identifier`).
    pub identifier: Option<String>,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.into()
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("name", &self.name)
            .field("event", &self.event)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("api_key_env", &self.api_key_env)
            .field("api_key_cmd", &self.api_key_cmd)
            .field("base_url", &self.base_url)
            .field("identifier", &self.identifier)
            .finish()
    }
}

impl Settings {
    /// Settings for `name` with a key source to fill in.
    pub fn new(name: impl Into<String>) -> Settings {
        Settings {
            name: name.into(),
            event: None,
            api_key: None,
            api_key_env: None,
            api_key_cmd: None,
            base_url: default_base_url(),
            identifier: None,
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
        self.api_key.is_some()
    }
    fn build(&self, ctx: &BuildCtx) -> Result<Arc<dyn Provider>, String> {
        Ok(Arc::new(Postobox::new(self, ctx)?))
    }
}

/// Feed timing. The defaults are the brief's; tests shorten them.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// No event and no comment for this long: the stream is dead.
    pub liveness: Duration,
    pub reconnect_base: Duration,
    pub reconnect_cap: Duration,
    /// Connected this long: the backoff starts over.
    pub healthy_after: Duration,
    /// Retry interval while `Failed` (bad key, missing event).
    pub failed_retry: Duration,
    /// A `perform` within this window makes the moderator "active".
    pub active_window: Duration,
    /// How often the event itself is read again (its open/closed flag).
    /// Questions need no such sweep: every poll lists all of them.
    pub full_resync: Duration,
    pub poll: PollPolicy,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            liveness: Duration::from_secs(45),
            reconnect_base: Duration::from_secs(1),
            reconnect_cap: Duration::from_secs(30),
            healthy_after: Duration::from_secs(60),
            failed_retry: Duration::from_secs(30),
            active_window: Duration::from_secs(60),
            full_resync: Duration::from_secs(300),
            poll: PollPolicy::default(),
        }
    }
}

/// The last rate-limit headers seen.
#[derive(Debug, Clone, Copy)]
struct RateSeen {
    budget: RateBudget,
    reset_at: Option<Instant>,
}

#[derive(Default)]
struct State {
    /// Last known copy of every question (merge base for partial items).
    known: HashMap<String, Question>,
    /// When `perform` last changed a question (guards diffs of listings that
    /// started before).
    touched: HashMap<String, Instant>,
    /// The `voted` answers of our own vote calls.
    my_votes: HashMap<String, MyVote>,
    last_perform: Option<Instant>,
    rate: Option<RateSeen>,
    rate_gen: u64,
}

/// The PostoBox provider for one source.
pub struct Postobox {
    source: SourceId,
    base: Url,
    key: Secret,
    event: Option<String>,
    identifier: String,
    timing: Timing,
    client: reqwest::Client,
    stream_client: reqwest::Client,
    /// The plan has no stream (learnt from `PLAN_UPGRADE_REQUIRED`).
    no_stream: AtomicBool,
    state: Mutex<State>,
}

impl std::fmt::Debug for Postobox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postobox")
            .field("source", &self.source)
            .field("event", &self.event)
            .field("no_stream", &self.no_stream.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Seconds of `X-RateLimit-Reset` in any reasonable reading, as time from now.
pub(crate) fn reset_in_ms(headers: &HeaderMap) -> Option<u64> {
    let raw = headers
        .get("x-ratelimit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)?;
    let now_ms = super::now_ms() as f64;
    let at_ms = if raw > 1e12 {
        raw
    } else if raw > 1e9 {
        raw * 1000.0
    } else {
        now_ms + raw * 1000.0
    };
    Some((at_ms - now_ms).clamp(0.0, 3_600_000.0) as u64)
}

fn check_base_url(raw: &str) -> Result<Url, String> {
    let mut url =
        Url::parse(raw.trim()).map_err(|e| format!("base_url `{raw}` is not a URL: {e}"))?;
    let loopback = url.host_str().is_some_and(|h| {
        let h = h.trim_start_matches('[').trim_end_matches(']');
        h.eq_ignore_ascii_case("localhost")
            || h.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(format!(
                "base_url `{raw}` must use https (the API key would travel in clear)"
            ));
        }
        other => return Err(format!("base_url `{raw}`: unsupported scheme `{other}`")),
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(format!("base_url `{raw}` has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("base_url must not hold credentials; use api_key_env or api_key_cmd".into());
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

impl Postobox {
    /// Builds the provider: resolves the key, checks the base URL.
    pub fn new(settings: &Settings, ctx: &BuildCtx) -> Result<Postobox, String> {
        let name = &settings.name;
        let source = SecretSource::pick(
            "api_key",
            settings.api_key.clone(),
            settings.api_key_env.clone(),
            settings.api_key_cmd.clone(),
        )
        .map_err(|e| format!("source `{name}`: {e}"))?
        .ok_or_else(|| format!("source `{name}`: set `api_key_env`, `api_key_cmd` or `api_key`"))?;
        let key = source
            .resolve()
            .map_err(|e| format!("source `{name}`: {e}"))?;
        let base =
            check_base_url(&settings.base_url).map_err(|e| format!("source `{name}`: {e}"))?;
        let identifier = settings
            .identifier
            .clone()
            .unwrap_or_else(|| ctx.moderator.identifier.clone());
        if identifier.trim().is_empty() {
            return Err(format!("source `{name}`: identifier must not be empty"));
        }
        let event = ctx
            .event
            .clone()
            .or_else(|| settings.event.clone())
            .filter(|e| !e.trim().is_empty());
        Ok(Postobox {
            source: ctx.source,
            base,
            key,
            event,
            identifier,
            timing: Timing::default(),
            client: http::client(),
            stream_client: http::stream_client(),
            no_stream: AtomicBool::new(false),
            state: Mutex::new(State::default()),
        })
    }

    /// Replaces the feed timing (tests and tuning).
    pub fn with_timing(mut self, timing: Timing) -> Postobox {
        self.timing = timing;
        self
    }

    /// The event this provider is bound to.
    pub fn event(&self) -> Option<&str> {
        self.event.as_deref()
    }

    /// The last rate-limit budget the headers reported.
    pub fn budget(&self) -> Option<RateBudget> {
        self.state().rate.map(|r| r.budget)
    }

    /// Whether the plan turned out to have no stream.
    pub fn polling_only(&self) -> bool {
        self.no_stream.load(Ordering::Relaxed)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn event_id(&self) -> ProviderResult<&str> {
        self.event
            .as_deref()
            .ok_or_else(|| ProviderError::Invalid("no PostoBox event chosen".into()))
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn mark_active(&self) {
        self.state().last_perform = Some(Instant::now());
    }

    fn is_active(&self) -> bool {
        self.state()
            .last_perform
            .is_some_and(|t| t.elapsed() < self.timing.active_window)
    }

    fn note_headers(&self, headers: &HeaderMap) {
        let Some(mut budget) = http::rate_budget(headers) else {
            return;
        };
        let reset_in = reset_in_ms(headers);
        budget.reset = reset_in.map(|ms| (super::now_ms() + ms as i64 + 999) / 1000);
        let mut st = self.state();
        st.rate = Some(RateSeen {
            budget,
            reset_at: reset_in.map(|ms| Instant::now() + Duration::from_millis(ms)),
        });
        st.rate_gen += 1;
    }

    fn budget_view(&self) -> Option<BudgetView> {
        let seen = self.state().rate?;
        let now = Instant::now();
        let reset_in = seen.reset_at.filter(|&at| at > now).map(|at| at - now);
        Some(BudgetView {
            limit: seen.budget.limit,
            remaining: if reset_in.is_some() {
                seen.budget.remaining
            } else {
                seen.budget.limit
            },
            reset_in,
        })
    }

    /// The pause before the next poll costing `cost` requests.
    fn poll_wait(&self, cost: u64) -> Duration {
        let cost = u32::try_from(cost).unwrap_or(u32::MAX);
        poll_interval(
            &self.timing.poll,
            self.budget_view(),
            cost,
            self.is_active(),
        )
    }

    /// Sends one request; 2xx gives the body, anything else a mapped failure.
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<Value>,
        ctx: &Ctx<'_>,
    ) -> Result<Vec<u8>, Failure> {
        let mut req = self
            .client
            .request(method, url)
            .bearer_auth(self.key.expose())
            .header(ACCEPT, "application/json");
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.map_err(errors::network)?;
        self.note_headers(resp.headers());
        let status = resp.status();
        if status.is_success() {
            return Ok(http::read_body(resp).await?);
        }
        let headers = resp.headers().clone();
        let body = http::read_body(resp).await.unwrap_or_default();
        Err(errors::from_status(status.as_u16(), &headers, &body, ctx))
    }

    async fn get_json(&self, url: Url, ctx: &Ctx<'_>) -> Result<Value, Failure> {
        let body = self.send(Method::GET, url, None, ctx).await?;
        wire::json(&body).ok_or_else(|| garbled().into())
    }

    /// Every page of a listing. `consistent` is false when the total moved
    /// while paging or the ids do not add up to it.
    async fn list_all(
        &self,
        segments: &[&str],
        status: Option<&str>,
        ctx: &Ctx<'_>,
    ) -> Result<Listing, Failure> {
        let mut items = Vec::new();
        let mut totals = Vec::new();
        let mut page = 1u64;
        loop {
            let mut url = self.url(segments);
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("page", &page.to_string())
                    .append_pair("limit", &PAGE_LIMIT.to_string());
                if let Some(status) = status {
                    q.append_pair("status", status);
                }
                if segments.last() == Some(&"questions") {
                    q.append_pair("sortBy", "createdAt")
                        .append_pair("sortOrder", "asc");
                }
            }
            let v = self.get_json(url, ctx).await?;
            if !wire::data(&v).is_array() {
                // Read as "no items", this would declare every question
                // deleted (a snapshot of nothing).
                return Err(
                    ProviderError::Protocol("a listing answer holds no list".into()).into(),
                );
            }
            let p = wire::page(&v);
            let got = p.items.len() as u64;
            totals.push(p.total);
            items.extend(p.items);
            let done = match p.total_pages {
                Some(tp) => page >= tp,
                None => got == 0 || got < p.limit.unwrap_or(PAGE_LIMIT).max(1),
            };
            if done || page >= MAX_PAGES {
                break;
            }
            page += 1;
        }
        let ids: HashSet<String> = items.iter().filter_map(wire::id_of).collect();
        let consistent = match totals.first().copied().flatten() {
            Some(total) => totals.iter().all(|t| *t == Some(total)) && ids.len() as u64 == total,
            None => true,
        };
        Ok(Listing {
            items,
            consistent,
            pages: page,
        })
    }

    /// A question listing, tried up to `tries` times until consistent (see
    /// `list_all`).
    async fn list_questions(
        &self,
        event: &str,
        status: Option<Status>,
        tries: usize,
    ) -> Result<(Vec<WireQuestion>, bool, u64), Failure> {
        let ctx = Ctx::Event {
            id: event,
            scope: "questions:read",
        };
        let status = status.map(wire::status_to_wire);
        let mut tried = 0;
        loop {
            tried += 1;
            let listing = self
                .list_all(&["events", event, "questions"], status, &ctx)
                .await?;
            if listing.consistent || tried >= tries {
                let mut seen = HashSet::new();
                let qs = listing
                    .items
                    .iter()
                    .filter_map(WireQuestion::from_value)
                    .filter(|w| seen.insert(w.id.clone()))
                    .collect();
                return Ok((qs, listing.consistent, listing.pages));
            }
        }
    }

    /// Merges a wire copy over the known one and records the result unless
    /// it is stale. Returns the question and whether it changed.
    fn absorb(&self, w: &WireQuestion, default_status: Status) -> Option<(Question, bool)> {
        let mut st = self.state();
        let prev = st.known.get(&w.id);
        if let Some(p) = prev
            && w.is_stale(p)
        {
            return Some((p.clone(), false));
        }
        let mut q = w.merge(self.source, prev, default_status)?;
        if let Some(v) = st.my_votes.get(&q.id) {
            q.my_vote = *v;
        }
        let changed = prev != Some(&q);
        st.known.insert(q.id.clone(), q.clone());
        Some((q, changed))
    }

    fn remember(&self, q: &Question) {
        let mut st = self.state();
        st.known.insert(q.id.clone(), q.clone());
        st.touched.insert(q.id.clone(), Instant::now());
    }

    fn forget(&self, id: &str) {
        let mut st = self.state();
        st.known.remove(id);
        st.touched.insert(id.to_string(), Instant::now());
    }

    /// `GET` one question; `Ok(None)` when it is gone (404).
    async fn get_question(&self, event: &str, id: &str) -> Result<Option<Question>, Failure> {
        let ctx = Ctx::Question {
            event,
            id,
            scope: "questions:read",
        };
        match self
            .get_json(self.url(&["events", event, "questions", id]), &ctx)
            .await
        {
            Ok(v) => {
                let w = WireQuestion::from_value(wire::data(&v))
                    .filter(|w| w.id == id)
                    .ok_or_else(|| {
                        Failure::from(ProviderError::Protocol(format!(
                            "no question {id} in the answer"
                        )))
                    })?;
                let (q, _) = self.absorb(&w, Status::Pending).ok_or_else(|| {
                    Failure::from(ProviderError::Protocol(format!(
                        "question {id} has no text"
                    )))
                })?;
                Ok(Some(q))
            }
            Err(f)
                if f.is_not_found()
                    && !matches!(f.err, ProviderError::NotFound(ref m) if m.starts_with("event ")) =>
            {
                self.forget(id);
                Ok(None)
            }
            Err(f) => Err(f),
        }
    }

    /// A full question from a write answer, or a fetch when it lacks one.
    async fn question_from_answer(
        &self,
        event: &str,
        id: &str,
        body: &[u8],
    ) -> ProviderResult<Question> {
        if let Some(v) = wire::json(body)
            && let Some(w) = WireQuestion::from_value(wire::data(&v)).filter(|w| w.id == id)
            && w.text.is_some()
            && w.status.is_some()
        {
            let prev = self.state().known.get(id).cloned();
            if let Some(mut q) = w.merge(self.source, prev.as_ref(), Status::Pending) {
                if let Some(v) = self.state().my_votes.get(id) {
                    q.my_vote = *v;
                }
                self.remember(&q);
                return Ok(q);
            }
        }
        match self.get_question(event, id).await.map_err(|f| f.err)? {
            Some(q) => {
                self.remember(&q);
                Ok(q)
            }
            None => Err(ProviderError::NotFound(format!(
                "question {id} not found in event {event}"
            ))),
        }
    }

    async fn toggle_vote(&self, event: &str, id: &str) -> ProviderResult<wire::VoteAnswer> {
        let ctx = Ctx::Question {
            event,
            id,
            scope: "questions:write",
        };
        let body = self
            .send(
                Method::POST,
                self.url(&["events", event, "questions", id, "vote"]),
                Some(json!({ "identifier": self.identifier })),
                &ctx,
            )
            .await
            .map_err(|f| f.err)?;
        // An answer that is not JSON at all was cut or garbled on the way:
        // retry (the op converges: the retry checks `voted` and toggles
        // back if needed). Valid JSON without `voted` stays a protocol error.
        let v = wire::json(&body).ok_or_else(garbled)?;
        Ok(wire::vote_answer(&v))
    }

    async fn vote(&self, event: &str, id: &str, want: MyVote) -> ProviderResult<Outcome> {
        let want_voted = match want {
            MyVote::Up => true,
            MyVote::None => false,
            MyVote::Down => {
                return Err(ProviderError::Unsupported(
                    "down votes (PostoBox votes are an up-vote toggle)".into(),
                ));
            }
        };
        let mut answer = self.toggle_vote(event, id).await?;
        if answer.voted == Some(!want_voted) {
            // The toggle went the other way (a retry of a vote that had
            // landed, or someone voted with our identifier): once more.
            answer = self.toggle_vote(event, id).await?;
        }
        let Some(voted) = answer.voted else {
            return Err(ProviderError::Protocol(
                "the vote answer does not say whether the vote is set".into(),
            ));
        };
        let my_vote = if voted { MyVote::Up } else { MyVote::None };
        let mut st = self.state();
        st.my_votes.insert(id.to_string(), my_vote);
        let known = st.known.get_mut(id);
        let votes = answer
            .vote_count
            .or(known.as_ref().map(|q| q.votes))
            .unwrap_or(0);
        if let Some(q) = known {
            q.my_vote = my_vote;
            q.votes = votes;
        }
        st.touched.insert(id.to_string(), Instant::now());
        Ok(Outcome::Voted {
            id: id.to_string(),
            my_vote,
            votes,
        })
    }
}

/// A 2xx answer whose body is not JSON: cut short or garbled on the way
/// (a proxy, a broken connection). Transient: a read is simply repeated, and
/// every write qadeck sends converges when repeated.
fn garbled() -> ProviderError {
    ProviderError::Server("the answer was not JSON (cut short or garbled)".into())
}

/// Pages of a listing.
struct Listing {
    items: Vec<Value>,
    consistent: bool,
    pages: u64,
}

#[async_trait]
impl Provider for Postobox {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            questions: true,
            server_statuses: Status::ALL.to_vec(),
            delete: true,
            vote: VoteKind::Toggle,
            submit_question: true,
            delivery: if self.polling_only() {
                Delivery::Polling
            } else {
                Delivery::Stream
            },
            open_close: true,
            ..Capabilities::none()
        }
    }

    async fn run_feed(&self, tx: FeedTx) {
        let Some(event) = self.event.clone() else {
            tx.send(Feed::Connection(Connection::Failed {
                reason: "no PostoBox event chosen".into(),
            }))
            .await;
            return;
        };
        FeedLoop::new(self, tx, event).run().await;
    }

    async fn list_events(&self) -> ProviderResult<Vec<EventInfo>> {
        let listing = self
            .list_all(&["events"], None, &Ctx::ListEvents)
            .await
            .map_err(|f| f.err)?;
        let mut seen = HashSet::new();
        Ok(listing
            .items
            .iter()
            .filter_map(wire::event_info)
            .filter(|e| seen.insert(e.id.clone()))
            .collect())
    }

    async fn perform(&self, op: &Op) -> ProviderResult<Outcome> {
        self.mark_active();
        let event = self.event_id()?;
        match op {
            Op::SetStatus { id, status } => {
                let ctx = Ctx::Question {
                    event,
                    id,
                    scope: "questions:moderate",
                };
                let body = self
                    .send(
                        Method::PATCH,
                        self.url(&["events", event, "questions", id]),
                        Some(json!({ "status": wire::status_to_wire(*status) })),
                        &ctx,
                    )
                    .await
                    .map_err(|f| f.err)?;
                self.question_from_answer(event, id, &body)
                    .await
                    .map(Outcome::Question)
            }
            Op::Delete { id } => {
                let ctx = Ctx::Question {
                    event,
                    id,
                    scope: "questions:moderate",
                };
                match self
                    .send(
                        Method::DELETE,
                        self.url(&["events", event, "questions", id]),
                        None,
                        &ctx,
                    )
                    .await
                {
                    Ok(_) => {}
                    Err(f)
                        if f.is_not_found()
                            && !matches!(&f.err, ProviderError::NotFound(m) if m.starts_with("event ")) =>
                        {}
                    Err(f) => return Err(f.err),
                }
                self.forget(id);
                Ok(Outcome::QuestionGone(id.clone()))
            }
            Op::Vote { id, want } => self.vote(event, id, *want).await,
            Op::SubmitQuestion { text } => {
                let ctx = Ctx::Event {
                    id: event,
                    scope: "questions:write",
                };
                let body = self
                    .send(
                        Method::POST,
                        self.url(&["events", event, "questions"]),
                        Some(json!({ "text": text, "identifier": self.identifier })),
                        &ctx,
                    )
                    .await
                    .map_err(|f| f.err)?;
                // The question exists now: however the follow-up read goes,
                // the op is done (a retry would submit it twice); the feed
                // brings the question.
                let id = wire::json(&body).and_then(|v| wire::id_of(wire::data(&v)));
                match id {
                    Some(id) => Ok(self
                        .question_from_answer(event, &id, &body)
                        .await
                        .map_or(Outcome::Done, Outcome::Question)),
                    None => Ok(Outcome::Done),
                }
            }
            Op::SetOpen {
                questions,
                chat,
                guest_chat,
            } => {
                if chat.is_some() || guest_chat.is_some() {
                    return Err(ProviderError::Unsupported("opening or closing chat".into()));
                }
                let Some(open) = questions else {
                    return Err(ProviderError::Unsupported(
                        "open/close without a questions flag".into(),
                    ));
                };
                let ctx = Ctx::EventWrite { id: event };
                self.send(
                    Method::PATCH,
                    self.url(&["events", event]),
                    Some(json!({ "active": open })),
                    &ctx,
                )
                .await
                .map_err(|f| f.err)?;
                Ok(Outcome::Done)
            }
            other => Err(ProviderError::Unsupported(other.label())),
        }
    }

    async fn fetch_question(&self, id: &str) -> ProviderResult<Question> {
        let event = self.event_id()?;
        match self.get_question(event, id).await.map_err(|f| f.err)? {
            Some(q) => Ok(q),
            None => Err(ProviderError::NotFound(format!(
                "question {id} not found in event {event}"
            ))),
        }
    }

    async fn account_info(&self) -> ProviderResult<Vec<(String, String)>> {
        let v = self
            .get_json(self.url(&["organization"]), &Ctx::Organization)
            .await
            .map_err(|f| f.err)?;
        let mut rows = wire::organization_rows(&v);
        if let Some(b) = self.budget() {
            rows.push((
                "Rate limit".into(),
                format!("{} requests/min, {} left", b.limit, b.remaining),
            ));
        }
        let stream = if self.polling_only() {
            "not on this plan (polling)"
        } else {
            "available (Enterprise)"
        };
        rows.push(("Live stream".into(), stream.into()));
        Ok(rows)
    }
}

/// Why a connection attempt ended.
enum Stop {
    /// The event loop is gone.
    Closed,
    Broke(Failure),
}

impl From<Failure> for Stop {
    fn from(f: Failure) -> Stop {
        Stop::Broke(f)
    }
}

fn broke(err: ProviderError) -> Stop {
    Stop::Broke(err.into())
}

/// Needs the moderator (key, scope, event): `Failed`, retried slowly.
fn needs_moderator(err: &ProviderError) -> bool {
    matches!(
        err,
        ProviderError::Auth(_)
            | ProviderError::Forbidden(_)
            | ProviderError::NotFound(_)
            | ProviderError::Invalid(_)
    )
}

/// One source's feed: connection state machine, stream and polls.
struct FeedLoop<'a> {
    p: &'a Postobox,
    tx: FeedTx,
    event: String,
    backoff: http::Backoff,
    last_conn: Option<Connection>,
    /// Since when the connection is healthy (Live/Polling).
    healthy_since: Option<Instant>,
    budget_sent: u64,
    /// Server `retry:` hint in ms.
    retry_hint: Option<u64>,
    last_open: Option<bool>,
    /// Ids in the last stream array.
    selected: HashSet<String>,
    /// The stream sends partial arrays: absence means nothing.
    arrays_are_deltas: bool,
    /// Pages of the last listing of every state.
    pages_all: u64,
    /// Requests the last poll spent beyond its listing (confirming missing
    /// questions); the next wait pays for them.
    poll_extra: u64,
}

impl<'a> FeedLoop<'a> {
    fn new(p: &'a Postobox, tx: FeedTx, event: String) -> FeedLoop<'a> {
        FeedLoop {
            backoff: http::Backoff::new(p.timing.reconnect_base, p.timing.reconnect_cap),
            p,
            tx,
            event,
            last_conn: None,
            healthy_since: None,
            budget_sent: 0,
            retry_hint: None,
            last_open: None,
            selected: HashSet::new(),
            arrays_are_deltas: false,
            pages_all: 1,
            poll_extra: 0,
        }
    }

    async fn emit(&mut self, feed: Feed) -> Result<(), Stop> {
        if self.tx.send(feed).await {
            Ok(())
        } else {
            Err(Stop::Closed)
        }
    }

    async fn set_conn(&mut self, c: Connection) -> Result<(), Stop> {
        if self.last_conn.as_ref() == Some(&c) {
            return Ok(());
        }
        if matches!(c, Connection::Live | Connection::Polling) {
            self.healthy_since.get_or_insert_with(Instant::now);
        } else {
            self.healthy_since = None;
        }
        self.last_conn = Some(c.clone());
        self.emit(Feed::Connection(c)).await
    }

    /// Sends the budget when new headers reported one.
    async fn flush_budget(&mut self) -> Result<(), Stop> {
        let (gen_now, budget) = {
            let st = self.p.state();
            (st.rate_gen, st.rate.map(|r| r.budget))
        };
        if gen_now != self.budget_sent
            && let Some(b) = budget
        {
            self.budget_sent = gen_now;
            self.emit(Feed::Budget(b)).await?;
        }
        Ok(())
    }

    async fn notice_no_stream(&mut self) -> Result<(), Stop> {
        if !self.p.no_stream.swap(true, Ordering::Relaxed) {
            self.emit(Feed::Notice(
                "PostoBox: no live stream on this plan (Enterprise only); polling instead".into(),
            ))
            .await?;
        }
        Ok(())
    }

    async fn run(mut self) {
        if self.set_conn(Connection::Connecting).await.is_err() {
            return;
        }
        loop {
            let f = match self.attempt().await {
                Err(Stop::Closed) => return,
                Ok(()) => continue,
                Err(Stop::Broke(f)) => f,
            };
            if self.flush_budget().await.is_err() {
                return;
            }
            let reason = f.err.to_string();
            if self
                .healthy_since
                .is_some_and(|t| t.elapsed() >= self.p.timing.healthy_after)
            {
                self.backoff.reset();
            }
            let wait = if needs_moderator(&f.err) {
                if self.set_conn(Connection::Failed { reason }).await.is_err() {
                    return;
                }
                // Slow retries, jittered by up to a quarter.
                let base = self.p.timing.failed_retry;
                let jitter = rand::random_range(0..=base.as_millis() as u64 / 4);
                base + Duration::from_millis(jitter)
            } else {
                let mut wait = self.backoff.next_delay();
                let floor = f.err.retry_after_ms().or(self.retry_hint).unwrap_or(0);
                let floor = Duration::from_millis(floor);
                if f.err.retry_after_ms().is_some() {
                    wait = wait.max(floor);
                } else {
                    wait = wait.max(floor.min(self.p.timing.reconnect_cap));
                }
                let in_ms = wait.as_millis() as u64;
                if self
                    .set_conn(Connection::Retrying { in_ms, reason })
                    .await
                    .is_err()
                {
                    return;
                }
                wait
            };
            tokio::time::sleep(wait).await;
            if !matches!(self.last_conn, Some(Connection::Failed { .. }))
                && self.set_conn(Connection::Connecting).await.is_err()
            {
                return;
            }
        }
    }

    /// One connection: open the stream, resync, then stream or poll until
    /// something breaks.
    async fn attempt(&mut self) -> Result<(), Stop> {
        let mut stream = None;
        let mut stream_missing = false;
        if !self.p.polling_only() {
            match self.open_stream().await {
                Ok(resp) => stream = Some(resp),
                Err(f) if f.plan_upgrade() => self.notice_no_stream().await?,
                Err(f) if f.is_not_found() => stream_missing = true,
                Err(f) => return Err(f.into()),
            }
        }
        self.full_sync(true).await?;
        if stream_missing {
            // The event exists (the sync found it) but the stream does not.
            self.notice_no_stream().await?;
        }
        self.flush_budget().await?;
        match stream {
            Some(resp) => {
                self.set_conn(Connection::Live).await?;
                self.stream_loop(resp).await
            }
            None => {
                self.set_conn(Connection::Polling).await?;
                self.poll_loop().await
            }
        }
    }

    async fn open_stream(&mut self) -> Result<reqwest::Response, Failure> {
        let event = self.event.as_str();
        let url = self.p.url(&["events", event, "questions", "stream"]);
        let resp = self
            .p
            .stream_client
            .get(url)
            .bearer_auth(self.p.key.expose())
            .header(ACCEPT, "text/event-stream")
            .header(CACHE_CONTROL, "no-cache")
            .send()
            .await
            .map_err(errors::network)?;
        self.p.note_headers(resp.headers());
        let status = resp.status();
        if !status.is_success() {
            let headers = resp.headers().clone();
            let body = http::read_body(resp).await.unwrap_or_default();
            return Err(errors::from_status(
                status.as_u16(),
                &headers,
                &body,
                &Ctx::Event {
                    id: event,
                    scope: "questions:read",
                },
            ));
        }
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !content_type.is_empty() && !content_type.starts_with("text/event-stream") {
            // A 200 with JSON may still carry the plan error.
            let body = http::read_body(resp).await.unwrap_or_default();
            let api = wire::api_error(&body);
            if api.code.as_deref() == Some(PLAN_UPGRADE_REQUIRED) {
                return Err(Failure {
                    err: ProviderError::Forbidden("no stream on this plan".into()),
                    status: Some(status.as_u16()),
                    code: api.code,
                    plan: true,
                });
            }
            return Err(ProviderError::Protocol(
                "the stream answered without text/event-stream".into(),
            )
            .into());
        }
        Ok(resp)
    }

    /// Lists every question; `initial` sends a snapshot, otherwise only the
    /// differences (upserts and removals).
    async fn full_sync(&mut self, initial: bool) -> Result<(), Stop> {
        let event = self.event.clone();
        if initial {
            self.refresh_event().await?;
        }
        let started = Instant::now();
        // A snapshot is worth retrying; a later listing that kept moving is
        // used for upserts only and the next one settles deletions.
        let tries = if initial { LISTING_TRIES } else { 1 };
        let (items, consistent, pages) = self.p.list_questions(&event, None, tries).await?;
        self.pages_all = pages;
        let mut all = Vec::with_capacity(items.len());
        let mut changed = Vec::new();
        for w in &items {
            if let Some((q, did_change)) = self.p.absorb(w, Status::Pending) {
                if did_change {
                    changed.push(q.clone());
                }
                all.push(q);
            }
        }
        let listed: HashSet<String> = all.iter().map(|q| q.id.clone()).collect();
        let mut gone = Vec::new();
        if consistent {
            let mut st = self.p.state();
            let mut kept = Vec::new();
            for (id, q) in &st.known {
                if listed.contains(id) {
                    continue;
                }
                // Created by our own action after the listing began: keep it.
                if st.touched.get(id).is_some_and(|t| *t >= started) {
                    kept.push(q.clone());
                } else {
                    gone.push(id.clone());
                }
            }
            for id in &gone {
                st.known.remove(id);
            }
            st.touched.retain(|_, t| *t >= started);
            all.extend(kept);
        }
        self.selected = all
            .iter()
            .filter(|q| q.status == Status::Selected)
            .map(|q| q.id.clone())
            .collect();
        if initial && consistent {
            self.emit(Feed::Snapshot(all)).await?;
        } else {
            if initial {
                tracing::warn!("postobox: listing kept changing while paging; sent as upsert");
            }
            let send_all = initial;
            let out = if send_all { all } else { changed };
            if !out.is_empty() {
                self.emit(Feed::Upsert(out)).await?;
            }
            for id in gone {
                self.emit(Feed::QuestionGone(id)).await?;
            }
        }
        Ok(())
    }

    /// `GET` the event: reports `active` when it changed.
    async fn refresh_event(&mut self) -> Result<(), Stop> {
        let event = self.event.clone();
        let ctx = Ctx::Event {
            id: &event,
            scope: "events:read",
        };
        let v = self
            .p
            .get_json(self.p.url(&["events", &event]), &ctx)
            .await?;
        let active = wire::event_active(&v);
        if active.is_some() && active != self.last_open {
            self.last_open = active;
            self.emit(Feed::OpenState {
                questions: active,
                chat: None,
            })
            .await?;
        }
        Ok(())
    }

    /// Sleeps until `since` plus the poll wait for `cost`, re-reading the
    /// wait now and then so moderator activity and fresh budget headers take
    /// effect early.
    async fn sleep_until_poll(&self, since: Instant, cost: u64) {
        loop {
            let due = since + self.p.poll_wait(cost);
            let now = Instant::now();
            if now >= due {
                return;
            }
            tokio::time::sleep((due - now).min(RECHECK)).await;
        }
    }

    /// Requests the next poll is paced for: the pages of a listing of every
    /// state, plus what the last poll spent confirming missing questions.
    fn poll_cost(&self) -> u64 {
        self.pages_all.max(1).saturating_add(self.poll_extra)
    }

    async fn poll_loop(&mut self) -> Result<(), Stop> {
        let mut next_event_check = Instant::now() + self.p.timing.full_resync;
        let mut last_poll = Instant::now();
        loop {
            self.sleep_until_poll(last_poll, self.poll_cost()).await;
            last_poll = Instant::now();
            if Instant::now() >= next_event_check {
                self.refresh_event().await?;
                next_event_check = Instant::now() + self.p.timing.full_resync;
            }
            self.poll().await?;
            self.flush_budget().await?;
        }
    }

    async fn stream_loop(&mut self, resp: reqwest::Response) -> Result<(), Stop> {
        let liveness = self.p.timing.liveness;
        let mut body = Box::pin(resp.bytes_stream());
        let mut parser = SseParser::new(http::MAX_BODY).flush_on_comment(complete_json);
        let mut deadline = Instant::now() + liveness;
        let mut last_poll = Instant::now();
        // After a failed poll: not before this.
        let mut not_before = Instant::now();
        let mut next_event_check = Instant::now() + self.p.timing.full_resync;
        loop {
            let due = (last_poll + self.p.poll_wait(self.poll_cost())).max(not_before);
            let wake = due.min(Instant::now() + RECHECK);
            tokio::select! {
                chunk = tokio::time::timeout_at(deadline, body.next()) => {
                    let bytes = match chunk {
                        Err(_) => {
                            let secs = liveness.as_secs_f64();
                            return Err(broke(ProviderError::Network(format!("no data or heartbeat for {secs:.0} s"))));
                        }
                        Ok(None) => return Err(broke(ProviderError::Network("the stream was closed".into()))),
                        Ok(Some(Err(e))) => return Err(broke(http::body_error(e))),
                        Ok(Some(Ok(bytes))) => bytes,
                    };
                    for item in parser.push(&bytes) {
                        match item {
                            SseItem::Comment(_) => deadline = Instant::now() + liveness,
                            SseItem::Event(ev) => {
                                deadline = Instant::now() + liveness;
                                let t0 = Instant::now();
                                self.on_stream_data(&ev.data).await?;
                                deadline += t0.elapsed();
                            }
                            SseItem::Retry(ms) => self.retry_hint = Some(ms),
                            SseItem::Oversized => {
                                tracing::warn!("postobox: oversized stream event dropped; resyncing");
                                let t0 = Instant::now();
                                self.full_sync(false).await?;
                                deadline += t0.elapsed();
                            }
                        }
                    }
                }
                _ = tokio::time::sleep_until(wake) => {
                    if Instant::now() >= due {
                        let t0 = Instant::now();
                        match self.poll().await {
                            Ok(()) => {}
                            Err(Stop::Broke(f)) if !needs_moderator(&f.err) => {
                                tracing::info!("postobox: poll failed: {}", f.err);
                                let floor = Duration::from_millis(f.err.retry_after_ms().unwrap_or(0));
                                not_before = Instant::now() + floor;
                            }
                            Err(stop) => return Err(stop),
                        }
                        deadline += t0.elapsed();
                        last_poll = Instant::now();
                    }
                }
                _ = tokio::time::sleep_until(next_event_check) => {
                    let t0 = Instant::now();
                    self.refresh_event().await?;
                    deadline += t0.elapsed();
                    next_event_check = Instant::now() + self.p.timing.full_resync;
                }
            }
            self.flush_budget().await?;
        }
    }

    /// One `data:` payload: normally one array of selected questions; several
    /// JSON values in a row (events the server did not separate) are taken
    /// in order.
    async fn on_stream_data(&mut self, data: &str) -> Result<(), Stop> {
        let mut any = false;
        for value in serde_json::Deserializer::from_str(data).into_iter::<Value>() {
            match value {
                Ok(v) => {
                    any = true;
                    self.on_stream_value(v).await?;
                }
                Err(_) => {
                    tracing::debug!(
                        "postobox: stream data is not JSON ({} bytes); ignored",
                        data.len()
                    );
                    break;
                }
            }
        }
        if !any {
            tracing::debug!("postobox: stream event without JSON; taken as a heartbeat");
        }
        Ok(())
    }

    async fn on_stream_value(&mut self, v: Value) -> Result<(), Stop> {
        if v.get("error").is_some() {
            let api = wire::api_error_value(&v);
            if api.code.as_deref() == Some(PLAN_UPGRADE_REQUIRED) {
                // Not the moderator's to fix: reconnect, and poll from now on.
                self.notice_no_stream().await?;
                return Err(broke(ProviderError::Protocol(
                    "the stream is not available on this plan".into(),
                )));
            }
            let msg = api
                .message
                .as_deref()
                .map(errors::clean)
                .unwrap_or_default();
            return Err(broke(ProviderError::Server(format!("stream error: {msg}"))));
        }
        if !wire::data(&v).is_array() {
            return Ok(());
        }
        let items = wire::questions(&v);
        let mut now_selected = HashSet::new();
        let mut out = Vec::new();
        let mut fetch = Vec::new();
        for w in &items {
            now_selected.insert(w.id.clone());
            match self.p.absorb(w, Status::Selected) {
                Some((q, true)) => out.push(q),
                Some((_, false)) => {}
                None => fetch.push(w.id.clone()),
            }
        }
        if !self.arrays_are_deltas {
            let st = self.p.state();
            for id in self.selected.difference(&now_selected) {
                // Our own action already told us where it went.
                if st
                    .known
                    .get(id)
                    .is_some_and(|q| q.status == Status::Selected)
                {
                    fetch.push(id.clone());
                }
            }
        }
        let vanished: HashSet<String> = self.selected.difference(&now_selected).cloned().collect();
        if self.arrays_are_deltas {
            self.selected.extend(now_selected);
        } else {
            self.selected = now_selected;
        }
        if !out.is_empty() {
            self.emit(Feed::Upsert(out)).await?;
        }
        let still_selected = self.fetch_each(fetch).await?;
        if still_selected.iter().any(|id| vanished.contains(id)) && !self.arrays_are_deltas {
            tracing::info!(
                "postobox: stream arrays are partial; absence is no longer a status change"
            );
            self.arrays_are_deltas = true;
            self.selected.extend(still_selected);
        }
        Ok(())
    }

    /// Fetches questions one by one (or lists all when many); sends what
    /// changed. Returns the ids still selected.
    async fn fetch_each(&mut self, ids: Vec<String>) -> Result<Vec<String>, Stop> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if ids.len() > MAX_FETCH_MISSING {
            self.full_sync(false).await?;
            return Ok(Vec::new());
        }
        let event = self.event.clone();
        let mut still_selected = Vec::new();
        for id in ids {
            let before = self.p.state().known.get(&id).cloned();
            match self.p.get_question(&event, &id).await? {
                Some(q) => {
                    if q.status == Status::Selected {
                        still_selected.push(id);
                    }
                    if before.as_ref() != Some(&q) {
                        self.emit(Feed::Upsert(vec![q])).await?;
                    }
                }
                None => self.emit(Feed::QuestionGone(id)).await?,
            }
        }
        Ok(still_selected)
    }

    /// One poll: every question in every state (all pages, oldest first),
    /// while streaming too, so a change by another moderator to any
    /// question shows within one poll. What changed goes out as
    /// [`Feed::Upsert`]. A known question the listing lacks is not taken
    /// for deleted on that word alone (it may have changed status while the
    /// pages were read, or a deletion may have shifted the pages under the
    /// listing): it is fetched by id, and only a 404 sends
    /// [`Feed::QuestionGone`]. More than [`MAX_FETCH_MISSING`] missing: a
    /// second listing decides instead of one fetch each.
    async fn poll(&mut self) -> Result<(), Stop> {
        let event = self.event.clone();
        let started = Instant::now();
        let (items, _consistent, pages) = self.p.list_questions(&event, None, 1).await?;
        self.pages_all = pages;
        let mut listed = HashSet::new();
        let mut changed = Vec::new();
        for w in &items {
            if let Some((q, did_change)) = self.p.absorb(w, Status::Pending) {
                listed.insert(q.id.clone());
                if did_change {
                    changed.push(q);
                }
            }
        }
        let missing = {
            let mut st = self.p.state();
            let missing = unlisted(&st.known, &st.touched, &listed, started);
            // Only actions after this listing began can matter to later ones.
            st.touched.retain(|_, t| *t >= started);
            missing
        };
        if !changed.is_empty() {
            self.emit(Feed::Upsert(changed)).await?;
        }
        self.poll_extra = match missing.len() {
            0 => 0,
            n if n > MAX_FETCH_MISSING => pages,
            n => n as u64,
        };
        self.fetch_each(missing).await?;
        Ok(())
    }
}

/// Known questions missing from a listing of every state that began at
/// `started`, sorted by id; a question our own actions changed or
/// created since is not missing (the listing may predate it).
fn unlisted(
    known: &HashMap<String, Question>,
    touched: &HashMap<String, Instant>,
    listed: &HashSet<String>,
    started: Instant,
) -> Vec<String> {
    let mut missing: Vec<String> = known
        .keys()
        .filter(|id| !listed.contains(*id))
        .filter(|id| touched.get(*id).is_none_or(|t| *t < started))
        .cloned()
        .collect();
    missing.sort();
    missing
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Moderator;

    fn ctx() -> BuildCtx {
        BuildCtx {
            source: SourceId(3),
            moderator: Moderator {
                identifier: "mod-7".into(),
                name: "Mo".into(),
            },
            event: None,
        }
    }

    #[test]
    fn settings_parse_and_reject_unknown_keys() {
        let s: Settings =
            toml::from_str("name = \"keynote\"\nevent = \"ev1\"\napi_key_env = \"PB_KEY\"")
                .unwrap();
        assert_eq!(
            (s.name.as_str(), s.event.as_deref()),
            ("keynote", Some("ev1"))
        );
        assert_eq!(s.base_url, DEFAULT_BASE_URL);
        assert!(!s.has_literal_secret());
        let e = toml::from_str::<Settings>("name = \"k\"\napi_kee = \"x\"").unwrap_err();
        assert!(e.to_string().contains("api_kee"), "{e}");
        let lit: Settings =
            toml::from_str("name = \"k\"\napi_key = \"pk_live_debug_secret\"").unwrap();
        assert!(lit.has_literal_secret());
        assert!(!format!("{lit:?}").contains("pk_live_debug_secret"));
    }

    #[test]
    fn build_checks_key_url_and_identifier() {
        let mut s = Settings::new("k");
        assert!(Postobox::new(&s, &ctx()).unwrap_err().contains("api_key"));
        s.api_key = Some("pk_test_build_0001".into());
        let p = Postobox::new(&s, &ctx()).unwrap();
        assert_eq!(p.identifier, "mod-7");
        assert_eq!(
            p.url(&["events", "a/b", "questions"]).as_str(),
            "https://api.postobox.app/v1/events/a%2Fb/questions"
        );
        s.base_url = "http://api.postobox.app/v1".into();
        assert!(Postobox::new(&s, &ctx()).unwrap_err().contains("https"));
        s.base_url = "http://127.0.0.1:9/v1/".into();
        let p = Postobox::new(&s, &ctx()).unwrap();
        assert_eq!(
            p.url(&["organization"]).as_str(),
            "http://127.0.0.1:9/v1/organization"
        );
        s.identifier = Some(" ".into());
        assert!(Postobox::new(&s, &ctx()).is_err());
        s.api_key_env = Some("X".into());
        assert!(Postobox::new(&s, &ctx()).unwrap_err().contains("only one"));
    }

    #[test]
    fn capabilities_follow_the_stream_flag() {
        let mut s = Settings::new("k");
        s.api_key = Some("pk_test_caps_0001".into());
        let p = Postobox::new(&s, &ctx()).unwrap();
        let c = p.capabilities();
        assert_eq!(
            (c.vote, c.delivery, c.delete, c.open_close),
            (VoteKind::Toggle, Delivery::Stream, true, true)
        );
        assert_eq!(c.server_statuses, Status::ALL.to_vec());
        p.no_stream.store(true, Ordering::Relaxed);
        assert_eq!(p.capabilities().delivery, Delivery::Polling);
    }

    fn q(id: &str, status: Status) -> Question {
        Question {
            source: SourceId(3),
            id: id.into(),
            text: format!("Question {id}"),
            author: None,
            votes: 0,
            my_vote: MyVote::None,
            status,
            on_air: false,
            created: 1,
            updated: 1,
        }
    }

    #[test]
    fn unlisted_names_known_questions_of_every_state_the_listing_lacks() {
        let known: HashMap<String, Question> = [
            ("a", Status::Pending),
            ("b", Status::Selected),
            ("c", Status::Answered),
            ("d", Status::Rejected),
            ("e", Status::Answered),
        ]
        .into_iter()
        .map(|(id, st)| (id.to_string(), q(id, st)))
        .collect();
        let listed: HashSet<String> = ["a", "e"].into_iter().map(String::from).collect();
        let t0 = Instant::now();
        let started = t0 + Duration::from_secs(10);
        // Selected, answered and rejected alike: one listing covers them all.
        assert_eq!(
            unlisted(&known, &HashMap::new(), &listed, started),
            ["b", "c", "d"]
        );
        // Our own action before the listing began does not excuse a question;
        // one after it does (the listing may predate it).
        let touched: HashMap<String, Instant> = [
            ("c".to_string(), t0),
            ("d".to_string(), started + Duration::from_millis(1)),
        ]
        .into_iter()
        .collect();
        assert_eq!(unlisted(&known, &touched, &listed, started), ["b", "c"]);
        // Ids listed but unknown (new ones) are not missing.
        let all: HashSet<String> = ["a", "b", "c", "d", "e", "new"]
            .into_iter()
            .map(String::from)
            .collect();
        assert!(unlisted(&known, &HashMap::new(), &all, started).is_empty());
    }

    #[test]
    fn reset_header_readings() {
        let mut h = HeaderMap::new();
        let now_s = super::super::now_ms() / 1000;
        h.insert(
            "x-ratelimit-reset",
            (now_s + 30).to_string().parse().unwrap(),
        );
        let ms = reset_in_ms(&h).unwrap();
        assert!((28_000..=31_000).contains(&ms), "{ms}");
        h.insert("x-ratelimit-reset", "12".parse().unwrap());
        assert_eq!(reset_in_ms(&h), Some(12_000));
        h.insert(
            "x-ratelimit-reset",
            ((now_s + 5) * 1000).to_string().parse().unwrap(),
        );
        assert!((3_000..=6_000).contains(&reset_in_ms(&h).unwrap()));
        h.insert("x-ratelimit-reset", "soon".parse().unwrap());
        assert_eq!(reset_in_ms(&h), None);
    }
}
