//! The polling cadence shared by the polled feeds: `Connecting` first,
//! `Polling` once a poll works, and after a failed one either `Failed`
//! (the moderator has to act; tried again slowly) or `Retrying` with backoff
//! and the platform's `Retry-After`. [`poll_participants`] is the whole feed
//! of a participants-only platform (STREAMBOXY, Boomstream), and
//! [`find_invited`] finds the participant an earlier, unanswered invitation
//! may have created.

use super::http::Backoff;
use super::{FeedTx, Provider};
use crate::domain::{Connection, Feed, Participant, ParticipantDraft, ProviderResult};
use std::time::Duration;

/// The health of one polled feed and the wait before its next poll.
pub struct PollLoop {
    every: Duration,
    /// Wait after an error that needs the moderator; `None`: the backoff.
    failed_wait: Option<Duration>,
    /// Shortest wait after a transient error.
    floor: Duration,
    backoff: Backoff,
    healthy: bool,
    what: &'static str,
}

impl PollLoop {
    /// Polls every `every`; `what` names the feed in the log.
    pub fn new(every: Duration, what: &'static str) -> PollLoop {
        PollLoop {
            every,
            failed_wait: None,
            floor: Duration::ZERO,
            backoff: Backoff::reconnect(),
            healthy: false,
            what,
        }
    }

    /// Waits `wait` after an error only the moderator can fix.
    pub fn failed_wait(mut self, wait: Duration) -> PollLoop {
        self.failed_wait = Some(wait);
        self
    }

    /// Never retries sooner than `floor` after a transient error.
    pub fn floor(mut self, floor: Duration) -> PollLoop {
        self.floor = floor;
        self
    }

    /// Says `Connecting`; false once the loop is gone.
    pub async fn start(&self, tx: &FeedTx) -> bool {
        tx.send(Feed::Connection(Connection::Connecting)).await
    }

    /// Reports the health after one poll and returns how long to wait
    /// before the next; `None` once the loop is gone.
    pub async fn after(&mut self, tx: &FeedTx, result: ProviderResult<()>) -> Option<Duration> {
        match result {
            Ok(()) => {
                self.backoff.reset();
                if !self.healthy {
                    self.healthy = true;
                    if !tx.send(Feed::Connection(Connection::Polling)).await {
                        return None;
                    }
                }
                Some(self.every)
            }
            Err(e) => {
                self.healthy = false;
                let reason = e.to_string();
                tracing::warn!(feed = self.what, error = %reason, "poll failed");
                let jitter = self.backoff.next_delay();
                let floor = Duration::from_millis(e.retry_after_ms().unwrap_or(0)).max(self.floor);
                let retry = jitter.max(floor);
                let (conn, wait) = match self.failed_wait {
                    Some(wait) if e.needs_moderator() => (Connection::Failed { reason }, wait),
                    None if e.needs_moderator() => (Connection::Failed { reason }, retry),
                    _ => (
                        Connection::Retrying {
                            in_ms: retry.as_millis() as u64,
                            reason,
                        },
                        retry,
                    ),
                };
                if !tx.send(Feed::Connection(conn)).await {
                    return None;
                }
                Some(wait)
            }
        }
    }
}

/// The feed of a participants-only platform: the complete list now and then
/// every `every`. Returns when the loop is gone.
pub async fn poll_participants(provider: &dyn Provider, tx: FeedTx, every: Duration) {
    let mut cadence = PollLoop::new(every, "participants");
    if !cadence.start(&tx).await {
        return;
    }
    loop {
        // Health first, then the list: the view hears "polling" before the
        // data it brings.
        let (result, list) = match provider.list_participants().await {
            Ok(list) => (Ok(()), Some(list)),
            Err(e) => (Err(e), None),
        };
        let Some(wait) = cadence.after(&tx, result).await else {
            return;
        };
        if let Some(list) = list
            && !tx.send(Feed::Participants(list)).await
        {
            return;
        }
        tokio::time::sleep(wait).await;
    }
}

/// The participant an earlier attempt of `draft` may have created: one with
/// the draft's e-mail (compared without case) or its external key — the
/// same rule by which `people import` skips existing participants.
/// `None`: the invitation never landed.
pub fn find_invited(all: Vec<Participant>, draft: &ParticipantDraft) -> Option<Participant> {
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    let key = given(&draft.external_key);
    let email = given(&draft.email).map(|e| e.to_lowercase());
    all.into_iter().find(|p| {
        let same_email = email.is_some() && given(&p.email).map(|e| e.to_lowercase()) == email;
        let same_key = key.is_some() && given(&p.external_key) == key;
        same_email || same_key
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ProviderError, SourceFeed, SourceId};
    use tokio::sync::mpsc;

    fn conn(rx: &mut mpsc::Receiver<SourceFeed>) -> Connection {
        match rx.try_recv().map(|f| f.feed) {
            Ok(Feed::Connection(c)) => c,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn health_follows_the_polls() {
        let (t, mut rx) = mpsc::channel(16);
        let tx = FeedTx::new(SourceId(1), t);
        let mut p = PollLoop::new(Duration::from_secs(5), "test")
            .failed_wait(Duration::from_secs(60))
            .floor(Duration::from_millis(200));
        assert!(p.start(&tx).await);
        assert_eq!(conn(&mut rx), Connection::Connecting);
        assert_eq!(p.after(&tx, Ok(())).await, Some(Duration::from_secs(5)));
        assert_eq!(conn(&mut rx), Connection::Polling);
        assert_eq!(p.after(&tx, Ok(())).await, Some(Duration::from_secs(5)));
        assert!(rx.try_recv().is_err(), "no news while healthy");
        let limited = ProviderError::RateLimited {
            retry_after_ms: 9_000,
        };
        assert_eq!(
            p.after(&tx, Err(limited)).await,
            Some(Duration::from_secs(9))
        );
        assert!(matches!(
            conn(&mut rx),
            Connection::Retrying { in_ms: 9_000, .. }
        ));
        let refused = ProviderError::Auth("no".into());
        assert_eq!(
            p.after(&tx, Err(refused)).await,
            Some(Duration::from_secs(60))
        );
        assert!(matches!(conn(&mut rx), Connection::Failed { .. }));
    }
}

#[cfg(test)]
mod invited_tests {
    use super::find_invited;
    use crate::domain::{Participant, ParticipantDraft, Role, SourceId};

    fn person(id: &str, email: &str, key: Option<&str>) -> Participant {
        Participant {
            source: SourceId(0),
            id: id.into(),
            name: id.into(),
            email: Some(email.into()),
            role: Role::Participant,
            link: None,
            version: None,
            external_key: key.map(str::to_string),
        }
    }

    #[test]
    fn an_earlier_invitation_is_found_by_email_or_key() {
        let all = vec![
            person("u1", "ada@example.com", Some("crm-1")),
            person("u2", "Bob@Example.com", None),
        ];
        let mut d = ParticipantDraft {
            name: "Bob".into(),
            email: Some("bob@example.com".into()),
            role: Role::Participant,
            notify: false,
            one_time_link: false,
            link_lifetime_min: None,
            external_key: Some("crm-9".into()),
        };
        assert_eq!(
            find_invited(all.clone(), &d).map(|p| p.id),
            Some("u2".into())
        );
        d.email = Some("carol@example.com".into());
        assert_eq!(find_invited(all.clone(), &d), None);
        d.external_key = Some(" crm-1 ".into());
        assert_eq!(find_invited(all, &d).map(|p| p.id), Some("u1".into()));
    }
}
