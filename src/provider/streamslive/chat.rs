//! streams.live's chat: the thread read, posts and deletions, and the
//! message length check.

use super::StreamsLive;
use super::client::{Local, json, numeric};
use super::wire;
use super::wire::{EventMeta, WireMessage};
use crate::domain::{Message, Millis, Outcome, ProviderError, ProviderResult};
use crate::text::sanitize;
use reqwest::Method;
use std::collections::HashSet;

/// How far before the queueing time an item may be stamped by the platform
/// and still be taken for the one qadeck created (clocks differ).
pub(super) const CLOCK_SKEW_MS: Millis = 60_000;

/// What one `thread/read` covers.
#[derive(Debug, Default)]
pub(super) struct Window {
    pub(super) messages: Vec<Message>,
    /// Ids the answer flags as deleted.
    pub(super) deleted: Vec<String>,
    /// The creation time of the oldest message in the answer: the span the
    /// answer covers starts there.
    pub(super) oldest: Option<Millis>,
}

/// The longest chat message the platform takes (`messages.data`).
pub const MAX_MESSAGE_CHARS: usize = 300;

/// Checks a chat message before it is sent: not empty, at most
/// [`MAX_MESSAGE_CHARS`] Unicode scalar values. The message says why.
pub fn check_message(text: &str) -> Result<(), String> {
    let n = text.chars().count();
    if text.trim().is_empty() {
        Err("a chat message cannot be empty".into())
    } else if n > MAX_MESSAGE_CHARS {
        Err(format!(
            "a chat message holds at most {MAX_MESSAGE_CHARS} characters; this one has {n}"
        ))
    } else {
        Ok(())
    }
}

