//! Finished list rows kept between frames. A question's row is looked up by
//! everything it shows (its inputs, written out byte for byte: not a
//! digest, so two different rows never share an entry); an unchanged row
//! is copied into the frame's cells instead of being laid out again. Only
//! the rows of the last frame are kept, so the cache is as large as the
//! screen, and a change of theme empties it.

use super::Theme;
use ratatui::buffer::Cell;
use rustc_hash::FxHashMap;
use std::hash::{Hash, Hasher};

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
}

struct Kept {
    /// The row's cells up to its last one that is not blank (the blank
    /// rest is already so in a new frame).
    cells: Box<[Cell]>,
    frame: u64,
}

impl RowCache {
    /// Starts a frame drawn in `theme`.
    pub fn begin(&mut self, theme: &Theme) {
        self.frame += 1;
        if self.theme.as_ref() != Some(theme) {
            self.rows.clear();
            self.theme = Some(theme.clone());
        }
    }

    /// Ends the frame: rows it did not show are dropped.
    pub fn end(&mut self) {
        let frame = self.frame;
        self.rows.retain(|_, kept| kept.frame == frame);
    }

    /// Writes a row into `cells` (blank as a new frame's are): the kept
    /// copy if one shows `inputs`, else what `draw` writes, then kept.
    pub fn row(&mut self, cells: &mut [Cell], inputs: impl Hash, draw: impl FnOnce(&mut [Cell])) {
        self.key.0.clear();
        (cells.len(), inputs).hash(&mut self.key);
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

    fn frame(cache: &mut RowCache, theme: &Theme, rows: &[&str]) -> (Vec<String>, usize) {
        cache.begin(theme);
        let mut drawn = 0;
        let shown = rows
            .iter()
            .map(|text| {
                let mut cells = vec![Cell::EMPTY; 6];
                cache.row(&mut cells, text, |cells| {
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
            cache.begin(&theme);
            let mut cells = vec![Cell::EMPTY; 6];
            cache.row(&mut cells, "row", draw);
            cache.end();
            assert_eq!(cells, want, "round {round}");
        }
    }
}
