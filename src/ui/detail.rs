//! The detail pane: the whole item under the cursor, wrapped and scrollable.

use super::Canvas;
use super::{Theme, age, panes::status_style};
use crate::app::{Action, App, PaneKind};
use crate::domain::MyVote;
use crate::text::{for_terminal, wrap};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Wrapping stops after this many lines past the view: a 100 KB question
/// costs what the pane shows, not its length.
fn wrapped_window(text: &str, width: usize, skip: usize, rows: usize) -> (Vec<String>, bool) {
    let budget = (skip + rows + 1) * width.max(1) * 4 + 64;
    let cut = if text.len() > budget {
        let mut end = budget;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        &text[..end]
    } else {
        text
    };
    let lines = wrap(cut, width);
    let more = cut.len() < text.len() || lines.len() > skip + rows;
    (lines.into_iter().skip(skip).take(rows).collect(), more)
}

/// The detail: a head line that also separates it from the lists, the
/// text wrapped under it, and notes after the text where rows remain.
pub fn detail(frame: &mut Canvas, rect: Rect, app: &App, theme: &Theme) {
    if rect.height == 0 {
        return;
    }
    let inner = rect;
    let w = inner.width as usize;
    let mut tail: Vec<Line> = Vec::new();
    let (mut lines, body): (Vec<Line>, String) = match app.focus {
        PaneKind::Chat => match app.current_message() {
            Some(m) => (
                vec![Line::from(vec![
                    Span::styled(
                        for_terminal(m.author.as_deref().unwrap_or("guest")).into_owned(),
                        theme.accent,
                    ),
                    Span::styled(
                        format!(
                            " · {} ago · {}",
                            age(app.now, m.created),
                            app.source_name(m.source)
                        ),
                        theme.dim,
                    ),
                ])],
                m.text.clone(),
            ),
            None => (
                vec![Line::from(Span::styled("no message", theme.dim))],
                String::new(),
            ),
        },
        PaneKind::People => match app.current_participant() {
            Some(p) => {
                let mut l = vec![Line::from(vec![
                    Span::styled(for_terminal(&p.name).into_owned(), theme.accent),
                    Span::styled(
                        format!(" · {} · {}", p.role, app.source_name(p.source)),
                        theme.dim,
                    ),
                ])];
                if let Some(e) = &p.email {
                    l.push(Line::from(Span::styled(e.clone(), theme.text)));
                }
                if let Some(what) = app.participant_inflight(p.source, &p.id) {
                    l.push(Line::from(Span::styled(
                        format!("⋯ {what}: waiting for the platform"),
                        theme.inflight,
                    )));
                }
                let mut body = String::new();
                if let Some(c) = app
                    .people_conflict
                    .as_ref()
                    .filter(|c| c.source == p.source && c.id == p.id)
                {
                    let retry = match (&c.role, &c.wanted_name) {
                        (Some(r), _) => format!(
                            "{} retries: make {r}",
                            app.keymap.key_for(Action::ToggleModerator)
                        ),
                        (None, Some(n)) => format!(
                            "{} renames to “{n}” again",
                            app.keymap.key_for(Action::Rename)
                        ),
                        (None, None) => String::new(),
                    };
                    l.push(Line::from(Span::styled(
                        format!("! changed meanwhile — {retry} (on the fresh version)"),
                        theme.error,
                    )));
                    body.push_str(&format!("{}\n\n", c.message));
                }
                match &p.link {
                    Some(u) => body.push_str(&format!(
                        "invitation link ({} shows it alone, to copy):\n{u}",
                        app.keymap.key_for(Action::ShowLink)
                    )),
                    None => body.push_str("no link from the platform"),
                }
                (l, body)
            }
            None => (
                vec![Line::from(Span::styled(
                    if app.people.is_empty() {
                        "no participant"
                    } else {
                        "no participant selected"
                    },
                    theme.dim,
                ))],
                String::new(),
            ),
        },
        _ => match app.current() {
            Some(e) => {
                let q = &e.view;
                let mut head = vec![
                    Span::styled(q.status.as_str(), status_style(theme, q.status)),
                    Span::styled(
                        format!(
                            " · {} vote{}",
                            q.votes,
                            if matches!(q.votes, 1 | -1) { "" } else { "s" }
                        ),
                        theme.text,
                    ),
                ];
                if q.my_vote != MyVote::None {
                    head.push(Span::styled(
                        if q.my_vote == MyVote::Up {
                            " (you voted)"
                        } else {
                            " (you voted down)"
                        },
                        theme.accent,
                    ));
                }
                if q.on_air {
                    head.push(Span::styled(" · ● ON AIR", theme.on_air));
                }
                if app.queue.inflight(&q.key()) > 0 {
                    head.push(Span::styled(
                        " · ⋯ waiting for the platform",
                        theme.inflight,
                    ));
                }
                head.push(Span::styled(" · ", theme.dim));
                head.push(Span::styled(
                    for_terminal(q.author.as_deref().unwrap_or("anonymous")).into_owned(),
                    theme.accent,
                ));
                head.push(Span::styled(
                    format!(
                        " · {} · {} ago",
                        app.source_name(q.source),
                        age(app.now, q.created)
                    ),
                    theme.dim,
                ));
                let mut l = vec![Line::from(head)];
                let key = q.key();
                // Why a rule decided it, under the head where it is always seen.
                if let Some(note) = app.decision_note(&key) {
                    l.push(Line::from(Span::styled(
                        format!("⚑ {}", for_terminal(&note)),
                        theme.error,
                    )));
                }
                if let Some(c) = app.changed_elsewhere(&key) {
                    let secs = (app.now.saturating_sub(c.at) / 1000).max(0);
                    l.push(Line::from(Span::styled(
                        format!("✎ changed {} {secs} s ago: {}", c.origin.phrase(), c.what),
                        theme.accent,
                    )));
                }
                if let Some(m) = app
                    .marks_of(&key)
                    .filter(|m| m.starred || !m.labels.is_empty())
                {
                    let mut marks: Vec<String> = m.labels.iter().map(|l| format!("#{l}")).collect();
                    if m.starred {
                        marks.insert(0, "★ starred".into());
                    }
                    l.push(Line::from(Span::styled(marks.join(" "), theme.accent)));
                }
                if let Some(s) = app.source(q.source) {
                    let local: Vec<&str> = [
                        crate::domain::Status::Selected,
                        crate::domain::Status::Answered,
                    ]
                    .into_iter()
                    .filter(|st| !s.caps.stores(*st))
                    .map(|st| st.as_str())
                    .collect();
                    let mut note = String::from("on-air");
                    if !local.is_empty() {
                        note = format!("{}, {note}", local.join(", "));
                    }
                    if q.on_air || !local.is_empty() {
                        tail.push(Line::from(Span::styled(
                            // The point first: a narrow pane cuts the end.
                            format!("local to this machine: {note}"),
                            theme.dim,
                        )));
                    }
                }
                tail.extend(group_lines(app, &q.key(), w, theme));
                (l, q.text.to_string())
            }
            None => (
                vec![Line::from(Span::styled("nothing selected", theme.dim))],
                String::new(),
            ),
        },
    };
    let rows = (inner.height as usize).saturating_sub(lines.len());
    let skip = app.detail_scroll as usize;
    let (body_lines, more) = wrapped_window(&body, w, skip, rows);
    // The head line carries the rule and says when J/K scroll.
    let mut first = lines.remove(0);
    let hint = if more || skip > 0 {
        format!(
            " {}/{} more ",
            app.keymap.key_for(Action::DetailDown),
            app.keymap.key_for(Action::DetailUp)
        )
    } else {
        String::new()
    };
    let used = first.width() + 1 + crate::text::width(&hint);
    first.spans.push(Span::raw(" "));
    first.spans.push(Span::styled(
        "─".repeat(w.saturating_sub(used)),
        theme.border,
    ));
    first.spans.push(Span::styled(hint, theme.dim));
    let mut all = vec![first];
    all.extend(lines);
    all.extend(
        body_lines
            .into_iter()
            .map(|s| Line::from(Span::styled(s, theme.text))),
    );
    if !body.is_empty() && !more {
        all.extend(tail);
    }
    all.truncate(inner.height as usize);
    frame.render_widget(Paragraph::new(all), inner);
}

