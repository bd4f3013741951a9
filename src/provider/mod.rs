//! The one interface between qadeck and a Q&A platform.
//!
//! A provider is built for one source (one event on one platform). It declares
//! what it can do through [`Capabilities`]; the UI and the core consult those
//! flags and never the provider's name. Live data flows *into* the event loop
//! as [`Feed`] events over a channel; actions flow *out* as [`Op`]s. All of
//! those types live in [`crate::domain`]; this module holds the trait, the
//! feed channel and the `[[source]]` registry. Providers depend on the domain
//! and on each other's shared toolkit only: [`https`] (the one https
//! policy), [`request`] (the one request path), [`http`] (clients, limits,
//! `Retry-After`, backoff), [`token_cache`] (OAuth-style tokens), [`poll`]
//! (the polling cadence) and [`sse`].

pub mod boomstream;
mod build_error;
pub mod demo;
pub mod http;
pub mod https;
pub mod poll;
pub mod postobox;
pub mod request;
pub mod sse;
pub mod streamboxy;
pub mod streamslive;
pub mod token_cache;

use crate::domain::{
    Capabilities, EventDraft, EventInfo, Feed, Message, Millis, Moderator, Op, Outcome,
    Participant, ProviderError, ProviderResult, Question, RateBudget, ReportKind, SourceFeed,
    SourceId,
};
pub use build_error::BuildError;

use async_trait::async_trait;
use tokio::sync::mpsc;

/// Sender half that a provider's feed task writes into.
#[derive(Clone, Debug)]
pub struct FeedTx {
    source: SourceId,
    tx: mpsc::Sender<SourceFeed>,
}

impl FeedTx {
    pub fn new(source: SourceId, tx: mpsc::Sender<SourceFeed>) -> FeedTx {
        FeedTx { source, tx }
    }

    pub fn source(&self) -> SourceId {
        self.source
    }

    /// Sends one event; returns false once the loop is gone (time to stop).
    pub async fn send(&self, feed: Feed) -> bool {
        self.tx
            .send(SourceFeed {
                source: self.source,
                feed,
            })
            .await
            .is_ok()
    }
}

impl FeedTx {
    /// The loop is gone (time to stop).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Room for one event, granted only while fewer than `most` events wait
    /// for the loop: a producer that makes events on demand (the demo)
    /// makes only what the loop has room for. `None`: make nothing now.
    pub fn reserve_within(&self, most: usize) -> Option<FeedPermit<'_>> {
        let waiting = self.tx.max_capacity() - self.tx.capacity();
        if waiting >= most {
            return None;
        }
        let permit = self.tx.try_reserve().ok()?;
        Some(FeedPermit {
            source: self.source,
            permit,
        })
    }
}

/// A place in the loop's feed queue, taken before the event is made.
pub struct FeedPermit<'a> {
    source: SourceId,
    permit: mpsc::Permit<'a, SourceFeed>,
}

impl FeedPermit<'_> {
    /// Sends the event into the reserved place (it cannot fail).
    pub fn send(self, feed: Feed) {
        self.permit.send(SourceFeed {
            source: self.source,
            feed,
        });
    }
}

/// One platform, bound to one source. Implementations live in sibling modules.
#[async_trait]
pub trait Provider: Send + Sync {
    fn capabilities(&self) -> Capabilities;

    /// Runs the live feed until the receiver is dropped: initial sync, then
    /// stream or polling, reconnecting and resyncing after any gap. Never
    /// returns early on errors; it reports them as `Feed::Connection`.
    async fn run_feed(&self, tx: FeedTx);

    /// Lists the events (all pages) the credentials can see.
    async fn list_events(&self) -> ProviderResult<Vec<EventInfo>>;

    /// Performs one action and returns what the platform answered.
    async fn perform(&self, op: &Op) -> ProviderResult<Outcome>;

