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

    /// Minimum wait before a retry, when the platform said so.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            ProviderError::RateLimited { retry_after_ms } => Some(*retry_after_ms),
            _ => None,
        }
    }
}

pub type ProviderResult<T> = Result<T, ProviderError>;
