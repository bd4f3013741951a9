//! The list panes: questions by status, chat and participants.

use super::Canvas;
use super::Theme;
use super::row::{self, Row};
use super::rows::RowCache;
use crate::app::groups::GroupRow;
use crate::app::layout::inner_rows;
use crate::app::queue::Entry;
use crate::app::{Action, App, PaneKind};
use crate::domain::{MyVote, Role, Status};
use crate::text::{one_line, width};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn status_style(theme: &Theme, s: Status) -> Style {
    match s {
        Status::Pending => theme.pending,
        Status::Selected => theme.selected,
        Status::Answered => theme.answered,
        Status::Rejected => theme.rejected,
    }
}

/// A pane's title line (`▸ Pending 12 ────`): the only separator between
/// panes. Returns the rows under it.
pub fn titled(
    frame: &mut Canvas,
    rect: Rect,
    title: &str,
    focused: bool,
    theme: &Theme,
    title_style: Style,
) -> Rect {
    if rect.height == 0 {
        return rect;
    }
    let w = rect.width as usize;
    let (mark, rule, rule_style) = if focused {
        ("▸ ", "━", theme.focus_border)
    } else {
        ("  ", "─", theme.border)
    };
    let title = one_line(title, w.saturating_sub(3));
    let style = if focused {
        title_style.patch(theme.accent)
    } else {
        title_style
    };
    let used = width(mark) + width(&title) + 1;
    let line = Line::from(vec![
        Span::styled(mark, rule_style),
        Span::styled(title, style),
        Span::raw(" "),
        Span::styled(rule.repeat(w.saturating_sub(used)), rule_style),
    ]);
    frame.render_widget(Paragraph::new(line), Rect { height: 1, ..rect });
    Rect {
        y: rect.y + 1,
        height: rect.height - 1,
        ..rect
    }
}

/// Why a pane with nothing to show is empty: a source that is down says
/// so, rather than promising questions that cannot arrive.
fn empty_hint(app: &App, kind: PaneKind) -> String {
    use crate::domain::Connection;
    if app.filter.is_some() {
        return "no question matches the filter".into();
    }
    let down: Vec<String> = app
        .sources
        .iter()
        .filter_map(|s| match &s.connection {
            // The reason itself is in the status bar and the error list.
            Connection::Retrying { .. } => Some(format!(
                "{} unreachable — retrying in {}",
                s.name,
                s.retry_at.map_or_else(
                    || "a moment".into(),
                    |at| crate::app::countdown(at, app.now)
                )
            )),
            Connection::Failed { .. } => Some(format!(
                "{} not connected: see the status bar ({} lists errors)",
                s.name,
                app.keymap.key_for(Action::Errors)
            )),
            _ => None,
        })
        .collect();
    match kind {
        PaneKind::Pending if !down.is_empty() => down.join(" · "),
        PaneKind::Pending
            if app
                .sources
                .iter()
                .any(|s| s.connection == Connection::Connecting) =>
        {
            "connecting…".into()
        }
        PaneKind::Pending => "waiting for questions…".into(),
        PaneKind::Selected => format!("approve with {}", app.keymap.key_for(Action::Approve)),
        _ => String::new(),
    }
}

