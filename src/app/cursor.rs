//! Cursors and scrolling: identities, not row numbers, so arrivals never
//! move what the moderator is looking at.

use super::App;
use super::layout::{PaneKind, inner_rows};
use super::queue::Moved;
use crate::domain::Status;

use super::update::{QUESTION_PANES, pane_status};

impl App {
    /// Keeps cursors on a moved question's neighbours when it leaves a pane,
    /// and records the change for headless output.
    pub(super) fn moved(&mut self, m: Option<Moved>) {
        let Some(m) = m else { return };
        self.changed(&m.key);
        match m.to {
            None => self.group_forget(&m.key, m.slot),
            Some(_) => self.group_moved(&m.key),
        }
        self.left_pending(&m);
        let Some((from_status, from_order)) = m.from else {
            return;
        };
        if m.to == Some(from_status) {
            return;
        }
        let Some(kind) = QUESTION_PANES
            .into_iter()
            .find(|p| pane_status(*p) == Some(from_status))
        else {
            return;
        };
        if self.panes.get(&kind).and_then(|p| p.cursor.as_ref()) != Some(&m.key) {
            return;
        }
        let next = self
            .queue
            .iter_after(from_status, &from_order)
            .find(|e| self.matches(&e.view))
            .or_else(|| {
                self.queue
                    .iter_before(from_status, &from_order)
                    .find(|e| self.matches(&e.view))
            })
            .map(|e| e.view.key());
        if let Some(p) = self.panes.get_mut(&kind) {
            p.cursor = next;
        }
    }

    pub(super) fn page(&self) -> usize {
        self.screen()
            .panes
            .iter()
            .find(|(k, _)| *k == self.focus)
            .map_or(10, |(_, r)| inner_rows(*r).max(1))
    }

    pub(super) fn cycle_pane(&mut self, step: i64) {
        let panes = self.visible_panes();
        let at = panes.iter().position(|p| *p == self.focus).unwrap_or(0) as i64;
        let n = panes.len() as i64;
        self.focus = panes[((at + step).rem_euclid(n)) as usize];
        self.detail_scroll = 0;
    }

    pub(super) fn move_cursor(&mut self, delta: i64) {
        self.detail_scroll = 0;
        let Some(status) = pane_status(self.focus) else {
            let len = match self.focus {
                PaneKind::Chat => self.chat.len(),
                _ => self.people_len(),
            };
            let p = self.panes.entry(self.focus).or_default();
            p.row = (p.row as i64 + delta).clamp(0, len.saturating_sub(1) as i64) as usize;
            return;
        };
        let cursor = self.pane(self.focus).cursor;
        let Some(order) = cursor.as_ref().and_then(|k| self.queue.order_of(k)) else {
            return;
        };
        let mut target = cursor;
        if delta > 0 {
            for e in self
                .queue
                .iter_after(status, &order)
                .filter(|e| self.matches(&e.view))
                .take(delta as usize)
            {
                target = Some(e.view.key());
            }
        } else {
            for e in self
                .queue
                .iter_before(status, &order)
                .filter(|e| self.matches(&e.view))
                .take((-delta) as usize)
            {
                target = Some(e.view.key());
            }
        }
        self.panes.entry(self.focus).or_default().cursor = target;
    }

