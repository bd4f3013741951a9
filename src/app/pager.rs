//! The help and the error list: overlays longer than a screen, scrolled
//! and searched with the keys of [`Scope::Pager`]. Their lines are built
//! here, for a given width, so the core can keep the scroll inside them and
//! drawing only styles what it is given.

use super::action::{ACTIONS, Action, Group, Scope};
use super::{App, Command, Overlay};
use crate::domain::{Millis, SourceId};
use crate::text::{sanitize, width, wrap};
use ratatui_textarea::{Input, Key};

/// Errors and refusals kept for the error list.
pub const ERRORS_KEPT: usize = 100;

/// Scroll and search of a pager overlay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pager {
    /// First line shown.
    pub scroll: usize,
    /// Lines that do not contain this (case-insensitive) are left out.
    pub search: String,
    /// Keys are typed into the search.
    pub typing: bool,
}

/// One error or refusal, whole.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorEntry {
    pub at: Millis,
    pub source: Option<String>,
    pub message: String,
}

/// What a pager line is, for its style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Heading,
    Entry,
    /// An action with no key: marked in the help.
    Unbound,
    /// An error's time and source.
    ErrorHead(Millis),
    Text,
}

/// One line of a pager: a key column (empty on continuation lines) and text.
#[derive(Debug, Clone, PartialEq)]
pub struct PagerLine {
    pub keys: String,
    pub text: String,
    pub kind: LineKind,
}

/// Width of the key column in the help at `width` cells.
pub fn key_column(width: usize) -> usize {
    if width >= 70 { 20 } else { 14 }
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}

impl App {
    /// Rows a pager shows at the current size (inside its border, above
    /// its footer).
    pub fn pager_rows(&self) -> usize {
        (self.size.1 as usize).saturating_sub(3).max(1)
    }

    /// Text width inside a pager overlay.
    pub fn pager_width(&self) -> usize {
        (self.size.0 as usize).min(110).saturating_sub(2).max(10)
    }

    /// The help: every action of every scope under its group, with its
    /// effective keys, the description wrapped, never cut.
    pub fn help_lines(&self, width_cells: usize, search: &str) -> Vec<PagerLine> {
        let kw = key_column(width_cells);
        let text_w = width_cells.saturating_sub(kw).max(8);
        let mut out = Vec::new();
        for group in Group::ALL {
            let mut lines = Vec::new();
            for spec in ACTIONS.iter().filter(|a| a.group == group) {
                let keys = self.keymap.keys_for(spec.action);
                let unbound = keys.is_empty();
                let keys = if unbound {
                    "(no key)".to_string()
                } else {
                    keys.join(" ")
                };
                let help = match spec.action.saved_search() {
                    // Saved searches by name; the unused number keys once.
                    Some(n) => match self.searches.get(n - 1) {
                        Some(s) => format!("saved search {}: {}", s.name, s.text),
                        None if n == 1 => {
                            "saved searches: [searches] in the config puts them on 1–9".into()
                        }
                        None => continue,
                    },
                    None => spec.help.to_string(),
                };
                let help = if unbound {
                    format!("{help} — unbound: [keys] {} = \"…\"", spec.name)
                } else {
                    help
                };
                if !search.is_empty()
                    && !contains_ci(&keys, search)
                    && !contains_ci(&help, search)
                    && !contains_ci(spec.name, search)
                {
                    continue;
                }
                let kind = if unbound {
                    LineKind::Unbound
                } else {
                    LineKind::Entry
                };
                let mut text = wrap(&help, text_w).into_iter();
                if width(&keys) + 1 > kw {
                    // Long key lists get a line of their own.
                    for k in wrap(&keys, width_cells) {
                        lines.push(PagerLine {
                            keys: k,
                            text: String::new(),
                            kind,
                        });
                    }
                } else {
                    lines.push(PagerLine {
                        keys,
                        text: text.next().unwrap_or_default(),
                        kind,
                    });
                }
                lines.extend(text.map(|t| PagerLine {
                    keys: String::new(),
                    text: t,
                    kind,
                }));
            }
            if !lines.is_empty() {
                out.push(PagerLine {
                    keys: String::new(),
                    text: group.title().to_string(),
                    kind: LineKind::Heading,
                });
                out.extend(lines);
            }
        }
        out
    }

    /// The error list, newest first, each message whole.
    pub fn error_lines(&self, width_cells: usize, search: &str) -> Vec<PagerLine> {
        let mut out = Vec::new();
        for e in self.errors.iter().rev() {
            let source = e.source.as_deref().unwrap_or("qadeck");
            if !search.is_empty()
                && !contains_ci(&e.message, search)
                && !contains_ci(source, search)
            {
                continue;
            }
            out.push(PagerLine {
                keys: String::new(),
                text: source.to_string(),
                kind: LineKind::ErrorHead(e.at),
            });
            out.extend(
                wrap(&e.message, width_cells)
                    .into_iter()
                    .map(|t| PagerLine {
                        keys: String::new(),
                        text: t,
                        kind: LineKind::Text,
                    }),
            );
        }
        out
    }

    /// The lines of an open pager overlay.
    pub fn pager_lines(&self, overlay: &Overlay) -> Vec<PagerLine> {
        let w = self.pager_width();
        match overlay {
            Overlay::Help(p) => self.help_lines(w, &p.search),
            Overlay::Errors(p) => self.error_lines(w, &p.search),
            _ => Vec::new(),
        }
    }

