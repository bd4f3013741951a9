//! What the delivery worker reports back into the event loop about one
//! queued action.

use super::{Outcome, ProviderError};

/// What the delivery worker reports back into the event loop.
#[derive(Debug, Clone, PartialEq)]
pub enum OpReport {
    /// The platform confirmed the action.
    Confirmed { op_id: String, outcome: Outcome },
    /// A transient failure; the action stays queued and is retried.
    Retrying {
        op_id: String,
        attempt: u32,
        in_ms: u64,
        reason: String,
    },
    /// A permanent failure; the action is kept as failed for the moderator
    /// to retry or drop.
    Failed { op_id: String, error: ProviderError },
}