impl StreamsLive {
    /// `threadSlug` candidates: the channel slug (what the document names),
    /// then the thread id, then the channel id.
    pub(super) fn thread_keys(ev: &EventMeta) -> Vec<String> {
        let mut keys: Vec<String> = ev.slug.iter().cloned().collect();
        for k in ev
            .thread_text()
            .into_iter()
            .chain(std::iter::once(ev.id.clone()))
        {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        keys
    }

    /// The `userId` of `thread/read`: the logged-in user's id (`GET
    /// profile`, read once), else the channel owner's.
    pub(super) async fn thread_user(&self, ev: &EventMeta) -> Option<String> {
        let known = self.local().user_id.clone();
        let mine = match known {
            Some(id) => id,
            None => match self
                .call_json(Method::GET, "profile", &[], None, "read profile")
                .await
            {
                Ok(v) => {
                    let (id, names) = wire::profile(&v);
                    let mut l = self.local();
                    l.own_authors.extend(names);
                    l.user_id = Some(id.clone());
                    id
                }
                // Not now: try again next time; the owner's id meanwhile.
                Err(e) if e.is_transient() => None,
                Err(e) => {
                    tracing::info!("streams.live: no profile ({e}); userId is the owner's");
                    self.local().user_id = Some(None);
                    None
                }
            },
        };
        mine.or_else(|| ev.owner_id.clone())
    }

    /// Tries `f` with each key, the accepted one first; once a key worked,
    /// only that one is used.
    pub(super) async fn with_keys<T, F, Fut>(
        &self,
        keys: &[String],
        pick: fn(&mut Local) -> &mut Option<usize>,
        f: F,
    ) -> ProviderResult<T>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = ProviderResult<T>>,
    {
        if keys.is_empty() {
            return Err(ProviderError::Unsupported(
                "chat: this channel has no chat thread".into(),
            ));
        }
        let chosen = *pick(&mut self.local());
        let order: Vec<usize> = match chosen {
            Some(i) if i < keys.len() => vec![i],
            _ => (0..keys.len()).collect(),
        };
        let mut first_err = None;
        for i in order {
            match f(keys[i].clone()).await {
                Ok(v) => {
                    *pick(&mut self.local()) = Some(i);
                    return Ok(v);
                }
                Err(e @ (ProviderError::NotFound(_) | ProviderError::Invalid(_)))
                    if chosen.is_none() =>
                {
                    first_err.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(first_err.unwrap_or_else(|| ProviderError::NotFound("chat thread".into())))
    }

    pub(super) async fn read_thread(&self, ev: &EventMeta) -> ProviderResult<Vec<Message>> {
        Ok(self.read_window(ev).await?.messages)
    }

    /// One `thread/read`: the window of recent messages it returns, and
    /// the ids it flags as deleted.
    pub(super) async fn read_window(&self, ev: &EventMeta) -> ProviderResult<Window> {
        let keys = Self::thread_keys(ev);
        let user = self.thread_user(ev).await;
        let v = self
            .with_keys(
                &keys,
                |l| &mut l.thread_key,
                |key| {
                    let body = json(&wire::ReadThread {
                        thread_slug: &key,
                        user_id: user.as_deref(),
                    });
                    async move {
                        self.call_json(Method::POST, "thread/read", &[], Some(&body), "read chat")
                            .await
                    }
                },
            )
            .await?;
        let wires = wire::messages(&v)?;
        let now = crate::provider::now_ms();
        let mut l = self.local();
        let mut seen = HashSet::new();
        let mut window = Window::default();
        for w in wires.iter().filter(|w| seen.insert(w.id.clone())) {
            let m = l.message(w, self.source, now);
            window.oldest = Some(window.oldest.map_or(m.created, |o: i64| o.min(m.created)));
            if w.deleted {
                window.deleted.push(m.id);
            } else {
                window.messages.push(m);
            }
        }
        Ok(window)
    }

    /// A message qadeck posted since `since`, found in the thread: same
    /// text and parent, and qadeck's author name where it is known.
    pub(super) async fn find_posted(
        &self,
        ev: &EventMeta,
        text: &str,
        reply_to: Option<&str>,
        since: Millis,
    ) -> ProviderResult<Option<Message>> {
        let clean = sanitize(text);
        let msgs = self.read_thread(ev).await?;
        let l = self.local();
        let mine = |m: &Message| {
            l.own_authors.is_empty() || m.author.as_ref().is_some_and(|a| l.own_authors.contains(a))
        };
        Ok(msgs.into_iter().rev().find(|m| {
            m.text == clean && m.reply_to.as_deref() == reply_to && m.created >= since && mine(m)
        }))
    }

    pub(super) async fn post_message(
        &self,
        text: &str,
        reply_to: Option<&str>,
    ) -> ProviderResult<Outcome> {
        check_message(text).map_err(ProviderError::Invalid)?;
        let ev = self.event().await?;
        let thread = ev.thread_id.clone().ok_or_else(|| {
            ProviderError::Unsupported("chat: this channel has no chat thread".into())
        })?;
        let thread = numeric(thread);
        let body = json(&wire::PostMessage {
            data: text,
            thread_id: &thread,
            reply_for: reply_to,
        });
        let v = self
            .call_json(Method::POST, "messages", &[], Some(&body), "post message")
            .await?;
        let posted = WireMessage::from_value(&v)
            .filter(|w| !w.id.is_empty())
            .map(|w| {
                let mut l = self.local();
                l.message(&w, self.source, crate::provider::now_ms())
            });
        let posted = match posted {
            Some(m) => Some(m),
            None => {
                let clean = sanitize(text);
                let known = self.local().chat_known.clone();
                self.read_thread(&ev)
                    .await?
                    .into_iter()
                    .rev()
                    .find(|m| m.text == clean && !known.contains_key(&m.id))
            }
        };
        match posted {
            Some(m) => {
                let mut l = self.local();
                if let Some(a) = &m.author {
                    l.own_authors.insert(a.clone());
                }
                l.chat_known.insert(m.id.clone(), m.created);
                Ok(Outcome::Message(m))
            }
            None => Ok(Outcome::Done),
        }
    }

    /// A post whose earlier attempt may have landed: looked for in the
    /// thread first (text, parent, author, since it was queued, with a
    /// minute for clock skew), sent only when it is not there.
    pub(super) async fn post_message_again(
        &self,
        text: &str,
        reply_to: Option<&str>,
        queued_at: Millis,
    ) -> ProviderResult<Outcome> {
        check_message(text).map_err(ProviderError::Invalid)?;
        let ev = self.event().await?;
        if let Some(m) = self
            .find_posted(&ev, text, reply_to, queued_at - CLOCK_SKEW_MS)
            .await?
        {
            tracing::info!("streams.live: the earlier post landed; not sending it again");
            self.local().chat_known.insert(m.id.clone(), m.created);
            return Ok(Outcome::Message(m));
        }
        self.post_message(text, reply_to).await
    }

    pub(super) async fn delete_message(&self, id: &str) -> ProviderResult<Outcome> {
        let ev = self.event().await?;
        let mut keys: Vec<String> = ev.slug.iter().cloned().collect();
        if let Some(t) = ev.thread_text()
            && !keys.contains(&t)
        {
            keys.push(t);
        }
        self.with_keys(
            &keys,
            |l| &mut l.delete_key,
            |key| {
                let body = json(&wire::DeleteMessage {
                    thread_slug: &key,
                    message_id: id,
                });
                async move {
                    self.call(
                        Method::DELETE,
                        "messages/delete",
                        &[],
                        Some(&body),
                        "delete message",
                    )
                    .await
                }
            },
        )
        .await?;
        self.local().chat_known.remove(id);
        Ok(Outcome::MessageGone(id.to_string()))
    }
}
