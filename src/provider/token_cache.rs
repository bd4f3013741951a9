//! The token cache of the OAuth-style platforms (streams.live login and
//! refresh, STREAMBOXY client credentials): one token shared by the feed and
//! the actions, renewed shortly *before* it runs out (a fifth of its
//! lifetime, at most a minute, so a 2 s test token and a 1 h real one both
//! renew in time) and once when a call answers 401 anyway (revoked, clock
//! skew). One async mutex guards it, so when several tasks need a new token
//! at once only one request goes out. How a token is obtained stays with
//! the platform ([`TokenSource`]).

use crate::domain::ProviderResult;
use crate::secret::Secret;
use async_trait::async_trait;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Longest margin before expiry at which a token is renewed.
const MAX_MARGIN: Duration = Duration::from_secs(60);

/// The renewal margin for a lifetime: a fifth of it, at most a minute.
pub fn margin(lifetime: Duration) -> Duration {
    (lifetime / 5).min(MAX_MARGIN)
}

/// A token as the platform issued it.
#[derive(Clone)]
pub struct Token {
    pub access: Secret,
    /// Where the platform issues refresh tokens.
    pub refresh: Option<Secret>,
    /// How long the access token lives; `None` when the platform does not
    /// say (then it is renewed only after a 401).
    pub lifetime: Option<Duration>,
}

/// Why the cache needs a token.
#[derive(Clone, Copy)]
pub enum Need<'a> {
    /// None is held yet (or the last one was dropped).
    First,
    /// `previous` is due for renewal (or was refused). `still_usable` says
    /// a transient failure can be answered with the previous token: the
    /// renewal is early and the token has not expired.
    Renew {
        previous: &'a Token,
        still_usable: bool,
    },
}

/// How one platform obtains tokens (log in, refresh, client credentials).
#[async_trait]
pub trait TokenSource: Send + Sync {
    async fn fetch(&self, need: Need<'_>) -> ProviderResult<Token>;
}

struct Held {
    token: Token,
    renew_at: Option<Instant>,
    expires_at: Option<Instant>,
}

impl Held {
    fn new(token: Token) -> Held {
        let now = Instant::now();
        let lifetime = token.lifetime;
        Held {
            token,
            renew_at: lifetime.map(|l| now + l.saturating_sub(margin(l))),
            expires_at: lifetime.map(|l| now + l),
        }
    }
}

/// One platform session's token.
#[derive(Default)]
pub struct TokenCache {
    held: Mutex<Option<Held>>,
}

impl TokenCache {
    pub fn new() -> TokenCache {
        TokenCache::default()
    }

    /// A token good for the next call: fetched on first use, renewed when
    /// its renewal time has come. A transient failure of an early renewal
    /// keeps the current token while it is valid.
    pub async fn bearer(&self, source: &dyn TokenSource) -> ProviderResult<Secret> {
        let mut held = self.held.lock().await;
        let now = Instant::now();
        let fresh = match held.as_ref() {
            Some(h) if h.renew_at.is_none_or(|at| now < at) => return Ok(h.token.access.clone()),
            Some(h) => {
                let still_usable = h.expires_at.is_none_or(|at| now < at);
                let need = Need::Renew {
                    previous: &h.token,
                    still_usable,
                };
                match source.fetch(need).await {
                    Ok(t) => t,
                    Err(e) if still_usable && e.is_transient() => {
                        tracing::warn!("token renewal failed ({e}); keeping the current token");
                        return Ok(h.token.access.clone());
                    }
                    Err(e) => return Err(e),
                }
            }
            None => source.fetch(Need::First).await?,
        };
        let access = fresh.access.clone();
        *held = Some(Held::new(fresh));
        Ok(access)
    }

