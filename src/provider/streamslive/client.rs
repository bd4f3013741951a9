//! The streams.live HTTP client: authenticated calls, channels, questions
//! and the memory the platform does not keep (own votes, archived questions).

use super::auth::{Auth, AuthStats};
use super::settings::{Settings, api_base};
use super::wire;
use super::wire::{EventMeta, WireMessage, WireQuestion};
use crate::domain::{
    EventInfo, Message, Millis, MyVote, Outcome, ProviderError, ProviderResult, Question, SourceId,
    Status, Str,
};
use crate::provider::BuildError;
use crate::provider::Provider;
use crate::provider::{http, request};
use crate::text::sanitize;
use reqwest::Method;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

/// `GET events` page size (documented: "10 items per page").
pub const PAGE_SIZE: usize = 10;
/// Upper bound of pages read, so a server ignoring `page` cannot loop us.
pub(super) const MAX_PAGES: u32 = 500;

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

/// What the provider remembers between calls (memory only).
#[derive(Default)]
pub(super) struct Local {
    /// Questions archived through qadeck this session, kept as Rejected.
    pub(super) archived: HashMap<String, Question>,
    /// The moderator's own votes (the platform does not report them).
    pub(super) my_votes: HashMap<String, MyVote>,
    /// First time an item without a timestamp was seen ("q:id" / "m:id").
    pub(super) first_seen: HashMap<String, Millis>,
    /// Content fingerprint of each question and when it last changed.
    pub(super) fingerprints: HashMap<String, (u64, Option<Millis>)>,
    /// The last view of every question (for outcomes and `fetch_question`).
    pub(super) last: HashMap<Str, Question>,
    /// Chat messages the feed has reported and not yet reported gone, with
    /// their creation times (to tell a deletion from a scroll-out).
    pub(super) chat_known: HashMap<String, Millis>,
    /// The logged-in user's id (`GET profile`), once read; `Some(None)`
    /// when the platform did not say.
    pub(super) user_id: Option<Option<String>>,
    /// Author names the platform gave qadeck's own posts.
    pub(super) own_authors: HashSet<String>,
    /// Index into the thread key candidates that the platform accepted.
    pub(super) thread_key: Option<usize>,
    pub(super) delete_key: Option<usize>,
    /// The feed should re-read the channel (open state changed).
    pub(super) event_dirty: bool,
}

/// The streams.live provider for one channel.
pub struct StreamsLive {
    pub(super) source: SourceId,
    pub(super) base: String,
    pub(super) client: reqwest::Client,
    pub(super) auth: Auth,
    pub(super) event_key: Option<String>,
    pub(super) poll: Duration,
    pub(super) event: tokio::sync::Mutex<Option<EventMeta>>,
    pub(super) local: Mutex<Local>,
}