/// Members of the question's duplicate group shown in the detail.
const MEMBERS_SHOWN: usize = 6;

/// The question's duplicate group: its totals, then its members (source,
/// votes, text), the kept one marked.
fn group_lines(
    app: &App,
    key: &crate::domain::QKey,
    w: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let Some(info) = app.group_of(key) else {
        return Vec::new();
    };
    let mut out = vec![Line::from(Span::styled(
        format!(
            "duplicates: {} questions, {} votes together — {} expands · {} merges",
            info.size,
            info.votes,
            app.keymap.key_for(Action::Expand),
            app.keymap.key_for(Action::Merge)
        ),
        theme.accent,
    ))];
    for k in app.group_members(key, MEMBERS_SHOWN) {
        let Some(e) = app.queue.get(&k) else { continue };
        let mark = if k == info.kept { "★" } else { "·" };
        let head = format!(
            " {mark} {} · {} · {} votes · ",
            app.source_name(k.source),
            e.view.status.as_str(),
            e.view.votes
        );
        let text = crate::text::one_line(&e.view.text, w.saturating_sub(crate::text::width(&head)));
        out.push(Line::from(vec![
            Span::styled(head, theme.dim),
            Span::styled(text, theme.text),
        ]));
    }
    if info.size > MEMBERS_SHOWN {
        out.push(Line::from(Span::styled(
            format!("   … and {} more", info.size - MEMBERS_SHOWN),
            theme.dim,
        )));
    }
    out
}