    /// Called after a 401 for a call made with `used`: renews (unless
    /// another task already did) and returns the token to retry with.
    pub async fn rejected(
        &self,
        source: &dyn TokenSource,
        used: &Secret,
    ) -> ProviderResult<Secret> {
        let mut held = self.held.lock().await;
        let fresh = match held.as_ref() {
            Some(h) if &h.token.access != used => return Ok(h.token.access.clone()),
            Some(h) => {
                let need = Need::Renew {
                    previous: &h.token,
                    still_usable: false,
                };
                source.fetch(need).await?
            }
            None => source.fetch(Need::First).await?,
        };
        let access = fresh.access.clone();
        *held = Some(Held::new(fresh));
        Ok(access)
    }

    /// Drops the token and hands it over (to log out with).
    pub async fn take(&self) -> Option<Token> {
        self.held.lock().await.take().map(|h| h.token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ProviderError;
    use std::sync::Mutex as StdMutex;

    /// Issues `t1`, `t2`, … living 10 s; fails while `fail` holds an error.
    #[derive(Default)]
    struct Counter {
        issued: StdMutex<u32>,
        renewals: StdMutex<Vec<bool>>,
        fail: StdMutex<Option<ProviderError>>,
    }

    #[async_trait]
    impl TokenSource for Counter {
        async fn fetch(&self, need: Need<'_>) -> ProviderResult<Token> {
            if let Need::Renew { still_usable, .. } = need {
                self.renewals.lock().unwrap().push(still_usable);
            }
            if let Some(e) = self.fail.lock().unwrap().clone() {
                return Err(e);
            }
            let mut n = self.issued.lock().unwrap();
            *n += 1;
            Ok(Token {
                access: Secret::new(format!("t{n}")),
                refresh: None,
                lifetime: Some(Duration::from_secs(10)),
            })
        }
    }

    #[test]
    fn margins() {
        assert_eq!(margin(Duration::from_secs(3599)), Duration::from_secs(60));
        assert_eq!(margin(Duration::from_secs(2)), Duration::from_millis(400));
        assert_eq!(margin(Duration::from_secs(30)), Duration::from_secs(6));
    }

    #[tokio::test(start_paused = true)]
    async fn renews_before_expiry_and_once_on_401() {
        let src = Counter::default();
        let cache = TokenCache::new();
        assert_eq!(cache.bearer(&src).await.unwrap().expose(), "t1");
        tokio::time::advance(Duration::from_secs(7)).await;
        assert_eq!(cache.bearer(&src).await.unwrap().expose(), "t1");
        tokio::time::advance(Duration::from_millis(1100)).await;
        assert_eq!(cache.bearer(&src).await.unwrap().expose(), "t2");
        assert_eq!(*src.renewals.lock().unwrap(), vec![true]);
        // A 401 with a stale token gets the current one; with the current
        // one, a renewal.
        let old = Secret::new("t1");
        assert_eq!(cache.rejected(&src, &old).await.unwrap().expose(), "t2");
        let cur = Secret::new("t2");
        assert_eq!(cache.rejected(&src, &cur).await.unwrap().expose(), "t3");
        assert_eq!(*src.renewals.lock().unwrap(), vec![true, false]);
        assert_eq!(cache.take().await.unwrap().access.expose(), "t3");
        assert_eq!(cache.bearer(&src).await.unwrap().expose(), "t4");
    }

    #[tokio::test(start_paused = true)]
    async fn a_transient_failure_keeps_a_valid_token() {
        let src = Counter::default();
        let cache = TokenCache::new();
        cache.bearer(&src).await.unwrap();
        *src.fail.lock().unwrap() = Some(ProviderError::Server("down".into()));
        tokio::time::advance(Duration::from_secs(9)).await;
        assert_eq!(cache.bearer(&src).await.unwrap().expose(), "t1");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(cache.bearer(&src).await.is_err(), "expired: no token");
        *src.fail.lock().unwrap() = None;
        assert_eq!(cache.bearer(&src).await.unwrap().expose(), "t2");
    }
}
