//! Finished list rows kept between frames. A question's row is looked up by
//! everything it shows (its inputs, written out byte for byte: not a
//! digest, so two different rows never share an entry); an unchanged row
//! is copied into the frame's cells instead of being laid out again. Only
//! the rows of the last frame are kept, so the cache is as large as the
//! screen, and a change of theme empties it.
//!
//! Drawn into a buffer that still holds the last frame (`ui::draw_kept`),
//! a row showing what the last frame showed at the same place is left as
//! it is, not even copied, and named [`RowCache::kept`] so the screen
//! skips it when it looks for changed cells.

use super::Theme;
use crate::app::layout::Screen;
use ratatui::buffer::{Buffer, Cell};
use rustc_hash::FxHashMap;
use std::hash::{Hash, Hasher};
use std::ops::Range;

/// The rows of the last frame drawn, by what they show.
#[derive(Default)]
pub struct RowCache {
    /// The theme every kept row was drawn in.
    theme: Option<Theme>,
    rows: FxHashMap<Box<[u8]>, Kept>,
    /// Counts frames, so rows left off the screen can be dropped.
    frame: u64,
    /// The inputs of the row being drawn, reused row to row.
    key: Inputs,
    /// The layout of the last frame, when its rows may stay in place:
    /// nothing over the lists (overlay, input, form, stage) and a layout
    /// that draws them.
    last: Option<Screen>,
    /// Whether this frame leaves the last frame's rows in place.
    keep: bool,
    /// The list rows where the last frame drew them (while a frame is
    /// drawn: the rows it may leave), in buffer order.
    placed: Placed,
    /// The rows this frame draws, in the order drawn.
    drawing: Placed,
}

/// List rows by where they sit in a buffer.
#[derive(Default)]
struct Placed {
    spots: Vec<Spot>,
    /// Every row's inputs (see [`Inputs`]), one after the other.
    keys: Vec<u8>,
}

struct Spot {
    /// The row's cells in the buffer's.
    cells: Range<usize>,
    key: Range<usize>,
    /// Left as the frame before drew it.
    kept: bool,
    /// Met by this frame (drawn over, kept or emptied).
    met: bool,
}

impl Placed {
    fn clear(&mut self) {
        self.spots.clear();
        self.keys.clear();
    }

    fn at(&mut self, start: usize) -> Option<&mut Spot> {
        let i = self
            .spots
            .binary_search_by_key(&start, |s| s.cells.start)
            .ok()?;
        self.spots.get_mut(i)
    }
}

struct Kept {
    /// The row's cells up to its last one that is not blank (the blank
    /// rest is already so in a new frame).
    cells: Box<[Cell]>,
    frame: u64,
}

impl RowCache {
    /// Starts a frame drawn in `theme`, laid out as `screen` (none when
    /// something covers the lists). Rows stay in place only when this
    /// frame and the last have the same theme and layout with nothing
    /// over the lists, and `buf` is not `fresh` (new, resized, cleared).
    /// Empties every cell of `buf` but the rows that may stay.
    pub fn begin(&mut self, theme: &Theme, screen: Option<Screen>, fresh: bool, buf: &mut Buffer) {
        self.frame += 1;
        let same_theme = self.theme.as_ref() == Some(theme);
        if !same_theme {
            self.rows.clear();
            self.theme = Some(theme.clone());
        }
        self.keep = !fresh && same_theme && screen.is_some() && screen == self.last;
        self.last = screen;
        if !self.keep {
            self.placed.clear();
            buf.reset();
            return;
        }
        let mut from = 0;
        for spot in &self.placed.spots {
            buf.content[from..spot.cells.start]
                .iter_mut()
                .for_each(Cell::reset);
            from = spot.cells.end;
        }
        buf.content[from..].iter_mut().for_each(Cell::reset);
    }

    /// Ends the frame: rows it did not show are dropped.
    pub fn end(&mut self) {
        let frame = self.frame;
        self.rows.retain(|_, kept| kept.frame == frame);
        debug_assert!(
            self.placed.spots.iter().all(|s| s.met),
            "a row left in place that the frame did not meet"
        );
        std::mem::swap(&mut self.placed, &mut self.drawing);
        self.drawing.clear();
        self.placed.spots.sort_unstable_by_key(|s| s.cells.start);
    }

    /// The cells of the last frame's rows left as the frame before drew
    /// them, in buffer order.
    pub fn kept(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.placed
            .spots
            .iter()
            .filter(|s| s.kept)
            .map(|s| s.cells.clone())
    }

    /// The cells of the last frame's rows drawn anew, in buffer order.
    pub fn redrawn(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.placed
            .spots
            .iter()
            .filter(|s| !s.kept)
            .map(|s| s.cells.clone())
    }

    /// Empties a row of a list with no question there (`start`: where its
    /// `cells` begin in the buffer), if the last frame left one there.
    pub fn vacate(&mut self, start: usize, cells: &mut [Cell]) {
        if self.keep
            && let Some(spot) = self.placed.at(start)
        {
            spot.met = true;
            cells.iter_mut().for_each(Cell::reset);
        }
    }

