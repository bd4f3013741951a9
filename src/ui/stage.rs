//! The stage view: the on-air question alone for a confidence monitor, in
//! big letters where the window holds them (tui-big-text), wrapped text
//! otherwise; its author and source, a clock, and the next question dimmed.
//! Drawn from an [`OnAir`] so the console and `qadeck stage` share it.

use super::Canvas;
use super::Theme;
use crate::domain::{Millis, OnAir};
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use tui_big_text::{BigText, PixelSize};

/// Draws the stage over the whole `area`. `note` is a line for the top
/// (how to leave, or the connection of a following process).
pub fn stage(frame: &mut Canvas, area: Rect, show: &OnAir, now: Millis, note: &str, theme: &Theme) {
    frame.render_widget(ratatui::widgets::Clear, area);
    let [top, body, author, next] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(2),
        Constraint::Length(2),
    ])
    .areas(area);
    let source = show.on_air.as_ref().map_or("", |q| q.source.as_str());
    let head = Line::from(vec![
        Span::styled(
            if show.on_air.is_some() {
                " ON AIR "
            } else {
                " OFF AIR "
            },
            theme.on_air,
        ),
        Span::styled(format!(" {source}  {note}"), theme.dim),
    ]);
    frame.render_widget(Paragraph::new(head), top);
    frame.render_widget(
        Paragraph::new(Span::styled(clock(now), theme.accent)).alignment(Alignment::Right),
        top,
    );
    match &show.on_air {
        Some(q) => {
            question(frame, body, &q.text, theme);
            if let Some(a) = &q.author {
                frame.render_widget(
                    Paragraph::new(Span::styled(format!("— {a}"), theme.accent))
                        .alignment(Alignment::Right),
                    author,
                );
            }
        }
        None => frame.render_widget(
            Paragraph::new(Span::styled("nothing on air", theme.dim)).alignment(Alignment::Center),
            body,
        ),
    }
    let after = match &show.next {
        Some(n) => format!("next: {}", n.text),
        None => "next: —".into(),
    };
    frame.render_widget(
        Paragraph::new(Span::styled(after, theme.dim)).wrap(Wrap { trim: true }),
        next,
    );
}

/// Big letters at the largest size the whole text fits in; plain wrapped
/// text when none does (or a character has no big glyph).
fn question(frame: &mut Canvas, area: Rect, text: &str, theme: &Theme) {
    let printable = text.chars().all(|c| c.is_ascii_graphic() || c == ' ');
    if printable {
        for (size, w, h) in [
            (PixelSize::Full, 8, 8),
            (PixelSize::HalfHeight, 8, 4),
            (PixelSize::Quadrant, 4, 4),
        ] {
            let per_line = (area.width / w) as usize;
            if per_line == 0 {
                continue;
            }
            let lines = wrap(text, per_line);
            if let Some(lines) = lines.filter(|l| l.len() * h as usize <= area.height as usize) {
                let big = BigText::builder()
                    .pixel_size(size)
                    .style(theme.text)
                    .lines(lines.into_iter().map(Line::from).collect::<Vec<_>>())
                    .build();
                frame.render_widget(big, area);
                return;
            }
        }
    }
    frame.render_widget(
        Paragraph::new(Span::styled(text.to_string(), theme.text)).wrap(Wrap { trim: true }),
        area,
    );
}

/// Words into lines of at most `width` characters; `None` when a word is
/// longer than a line.
fn wrap(text: &str, width: usize) -> Option<Vec<String>> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        if word.len() > width {
            return None;
        }
        match lines.last_mut() {
            Some(l) if l.len() + 1 + word.len() <= width => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    Some(lines)
}

/// The wall clock in local time, from the time the core was told.
fn clock(now: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(now)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%H:%M:%S ")
                .to_string()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn words_wrap_or_refuse() {
        assert_eq!(
            wrap("ask me anything now", 10),
            Some(vec!["ask me".to_string(), "anything".into(), "now".into()])
        );
        assert_eq!(wrap("incomprehensibilities", 10), None);
    }
}
