//! `qadeck stage --url`: a read-only stage monitor for a second screen (a
//! venue monitor over SSH). It follows a running console's show server
//! through `/events` and draws the same stage view as the console's `S`;
//! no key changes anything, `q` (or Ctrl-C, Esc) leaves.

use crate::domain::{OnAir, ShowItem};
use crate::provider::now_ms;
use crate::provider::sse::{SseItem, SseParser};
use crate::runtime::terminal::{self, SyncBackend};
use crate::ui::{self, Theme};
use anyhow::bail;
use crossterm::event::{Event as TermEvent, KeyCode, KeyEventKind, KeyModifiers};
use futures::StreamExt;
use ratatui::Terminal;
use std::time::Duration;
use tokio::sync::watch;

/// The largest event the follower accepts.
const MAX_EVENT: usize = 256 * 1024;

/// What the monitor shows: the console's state and a word on the link.
#[derive(Debug, Clone, Default, PartialEq)]
struct View {
    show: OnAir,
    note: String,
}

pub async fn stage(url: &str, theme: Theme) -> anyhow::Result<()> {
    let base = reqwest::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            anyhow::anyhow!("--url must be an http:// address, like http://127.0.0.1:7077")
        })?;
    let Ok(events) = base.join("events") else {
        bail!("--url {url}: cannot address /events under it");
    };
    let token = std::env::var("QADECK_SHOW_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    let (tx, rx) = watch::channel(View {
        note: format!("connecting to {base}"),
        ..View::default()
    });
    let follower = tokio::spawn(follow(events, token, tx));
    terminal::install_panic_hook(true);
    terminal::enter()?;
    let result = draw_loop(rx, &theme).await;
    terminal::restore();
    follower.abort();
    result
}

async fn draw_loop(mut rx: watch::Receiver<View>, theme: &Theme) -> anyhow::Result<()> {
    let mut term = Terminal::new(SyncBackend::new(std::io::stdout()))?;
    let mut input = crossterm::event::EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        let view = rx.borrow_and_update().clone();
        let note = format!("{} · q leaves", view.note);
        term.draw(|f| {
            let area = f.area();
            let canvas = &mut ui::Canvas::new(f.buffer_mut());
            ui::stage::stage(canvas, area, &view.show, now_ms(), &note, theme);
        })?;
        tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(TermEvent::Key(k))) if k.kind != KeyEventKind::Release => {
                    let ctrl_c = k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL);
                    if ctrl_c || matches!(k.code, KeyCode::Char('q') | KeyCode::Esc) {
                        return Ok(());
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            changed = rx.changed() => if changed.is_err() { return Ok(()) },
            _ = tick.tick() => {}
        }
    }
}

/// Follows `/events`, reconnecting with a growing pause while the console
/// is away; what arrives is sanitized again (it came over the network).
async fn follow(url: reqwest::Url, token: Option<String>, tx: watch::Sender<View>) {
    let client = reqwest::Client::new();
    let mut pause = Duration::from_secs(1);
    loop {
        let mut req = client
            .get(url.clone())
            .header("Accept", "text/event-stream");
        if let Some(t) = &token {
            req = req.bearer_auth(t);
        }
        let why = match req.send().await {
            Ok(resp) if resp.status().is_success() => {
                pause = Duration::from_secs(1);
                tx.send_modify(|v| v.note = format!("following {url}"));
                read_stream(resp, &tx).await
            }
            Ok(resp) => format!("{url} answered {}", resp.status()),
            Err(e) => format!("cannot reach {url}: {e}"),
        };
        let secs = pause.as_secs();
        tx.send_modify(|v| v.note = format!("{why}; retrying in {secs}s"));
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(10));
    }
}

async fn read_stream(resp: reqwest::Response, tx: &watch::Sender<View>) -> String {
    let mut parser = SseParser::new(MAX_EVENT);
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => return format!("connection lost: {e}"),
        };
        for item in parser.push(&chunk) {
            if let SseItem::Event(ev) = item
                && ev.event == "on_air"
            {
                match serde_json::from_str::<OnAir>(&ev.data) {
                    Ok(show) => tx.send_modify(|v| v.show = sanitized(show)),
                    Err(e) => tracing::warn!("stage: unreadable on_air event: {e}"),
                }
            }
        }
    }
    "the console closed the stream".into()
}

fn sanitized(mut show: OnAir) -> OnAir {
    fn clean(q: &mut ShowItem) {
        let s = crate::text::sanitize;
        q.source = s(&q.source);
        q.id = s(&q.id).into();
        q.text = s(&q.text).into();
        q.author = q.author.as_deref().map(|a| s(a).into());
    }
    show.on_air
        .iter_mut()
        .chain(show.next.iter_mut())
        .for_each(clean);
    show
}
