//! The bulk import engine behind `people import`.
//!
//! The import is idempotent: it lists the participants first and skips a row
//! whose e-mail (compared without case) or external key already exists, and
//! a row repeating an earlier row of the same file. Rows are added one at a
//! time with `Op::AddParticipant`; a 429 waits the platform's `Retry-After`
//! and retries the same row; a server or network error first checks whether
//! the participant arrived anyway (the add may have happened before the
//! answer was lost) and only then retries, so no retry ever duplicates; the
//! retry itself is `Provider::perform_again`, which STREAMBOXY and
//! Boomstream answer with the same look-up (e-mail or external key) the
//! outbox relies on.
//! What needs the moderator ([`ProviderError::needs_moderator`]: refused
//! credentials or permission, "not found", unsupported) stops the import and
//! the rows not attempted are reported as such; a row the platform refuses
//! as invalid fails alone.

use super::csv::ImportRow;
use super::outcome::{RowOutcome, RowStatus};
use crate::domain::{Op, Outcome, Participant, ParticipantDraft, ProviderError};
use crate::provider::Provider;
use crate::provider::http::Backoff;
use std::collections::HashMap;
use std::time::Duration;

/// How fast and how stubbornly the import goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Pace {
    /// Extra ceiling on rows a second, on top of the provider's own pacing
    /// (STREAMBOXY paces itself at its documented limit). `None`: no extra.
    pub rows_per_sec: Option<f64>,
    /// Attempts per row after the first (429s, network and server errors).
    pub max_retries: u32,
    /// Longest single wait for a `Retry-After`.
    pub max_wait: Duration,
}

impl Default for Pace {
    fn default() -> Pace {
        Pace {
            rows_per_sec: None,
            max_retries: 8,
            max_wait: Duration::from_secs(120),
        }
    }
}

fn norm_email(e: &str) -> String {
    e.trim().to_lowercase()
}

/// Imports the rows; see the module doc. One outcome per row, in order.
pub async fn import(provider: &dyn Provider, rows: &[ImportRow], pace: &Pace) -> Vec<RowOutcome> {
    import_with(provider, rows, pace, &mut |_| {}).await
}

/// [`import`] that also reports each outcome as soon as it is known.
pub async fn import_with(
    provider: &dyn Provider,
    rows: &[ImportRow],
    pace: &Pace,
    on_row: &mut (dyn FnMut(&RowOutcome) + Send),
) -> Vec<RowOutcome> {
    let mut out = Vec::with_capacity(rows.len());
    let mut emit = |o: RowOutcome, out: &mut Vec<RowOutcome>| {
        on_row(&o);
        out.push(o);
    };
    let existing = match list_with_retry(provider, pace).await {
        Ok(list) => list,
        Err(e) => {
            let reason = format!("could not list the existing participants: {e}");
            for r in rows {
                let status = match &r.draft {
                    Err(invalid) => RowStatus::Invalid {
                        reason: invalid.to_string(),
                    },
                    Ok(_) => RowStatus::Skipped {
                        reason: reason.clone(),
                    },
                };
                emit(outcome(r, status, 0), &mut out);
            }
            return out;
        }
    };
    let mut by_email: HashMap<String, String> = HashMap::new();
    let mut by_key: HashMap<String, String> = HashMap::new();
    for p in &existing {
        remember(&mut by_email, &mut by_key, p);
    }
    let mut seen_email: HashMap<String, u64> = HashMap::new();
    let mut seen_key: HashMap<String, u64> = HashMap::new();
    let mut stopped: Option<String> = None;
    let mut last_add: Option<tokio::time::Instant> = None;
    for r in rows {
        let d = match &r.draft {
            Err(invalid) => {
                emit(
                    outcome(
                        r,
                        RowStatus::Invalid {
                            reason: invalid.to_string(),
                        },
                        0,
                    ),
                    &mut out,
                );
                continue;
            }
            Ok(d) => d,
        };
        let email = d.email.as_deref().map(norm_email);
        let key = d.external_key.as_deref().map(|k| k.trim().to_string());
        if let Some(first) = email
            .as_ref()
            .and_then(|e| seen_email.get(e))
            .or_else(|| key.as_ref().and_then(|k| seen_key.get(k)))
        {
            emit(
                outcome(r, RowStatus::Duplicate { line: *first }, 0),
                &mut out,
            );
            continue;
        }
        if let Some(e) = &email {
            seen_email.insert(e.clone(), r.line);
        }
        if let Some(k) = &key {
            seen_key.insert(k.clone(), r.line);
        }
        if let Some(id) = email
            .as_ref()
            .and_then(|e| by_email.get(e))
            .or_else(|| key.as_ref().and_then(|k| by_key.get(k)))
        {
            emit(
                outcome(r, RowStatus::Exists { id: id.clone() }, 0),
                &mut out,
            );
            continue;
        }
        if let Some(reason) = &stopped {
            emit(
                outcome(
                    r,
                    RowStatus::Skipped {
                        reason: reason.clone(),
                    },
                    0,
                ),
                &mut out,
            );
            continue;
        }
        if let Some(rate) = pace.rows_per_sec.filter(|r| *r > 0.0 && r.is_finite()) {
            let gap = Duration::from_secs_f64(1.0 / rate);
            if let Some(at) = last_add {
                tokio::time::sleep_until(at + gap).await;
            }
        }
        last_add = Some(tokio::time::Instant::now());
        let (status, retries, stop) = add_one(provider, d, pace).await;
        match &status {
            RowStatus::Added { id } => {
                if let Some(e) = &email {
                    by_email.insert(e.clone(), id.clone());
                }
                if let Some(k) = &key {
                    by_key.insert(k.clone(), id.clone());
                }
            }
            RowStatus::Failed { error } if stop => {
                stopped = Some(format!("stopped after line {}: {error}", r.line));
            }
            _ => {}
        }
        emit(outcome(r, status, retries), &mut out);
    }
    out
}

