//! The screen qadeck draws on: what the terminal shows and the frame being
//! drawn, and the loop that sends the difference. It does what ratatui's
//! `Terminal::draw` does (resize, draw, send the changed cells, hide the
//! cursor, flush) but keeps the frame's buffer between frames, so a list
//! row that shows what it showed is neither drawn again nor compared
//! ([`ui::draw_kept`]): a frame costs what changed, not every cell.

use super::terminal::SyncBackend;
use crate::app::App;
use crate::ui::{self, RowCache, Theme};
use ratatui::backend::{Backend, ClearType};
use ratatui::buffer::{Buffer, Cell, CellDiffOption, CellWidth};
use ratatui::layout::{Rect, Size};
use ratatui::style::{Color, Modifier};
use std::io::{self, Write};
use std::ops::Range;

pub struct Screen<W: Write> {
    backend: SyncBackend<W>,
    /// What the terminal shows.
    shown: Buffer,
    /// The frame being drawn; between frames, its list rows are `shown`'s.
    next: Buffer,
    rows: RowCache,
    /// A fixed area (the figure sheet, tests), else the terminal's size.
    fixed: Option<Rect>,
    /// Set when `next` holds nothing to keep: the first frame, a resize,
    /// a clear.
    fresh: bool,
    updates: Vec<usize>,
}

impl<W: Write> Screen<W> {
    /// A screen as large as the terminal, following its size.
    pub fn new(out: W) -> io::Result<Screen<W>> {
        let backend = SyncBackend::new(out);
        let size = backend.size()?;
        Ok(Screen::with(
            backend,
            Rect::new(0, 0, size.width, size.height),
            None,
        ))
    }

    /// A screen of a fixed area, whatever the terminal's size.
    pub fn fixed(out: W, area: Rect) -> Screen<W> {
        Screen::with(SyncBackend::new(out), area, Some(area))
    }

    fn with(backend: SyncBackend<W>, area: Rect, fixed: Option<Rect>) -> Screen<W> {
        Screen {
            backend,
            shown: Buffer::empty(area),
            next: Buffer::empty(area),
            rows: RowCache::default(),
            fixed,
            fresh: true,
            updates: Vec::new(),
        }
    }

    /// Fixes the area anew, as a terminal's resize changes it.
    pub fn fix(&mut self, area: Rect) {
        self.fixed = Some(area);
    }

    pub fn size(&self) -> io::Result<Size> {
        match self.fixed {
            Some(area) => Ok(area.as_size()),
            None => self.backend.size(),
        }
    }

    /// What the terminal shows (as far as qadeck sent it).
    pub fn shown(&self) -> &Buffer {
        &self.shown
    }

    /// The underlying writer (tests inspect what reached the "terminal").
    pub fn writer(&self) -> &W {
        self.backend.writer()
    }

    /// Clears the terminal; the next frame is drawn and sent whole.
    pub fn clear(&mut self) -> io::Result<()> {
        self.backend.clear_region(ClearType::All)?;
        self.shown.reset();
        self.fresh = true;
        Ok(())
    }

    /// Draws `app` and sends what changed.
    pub fn draw(&mut self, app: &App, theme: &Theme) -> io::Result<()> {
        let size = self.size()?;
        let area = Rect::new(0, 0, size.width, size.height);
        if area != self.shown.area {
            self.shown.resize(area);
            self.next.resize(area);
            self.clear()?;
        }
        let fresh = std::mem::take(&mut self.fresh);
        ui::draw_kept(&mut self.next, app, theme, &mut self.rows, fresh);
        diff(&self.shown, &self.next, self.rows.kept(), &mut self.updates);
        let width = usize::from(area.width.max(1));
        let next = &self.next;
        self.backend.draw(self.updates.iter().map(|&i| {
            let (x, y) = ((i % width) as u16, (i / width) as u16);
            (x, y, &next.content[i])
        }))?;
        self.backend.hide_cursor()?;
        // `shown` becomes the frame; `next` keeps its list rows (the kept
        // ones are equal already) for the frame after.
        std::mem::swap(&mut self.shown, &mut self.next);
        for cells in self.rows.redrawn() {
            self.next.content[cells.clone()].clone_from_slice(&self.shown.content[cells]);
        }
        Backend::flush(&mut self.backend)
    }
}

/// Modifiers that show on a blank cell (as ratatui's diff has them).
const VISIBLE_ON_BLANK: Modifier = Modifier::REVERSED
    .union(Modifier::UNDERLINED)
    .union(Modifier::SLOW_BLINK)
    .union(Modifier::RAPID_BLINK)
    .union(Modifier::CROSSED_OUT);

