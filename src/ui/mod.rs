//! Drawing: a pure function of the [`App`] state and a [`Theme`]. Each pane
//! walks only the rows it shows, so a frame costs O(visible rows); a
//! [`RowCache`] kept between frames copies a list row whose inputs did not
//! change instead of laying it out again.

mod detail;
mod overlay;
mod panes;
mod row;
mod rows;
pub mod stage;
mod status;
pub mod theme;

pub use rows::RowCache;
pub use theme::Theme;

use crate::app::App;
use ratatui::Frame;

/// Draws the whole screen, every row laid out anew.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    draw_screen(frame, app, theme, None);
}

/// Draws the whole screen, taking from `rows` (the cache of the frames
/// before on this terminal) each list row that shows what it showed.
pub fn draw_with(frame: &mut Frame, app: &App, theme: &Theme, rows: &mut RowCache) {
    draw_screen(frame, app, theme, Some(rows));
}

fn draw_screen(frame: &mut Frame, app: &App, theme: &Theme, mut rows: Option<&mut RowCache>) {
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
    if let Some(rows) = rows.as_deref_mut() {
        rows.begin(theme);
    }
    for (kind, rect) in &screen.panes {
        let collapsed = screen.is_collapsed(*kind);
        panes::pane(
            frame,
            *rect,
            *kind,
            collapsed,
            app,
            theme,
            rows.as_deref_mut(),
        );
    }
    if let Some(rows) = rows {
        rows.end();
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
