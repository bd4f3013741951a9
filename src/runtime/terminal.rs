//! The terminal: raw mode and the alternate screen, restored on every exit
//! path (normal, error, panic), and a backend that writes nothing when a
//! frame changed nothing and wraps every real frame in synchronized-output
//! brackets (DEC mode 2026), so a slow SSH link never shows a torn frame.

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use ratatui::style::{Color, Modifier};
use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

const SYNC_BEGIN: &[u8] = b"\x1b[?2026h";
const SYNC_END: &[u8] = b"\x1b[?2026l";

/// The bytes of one frame, shared between the crossterm backend that writes
/// them and the [`SyncBackend`] that decides whether to send them.
#[derive(Clone, Default)]
struct FrameBuf(Rc<RefCell<Vec<u8>>>);

impl Write for FrameBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Buffers one frame and decides at flush whether it is worth sending.
pub struct SyncBackend<W: Write> {
    inner: CrosstermBackend<FrameBuf>,
    frame: FrameBuf,
    out: W,
    changed: bool,
}

impl<W: Write> SyncBackend<W> {
    pub fn new(out: W) -> SyncBackend<W> {
        let frame = FrameBuf::default();
        SyncBackend {
            inner: CrosstermBackend::new(frame.clone()),
            frame,
            out,
            changed: false,
        }
    }

    /// The underlying writer (tests inspect what reached the "terminal").
    pub fn writer(&self) -> &W {
        &self.out
    }
}

impl<W: Write> Backend for SyncBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut content = content.peekable();
        if content.peek().is_some() {
            self.changed = true;
            write_cells(&mut self.frame.0.borrow_mut(), content)?;
        }
        Ok(())
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(Position::ORIGIN)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.changed = true;
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.changed = true;
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        self.inner.size()
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)?;
        let buf = std::mem::take(&mut *self.frame.0.borrow_mut());
        if self.changed {
            self.out.write_all(SYNC_BEGIN)?;
            self.out.write_all(&buf)?;
            self.out.write_all(SYNC_END)?;
            self.out.flush()?;
        }
        self.changed = false;
        Ok(())
    }
}

/// The pen of [`write_cells`]: what the terminal draws with now.
#[derive(PartialEq, Clone, Copy)]
struct Pen {
    fg: Color,
    bg: Color,
    underline: Color,
    modifier: Modifier,
}

impl Pen {
    const RESET: Pen = Pen {
        fg: Color::Reset,
        bg: Color::Reset,
        underline: Color::Reset,
        modifier: Modifier::empty(),
    };

    fn of(cell: &Cell) -> Pen {
        Pen {
            fg: cell.fg,
            bg: cell.bg,
            underline: cell.underline_color,
            modifier: cell.modifier,
        }
    }
}

/// Writes changed cells into one frame buffer: a cursor move only where
/// a run of adjacent cells breaks, a style sequence only where the style
/// changes, and each symbol's bytes copied as they are (no formatting or
/// allocation per cell). Starts and ends with the terminal's default
/// style, as ratatui's crossterm backend does.
fn write_cells<'a>(
    buf: &mut Vec<u8>,
    cells: impl Iterator<Item = (u16, u16, &'a Cell)>,
) -> io::Result<()> {
    use crossterm::cursor::MoveTo;
    use crossterm::queue;
    use crossterm::style::{Attribute, SetAttribute, SetAttributes, SetColors, SetUnderlineColor};
    use ratatui::backend::IntoCrossterm;
    let mut pen = Pen::RESET;
    let mut next: Option<(u16, u16)> = None;
    for (x, y, cell) in cells {
        if next != Some((x, y)) {
            queue!(buf, MoveTo(x, y))?;
        }
        next = Some((x.saturating_add(1), y));
        let want = Pen::of(cell);
        if want != pen {
            let removed = pen.modifier - want.modifier;
            if !removed.is_empty() {
                // Taking an attribute away: start from the default style
                // and set what the cell wants.
                queue!(buf, SetAttribute(Attribute::Reset))?;
                pen = Pen::RESET;
            }
            let added = want.modifier - pen.modifier;
            if !added.is_empty() {
                let attrs = ratatui::style::Style::new()
                    .add_modifier(added)
                    .into_crossterm()
                    .attributes;
                queue!(buf, SetAttributes(attrs))?;
            }
            if (want.fg, want.bg) != (pen.fg, pen.bg) {
                let colors = crossterm::style::Colors::new(
                    want.fg.into_crossterm(),
                    want.bg.into_crossterm(),
                );
                queue!(buf, SetColors(colors))?;
            }
            if want.underline != pen.underline {
                queue!(buf, SetUnderlineColor(want.underline.into_crossterm()))?;
            }
            pen = want;
        }
        buf.extend_from_slice(cell.symbol().as_bytes());
    }
    if pen != Pen::RESET {
        queue!(buf, SetAttribute(Attribute::Reset))?;
    }
    Ok(())
}

