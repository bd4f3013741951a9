//! One line of styled pieces written straight into the frame's cells: what
//! a `Paragraph` of one `Line` draws, without building spans or splitting
//! the text into clusters a second time, so a list row costs about what
//! its cells do.

use ratatui::buffer::{Buffer, Cell, CellWidth};
use ratatui::layout::Rect;
use ratatui::style::Style;

/// Writes pieces left to right into one row of the buffer, cell for cell as
/// `Paragraph::new(Line::from(spans))` would: the same clusters (control
/// characters dropped, zero-width ones skipped), widths and styles, and
/// nothing after the first cluster that does not fit.
pub struct Row<'b> {
    cells: &'b mut [Cell],
    x: usize,
    full: bool,
}

/// Row `y` of `area`'s cells (clipped to the buffer, as widgets are), and
/// where they begin in the buffer's.
pub fn cells(buf: &mut Buffer, area: Rect, y: u16) -> (usize, &mut [Cell]) {
    let area = area.intersection(buf.area);
    if area.is_empty() || y < area.top() || y >= area.bottom() {
        return (0, &mut []);
    }
    let width = usize::from(buf.area.width);
    let start = usize::from(y - buf.area.y) * width + usize::from(area.x - buf.area.x);
    (
        start,
        &mut buf.content[start..start + usize::from(area.width)],
    )
}

impl<'b> Row<'b> {
    /// Writes into `cells`, one row of a buffer (see [`cells`]).
    pub fn over(cells: &'b mut [Cell]) -> Row<'b> {
        Row {
            cells,
            x: 0,
            full: false,
        }
    }

    /// Writes `s` in `style` (patched over the cells', as spans are).
    pub fn put(&mut self, s: &str, style: Style) {
        if s.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            // Printable ASCII: a cell a byte.
            for i in 0..s.len() {
                self.cell(&s[i..=i], 1, style);
            }
            return;
        }
        let mut clusters = crate::text::graphemes(s);
        while let Some((g, lone)) = clusters.next_lone() {
            if self.full {
                return;
            }
            let w = match lone {
                Some(c) if c.is_control() => continue,
                Some(c) => unicode_width::UnicodeWidthChar::width(c).unwrap_or(0),
                None if g.contains(char::is_control) => continue,
                None => usize::from(g.cell_width()),
            };
            self.cell(g, w, style);
        }
    }

    /// `s` as [`crate::text::one_line`] shows it in at most `max` cells
    /// (newlines as `⏎`, cut with `…`); returns whether it was cut.
    pub fn put_line(&mut self, s: &str, max: usize, style: Style) -> bool {
        crate::text::one_line_each(s, max, |g, plain| match plain {
            Some(w) => self.cell(g, w, style),
            None => self.put(g, style),
        })
    }

    /// One cluster `w` cells wide that is no control character.
    #[inline]
    fn cell(&mut self, g: &str, w: usize, style: Style) {
        let max = self.cells.len();
        if self.full || w > max {
            return;
        }
        if self.x + w > max {
            self.full = true;
            return;
        }
        if w == 0 {
            return;
        }
        let cell = &mut self.cells[self.x];
        // A blank cell (as a new frame's are) keeps its symbol.
        if g != " " || cell.symbol() != " " {
            cell.set_symbol(g);
        }
        cell.set_style(style);
        self.x += w;
    }

    /// Cells left before the right edge.
    pub fn left(&self) -> usize {
        self.cells.len() - self.x
    }

