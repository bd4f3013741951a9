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

impl OpReport {
    /// The action this report is about.
    pub fn op_id(&self) -> &str {
        match self {
            Self::Confirmed { op_id, .. }
            | Self::Retrying { op_id, .. }
            | Self::Failed { op_id, .. } => op_id,
        }
    }
}

/// Actions one source may have in flight at once unless `[delivery]
/// in_flight` says otherwise: at a venue's 100 ms of latency, 8 keep a
/// backlog near 80 a second, about what PostoBox Enterprise allows (5,000 a
/// minute).
pub const IN_FLIGHT_DEFAULT: usize = 8;

/// The most `[delivery] in_flight` accepts: beyond this a platform sees a
/// burst, not a pipeline, and no documented limit needs more.
pub const IN_FLIGHT_MAX: usize = 64;
