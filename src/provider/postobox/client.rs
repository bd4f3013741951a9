//! The PostoBox HTTP client: the provider's state, requests with the key,
//! paged listings, question reads and the vote toggle.

use super::errors;
use super::errors::{Ctx, Failure};
use super::known::KnownMap;
use super::pacing::{BudgetView, poll_interval};
use super::settings::{Settings, Timing};
use super::wire;
use super::wire::WireQuestion;
use crate::domain::{
    MyVote, Outcome, ProviderError, ProviderResult, Question, RateBudget, SourceId, Status, Str,
};
use crate::provider::BuildError;
use crate::provider::https::check_base_url;
use crate::provider::{BuildCtx, http, request};
use crate::secret::{Secret, SecretSource};
use reqwest::header::{ACCEPT, HeaderMap};
use reqwest::{Method, Url};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Items per page (the documented maximum).
pub(super) const PAGE_LIMIT: u64 = 100;
/// A broken server cannot keep a listing going forever.
pub(super) const MAX_PAGES: u64 = 1000;

/// The last rate-limit headers seen.
#[derive(Debug, Clone, Copy)]
pub(super) struct RateSeen {
    pub(super) budget: RateBudget,
    pub(super) reset_at: Option<Instant>,
}

#[derive(Default)]
pub(super) struct State {
    /// Last known copy of every question (merge base for partial items).
    /// Texts, ids and names are shared with what was sent to the core.
    pub(super) known: KnownMap,
    /// When `perform` last changed a question (guards diffs of listings that
    /// started before).
    pub(super) touched: HashMap<Str, Instant>,
    /// The `voted` answers of our own vote calls.
    pub(super) my_votes: HashMap<String, MyVote>,
    pub(super) last_perform: Option<Instant>,
    pub(super) rate: Option<RateSeen>,
    pub(super) rate_gen: u64,
}

/// The PostoBox provider for one source.
pub struct Postobox {
    pub(super) source: SourceId,
    pub(super) base: Url,
    pub(super) key: Secret,
    pub(super) event: Option<String>,
    pub(super) identifier: String,
    pub(super) timing: Timing,
    pub(super) client: reqwest::Client,
    pub(super) stream_client: reqwest::Client,
    /// The plan has no stream (learnt from `PLAN_UPGRADE_REQUIRED`).
    pub(super) no_stream: AtomicBool,
    pub(super) state: Mutex<State>,
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
    let now_ms = crate::provider::now_ms();
    reset_at_ms(headers, now_ms).map(|at| ms_until(at, now_ms))
}

