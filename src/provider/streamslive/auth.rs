//! The streams.live token lifecycle.
//!
//! Two kinds of credentials:
//! - e-mail and password: `POST auth/login` gives an access token (about an
//!   hour, `expires_in` 3599), a refresh token and the lifetime. The access
//!   token is renewed with `POST auth/login/refresh` shortly *before* it runs
//!   out (a margin of a fifth of the lifetime, at most 60 s, so a 2 s test
//!   token and a 1 h real one both renew in time), and once more when a call
//!   answers 401 anyway (revoked, clock skew). When the refresh is refused
//!   (or the refresh endpoint answers a server error while the token is
//!   expired), qadeck logs in again with the password. `POST auth/logout` on exit.
//! - a personal access token: used as is; it cannot be renewed, so a 401 is
//!   an authentication error for the moderator. No logout (qadeck did not
//!   log in).
//!
//! Tokens live in memory only and are registered for redaction the moment
//! they are read. The password is sent to `auth/login` and nowhere else.
//! The document shows no `Authorization` header in its examples; the tokens
//! are OAuth (Laravel Passport style) bearer tokens, so they are sent as
//! `Authorization: Bearer …`.
//!
//! One async mutex guards the session, so when the feed and an action need a
//! new token at the same time only one refresh goes out.

use super::wire::{self, LoginBody, RefreshBody, TokenAnswer};
use crate::domain::{ProviderError, ProviderResult};
use crate::provider::http;
use crate::secret::Secret;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Longest margin before expiry at which the token is renewed.
const MAX_MARGIN: Duration = Duration::from_secs(60);

/// What the moderator configured.
#[derive(Clone)]
pub enum Credentials {
    Password { email: String, password: Secret },
    Token(Secret),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Password { email, .. } => write!(f, "Password({email}, [redacted])"),
            Credentials::Token(_) => f.write_str("Token([redacted])"),
        }
    }
}

struct Session {
    access: Secret,
    refresh: Option<Secret>,
    /// When to renew proactively; `None` when the lifetime is unknown.
    renew_at: Option<Instant>,
    /// When the server will refuse the access token.
    expires_at: Option<Instant>,
}

/// Counts of what the lifecycle did, for the log and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthStats {
    pub logins: u32,
    pub refreshes: u32,
    pub failed_refreshes: u32,
}

/// The token holder for one provider.
pub struct Auth {
    creds: Credentials,
    base: String,
    client: reqwest::Client,
    session: Mutex<Option<Session>>,
    stats: std::sync::Mutex<AuthStats>,
}

impl Auth {
    pub fn new(creds: Credentials, base: String, client: reqwest::Client) -> Auth {
        Auth {
            creds,
            base,
            client,
            session: Mutex::new(None),
            stats: std::sync::Mutex::new(AuthStats::default()),
        }
    }

