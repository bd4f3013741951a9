//! STREAMBOXY system-scoped tokens: the OAuth2 client-credentials call
//! `POST /tenant/{t}/oauth/token` with `{"clientId","clientSecret"}`.
//!
//! The document warns not to rely on the eight-hour lifetime. qadeck reads
//! the `exp` claim of the JWT (and `iat` when present, so a wrong local clock
//! does not matter); when the token carries no `exp` it falls back to an
//! `expires_in` field, and failing both it keeps the token until the
//! platform answers 401. Keeping and renewing is the shared
//! [`TokenCache`]'s: shortly before expiry, and once on a 401 (the call is
//! then repeated).
//!
//! The token answer is not shown in the document. Accepted: a JSON object
//! with the token under `access_token`, `accessToken`, `token`, `jwt`,
//! `bearerToken`, `id_token` or `idToken` (any case), a JSON string, or the
//! bare JWT as text.

use crate::domain::{ProviderError, ProviderResult};
use crate::provider::http::{self, net_error};
use crate::provider::token_cache::{Need, Token, TokenCache, TokenSource};
use crate::secret::Secret;
use async_trait::async_trait;
use base64::Engine;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

use super::Pacer;
use super::wire::{ApiError, field};

/// The bearer token of one STREAMBOXY provider, kept in the shared
/// [`TokenCache`].
pub struct Auth {
    credentials: ClientCredentials,
    cache: TokenCache,
}

impl Auth {
    pub fn new(
        token_url: reqwest::Url,
        client_id: String,
        client_secret: Secret,
        http: reqwest::Client,
        pacer: Arc<Pacer>,
    ) -> Auth {
        Auth {
            credentials: ClientCredentials {
                token_url,
                client_id,
                client_secret,
                http,
                pacer,
            },
            cache: TokenCache::new(),
        }
    }

    /// A token good for the next call, renewed when due.
    pub async fn bearer(&self) -> ProviderResult<Secret> {
        self.cache.bearer(&self.credentials).await
    }

    /// After a 401 for a call made with `used`: the token to repeat it with
    /// (renewed unless another call already did).
    pub async fn rejected(&self, used: &Secret) -> ProviderResult<Secret> {
        self.cache.rejected(&self.credentials, used).await
    }
}

/// The client-credentials call, paced like every other call of the tenant.
struct ClientCredentials {
    token_url: reqwest::Url,
    client_id: String,
    client_secret: Secret,
    http: reqwest::Client,
    pacer: Arc<Pacer>,
}

#[async_trait]
impl TokenSource for ClientCredentials {
    async fn fetch(&self, _need: Need<'_>) -> ProviderResult<Token> {
        let (http, pacer) = (&self.http, &self.pacer);
        pacer.wait().await;
        let body = json!({
            "clientId": self.client_id,
            "clientSecret": self.client_secret.expose(),
        });
        let resp = http
            .post(self.token_url.clone())
            .json(&body)
            .send()
            .await
            .map_err(net_error)?;
        let status = resp.status();
        if status.as_u16() == 429 {
            let ms = http::retry_after_ms(resp.headers(), 1000);
            pacer.hold(Duration::from_millis(ms));
            return Err(ProviderError::RateLimited { retry_after_ms: ms });
        }
        let bytes = http::read_body(resp).await?;
        if !status.is_success() {
            let e = ApiError::parse(&bytes);
            tracing::warn!(
                status = status.as_u16(),
                error_code = e.code.as_deref().unwrap_or(""),
                operation_id = e.operation_id.as_deref().unwrap_or(""),
                detail = %crate::secret::redact(e.detail.as_deref().unwrap_or("")),
                "streamboxy token request refused"
            );
            let msg = crate::secret::redact(
                &e.message
                    .unwrap_or_else(|| format!("HTTP {}", status.as_u16())),
            );
            return Err(match status.as_u16() {
                400 | 401 | 403 => {
                    ProviderError::Auth(format!("STREAMBOXY refused the client credentials: {msg}"))
                }
                404 => ProviderError::Auth(format!("unknown STREAMBOXY tenant: {msg}")),
                s if s >= 500 => ProviderError::Server(msg),
                _ => ProviderError::Protocol(msg),
            });
        }
        let (raw, expires_in) = parse_token_answer(&bytes).ok_or_else(|| {
            ProviderError::Protocol("STREAMBOXY token answer holds no token".into())
        })?;
        let lifetime = token_lifetime(&raw, expires_in);
        tracing::info!(
            lifetime_s = lifetime.map(|l| l.as_secs_f64()),
            "streamboxy token fetched"
        );
        Ok(Token {
            access: Secret::new(raw),
            refresh: None,
            lifetime,
        })
    }
}

