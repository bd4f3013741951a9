//! Keys to actions. Defaults are the brief's; the config's `[keys]` table
//! remaps any action (`approve = ["a", "ctrl-a"]`). Key names are the ones
//! the help overlay prints, so what you read is what you write.

use super::action::Action;
use ratatui_textarea::{Input, Key};
use std::collections::BTreeMap;

/// A key with its modifiers, comparable and printable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyChord {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCode {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
}

impl KeyChord {
    /// From the textarea's backend-agnostic input. Shift is folded into the
    /// character (`A`) or into BackTab.
    pub fn from_input(input: &Input) -> Option<KeyChord> {
        let code = match input.key {
            Key::Char(c) => KeyCode::Char(c),
            Key::F(n) => KeyCode::F(n),
            Key::Enter => KeyCode::Enter,
            Key::Esc => KeyCode::Esc,
            Key::Tab if input.shift => KeyCode::BackTab,
            Key::Tab => KeyCode::Tab,
            Key::Backspace => KeyCode::Backspace,
            Key::Delete => KeyCode::Delete,
            Key::Up => KeyCode::Up,
            Key::Down => KeyCode::Down,
            Key::Left => KeyCode::Left,
            Key::Right => KeyCode::Right,
            Key::Home => KeyCode::Home,
            Key::End => KeyCode::End,
            Key::PageUp => KeyCode::PageUp,
            Key::PageDown => KeyCode::PageDown,
            _ => return None,
        };
        Some(KeyChord {
            code,
            ctrl: input.ctrl,
            alt: input.alt,
        })
    }

    /// Parses `"a"`, `"A"`, `"ctrl-n"`, `"alt-x"`, `"shift-tab"`, `"pgdn"`, `"f1"`, `"?"`.
    pub fn parse(text: &str) -> Result<KeyChord, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut shift = false;
        let mut rest = text.trim();
        loop {
            let lower = rest.to_ascii_lowercase();
            if let Some(r) = lower
                .strip_prefix("ctrl-")
                .or_else(|| lower.strip_prefix("c-"))
            {
                ctrl = true;
                rest = &rest[rest.len() - r.len()..];
            } else if let Some(r) = lower
                .strip_prefix("alt-")
                .or_else(|| lower.strip_prefix("m-"))
            {
                alt = true;
                rest = &rest[rest.len() - r.len()..];
            } else if let Some(r) = lower.strip_prefix("shift-") {
                shift = true;
                rest = &rest[rest.len() - r.len()..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(if shift { c.to_ascii_uppercase() } else { c }),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" if shift => KeyCode::BackTab,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "backspace" | "bs" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pageup" | "pgup" => KeyCode::PageUp,
                "pagedown" | "pgdn" => KeyCode::PageDown,
                "space" => KeyCode::Char(' '),
                f if f.starts_with('f')
                    && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
                {
                    KeyCode::F(f[1..].parse().unwrap_or(1))
                }
                _ => return Err(format!("unknown key `{text}`")),
            },
        };
        Ok(KeyChord { code, ctrl, alt })
    }

    pub fn name(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift-Tab".into(),
            KeyCode::Backspace => "Backspace".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
        };
        let mut s = String::new();
        if self.ctrl {
            s.push_str("ctrl-");
        }
        if self.alt {
            s.push_str("alt-");
        }
        s + &base
    }
}

/// The key map: chord → action, plus the reverse for help text.
#[derive(Debug, Clone)]
pub struct KeyMap {
    bindings: BTreeMap<KeyChord, Action>,
}

impl Default for KeyMap {
    fn default() -> KeyMap {
        let mut map = KeyMap {
            bindings: BTreeMap::new(),
        };
        for (action, keys) in DEFAULTS {
            for chord in keys.iter().filter_map(|k| KeyChord::parse(k).ok()) {
                map.bindings.insert(chord, *action);
            }
        }
        map
    }
}

