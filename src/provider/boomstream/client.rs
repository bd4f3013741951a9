//! The Boomstream HTTP client: building the provider, the one call shape
//! (`GET` with the key as a query parameter), clients and conferences.

use super::settings::{DEFAULT_VER, api_base};
use super::{Settings, wire};
use crate::domain::{
    EventDraft, EventInfo, Participant, ParticipantDraft, ProviderError, ProviderResult, Role,
    SourceId,
};
use crate::provider::BuildCtx;
use crate::provider::BuildError;
use crate::provider::http::{self, net_error};
use crate::secret::{Secret, SecretSource, redact};
use crate::text::sanitize;
use reqwest::Url;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// The Boomstream provider for one conference.
pub struct Boomstream {
    pub(super) http: reqwest::Client,
    pub(super) base: Url,
    pub(super) key: Secret,
    pub(super) ver: String,
    pub(super) folder_code: Option<String>,
    pub(super) conference: Option<String>,
    pub(super) source: SourceId,
    pub(super) poll: Duration,
    /// Invitation links by client code (only `invite` returns them).
    pub(super) links: Mutex<HashMap<String, String>>,
}

impl Boomstream {
    /// Checks the settings and resolves the API key.
    pub fn new(settings: &Settings, ctx: &BuildCtx) -> Result<Boomstream, BuildError> {
        let key = SecretSource::pick(
            "api_key",
            settings.api_key.clone(),
            settings.api_key_env.clone(),
            settings.api_key_cmd.clone(),
        )
        .map_err(|e| BuildError::Secret(e.to_string()).within("boomstream"))?
        .ok_or_else(|| {
            BuildError::MissingSecret {
                key: "api_key",
                literal_aside: true,
            }
            .within("boomstream")
        })?
        .resolve()
        .map_err(|e| BuildError::Secret(e.to_string()).within("boomstream"))?;
        let ver = settings.ver.trim().to_string();
        if ver.is_empty() || !ver.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(BuildError::invalid(
                "ver",
                format!("`ver` must look like 1.2, not `{ver}`"),
            )
            .within("boomstream"));
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

    pub(super) fn conference(&self) -> ProviderResult<&str> {
        self.conference.as_deref().ok_or_else(|| {
            ProviderError::Invalid(
                "no Boomstream conference chosen: set `event` to a conference code".into(),
            )
        })
    }

    /// One API call; the answer has `Status: Success` or this is an error.
    pub(super) async fn call(
        &self,
        method: &str,
        params: &[(&str, &str)],
    ) -> ProviderResult<Value> {
        let mut url = self.base.clone();
        if let Ok(mut p) = url.path_segments_mut() {
            p.pop_if_empty();
            p.extend(method.split('/'));
        }
        let mut query: Vec<(&str, &str)> = vec![("apikey", self.key.expose())];
        query.extend_from_slice(params);
        query.push(("format", "json"));
        // 1.0 "loads by default": only another version is asked for.
        if self.ver != DEFAULT_VER {
            query.push(("ver", &self.ver));
        }
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
        // An error code in the answer counts like the HTTP status it names.
        let code = answer.as_ref().and_then(wire::error_code).unwrap_or(status);
        tracing::warn!(method, status, code, message = %message, "boomstream call failed");
        let text = format!("Boomstream {method}: {message}");
        Err(match code {
            401 | 403 => ProviderError::Auth(text),
            404 | 410 => ProviderError::NotFound(text),
            429 => ProviderError::RateLimited {
                retry_after_ms: 1000,
            },
            c if c >= 500 => ProviderError::Server(text),
            _ => ProviderError::Invalid(text),
        })
    }

    pub(super) fn remember_link(&self, p: &mut Participant) {
        let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        match &p.link {
            Some(l) => {
                links.insert(p.id.clone(), l.clone());
            }
            None => p.link = links.get(&p.id).cloned(),
        }
    }

    /// The conference's clients, removed ones included, with the flag.
    pub(super) async fn clients(&self) -> ProviderResult<Vec<(Participant, bool)>> {
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
        params.push(("moderator", moderator_flag(&d.role)?));
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
                None => d.role.clone(),
            },
            link,
            version: None,
            external_key: None,
        };
        self.remember_link(&mut p);
        Ok(p)
    }

    /// `client/update` with only what changes ("specify only what you want
    /// to change"), then the client as the platform now has it.
    pub(super) async fn update_client(
        &self,
        id: &str,
        role: Option<&Role>,
        name: Option<&str>,
    ) -> ProviderResult<Participant> {
        let name = name.map(str::trim);
        if name.is_some_and(str::is_empty) {
            return Err(ProviderError::Invalid("a client needs a name".into()));
        }
        let mut params: Vec<(&str, &str)> = vec![("code", id)];
        if let Some(n) = name {
            params.push(("name", n));
        }
        if let Some(r) = role {
            params.push(("moderator", moderator_flag(r)?));
        }
        if params.len() == 1 {
            return Err(ProviderError::Invalid("nothing to change".into()));
        }
        self.call("client/update", &params).await?;
        match self.client_info(id).await {
            Ok(p) => Ok(p),
            Err(e) => {
                tracing::debug!(error = %e, "boomstream client/info after update failed");
                let known = self
                    .clients()
                    .await
                    .ok()
                    .and_then(|all| all.into_iter().find(|(p, _)| p.id == id));
                let mut p = match known {
                    Some((p, _)) => p,
                    None => Participant {
                        source: self.source,
                        id: id.to_string(),
                        name: name.map(sanitize).unwrap_or_default(),
                        email: None,
                        role: role.cloned().unwrap_or(Role::Participant),
                        link: None,
                        version: None,
                        external_key: None,
                    },
                };
                self.remember_link(&mut p);
                Ok(p)
            }
        }
    }

    /// `client/delete`; a client already removed (an earlier attempt whose
    /// answer was lost) counts as removed.
    pub(super) async fn delete_client(&self, id: &str) -> ProviderResult<()> {
        match self.call("client/delete", &[("code", id)]).await {
            Ok(_) | Err(ProviderError::NotFound(_)) => {}
            Err(ProviderError::Invalid(msg)) => {
                // The documented repeat answer "Client is already deleted"
                // has no status of its own: confirmed by id, or taken at
                // its word when `client/info` cannot tell.
                match self.client_info(id).await {
                    Err(ProviderError::NotFound(_)) => {}
                    _ if msg.to_ascii_lowercase().contains("already deleted") => {}
                    _ => return Err(ProviderError::Invalid(msg)),
                }
            }
            Err(e) => return Err(e),
        }
        self.links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        Ok(())
    }
}

/// `moderator=yes|no`; Boomstream knows no other role.
fn moderator_flag(role: &Role) -> ProviderResult<&'static str> {
    match role {
        Role::Moderator => Ok("yes"),
        Role::Participant => Ok("no"),
        other => Err(ProviderError::Invalid(format!(
            "Boomstream clients are participants or moderators, not {other}"
        ))),
    }
}

/// Boomstream conferences have a title and a description only: a draft
/// asking for more is refused rather than half done.
pub(super) fn only_title_and_description(draft: &EventDraft) -> ProviderResult<()> {
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
