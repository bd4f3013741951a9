//! The PostoBox live feed: connection state machine, SSE stream, polls and
//! resyncs (see the module docs of [`super`]).

use super::client::Pager;
use super::errors;
use super::errors::{Ctx, Failure};
use super::wire;
use super::{PLAN_UPGRADE_REQUIRED, Postobox};
use crate::domain::{Connection, Feed, ProviderError, Status, Str};
use crate::provider::sse::{SseItem, SseParser};
use crate::provider::{FeedTx, http};
use futures::StreamExt;
use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::Instant;

/// More vanished questions than this: list again instead of fetching each.
pub(super) const MAX_FETCH_MISSING: usize = 5;
/// Tries for a consistent listing before a snapshot.
pub(super) const LISTING_TRIES: usize = 3;
/// How often a pending wait re-reads the pace (activity, budget).
pub(super) const RECHECK: Duration = Duration::from_millis(500);

/// Whether stream data is whole: one or more complete JSON values.
pub(super) fn complete_json(data: &str) -> bool {
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

/// Why a connection attempt ended.
pub(super) enum Stop {
    /// The event loop is gone.
    Closed,
    Broke(Failure),
}

impl From<Failure> for Stop {
    fn from(f: Failure) -> Stop {
        Stop::Broke(f)
    }
}

pub(super) fn broke(err: ProviderError) -> Stop {
    Stop::Broke(err.into())
}

/// One source's feed: connection state machine, stream and polls.
pub(super) struct FeedLoop<'a> {
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
    pub(super) fn new(p: &'a Postobox, tx: FeedTx, event: String) -> FeedLoop<'a> {
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

    pub(super) async fn emit(&mut self, feed: Feed) -> Result<(), Stop> {
        if self.tx.send(feed).await {
            Ok(())
        } else {
            Err(Stop::Closed)
        }
    }

    pub(super) async fn set_conn(&mut self, c: Connection) -> Result<(), Stop> {
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
    pub(super) async fn flush_budget(&mut self) -> Result<(), Stop> {
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

    pub(super) async fn notice_no_stream(&mut self) -> Result<(), Stop> {
        if !self.p.no_stream.swap(true, Ordering::Relaxed) {
            self.emit(Feed::Notice(
                "PostoBox: no live stream on this plan (Enterprise only); polling instead".into(),
            ))
            .await?;
            self.emit(Feed::Capabilities(crate::provider::Provider::capabilities(
                self.p,
            )))
            .await?;
        }
        Ok(())
    }

    pub(super) async fn run(mut self) {
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
            let wait = if f.err.needs_moderator() {
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
    pub(super) async fn attempt(&mut self) -> Result<(), Stop> {
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

    pub(super) async fn open_stream(&mut self) -> Result<reqwest::Response, Failure> {
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

    /// Lists every question, handing over what changed page by page;
    /// `initial` ends a consistent listing with [`Feed::Listed`] (the core
    /// drops what it holds beyond it), otherwise what is gone goes out as
    /// removals.
    pub(super) async fn full_sync(&mut self, initial: bool) -> Result<(), Stop> {
        let event = self.event.clone();
        if initial {
            self.refresh_event().await?;
        }
        let started = Instant::now();
        // A complete listing is worth retrying; a later listing that kept
        // moving is used for upserts only and the next one settles deletions.
        let tries = if initial { LISTING_TRIES } else { 1 };
        let mut tried = 0;
        let mut listing = loop {
            tried += 1;
            let listing = self.list_and_send(&event).await?;
            if listing.consistent || tried >= tries {
                break listing;
            }
        };
        let mut gone = Vec::new();
        if listing.consistent {
            let mut st = self.p.state();
            for (id, status) in st.known.statuses() {
                if listing.ids.contains(id) {
                    continue;
                }
                // Created by our own action after the listing began: keep it.
                if st.touched.get(id).is_some_and(|t| *t >= started) {
                    listing.ids.insert(id.clone());
                    if status == Status::Selected {
                        listing.selected.insert(id.to_string());
                    }
                } else {
                    gone.push(id.to_string());
                }
            }
            for id in &gone {
                st.known.remove(id.as_str());
            }
            st.touched.retain(|_, t| *t >= started);
        }
        self.selected = listing.selected;
        if initial && listing.consistent {
            self.emit(Feed::Listed(listing.ids)).await?;
        } else {
            if initial {
                tracing::warn!("postobox: listing kept changing while paging; deletions wait");
            }
            for id in gone {
                self.emit(Feed::QuestionGone(id)).await?;
            }
        }
        Ok(())
    }

    /// One listing of every question, oldest first: each page is merged
    /// over the known copies and what changed goes out as one
    /// [`Feed::Upsert`] before the next page is asked for.
    pub(super) async fn list_and_send(&mut self, event: &str) -> Result<Listed, Stop> {
        let ctx = Ctx::Event {
            id: event,
            scope: "questions:read",
        };
        let segments = ["events", event, "questions"];
        let mut pager = Pager::new(&segments, None);
        let mut ids: HashSet<Str> = HashSet::new();
        // Listed but not usable as questions: they still count for the total.
        let mut unusable: HashSet<String> = HashSet::new();
        let mut selected = HashSet::new();
        while let Some(items) = pager.next(self.p, &ctx, wire::question_page).await? {
            let mut changed = Vec::new();
            for w in items {
                // A page shifted under the listing repeats an item: the first wins.
                if ids.contains(&*w.id) || unusable.contains(&*w.id) {
                    continue;
                }
                let Some((q, did_change)) = self.p.absorb(&w, Status::Pending) else {
                    unusable.insert(w.id.to_string());
                    continue;
                };
                if q.status == Status::Selected {
                    selected.insert(q.id.to_string());
                }
                ids.insert(q.id.clone());
                if did_change {
                    changed.push(q);
                }
            }
            if !changed.is_empty() {
                self.emit(Feed::Upsert(changed)).await?;
            }
        }
        self.pages_all = pager.pages();
        Ok(Listed {
            consistent: pager.consistent(ids.len() + unusable.len()),
            ids,
            selected,
        })
    }

    /// `GET` the event: reports `active` when it changed.
    pub(super) async fn refresh_event(&mut self) -> Result<(), Stop> {
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
    pub(super) async fn sleep_until_poll(&self, since: Instant, cost: u64) {
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
    pub(super) fn poll_cost(&self) -> u64 {
        // + 1: the event itself (open/closed) is read with every poll.
        self.pages_all
            .max(1)
            .saturating_add(self.poll_extra)
            .saturating_add(1)
    }

    pub(super) async fn poll_loop(&mut self) -> Result<(), Stop> {
        let mut last_poll = Instant::now();
        loop {
            self.sleep_until_poll(last_poll, self.poll_cost()).await;
            last_poll = Instant::now();
            self.refresh_event().await?;
            self.poll().await?;
            self.flush_budget().await?;
        }
    }

    pub(super) async fn stream_loop(&mut self, resp: reqwest::Response) -> Result<(), Stop> {
        let liveness = self.p.timing.liveness;
        let mut body = Box::pin(resp.bytes_stream());
        let mut parser = SseParser::new(http::MAX_BODY).flush_on_comment(complete_json);
        let mut deadline = Instant::now() + liveness;
        let mut last_poll = Instant::now();
        // After a failed poll: not before this.
        let mut not_before = Instant::now();
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
                        let polled = match self.refresh_event().await {
                            Ok(()) => self.poll().await,
                            Err(e) => Err(e),
                        };
                        match polled {
                            Ok(()) => {}
                            Err(Stop::Broke(f)) if !f.err.needs_moderator() => {
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
            }
            self.flush_budget().await?;
        }
    }

    /// One `data:` payload: normally one array of selected questions; several
    /// JSON values in a row (events the server did not separate) are taken
    /// in order.
    pub(super) async fn on_stream_data(&mut self, data: &str) -> Result<(), Stop> {
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

    pub(super) async fn on_stream_value(&mut self, v: Value) -> Result<(), Stop> {
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
            now_selected.insert(w.id.to_string());
            match self.p.absorb(w, Status::Selected) {
                Some((q, true)) => out.push(q),
                Some((_, false)) => {}
                None => fetch.push(w.id.to_string()),
            }
        }
        if !self.arrays_are_deltas {
            let st = self.p.state();
            for id in self.selected.difference(&now_selected) {
                // Our own action already told us where it went.
                if st.known.status(id) == Some(Status::Selected) {
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
    pub(super) async fn fetch_each(&mut self, ids: Vec<String>) -> Result<Vec<String>, Stop> {
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
            let before = self.p.state().known.get(self.p.source, &id);
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
    pub(super) async fn poll(&mut self) -> Result<(), Stop> {
        let event = self.event.clone();
        let started = Instant::now();
        let listed = self.list_and_send(&event).await?.ids;
        let pages = self.pages_all;
        let missing = {
            let mut st = self.p.state();
            let missing = unlisted(st.known.ids(), &st.touched, &listed, started);
            // Only actions after this listing began can matter to later ones.
            st.touched.retain(|_, t| *t >= started);
            missing
        };
        self.poll_extra = match missing.len() {
            0 => 0,
            n if n > MAX_FETCH_MISSING => pages,
            n => n as u64,
        };
        self.fetch_each(missing).await?;
        Ok(())
    }
}

/// What one listing of every question held.
pub(super) struct Listed {
    /// Ids of the questions listed.
    pub(super) ids: HashSet<Str>,
    /// Ids of those selected.
    pub(super) selected: HashSet<String>,
    /// Whether the total stayed put and the ids add up to it.
    pub(super) consistent: bool,
}

/// Known questions missing from a listing of every state that began at
/// `started`, sorted by id; a question our own actions changed or
/// created since is not missing (the listing may predate it).
pub(super) fn unlisted<'a>(
    known: impl Iterator<Item = &'a Str>,
    touched: &HashMap<Str, Instant>,
    listed: &HashSet<Str>,
    started: Instant,
) -> Vec<String> {
    let mut missing: Vec<String> = known
        .filter(|id| !listed.contains(*id))
        .filter(|id| touched.get(*id).is_none_or(|t| *t < started))
        .map(|id| id.to_string())
        .collect();
    missing.sort();
    missing
}
