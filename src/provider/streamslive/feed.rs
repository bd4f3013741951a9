//! The streams.live live feed: one poll of channel, questions and chat,
//! repeated with backoff after errors.

use super::StreamsLive;
use super::chat::Window;
use crate::domain::{Feed, Message, ProviderResult, Question, Str};
use crate::provider::FeedTx;
use crate::provider::poll::PollLoop;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// How often the channel itself (open state, thread) is re-read.
pub(super) const EVENT_REFRESH: Duration = Duration::from_secs(30);
/// The smallest window of recent messages taken for a bounded
/// `thread/read` (the document gives no size): a shorter answer is the
/// whole thread, or a partial answer.
pub(super) const MIN_CHAT_WINDOW: usize = 20;
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
        let questions = self.confirmed_snapshot(st, questions);
        if !tx.send(Feed::Snapshot(questions)).await {
            return Ok(false);
        }

        if st
            .chat_pause_until
            .is_some_and(|t| tokio::time::Instant::now() < t)
        {
            return Ok(true);
        }
        match self.read_window(&ev).await {
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

    /// What changed in the chat since the last read. `thread/read` gives a
    /// window of recent messages, so a known message missing from it is
    /// gone at once only inside the span the answer covers (created after
    /// its oldest message). Older ones scrolled out of a full window and
    /// are forgotten; when the answer is shorter than a window (the longest
    /// answer seen, at least [`MIN_CHAT_WINDOW`]) it holds the whole thread
    /// or is partial, and they are gone once the next answer confirms it. Messages flagged deleted are gone.
    pub(super) fn chat_changes(&self, st: &mut FeedState, window: Window) -> Vec<Feed> {
        let mut l = self.local();
        let Window {
            messages,
            deleted,
            oldest,
        } = window;
        let size = messages.len() + deleted.len();
        let short = size < st.chat_max.max(MIN_CHAT_WINDOW);
        st.chat_max = st.chat_max.max(size);
        if !st.chat_started {
            st.chat_started = true;
            l.chat_known = messages.iter().map(|m| (m.id.clone(), m.created)).collect();
            return vec![Feed::ChatSnapshot(messages)];
        }
        let listed: HashSet<&str> = messages.iter().map(|m| m.id.as_str()).collect();
        let mut gone: Vec<String> = deleted
            .into_iter()
            .filter(|id| l.chat_known.contains_key(id))
            .collect();
        let mut scrolled = Vec::new();
        let mut suspects = HashSet::new();
        for (id, created) in &l.chat_known {
            if listed.contains(id.as_str()) || gone.contains(id) {
                continue;
            }
            if oldest.is_some_and(|o| *created > o) || (short && st.chat_suspects.contains(id)) {
                gone.push(id.clone());
            } else if short {
                suspects.insert(id.clone());
            } else {
                scrolled.push(id.clone());
            }
        }
        st.chat_suspects = suspects;
        for id in gone.iter().chain(&scrolled) {
            l.chat_known.remove(id);
        }
        let new: Vec<Message> = messages
            .into_iter()
            .filter(|m| !l.chat_known.contains_key(&m.id))
            .collect();
        for m in &new {
            l.chat_known.insert(m.id.clone(), m.created);
        }
        let mut out = Vec::new();
        if !new.is_empty() {
            out.push(Feed::Messages(new));
        }
        gone.sort();
        out.extend(gone.into_iter().map(Feed::MessageGone));
        out
    }

    /// The questions of one poll as a snapshot. `questions/read` is taken as
    /// the complete list, but a question that vanishes from it is kept
    /// until the next poll confirms it is gone, so a partial or empty answer
    /// removes nothing.
    pub(super) fn confirmed_snapshot(
        &self,
        st: &mut FeedState,
        fresh: Vec<Question>,
    ) -> Vec<Question> {
        let ids: HashSet<Str> = fresh.iter().map(|q| q.id.clone()).collect();
        let mut out = fresh;
        let mut missing = HashMap::new();
        for (id, q) in std::mem::take(&mut st.listed) {
            if !ids.contains(&id) && !st.missing.contains_key(&id) {
                out.push(q.clone());
                missing.insert(id, q);
            }
        }
        st.missing = missing;
        st.listed = out
            .iter()
            .filter(|q| ids.contains(&q.id))
            .map(|q| (q.id.clone(), q.clone()))
            .collect();
        st.listed
            .extend(st.missing.iter().map(|(k, v)| (k.clone(), v.clone())));
        out
    }
}

/// Per-feed bookkeeping (one `run_feed` call).
#[derive(Default)]
pub(super) struct FeedState {
    /// The questions of the last snapshot.
    pub(super) listed: HashMap<Str, Question>,
    /// Questions missing from the last answer, kept once until confirmed.
    pub(super) missing: HashMap<Str, Question>,
    /// The most messages one `thread/read` answered (the window, once full).
    pub(super) chat_max: usize,
    /// Known messages a short answer left out, gone if the next one does too.
    pub(super) chat_suspects: HashSet<String>,
    pub(super) event_read: Option<tokio::time::Instant>,
    pub(super) open: Option<(Option<bool>, Option<bool>)>,
    pub(super) chat_started: bool,
    pub(super) chat_noticed: bool,
    pub(super) chat_pause_until: Option<tokio::time::Instant>,
}