impl StreamsLive {
    /// Builds the provider (resolving the credentials now, so a missing
    /// variable is reported at start).
    pub fn new(
        settings: &Settings,
        source: SourceId,
        event: Option<String>,
    ) -> Result<StreamsLive, BuildError> {
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

    pub(super) fn local(&self) -> std::sync::MutexGuard<'_, Local> {
        self.local.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ----- HTTP --------------------------------------------------------------

    /// One authenticated call; on a 401 the token is renewed and the call
    /// sent once more. Returns the body of a 2xx answer.
    pub(super) async fn call(
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
            let answer = request::send(req).await?;
            let (status, retry) = (answer.status, answer.retry_after_ms(5_000));
            let bytes = answer.body;
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

    pub(super) async fn call_json(
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

    pub(super) async fn event_pages(
        &self,
        status: Option<EventStatus>,
    ) -> ProviderResult<Vec<EventMeta>> {
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

    pub(super) async fn fetch_event(&self, id: &str) -> ProviderResult<EventMeta> {
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
    pub(super) async fn event(&self) -> ProviderResult<EventMeta> {
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
    pub(super) async fn refresh_event(&self, old: &EventMeta) -> ProviderResult<EventMeta> {
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

    pub(super) async fn read_questions(&self, ev: &EventMeta) -> ProviderResult<Vec<Question>> {
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
        let now = crate::provider::now_ms();
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
    pub(super) fn question_from(
        &self,
        v: &Value,
        id: Option<&str>,
        need_votes: bool,
    ) -> Option<Question> {
        let w = WireQuestion::from_value(v)?;
        if w.text.is_empty() || id.is_some_and(|id| w.id != id) || (need_votes && !w.votes_known) {
            return None;
        }
        let mut l = self.local();
        let q = l.question(&w, self.source, crate::provider::now_ms());
        l.last.insert(q.id.clone(), q.clone());
        Some(q)
    }

    pub(super) async fn archive(&self, id: &str) -> ProviderResult<Outcome> {
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
        q.updated = q.updated.max(crate::provider::now_ms());
        let mut l = self.local();
        l.archived.insert(id.to_string(), q.clone());
        l.last.insert(id.into(), q.clone());
        Ok(Outcome::Question(q))
    }

    /// What a repeated archive of `id` leaves: the question as last seen,
    /// rejected, or just done.
    pub(super) fn archived_outcome(&self, id: &str) -> Outcome {
        let mut l = self.local();
        let Some(mut q) = l
            .last
            .get(id)
            .cloned()
            .or_else(|| l.archived.get(id).cloned())
        else {
            return Outcome::Done;
        };
        q.status = Status::Rejected;
        q.updated = q.updated.max(crate::provider::now_ms());
        l.archived.insert(id.to_string(), q.clone());
        l.last.insert(id.into(), q.clone());
        Outcome::Question(q)
    }

    /// A submit whose earlier attempt may have landed: the question is
    /// looked for first (same text, created since it was queued, with a
    /// minute's slack for clocks) and sent only when it is not there.
    pub(super) async fn submit_again(
        &self,
        text: &str,
        queued_at: Millis,
    ) -> ProviderResult<Outcome> {
        if text.trim().is_empty() {
            return Err(ProviderError::Invalid("a question cannot be empty".into()));
        }
        let ev = self.event().await?;
        let clean = sanitize(text);
        let since = queued_at - super::chat::CLOCK_SKEW_MS;
        let found = self
            .read_questions(&ev)
            .await?
            .into_iter()
            .filter(|q| q.text == clean && q.created >= since)
            .max_by_key(|q| q.created);
        if let Some(q) = found {
            tracing::info!("streams.live: the earlier submit landed; not sending it again");
            return Ok(Outcome::Question(q));
        }
        self.submit(text).await
    }

    pub(super) async fn vote(&self, id: &str, want: MyVote) -> ProviderResult<Outcome> {
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

    pub(super) async fn submit(&self, text: &str) -> ProviderResult<Outcome> {
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

    pub(super) async fn set_open(
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
}

impl Local {
    /// Builds the domain question, filling in what the platform leaves out.
    pub(super) fn question(&mut self, w: &WireQuestion, source: SourceId, now: Millis) -> Question {
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

    pub(super) fn message(&mut self, w: &WireMessage, source: SourceId, now: Millis) -> Message {
        let created = w
            .created
            .unwrap_or_else(|| *self.first_seen.entry(format!("m:{}", w.id)).or_insert(now));
        w.to_message(source, created)
    }
}

pub(super) fn fingerprint(w: &WireQuestion, status: Status, my_vote: MyVote) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (&w.text, &w.author, w.votes, status, my_vote as u8).hash(&mut h);
    h.finish()
}

/// True when a 2xx body still is `{"error": {…}}`.
pub(super) fn has_error_object(bytes: &[u8]) -> bool {
    bytes.windows(7).any(|w| w == b"\"error\"")
        && serde_json::from_slice::<Value>(bytes)
            .ok()
            .is_some_and(|v| v.get("error").is_some_and(Value::is_object))
}

pub(super) fn json<T: serde::Serialize>(body: &T) -> Value {
    serde_json::to_value(body).unwrap_or(Value::Null)
}

/// `thread_id` is documented as a number: digits go out as a number.
pub(super) fn numeric(v: Value) -> Value {
    match &v {
        Value::String(s) => s.trim().parse::<i64>().map(Value::from).unwrap_or(v),
        _ => v,
    }
}

/// Percent-encodes one path segment.
pub(super) fn seg(s: &str) -> String {
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
