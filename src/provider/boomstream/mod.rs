//! Boomstream video conferences: conferences are events, conference clients
//! are participants. qadeck lists, shows, creates, updates and deletes
//! conferences, and invites, lists, shows, updates (promote/demote, rename)
//! and removes clients.
//!
//! Every call is `GET {base_url}/{method}?apikey=…&…&format=json&ver=…` with
//! `base_url` defaulting to [`DEFAULT_BASE_URL`]. A
//! `base_url` given as just a host (no `/api/conference` path) gets that path
//! appended, so both readings of "the base URL" work.
//!
//! **The API key is a query parameter.** It is never logged: qadeck logs the
//! method name only, transport errors lose their URL ([`net_error`](crate::provider::http::net_error)), and
//! every message taken from an answer (which may echo the request URI) passes
//! through [`crate::secret::redact`] and [`crate::text::sanitize`]. `Debug`
//! of [`Settings`] hides a literal key.
//!
//! Choices where the platform's documentation is silent or ambiguous (easy to change here):
//! - Any answer may be JSON or XML (see [`wire`]); an answer whose `Status`
//!   is not `Success` — including one without `Status` — is an error with its
//!   message. Errors are classified by the HTTP status, or by a numeric
//!   error code in the answer where there is one ([`wire::error_code`]):
//!   401/403 authentication, 404/410 not found, 429 rate limit, 5xx server,
//!   anything else invalid. The words of a message decide nothing (a name
//!   or e-mail may well contain "key").
//! - `ver` defaults to 1.0, the version that "loads by default", and is then
//!   not sent; another configured version is sent as `ver=`.
//! - `client/delete` of a client already removed ("Client is already
//!   deleted", or `client/info` finding it gone or `is_deleted`) is success,
//!   so a delete retried after a lost answer succeeds.
//! - Invitations land once: after an attempt whose answer was lost
//!   ([`Provider::perform_again`]), `client/list` is read and a client with
//!   the draft's e-mail that is not deleted is taken as the invitation (its
//!   link is what the platform lists, if anything); only when there is none
//!   is `invite` sent again (a second invite would issue a second token).
//! - Roles: a client is a participant or a moderator (`moderator` yes/no);
//!   an update sends only what changes (a rename sends `name`, a promotion
//!   `moderator`), and any other role is refused before sending.
//! - `timeout` ("lifetime of the conference link", example `3600`) is taken
//!   in seconds: a draft's `link_lifetime_min` is sent times 60.
//! - `invite` answers with the *conference* code, not the client's. The new
//!   client's code is `clientCode` when the answer has one, else `code` when
//!   it differs from the conference code, else read from `client/list` (the
//!   newest client with that e-mail). Only the invite answer carries the
//!   invitation link; qadeck remembers it for the session (in memory) and
//!   shows it in later lists.
//! - `client/list` reports removed clients (`is_deleted: yes`); they are
//!   left out.
//! - Boomstream has no row versions: an update is last-writer-wins and the
//!   draft's version is ignored. There is no link renewal (`RenewLink` is
//!   unsupported: remove and invite again) and no one-time links.
//! - Conferences have a title and a description; an event draft with a
//!   start, end, type or content URL is refused (`Unsupported`), not half
//!   done.
//! - `avatarUrl` is sent when given through [`Boomstream::invite`]; the
//!   generic draft has no avatar.
//! - No rate limit is documented; a 429 becomes `RateLimited` with its
//!   `Retry-After`.

mod client;
mod settings;
pub mod wire;

#[cfg(test)]
mod tests;

pub use client::Boomstream;
pub use settings::{DEFAULT_BASE_URL, DEFAULT_POLL_MS, DEFAULT_VER, Settings};

use super::{FeedTx, Provider};
use crate::domain::{
    Capabilities, Delivery, EventDraft, EventInfo, Millis, Op, Outcome, Participant, ProviderError,
    ProviderResult, Question,
};
use crate::text::sanitize;
use async_trait::async_trait;
use client::only_title_and_description;

