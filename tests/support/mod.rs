//! Shared test support: fakes of each platform and the tmux driver. Each
//! test binary uses only some of it, hence the allowance below.
#![allow(dead_code)]
//! Shared test support: fakes of the platforms, started in-process.
//!
//! Use from an integration test with `mod support;` and
//! `use support::postobox_fake::{FakePostobox, FakeConfig, Plan};`.

pub mod boomstream_fake;
pub mod fault_proxy;
pub mod log_capture;
pub mod postobox_fake;
pub mod streamboxy_fake;
pub mod streamslive_fake;
pub mod tmux;
