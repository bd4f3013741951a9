//! PostoBox ([`DEFAULT_BASE_URL`]): events, questions with a
//! moderation status, a vote toggle, an SSE stream of selected questions
//! (Enterprise plan only) and organization usage. This module follows the
//! platform's API documentation and records here what it chose where that
//! documentation is silent.
//!
//! # Feed
//! 1. Open the stream (unless the plan is known to lack it), *then* list every
//!    question of the event in every state (all pages, `limit=100`, oldest
//!    first) and `GET` the event (its `active` flag). Opening the stream
//!    before listing closes the gap between the two: what changes meanwhile
//!    waits in the stream. Each page is merged as it arrives and what
//!    changed goes out as its own [`Feed::Upsert`] (no one holds the whole
//!    listing); a consistent listing ends with [`Feed::Listed`], its ids,
//!    so the core drops what the platform no longer has.
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
//!    listing decides. The event (open or closed, `active`) is read again
//!    with every poll, and counted in its pace.
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
//! # Choices where the platform's documentation is silent
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

mod client;
mod errors;
mod feed;
mod ingest;
mod known;
pub mod pacing;
mod settings;
pub mod wire;

#[cfg(test)]
mod tests;

pub use client::Postobox;
pub use errors::PLAN_UPGRADE_REQUIRED;
pub use pacing::{BudgetView, PollPolicy, poll_interval};
pub use settings::{DEFAULT_BASE_URL, Settings, Timing};

use self::errors::Ctx;
use self::feed::FeedLoop;
use super::{FeedTx, Provider};
use crate::domain::{
    Capabilities, Connection, Delivery, EventInfo, Feed, Millis, Op, Outcome, ProviderError,
    ProviderResult, Question, RateBudget, Status, VoteKind,
};
use async_trait::async_trait;
use reqwest::Method;
use serde_json::json;
use std::collections::HashSet;

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
            .list_all(&["events"], None, &Ctx::ListEvents, wire::event_page, |e| {
                &e.id
            })
            .await
            .map_err(|f| f.err)?;
        let mut seen = HashSet::new();
        Ok(listing
            .items
            .into_iter()
            .filter(|e| seen.insert(e.id.clone()))
            .collect())
    }

    /// A submit whose earlier attempt may have landed is looked for first:
    /// same text, created since it was queued (a minute's slack for
    /// clocks); sent again only when it is not there. Everything else is
    /// safe to repeat (a DELETE answered 404 is done).
    async fn perform_again(&self, op: &Op, queued_at: Millis) -> ProviderResult<Outcome> {
        if let Op::SubmitQuestion { text } = op {
            self.mark_active();
            let event = self.event_id()?;
            let (listed, _, _) = self
                .list_questions(event, None, 1)
                .await
                .map_err(|f| f.err)?;
            let since = queued_at - 60_000;
            let landed = listed
                .iter()
                .filter(|w| w.text.as_deref().map(str::trim) == Some(text.trim()))
                .filter(|w| w.created_at.is_some_and(|c| c >= since))
                .max_by_key(|w| w.created_at);
            if let Some((q, _)) = landed.and_then(|w| self.absorb(w, Status::Pending)) {
                tracing::info!("postobox: the earlier submit landed; not sending it again");
                return Ok(Outcome::Question(q));
            }
        }
        self.perform(op).await
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

    /// The last rate-limit budget the headers reported.
    fn budget(&self) -> Option<RateBudget> {
        self.state().rate.map(|r| r.budget)
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
