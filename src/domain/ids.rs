//! Identities and time: the small values every other domain type carries.

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
    pub id: String,
}
