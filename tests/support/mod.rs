//! Shared test support: fakes of the platforms, started in-process.
//!
//! Use from an integration test with `mod support;` and
//! `use support::postobox_fake::{FakePostobox, FakeConfig, Plan};`.

pub mod postobox_fake;
