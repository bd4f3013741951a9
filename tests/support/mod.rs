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

/// Runs a fake on a thread with its own runtime, for tests that block their
/// thread (tmux, child processes, `std::thread::sleep`). `start` brings the
/// server up; `handle` makes the caller's handle from it and the sender
/// that stops the thread (the handle sends it when dropped). Call it
/// outside any async context.
pub fn in_background<T, H, Fut>(
    name: &str,
    start: impl FnOnce() -> Fut + Send + 'static,
    handle: impl FnOnce(&T, tokio::sync::oneshot::Sender<()>) -> H + Send + 'static,
) -> H
where
    Fut: Future<Output = T>,
    T: 'static,
    H: Send + 'static,
{
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("a runtime for the fake");
            rt.block_on(async move {
                let live = start().await;
                if ready_tx.send(handle(&live, stop_tx)).is_ok() {
                    let _ = stop_rx.await;
                }
                drop(live);
            });
        })
        .expect("spawn the fake's thread");
    ready_rx.recv().expect("the fake started")
}
