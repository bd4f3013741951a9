//! Overlays: help (generated from the key map), confirmations, info, the
//! event picker and the text input.

use super::Canvas;
use super::Theme;
use crate::app::{
    Action, App, FormField, InputBox, InputPurpose, InviteForm, LineKind, Overlay, key_column,
};
use crate::text::{one_line, width};
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn boxed<'a>(title: &str, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.focus_border)
        .title(Span::styled(format!(" {title} "), theme.accent))
}

pub fn overlay(frame: &mut Canvas, area: Rect, o: &Overlay, app: &App, theme: &Theme) {
    if let Overlay::Link { who, link } = o {
        return link_overlay(frame, area, who, link, theme);
    }
    if matches!(o, Overlay::Help(_) | Overlay::Errors(_)) {
        return pager(frame, area, o, app, theme);
    }
    let yes = app.keymap.key_for(Action::Confirm);
    let (title, lines): (&str, Vec<Line>) = match o {
        Overlay::Help(_) | Overlay::Errors(_) => ("", Vec::new()),
        // The stage screen replaces the panes (`draw_screen`), not an overlay.
        Overlay::Stage => return,
        Overlay::ConfirmQuit => (
            "quit?",
            vec![
                Line::from(format!(
                    "{} action(s) are still waiting for the platform.",
                    app.inflight.len()
                )),
                Line::from("They stay queued and are sent the next time qadeck runs."),
                Line::default(),
                Line::from(Span::styled(
                    format!("{yes} quit · any other key stays"),
                    theme.accent,
                )),
            ],
        ),
        Overlay::ConfirmDelete { preview, .. } => (
            "delete question?",
            vec![
                Line::from(format!("“{preview}”")),
                Line::from("Deleting cannot be undone."),
                Line::default(),
                Line::from(Span::styled(
                    format!("{yes} delete · any other key keeps it"),
                    theme.accent,
                )),
            ],
        ),
        Overlay::ConfirmDeleteMessage { preview, .. } => (
            "delete chat message?",
            vec![
                Line::from(format!("“{preview}”")),
                Line::default(),
                Line::from(Span::styled(
                    format!("{yes} delete · any other key keeps it"),
                    theme.accent,
                )),
            ],
        ),
        Overlay::ConfirmRemoveParticipant { source, who, .. } => (
            "remove participant?",
            vec![
                Line::from(who.clone()),
                Line::from(format!(
                    "from {}: their invitation link stops working.",
                    app.source_name(*source)
                )),
                Line::default(),
                Line::from(Span::styled(
                    format!("{yes} remove · any other key keeps them"),
                    theme.accent,
                )),
            ],
        ),
        Overlay::Link { .. } => ("", Vec::new()),
        Overlay::Info { rows } => (
            "sources — any key closes",
            rows.iter()
                .map(|(k, v)| {
                    Line::from(vec![
                        Span::styled(format!("{k:<16} "), theme.accent),
                        Span::styled(v.clone(), theme.text),
                    ])
                })
                .collect(),
        ),
        Overlay::Picker {
            source,
            events,
            row,
        } => {
            let mut l = vec![Line::from(Span::styled(
                format!(
                    "{} names no event: pick one (j/k, Enter; Esc later)",
                    app.source_name(*source)
                ),
                theme.dim,
            ))];
            match events {
                None => l.push(Line::from("loading events…")),
                Some(Err(e)) => l.push(Line::from(Span::styled(e.clone(), theme.error))),
                Some(Ok(list)) if list.is_empty() => {
                    l.push(Line::from("no events on this account"));
                }
                Some(Ok(list)) => {
                    // A window of the list that keeps the cursor in view
                    // (an account may hold hundreds of events).
                    let rows = (area.height as usize).saturating_sub(6).max(1);
                    let first = row
                        .saturating_sub(rows - 1)
                        .min(list.len().saturating_sub(rows));
                    if first > 0 {
                        l.push(Line::from(Span::styled(
                            format!("  ↑ {first} more"),
                            theme.dim,
                        )));
                    }
                    let shown = list.len().min(first + rows);
                    for (i, ev) in list.iter().enumerate().take(shown).skip(first) {
                        let style = if i == *row { theme.cursor } else { theme.text };
                        let active = match ev.active {
                            Some(true) => " (active)",
                            _ => "",
                        };
                        l.push(Line::from(Span::styled(
                            format!("{}{active}  {}", one_line(&ev.title, 50), ev.id),
                            style,
                        )));
                    }
                    if shown < list.len() {
                        l.push(Line::from(Span::styled(
                            format!("  ↓ {} more", list.len() - shown),
                            theme.dim,
                        )));
                    }
                }
            }
            ("pick an event", l)
        }
    };
    let h = (lines.len() as u16 + 2).min(area.height);
    let w = lines
        .iter()
        .map(|l| l.width() as u16)
        .max()
        .unwrap_or(20)
        .max(title.len() as u16 + 4)
        + 4;
    let rect = centered(area, w.max(40), h);
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(boxed(title, theme)), rect);
}

