//! A stand-in for the console's event loop behind the show server: it holds
//! a selected queue, carries out control calls the way the core does
//! (`next` answers the on-air one and airs the next), and publishes the
//! state on the watch the server reads.

use qadeck::domain::{OnAir, ShowAction, ShowItem, ShowRefusal};
use qadeck::show::{ControlRequest, Show, ShowConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{mpsc, watch};

pub fn item(id: &str, text: &str) -> ShowItem {
    ShowItem {
        source: "demo".into(),
        id: id.into(),
        text: text.into(),
        author: Some("Ada".into()),
        votes: 3,
        since: None,
    }
}

pub struct FakeLoop {
    pub addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    _show: Show,
    _task: crate::support::Serving,
}

impl FakeLoop {
    pub fn start(config: &ShowConfig, selected: Vec<ShowItem>) -> FakeLoop {
        let (publish, rx) = watch::channel(state(None, &selected));
        let (ctl, mut requests_rx) = mpsc::channel::<ControlRequest>(16);
        let show = qadeck::show::start(config, rx, ctl).expect("show starts");
        let requests = Arc::new(AtomicUsize::new(0));
        let count = requests.clone();
        let tx = publish;
        let task = tokio::spawn(async move {
            let mut queue = selected;
            let mut on_air: Option<ShowItem> = None;
            while let Some(req) = requests_rx.recv().await {
                count.fetch_add(1, Ordering::SeqCst);
                let result = match req.action {
                    ShowAction::Next if on_air.is_none() && queue.is_empty() => {
                        Err(ShowRefusal::Nothing("nothing to air".into()))
                    }
                    ShowAction::Next => {
                        on_air = (!queue.is_empty()).then(|| queue.remove(0));
                        Ok(())
                    }
                    ShowAction::Clear => {
                        if let Some(q) = on_air.take() {
                            queue.insert(0, q);
                        }
                        Ok(())
                    }
                    ShowAction::Answered if on_air.is_none() => {
                        Err(ShowRefusal::Nothing("nothing is on air".into()))
                    }
                    ShowAction::Answered => {
                        on_air = None;
                        Ok(())
                    }
                    ShowAction::Air { source, .. } if source != "demo" => {
                        Err(ShowRefusal::Unknown(format!("no source {source}")))
                    }
                    ShowAction::Air { id, .. } if !queue.iter().any(|q| q.id == id) => {
                        Err(ShowRefusal::Unknown(format!("no question {id}")))
                    }
                    ShowAction::Air { id, .. } => {
                        if let Some(q) = on_air.take() {
                            queue.insert(0, q);
                        }
                        let i = queue.iter().position(|q| q.id == id).unwrap_or(0);
                        on_air = Some(queue.remove(i));
                        Ok(())
                    }
                };
                let mut aired = on_air.clone();
                if let Some(q) = aired.as_mut() {
                    q.since = Some(1);
                }
                tx.send_replace(state(aired, &queue));
                let _ = req.reply.send(result);
            }
        });
        FakeLoop {
            addr: show.addr.expect("listening"),
            requests,
            _show: show,
            _task: crate::support::Serving::Here(task),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Control calls that reached the loop.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn state(on_air: Option<ShowItem>, queue: &[ShowItem]) -> OnAir {
    OnAir {
        on_air,
        next: queue.first().cloned(),
        queue_length: queue.len(),
    }
}
