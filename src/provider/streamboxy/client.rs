//! The STREAMBOXY HTTP client: building the provider, paced and
//! authenticated calls, paged listings and session-user requests.

use super::settings::parse_base;
use super::{Pacer, Settings, auth, wire};
use crate::domain::{Participant, ProviderError, ProviderResult, SourceId};
use crate::provider::BuildError;
use crate::provider::http::{self, net_error};
use crate::provider::{BuildCtx, Provider};
use reqwest::{Method, Url};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// A successful answer.
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) body: Vec<u8>,
}

/// The STREAMBOXY provider for one session.
pub struct Streamboxy {
    pub(super) http: reqwest::Client,
    pub(super) base: Url,
    pub(super) tenant: String,
    pub(super) session: Option<String>,
    pub(super) source: SourceId,
    pub(super) auth: auth::Auth,
    pub(super) pacer: Arc<Pacer>,
    pub(super) poll: Duration,
    /// The platform sent row versions as numbers: send them back as numbers.
    pub(super) numeric_versions: AtomicBool,
}

impl Streamboxy {
    /// Checks the settings and resolves the client secret.
    pub fn new(settings: &Settings, ctx: &BuildCtx) -> Result<Streamboxy, BuildError> {
        let tenant = settings.tenant.trim().to_string();
        if tenant.is_empty() {
            return Err(BuildError::invalid("tenant", "`tenant` is empty").within("streamboxy"));
        }
        let client_id = settings.client_id.trim().to_string();
        if client_id.is_empty() {
            return Err(
                BuildError::invalid("client_id", "`client_id` is empty").within("streamboxy")
            );
        }
        let secret = settings
            .secret_source()
            .map_err(|e| BuildError::Secret(e.to_string()).within("streamboxy"))?
            .ok_or_else(|| {
                BuildError::MissingSecret {
                    key: "client_secret",
                    literal_aside: true,
                }
                .within("streamboxy")
            })?
            .resolve()
            .map_err(|e| BuildError::Secret(e.to_string()).within("streamboxy"))?;
        let base = parse_base(&settings.base_url)?;
        let token_url = segments(&base, &["tenant", &tenant, "oauth", "token"]);
        let session = ctx
            .event
            .clone()
            .or_else(|| settings.event.clone())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let http = http::client();
        let pacer = Pacer::shared(&format!("{base}|{tenant}"), settings.calls_per_sec);
        Ok(Streamboxy {
            auth: auth::Auth::new(token_url, client_id, secret, http.clone(), pacer.clone()),
            http,
            pacer,
            base,
            tenant,
            session,
            source: ctx.source,
            poll: Duration::from_millis(settings.poll_ms.max(100)),
            numeric_versions: AtomicBool::new(false),
        })
    }

    pub(super) fn session(&self) -> ProviderResult<&str> {
        self.session.as_deref().ok_or_else(|| {
            ProviderError::Invalid(
                "no STREAMBOXY session chosen: set `event` to a session id".into(),
            )
        })
    }

    pub(super) fn tenant_url(&self, rest: &[&str]) -> Url {
        let mut all = vec!["tenant", self.tenant.as_str()];
        all.extend_from_slice(rest);
        segments(&self.base, &all)
    }

    pub(super) fn users_url(&self, rest: &[&str]) -> ProviderResult<Url> {
        let mut all = vec!["Session", self.session()?, "SessionUser"];
        all.extend_from_slice(rest);
        Ok(self.tenant_url(&all))
    }

