//! qadeck: a keyboard-first terminal console for moderating live audience Q&A.
//!
//! The pure core lives in [`app`]; [`provider`] talks to platforms; [`ui`]
//! draws; [`runtime`] is the one event loop that joins them.

pub mod config;
pub mod domain;
pub mod outbox;
pub mod provider;
pub mod secret;
pub mod store;
pub mod text;
