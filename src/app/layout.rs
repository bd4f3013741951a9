//! Screen geometry, shared by drawing and by mouse hit-testing and paging in
//! the core, so a click lands on exactly what was drawn there.

use ratatui::layout::{Constraint, Direction, Layout, Rect};

/// The panes a session can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaneKind {
    Pending,
    Selected,
    Answered,
    Rejected,
    Chat,
    People,
}

impl PaneKind {
    pub fn title(self) -> &'static str {
        match self {
            PaneKind::Pending => "Pending",
            PaneKind::Selected => "Selected",
            PaneKind::Answered => "Answered",
            PaneKind::Rejected => "Rejected",
            PaneKind::Chat => "Chat",
            PaneKind::People => "People",
        }
    }

    fn weight(self) -> u16 {
        match self {
            PaneKind::Pending => 4,
            PaneKind::Selected | PaneKind::Chat | PaneKind::People => 3,
            PaneKind::Answered | PaneKind::Rejected => 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Screen {
    pub header: Rect,
    /// Each pane's rectangle: a title line, then its rows.
    pub panes: Vec<(PaneKind, Rect)>,
    /// Panes drawn collapsed: the title line with the count, and for
    /// Selected its first row (next on air).
    pub collapsed: Vec<PaneKind>,
    pub detail: Rect,
    /// The column between the lists and the detail on wide screens.
    pub divider: Option<Rect>,
    pub status: Rect,
    pub keybar: Rect,
    /// Set when the window is below [`MIN_WIDTH`]x[`MIN_HEIGHT`]: nothing
    /// but a notice is drawn.
    pub too_small: bool,
}

impl Screen {
    pub fn is_collapsed(&self, kind: PaneKind) -> bool {
        self.collapsed.contains(&kind)
    }
}

/// A pane and its height when collapsed.
type Slot = (PaneKind, u16);

/// Width from which the detail sits beside the lists instead of below.
const WIDE: u16 = 100;
/// The smallest window the console draws in.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 12;

/// Lays out `area`. `panes` are the visible panes in Tab order, each with
/// its height when collapsed (1, or 2 for a Selected pane with a question).
/// The focused list pane takes the rows; the others collapse. Chat and
/// people go to the side column on wide screens.
pub fn screen(area: Rect, panes: &[(PaneKind, u16)], focus: PaneKind) -> Screen {
    let line = |y: u16| Rect::new(area.x, y, area.width, 1.min(area.height));
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return Screen {
            header: line(area.y),
            panes: Vec::new(),
            collapsed: Vec::new(),
            detail: Rect::default(),
            divider: None,
            status: Rect::default(),
            keybar: Rect::default(),
            too_small: true,
        };
    }
    let header = line(area.y);
    let status = line(area.y + area.height - 2);
    let keybar = line(area.y + area.height - 1);
    let body = Rect::new(area.x, area.y + 1, area.width, area.height - 3);
    let wide = area.width >= WIDE;
    let side_kind = |p: &PaneKind| matches!(p, PaneKind::Chat | PaneKind::People);
    let (mut lists, mut side): (Vec<Slot>, Vec<Slot>) = if wide {
        panes.iter().partition(|(p, _)| !side_kind(p))
    } else {
        (panes.to_vec(), Vec::new())
    };
    // Only chat or people (a participants platform): they take the list
    // column, the detail stays beside them.
    if lists.is_empty() {
        std::mem::swap(&mut lists, &mut side);
    }
    let (list_area, right, divider) = if wide {
        let left_w = area.width * 58 / 100;
        (
            Rect::new(body.x, body.y, left_w, body.height),
            Rect::new(
                body.x + left_w + 1,
                body.y,
                body.width - left_w - 1,
                body.height,
            ),
            Some(Rect::new(body.x + left_w, body.y, 1, body.height)),
        )
    } else {
        let detail_h = (body.height / 4).clamp(4, 9);
        let list_h = body.height - detail_h;
        (
            Rect::new(body.x, body.y, body.width, list_h),
            Rect::new(body.x, body.y + list_h, body.width, detail_h),
            None,
        )
    };
    let mut collapsed = Vec::new();
    let mut placed = stack(list_area, &lists, focus, &mut collapsed);
    let detail = if side.is_empty() {
        right
    } else {
        let mut kinds = vec![None];
        kinds.extend(side.iter().map(|(k, _)| Some(*k)));
        let weights: Vec<u16> = kinds
            .iter()
            .map(|k| k.map_or(4, PaneKind::weight))
            .collect();
        let rects = split_weighted(right, &weights);
        for (k, r) in kinds.iter().zip(rects.iter()).skip(1) {
            if let Some(k) = k {
                placed.push((*k, *r));
            }
        }
        rects[0]
    };
    Screen {
        header,
        panes: placed,
        collapsed,
        detail,
        divider,
        status,
        keybar,
        too_small: false,
    }
}

/// One column of list panes: the focused one (or the first, when the focus
/// is elsewhere) takes what the collapsed ones leave.
fn stack(
    area: Rect,
    kinds: &[(PaneKind, u16)],
    focus: PaneKind,
    collapsed: &mut Vec<PaneKind>,
) -> Vec<(PaneKind, Rect)> {
    let Some(open) = kinds
        .iter()
        .find(|(k, _)| *k == focus)
        .or_else(|| kinds.first())
        .map(|(k, _)| *k)
    else {
        return Vec::new();
    };
    let shut: u16 = kinds
        .iter()
        .filter(|(k, _)| *k != open)
        .map(|(_, h)| *h)
        .sum();
    let open_h = area.height.saturating_sub(shut).max(1);
    let mut y = area.y;
    let bottom = area.y + area.height;
    let mut out = Vec::new();
    for (k, h) in kinds {
        let h = if *k == open { open_h } else { *h };
        let h = h.min(bottom.saturating_sub(y));
        if *k != open {
            collapsed.push(*k);
        }
        out.push((*k, Rect::new(area.x, y, area.width, h)));
        y += h;
    }
    out
}

fn split_weighted(area: Rect, weights: &[u16]) -> Vec<Rect> {
    if weights.is_empty() {
        return Vec::new();
    }
    let constraints: Vec<Constraint> = weights.iter().map(|w| Constraint::Fill(*w)).collect();
    Layout::default()
        .direction(Direction::Vertical)
        .constraints(constraints)
        .split(area)
        .to_vec()
}

/// Rows of items a pane shows under its title line.
pub fn inner_rows(r: Rect) -> usize {
    r.height.saturating_sub(1) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUESTIONS: [(PaneKind, u16); 3] = [
        (PaneKind::Pending, 1),
        (PaneKind::Selected, 2),
        (PaneKind::Answered, 1),
    ];

    fn rect_of(s: &Screen, kind: PaneKind) -> Rect {
        s.panes
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, r)| *r)
            .unwrap()
    }

    #[test]
    fn the_focused_pane_takes_the_rows_at_80x24() {
        let s = screen(Rect::new(0, 0, 80, 24), &QUESTIONS, PaneKind::Pending);
        assert!(inner_rows(rect_of(&s, PaneKind::Pending)) >= 12, "{s:?}");
        assert_eq!(rect_of(&s, PaneKind::Selected).height, 2);
        assert_eq!(rect_of(&s, PaneKind::Answered).height, 1);
        assert!(s.detail.height >= 4, "a meta line and 3 lines of text");
        assert_eq!(s.keybar.y, 23);
        assert_eq!(s.collapsed, vec![PaneKind::Selected, PaneKind::Answered]);
        let s = screen(Rect::new(0, 0, 80, 24), &QUESTIONS, PaneKind::Answered);
        assert_eq!(rect_of(&s, PaneKind::Pending).height, 1);
        assert!(inner_rows(rect_of(&s, PaneKind::Answered)) >= 12);
    }

    #[test]
    fn wide_screens_give_the_lists_the_height() {
        let s = screen(Rect::new(0, 0, 120, 40), &QUESTIONS, PaneKind::Pending);
        assert!(inner_rows(rect_of(&s, PaneKind::Pending)) >= 28, "{s:?}");
        assert_eq!(s.detail.height, 37);
        assert!(s.divider.is_some());
    }

    #[test]
    fn every_size_from_60x16_keeps_three_lines_of_detail() {
        for w in [60, 70, 80, 99, 100, 140] {
            for h in [16, 20, 24, 30, 50] {
                let s = screen(Rect::new(0, 0, w, h), &QUESTIONS, PaneKind::Pending);
                assert!(s.detail.height >= 4, "{w}x{h}: {s:?}");
                assert!(inner_rows(rect_of(&s, PaneKind::Pending)) >= 1);
                let last = s.panes.iter().map(|(_, r)| r.y + r.height).max().unwrap();
                assert!(last <= s.status.y, "{w}x{h}: panes overlap the status bar");
            }
        }
    }

    #[test]
    fn a_tiny_window_draws_only_a_notice() {
        let s = screen(Rect::new(0, 0, 30, 10), &QUESTIONS, PaneKind::Pending);
        assert!(s.too_small);
        assert!(s.panes.is_empty());
        assert!(
            !screen(
                Rect::new(0, 0, MIN_WIDTH, MIN_HEIGHT),
                &QUESTIONS,
                PaneKind::Pending
            )
            .too_small
        );
    }

    #[test]
    fn people_alone_take_the_list_column_when_wide() {
        let s = screen(
            Rect::new(0, 0, 120, 40),
            &[(PaneKind::People, 1)],
            PaneKind::People,
        );
        let (_, people) = s.panes[0];
        assert_eq!(people.x, 0);
        assert!(s.detail.x >= people.x + people.width, "{s:?}");
        assert_eq!(people.height, s.detail.height);
    }
}