/// The cells to send to make `prev` show `next`, as indexes into `next`:
/// ratatui's `Buffer::diff` (ratatui-core 0.1), the same cells in the same
/// order, wide characters and their trailing cells handled alike, except
/// that the ranges in `kept` (sorted, equal in both buffers, no wide
/// character crossing their ends: rows a [`RowCache`] left in place) are
/// passed over without comparing. Over equal cells ratatui's loop only
/// steps from cell to cell, landing at a range's end, so passing over one
/// from its start changes nothing.
fn diff(
    prev: &Buffer,
    next: &Buffer,
    kept: impl Iterator<Item = Range<usize>>,
    out: &mut Vec<usize>,
) {
    out.clear();
    let (prev, next) = (&prev.content, &next.content);
    let len = next.len().min(prev.len());
    let mut kept = kept.peekable();
    let mut pos = 0;
    while pos < len {
        while kept.next_if(|k| k.end <= pos).is_some() {}
        if let Some(k) = kept.next_if(|k| k.start == pos) {
            pos = k.end;
            continue;
        }
        let i = pos;
        pos += 1;
        let (current, previous) = (&next[i], &prev[i]);
        match current.diff_option {
            CellDiffOption::Skip => {}
            _ if is_skip(current) => {}
            CellDiffOption::ForcedWidth(width) => {
                pos = pos.saturating_add(usize::from(width.get() - 1));
                if current != previous {
                    out.push(i);
                }
            }
            CellDiffOption::None | CellDiffOption::AlwaysUpdate => {
                let width = width_of(current);
                if current.diff_option == CellDiffOption::None && current == previous {
                    pos += width.saturating_sub(1);
                    continue;
                }
                out.push(i);
                let was = width_of(previous);
                // Trailing cells sent too: after an emoji with VS16 those
                // whose symbol changed, after a wide character whose style
                // showed on blanks every one.
                let trailing = if width > 1 && current.symbol().contains('\u{FE0F}') {
                    Some((i + width, false))
                } else if width > 1 {
                    pos += width - 1;
                    None
                } else if was > width
                    && (previous.bg != Color::Reset
                        || previous.modifier.intersects(VISIBLE_ON_BLANK))
                {
                    Some((i + was, true))
                } else {
                    None
                };
                if let Some((end, force)) = trailing {
                    let mut end = end.min(len);
                    let mut j = i + 1;
                    while j < end {
                        let cell = &next[j];
                        let step = usize::from(cell.cell_width().max(1));
                        if !is_skip(cell) && (force || prev[j].symbol() != cell.symbol()) {
                            out.push(j);
                        }
                        j += step;
                        end = end.max(j).min(len);
                    }
                    pos = end;
                }
            }
        }
    }
}

/// A cell's width as ratatui has it (no forced width here), a printable
/// ASCII symbol, most cells, without measuring.
fn width_of(cell: &Cell) -> usize {
    match cell.symbol().as_bytes() {
        [b] if b.is_ascii_graphic() || *b == b' ' => 1,
        _ => usize::from(cell.cell_width()),
    }
}

/// A cell the diff never sends (as ratatui's diff has it).
#[allow(deprecated)]
fn is_skip(cell: &Cell) -> bool {
    cell.diff_option == CellDiffOption::Skip
        || (cell.skip && cell.diff_option == CellDiffOption::None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Style;

    fn updates(prev: &Buffer, next: &Buffer, kept: &[Range<usize>]) -> Vec<(u16, u16, Cell)> {
        let mut out = Vec::new();
        diff(prev, next, kept.iter().cloned(), &mut out);
        let w = usize::from(next.area.width);
        out.iter()
            .map(|&i| ((i % w) as u16, (i / w) as u16, next.content[i].clone()))
            .collect()
    }

    fn ratatui(prev: &Buffer, next: &Buffer) -> Vec<(u16, u16, Cell)> {
        prev.diff(next)
            .into_iter()
            .map(|(x, y, c)| (x, y, c.clone()))
            .collect()
    }

    /// Without kept rows the diff is ratatui's, cell for cell, over wide
    /// characters, emoji with VS16, styled blanks and skipped cells.
    #[test]
    fn the_diff_is_ratatuis() {
        let texts = [
            "abc 次のバ x",
            "❤️ ok 👍🏽 zz",
            "  コ  ",
            "e\u{301}xyz 次",
            "",
            "aaaaaaaaaaaa",
        ];
        let styles = [
            Style::new(),
            Style::new().bg(Color::Blue),
            Style::new().reversed(),
        ];
        let area = Rect::new(0, 0, 12, 2);
        let mut bufs = Vec::new();
        for (t, text) in texts.iter().enumerate() {
            for style in styles {
                let mut b = Buffer::empty(area);
                b.set_string(0, 0, text, style);
                b.set_string((t % 3) as u16, 1, texts[(t + 1) % texts.len()], style);
                if t == 3 {
                    b[(5, 1)].set_diff_option(CellDiffOption::Skip);
                }
                bufs.push(b);
            }
        }
        for prev in &bufs {
            for next in &bufs {
                assert_eq!(
                    updates(prev, next, &[]),
                    ratatui(prev, next),
                    "{prev:?} to {next:?}"
                );
            }
        }
    }

    /// A kept range is passed over; what is around it is sent as ratatui
    /// would.
    #[test]
    fn kept_cells_are_passed_over() {
        let area = Rect::new(0, 0, 8, 4);
        let mut prev = Buffer::empty(area);
        prev.set_string(0, 0, "old row", Style::new());
        prev.set_string(0, 1, "kept 次", Style::new());
        let mut next = prev.clone();
        next.set_string(0, 0, "new row", Style::new());
        next.set_string(0, 2, "third", Style::new());
        let kept = [8..16, 24..32];
        assert_eq!(updates(&prev, &next, &kept), ratatui(&prev, &next));
        // Cells wrongly named kept are not sent: the range is trusted.
        next.set_string(0, 1, "changed", Style::new());
        let sent = updates(&prev, &next, &kept);
        assert!(sent.iter().all(|(_, y, _)| *y != 1), "{sent:?}");
        assert!(ratatui(&prev, &next).iter().any(|(_, y, _)| *y == 1));
    }
}