    /// Performs an action that an earlier attempt may already have carried
    /// out (its answer was lost, or the process died while it was on the
    /// wire). A create looks for its item on the platform first, so it
    /// lands once; by default the same as [`Provider::perform`].
    /// `queued_at` is when the moderator asked for it.
    async fn perform_again(&self, op: &Op, queued_at: Millis) -> ProviderResult<Outcome> {
        let _ = queued_at;
        self.perform(op).await
    }

    /// The rate budget the platform's last answer reported (its
    /// `X-RateLimit-*` headers), for pacing delivery; `None` where the
    /// platform says nothing (its 429s still pause delivery).
    fn budget(&self) -> Option<RateBudget> {
        None
    }

    /// Fetches the current state of one question (used to confirm headless
    /// actions and to check before re-sending a toggle).
    async fn fetch_question(&self, id: &str) -> ProviderResult<Question>;

    /// Lists participants (for providers with the capability).
    async fn list_participants(&self) -> ProviderResult<Vec<Participant>> {
        Err(ProviderError::Unsupported("participants".into()))
    }

    /// Reads the chat thread (for providers with the capability).
    async fn read_chat(&self) -> ProviderResult<Vec<Message>> {
        Err(ProviderError::Unsupported("chat".into()))
    }

    /// Account facts for the info view (plan, usage, limits), as label/value.
    async fn account_info(&self) -> ProviderResult<Vec<(String, String)>> {
        Err(ProviderError::Unsupported("account information".into()))
    }

    /// One event by id. By default looked up in [`Provider::list_events`];
    /// platforms with a single-event call override it.
    async fn event_info(&self, id: &str) -> ProviderResult<EventInfo> {
        self.list_events()
            .await?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| ProviderError::NotFound(format!("event {}", crate::text::sanitize(id))))
    }

    /// Creates an event (session, conference) where the platform allows it.
    async fn create_event(&self, _draft: &EventDraft) -> ProviderResult<EventInfo> {
        Err(ProviderError::Unsupported("creating events".into()))
    }

    /// Updates an event's title/description where the platform allows it.
    async fn update_event(&self, _id: &str, _draft: &EventDraft) -> ProviderResult<EventInfo> {
        Err(ProviderError::Unsupported("updating events".into()))
    }

    /// Deletes an event where the platform allows it.
    async fn delete_event(&self, _id: &str) -> ProviderResult<()> {
        Err(ProviderError::Unsupported("deleting events".into()))
    }

    /// The platform's own export of questions or chat (e.g. CSV bytes).
    async fn download_report(&self, _kind: ReportKind) -> ProviderResult<Vec<u8>> {
        Err(ProviderError::Unsupported("platform reports".into()))
    }

    /// Called once on exit (log out where qadeck logged in).
    async fn shutdown(&self) {}
}

/// Current time in ms; only the runtime and providers read the clock.
pub fn now_ms() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

/// What every provider's `[[source]]` settings struct offers the core.
pub trait SourceSpec {
    fn name(&self) -> &str;
    /// The event (id, slug, session, conference code) or `None` to pick one.
    fn event(&self) -> Option<&str>;
    /// Whether a secret is written literally in the config file.
    fn has_literal_secret(&self) -> bool;
    /// The configured `base_url`, where the platform has one.
    fn base_url(&self) -> Option<&str> {
        None
    }
    /// Checks the settings without resolving secrets or building anything,
    /// when the config is read; by default the https policy of
    /// [`SourceSpec::base_url`]. The error names the key it is about.
    fn validate(&self) -> Result<(), BuildError> {
        match self.base_url() {
            Some(url) => https::check_base_url(url).map(|_| ()),
            None => Ok(()),
        }
    }
    /// Builds the provider (resolving secrets); the error says what is wrong.
    fn build(&self, ctx: &BuildCtx) -> Result<std::sync::Arc<dyn Provider>, BuildError>;
}

/// What a provider needs from the session when it is built.
#[derive(Debug, Clone)]
pub struct BuildCtx {
    pub source: SourceId,
    pub moderator: Moderator,
    /// Overrides the event named in the config (from the event picker).
    pub event: Option<String>,
}