    /// Keeps an error or refusal for the error list (the oldest goes first).
    pub(super) fn record_error(&mut self, source: Option<SourceId>, message: &str) {
        if self.errors.len() >= ERRORS_KEPT {
            self.errors.pop_front();
        }
        let source = source.map(|s| self.source_name(s).to_string());
        self.errors.push_back(ErrorEntry {
            at: self.now,
            source,
            message: sanitize(message),
        });
    }

    /// A refusal: said in the toast and kept in the error list.
    pub(super) fn refuse(&mut self, text: impl Into<String>) {
        let text = text.into();
        self.record_error(None, &format!("refused: {text}"));
        self.toast(text);
    }

    /// A key in the help or the error list.
    pub(super) fn on_pager_key(&mut self, overlay: Overlay, input: Input, _cmds: &mut [Command]) {
        let (mut p, help) = match overlay {
            Overlay::Help(p) => (p, true),
            Overlay::Errors(p) => (p, false),
            other => {
                self.overlay = Some(other);
                return;
            }
        };
        if p.typing {
            match self.keymap.resolve(Scope::Input, &input) {
                Some(Action::InputSend) => p.typing = false,
                Some(Action::InputCancel) => {
                    p.typing = false;
                    p.search.clear();
                }
                _ => match input.key {
                    Key::Backspace => {
                        p.search.pop();
                    }
                    Key::Char(c) if !input.ctrl && !input.alt => p.search.push(c),
                    _ => {}
                },
            }
            p.scroll = 0;
        } else {
            let page = self.pager_rows().saturating_sub(1).max(1);
            match self.keymap.resolve(Scope::Pager, &input) {
                Some(Action::PagerDown) => p.scroll += 1,
                Some(Action::PagerUp) => p.scroll = p.scroll.saturating_sub(1),
                Some(Action::PagerPageDown) => p.scroll += page,
                Some(Action::PagerPageUp) => p.scroll = p.scroll.saturating_sub(page),
                Some(Action::PagerTop) => p.scroll = 0,
                Some(Action::PagerBottom) => p.scroll = usize::MAX / 2,
                Some(Action::PagerSearch) => {
                    p.typing = true;
                    p.search.clear();
                }
                // Close, or any key the pager has no use for (as before).
                _ => {
                    self.overlay = None;
                    return;
                }
            }
        }
        let wrap = |p: Pager| {
            if help {
                Overlay::Help(p)
            } else {
                Overlay::Errors(p)
            }
        };
        let total = self.pager_lines(&wrap(p.clone())).len();
        p.scroll = p.scroll.min(total.saturating_sub(self.pager_rows()));
        self.overlay = Some(wrap(p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{KeyMap, SourceView};
    use crate::domain::Capabilities;

    fn app(keymap: KeyMap) -> App {
        App::new(
            vec![SourceView::new("s", Capabilities::none(), true)],
            keymap,
            "t".into(),
            0,
        )
    }

    #[test]
    fn help_holds_every_description_whole_at_60_columns() {
        let a = app(KeyMap::default());
        let lines = a.help_lines(58, "");
        let text: String = lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        // Saved searches are described by what the config gives them.
        for spec in ACTIONS.iter().filter(|s| s.action.saved_search().is_none()) {
            for word in spec.help.split_whitespace() {
                assert!(text.contains(word), "{}: {word}", spec.name);
            }
        }
        assert!(text.contains("[searches] in the config puts them on 1–9"));
        for l in lines.iter().filter(|l| l.kind == LineKind::Entry) {
            assert!(width(&l.text) <= 58 - key_column(58), "{l:?}");
        }
    }

    #[test]
    fn help_names_the_saved_searches() {
        let mut a = app(KeyMap::default());
        let text = "label:press is:starred";
        let query = crate::triage::search::parse(text).unwrap();
        let press = crate::triage::search::SavedSearch {
            name: "press".into(),
            text: text.into(),
            query,
        };
        a.searches = vec![press];
        let lines = a.help_lines(78, "saved search");
        let l = lines.iter().find(|l| l.keys == "1").unwrap();
        assert_eq!(l.text, "saved search press: label:press is:starred");
        assert!(
            lines.iter().all(|l| l.keys != "2"),
            "unused keys are left out"
        );
    }

    #[test]
    fn help_marks_an_action_left_without_a_key() {
        let a = app(KeyMap::with_overrides([("reject", vec![])]).unwrap());
        let lines = a.help_lines(78, "reject");
        let l = lines.iter().find(|l| l.kind == LineKind::Unbound).unwrap();
        assert_eq!(l.keys, "(no key)");
        assert!(l.text.starts_with("reject"));
    }

    #[test]
    fn the_error_list_keeps_the_last_hundred() {
        let mut a = app(KeyMap::default());
        for i in 0..150 {
            a.record_error(Some(SourceId(0)), &format!("error {i}"));
        }
        assert_eq!(a.errors.len(), ERRORS_KEPT);
        let lines = a.error_lines(60, "");
        assert_eq!(lines[1].text, "error 149");
        assert_eq!(lines[0].text, "s");
    }
}