/// The token and an `expires_in` (seconds) from the token answer.
pub fn parse_token_answer(body: &[u8]) -> Option<(String, Option<f64>)> {
    const NAMES: &[&str] = &[
        "access_token",
        "accessToken",
        "token",
        "jwt",
        "bearerToken",
        "id_token",
        "idToken",
    ];
    let token_ok = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control()))
            .then(|| s.to_string())
    };
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::String(s)) => token_ok(&s).map(|t| (t, None)),
        Ok(v @ Value::Object(_)) => {
            // Some servers wrap the answer: {"data": {...}}.
            let inner = ["data", "result"]
                .iter()
                .find_map(|n| field(&v, &[n]).filter(|x| x.is_object()))
                .unwrap_or(&v);
            let token = NAMES
                .iter()
                .find_map(|n| field(inner, &[n]).and_then(Value::as_str))
                .and_then(token_ok)?;
            let expires_in = field(inner, &["expires_in", "expiresIn"]).and_then(|x| match x {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            });
            Some((token, expires_in))
        }
        Ok(_) => None,
        Err(_) => {
            let s = std::str::from_utf8(body).ok()?;
            let t = token_ok(s)?;
            (t.split('.').count() == 3).then_some((t, None))
        }
    }
}

/// `exp` and `iat` of a JWT's payload (unverified: qadeck only needs to know
/// when to renew, the platform checks the signature).
pub fn jwt_claims(token: &str) -> Option<(f64, Option<f64>)> {
    let payload = token.split('.').nth(1)?;
    let payload: String = payload
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    let num = |name: &str| match v.get(name)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    Some((num("exp")?, num("iat")))
}

/// How long a token just received stays valid, if that can be known.
pub fn token_lifetime(token: &str, expires_in: Option<f64>) -> Option<Duration> {
    let secs = match jwt_claims(token) {
        Some((exp, Some(iat))) if exp > iat => Some(exp - iat),
        Some((exp, _)) => {
            let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
            Some(exp - now)
        }
        None => expires_in,
    }?;
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &Value) -> String {
        let b = |v: &Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
        };
        format!("{}.{}.sig", b(&json!({"alg": "HS256"})), b(payload))
    }

    #[test]
    fn reads_exp_and_iat() {
        let t = jwt(&json!({"exp": 1_000_100, "iat": 1_000_000}));
        assert_eq!(jwt_claims(&t), Some((1_000_100.0, Some(1_000_000.0))));
        assert_eq!(
            token_lifetime(&t, Some(5.0)),
            Some(Duration::from_secs(100))
        );
        // Without a JWT payload, expires_in decides; without both, no deadline.
        assert_eq!(
            token_lifetime("opaque", Some(5.0)),
            Some(Duration::from_secs(5))
        );
        assert_eq!(token_lifetime("opaque", None), None);
    }

    #[test]
    fn token_answer_shapes() {
        let t = jwt(&json!({"exp": 1}));
        for body in [
            json!({"access_token": t, "expires_in": 28800}).to_string(),
            json!({"AccessToken": t}).to_string(),
            json!({"token": t}).to_string(),
            json!({"data": {"jwt": t}}).to_string(),
            json!(t).to_string(),
            t.clone(),
        ] {
            let (got, _) = parse_token_answer(body.as_bytes()).unwrap_or_else(|| panic!("{body}"));
            assert_eq!(got, t);
        }
        assert_eq!(parse_token_answer(b"{}"), None);
        assert_eq!(parse_token_answer(b"<html>"), None);
    }
}