    pub(super) fn on_click(&mut self, col: u16, row: u16) {
        let screen = self.screen();
        let hit = screen
            .panes
            .iter()
            .find(|(_, r)| col >= r.x && col < r.x + r.width && row >= r.y && row < r.y + r.height);
        let Some((kind, rect)) = hit.copied() else {
            return;
        };
        // A collapsed pane shows its first rows, not its scroll position.
        let from_top = screen.is_collapsed(kind);
        self.focus = kind;
        self.detail_scroll = 0;
        let Some(line) = row.checked_sub(rect.y + 1).map(usize::from) else {
            return;
        };
        if line >= inner_rows(rect) {
            return;
        }
        match pane_status(kind) {
            Some(status) => {
                let top = if from_top { None } else { self.pane(kind).top };
                let hit = self
                    .queue
                    .iter_from(status, top.as_ref())
                    .filter(|e| self.matches(&e.view))
                    .nth(line)
                    .map(|e| e.view.key());
                if let Some(k) = hit {
                    self.panes.entry(kind).or_default().cursor = Some(k);
                }
            }
            None => {
                let len = if kind == PaneKind::Chat {
                    self.chat.len()
                } else {
                    self.people_len()
                };
                let p = self.panes.entry(kind).or_default();
                let r = if from_top { line } else { p.top_row + line };
                if r < len {
                    p.row = r;
                }
            }
        }
    }

    /// Keeps every cursor on an item of its pane and inside the view.
    pub(super) fn fix_scroll(&mut self) {
        let screen = self.screen();
        for (kind, rect) in &screen.panes {
            let (kind, rect) = (*kind, *rect);
            // A collapsed pane keeps its scroll for when it opens again.
            let rows = if screen.is_collapsed(kind) {
                usize::MAX / 2
            } else {
                inner_rows(rect).max(1)
            };
            match pane_status(kind) {
                Some(status) => self.fix_question_pane(kind, status, rows),
                None => {
                    let len = if kind == PaneKind::Chat {
                        self.chat.len()
                    } else {
                        self.people_len()
                    };
                    let p = self.panes.entry(kind).or_default();
                    if kind == PaneKind::Chat && p.row + 1 >= len.saturating_sub(1) {
                        // Follow the newest message unless scrolled back.
                        p.row = len.saturating_sub(1);
                    }
                    p.row = p.row.min(len.saturating_sub(1));
                    if p.row < p.top_row {
                        p.top_row = p.row;
                    } else if p.row >= p.top_row + rows {
                        p.top_row = p.row + 1 - rows;
                    }
                }
            }
        }
    }

    pub(super) fn fix_question_pane(&mut self, kind: PaneKind, status: Status, rows: usize) {
        let state = self.pane(kind);
        let valid = state
            .cursor
            .as_ref()
            .and_then(|k| self.queue.get(k))
            .filter(|e| e.view.status == status && self.matches(&e.view));
        let cursor = match valid {
            Some(e) => e.view.key(),
            None => match self
                .queue
                .iter_from(status, state.top.as_ref())
                .find(|e| self.matches(&e.view))
                .or_else(|| {
                    self.queue
                        .iter_from(status, None)
                        .find(|e| self.matches(&e.view))
                }) {
                Some(e) => e.view.key(),
                None => {
                    self.panes.insert(kind, super::PaneState::default());
                    return;
                }
            },
        };
        let Some(corder) = self.queue.order_of(&cursor) else {
            return;
        };
        let top_ok = state.top.as_ref().filter(|t| **t <= corder).and_then(|t| {
            // The cursor must be within `rows` matching items from the top.
            let mut seen = 0;
            for e in self.queue.iter_from(status, Some(t)) {
                if !self.matches(&e.view) {
                    continue;
                }
                if e.view.key() == cursor {
                    return Some(*t);
                }
                seen += 1;
                if seen >= rows {
                    return None;
                }
            }
            None
        });
        let top = match top_ok {
            Some(t) => t,
            // Scrolled up past the view: the cursor becomes the first row.
            None if state.top.as_ref().is_some_and(|old| *old > corder) => corder,
            // Otherwise the cursor sits on the last row the pane shows.
            None => self
                .queue
                .iter_before(status, &corder)
                .filter(|e| self.matches(&e.view))
                .take(rows - 1)
                .last()
                .and_then(|e| self.queue.order_of(&e.view.key()))
                .unwrap_or(corder),
        };
        let p = self.panes.entry(kind).or_default();
        p.cursor = Some(cursor);
        p.top = Some(top);
    }
}
