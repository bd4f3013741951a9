//! Drawing: a pure function of the [`App`] state and a [`Theme`]. Each pane
//! walks only the rows it shows, so a frame costs O(visible rows).

mod detail;
mod overlay;
mod panes;
mod row;
pub mod stage;
mod status;
pub mod theme;

pub use theme::Theme;

use crate::app::App;
use ratatui::Frame;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    if app.overlay == Some(crate::app::Overlay::Stage) {
        let back = app.keymap.key_for(crate::app::Action::StageBack);
        let note = format!("{back} returns");
        let show = app.on_air_snapshot();
        return stage::stage(frame, frame.area(), &show, app.now, &note, theme);
    }
    let screen = app.screen();
    if screen.too_small {
        let notice = format!(
            "needs {}x{} (is {}x{})",
            crate::app::layout::MIN_WIDTH,
            crate::app::layout::MIN_HEIGHT,
            app.size.0,
            app.size.1
        );
        frame.render_widget(
            ratatui::widgets::Paragraph::new(ratatui::text::Span::styled(
                crate::text::one_line(&notice, screen.header.width as usize),
                theme.error,
            )),
            screen.header,
        );
        return;
    }
    status::header(frame, screen.header, app, theme);
    for (kind, rect) in &screen.panes {
        panes::pane(frame, *rect, *kind, screen.is_collapsed(*kind), app, theme);
    }
    if let Some(d) = screen.divider {
        let bar = vec![ratatui::text::Line::from("│"); d.height as usize];
        frame.render_widget(ratatui::widgets::Paragraph::new(bar).style(theme.border), d);
    }
    detail::detail(frame, screen.detail, app, theme);
    status::status_bar(frame, screen.status, app, theme);
    status::key_bar(frame, screen.keybar, app, theme);
    if let Some(input) = &app.input {
        overlay::input(frame, frame.area(), input, app, theme);
    }
    if let Some(form) = &app.form {
        overlay::form(frame, frame.area(), form, app, theme);
    }
    if let Some(o) = &app.overlay {
        overlay::overlay(frame, frame.area(), o, app, theme);
    }
}

/// Short age text ("12s", "4m", "2h", "3d") — coarse on purpose, so an idle
/// screen changes rarely.
pub fn age(now: i64, then: i64) -> String {
    let s = (now.saturating_sub(then) / 1000).max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}
