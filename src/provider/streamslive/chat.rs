//! streams.live's chat: the thread read, posts and deletions, and the
//! message length check.

use super::StreamsLive;
use super::client::{Local, json, numeric};
use super::wire;
use super::wire::{EventMeta, WireMessage};
use crate::domain::{Message, Outcome, ProviderError, ProviderResult};
use crate::text::sanitize;
use reqwest::Method;
use std::collections::HashSet;

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
    /// `threadSlug` candidates: the thread id, then the channel slug, then
    /// the channel id.
    pub(super) fn thread_keys(ev: &EventMeta) -> Vec<String> {
        let mut keys: Vec<String> = ev.thread_text().into_iter().collect();
        for k in ev.slug.iter().chain(std::iter::once(&ev.id)) {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
        keys
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
        let keys = Self::thread_keys(ev);
        let user = ev.owner_id.clone();
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
        Ok(wires
            .iter()
            .filter(|w| !w.deleted && seen.insert(w.id.clone()))
            .map(|w| l.message(w, self.source, now))
            .collect())
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
                    .find(|m| m.text == clean && !known.contains(&m.id))
            }
        };
        match posted {
            Some(m) => {
                self.local().chat_known.insert(m.id.clone());
                Ok(Outcome::Message(m))
            }
            None => Ok(Outcome::Done),
        }
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
