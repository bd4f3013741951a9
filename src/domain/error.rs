//! Why a platform call failed, in terms of what the moderator can do.

/// Why a provider call failed, in terms of what the moderator can do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    #[error("not supported by this platform: {0}")]
    Unsupported(String),
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("permission denied: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("rate limited (HTTP 429)")]
    RateLimited { retry_after_ms: u64 },
    #[error("server error: {0}")]
    Server(String),
    #[error("network error: {0}")]
    Network(String),
    #[error("unexpected answer: {0}")]
    Protocol(String),
}

impl ProviderError {
    /// Worth retrying automatically (network, 5xx, 429); the rest need the
    /// moderator.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ProviderError::RateLimited { .. }
                | ProviderError::Server(_)
                | ProviderError::Network(_)
        )
    }

    /// Only the moderator can fix it (credentials, scope or plan, a wrong
    /// event or item, a refused request, a missing feature): a feed says
    /// `Failed` and tries again slowly, an action fails for good.
    pub fn needs_moderator(&self) -> bool {
        matches!(
            self,
            ProviderError::Auth(_)
                | ProviderError::Forbidden(_)
                | ProviderError::NotFound(_)
                | ProviderError::Invalid(_)
                | ProviderError::Unsupported(_)
        )
    }

    /// Minimum wait before a retry, when the platform said so; never more
    /// than [`MAX_RETRY_AFTER_MS`].
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            ProviderError::RateLimited { retry_after_ms } => {
                Some((*retry_after_ms).min(MAX_RETRY_AFTER_MS))
            }
            _ => None,
        }
    }
}

/// The longest wait a platform may impose (one hour).
pub const MAX_RETRY_AFTER_MS: u64 = 3_600_000;

pub type ProviderResult<T> = Result<T, ProviderError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_retry_after_is_capped() {
        let e = ProviderError::RateLimited {
            retry_after_ms: u64::MAX,
        };
        assert_eq!(e.retry_after_ms(), Some(MAX_RETRY_AFTER_MS));
    }

    #[test]
    fn transient_errors_never_need_the_moderator() {
        let all = [
            ProviderError::Unsupported(String::new()),
            ProviderError::Auth(String::new()),
            ProviderError::Forbidden(String::new()),
            ProviderError::NotFound(String::new()),
            ProviderError::Conflict(String::new()),
            ProviderError::Invalid(String::new()),
            ProviderError::RateLimited { retry_after_ms: 1 },
            ProviderError::Server(String::new()),
            ProviderError::Network(String::new()),
            ProviderError::Protocol(String::new()),
        ];
        for e in &all {
            assert!(!(e.is_transient() && e.needs_moderator()), "{e:?}");
        }
        assert_eq!(all.iter().filter(|e| e.needs_moderator()).count(), 5);
    }
}