/// The help or the error list: a window of its lines, a footer with the
/// keys, the position and the search.
fn pager(frame: &mut Canvas, area: Rect, o: &Overlay, app: &App, theme: &Theme) {
    let (title, p) = match o {
        Overlay::Help(p) => ("keys", p),
        Overlay::Errors(p) => ("errors and refusals, newest first", p),
        _ => return,
    };
    let w = app.pager_width();
    let rect = centered(area, w as u16 + 2, area.height);
    frame.render_widget(Clear, rect);
    let block = boxed(title, theme);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let all = app.pager_lines(o);
    let rows = (inner.height as usize).saturating_sub(1);
    let first = p.scroll.min(all.len().saturating_sub(rows));
    let kw = key_column(w);
    let mut lines: Vec<Line> = all
        .iter()
        .skip(first)
        .take(rows)
        .map(|l| match l.kind {
            LineKind::Heading => Line::from(Span::styled(
                l.text.to_uppercase(),
                theme.accent.add_modifier(Modifier::UNDERLINED),
            )),
            LineKind::ErrorHead(at) => {
                let time = chrono::DateTime::from_timestamp_millis(at)
                    .map(|t| {
                        t.with_timezone(&chrono::Local)
                            .format("%H:%M:%S")
                            .to_string()
                    })
                    .unwrap_or_default();
                Line::from(vec![
                    Span::styled(format!("{time}  "), theme.dim),
                    Span::styled(l.text.clone(), theme.accent),
                ])
            }
            LineKind::Text => Line::from(Span::styled(l.text.clone(), theme.text)),
            LineKind::Entry | LineKind::Unbound => {
                let key_style = if l.kind == LineKind::Unbound {
                    theme.error
                } else {
                    theme.accent
                };
                let pad = kw.saturating_sub(width(&l.keys));
                let keys = if l.text.is_empty() {
                    l.keys.clone()
                } else {
                    format!("{}{}", l.keys, " ".repeat(pad))
                };
                Line::from(vec![
                    Span::styled(keys, key_style),
                    Span::styled(l.text.clone(), theme.text),
                ])
            }
        })
        .collect();
    if all.is_empty() {
        lines.push(Line::from(Span::styled(
            match (o, p.search.is_empty()) {
                (_, false) => "nothing matches the search",
                (Overlay::Errors(_), true) => "no errors",
                _ => "",
            },
            theme.dim,
        )));
    }
    let k = |a: Action| app.keymap.key_for(a);
    let footer = if p.typing {
        format!(
            "/{}▏ {} keeps it · {} clears",
            p.search,
            k(Action::InputSend),
            k(Action::InputCancel)
        )
    } else {
        let shown = format!(
            "{}–{} of {}",
            (first + 1).min(all.len()),
            (first + rows).min(all.len()),
            all.len()
        );
        let search = if p.search.is_empty() {
            String::new()
        } else {
            format!(" · /{}", p.search)
        };
        format!(
            "{shown}{search} · {}/{} {}/{} scroll · {} search · {} closes",
            k(Action::PagerDown),
            k(Action::PagerUp),
            k(Action::PagerPageDown),
            k(Action::PagerPageUp),
            k(Action::PagerSearch),
            k(Action::PagerClose)
        )
    };
    frame.render_widget(Paragraph::new(lines), inner);
    if inner.height > 0 {
        frame.render_widget(
            Paragraph::new(Span::styled(
                one_line(&footer, inner.width as usize),
                theme.dim,
            )),
            Rect::new(inner.x, inner.y + inner.height - 1, inner.width, 1),
        );
    }
}

