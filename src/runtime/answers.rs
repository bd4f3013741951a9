//! The end of a run that is not interrupted: the answers to actions already
//! on their way get a moment to come back, so what the run says (summary,
//! journal) holds and nothing waits for its lease as after a crash.

use super::{Inbox, Session};
use crate::domain::OpReport;
use std::time::Duration;

/// How long a run that reached its end waits for answers.
pub const ANSWER_WAIT: Duration = Duration::from_secs(2);

/// Hands the reports that come to `handle` while an action may be on its
/// way with no answer yet, until `until`.
pub async fn await_answers<E>(
    session: &mut Session,
    inbox: &mut Inbox,
    until: tokio::time::Instant,
    mut handle: impl FnMut(&mut Session, OpReport) -> Result<(), E>,
) -> Result<(), E> {
    while session.app.awaiting_answers() {
        let report = tokio::select! {
            _ = tokio::time::sleep_until(until) => return Ok(()),
            r = inbox.reports.recv() => r,
        };
        let Some(r) = report else { return Ok(()) };
        handle(session, r)?;
    }
    Ok(())
}
