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
//! The token is held in the shared [`TokenCache`]: one async mutex, so when
//! the feed and an action need a new token at the same time only one
//! refresh goes out.

use super::wire::{self, LoginBody, RefreshBody, TokenAnswer};
use crate::domain::{ProviderError, ProviderResult};
use crate::provider::request;
use crate::provider::token_cache::{Need, Token, TokenCache, TokenSource};
use crate::secret::Secret;
use async_trait::async_trait;
use std::time::Duration;

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
    cache: TokenCache,
    stats: std::sync::Mutex<AuthStats>,
}

impl Auth {
    pub fn new(creds: Credentials, base: String, client: reqwest::Client) -> Auth {
        Auth {
            creds,
            base,
            client,
            cache: TokenCache::new(),
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
        match &self.creds {
            Credentials::Token(t) => Ok(t.clone()),
            Credentials::Password { .. } => self.cache.bearer(self).await,
        }
    }

    /// Called after a 401 for a call made with `used`: renews (unless another
    /// task already did) and returns the token to retry with.
    pub async fn rejected(&self, used: &Secret) -> ProviderResult<Secret> {
        match &self.creds {
            Credentials::Token(_) => Err(ProviderError::Auth(
                "the personal access token was refused (expired or revoked?)".into(),
            )),
            Credentials::Password { .. } => self.cache.rejected(self, used).await,
        }
    }

    /// `POST auth/logout` when qadeck logged in; the tokens are dropped
    /// either way. Errors are logged, never raised: this runs on exit.
    pub async fn logout(&self) {
        if let Credentials::Token(_) = self.creds {
            return;
        }
        let Some(token) = self.cache.take().await else {
            return;
        };
        let req = self
            .client
            .post(format!("{}auth/logout", self.base))
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .bearer_auth(token.access.expose());
        match request::send(req).await {
            Ok(a) if a.is_success() => tracing::info!("streams.live: logged out"),
            Ok(a) => tracing::warn!("streams.live: logout answered HTTP {}", a.status),
            Err(e) => tracing::warn!("streams.live: logout failed: {e}"),
        }
    }

    /// Refresh, falling back to a fresh login when the refresh is refused
    /// (or fails while the token can no longer be used). An unreachable or
    /// rate-limited server is reported as is: a login would fail the same.
    async fn renew(&self, previous: &Token, still_usable: bool) -> ProviderResult<Token> {
        let Some(refresh) = previous.refresh.clone() else {
            return self.login().await;
        };
        let body = RefreshBody {
            refresh_token: refresh.expose(),
        };
        match self
            .token_call("auth/login/refresh", &body, "refresh")
            .await
        {
            Ok(answer) => {
                self.bump(|s| s.refreshes += 1);
                tracing::info!("streams.live: access token refreshed");
                Ok(token_from(answer, Some(refresh)))
            }
            Err(e) if e.is_transient() && still_usable => Err(e),
            Err(e @ (ProviderError::Network(_) | ProviderError::RateLimited { .. })) => Err(e),
            Err(e) => {
                self.bump(|s| s.failed_refreshes += 1);
                tracing::info!("streams.live: refresh refused ({e}); logging in again");
                self.login().await
            }
        }
    }

    async fn login(&self) -> ProviderResult<Token> {
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
        Ok(token_from(answer, None))
    }

    /// One unauthenticated token call (login or refresh).
    async fn token_call<B: serde::Serialize>(
        &self,
        path: &str,
        body: &B,
        what: &str,
    ) -> ProviderResult<TokenAnswer> {
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::ACCEPT, "application/json")
            .json(body);
        let answer = request::send(req).await?;
        let retry = answer.retry_after_ms(5_000);
        if !answer.is_success() {
            return Err(wire::to_error(answer.status, retry, &answer.body, what));
        }
        let v: serde_json::Value = serde_json::from_slice(&answer.body)
            .map_err(|_| ProviderError::Protocol(format!("{what}: the answer is not JSON")))?;
        if v.get("error").is_some_and(|e| e.is_object()) {
            return Err(wire::to_error(answer.status, retry, &answer.body, what));
        }
        TokenAnswer::from_value(&v).ok_or_else(|| {
            ProviderError::Protocol(format!("{what}: no access_token in the answer"))
        })
    }
}

#[async_trait]
impl TokenSource for Auth {
    async fn fetch(&self, need: Need<'_>) -> ProviderResult<Token> {
        match need {
            Need::First => self.login().await,
            Need::Renew {
                previous,
                still_usable,
            } => self.renew(previous, still_usable).await,
        }
    }
}

fn token_from(answer: TokenAnswer, old_refresh: Option<Secret>) -> Token {
    let lifetime = answer
        .expires_in
        .filter(|s| s.is_finite())
        .map(|s| Duration::from_secs_f64(s.clamp(0.0, 10.0 * 365.0 * 86_400.0)));
    Token {
        access: answer.access_token,
        // Servers that do not rotate refresh tokens omit them on refresh.
        refresh: answer.refresh_token.or(old_refresh),
        lifetime,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let c = Credentials::Password {
            email: "a@b.c".into(),
            password: Secret::new("hunter2-pw"),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
