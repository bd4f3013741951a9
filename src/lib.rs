//! qadeck: a keyboard-first terminal console for moderating live audience Q&A.
//!
//! The pure core lives in [`app`]; [`provider`] talks to platforms; [`ui`]
//! draws; [`runtime`] is the one event loop that joins them.

pub mod app;
pub mod commands;
pub mod config;
pub mod domain;
pub mod logging;
pub mod ndjson;
pub mod outbox;
pub mod people;
pub mod provider;
pub mod runtime;
pub mod secret;
pub mod show;
pub mod store;
pub mod text;
pub mod triage;
pub mod ui;
