//! What the live show sees: the question on air, the next one and the
//! length of the selected queue ([`OnAir`], published by the runtime after
//! every change), and what a show controller may ask for ([`ShowAction`]).
//! Texts are the sanitized texts the core holds.

use super::{Millis, Str};
use serde::{Deserialize, Serialize};

/// One question as the show server serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowItem {
    /// The source's name from the config.
    pub source: String,
    pub id: Str,
    pub text: Str,
    pub author: Option<Str>,
    pub votes: i64,
    /// When it went on air (Unix milliseconds); `None` for the next one.
    pub since: Option<Millis>,
}

/// The on-air state: what `/on-air.json` answers and `/events` sends.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OnAir {
    pub on_air: Option<ShowItem>,
    /// The selected question `n` would put on air next.
    pub next: Option<ShowItem>,
    /// Selected questions waiting (the one on air not counted).
    pub queue_length: usize,
}

impl OnAir {
    /// The on-air text alone, empty when nothing is on air.
    pub fn text(&self) -> &str {
        self.on_air.as_ref().map_or("", |q| q.text.as_str())
    }
}

/// What a show controller (a Stream Deck button, the HTTP API) asks for.
/// Each goes through the same core update as the key press it mirrors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShowAction {
    /// What `n` does: answer the on-air question, air the top selected one.
    Next,
    /// Take the on-air question off air.
    Clear,
    /// Put this question on air (the source by its config name).
    Air { source: String, id: String },
    /// Mark the on-air question answered (and so off air).
    Answered,
}

/// Why a show controller's request changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShowRefusal {
    /// The source or question named is not known to this console.
    #[error("{0}")]
    Unknown(String),
    /// The request makes no sense now (nothing to put on air).
    #[error("{0}")]
    Nothing(String),
}