/// Mouse buttons and the wheel (1000) in SGR coordinates (1006): no drag
/// (1002) or all-motion (1003) tracking, which would flood a slow SSH link
/// with events nobody uses.
pub const MOUSE_ON: &str = "\x1b[?1000h\x1b[?1006h";
/// Turns off every mouse mode a terminal may have on, ours or not.
pub const MOUSE_OFF: &str = "\x1b[?1006l\x1b[?1015l\x1b[?1003l\x1b[?1002l\x1b[?1000l";

/// Enters raw mode, the alternate screen and mouse capture.
pub fn enter() -> io::Result<()> {
    crossterm::terminal::enable_raw_mode()?;
    let mut out = io::stdout();
    crossterm::execute!(
        out,
        crossterm::terminal::EnterAlternateScreen,
        crossterm::cursor::Hide
    )?;
    out.write_all(MOUSE_ON.as_bytes())?;
    out.flush()
}

/// Undoes [`enter`]; safe to call more than once and from a panic hook.
pub fn restore() {
    let mut out = io::stdout();
    let _ = out.write_all(MOUSE_OFF.as_bytes());
    let _ = crossterm::execute!(
        out,
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = crossterm::terminal::disable_raw_mode();
}

/// Replaces the default panic hook, whose message could print a secret.
///
/// A panic on the thread that installed the hook (the event loop's: the
/// program is going down) restores the terminal when `tui` is set, then
/// prints the redacted message and that queued actions are safe. A panic
/// anywhere else happens inside a task that catches it (the delivery worker
/// turns it into a failed action, the session restarts a panicked feed):
/// the program goes on, so the hook only logs it and leaves the screen
/// alone (restoring the terminal there would wreck a running TUI).
pub fn install_panic_hook(tui: bool) {
    let main = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        let fatal = std::thread::current().id() == main;
        let mut restore_fn = || {
            if tui {
                restore();
            }
        };
        on_panic(&info.to_string(), fatal, &mut restore_fn, &mut io::stderr());
    }));
}