    /// One call: paced, with the bearer token, renewing it once on a 401.
    pub(super) async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> ProviderResult<Reply> {
        let what = format!("{method} {}", url.path());
        let mut token = self.auth.bearer().await?;
        for attempt in 0..2 {
            self.pacer.wait().await;
            let started = Instant::now();
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.expose())
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await.map_err(net_error)?;
            let status = resp.status().as_u16();
            tracing::debug!(
                call = %what,
                status,
                ms = started.elapsed().as_millis() as u64,
                "streamboxy"
            );
            if status == 401 && attempt == 0 {
                token = self.auth.rejected(&token).await?;
                continue;
            }
            if status == 429 {
                let ms = http::retry_after_ms(resp.headers(), 1000);
                self.pacer.hold(Duration::from_millis(ms));
                tracing::info!(call = %what, retry_after_ms = ms, "streamboxy rate limit hit");
                return Err(ProviderError::RateLimited { retry_after_ms: ms });
            }
            let bytes = http::read_body(resp).await?;
            if (200..300).contains(&status) {
                return Ok(Reply {
                    status,
                    body: bytes,
                });
            }
            return Err(self.error(&what, status, &bytes));
        }
        Err(ProviderError::Auth(
            "STREAMBOXY refused a freshly issued token (401)".into(),
        ))
    }

    /// Maps an error answer: `Message` for the moderator, the rest logged.
    pub(super) fn error(&self, what: &str, status: u16, body: &[u8]) -> ProviderError {
        let e = wire::ApiError::parse(body);
        let redact = crate::secret::redact;
        tracing::warn!(
            call = %what,
            status,
            error_code = e.code.as_deref().unwrap_or(""),
            operation_id = e.operation_id.as_deref().unwrap_or(""),
            detail = %redact(e.detail.as_deref().unwrap_or("")),
            message = %redact(e.message.as_deref().unwrap_or("")),
            "streamboxy call failed"
        );
        let msg = redact(e.message.as_deref().unwrap_or(match status {
            400 => "the platform refused the request",
            401 => "not authorized",
            402 => "this feature needs a paid plan",
            403 => "not allowed",
            404 => "not found",
            409 => "conflict",
            _ => "the platform failed",
        }));
        match status {
            409 | 412 => ProviderError::Conflict(msg),
            400 | 422 if e.mentions_concurrency() => ProviderError::Conflict(msg),
            400 | 422 => ProviderError::Invalid(msg),
            401 => ProviderError::Auth(msg),
            402 => ProviderError::Forbidden(format!("payment required: {msg}")),
            403 => ProviderError::Forbidden(msg),
            404 | 410 => ProviderError::NotFound(msg),
            s if s >= 500 => ProviderError::Server(format!("HTTP {s}: {msg}")),
            s => ProviderError::Protocol(format!("HTTP {s}: {msg}")),
        }
    }

    pub(super) fn json(reply: &Reply) -> ProviderResult<Value> {
        serde_json::from_slice(&reply.body).map_err(|_| {
            ProviderError::Protocol(format!(
                "STREAMBOXY answered HTTP {} without JSON",
                reply.status
            ))
        })
    }

    /// Every item of a list, following same-host next links.
    pub(super) async fn get_all(&self, url: Url) -> ProviderResult<Vec<Value>> {
        let mut out = Vec::new();
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            let reply = self.call(Method::GET, url.clone(), None).await?;
            // 204 or an empty body: an empty list.
            if reply.body.iter().all(u8::is_ascii_whitespace) {
                break;
            }
            let v = Self::json(&reply)?;
            let items = wire::items(&v).ok_or_else(|| {
                ProviderError::Protocol("STREAMBOXY list answer holds no list".into())
            })?;
            out.extend(items.iter().cloned());
            if pages < 100
                && let Some(link) = wire::next_link(&v)
                && let Ok(n) = url.join(&link)
                && n.origin() == self.base.origin()
                && n != url
            {
                next = Some(n);
            }
        }
        Ok(out)
    }

    pub(super) fn to_participant(&self, v: &Value) -> Option<Participant> {
        let (p, numeric) = wire::participant(v, self.source)?;
        if numeric {
            self.numeric_versions.store(true, Ordering::Relaxed);
        }
        Some(p)
    }

    /// One session user, by the single-user endpoint or else from the list.
    pub async fn fetch_participant(&self, id: &str) -> ProviderResult<Participant> {
        match self.call(Method::GET, self.users_url(&[id])?, None).await {
            Ok(r) => {
                if let Some(p) = Self::json(&r).ok().and_then(|v| self.to_participant(&v)) {
                    return Ok(p);
                }
            }
            Err(e @ (ProviderError::Auth(_) | ProviderError::RateLimited { .. })) => return Err(e),
            Err(_) => {}
        }
        self.list_participants()
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| ProviderError::NotFound(format!("session user {id}")))
    }

    pub(super) async fn add(
        &self,
        d: &crate::domain::ParticipantDraft,
    ) -> ProviderResult<Participant> {
        let body = wire::add_body(d).map_err(ProviderError::Invalid)?;
        if d.link_lifetime_min.is_some() {
            tracing::debug!("streamboxy has no link lifetime; ignored");
        }
        let reply = self
            .call(Method::POST, self.users_url(&[])?, Some(&body))
            .await?;
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            // "202 Accepted" (or 204) with no body: the command was taken;
            // the new user is read back by its e-mail or external key.
            let all = self.get_all(self.users_url(&[])?).await?;
            let all = all.iter().filter_map(|v| self.to_participant(v)).collect();
            return super::super::poll::find_invited(all, d).ok_or_else(|| {
                ProviderError::Server(format!(
                    "STREAMBOXY accepted the invitation (HTTP {}) but does not list it yet",
                    reply.status
                ))
            });
        }
        let v = Self::json(&reply)?;
        let mut p = self.to_participant(&v).ok_or_else(|| {
            ProviderError::Protocol("STREAMBOXY did not return the new session user's id".into())
        })?;
        // The documented answer is abridged ("..."): fill what it left out.
        if p.name.is_empty() {
            p.name = crate::text::sanitize(&d.name);
        }
        if p.email.is_none() {
            p.email = d.email.as_deref().map(crate::text::sanitize);
        }
        if p.external_key.is_none() {
            p.external_key = d.external_key.as_deref().map(crate::text::sanitize);
        }
        if wire::field(&v, &["role"]).is_none() {
            p.role = d.role.clone();
        }
        Ok(p)
    }

    /// PATCHes only what changes, with the version the moderator saw.
    pub(super) async fn update(
        &self,
        id: &str,
        role: Option<&crate::domain::Role>,
        name: Option<&str>,
        version: Option<&str>,
    ) -> ProviderResult<Participant> {
        let name = name.map(str::trim);
        if name.is_some_and(str::is_empty) {
            return Err(ProviderError::Invalid("a participant needs a name".into()));
        }
        if role.is_none() && name.is_none() {
            return Err(ProviderError::Invalid("nothing to change".into()));
        }
        let version = match version {
            Some(v) => v.to_string(),
            None => self.fetch_participant(id).await?.version.ok_or_else(|| {
                ProviderError::Protocol("STREAMBOXY gave no rowVersion for this user".into())
            })?,
        };
        let numeric = self.numeric_versions.load(Ordering::Relaxed);
        let body = wire::patch_body(name, role, wire::row_version_value(&version, numeric));
        match self
            .call(Method::PATCH, self.users_url(&[id])?, Some(&body))
            .await
        {
            Ok(reply) => {
                if let Some(p) = Self::json(&reply)
                    .ok()
                    .and_then(|v| self.to_participant(&v))
                    && p.version.is_some()
                {
                    return Ok(p);
                }
                // No body (204) or an abridged one: read the new state.
                self.fetch_participant(id).await
            }
            Err(ProviderError::Conflict(msg)) => {
                let now = match self.fetch_participant(id).await {
                    Ok(p) => format!(
                        "; changed meanwhile on STREAMBOXY, now: name “{}”, role {}",
                        p.name, p.role
                    ),
                    Err(ProviderError::NotFound(_)) => {
                        "; the participant was removed meanwhile".into()
                    }
                    Err(_) => String::new(),
                };
                Err(ProviderError::Conflict(format!(
                    "{msg}{now} — reload and try again"
                )))
            }
            Err(e) => Err(e),
        }
    }

    pub(super) async fn renew(&self, id: &str) -> ProviderResult<Participant> {
        let reply = self
            .call(
                Method::POST,
                self.users_url(&[id, "RenewParticipantLink"])?,
                Some(&Value::Object(Default::default())),
            )
            .await?;
        let link = wire::renewed_link(&reply.body);
        if let Some(p) = Self::json(&reply)
            .ok()
            .and_then(|v| self.to_participant(&v))
            && p.link.is_some()
            && !p.name.is_empty()
        {
            return Ok(p);
        }
        let mut p = self.fetch_participant(id).await?;
        if link.is_some() {
            p.link = link;
        }
        Ok(p)
    }
}

/// `base` with path segments appended (each escaped).
pub(super) fn segments(base: &Url, segs: &[&str]) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    if let Ok(mut p) = url.path_segments_mut() {
        p.pop_if_empty();
        p.extend(segs);
    }
    url
}
