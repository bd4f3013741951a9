//! Boomstream video conferences: conferences are events, conference clients
//! are participants. qadeck lists, shows, creates, updates and deletes
//! conferences, and invites, lists, shows, updates (promote/demote, rename)
//! and removes clients.
//!
//! Every call is `GET {base_url}/{method}?apikey=…&…&format=json&ver=…` with
//! `base_url` defaulting to `https://boomstream.com/api/conference`. A
//! `base_url` given as just a host (no `/api/conference` path) gets that path
//! appended, so both readings of "the base URL" work.
//!
//! **The API key is a query parameter.** It is never logged: qadeck logs the
//! method name only, transport errors lose their URL ([`net_error`]), and
//! every message taken from an answer (which may echo the request URI) passes
//! through [`crate::secret::redact`] and [`crate::text::sanitize`]. `Debug`
//! of [`Settings`] hides a literal key.
//!
//! Choices where the document is silent or ambiguous (easy to change here):
//! - Any answer may be JSON or XML (see [`wire`]); an answer whose `Status`
//!   is not `Success` — including one without `Status` — is an error with its
//!   message. HTTP 401/403 or a message about the key is an authentication
//!   error; "not found" messages are `NotFound`; the rest `Invalid`.
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

pub mod wire;

use super::http::{self, net_error};
use super::{BuildCtx, FeedTx, Provider, SourceSpec};
use crate::domain::{
    Capabilities, Delivery, EventDraft, EventInfo, Op, Outcome, Participant, ParticipantDraft,
    ProviderError, ProviderResult, Question, Role, SourceId,
};
use crate::secret::{Secret, SecretSource, redact};
use crate::text::sanitize;
use async_trait::async_trait;
use reqwest::Url;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const DEFAULT_BASE_URL: &str = "https://boomstream.com/api/conference";
/// The newest API version the document describes.
pub const DEFAULT_VER: &str = "1.2";
pub const DEFAULT_POLL_MS: u64 = 10_000;

/// `[[source]] provider = "boomstream"` settings.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default = "default_name")]
    pub name: String,
    /// Conference code; `None` to pick one.
    pub event: Option<String>,
    /// The project API key written in the file (prefer `_env` or `_cmd`).
    pub api_key: Option<String>,
    pub api_key_env: Option<String>,
    pub api_key_cmd: Option<String>,
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// API version sent as `ver=` (1.0, 1.1, 1.2 documented).
    #[serde(default = "default_ver")]
    pub ver: String,
    /// Folder for conferences qadeck creates (`folderCode`).
    pub folder_code: Option<String>,
    /// How often the client list is polled.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
}

fn default_name() -> String {
    "boomstream".into()
}
fn default_base_url() -> String {
    DEFAULT_BASE_URL.into()
}
fn default_ver() -> String {
    DEFAULT_VER.into()
}
fn default_poll_ms() -> u64 {
    DEFAULT_POLL_MS
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            name: default_name(),
            event: None,
            api_key: None,
            api_key_env: None,
            api_key_cmd: None,
            base_url: default_base_url(),
            ver: default_ver(),
            folder_code: None,
            poll_ms: default_poll_ms(),
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("boomstream::Settings")
            .field("name", &self.name)
            .field("event", &self.event)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("api_key_env", &self.api_key_env)
            .field("api_key_cmd", &self.api_key_cmd)
            .field("base_url", &self.base_url)
            .field("ver", &self.ver)
            .field("folder_code", &self.folder_code)
            .field("poll_ms", &self.poll_ms)
            .finish()
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
        Ok(Arc::new(Boomstream::new(self, ctx)?))
    }
}

/// The Boomstream provider for one conference.
pub struct Boomstream {
    http: reqwest::Client,
    base: Url,
    key: Secret,
    ver: String,
    folder_code: Option<String>,
    conference: Option<String>,
    source: SourceId,
    poll: Duration,
    /// Invitation links by client code (only `invite` returns them).
    links: Mutex<HashMap<String, String>>,
}

