//! What the participants-only platforms (STREAMBOXY, Boomstream) share: the
//! feed (list, wait, list again) and finding the participant an earlier,
//! unanswered invitation may have created.

use super::http::Backoff;
use super::{FeedTx, Provider};
use crate::domain::{Connection, Feed, Participant, ParticipantDraft, ProviderError};
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
