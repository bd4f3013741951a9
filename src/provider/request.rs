//! The one request path of the real providers: send, read the answer within
//! [`MAX_BODY`](super::http::MAX_BODY), and map what failed on the way
//! (transport, a cut-off body, 429 with its `Retry-After`, 5xx) the same
//! way for every platform. What a 4xx body means stays with each platform.

use super::http;
use crate::domain::{ProviderError, ProviderResult, RateBudget};
use reqwest::header::HeaderMap;

/// A complete answer: status, headers and the (bounded) body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `Retry-After` in ms, bounded; `default_ms` when absent or invalid.
    pub fn retry_after_ms(&self, default_ms: u64) -> u64 {
        http::retry_after_ms(&self.headers, default_ms)
    }

    /// `X-RateLimit-*` headers, when present.
    pub fn budget(&self) -> Option<RateBudget> {
        http::rate_budget(&self.headers)
    }

    /// The body holds nothing but whitespace (a 202 or 204 without content).
    pub fn is_empty(&self) -> bool {
        self.body.iter().all(u8::is_ascii_whitespace)
    }
}

/// Sends one request and reads the whole answer. A transport error or a
/// body cut off on a 2xx is a [`ProviderError::Network`] (worth retrying);
/// an error answer whose body breaks off keeps its status with an empty
/// body, so it is still classified by status.
pub async fn send(req: reqwest::RequestBuilder) -> ProviderResult<Answer> {
    let resp = req.send().await.map_err(http::net_error)?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = if (200..300).contains(&status) {
        http::read_body(resp).await?
    } else {
        http::read_body(resp).await.unwrap_or_default()
    };
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// The error every platform means by a status, for answers its own
/// classifier has no better word for: `text` is what is shown.
pub fn status_error(status: u16, retry_after_ms: u64, text: String) -> ProviderError {
    match status {
        429 => ProviderError::RateLimited { retry_after_ms },
        401 => ProviderError::Auth(text),
        403 => ProviderError::Forbidden(text),
        404 | 410 => ProviderError::NotFound(text),
        409 => ProviderError::Conflict(text),
        400..=499 => ProviderError::Invalid(text),
        500..=599 => ProviderError::Server(text),
        _ => ProviderError::Protocol(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_the_same_everywhere() {
        let e = |s| status_error(s, 7, "x".into());
        assert_eq!(e(429), ProviderError::RateLimited { retry_after_ms: 7 });
        assert!(matches!(e(401), ProviderError::Auth(_)));
        assert!(matches!(e(403), ProviderError::Forbidden(_)));
        assert!(matches!(e(404), ProviderError::NotFound(_)));
        assert!(matches!(e(410), ProviderError::NotFound(_)));
        assert!(matches!(e(409), ProviderError::Conflict(_)));
        assert!(matches!(e(422), ProviderError::Invalid(_)));
        assert!(matches!(e(503), ProviderError::Server(_)));
        assert!(matches!(e(302), ProviderError::Protocol(_)));
        assert!(e(502).is_transient() && e(429).is_transient());
    }

    #[tokio::test]
    async fn a_closed_port_is_a_network_error() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let req = http::client().get(format!("http://127.0.0.1:{port}/"));
        assert!(matches!(send(req).await, Err(ProviderError::Network(_))));
    }
}