    /// Writes a row into `cells`, which begin at `start` in the buffer:
    /// left as it is if the last frame showed `inputs` there, else the
    /// kept copy if one shows `inputs`, else what `draw` writes, then kept.
    pub fn row(
        &mut self,
        start: usize,
        cells: &mut [Cell],
        inputs: impl Hash,
        draw: impl FnOnce(&mut [Cell]),
    ) {
        self.key.0.clear();
        (cells.len(), inputs).hash(&mut self.key);
        let key = self.drawing.keys.len()..self.drawing.keys.len() + self.key.0.len();
        self.drawing.keys.extend_from_slice(&self.key.0);
        let mut placed = None;
        if self.keep
            && let Some(spot) = self.placed.at(start)
        {
            spot.met = true;
            let same = spot.cells.len() == cells.len();
            let key = spot.key.clone();
            placed = Some(same && self.placed.keys[key] == self.key.0);
        }
        self.drawing.spots.push(Spot {
            cells: start..start + cells.len(),
            key,
            kept: placed == Some(true),
            met: false,
        });
        match placed {
            Some(true) => {
                if let Some(kept) = self.rows.get_mut(self.key.0.as_slice()) {
                    kept.frame = self.frame;
                }
                return;
            }
            Some(false) => cells.iter_mut().for_each(Cell::reset),
            None => {}
        }
        if let Some(kept) = self.rows.get_mut(self.key.0.as_slice()) {
            kept.frame = self.frame;
            copy(&kept.cells, cells);
            return;
        }
        draw(cells);
        let used = cells
            .iter()
            .rposition(|c| *c != Cell::EMPTY)
            .map_or(0, |last| last + 1);
        self.rows.insert(
            self.key.0.as_slice().into(),
            Kept {
                cells: cells[..used].into(),
                frame: self.frame,
            },
        );
    }
}

/// Copies kept cells over blank ones. Building each symbol anew is about
/// a third cheaper than cloning the cell (ratatui's symbol moves through
/// the stack), and a blank symbol is already there.
fn copy(kept: &[Cell], cells: &mut [Cell]) {
    for (cell, kept) in cells.iter_mut().zip(kept) {
        let symbol = kept.symbol();
        if symbol != " " {
            cell.set_symbol(symbol);
        }
        cell.fg = kept.fg;
        cell.bg = kept.bg;
        cell.underline_color = kept.underline_color;
        cell.modifier = kept.modifier;
        cell.diff_option = kept.diff_option;
    }
}

/// What [`Hash`] feeds a hasher, kept as it is: every piece a fixed-width
/// number (an enum's variant too), a list after its length, or text ended
/// by `0xff` (which UTF-8 never holds), so equal bytes mean equal inputs.
#[derive(Default)]
struct Inputs(Vec<u8>);

impl Hasher for Inputs {
    fn write(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    /// A digest, for the trait's sake: the cache compares the bytes.
    fn finish(&self) -> u64 {
        let mut h = rustc_hash::FxHasher::default();
        h.write(&self.0);
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame of `rows` drawn a row per buffer line into a fresh buffer
    /// (nothing left in place); returns what it shows and how many rows
    /// were laid out.
    fn frame(cache: &mut RowCache, theme: &Theme, rows: &[&str]) -> (Vec<String>, usize) {
        let mut buf = Buffer::empty(ratatui::layout::Rect::new(0, 0, 6, rows.len() as u16));
        cache.begin(theme, None, true, &mut buf);
        let mut drawn = 0;
        let shown = rows
            .iter()
            .enumerate()
            .map(|(y, text)| {
                let cells = &mut buf.content[y * 6..y * 6 + 6];
                cache.row(y * 6, cells, text, |cells| {
                    drawn += 1;
                    for (cell, c) in cells.iter_mut().zip(text.chars()) {
                        cell.set_char(c);
                    }
                });
                cells.iter().map(Cell::symbol).collect()
            })
            .collect();
        cache.end();
        (shown, drawn)
    }

    /// A row seen the frame before is copied, not drawn; the cache keeps
    /// only the last frame's rows; another theme draws every row again.
    #[test]
    fn keeps_the_last_frames_rows() {
        let (dark, light) = (Theme::builtin("dark"), Theme::builtin("light"));
        let mut cache = RowCache::default();
        assert_eq!(frame(&mut cache, &dark, &["ab", "cd", "ef"]).1, 3);
        let (shown, drawn) = frame(&mut cache, &dark, &["ef", "ab", "xy"]);
        assert_eq!(shown, ["ef    ", "ab    ", "xy    "]);
        assert_eq!(drawn, 1, "only the new row is drawn");
        assert_eq!(cache.rows.len(), 3);
        assert_eq!(frame(&mut cache, &dark, &["xy"]).1, 0);
        assert_eq!(cache.rows.len(), 1, "rows off the screen are dropped");
        assert_eq!(frame(&mut cache, &light, &["xy"]).1, 1);
    }

    /// A copied row is the drawn one, cell for cell: symbols (wide ones
    /// too), colours, modifiers, and the blank cells after them.
    #[test]
    fn a_copy_is_the_row_drawn() {
        use ratatui::style::{Color, Modifier, Style};
        let theme = Theme::builtin("dark");
        let style = Style::new()
            .fg(Color::Red)
            .bg(Color::Rgb(1, 2, 3))
            .underline_color(Color::Green)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
        let draw = |cells: &mut [Cell]| {
            cells[0].set_symbol("次").set_style(style);
            cells[2].set_symbol(" ").set_style(style);
            cells[3].set_symbol("e\u{301}");
        };
        let mut want = vec![Cell::EMPTY; 6];
        draw(&mut want);
        let mut cache = RowCache::default();
        for round in 0..2 {
            let mut buf = Buffer::empty(ratatui::layout::Rect::new(0, 0, 6, 1));
            cache.begin(&theme, None, true, &mut buf);
            cache.row(0, &mut buf.content, "row", draw);
            cache.end();
            assert_eq!(buf.content, want, "round {round}");
        }
    }
}
