//! Keys to actions, per [`Scope`]. Defaults come from the action table
//! ([`ACTIONS`]); the config's `[keys]` table remaps any action
//! (`approve = ["a", "ctrl-a"]`). Key names are the ones the help overlay
//! prints, so what you read is what you write.

use super::action::{ACTIONS, Action, Scope};
use ratatui_textarea::{Input, Key};
use std::collections::BTreeMap;

/// A key or an action name the key map does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("unknown key `{0}`")]
    UnknownKey(String),
    #[error("unknown action `{0}` in [keys]")]
    UnknownAction(String),
    #[error("[keys] {action}: unknown key `{key}`")]
    UnknownKeyFor { action: String, key: String },
}

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
    pub fn parse(text: &str) -> Result<KeyChord, KeyError> {
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
                _ => return Err(KeyError::UnknownKey(text.to_string())),
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

/// The key map: chord → action within a scope, plus the reverse for help
/// text.
#[derive(Debug, Clone)]
pub struct KeyMap {
    bindings: BTreeMap<(Scope, KeyChord), Action>,
}

impl Default for KeyMap {
    fn default() -> KeyMap {
        let mut map = KeyMap {
            bindings: BTreeMap::new(),
        };
        for spec in ACTIONS {
            for chord in spec.keys.iter().filter_map(|k| KeyChord::parse(k).ok()) {
                map.bindings.insert((spec.scope, chord), spec.action);
            }
        }
        map
    }
}

impl KeyMap {
    /// Applies `[keys]` overrides: an action named there loses its default
    /// keys and gets the listed ones. Errors name the action or key.
    pub fn with_overrides<'a>(
        overrides: impl IntoIterator<Item = (&'a str, Vec<&'a str>)>,
    ) -> Result<KeyMap, KeyError> {
        let mut map = KeyMap::default();
        for (name, keys) in overrides {
            let action =
                Action::from_name(name).ok_or_else(|| KeyError::UnknownAction(name.into()))?;
            map.bindings.retain(|_, a| *a != action);
            for k in keys {
                let chord = KeyChord::parse(k).map_err(|_| KeyError::UnknownKeyFor {
                    action: name.into(),
                    key: k.into(),
                })?;
                map.bindings.insert((action.scope(), chord), action);
            }
        }
        Ok(map)
    }

    /// The action a chord is bound to in a scope.
    pub fn action(&self, scope: Scope, chord: &KeyChord) -> Option<Action> {
        self.bindings.get(&(scope, *chord)).copied()
    }

    /// The action a key press means in a scope. Outside the main view a key
    /// held with Ctrl or Alt means the plain key, unless a binding names
    /// the modifier (dialogs, forms and inputs have few keys).
    pub fn resolve(&self, scope: Scope, input: &Input) -> Option<Action> {
        let chord = KeyChord::from_input(input)?;
        self.action(scope, &chord).or_else(|| {
            let plain = KeyChord {
                ctrl: false,
                alt: false,
                ..chord
            };
            (scope != Scope::Main)
                .then(|| self.action(scope, &plain))
                .flatten()
        })
    }

    /// Keys bound to an action, for help and the key bar: plain keys
    /// first (`y` before `Y`), then named keys, then chords with modifiers.
    pub fn keys_for(&self, action: Action) -> Vec<String> {
        let mut keys: Vec<&KeyChord> = self
            .bindings
            .iter()
            .filter(|(_, a)| **a == action)
            .map(|((_, k), _)| k)
            .collect();
        keys.sort_by_key(|k| {
            (
                k.ctrl || k.alt,
                !matches!(k.code, KeyCode::Char(_)),
                matches!(k.code, KeyCode::Char(c) if c.is_uppercase()),
            )
        });
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
        let main = |k| map.action(Scope::Main, &KeyChord::parse(k).unwrap());
        assert_eq!(main("x"), Some(Action::Approve));
        assert_eq!(main("ctrl-a"), Some(Action::Approve));
        assert_eq!(main("a"), None);
        let e = KeyMap::with_overrides([("approve_all", vec!["x"])]).unwrap_err();
        assert_eq!(e.to_string(), "unknown action `approve_all` in [keys]");
        let e = KeyMap::with_overrides([("approve", vec!["hyper-q"])]).unwrap_err();
        assert_eq!(e.to_string(), "[keys] approve: unknown key `hyper-q`");
    }

    #[test]
    fn every_action_is_declared_whole() {
        let mut names = std::collections::HashSet::new();
        for (i, spec) in ACTIONS.iter().enumerate() {
            assert_eq!(spec.action as usize, i, "{} is out of order", spec.name);
            assert_eq!(spec.action.spec(), spec);
            assert!(
                !spec.name.is_empty(),
                "{:?} has no config name",
                spec.action
            );
            assert!(names.insert(spec.name), "{} is named twice", spec.name);
            assert!(!spec.help.is_empty(), "{} has no help line", spec.name);
            assert!(!spec.keys.is_empty(), "{} has no default key", spec.name);
            for k in spec.keys {
                assert!(KeyChord::parse(k).is_ok(), "{}: {k}", spec.name);
            }
            assert!(
                !KeyMap::default().keys_for(spec.action).is_empty(),
                "{} lost its default keys",
                spec.name
            );
        }
    }

    #[test]
    fn keys_accepts_every_action_name() {
        for spec in ACTIONS {
            let map = KeyMap::with_overrides([(spec.name, vec!["F12"])]).unwrap();
            assert_eq!(
                map.action(spec.scope, &KeyChord::parse("F12").unwrap()),
                Some(spec.action),
                "{}",
                spec.name
            );
            assert_eq!(map.keys_for(spec.action), vec!["F12".to_string()]);
        }
    }

    #[test]
    fn a_key_means_one_thing_per_scope() {
        let map = KeyMap::default();
        let y = KeyChord::parse("y").unwrap();
        assert_eq!(map.action(Scope::Main, &y), Some(Action::Reply));
        assert_eq!(map.action(Scope::Confirm, &y), Some(Action::Confirm));
        assert_eq!(map.action(Scope::FormSwitch, &y), Some(Action::FormYes));
        assert_eq!(map.action(Scope::Input, &y), None);
    }
}
