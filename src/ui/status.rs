//! Header, status bar and key bar.

use super::Theme;
use crate::app::{Action, App, PaneKind, SortBy};
use crate::domain::Connection;
use crate::text::{one_line, width};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn header(frame: &mut Frame, rect: Rect, app: &App, theme: &Theme) {
    let mut spans = vec![Span::styled(" qadeck ", theme.accent)];
    let on_air = app.queue.on_air().map(|e| one_line(&e.view.text, 40));
    if let Some(t) = on_air {
        spans.push(Span::styled("● ON AIR: ", theme.on_air));
        spans.push(Span::styled(t, theme.text));
        spans.push(Span::raw(" "));
    }
    let sort = match app.queue.sort() {
        SortBy::Time => "time",
        SortBy::Votes => "votes",
    };
    spans.push(Span::styled(format!("│ sort: {sort} "), theme.dim));
    if let Some(f) = &app.filter {
        spans.push(Span::styled(
            format!("│ filter: {} ", one_line(f, 20)),
            theme.accent,
        ));
    }
    if app.frozen.is_some() {
        spans.push(Span::styled(
            format!("│ ❄ FROZEN +{} ", app.frozen_new.len()),
            theme.inflight,
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), rect);
}

fn conn_style(theme: &Theme, c: &Connection) -> Style {
    match c {
        Connection::Live | Connection::Polling => theme.ok,
        Connection::Connecting | Connection::Retrying { .. } => theme.inflight,
        Connection::Failed { .. } => theme.error,
    }
}

pub fn status_bar(frame: &mut Frame, rect: Rect, app: &App, theme: &Theme) {
    let mut spans = Vec::new();
    // A failing source's reason gets its share of the line, so "the API key
    // lacks the scope questions:read" is read whole, not cut at a fixed width.
    let share = rect.width as usize / app.sources.len().max(1);
    for s in &app.sources {
        let dot = match s.connection {
            Connection::Live => "●",
            Connection::Polling => "◐",
            Connection::Connecting | Connection::Retrying { .. } => "○",
            Connection::Failed { .. } => "✕",
        };
        spans.push(Span::styled(
            format!("{dot} "),
            conn_style(theme, &s.connection),
        ));
        spans.push(Span::styled(one_line(&s.name, 16), theme.text));
        let state = match &s.connection {
            Connection::Retrying { .. } | Connection::Failed { .. } | Connection::Connecting => {
                let room = share
                    .saturating_sub(width(&one_line(&s.name, 16)) + 16)
                    .max(40);
                format!(" {}", one_line(&s.describe_connection(app.now), room))
            }
            Connection::Live => " live".into(),
            Connection::Polling => " polling".into(),
        };
        spans.push(Span::styled(state, conn_style(theme, &s.connection)));
        if let Some(b) = s.budget {
            spans.push(Span::styled(
                format!(" {}/{} req left", b.remaining, b.limit),
                theme.dim,
            ));
        }
        if s.questions_open == Some(false) {
            spans.push(Span::styled(" closed", theme.rejected));
        }
        spans.push(Span::raw("  "));
    }
    if !app.inflight.is_empty() {
        spans.push(Span::styled(
            format!("⋯ {} in flight  ", app.inflight.len()),
            theme.inflight,
        ));
    }
    if let Some(note) = app.retry_note() {
        spans.push(Span::styled(format!("{note}  "), theme.inflight));
    }
    if !app.failed.is_empty() {
        spans.push(Span::styled(
            format!("✕ {} failed  ", app.failed.len()),
            theme.error,
        ));
    }
    if let Some(note) = app.waiting_note() {
        spans.push(Span::styled(format!("⏸ {note}  "), theme.inflight));
    }
    let used: usize = spans.iter().map(|s| width(&s.content)).sum();
    if let Some(e) = &app.last_error {
        let room = (rect.width as usize).saturating_sub(used);
        spans.push(Span::styled(one_line(e, room), theme.error));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), rect);
}

pub fn key_bar(frame: &mut Frame, rect: Rect, app: &App, theme: &Theme) {
    if let Some(t) = &app.toast {
        frame.render_widget(
            Paragraph::new(Span::styled(
                one_line(&t.text, rect.width as usize),
                theme.toast,
            )),
            rect,
        );
        return;
    }
    let actions: &[Action] = match app.focus {
        PaneKind::Chat => &[
            Action::Compose,
            Action::Reply,
            Action::Promote,
            Action::Delete,
            Action::NextPane,
            Action::Help,
            Action::Quit,
        ],
        PaneKind::People => &[
            Action::Compose,
            Action::ToggleModerator,
            Action::Delete,
            Action::RenewLink,
            Action::ShowLink,
            Action::Filter,
            Action::NextPane,
            Action::Help,
            Action::Quit,
        ],
        _ => &[
            Action::Approve,
            Action::Reject,
            Action::Answered,
            Action::OnAir,
            Action::Next,
            Action::Undo,
            Action::Vote,
            Action::Freeze,
            Action::Filter,
            Action::Sort,
            Action::Help,
            Action::Quit,
        ],
    };
    let renews = app.sources.iter().any(|s| s.caps.renew_link);
    let mut spans = Vec::new();
    let mut used = 0;
    for a in actions {
        if *a == Action::RenewLink && !renews {
            continue;
        }
        let key = app.keymap.key_for(*a);
        let spec = a.spec();
        let label = match app.focus {
            PaneKind::People if !spec.people.is_empty() => spec.people,
            _ if spec.short.is_empty() => spec.help,
            _ => spec.short,
        };
        let w = width(&key) + width(label) + 3;
        if used + w > rect.width as usize {
            break;
        }
        used += w;
        spans.push(Span::styled(format!(" {key}"), theme.accent));
        spans.push(Span::styled(format!(" {label} "), theme.dim));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), rect);
}
