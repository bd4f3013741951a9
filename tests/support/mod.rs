//! Shared test support: fakes of each platform and the tmux driver. Each
//! test binary uses only some of it, hence the allowance below.
#![allow(dead_code)]

pub mod boomstream_fake;
pub mod log_capture;
pub mod streamboxy_fake;
pub mod streamslive_fake;
pub mod tmux;
