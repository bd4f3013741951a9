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
    /// Two actions of one scope claim one key. `at` is the `[keys]` entry
    /// that made the clash (the place to point at in the file).
    #[error("`{key}` is bound to both {first} and {second} in {view}")]
    Conflict {
        key: String,
        first: &'static str,
        second: &'static str,
        view: &'static str,
        at: String,
    },
}

impl KeyError {
    /// The `[keys]` entry the error is about, to find its line.
    pub fn entry(&self) -> Option<&str> {
        match self {
            KeyError::UnknownKey(_) => None,
            KeyError::UnknownAction(name) => Some(name),
            KeyError::UnknownKeyFor { action, .. } => Some(action),
            KeyError::Conflict { at, .. } => Some(at),
        }
    }
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
    /// keys and gets the listed ones (`[]` leaves it without a key: see
    /// [`KeyMap::unbound`]). A key two actions of one scope would share is
    /// an error naming both, so no remap silently takes a key from another
    /// action.
    pub fn with_overrides<'a>(
        overrides: impl IntoIterator<Item = (&'a str, Vec<&'a str>)>,
    ) -> Result<KeyMap, KeyError> {
        let mut wanted: Vec<(Action, &str, Vec<KeyChord>)> = Vec::new();
        for (name, keys) in overrides {
            let action =
                Action::from_name(name).ok_or_else(|| KeyError::UnknownAction(name.into()))?;
            let chords = keys
                .into_iter()
                .map(|k| {
                    KeyChord::parse(k).map_err(|_| KeyError::UnknownKeyFor {
                        action: name.into(),
                        key: k.into(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            wanted.push((action, name, chords));
        }
        let mut map = KeyMap::default();
        map.bindings
            .retain(|_, a| !wanted.iter().any(|(w, _, _)| w == a));
        for (action, name, chords) in wanted {
            for chord in chords {
                let slot = (action.scope(), chord);
                match map.bindings.get(&slot) {
                    Some(other) if *other != action => {
                        let (a, b) = if *other < action {
                            (*other, action)
                        } else {
                            (action, *other)
                        };
                        return Err(KeyError::Conflict {
                            key: chord.name(),
                            first: a.spec().name,
                            second: b.spec().name,
                            view: action.scope().view(),
                            at: name.to_string(),
                        });
                    }
                    _ => {
                        map.bindings.insert(slot, action);
                    }
                }
            }
        }
        Ok(map)
    }

    /// Actions left with no key (a `[keys]` entry of `[]`): a warning at
    /// start, marked in the help.
    pub fn unbound(&self) -> Vec<Action> {
        ACTIONS
            .iter()
            .map(|s| s.action)
            .filter(|a| !self.bindings.values().any(|b| b == a))
            .collect()
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
    fn a_remap_onto_another_actions_key_is_a_conflict() {
        let e = KeyMap::with_overrides([("approve", vec!["r"])]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`r` is bound to both approve and reject in the main view"
        );
        assert_eq!(e.entry(), Some("approve"));
        let e =
            KeyMap::with_overrides([("approve", vec!["x"]), ("reject", vec!["x"])]).unwrap_err();
        assert!(e.to_string().contains("both approve and reject"), "{e}");
        // Moving the other action away first is fine, and so is one key in
        // two scopes.
        let map = KeyMap::with_overrides([("approve", vec!["r"]), ("reject", vec!["x"])]).unwrap();
        assert_eq!(
            map.action(Scope::Main, &KeyChord::parse("r").unwrap()),
            Some(Action::Approve)
        );
        KeyMap::with_overrides([("confirm", vec!["a"])]).unwrap();
    }

    #[test]
    fn defaults_have_no_conflict_and_an_empty_list_unbinds() {
        let mut seen = std::collections::HashSet::new();
        for spec in ACTIONS {
            for k in spec.keys {
                let chord = KeyChord::parse(k).unwrap();
                assert!(seen.insert((spec.scope, chord)), "{} {k} twice", spec.name);
            }
        }
        assert!(KeyMap::default().unbound().is_empty());
        let map = KeyMap::with_overrides([("reject", vec![])]).unwrap();
        assert_eq!(map.unbound(), vec![Action::Reject]);
        assert_eq!(map.key_for(Action::Reject), "-");
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