pub fn pane(
    frame: &mut Canvas,
    rect: Rect,
    kind: PaneKind,
    collapsed: bool,
    app: &App,
    theme: &Theme,
    mut cache: Option<&mut RowCache>,
) {
    let focused = app.focus == kind;
    match kind {
        PaneKind::Chat => return chat(frame, rect, app, theme, focused),
        PaneKind::People => return people(frame, rect, app, theme, focused),
        _ => {}
    }
    let status = match kind {
        PaneKind::Pending => Status::Pending,
        PaneKind::Selected => Status::Selected,
        PaneKind::Answered => Status::Answered,
        _ => Status::Rejected,
    };
    let total = app.queue.count(status);
    let mut title = match app.filter {
        Some(_) => {
            let shown = app
                .queue
                .iter_from(status, None)
                .filter(|e| app.matches(&e.view))
                .count();
            format!("{} ({shown}/{total})", kind.title())
        }
        None => format!("{} ({total})", kind.title()),
    };
    if kind == PaneKind::Pending && app.frozen.is_some() {
        title.push_str(&format!(" ❄ frozen, +{} new", app.frozen_new.len()));
    }
    let inner = titled(
        frame,
        rect,
        &title,
        focused,
        theme,
        status_style(theme, status),
    );
    let state = app.pane(kind);
    let rows = inner.height as usize;
    let multi = app.sources.len() > 1;
    let top = if collapsed { None } else { state.top.as_ref() };
    let mut drawn: u16 = 0;
    let mut scratch = String::new();
    for e in app
        .queue
        .iter_from(status, top)
        .filter(|e| app.matches(&e.view))
        .take(rows)
    {
        let q = &e.view;
        let is_cursor =
            (state.cursor.as_ref()).is_some_and(|k| k.source == q.source && k.id == q.id);
        let style = match (is_cursor, focused) {
            (true, true) => theme.cursor,
            (true, false) => theme.cursor_unfocused,
            _ => Style::default(),
        };
        let shown = Shown::of(app, e, multi, style);
        let (start, cells) = row::cells(frame.buffer_mut(), inner, inner.y + drawn);
        let mut draw = |cells: &mut [ratatui::buffer::Cell]| {
            question_line(&mut Row::over(cells), &mut scratch, &shown, theme);
        };
        match cache.as_deref_mut() {
            Some(cache) => cache.row(start, cells, &shown, draw),
            None => draw(cells),
        }
        drawn += 1;
    }
    if let Some(cache) = cache {
        // Rows below the list's end that the last frame left.
        for y in inner.y + drawn..inner.bottom() {
            let (start, cells) = row::cells(frame.buffer_mut(), inner, y);
            cache.vacate(start, cells);
        }
    }
    if drawn == 0 {
        let hint = empty_hint(app, kind);
        let hint = crate::text::wrap(&hint, inner.width as usize)
            .into_iter()
            .map(|l| Line::from(Span::styled(l, theme.dim)))
            .collect::<Vec<_>>();
        frame.render_widget(Paragraph::new(hint), inner);
    }
}

/// Everything a question's row shows besides the theme and its width:
/// the row is drawn from this alone, and kept between frames by it.
#[derive(Hash)]
struct Shown<'a> {
    /// The cursor's style, or none.
    style: Style,
    flag: Flag,
    votes: i64,
    mine: &'static str,
    group: Option<Group>,
    /// The rule holding it (`⚑ profanity`).
    held: Option<&'a str>,
    changed_elsewhere: bool,
    starred: bool,
    labels: &'a [String],
    text: &'a str,
    author: Option<&'a str>,
    /// The source's name, when there are several.
    source: Option<&'a str>,
}

#[derive(Hash)]
enum Flag {
    OnAir,
    InFlight,
    None,
}

/// [`GroupRow`] as a row shows it.
#[derive(Hash)]
enum Group {
    Head { size: usize, votes: i64 },
    Member,
}

impl<'a> Shown<'a> {
    fn of(app: &'a App, e: &'a Entry, multi: bool, style: Style) -> Shown<'a> {
        let q = &e.view;
        let key = &q.key();
        let marks = (!app.marks.is_empty()).then(|| app.marks_of(key)).flatten();
        Shown {
            style,
            flag: if q.on_air {
                Flag::OnAir
            } else if app.queue.inflight(key) > 0 {
                Flag::InFlight
            } else {
                Flag::None
            },
            votes: q.votes,
            mine: match q.my_vote {
                MyVote::Up => "▲",
                MyVote::Down => "▼",
                MyVote::None => " ",
            },
            group: app.group_row(key).map(|g| match g {
                GroupRow::Head { size, votes } => Group::Head { size, votes },
                GroupRow::Member => Group::Member,
            }),
            held: marks.and_then(|m| m.held.as_ref()).map(|h| h.rule.as_str()),
            changed_elsewhere: app.changed_elsewhere(key).is_some(),
            starred: marks.is_some_and(|m| m.starred),
            labels: marks.map_or(&[], |m| m.labels.as_slice()),
            text: &q.text,
            author: q.author.as_deref(),
            source: multi.then(|| app.source_name(q.source)),
        }
    }
}

