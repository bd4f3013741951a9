//! The show server: on-air output for OBS, vMix and a stage monitor, and a
//! control API for show controllers (a Stream Deck through Bitfocus
//! Companion). It reads the on-air state from a `watch` channel the runtime
//! publishes after every change and never touches the core: control calls
//! travel to the event loop as [`ControlRequest`]s and are answered once
//! the loop has carried them out. A watch holds one value, so a client that
//! never reads cannot make the loop wait.

mod file;
mod pages;
mod routes;

pub use file::write_atomically;

use crate::domain::{OnAir, ShowAction, ShowRefusal};
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// Where and how the show server runs (the config's `[show]` table, or
/// `--show` / `--show-file`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowConfig {
    /// `None`: no server, only the on-air file (if any).
    pub listen: Option<SocketAddr>,
    /// The bearer token for control calls (and reads off loopback).
    pub token: Option<String>,
    /// The environment variable the token came from, for messages.
    pub token_env: String,
    pub on_air_file: Option<PathBuf>,
}

/// A control call on its way to the event loop.
#[derive(Debug)]
pub struct ControlRequest {
    pub action: ShowAction,
    pub reply: oneshot::Sender<Result<(), ShowRefusal>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ShowError {
    #[error("show server: cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("show server: {addr} is not a loopback address, so reads need a token too; set {env}")]
    OpenToNetwork { addr: SocketAddr, env: String },
    #[error("on-air file {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The running show outputs; dropping it stops them.
pub struct Show {
    /// The address the server listens on (the real port when 0 was asked).
    pub addr: Option<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Show {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Starts the server and the on-air file writer. Errors (a port in use, an
/// unwritable file) stop the start with their message.
pub fn start(
    config: &ShowConfig,
    on_air: watch::Receiver<OnAir>,
    control: mpsc::Sender<ControlRequest>,
) -> Result<Show, ShowError> {
    let mut tasks = Vec::new();
    if let Some(path) = &config.on_air_file {
        write_atomically(path, on_air.borrow().text()).map_err(|source| ShowError::File {
            path: path.clone(),
            source,
        })?;
        tasks.push(tokio::spawn(file::follow(path.clone(), on_air.clone())));
    }
    let mut addr = None;
    if let Some(listen) = config.listen {
        let loopback = listen.ip().is_loopback();
        if !loopback && config.token.is_none() {
            return Err(ShowError::OpenToNetwork {
                addr: listen,
                env: config.token_env.clone(),
            });
        }
        let bind = |source| ShowError::Bind {
            addr: listen,
            source,
        };
        let std_listener = std::net::TcpListener::bind(listen).map_err(bind)?;
        std_listener.set_nonblocking(true).map_err(bind)?;
        let listener = tokio::net::TcpListener::from_std(std_listener).map_err(bind)?;
        addr = Some(listener.local_addr().map_err(bind)?);
        let state = routes::State {
            on_air,
            control,
            token: config.token.clone(),
            token_env: config.token_env.clone(),
            open_reads: loopback,
        };
        let app = routes::router(state);
        tasks.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("show server stopped: {e}");
            }
        }));
    }
    Ok(Show { addr, tasks })
}