impl Boomstream {
    /// Checks the settings and resolves the API key.
    pub fn new(settings: &Settings, ctx: &BuildCtx) -> Result<Boomstream, String> {
        let key = SecretSource::pick(
            "api_key",
            settings.api_key.clone(),
            settings.api_key_env.clone(),
            settings.api_key_cmd.clone(),
        )
        .map_err(|e| format!("boomstream: {e}"))?
        .ok_or("boomstream: set `api_key_env` or `api_key_cmd` (or `api_key`)")?
        .resolve()
        .map_err(|e| format!("boomstream: {e}"))?;
        let ver = settings.ver.trim().to_string();
        if ver.is_empty() || !ver.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(format!("boomstream: `ver` must look like 1.2, not `{ver}`"));
        }
        Ok(Boomstream {
            http: http::client(),
            base: api_base(&settings.base_url)?,
            key,
            ver,
            folder_code: settings
                .folder_code
                .clone()
                .filter(|f| !f.trim().is_empty()),
            conference: ctx
                .event
                .clone()
                .or_else(|| settings.event.clone())
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            source: ctx.source,
            poll: Duration::from_millis(settings.poll_ms.max(100)),
            links: Mutex::new(HashMap::new()),
        })
    }

    fn conference(&self) -> ProviderResult<&str> {
        self.conference.as_deref().ok_or_else(|| {
            ProviderError::Invalid(
                "no Boomstream conference chosen: set `event` to a conference code".into(),
            )
        })
    }

    /// One API call; the answer has `Status: Success` or this is an error.
    async fn call(&self, method: &str, params: &[(&str, &str)]) -> ProviderResult<Value> {
        let mut url = self.base.clone();
        if let Ok(mut p) = url.path_segments_mut() {
            p.pop_if_empty();
            p.extend(method.split('/'));
        }
        let mut query: Vec<(&str, &str)> = vec![("apikey", self.key.expose())];
        query.extend_from_slice(params);
        query.push(("format", "json"));
        query.push(("ver", &self.ver));
        let started = std::time::Instant::now();
        let resp = self
            .http
            .get(url)
            .query(&query)
            .send()
            .await
            .map_err(net_error)?;
        let status = resp.status().as_u16();
        tracing::debug!(
            method,
            status,
            ms = started.elapsed().as_millis() as u64,
            "boomstream"
        );
        if status == 429 {
            let ms = http::retry_after_ms(resp.headers(), 1000);
            return Err(ProviderError::RateLimited { retry_after_ms: ms });
        }
        let body = http::read_body(resp).await?;
        let answer = wire::parse_answer(&body);
        let failure = match &answer {
            Some(v) if (200..300).contains(&status) => match wire::check_status(v) {
                Ok(()) => return Ok(answer.unwrap_or_default()),
                Err(m) => m,
            },
            Some(v) => wire::check_status(v)
                .err()
                .unwrap_or_else(|| format!("HTTP {status}")),
            None if (200..300).contains(&status) => {
                return Err(ProviderError::Protocol(format!(
                    "Boomstream {method}: the answer is neither JSON nor XML"
                )));
            }
            None => format!("HTTP {status}"),
        };
        let message = sanitize(&redact(&failure));
        tracing::warn!(method, status, message = %message, "boomstream call failed");
        let lower = message.to_ascii_lowercase();
        let text = format!("Boomstream {method}: {message}");
        Err(
            if matches!(status, 401 | 403)
                || lower.contains("key")
                || lower.contains("auth")
                || lower.contains("access denied")
            {
                ProviderError::Auth(text)
            } else if status == 404 || lower.contains("not found") || lower.contains("not exist") {
                ProviderError::NotFound(text)
            } else if status >= 500 {
                ProviderError::Server(text)
            } else {
                ProviderError::Invalid(text)
            },
        )
    }

    fn remember_link(&self, p: &mut Participant) {
        let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        match &p.link {
            Some(l) => {
                links.insert(p.id.clone(), l.clone());
            }
            None => p.link = links.get(&p.id).cloned(),
        }
    }

    /// The conference's clients, removed ones included, with the flag.
    async fn clients(&self) -> ProviderResult<Vec<(Participant, bool)>> {
        let v = self
            .call("client/list", &[("code", self.conference()?)])
            .await?;
        Ok(wire::list(&v, &["Clients", "clients"])
            .into_iter()
            .filter_map(|c| wire::client(c, self.source))
            .map(|(mut p, deleted)| {
                self.remember_link(&mut p);
                (p, deleted)
            })
            .collect())
    }

    /// `client/info` for one client.
    pub async fn client_info(&self, code: &str) -> ProviderResult<Participant> {
        let v = self.call("client/info", &[("code", code)]).await?;
        let c = wire::client_info(&v).ok_or_else(|| {
            ProviderError::Protocol("Boomstream client/info holds no client".into())
        })?;
        let (mut p, deleted) = wire::client(c, self.source).ok_or_else(|| {
            ProviderError::Protocol("Boomstream client/info holds no code".into())
        })?;
        if deleted {
            return Err(ProviderError::NotFound(format!(
                "client {code} was removed"
            )));
        }
        self.remember_link(&mut p);
        Ok(p)
    }

    /// `conference/info` for one conference.
    pub async fn conference_info(&self, code: &str) -> ProviderResult<EventInfo> {
        let v = self.call("info", &[("code", code)]).await?;
        Ok(EventInfo {
            id: wire::text(&v, &["code"]).unwrap_or_else(|| sanitize(code)),
            title: wire::text(&v, &["title"]).unwrap_or_default(),
            active: None,
            starts: None,
        })
    }

    /// Invites one client (`invite`), with an optional avatar URL.
    pub async fn invite(
        &self,
        d: &ParticipantDraft,
        avatar_url: Option<&str>,
    ) -> ProviderResult<Participant> {
        let conference = self.conference()?;
        let email = d
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .ok_or_else(|| ProviderError::Invalid("Boomstream invites need an e-mail".into()))?;
        let timeout = d.link_lifetime_min.map(|m| (u64::from(m) * 60).to_string());
        let mut params: Vec<(&str, &str)> = vec![("code", conference), ("email", email)];
        if !d.name.trim().is_empty() {
            params.push(("name", d.name.trim()));
        }
        if let Some(t) = &timeout {
            params.push(("timeout", t));
        }
        params.push(("notifyEmail", wire::yes_no(d.notify)));
        params.push(("moderator", wire::yes_no(d.role == Role::Moderator)));
        if let Some(a) = avatar_url.filter(|a| !a.trim().is_empty()) {
            params.push(("avatarUrl", a));
        }
        let v = self.call("invite", &params).await?;
        let link = wire::text(&v, &["inviteLink", "link"]);
        let answered_code = wire::text(&v, &["clientCode"])
            .or_else(|| wire::text(&v, &["code"]).filter(|c| c != conference && !c.is_empty()));
        let id = match answered_code {
            Some(c) => c,
            None => self
                .clients()
                .await
                .ok()
                .and_then(|all| {
                    all.into_iter()
                        .filter(|(p, deleted)| {
                            !deleted
                                && p.email
                                    .as_deref()
                                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
                        })
                        .map(|(p, _)| p.id)
                        .next_back()
                })
                // Not listed yet: the e-mail stands in until the next poll.
                .unwrap_or_else(|| sanitize(email)),
        };
        let mut p = Participant {
            source: self.source,
            id,
            name: wire::text(&v, &["name"]).unwrap_or_else(|| sanitize(d.name.trim())),
            email: wire::text(&v, &["email"]).or_else(|| Some(sanitize(email))),
            role: match wire::flag(&v, &["isModerator", "moderator"]) {
                Some(true) => Role::Moderator,
                Some(false) => Role::Participant,
                None => d.role,
            },
            link,
            version: None,
            external_key: None,
        };
        self.remember_link(&mut p);
        Ok(p)
    }

    async fn update_client(&self, id: &str, role: Role, name: &str) -> ProviderResult<Participant> {
        let mut params: Vec<(&str, &str)> = vec![("code", id)];
        if !name.trim().is_empty() {
            params.push(("name", name.trim()));
        }
        params.push(("moderator", wire::yes_no(role == Role::Moderator)));
        self.call("client/update", &params).await?;
        match self.client_info(id).await {
            Ok(p) => Ok(p),
            Err(e) => {
                tracing::debug!(error = %e, "boomstream client/info after update failed");
                let mut p = Participant {
                    source: self.source,
                    id: id.to_string(),
                    name: sanitize(name.trim()),
                    email: None,
                    role,
                    link: None,
                    version: None,
                    external_key: None,
                };
                self.remember_link(&mut p);
                Ok(p)
            }
        }
    }
}

