//! Drawing: a pure function of the [`App`] state and a [`Theme`]. Each pane
//! walks only the rows it shows, so a frame costs O(visible rows); a
//! [`RowCache`] kept between frames leaves a list row that shows what it
//! showed in place, and copies one that moved instead of laying it out
//! again.

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
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

/// Where the screen is drawn: a buffer and the area it covers (what
/// ratatui's `Frame` gives, without the terminal that owns a frame).
pub struct Canvas<'b> {
    buf: &'b mut Buffer,
    area: Rect,
}

impl<'b> Canvas<'b> {
    /// Draws over `buf`'s whole area.
    pub fn new(buf: &'b mut Buffer) -> Canvas<'b> {
        let area = buf.area;
        Canvas { buf, area }
    }

    pub fn area(&self) -> Rect {
        self.area
    }

    pub fn render_widget(&mut self, widget: impl Widget, area: Rect) {
        widget.render(area, self.buf);
    }

    pub fn buffer_mut(&mut self) -> &mut Buffer {
        self.buf
    }
}

/// Draws the whole screen into a frame, every row laid out anew.
pub fn draw(frame: &mut ratatui::Frame, app: &App, theme: &Theme) {
    draw_screen(&mut Canvas::new(frame.buffer_mut()), app, theme, None);
}

/// Draws the whole screen into `buf`, which holds the last frame drawn
/// with `rows` unless it is `fresh` (new, resized or cleared): everything
/// is drawn anew but the list rows that show what they showed at the same
/// place ([`RowCache::kept`]), which are left as they are.
pub fn draw_kept(buf: &mut Buffer, app: &App, theme: &Theme, rows: &mut RowCache, fresh: bool) {
    let covered = app.overlay.is_some() || app.input.is_some() || app.form.is_some();
    let screen = (!covered).then(|| app.screen()).filter(|s| !s.too_small);
    rows.begin(theme, screen, fresh, buf);
    draw_screen(&mut Canvas::new(buf), app, theme, Some(&mut *rows));
    rows.end();
}

fn draw_screen(frame: &mut Canvas, app: &App, theme: &Theme, mut rows: Option<&mut RowCache>) {
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