/// What the panic hook does with one panic (see [`install_panic_hook`]).
fn on_panic(message: &str, fatal: bool, restore: &mut dyn FnMut(), err: &mut dyn Write) {
    let msg = crate::secret::redact(message);
    if !fatal {
        tracing::error!("panic in a task (caught; qadeck goes on): {msg}");
        return;
    }
    restore();
    tracing::error!("panic: {msg}");
    let _ = writeln!(
        err,
        "qadeck crashed: {msg}\nQueued actions are safe in the outbox and will be sent on the next start."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fatal_panic_restores_the_terminal_and_is_redacted() {
        crate::secret::register("pk_live_panic_hook_secret_42");
        let mut restored = 0;
        let mut err = Vec::new();
        on_panic(
            "panicked at src/x.rs:1:1:\nkey pk_live_panic_hook_secret_42 and pk_live_panic_hook_secret_42 in a URL",
            true,
            &mut || restored += 1,
            &mut err,
        );
        let text = String::from_utf8(err).unwrap();
        assert_eq!(restored, 1, "the terminal is restored first");
        assert!(!text.contains("pk_live_panic_hook_secret_42"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
        assert!(
            text.contains("Queued actions are safe in the outbox"),
            "{text}"
        );
    }

    #[test]
    fn a_caught_panic_in_a_task_leaves_the_screen_alone() {
        let mut restored = 0;
        let mut err = Vec::new();
        on_panic("panicked in a feed", false, &mut || restored += 1, &mut err);
        assert_eq!(restored, 0);
        assert!(err.is_empty(), "nothing written over a running TUI");
    }
    use ratatui::Terminal;
    use ratatui::widgets::Paragraph;

    #[test]
    fn unchanged_frame_writes_nothing_and_frames_are_bracketed() {
        let backend = SyncBackend::new(Vec::new());
        let mut term = Terminal::with_options(
            backend,
            ratatui::TerminalOptions {
                viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 10, 2)),
            },
        )
        .unwrap();
        term.draw(|f| f.render_widget(Paragraph::new("hi"), f.area()))
            .unwrap();
        let first = term.backend().writer().len();
        assert!(first > 0);
        let w = term.backend().writer();
        assert!(w.starts_with(SYNC_BEGIN) && w.ends_with(SYNC_END));
        term.draw(|f| f.render_widget(Paragraph::new("hi"), f.area()))
            .unwrap();
        assert_eq!(
            term.backend().writer().len(),
            first,
            "an unchanged frame wrote bytes"
        );
    }

    /// What a terminal shows after the backend's bytes matches the frame
    /// cell by cell (text, colours, bold, reverse), across a redraw that
    /// takes attributes away and moves wide characters.
    #[test]
    fn a_terminal_shows_exactly_the_frame() {
        use ratatui::style::{Color, Modifier, Style};
        use ratatui::text::{Line, Span};
        let mut term = Terminal::with_options(
            SyncBackend::new(Vec::new()),
            ratatui::TerminalOptions {
                viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 30, 3)),
            },
        )
        .unwrap();
        let n = |v: u16| std::num::NonZero::new(v).unwrap();
        let mut vt = vt100::Parser::new(n(3), n(30), 0);
        let frames = [
            vec![
                Line::from(vec![
                    Span::styled("bold red ", Style::new().fg(Color::Red).bold()),
                    Span::raw("plain 👍 x"),
                ]),
                Line::from(Span::styled(
                    " cursor ",
                    Style::new().reversed().bg(Color::Blue),
                )),
            ],
            vec![
                Line::from(vec![
                    Span::raw("bold red "),
                    Span::styled("👍 now", Style::new().fg(Color::Indexed(42))),
                ]),
                Line::from(vec![
                    Span::styled(" cur", Style::new().add_modifier(Modifier::DIM)),
                    Span::styled("sor ", Style::new().bg(Color::Rgb(1, 2, 3))),
                ]),
                Line::from("third"),
            ],
        ];
        for lines in frames {
            let before = term.backend().writer().len();
            let done = term
                .draw(|f| f.render_widget(Paragraph::new(lines.clone()), f.area()))
                .unwrap();
            let buffer = done.buffer.clone();
            vt.process(&term.backend().writer()[before..]);
            let screen = vt.screen();
            for y in 0..3u16 {
                for x in 0..30u16 {
                    let want = &buffer[(x, y)];
                    let Some(got) = screen.cell(y, x) else {
                        continue;
                    };
                    if got.is_wide_continuation() {
                        continue;
                    }
                    let at = format!("cell {x},{y}");
                    assert_eq!(
                        got.contents().trim_end_matches(' '),
                        want.symbol().trim_end_matches(' '),
                        "{at}"
                    );
                    assert_eq!(got.bold(), want.modifier.contains(Modifier::BOLD), "{at}");
                    assert_eq!(got.dim(), want.modifier.contains(Modifier::DIM), "{at}");
                    assert_eq!(
                        got.inverse(),
                        want.modifier.contains(Modifier::REVERSED),
                        "{at}"
                    );
                    let colour = |c: Color| match c {
                        Color::Reset => vt100::Color::Default,
                        Color::Red => vt100::Color::Idx(1),
                        Color::Blue => vt100::Color::Idx(4),
                        Color::Indexed(i) => vt100::Color::Idx(i),
                        Color::Rgb(r, g, b) => vt100::Color::Rgb(r, g, b),
                        other => panic!("{other:?} not in this test"),
                    };
                    assert_eq!(got.fgcolor(), colour(want.fg), "{at}");
                    assert_eq!(got.bgcolor(), colour(want.bg), "{at}");
                }
            }
        }
    }
}