/// Boomstream conferences have a title and a description only: a draft
/// asking for more is refused rather than half done.
fn only_title_and_description(draft: &EventDraft) -> ProviderResult<()> {
    let extra: Vec<&str> = [
        (draft.start.is_some(), "start"),
        (draft.end.is_some(), "end"),
        (draft.kind.is_some(), "type"),
        (draft.content_url.is_some(), "content URL"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect();
    if extra.is_empty() {
        Ok(())
    } else {
        Err(ProviderError::Unsupported(format!(
            "Boomstream conferences have no {}: only a title and a description",
            extra.join(", ")
        )))
    }
}

/// The API root: `…/api/conference` as given, or appended to a bare host.
fn api_base(s: &str) -> Result<Url, String> {
    let mut url = Url::parse(s.trim()).map_err(|e| format!("boomstream: bad `base_url`: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err("boomstream: `base_url` must be an http(s) URL".into());
    }
    url.set_query(None);
    let path = url.path().trim_end_matches('/').to_string();
    if !path.ends_with("/api/conference")
        && let Ok(mut p) = url.path_segments_mut()
    {
        p.pop_if_empty();
        p.extend(["api", "conference"]);
    }
    Ok(url)
}

#[async_trait]
impl Provider for Boomstream {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            participants: true,
            delivery: Delivery::Polling,
            link_lifetime: true,
            invite_needs_email: true,
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
                self.update_client(id, *role, name).await?,
            )),
            Op::RemoveParticipant { id } => {
                self.call("client/delete", &[("code", id)]).await?;
                self.links
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(id);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_readings() {
        assert_eq!(
            api_base(DEFAULT_BASE_URL).unwrap().as_str(),
            DEFAULT_BASE_URL
        );
        assert_eq!(
            api_base("http://127.0.0.1:8080").unwrap().as_str(),
            "http://127.0.0.1:8080/api/conference"
        );
        assert_eq!(
            api_base("http://127.0.0.1:8080/api/conference/")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8080/api/conference/"
        );
        assert!(api_base("ftp://x").is_err());
    }

    #[test]
    fn settings_hide_key_and_reject_unknown() {
        let s: Settings = toml::from_str("api_key = \"bk-secret-123\"\nevent = \"c1\"\n").unwrap();
        assert_eq!(s.ver, "1.2");
        assert!(!format!("{s:?}").contains("bk-secret-123"));
        assert!(toml::from_str::<Settings>("apikey = \"x\"\n").is_err());
    }
}
