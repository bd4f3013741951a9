//! `qadeck events --create | --update ID | --delete ID | --show ID`: one
//! change to a platform's events (STREAMBOXY sessions, Boomstream
//! conferences). A platform without the call answers "not supported", and
//! the command fails with that message.

use super::Context;
use crate::domain::{EventDraft, EventInfo};
use anyhow::anyhow;
use std::io::Write;

/// What to do to an event.
#[derive(Debug, Clone, PartialEq)]
pub enum EventChange {
    Create(EventDraft),
    Update { id: String, draft: EventDraft },
    Delete { id: String },
    Show { id: String },
}

/// One event as `events` prints it: an NDJSON `event` line or a table row.
pub fn print_event(
    out: &mut impl Write,
    source: &str,
    e: &EventInfo,
    json: bool,
) -> std::io::Result<()> {
    if json {
        let v = serde_json::json!({"type": "event", "source": source, "id": e.id, "title": e.title, "active": e.active, "starts": e.starts});
        writeln!(out, "{v}")
    } else {
        let e = e.clone().sanitized();
        let active = match e.active {
            Some(true) => "active",
            Some(false) => "inactive",
            None => "",
        };
        writeln!(
            out,
            "{:<28} {:<8} {}",
            e.id,
            active,
            crate::text::one_line(&e.title, 60)
        )
    }
}

/// Performs the change and prints the event (or its deletion).
pub async fn change(
    ctx: Context,
    source: &str,
    change: EventChange,
    json: bool,
) -> anyhow::Result<()> {
    let provider = ctx.provider(source)?;
    let result = match &change {
        EventChange::Create(d) => provider.create_event(d).await.map(Some),
        EventChange::Update { id, draft } => provider.update_event(id, draft).await.map(Some),
        EventChange::Show { id } => provider.event_info(id).await.map(Some),
        EventChange::Delete { id } => provider.delete_event(id).await.map(|()| None),
    };
    provider.shutdown().await;
    let event = result.map_err(|e| anyhow!("{source}: {e}"))?;
    let mut out = std::io::stdout().lock();
    match (event, &change) {
        (Some(e), _) => print_event(&mut out, source, &e, json)?,
        (None, EventChange::Delete { id }) => {
            let id = crate::text::sanitize(id);
            if json {
                let v = serde_json::json!({"type": "event", "source": source, "id": id, "deleted": true});
                writeln!(out, "{v}")?;
            } else {
                writeln!(out, "deleted {id}")?;
            }
        }
        (None, _) => {}
    }
    Ok(())
}