/// One question's row: flag, votes, group, hold, marks, text and author,
/// and the source at the right edge when there are several. `scratch`
/// holds the formatted pieces (votes, group, author), reused row to row.
fn question_line(row: &mut Row, scratch: &mut String, s: &Shown, theme: &Theme) {
    use std::fmt::Write;
    let row_style = s.style;
    let width_cells = row.left();
    let (flag, flag_style) = match s.flag {
        Flag::OnAir => ("● ", theme.on_air),
        Flag::InFlight => ("⋯ ", theme.inflight),
        Flag::None => ("  ", Style::default()),
    };
    row.put(flag, flag_style.patch(row_style));
    scratch.clear();
    let _ = write!(scratch, "{:>4}{} ", s.votes, s.mine);
    row.put(scratch, theme.dim.patch(row_style));
    // A group's row carries its size and combined votes; an expanded
    // group's other members are indented under it.
    match s.group {
        Some(Group::Head { size, votes }) => {
            scratch.clear();
            let _ = write!(scratch, "×{size} ▲{votes} ");
            row.put(scratch, theme.accent.patch(row_style));
        }
        Some(Group::Member) => row.put("  ↳ ", theme.accent.patch(row_style)),
        None => {}
    }
    // A rule's hold leads the text: `⚑ profanity`.
    if let Some(rule) = s.held {
        row.put(
            &format!("⚑ {} ", one_line(rule, 16)),
            theme.error.patch(row_style),
        );
    }
    let (signs, labels) = marks_of(s, width_cells / 3);
    row.put(&signs, theme.accent.patch(row_style));
    row.put(&labels, theme.dim.patch(row_style));
    let src = s
        .source
        .map_or_else(String::new, |name| format!(" [{}]", one_line(name, 12)));
    // The text takes what is left but the source; the author shows only
    // when the whole question fits.
    let src_w = width(&src);
    let cut = row.put_line(
        s.text,
        row.left().saturating_sub(src_w),
        theme.text.patch(row_style),
    );
    if !cut && let Some(a) = s.author {
        scratch.clear();
        scratch.push_str(" — ");
        crate::text::one_line_each(a, 16, |g, _| scratch.push_str(g));
        row.put_line(
            scratch,
            row.left().saturating_sub(src_w),
            theme.dim.patch(row_style),
        );
    }
    row.spaces(row.left().saturating_sub(src_w), row_style);
    row.put(&src, theme.dim.patch(row_style));
}

/// A row's marks, each part followed by a space: the signs (`✎` changed
/// elsewhere, `★` starred) and the labels (`#press #vip`), the labels cut
/// to fit `max` cells together.
fn marks_of(s: &Shown, max: usize) -> (String, String) {
    let mut signs = String::new();
    if s.changed_elsewhere {
        signs.push('✎');
    }
    if s.starred {
        signs.push('★');
    }
    if !signs.is_empty() {
        signs.push(' ');
    }
    let labels = s
        .labels
        .iter()
        .map(|l| format!("#{l}"))
        .collect::<Vec<_>>()
        .join(" ");
    let labels = match max.saturating_sub(width(&signs) + 1) {
        _ if labels.is_empty() => labels,
        0 => String::new(),
        room => format!("{} ", one_line(&labels, room)),
    };
    (signs, labels)
}

