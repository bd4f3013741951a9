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

/// The longest wait a platform may ask for; a longer `Retry-After` is cut
/// to it, so a broken or hostile header cannot block a source for good.
pub use crate::domain::MAX_RETRY_AFTER_MS;

/// `Retry-After` in ms, at most [`MAX_RETRY_AFTER_MS`]: delta-seconds or an
/// HTTP-date (RFC 9110 §10.2.3). A missing or invalid value (`inf`, `-5`,
/// `1e12`, `abc`) gives `default_ms`, the caller's normal backoff.
pub fn retry_after_ms(headers: &HeaderMap, default_ms: u64) -> u64 {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, chrono::Utc::now()))
        .unwrap_or(default_ms)
        .min(MAX_RETRY_AFTER_MS)
}

/// One `Retry-After` value in ms relative to `now`; `None` when invalid.
/// Delta-seconds are digits (a decimal fraction is taken too); a date in
/// the past means "now".
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<u64> {
    let v = value.trim();
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !whole.is_empty() && digits(whole) && digits(frac) {
        let secs: f64 = v.parse().ok()?;
        return Some((secs * 1000.0).min(MAX_RETRY_AFTER_MS as f64) as u64);
    }
    let at = http_date(v)?;
    let ms = (at - now).num_milliseconds().max(0);
    Some(u64::try_from(ms).unwrap_or(0).min(MAX_RETRY_AFTER_MS))
}

/// An HTTP-date in any of the three forms a recipient must accept:
/// IMF-fixdate, the obsolete RFC 850 form and asctime.
fn http_date(v: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{NaiveDateTime, TimeZone, Utc};
    if let Ok(d) = chrono::DateTime::parse_from_rfc2822(v) {
        return Some(d.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(v, "%A, %d-%b-%y %H:%M:%S GMT")
        .or_else(|_| NaiveDateTime::parse_from_str(v, "%a %b %e %H:%M:%S %Y"))
        .ok()?;
    Utc.from_local_datetime(&naive).single()
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

    fn after(value: &str) -> u64 {
        let mut h = HeaderMap::new();
        h.insert("retry-after", value.parse().unwrap());
        retry_after_ms(&h, 1_500)
    }

    #[test]
    fn retry_after_is_always_bounded() {
        assert_eq!(after("0"), 0);
        assert_eq!(after("120"), 120_000);
        assert_eq!(after(" 2.5 "), 2_500);
        assert_eq!(after("99999999999999999999999"), MAX_RETRY_AFTER_MS);
        assert_eq!(after("7200"), MAX_RETRY_AFTER_MS);
        // Not delta-seconds: the normal backoff.
        for bad in ["inf", "Infinity", "NaN", "1e12", "-5", "abc", "", "5s"] {
            assert_eq!(after(bad), 1_500, "{bad:?}");
        }
        assert_eq!(
            retry_after_ms(&HeaderMap::new(), u64::MAX),
            MAX_RETRY_AFTER_MS
        );
    }

    #[test]
    fn retry_after_reads_http_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("1994-11-06T08:49:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        for form in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_retry_after(form, now), Some(37_000), "{form}");
        }
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(0)
        );
        assert_eq!(
            parse_retry_after("Sat, 06 Nov 2094 08:00:00 GMT", now),
            Some(MAX_RETRY_AFTER_MS)
        );
        assert_eq!(
            parse_retry_after("Sun, 99 Nov 1994 08:00:00 GMT", now),
            None
        );
    }
}