#[async_trait]
impl Provider for Boomstream {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            participants: true,
            delivery: Delivery::Polling,
            link_lifetime: true,
            invite_needs_email: true,
            rename: true,
            ..Capabilities::none()
        }
    }

    async fn run_feed(&self, tx: FeedTx) {
        super::poll::poll_participants(self, tx, self.poll).await;
    }

    async fn list_events(&self) -> ProviderResult<Vec<EventInfo>> {
        let v = self.call("list", &[]).await?;
        Ok(wire::list(&v, &["conferences", "Conferences"])
            .into_iter()
            .filter_map(wire::conference)
            .collect())
    }

    async fn event_info(&self, id: &str) -> ProviderResult<EventInfo> {
        self.conference_info(id).await
    }

    async fn create_event(&self, draft: &EventDraft) -> ProviderResult<EventInfo> {
        only_title_and_description(draft)?;
        let title = draft.title.as_deref().map(str::trim).unwrap_or("");
        if title.is_empty() {
            return Err(ProviderError::Invalid("a conference needs a title".into()));
        }
        let mut params: Vec<(&str, &str)> = vec![("title", title)];
        if let Some(d) = draft.description.as_deref() {
            params.push(("description", d));
        }
        if let Some(f) = &self.folder_code {
            params.push(("folderCode", f));
        }
        let v = self.call("create", &params).await?;
        let id = wire::text(&v, &["Code", "code"]).ok_or_else(|| {
            ProviderError::Protocol("Boomstream create did not return the conference code".into())
        })?;
        Ok(EventInfo {
            id,
            title: sanitize(title),
            active: None,
            starts: None,
        })
    }

    async fn update_event(&self, id: &str, draft: &EventDraft) -> ProviderResult<EventInfo> {
        only_title_and_description(draft)?;
        let mut params: Vec<(&str, &str)> = vec![("code", id)];
        if let Some(t) = draft
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            params.push(("title", t));
        }
        if let Some(d) = draft.description.as_deref() {
            params.push(("description", d));
        }
        if params.len() == 1 {
            return Err(ProviderError::Invalid(
                "nothing to change: give a title or a description".into(),
            ));
        }
        let v = self.call("update", &params).await?;
        Ok(EventInfo {
            id: wire::text(&v, &["code"]).unwrap_or_else(|| sanitize(id)),
            title: wire::text(&v, &["title"])
                .or_else(|| draft.title.as_deref().map(|t| sanitize(t.trim())))
                .unwrap_or_default(),
            active: None,
            starts: None,
        })
    }

    async fn delete_event(&self, id: &str) -> ProviderResult<()> {
        self.call("delete", &[("code", id)]).await.map(|_| ())
    }

    async fn perform(&self, op: &Op) -> ProviderResult<Outcome> {
        match op {
            Op::AddParticipant { draft } => {
                Ok(Outcome::Participant(self.invite(draft, None).await?))
            }
            Op::UpdateParticipant { id, role, name, .. } => Ok(Outcome::Participant(
                self.update_client(id, role.as_ref(), name.as_deref())
                    .await?,
            )),
            Op::RemoveParticipant { id } => {
                self.delete_client(id).await?;
                Ok(Outcome::ParticipantGone(id.clone()))
            }
            Op::RenewLink { .. } => Err(ProviderError::Unsupported(
                "renewing a link: Boomstream has none; remove the client and invite again".into(),
            )),
            other => Err(ProviderError::Unsupported(format!(
                "{} (Boomstream manages conference clients only)",
                other.label()
            ))),
        }
    }

    async fn perform_again(&self, op: &Op, _queued_at: Millis) -> ProviderResult<Outcome> {
        if let Op::AddParticipant { draft } = op {
            // Clients have no external key: the e-mail identifies them.
            let by_email = crate::domain::ParticipantDraft {
                external_key: None,
                ..draft.clone()
            };
            let all = self.list_participants().await?;
            if let Some(p) = super::poll::find_invited(all, &by_email) {
                tracing::info!(id = %p.id, "boomstream: the invitation had landed");
                return Ok(Outcome::Participant(p));
            }
        }
        self.perform(op).await
    }

    async fn fetch_question(&self, _id: &str) -> ProviderResult<Question> {
        Err(ProviderError::Unsupported(
            "questions (Boomstream manages conference clients only)".into(),
        ))
    }

    async fn list_participants(&self) -> ProviderResult<Vec<Participant>> {
        Ok(self
            .clients()
            .await?
            .into_iter()
            .filter(|(_, deleted)| !deleted)
            .map(|(p, _)| p)
            .collect())
    }
}
