//! STREAMBOXY (virtual event platform): sessions are events, session users
//! are participants. qadeck lists and creates sessions and lists, adds,
//! updates (promote/demote, rename), removes session users and renews their
//! participation links.
//!
//! Endpoints (relative to `base_url`, default [`DEFAULT_BASE_URL`]):
//! - `POST /tenant/{t}/oauth/token` — see [`auth`].
//! - `GET /tenant/{t}/Session`, `POST /tenant/{t}/Session`.
//! - `GET|POST /tenant/{t}/Session/{s}/SessionUser`,
//!   `GET|PATCH|DELETE .../SessionUser/{u}`,
//!   `POST .../SessionUser/{u}/RenewParticipantLink` (body `{}`).
//!
//! Choices where the platform's documentation is silent or ambiguous (easy to change here):
//! - List answers may be a bare array or wrapped (`items`, `value`, ...);
//!   a `nextLink` / `@odata.nextLink` on the same host is followed (100 pages
//!   at most). Field names are matched without case ([`wire`]).
//! - `UpdateParticipant` PATCHes `rowVersion` and only the fields that
//!   change (a rename sends `name`, a promotion `role`) with the version
//!   the moderator saw. A stale one is refused by the platform: HTTP 409 or
//!   412, or a 400 whose error mentions the row version or concurrency, all
//!   become [`ProviderError::Conflict`]; its message is the platform's
//!   `Message` plus the participant's current name and role, read right
//!   after the refusal. Nothing is retried with the newer version: the
//!   moderator decides. An update without any version (a command-line
//!   promote) reads the current version first.
//! - `DELETE` of a session user that is already gone (404) counts as done,
//!   so a delete retried after a lost answer succeeds.
//! - Invitations land once: after an attempt whose answer was lost
//!   ([`Provider::perform_again`]), the session users are listed and one with
//!   the draft's external key (else its e-mail) is taken as the invitation;
//!   only when there is none is it sent again.
//! - An invitation answered "202 Accepted" (or 204) without a body is read
//!   back from the session's users by its e-mail or external key.
//! - An invitation needs a name and an e-mail (the documented body has
//!   both); a session needs a title, a description, start and end, and a
//!   `Lobby` one a `contentUrl`: checked before sending.
//! - Description: 1–500 characters counted as UTF-16 units (as .NET
//!   counts; never fewer than characters), checked before sending. Times are
//!   sent as UTC `yyyy-MM-ddTHH:mm:ssZ`; input may carry any offset or none
//!   (then UTC). `sessionType` defaults to `Lobby`; a content URL must start
//!   with `https://`.
//! - Roles are kept as the platform has them: `Participant`, `Moderator`,
//!   `Speaker`, and any other word verbatim ([`Role::Other`](crate::domain::Role)),
//!   sent back unchanged. `link_lifetime_min` of a draft is
//!   not a STREAMBOXY feature and is ignored; `one_time_link` maps to
//!   `isOneTimeAccessKey`, `notify` to `sendMailNotification`.
//! - Rate limit: 300 calls a second per tenant. One pacer per
//!   (base URL, tenant) is shared by every call of every provider in the
//!   process, token calls included, and spaces calls evenly at 5 % under the
//!   strictest `calls_per_sec` of the tenant's sources (never above 300). A 429 holds the pacer for `Retry-After` (1 s when absent), calls
//!   already waiting for a slot included (the outbox sends several at once),
//!   and the call returns [`ProviderError::RateLimited`]; callers (the outbox, the
//!   feed, the bulk import) retry after that wait.
//! - Errors: the moderator sees `Message`; `ErrorCode`, `OperationId` and
//!   `DetailedMessage` go to the log (tracing, warn level).

pub mod auth;
mod client;
mod pacer;
mod settings;
pub mod wire;

#[cfg(test)]
mod tests;

pub use client::Streamboxy;
pub use pacer::Pacer;
pub use settings::{DEFAULT_BASE_URL, DEFAULT_CALLS_PER_SEC, DEFAULT_POLL_MS, Settings};

use super::{FeedTx, Provider};
use crate::domain::{
    Capabilities, Delivery, EventDraft, EventInfo, Millis, Op, Outcome, Participant, ProviderError,
    ProviderResult, Question,
};
use async_trait::async_trait;
use reqwest::Method;

#[async_trait]
impl Provider for Streamboxy {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            participants: true,
            delivery: Delivery::Polling,
            one_time_link: true,
            renew_link: true,
            invite_needs_email: true,
            rename: true,
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
                self.update(id, role.as_ref(), name.as_deref(), version.as_deref())
                    .await?,
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

    async fn perform_again(&self, op: &Op, _queued_at: Millis) -> ProviderResult<Outcome> {
        if let Op::AddParticipant { draft } = op {
            let all = self.list_participants().await?;
            if let Some(p) = super::poll::find_invited(all, draft) {
                tracing::info!(id = %p.id, "streamboxy: the invitation had landed");
                return Ok(Outcome::Participant(p));
            }
        }
        self.perform(op).await
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