pub fn input(frame: &mut Canvas, area: Rect, ib: &InputBox, app: &App, theme: &Theme) {
    let text = ib.area.lines().join("\n");
    let chars = text.chars().count();
    let send = app.keymap.key_for(Action::InputSend);
    let cancel = app.keymap.key_for(Action::InputCancel);
    let title = match &ib.purpose {
        InputPurpose::Filter => format!("search ({send} keeps it, {cancel} clears)"),
        InputPurpose::PeopleSearch => {
            format!("search people by name or e-mail ({send} keeps it, {cancel} clears)")
        }
        InputPurpose::RenameParticipant { source, id } => format!(
            "new name for {} on {} ({send} renames, {cancel} cancels)",
            one_line(&app.name_of(*source, id), 30),
            app.source_name(*source)
        ),
        InputPurpose::Label { key, .. } => {
            let has = app
                .marks_of(key)
                .map(|m| m.labels.iter().map(|l| format!("#{l}")).collect::<Vec<_>>())
                .unwrap_or_default();
            let has = match has.is_empty() {
                true => String::new(),
                false => format!(" {}", has.join(" ")),
            };
            format!(
                "label for “{}”{has} (Tab completes, {send} adds / removes, {cancel} cancels)",
                one_line(&app.preview(key), 24)
            )
        }
        InputPurpose::Question { source } => format!(
            "new question for {} ({send} sends, {cancel} cancels)",
            app.source_name(*source)
        ),
        InputPurpose::Chat { source, reply_to } => {
            let limit = app.source(*source).and_then(|s| s.caps.message_limit);
            let count = match limit {
                Some(l) => format!("{chars}/{l}"),
                None => format!("{chars}"),
            };
            let what = if reply_to.is_some() {
                "reply"
            } else {
                "chat message"
            };
            format!(
                "{what} for {} {count} ({send} sends, {cancel} cancels)",
                app.source_name(*source)
            )
        }
    };
    let over = match &ib.purpose {
        InputPurpose::Chat { source, .. } => app
            .source(*source)
            .and_then(|s| s.caps.message_limit)
            .is_some_and(|l| chars > l),
        _ => false,
    };
    let under = ib
        .error
        .as_ref()
        .map(|e| (e, theme.error))
        .or_else(|| ib.hint.as_ref().map(|h| (h, theme.dim)));
    let h = if under.is_some() { 5 } else { 4 };
    let rect = Rect::new(area.x, area.height.saturating_sub(h + 2), area.width, h);
    frame.render_widget(Clear, rect);
    let block = boxed(&title, theme).border_style(if over {
        theme.error
    } else {
        theme.focus_border
    });
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let mut ta = ib.area.clone();
    ta.set_cursor_line_style(ratatui::style::Style::default());
    let text_rect = Rect::new(
        inner.x,
        inner.y,
        inner.width,
        inner.height.saturating_sub(u16::from(under.is_some())),
    );
    frame.render_widget(&ta, text_rect);
    if let Some((e, style)) = under {
        let r = Rect::new(
            inner.x,
            inner.y + inner.height.saturating_sub(1),
            inner.width,
            1,
        );
        frame.render_widget(
            Paragraph::new(Span::styled(one_line(e, inner.width as usize), style)),
            r,
        );
    }
}

/// Width of the form's label column.
const LABEL_W: u16 = 30;