fn outcome(r: &ImportRow, status: RowStatus, retries: u32) -> RowOutcome {
    let d = r.draft.as_ref().ok();
    RowOutcome {
        line: r.line,
        name: d.map(|d| d.name.clone()),
        email: d.and_then(|d| d.email.clone()),
        status,
        retries,
    }
}

fn remember(
    by_email: &mut HashMap<String, String>,
    by_key: &mut HashMap<String, String>,
    p: &Participant,
) {
    if let Some(e) = p.email.as_deref().filter(|e| !e.trim().is_empty()) {
        by_email.insert(norm_email(e), p.id.clone());
    }
    if let Some(k) = p.external_key.as_deref().filter(|k| !k.trim().is_empty()) {
        by_key.insert(k.trim().to_string(), p.id.clone());
    }
}

/// The wait before retrying after `e`, or `None` when `e` is not worth it.
fn retry_wait(e: &ProviderError, backoff: &mut Backoff, pace: &Pace) -> Option<Duration> {
    match e {
        ProviderError::RateLimited { retry_after_ms } => {
            Some(Duration::from_millis((*retry_after_ms).max(50)).min(pace.max_wait))
        }
        ProviderError::Server(_) | ProviderError::Network(_) => {
            Some(backoff.next_delay().max(Duration::from_millis(100)))
        }
        _ => None,
    }
}

async fn list_with_retry(
    provider: &dyn Provider,
    pace: &Pace,
) -> Result<Vec<Participant>, ProviderError> {
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
    let mut tries = 0;
    loop {
        match provider.list_participants().await {
            Ok(list) => return Ok(list),
            Err(e) => {
                tries += 1;
                match retry_wait(&e, &mut backoff, pace) {
                    Some(wait) if tries <= pace.max_retries => tokio::time::sleep(wait).await,
                    _ => return Err(e),
                }
            }
        }
    }
}

/// Adds one participant: the status, the retries, and whether the error
/// stops the whole import.
async fn add_one(
    provider: &dyn Provider,
    d: &ParticipantDraft,
    pace: &Pace,
) -> (RowStatus, u32, bool) {
    let op = Op::AddParticipant { draft: d.clone() };
    let queued_at = crate::provider::now_ms();
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
    let mut retries = 0;
    // Whether an attempt may have added the participant without an answer.
    let mut earlier = false;
    loop {
        let answer = if earlier {
            provider.perform_again(&op, queued_at).await
        } else {
            provider.perform(&op).await
        };
        let err = match answer {
            Ok(Outcome::Participant(p)) => return (RowStatus::Added { id: p.id }, retries, false),
            Ok(other) => {
                return (
                    RowStatus::Failed {
                        error: format!("unexpected answer: {other:?}"),
                    },
                    retries,
                    false,
                );
            }
            Err(e) => e,
        };
        let wait = retry_wait(&err, &mut backoff, pace);
        match (&err, wait) {
            (_, Some(wait)) if retries < pace.max_retries => {
                tracing::info!(error = %err, wait_ms = wait.as_millis() as u64, "import: retrying row");
                tokio::time::sleep(wait).await;
                retries += 1;
                // A lost answer may hide a done add: look before adding
                // again, and tell the provider so it looks too.
                if !matches!(err, ProviderError::RateLimited { .. }) {
                    earlier = true;
                    if let Some(id) = find_existing(provider, d).await {
                        return (RowStatus::Added { id }, retries, false);
                    }
                }
            }
            _ => {
                // What needs the moderator stops the import, except a row
                // the platform refused (`Invalid`): that is this row's
                // failure, the next rows may be fine.
                let stop = err.needs_moderator() && !matches!(err, ProviderError::Invalid(_));
                return (
                    RowStatus::Failed {
                        error: err.to_string(),
                    },
                    retries,
                    stop,
                );
            }
        }
    }
}

/// The participant a lost add created, by the same rule as the platforms'
/// own look-up ([`crate::provider::poll::find_invited`]).
async fn find_existing(provider: &dyn Provider, d: &ParticipantDraft) -> Option<String> {
    let list = provider.list_participants().await.ok()?;
    crate::provider::poll::find_invited(list, d).map(|p| p.id)
}
