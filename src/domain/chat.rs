//! Chat messages.

use super::{Millis, SourceId};
use serde::{Deserialize, Serialize};

/// One chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub source: SourceId,
    pub id: String,
    pub author: Option<String>,
    pub text: String,
    pub reply_to: Option<String>,
    pub created: Millis,
}
