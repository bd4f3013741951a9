//! The streams.live provider: channel questions and chat, polled.
//!
//! What the platform's API gives a moderator, and how qadeck uses it:
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
//! Readings of the platform's documentation where it is silent or ambiguous (each kept in
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
//!   user" — a documentation slip) and `userId` ("the id of the user").
//!   qadeck sends the channel slug, falling back to the channel's
//!   `thread_id` and then the channel id if the platform does not know the
//!   thread; `userId` is the logged-in user's id (`GET profile`), the
//!   channel owner's when the profile names none. `messages/delete` takes
//!   `thread_slug`, documented as "the slug of the channel": the slug is
//!   sent, with the thread id as the fallback. Whichever works is kept.
//! - **Chat deletions.** `thread/read` answers a window of recent messages.
//!   A known message missing from a later answer is reported as
//!   [`Feed::MessageGone`](crate::domain::Feed::MessageGone) only when it is
//!   newer than the oldest message of that answer (inside the span it
//!   covers); older ones scrolled out of the window. A message flagged
//!   deleted is gone too. An empty answer removes nothing.
//! - **Questions.** `questions/read` is taken as the complete list, but a
//!   question missing from one answer is kept until the next poll confirms it.
//! - **Exactly once.** After an unknown outcome (`perform_again`) a question
//!   is looked for by its text, created since it was queued (a minute's
//!   slack for clocks), and a chat post by its text, parent and qadeck's
//!   author name, before anything is sent again. An archive or a message
//!   delete answered "not found" on such a retry is done.
//! - **Message length.** `data` "must not be greater than 300 characters";
//!   the server is Laravel, whose `max` counts characters with `mb_strlen`,
//!   i.e. Unicode scalar values, which is what [`check_message`] counts.
//! - **Open/close.** The `PUT events/{id}` body documents `questionsEnabled`
//!   while the event object has `questions_enabled`: both are sent.
//!   [`Feed::OpenState`](crate::domain::Feed::OpenState) is reported at start, after every change made
//!   through qadeck, and re-read about every 30 s.
//! - **Reports.** The download endpoints document no parameters; `eventId`
//!   is sent (as `stats/parse` takes it) and the body is returned as is.
//! - **Errors.** `{"error":{"code","title","message","messages"}}` with a
//!   body `code` that may differ from the HTTP status: see
//!   [`wire::classify`].
//! - **`list_events`** lists the active channels (status 0), all pages;
//!   [`StreamsLive::list_events_with`] takes any status or none.

pub mod auth;
mod chat;
mod client;
mod feed;
mod settings;
pub mod wire;

#[cfg(test)]
mod tests;

pub use chat::{MAX_MESSAGE_CHARS, check_message};
pub use client::{EventStatus, PAGE_SIZE, StreamsLive};
pub use settings::{DEFAULT_BASE_URL, DEFAULT_POLL_MS, MIN_POLL_MS, Settings, api_base};

use self::client::json;
use crate::domain::{
    Capabilities, Delivery, EventInfo, Message, Millis, Op, Outcome, ProviderError, ProviderResult,
    Question, ReportKind, Status, VoteKind,
};
use crate::provider::{FeedTx, Provider};
use crate::text::sanitize;
use async_trait::async_trait;
use reqwest::Method;

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
        self.run_polls(tx).await;
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

    /// Creates look for their item first (see [`StreamsLive::submit_again`],
    /// [`StreamsLive::post_message_again`]); an archive or a message delete
    /// that the platform no longer finds (HTTP 500 carrying 404) already
    /// happened.
    async fn perform_again(&self, op: &Op, queued_at: Millis) -> ProviderResult<Outcome> {
        match op {
            Op::SubmitQuestion { text } => self.submit_again(text, queued_at).await,
            Op::PostMessage { text, reply_to } => {
                self.post_message_again(text, reply_to.as_deref(), queued_at)
                    .await
            }
            Op::SetStatus {
                id,
                status: Status::Rejected,
            } => match self.perform(op).await {
                Err(ProviderError::NotFound(e)) => {
                    tracing::info!("streams.live: archive again found nothing ({e}): done before");
                    Ok(self.archived_outcome(id))
                }
                other => other,
            },
            Op::DeleteMessage { id } => match self.perform(op).await {
                Err(ProviderError::NotFound(_)) => {
                    self.local().chat_known.remove(id);
                    Ok(Outcome::MessageGone(id.clone()))
                }
                other => other,
            },
            _ => self.perform(op).await,
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
