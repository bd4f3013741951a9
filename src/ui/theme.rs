//! Themes: TOML files built into the binary (`themes/*.toml`), overridable
//! by a file of the same name in `<config dir>/themes/`. `NO_COLOR` keeps
//! the layout and emphasis but drops every color.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::path::{Path, PathBuf};

const BUILT_IN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

/// Names of the built-in themes.
pub fn built_in_names() -> Vec<&'static str> {
    BUILT_IN.iter().map(|(n, _)| *n).collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    colors: Colors,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Colors {
    fg: ColorName,
    dim: ColorName,
    accent: ColorName,
    border: ColorName,
    focus_border: ColorName,
    cursor_fg: ColorName,
    cursor_bg: ColorName,
    pending: ColorName,
    selected: ColorName,
    answered: ColorName,
    rejected: ColorName,
    on_air: ColorName,
    inflight: ColorName,
    error: ColorName,
    ok: ColorName,
    toast: ColorName,
}

#[derive(Debug, Clone, Copy)]
struct ColorName(Color);

impl<'de> Deserialize<'de> for ColorName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<Color>().map(ColorName).map_err(|_| {
            serde::de::Error::custom(format!(
                "`{s}` is not a color (try a name like `cyan` or `#rrggbb`)"
            ))
        })
    }
}

/// Resolved styles the drawing code uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub text: Style,
    pub dim: Style,
    pub accent: Style,
    pub border: Style,
    pub focus_border: Style,
    pub cursor: Style,
    pub cursor_unfocused: Style,
    pub pending: Style,
    pub selected: Style,
    pub answered: Style,
    pub rejected: Style,
    pub on_air: Style,
    pub inflight: Style,
    pub error: Style,
    pub ok: Style,
    pub toast: Style,
}

/// A theme error names the file and line.
#[derive(Debug, thiserror::Error)]
#[error("{origin}{line}: {message}", line = line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ThemeError {
    pub origin: String,
    pub line: Option<usize>,
    pub message: String,
}

impl Theme {
    /// Loads `name`: the user's file first, else the built-in one.
    pub fn load(name: &str, config_dir: &Path, no_color: bool) -> Result<Theme, ThemeError> {
        let user: PathBuf = config_dir.join("themes").join(format!("{name}.toml"));
        let (origin, text) = match std::fs::read_to_string(&user) {
            Ok(t) => (user.display().to_string(), t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match BUILT_IN.iter().find(|(n, _)| *n == name) {
                    Some((_, t)) => (format!("built-in theme {name}"), t.to_string()),
                    None => {
                        return Err(ThemeError {
                            origin: user.display().to_string(),
                            line: None,
                            message: format!(
                                "no theme named `{name}` (built in: {}; or create this file)",
                                built_in_names().join(", ")
                            ),
                        });
                    }
                }
            }
            Err(e) => {
                return Err(ThemeError {
                    origin: user.display().to_string(),
                    line: None,
                    message: e.to_string(),
                });
            }
        };
        Theme::parse(name, &text, &origin, no_color)
    }

    pub fn parse(
        name: &str,
        text: &str,
        origin: &str,
        no_color: bool,
    ) -> Result<Theme, ThemeError> {
        let file: ThemeFile = toml::from_str(text).map_err(|e| ThemeError {
            origin: origin.to_string(),
            line: e.span().map(|s| crate::config::line_of(text, s.start)),
            message: e.message().trim().to_string(),
        })?;
        Ok(Theme::from_colors(name, &file.colors, no_color))
    }

    fn from_colors(name: &str, c: &Colors, no_color: bool) -> Theme {
        let fg = |n: ColorName| {
            if no_color {
                Style::default()
            } else {
                Style::default().fg(n.0)
            }
        };
        let cursor = if no_color {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default().fg(c.cursor_fg.0).bg(c.cursor_bg.0)
        };
        Theme {
            name: name.to_string(),
            text: fg(c.fg),
            dim: fg(c.dim).add_modifier(if no_color {
                Modifier::DIM
            } else {
                Modifier::empty()
            }),
            accent: fg(c.accent).add_modifier(Modifier::BOLD),
            border: fg(c.border),
            focus_border: fg(c.focus_border).add_modifier(Modifier::BOLD),
            cursor,
            cursor_unfocused: Style::default().add_modifier(Modifier::UNDERLINED),
            pending: fg(c.pending),
            selected: fg(c.selected),
            answered: fg(c.answered),
            rejected: fg(c.rejected),
            on_air: fg(c.on_air).add_modifier(Modifier::BOLD),
            inflight: fg(c.inflight),
            error: fg(c.error).add_modifier(Modifier::BOLD),
            ok: fg(c.ok),
            toast: fg(c.toast),
        }
    }

    /// The default theme, for tests and fallbacks that cannot fail.
    #[allow(
        clippy::expect_used,
        reason = "built-in themes are checked by a unit test"
    )]
    pub fn builtin(name: &str) -> Theme {
        let text = BUILT_IN
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(BUILT_IN[0].1, |(_, t)| t);
        Theme::parse(name, text, "built-in", false).expect("built-in themes parse")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_parse() {
        for n in built_in_names() {
            Theme::parse(
                n,
                BUILT_IN.iter().find(|(x, _)| *x == n).unwrap().1,
                n,
                false,
            )
            .unwrap();
        }
    }

    #[test]
    fn bad_color_names_file_and_line() {
        let text = BUILT_IN[0]
            .1
            .replace("accent = \"cyan\"", "accent = \"sparkly\"");
        let e = Theme::parse("dark", &text, "/x/dark.toml", false).unwrap_err();
        let line = text.lines().position(|l| l.contains("sparkly")).unwrap() + 1;
        assert_eq!(e.line, Some(line), "{e}");
        assert!(e.to_string().contains("sparkly"));
    }

    #[test]
    fn user_file_overrides_built_in() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("themes")).unwrap();
        let text = BUILT_IN[0]
            .1
            .replace("accent = \"cyan\"", "accent = \"#ff0000\"");
        std::fs::write(dir.path().join("themes/dark.toml"), text).unwrap();
        let t = Theme::load("dark", dir.path(), false).unwrap();
        assert_eq!(t.accent.fg, Some(Color::Rgb(255, 0, 0)));
        assert!(Theme::load("nope", dir.path(), false).is_err());
    }

    #[test]
    fn no_color_has_no_colors() {
        let t = Theme::parse("dark", BUILT_IN[0].1, "x", true).unwrap();
        for s in [t.text, t.accent, t.pending, t.error, t.cursor] {
            assert_eq!((s.fg, s.bg), (None, None));
        }
    }
}
