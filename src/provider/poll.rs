//! The feed of a participants-only platform, shared by STREAMBOXY and
//! Boomstream: list, wait, list again.

use super::http::Backoff;
use super::{FeedTx, Provider};
use crate::domain::{Connection, Feed, ProviderError};
use std::time::Duration;

/// The feed of a participants-only platform: the complete list now and then
/// every `every`, `Feed::Connection` on each change of health, backoff (or
/// the platform's `Retry-After`) after errors. Returns when the loop is gone.
pub async fn poll_participants(provider: &dyn Provider, tx: FeedTx, every: Duration) {
    if !tx.send(Feed::Connection(Connection::Connecting)).await {
        return;
    }
    let mut backoff = Backoff::reconnect();
    let mut healthy = false;
    loop {
        match provider.list_participants().await {
            Ok(list) => {
                backoff.reset();
                if !healthy {
                    healthy = true;
                    if !tx.send(Feed::Connection(Connection::Polling)).await {
                        return;
                    }
                }
                if !tx.send(Feed::Participants(list)).await {
                    return;
                }
                tokio::time::sleep(every).await;
            }
            Err(e) => {
                healthy = false;
                let jitter = backoff.next_delay();
                let wait = e
                    .retry_after_ms()
                    .map_or(jitter, |ms| Duration::from_millis(ms).max(jitter));
                let reason = e.to_string();
                tracing::warn!(error = %reason, "participant poll failed");
                let conn = match e {
                    ProviderError::Auth(_)
                    | ProviderError::Forbidden(_)
                    | ProviderError::NotFound(_)
                    | ProviderError::Invalid(_)
                    | ProviderError::Unsupported(_) => Connection::Failed { reason },
                    _ => Connection::Retrying {
                        in_ms: wait.as_millis() as u64,
                        reason,
                    },
                };
                if !tx.send(Feed::Connection(conn)).await {
                    return;
                }
                tokio::time::sleep(wait).await;
            }
        }
    }
}