const DEFAULTS: &[(Action, &[&str])] = &[
    (Action::Down, &["j", "down"]),
    (Action::Up, &["k", "up"]),
    (Action::PageDown, &["pgdn", "ctrl-d"]),
    (Action::PageUp, &["pgup", "ctrl-u"]),
    (Action::Top, &["g", "home"]),
    (Action::Bottom, &["G", "end"]),
    (Action::NextPane, &["tab", "l", "right"]),
    (Action::PrevPane, &["shift-tab", "h", "left"]),
    (Action::Approve, &["a"]),
    (Action::Reject, &["r"]),
    (Action::Answered, &["d"]),
    (Action::OnAir, &["o"]),
    (Action::Next, &["n"]),
    (Action::Pending, &["p"]),
    (Action::Undo, &["u"]),
    (Action::Vote, &["v"]),
    (Action::VoteDown, &["V"]),
    (Action::Freeze, &["f"]),
    (Action::Filter, &["/"]),
    (Action::Sort, &["s"]),
    (Action::ToggleRejected, &["R"]),
    (Action::Delete, &["D", "del"]),
    (Action::Compose, &["c"]),
    (Action::Reply, &["y"]),
    (Action::Promote, &["P"]),
    (Action::ToggleModerator, &["m"]),
    (Action::RenewLink, &["L"]),
    (Action::ShowLink, &["enter"]),
    (Action::ToggleOpen, &["O"]),
    (Action::Info, &["i"]),
    (Action::PickEvent, &["E"]),
    (Action::Retry, &["ctrl-r"]),
    (Action::Drop, &["X"]),
    (Action::DetailDown, &["J", "ctrl-e"]),
    (Action::DetailUp, &["K", "ctrl-y"]),
    (Action::Help, &["?", "f1"]),
    (Action::Quit, &["q", "ctrl-c"]),
];

impl KeyMap {
    /// Applies `[keys]` overrides: an action named there loses its default
    /// keys and gets the listed ones. Errors name the action or key.
    pub fn with_overrides<'a>(
        overrides: impl IntoIterator<Item = (&'a str, Vec<&'a str>)>,
    ) -> Result<KeyMap, String> {
        let mut map = KeyMap::default();
        for (name, keys) in overrides {
            let action: Action = serde_json::from_value(serde_json::Value::String(name.into()))
                .map_err(|_| format!("unknown action `{name}` in [keys]"))?;
            map.bindings.retain(|_, a| *a != action);
            for k in keys {
                let chord = KeyChord::parse(k).map_err(|e| format!("[keys] {name}: {e}"))?;
                map.bindings.insert(chord, action);
            }
        }
        Ok(map)
    }

    pub fn action(&self, chord: &KeyChord) -> Option<Action> {
        self.bindings.get(chord).copied()
    }

    /// Keys bound to an action, for help and the key bar: plain keys
    /// first, then named keys, then chords with modifiers.
    pub fn keys_for(&self, action: Action) -> Vec<String> {
        let mut keys: Vec<&KeyChord> = self
            .bindings
            .iter()
            .filter(|(_, a)| **a == action)
            .map(|(k, _)| k)
            .collect();
        keys.sort_by_key(|k| (k.ctrl || k.alt, !matches!(k.code, KeyCode::Char(_))));
        keys.into_iter().map(KeyChord::name).collect()
    }

    /// The first key of an action, or `-` when unbound.
    pub fn key_for(&self, action: Action) -> String {
        self.keys_for(action)
            .into_iter()
            .next()
            .unwrap_or_else(|| "-".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_names_roundtrip() {
        for k in [
            "a",
            "G",
            "ctrl-n",
            "alt-x",
            "Tab",
            "Shift-Tab",
            "PgDn",
            "F1",
            "?",
            "space",
        ] {
            let chord = KeyChord::parse(k).unwrap();
            assert_eq!(KeyChord::parse(&chord.name()).unwrap(), chord, "{k}");
        }
        assert!(KeyChord::parse("hyper-q").is_err());
    }

    #[test]
    fn overrides_replace_defaults() {
        let map = KeyMap::with_overrides([("approve", vec!["x", "ctrl-a"])]).unwrap();
        assert_eq!(
            map.action(&KeyChord::parse("x").unwrap()),
            Some(Action::Approve)
        );
        assert_eq!(map.action(&KeyChord::parse("a").unwrap()), None);
        assert!(KeyMap::with_overrides([("approve_all", vec!["x"])]).is_err());
    }
}
