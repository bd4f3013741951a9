//! The login and refresh answers.

use super::unwrap_data;
use crate::secret;
use serde_json::Value;

/// The answer of `auth/login` and `auth/login/refresh`.
#[derive(Debug, Clone)]
pub struct TokenAnswer {
    pub access_token: secret::Secret,
    pub refresh_token: Option<secret::Secret>,
    /// Seconds; `None` when the server did not say (then only a 401 renews).
    pub expires_in: Option<f64>,
}

impl TokenAnswer {
    /// Reads `access_token`, `refresh_token`, `expires_in` (number or string),
    /// also inside a `data` envelope. Both tokens are registered for
    /// redaction as soon as they are read.
    pub fn from_value(v: &Value) -> Option<TokenAnswer> {
        let v = unwrap_data(v);
        let access = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())?;
        let refresh = v
            .get("refresh_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(secret::Secret::new);
        let expires_in = v.get("expires_in").and_then(|e| match e {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        });
        Some(TokenAnswer {
            access_token: secret::Secret::new(access),
            refresh_token: refresh,
            expires_in,
        })
    }
}
