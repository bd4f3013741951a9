//! The domain layer: every type the core, the store and the providers share.
//! It depends on nothing else in qadeck but [`crate::text`] (participants
//! and events sanitize themselves). Text fields hold *sanitized* text only.

mod caps;
mod chat;
mod error;
mod event;
mod feed;
mod ids;
mod marks;
mod moderator;
mod op;
mod people;
mod question;
mod report;
mod shared;
mod show;
mod slots;

pub use caps::{Capabilities, Delivery, VoteKind};
pub use chat::Message;
pub use error::{MAX_RETRY_AFTER_MS, ProviderError, ProviderResult};
pub use event::{EventDraft, EventInfo, ReportKind};
pub use feed::{Connection, Feed, RateBudget, SourceFeed};
pub use ids::{Millis, QKey, SourceId};
pub use marks::{Hold, Marks, Ruled};
pub use moderator::Moderator;
pub use op::{Op, Outcome};
pub use people::{Participant, ParticipantDraft, Role, valid_email};
pub use question::{LocalState, MyVote, Question, Status, votes32};
pub use report::{IN_FLIGHT_DEFAULT, IN_FLIGHT_MAX, OpReport};
pub use shared::{Pool, Str};
pub use show::{OnAir, ShowAction, ShowItem, ShowRefusal};
pub use slots::{Keyed, KeyedSlots, Slots};
