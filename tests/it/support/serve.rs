//! The one harness every fake starts through: an axum app served on a
//! loopback port, in the test's runtime or on a thread with its own runtime,
//! and the guard that stops it when the fake's handle is dropped.

use std::net::SocketAddr;

/// Keeps a fake serving; dropping it stops the server.
pub enum Serving {
    /// A task in the test's runtime; aborted on drop.
    Here(tokio::task::JoinHandle<()>),
    /// A thread with its own runtime ([`in_background`]); the signal sent
    /// on drop ends the thread, which drops the fake it runs.
    Elsewhere(Option<tokio::sync::oneshot::Sender<()>>),
}

impl Drop for Serving {
    fn drop(&mut self) {
        match self {
            Serving::Here(task) => task.abort(),
            Serving::Elsewhere(stop) => {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
            }
        }
    }
}

/// Serves `app` on `127.0.0.1:0` in the current runtime.
pub async fn serve(app: axum::Router) -> (SocketAddr, Serving) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, Serving::Here(task))
}

/// Runs a fake on a thread with its own runtime, for tests that block their
/// thread (tmux, child processes, `std::thread::sleep`). `start` brings the
/// fake up; `handle` makes the caller's handle from it and the
/// [`Serving::Elsewhere`] guard that ends the thread when the handle drops.
/// Call it outside any async context.
pub fn in_background<T, H, Fut>(
    name: &str,
    start: impl FnOnce() -> Fut + Send + 'static,
    handle: impl FnOnce(&T, Serving) -> H + Send + 'static,
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
                if ready_tx
                    .send(handle(&live, Serving::Elsewhere(Some(stop_tx))))
                    .is_ok()
                {
                    let _ = stop_rx.await;
                }
                drop(live);
            });
        })
        .expect("spawn the fake's thread");
    ready_rx.recv().expect("the fake started")
}