    /// `n` spaces in `style`.
    pub fn spaces(&mut self, n: usize, style: Style) {
        if self.full {
            return;
        }
        let room = self.cells.len() - self.x;
        for cell in &mut self.cells[self.x..self.x + n.min(room)] {
            // A blank cell (as a new frame's are) keeps its symbol.
            if cell.symbol() != " " {
                cell.set_symbol(" ");
            }
            cell.set_style(style);
        }
        self.x += n.min(room);
        self.full = n > room;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::{Color, Modifier};
    use ratatui::text::{Line, Span};
    use ratatui::widgets::{Paragraph, Widget};

    /// The row and a one-line paragraph of the same spans leave the same
    /// cells, whatever the text and however narrow the area.
    #[test]
    fn draws_what_a_paragraph_draws() {
        let red = Style::new().fg(Color::Red);
        let bold = Style::new().add_modifier(Modifier::BOLD).bg(Color::Blue);
        let pieces: &[&[(&str, Style)]] = &[
            &[("plain", Style::new()), (" and red", red)],
            &[
                ("次のバージョン", bold),
                ("ok", red),
                ("e\u{301}x", Style::new()),
            ],
            &[("a\u{7}b\nc\td", red), ("👨‍👩‍👧 👍🏽 ❤️ 🇩🇪", bold)],
            &[
                ("\u{200b}zero\u{301}\u{301}", Style::new()),
                ("     ", bold),
            ],
            &[("ما هي خطتكم لدعم اللغة العربية؟ ", red), ("क्या यह", bold)],
        ];
        for spans in pieces {
            for width in [0u16, 1, 2, 3, 7, 12, 40] {
                let area = Rect::new(2, 1, width, 1);
                let mut want = Buffer::empty(Rect::new(0, 0, 44, 3));
                let mut got = want.clone();
                let line = Line::from(
                    spans
                        .iter()
                        .map(|(s, st)| Span::styled(*s, *st))
                        .collect::<Vec<_>>(),
                );
                Paragraph::new(line).render(area, &mut want);
                let mut row = Row::over(cells(&mut got, area, 1).1);
                for (s, st) in *spans {
                    row.put(s, *st);
                }
                assert_eq!(got, want, "{spans:?} in {width}");
            }
        }
    }

    /// A line put in `max` cells is what a paragraph of `one_line` shows.
    #[test]
    fn a_line_is_one_line_drawn() {
        let style = Style::new().fg(Color::Green);
        for text in ["short", "two\nlines", "次のバージョン ok", "لا إله 👩🏽‍💻 🇩🇪 x"]
        {
            for max in [0, 1, 2, 5, 9, 30] {
                let area = Rect::new(0, 0, 12, 1);
                let mut want = Buffer::empty(area);
                let mut got = want.clone();
                let line = Span::styled(crate::text::one_line(text, max), style);
                Paragraph::new(line).render(area, &mut want);
                let cut = Row::over(cells(&mut got, area, 0).1).put_line(text, max, style);
                assert_eq!(got, want, "{text:?} in {max}");
                assert_eq!(cut, crate::text::one_line_cut(text, max).1);
            }
        }
    }

    /// A character that stands alone is as wide as text and ratatui say,
    /// so a row may write it with its own width.
    #[test]
    fn a_lone_character_has_one_width() {
        use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let s = c.to_string();
            let Some((_, Some(lone))) = crate::text::graphemes(&s).next_lone() else {
                continue;
            };
            if lone.is_control() {
                continue;
            }
            let w = UnicodeWidthChar::width(lone);
            assert_eq!(w, Some(UnicodeWidthStr::width(s.as_str())), "{c:?}");
            assert_eq!(w, Some(usize::from(s.cell_width())), "{c:?}");
        }
    }

    #[test]
    fn spaces_stop_at_the_edge_and_end_the_row() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 6, 1));
        let mut row = Row::over(cells(&mut buf, Rect::new(1, 0, 4, 1), 0).1);
        row.put("ab", Style::new());
        row.spaces(5, Style::new().fg(Color::Red));
        row.put("c", Style::new());
        let symbols: String = buf.content.iter().map(Cell::symbol).collect();
        assert_eq!(symbols, " ab   ");
        assert_eq!(buf.content[4].fg, Color::Red);
        assert_eq!(buf.content[5].fg, Color::Reset, "outside the area");
    }
}
