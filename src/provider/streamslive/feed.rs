//! The streams.live live feed: one poll of channel, questions and chat,
//! repeated with backoff after errors.

use super::StreamsLive;
use crate::domain::{Feed, Message, ProviderResult};
use crate::provider::FeedTx;
use crate::provider::poll::PollLoop;
use std::collections::HashSet;
use std::time::Duration;

/// How often the channel itself (open state, thread) is re-read.
pub(super) const EVENT_REFRESH: Duration = Duration::from_secs(30);
/// Wait after an error the moderator has to fix (bad password, unknown
/// channel) before trying again.
pub(super) const PERMANENT_WAIT: Duration = Duration::from_secs(60);

impl StreamsLive {
    /// Polls until the event loop is gone, backing off after errors.
    pub(super) async fn run_polls(&self, tx: FeedTx) {
        let mut cadence = PollLoop::new(self.poll, "streams.live")
            .failed_wait(PERMANENT_WAIT)
            .floor(Duration::from_millis(200));
        if !cadence.start(&tx).await {
            return;
        }
        let mut st = FeedState::default();
        loop {
            let result = match self.poll_once(&tx, &mut st).await {
                Ok(false) => return,
                Ok(true) => Ok(()),
                Err(e) => Err(e),
            };
            let Some(wait) = cadence.after(&tx, result).await else {
                return;
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// One poll: channel (when due), questions, chat. `Ok(false)` when the
    /// event loop is gone.
    pub(super) async fn poll_once(&self, tx: &FeedTx, st: &mut FeedState) -> ProviderResult<bool> {
        let mut ev = self.event().await?;
        let dirty = std::mem::take(&mut self.local().event_dirty);
        let due = st.event_read.is_none_or(|t| t.elapsed() >= EVENT_REFRESH);
        if due || dirty {
            match self.refresh_event(&ev).await {
                Ok(fresh) => ev = fresh,
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => tracing::warn!("streams.live: re-reading the channel failed: {e}"),
            }
            st.event_read = Some(tokio::time::Instant::now());
        }
        let open = (ev.questions_enabled, ev.chat_enabled);
        if st.open != Some(open) {
            if !tx
                .send(Feed::OpenState {
                    questions: open.0,
                    chat: open.1,
                })
                .await
            {
                return Ok(false);
            }
            st.open = Some(open);
        }

        let questions = self.read_questions(&ev).await?;
        if !tx.send(Feed::Snapshot(questions)).await {
            return Ok(false);
        }

        if st
            .chat_pause_until
            .is_some_and(|t| tokio::time::Instant::now() < t)
        {
            return Ok(true);
        }
        match self.read_thread(&ev).await {
            Ok(msgs) => {
                st.chat_pause_until = None;
                st.chat_noticed = false;
                for feed in self.chat_changes(st, msgs) {
                    if !tx.send(feed).await {
                        return Ok(false);
                    }
                }
            }
            Err(e) if e.is_transient() => return Err(e),
            Err(e) => {
                // Questions still work; retry the chat with the channel.
                st.chat_pause_until = Some(tokio::time::Instant::now() + EVENT_REFRESH);
                if !st.chat_noticed {
                    st.chat_noticed = true;
                    if !tx
                        .send(Feed::Notice(format!("streams.live chat unavailable: {e}")))
                        .await
                    {
                        return Ok(false);
                    }
                }
            }
        }
        Ok(true)
    }

    /// What changed in the chat since the last read.
    pub(super) fn chat_changes(&self, st: &mut FeedState, msgs: Vec<Message>) -> Vec<Feed> {
        let mut l = self.local();
        let ids: HashSet<String> = msgs.iter().map(|m| m.id.clone()).collect();
        if !st.chat_started {
            st.chat_started = true;
            l.chat_known = ids;
            return vec![Feed::ChatSnapshot(msgs)];
        }
        let mut out = Vec::new();
        let gone: Vec<String> = l
            .chat_known
            .iter()
            .filter(|id| !ids.contains(*id))
            .cloned()
            .collect();
        let new: Vec<Message> = msgs
            .into_iter()
            .filter(|m| !l.chat_known.contains(&m.id))
            .collect();
        if !new.is_empty() {
            out.push(Feed::Messages(new));
        }
        out.extend(gone.into_iter().map(Feed::MessageGone));
        l.chat_known = ids;
        out
    }
}

/// Per-feed bookkeeping (one `run_feed` call).
#[derive(Default)]
pub(super) struct FeedState {
    pub(super) event_read: Option<tokio::time::Instant>,
    pub(super) open: Option<(Option<bool>, Option<bool>)>,
    pub(super) chat_started: bool,
    pub(super) chat_noticed: bool,
    pub(super) chat_pause_until: Option<tokio::time::Instant>,
}
