//! HTTP plumbing shared by the real providers: one client setup, error
//! mapping that never leaks a URL (it may carry a secret), rate-limit headers
//! and reconnect backoff with full jitter.

use crate::domain::{ProviderError, RateBudget};
use rand::Rng;
use reqwest::header::HeaderMap;
use std::time::Duration;

/// Largest response body qadeck reads; more is a protocol error, so a hostile
/// or broken server cannot exhaust memory.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// A client with sane timeouts for request/response calls.
#[allow(
    clippy::expect_used,
    reason = "static settings; rustls needs no system setup"
)]
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("qadeck/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("reqwest client builds with static settings")
}

/// A client for long-lived streams: connect timeout only.
#[allow(
    clippy::expect_used,
    reason = "static settings; rustls needs no system setup"
)]
pub fn stream_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("qadeck/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("reqwest client builds with static settings")
}

/// Maps a transport error, stripped of its URL. The innermost cause is
/// kept ("Connection refused"), since reqwest's own text ("error sending
/// request") does not tell a moderator what is wrong.
pub fn net_error(e: reqwest::Error) -> ProviderError {
    let e = e.without_url();
    if e.is_decode() {
        return ProviderError::Protocol(e.to_string());
    }
    let mut root: &dyn std::error::Error = &e;
    while let Some(next) = root.source() {
        root = next;
    }
    let cause = root.to_string();
    let text = if e.is_connect() {
        format!("cannot reach the server ({cause})")
    } else if e.is_timeout() {
        "the server did not answer in time".to_string()
    } else if cause != e.to_string() {
        format!("{e} ({cause})")
    } else {
        e.to_string()
    };
    ProviderError::Network(crate::secret::redact(&text))
}

/// A body that stopped arriving (the connection dropped or timed out half
/// way): a network error, worth retrying. reqwest reports every body error
/// as a decode error, which [`net_error`] would take for a protocol error and
/// so fail an action for good that a retry would deliver.
pub fn body_error(e: reqwest::Error) -> ProviderError {
    let e = e.without_url();
    let cause = std::error::Error::source(&e)
        .map(|s| format!(": {s}"))
        .unwrap_or_default();
    ProviderError::Network(crate::secret::redact(&format!(
        "the answer was cut off{cause}"
    )))
}

/// Reads a body with the [`MAX_BODY`] bound.
pub async fn read_body(mut resp: reqwest::Response) -> Result<Vec<u8>, ProviderError> {
    let mut buf = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(body_error)? {
        if buf.len() + chunk.len() > MAX_BODY {
            return Err(ProviderError::Protocol(format!(
                "response larger than {} MB",
                MAX_BODY / (1024 * 1024)
            )));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// `Retry-After` in ms (seconds form; an HTTP date falls back to `default_ms`).
pub fn retry_after_ms(headers: &HeaderMap, default_ms: u64) -> u64 {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|s| (s.max(0.0) * 1000.0) as u64)
        .unwrap_or(default_ms)
}

/// `X-RateLimit-*` headers, when present.
pub fn rate_budget(headers: &HeaderMap) -> Option<RateBudget> {
    let num = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    Some(RateBudget {
        limit: num("x-ratelimit-limit")? as u32,
        remaining: num("x-ratelimit-remaining")? as u32,
        reset: num("x-ratelimit-reset").map(|v| v as i64),
    })
}

/// Exponential backoff with full jitter: the n-th wait is uniform in
/// `[0, min(cap, base * 2^n)]`, so many clients never retry in lockstep.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff {
            base,
            cap,
            attempt: 0,
        }
    }

    /// The reconnect policy: 1 s up to 30 s.
    pub fn reconnect() -> Backoff {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(30))
    }

    /// The ceiling of the next wait (before jitter).
    pub fn ceiling(&self) -> Duration {
        let factor = 2u32.saturating_pow(self.attempt.min(16));
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The next wait, jittered; advances the attempt counter.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let ms = ceiling.as_millis() as u64;
        Duration::from_millis(rand::rng().random_range(0..=ms))
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_cap_and_resets() {
        let mut b = Backoff::reconnect();
        assert_eq!(b.ceiling(), Duration::from_secs(1));
        for _ in 0..10 {
            let d = b.next_delay();
            assert!(d <= Duration::from_secs(30));
        }
        assert_eq!(b.ceiling(), Duration::from_secs(30));
        b.reset();
        assert_eq!(b.ceiling(), Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_closed_port_says_the_server_cannot_be_reached() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let url = format!("http://127.0.0.1:{port}/v1/secret-path?apikey=pk_live_x");
        let e = client().get(url).send().await.unwrap_err();
        let msg = net_error(e).to_string();
        assert!(
            msg.starts_with("network error: cannot reach the server ("),
            "{msg}"
        );
        assert!(msg.to_ascii_lowercase().contains("refused"), "{msg}");
        assert!(
            !msg.contains("secret-path") && !msg.contains("pk_live"),
            "{msg}"
        );
    }

    #[test]
    fn rate_headers_parse() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", "60".parse().unwrap());
        h.insert("x-ratelimit-remaining", "59".parse().unwrap());
        h.insert("x-ratelimit-reset", "1700000000".parse().unwrap());
        h.insert("retry-after", "7".parse().unwrap());
        let b = rate_budget(&h).unwrap();
        assert_eq!(
            (b.limit, b.remaining, b.reset),
            (60, 59, Some(1_700_000_000))
        );
        assert_eq!(retry_after_ms(&h, 1), 7000);
    }
}