fn chat(frame: &mut Canvas, rect: Rect, app: &App, theme: &Theme, focused: bool) {
    // One chat source: "closed" when it is. Several: each by name.
    let states = app.chat_states();
    let state = match states.as_slice() {
        [(_, open)] if *open == Some(false) => " closed".to_string(),
        [_] | [] => String::new(),
        many => many
            .iter()
            .map(|(name, open)| {
                let shut = if *open == Some(false) { " closed" } else { "" };
                format!(" · {}{shut}", one_line(name, 12))
            })
            .collect(),
    };
    let inner = titled(
        frame,
        rect,
        &format!("Chat ({}){state}", app.chat.len()),
        focused,
        theme,
        theme.accent,
    );
    let st = app.pane(PaneKind::Chat);
    let w = inner.width as usize;
    let lines: Vec<Line> = app
        .chat
        .iter()
        .enumerate()
        .skip(st.top_row)
        .take(inner.height as usize)
        .map(|(i, m)| {
            let style = if i == st.row && focused {
                theme.cursor
            } else {
                Style::default()
            };
            let time = chrono::DateTime::from_timestamp_millis(m.created)
                .map(|t| t.with_timezone(&chrono::Local).format("%H:%M ").to_string())
                .unwrap_or_default();
            let who = format!("{}: ", one_line(m.author.as_deref().unwrap_or("guest"), 14));
            let reply = if m.reply_to.is_some() { "↳ " } else { "" };
            let room = w.saturating_sub(width(&time) + width(&who) + width(reply));
            let text = one_line(&m.text, room);
            let pad = room.saturating_sub(width(&text));
            Line::from(vec![
                Span::styled(time, theme.dim.patch(style)),
                Span::styled(reply, theme.dim.patch(style)),
                Span::styled(who, theme.accent.patch(style)),
                Span::styled(text, theme.text.patch(style)),
                Span::styled(" ".repeat(pad), style),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn people(frame: &mut Canvas, rect: Rect, app: &App, theme: &Theme, focused: bool) {
    let shown = app.people_len();
    let mut title = match &app.people_filter {
        Some(f) => format!(
            "People ({shown} of {}) /{}",
            app.people.len(),
            one_line(f, 16)
        ),
        None => format!("People ({})", app.people.len()),
    };
    let inviting = app.invitations_inflight();
    if !inviting.is_empty() {
        title.push_str(&format!(
            " ⋯ inviting {}",
            one_line(&inviting.join(", "), 24)
        ));
    }
    let inner = titled(frame, rect, &title, focused, theme, theme.accent);
    let st = app.pane(PaneKind::People);
    let w = inner.width as usize;
    let multi = app.people_sources().len() > 1;
    // The role column: "mod" alone takes 4 cells; a platform's own roles
    // (a STREAMBOXY Speaker) on the rows shown widen it to show the word.
    let wide = app
        .visible_people()
        .skip(st.top_row)
        .take(inner_rows(rect))
        .any(|p| !matches!(p.role, Role::Participant | Role::Moderator));
    let role_w = if wide { 9.min(w / 4).max(4) } else { 4 };
    let lines: Vec<Line> = app
        .visible_people()
        .enumerate()
        .skip(st.top_row)
        .take(inner.height as usize)
        .map(|(i, p)| {
            let style = match (i == st.row, focused) {
                (true, true) => theme.cursor,
                (true, false) => theme.cursor_unfocused,
                _ => Style::default(),
            };
            let conflict = app
                .people_conflict
                .as_ref()
                .is_some_and(|c| c.source == p.source && c.id == p.id);
            let (flag, flag_style) = if app.participant_inflight(p.source, &p.id).is_some() {
                ("⋯ ", theme.inflight)
            } else if conflict {
                ("! ", theme.error)
            } else {
                ("  ", Style::default())
            };
            let role = role_tag(&p.role, role_w);
            let src = if multi {
                format!(" [{}]", one_line(app.source_name(p.source), 12))
            } else {
                String::new()
            };
            let fixed = width(flag) + width(&role) + width(&src);
            let room = w.saturating_sub(fixed);
            // Names in a column, e-mails aligned after them.
            let name_w = (room * 45 / 100).clamp(1, 26);
            let name = one_line(&p.name, name_w);
            let name = format!("{name}{}", " ".repeat(name_w.saturating_sub(width(&name))));
            let email = one_line(
                p.email.as_deref().unwrap_or(""),
                room.saturating_sub(width(&name) + 1),
            );
            let pad = room.saturating_sub(width(&name) + 1 + width(&email));
            Line::from(vec![
                Span::styled(flag, flag_style.patch(style)),
                Span::styled(role, theme.on_air.patch(style)),
                Span::styled(name, theme.text.patch(style)),
                Span::styled(" ", style),
                Span::styled(email, theme.dim.patch(style)),
                Span::styled(" ".repeat(pad), style),
                Span::styled(src, theme.dim.patch(style)),
            ])
        })
        .collect();
    if lines.is_empty() {
        let hint = if app.people_filter.is_some() {
            "no participant matches the search".to_string()
        } else {
            format!(
                "no participants yet — {} invites",
                app.keymap.key_for(Action::Compose)
            )
        };
        frame.render_widget(Paragraph::new(Span::styled(hint, theme.dim)), inner);
        return;
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A role in the people list, padded to `w` cells: blank for a
/// participant, `mod` for a moderator, the platform's word otherwise.
fn role_tag(role: &Role, w: usize) -> String {
    let word = match role {
        Role::Participant => "",
        Role::Moderator => "mod",
        other => other.name(),
    };
    let word = one_line(word, w.saturating_sub(1));
    format!("{word}{}", " ".repeat(w.saturating_sub(width(&word))))
}
