//! Bounded batches: a loop takes what its inbox already holds a batch at a
//! time, and looks at its deadline, signals and keys between two batches,
//! however fast events arrive. The core's deferred work (duplicate
//! grouping) goes the same way: bounded steps after each batch.

use super::{Inbox, Session};
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

/// Hands the core [`Event::Work`] steps until none waits or [`MAX_TIME`]
/// has passed. Returns how many steps were handed; the first error stops.
pub fn work<E>(
    session: &mut Session,
    mut handle: impl FnMut(&mut Session, Event) -> Result<(), E>,
) -> Result<usize, E> {
    let started = Instant::now();
    let mut steps = 0;
    while session.app.has_work() && started.elapsed() < MAX_TIME {
        handle(session, Event::Work)?;
        steps += 1;
    }
    Ok(steps)
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

    /// Three made-up words of their own for `n`.
    fn words(n: usize) -> String {
        let mut x = (n as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut letter = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        };
        let mut word = || (0..7).map(|_| letter()).collect::<String>();
        format!("{} {} {}", word(), word(), word())
    }

    /// A session with no source whose core holds `n` questions (each text
    /// asked twice), every one still to be grouped.
    fn waiting_session(n: usize) -> Session {
        let store = std::sync::Arc::new(crate::store::Store::open_in_memory().unwrap());
        let keymap = crate::app::KeyMap::default();
        let (mut s, _inbox) = Session::new(
            Vec::new(),
            store,
            keymap,
            crate::domain::Moderator::default(),
        )
        .unwrap();
        let qs = (0..n)
            .map(|i| crate::domain::Question {
                source: SourceId(0),
                id: format!("q{i}").into(),
                text: format!("Will the {} be recorded?", words(i / 2)).into(),
                author: None,
                votes: 0,
                my_vote: crate::domain::MyVote::None,
                status: crate::domain::Status::Pending,
                on_air: false,
                created: i as i64,
                updated: i as i64,
            })
            .collect();
        s.app.update(Event::Feed(SourceFeed {
            source: SourceId(0),
            feed: Feed::Upsert(qs),
        }));
        s
    }

    #[tokio::test]
    async fn work_rounds_stay_bounded_and_end_once_the_grouping_is_done() {
        let mut s = waiting_session(4_000);
        assert!(s.app.has_work());
        let steps = work(&mut s, |s, e| {
            s.handle(e);
            Ok::<(), ()>(())
        })
        .unwrap();
        // A round ends at its time bound, not with the whole backlog.
        assert!(steps >= 1, "{steps}");
        assert!(s.app.has_work(), "groupings left for the next rounds");
        while s.app.has_work() {
            work(&mut s, |s, e| {
                s.handle(e);
                Ok::<(), ()>(())
            })
            .unwrap();
        }
        assert_eq!(s.app.groups.waiting(), 0);
        assert_eq!(s.app.groups.count(), 2_000, "each text asked twice");
        assert_eq!(work(&mut s, |_, _| Ok::<(), ()>(())), Ok(0));
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
