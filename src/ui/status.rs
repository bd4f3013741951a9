//! Header, status bar and key bar.

use super::Canvas;
use super::Theme;
use crate::app::{Action, App, PaneKind, SortBy};
use crate::domain::Connection;
use crate::text::{one_line, width};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// The header: the event(s), the on-air question in the room that is left,
/// then sort, filter, freeze and the local time at the right.
pub fn header(frame: &mut Canvas, rect: Rect, app: &App, theme: &Theme) {
    let w = rect.width as usize;
    let sort = match app.queue.sort() {
        SortBy::Time => "time",
        SortBy::Votes => "votes",
    };
    let mut right = vec![Span::styled(format!(" │ sort: {sort}"), theme.dim)];
    if let Some(f) = &app.filter {
        let shown = match &app.search_name {
            Some(name) => format!(" │ search: {}", one_line(name, 20)),
            None => format!(" │ filter: {}", one_line(f, 20)),
        };
        right.push(Span::styled(shown, theme.accent));
    }
    if app.frozen.is_some() {
        right.push(Span::styled(
            format!(" │ ❄ FROZEN +{}", app.frozen_new.len()),
            theme.inflight,
        ));
    }
    let clock = chrono::DateTime::from_timestamp_millis(app.now)
        .map(|t| t.with_timezone(&chrono::Local).format("%H:%M").to_string())
        .unwrap_or_default();
    right.push(Span::styled(format!(" │ {clock} "), theme.text));
    let right_w: usize = right.iter().map(|s| width(&s.content)).sum();
    let mut left = vec![Span::styled(" qadeck ", theme.accent)];
    let events: Vec<String> = app
        .sources
        .iter()
        .filter_map(|s| s.event.as_deref())
        .map(|e| one_line(e, 32))
        .collect();
    let on_air = app.queue.on_air();
    let room = w.saturating_sub(right_w + 8);
    if !events.is_empty() {
        // The on-air text matters more than the titles: titles get a third.
        let share = if on_air.is_some() { room / 3 } else { room };
        left.push(Span::styled(
            one_line(&events.join(" · "), share.max(1)),
            theme.text,
        ));
        left.push(Span::raw(" "));
    }
    let used: usize = left.iter().map(|s| width(&s.content)).sum();
    if let Some(e) = on_air {
        let label = "│ ● ON AIR: ";
        let room = w.saturating_sub(used + right_w + width(label));
        left.push(Span::styled(label, theme.on_air));
        left.push(Span::styled(one_line(&e.view.text, room), theme.text));
    }
    let used: usize = left.iter().map(|s| width(&s.content)).sum();
    left.push(Span::raw(" ".repeat(w.saturating_sub(used + right_w))));
    left.extend(right);
    frame.render_widget(Paragraph::new(Line::from(left)), rect);
}

fn conn_style(theme: &Theme, c: &Connection) -> Style {
    match c {
        Connection::Live | Connection::Polling => theme.ok,
        Connection::Connecting | Connection::Retrying { .. } => theme.inflight,
        Connection::Failed { .. } => theme.error,
    }
}

pub fn status_bar(frame: &mut Canvas, rect: Rect, app: &App, theme: &Theme) {
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
        let (text, cut) = crate::text::one_line_cut(e, room);
        if cut {
            // Too long for the line: the error list holds it whole.
            let hint = format!(" ({} whole)", app.keymap.key_for(Action::Errors));
            let text = one_line(e, room.saturating_sub(width(&hint)));
            spans.push(Span::styled(text, theme.error));
            spans.push(Span::styled(hint, theme.dim));
        } else {
            spans.push(Span::styled(text, theme.error));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), rect);
}

/// The key bar: a toast or the focused pane's keys, then `? help` and
/// `q quit`, which nothing hides.
pub fn key_bar(frame: &mut Canvas, rect: Rect, app: &App, theme: &Theme) {
    // The focused pane's most useful keys, in order; help and quit always.
    let actions: &[Action] = match app.focus {
        PaneKind::Chat => &[
            Action::Compose,
            Action::Reply,
            Action::Promote,
            Action::Delete,
            Action::NextPane,
        ],
        PaneKind::People => &[
            Action::Compose,
            Action::ToggleModerator,
            Action::Delete,
            Action::RenewLink,
            Action::ShowLink,
            Action::Filter,
            Action::NextPane,
        ],
        PaneKind::Selected => &[
            Action::OnAir,
            Action::Next,
            Action::Answered,
            Action::Pending,
            Action::Undo,
            Action::Filter,
            Action::NextPane,
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
            Action::Errors,
        ],
    };
    // On a duplicate group, its two keys come first.
    let grouped = app
        .current()
        .is_some_and(|e| app.group_row(&e.view.key()).is_some());
    let group_keys: &[Action] =
        if grouped && app.focus != PaneKind::Chat && app.focus != PaneKind::People {
            &[Action::Expand, Action::Merge]
        } else {
            &[]
        };
    let actions: Vec<Action> = group_keys.iter().chain(actions).copied().collect();
    let renews = app.sources.iter().any(|s| s.caps.renew_link);
    let entry = |a: Action| {
        let spec = a.spec();
        let label = match app.focus {
            PaneKind::People if !spec.people.is_empty() => spec.people,
            _ if spec.short.is_empty() => spec.help,
            _ => spec.short,
        };
        (app.keymap.key_for(a), label)
    };
    let fixed: Vec<(String, &str)> = [Action::Help, Action::Quit].map(entry).to_vec();
    let cost = |(k, l): &(String, &str)| width(k) + width(l) + 3;
    let mut room = (rect.width as usize).saturating_sub(fixed.iter().map(cost).sum());
    let mut shown = Vec::new();
    let mut spans = Vec::new();
    if let Some(t) = &app.toast {
        let text = one_line(&t.text, room);
        room = room.saturating_sub(width(&text));
        spans.push(Span::styled(text, theme.toast));
    }
    for a in actions.iter().filter(|_| app.toast.is_none()) {
        if *a == Action::RenewLink && !renews {
            continue;
        }
        let e = entry(*a);
        // An action left without a key has no place on the bar.
        if e.0 == "-" {
            continue;
        }
        if cost(&e) > room {
            break;
        }
        room -= cost(&e);
        shown.push(e);
    }
    // The saved searches by name, where the room allows, in the question
    // panes.
    let question_pane = !matches!(app.focus, PaneKind::Chat | PaneKind::People);
    let searches = app.searches.iter().zip(crate::app::SAVED_SEARCHES);
    for (s, a) in searches.filter(|_| app.toast.is_none() && question_pane) {
        let e = (app.keymap.key_for(a), s.name.as_str());
        if e.0 == "-" || cost(&e) > room {
            break;
        }
        room -= cost(&e);
        shown.push(e);
    }
    for (key, label) in shown {
        spans.push(Span::styled(format!(" {key}"), theme.accent));
        spans.push(Span::styled(format!(" {label} "), theme.dim));
    }
    spans.push(Span::raw(" ".repeat(room)));
    for (key, label) in fixed {
        spans.push(Span::styled(format!(" {key}"), theme.accent));
        spans.push(Span::styled(format!(" {label} "), theme.dim));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), rect);
}
