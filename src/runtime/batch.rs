//! Bounded batches: a loop takes what its inbox already holds a batch at a
//! time, and looks at its deadline, signals and keys between two batches,
//! however fast events arrive.

use super::Inbox;
use crate::app::Event;
use std::time::{Duration, Instant};

/// Most events handled in one batch.
pub const MAX_EVENTS: usize = 256;
/// Longest one batch runs (a feed event may carry many questions).
pub const MAX_TIME: Duration = Duration::from_millis(5);

/// Hands waiting events to `handle` until the inbox is empty, or
/// [`MAX_EVENTS`] were handled, or [`MAX_TIME`] has passed. Returns how
/// many were handled; the first error stops the batch.
pub fn drain<E>(
    inbox: &mut Inbox,
    mut handle: impl FnMut(Event) -> Result<(), E>,
) -> Result<usize, E> {
    let started = Instant::now();
    let mut handled = 0;
    while handled < MAX_EVENTS && started.elapsed() < MAX_TIME {
        let Some(event) = inbox.try_next() else {
            break;
        };
        handle(event)?;
        handled += 1;
    }
    Ok(handled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Feed, SourceFeed, SourceId};
    use tokio::sync::mpsc;

    fn notice() -> SourceFeed {
        SourceFeed {
            source: SourceId(0),
            feed: Feed::Notice("flood".into()),
        }
    }

    #[test]
    fn a_batch_ends_under_a_flood_that_never_stops() {
        let (feed_tx, feed) = mpsc::channel(16);
        let (_report_tx, reports) = mpsc::channel(1);
        let (_misc_tx, misc) = mpsc::unbounded_channel();
        let mut inbox = Inbox {
            feed,
            reports,
            misc,
        };
        feed_tx.try_send(notice()).unwrap();
        // Every event handled brings the next one: the inbox is never empty.
        let handled = drain(&mut inbox, |_| {
            feed_tx.try_send(notice()).map_err(|e| e.to_string())
        })
        .unwrap();
        assert!((1..=MAX_EVENTS).contains(&handled), "{handled}");
        assert!(inbox.try_next().is_some(), "the flood is still there");
    }

    #[test]
    fn an_empty_inbox_ends_the_batch_at_once() {
        let (_feed_tx, feed) = mpsc::channel(1);
        let (_report_tx, reports) = mpsc::channel(1);
        let (_misc_tx, misc) = mpsc::unbounded_channel();
        let mut inbox = Inbox {
            feed,
            reports,
            misc,
        };
        assert_eq!(drain(&mut inbox, |_| Ok::<(), ()>(())), Ok(0));
    }
}
