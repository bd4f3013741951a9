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
    pub panes: Vec<(PaneKind, Rect)>,
    pub detail: Rect,
    pub status: Rect,
    pub keybar: Rect,
}

/// Width from which the detail sits beside the lists instead of below.
const WIDE: u16 = 100;

/// Lays out `area` for the given panes (question panes first, then chat and
/// people, which go to the side column on wide screens).
pub fn screen(area: Rect, panes: &[PaneKind]) -> Screen {
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .split(area);
    let (header, body, status, keybar) = (rows[0], rows[1], rows[2], rows[3]);
    let (lists, side): (Vec<PaneKind>, Vec<PaneKind>) = if area.width >= WIDE {
        panes
            .iter()
            .partition(|p| !matches!(p, PaneKind::Chat | PaneKind::People))
    } else {
        (panes.to_vec(), Vec::new())
    };
    // Only chat or people (a participants platform): they take the list
    // column, the detail stays beside them.
    let (lists, side) = if lists.is_empty() {
        (side, Vec::new())
    } else {
        (lists, side)
    };
    let (list_area, detail_area) = if area.width >= WIDE {
        let cols = Layout::default()
            .direction(Direction::Horizontal)
            .constraints([Constraint::Percentage(58), Constraint::Percentage(42)])
            .split(body);
        (cols[0], cols[1])
    } else {
        let detail_h = (body.height / 3).clamp(3, 9);
        let parts = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Min(3), Constraint::Length(detail_h)])
            .split(body);
        (parts[0], parts[1])
    };
    let mut placed = stack(list_area, &lists);
    let detail = if side.is_empty() {
        detail_area
    } else {
        let mut kinds = vec![None];
        kinds.extend(side.iter().copied().map(Some));
        let weights: Vec<u16> = kinds
            .iter()
            .map(|k| k.map_or(4, PaneKind::weight))
            .collect();
        let rects = split_weighted(detail_area, &weights);
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
        detail,
        status,
        keybar,
    }
}

fn stack(area: Rect, kinds: &[PaneKind]) -> Vec<(PaneKind, Rect)> {
    let weights: Vec<u16> = kinds.iter().map(|k| k.weight()).collect();
    kinds
        .iter()
        .copied()
        .zip(split_weighted(area, &weights))
        .collect()
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

/// Rows of items a bordered pane shows.
pub fn inner_rows(r: Rect) -> usize {
    r.height.saturating_sub(2) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_fits_at_80x24() {
        let s = screen(
            Rect::new(0, 0, 80, 24),
            &[PaneKind::Pending, PaneKind::Selected, PaneKind::Answered],
        );
        assert_eq!(s.panes.len(), 3);
        for (_, r) in &s.panes {
            assert!(r.height >= 3, "{r:?}");
        }
        assert!(s.detail.height >= 3);
        assert_eq!(s.keybar.y, 23);
    }

    #[test]
    fn people_alone_take_the_list_column_when_wide() {
        let s = screen(Rect::new(0, 0, 120, 40), &[PaneKind::People]);
        let (_, people) = s.panes[0];
        assert_eq!(people.x, 0);
        assert!(s.detail.x >= people.x + people.width, "{s:?}");
        assert_eq!(people.height, s.detail.height);
    }
}
