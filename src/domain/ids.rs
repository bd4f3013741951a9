//! Identities and time: the small values every other domain type carries.

use super::Str;
use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch. The core never reads a clock; times
/// arrive inside events.
pub type Millis = i64;

/// Index of a source in the session's source list (stable for a session).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceId(pub u16);

/// A question's identity across sources.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QKey {
    pub source: SourceId,
    /// Shared with the question's own id.
    pub id: Str,
}
