//! The self-contained pages: no external assets, every text put in with
//! `textContent`, never as markup.

/// The lower third for an OBS or vMix browser source.
pub const OVERLAY: &str = include_str!("overlay.html");
/// The full-screen confidence monitor.
pub const STAGE: &str = include_str!("stage.html");