/// The invite form: one row a field, the focused one marked, the error
/// under the fields, the keys at the bottom.
pub fn form(frame: &mut Canvas, area: Rect, form: &InviteForm, app: &App, theme: &Theme) {
    let fields = app.form_fields(form);
    let h = fields.len() as u16 + 4 + u16::from(form.error.is_some());
    let rect = centered(area, 72, h);
    frame.render_widget(Clear, rect);
    let send = app.keymap.key_for(Action::FormSend);
    let title = format!(
        "invite to {} ({send} sends, {} cancels)",
        one_line(app.source_name(form.source), 20),
        app.keymap.key_for(Action::FormCancel)
    );
    let block = boxed(&title, theme);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let caps = app.source(form.source).map(|s| s.caps.clone());
    let needs_email = caps.as_ref().is_some_and(|c| c.invite_needs_email);
    for (i, f) in fields.iter().enumerate() {
        let y = inner.y + i as u16;
        if y >= inner.y + inner.height {
            break;
        }
        let focused = *f == form.field;
        let label = format!("{} {}", if focused { "▸" } else { " " }, f.label());
        let label_rect = Rect::new(inner.x, y, LABEL_W.min(inner.width), 1);
        frame.render_widget(
            Paragraph::new(Span::styled(
                label,
                if focused { theme.accent } else { theme.dim },
            )),
            label_rect,
        );
        let value_rect = Rect::new(
            inner.x + label_rect.width,
            y,
            inner.width.saturating_sub(label_rect.width),
            1,
        );
        if let Some(area) = form.area(*f) {
            let mut ta = area.clone();
            ta.set_cursor_line_style(ratatui::style::Style::default());
            if !focused {
                ta.set_cursor_style(ratatui::style::Style::default());
            }
            ta.set_placeholder_style(theme.dim);
            ta.set_placeholder_text(match f {
                FormField::Name => "required",
                FormField::Email if needs_email => "required",
                FormField::Email => "optional",
                _ => "the platform's default",
            });
            frame.render_widget(&ta, value_rect);
            continue;
        }
        let choice = |on: bool, text: &str| {
            Span::styled(
                format!("{} {text}  ", if on { "●" } else { "○" }),
                if on { theme.text } else { theme.dim },
            )
        };
        let spans = match f {
            FormField::Source => vec![Span::styled(
                format!("‹ {} ›", one_line(app.source_name(form.source), 30)),
                theme.text,
            )],
            FormField::Role => vec![
                choice(form.role == crate::domain::Role::Participant, "participant"),
                choice(form.role == crate::domain::Role::Moderator, "moderator"),
            ],
            FormField::Notify => vec![choice(form.notify, "yes"), choice(!form.notify, "no")],
            FormField::OneTime => vec![choice(form.one_time, "yes"), choice(!form.one_time, "no")],
            _ => Vec::new(),
        };
        frame.render_widget(Paragraph::new(Line::from(spans)), value_rect);
    }
    let mut y = inner.y + fields.len() as u16 + 1;
    if let Some(e) = &form.error {
        frame.render_widget(
            Paragraph::new(Span::styled(one_line(e, inner.width as usize), theme.error)),
            Rect::new(inner.x, y, inner.width, 1),
        );
        y += 1;
    }
    let hint = format!(
        "Tab/↑↓ next field · Space switches · {send} invites as {}",
        form.role
    );
    if y < inner.y + inner.height {
        frame.render_widget(
            Paragraph::new(Span::styled(
                one_line(&hint, inner.width as usize),
                theme.dim,
            )),
            Rect::new(inner.x, y, inner.width, 1),
        );
    }
}

/// The link on its own full-width line(s), with no border beside it, so a
/// triple-click or a drag (Shift-drag where the mouse is captured) selects
/// exactly the link.
fn link_overlay(frame: &mut Canvas, area: Rect, who: &str, link: &str, theme: &Theme) {
    let w = area.width.max(1) as usize;
    let parts = crate::text::wrap(link, w);
    let h = (parts.len() as u16 + 4).min(area.height);
    let rect = Rect::new(
        area.x,
        area.y + area.height.saturating_sub(h) / 2,
        area.width,
        h,
    );
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::TOP | Borders::BOTTOM)
        .border_style(theme.focus_border)
        .title(Span::styled(
            format!(
                " invitation link of {} — any key closes ",
                one_line(who, 30)
            ),
            theme.accent,
        ));
    let mut lines = vec![Line::default()];
    lines.extend(
        parts
            .into_iter()
            .map(|l| Line::from(Span::styled(l, theme.text))),
    );
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