/// `X-RateLimit-Reset` as Unix milliseconds, in any reasonable reading
/// (Unix seconds or milliseconds, or seconds from `now_ms`).
pub(crate) fn reset_at_ms(headers: &HeaderMap, now_ms: i64) -> Option<i64> {
    let raw = headers
        .get("x-ratelimit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)?;
    let at_ms = if raw > 1e12 {
        raw
    } else if raw > 1e9 {
        raw * 1000.0
    } else {
        now_ms as f64 + raw * 1000.0
    };
    Some(at_ms.min(i64::MAX as f64) as i64)
}

/// Time from `now_ms` to `at_ms`, at most an hour (a bad clock or header
/// never holds the pipeline longer).
fn ms_until(at_ms: i64, now_ms: i64) -> u64 {
    at_ms.saturating_sub(now_ms).clamp(0, 3_600_000) as u64
}

impl Postobox {
    /// Builds the provider: resolves the key, checks the base URL.
    pub fn new(settings: &Settings, ctx: &BuildCtx) -> Result<Postobox, BuildError> {
        let name = &settings.name;
        let source = SecretSource::pick(
            "api_key",
            settings.api_key.clone(),
            settings.api_key_env.clone(),
            settings.api_key_cmd.clone(),
        )
        .map_err(|e| BuildError::Secret(e.to_string()).within(format!("source `{name}`")))?
        .ok_or_else(|| {
            BuildError::MissingSecret {
                key: "api_key",
                literal_aside: false,
            }
            .within(format!("source `{name}`"))
        })?;
        let key = source
            .resolve()
            .map_err(|e| BuildError::Secret(e.to_string()).within(format!("source `{name}`")))?;
        let base =
            check_base_url(&settings.base_url).map_err(|e| e.within(format!("source `{name}`")))?;
        let identifier = settings
            .identifier
            .clone()
            .unwrap_or_else(|| ctx.moderator.identifier.clone());
        if identifier.trim().is_empty() {
            return Err(
                BuildError::invalid("identifier", "identifier must not be empty")
                    .within(format!("source `{name}`")),
            );
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

    /// Whether the plan turned out to have no stream.
    pub fn polling_only(&self) -> bool {
        self.no_stream.load(Ordering::Relaxed)
    }

    pub(super) fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn event_id(&self) -> ProviderResult<&str> {
        self.event
            .as_deref()
            .ok_or_else(|| ProviderError::Invalid("no PostoBox event chosen".into()))
    }

    pub(super) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    pub(super) fn mark_active(&self) {
        self.state().last_perform = Some(Instant::now());
    }

    pub(super) fn is_active(&self) -> bool {
        self.state()
            .last_perform
            .is_some_and(|t| t.elapsed() < self.timing.active_window)
    }

    pub(super) fn note_headers(&self, headers: &HeaderMap) {
        let Some(mut budget) = http::rate_budget(headers) else {
            return;
        };
        // One reading of the header and one clock: every answer of one
        // window then names the same reset second, late or not.
        let now_ms = crate::provider::now_ms();
        let reset_at = reset_at_ms(headers, now_ms);
        let reset_in = reset_at.map(|at| ms_until(at, now_ms));
        budget.reset = reset_at.map(|at| at.saturating_add(999) / 1000);
        let mut st = self.state();
        // Answers to calls in flight together come back in any order, and
        // within one window the count only falls: more left than an answer
        // already seen said is an older answer, not a newer window.
        if let Some(seen) = st.rate
            && (seen.budget.limit, seen.budget.reset) == (budget.limit, budget.reset)
        {
            budget.remaining = budget.remaining.min(seen.budget.remaining);
        }
        st.rate = Some(RateSeen {
            budget,
            reset_at: reset_in.map(|ms| Instant::now() + Duration::from_millis(ms)),
        });
        st.rate_gen += 1;
    }

    pub(super) fn budget_view(&self) -> Option<BudgetView> {
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
    pub(super) fn poll_wait(&self, cost: u64) -> Duration {
        let cost = u32::try_from(cost).unwrap_or(u32::MAX);
        poll_interval(
            &self.timing.poll,
            self.budget_view(),
            cost,
            self.is_active(),
        )
    }

    /// Sends one request; 2xx gives the body, anything else a mapped failure.
    pub(super) async fn send(
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
        let answer = request::send(req).await?;
        self.note_headers(&answer.headers);
        if answer.is_success() {
            return Ok(answer.body);
        }
        Err(errors::from_status(
            answer.status,
            &answer.headers,
            &answer.body,
            ctx,
        ))
    }

    pub(super) async fn get_json(&self, url: Url, ctx: &Ctx<'_>) -> Result<Value, Failure> {
        let body = self.send(Method::GET, url, None, ctx).await?;
        wire::json(&body).ok_or_else(|| garbled().into())
    }

    /// Every page of a listing, each item read by `read` as its page
    /// arrives (a listing of every question never holds the JSON of all
    /// pages at once). `consistent` is false when the total moved while
    /// paging or the ids do not add up to it.
    pub(super) async fn list_all<T>(
        &self,
        segments: &[&str],
        status: Option<&str>,
        ctx: &Ctx<'_>,
        read: fn(&[u8]) -> Option<wire::ListPage<T>>,
        id: fn(&T) -> &str,
    ) -> Result<Listing<T>, Failure> {
        let mut pager = Pager::new(segments, status);
        let mut items = Vec::new();
        while let Some(page) = pager.next(self, ctx, read).await? {
            items.extend(page);
        }
        let ids: HashSet<&str> = items.iter().map(id).collect();
        Ok(Listing {
            consistent: pager.consistent(ids.len()),
            items,
            pages: pager.pages(),
        })
    }

    /// A question listing, tried up to `tries` times until consistent (see
    /// `list_all`).
    pub(super) async fn list_questions(
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
                .list_all(
                    &["events", event, "questions"],
                    status,
                    &ctx,
                    wire::question_page,
                    |w| &w.id,
                )
                .await?;
            if listing.consistent || tried >= tries {
                let mut seen = HashSet::new();
                let qs = listing
                    .items
                    .into_iter()
                    .filter(|w| seen.insert(w.id.clone()))
                    .collect();
                return Ok((qs, listing.consistent, listing.pages));
            }
        }
    }

    /// Merges a wire copy over the known one and records the result unless
    /// it is stale. Returns the question and whether it changed.
    pub(super) fn absorb(
        &self,
        w: &WireQuestion,
        default_status: Status,
    ) -> Option<(Question, bool)> {
        let mut guard = self.state();
        let st = &mut *guard;
        let prev = st.known.get(self.source, w.id.as_str());
        if let Some(p) = &prev
            && w.is_stale(p)
        {
            return Some((p.clone(), false));
        }
        let mut q = w.merge(self.source, prev.as_ref(), default_status)?;
        q.author = q.author.map(|a| st.known.share_name(a));
        if let Some(v) = st.my_votes.get(&*q.id) {
            q.my_vote = *v;
        }
        let changed = prev.as_ref() != Some(&q);
        st.known.insert(&q);
        Some((q, changed))
    }

    pub(super) fn remember(&self, q: &Question) {
        let mut st = self.state();
        st.known.insert(q);
        st.touched.insert(q.id.clone(), Instant::now());
    }

    pub(super) fn forget(&self, id: &str) {
        let mut st = self.state();
        st.known.remove(id);
        st.touched.insert(id.into(), Instant::now());
    }

    /// `GET` one question; `Ok(None)` when it is gone (404).
    pub(super) async fn get_question(
        &self,
        event: &str,
        id: &str,
    ) -> Result<Option<Question>, Failure> {
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
    pub(super) async fn question_from_answer(
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
            let prev = self.state().known.get(self.source, id);
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

    pub(super) async fn toggle_vote(
        &self,
        event: &str,
        id: &str,
    ) -> ProviderResult<wire::VoteAnswer> {
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

    pub(super) async fn vote(
        &self,
        event: &str,
        id: &str,
        want: MyVote,
    ) -> ProviderResult<Outcome> {
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
        let votes = st.known.set_vote(id, my_vote, answer.vote_count);
        st.touched.insert(id.into(), Instant::now());
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
pub(super) fn garbled() -> ProviderError {
    ProviderError::Server("the answer was not JSON (cut short or garbled)".into())
}

/// A listing read one page at a time, so that a caller can merge and hand
/// over each page before the next (a listing of 100,000 questions is never
/// held whole).
pub(super) struct Pager<'a> {
    segments: &'a [&'a str],
    status: Option<&'a str>,
    /// The page asked next; after the last, the number of pages read.
    page: u64,
    /// `total` of each page read.
    totals: Vec<Option<u64>>,
    /// Listed elements that were no usable item (they count for the total).
    unusable: usize,
    done: bool,
}

impl<'a> Pager<'a> {
    pub(super) fn new(segments: &'a [&'a str], status: Option<&'a str>) -> Pager<'a> {
        Pager {
            segments,
            status,
            page: 1,
            totals: Vec::new(),
            unusable: 0,
            done: false,
        }
    }

    /// The items of the next page, each read by `read` straight from the
    /// page's bytes; `None` after the last one.
    pub(super) async fn next<T>(
        &mut self,
        p: &Postobox,
        ctx: &Ctx<'_>,
        read: fn(&[u8]) -> Option<wire::ListPage<T>>,
    ) -> Result<Option<Vec<T>>, Failure> {
        if self.done {
            return Ok(None);
        }
        let mut url = p.url(self.segments);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("page", &self.page.to_string())
                .append_pair("limit", &PAGE_LIMIT.to_string());
            if let Some(status) = self.status {
                q.append_pair("status", status);
            }
            if self.segments.last() == Some(&"questions") {
                q.append_pair("sortBy", "createdAt")
                    .append_pair("sortOrder", "asc");
            }
        }
        let body = p.send(Method::GET, url, None, ctx).await?;
        let Some(page) = read(&body) else {
            if wire::json(&body).is_none() {
                return Err(garbled().into());
            }
            // Read as "no items", this would declare every question
            // deleted (a snapshot of nothing).
            return Err(ProviderError::Protocol("a listing answer holds no list".into()).into());
        };
        let got = page.len as u64;
        self.unusable += page.len.saturating_sub(page.items.len());
        self.totals.push(page.total);
        let last = match page.total_pages {
            Some(tp) => self.page >= tp,
            None => got == 0 || got < page.limit.unwrap_or(PAGE_LIMIT).max(1),
        };
        if last || self.page >= MAX_PAGES {
            self.done = true;
        } else {
            self.page += 1;
        }
        Ok(Some(page.items))
    }

    /// Pages read so far.
    pub(super) fn pages(&self) -> u64 {
        self.page
    }

    /// Whether the total stayed put while paging and the `distinct` ids
    /// read (with the listed elements that were no usable item) add up to it.
    pub(super) fn consistent(&self, distinct: usize) -> bool {
        match self.totals.first().copied().flatten() {
            Some(total) => {
                self.totals.iter().all(|t| *t == Some(total))
                    && (distinct + self.unusable) as u64 == total
            }
            None => true,
        }
    }
}

/// Pages of a listing.
pub(super) struct Listing<T> {
    pub(super) items: Vec<T>,
    pub(super) consistent: bool,
    pub(super) pages: u64,
}
