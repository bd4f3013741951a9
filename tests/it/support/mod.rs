//! Shared test support: in-process fakes of each platform, the fault proxy
//! in front of them, log capture, the tmux driver, and the harness and
//! waiting helpers they all use.

pub mod boomstream_fake;
pub mod fault_proxy;
pub mod log_capture;
pub mod postobox_fake;
pub mod serve;
pub mod show_loop;
pub mod streamboxy_fake;
pub mod streamslive_fake;
pub mod tmux;
pub mod wait;
pub mod webdriver;

pub use serve::{Serving, in_background, serve};
pub use wait::{child_exit, wait_until, wait_until_async};