    pub fn stats(&self) -> AuthStats {
        *self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bump(&self, f: impl FnOnce(&mut AuthStats)) {
        f(&mut self.stats.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// A token good for the next call: logs in on first use, renews when
    /// the renewal time has come.
    pub async fn bearer(&self) -> ProviderResult<Secret> {
        let pat = match &self.creds {
            Credentials::Token(t) => Some(t.clone()),
            Credentials::Password { .. } => None,
        };
        if let Some(t) = pat {
            return Ok(t);
        }
        let mut guard = self.session.lock().await;
        let now = Instant::now();
        match guard.as_ref() {
            Some(s) if s.renew_at.is_none_or(|at| now < at) => return Ok(s.access.clone()),
            Some(_) => self.renew(&mut guard, false).await?,
            None => self.login(&mut guard).await?,
        }
        guard
            .as_ref()
            .map(|s| s.access.clone())
            .ok_or_else(|| ProviderError::Auth("not logged in".into()))
    }

    /// Called after a 401 for a call made with `used`: renews (unless another
    /// task already did) and returns the token to retry with.
    pub async fn rejected(&self, used: &Secret) -> ProviderResult<Secret> {
        if let Credentials::Token(_) = self.creds {
            return Err(ProviderError::Auth(
                "the personal access token was refused (expired or revoked?)".into(),
            ));
        }
        let mut guard = self.session.lock().await;
        match guard.as_ref() {
            Some(s) if &s.access != used => return Ok(s.access.clone()),
            Some(_) => self.renew(&mut guard, true).await?,
            None => self.login(&mut guard).await?,
        }
        guard
            .as_ref()
            .map(|s| s.access.clone())
            .ok_or_else(|| ProviderError::Auth("not logged in".into()))
    }

    /// `POST auth/logout` when qadeck logged in; the tokens are dropped
    /// either way. Errors are logged, never raised: this runs on exit.
    pub async fn logout(&self) {
        if let Credentials::Token(_) = self.creds {
            return;
        }
        let Some(session) = self.session.lock().await.take() else {
            return;
        };
        let req = self
            .client
            .post(format!("{}auth/logout", self.base))
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .bearer_auth(session.access.expose());
        match req.send().await {
            Ok(resp) if resp.status().is_success() => tracing::info!("streams.live: logged out"),
            Ok(resp) => tracing::warn!(
                "streams.live: logout answered HTTP {}",
                resp.status().as_u16()
            ),
            Err(e) => tracing::warn!("streams.live: logout failed: {}", http::net_error(e)),
        }
    }

    /// Refresh, falling back to a fresh login when the refresh fails. A
    /// transient failure of a *proactive* refresh keeps the current token
    /// while it is still valid; an unreachable server is reported as is.
    async fn renew(&self, slot: &mut Option<Session>, after_401: bool) -> ProviderResult<()> {
        let Some(session) = slot.as_ref() else {
            return self.login(slot).await;
        };
        let Some(refresh) = session.refresh.clone() else {
            return self.login(slot).await;
        };
        match self
            .token_call(
                "auth/login/refresh",
                &RefreshBody {
                    refresh_token: refresh.expose(),
                },
                "refresh",
            )
            .await
        {
            Ok(answer) => {
                self.bump(|s| s.refreshes += 1);
                tracing::info!("streams.live: access token refreshed");
                *slot = Some(session_from(answer, Some(refresh)));
                Ok(())
            }
            Err(e)
                if e.is_transient()
                    && !after_401
                    && session.expires_at.is_none_or(|at| Instant::now() < at) =>
            {
                tracing::warn!(
                    "streams.live: token refresh failed ({e}); keeping the current token"
                );
                Ok(())
            }
            // Unreachable or rate limited: a login would fail the same way.
            Err(e @ (ProviderError::Network(_) | ProviderError::RateLimited { .. })) => Err(e),
            Err(e) => {
                self.bump(|s| s.failed_refreshes += 1);
                tracing::info!("streams.live: refresh refused ({e}); logging in again");
                *slot = None;
                self.login(slot).await
            }
        }
    }

    async fn login(&self, slot: &mut Option<Session>) -> ProviderResult<()> {
        let Credentials::Password { email, password } = &self.creds else {
            return Err(ProviderError::Auth("no password configured".into()));
        };
        let body = LoginBody {
            email,
            password: password.expose(),
        };
        let answer = self.token_call("auth/login", &body, "login").await?;
        self.bump(|s| s.logins += 1);
        tracing::info!("streams.live: logged in");
        *slot = Some(session_from(answer, None));
        Ok(())
    }

    /// One unauthenticated token call (login or refresh).
    async fn token_call<B: serde::Serialize>(
        &self,
        path: &str,
        body: &B,
        what: &str,
    ) -> ProviderResult<TokenAnswer> {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::ACCEPT, "application/json")
            .json(body)
            .send()
            .await
            .map_err(http::net_error)?;
        let status = resp.status().as_u16();
        let retry = http::retry_after_ms(resp.headers(), 5_000);
        let bytes = http::read_body(resp).await?;
        if !(200..300).contains(&status) {
            return Err(wire::to_error(status, retry, &bytes, what));
        }
        let v: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|_| ProviderError::Protocol(format!("{what}: the answer is not JSON")))?;
        if v.get("error").is_some_and(|e| e.is_object()) {
            return Err(wire::to_error(status, retry, &bytes, what));
        }
        TokenAnswer::from_value(&v).ok_or_else(|| {
            ProviderError::Protocol(format!("{what}: no access_token in the answer"))
        })
    }
}

/// The renewal margin for a lifetime: a fifth of it, at most `MAX_MARGIN`.
pub fn margin(lifetime: Duration) -> Duration {
    (lifetime / 5).min(MAX_MARGIN)
}

fn session_from(answer: TokenAnswer, old_refresh: Option<Secret>) -> Session {
    let now = Instant::now();
    let lifetime = answer
        .expires_in
        .filter(|s| s.is_finite())
        .map(|s| Duration::from_secs_f64(s.clamp(0.0, 10.0 * 365.0 * 86_400.0)));
    Session {
        access: answer.access_token,
        // Servers that do not rotate refresh tokens omit them on refresh.
        refresh: answer.refresh_token.or(old_refresh),
        renew_at: lifetime.map(|l| now + l.saturating_sub(margin(l))),
        expires_at: lifetime.map(|l| now + l),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margins() {
        assert_eq!(margin(Duration::from_secs(3599)), Duration::from_secs(60));
        assert_eq!(margin(Duration::from_secs(2)), Duration::from_millis(400));
        assert_eq!(margin(Duration::from_secs(30)), Duration::from_secs(6));
    }

    #[test]
    fn debug_hides_secrets() {
        let c = Credentials::Password {
            email: "a@b.c".into(),
            password: Secret::new("hunter2-pw"),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
